//! What a `cargo build` of the binaries really compiles, where `cargo metadata`'s resolve says more.
//!
//! `cargo metadata` resolves features the way the first resolver did: one feature set per package, unified over
//! normal, build and dev-dependencies (RFC 2957, "cargo metadata"). A `cargo build` with resolver 2 enables
//! neither the features only dev-dependencies ask for nor, on the target, those only build-dependencies ask
//! for. So a test's `flate2 = { features = ["zlib"] }` puts `libz-sys` into the resolve although no binary
//! links it, and a build script's own needs look like the binaries' needs: phantom native crates that would
//! add `-dev` packages and force glibc, or, the other way round, a `bundled` feature that only a test enables.
//! The resolve also lists dependencies only a weak feature names (`serde?/std` shows `serde`, cargo#15784), and
//! what proc macros link as if the binary linked it.
//!
//! `cargo tree` answers with Cargo's own feature resolver: `-e normal` lists what is compiled for the target
//! (with the features it gets there), `-e normal,build` adds what build scripts use on the host. [`Activated`]
//! holds both; the graph walk follows only edges to packages it lists and takes its features. Running `cargo`
//! a second time costs as much as `cargo metadata` again, so [`at_stake`] says whether anything the resolve
//! shows could change the Dockerfile (a known native crate, a build tool, C code); a pure-Rust workspace
//! never pays.
//!
//! Parsing is pure; [`run`] is the process edge.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8Path;

use super::{LoadOptions, WorkspaceError};

/// A package as `cargo tree` prints it: name and version (`{p}` without its source).
type Key = (String, String);

/// The packages a build of the workspace's binaries compiles, and their features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activated {
    /// Compiled for the target (linked into the binaries, or proc macros), with their features there.
    target: BTreeMap<Key, BTreeSet<String>>,
    /// Compiled for build scripts with other features than on the target, or only for them.
    host: BTreeMap<Key, BTreeSet<String>>,
}

impl Activated {
    /// From `cargo tree -e normal` (`target_tree`) and `cargo tree -e normal,build` (`full_tree`), both with
    /// `--prefix depth -f '{p}|{f}'`.
    pub fn from_trees(target_tree: &str, full_tree: &str) -> Self {
        let mut target: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
        for (key, features) in without_proc_macro_dependencies(&parse_tree(target_tree)) {
            target.entry(key).or_default().extend(features);
        }
        let mut host: BTreeMap<Key, BTreeSet<String>> = BTreeMap::new();
        for TreeLine { key, features, .. } in parse_tree(full_tree) {
            if target.get(&key) != Some(&features) {
                host.entry(key).or_default().extend(features);
            }
        }
        Self { target, host }
    }

    /// The features of `name` `version` where it is compiled for the target; `None` when it is not.
    pub fn target_features(&self, name: &str, version: &str) -> Option<&BTreeSet<String>> {
        self.target.get(&(name.to_string(), version.to_string()))
    }

    /// The features of `name` `version` where a build script uses it; `None` when nothing compiles it.
    pub fn host_features(&self, name: &str, version: &str) -> Option<&BTreeSet<String>> {
        let key = (name.to_string(), version.to_string());
        self.host.get(&key).or_else(|| self.target.get(&key))
    }
}

/// One package line of `cargo tree`: its depth, whether it is a proc macro, the package and its features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine {
    pub depth: usize,
    pub proc_macro: bool,
    pub key: Key,
    pub features: BTreeSet<String>,
}

/// Every package line of `cargo tree --prefix depth -f '{p}|{f}'`. A line is `2serde v1.0.219|default,std`:
/// the depth, then ` (proc-macro)` or ` (/path)` after the version and ` (*)` after a package printed before;
/// other lines (a warning) are skipped.
pub fn parse_tree(text: &str) -> Vec<TreeLine> {
    text.lines()
        .filter_map(|line| {
            let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let depth = line[..digits].parse().unwrap_or(0);
            let (package, features) = line[digits..].split_once('|')?;
            let mut words = package.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            let features = features.trim_end().trim_end_matches("(*)").trim_end();
            let features = features
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect();
            Some(TreeLine {
                depth,
                proc_macro: package.contains("(proc-macro)"),
                key: (name.to_string(), version.to_string()),
                features,
            })
        })
        .collect()
}

/// The packages of `lines` with what proc macros depend on left out: a proc macro runs in the compiler, so its
/// dependencies are compiled for the builder's machine and linked into no binary (with `--target`, `cargo tree`
/// prints them as nodes of their own, so a package the target needs too appears again outside).
fn without_proc_macro_dependencies(lines: &[TreeLine]) -> Vec<(Key, BTreeSet<String>)> {
    let mut out = Vec::new();
    let mut inside: Option<usize> = None;
    for line in lines {
        match inside {
            Some(depth) if line.depth > depth => continue,
            _ => inside = None,
        }
        if line.proc_macro {
            inside = Some(line.depth);
        }
        out.push((line.key.clone(), line.features.clone()));
    }
    out
}

/// Crates whose presence makes the exact resolve worth a second `cargo` run: they decide packages, the libc
/// or a C toolchain. Crates with a `links` key count too (see [`at_stake`]).
const DECIDING: &[&str] = &[
    "bindgen",
    "cc",
    "cmake",
    "openssl-src",
    "prost-build",
    "protoc-rust",
];

/// Whether the resolve holds anything the exact resolve could change: a package with a `links` key (a native
/// crate) or one of the crates that bring build tools or C code.
pub fn at_stake(metadata: &cargo_metadata::Metadata) -> bool {
    let resolved: BTreeSet<&cargo_metadata::PackageId> = metadata
        .resolve
        .iter()
        .flat_map(|r| r.nodes.iter().map(|n| &n.id))
        .collect();
    metadata
        .packages
        .iter()
        .filter(|p| resolved.contains(&p.id))
        .any(|p| p.links.is_some() || DECIDING.contains(&p.name.as_str()))
}

/// Runs `cargo tree` twice for the workspace of `manifest`, with the feature flags and target of `options`.
pub fn run(manifest: &Utf8Path, options: &LoadOptions) -> Result<Activated, WorkspaceError> {
    let target = tree(manifest, options, "normal")?;
    let full = tree(manifest, options, "normal,build")?;
    Ok(Activated::from_trees(&target, &full))
}

fn tree(manifest: &Utf8Path, options: &LoadOptions, edges: &str) -> Result<String, WorkspaceError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = std::process::Command::new(cargo);
    command
        .args([
            "tree",
            "--workspace",
            "--prefix",
            "depth",
            "--color",
            "never",
        ])
        .args(["--format", "{p}|{f}", "--edges", edges])
        .args(["--target", options.target_triple.as_str()])
        .arg("--manifest-path")
        .arg(manifest);
    if options.all_features {
        command.arg("--all-features");
    }
    if options.no_default_features {
        command.arg("--no-default-features");
    }
    if !options.features.is_empty() {
        command.args(["--features", &options.features.join(",")]);
    }
    let output = command
        .output()
        .map_err(|source| WorkspaceError::TreeSpawn {
            manifest: manifest.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(WorkspaceError::TreeFailed {
            manifest: manifest.to_owned(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(features: &[&str]) -> BTreeSet<String> {
        features.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn tree_lines_give_name_version_and_features() {
        let lines = parse_tree(
            "0app v0.1.0 (/tmp/app)|\n1serde_derive v1.0.219 (proc-macro)|default\n1flate2 v1.1.11|any_impl,default (*)\nwarning: something\n",
        );
        let keys: Vec<(&str, &str)> = lines
            .iter()
            .map(|l| (l.key.0.as_str(), l.key.1.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("app", "0.1.0"),
                ("serde_derive", "1.0.219"),
                ("flate2", "1.1.11")
            ]
        );
        assert!(lines[0].features.is_empty());
        assert_eq!(lines[2].features, set(&["any_impl", "default"]));
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.depth, l.proc_macro))
                .collect::<Vec<_>>(),
            [(0, false), (1, true), (1, false)]
        );
    }

    #[test]
    fn what_a_proc_macro_links_is_not_the_targets() {
        // A macro crate checking SQL at compile time links SQLite in the compiler, not in the binary.
        let tree = "0app v1.0.0 (/w)|\n1sql-macros v1.0.0 (proc-macro)|\n2libsqlite3-sys v0.30.0|\n3cc v1.2.0|\n1itoa v1.0.0|\n";
        let activated = Activated::from_trees(tree, tree);
        assert_eq!(activated.target_features("libsqlite3-sys", "0.30.0"), None);
        assert!(activated
            .host_features("libsqlite3-sys", "0.30.0")
            .is_some());
        assert!(activated.target_features("itoa", "1.0.0").is_some());
        assert!(activated.target_features("sql-macros", "1.0.0").is_some());
    }

    #[test]
    fn a_build_script_feature_stays_on_the_host() {
        // `flate2` with `zlib` for the build script only: the target's flate2 has no `libz-sys`.
        let target = "app v0.1.0 (/w)|\nflate2 v1.1.11|default,rust_backend\nminiz_oxide v0.9.1|\n";
        let full = "app v0.1.0 (/w)|\nflate2 v1.1.11|default,rust_backend\nminiz_oxide v0.9.1|\nflate2 v1.1.11|default,libz-sys,rust_backend,zlib\nlibz-sys v1.1.31|\ncc v1.2.0|\n";
        let activated = Activated::from_trees(target, full);
        assert_eq!(
            activated.target_features("flate2", "1.1.11"),
            Some(&set(&["default", "rust_backend"]))
        );
        assert_eq!(
            activated.host_features("flate2", "1.1.11"),
            Some(&set(&["default", "libz-sys", "rust_backend", "zlib"]))
        );
        assert_eq!(activated.target_features("libz-sys", "1.1.31"), None);
        assert_eq!(
            activated.host_features("libz-sys", "1.1.31"),
            Some(&set(&[]))
        );
        // Same features on both sides: the host sees the target's.
        assert_eq!(
            activated.host_features("miniz_oxide", "0.9.1"),
            Some(&set(&[]))
        );
        assert_eq!(activated.host_features("openssl-sys", "0.9.0"), None);
    }

    /// Graphs as `cargo metadata` records them, small enough to read: what the walk makes of each, with and
    /// without the exact resolve.
    mod shapes {
        use serde_json::{json, Value};

        use super::*;
        use crate::model::Linkage;
        use crate::workspace::{from_resolved, toolchain_for_channel, Package};

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
        ) -> Package {
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
            let toolchain = toolchain_for_channel("1", crate::workspace::ToolchainSource::Floating);
            let workspace = from_resolved(
                &metadata,
                activated,
                camino::Utf8Path::new("/w/Cargo.toml"),
                toolchain,
                Vec::new(),
                true,
            );
            workspace.members.into_iter().next().expect("the member")
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
            assert_eq!(unified.native[0].linkage, Linkage::Dynamic);

            let tree = "app v1.0.0 (/w/app)|\nflate2 v1.0.0|default,rust_backend\n";
            let activated = Activated::from_trees(tree, tree);
            let exact = workspace(FLATE2, &edges, &[("flate2", &["zlib"])], Some(&activated));
            assert!(exact.native.is_empty(), "{:?}", exact.native);
            assert!(exact.build_native.is_empty());
            assert!(!exact.compiles_c);
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
            let target = "app v1.0.0 (/w/app)|\n";
            let full = "app v1.0.0 (/w/app)|\nflate2 v1.0.0|zlib\nlibz-sys v1.0.0|\ncc v1.0.0|\npkg-config v1.0.0|\n";
            let activated = Activated::from_trees(target, full);
            for activated in [None, Some(&activated)] {
                let app = workspace(FLATE2, &edges, &[("flate2", &["zlib"])], activated);
                assert!(app.native.is_empty(), "nothing links into the binary");
                assert_eq!(krates(&app.build_native), ["libz-sys"]);
                assert!(app.build_native[0]
                    .build_packages
                    .contains(&"zlib1g-dev".to_string()));
                assert!(
                    !app.compiles_c,
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
            let tree = "app v1.0.0 (/w/app)|\nlibsqlite3-sys v1.0.0|default\ncc v1.0.0|\n";
            let activated = Activated::from_trees(tree, tree);
            let exact = workspace(
                &crates,
                &edges,
                &[("libsqlite3-sys", &["bundled"])],
                Some(&activated),
            );
            assert_eq!(exact.native[0].linkage, Linkage::Dynamic);
            assert!(
                exact.compiles_c,
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
            let tree = "0app v1.0.0 (/w/app)|\n1sql-macros v1.0.0 (proc-macro)|\n2libsqlite3-sys v1.0.0|\n";
            let activated = Activated::from_trees(tree, tree);
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
            let tree = "app v1.0.0 (/w/app)|\nzstd-sys v1.0.0|legacy\n";
            let activated = Activated::from_trees(tree, tree);
            let exact = workspace(&crates, &edges, &[], Some(&activated));
            assert!(exact.build_tools.is_empty(), "{:?}", exact.build_tools);
        }
    }
}
