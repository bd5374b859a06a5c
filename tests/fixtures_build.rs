//! End to end: generate a fixture's Dockerfile, build images from it with a real engine, run them.
//!
//! For every fixture that compiles, the Dockerfile is generated with `--libc gnu --static` (a static glibc
//! binary on `scratch`, the path most of these tests have always taken) or, for `native-openssl`, with
//! `--libc gnu` (dynamic, on distroless). Then a plain `docker build --target <stage>` with BuildKit (the
//! committed Dockerfile is BuildKit's: its compile cache is a cache mount), `docker run --rm` must print
//! `hello from <binary>` first, and `docker image inspect` must show a non-root user. The tagged images are
//! removed afterwards.
//!
//! Every test here needs an engine: `#[ignore]`d, run with `cargo test --test fixtures_build -- --ignored`,
//! where no engine fails them. Builds run one at a time (two cores), each test printing its timings
//! (`--nocapture`);
//! `DOCKERIZE_E2E_NO_CACHE=1` builds without the engine's cache, for cold timings.

mod common;

use std::time::Instant;

use common::{buildkit_docker, engine_lock, inspect_image, run, run_image, Fixture, TestImages};

/// `docker build --target <stage>` in the copy, tagged under `images`; returns the tag.
fn build(images: &TestImages, copy: &Fixture, stage: &str) -> String {
    let tag = images.tag(stage, "t");
    let mut command = buildkit_docker();
    command.args(["build", "--target", stage, "--tag", &tag]);
    if std::env::var_os("DOCKERIZE_E2E_NO_CACHE").is_some_and(|v| v == "1") {
        command.arg("--no-cache");
    }
    // A workspace inside a fixture (`path-outside/app`) is built with the wider context the Dockerfile's
    // header names: the fixture's top directory, holding the path dependency.
    let context = match copy.name.split_once('/') {
        Some((top, _)) => copy.outside.join(top),
        None => copy.root.clone(),
    };
    command
        .arg("--file")
        .arg(copy.dockerfile_path())
        .arg(".")
        .current_dir(&context);
    let out = run(&mut command);
    if out.code != Some(0) {
        let log = format!("{}{}", out.stdout, out.stderr);
        let tail: Vec<&str> = log.lines().rev().take(80).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "`docker build --target {stage}` failed for fixture `{}`:\n{}\n--- Dockerfile\n{}",
            copy.name,
            tail.join("\n"),
            copy.dockerfile()
        );
    }
    println!(
        "e2e: {} --target {stage}: built in {:.1}s",
        copy.name, out.seconds
    );
    tag
}

/// The image's configured user.
fn user(tag: &str) -> String {
    let image = inspect_image(tag).unwrap_or_else(|| panic!("inspect {tag}"));
    image["Config"]["User"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Generates `fixture` with `args`, then builds (tagged under `images`), runs and inspects each
/// `(stage, greeting)`; returns the output of each run.
fn build_and_run(
    images: &TestImages,
    fixture: &str,
    args: &[&str],
    stages: &[(&str, &str)],
) -> Vec<String> {
    let copy = Fixture::copy(fixture);
    copy.generate(args);
    let (_, list) = copy.list_json(args);
    let started = Instant::now();
    let mut outputs = Vec::new();
    for (stage, greeting) in stages {
        let listed = list["binaries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["stage"] == *stage);
        assert!(listed, "`list` has no stage `{stage}`: {list:#}");
        let image = build(images, &copy, stage);
        let stdout = run_image(&image);
        assert!(
            stdout.starts_with(&format!("hello from {greeting}")),
            "`{stage}` printed {stdout:?}, not `hello from {greeting}`"
        );
        let user = user(&image);
        let uid = user.split(':').next().unwrap_or_default();
        assert!(
            !uid.is_empty() && uid != "0" && uid != "root",
            "`{stage}` runs as {user:?}"
        );
        outputs.push(stdout);
    }
    println!(
        "e2e: {fixture} {args:?}: {} image(s) in {:.1}s",
        stages.len(),
        started.elapsed().as_secs_f64()
    );
    outputs
}

const GNU_STATIC: &[&str] = &["--libc", "gnu", "--static"];

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn single_bin() {
    let _engine = engine_lock();
    let images = TestImages::new("single-bin");
    build_and_run(
        &images,
        "single-bin",
        GNU_STATIC,
        &[("single-bin", "single-bin")],
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn multi_bin() {
    let _engine = engine_lock();
    let images = TestImages::new("multi-bin");
    // `gamma` has the custom `[[bin]]` path; the builder compiles all four either way.
    build_and_run(&images, "multi-bin", GNU_STATIC, &[("gamma", "gamma")]);
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn workspace() {
    let _engine = engine_lock();
    let images = TestImages::new("workspace");
    // The binary whose name is not its package's.
    build_and_run(&images, "workspace", GNU_STATIC, &[("dz-cli", "dz-cli")]);
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn required_features() {
    let _engine = engine_lock();
    let images = TestImages::new("required-features");
    build_and_run(
        &images,
        "required-features",
        GNU_STATIC,
        &[("plain", "plain")],
    );
    let with_extra: Vec<&str> = GNU_STATIC
        .iter()
        .copied()
        .chain(["--features", "required-features/extra"])
        .collect();
    build_and_run(
        &images,
        "required-features",
        &with_extra,
        &[("extra", "extra")],
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn build_script() {
    let _engine = engine_lock();
    let images = TestImages::new("build-script");
    let outputs = build_and_run(
        &images,
        "build-script",
        GNU_STATIC,
        &[("build-script", "build-script")],
    );
    assert!(
        outputs[0].contains("greeting set by build.rs"),
        "the build script ran in the image's build: {:?}",
        outputs[0]
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn native_openssl() {
    let _engine = engine_lock();
    let images = TestImages::new("native-openssl");
    // Dynamic glibc on distroless: libssl comes from the runtime image.
    let outputs = build_and_run(
        &images,
        "native-openssl",
        &["--libc", "gnu"],
        &[("native-openssl", "native-openssl")],
    );
    assert!(
        outputs[0]
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("OpenSSL")),
        "the second line is OpenSSL's version: {:?}",
        outputs[0]
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn toolchain_pin() {
    let _engine = engine_lock();
    let images = TestImages::new("toolchain-pin");
    build_and_run(
        &images,
        "toolchain-pin",
        GNU_STATIC,
        &[("toolchain-pin", "toolchain-pin")],
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn odd_names() {
    let _engine = engine_lock();
    let images = TestImages::new("odd-names");
    build_and_run(
        &images,
        "odd-names",
        GNU_STATIC,
        &[("my_tool", "My_Tool"), ("bin-2fa", "2fa")],
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn name_collision() {
    let _engine = engine_lock();
    let images = TestImages::new("name-collision");
    build_and_run(
        &images,
        "name-collision",
        GNU_STATIC,
        &[
            ("alpha-svc-server", "server (alpha-svc)"),
            ("beta-svc-server", "server (beta-svc)"),
        ],
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn path_dependency_outside_the_workspace() {
    let _engine = engine_lock();
    let images = TestImages::new("path-dependency-outside-the-workspace");
    let outputs = build_and_run(
        &images,
        "path-outside/app",
        GNU_STATIC,
        &[("outside-app", "outside-app")],
    );
    assert!(
        outputs[0].contains("shared-lib from outside the workspace"),
        "{outputs:?}"
    );
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn path_packages_and_patches_inside_the_workspace() {
    let _engine = engine_lock();
    let images = TestImages::new("path-packages-and-patches-inside-the-workspace");
    let outputs = build_and_run(
        &images,
        "path-inside",
        GNU_STATIC,
        &[("path-inside", "path-inside")],
    );
    assert!(outputs[0].contains("42 (patched itoa)"), "{outputs:?}");
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test fixtures_build -- --ignored"]
fn native_openssl_linked_statically_runs_on_scratch() {
    let _engine = engine_lock();
    let images = TestImages::new("native-openssl-linked-statically-runs-on-scratch");
    // `+crt-static`: openssl-sys links libssl.a and libcrypto.a from libssl-dev, which the builder keeps.
    let copy = Fixture::copy("native-openssl");
    copy.generate(GNU_STATIC);
    assert!(
        copy.dockerfile().contains("libssl-dev"),
        "the builder keeps the -dev package"
    );
    let outputs = build_and_run(
        &images,
        "native-openssl",
        GNU_STATIC,
        &[("native-openssl", "native-openssl")],
    );
    assert!(outputs[0].contains("OpenSSL"), "{outputs:?}");
}
