//! `cargo metadata`'s answer turned into the [`Workspace`]: members, binaries, default members, path packages, and
//! for each member and target triple the native crates, build tools and C/C++ compiles of its dependency closure
//! on that target (an edge counts when its platform, `cfg(...)` or a triple, holds there, evaluated with
//! `cargo-platform`), narrowed to what a build for that triple really compiles where Cargo's own resolve was
//! asked (see [`Activated`]): what the binaries link, what build scripts and proc macros link on the builder, and
//! what only the tests link. Pure, so tests can feed it recorded JSON and `cargo tree` text.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;
use cargo_metadata::{DependencyKind, Metadata, Package as CargoPackage, PackageId, TargetKind};

use super::activated::Activated;
use super::native;
use super::{Binary, Package, PathPackage, TargetDeps, Toolchain, Workspace};
use crate::model::{Linkage, NativeLink};

/// What the graph is read for: the target triples the images may be built for, and the local packages whose
/// build scripts compile C++ (found by [`super::load`], which reads them).
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Target triples, each giving every member a [`TargetDeps`].
    pub triples: Vec<String>,
    /// Packages whose build script asks the `cc` crate for C++ (`.cpp(true)`).
    pub cpp_build_scripts: BTreeSet<PackageId>,
    /// The tests, examples and benches each member's manifest declares (see [`super::stubs`]).
    pub declared_targets: BTreeMap<PackageId, super::stubs::Declared>,
    /// Cargo's own resolve of what a build for the triple compiles, for the triples where it was asked; a
    /// triple without one is read from the unified resolve of `cargo metadata`.
    pub activated: BTreeMap<String, Activated>,
}

/// Builds the [`Workspace`] from `cargo metadata`'s answer: pure, so tests can feed it recorded JSON.
pub fn from_metadata(
    metadata: &Metadata,
    manifest: &Utf8Path,
    toolchain: Toolchain,
    toolchain_files: Vec<String>,
    has_lockfile: bool,
    reading: &Reading,
) -> Workspace {
    let root = metadata.workspace_root.clone();
    let by_id: HashMap<_, _> = metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let member_packages: Vec<&CargoPackage> = metadata
        .workspace_members
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    let graph = Graph::new(metadata, &reading.cpp_build_scripts);
    let platforms = triple_views(reading);
    let mut members: Vec<Package> = member_packages
        .iter()
        .map(|p| {
            let declared = reading
                .declared_targets
                .get(&p.id)
                .cloned()
                .unwrap_or_default();
            let mut package = member(p, &root, &graph, &platforms);
            package.stubs = super::stubs::stub_paths(p, &root, &declared);
            package
        })
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
        cargo_config_files: Vec::new(),
        cargo_config: Default::default(),
        git_ssh_hosts: Vec::new(),
        registry_sources: Vec::new(),
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

/// What each member's dependency closure needs for each triple of `reading`, by member name: the per-target
/// half of [`from_metadata`], for a workspace read without triples first.
pub fn member_targets(
    metadata: &Metadata,
    reading: &Reading,
) -> BTreeMap<String, BTreeMap<String, TargetDeps>> {
    let by_id: HashMap<_, _> = metadata.packages.iter().map(|p| (&p.id, p)).collect();
    let graph = Graph::new(metadata, &reading.cpp_build_scripts);
    let views = triple_views(reading);
    metadata
        .workspace_members
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .map(|package| {
            let targets = views
                .iter()
                .map(|view| (view.triple.to_string(), target_deps(package, &graph, view)))
                .collect();
            (package.name.to_string(), targets)
        })
        .collect()
}

/// The triples of `reading`, each with its `cfg(...)` values and its exact resolve where there is one.
fn triple_views(reading: &Reading) -> Vec<TripleView<'_>> {
    reading
        .triples
        .iter()
        .map(|t| TripleView {
            triple: t,
            cfgs: cfgs(t),
            activated: reading.activated.get(t),
        })
        .collect()
}

fn member(
    package: &CargoPackage,
    root: &Utf8Path,
    graph: &Graph<'_>,
    platforms: &[TripleView<'_>],
) -> Package {
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
    let targets: BTreeMap<String, TargetDeps> = platforms
        .iter()
        .map(|platform| {
            let deps = target_deps(package, graph, platform);
            (platform.triple.to_string(), deps)
        })
        .collect();
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
        targets,
        config: package
            .metadata
            .get("dockerize")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        rust_version: package.rust_version.as_ref().map(rust_version),
        stubs: Vec::new(),
    }
}

/// `rust-version` as a package writes it: `1.96` (Cargo reads it into a full version, `1.96.0`, whose patch is
/// not part of what was written when it is 0).
fn rust_version(version: &cargo_metadata::semver::Version) -> String {
    if version.patch == 0 {
        format!("{}.{}", version.major, version.minor)
    } else {
        version.to_string()
    }
}

/// The parsed `cfg` values of `triple` (see [`crate::platform::Triple::cfg_lines`]); empty for a triple the
/// platform table lacks (then only `cfg`-free and triple-named platform dependencies match, which is what Cargo's
/// `--filter-platform` does with a target it cannot ask `rustc` about).
fn cfgs(triple: &str) -> Vec<Cfg> {
    crate::platform::Triple::parse(triple)
        .map(|t| t.cfg_lines())
        .unwrap_or_default()
        .iter()
        .filter_map(|line| line.parse().ok())
        .collect()
}

/// The target a closure is computed for: a dependency edge counts when it has no platform, or its platform
/// (`cfg(...)` or a triple) matches this one. That is `cargo metadata --filter-platform`, evaluated here for
/// every target from one unfiltered `cargo metadata`. A package counts when the triple's exact resolve compiles
/// it, where there is one.
struct TripleView<'p> {
    triple: &'p str,
    cfgs: Vec<Cfg>,
    activated: Option<&'p Activated>,
}

impl TripleView<'_> {
    /// The features `package` is compiled with for the target (`host` false) or for build scripts and proc macros
    /// (`host` true); `None` when the build does not compile it there. Without an exact resolve, the unified
    /// resolve's features.
    fn features(
        &self,
        package: &CargoPackage,
        node: Option<&cargo_metadata::Node>,
        host: bool,
    ) -> Option<Vec<String>> {
        let Some(activated) = self.activated else {
            return Some(
                node.map(|n| n.features.iter().map(|f| f.to_string()).collect())
                    .unwrap_or_default(),
            );
        };
        let (name, version) = (package.name.as_str(), package.version.to_string());
        let features = if host {
            activated.host_features(name, &version)
        } else {
            activated.target_features(name, &version)
        };
        features.map(|f| f.iter().cloned().collect())
    }
}

/// The resolved dependency graph, indexed once for every member's closures.
struct Graph<'a> {
    nodes: HashMap<&'a PackageId, &'a cargo_metadata::Node>,
    packages: HashMap<&'a PackageId, &'a CargoPackage>,
    cpp_build_scripts: &'a BTreeSet<PackageId>,
}

impl<'a> Graph<'a> {
    fn new(metadata: &'a Metadata, cpp_build_scripts: &'a BTreeSet<PackageId>) -> Self {
        Self {
            nodes: metadata
                .resolve
                .iter()
                .flat_map(|r| r.nodes.iter())
                .map(|n| (&n.id, n))
                .collect(),
            packages: metadata.packages.iter().map(|p| (&p.id, p)).collect(),
            cpp_build_scripts,
        }
    }

    /// Every package reachable from `root` through dependencies of the kinds `follow` accepts that apply to
    /// `platform`, `root` included.
    fn closure(
        &self,
        root: &'a PackageId,
        platform: &TripleView<'_>,
        follow: impl Fn(DependencyKind) -> bool,
    ) -> BTreeSet<&'a PackageId> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(node) = self.nodes.get(id) {
                for dep in &node.deps {
                    let applies = dep.dep_kinds.iter().any(|k| {
                        follow(k.kind)
                            && k.target
                                .as_ref()
                                .is_none_or(|t| t.matches(platform.triple, &platform.cfgs))
                    });
                    if applies {
                        stack.push(&dep.pkg);
                    }
                }
            }
        }
        seen
    }

    fn names(&self, ids: &BTreeSet<&'a PackageId>) -> Vec<&'a str> {
        ids.iter()
            .filter_map(|id| self.packages.get(id).map(|p| p.name.as_str()))
            .collect()
    }

    /// The features `id` is compiled with on `platform`'s target (`host` false) or builder (`host` true); `None`
    /// when the build does not compile it there (see [`TripleView::features`]).
    fn features(
        &self,
        id: &PackageId,
        platform: &TripleView<'_>,
        host: bool,
    ) -> Option<Vec<String>> {
        let package = self.packages.get(id)?;
        platform.features(package, self.nodes.get(id).copied(), host)
    }

    /// The packages the build script of `id` uses on `platform`'s builder: its build dependencies and their
    /// normal dependencies (`openssl-src`'s `cc` compiles for `openssl-sys`'s build script), those the exact
    /// resolve compiles.
    fn build_script_closure(
        &self,
        id: &PackageId,
        platform: &TripleView<'_>,
    ) -> BTreeSet<&'a PackageId> {
        let mut script = BTreeSet::new();
        for dep in self.nodes.get(id).into_iter().flat_map(|n| n.deps.iter()) {
            let build = dep.dep_kinds.iter().any(|k| {
                k.kind == DependencyKind::Build
                    && k.target
                        .as_ref()
                        .is_none_or(|t| t.matches(platform.triple, &platform.cfgs))
            });
            if build {
                script.extend(
                    self.closure(&dep.pkg, platform, |kind| kind == DependencyKind::Normal),
                );
            }
        }
        script.retain(|id| self.features(id, platform, true).is_some());
        script
    }

    fn is_proc_macro(&self, id: &PackageId) -> bool {
        self.packages.get(id).is_some_and(|p| {
            p.targets
                .iter()
                .any(|t| t.kind.contains(&TargetKind::ProcMacro))
        })
    }
}

/// Crates known to compile C++ whose build scripts do not say so through a build dependency.
/// Registry crates are not text-scanned (see `cpp_build_scripts`), so each is listed by name: the vendored C++
/// libraries of UnRAR (ouch's `unrar-ng-sys`, found by the public-workspace trial), esaxx (tokenizers), HarfBuzz,
/// snmalloc and libzmq among them.
const CPP_CRATES: &[&str] = &[
    "esaxx-rs",
    "grpcio-sys",
    "harfbuzz-sys",
    "libduckdb-sys",
    "librocksdb-sys",
    "link-cplusplus",
    "snappy-sys",
    "snmalloc-sys",
    "unrar-ng-sys",
    "unrar_sys",
    "zeromq-src",
];

/// Crates that compile C or C++ for the target when a build script uses them.
const C_BUILDERS: &[&str] = &["cc", "cmake", "cxx-build"];

/// What `package`'s closure needs on `platform`: the native crates reachable through normal (not build or dev)
/// dependencies that the build compiles for the target, which are linked into its binaries; the tools of its
/// build scripts (normal and build dependencies, which run on the builder); the crates that compile C or C++ for
/// the target: those linked whose build scripts use `cc`, `cmake` or `cxx-build` (a build dependency's own C is
/// compiled for the builder, whose compiler is always there); what build scripts and proc macros link on the
/// builder; and what the tests link.
fn target_deps(package: &CargoPackage, graph: &Graph<'_>, platform: &TripleView<'_>) -> TargetDeps {
    let mut linked = graph.closure(&package.id, platform, |kind| kind == DependencyKind::Normal);
    linked.retain(|id| graph.features(id, platform, false).is_some());
    let names = graph.names(&linked);
    let mut native: Vec<NativeLink> = linked
        .iter()
        .filter(|id| **id != &package.id)
        .filter_map(|id| {
            let p = graph.packages.get(id)?;
            let features = graph.features(id, platform, false)?;
            native::classify(p.name.as_str(), p.links.as_deref(), &features, &names)
                .map(|link| native::on_target(link, platform.triple))
        })
        .collect();
    native.sort();
    native.dedup();
    let mut built = graph.closure(&package.id, platform, |kind| {
        kind != DependencyKind::Development
    });
    built.retain(|id| {
        graph.features(id, platform, false).is_some()
            || graph.features(id, platform, true).is_some()
    });
    let versions: Vec<(&str, &cargo_metadata::semver::Version)> = built
        .iter()
        .filter_map(|id| graph.packages.get(id))
        .map(|p| (p.name.as_str(), &p.version))
        .collect();
    let build_tools = native::build_tools(&versions);
    let mut compiles_c = BTreeSet::new();
    let mut compiles_cpp = BTreeMap::new();
    for id in &linked {
        let Some(p) = graph.packages.get(id) else {
            continue;
        };
        let name = p.name.to_string();
        let script = graph.names(&graph.build_script_closure(id, platform));
        if script.iter().any(|b| C_BUILDERS.contains(b)) {
            compiles_c.insert(name.clone());
        }
        let why = if script.contains(&"cxx-build") {
            Some("its build script uses `cxx-build`")
        } else if graph.cpp_build_scripts.contains(*id) {
            Some("its build script calls `cpp(true)` on a `cc::Build`")
        } else if CPP_CRATES.contains(&name.as_str()) {
            Some("it compiles C++ sources")
        } else {
            None
        };
        if let Some(why) = why {
            compiles_cpp.insert(name, why.to_string());
        }
    }
    TargetDeps {
        native,
        build_tools,
        compiles_c: compiles_c.into_iter().collect(),
        compiles_cpp: compiles_cpp
            .into_iter()
            .map(|(krate, why)| format!("`{krate}`: {why}"))
            .collect(),
        build_native: build_script_native(package, graph, platform),
        test_native: test_native(package, graph, platform),
    }
}

/// The native crates build scripts and proc macros of `package`'s closure link on `platform`'s builder (reached
/// through a build-dependency or a proc macro): they need their `-dev` packages on the builder, and nothing at
/// run time. Only those linking a system library. Sorted.
fn build_script_native(
    package: &CargoPackage,
    graph: &Graph<'_>,
    platform: &TripleView<'_>,
) -> Vec<NativeLink> {
    let target = graph.closure(&package.id, platform, |kind| kind == DependencyKind::Normal);
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
                host.extend(graph.closure(&dep.pkg, platform, |kind| {
                    kind != DependencyKind::Development
                }));
            }
        }
        // A proc macro runs in the compiler: what it links, it links on the builder.
        if graph.is_proc_macro(id) && *id != &package.id {
            host.extend(graph.closure(id, platform, |kind| kind != DependencyKind::Development));
        }
    }
    host.retain(|id| graph.features(id, platform, true).is_some());
    let names = graph.names(&host);
    let mut links: Vec<NativeLink> = host
        .iter()
        .filter_map(|id| {
            let p = graph.packages.get(id)?;
            let features = graph.features(id, platform, true)?;
            native::classify(p.name.as_str(), p.links.as_deref(), &features, &names)
        })
        .filter(|link| link.linkage == Linkage::Dynamic)
        .collect();
    links.sort();
    links.dedup();
    links
}

/// The native crates `cargo test` of `package` links dynamically on `platform`: its dev-dependencies too, with
/// the resolve's unified features (a test build enables what dev-dependencies ask for). The `test` stage
/// compiles them on the builder, which then needs their `-dev` packages; no image does. Sorted.
fn test_native(
    package: &CargoPackage,
    graph: &Graph<'_>,
    platform: &TripleView<'_>,
) -> Vec<NativeLink> {
    let seen = graph.closure(&package.id, platform, |_| true);
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
        .filter(|link| link.linkage == Linkage::Dynamic)
        .collect();
    links.sort();
    links.dedup();
    links
}

#[cfg(test)]
mod tests;
