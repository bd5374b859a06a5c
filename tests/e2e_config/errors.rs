//! Configuration errors through the real binary: exit 1, one `error:` line naming the manifest, the table and
//! the key (and a `help:` line where there is a fix to name), nothing written.

use super::*;

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

/// Regression (`model::Port` and `config::table::Asset` were once `#[serde(untagged)]`): a wrong type *inside*
/// `expose` or `assets` reported serde's "data did not match any variant of untagged enum Port", which named
/// neither what a port may be nor the TOML types accepted.
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

/// Regression (`config::layer`, `resolve_asset` and the default destination): an asset that resolves to the
/// workspace root (`../..` from `crates/server`, or `.` from a root package) once got the empty source, and
/// `generate` wrote `COPY --chown=65532:65532  /app/`, a COPY without a source that no builder accepts. It is
/// an error naming `assets`: copying the whole build context, sources included, into a runtime image is never
/// what the user wants.
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

/// Regression (`config::table::Asset` was once untagged, and serde_ignored does not see the keys of a buffered
/// untagged value): `{ source = "static", dst = "/srv/static" }` was accepted, `dst` dropped without a word, and
/// the files landed in `/app/static`. Unknown keys are reported, as everywhere else.
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
