//! Runtime choice on built workspaces: what a binary's closure links on each triple decides its C library, its
//! linkage and its base, and the flags, tables and platforms override that with a reason that names them.

use serde_json::json;

use super::*;
use crate::model::Linkage;
use crate::plan::testing::{image, on_platforms, plan_of, planned};
use crate::platform::Platform;
use crate::workspace::testing::{pkg, ws};

const MUSL: &str = "x86_64-unknown-linux-musl";
const GNU: &str = "x86_64-unknown-linux-gnu";

/// The libc, linkage and base kind of the image of `stage`.
fn decided(plan: &crate::plan::Plan, stage: &str) -> (LibcKind, Linkage, &'static str) {
    let image = image(plan, stage);
    (image.libc, image.linkage, image.runtime.kind())
}

#[test]
fn pure_rust_is_static_musl_on_scratch() {
    let plan = plan_of(&ws().member(pkg("api").bin("api")).build());
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Musl, Linkage::Static, "scratch")
    );
    let api = image(&plan, "api");
    assert_eq!(api.platforms[0].triple, MUSL);
    assert_eq!(
        api.reasons,
        [
            "no dependency links a system library: static musl",
            "static binary: `scratch` with CA certificates"
        ]
    );
    assert!(api.runtime_packages.is_empty());
}

#[test]
fn a_system_library_distroless_has_is_dynamic_glibc_on_distroless_with_the_crate_as_reason() {
    let workspace = ws()
        .member(pkg("api").bin("api").links("openssl-sys"))
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Gnu, Linkage::Dynamic, "distroless")
    );
    let api = image(&plan, "api");
    assert_eq!(api.platforms[0].triple, GNU);
    assert_eq!(api.runtime.image(), DISTROLESS_CC);
    assert!(
        api.reasons[0].starts_with("`openssl-sys` links libcrypto.so.3, libssl.so.3 dynamically"),
        "{:?}",
        api.reasons
    );
    assert!(
        api.runtime_packages.is_empty(),
        "distroless installs nothing"
    );
}

#[test]
fn a_library_distroless_lacks_takes_debian_slim_with_its_package() {
    let workspace = ws()
        .member(pkg("db").bin("db").links("libsqlite3-sys"))
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(
        decided(&plan, "db"),
        (LibcKind::Gnu, Linkage::Dynamic, "debian-slim")
    );
    let db = image(&plan, "db");
    assert_eq!(db.runtime_packages, ["libsqlite3-0"]);
    assert!(
        db.reasons.contains(
            &"needs libsqlite3.so.0 which distroless lacks: Debian slim with libsqlite3-0"
                .to_string()
        ),
        "{:?}",
        db.reasons
    );
}

#[test]
fn a_vendored_native_crate_stays_on_musl() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .links_with("openssl-sys", &["vendored"]),
        )
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Musl, Linkage::Static, "scratch")
    );
}

#[test]
fn only_the_musl_closure_decides_against_musl() {
    // A system library on the glibc triple only (a `cfg(target_env = "gnu")` dependency) leaves musl alone.
    let gnu_only = ws()
        .member(pkg("api").bin("api").on(GNU, |d| d.links("openssl-sys")))
        .build();
    assert_eq!(
        decided(&plan_of(&gnu_only), "api"),
        (LibcKind::Musl, Linkage::Static, "scratch")
    );
    let musl_only = ws()
        .member(pkg("api").bin("api").on(MUSL, |d| d.links("openssl-sys")))
        .build();
    let plan = plan_of(&musl_only);
    // glibc is chosen, and the glibc closure (which has no system library) decides the base.
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Gnu, Linkage::Dynamic, "distroless")
    );
    assert!(image(&plan, "api").native.is_empty());
}

#[test]
fn cpp_is_static_glibc_on_scratch() {
    let workspace = ws()
        .member(pkg("api").bin("api").compiles_cpp("snappy-sys"))
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Gnu, Linkage::Static, "scratch")
    );
    let api = image(&plan, "api");
    assert!(
        api.reasons[0].contains("Debian has no C++ compiler for musl"),
        "{:?}",
        api.reasons
    );
    assert_eq!(
        api.compilers.toolchain,
        "gcc and g++ (glibc), with libstdc++ linked statically"
    );
}

#[test]
fn libc_gnu_from_the_command_line_is_dynamic_glibc_and_says_so() {
    let workspace = ws().member(pkg("api").bin("api")).build();
    let plan = planned(&workspace, |s| s.libc = Some(Libc::Gnu)).unwrap();
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Gnu, Linkage::Dynamic, "distroless")
    );
    assert_eq!(
        image(&plan, "api").reasons[0],
        "glibc chosen by `--libc gnu`"
    );
}

#[test]
fn static_glibc_runs_on_scratch() {
    let workspace = ws()
        .member(pkg("api").bin("api").links("openssl-sys"))
        .build();
    let plan = planned(&workspace, |s| {
        s.linking = crate::config::Linking::Static;
    })
    .unwrap();
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Gnu, Linkage::Static, "scratch")
    );
    let api = image(&plan, "api");
    assert_eq!(api.native[0].linkage, Linkage::Static, "{:?}", api.native);
    assert!(api.native[0].runtime_packages.is_empty());
}

#[test]
fn musl_from_a_table_over_a_system_library_warns_about_vendoring() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .links("openssl-sys")
                .config(json!({ "libc": "musl" })),
        )
        .build();
    let plan = plan_of(&workspace);
    assert_eq!(
        decided(&plan, "api"),
        (LibcKind::Musl, Linkage::Static, "scratch")
    );
    assert!(
        image(&plan, "api").reasons[0].contains("[package.metadata.dockerize]"),
        "{:?}",
        image(&plan, "api").reasons
    );
    assert!(
        plan.notes.iter().any(
            |n| n.contains("binary `api` links system libraries (openssl-sys)")
                && n.contains("vendor their C sources")
        ),
        "{:?}",
        plan.notes
    );
}

#[test]
fn scratch_asked_for_a_dynamic_binary_is_refused_naming_it() {
    let workspace = ws()
        .member(pkg("api").bin("api").links("openssl-sys"))
        .build();
    let error = planned(&workspace, |s| s.runtime = Some(Runtime::Scratch)).unwrap_err();
    assert!(
        matches!(&error, PlanError::DynamicOnScratch { binary, libraries }
            if binary == "api" && libraries.contains(&"libssl.so.3".to_string())),
        "{error:?}"
    );
}

#[test]
fn runtime_packages_take_debian_slim() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .config(json!({ "runtime-packages": ["tzdata"] })),
        )
        .build();
    let plan = plan_of(&workspace);
    let api = image(&plan, "api");
    assert_eq!(api.runtime.kind(), "debian-slim");
    assert_eq!(api.runtime_packages, ["tzdata"]);
    // Still static musl: the packages need a package manager, not a C library.
    assert_eq!((api.libc, api.linkage), (LibcKind::Musl, Linkage::Static));
}

#[test]
fn a_custom_image_is_told_what_the_binary_needs() {
    let workspace = ws()
        .member(pkg("api").bin("api").links("openssl-sys"))
        .build();
    let plan = planned(&workspace, |s| {
        s.runtime = Some(Runtime::Image("ghcr.io/acme/base:1".into()))
    })
    .unwrap();
    assert_eq!(image(&plan, "api").runtime.image(), "ghcr.io/acme/base:1");
    assert!(
        plan.notes.iter().any(|n| n
            == "binary `api` needs the Debian packages libssl3 at run time: make sure `ghcr.io/acme/base:1` has them"),
        "{:?}",
        plan.notes
    );
}

#[test]
fn a_platform_without_musl_takes_glibc_on_every_platform_of_the_image() {
    let workspace = ws().member(pkg("api").bin("api")).build();
    let plan = planned(&workspace, |s| {
        on_platforms(s, &[Platform::LinuxAmd64, Platform::LinuxS390x])
    })
    .unwrap();
    let api = image(&plan, "api");
    assert_eq!(api.libc, LibcKind::Gnu);
    let triples: Vec<&str> = api.platforms.iter().map(|p| p.triple.as_str()).collect();
    assert_eq!(triples, [GNU, "s390x-unknown-linux-gnu"]);
    assert!(
        api.reasons[0].contains("Rust has no prebuilt musl target for `linux/s390x`"),
        "{:?}",
        api.reasons
    );
}

#[test]
fn musl_asked_for_on_a_platform_without_musl_is_refused_naming_both() {
    let workspace = ws().member(pkg("api").bin("api")).build();
    let error = planned(&workspace, |s| {
        on_platforms(s, &[Platform::LinuxS390x]);
        s.libc = Some(Libc::Musl);
    })
    .unwrap_err();
    assert!(
        matches!(&error, PlanError::NoMuslTarget { binary, platform, origin }
            if binary == "api" && platform == "linux/s390x" && origin == "`--libc musl`"),
        "{error:?}"
    );
}

#[test]
fn one_platform_needing_glibc_takes_glibc_for_all() {
    // A system library on arm64's musl triple only: the image's runtime stage serves both platforms.
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .on("aarch64-unknown-linux-musl", |d| d.links("openssl-sys")),
        )
        .build();
    let plan = planned(&workspace, |s| {
        on_platforms(s, &[Platform::LinuxAmd64, Platform::LinuxArm64])
    })
    .unwrap();
    let api = image(&plan, "api");
    let triples: Vec<&str> = api.platforms.iter().map(|p| p.triple.as_str()).collect();
    assert_eq!(triples, [GNU, "aarch64-unknown-linux-gnu"]);
    assert!(
        api.reasons[0].contains("`linux/arm64` needs glibc"),
        "{:?}",
        api.reasons
    );
}

#[test]
fn the_widest_base_of_the_platforms_wins_with_every_platforms_packages() {
    let workspace = ws()
        .member(
            pkg("api")
                .bin("api")
                .links("openssl-sys")
                .on("aarch64-unknown-linux-gnu", |d| d.links("libsqlite3-sys")),
        )
        .build();
    let plan = planned(&workspace, |s| {
        on_platforms(s, &[Platform::LinuxAmd64, Platform::LinuxArm64])
    })
    .unwrap();
    let api = image(&plan, "api");
    assert_eq!(api.runtime.kind(), "debian-slim");
    assert_eq!(api.runtime_packages, ["libsqlite3-0", "libssl3"]);
}

#[test]
fn choose_reads_the_closure_of_the_platform_it_is_about() {
    // Straight through `choose`, without the layering: arm64's musl closure links openssl, amd64's does not.
    let package = pkg("api")
        .bin("api")
        .on("aarch64-unknown-linux-musl", |d| d.links("openssl-sys"))
        .build();
    let cargo = super::super::cargo_flags::CargoFlags::of_config(
        &crate::workspace::CargoConfig::default(),
        &Default::default(),
        &[Platform::LinuxAmd64, Platform::LinuxArm64],
    )
    .unwrap();
    let config = BinaryConfig::default();
    let on = |platform| choose("api", &package, &config, platform, (true, &cargo)).unwrap();
    assert_eq!(on(Platform::LinuxAmd64).libc, LibcKind::Musl);
    assert_eq!(on(Platform::LinuxArm64).libc, LibcKind::Gnu);
}
