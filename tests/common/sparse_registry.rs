//! An authenticated sparse Cargo registry on loopback: `sparse_registry.py` (Python's standard library), serving
//! the crates a test packages with `cargo package`, and answering 401 to a request without the token and 403 to
//! one with another.
//!
//! Publishing is `cargo package` (Cargo's own `.crate`, the bytes a `cargo publish` uploads) and an index line the
//! server writes from the crate's manifest and the `.crate`'s sha256, the `cksum` Cargo checks every download
//! against: the smallest honest way, since a publish endpoint would only turn the same upload into the same line,
//! and the crates served have no dependencies to describe.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::run;

/// The server, killed when dropped.
pub struct SparseRegistry {
    child: Child,
    pub port: u16,
    /// One line per request: method, path, status (never a header's value).
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

/// A crate with no dependencies, `name` 0.1.0, whose `lib.rs` is `lib`, packaged by `cargo package`: the
/// `.crate` file.
pub fn package(dir: &Path, name: &str, lib: &str) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
             description = \"a test crate\"\nlicense = \"MIT\"\n\n[workspace]\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join("src/lib.rs"), lib).unwrap();
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args([
            "package",
            "--no-verify",
            "--allow-dirty",
            "--offline",
            "--quiet",
        ])
        .current_dir(&root);
    run(&mut cargo).assert_success("cargo package");
    let crate_file = root.join(format!("target/package/{name}-0.1.0.crate"));
    assert!(
        crate_file.is_file(),
        "cargo package made no {}",
        crate_file.display()
    );
    crate_file
}

impl SparseRegistry {
    /// Serves `crates` (`.crate` files) to requests that carry `token`.
    pub fn start(token: &str, crates: &[PathBuf]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("requests.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/common/sparse_registry.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg("--token")
            .arg(token)
            .arg("--log")
            .arg(&log)
            .args(crates)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/common/sparse_registry.py");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the registry printed no port: {first:?}"));
        Self {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    /// The index as `[registries.<name>] index` names it.
    pub fn index(&self) -> String {
        format!("sparse+http://127.0.0.1:{}/index/", self.port)
    }

    /// The requests so far, one line each.
    pub fn requests(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SparseRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
