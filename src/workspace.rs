//! The workspace as `cargo metadata` describes it.
//!
//! Takes a manifest path (or the current directory), runs `cargo metadata` once and gives a [`Workspace`]:
//! its members, every binary target, the native libraries each member's dependency closure links, and
//! the Rust toolchain to build with. Everything read here is sorted, so that the same workspace always
//! gives the same Dockerfile. This is the only step that runs Cargo; nothing after it reads the file system
//! of the workspace again until the files are written.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{
    DependencyKind, Metadata, MetadataCommand, Package as CargoPackage, TargetKind,
};
use serde::Serialize;

use crate::native::{self, NativeLink};

/// The workspace, read once.
#[derive(Debug, Clone, Serialize)]
pub struct Workspace {
    /// Absolute path of the workspace root (the directory of the root `Cargo.toml`).
    pub root: Utf8PathBuf,
    /// Cargo's target directory (absolute).
    pub target_dir: Utf8PathBuf,
    /// Members, sorted by package name.
    pub members: Vec<Package>,
    /// Names of the default members, as Cargo resolves them (`default-members`, the root package, or all).
    pub default_members: BTreeSet<String>,
    /// The member whose manifest was named or found from the current directory, when it is not the root.
    pub current_package: Option<String>,
    /// Whether `Cargo.lock` exists at the root (then builds run with `--locked`).
    pub has_lockfile: bool,
    /// The toolchain the builder image must carry.
    pub toolchain: Toolchain,
    /// `[workspace.metadata.dockerize]` as Cargo read it (`null` when absent).
    pub config: serde_json::Value,
    /// `rust-toolchain(.toml)` file names present at the root, which the builder must neutralise.
    pub toolchain_files: Vec<String>,
    /// Path packages that are not members (`path` dependencies, `[patch]` with local paths), sorted by directory.
    pub path_packages: Vec<PathPackage>,
    /// Profiles the root manifest defines (`[profile.<name>]`), sorted; the built-in ones are not listed.
    pub profiles: Vec<String>,
    /// Tools `.cargo/config.toml` asks the builder for (a `clang` linker, `lld`, `mold`, git on the command line).
    pub cargo_config_tools: Vec<native::BuildTool>,
}

/// A local package the build needs that is not a member: its sources go into the dependency recipe as they are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PathPackage {
    /// Absolute directory of its manifest.
    pub dir: Utf8PathBuf,
    pub name: String,
}

/// One workspace member.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub license: Option<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    /// Directory of the member's manifest, relative to the workspace root (`.` for the root package).
    pub dir: Utf8PathBuf,
    /// The `[features]` table.
    pub features: BTreeMap<String, Vec<String>>,
    /// Binary targets, sorted by name.
    pub binaries: Vec<Binary>,
    /// Native crates of its normal-dependency closure (for the Linux target), sorted by crate name.
    pub native: Vec<NativeLink>,
    /// Build tools its build scripts need (`protoc`, `clang`, `cmake`), from its whole dependency closure.
    pub build_tools: Vec<native::BuildTool>,
    /// Whether a build script of its closure compiles C code (`cc` or `cmake` crates): a musl target then
    /// needs `musl-gcc` in the builder.
    pub compiles_c: bool,
    /// `[package.metadata.dockerize]` as Cargo read it (`null` when absent).
    pub config: serde_json::Value,
}

/// One `bin` target.
#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    pub name: String,
    /// Source file, relative to the workspace root.
    pub src_path: Utf8PathBuf,
    pub required_features: Vec<String>,
}

/// The Rust toolchain of the builder, and where that choice came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Toolchain {
    /// What goes into the `rust:<version>-slim-bookworm` tag: `1.95`, `1.95.0` or `1`.
    pub image_version: String,
    /// A channel the builder installs with rustup on top of that image (nightly or dated channels).
    pub install_channel: Option<String>,
    pub source: ToolchainSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum ToolchainSource {
    /// `rust-toolchain.toml` or `rust-toolchain` at the workspace root.
    ToolchainFile(String),
    /// The highest `rust-version` among the members.
    RustVersion(String),
    /// The `rustc` found on this machine.
    LocalRustc,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("could not find `Cargo.toml` in `{dir}` or any parent directory")]
    ManifestNotFound { dir: Utf8PathBuf },
    #[error("the manifest path `{path}` does not exist")]
    ManifestPathMissing { path: Utf8PathBuf },
    #[error("the manifest path `{path}` must point to a `Cargo.toml` file")]
    ManifestPathNotCargoToml { path: Utf8PathBuf },
    #[error("the current directory is not valid UTF-8")]
    CurrentDirNotUtf8,
    #[error("failed to read the current directory")]
    CurrentDir(#[source] std::io::Error),
    /// Cargo's own message is indented under ours, so that the one `error:` at the start of a line is ours.
    #[error("`cargo metadata` failed for `{manifest}`:\n{}", indent(.stderr))]
    MetadataFailed {
        manifest: Utf8PathBuf,
        stderr: String,
    },
    #[error("failed to run `cargo metadata` for `{manifest}`")]
    MetadataSpawn {
        manifest: Utf8PathBuf,
        #[source]
        source: cargo_metadata::Error,
    },
    #[error("failed to read the toolchain file `{path}`")]
    ToolchainRead {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to parse the toolchain file `{path}`: {message}")]
    ToolchainParse { path: Utf8PathBuf, message: String },
    #[error("failed to run `rustc --version` to pick the builder's Rust version")]
    RustcVersion(#[source] std::io::Error),
}

/// `text` with every non-empty line indented by two spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("  {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl WorkspaceError {
    /// A line telling the user how to fix it, where there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::ManifestNotFound { .. } => Some(
                "run `cargo dockerize` inside a Cargo workspace, or pass `--manifest-path <path/to/Cargo.toml>`"
                    .into(),
            ),
            Self::ManifestPathMissing { .. } | Self::ManifestPathNotCargoToml { .. } => {
                Some("pass the path of a workspace's or a package's `Cargo.toml`".into())
            }
            Self::ToolchainParse { .. } => Some(
                "the file must hold a channel name, or a TOML table `[toolchain]` with `channel = \"...\"`".into(),
            ),
                        Self::MetadataFailed { stderr, .. }
                if stderr.contains("toolchain") && stderr.contains("is not installed") =>
            {
                Some(
                    "the workspace pins a Rust toolchain this machine lacks: install it with `rustup toolchain install`, or run with `RUSTUP_TOOLCHAIN=<an installed toolchain>` (the image's toolchain still follows the pin)"
                        .into(),
                )
            }
            Self::RustcVersion(_) => Some(
                "install Rust, or pin the version with a `rust-toolchain.toml` or `rust-version` in `Cargo.toml`"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// The inputs of [`load`]: what the user pointed at and the feature flags the resolve must use.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub manifest_path: Option<Utf8PathBuf>,
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    /// Target triple whose dependency graph decides the native libraries (`--filter-platform`).
    pub target_triple: String,
}

/// Finds the manifest, runs `cargo metadata` and reads the toolchain files: the I/O edge of this step.
pub fn load(options: &LoadOptions) -> Result<Workspace, WorkspaceError> {
    let manifest = locate_manifest(options.manifest_path.as_deref())?;
    // Asked while `cargo metadata` runs, so the fallback toolchain costs no wall time when it is not needed.
    let rustc = spawn_rustc_version(manifest.parent().unwrap_or(&manifest));
    let metadata = run_metadata(&manifest, options)?;
    let toolchain_files = present_toolchain_files(&metadata.workspace_root);
    let toolchain = read_toolchain(&metadata, &toolchain_files, rustc)?;
    let has_lockfile = metadata.workspace_root.join("Cargo.lock").is_file();
    let mut workspace = from_metadata(
        &metadata,
        &manifest,
        toolchain,
        toolchain_files,
        has_lockfile,
    );
    workspace.cargo_config_tools = read_cargo_config(&metadata.workspace_root);
    read_root_manifest(&mut workspace);
    Ok(workspace)
}

/// Reads what `cargo metadata` does not give from the root manifest: custom profiles, and
/// `[patch.<source>]` entries with a local `path`: Cargo loads every one of them, even those the resolve leaves
/// out (behind a feature that is off), so the recipe needs them all. `cargo metadata` lists only resolved ones.
fn read_root_manifest(workspace: &mut Workspace) {
    let Ok(text) = std::fs::read_to_string(workspace.root.join("Cargo.toml")) else {
        return;
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return;
    };
    let mut profiles: Vec<String> = manifest
        .get("profile")
        .and_then(|p| p.as_table())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    profiles.sort();
    workspace.profiles = profiles;
    let member_dirs: Vec<Utf8PathBuf> = workspace
        .members
        .iter()
        .map(|m| workspace.root.join(&m.dir))
        .collect();
    let patches = manifest
        .get("patch")
        .and_then(|p| p.as_table())
        .into_iter()
        .flat_map(|p| p.values());
    for (name, entry) in patches.filter_map(|t| t.as_table()).flat_map(|t| t.iter()) {
        let Some(path) = entry.get("path").and_then(|p| p.as_str()) else {
            continue;
        };
        let dir = normalize(&workspace.root.join(path));
        let known =
            workspace.path_packages.iter().any(|p| p.dir == dir) || member_dirs.contains(&dir);
        if !known {
            workspace.path_packages.push(PathPackage {
                dir,
                name: entry
                    .get("package")
                    .and_then(|p| p.as_str())
                    .unwrap_or(name)
                    .to_string(),
            });
        }
    }
    workspace.path_packages.sort();
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    let mut out = Utf8PathBuf::new();
    for component in path.components() {
        match component {
            camino::Utf8Component::ParentDir => {
                out.pop();
            }
            camino::Utf8Component::CurDir => {}
            other => out.push(other.as_str()),
        }
    }
    out
}

/// The tools `.cargo/config.toml` (or `.cargo/config`) at the workspace root makes the builder need. A file we
/// cannot read or parse is left to Cargo, which reports it in the build with its own words.
fn read_cargo_config(root: &Utf8Path) -> Vec<native::BuildTool> {
    [".cargo/config.toml", ".cargo/config"]
        .iter()
        .filter_map(|name| std::fs::read_to_string(root.join(name)).ok())
        .flat_map(|text| native::cargo_config_tools(&text))
        .collect()
}

/// `--manifest-path` checked, or the nearest `Cargo.toml` upwards from the current directory, as Cargo does.
fn locate_manifest(explicit: Option<&Utf8Path>) -> Result<Utf8PathBuf, WorkspaceError> {
    let cwd = std::env::current_dir().map_err(WorkspaceError::CurrentDir)?;
    let cwd = Utf8PathBuf::from_path_buf(cwd).map_err(|_| WorkspaceError::CurrentDirNotUtf8)?;
    if let Some(path) = explicit {
        let path = cwd.join(path);
        if path.file_name() != Some("Cargo.toml") {
            return Err(WorkspaceError::ManifestPathNotCargoToml { path });
        }
        if !path.is_file() {
            return Err(WorkspaceError::ManifestPathMissing { path });
        }
        return Ok(path);
    }
    cwd.ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|candidate| candidate.is_file())
        .ok_or(WorkspaceError::ManifestNotFound { dir: cwd })
}

fn run_metadata(manifest: &Utf8Path, options: &LoadOptions) -> Result<Metadata, WorkspaceError> {
    let mut command = MetadataCommand::new();
    command.manifest_path(manifest);
    // Features change the resolve (optional native dependencies), so the graph must see the same ones.
    if options.all_features {
        command.features(cargo_metadata::CargoOpt::AllFeatures);
    }
    if options.no_default_features {
        command.features(cargo_metadata::CargoOpt::NoDefaultFeatures);
    }
    if !options.features.is_empty() {
        command.features(cargo_metadata::CargoOpt::SomeFeatures(
            options.features.clone(),
        ));
    }
    command.other_options(vec![
        "--filter-platform".to_string(),
        options.target_triple.clone(),
    ]);
    command.exec().map_err(|source| match source {
        cargo_metadata::Error::CargoMetadata { stderr } => WorkspaceError::MetadataFailed {
            manifest: manifest.to_owned(),
            stderr: stderr.trim_end().to_string(),
        },
        source => WorkspaceError::MetadataSpawn {
            manifest: manifest.to_owned(),
            source,
        },
    })
}

const TOOLCHAIN_FILES: [&str; 2] = ["rust-toolchain.toml", "rust-toolchain"];

fn present_toolchain_files(root: &Utf8Path) -> Vec<String> {
    TOOLCHAIN_FILES
        .iter()
        .filter(|name| root.join(name).is_file())
        .map(|name| name.to_string())
        .collect()
}

fn spawn_rustc_version(dir: &Utf8Path) -> std::io::Result<std::process::Child> {
    std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .current_dir(dir)
        // Never let this guess install a pinned toolchain: when a pin exists, its answer is not used.
        .env("RUSTUP_AUTO_INSTALL", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
}

/// The toolchain file wins (rustup's own precedence), then the members' `rust-version`, then local rustc.
fn read_toolchain(
    metadata: &Metadata,
    files: &[String],
    rustc: std::io::Result<std::process::Child>,
) -> Result<Toolchain, WorkspaceError> {
    // The speculative `rustc --version` is reaped on every path that does not need it.
    let reap = |child: std::io::Result<std::process::Child>| {
        if let Ok(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
    };
    if let Some(name) = files.first() {
        reap(rustc);
        let path = metadata.workspace_root.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|source| WorkspaceError::ToolchainRead {
                path: path.clone(),
                source,
            })?;
        let channel = parse_toolchain_file(&text)
            .map_err(|message| WorkspaceError::ToolchainParse { path, message })?;
        return Ok(toolchain_for_channel(
            &channel,
            ToolchainSource::ToolchainFile(name.clone()),
        ));
    }
    let highest = metadata
        .workspace_members
        .iter()
        .filter_map(|id| metadata.packages.iter().find(|p| &p.id == id))
        .filter_map(|p| {
            p.rust_version
                .as_ref()
                .map(|v| (v.clone(), p.name.to_string()))
        })
        .max();
    if let Some((version, package)) = highest {
        reap(rustc);
        return Ok(Toolchain {
            image_version: format!("{}.{}", version.major, version.minor),
            install_channel: None,
            source: ToolchainSource::RustVersion(package),
        });
    }
    let output = rustc
        .and_then(std::process::Child::wait_with_output)
        .map_err(WorkspaceError::RustcVersion)?;
    let text = String::from_utf8_lossy(&output.stdout);
    let full = text.split_whitespace().nth(1).unwrap_or_default();
    // A nightly or beta rustc names a release no `rust` image has yet: build with the latest stable, `rust:1`.
    if full.contains("-nightly") || full.contains("-beta") {
        return Ok(Toolchain {
            image_version: "1".to_string(),
            install_channel: None,
            source: ToolchainSource::LocalRustc,
        });
    }
    let version = Some(full)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.split('-').next())
        .and_then(|v| {
            let mut parts = v.split('.');
            Some(format!("{}.{}", parts.next()?, parts.next()?))
        })
        .ok_or_else(|| {
            WorkspaceError::RustcVersion(std::io::Error::other(format!(
                "unexpected output: {}",
                text.trim()
            )))
        })?;
    Ok(Toolchain {
        image_version: version,
        install_channel: None,
        source: ToolchainSource::LocalRustc,
    })
}

/// The channel of a `rust-toolchain` file: the legacy one-line form or the TOML `[toolchain]` table.
pub fn parse_toolchain_file(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if !trimmed.contains('=')
        && !trimmed.contains('[')
        && !trimmed.is_empty()
        && !trimmed.contains('\n')
    {
        return Ok(trimmed.to_string());
    }
    let value: toml::Value = toml::from_str(text).map_err(|e| e.message().to_string())?;
    value
        .get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(|c| c.as_str())
        .map(str::to_string)
        .ok_or_else(|| "no `toolchain.channel` key".to_string())
}

/// Maps a rustup channel to an official `rust` image tag, installing the channel where no tag has it.
pub fn toolchain_for_channel(channel: &str, source: ToolchainSource) -> Toolchain {
    let is_version = |s: &str| {
        let parts: Vec<_> = s.split('.').collect();
        (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    // A host suffix (`1.95-x86_64-unknown-linux-gnu`) names the same release.
    let base = channel.split('-').next().unwrap_or(channel);
    if is_version(base) && !channel.contains("nightly") && !channel.contains("beta") {
        return Toolchain {
            image_version: base.to_string(),
            install_channel: None,
            source,
        };
    }
    if base == "stable" && !channel.contains('-') {
        return Toolchain {
            image_version: "1".to_string(),
            install_channel: None,
            source,
        };
    }
    // nightly, beta, dated channels (`nightly-2026-01-01`, `stable-2025-06-01`): the image's rustup installs it.
    Toolchain {
        image_version: "1".to_string(),
        install_channel: Some(channel.to_string()),
        source,
    }
}

/// Builds the [`Workspace`] from `cargo metadata`'s answer: pure, so tests can feed it recorded JSON.
pub fn from_metadata(
    metadata: &Metadata,
    manifest: &Utf8Path,
    toolchain: Toolchain,
    toolchain_files: Vec<String>,
    has_lockfile: bool,
) -> Workspace {
    let root = metadata.workspace_root.clone();
    let by_id: HashMap<_, _> = metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let member_packages: Vec<&CargoPackage> = metadata
        .workspace_members
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    let graph = Graph::new(metadata);
    let mut members: Vec<Package> = member_packages
        .iter()
        .map(|p| member(p, &root, &graph))
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));

    let default_members = if metadata.workspace_default_members.is_available() {
        metadata
            .workspace_default_members
            .iter()
            .filter_map(|id| by_id.get(id).map(|p| p.name.to_string()))
            .collect()
    } else {
        members.iter().map(|m| m.name.clone()).collect()
    };
    let root_manifest = root.join("Cargo.toml");
    let current_package = if manifest == root_manifest {
        None
    } else {
        member_packages
            .iter()
            .find(|p| p.manifest_path == manifest)
            .map(|p| p.name.to_string())
    };
    let member_ids: BTreeSet<_> = metadata.workspace_members.iter().collect();
    let mut path_packages: Vec<PathPackage> = metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none() && !member_ids.contains(&p.id))
        .filter_map(|p| {
            Some(PathPackage {
                dir: p.manifest_path.parent()?.to_owned(),
                name: p.name.to_string(),
            })
        })
        .collect();
    path_packages.sort();
    path_packages.dedup_by(|a, b| a.dir == b.dir);
    Workspace {
        path_packages,
        profiles: Vec::new(),
        cargo_config_tools: Vec::new(),
        config: metadata
            .workspace_metadata
            .get("dockerize")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        target_dir: metadata.target_directory.clone(),
        root,
        members,
        default_members,
        current_package,
        has_lockfile,
        toolchain,
        toolchain_files,
    }
}

fn member(package: &CargoPackage, root: &Utf8Path, graph: &Graph<'_>) -> Package {
    let (build_tools, compiles_c) = build_tools(package, graph);
    let dir = package
        .manifest_path
        .parent()
        .and_then(|d| d.strip_prefix(root).ok())
        .map(|d| {
            if d.as_str().is_empty() {
                Utf8PathBuf::from(".")
            } else {
                d.to_owned()
            }
        })
        .unwrap_or_else(|| Utf8PathBuf::from("."));
    let mut binaries: Vec<Binary> = package
        .targets
        .iter()
        .filter(|t| t.kind.contains(&TargetKind::Bin))
        .map(|t| Binary {
            name: t.name.clone(),
            src_path: t
                .src_path
                .strip_prefix(root)
                .map(Utf8Path::to_owned)
                .unwrap_or_else(|_| t.src_path.clone()),
            required_features: t.required_features.clone(),
        })
        .collect();
    binaries.sort_by(|a, b| a.name.cmp(&b.name));
    Package {
        name: package.name.to_string(),
        version: package.version.to_string(),
        description: package.description.as_ref().map(|d| d.trim().to_string()),
        license: package.license.clone(),
        repository: package.repository.clone(),
        homepage: package.homepage.clone(),
        dir,
        features: package.features.clone(),
        binaries,
        native: native_closure(package, graph),
        build_tools,
        compiles_c,
        config: package
            .metadata
            .get("dockerize")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
    }
}

/// The resolved dependency graph, indexed once for every member's closures.
struct Graph<'a> {
    nodes: HashMap<&'a cargo_metadata::PackageId, &'a cargo_metadata::Node>,
    packages: HashMap<&'a cargo_metadata::PackageId, &'a CargoPackage>,
}

impl<'a> Graph<'a> {
    fn new(metadata: &'a Metadata) -> Self {
        Self {
            nodes: metadata
                .resolve
                .iter()
                .flat_map(|r| r.nodes.iter())
                .map(|n| (&n.id, n))
                .collect(),
            packages: metadata.packages.iter().map(|p| (&p.id, p)).collect(),
        }
    }

    /// Every package reachable from `root` through dependencies of the kinds `follow` accepts, `root` included.
    fn closure(
        &self,
        root: &'a cargo_metadata::PackageId,
        follow: impl Fn(DependencyKind) -> bool,
    ) -> BTreeSet<&'a cargo_metadata::PackageId> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(node) = self.nodes.get(id) {
                for dep in &node.deps {
                    if dep.dep_kinds.iter().any(|k| follow(k.kind)) {
                        stack.push(&dep.pkg);
                    }
                }
            }
        }
        seen
    }

    fn names(&self, ids: &BTreeSet<&'a cargo_metadata::PackageId>) -> Vec<&'a str> {
        ids.iter()
            .filter_map(|id| self.packages.get(id).map(|p| p.name.as_str()))
            .collect()
    }
}

/// The native crates reachable from `package` through normal (not build or dev) dependencies: those are
/// the ones linked into its binaries. Build dependencies run on the builder only.
fn native_closure(package: &CargoPackage, graph: &Graph<'_>) -> Vec<NativeLink> {
    let seen = graph.closure(&package.id, |kind| kind == DependencyKind::Normal);
    let names = graph.names(&seen);
    let mut links: Vec<NativeLink> = seen
        .iter()
        .filter(|id| **id != &package.id)
        .filter_map(|id| {
            let p = graph.packages.get(id)?;
            let features: Vec<String> = graph
                .nodes
                .get(id)
                .map(|n| n.features.iter().map(|f| f.to_string()).collect())
                .unwrap_or_default();
            native::classify(p.name.as_str(), p.links.as_deref(), &features, &names)
        })
        .collect();
    links.sort();
    links.dedup();
    links
}

/// Tools the build scripts of `package`'s whole closure (normal and build dependencies) run on the builder.
fn build_tools(package: &CargoPackage, graph: &Graph<'_>) -> (Vec<native::BuildTool>, bool) {
    let seen = graph.closure(&package.id, |kind| kind != DependencyKind::Development);
    let names = graph.names(&seen);
    let compiles_c = names.iter().any(|n| matches!(*n, "cc" | "cmake"));
    (native::build_tools(&names), compiles_c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_file_forms() {
        assert_eq!(parse_toolchain_file("1.95\n").unwrap(), "1.95");
        assert_eq!(
            parse_toolchain_file("[toolchain]\nchannel = \"1.95.0\"\ncomponents = [\"clippy\"]\n")
                .unwrap(),
            "1.95.0"
        );
        assert!(parse_toolchain_file("[toolchain]\nprofile = \"minimal\"\n").is_err());
    }

    #[test]
    fn channels_map_to_image_tags() {
        let source = ToolchainSource::LocalRustc;
        let t = toolchain_for_channel("1.95", source.clone());
        assert_eq!(
            (t.image_version.as_str(), t.install_channel),
            ("1.95", None)
        );
        let t = toolchain_for_channel("1.95.0", source.clone());
        assert_eq!(t.image_version, "1.95.0");
        let t = toolchain_for_channel("stable", source.clone());
        assert_eq!((t.image_version.as_str(), t.install_channel), ("1", None));
        let t = toolchain_for_channel("nightly-2026-01-01", source);
        assert_eq!(t.install_channel.as_deref(), Some("nightly-2026-01-01"));
    }
}
