//! Manifest → Dockerfile: the input is the text of a `[package.metadata.dockerize]` table, then, after lines
//! `%%`, of a `[workspace.metadata.dockerize]` table, a binary name, a package directory and a package name.
//! A workspace of one member is built from them (`workspace::testing`), planned and rendered as `generate` does.
//! Nothing may panic; a plan that is made must render a Dockerfile that parses, keeps every structural rule
//! (`tests/common/structure.rs`) and whose every `RUN` `sh` can read (`tests/common/words.rs`); a refusal is one line.

#![no_main]

use cargo_dockerize::config::Settings;
use cargo_dockerize::ui::listing;
use cargo_dockerize::workspace::testing::{pkg, ws};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/structure.rs"]
#[allow(dead_code)]
mod structure;
#[path = "../../tests/common/words.rs"]
#[allow(dead_code)]
mod words;

/// A table of the input as Cargo would give it (JSON); an empty or unreadable one is no table.
fn table(text: &str) -> serde_json::Value {
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => serde_json::to_value(table).expect("TOML is JSON"),
        Err(_) => serde_json::Value::Null,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split("\n%%\n");
    let package_table = table(parts.next().unwrap_or_default());
    let workspace_table = table(parts.next().unwrap_or_default());
    let binary = parts.next().filter(|s| !s.is_empty()).unwrap_or("app");
    let dir = parts.next().filter(|s| !s.is_empty());
    let name = parts.next().filter(|s| !s.is_empty()).unwrap_or("app");
    let mut member = pkg(name).bin(binary).config(package_table.clone());
    if let Some(dir) = dir {
        member = member.dir(dir);
    }
    // Every feature the table asks for exists, so the search goes past the features check.
    if let Some(features) = package_table.get("features").and_then(|f| f.as_array()) {
        for feature in features.iter().filter_map(|f| f.as_str()) {
            member = member.feature(feature, &[]);
        }
    }
    let workspace = ws().member(member).config(workspace_table).build();
    let plan = match cargo_dockerize::plan::plan_for(&workspace, &Settings::default()) {
        Ok(plan) => plan,
        Err(error) => {
            let line = error.to_string();
            assert!(
                !line.contains('\n'),
                "a refusal of more than one line: {line:?}"
            );
            return;
        }
    };
    let dockerfile = cargo_dockerize::render::render(&plan);
    let mut json = Vec::new();
    listing::write_json(&plan, &mut json).expect("the JSON listing");
    let list: serde_json::Value = serde_json::from_slice(&json).expect("the listing is JSON");
    // The rules about what a runtime stage starts from, copies, runs as and enters hold for the tool's own
    // choices; a manifest may choose a base, assets, a root user, an entrypoint (`tests/props.rs` does the same).
    let problems: Vec<String> =
        structure::problems(&dockerfile, &structure::listed_binaries(&list))
            .into_iter()
            .filter(|p| {
                !(p.contains("not scratch, distroless or Debian")
                    || p.contains("`list` says")
                    || p.contains("copies")
                    || p.contains("runs as `")
                    || p.contains("ENTRYPOINT")
                    || p.starts_with("does not parse: "))
            })
            .collect();
    assert!(problems.is_empty(), "{problems:?}\n{dockerfile}");
    // dockerfile-parser refuses some of what BuildKit reads (`ENV a-=x`): then only the rules above ran.
    let Ok(parsed) = dockerfile_parser::Dockerfile::parse(&dockerfile) else {
        return;
    };
    for instruction in parsed.instructions.iter().filter(|i| i.as_run().is_some()) {
        let span = instruction.span();
        let line = words::logical_line(&dockerfile[span.start..span.end]);
        let command = line.trim_start()[3..].trim_start();
        let command = command
            .split_whitespace()
            .skip_while(|w| w.starts_with("--"))
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            command.starts_with('[') || words::shell_tokens(&command).is_some(),
            "sh cannot read: {line}"
        );
    }
    let _ = cargo_dockerize::render::dockerignore(&plan.command, &plan.dockerfile);
});
