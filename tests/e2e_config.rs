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
//! line naming the manifest, the table and the key, nothing written). With an engine (gate of
//! `common::engine_gate`): each of the first three fixtures built through `cargo dockerize build` (BuildKit),
//! run and inspected; and the cache test: a `[package.metadata.dockerize]` edit, a `description` edit and a
//! version bump must leave the dependency layer (`[builder n/m] RUN cargo build ...` before `COPY . .`) cached.
//!
//! Tests whose doc comment opens with `BUG` pin down a defect of the tool (the comment names the function at
//! fault, the input, what happens and what should): they fail until it is fixed.
//!
//! Run: `DOCKERIZE_E2E=1 cargo test --test e2e_config -- --nocapture --test-threads=1`.

mod common;

use common::steps::parse_step;

use common::{
    docker_ok, engine_gate, image_entries, inspect_image, run_image, structure, BuildJson, Fixture,
    TestImages,
};
use serde_json::{json, Value};

const DEBIAN_SLIM: &str = "debian:bookworm-slim";
const DISTROLESS_CC: &str = "gcr.io/distroless/cc-debian12:nonroot";
const NONROOT: &str = "65532:65532";
const GNU: &[&str] = &["--libc", "gnu"];
const GNU_STATIC: &[&str] = &["--libc", "gnu", "--static"];
/// The fixtures this file adds.
const FIXTURES: &[&str] = &["assets", "config", "native-sqlite", "protoc"];

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

/// Runs `args` on `copy`, expecting a configuration error: exit 1, one `error:` line first, no Dockerfile
/// written. Returns the error line and the whole stderr.
fn config_error(copy: &Fixture, args: &[&str], what: &str) -> (String, String) {
    let run = copy.run(args);
    let line = run.assert_error(1, what).to_string();
    for file in ["Dockerfile", ".dockerignore"] {
        assert!(
            !copy.root.join(file).exists(),
            "{what}: `{file}` written despite the error"
        );
    }
    (line, run.stderr)
}

/// The `help:` line of an error's stderr.
fn help_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("help:"))
        .unwrap_or_else(|| panic!("no `help:` line in\n{stderr}"))
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

// ------------------------------------------------------------------------------------------------ errors

const SERVER: &str = "crates/server/Cargo.toml";

#[test]
fn unknown_key_in_a_package_table_names_manifest_table_and_key() {
    let copy = Fixture::copy("config");
    copy.replace_in(
        SERVER,
        "expose = [8080]\n",
        "expose = [8080]\nruntme = \"scratch\"\n",
    );
    for command in [&["generate"][..], &["config"], &["list"]] {
        let (line, stderr) = config_error(&copy, command, "unknown key `runtme`");
        for needle in [
            "`runtme`",
            "`[package.metadata.dockerize]`",
            "`crates/server/Cargo.toml`",
            "did you mean `runtime`",
        ] {
            assert!(line.contains(needle), "{command:?}: `{needle}` in {line}");
        }
        assert!(help_line(&stderr).contains("runtime"), "{stderr}");
    }
}

#[test]
fn unknown_key_in_a_bin_table_names_the_bin_table() {
    let copy = Fixture::copy("config");
    copy.replace_in(
        SERVER,
        "runtime = \"debian-slim\"",
        "runtme = \"debian-slim\"",
    );
    let (line, _) = config_error(&copy, &["generate"], "unknown key in a bin table");
    for needle in [
        "`runtme`",
        "`[package.metadata.dockerize.bin.migrate]`",
        "`crates/server/Cargo.toml`",
        "did you mean `runtime`",
    ] {
        assert!(line.contains(needle), "`{needle}` in {line}");
    }
}

#[test]
fn unknown_key_in_the_workspace_table() {
    let copy = Fixture::copy("config");
    copy.replace_in(
        "Cargo.toml",
        "runtime = \"distroless\"",
        "runtimes = \"distroless\"",
    );
    let (line, _) = config_error(&copy, &["generate"], "unknown key in the workspace table");
    for needle in [
        "`runtimes`",
        "`[workspace.metadata.dockerize]`",
        "`Cargo.toml`",
        "did you mean `runtime`",
    ] {
        assert!(line.contains(needle), "`{needle}` in {line}");
    }
}

#[test]
fn wrong_type_names_the_key_and_the_expected_type() {
    let copy = Fixture::copy("config");
    copy.replace_in(SERVER, "expose = [8080]", "expose = \"8080\"");
    let (line, stderr) = config_error(&copy, &["generate"], "expose = \"8080\"");
    assert!(line.contains("`expose`"), "{line}");
    assert!(line.contains("`[package.metadata.dockerize]`"), "{line}");
    assert!(line.contains("`crates/server/Cargo.toml`"), "{line}");
    assert!(
        line.contains("expected a sequence") || line.contains("expected an array"),
        "the expected type: {line}"
    );
    help_line(&stderr);

    let copy = Fixture::copy("config");
    copy.replace_in(
        SERVER,
        "expose = [8080]",
        "expose = [8080]\nstatic = \"yes\"",
    );
    let (line, _) = config_error(&copy, &["generate"], "static = \"yes\"");
    assert!(
        line.contains("`static`") && line.contains("boolean"),
        "{line}"
    );
}

/// BUG (src/metadata.rs, `Port` and `Asset` are `#[serde(untagged)]`): a wrong type *inside* `expose` or
/// `assets` reports serde's "data did not match any variant of untagged enum Port", which names neither
/// what a port may be nor the TOML types accepted.
#[test]
fn wrong_type_of_an_element_names_the_expected_type() {
    for (from, to, key) in [
        ("expose = [8080]", "expose = [true]", "expose[0]"),
        (
            "expose = [8080]",
            "expose = [8080]\nassets = [3]",
            "assets[0]",
        ),
    ] {
        let copy = Fixture::copy("config");
        copy.replace_in(SERVER, from, to);
        let (line, _) = config_error(&copy, &["generate"], to);
        assert!(line.contains(&format!("`{key}`")), "{line}");
        assert!(
            !line.contains("untagged enum"),
            "`{to}`: the message must name the expected type (e.g. a port number or \"8080/udp\"; a path or \
             {{ source, dest }}), not serde's internals: {line}"
        );
    }
}

#[test]
fn bin_table_for_a_binary_the_package_does_not_have() {
    let copy = Fixture::copy("config");
    copy.replace_in(
        SERVER,
        "[package.metadata.dockerize.bin.migrate]",
        "[package.metadata.dockerize.bin.migrat]",
    );
    let (line, stderr) = config_error(&copy, &["generate"], "bin.migrat");
    for needle in [
        "`migrat`",
        "`server`",
        "`crates/server/Cargo.toml`",
        "did you mean `migrate`",
    ] {
        assert!(line.contains(needle), "`{needle}` in {line}");
    }
    help_line(&stderr);
}

#[test]
fn asset_escaping_the_workspace_is_an_error() {
    // From the root package, `../..` leaves the workspace; from a member two levels down, `../../..` does.
    let copy = Fixture::copy("assets");
    copy.replace_in(
        "Cargo.toml",
        "assets = [\"configuration\",",
        "assets = [\"../..\",",
    );
    let (line, _) = config_error(&copy, &["generate"], "assets = [\"../..\"]");
    for needle in [
        "`assets`",
        "`../..`",
        "`[package.metadata.dockerize]`",
        "Cargo.toml`",
        "leaves the workspace",
    ] {
        assert!(line.contains(needle), "`{needle}` in {line}");
    }

    let copy = Fixture::copy("config");
    copy.append_to(
        SERVER,
        "\n[package.metadata.dockerize.bin.server]\nassets = [\"../../../etc\"]\n",
    );
    let (line, _) = config_error(&copy, &["generate"], "assets = [\"../../../etc\"]");
    for needle in [
        "`assets`",
        "`../../../etc`",
        "`[package.metadata.dockerize.bin.server]`",
        "`crates/server/Cargo.toml`",
    ] {
        assert!(line.contains(needle), "`{needle}` in {line}");
    }
}

/// BUG (src/metadata.rs, `resolve_asset` and the default destination in `layer`): an asset that resolves to
/// the workspace root (`../..` from `crates/server`, or `.` from a root package) gets the empty source, and
/// `generate` writes `COPY --chown=65532:65532  /app/`, a COPY without a source that no builder accepts. It
/// should be an error naming `assets` (copying the whole build context, sources included, into a runtime
/// image is never what the user wants), or at least a COPY with a source.
#[test]
fn asset_resolving_to_the_workspace_root_never_writes_a_copy_without_a_source() {
    for (fixture, manifest, table) in [
        (
            "config",
            SERVER,
            "\n[package.metadata.dockerize.bin.server]\nassets = [\"../..\"]\n",
        ),
        (
            "single-bin",
            "Cargo.toml",
            "\n[package.metadata.dockerize]\nassets = [\".\"]\n",
        ),
    ] {
        let copy = Fixture::copy(fixture);
        copy.append_to(manifest, table);
        let run = copy.run(&["generate"]);
        if run.code == Some(0) {
            let dockerfile = copy.dockerfile();
            for line in dockerfile.lines().filter(|l| l.starts_with("COPY ")) {
                let operands = line
                    .split_whitespace()
                    .skip(1)
                    .filter(|w| !w.starts_with("--"))
                    .count();
                assert!(
                    operands >= 2,
                    "{fixture}: `{line}` has no source\n{}",
                    stage_text(&dockerfile, fixture_stage(fixture))
                );
            }
        } else {
            let line = run.assert_error(1, table);
            assert!(line.contains("`assets`"), "{line}");
        }
    }
}

fn fixture_stage(fixture: &str) -> &str {
    match fixture {
        "config" => "server",
        other => other,
    }
}

/// BUG (src/metadata.rs, `Asset::Table` inside the untagged `Asset`: serde_ignored does not see the keys of
/// a buffered untagged value): `{ source = "static", dst = "/srv/static" }` is accepted, `dst` is dropped
/// without a word, and the files land in `/app/static`. Unknown keys must be reported, as everywhere else.
#[test]
fn misspelt_key_in_an_asset_table_is_reported() {
    let copy = Fixture::copy("assets");
    copy.replace_in(
        "Cargo.toml",
        "dest = \"/app/static\"",
        "dst = \"/srv/static\"",
    );
    let run = copy.run(&["generate"]);
    if run.code == Some(0) {
        let dockerfile = copy.dockerfile();
        panic!(
            "`dst` was ignored: generate succeeded and wrote\n{}",
            stage_text(&dockerfile, "assets")
        );
    }
    let line = run.assert_error(1, "dst");
    assert!(line.contains("`dst`") && line.contains("assets"), "{line}");
}

/// The hint of a wrong type sends the user to `README.md, "Configuration"`: that section must exist (it did
/// not when the hint was written).
#[test]
fn the_invalid_value_hint_points_at_an_existing_readme_section() {
    let copy = Fixture::copy("config");
    copy.replace_in(SERVER, "expose = [8080]", "expose = \"8080\"");
    let (_, stderr) = config_error(&copy, &["generate"], "expose = \"8080\"");
    let help = help_line(&stderr);
    if let Some((_, rest)) = help.split_once("README.md, \"") {
        let section = rest.split('"').next().unwrap_or_default();
        let readme = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"),
        )
        .unwrap();
        assert!(
            readme
                .lines()
                .any(|l| l.starts_with('#') && l.contains(section)),
            "`{help}`: README.md has no section \"{section}\""
        );
    }
}

// ------------------------------------------------------------------------------------------------ engine

/// The dependency-build steps of `stage`: its `RUN cargo build` steps before its `COPY . .`.
fn dependency_steps(build: &BuildJson, stage: &str) -> Vec<String> {
    let mut names = build.steps("step-started");
    names.extend(build.steps("step-cached"));
    let ours: Vec<(u32, &str, &String)> = names
        .iter()
        .filter_map(|n| {
            parse_step(n)
                .filter(|(s, _, _)| *s == stage)
                .map(|(_, i, ins)| (i, ins, n))
        })
        .collect();
    let copy = ours
        .iter()
        .filter(|(_, ins, _)| *ins == "COPY . .")
        .map(|(i, _, _)| *i)
        .min()
        .unwrap_or_else(|| panic!("no `[{stage} n/m] COPY . .` step in {names:#?}"));
    let mut deps: Vec<String> = ours
        .iter()
        .filter(|(i, ins, _)| *i < copy && ins.starts_with("RUN cargo build"))
        .map(|(_, _, n)| n.to_string())
        .collect();
    deps.sort();
    deps.dedup();
    assert!(
        !deps.is_empty(),
        "no dependency step before `COPY . .` in {names:#?}"
    );
    deps
}

/// Every dependency step of the builder was `step-cached` and none ran.
fn assert_dependencies_cached(build: &BuildJson, what: &str) {
    let deps = dependency_steps(build, "builder");
    let started = build.steps("step-started");
    let cached = build.steps("step-cached");
    for step in &deps {
        assert!(
            !started.contains(step) && cached.contains(step),
            "{what}: the dependency step ran instead of being cached: {step}\n--- its log\n{}",
            build.logs(step).join("\n")
        );
    }
    println!(
        "e2e: {what}: dependency step cached, build {:.1}s",
        build.seconds
    );
}

/// The image's config after the build: user non-root.
fn inspected_config(reference: &str) -> Value {
    let image = inspect_image(reference).unwrap_or_else(|| panic!("no image `{reference}`"));
    let config = image["Config"].clone();
    assert_eq!(
        config["User"], NONROOT,
        "`{reference}` runs as non-root: {config}"
    );
    config
}

#[test]
fn e2e_native_sqlite_runs_on_debian_slim() {
    let Some(_engine) = engine_gate("e2e_native_sqlite_runs_on_debian_slim") else {
        return;
    };
    let images = TestImages::new("sqlite");
    let copy = Fixture::copy("native-sqlite");
    let template = images.template("t");
    let build = copy.build_json(&["--libc", "gnu", "-t", &template]);
    println!("e2e: native-sqlite --libc gnu: {:.1}s", build.seconds);
    let reference = images.tag("native-sqlite", "t");
    let out = run_image(&reference);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("hello from native-sqlite"), "{out}");
    let version = lines.next().unwrap_or_default();
    assert!(
        version.starts_with("SQLite 3."),
        "the version from sqlite_version(): {out}"
    );
    inspected_config(&reference);
    // The runtime has the shared library from Debian and not the -dev package.
    let packages = docker_ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--entrypoint",
        "dpkg-query",
        &reference,
        "-W",
        "-f",
        "${Package} ${db:Status-Status}\n",
    ]);
    assert!(
        packages.lines().any(|l| l == "libsqlite3-0 installed"),
        "{packages}"
    );
    assert!(!packages.contains("libsqlite3-dev"), "{packages}");
    println!("e2e: native-sqlite printed {out:?}");
}

#[test]
fn e2e_assets_are_in_the_image_owned_by_the_user() {
    let Some(_engine) = engine_gate("e2e_assets_are_in_the_image_owned_by_the_user") else {
        return;
    };
    let images = TestImages::new("assets");
    let copy = Fixture::copy("assets");
    let template = images.template("t");
    let build = copy.build_json(&["--libc", "gnu", "--static", "-t", &template]);
    println!("e2e: assets --libc gnu --static: {:.1}s", build.seconds);
    let reference = images.tag("assets", "t");
    let out = run_image(&reference);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "hello from assets",
            "config: name=assets-demo",
            "static: served from static",
            "APP_ENV=production",
        ],
        "{out}"
    );
    let config = inspected_config(&reference);
    assert_eq!(config["WorkingDir"], "/app", "{config}");
    assert!(
        config["Env"]
            .as_array()
            .unwrap()
            .contains(&json!("APP_ENV=production")),
        "{config}"
    );
    assert_eq!(config["ExposedPorts"], json!({"8080/tcp": {}}), "{config}");
    assert_eq!(config["Labels"]["org.example.team"], "infra", "{config}");
    assert_eq!(
        config["Entrypoint"],
        json!(["/usr/local/bin/assets"]),
        "{config}"
    );

    let entries = image_entries(&reference);
    // The working directory too, so the binary can write there.
    for path in [
        "app",
        "app/configuration",
        "app/configuration/base.toml",
        "app/static",
        "app/static/greeting.txt",
    ] {
        let entry = entries
            .iter()
            .find(|e| e.path == path)
            .unwrap_or_else(|| panic!("no `{path}` in the image: {entries:#?}"));
        assert_eq!(
            (entry.uid, entry.gid),
            (65532, 65532),
            "`{path}` is owned by the user: {entry:?}"
        );
    }
    // Only the configured assets: nothing else of the build context.
    for e in entries
        .iter()
        .filter(|e| e.path.starts_with("app/") && !e.is_dir)
    {
        assert!(
            e.path.starts_with("app/configuration/") || e.path.starts_with("app/static/"),
            "unexpected file from the context: {e:?}"
        );
    }
}

#[test]
fn e2e_protoc_builds_with_prost_build() {
    let Some(_engine) = engine_gate("e2e_protoc_builds_with_prost_build") else {
        return;
    };
    let images = TestImages::new("protoc");
    let copy = Fixture::copy("protoc");
    let template = images.template("t");
    let build = copy.build_json(&["--libc", "gnu", "--static", "-t", &template]);
    println!("e2e: protoc --libc gnu --static: {:.1}s", build.seconds);
    let reference = images.tag("protoc", "t");
    let out = run_image(&reference);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["hello from protoc", "greeting: built by protoc (count 3)"],
        "{out}"
    );
    let config = inspected_config(&reference);
    assert_eq!(config["Entrypoint"], json!(["/usr/local/bin/protoc"]));
}

/// The cache test on the `workspace` fixture: editing only `[package.metadata.dockerize]` and a
/// `description`, then bumping every local crate's version, must leave the dependency layer cached.
///
/// The baseline build's context carries a file unique to this run, so its planner always runs and the
/// dependency layer it ends on is looked up by the recipe's content, exactly as in the rebuilds: the test
/// does not depend on what the engine's cache already holds from other suites or earlier runs.
#[test]
fn e2e_metadata_edits_and_version_bumps_keep_the_dependency_layer_cached() {
    let Some(_engine) =
        engine_gate("e2e_metadata_edits_and_version_bumps_keep_the_dependency_layer_cached")
    else {
        return;
    };
    let images = TestImages::new("cache");
    let copy = Fixture::copy("workspace");
    let run_id = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    copy.write("RUN_ID", &run_id);
    let template = images.template("{version}");
    let args = ["--libc", "gnu", "--static", "-t", template.as_str()];

    let first = copy.build_json(&args);
    println!("e2e: workspace baseline: {:.1}s", first.seconds);
    dependency_steps(&first, "builder");

    // 1. Only the `dockerize` table of one member and its description.
    copy.append_to(
        "crates/api/Cargo.toml",
        "\n[package.metadata.dockerize]\nlabels = { a = \"b\" }\n",
    );
    copy.replace_in(
        "crates/api/Cargo.toml",
        "description = \"API server binary of the workspace fixture\"",
        "description = \"API server binary of the workspace fixture, edited\"",
    );
    let second = copy.build_json(&args);
    assert_dependencies_cached(&second, "metadata and description edit");
    let labels = &inspected_config(&images.tag("api", "0.3.0"))["Labels"];
    assert_eq!(labels["a"], "b", "the edit reached the image: {labels}");
    assert_eq!(
        labels["org.opencontainers.image.description"],
        "API server binary of the workspace fixture, edited"
    );

    // 2. Every local crate's version: the workspace version and the path+version dependency on `common`.
    copy.replace_in(
        "Cargo.toml",
        "version = \"0.3.0\"\nedition",
        "version = \"0.4.0\"\nedition",
    );
    copy.replace_in(
        "Cargo.toml",
        "common = { path = \"crates/common\", version = \"0.3.0\" }",
        "common = { path = \"crates/common\", version = \"0.4.0\" }",
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    common::run(
        std::process::Command::new(cargo)
            .args(["update", "--workspace", "--offline"])
            .current_dir(&copy.root),
    )
    .assert_success("cargo update --workspace --offline");
    let lock = copy.read("Cargo.lock");
    assert_eq!(lock.matches("version = \"0.4.0\"").count(), 4, "{lock}");
    assert!(!lock.contains("version = \"0.3.0\""), "{lock}");
    let third = copy.build_json(&args);
    assert_dependencies_cached(&third, "version bump");
    for bin in ["api", "dz-cli", "worker"] {
        let labels = &inspected_config(&images.tag(bin, "0.4.0"))["Labels"];
        assert_eq!(
            labels["org.opencontainers.image.version"], "0.4.0",
            "{bin}: {labels}"
        );
        let out = run_image(&images.tag(bin, "0.4.0"));
        assert!(
            out.starts_with(&format!("hello from {bin}")),
            "{bin}: {out}"
        );
    }
}

/// BUG (src/metadata.rs, `layer`: `env` and `labels` merge their keys across tables, but the merged map's
/// `source` is overwritten by the last table that has the key): `config` says the `server` binary's labels
/// `{"org.example.component": "server", "org.example.owner": "platform"}` come from
/// `[package.metadata.dockerize]`, though `org.example.owner` is set in `[workspace.metadata.dockerize]` only.
/// Every merged key should carry its own source (or the value list every table it merged).
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
