//! `cargo metadata`'s answer turned into the [`Workspace`]: members, binaries, default members, path packages, and
//! for each member and target triple the native crates, build tools and C/C++ compiles of its dependency closure
//! on that target (an edge counts when its platform, `cfg(...)` or a triple, holds there, evaluated with
//! `cargo-platform`). Pure, so tests can feed it recorded JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::cargo_platform::Cfg;
use cargo_metadata::{DependencyKind, Metadata, Package as CargoPackage, PackageId, TargetKind};

use super::{native, targets};
use super::{Binary, Package, PathPackage, TargetDeps, Toolchain, Workspace};
use crate::model::NativeLink;

/// What the graph is read for: the target triples the images may be built for, and the local packages whose
/// build scripts compile C++ (found by [`super::load`], which reads them).
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Target triples, each giving every member a [`TargetDeps`].
    pub triples: Vec<String>,
    /// Packages whose build script asks the `cc` crate for C++ (`.cpp(true)`).
    pub cpp_build_scripts: BTreeSet<PackageId>,
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
    let platforms: Vec<(&str, Vec<Cfg>)> = reading
        .triples
        .iter()
        .map(|t| (t.as_str(), targets::cfgs(t)))
        .collect();
    let mut members: Vec<Package> = member_packages
        .iter()
        .map(|p| member(p, &root, &graph, &platforms))
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

fn member(
    package: &CargoPackage,
    root: &Utf8Path,
    graph: &Graph<'_>,
    platforms: &[(&str, Vec<Cfg>)],
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
        .map(|(triple, cfgs)| {
            let platform = Platform { triple, cfgs };
            (triple.to_string(), target_deps(package, graph, &platform))
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
    }
}

/// The target a closure is computed for: a dependency edge counts when it has no platform, or its platform
/// (`cfg(...)` or a triple) matches this one. That is `cargo metadata --filter-platform`, evaluated here for
/// every target from one unfiltered `cargo metadata`.
struct Platform<'p> {
    triple: &'p str,
    cfgs: &'p [Cfg],
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
        platform: &Platform<'_>,
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
                                .is_none_or(|t| t.matches(platform.triple, platform.cfgs))
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

    /// The names of the build dependencies of `id` (what its build script may use), for any platform.
    fn build_dependencies(&self, id: &PackageId) -> Vec<&'a str> {
        self.nodes
            .get(id)
            .into_iter()
            .flat_map(|n| n.deps.iter())
            .filter(|d| d.dep_kinds.iter().any(|k| k.kind == DependencyKind::Build))
            .filter_map(|d| self.packages.get(&d.pkg).map(|p| p.name.as_str()))
            .collect()
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

/// Build dependencies that compile C or C++ for the target when a build script uses them.
const C_BUILDERS: &[&str] = &["cc", "cmake", "cxx-build"];

/// What `package`'s closure needs on `platform`: the native crates reachable through normal (not build or dev)
/// dependencies, which are linked into its binaries; the tools of its build scripts (normal and build
/// dependencies, which run on the builder); and the crates that compile C or C++ for the target: those of the
/// normal closure whose build scripts use `cc`, `cmake` or `cxx-build` (a build dependency's own C is compiled
/// for the builder, whose compiler is always there).
fn target_deps(package: &CargoPackage, graph: &Graph<'_>, platform: &Platform<'_>) -> TargetDeps {
    let linked = graph.closure(&package.id, platform, |kind| kind == DependencyKind::Normal);
    let names = graph.names(&linked);
    let mut native: Vec<NativeLink> = linked
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
                .map(|link| native::on_target(link, platform.triple))
        })
        .collect();
    native.sort();
    native.dedup();
    let built = graph.closure(&package.id, platform, |kind| {
        kind != DependencyKind::Development
    });
    let build_tools = native::build_tools(&graph.names(&built));
    let mut compiles_c = BTreeSet::new();
    let mut compiles_cpp = BTreeMap::new();
    for id in &linked {
        let Some(p) = graph.packages.get(id) else {
            continue;
        };
        let name = p.name.to_string();
        let builders = graph.build_dependencies(id);
        if builders.iter().any(|b| C_BUILDERS.contains(b)) {
            compiles_c.insert(name.clone());
        }
        let why = if builders.contains(&"cxx-build") {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package of `cargo metadata`'s JSON: `name`, its build script's build dependencies, its `links` key.
    fn package(name: &str, custom_build: bool, links: Option<&str>) -> serde_json::Value {
        let mut targets = vec![serde_json::json!({
            "kind": ["lib"], "crate_types": ["lib"], "name": name,
            "src_path": format!("/ws/{name}/src/lib.rs"), "edition": "2021",
        })];
        if custom_build {
            targets.push(serde_json::json!({
                "kind": ["custom-build"], "crate_types": ["bin"], "name": "build-script-build",
                "src_path": format!("/ws/{name}/build.rs"), "edition": "2021",
            }));
        }
        serde_json::json!({
            "name": name, "version": "1.0.0", "id": format!("{name}#1.0.0"), "source": null,
            "dependencies": [], "targets": targets, "features": {},
            "manifest_path": format!("/ws/{name}/Cargo.toml"), "links": links,
        })
    }

    /// A dependency edge of the resolve: to `pkg`, of `kind` (`null` for normal), on `target` (`null` for all).
    fn edge(pkg: &str, kind: Option<&str>, target: Option<&str>) -> serde_json::Value {
        serde_json::json!({
            "name": pkg.replace('-', "_"), "pkg": format!("{pkg}#1.0.0"),
            "dep_kinds": [{ "kind": kind, "target": target }],
        })
    }

    /// `app` uses jemalloc on musl only, `winapi` on Windows only, `zstd-sys` on the x86_64 musl triple by name,
    /// and `ring` everywhere; the three `-sys`-like crates compile C with `cc`.
    fn metadata() -> Metadata {
        let node = |id: &str, deps: Vec<serde_json::Value>| serde_json::json!({ "id": format!("{id}#1.0.0"), "deps": deps, "dependencies": [], "features": [] });
        let json = serde_json::json!({
            "packages": [
                package("app", false, None),
                package("cc", false, None),
                package("jemalloc-sys", true, Some("jemalloc")),
                package("ring", true, Some("ring_core")),
                package("winapi", false, None),
                package("zstd-sys", true, Some("zstd")),
            ],
            "workspace_members": ["app#1.0.0"],
            "resolve": { "root": null, "nodes": [
                node("app", vec![
                    edge("jemalloc-sys", None, Some("cfg(target_env = \"musl\")")),
                    edge("ring", None, None),
                    edge("winapi", None, Some("cfg(windows)")),
                    edge("zstd-sys", None, Some("x86_64-unknown-linux-musl")),
                ]),
                node("cc", vec![]),
                node("jemalloc-sys", vec![edge("cc", Some("build"), None)]),
                node("ring", vec![edge("cc", Some("build"), None)]),
                node("winapi", vec![]),
                node("zstd-sys", vec![edge("cc", Some("build"), None)]),
            ]},
            "target_directory": "/ws/target", "version": 1, "workspace_root": "/ws", "metadata": null,
        });
        serde_json::from_value(json).expect("recorded metadata")
    }

    #[test]
    fn each_target_counts_only_the_dependencies_its_cfg_selects() {
        let reading = Reading {
            triples: [
                "aarch64-unknown-linux-musl",
                "x86_64-unknown-linux-gnu",
                "x86_64-unknown-linux-musl",
            ]
            .map(String::from)
            .to_vec(),
            cpp_build_scripts: BTreeSet::new(),
        };
        let workspace = from_metadata(
            &metadata(),
            Utf8Path::new("/ws/app/Cargo.toml"),
            Toolchain::floating(),
            Vec::new(),
            true,
            &reading,
        );
        let app = &workspace.members[0];
        let c = |triple: &str| app.target(triple).compiles_c.join(" ");
        assert_eq!(c("x86_64-unknown-linux-musl"), "jemalloc-sys ring zstd-sys");
        assert_eq!(c("aarch64-unknown-linux-musl"), "jemalloc-sys ring");
        assert_eq!(c("x86_64-unknown-linux-gnu"), "ring");
        let natives = |triple: &str| {
            let deps = app.target(triple);
            deps.native
                .iter()
                .map(|n| n.krate.clone())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(natives("x86_64-unknown-linux-gnu"), "ring");
        assert_eq!(
            natives("x86_64-unknown-linux-musl"),
            "jemalloc-sys ring zstd-sys"
        );
        // A triple the workspace was not read for has nothing.
        assert!(app
            .target("riscv64gc-unknown-linux-gnu")
            .compiles_c
            .is_empty());
    }

    #[test]
    fn a_known_cpp_registry_crate_counts_as_cpp() {
        // ouch links `unrar-ng-sys`, whose build script (not scanned: a registry crate) compiles UnRAR's C++.
        let node = |id: &str, deps: Vec<serde_json::Value>| serde_json::json!({ "id": format!("{id}#1.0.0"), "deps": deps, "dependencies": [], "features": [] });
        let json = serde_json::json!({
            "packages": [package("app", false, None), package("cc", false, None), package("unrar-ng-sys", true, None)],
            "workspace_members": ["app#1.0.0"],
            "resolve": { "root": null, "nodes": [
                node("app", vec![edge("unrar-ng-sys", None, None)]),
                node("cc", vec![]),
                node("unrar-ng-sys", vec![edge("cc", Some("build"), None)]),
            ]},
            "target_directory": "/ws/target", "version": 1, "workspace_root": "/ws", "metadata": null,
        });
        let metadata: Metadata = serde_json::from_value(json).expect("recorded metadata");
        let reading = Reading {
            triples: vec!["x86_64-unknown-linux-musl".into()],
            cpp_build_scripts: BTreeSet::new(),
        };
        let workspace = from_metadata(
            &metadata,
            Utf8Path::new("/ws/app/Cargo.toml"),
            Toolchain::floating(),
            Vec::new(),
            true,
            &reading,
        );
        let deps = workspace.members[0].target("x86_64-unknown-linux-musl");
        assert_eq!(deps.compiles_c, ["unrar-ng-sys"]);
        assert_eq!(
            deps.compiles_cpp,
            ["`unrar-ng-sys`: it compiles C++ sources"]
        );
        assert!(CPP_CRATES.windows(2).all(|w| w[0] < w[1]), "sorted");
    }

    #[test]
    fn cpp_is_found_in_local_build_scripts_and_known_crates() {
        let metadata = metadata();
        let cpp: BTreeSet<PackageId> = metadata
            .packages
            .iter()
            .filter(|p| p.name.as_str() == "ring")
            .map(|p| p.id.clone())
            .collect();
        let reading = Reading {
            triples: vec!["x86_64-unknown-linux-gnu".into()],
            cpp_build_scripts: cpp,
        };
        let workspace = from_metadata(
            &metadata,
            Utf8Path::new("/ws/app/Cargo.toml"),
            Toolchain::floating(),
            Vec::new(),
            true,
            &reading,
        );
        assert_eq!(
            workspace.members[0]
                .target("x86_64-unknown-linux-gnu")
                .compiles_cpp,
            ["`ring`: its build script calls `cpp(true)` on a `cc::Build`"]
        );
    }
}
