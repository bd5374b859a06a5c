//! The bench workspace: copied out of the repository (as a checkout would have it), then described from
//! `cargo dockerize list --format json` (its documented form) and `cargo metadata`: its binaries, the source files
//! and manifests the edits touch, and the crates of its lock a "dependency added" edit can take.

use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::{Metadata, MetadataCommand, Package};
use serde::Deserialize;

use crate::edits;

/// What the benchmark needs to know about the fixture.
pub struct Fixture {
    /// The fixture directory's name, for the report.
    pub name: String,
    pub rust_version: String,
    pub triple: String,
    /// Every binary, sorted; the first is "one image".
    pub bins: Vec<Bin>,
    /// The shared library the first binary depends on, relative to the workspace root.
    pub lib_source: Option<PathBuf>,
    /// Every manifest of the workspace, relative to its root.
    pub manifests: Vec<PathBuf>,
    /// Registry packages of Cargo.lock that the first binary's package does not depend on directly.
    pub spare_dependencies: Vec<(String, String)>,
    pub locked_packages: usize,
}

pub struct Bin {
    pub name: String,
    /// Its package's manifest, relative to the workspace root.
    pub manifest: PathBuf,
    /// Its `main`, relative to the workspace root.
    pub source: PathBuf,
}

impl Fixture {
    pub fn one(&self) -> &Bin {
        &self.bins[0]
    }
}

/// `cargo dockerize list --format json`, the fields the benchmark reads (README.md documents the whole form).
#[derive(Deserialize)]
struct Listing {
    rust_version: String,
    binaries: Vec<ListedBinary>,
}

#[derive(Deserialize)]
struct ListedBinary {
    name: String,
    package: String,
    /// The target triple.
    target: String,
}

/// Small leaf crates first: adding one is the common case, and its build is short.
const SPARE_DEPENDENCIES: [&str; 10] = [
    "itoa",
    "ryu",
    "memchr",
    "fnv",
    "cfg-if",
    "once_cell",
    "pin-project-lite",
    "bytes",
    "smallvec",
    "percent-encoding",
];

/// Copies `from` into `to` and describes the copy; `tool` is the `cargo-dockerize` binary.
pub fn load(from: &Path, to: &Path, tool: &str) -> Result<Fixture, String> {
    copy_tree(from, to)?;
    let listing = list(to, tool)?;
    let metadata = MetadataCommand::new()
        .current_dir(to)
        .no_deps()
        .other_options(vec!["--offline".to_string()])
        .exec()
        .map_err(|e| format!("`cargo metadata` failed in {}: {e}", to.display()))?;
    let workspace = Workspace {
        root: to,
        metadata: &metadata,
    };
    let bins = workspace.bins(&listing)?;
    let first = workspace.package(&listing.package_of(&bins[0].name));
    let lock = edits::read(&to.join("Cargo.lock"))?;
    Ok(Fixture {
        name: from
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        rust_version: listing.rust_version.clone(),
        triple: listing
            .binaries
            .last()
            .map(|b| b.target.clone())
            .unwrap_or_default(),
        lib_source: first.and_then(|p| workspace.lib_source(p)),
        manifests: workspace.manifests(),
        spare_dependencies: spare_dependencies(first, &lock),
        locked_packages: lock.matches("[[package]]").count(),
        bins,
    })
}

impl Listing {
    fn package_of(&self, bin: &str) -> String {
        self.binaries
            .iter()
            .find(|b| b.name == bin)
            .map(|b| b.package.clone())
            .unwrap_or_default()
    }
}

fn list(root: &Path, tool: &str) -> Result<Listing, String> {
    let mut command = Command::new(tool);
    command
        .args(["dockerize", "list", "--format", "json"])
        .args(["--libc", "gnu", "--static"])
        .current_dir(root);
    let what = "`cargo dockerize list --format json --libc gnu --static`";
    let stdout = crate::stdout_of(&mut command, what)?;
    serde_json::from_str(&stdout).map_err(|e| format!("{what} printed no listing: {e}"))
}

/// `cargo metadata` of the copy, with paths made relative to it.
struct Workspace<'a> {
    root: &'a Path,
    metadata: &'a Metadata,
}

impl Workspace<'_> {
    fn relative(&self, path: &Path) -> PathBuf {
        path.strip_prefix(self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    }

    fn package(&self, name: &str) -> Option<&Package> {
        self.metadata
            .packages
            .iter()
            .find(|p| p.name.as_str() == name)
    }

    /// Every listed binary with its manifest and source file, sorted by name; at least one.
    fn bins(&self, listing: &Listing) -> Result<Vec<Bin>, String> {
        let mut bins = Vec::new();
        for binary in &listing.binaries {
            let name = &binary.name;
            let package = self
                .package(&binary.package)
                .ok_or_else(|| format!("`{name}`'s package is not in cargo metadata"))?;
            let source = package
                .targets
                .iter()
                .find(|t| t.name == *name && t.is_bin())
                .map(|t| self.relative(t.src_path.as_std_path()))
                .ok_or_else(|| format!("no source file for binary `{name}`"))?;
            bins.push(Bin {
                name: name.clone(),
                manifest: self.relative(package.manifest_path.as_std_path()),
                source,
            });
        }
        bins.sort_by(|a, b| a.name.cmp(&b.name));
        if bins.is_empty() {
            return Err("the fixture has no binary to build".into());
        }
        Ok(bins)
    }

    /// The shared library: a path dependency of `package` that is a member with a lib target.
    fn lib_source(&self, package: &Package) -> Option<PathBuf> {
        package
            .dependencies
            .iter()
            .filter(|d| d.path.is_some())
            .find_map(|d| {
                let lib = self.package(&d.name)?.targets.iter().find(|t| t.is_lib())?;
                Some(self.relative(lib.src_path.as_std_path()))
            })
    }

    /// The root manifest first, then every member's.
    fn manifests(&self) -> Vec<PathBuf> {
        let mut manifests = vec![PathBuf::from("Cargo.toml")];
        manifests.extend(
            self.metadata
                .packages
                .iter()
                .map(|p| self.relative(p.manifest_path.as_std_path()))
                .filter(|p| p != Path::new("Cargo.toml")),
        );
        manifests
    }
}

/// Registry crates of the lock, from [`SPARE_DEPENDENCIES`], that `package` does not depend on yet.
fn spare_dependencies(package: Option<&Package>, lock: &str) -> Vec<(String, String)> {
    let direct: Vec<&str> = package
        .into_iter()
        .flat_map(|p| &p.dependencies)
        .map(|d| d.name.as_str())
        .collect();
    let locked = edits::locked_registry_packages(lock);
    SPARE_DEPENDENCIES
        .iter()
        .filter(|name| !direct.contains(name))
        .filter_map(|name| locked.iter().find(|(n, _)| n == name).cloned())
        .collect()
}

/// Copies a fixture, leaving out what a checkout would not have (build output, our generated files). The tests
/// have the same walk (`tests/common/tree.rs`, panicking); a bench target cannot use the tests' modules.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let io = |e: std::io::Error, p: &Path| format!("failed to copy {}: {e}", p.display());
    std::fs::create_dir_all(to).map_err(|e| io(e, to))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(e, from))? {
        let entry = entry.map_err(|e| io(e, from))?;
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("target" | "Dockerfile" | ".dockerignore")
        ) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io(e, &path))?;
        if kind.is_dir() {
            copy_tree(&path, &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(&path, to.join(&name)).map_err(|e| io(e, &path))?;
        }
    }
    Ok(())
}
