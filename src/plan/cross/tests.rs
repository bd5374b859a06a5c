//! Cross-compilation: [`cross_setup`] for one builder, then whole plans of built workspaces for several
//! platforms: each platform's builder installs its target's compilers and libraries, the shared base only what
//! runs on the build platform.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::plan::testing::{builder, on_platforms, planned};
use crate::plan::Plan;
use crate::workspace::testing::{pkg, ws};
use crate::workspace::Workspace;

fn needs(c: &[&str], libraries: &[(&str, &str)]) -> CrossNeeds {
    CrossNeeds {
        c: c.iter().map(|s| s.to_string()).collect(),
        cpp: false,
        strip: false,
        libraries: libraries
            .iter()
            .map(|(p, k)| (p.to_string(), k.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

#[test]
fn pure_rust_on_musl_needs_no_c_toolchain() {
    let (env, _, setup) = cross_setup(
        Platform::LinuxArm64,
        "aarch64-unknown-linux-musl",
        &needs(&[], &[]),
    );
    let stripped = CrossNeeds {
        strip: true,
        ..needs(&[], &[])
    };
    let (_, _, with_strip) = cross_setup(
        Platform::LinuxArm64,
        "aarch64-unknown-linux-musl",
        &stripped,
    );
    assert_eq!(with_strip.cross_packages, ["binutils-aarch64-linux-gnu"]);
    assert_eq!(with_strip.strip, "aarch64-linux-gnu-strip");
    assert_eq!(
        env,
        [(
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER".to_string(),
            "rust-lld".to_string()
        )]
    );
    assert!(setup.target_packages.is_empty() && setup.cross_packages.is_empty());
}

#[test]
fn c_on_musl_gets_the_cross_gcc_with_musls_specs() {
    let (env, _, setup) = cross_setup(
        Platform::LinuxArmV7,
        "armv7-unknown-linux-musleabihf",
        &needs(&["zstd-sys"], &[]),
    );
    assert!(env.contains(&(
        "CC_armv7_unknown_linux_musleabihf".into(),
        "arm-linux-musleabihf-gcc".into()
    )));
    assert_eq!(setup.target_packages, ["musl-dev:armhf"]);
    assert_eq!(setup.cross_packages, ["gcc-arm-linux-gnueabihf"]);
    assert!(setup.native_packages.is_empty());
}

#[test]
fn glibc_gets_the_cross_toolchain_and_the_targets_libraries() {
    let (env, _, setup) = cross_setup(
        Platform::LinuxArm64,
        "aarch64-unknown-linux-gnu",
        &needs(&["openssl-sys"], &[("libssl-dev", "openssl-sys")]),
    );
    assert!(env.contains(&(
        "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER".into(),
        "aarch64-linux-gnu-gcc".into()
    )));
    assert!(env.contains(&(
        "PKG_CONFIG_LIBDIR_aarch64_unknown_linux_gnu".into(),
        "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig".into()
    )));
    assert_eq!(setup.target_packages, ["libssl-dev:arm64"]);
    assert_eq!(
        setup.cross_packages,
        ["gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"]
    );
}

/// `workspace` planned for linux/amd64 and linux/arm64.
fn amd64_and_arm64(workspace: &Workspace, libc: Option<crate::model::Libc>) -> Plan {
    planned(workspace, |s| {
        on_platforms(s, &[Platform::LinuxAmd64, Platform::LinuxArm64]);
        s.libc = libc;
    })
    .unwrap_or_else(|e| panic!("failed to plan: {e}"))
}

fn setup<'a>(plan: &'a Plan, stage: &str) -> &'a CrossSetup {
    builder(plan, stage)
        .cross
        .as_ref()
        .unwrap_or_else(|| panic!("`{stage}` does not cross-compile"))
}

#[test]
fn each_platform_gets_its_own_builder_behind_one_alias() {
    let plan = amd64_and_arm64(&ws().member(pkg("api").bin("api")).build(), None);
    let builders: Vec<(&str, &str, &str)> = plan
        .builders
        .iter()
        .map(|b| (b.stage.as_str(), b.alias.as_str(), b.triple.as_str()))
        .collect();
    assert_eq!(
        builders,
        [
            ("builder-amd64", "builder", "x86_64-unknown-linux-musl"),
            ("builder-arm64", "builder", "aarch64-unknown-linux-musl"),
        ]
    );
    // Each builder adds its own target; the shared base adds none.
    assert!(plan.rustup_targets.is_empty(), "{:?}", plan.rustup_targets);
    assert_eq!(
        setup(&plan, "builder-arm64").rustup_target,
        "aarch64-unknown-linux-musl"
    );
    // The release executable is stripped with the target's own `strip`.
    let arm64 = setup(&plan, "builder-arm64");
    assert_eq!(arm64.cross_packages, ["binutils-aarch64-linux-gnu"]);
    assert_eq!(arm64.strip, "aarch64-linux-gnu-strip");
    assert!(arm64.target_packages.is_empty());
    // The default plan (linux/amd64 alone) does not cross-compile.
    let default = planned(&ws().member(pkg("api").bin("api")).build(), |_| {}).unwrap();
    assert!(default.builders.iter().all(|b| b.cross.is_none()));
}

#[test]
fn a_system_library_is_the_targets_and_pkg_config_the_build_platforms() {
    let workspace = ws()
        .member(pkg("api").bin("api").links("openssl-sys"))
        .build();
    let plan = amd64_and_arm64(&workspace, None);
    assert_eq!(
        setup(&plan, "builder-arm64").target_packages,
        ["libssl-dev:arm64"]
    );
    assert_eq!(
        setup(&plan, "builder-amd64").target_packages,
        ["libssl-dev:amd64"]
    );
    assert!(plan.builder_packages.contains(&"pkg-config".to_string()));
    assert!(
        !plan.builder_packages.contains(&"libssl-dev".to_string()),
        "the base holds the build platform's tools only: {:?}",
        plan.builder_packages
    );
    let env = &builder(&plan, "builder-arm64").compiler_env;
    assert!(env.contains(&(
        "PKG_CONFIG_LIBDIR_aarch64_unknown_linux_gnu".to_string(),
        "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig".to_string()
    )));
    // The tests build for the build platform: the `test` stage installs the library's `-dev` package itself.
    let test = plan.test.as_ref().expect("a test stage");
    assert!(
        test.system_packages.contains(&"libssl-dev".to_string()),
        "{:?}",
        test.system_packages
    );
}

#[test]
fn a_library_of_one_platform_only_is_installed_by_that_platforms_builder_only() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .on("aarch64-unknown-linux-gnu", |d| d.links("openssl-sys")),
        )
        .build();
    let plan = amd64_and_arm64(&workspace, Some(crate::model::Libc::Gnu));
    assert_eq!(
        setup(&plan, "builder-arm64").target_packages,
        ["libssl-dev:arm64"]
    );
    assert!(setup(&plan, "builder-amd64").target_packages.is_empty());
}

#[test]
fn cpp_gets_the_targets_g_plus_plus_and_the_native_one_for_its_own_architecture() {
    let workspace = ws()
        .member(pkg("engine").bin("engine").compiles_cpp("snappy-sys"))
        .build();
    let plan = amd64_and_arm64(&workspace, None);
    let arm64 = builder(&plan, "builder-arm64");
    assert!(arm64.crt_static, "C++ is static glibc on every platform");
    assert!(arm64.compiler_env.contains(&(
        "CXX_aarch64_unknown_linux_gnu".to_string(),
        "aarch64-linux-gnu-g++".to_string()
    )));
    let setup = arm64.cross.as_ref().unwrap();
    assert!(setup
        .cross_packages
        .contains(&"g++-aarch64-linux-gnu".to_string()));
    assert_eq!(setup.native_packages, ["g++"]);
    // Not in the shared base: each builder brings its own.
    assert!(!plan.builder_packages.contains(&"g++".to_string()));
    let test = plan.test.as_ref().expect("a test stage");
    assert!(test.system_packages.contains(&"g++".to_string()));
}

#[test]
fn c_on_musl_gets_musl_dev_of_the_target_and_the_wrapper_as_cc() {
    let workspace = ws()
        .member(pkg("api").bin("api").compiles_c("zstd-sys"))
        .build();
    let plan = amd64_and_arm64(&workspace, None);
    let arm64 = builder(&plan, "builder-arm64");
    assert!(arm64.compiler_env.contains(&(
        "CC_aarch64_unknown_linux_musl".to_string(),
        "aarch64-linux-musl-gcc".to_string()
    )));
    let setup = arm64.cross.as_ref().unwrap();
    assert_eq!(setup.target_packages, ["musl-dev:arm64"]);
    assert!(setup
        .cross_packages
        .contains(&"gcc-aarch64-linux-gnu".to_string()));
    assert!(!plan.builder_packages.contains(&"musl-tools".to_string()));
}

#[test]
fn configured_dev_packages_go_to_each_platform_and_tools_to_the_base() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .config(json!({ "build-packages": ["libcap-dev", "protobuf-compiler"] })),
        )
        .build();
    let plan = amd64_and_arm64(&workspace, Some(crate::model::Libc::Gnu));
    assert_eq!(plan.builder_packages, ["protobuf-compiler"]);
    assert_eq!(
        setup(&plan, "builder-arm64").target_packages,
        ["libcap-dev:arm64"]
    );
    assert!(setup(&plan, "builder-arm64")
        .reasons
        .iter()
        .any(|r| r.starts_with("libcap-dev:arm64: `build-packages` in")));
}
