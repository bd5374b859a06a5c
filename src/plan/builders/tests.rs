//! Builder stages on built workspaces: binaries grouped by target triple and static-ness, `cargo build`
//! invocations split only where profiles, features or output names force it, cache ids that keep apart what
//! cannot share artifacts, and the builder base's packages, each with why.

use serde_json::json;

use crate::plan::testing::{builder, image, plan_of, planned};
use crate::plan::{BuilderStage, Plan};
use crate::workspace::testing::{pkg, ws};

const MUSL: &str = "x86_64-unknown-linux-musl";
const GNU: &str = "x86_64-unknown-linux-gnu";

fn stages(plan: &Plan) -> Vec<&str> {
    plan.builders.iter().map(|b| b.stage.as_str()).collect()
}

/// Each invocation's `--bin`s.
fn bins(builder: &BuilderStage) -> Vec<Vec<&str>> {
    builder
        .invocations
        .iter()
        .map(|i| i.bins.iter().map(|(bin, _)| bin.as_str()).collect())
        .collect()
}

#[test]
fn binaries_that_compile_alike_share_one_builder_and_one_invocation() {
    let workspace = ws()
        .member(pkg("api").bin("api").bin("admin"))
        .member(pkg("worker").bin("worker"))
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(stages(&plan), ["builder"]);
    let builder = builder(&plan, "builder");
    assert_eq!((builder.triple.as_str(), builder.crt_static), (MUSL, false));
    assert_eq!(builder.static_env, None);
    assert_eq!(bins(builder), [["admin", "api", "worker"]]);
    assert_eq!(builder.invocations[0].packages, ["api", "worker"]);
    assert_eq!(builder.invocations[0].profile.name, "release");
    assert!(
        builder.cache_id.starts_with("cargo-dockerize-")
            && builder
                .cache_id
                .ends_with(&format!("-rust-1-{MUSL}-release")),
        "{}",
        builder.cache_id
    );
    assert_eq!(plan.rustup_targets, [MUSL]);
}

#[test]
fn musl_dynamic_glibc_and_static_glibc_get_a_builder_each() {
    let workspace = ws()
        .member(pkg("api").bin("api"))
        .member(pkg("db").bin("db").links("libsqlite3-sys"))
        .member(pkg("engine").bin("engine").compiles_cpp("snappy-sys"))
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(
        stages(&plan),
        ["builder-gnu", "builder-gnu-static", "builder-musl"]
    );
    let gnu = builder(&plan, "builder-gnu");
    let gnu_static = builder(&plan, "builder-gnu-static");
    let musl = builder(&plan, "builder-musl");
    assert_eq!((gnu.triple.as_str(), gnu.crt_static), (GNU, false));
    assert_eq!(
        (gnu_static.triple.as_str(), gnu_static.crt_static),
        (GNU, true)
    );
    assert_eq!(bins(gnu), [["db"]]);
    assert_eq!(bins(gnu_static), [["engine"]]);
    assert_eq!(bins(musl), [["api"]]);
    // Static glibc gets `+crt-static` through the target's variable; the others add nothing.
    assert_eq!(
        gnu_static.static_env,
        Some((
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS".to_string(),
            "-C target-feature=+crt-static".to_string()
        ))
    );
    assert_eq!(
        (gnu.static_env.as_ref(), musl.static_env.as_ref()),
        (None, None)
    );
    // No two builders share a compile cache.
    let ids: std::collections::BTreeSet<&str> =
        plan.builders.iter().map(|b| b.cache_id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(gnu_static
        .cache_id
        .ends_with(&format!("{GNU}-static-release")));
    // Each image copies from its own builder.
    assert_eq!(plan.builder_alias("db"), "builder-gnu");
    assert_eq!(plan.builder_alias("engine"), "builder-gnu-static");
    assert_eq!(plan.rustup_targets, [MUSL]);
}

#[test]
fn binaries_of_one_name_in_two_packages_build_in_two_invocations() {
    let workspace = ws()
        .member(pkg("alpha").bin("server"))
        .member(pkg("beta").bin("server"))
        .build();
    let plan = plan_of(&workspace);
    let builder = builder(&plan, "builder");
    assert_eq!(bins(builder), [["server"], ["server"]]);
    let packages: Vec<&[String]> = builder
        .invocations
        .iter()
        .map(|i| i.packages.as_slice())
        .collect();
    assert_eq!(packages, [["alpha"], ["beta"]]);
    let copied: Vec<&str> = builder
        .invocations
        .iter()
        .map(|i| i.bins[0].1.as_str())
        .collect();
    assert_ne!(
        copied[0], copied[1],
        "each is copied out under its own stage"
    );
}

#[test]
fn profiles_split_invocations_and_name_the_cache() {
    let workspace = ws()
        .member(pkg("api").bin("api"))
        .member(pkg("tool").bin("tool").config(json!({ "profile": "dev" })))
        .build();
    let plan = plan_of(&workspace);
    let builder = builder(&plan, "builder");
    let profiles: Vec<(&str, &str)> = builder
        .invocations
        .iter()
        .map(|i| (i.profile.name.as_str(), i.profile.dir.as_str()))
        .collect();
    assert_eq!(profiles, [("dev", "debug"), ("release", "release")]);
    assert!(
        builder.cache_id.ends_with("-dev+release"),
        "{}",
        builder.cache_id
    );
}

#[test]
fn features_are_qualified_per_package_and_split_what_differs_within_one() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .bin("admin")
                .feature("audit", &[])
                .config(json!({ "bin": { "admin": { "features": ["audit"] } } })),
        )
        .member(pkg("worker").bin("worker").feature("fast", &[]))
        .build();
    let plan = planned(&workspace, |s| {
        s.features.features = vec!["worker/fast".into()];
    })
    .unwrap();
    let builder = builder(&plan, "builder");
    // `admin` needs `api/audit`, `api` does not: one package, two feature sets, two builds.
    let invocations: Vec<(Vec<&str>, &[String])> = builder
        .invocations
        .iter()
        .map(|i| {
            (
                i.bins.iter().map(|(b, _)| b.as_str()).collect(),
                i.features.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        invocations,
        [
            (
                vec!["admin", "worker"],
                &["api/audit".to_string(), "worker/fast".to_string()][..]
            ),
            (vec!["api"], &[][..]),
        ]
    );
}

#[test]
fn flags_for_every_package_reach_every_invocation() {
    let workspace = ws().member(pkg("api").bin("api")).build();
    let plan = planned(&workspace, |s| {
        s.features.all_features = true;
        s.features.no_default_features = true;
    })
    .unwrap();
    let invocation = &builder(&plan, "builder").invocations[0];
    assert!(invocation.all_features && invocation.no_default_features);
}

#[test]
fn the_cache_id_follows_the_toolchain_and_the_members() {
    let cache = |workspace| plan_of(&workspace).builders[0].cache_id.clone();
    let plain = cache(ws().member(pkg("api").bin("api")).build());
    let pinned = cache(ws().member(pkg("api").bin("api")).toolchain("1.90").build());
    let renamed = cache(ws().member(pkg("app").bin("api")).build());
    assert!(pinned.contains("-rust-1.90-"), "{pinned}");
    assert_ne!(plain, pinned);
    assert_ne!(plain, renamed, "another workspace never shares the cache");
    assert_eq!(plain, cache(ws().member(pkg("api").bin("api")).build()));
}

#[test]
fn c_on_musl_names_musl_gcc_for_the_target_and_installs_musl_tools() {
    let workspace = ws()
        .member(pkg("api").bin("api").compiles_c("zstd-sys"))
        .build();
    let plan = plan_of(&workspace);
    let builder = builder(&plan, "builder");
    assert_eq!(
        builder.compiler_env,
        [
            ("AR_x86_64_unknown_linux_musl".to_string(), "ar".to_string()),
            (
                "CC_x86_64_unknown_linux_musl".to_string(),
                "musl-gcc".to_string()
            ),
        ]
    );
    assert!(
        builder.compiler_note.contains("zstd-sys"),
        "{}",
        builder.compiler_note
    );
    assert_eq!(plan.builder_packages, ["musl-tools"]);
    assert_eq!(
        plan.builder_reasons,
        ["musl-tools: a build script of `api` compiles C code for the musl target (zstd-sys)"]
    );
    assert_eq!(
        image(&plan, "api").compilers.toolchain,
        "musl-gcc from Debian's musl-tools"
    );
}

#[test]
fn a_glibc_builder_needs_no_compiler_environment() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .links("openssl-sys")
                .compiles_c("openssl-sys"),
        )
        .build();
    let plan = plan_of(&workspace);
    let builder = builder(&plan, "builder");
    assert_eq!(builder.triple, GNU);
    assert!(builder.compiler_env.is_empty() && builder.compiler_note.is_empty());
    assert!(!plan.builder_packages.contains(&"musl-tools".to_string()));
}

#[test]
fn the_builder_base_installs_what_links_runs_and_is_asked_for_with_why() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .links("openssl-sys")
                .build_tool("prost-build")
                .build_links("libz-sys")
                .compiles_cpp("snappy-sys")
                .config(json!({ "build-packages": ["libcap-dev"] })),
        )
        .build();
    let plan = planned(&workspace, |s| {
        s.test_stage = crate::config::TestStage::Omit
    })
    .unwrap();
    for package in [
        "g++",
        "libcap-dev",
        "libssl-dev",
        "pkg-config",
        "protobuf-compiler",
        "zlib1g-dev",
    ] {
        assert!(
            plan.builder_packages.contains(&package.to_string()),
            "{package} in {:?}",
            plan.builder_packages
        );
    }
    let reasons = plan.builder_reasons.join("\n");
    for why in [
        "libssl-dev, pkg-config: `openssl-sys` links a system library",
        "`libz-sys` links a system library into a build script",
        "g++: `api` compiles C++ (`snappy-sys`: it compiles C++ sources)",
        "libcap-dev: `build-packages` in `[package.metadata.dockerize]` in `crates/api/Cargo.toml`",
        "`prost-build` runs",
    ] {
        assert!(reasons.contains(why), "{why} in\n{reasons}");
    }
}

#[test]
fn what_only_the_tests_link_goes_to_the_base_for_the_test_stage() {
    let workspace = ws()
        .member(pkg("api").bin("api").test_links("libsqlite3-sys"))
        .build();
    let with_tests = plan_of(&workspace);
    assert!(with_tests
        .builder_packages
        .contains(&"libsqlite3-dev".to_string()));
    assert!(with_tests
        .builder_reasons
        .iter()
        .any(|r| r.contains("links a system library into the tests (the `test` stage)")));
    let without = planned(&workspace, |s| {
        s.test_stage = crate::config::TestStage::Omit
    })
    .unwrap();
    assert!(
        without.builder_packages.is_empty(),
        "{:?}",
        without.builder_packages
    );
    // The image itself stays static musl: only the tests link it.
    assert_eq!(image(&without, "api").runtime.kind(), "scratch");
}

#[test]
fn selecting_some_binaries_of_a_shared_builder_narrows_its_compile() {
    let workspace = ws().member(pkg("api").bin("api").bin("admin")).build();
    let all = plan_of(&workspace);
    assert_eq!(all.compile_selection(), None);
    let one = planned(&workspace, |s| s.selection.bins = vec!["api".into()]).unwrap();
    assert_eq!(one.compile_selection(), Some("api".to_string()));
}

#[test]
fn a_musl_target_rust_links_dynamically_gets_crt_static_from_its_builder() {
    // riscv64's musl target is dynamic by default, and `scratch` has no musl to load.
    let workspace = ws().member(pkg("api").bin("api")).build();
    let plan = planned(&workspace, |s| {
        crate::plan::testing::on_platforms(s, &[crate::platform::Platform::LinuxRiscv64])
    })
    .unwrap();
    let builder = builder(&plan, "builder-riscv64");
    assert_eq!(builder.triple, "riscv64gc-unknown-linux-musl");
    assert_eq!(
        builder.static_env,
        Some((
            "CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_MUSL_RUSTFLAGS".to_string(),
            "-C target-feature=+crt-static".to_string()
        ))
    );
    assert!(!builder.crt_static, "`crt_static` is static glibc only");
}
