//! End-to-end: `cargo-dockerize` builds real images through a real Docker engine (BuildKit).
//!
//! Each engine test is `#[ignore]`d (run: `--ignored`), holds [`common::engine_lock`] (an engine must answer;
//! engine tests run one at a time), copies its fixture to a fresh temporary directory, tags
//! its images `dz-e2e-build-<pid>-<test>-...` and removes them when it ends, failing or not
//! ([`common::TestImages`]).
//! The no-engine tests (`DOCKER_HOST` pointing nowhere, `--dry-run`) always run.
//!
//! Builds are the expensive part (2 cores, one CI budget), so they are few: one test ([`workspace`]) builds
//! the `workspace` fixture once and checks everything about those images, then edits a source file and rebuilds, then
//! rebuilds with nothing changed. The stand-in toolchain has no musl target, so static images are glibc
//! linked statically (`--libc gnu --static`) on `scratch`, dynamic ones glibc on the distroless stand-in.
//!
//! Run: `cargo test --test e2e_build -- --ignored --nocapture`.

mod common;
// The crate root is this file, so its modules live beside it under a directory of its name.
#[path = "e2e_build/workspace.rs"]
mod workspace;

use std::time::{Duration, Instant};

use cargo_dockerize::events::Step;
use common::process::{wait_or_kill, RUN_LIMIT};
use common::{
    engine_lock, events_of, inspect_image, run, run_image, step_name, BuildJson, Fixture, Run,
    TestImages,
};
use serde_json::Value;

/// The binaries of the `workspace` fixture (stage names equal binary names there) and their version.
const WORKSPACE_BINS: [&str; 3] = ["api", "dz-cli", "worker"];
const WORKSPACE_VERSION: &str = "0.3.0";

/// Prints how long a run of the tool took, for the timings `--nocapture` shows.
fn timed(what: &str, out: &Run) {
    eprintln!("[e2e] {what}: {:.1}s (exit {:?})", out.seconds, out.code);
}

/// Whether the tool counts a step as bookkeeping, not as a build step (`Step::is_internal`).
fn is_internal(name: &str) -> bool {
    Step {
        id: String::new(),
        name: name.to_string(),
    }
    .is_internal()
}

/// Acceptance 3: a binary linking the system OpenSSL gets the distroless (glibc) runtime, runs there and
/// prints the OpenSSL version, as non-root.
#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_build -- --ignored"]
fn native_openssl_runs_on_distroless() {
    let _engine = engine_lock();
    let images = TestImages::new("ossl");
    let fixture = Fixture::copy("native-openssl");
    let out = fixture.run(&["--libc", "gnu", "-t", &images.template("{version}")]);
    timed("native-openssl: build", &out);
    out.assert_code(0, "native-openssl build");
    let reference = images.tag("native-openssl", "0.1.0");
    let image = inspect_image(&reference).unwrap_or_else(|| panic!("no image `{reference}`"));

    // FROM the distroless stand-in: the generated stage names it, and the image's layers start with its layers.
    let dockerfile = std::fs::read_to_string(fixture.path("Dockerfile")).expect("the Dockerfile");
    let base = dockerfile
        .lines()
        .find_map(|l| {
            l.strip_prefix("FROM ")?
                .strip_suffix(" AS native-openssl")
                .map(str::trim)
        })
        .unwrap_or_else(|| panic!("no `FROM ... AS native-openssl` stage:\n{dockerfile}"));
    assert!(
        base.starts_with("gcr.io/distroless/cc"),
        "a glibc binary with native libraries runs on distroless cc, not `{base}`"
    );
    let base_image = inspect_image(base).unwrap_or_else(|| panic!("no base image `{base}`"));
    let base_layers = base_image["RootFS"]["Layers"].as_array().expect("layers");
    let layers = image["RootFS"]["Layers"].as_array().expect("layers");
    assert!(
        layers.len() > base_layers.len() && layers[..base_layers.len()] == base_layers[..],
        "`{reference}` is built FROM `{base}`: its layers must start with the base's"
    );

    let user = image["Config"]["User"].as_str().unwrap_or_default();
    let uid = user.split(':').next().unwrap_or_default();
    assert!(
        !matches!(uid, "" | "0" | "root"),
        "`{reference}` must run as non-root, runs as `{user}`"
    );

    let output = run_image(&reference);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("hello from native-openssl"),
        "{output}"
    );
    assert!(
        lines.get(1).is_some_and(|l| l.starts_with("OpenSSL ")),
        "the second line is the OpenSSL version: {output}"
    );
}

/// Acceptance 4: a compile error fails the build with exit code 4 and shows the compiler's error, on stderr
/// in human mode and in the `image-failed` event's `log_tail` in JSON mode; nothing is tagged.
#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_build -- --ignored"]
fn compile_error_fails_with_the_compilers_message() {
    let _engine = engine_lock();
    let images = TestImages::new("cerr");
    let fixture = Fixture::copy("compile-error");
    let template = images.template("{version}");
    let args = ["--libc", "gnu", "--static", "-t", &template];

    let out = fixture.run(&args);
    timed("compile-error: human build", &out);
    out.assert_code(4, "compile-error build");
    for needle in ["error[E0308]", "mismatched types"] {
        assert!(
            out.stderr.contains(needle),
            "stderr must show the compiler's `{needle}`\n{}",
            out.describe("compile-error build")
        );
    }
    assert!(
        out.stderr.lines().any(|l| l.starts_with("error:")),
        "an `error:` line\n{}",
        out.stderr
    );

    let mut json_args = args.to_vec();
    json_args.extend(["--message-format", "json"]);
    let out = fixture.run(&json_args);
    timed("compile-error: JSON build", &out);
    out.assert_code(4, "compile-error build, JSON");
    let BuildJson {
        events, summary, ..
    } = BuildJson::parse(&out, "compile-error build, JSON");
    let failed: Vec<&Value> = events_of(&events, "image-failed").collect();
    assert_eq!(failed.len(), 1, "one image-failed event: {failed:#?}");
    let failed = failed[0];
    assert_eq!(failed["image"], "compile-error");
    let tail: Vec<&str> = failed["log_tail"]
        .as_array()
        .expect("log_tail")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tail.iter().any(|l| l.contains("error[E0308]"))
            && tail.iter().any(|l| l.contains("mismatched types")),
        "the image-failed event's log_tail carries the compiler's error: {failed:#}"
    );
    assert!(
        step_name(failed).contains("cargo build"),
        "the failed step is the build: {failed}"
    );
    assert_eq!(summary["images"][0]["status"], "failed", "{summary}");
    assert_eq!(
        images.existing(),
        Vec::<String>::new(),
        "a failed build tags nothing"
    );
}

/// Acceptance 5: the tool against an engine that is not there; no gate, no engine needed.
fn assert_no_engine(host: &str) -> Run {
    let fixture = Fixture::copy("workspace");
    let mut command = fixture.command(&[
        "--libc",
        "gnu",
        "--static",
        "-t",
        "dze2e-noengine-{bin}:{version}",
    ]);
    command
        .env("DOCKER_HOST", host)
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .env_remove("DOCKER_CONTEXT");
    let out = run(&mut command);
    timed(&format!("no engine at {host}"), &out);
    let what = format!("DOCKER_HOST={host} cargo-dockerize");
    let error = out.assert_one_error(5, &what);
    assert!(
        error.contains(host),
        "the error names the host `{host}`: {error}"
    );
    let dockerfile = std::fs::read_to_string(fixture.path("Dockerfile"))
        .unwrap_or_else(|e| panic!("the Dockerfile is written before the engine is tried: {e}"));
    for bin in WORKSPACE_BINS {
        assert!(
            dockerfile.contains(&format!(" AS {bin}\n")),
            "the written Dockerfile has the `{bin}` stage"
        );
    }
    assert!(
        fixture.path(".dockerignore").is_file(),
        "the .dockerignore is written too"
    );
    out
}

#[test]
fn no_engine_at_a_missing_socket_exits_5_after_writing_the_dockerfile() {
    assert_no_engine("unix:///nonexistent.sock");
}

#[test]
fn no_engine_at_a_closed_port_exits_5_after_writing_the_dockerfile() {
    assert_no_engine("tcp://127.0.0.1:1");
}

/// The cause below the `error:` line says why the engine did not answer (STYLE.md: the cause chain is
/// printed below the message). For a missing socket bollard says `Socket not found: /nonexistent.sock`.
#[test]
fn no_engine_error_shows_its_cause() {
    let out = assert_no_engine("unix:///nonexistent.sock");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.trim_start().starts_with("caused by:") && l.contains("/nonexistent.sock")),
        "a `caused by:` line must say why `unix:///nonexistent.sock` did not answer\n{}",
        out.stderr
    );
}

/// Acceptance 6: `--dry-run` prints the plan, writes nothing and needs no engine.
#[test]
fn dry_run_prints_targets_and_tags_without_files_or_engine() {
    let fixture = Fixture::copy("workspace");
    let mut command = fixture.command(&[
        "--libc",
        "gnu",
        "--static",
        "--dry-run",
        "-t",
        "dze2e-dry-{bin}:{version}",
        "-t",
        "dze2e-dry-{bin}:latest",
    ]);
    command.env("DOCKER_HOST", "unix:///nonexistent.sock");
    let out = run(&mut command);
    timed("dry run", &out);
    out.assert_code(0, "--dry-run");
    for bin in WORKSPACE_BINS {
        let line = out
            .stdout
            .lines()
            .find(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.windows(2).any(|w| w == ["--target", bin])
            })
            .unwrap_or_else(|| panic!("no `--target {bin}` line\n{}", out.describe("--dry-run")));
        for tag in [
            format!("dze2e-dry-{bin}:{WORKSPACE_VERSION}"),
            format!("dze2e-dry-{bin}:latest"),
        ] {
            assert!(line.contains(&tag), "`{bin}`'s line names `{tag}`: {line}");
        }
    }
    for file in ["Dockerfile", ".dockerignore"] {
        assert!(!fixture.path(file).exists(), "--dry-run writes no {file}");
    }
}

/// Reads the plain progress lines until a `RUN cargo build` step starts (`<image> | [builder 2/4] RUN cargo
/// build ...`), and gives every line read; kills `child` and fails when none starts in time.
fn wait_for_cargo_build(
    rx: &std::sync::mpsc::Receiver<String>,
    child: &mut std::process::Child,
) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        let line = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => line,
            Err(why) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "no `RUN cargo build` step started ({why:?}, exit {status:?}); stderr:\n{}",
                    seen.join("\n")
                );
            }
        };
        let started_step = line
            .split_once(" | ")
            .is_some_and(|(_, rest)| rest.starts_with('[') && rest.contains("RUN cargo build"));
        seen.push(line);
        if started_step {
            return seen;
        }
    }
}

/// Acceptance 7: Ctrl-C in the middle of a build exits 130, and no image with the build's tags exists.
#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_build -- --ignored"]
fn interrupt_cancels_the_build_and_tags_nothing() {
    use std::io::BufRead as _;
    use std::os::unix::process::ExitStatusExt as _;
    use std::process::Stdio;

    let _engine = engine_lock();
    let images = TestImages::new("int");
    let fixture = Fixture::copy("native-openssl");
    // --no-cache: the dependency step (openssl-sys and openssl, about 25s on 2 cores) really runs, so the
    // interrupt lands in the middle of a step, not after the build.
    let mut command = fixture.command(&[
        "--libc",
        "gnu",
        "--no-cache",
        "-t",
        &images.template("{version}"),
    ]);
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cargo-dockerize");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = wait_for_cargo_build(&rx, &mut child);
    eprintln!(
        "[e2e] interrupt: a cargo build step started after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(1));
    let signalled = Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success(), "kill -INT failed");
    let Some(status) = wait_or_kill(&mut child, Duration::from_secs(60)) else {
        panic!("cargo-dockerize did not exit within 60s of SIGINT");
    };
    eprintln!(
        "[e2e] interrupt: exited {:.1}s after SIGINT",
        signalled.elapsed().as_secs_f64()
    );
    reader.join().expect("stderr reader");
    seen.extend(rx.try_iter());
    let stderr = seen.join("\n");
    assert_eq!(
        status.code(),
        Some(130),
        "SIGINT must end the build with exit code 130 (status {status:?}, signal {:?}); stderr:\n{stderr}",
        status.signal()
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("error:") && l.contains("interrupted")),
        "an `error: interrupted` line; stderr:\n{stderr}"
    );
    assert_eq!(
        images.existing(),
        Vec::<String>::new(),
        "an interrupted build tags nothing"
    );
    // A build the engine kept running would tag its image when it ends: look again a little later.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        images.existing(),
        Vec::<String>::new(),
        "an interrupted build must be cancelled in the engine, not tagged later"
    );
}

/// The classic builder (what Podman's API offers): the same Dockerfile builds, the tool says it fell back, and
/// the plain line-per-step progress reports the classic builder's steps.
#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_build -- --ignored"]
fn classic_builder_builds_the_same_dockerfile_and_says_so() {
    let _engine = engine_lock();
    let images = TestImages::new("classic");
    let fixture = Fixture::copy("single-bin");
    let out = fixture.run(&[
        "--libc",
        "gnu",
        "--static",
        "--builder",
        "classic",
        "-t",
        &images.template("{version}"),
    ]);
    timed("single-bin: classic builder", &out);
    out.assert_code(0, "classic build");
    assert!(
        out.stderr.contains("classic builder"),
        "the fallback is announced\n{}",
        out.describe("classic build")
    );
    assert!(
        out.stderr.contains("built 1 of 1 image(s)"),
        "{}",
        out.describe("classic build")
    );
    let reference = images.tag("single-bin", "0.1.0");
    assert!(
        run_image(&reference).starts_with("hello from single-bin"),
        "the image runs"
    );
}
