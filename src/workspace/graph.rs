//! `cargo metadata`'s answer turned into the [`Workspace`]: members, binaries, default members, path packages, and
//! for each member the native crates and build tools of its dependency closure. Pure, so tests can feed it
//! recorded JSON.

use std::collections::{BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{DependencyKind, Metadata, Package as CargoPackage, TargetKind};

use super::activated::Activated;
use super::native;
use super::{Binary, Package, PathPackage, Toolchain, Workspace};
use crate::model::{BuildTool, NativeLink};

/// Builds the [`Workspace`] from `cargo metadata`'s answer: pure, so tests can feed it recorded JSON.
pub fn from_metadata(
    metadata: &Metadata,
    manifest: &Utf8Path,
    toolchain: Toolchain,
    toolchain_files: Vec<String>,
    has_lockfile: bool,
) -> Workspace {
    from_resolved(
        metadata,
        None,
        manifest,
        toolchain,
        toolchain_files,
        has_lockfile,
    )
}

/// [`from_metadata`], the native crates and build tools narrowed to what a build compiles, with the features
/// it compiles them with (see [`Activated`]), when `activated` is given.
pub fn from_resolved(
    metadata: &Metadata,
    activated: Option<&Activated>,
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
    let mut graph = Graph::new(metadata);
    graph.activated = activated;
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
        profiles: Default::default(),
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
        build_native: build_script_native(package, graph),
        test_native: test_native(package, graph),
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
    /// What a build really compiles, when it was asked (see [`Activated`]).
    activated: Option<&'a Activated>,
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
            activated: None,
        }
    }

    /// The features `id` is compiled with for the target (`host` false) or for build scripts; `None` when the
    /// build does not compile it there. Without [`Activated`], the resolve's unified features.
    fn features(&self, id: &cargo_metadata::PackageId, host: bool) -> Option<Vec<String>> {
        let Some(activated) = self.activated else {
            return Some(
                self.nodes
                    .get(id)
                    .map(|n| n.features.iter().map(|f| f.to_string()).collect())
                    .unwrap_or_default(),
            );
        };
        let package = self.packages.get(id)?;
        let (name, version) = (package.name.as_str(), package.version.to_string());
        let features = if host {
            activated.host_features(name, &version)
        } else {
            activated.target_features(name, &version)
        };
        features.map(|f| f.iter().cloned().collect())
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
    let mut seen = graph.closure(&package.id, |kind| kind == DependencyKind::Normal);
    seen.retain(|id| graph.features(id, false).is_some());
    let names = graph.names(&seen);
    let mut links: Vec<NativeLink> = seen
        .iter()
        .filter(|id| **id != &package.id)
        .filter_map(|id| {
            let p = graph.packages.get(id)?;
            let features = graph.features(id, false)?;
            native::classify(p.name.as_str(), p.links.as_deref(), &features, &names)
        })
        .collect();
    links.sort();
    links.dedup();
    links
}

/// Tools the build scripts of `package`'s whole closure (normal and build dependencies) run on the builder.
fn build_tools(package: &CargoPackage, graph: &Graph<'_>) -> (Vec<BuildTool>, bool) {
    let mut seen = graph.closure(&package.id, |kind| kind != DependencyKind::Development);
    seen.retain(|id| graph.features(id, false).is_some() || graph.features(id, true).is_some());
    let compiles_c = compiles_c_for_target(package, graph);
    let versions: Vec<(&str, &cargo_metadata::semver::Version)> = seen
        .iter()
        .filter_map(|id| graph.packages.get(id))
        .map(|p| (p.name.as_str(), &p.version))
        .collect();
    (native::build_tools(&versions), compiles_c)
}

/// Whether a build script compiles C for the target: a package compiled for the target whose build script uses
/// `cc` or `cmake` (a build-dependency, or a crate it depends on, like `openssl-src`). A build script's own
/// dependency compiling C (`libz-sys` under a build-dependency) compiles it for the builder's own machine.
fn compiles_c_for_target(package: &CargoPackage, graph: &Graph<'_>) -> bool {
    let mut target = graph.closure(&package.id, |kind| kind == DependencyKind::Normal);
    target.retain(|id| graph.features(id, false).is_some());
    target
        .iter()
        .filter_map(|id| graph.nodes.get(id))
        .flat_map(|node| node.deps.iter())
        .filter(|dep| {
            dep.dep_kinds
                .iter()
                .any(|k| k.kind == DependencyKind::Build)
        })
        .any(|dep| {
            let mut script = graph.closure(&dep.pkg, |kind| kind == DependencyKind::Normal);
            script.retain(|id| graph.features(id, true).is_some());
            graph
                .names(&script)
                .iter()
                .any(|n| matches!(*n, "cc" | "cmake"))
        })
}

/// The native crates build scripts and proc macros of `package`'s closure link (reached through a
/// build-dependency or a proc macro): they need their `-dev` packages on the builder, and nothing at run time.
/// Only those linking a system library. Sorted.
fn build_script_native(package: &CargoPackage, graph: &Graph<'_>) -> Vec<NativeLink> {
    let target = graph.closure(&package.id, |kind| kind == DependencyKind::Normal);
    let mut host = BTreeSet::new();
    for id in &target {
        let Some(node) = graph.nodes.get(id) else {
            continue;
        };
        for dep in &node.deps {
            if dep
                .dep_kinds
                .iter()
                .any(|k| k.kind == DependencyKind::Build)
            {
                host.extend(graph.closure(&dep.pkg, |kind| kind != DependencyKind::Development));
            }
        }
        // A proc macro runs in the compiler: what it links, it links on the builder.
        let proc_macro = graph.packages.get(id).is_some_and(|p| {
            p.targets
                .iter()
                .any(|t| t.kind.contains(&TargetKind::ProcMacro))
        });
        if proc_macro && *id != &package.id {
            host.extend(graph.closure(id, |kind| kind != DependencyKind::Development));
        }
    }
    host.retain(|id| graph.features(id, true).is_some());
    let names = graph.names(&host);
    let mut links: Vec<NativeLink> = host
        .iter()
        .filter_map(|id| {
            let p = graph.packages.get(id)?;
            let features = graph.features(id, true)?;
            native::classify(p.name.as_str(), p.links.as_deref(), &features, &names)
        })
        .filter(|link| link.linkage == crate::model::Linkage::Dynamic)
        .collect();
    links.sort();
    links.dedup();
    links
}

/// The native crates `cargo test` of `package` links dynamically: its dev-dependencies too, with the resolve's
/// unified features (a test build enables what dev-dependencies ask for). The `test` stage compiles them on the
/// builder, which then needs their `-dev` packages; no image does. Sorted.
fn test_native(package: &CargoPackage, graph: &Graph<'_>) -> Vec<NativeLink> {
    let seen = graph.closure(&package.id, |_| true);
    let names = graph.names(&seen);
    let mut links: Vec<NativeLink> = seen
        .iter()
        .filter_map(|id| {
            let p = graph.packages.get(id)?;
            let features: Vec<String> = graph
                .nodes
                .get(id)
                .map(|n| n.features.iter().map(|f| f.to_string()).collect())
                .unwrap_or_default();
            native::classify(p.name.as_str(), p.links.as_deref(), &features, &names)
        })
        .filter(|link| link.linkage == crate::model::Linkage::Dynamic)
        .collect();
    links.sort();
    links.dedup();
    links
}
