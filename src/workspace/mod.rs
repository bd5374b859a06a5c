//! The workspace as `cargo metadata` describes it.
//!
//! Takes a manifest path (or the current directory) and reads the workspace in two steps. [`load`] runs `cargo
//! metadata` once (unfiltered: every platform's dependencies) and reads the workspace's files: its members, every
//! binary target, the `dockerize` tables, the toolchain its files pin. The configuration decides from that which
//! target triples the images may be built for; [`Loaded::read_targets`] then gives, for each of them, the native
//! libraries and C/C++ compiles of each member's dependency closure (what the binaries link, what build scripts
//! and tests link), running `cargo tree` once per triple where a native crate or build tool is at stake (see
//! [`activated`]). Everything read here is sorted, so that the same workspace always gives the same Dockerfile.
//! This is the only step that runs Cargo and reads the workspace's files (manifests, toolchain files,
//! `.cargo/config.toml`); nothing after it reads them again until the files are written. Cargo runs as [`cargo`]
//! says: with `--locked`, so no command changes `Cargo.lock`, and a missing or stale lock is one error.
//!
//! [`load`] is the edge; [`graph`] turns `cargo metadata`'s answer into the [`Workspace`] (pure), [`toolchain`]
//! picks the Rust toolchain, [`native`] knows which crates link native libraries (each target triple's `cfg(...)`
//! values come from [`crate::platform::Triple`]), and [`activated`] says what a build for a triple really
//! compiles where the unified resolve says more. [`crates`] lists, on demand after planning, the crates one
//! `cargo build` compiles for each of its packages (what an SBOM and the binary's dependency section hold).

mod activated;
mod cargo;
mod cargo_config;
mod crates;
pub mod git;
mod graph;
mod native;
mod rustflags;
pub mod stubs;
// Built outside unit tests too: the property tests (`tests/props.rs`) and the fuzz target (`fuzz/`) build
// their workspaces with it. Nothing of the tool calls it, so the binary links none of it.
#[doc(hidden)]
pub mod testing;
mod toolchain;

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{Metadata, MetadataCommand};
use serde::Serialize;

pub use activated::{parse_tree, Activated};
pub use cargo_config::{CargoConfig, ConfigFile, TargetKeys};
pub use crates::{
    parse as parse_crates, resolve as resolve_crates, Crate, CrateQuery, CrateSet, CrateSource,
    Dependency, DependencyKind,
};
pub use graph::{from_metadata, member_targets, Reading};
pub use native::{classify, DISTROLESS_CC_LIBRARIES};
pub use rustflags::{Flag, FlagLevel, TargetFlags};
pub use toolchain::{parse_toolchain_file, toolchain_for_channel, Toolchain};

use toolchain::{present_toolchain_files, read_toolchain};

use crate::model::{BuildTool, NativeLink};

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
    /// Whether `Cargo.lock` exists at the root (then builds run with `--locked`). [`load`] refuses a workspace
    /// without one, so it is `false` only in a workspace built in-process.
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
    pub profiles: BTreeMap<String, ProfileKeys>,
    /// Tools `.cargo/config.toml` asks the builder for (a `clang` linker, `lld`, `mold`, git on the command line).
    pub cargo_config_tools: Vec<BuildTool>,
    /// `.cargo/config.toml` and `.cargo/config` at the workspace root, those that exist: the recipe carries them.
    pub cargo_config_files: Vec<String>,
    /// The git servers dependencies are fetched from over ssh, as `known_hosts` names them, sorted: the builder
    /// needs the user's ssh agent and these hosts' keys.
    pub git_ssh_hosts: Vec<String>,
    /// The registries the resolve's packages come from, as Cargo writes their sources (`registry+<url>`,
    /// `sparse+<url>`), crates.io included, sorted, each once: the plan decides which need a token.
    pub registry_sources: Vec<String>,
    /// Cargo's configuration as the builder's Cargo reads it: the files from the workspace root up to the build
    /// context's root (see [`cargo_config`]).
    pub cargo_config: CargoConfig,
}

/// What a `[profile.<name>]` table of the root manifest says about the binary's symbols: the keys that decide
/// whether the images hold a stripped executable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProfileKeys {
    /// `inherits = "release"`.
    pub inherits: Option<String>,
    /// `strip`, as written (`"symbols"`, `true`, `"none"`).
    pub strip: Option<String>,
    /// `debug`, as written (`true`, `1`, `"line-tables-only"`, `false`).
    pub debug: Option<String>,
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
    /// What its dependency closure needs, for each target triple the images may be built for (the platform's
    /// musl and glibc triples): target-specific dependencies count only where their `cfg(...)` holds.
    pub targets: BTreeMap<String, TargetDeps>,
    /// `[package.metadata.dockerize]` as Cargo read it (`null` when absent).
    pub config: serde_json::Value,
    /// `rust-version`: the oldest Rust release the package builds with (`1.96`), as written.
    pub rust_version: Option<String>,
    /// Target sources the planner stubs before reading the manifests (see [`stubs`]), relative to the
    /// workspace root, sorted.
    pub stubs: Vec<Utf8PathBuf>,
}

/// What a member's dependency closure needs when it is built for one target triple.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TargetDeps {
    /// Native crates of its normal-dependency closure, sorted by crate name.
    pub native: Vec<NativeLink>,
    /// Build tools its build scripts need (`protoc`, `clang`, `cmake`), from its whole dependency closure.
    pub build_tools: Vec<BuildTool>,
    /// Crates of the closure whose build scripts compile C (or C++) for the target, through the `cc`, `cmake` or
    /// `cxx-build` crates, sorted: a musl target then needs a musl C compiler in the builder.
    pub compiles_c: Vec<String>,
    /// Crates of the closure that compile C++ for the target, each with why we know: "`crate`: reason", sorted.
    pub compiles_cpp: Vec<String>,
    /// Native crates build scripts and proc macros of its closure link dynamically on the builder: their `-dev`
    /// packages go to the builder only. Sorted.
    pub build_native: Vec<NativeLink>,
    /// Native crates its tests link dynamically (dev-dependencies included): the `test` stage, which builds on
    /// the builder, needs their `-dev` packages. Sorted.
    pub test_native: Vec<NativeLink>,
}

impl Package {
    /// What its closure needs for `triple`; nothing when the workspace was not read for that triple.
    pub fn target(&self, triple: &str) -> &TargetDeps {
        static NONE: TargetDeps = TargetDeps {
            native: Vec::new(),
            build_tools: Vec::new(),
            compiles_c: Vec::new(),
            compiles_cpp: Vec::new(),
            build_native: Vec::new(),
            test_native: Vec::new(),
        };
        self.targets.get(triple).unwrap_or(&NONE)
    }
}

/// One `bin` target.
#[derive(Debug, Clone, Serialize)]
pub struct Binary {
    pub name: String,
    /// Source file, relative to the workspace root.
    pub src_path: Utf8PathBuf,
    pub required_features: Vec<String>,
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
    /// Cargo's own message is indented under ours, as for `cargo metadata`.
    #[error("`cargo tree` failed for `{manifest}`:\n{}", indent(.stderr))]
    TreeFailed {
        manifest: Utf8PathBuf,
        stderr: String,
    },
    #[error("failed to run `cargo tree` for `{manifest}`")]
    TreeSpawn {
        manifest: Utf8PathBuf,
        #[source]
        source: std::io::Error,
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
    #[error("failed to read the workspace of `{manifest}`: it has no `Cargo.lock`")]
    LockMissing { manifest: Utf8PathBuf },
    #[error("failed to read the workspace: `{lock}` does not match the manifests")]
    LockStale { lock: Utf8PathBuf },
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
            Self::TreeFailed { .. } => Some(
                "`cargo tree` tells what the build compiles (where the resolve shows native crates or build tools, and for an SBOM); `cargo build` would stop on what it reports".into(),
            ),
            Self::ToolchainParse { .. } => Some(
                "the file must hold a channel name, or a TOML table `[toolchain]` with `channel = \"...\"`".into(),
            ),
            Self::LockMissing { .. } => Some(
                "run `cargo generate-lockfile` in the workspace and commit `Cargo.lock`: cargo dockerize reads the workspace as it is locked and never writes the lock".into(),
            ),
            Self::LockStale { .. } => Some(
                "run `cargo update --workspace` (or any `cargo build`), review and commit `Cargo.lock`: cargo dockerize runs Cargo with `--locked` and never writes the lock".into(),
            ),
                        Self::MetadataFailed { stderr, .. }
                if stderr.contains("toolchain") && stderr.contains("is not installed") =>
            {
                Some(
                    "the workspace pins a Rust toolchain this machine lacks: install it with `rustup toolchain install`, or run with `RUSTUP_TOOLCHAIN=<an installed toolchain>` (the image's toolchain still follows the pin)"
                        .into(),
                )
            }
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
}

/// The workspace as `cargo metadata` and its files describe it, before anything is read per target triple: what
/// the configuration reads to decide the triples, which [`Loaded::read_targets`] then reads.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub workspace: Workspace,
    metadata: Metadata,
    manifest: Utf8PathBuf,
    options: LoadOptions,
    cpp_build_scripts: BTreeSet<cargo_metadata::PackageId>,
}

/// Finds the manifest, runs `cargo metadata` and reads the workspace's files (toolchain files, the root manifest,
/// `.cargo/config.toml`): the I/O edge of this step, before any target triple is known.
pub fn load(options: &LoadOptions) -> Result<Loaded, WorkspaceError> {
    let manifest = locate_manifest(options.manifest_path.as_deref())?;
    cargo::require_lock(&manifest)?;
    let metadata = run_metadata(&manifest, options)?;
    let toolchain_files = present_toolchain_files(&metadata.workspace_root);
    let toolchain = read_toolchain(&metadata.workspace_root, &toolchain_files)?;
    let has_lockfile = metadata.workspace_root.join("Cargo.lock").is_file();
    let reading = Reading {
        triples: Vec::new(),
        cpp_build_scripts: cpp_build_scripts(&metadata),
        declared_targets: stubs::declared(&metadata),
        activated: BTreeMap::new(),
    };
    let mut workspace = from_metadata(
        &metadata,
        &manifest,
        toolchain,
        toolchain_files,
        has_lockfile,
        &reading,
    );
    workspace.cargo_config_tools = read_cargo_config(&metadata.workspace_root);
    workspace.cargo_config_files = CARGO_CONFIG_FILES
        .iter()
        .filter(|name| metadata.workspace_root.join(name).is_file())
        .map(|name| name.to_string())
        .collect();
    workspace.git_ssh_hosts = git::ssh_hosts(
        metadata
            .packages
            .iter()
            .filter_map(|p| p.source.as_ref())
            .map(|s| s.repr.as_str()),
    );
    let mut registry_sources: Vec<String> = metadata
        .packages
        .iter()
        .filter_map(|p| p.source.as_ref())
        .map(|s| s.repr.clone())
        .filter(|s| s.starts_with("registry+") || s.starts_with("sparse+"))
        .collect();
    registry_sources.sort();
    registry_sources.dedup();
    workspace.registry_sources = registry_sources;
    read_root_manifest(&mut workspace);
    let context_root = workspace
        .context_root()
        .unwrap_or_else(|_| workspace.root.clone());
    workspace.cargo_config = cargo_config::read(&workspace.root, &context_root);
    Ok(Loaded {
        workspace,
        metadata,
        manifest,
        options: options.clone(),
        cpp_build_scripts: reading.cpp_build_scripts,
    })
}

impl Workspace {
    /// The build context's root: the workspace root, or the closest directory that also holds every path package
    /// outside it; `Err` names the package that would widen it to the file system's root.
    pub fn context_root(&self) -> Result<Utf8PathBuf, &PathPackage> {
        let mut root = self.root.clone();
        for package in &self.path_packages {
            while !package.dir.starts_with(&root) {
                match root.parent() {
                    Some(parent) if parent.parent().is_some() => root = parent.to_owned(),
                    _ => return Err(package),
                }
            }
        }
        Ok(root)
    }
}

impl Loaded {
    /// The workspace with, for each of `triples`, what each member's dependency closure needs there. Where the
    /// unified resolve shows something that decides the Dockerfile, Cargo's exact resolve of each triple: one
    /// `cargo tree` per triple, run side by side.
    pub fn read_targets(self, triples: &[String]) -> Result<Workspace, WorkspaceError> {
        let Self {
            mut workspace,
            metadata,
            manifest,
            options,
            cpp_build_scripts,
        } = self;
        let mut unique: Vec<String> = Vec::new();
        for triple in triples {
            if !unique.contains(triple) {
                unique.push(triple.clone());
            }
        }
        let activated = if activated::at_stake(&metadata) {
            activated::run(&manifest, &options, &unique)?
        } else {
            BTreeMap::new()
        };
        let reading = Reading {
            triples: unique,
            cpp_build_scripts,
            declared_targets: BTreeMap::new(),
            activated,
        };
        let mut targets = graph::member_targets(&metadata, &reading);
        for member in &mut workspace.members {
            member.targets = targets.remove(&member.name).unwrap_or_default();
        }
        Ok(workspace)
    }
}

/// Reads what `cargo metadata` does not give from the root manifest: profiles (custom ones, and the keys that
/// decide stripping), and
/// `[patch.<source>]` entries with a local `path`: Cargo loads every one of them, even those the resolve leaves
/// out (behind a feature that is off), so the recipe needs them all. `cargo metadata` lists only resolved ones.
fn read_root_manifest(workspace: &mut Workspace) {
    let Ok(text) = std::fs::read_to_string(workspace.root.join("Cargo.toml")) else {
        return;
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return;
    };
    workspace.profiles = manifest
        .get("profile")
        .and_then(|p| p.as_table())
        .into_iter()
        .flat_map(|p| p.iter())
        .map(|(name, table)| {
            let key = |k: &str| {
                table.get(k).map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let keys = ProfileKeys {
                inherits: key("inherits"),
                strip: key("strip"),
                debug: key("debug"),
            };
            (name.clone(), keys)
        })
        .collect();
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
        let dir = crate::paths::normalize(&workspace.root.join(path));
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

/// The local packages (members, path dependencies) whose build script asks the `cc` crate for C++: `.cpp(true)`
/// in the build script's main file. Only local ones are read: a registry crate's build script often asks for C++
/// on some targets only (mimalloc's, for MSVC), which a text scan cannot tell apart; known C++ crates are listed
/// in the graph reader instead. A file we cannot read is not C++.
fn cpp_build_scripts(metadata: &Metadata) -> BTreeSet<cargo_metadata::PackageId> {
    metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .filter(|p| {
            p.targets
                .iter()
                .filter(|t| t.kind.contains(&cargo_metadata::TargetKind::CustomBuild))
                .filter_map(|t| std::fs::read_to_string(&t.src_path).ok())
                .any(|text| text.replace(char::is_whitespace, "").contains(".cpp(true)"))
        })
        .map(|p| p.id.clone())
        .collect()
}

/// Cargo's configuration files in a workspace root, as Cargo reads them.
const CARGO_CONFIG_FILES: &[&str] = &[".cargo/config.toml", ".cargo/config"];

/// The tools `.cargo/config.toml` (or `.cargo/config`) at the workspace root makes the builder need. A file we
/// cannot read or parse is left to Cargo, which reports it in the build with its own words.
fn read_cargo_config(root: &Utf8Path) -> Vec<BuildTool> {
    CARGO_CONFIG_FILES
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
    command
        .manifest_path(manifest)
        .other_options(cargo::flags());
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
    // No `--filter-platform`: one unfiltered resolve holds every target's dependencies with their platform,
    // which the graph reader evaluates for each triple. A second `cargo metadata` would double the time.
    command.exec().map_err(|source| match source {
        cargo_metadata::Error::CargoMetadata { stderr } => cargo::refusal(&stderr, manifest)
            .unwrap_or_else(|| WorkspaceError::MetadataFailed {
                manifest: manifest.to_owned(),
                stderr: stderr.trim_end().to_string(),
            }),
        source => WorkspaceError::MetadataSpawn {
            manifest: manifest.to_owned(),
            source,
        },
    })
}
