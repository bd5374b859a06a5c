//! Cargo's own configuration decides how a binary links and which Rust builds it (issue 25): one fixture per
//! case, planned in-process-fast through the binary, then built end to end on the default path.
//!
//! - `rustflags-dynamic`: `-crt-static` (and `--cfg tokio_unstable`) in `[target.'cfg(all())']`, as a large
//!   terminal editor's: glibc on distroless `cc`, dynamically linked, with the cfg applied;
//! - `rustflags-musl-dynamic`: `-crt-static` under `[target.x86_64-unknown-linux-musl]` only: the same;
//! - `rustflags-gnu-static`: `[build] target` naming the glibc triple (honoured) and `+crt-static` under it:
//!   a static glibc binary on `scratch`;
//! - `rustflags-target-cpu`: `-C target-cpu=native` in `build.rustflags`: a warning, and the image still builds;
//! - `rust-version-newer`: `rust-version = "1.96"` with the engine's `rust:1` at 1.95 (the stand-in): `build`
//!   refuses in one line before any build, and a plain `docker build` stops at the Dockerfile's own check, in the
//!   builder base, before anything is installed or compiled.
//!
//! The engine tests are `#[ignore]`d and hold [`common::engine_lock`] (an engine must answer), cleanup as in every
//! engine test ([`common::TestImages`]); the plans are checked without an engine. Run on the current engine too:
//! `DOCKER_HOST=unix:///run/local-engine-current.sock cargo test --test e2e_cargo_config -- --ignored`.

mod common;

use std::path::Path;
use std::process::Command;

use common::docker::DOCKER_INIT_ENTRIES;
use common::{
    buildkit_docker, docker_ok, engine_lock, image_entries, inspect_image, run, run_image, Fixture,
    TestImages,
};
use serde_json::Value;

/// This suite's fixtures.
const FIXTURES: [&str; 5] = [
    "rust-version-newer",
    "rustflags-dynamic",
    "rustflags-gnu-static",
    "rustflags-musl-dynamic",
    "rustflags-target-cpu",
];

#[test]
fn the_fixtures_are_standalone_clean_and_described() {
    let readme = std::fs::read_to_string(common::fixtures_dir().join("README.md")).unwrap();
    for name in FIXTURES {
        let dir = common::fixtures_dir().join(name);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.lines().any(|l| l.trim() == "[workspace]"),
            "{name}"
        );
        assert!(dir.join("Cargo.lock").is_file(), "{name}");
        assert_eq!(
            dir.join(".cargo/config.toml").is_file(),
            name.starts_with("rustflags-"),
            "{name}"
        );
        for generated in ["Dockerfile", ".dockerignore", "target"] {
            assert!(!dir.join(generated).exists(), "{name}/{generated}");
        }
        assert!(readme.contains(&format!("- `{name}` — ")), "{name}");
    }
}

/// The one binary of a fixture's `list --format json`.
fn only_binary(list: &Value) -> &Value {
    let binaries = list["binaries"].as_array().expect("binaries");
    assert_eq!(binaries.len(), 1, "{list:#}");
    &binaries[0]
}

/// libc, linkage and runtime of the fixture's one binary, and its reasons joined.
fn planned(copy: &Fixture) -> (String, String, String, String) {
    let (_, list) = copy.list_json(&[]);
    let binary = only_binary(&list);
    let text = |key: &str| binary[key].as_str().unwrap_or_default().to_string();
    let reasons: Vec<&str> = binary["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (
        text("libc"),
        text("linkage"),
        text("runtime"),
        reasons.join("; "),
    )
}

#[test]
fn cargo_configuration_decides_the_runtime_and_says_why() {
    let cases = [
        (
            "rustflags-dynamic",
            ("gnu", "dynamic", "distroless"),
            "`-C target-feature=-crt-static` in `target.'cfg(all())'.rustflags` in `.cargo/config.toml`",
        ),
        (
            "rustflags-musl-dynamic",
            ("gnu", "dynamic", "distroless"),
            "`-C target-feature=-crt-static` in `target.x86_64-unknown-linux-musl.rustflags` in `.cargo/config.toml`",
        ),
        (
            "rustflags-gnu-static",
            ("gnu", "static", "scratch"),
            "glibc linked statically (`-C target-feature=+crt-static` in `target.x86_64-unknown-linux-gnu.rustflags`",
        ),
    ];
    for (fixture, (libc, linkage, runtime), why) in cases {
        let copy = Fixture::copy(fixture);
        let (got_libc, got_linkage, got_runtime, reasons) = planned(&copy);
        assert_eq!(
            (
                got_libc.as_str(),
                got_linkage.as_str(),
                got_runtime.as_str()
            ),
            (libc, linkage, runtime),
            "{fixture}: {reasons}"
        );
        assert!(reasons.contains(why), "{fixture}: {reasons}");
        // The same reasons in `list -v`, `--dry-run` and the runtime stage's comment.
        let verbose = copy.run(&["list", "-v"]);
        verbose.assert_success("list -v");
        assert!(
            verbose.stdout.contains(why),
            "{fixture}: {}",
            verbose.stdout
        );
        let dry = copy.run(&["build", "--dry-run"]);
        dry.assert_success("build --dry-run");
        let why_line = dry
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("why: "))
            .unwrap_or_else(|| panic!("{fixture}: no `why:` line\n{}", dry.stdout));
        assert!(why_line.contains(why), "{fixture}: {why_line}");
        let dockerfile = copy.generate(&[]);
        // The comment is wrapped at the Dockerfile's width: its lines are read as one text.
        let comment: Vec<&str> = dockerfile
            .lines()
            .skip_while(|l| !l.starts_with(&format!("# `{fixture}` of package")))
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim())
            .collect();
        assert!(!comment.is_empty(), "{fixture}: no runtime stage comment");
        let comment = comment.join(" ");
        assert!(comment.contains(why), "{fixture}: {comment}");
    }
    // `[build] target` naming the glibc triple is honoured, and says so.
    let (_, _, _, reasons) = planned(&Fixture::copy("rustflags-gnu-static"));
    assert!(
        reasons.starts_with(
            "glibc chosen by `build.target` in `.cargo/config.toml` (`x86_64-unknown-linux-gnu`: glibc)"
        ),
        "{reasons}"
    );
    // The builder of the static glibc image adds `+crt-static` through the target's own variable.
    let dockerfile = Fixture::copy("rustflags-gnu-static").generate(&[]);
    assert!(
        dockerfile.contains(
            "ENV CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS=\"-C target-feature=+crt-static\""
        ),
        "{dockerfile}"
    );
}

#[test]
fn target_cpu_in_the_configuration_is_a_warning_everywhere() {
    let copy = Fixture::copy("rustflags-target-cpu");
    let warning = "`-C target-cpu=native` in `build.rustflags` in `.cargo/config.toml` reaches the image build";
    let generate = copy.run(&["generate"]);
    generate.assert_success("generate");
    assert!(
        generate
            .stderr
            .lines()
            .any(|l| l.starts_with("warning: ") && l.contains(warning)),
        "{}",
        generate.stderr
    );
    assert!(copy
        .dockerfile()
        .lines()
        .any(|l| l.starts_with("# Warning: ") && l.contains(warning)));
    let (_, list) = copy.list_json(&[]);
    assert!(
        list["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains(warning),
        "{list:#}"
    );
    let dry = copy.run(&["build", "--dry-run"]);
    assert!(
        dry.stdout.contains(&format!("warning: {warning}")),
        "{}",
        dry.stdout
    );
    // Still static musl on scratch: the flag changes the CPU, not the linking.
    let (libc, linkage, runtime, _) = planned(&copy);
    assert_eq!(
        (libc.as_str(), linkage.as_str(), runtime.as_str()),
        ("musl", "static", "scratch")
    );
}

#[test]
fn the_dockerfile_checks_rust_version_before_installing_anything() {
    let copy = Fixture::copy("rust-version-newer");
    let dockerfile = copy.generate(&[]);
    let chef: Vec<&str> = dockerfile
        .lines()
        .skip_while(|l| !l.starts_with("FROM rust:"))
        .take_while(|l| !l.is_empty())
        .collect();
    let check = chef
        .iter()
        .position(|l| l.starts_with("RUN rustc_version="))
        .unwrap_or_else(|| panic!("no check in the builder base:\n{}", chef.join("\n")));
    let first_run = chef
        .iter()
        .position(|l| l.starts_with("RUN "))
        .unwrap_or_default();
    assert_eq!(
        check,
        first_run,
        "the check runs first:\n{}",
        chef.join("\n")
    );
    assert!(dockerfile.contains("dpkg --compare-versions \"${rustc_version%%-*}\" ge 1.96"));
    // A pinned toolchain is the user's choice: no check.
    let pinned = Fixture::copy("rust-version-newer");
    pinned.write("rust-toolchain.toml", "[toolchain]\nchannel = \"1.97\"\n");
    assert!(!pinned.generate(&[]).contains("rustc_version="));
}

/// The binary of `reference` copied out of a container of it, into `dir`.
fn extract(reference: &str, binary: &str, dir: &Path) -> std::path::PathBuf {
    let id = docker_ok(&["create", reference]).trim().to_string();
    let out = dir.join(binary);
    docker_ok(&[
        "cp",
        &format!("{id}:/usr/local/bin/{binary}"),
        out.to_str().expect("a UTF-8 temporary path"),
    ]);
    docker_ok(&["rm", "-f", &id]);
    out
}

/// What `file` says of `path`.
fn file_says(path: &Path) -> String {
    let out = run(Command::new("file").arg("--brief").arg(path));
    out.assert_success("file");
    out.stdout.trim().to_string()
}

/// Builds the fixture's one image with `cargo dockerize build`, runs it and checks its two lines; returns what
/// `file` says of its executable and the build's stderr.
fn build_and_run(images: &TestImages, fixture: &str, second: &str) -> (String, String) {
    let copy = Fixture::copy(fixture);
    let template = images.template("t");
    let build = copy.run(&["build", "-t", &template]);
    build.assert_success(&format!("build {fixture}"));
    println!("e2e: {fixture}: built in {:.1}s", build.seconds);
    let tag = images.tag(fixture, "t");
    let stdout = run_image(&tag);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [format!("hello from {fixture}").as_str(), second],
        "{fixture}"
    );
    let config = inspect_image(&tag).expect("the image exists");
    assert_eq!(config["Config"]["User"], "65532:65532", "{fixture}");
    let dir = tempfile::tempdir().expect("a temporary directory");
    (file_says(&extract(&tag, fixture, dir.path())), build.stderr)
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_cargo_config -- --ignored"]
fn minus_crt_static_builds_dynamic_glibc_images_that_run_on_distroless() {
    let _engine = engine_lock();
    let images = TestImages::new("dynamic");
    for (fixture, second) in [
        ("rustflags-dynamic", "dynamic x86_64-gnu, tokio_unstable"),
        ("rustflags-musl-dynamic", "dynamic x86_64-gnu"),
    ] {
        let (says, _) = build_and_run(&images, fixture, second);
        assert!(says.contains("dynamically linked"), "{fixture}: {says}");
        // Distroless `cc`: glibc's loader is there, a shell is not.
        let files: Vec<String> = image_entries(&images.tag(fixture, "t"))
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert!(
            files.iter().any(|f| f.ends_with("libc.so.6")) && !files.iter().any(|f| f == "bin/sh"),
            "{fixture}: {files:?}"
        );
    }
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_cargo_config -- --ignored"]
fn plus_crt_static_on_glibc_runs_on_scratch() {
    let _engine = engine_lock();
    let images = TestImages::new("gnu-static");
    let fixture = "rustflags-gnu-static";
    let (says, _) = build_and_run(&images, fixture, "static x86_64-gnu");
    assert!(
        says.contains("statically linked") || says.contains("static-pie linked"),
        "{says}"
    );
    let files: Vec<String> = image_entries(&images.tag(fixture, "t"))
        .into_iter()
        .filter(|e| !e.is_dir && !DOCKER_INIT_ENTRIES.contains(&e.path.as_str()))
        .map(|e| e.path)
        .collect();
    assert_eq!(
        files,
        [
            "etc/ssl/certs/ca-certificates.crt".to_string(),
            format!("usr/local/bin/{fixture}")
        ]
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_cargo_config -- --ignored"]
fn target_cpu_native_warns_and_the_image_builds() {
    let _engine = engine_lock();
    let images = TestImages::new("target-cpu");
    let (says, stderr) = build_and_run(&images, "rustflags-target-cpu", "static x86_64-musl");
    assert!(says.contains("static"), "{says}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("warning: `-C target-cpu=native`")),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_cargo_config -- --ignored"]
fn a_rust_version_newer_than_the_engines_rust_1_is_refused_before_any_compile() {
    let _engine = engine_lock();
    let images = TestImages::new("rust-version");
    let found = docker_ok(&[
        "image",
        "inspect",
        "rust:1-slim-bookworm",
        "--format",
        "{{range .Config.Env}}{{println .}}{{end}}",
    ]);
    let found = found
        .lines()
        .find_map(|l| l.strip_prefix("RUST_VERSION="))
        .expect("the engine's rust:1-slim-bookworm names its RUST_VERSION")
        .to_string();
    assert!(
        found.starts_with("1.95."),
        "the stand-in `rust:1` is older than the fixture's 1.96: {found}"
    );
    let copy = Fixture::copy("rust-version-newer");
    let template = images.template("t");
    let build = copy.run(&["build", "-t", &template]);
    let error = build.assert_one_error(1, "build rust-version-newer");
    assert!(
        error.contains("failed to build on `rust:1-slim-bookworm`: Docker Engine ") && error.contains(&format!(
            "holds it with Rust {found}, older than `rust-version = \"1.96\"` of package `rust-version-newer`"
        )),
        "{error}"
    );
    assert!(
        build.stderr.contains(
            "help: pull the current release on this engine (`docker pull rust:1-slim-bookworm`)"
        ),
        "{}",
        build.stderr
    );
    assert!(
        !build.stderr.contains("Compiling") && !build.stderr.contains("Packed"),
        "refused before the context was packed: {}",
        build.stderr
    );
    assert!(images.existing().is_empty(), "nothing is tagged");

    // A plain `docker build` of the same Dockerfile stops at its own check, before any package or compile.
    let tag = images.tag("rust-version-newer", "plain");
    let mut command = buildkit_docker();
    command
        .args([
            "build",
            "--progress",
            "plain",
            "--target",
            "rust-version-newer",
            "--tag",
            &tag,
            ".",
        ])
        .current_dir(&copy.root);
    let plain = run(&mut command);
    let log = format!("{}{}", plain.stdout, plain.stderr);
    assert_ne!(plain.code, Some(0), "{log}");
    assert!(
        log.contains(&format!(
            "rustc {found}: rust-version 1.96 of package rust-version-newer needs a newer Rust than this image has"
        )),
        "{log}"
    );
    // No step after the check started (a current BuildKit quotes the Dockerfile's next lines in its error).
    let started = |what: &str| {
        log.lines()
            .any(|l| l.starts_with('#') && l.contains("] RUN ") && l.contains(what))
    };
    assert!(
        !started("rustup target add") && !started("cargo build"),
        "stopped before the toolchain's targets and the cook: {log}"
    );
}
