//! Helpers for the end-to-end tests that drive a real Docker engine: the engine gate, fixture copies, runs of
//! the real binary with a time limit, `docker` CLI calls, an image guard that removes a test's images even
//! when the test fails, and readers for `--message-format json` output and `docker export` archives.
//!
//! The engine gate: with `DOCKERIZE_E2E` unset (or `0`), a test whose engine does not answer `docker info`
//! prints one `skipping ...` line and passes, so `cargo test` works on a laptop without Docker; with
//! `DOCKERIZE_E2E=1` (CI) a missing engine is a failure, never a silent skip.
//!
//! Images are tagged `dze2e-<pid>-<test>-{bin}:...`: unique to the run and to the test, so parallel runs and
//! other suites sharing the engine never see each other's tags. Builds are content-addressed, so the same
//! image id may carry another suite's tags too: images are therefore only ever removed *by tag*, never by id.

#![allow(dead_code)]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The longest any single run of the tool may take before the test kills it (a hung engine must not eat
/// CI's budget). Cold builds of the fixtures take well under a minute on 2 cores.
pub const RUN_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The longest a `docker` CLI call may take.
pub const DOCKER_LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------- engine gate

/// Whether the tests must have an engine (`DOCKERIZE_E2E=1`): then a missing one fails the test.
fn engine_required() -> bool {
    std::env::var("DOCKERIZE_E2E").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `docker info`, once per test binary: `Ok(server version)` or why not.
fn engine_status() -> &'static Result<String, String> {
    static STATUS: OnceLock<Result<String, String>> = OnceLock::new();
    STATUS.get_or_init(|| {
        let mut command = Command::new("docker");
        command.args(["info", "--format", "{{.ServerVersion}}"]);
        match run_limited(command, Duration::from_secs(30)) {
            Ok(out) if out.code == Some(0) && !out.stdout.trim().is_empty() => {
                Ok(out.stdout.trim().to_string())
            }
            Ok(out) => Err(format!(
                "`docker info` exited with {:?}: {}",
                out.code,
                out.stderr.trim()
            )),
            Err(why) => Err(format!("`docker info` could not run: {why}")),
        }
    })
}

/// The gate every engine test opens with: `true` to go on; `false` (after one `skipping` line) when there is
/// no engine and none is required. Panics when `DOCKERIZE_E2E=1` and no engine answers.
pub fn engine_available(test: &str) -> bool {
    match engine_status() {
        Ok(_) => true,
        Err(why) if engine_required() => {
            panic!("DOCKERIZE_E2E=1 requires a Docker engine, but none answered: {why}")
        }
        Err(_) => {
            eprintln!("skipping {test}: no Docker engine (set DOCKERIZE_E2E=1 to require one)");
            false
        }
    }
}

// ---------------------------------------------------------------------------------------------- processes

/// What a process did.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

impl Output {
    /// Everything about the run, for assertion messages.
    pub fn describe(&self, what: &str) -> String {
        format!(
            "`{what}`: exit code {:?} after {:.1}s\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.seconds, self.stdout, self.stderr
        )
    }

    pub fn assert_code(&self, code: i32, what: &str) {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}\n{}",
            self.describe(what)
        );
    }
}

/// Waits for `child` at most `limit`; `None` when it is still running then.
pub fn wait_limited(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait for a child process") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `command` with its output captured; kills it and says so when it outlives `limit`.
pub fn run_limited(mut command: Command, limit: Duration) -> Result<Output, String> {
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("failed to start {command:?}: {e}"))?;
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_limited(&mut child, limit);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let output = Output {
        code: status.and_then(|s| s.code()),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        seconds: started.elapsed().as_secs_f64(),
    };
    match status {
        Some(_) => Ok(output),
        None => Err(format!(
            "killed after {limit:?}\n{}",
            output.describe(&format!("{command:?}"))
        )),
    }
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

// ---------------------------------------------------------------------------------------------- the tool

/// The binary under test, called directly (`cargo-dockerize <args>`), without colour.
pub fn tool() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-dockerize"));
    command.env("NO_COLOR", "1").env_remove("CARGO_TERM_COLOR");
    command
}

/// A fixture workspace copied into a fresh temporary directory: `<tmp>/<name>/`.
pub struct Fixture {
    pub name: String,
    /// The copy's workspace root.
    pub root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// Copies `fixtures/workspaces/<name>`, leaving out build output and generated files.
    pub fn copy(name: &str) -> Self {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/workspaces")
            .join(name);
        assert!(
            source.is_dir(),
            "no fixture `{name}` at {}",
            source.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("dockerize-e2e-")
            .tempdir()
            .expect("create a temporary directory");
        let root = dir.path().join(name);
        copy_tree(&source, &root);
        Self {
            name: name.to_string(),
            root,
            _dir: dir,
        }
    }

    /// `cargo-dockerize <args> --manifest-path <copy>/Cargo.toml`, run from outside the copy (a fixture's
    /// toolchain pin must not change which toolchain rustup picks for the tool's own `cargo metadata`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = tool();
        command
            .args(args)
            .arg("--manifest-path")
            .arg(self.root.join("Cargo.toml"))
            .current_dir(self.root.parent().expect("the copy has a parent"));
        command
    }

    /// Runs [`Fixture::command`] to its end (at most [`RUN_LIMIT`]).
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(self.command(args))
    }

    /// Runs a command made by [`Fixture::command`] and adjusted by the caller (environment).
    pub fn run_with(&self, command: Command) -> Output {
        run_limited(command, RUN_LIMIT).unwrap_or_else(|why| panic!("{why}"))
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

// ---------------------------------------------------------------------------------------------- docker CLI

/// `docker <args>`, captured; panics only when the CLI cannot run at all or hangs.
pub fn docker(args: &[&str]) -> Output {
    let mut command = Command::new("docker");
    command.args(args);
    run_limited(command, DOCKER_LIMIT).unwrap_or_else(|why| panic!("{why}"))
}

/// `docker <args>`, which must succeed; its stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    out.assert_code(0, &format!("docker {}", args.join(" ")));
    out.stdout
}

/// `docker <args>` with raw stdout bytes (for `docker export`), which must succeed.
pub fn docker_bytes(args: &[&str]) -> Vec<u8> {
    let mut child = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run docker");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let status = wait_limited(&mut child, DOCKER_LIMIT);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let bytes = reader.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(
        status.is_some_and(|s| s.success()),
        "`docker {}` failed ({status:?}): {stderr}",
        args.join(" ")
    );
    bytes
}

/// `docker image inspect <reference>` as JSON (the one object), or `None` when there is no such image.
pub fn inspect_image(reference: &str) -> Option<serde_json::Value> {
    let out = docker(&["image", "inspect", reference]);
    if out.code != Some(0) {
        return None;
    }
    let mut list: Vec<serde_json::Value> =
        serde_json::from_str(&out.stdout).expect("docker image inspect prints a JSON array");
    list.pop()
}

/// `docker run --rm <image>`: the image's entrypoint, which must exit 0; its stdout.
pub fn run_image(reference: &str) -> String {
    docker_ok(&["run", "--rm", "--network", "none", reference])
}

/// One entry of a container's file system, as `docker export` writes it.
#[derive(Debug, Clone)]
pub struct ExportEntry {
    /// Relative, without a trailing slash: `usr/local/bin/api`.
    pub path: String,
    pub is_dir: bool,
    pub mode: u32,
    pub size: u64,
}

/// The file system of a container created from `reference` (`docker create` + `docker export`), sorted.
pub fn exported_files(reference: &str) -> Vec<ExportEntry> {
    let id = docker_ok(&["create", reference]).trim().to_string();
    let bytes = std::panic::catch_unwind(|| docker_bytes(&["export", &id]));
    let _ = docker(&["rm", "-f", &id]);
    let bytes = bytes.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut entries: Vec<ExportEntry> = archive
        .entries()
        .expect("docker export writes a tar archive")
        .map(|entry| {
            let entry = entry.expect("a tar entry");
            let header = entry.header();
            let path = entry
                .path()
                .expect("a tar entry path")
                .to_string_lossy()
                .trim_start_matches("./")
                .trim_end_matches('/')
                .to_string();
            ExportEntry {
                path,
                is_dir: header.entry_type().is_dir(),
                mode: header.mode().unwrap_or(0),
                size: header.size().unwrap_or(0),
            }
        })
        .filter(|e| !e.path.is_empty() && e.path != ".")
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries
}

#[path = "../common/images.rs"]
mod images;
#[path = "../common/steps.rs"]
pub mod steps;
#[path = "../common/tree.rs"]
mod tree;
pub use tree::copy_tree;

/// The engine suites' one image guard (see `tests/common/images.rs`).
pub use images::TestImages as ImageGuard;

// ---------------------------------------------------------------------------------------------- JSON output

/// The events of a `--message-format json` run: every stdout line must be one JSON object with an `event`;
/// the last one is the `summary`. Returns (events before the summary, the summary).
pub fn json_events(out: &Output, what: &str) -> (Vec<serde_json::Value>, serde_json::Value) {
    let mut values = Vec::new();
    for (n, line) in out.stdout.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "stdout line {} is not JSON ({e}): {line:?}\n{}",
                n + 1,
                out.describe(what)
            )
        });
        assert!(
            value.get("event").and_then(|e| e.as_str()).is_some(),
            "stdout line {} has no `event`: {line}",
            n + 1
        );
        values.push(value);
    }
    let summary = values
        .pop()
        .unwrap_or_else(|| panic!("no JSON on stdout\n{}", out.describe(what)));
    assert_eq!(
        summary["event"],
        "summary",
        "the last stdout line must be the summary\n{}",
        out.describe(what)
    );
    for event in &values {
        assert_ne!(event["event"], "summary", "one summary, at the end");
        assert!(
            event["image"].is_string(),
            "every event names its image: {event}"
        );
    }
    (values, summary)
}

/// Events of one kind (`step-cached`, `image-built`, ...).
pub fn events_of<'a>(
    events: &'a [serde_json::Value],
    kind: &'a str,
) -> impl Iterator<Item = &'a serde_json::Value> + 'a {
    events.iter().filter(move |e| e["event"] == kind)
}

/// A step event's step name.
pub fn step_name(event: &serde_json::Value) -> &str {
    event["step"]["name"].as_str().unwrap_or_default()
}
