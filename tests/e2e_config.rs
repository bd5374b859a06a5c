//! Real workspaces: `[*.metadata.dockerize]` configuration, native libraries, build tools and assets.
//!
//! Four fixtures (see `fixtures/workspaces/README.md`):
//! - `native-sqlite`: rusqlite without `bundled` links the system libsqlite3, so the tool must pick glibc, a
//!   Debian slim runtime with `libsqlite3-0` (distroless has no SQLite) and `libsqlite3-dev` in the builder;
//! - `assets`: a package table with `workdir`, `assets`, `env`, `expose` and `labels`;
//! - `protoc`: a build script running prost-build, so the builder needs `protobuf-compiler`;
//! - `config`: a workspace table, a per-binary table and a skipped package, for `config` and `list`.
//!
//! Without an engine: snapshots of `config`, `config --format json` and `list --format json`, what each
//! fixture is there to show, and every configuration error through the real binary (exit 1, one `error:`
//! line naming the manifest, the table and the key, nothing written: [`errors`]). With an engine (`#[ignore]`d,
//! [`engine`]): each of the first three fixtures built through `cargo dockerize build` (BuildKit),
//! run and inspected; and the cache test: a `[package.metadata.dockerize]` edit, a `description` edit and a
//! version bump must leave the dependency layer (`[builder n/m] RUN cargo build ...` before `COPY . .`) cached.
//!
//! Tests whose doc comment opens with `Regression` pin down a defect the tool once had (the comment names where
//! it was, the input and what happened): they fail if it comes back.
//!
//! Run: `cargo test --test e2e_config -- --include-ignored --nocapture`.

mod common;
// The crate root is this file, so its modules live beside it under a directory of its name.
#[path = "e2e_config/engine.rs"]
mod engine;
#[path = "e2e_config/errors.rs"]
mod errors;

use common::{structure, Fixture};
use serde_json::{json, Value};

const DEBIAN_SLIM: &str = "debian:bookworm-slim";
const DISTROLESS_CC: &str = "gcr.io/distroless/cc-debian12:nonroot";
const NONROOT: &str = "65532:65532";
const GNU: &[&str] = &["--libc", "gnu"];
const GNU_STATIC: &[&str] = &["--libc", "gnu", "--static"];
/// The fixtures this file adds.
const FIXTURES: &[&str] = &["assets", "config", "dev-guesses", "native-sqlite", "protoc"];

// ------------------------------------------------------------------------------------------------ helpers

/// The text of stage `stage`: from its `FROM ... AS <stage>` line to the blank line that ends it.
fn stage_text(dockerfile: &str, stage: &str) -> String {
    let start = dockerfile
        .lines()
        .position(|l| l.starts_with("FROM ") && l.ends_with(&format!(" AS {stage}")))
        .unwrap_or_else(|| panic!("no stage `{stage}` in\n{dockerfile}"));
    dockerfile
        .lines()
        .skip(start)
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The packages of the `apt-get install` in `stage` (none when it installs nothing).
fn apt_packages(dockerfile: &str, stage: &str) -> Vec<String> {
    let text = stage_text(dockerfile, stage).replace("\\\n", " ");
    text.lines()
        .filter_map(|l| l.split_once("apt-get install").map(|(_, rest)| rest))
        .flat_map(|rest| {
            rest.split("&&")
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .filter(|w| !w.starts_with('-'))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The one binary of a `list --format json` document.
fn only_binary(list: &Value) -> &Value {
    let binaries = list["binaries"].as_array().expect("binaries");
    assert_eq!(binaries.len(), 1, "{list:#}");
    &binaries[0]
}

/// The binary `name` of a `list` or `config --format json` document.
fn binary<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["binaries"]
        .as_array()
        .expect("binaries")
        .iter()
        .find(|b| b["name"] == name)
        .unwrap_or_else(|| panic!("no binary `{name}` in {doc:#}"))
}

/// `config --format json <args>` of a copy, which must succeed.
fn config_json(copy: &Fixture, args: &[&str]) -> (String, Value) {
    let mut full = vec!["config", "--format", "json"];
    full.extend_from_slice(args);
    let run = copy.run(&full);
    run.assert_success(&full.join(" "));
    let value = serde_json::from_str(&run.stdout).expect("`config --format json` prints JSON");
    (run.stdout, value)
}

/// The source of a configured value: `default`, or the `detail` (table or flag) that set it.
fn source(value: &Value) -> String {
    match value["source"]["kind"].as_str() {
        Some("default") => "default".to_string(),
        _ => value["source"]["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("no source in {value}"))
            .to_string(),
    }
}

/// Checks the structural rules; `asset_sources` are the build-context copies the configuration asks for
/// (the rules in `common::structure` predate assets and reject every copy from the context).
fn check_structure(copy: &Fixture, dockerfile: &str, list: &Value, asset_sources: &[&str]) {
    let problems: Vec<String> = structure::problems(dockerfile, &common::listed_binaries(list))
        .into_iter()
        .filter(|p| {
            !asset_sources
                .iter()
                .any(|s| p.ends_with(&format!("copies from the build context ([\"{s}\"])")))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "`{}`: the generated Dockerfile breaks {} rule(s):\n  - {}\n--- Dockerfile\n{dockerfile}",
        copy.name,
        problems.len(),
        problems.join("\n  - ")
    );
}

// ------------------------------------------------------------------------------------------------ fixtures

#[test]
fn new_fixtures_are_standalone_and_clean() {
    for name in FIXTURES {
        let dir = common::fixtures_dir().join(name);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.lines().any(|l| l.trim() == "[workspace]"),
            "`{name}` has its own [workspace] table"
        );
        assert!(
            dir.join("Cargo.lock").is_file(),
            "`{name}` has a Cargo.lock"
        );
        for generated in ["Dockerfile", ".dockerignore"] {
            assert!(
                !dir.join(generated).exists(),
                "{} must not be committed or left behind",
                dir.join(generated).display()
            );
        }
        let readme = std::fs::read_to_string(common::fixtures_dir().join("README.md")).unwrap();
        assert!(
            readme.contains(&format!("- `{name}` — ")),
            "fixtures/workspaces/README.md describes `{name}`"
        );
    }
}

#[test]
fn native_sqlite_gets_glibc_debian_slim_with_libsqlite3() {
    let copy = Fixture::copy("native-sqlite");
    // `auto` (no flag) and `--libc gnu` (the e2e build) must agree.
    for args in [&[][..], GNU] {
        let what = format!("native-sqlite {args:?}");
        let (list_text, list) = copy.list_json(args);
        let bin = only_binary(&list);
        assert_eq!(bin["libc"], "gnu", "{what}");
        assert_eq!(bin["linkage"], "dynamic", "{what}");
        assert_eq!(bin["target"], "x86_64-unknown-linux-gnu", "{what}");
        assert_eq!(
            bin["runtime"], "debian-slim",
            "{what}: distroless has no SQLite"
        );
        assert_eq!(bin["base_image"], DEBIAN_SLIM, "{what}");
        assert_eq!(bin["runtime_packages"], json!(["libsqlite3-0"]), "{what}");
        let native = bin["native_dependencies"].as_array().unwrap();
        assert!(
            native.iter().any(|n| n["krate"] == "libsqlite3-sys"
                && n["linkage"] == "dynamic"
                && n["libraries"] == json!(["libsqlite3.so.0"])),
            "{what}: {native:?}"
        );
        assert!(
            bin["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str().unwrap().contains("libsqlite3.so.0")),
            "{what}: the reasons name the library: {bin}"
        );

        let dockerfile = copy.generate(args);
        check_structure(&copy, &dockerfile, &list, &[]);
        let builder = apt_packages(&dockerfile, "chef");
        for package in ["libsqlite3-dev", "pkg-config"] {
            assert!(
                builder.contains(&package.to_string()),
                "{what}: chef installs {builder:?}"
            );
        }
        assert_eq!(
            apt_packages(&dockerfile, "native-sqlite"),
            ["ca-certificates", "libsqlite3-0"],
            "{what}: the runtime gets the shared library, never the -dev package"
        );
        assert!(
            dockerfile.contains(&format!("\nFROM {DEBIAN_SLIM} AS native-sqlite\n")),
            "{what}"
        );
        assert!(!dockerfile.contains("crt-static"), "{what}: dynamic glibc");
        if args.is_empty() {
            let runtime = stage_text(&dockerfile, "native-sqlite");
            copy.insta_settings("`cargo dockerize` in fixtures/workspaces/native-sqlite")
                .bind(|| {
                    insta::assert_snapshot!("native-sqlite.list", list_text);
                    insta::assert_snapshot!("native-sqlite.runtime-stage", runtime);
                });
        }
    }
}

#[test]
fn assets_fixture_configures_its_runtime_stage() {
    let copy = Fixture::copy("assets");
    let (_, config) = config_json(&copy, GNU_STATIC);
    let c = &binary(&config, "assets")["config"];
    let table = source(&c["workdir"]);
    assert!(
        table.starts_with("`[package.metadata.dockerize]` in `") && table.ends_with("Cargo.toml`"),
        "{table}"
    );
    for key in ["workdir", "assets", "env", "expose", "labels"] {
        assert_eq!(
            source(&c[key]),
            table,
            "`{key}` comes from the package table"
        );
    }
    assert_eq!(c["workdir"]["value"], "/app");
    assert_eq!(
        c["assets"]["value"],
        json!([
            {"source": "configuration", "dest": "/app/configuration"},
            {"source": "static", "dest": "/app/static"},
        ]),
        "a bare path goes under the workdir"
    );
    assert_eq!(c["env"]["value"], json!({"APP_ENV": "production"}));
    assert_eq!(c["expose"]["value"], json!([8080]));
    assert_eq!(c["labels"]["value"], json!({"org.example.team": "infra"}));
    assert_eq!(source(&c["libc"]), "--libc gnu");
    assert_eq!(source(&c["static"]), "--static");
    assert_eq!(c["user"]["value"], NONROOT);
    assert_eq!(source(&c["user"]), "default");

    let dockerfile = copy.generate(GNU_STATIC);
    let (_, list) = copy.list_json(GNU_STATIC);
    assert_eq!(only_binary(&list)["base_image"], "scratch");
    check_structure(&copy, &dockerfile, &list, &["configuration", "static"]);
    let runtime = stage_text(&dockerfile, "assets");
    for line in [
        "WORKDIR /app",
        "COPY --chown=65532:65532 configuration /app/configuration",
        "COPY --chown=65532:65532 static /app/static",
        "ENV APP_ENV=\"production\"",
        "EXPOSE 8080",
        "USER 65532:65532",
    ] {
        assert!(
            runtime.lines().any(|l| l == line),
            "no `{line}` in\n{runtime}"
        );
    }
    assert!(runtime.contains("org.example.team=\"infra\""), "{runtime}");
    copy.insta_settings(
        "`cargo dockerize generate --libc gnu --static` in fixtures/workspaces/assets",
    )
    .bind(|| insta::assert_snapshot!("assets.runtime-stage", runtime));
}

#[test]
fn protoc_fixture_installs_protobuf_compiler_in_the_builder_only() {
    let copy = Fixture::copy("protoc");
    for args in [&[][..], GNU_STATIC] {
        let what = format!("protoc {args:?}");
        let dockerfile = copy.generate(args);
        let (_, list) = copy.list_json(args);
        check_structure(&copy, &dockerfile, &list, &[]);
        let bin = only_binary(&list);
        assert_eq!(
            bin["runtime"], "scratch",
            "{what}: protoc is a build tool, not a library"
        );
        assert_eq!(bin["linkage"], "static", "{what}");
        assert_eq!(bin["runtime_packages"], json!([]), "{what}");
        assert!(
            apt_packages(&dockerfile, "chef").contains(&"protobuf-compiler".to_string()),
            "{what}: the builder base installs protoc\n{}",
            stage_text(&dockerfile, "chef")
        );
        assert!(
            !stage_text(&dockerfile, "protoc").contains("protobuf"),
            "{what}: the runtime stage has no protoc"
        );
    }
}

#[test]
fn config_fixture_shows_every_value_and_its_source() {
    let copy = Fixture::copy("config");
    let human = copy.run(&["config"]);
    human.assert_success("config");
    let (config_text, config) = config_json(&copy, &[]);
    let (list_text, list) = copy.list_json(&[]);

    let workspace_table = "`[workspace.metadata.dockerize]` in `Cargo.toml`";
    let package_table = "`[package.metadata.dockerize]` in `crates/server/Cargo.toml`";
    let bin_table = "`[package.metadata.dockerize.bin.migrate]` in `crates/server/Cargo.toml`";

    let server = &binary(&config, "server")["config"];
    assert_eq!(server["runtime"]["value"], "distroless");
    assert_eq!(source(&server["runtime"]), workspace_table);
    assert_eq!(server["env"]["value"], json!({"RUST_LOG": "info"}));
    assert_eq!(source(&server["env"]), workspace_table);
    assert_eq!(server["expose"]["value"], json!([8080]));
    assert_eq!(source(&server["expose"]), package_table);
    // Labels merge: the workspace's owner and the package's component.
    assert_eq!(
        server["labels"]["value"],
        json!({"org.example.component": "server", "org.example.owner": "platform"})
    );
    assert_eq!(source(&server["user"]), "default");

    let migrate = &binary(&config, "migrate")["config"];
    assert_eq!(migrate["runtime"]["value"], "debian-slim");
    assert_eq!(source(&migrate["runtime"]), bin_table);
    assert_eq!(
        migrate["expose"]["value"],
        json!([]),
        "an empty list overrides"
    );
    assert_eq!(source(&migrate["expose"]), bin_table);
    assert_eq!(migrate["env"]["value"], json!({"RUST_LOG": "debug"}));
    assert_eq!(source(&migrate["env"]), bin_table);
    assert_eq!(migrate["labels"]["value"], server["labels"]["value"]);

    // `tools` is skipped by its package table: not configured, listed as skipped with the table named.
    assert!(config["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["name"] != "tools"));
    assert_eq!(
        list["skipped"],
        json!([{
            "name": "tools",
            "package": "tools",
            "reason": "`skip = true` in `[package.metadata.dockerize]` in `crates/tools/Cargo.toml`",
        }])
    );
    assert_eq!(binary(&list, "server")["base_image"], DISTROLESS_CC);
    assert_eq!(binary(&list, "migrate")["base_image"], DEBIAN_SLIM);
    let reasons = &binary(&list, "migrate")["reasons"];
    assert!(
        reasons
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str() == Some(&format!("Debian slim chosen by {bin_table}"))),
        "the reason names the table: {reasons}"
    );
    // The human form names the same sources.
    for needle in [workspace_table, package_table, bin_table, "default"] {
        assert!(
            human.stdout.contains(needle),
            "`config` shows {needle}\n{}",
            human.stdout
        );
    }

    let dockerfile = copy.generate(&[]);
    check_structure(&copy, &dockerfile, &list, &[]);
    assert!(
        !dockerfile.contains(" AS tools\n") && !dockerfile.contains("--bin tools"),
        "the skipped binary is neither built nor given a stage"
    );

    copy.insta_settings("`cargo dockerize config`, `config --format json` and `list --format json` in fixtures/workspaces/config")
        .bind(|| {
            insta::assert_snapshot!("config.config", human.stdout);
            insta::assert_snapshot!("config.config-json", config_text);
            insta::assert_snapshot!("config.list", list_text);
        });
}

#[test]
fn flags_override_the_tables() {
    let copy = Fixture::copy("config");
    let (_, config) = config_json(&copy, &["--runtime", "debian-slim"]);
    for name in ["server", "migrate"] {
        let c = &binary(&config, name)["config"];
        assert_eq!(c["runtime"]["value"], "debian-slim", "{name}");
        assert_eq!(source(&c["runtime"]), "--runtime debian-slim", "{name}");
        assert_eq!(c["runtime"]["source"]["kind"], "flag", "{name}");
    }
    let human = copy.run(&["config", "--runtime", "debian-slim"]);
    human.assert_success("config --runtime debian-slim");
    let runtime_rows: Vec<&str> = human
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("runtime "))
        .collect();
    assert_eq!(runtime_rows.len(), 2, "{}", human.stdout);
    for row in runtime_rows {
        assert!(
            row.contains("debian-slim") && row.trim_end().ends_with("--runtime debian-slim"),
            "{row}"
        );
    }
    let (_, list) = copy.list_json(&["--runtime", "debian-slim"]);
    for name in ["server", "migrate"] {
        let bin = binary(&list, name);
        assert_eq!(bin["base_image"], DEBIAN_SLIM, "{name}");
        assert!(
            bin["reasons"].to_string().contains("--runtime debian-slim"),
            "{bin}"
        );
    }
    // `--libc` and `--static` too, over the defaults.
    let (_, config) = config_json(&copy, GNU_STATIC);
    let c = &binary(&config, "server")["config"];
    assert_eq!(source(&c["libc"]), "--libc gnu");
    assert_eq!(source(&c["static"]), "--static");
    assert_eq!(
        source(&c["runtime"]),
        "`[workspace.metadata.dockerize]` in `Cargo.toml`"
    );
}

/// Regression (`config::layer` once let the last table with a key overwrite the `source` of the merged `env`
/// and `labels` maps): `config` said the `server` binary's labels
/// `{"org.example.component": "server", "org.example.owner": "platform"}` came from
/// `[package.metadata.dockerize]`, though `org.example.owner` is set in `[workspace.metadata.dockerize]` only.
/// The source now names every table whose keys it merged.
#[test]
fn merged_labels_name_every_table_they_came_from() {
    let copy = Fixture::copy("config");
    let (_, config) = config_json(&copy, &[]);
    let labels = &binary(&config, "server")["config"]["labels"];
    let text = labels.to_string();
    for table in [
        "[workspace.metadata.dockerize]",
        "[package.metadata.dockerize]",
    ] {
        assert!(
            text.contains(table),
            "`config` hides that some labels come from `{table}`: {labels}"
        );
    }
}
