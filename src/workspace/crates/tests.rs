//! Tests of [`super`]: the graph `cargo tree` prints, read per root package, joined with `Cargo.lock`.
use super::*;

/// Two roots of one run: `beta`'s `itoa` was printed under `alpha` first, so it is ` (*)`; `alpha` has a proc
/// macro with a dependency of its own (also linked by `beta`), a build dependency, and a git dependency.
const TREE: &str = r#"alpha v0.2.0 (/w/alpha)||MIT
|-- greet-macro v0.2.0 (proc-macro) (/w/greet-macro)||MIT
|   `-- unicode-ident v1.0.27||(MIT OR Apache-2.0) AND Unicode-3.0
|-- itoa v1.0.19||MIT OR Apache-2.0
`-- smol v0.1.0 (https://github.com/acme/smol?branch=main#0123abcd)|std|Apache-2.0
    `-- itoa v1.0.19||MIT OR Apache-2.0 (*)
[build-dependencies]
`-- autocfg v1.5.1||Apache-2.0 OR MIT

beta v0.2.0 (/w/beta)||MIT
|-- itoa v1.0.19||MIT OR Apache-2.0 (*)
`-- unicode-ident v1.0.27||(MIT OR Apache-2.0) AND Unicode-3.0
"#;

const LOCK: &str = r#"version = 4

[[package]]
name = "alpha"
version = "0.2.0"

[[package]]
name = "autocfg"
version = "1.5.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "aaaa"

[[package]]
name = "itoa"
version = "1.0.19"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "bbbb"

[[package]]
name = "smol"
version = "0.1.0"
source = "git+https://github.com/acme/smol?branch=main#0123abcdef0123abcdef0123abcdef0123abcdef"

[[package]]
name = "unicode-ident"
version = "1.0.27"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "cccc"
"#;

fn names(set: &CrateSet) -> Vec<(&str, bool)> {
    set.crates
        .iter()
        .map(|c| (c.name.as_str(), c.build_only))
        .collect()
}

#[test]
fn each_root_gets_what_it_reaches_with_repeated_nodes_expanded() {
    let sets = parse(TREE, LOCK, "x86_64-unknown-linux-musl");
    assert_eq!(sets.keys().collect::<Vec<_>>(), ["alpha", "beta"]);
    assert_eq!(
        names(&sets["alpha"]),
        [
            ("alpha", false),
            ("autocfg", true),
            ("greet-macro", true),
            ("itoa", false),
            ("smol", false),
            ("unicode-ident", true),
        ]
    );
    assert_eq!(
        names(&sets["beta"]),
        [("beta", false), ("itoa", false), ("unicode-ident", false)],
        "beta links unicode-ident; only alpha's proc macro uses it"
    );
    assert!(sets["alpha"].crates[0].root && !sets["alpha"].crates[1].root);
    assert_eq!(sets["beta"].triple, "x86_64-unknown-linux-musl");
}

#[test]
fn edges_say_which_are_build_dependencies_and_proc_macros() {
    let sets = parse(TREE, LOCK, "t");
    let alpha = &sets["alpha"];
    let edges: Vec<(&str, DependencyKind)> = alpha.crates[0]
        .dependencies
        .iter()
        .map(|d| (alpha.crates[d.index].name.as_str(), d.kind))
        .collect();
    assert_eq!(
        edges,
        [
            ("autocfg", DependencyKind::Build),
            ("greet-macro", DependencyKind::Build),
            ("itoa", DependencyKind::Normal),
            ("smol", DependencyKind::Normal),
        ]
    );
    let smol = alpha.crates.iter().find(|c| c.name == "smol").unwrap();
    assert_eq!(
        smol.dependencies.len(),
        1,
        "the repeated itoa is still an edge"
    );
}

#[test]
fn sources_checksums_and_licenses_come_from_the_lock_file_and_manifests() {
    let sets = parse(TREE, LOCK, "t");
    let alpha = &sets["alpha"];
    let get = |name: &str| alpha.crates.iter().find(|c| c.name == name).unwrap();
    assert_eq!(get("alpha").source, CrateSource::Local);
    assert_eq!(get("alpha").checksum, None);
    assert_eq!(get("itoa").source, CrateSource::CratesIo);
    assert_eq!(get("itoa").checksum.as_deref(), Some("bbbb"));
    assert_eq!(
        get("smol").source,
        CrateSource::Git {
            url: "https://github.com/acme/smol".into(),
            rev: "0123abcdef0123abcdef0123abcdef0123abcdef".into(),
        },
        "the whole commit, from the lock file"
    );
    assert_eq!(
        get("unicode-ident").license.as_deref(),
        Some("(MIT OR Apache-2.0) AND Unicode-3.0"),
        "parentheses in a license are not a source"
    );
    assert!(get("greet-macro").proc_macro);
}

#[test]
fn without_a_lock_file_the_printed_source_is_used() {
    let sets = parse(TREE, "", "t");
    let alpha = &sets["alpha"];
    let smol = alpha.crates.iter().find(|c| c.name == "smol").unwrap();
    assert_eq!(
        smol.source,
        CrateSource::Git {
            url: "https://github.com/acme/smol".into(),
            rev: "0123abcd".into()
        }
    );
    assert_eq!(alpha.crates[1].checksum, None);
    assert_eq!(
        from_printed(Some("registry `acme`")),
        CrateSource::Registry {
            index: "acme".into()
        }
    );
    assert_eq!(
        from_lock(Some("sparse+https://crates.acme.test/index/")),
        CrateSource::Registry {
            index: "https://crates.acme.test/index/".into()
        }
    );
}

#[test]
fn one_name_and_version_from_two_sources_are_two_crates() {
    let tree = "app v0.1.0 (/w/app)||\n|-- fnv v1.0.7||MIT\n`-- fnv v1.0.7 (/w/fnv)||MIT\n";
    let lock = "[[package]]\nname = \"fnv\"\nversion = \"1.0.7\"\n\n[[package]]\nname = \"fnv\"\nversion = \"1.0.7\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"ffff\"\n";
    let sets = parse(tree, lock, "t");
    let fnv: Vec<(&CrateSource, Option<&str>)> = sets["app"]
        .crates
        .iter()
        .filter(|c| c.name == "fnv")
        .map(|c| (&c.source, c.checksum.as_deref()))
        .collect();
    assert_eq!(
        fnv,
        [
            (&CrateSource::CratesIo, Some("ffff")),
            (&CrateSource::Local, None)
        ]
    );
}

#[test]
fn a_crate_linked_and_used_by_the_build_is_linked() {
    let tree = "app v0.1.0 (/w/app)||\n`-- itoa v1.0.19||MIT\n[build-dependencies]\n`-- itoa v1.0.19||MIT\n";
    let sets = parse(tree, "", "t");
    assert_eq!(names(&sets["app"]), [("app", false), ("itoa", false)]);
    let kinds: Vec<DependencyKind> = sets["app"].crates[0]
        .dependencies
        .iter()
        .map(|d| d.kind)
        .collect();
    assert_eq!(kinds, [DependencyKind::Normal, DependencyKind::Build]);
}
