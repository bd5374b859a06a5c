//! Tests of [`super`]: `cargo tree` lines, and graphs as `cargo metadata` records them.
use super::*;

fn set(features: &[&str]) -> BTreeSet<String> {
    features.iter().map(|f| f.to_string()).collect()
}

/// `cargo tree` of the `dev-guesses` fixture, cut short: a proc macro under the target, a build-dependency
/// section with one of its own at depth 2.
const DEV_GUESSES: &str = r#"rpc v0.1.0 (/tmp/dg/rpc)|
|-- flate2 v1.1.11|any_impl,miniz_oxide,rust_backend
|   `-- miniz_oxide v0.9.1|default,simd,simd-adler32,with-alloc
`-- prost v0.14.6|derive,std
    |-- bytes v1.12.2|
    `-- prost-derive v0.14.6 (proc-macro)|
        |-- anyhow v1.0.104|default,std
        `-- quote v1.0.47|default,proc-macro
[build-dependencies]
|-- flate2 v1.1.11|any_c_zlib,any_impl,any_zlib,libz-sys,zlib
|   |-- crc32fast v1.5.5|
|   `-- libz-sys v1.1.31|
|       [build-dependencies]
|       |-- cc v1.11.3|
|       `-- pkg-config v0.3.34|
`-- prost-build v0.14.6|
    `-- prost v0.14.6|derive,std (*)

xtask v0.1.0 (/tmp/dg/xtask)|
warning: something
"#;

#[test]
fn tree_lines_give_package_features_and_side() {
    let lines = parse_tree(DEV_GUESSES);
    let seen: Vec<(&str, bool)> = lines.iter().map(|l| (l.key.0.as_str(), l.host)).collect();
    assert_eq!(
        seen,
        [
            ("rpc", false),
            ("flate2", false),
            ("miniz_oxide", false),
            ("prost", false),
            ("bytes", false),
            ("prost-derive", false),
            ("anyhow", true),
            ("quote", true),
            ("flate2", true),
            ("crc32fast", true),
            ("libz-sys", true),
            ("cc", true),
            ("pkg-config", true),
            ("prost-build", true),
            ("prost", true),
            ("xtask", false),
        ]
    );
    assert_eq!(lines[1].key.1, "1.1.11");
    assert!(lines[0].features.is_empty());
    assert_eq!(lines[14].features, set(&["derive", "std"]), "(*) dropped");
}

/// The one run's target side is what `cargo tree -e normal` shows outside proc macros, on a real workspace
/// (the `dev-guesses` fixture: build-dependencies with their own, proc macros, two members).
#[test]
fn one_run_agrees_with_cargo_trees_target_graph() {
    let manifest = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/workspaces/dev-guesses/Cargo.toml"
    );
    let tree = |edges: &str, prefix: &str| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let output = std::process::Command::new(cargo)
            .args([
                "tree",
                "--locked",
                "--workspace",
                "--charset",
                "ascii",
                "--color",
                "never",
            ])
            .args(["--target", "x86_64-unknown-linux-musl", "-f", "{p}|{f}"])
            .args(["-e", edges, "--prefix", prefix, "--manifest-path", manifest])
            .output()
            .expect("cargo tree runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let activated = Activated::from_tree(&tree("normal,build", "indent"));
    let mut expected = BTreeSet::new();
    let mut macro_depth: Option<usize> = None;
    for line in tree("normal", "depth").lines() {
        let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let Some((package, _)) = line[digits..].split_once('|') else {
            continue;
        };
        let depth: usize = line[..digits].parse().unwrap();
        match macro_depth {
            Some(d) if depth > d => continue,
            _ => macro_depth = package.contains("(proc-macro)").then_some(depth),
        }
        let mut words = package.split_whitespace();
        let name = words.next().unwrap().to_string();
        expected.insert((name, words.next().unwrap()[1..].to_string()));
    }
    let got: BTreeSet<Key> = activated.target.keys().cloned().collect();
    assert_eq!(got, expected);
    assert!(activated.host_features("libz-sys", "1.1.31").is_some());
    assert!(activated.target_features("libz-sys", "1.1.31").is_none());
}

#[test]
fn a_heading_ends_with_its_package() {
    // openssl-sys's build-dependencies are the builder's; its sibling's dependencies are the target's again.
    let tree = "app v1.0.0 (/w)|\n|-- openssl-sys v0.9.0|\n|   [build-dependencies]\n|   `-- cc v1.2.0|\n`-- url v2.5.0|\n    `-- idna v1.0.0|\n";
    let sides: Vec<(String, bool)> = parse_tree(tree)
        .into_iter()
        .map(|l| (l.key.0, l.host))
        .collect();
    let expected = [
        ("app", false),
        ("openssl-sys", false),
        ("cc", true),
        ("url", false),
        ("idna", false),
    ];
    assert_eq!(sides, expected.map(|(n, h)| (n.to_string(), h)),);
}

#[test]
fn a_build_script_feature_stays_on_the_host() {
    // `flate2` with `zlib` for the build script only: the target's flate2 has no `libz-sys`.
    let activated = Activated::from_tree(DEV_GUESSES);
    assert_eq!(
        activated.target_features("flate2", "1.1.11"),
        Some(&set(&["any_impl", "miniz_oxide", "rust_backend"]))
    );
    assert_eq!(
        activated.host_features("flate2", "1.1.11"),
        Some(&set(&[
            "any_c_zlib",
            "any_impl",
            "any_zlib",
            "libz-sys",
            "zlib"
        ]))
    );
    assert_eq!(activated.target_features("libz-sys", "1.1.31"), None);
    assert_eq!(
        activated.host_features("libz-sys", "1.1.31"),
        Some(&set(&[]))
    );
    // Only on the target: the host side answers with the target's features.
    assert_eq!(activated.host_features("bytes", "1.12.2"), Some(&set(&[])));
    assert_eq!(activated.host_features("openssl-sys", "0.9.0"), None);
}

#[test]
fn what_a_proc_macro_links_is_not_the_targets() {
    // A macro crate checking SQL at compile time links SQLite in the compiler, not in the binary.
    let tree = "app v1.0.0 (/w)|\n|-- sql-macros v1.0.0 (proc-macro)|\n|   `-- libsqlite3-sys v0.30.0|\n|       [build-dependencies]\n|       `-- cc v1.2.0|\n`-- itoa v1.0.0|\n";
    let activated = Activated::from_tree(tree);
    assert_eq!(activated.target_features("libsqlite3-sys", "0.30.0"), None);
    assert!(activated
        .host_features("libsqlite3-sys", "0.30.0")
        .is_some());
    assert!(activated.target_features("itoa", "1.0.0").is_some());
    assert!(activated.target_features("sql-macros", "1.0.0").is_some());
}

/// Graphs as `cargo metadata` records them, small enough to read: what the walk makes of each, with and
/// without the exact resolve.
mod shapes {
    use serde_json::{json, Value};

    use super::*;
    use crate::model::Linkage;
    use crate::workspace::{from_metadata, toolchain_for_channel, Reading, TargetDeps};

    fn id(name: &str) -> String {
        format!("registry+https://github.com/rust-lang/crates.io-index#{name}@1.0.0")
    }

    fn package(name: &str, links: Option<&str>) -> Value {
        let kind = if name == "app" {
            "bin"
        } else if name.ends_with("-macros") {
            "proc-macro"
        } else {
            "lib"
        };
        json!({
            "name": name, "version": "1.0.0", "id": id(name), "source": null, "links": links,
            "dependencies": [], "features": {}, "manifest_path": format!("/w/{name}/Cargo.toml"),
            "targets": [{"name": name, "kind": [kind], "crate_types": [kind], "required-features": [],
                         "src_path": format!("/w/{name}/src/main.rs"), "edition": "2021",
                         "doctest": false, "test": true, "doc": true}],
            "authors": [], "categories": [], "keywords": [], "edition": "2021", "metadata": null,
            "publish": null, "license": null, "description": null, "readme": null, "repository": null,
            "homepage": null, "documentation": null, "rust_version": null, "license_file": null,
            "default_run": null
        })
    }

    /// `edges`: (from, to, kind) with kind `None` for normal, `Some("build")`, `Some("dev")`;
    /// `features`: the resolve's unified features per package.
    fn workspace(
        crates: &[(&str, Option<&str>)],
        edges: &[(&str, &str, Option<&str>)],
        features: &[(&str, &[&str])],
        activated: Option<&Activated>,
    ) -> TargetDeps {
        let nodes: Vec<Value> = crates
            .iter()
            .map(|(name, _)| {
                let deps: Vec<Value> = edges
                    .iter()
                    .filter(|(from, _, _)| from == name)
                    .map(|(_, to, kind)| {
                        json!({"name": to.replace('-', "_"), "pkg": id(to),
                               "dep_kinds": [{"kind": kind, "target": null}]})
                    })
                    .collect();
                let on: Vec<&str> = features
                    .iter()
                    .filter(|(n, _)| n == name)
                    .flat_map(|(_, f)| f.iter().copied())
                    .collect();
                json!({"id": id(name), "dependencies": deps.iter().map(|d| d["pkg"].clone()).collect::<Vec<_>>(),
                       "deps": deps, "features": on})
            })
            .collect();
        let metadata: cargo_metadata::Metadata = serde_json::from_value(json!({
            "packages": crates.iter().map(|(n, l)| package(n, *l)).collect::<Vec<_>>(),
            "workspace_members": [id("app")],
            "workspace_default_members": [id("app")],
            "resolve": {"nodes": nodes, "root": id("app")},
            "target_directory": "/w/target", "build_directory": "/w/target", "version": 1,
            "workspace_root": "/w", "metadata": null
        }))
        .expect("a metadata shape");
        let toolchain = toolchain_for_channel("1", crate::source::Source::Default);
        let triple = "x86_64-unknown-linux-musl";
        let reading = Reading {
            declared_targets: Default::default(),
            triples: vec![triple.to_string()],
            cpp_build_scripts: Default::default(),
            activated: activated
                .map(|a| (triple.to_string(), a.clone()))
                .into_iter()
                .collect(),
        };
        let workspace = from_metadata(
            &metadata,
            camino::Utf8Path::new("/w/Cargo.toml"),
            toolchain,
            Vec::new(),
            true,
            &reading,
        );
        let app = workspace.members.into_iter().next().expect("the member");
        app.target(triple).clone()
    }

    fn krates(links: &[crate::model::NativeLink]) -> Vec<&str> {
        links.iter().map(|l| l.krate.as_str()).collect()
    }

    const FLATE2: &[(&str, Option<&str>)] = &[
        ("app", None),
        ("cc", None),
        ("flate2", None),
        ("libz-sys", Some("z")),
        ("pkg-config", None),
    ];

    #[test]
    fn a_dev_dependency_feature_adds_no_native_crate() {
        // `[dependencies] flate2` and `[dev-dependencies] flate2 = { features = ["zlib"] }`: the resolve
        // unifies both, so flate2 depends on libz-sys there, with a plain `normal` kind.
        let edges = [
            ("app", "flate2", None),
            ("flate2", "libz-sys", None),
            ("libz-sys", "cc", Some("build")),
            ("libz-sys", "pkg-config", Some("build")),
        ];
        let unified = workspace(FLATE2, &edges, &[("flate2", &["zlib"])], None);
        assert_eq!(krates(&unified.native), ["libz-sys"], "the resolve alone");
        // On musl, libz-sys compiles its bundled zlib (`native::on_target`).
        assert_eq!(unified.native[0].linkage, Linkage::Static);

        let tree = "app v1.0.0 (/w/app)|\n`-- flate2 v1.0.0|default,rust_backend\n";
        let activated = Activated::from_tree(tree);
        let exact = workspace(FLATE2, &edges, &[("flate2", &["zlib"])], Some(&activated));
        assert!(exact.native.is_empty(), "{:?}", exact.native);
        assert!(exact.build_native.is_empty());
        assert!(exact.compiles_c.is_empty());
        // The tests do link it: the `test` stage needs its `-dev` packages on the builder.
        assert_eq!(krates(&exact.test_native), ["libz-sys"]);
    }

    #[test]
    fn a_dev_dependency_links_into_the_tests_only() {
        let crates = [("app", None), ("libsqlite3-sys", Some("sqlite3"))];
        let edges = [("app", "libsqlite3-sys", Some("dev"))];
        let app = workspace(&crates, &edges, &[], None);
        assert!(app.native.is_empty() && app.build_native.is_empty());
        assert_eq!(krates(&app.test_native), ["libsqlite3-sys"]);
        assert!(app.test_native[0]
            .build_packages
            .contains(&"libsqlite3-dev".to_string()));
    }

    #[test]
    fn a_build_dependency_links_on_the_builder_only() {
        // `[build-dependencies] flate2 = { features = ["zlib"] }`: the build script links libz.
        let edges = [
            ("app", "flate2", Some("build")),
            ("flate2", "libz-sys", None),
            ("libz-sys", "cc", Some("build")),
            ("libz-sys", "pkg-config", Some("build")),
        ];
        let tree = "app v1.0.0 (/w/app)|\n[build-dependencies]\n`-- flate2 v1.0.0|zlib\n    `-- libz-sys v1.0.0|\n        [build-dependencies]\n        |-- cc v1.0.0|\n        `-- pkg-config v1.0.0|\n";
        let activated = Activated::from_tree(tree);
        for activated in [None, Some(&activated)] {
            let app = workspace(FLATE2, &edges, &[("flate2", &["zlib"])], activated);
            assert!(app.native.is_empty(), "nothing links into the binary");
            assert_eq!(krates(&app.build_native), ["libz-sys"]);
            assert!(app.build_native[0]
                .build_packages
                .contains(&"zlib1g-dev".to_string()));
            assert!(
                app.compiles_c.is_empty(),
                "libz-sys's C is compiled for the builder's machine"
            );
        }
    }

    #[test]
    fn a_bundled_feature_only_a_test_enables_leaves_the_library_dynamic() {
        // `[dev-dependencies] rusqlite = { features = ["bundled"] }`: the binary links the system library.
        let crates = [
            ("app", None),
            ("cc", None),
            ("libsqlite3-sys", Some("sqlite3")),
        ];
        let edges = [
            ("app", "libsqlite3-sys", None),
            ("libsqlite3-sys", "cc", Some("build")),
        ];
        let unified = workspace(&crates, &edges, &[("libsqlite3-sys", &["bundled"])], None);
        assert_eq!(
            unified.native[0].linkage,
            Linkage::Static,
            "the resolve alone"
        );
        let tree = "app v1.0.0 (/w/app)|\n`-- libsqlite3-sys v1.0.0|default\n    [build-dependencies]\n    `-- cc v1.0.0|\n";
        let activated = Activated::from_tree(tree);
        let exact = workspace(
            &crates,
            &edges,
            &[("libsqlite3-sys", &["bundled"])],
            Some(&activated),
        );
        assert_eq!(exact.native[0].linkage, Linkage::Dynamic);
        assert!(
            exact.compiles_c == ["libsqlite3-sys"],
            "libsqlite3-sys's build script compiles C for the target"
        );
    }

    #[test]
    fn what_a_proc_macro_links_goes_to_the_builder_only() {
        let crates = [
            ("app", None),
            ("libsqlite3-sys", Some("sqlite3")),
            ("sql-macros", None),
        ];
        let edges = [
            ("app", "sql-macros", None),
            ("sql-macros", "libsqlite3-sys", None),
        ];
        let tree = "app v1.0.0 (/w/app)|\n`-- sql-macros v1.0.0 (proc-macro)|\n    `-- libsqlite3-sys v1.0.0|\n";
        let activated = Activated::from_tree(tree);
        let app = workspace(&crates, &edges, &[], Some(&activated));
        assert!(app.native.is_empty(), "{:?}", app.native);
        assert_eq!(krates(&app.build_native), ["libsqlite3-sys"]);
    }

    #[test]
    fn an_optional_tool_left_off_is_no_tool() {
        // A `-sys` crate with an optional `bindgen` build-dependency the build does not enable: unified,
        // the resolve shows it (another member or a test enabled it); the build compiles no bindgen.
        let crates = [("app", None), ("bindgen", None), ("zstd-sys", Some("zstd"))];
        let edges = [
            ("app", "zstd-sys", None),
            ("zstd-sys", "bindgen", Some("build")),
        ];
        let unified = workspace(&crates, &edges, &[], None);
        assert_eq!(unified.build_tools.len(), 1);
        let tree = "app v1.0.0 (/w/app)|\n`-- zstd-sys v1.0.0|legacy\n";
        let activated = Activated::from_tree(tree);
        let exact = workspace(&crates, &edges, &[], Some(&activated));
        assert!(exact.build_tools.is_empty(), "{:?}", exact.build_tools);
    }
}

fn fixture_manifest(name: &str) -> camino::Utf8PathBuf {
    camino::Utf8PathBuf::from(format!(
        "{}/fixtures/workspaces/{name}/Cargo.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn fixture_metadata(name: &str) -> cargo_metadata::Metadata {
    cargo_metadata::MetadataCommand::new()
        .manifest_path(fixture_manifest(name))
        .exec()
        .expect("cargo metadata of a fixture")
}

/// A pure-Rust workspace (69 packages, tokio, axum, clap) runs no `cargo tree`; one with native crates does.
#[test]
fn only_a_workspace_with_native_crates_or_tools_is_at_stake() {
    assert!(!at_stake(&fixture_metadata("bench-services")));
    assert!(!at_stake(&fixture_metadata("single-bin")));
    assert!(at_stake(&fixture_metadata("native-static")));
    assert!(at_stake(&fixture_metadata("dev-guesses")));
}

/// Each triple gets its own run (real Cargo, the `native-static` fixture): jemalloc is a dependency of the musl
/// target only, so only the musl run compiles it, and the graph reads each triple from its own run.
#[test]
fn each_triple_is_resolved_by_its_own_run() {
    let (musl, gnu) = ("x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu");
    let manifest = fixture_manifest("native-static");
    let options = LoadOptions {
        manifest_path: Some(manifest.clone()),
        ..LoadOptions::default()
    };
    let triples = [musl.to_string(), gnu.to_string()];
    let runs = run(&manifest, &options, &triples).expect("cargo tree for two triples");
    assert_eq!(runs.keys().collect::<Vec<_>>(), [gnu, musl]);
    let jemalloc = |triple: &str| {
        runs[triple]
            .target
            .keys()
            .any(|(name, _)| name == "tikv-jemalloc-sys")
    };
    assert!(jemalloc(musl));
    assert!(!jemalloc(gnu));

    let workspace = crate::workspace::load(&options)
        .and_then(|loaded| loaded.read_targets(&triples))
        .expect("the fixture loads");
    let member = workspace
        .members
        .iter()
        .find(|m| m.name == "jemalloc-alloc")
        .expect("the jemalloc member");
    let natives = |triple: &str| -> Vec<String> {
        member
            .target(triple)
            .native
            .iter()
            .map(|n| n.krate.clone())
            .collect()
    };
    assert_eq!(natives(musl), ["tikv-jemalloc-sys"]);
    assert!(natives(gnu).is_empty(), "{:?}", natives(gnu));
    assert_eq!(member.target(musl).compiles_c, ["tikv-jemalloc-sys"]);
    assert!(member.target(gnu).compiles_c.is_empty());
}
