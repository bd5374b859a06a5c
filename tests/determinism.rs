//! The same workspace gives the same bytes, whatever order its parts arrive in.
//!
//! `workspace::load` sorts what it reads, but the planner must not depend on that: these tests build a
//! synthetic [`Workspace`] value (by editing the public fields of a loaded one), shuffle its members,
//! binaries, native crates and toolchain files with a seeded permutation, and check that the rendered
//! Dockerfile and the `list --format json` document (through `common::library`) are identical to those of the
//! sorted workspace. The synthetic workspace also covers what no fixture does on its own: binaries on musl and
//! glibc builders in one Dockerfile, shared and invalid names, native libraries that distroless lacks. Its
//! Dockerfile goes through the same structural checks as the fixtures'.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use cargo_dockerize::model::{Linkage, NativeLink};
use cargo_dockerize::source::Source;
use cargo_dockerize::workspace::{self, Package, Workspace};
use common::library;

/// A workspace as `workspace::load` gives it, to build the synthetic one from.
///
/// The synthetic values are made by changing public fields of loaded ones rather than by struct
/// literals, so that a field added to `Workspace`, `Package` or `Binary` does not break this test.
fn loaded() -> &'static Workspace {
    static LOADED: OnceLock<Workspace> = OnceLock::new();
    LOADED.get_or_init(|| {
        // linux/amd64: the musl and the glibc triple.
        let copy = common::Fixture::copy("workspace");
        library::load(&copy.manifest(), &[]).workspace
    })
}

fn package(name: &str, binaries: &[(&str, &[&str])], native: Vec<NativeLink>) -> Package {
    let template = loaded()
        .members
        .iter()
        .find(|p| p.name == "api")
        .expect("the fixture has `api`");
    let dir = format!("crates/{name}");
    let mut binaries: Vec<_> = binaries
        .iter()
        .map(|(b, features)| {
            let mut binary = template.binaries[0].clone();
            binary.name = b.to_string();
            binary.src_path = format!("{dir}/src/bin/{b}.rs").into();
            binary.required_features = features.iter().map(|f| f.to_string()).collect();
            binary
        })
        .collect();
    binaries.sort_by(|a, b| a.name.cmp(&b.name));
    let mut package = template.clone();
    package.name = name.to_string();
    package.version = "1.2.3".to_string();
    package.description = Some(format!("the {name} package"));
    package.license = Some("MIT".to_string());
    package.repository = None;
    package.homepage = None;
    package.dir = dir.into();
    package.features = BTreeMap::from([
        ("default".to_string(), Vec::new()),
        ("extra".to_string(), Vec::new()),
    ]);
    package.binaries = binaries;
    // The same native crates on every target the workspace was read for; the dynamic ones are linked by a build
    // script and the tests too (builder packages of their own, in sorted lists).
    let dynamic: Vec<NativeLink> = native
        .iter()
        .filter(|n| n.linkage == Linkage::Dynamic)
        .cloned()
        .collect();
    for deps in package.targets.values_mut() {
        deps.native = native.clone();
        deps.build_native = dynamic.clone();
        deps.test_native = dynamic.clone();
    }
    package
}

fn link(krate: &str, links: &str) -> NativeLink {
    workspace::classify(krate, Some(links), &[], &[krate]).expect("a native crate")
}

/// A workspace as `workspace::load` gives it: everything sorted.
fn sorted_workspace() -> Workspace {
    let mut tls_native = vec![
        link("openssl-sys", "openssl"),
        link("libz-sys", "z"),
        link("libsqlite3-sys", "sqlite3"),
        link("ring", "ring_core_0_17"),
    ];
    tls_native.sort();
    let mut members = vec![
        package("alpha-svc", &[("server", &[])], Vec::new()),
        package("api", &[("api", &[]), ("admin", &[])], Vec::new()),
        package("beta-svc", &[("server", &[])], Vec::new()),
        package("common", &[], Vec::new()),
        package("tls", &[("tls-proxy", &[]), ("builder", &[])], tls_native),
        package(
            "tools",
            &[
                ("My_Tool", &[]),
                ("2fa", &[]),
                ("gated", &["extra"]),
                ("my_tool", &[]),
            ],
            vec![link("openssl-sys", "openssl")],
        ),
    ];
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let mut workspace = loaded().clone();
    workspace.root = "/work/ws".into();
    workspace.target_dir = "/work/ws/target".into();
    workspace.default_members = members
        .iter()
        .map(|m| m.name.clone())
        .collect::<BTreeSet<_>>();
    workspace.members = members;
    workspace.current_package = None;
    workspace.has_lockfile = true;
    workspace.toolchain = workspace::toolchain_for_channel("1.95", Source::Default);
    workspace.toolchain_files = vec![
        "rust-toolchain.toml".to_string(),
        "rust-toolchain".to_string(),
    ];
    workspace
}

/// A deterministic permutation (Fisher–Yates with a small LCG), different for every seed.
fn shuffle<T>(items: &mut [T], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (*seed >> 33) as usize % (i + 1);
        items.swap(i, j);
    }
}

fn shuffled_workspace(seed: u64) -> Workspace {
    let mut seed = seed;
    let mut workspace = sorted_workspace();
    shuffle(&mut workspace.members, &mut seed);
    for member in &mut workspace.members {
        shuffle(&mut member.binaries, &mut seed);
        for deps in member.targets.values_mut() {
            shuffle(&mut deps.native, &mut seed);
            shuffle(&mut deps.compiles_c, &mut seed);
            shuffle(&mut deps.build_native, &mut seed);
            shuffle(&mut deps.test_native, &mut seed);
        }
    }
    shuffle(&mut workspace.toolchain_files, &mut seed);
    workspace
}

/// The scenarios: the default, every member, glibc (static and not), a runtime override, a selection.
const SCENARIOS: &[(&str, &[&str])] = &[
    ("default", &[]),
    ("workspace", &["--workspace"]),
    ("gnu-static", &["--workspace", "--libc", "gnu", "--static"]),
    ("debian-slim", &["--workspace", "--runtime", "debian-slim"]),
    (
        "bins",
        &[
            "--bin",
            "server",
            "--bin",
            "gated",
            "--bin",
            "2fa",
            "--features",
            "tools/extra",
        ],
    ),
];

/// The Dockerfile and the JSON listing of a plan.
fn outputs(workspace: &Workspace, args: &[&str]) -> (String, String) {
    let rendered = library::render_with(workspace, &library::settings(args));
    (rendered.dockerfile, rendered.list_text)
}

/// The CI workflow of the plan (`cargo dockerize ci`), which lists every image of the file.
fn workflow(workspace: &Workspace, args: &[&str]) -> String {
    library::workflow(workspace, &library::settings(args))
}

#[test]
fn shuffled_workspace_renders_identically() {
    for &(name, args) in SCENARIOS {
        let (dockerfile, json) = outputs(&sorted_workspace(), args);
        for seed in 0..16 {
            let shuffled = shuffled_workspace(seed);
            let (shuffled_dockerfile, shuffled_json) = outputs(&shuffled, args);
            assert!(
                shuffled_dockerfile == dockerfile,
                "settings `{name}`, seed {seed}: the Dockerfile depends on the input order\n{}",
                first_difference(&dockerfile, &shuffled_dockerfile)
            );
            assert!(
                shuffled_json == json,
                "settings `{name}`, seed {seed}: `list --format json` depends on the input order\n{}",
                first_difference(&json, &shuffled_json)
            );
            let (sorted, shuffled) = (
                workflow(&sorted_workspace(), args),
                workflow(&shuffled, args),
            );
            assert!(
                sorted == shuffled,
                "settings `{name}`, seed {seed}: the workflow depends on the input order\n{}",
                first_difference(&sorted, &shuffled)
            );
        }
    }
}

#[test]
fn rendering_the_same_plan_twice_is_identical() {
    let workspace = sorted_workspace();
    for &(name, args) in SCENARIOS {
        let plan = library::plan(&workspace, &library::settings(args));
        let (once, twice) = (library::render_plan(&plan), library::render_plan(&plan));
        assert_eq!(once.dockerfile, twice.dockerfile, "{name}");
        assert_eq!(once.dockerignore, twice.dockerignore, "{name}");
        assert_eq!(once.list_text, twice.list_text, "{name}");
    }
}

#[test]
fn synthetic_workspace_keeps_the_structural_rules() {
    for &(name, args) in SCENARIOS {
        // The listing of every image of the file (`--workspace`, no `--bin`): a selection only narrows it.
        let mut args: Vec<&str> = args.to_vec();
        while let Some(at) = args.iter().position(|a| *a == "--bin") {
            args.drain(at..at + 2);
        }
        if !args.contains(&"--workspace") {
            args.push("--workspace");
        }
        let (dockerfile, json) = outputs(&sorted_workspace(), &args);
        let list: serde_json::Value = serde_json::from_str(&json).unwrap();
        common::structure::check(
            &format!("synthetic workspace, settings `{name}`"),
            &dockerfile,
            &common::listed_binaries(&list),
        );
    }
}

#[test]
fn synthetic_workspace_mixes_builders_and_runtimes() {
    // What the structural check above covers: two builders, three runtimes, renamed binaries.
    let plan = library::plan(&sorted_workspace(), &library::settings(&["--workspace"]));
    let builders: Vec<&str> = plan.builders.iter().map(|b| b.stage.as_str()).collect();
    assert_eq!(builders, ["builder-gnu", "builder-musl"]);
    let runtimes: BTreeSet<&str> = plan.images.iter().map(|i| i.runtime.kind()).collect();
    assert_eq!(
        runtimes,
        BTreeSet::from(["debian-slim", "distroless", "scratch"])
    );
    let stages: Vec<&str> = plan.images.iter().map(|i| i.stage.as_str()).collect();
    for stage in &stages {
        assert!(common::structure::is_valid_stage_name(stage), "{stage}");
    }
    let unique: BTreeSet<&&str> = stages.iter().collect();
    assert_eq!(unique.len(), stages.len(), "{stages:?}");
}

/// The first differing line of two texts, for a readable failure.
fn first_difference(expected: &str, actual: &str) -> String {
    let mut expected_lines = expected.lines();
    let mut actual_lines = actual.lines();
    let mut line = 1;
    loop {
        match (expected_lines.next(), actual_lines.next()) {
            (Some(e), Some(a)) if e == a => line += 1,
            (None, None) => return "(no line differs)".to_string(),
            (e, a) => {
                return format!(
                    "line {line}:\n  sorted:   {}\n  shuffled: {}",
                    e.unwrap_or("<end>"),
                    a.unwrap_or("<end>")
                )
            }
        }
    }
}

/// The compile cache is never shared by builds that could not share artifacts: another toolchain, profile or
/// target gets another cache id, and the same workspace always gets the same one.
#[test]
fn compile_cache_ids_follow_toolchain_profile_and_target() {
    let ids = |workspace: &Workspace, args: &[&str]| -> Vec<String> {
        let plan = library::plan(workspace, &library::settings(args));
        plan.builders.iter().map(|b| b.cache_id.clone()).collect()
    };
    let musl = ["--libc", "musl"];
    let workspace = sorted_workspace();
    let base = ids(&workspace, &musl);
    assert_eq!(base, ids(&sorted_workspace(), &musl));
    let mut other_toolchain = sorted_workspace();
    other_toolchain.toolchain = workspace::toolchain_for_channel("1.96", Source::Default);
    for (what, other) in [
        ("toolchain", ids(&other_toolchain, &musl)),
        (
            "profile",
            ids(&workspace, &["--libc", "musl", "--profile", "dev"]),
        ),
        ("target", ids(&workspace, &["--libc", "gnu"])),
    ] {
        for id in &other {
            assert!(!base.contains(id), "another {what} shares the cache `{id}`");
        }
    }
}
