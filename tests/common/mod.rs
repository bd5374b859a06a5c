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

pub mod structure;

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

/// Copies a directory tree, leaving out build output and generated files.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).expect("read fixture directory") {
        let entry = entry.expect("read directory entry");
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("target" | "Dockerfile" | ".dockerignore")
        ) {
            continue;
        }
        let kind = entry.file_type().expect("file type");
        let target = to.join(&name);
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
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
