//! Fixture workspaces copied into temporary directories, edits of a copy's files, and the binary run on a
//! copy: `generate`, `list --format json` and `build --message-format json` as one call each.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::events::BuildJson;
use super::process::{binary, run, Run};
use super::tree::copy_tree;

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
    "cross",
    "dev-guesses",
    "multi-bin",
    "name-collision",
    "native-openssl",
    "native-static",
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

    /// A workspace the test writes: `files` are (path relative to the root, text).
    pub fn from_files(name: &str, files: &[(&str, &str)]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dockerize-test-")
            .tempdir()
            .expect("create a temporary directory");
        let outside = dir.path().to_path_buf();
        let root = outside.join(name);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create a directory");
            std::fs::write(&path, text).expect("write a file");
        }
        Self {
            name: name.to_string(),
            root,
            outside,
            _dir: dir,
        }
    }

    /// `cargo update --workspace` in the copy, as a user does after editing a manifest and commits the result
    /// (the tool runs Cargo with `--locked` and never writes the lock): offline from the local registry cache,
    /// online when the cache lacks a crate.
    pub fn relock(&self) {
        let update = |offline: bool| {
            let mut command = Command::new("cargo");
            command
                .args(["update", "--workspace"])
                .current_dir(&self.root);
            if offline {
                command.arg("--offline");
            }
            command.status().expect("run cargo update").success()
        };
        assert!(
            update(true) || update(false),
            "cargo update --workspace in {}",
            self.root.display()
        );
    }

    /// The copy's path `relative` (to the workspace root).
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn manifest(&self) -> PathBuf {
        self.path("Cargo.toml")
    }

    pub fn dockerfile_path(&self) -> PathBuf {
        self.path("Dockerfile")
    }

    pub fn dockerignore_path(&self) -> PathBuf {
        self.path(".dockerignore")
    }

    /// The generated Dockerfile; panics when there is none.
    pub fn dockerfile(&self) -> String {
        std::fs::read_to_string(self.dockerfile_path()).expect("read the generated Dockerfile")
    }

    /// The copy's file `relative`.
    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|e| panic!("read {relative} in the copy of `{}`: {e}", self.name))
    }

    /// Writes the copy's file `relative`.
    pub fn write(&self, relative: &str, text: &str) {
        std::fs::write(self.path(relative), text)
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

    /// Replaces the copy's absolute path with `[ROOT]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.replace(&self.root.display().to_string(), "[ROOT]");
        if let Ok(canonical) = self.root.canonicalize() {
            out = out.replace(&canonical.display().to_string(), "[ROOT]");
        }
        out
    }

    /// `cargo-dockerize dockerize <args> --manifest-path <copy>/Cargo.toml`, run from outside the copy (a
    /// fixture's toolchain pin must not change which toolchain rustup picks for the tool's `cargo metadata`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = binary();
        command
            .args(args)
            .arg("--manifest-path")
            .arg(self.manifest())
            .current_dir(&self.outside);
        command
    }

    /// Runs [`Fixture::command`] to its end (at most [`super::process::RUN_LIMIT`]).
    pub fn run(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }

    /// `<command> <args>`, which must succeed.
    fn run_ok(&self, command: &[&str], args: &[&str]) -> Run {
        let mut full = command.to_vec();
        full.extend_from_slice(args);
        let run = self.run(&full);
        run.assert_success(&full.join(" "));
        run
    }

    /// `generate <args>`, which must succeed; returns the Dockerfile.
    pub fn generate(&self, args: &[&str]) -> String {
        self.run_ok(&["generate"], args);
        self.dockerfile()
    }

    /// `list --format json <args>`, which must succeed: the text (with the root redacted) and the value.
    pub fn list_json(&self, args: &[&str]) -> (String, serde_json::Value) {
        let run = self.run_ok(&["list", "--format", "json"], args);
        let value: serde_json::Value =
            serde_json::from_str(&run.stdout).expect("`list --format json` prints JSON");
        (self.redact(&run.stdout), value)
    }

    /// `build <args> --message-format json`, which must succeed and build every image: the JSON events.
    pub fn build_json(&self, args: &[&str]) -> BuildJson {
        let mut full = vec!["build"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--message-format", "json"]);
        let what = full.join(" ");
        let run = self.run(&full);
        run.assert_success(&what);
        let build = BuildJson::parse(&run, &what);
        for image in build.summary["images"].as_array().expect("summary.images") {
            assert_eq!(image["status"], "built", "`{what}`: {image}");
        }
        build
    }
}
