//! `cargo metadata`'s answer turned into the [`Workspace`]: members, binaries, default members, path packages, and
//! for each member the native crates and build tools of its dependency closure. Pure, so tests can feed it
//! recorded JSON.

use std::collections::{BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{DependencyKind, Metadata, Package as CargoPackage, TargetKind};

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
fn build_tools(package: &CargoPackage, graph: &Graph<'_>) -> (Vec<BuildTool>, bool) {
    let seen = graph.closure(&package.id, |kind| kind != DependencyKind::Development);
    let names = graph.names(&seen);
    let compiles_c = names.iter().any(|n| matches!(*n, "cc" | "cmake"));
    let versions: Vec<(&str, &cargo_metadata::semver::Version)> = seen
        .iter()
        .filter_map(|id| graph.packages.get(id))
        .map(|p| (p.name.as_str(), &p.version))
        .collect();
    (native::build_tools(&versions), compiles_c)
}
