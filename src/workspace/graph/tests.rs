//! The graph reader on recorded `cargo metadata` shapes: each triple counts only what its `cfg(...)` selects.

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
        declared_targets: Default::default(),
        triples: [
            "aarch64-unknown-linux-musl",
            "x86_64-unknown-linux-gnu",
            "x86_64-unknown-linux-musl",
        ]
        .map(String::from)
        .to_vec(),
        cpp_build_scripts: BTreeSet::new(),
        activated: BTreeMap::new(),
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
fn cpp_is_found_in_local_build_scripts_and_known_crates() {
    let metadata = metadata();
    let cpp: BTreeSet<PackageId> = metadata
        .packages
        .iter()
        .filter(|p| p.name.as_str() == "ring")
        .map(|p| p.id.clone())
        .collect();
    let reading = Reading {
        declared_targets: Default::default(),
        triples: vec!["x86_64-unknown-linux-gnu".into()],
        cpp_build_scripts: cpp,
        activated: BTreeMap::new(),
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
        declared_targets: Default::default(),
        triples: vec!["x86_64-unknown-linux-musl".into()],
        cpp_build_scripts: BTreeSet::new(),
        activated: BTreeMap::new(),
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
