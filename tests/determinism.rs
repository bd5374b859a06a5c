//! The same workspace gives the same bytes, whatever order its parts arrive in.
//!
//! `workspace::load` sorts what it reads, but the planner must not depend on that: these tests build a
//! synthetic [`Workspace`] value (by editing the public fields of a loaded one), shuffle its members,
//! binaries, native crates and toolchain files with a seeded permutation, and check that `render::render(&plan::plan_for(..))` and the `list --format json` document are identical to
//! those of the sorted workspace. The synthetic workspace also covers what no fixture does on its own:
//! binaries on musl and glibc builders in one Dockerfile, shared and invalid names, native libraries
//! that distroless lacks. Its Dockerfile goes through the same structural checks as the fixtures'.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use cargo_dockerize::config::{Features, Linking, Selection, Settings};
use cargo_dockerize::model::{Libc, Linkage, NativeLink, Runtime};
use cargo_dockerize::source::Source;
use cargo_dockerize::ui::listing;
use cargo_dockerize::workspace::{self, Package, Workspace};
use cargo_dockerize::{plan, render};

/// A workspace as `workspace::load` gives it, to build the synthetic one from.
///
/// The synthetic values are made by changing public fields of loaded ones rather than by struct
/// literals, so that a field added to `Workspace`, `Package` or `Binary` does not break this test.
fn loaded() -> &'static Workspace {
    static LOADED: OnceLock<Workspace> = OnceLock::new();
    LOADED.get_or_init(|| {
        let copy = common::Fixture::copy("workspace");
        workspace::load(&workspace::LoadOptions {
            manifest_path: Some(
                copy.manifest()
                    .to_str()
                    .expect("a UTF-8 temporary path")
                    .into(),
            ),
            ..Default::default()
        })
        .and_then(|loaded| {
            loaded.read_targets(&[
                "x86_64-unknown-linux-musl".into(),
                "x86_64-unknown-linux-gnu".into(),
            ])
        })
        .expect("load the workspace fixture")
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
fn settings() -> Vec<(&'static str, Settings)> {
    let every = Selection {
        workspace: true,
        ..Default::default()
    };
    vec![
        ("default", Settings::default()),
        (
            "workspace",
            Settings {
                selection: every.clone(),
                ..Default::default()
            },
        ),
        (
            "gnu-static",
            Settings {
                selection: every.clone(),
                libc: Some(Libc::Gnu),
                linking: Linking::Static,
                ..Default::default()
            },
        ),
        (
            "debian-slim",
            Settings {
                selection: every,
                runtime: Some(Runtime::DebianSlim),
                ..Default::default()
            },
        ),
        (
            "bins",
            Settings {
                selection: Selection {
                    bins: vec!["server".into(), "gated".into(), "2fa".into()],
                    ..Default::default()
                },
                features: Features {
                    features: vec!["tools/extra".into()],
                    ..Default::default()
                },
                ..Default::default()
            },
        ),
    ]
}

/// The Dockerfile and the JSON listing of a plan.
fn outputs(workspace: &Workspace, settings: &Settings) -> (String, String) {
    let plan = plan::plan_for(workspace, settings).expect("the synthetic workspace plans");
    let mut json = Vec::new();
    listing::write_json(&plan, &mut json).expect("write JSON");
    (
        render::render(&plan),
        String::from_utf8(json).expect("UTF-8"),
    )
}

/// The CI workflow of the plan (`cargo dockerize ci`), which lists every image of the file.
fn workflow(workspace: &Workspace, settings: &Settings) -> String {
    let plan = plan::plan_for(workspace, settings).expect("the synthetic workspace plans");
    let ci = plan::ci::ci_plan(
        &plan,
        plan::ci::DEFAULT_WORKFLOW.into(),
        "cargo dockerize ci".into(),
    )
    .expect("the workflow plans");
    render::workflow(&ci)
}

#[test]
fn shuffled_workspace_renders_identically() {
    for (name, settings) in settings() {
        let (dockerfile, json) = outputs(&sorted_workspace(), &settings);
        for seed in 0..16 {
            let shuffled = shuffled_workspace(seed);
            let (shuffled_dockerfile, shuffled_json) = outputs(&shuffled, &settings);
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
                workflow(&sorted_workspace(), &settings),
                workflow(&shuffled, &settings),
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
    for (name, settings) in settings() {
        let plan = plan::plan_for(&workspace, &settings).unwrap();
        assert_eq!(render::render(&plan), render::render(&plan), "{name}");
        assert_eq!(
            render::dockerignore(&plan.command, &plan.dockerfile),
            render::dockerignore(&plan.command, &plan.dockerfile),
            "{name}"
        );
    }
}

#[test]
fn synthetic_workspace_keeps_the_structural_rules() {
    for (name, settings) in settings() {
        // The listing of every image of the file: the selection only narrows what `list` shows.
        let settings = Settings {
            selection: Selection {
                workspace: true,
                ..Default::default()
            },
            ..settings
        };
        let (dockerfile, json) = outputs(&sorted_workspace(), &settings);
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
    let settings = Settings {
        selection: Selection {
            workspace: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let plan = plan::plan_for(&sorted_workspace(), &settings).unwrap();
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
    let ids = |workspace: &Workspace, settings: &Settings| -> Vec<String> {
        let plan = plan::plan_for(workspace, settings).expect("the synthetic workspace plans");
        plan.builders.iter().map(|b| b.cache_id.clone()).collect()
    };
    let with = |libc: Libc, profile: Option<&str>| Settings {
        libc: Some(libc),
        profile: profile.map(str::to_string),
        ..Default::default()
    };
    let workspace = sorted_workspace();
    let base = ids(&workspace, &with(Libc::Musl, None));
    assert_eq!(base, ids(&sorted_workspace(), &with(Libc::Musl, None)));
    let mut other_toolchain = sorted_workspace();
    other_toolchain.toolchain = workspace::toolchain_for_channel("1.96", Source::Default);
    for (what, other) in [
        ("toolchain", ids(&other_toolchain, &with(Libc::Musl, None))),
        ("profile", ids(&workspace, &with(Libc::Musl, Some("dev")))),
        ("target", ids(&workspace, &with(Libc::Gnu, None))),
    ] {
        for id in &other {
            assert!(!base.contains(id), "another {what} shares the cache `{id}`");
        }
    }
}
