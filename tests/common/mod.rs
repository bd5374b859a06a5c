//! Helpers shared by the integration tests: fixture copies, the real binary, snapshot filters.
//!
//! Fixtures under `fixtures/workspaces` stay clean in git: every test copies its fixture into a temporary
//! directory first and generates there. The binary always runs from *outside* the copy, with
//! `--manifest-path`: the `toolchain-pin` fixture pins a toolchain by a name rustup may not have
//! (`1.95` while only `1.95.0` is installed, with auto-install off), and rustup resolves that pin from the
//! current directory of every `cargo`/`rustc` it proxies. `cargo test` sets `CARGO` (and, under rustup,
//! `RUSTUP_TOOLCHAIN`) for the test process; the binary inherits them, so `cargo metadata` runs with the
//! toolchain that runs the tests.

// Each test crate uses its own subset of these helpers.
#![allow(dead_code)]

pub mod images;
pub mod steps;
pub mod tree;
pub use tree::copy_tree;
pub mod structure;

#[allow(unused_imports)] // Only the engine suites use it.
pub use images::TestImages;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

/// The binary's package version, which the generated headers carry.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `fixtures/workspaces` of this repository.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/workspaces")
}

/// The fixtures that generate a Dockerfile (every one but `no-bins`), in a fixed order.
pub const GENERATING_FIXTURES: &[&str] = &[
    "build-script",
    "compile-error",
    "multi-bin",
    "name-collision",
    "native-openssl",
    "odd-names",
    "required-features",
    "single-bin",
    "toolchain-pin",
    "workspace",
];

/// A fixture workspace copied into a temporary directory: `<tmp>/<name>/Cargo.toml`.
pub struct Fixture {
    pub name: String,
    /// The copy's workspace root.
    pub root: PathBuf,
    /// The temporary directory holding the copy: the binary's working directory.
    pub outside: PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// Copies `fixtures/workspaces/<name>` (without build output or generated files). A name with a `/`
    /// (`path-outside/app`) copies its first directory whole and takes the rest as the workspace inside it.
    pub fn copy(name: &str) -> Self {
        let top = name.split('/').next().unwrap_or(name);
        let source = fixtures_dir().join(top);
        assert!(
            source.is_dir(),
            "no fixture `{name}` at {}",
            source.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("dockerize-test-")
            .tempdir()
            .expect("create a temporary directory");
        let outside = dir.path().to_path_buf();
        copy_tree(&source, &outside.join(top));
        let root = outside.join(name);
        Self {
            name: name.to_string(),
            root,
            outside,
            _dir: dir,
        }
    }

    pub fn manifest(&self) -> PathBuf {
        self.root.join("Cargo.toml")
    }

    pub fn dockerfile_path(&self) -> PathBuf {
        self.root.join("Dockerfile")
    }

    pub fn dockerignore_path(&self) -> PathBuf {
        self.root.join(".dockerignore")
    }

    /// The generated Dockerfile; panics when there is none.
    pub fn dockerfile(&self) -> String {
        std::fs::read_to_string(self.dockerfile_path()).expect("read the generated Dockerfile")
    }

    /// `cargo-dockerize dockerize <args> --manifest-path <copy>/Cargo.toml`, run from outside the copy.
    pub fn command(&self, args: &[&str]) -> assert_cmd::Command {
        let mut command = binary();
        command
            .args(args)
            .arg("--manifest-path")
            .arg(self.manifest())
            .current_dir(&self.outside);
        command
    }

    /// Runs [`Fixture::command`] and returns what it did.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run cargo-dockerize"))
    }

    /// `generate <args>`, which must succeed; returns the Dockerfile.
    pub fn generate(&self, args: &[&str]) -> String {
        let mut full = vec!["generate"];
        full.extend_from_slice(args);
        let run = self.run(&full);
        run.assert_success(&format!("generate {}", args.join(" ")));
        self.dockerfile()
    }

    /// `list --format json <args>`, which must succeed: the text (with the root redacted) and the value.
    pub fn list_json(&self, args: &[&str]) -> (String, serde_json::Value) {
        let mut full = vec!["list", "--format", "json"];
        full.extend_from_slice(args);
        let run = self.run(&full);
        run.assert_success(&format!("list --format json {}", args.join(" ")));
        let value: serde_json::Value =
            serde_json::from_str(&run.stdout).expect("`list --format json` prints JSON");
        (self.redact(&run.stdout), value)
    }

    /// Replaces the copy's absolute path with `[ROOT]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.replace(&self.root.display().to_string(), "[ROOT]");
        if let Ok(canonical) = self.root.canonicalize() {
            out = out.replace(&canonical.display().to_string(), "[ROOT]");
        }
        out
    }

    /// Whether the copy pins a toolchain (then the Rust version is the pin's, not the local rustc's).
    pub fn has_toolchain_file(&self) -> bool {
        ["rust-toolchain.toml", "rust-toolchain"]
            .iter()
            .any(|f| self.root.join(f).is_file())
    }

    /// insta settings for this fixture's snapshots: the tool's version and, unless the workspace pins
    /// one, the local rustc's version are filtered, so neither a release nor a toolchain update churns
    /// the snapshots.
    pub fn insta_settings(&self, description: &str) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        settings.set_description(description);
        settings.set_omit_expression(true);
        settings.add_filter(
            r"Generated by cargo-dockerize \d+\.\d+\.\d+[^ ]*\.",
            "Generated by cargo-dockerize [VERSION].",
        );
        if !self.has_toolchain_file() {
            let version = regex_escape(local_rustc_version());
            settings.add_filter(
                &format!(r"ARG RUST_VERSION={version}\n"),
                "ARG RUST_VERSION=[LOCAL_RUSTC]\n",
            );
            settings.add_filter(
                &format!(r#""rust_version": "{version}""#),
                r#""rust_version": "[LOCAL_RUSTC]""#,
            );
        }
        settings
    }
}

/// `cargo-dockerize dockerize`: the form Cargo uses for `cargo dockerize`.
pub fn binary() -> assert_cmd::Command {
    let mut command =
        assert_cmd::Command::cargo_bin("cargo-dockerize").expect("the binary is built for tests");
    command.arg("dockerize").env("NO_COLOR", "1");
    command
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn assert_success(&self, what: &str) {
        assert_eq!(
            self.code,
            Some(0),
            "`{what}` failed\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
    }

    /// A failure as users must see it: exit `code`, and stderr opening with exactly one `error:` line
    /// (causes, Cargo's own output and the hint are indented or prefixed otherwise).
    pub fn assert_error(&self, code: i32, what: &str) -> &str {
        assert_eq!(
            self.code,
            Some(code),
            "`{what}`: expected exit code {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        let errors: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "`{what}`: expected one `error:` line\n--- stderr\n{}",
            self.stderr
        );
        assert!(
            self.stderr.starts_with("error: "),
            "`{what}`: the error must come first\n--- stderr\n{}",
            self.stderr
        );
        errors[0]
    }
}

/// `major.minor` of the rustc the tool falls back to (`$RUSTC` or `rustc`), as `workspace.rs` reads it.
pub fn local_rustc_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let output = std::process::Command::new(rustc)
            .arg("--version")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run rustc --version");
        let text = String::from_utf8_lossy(&output.stdout);
        let version = text.split_whitespace().nth(1).expect("rustc version");
        let mut parts = version.split(['.', '-']);
        format!(
            "{}.{}",
            parts.next().expect("major"),
            parts.next().expect("minor")
        )
    })
}

/// Escapes a `major.minor` version for a regex.
fn regex_escape(version: &str) -> String {
    version.replace('.', r"\.")
}

/// The binaries `list --format json` reports, as the structural checks need them.
pub fn listed_binaries(list: &serde_json::Value) -> Vec<structure::ListedBinary> {
    list["binaries"]
        .as_array()
        .expect("`binaries` is an array")
        .iter()
        .map(|b| structure::ListedBinary {
            name: b["name"].as_str().expect("name").to_string(),
            stage: b["stage"].as_str().expect("stage").to_string(),
            builder: b["builder"].as_str().expect("builder").to_string(),
            base_image: b["base_image"].as_str().expect("base_image").to_string(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Appended for `tests/e2e_config.rs`: edits of a fixture copy's manifests, and the engine side of end-to-end
// tests (the gate, builds through the tool with `--message-format json`, `docker` calls, an image guard).
// Fully qualified paths, so the imports above stay as they are.

impl Fixture {
    /// The copy's file `relative` (to the workspace root).
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.root.join(relative))
            .unwrap_or_else(|e| panic!("read {relative} in the copy of `{}`: {e}", self.name))
    }

    /// Writes the copy's file `relative`.
    pub fn write(&self, relative: &str, text: &str) {
        std::fs::write(self.root.join(relative), text)
            .unwrap_or_else(|e| panic!("write {relative} in the copy of `{}`: {e}", self.name));
    }

    /// Replaces `from`, which must occur exactly once, by `to` in the copy's file `relative`.
    pub fn replace_in(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur once in {relative} of `{}`:\n{text}",
            self.name
        );
        self.write(relative, &text.replacen(from, to, 1));
    }

    /// Appends `text` to the copy's file `relative`.
    pub fn append_to(&self, relative: &str, text: &str) {
        let mut all = self.read(relative);
        all.push_str(text);
        self.write(relative, &all);
    }

    /// `build <args> --message-format json`, which must succeed within [`BUILD_LIMIT`]: the JSON events.
    pub fn build_json(&self, args: &[&str]) -> BuildJson {
        let mut full = vec!["build"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--message-format", "json"]);
        let what = full.join(" ");
        let started = std::time::Instant::now();
        let run = Run::from(
            self.command(&full)
                .timeout(BUILD_LIMIT)
                .output()
                .expect("run cargo-dockerize build"),
        );
        let seconds = started.elapsed().as_secs_f64();
        run.assert_success(&format!("{what} (after {seconds:.1}s)"));
        let mut events: Vec<serde_json::Value> = run
            .stdout
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("`{what}`: stdout line is not JSON ({e}): {line:?}"))
            })
            .collect();
        let summary = events
            .pop()
            .unwrap_or_else(|| panic!("`{what}` printed no JSON\n--- stderr\n{}", run.stderr));
        assert_eq!(
            summary["event"], "summary",
            "`{what}`: the last line is the summary"
        );
        for image in summary["images"].as_array().expect("summary.images") {
            assert_eq!(image["status"], "built", "`{what}`: {image}");
        }
        BuildJson {
            events,
            summary,
            seconds,
        }
    }
}

/// The longest one `cargo dockerize build` of a fixture may take (a hung engine must not eat CI's budget).
pub const BUILD_LIMIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// What `build --message-format json` printed.
#[derive(Debug)]
pub struct BuildJson {
    /// Every event before the summary.
    pub events: Vec<serde_json::Value>,
    pub summary: serde_json::Value,
    pub seconds: f64,
}

impl BuildJson {
    /// Step names with events of `kind` (`step-started`, `step-cached`, ...), each once, in order.
    pub fn steps(&self, kind: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for event in self.events.iter().filter(|e| e["event"] == kind) {
            let name = event["step"]["name"].as_str().unwrap_or_default();
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
        out
    }

    /// The log lines of steps whose name starts with `prefix`.
    pub fn logs(&self, prefix: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "step-log")
            .filter(|e| {
                e["step"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with(prefix))
            })
            .filter_map(|e| e["line"].as_str().map(str::to_string))
            .collect()
    }
}

/// One engine test at a time in a test binary: builds compete for two cores.
static ENGINE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The gate every engine test opens with. `DOCKERIZE_E2E=0`: skip. `DOCKERIZE_E2E=1`: an engine is required,
/// and a missing one fails the test. Unset: run when `docker info` answers, else skip with one line. When the
/// test runs, the returned guard holds the engine for it.
pub fn engine_gate(test: &str) -> Option<std::sync::MutexGuard<'static, ()>> {
    static ANSWERS: OnceLock<Result<String, String>> = OnceLock::new();
    let required = match std::env::var("DOCKERIZE_E2E").as_deref() {
        Ok("0") => {
            println!("skipping {test}: DOCKERIZE_E2E=0");
            return None;
        }
        Ok("") | Err(_) => false,
        Ok(_) => true,
    };
    let answers = ANSWERS.get_or_init(|| {
        match std::process::Command::new("docker")
            .args(["info", "--format", "{{.ServerVersion}}"])
            .output()
        {
            Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().into()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(format!("`docker` could not run: {e}")),
        }
    });
    if let Err(why) = answers {
        assert!(
            !required,
            "DOCKERIZE_E2E=1 requires a Docker engine, but `docker info` failed: {why}"
        );
        println!("skipping {test}: no Docker engine (set DOCKERIZE_E2E=1 to require one)");
        return None;
    }
    // A failed test poisons the lock; the engine is still fine for the next one.
    Some(
        ENGINE_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    )
}

/// `docker <args>`, captured.
pub fn docker(args: &[&str]) -> Run {
    Run::from(
        std::process::Command::new("docker")
            .args(args)
            .output()
            .expect("run docker"),
    )
}

/// `docker <args>`, which must succeed: its stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let run = docker(args);
    run.assert_success(&format!("docker {}", args.join(" ")));
    run.stdout
}

/// `docker image inspect <reference>`: the one object, or `None` when there is no such image.
pub fn docker_inspect(reference: &str) -> Option<serde_json::Value> {
    let run = docker(&["image", "inspect", reference]);
    if run.code != Some(0) {
        return None;
    }
    let mut list: Vec<serde_json::Value> =
        serde_json::from_str(&run.stdout).expect("docker image inspect prints a JSON array");
    list.pop()
}

/// One entry of an image's file system as `docker export` writes it.
#[derive(Debug, Clone)]
pub struct ImageEntry {
    /// Relative, no trailing slash: `app/configuration/base.toml`.
    pub path: String,
    pub is_dir: bool,
    pub uid: u64,
    pub gid: u64,
}

/// The file system of a container created from `reference` (`docker create` + `docker export`).
pub fn image_entries(reference: &str) -> Vec<ImageEntry> {
    let id = docker_ok(&["create", reference]).trim().to_string();
    let output = std::process::Command::new("docker")
        .args(["export", &id])
        .output();
    let _ = docker(&["rm", "-f", &id]);
    let output = output.expect("run docker export");
    assert!(output.status.success(), "docker export {reference}");
    let mut archive = tar::Archive::new(output.stdout.as_slice());
    archive
        .entries()
        .expect("docker export writes a tar archive")
        .map(|entry| {
            let entry = entry.expect("a tar entry");
            let header = entry.header();
            ImageEntry {
                path: entry
                    .path()
                    .expect("a tar entry path")
                    .to_string_lossy()
                    .trim_start_matches("./")
                    .trim_end_matches('/')
                    .to_string(),
                is_dir: header.entry_type().is_dir(),
                uid: header.uid().unwrap_or(u64::MAX),
                gid: header.gid().unwrap_or(u64::MAX),
            }
        })
        .collect()
}
