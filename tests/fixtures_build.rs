//! End to end: generate a fixture's Dockerfile, build images from it with a real engine, run them.
//!
//! For every fixture that compiles, the Dockerfile is generated with `--libc gnu --static` (a static glibc
//! binary on `scratch`: there is no musl target in every toolchain image this has to run with) or, for
//! `native-openssl`, with `--libc gnu` (dynamic, on distroless). Then `docker build --target <stage>` with
//! the docker CLI's classic builder (it builds every stage before the target, so one build per fixture
//! suffices unless names are what the fixture tests), `docker run --rm` must print `hello from <binary>`
//! first, and `docker image inspect` must show a non-root user. The tagged images are removed afterwards;
//! the classic builder keeps its intermediate stages as its cache, so a second run is quick.
//!
//! Gate: with `DOCKERIZE_E2E=1` an engine is required (no engine fails the tests); with `DOCKERIZE_E2E=0`
//! these tests are skipped; unset, they run when `docker info` answers and are skipped otherwise. Builds
//! run one at a time (two cores), each test printing its timings (`cargo test -- --nocapture`);
//! `DOCKERIZE_E2E_NO_CACHE=1` builds without the engine's cache, for cold timings.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use common::Fixture;

/// One build at a time: they compete for the same two cores and the engine's cache.
static ENGINE: Mutex<()> = Mutex::new(());

/// Whether to run, holding the engine for this test when it does.
fn engine() -> Option<MutexGuard<'static, ()>> {
    static ANSWERS: OnceLock<bool> = OnceLock::new();
    let required = match std::env::var("DOCKERIZE_E2E").as_deref() {
        Ok("0") => {
            println!("skipping: DOCKERIZE_E2E=0");
            return None;
        }
        Ok("1") => true,
        _ => false,
    };
    let answers = *ANSWERS.get_or_init(|| {
        Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !answers {
        assert!(
            !required,
            "DOCKERIZE_E2E=1 but no Docker engine answers `docker info`"
        );
        println!("skipping: no Docker engine (set DOCKERIZE_E2E=1 to require one)");
        return None;
    }
    // A failed test poisons the lock; the engine is still fine for the next one.
    Some(
        ENGINE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}

/// A tagged image, removed when dropped (also when the test fails).
struct Image {
    tag: String,
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", "--force", &self.tag])
            .output();
    }
}

/// `docker build --target <stage>` in the copy, tagged uniquely.
fn build(copy: &Fixture, stage: &str) -> Image {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let tag = format!(
        "dockerize-e2e/{}-{stage}:{}-{}",
        copy.name.replace('/', "-"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let image = Image { tag };
    let started = Instant::now();
    let mut command = Command::new("docker");
    command.args(["build", "--target", stage, "--tag", &image.tag]);
    if std::env::var_os("DOCKERIZE_E2E_NO_CACHE").is_some_and(|v| v == "1") {
        command.arg("--no-cache");
    }
    // A workspace inside a fixture (`path-outside/app`) is built with the wider context the Dockerfile's
    // header names: the fixture's top directory, holding the path dependency.
    let context = match copy.name.split_once('/') {
        Some((top, _)) => copy.outside.join(top),
        None => copy.root.clone(),
    };
    let output = command
        .arg("--file")
        .arg(copy.dockerfile_path())
        .arg(".")
        // The classic builder: the docker CLI here has no buildx (DESIGN.md §4).
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(&context)
        .output()
        .expect("run docker build");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
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
        copy.name,
        started.elapsed().as_secs_f64()
    );
    image
}

/// `docker run --rm`: the image's stdout.
fn run(image: &Image) -> String {
    let output = Command::new("docker")
        .args(["run", "--rm", &image.tag])
        .output()
        .expect("run docker run");
    assert!(
        output.status.success(),
        "`docker run {}` failed: {}",
        image.tag,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The image's configured user.
fn user(image: &Image) -> String {
    let output = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{.Config.User}}",
            &image.tag,
        ])
        .output()
        .expect("run docker image inspect");
    assert!(output.status.success(), "inspect {}", image.tag);
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Generates `fixture` with `args`, then builds, runs and inspects each `(stage, greeting)`; returns the
/// output of each run.
fn build_and_run(fixture: &str, args: &[&str], stages: &[(&str, &str)]) -> Vec<String> {
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
        let image = build(&copy, stage);
        let stdout = run(&image);
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
fn single_bin() {
    let Some(_engine) = engine() else { return };
    build_and_run("single-bin", GNU_STATIC, &[("single-bin", "single-bin")]);
}

#[test]
fn multi_bin() {
    let Some(_engine) = engine() else { return };
    // `gamma` has the custom `[[bin]]` path; the builder compiles all four either way.
    build_and_run("multi-bin", GNU_STATIC, &[("gamma", "gamma")]);
}

#[test]
fn workspace() {
    let Some(_engine) = engine() else { return };
    // The binary whose name is not its package's.
    build_and_run("workspace", GNU_STATIC, &[("dz-cli", "dz-cli")]);
}

#[test]
fn required_features() {
    let Some(_engine) = engine() else { return };
    build_and_run("required-features", GNU_STATIC, &[("plain", "plain")]);
    let with_extra: Vec<&str> = GNU_STATIC
        .iter()
        .copied()
        .chain(["--bin", "extra"])
        .collect();
    build_and_run("required-features", &with_extra, &[("extra", "extra")]);
}

#[test]
fn build_script() {
    let Some(_engine) = engine() else { return };
    let outputs = build_and_run(
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
fn native_openssl() {
    let Some(_engine) = engine() else { return };
    // Dynamic glibc on distroless: libssl comes from the runtime image.
    let outputs = build_and_run(
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
fn toolchain_pin() {
    let Some(_engine) = engine() else { return };
    build_and_run(
        "toolchain-pin",
        GNU_STATIC,
        &[("toolchain-pin", "toolchain-pin")],
    );
}

#[test]
fn odd_names() {
    let Some(_engine) = engine() else { return };
    build_and_run(
        "odd-names",
        GNU_STATIC,
        &[("my_tool", "My_Tool"), ("bin-2fa", "2fa")],
    );
}

#[test]
fn name_collision() {
    let Some(_engine) = engine() else { return };
    build_and_run(
        "name-collision",
        GNU_STATIC,
        &[
            ("alpha-svc-server", "server (alpha-svc)"),
            ("beta-svc-server", "server (beta-svc)"),
        ],
    );
}

#[test]
fn path_dependency_outside_the_workspace() {
    let Some(_engine) = engine() else { return };
    let outputs = build_and_run(
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
fn path_packages_and_patches_inside_the_workspace() {
    let Some(_engine) = engine() else { return };
    let outputs = build_and_run("path-inside", GNU_STATIC, &[("path-inside", "path-inside")]);
    assert!(outputs[0].contains("42 (patched itoa)"), "{outputs:?}");
}

#[test]
fn native_openssl_linked_statically_runs_on_scratch() {
    let Some(_engine) = engine() else { return };
    // `+crt-static`: openssl-sys links libssl.a and libcrypto.a from libssl-dev, which the builder keeps.
    let copy = Fixture::copy("native-openssl");
    copy.generate(GNU_STATIC);
    assert!(
        copy.dockerfile().contains("libssl-dev"),
        "the builder keeps the -dev package"
    );
    let outputs = build_and_run(
        "native-openssl",
        GNU_STATIC,
        &[("native-openssl", "native-openssl")],
    );
    assert!(outputs[0].contains("OpenSSL"), "{outputs:?}");
}
