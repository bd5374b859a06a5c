//! What Cargo's configuration decides for an image, in-process: a package with no native dependencies (musl on
//! `scratch` unless the configuration says otherwise), its configuration as text.

use super::super::runtime::{choose_for_platforms, RuntimeChoice};
use super::*;
use crate::config::BinaryConfig;
use crate::model::{Libc, Linkage};
use crate::plan::RuntimeBase;
use crate::source::{Source, Sourced, TableOrigin};
use crate::workspace::testing::pkg;
use crate::workspace::Package;

/// A package with no native dependency: what Cargo's configuration decides stands alone.
fn package() -> Package {
    pkg("app").dir(".").build()
}

fn flags(
    text: &str,
    env: &[(&str, &str)],
    platforms: &[Platform],
) -> Result<CargoFlags, PlanError> {
    let config = CargoConfig::from_files([(".cargo/config.toml", text)]);
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    CargoFlags::of_config(&config, &env, platforms)
}

const AMD64: &[Platform] = &[Platform::LinuxAmd64];

fn choose(text: &str, config: &BinaryConfig) -> Result<RuntimeChoice, PlanError> {
    let cargo = flags(text, &[], AMD64)?;
    choose_for_platforms("app", &package(), config, AMD64, &cargo)
}

fn table(set: impl FnOnce(&mut BinaryConfig)) -> BinaryConfig {
    let mut config = BinaryConfig::default();
    set(&mut config);
    config
}

fn from_table<T>(value: T) -> Sourced<T> {
    Sourced {
        value,
        source: Source::table(TableOrigin {
            manifest: "Cargo.toml".into(),
            table: "[package.metadata.dockerize]".into(),
        }),
    }
}

const EDITOR: &str =
    "[target.'cfg(all())']\nrustflags = [\"--cfg\", \"tokio_unstable\", \"-C\", \"target-feature=-crt-static\"]\n";

#[test]
fn nothing_configured_is_static_musl_on_scratch() {
    let choice = choose("", &BinaryConfig::default()).unwrap();
    assert_eq!(
        (choice.libc, choice.linkage, choice.runtime),
        (LibcKind::Musl, Linkage::Static, RuntimeBase::Scratch)
    );
}

#[test]
fn minus_crt_static_everywhere_is_dynamic_glibc_on_distroless() {
    let choice = choose(EDITOR, &BinaryConfig::default()).unwrap();
    assert_eq!(
        (choice.libc, choice.linkage, choice.runtime.kind()),
        (LibcKind::Gnu, Linkage::Dynamic, "distroless")
    );
    let reasons = choice.reasons.join("\n");
    assert!(
        reasons.contains("glibc chosen by Cargo's configuration: `x86_64-unknown-linux-musl` is linked dynamically by `-C target-feature=-crt-static` in `target.'cfg(all())'.rustflags` in `.cargo/config.toml`, and `scratch` cannot run a dynamic musl binary"),
        "{reasons}"
    );
    assert!(
        reasons.contains("glibc linked dynamically (`-C target-feature=-crt-static` in `target.'cfg(all())'.rustflags`"),
        "{reasons}"
    );
}

#[test]
fn minus_crt_static_for_the_musl_triple_only_is_dynamic_glibc_too() {
    let text = "[target.x86_64-unknown-linux-musl]\nrustflags = [\"-C\", \"target-feature=-crt-static\"]\n";
    let choice = choose(text, &BinaryConfig::default()).unwrap();
    assert_eq!(
        (choice.libc, choice.linkage, choice.runtime.kind()),
        (LibcKind::Gnu, Linkage::Dynamic, "distroless")
    );
    // For another architecture's musl triple it changes nothing.
    let other = "[target.aarch64-unknown-linux-musl]\nrustflags = [\"-C\", \"target-feature=-crt-static\"]\n";
    assert_eq!(
        choose(other, &BinaryConfig::default()).unwrap().libc,
        LibcKind::Musl
    );
}

#[test]
fn musl_asked_for_with_minus_crt_static_is_refused() {
    let musl = table(|c| c.libc = from_table(Libc::Musl));
    let error = choose(EDITOR, &musl).unwrap_err();
    assert!(
        matches!(&error, PlanError::DynamicMusl { origin, .. } if origin.contains("[package.metadata.dockerize]")),
        "{error:?}"
    );
    assert!(error
        .to_string()
        .contains("`scratch` cannot run a dynamically linked musl binary"));
}

#[test]
fn plus_crt_static_on_glibc_goes_to_scratch() {
    let text =
        "[target.x86_64-unknown-linux-gnu]\nrustflags = [\"-C\", \"target-feature=+crt-static\"]\n";
    let gnu = table(|c| c.libc = from_table(Libc::Gnu));
    let choice = choose(text, &gnu).unwrap();
    assert_eq!(
        (choice.libc, choice.linkage, choice.runtime),
        (LibcKind::Gnu, Linkage::Static, RuntimeBase::Scratch)
    );
    assert!(
        choice.reasons.iter().any(|r| r
            == "glibc linked statically (`-C target-feature=+crt-static` in `target.x86_64-unknown-linux-gnu.rustflags` in `.cargo/config.toml`)"),
        "{:?}",
        choice.reasons
    );
}

#[test]
fn static_asked_for_against_the_configuration_is_refused() {
    let text =
        "[target.x86_64-unknown-linux-gnu]\nrustflags = [\"-C\", \"target-feature=-crt-static\"]\n";
    let config = table(|c| {
        c.libc = from_table(Libc::Gnu);
        c.static_ = from_table(true);
    });
    assert!(matches!(
        choose(text, &config),
        Err(PlanError::CrtStaticConflict { .. })
    ));
    // `RUSTFLAGS` in build-env replaces the `+crt-static` the builder would add.
    let cargo = flags("", &[("RUSTFLAGS", "--cfg x")], AMD64).unwrap();
    let error = choose_for_platforms("app", &package(), &config, AMD64, &cargo).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`RUSTFLAGS` in build-env replaces every flag the builder adds"),
        "{error}"
    );
}

#[test]
fn build_target_is_honoured_or_refused_in_one_line() {
    let gnu = "[build]\ntarget = \"x86_64-unknown-linux-gnu\"\n";
    let choice = choose(gnu, &BinaryConfig::default()).unwrap();
    assert_eq!(choice.libc, LibcKind::Gnu);
    assert_eq!(
        choice.reasons[0],
        "glibc chosen by `build.target` in `.cargo/config.toml` (`x86_64-unknown-linux-gnu`: glibc)"
    );
    // A table's `libc` wins, and says so.
    let musl = table(|c| c.libc = from_table(Libc::Musl));
    let choice = choose(gnu, &musl).unwrap();
    assert_eq!(choice.libc, LibcKind::Musl);
    assert!(
        choice.notes[0].contains("overrides `build.target`"),
        "{:?}",
        choice.notes
    );
    // It names the C library for every platform of the plan.
    let both = [Platform::LinuxAmd64, Platform::LinuxArm64];
    let cargo = flags(gnu, &[], &both).unwrap();
    assert_eq!(
        cargo.build_target.as_ref().map(|b| b.0),
        Some(LibcKind::Gnu)
    );
    for (text, problem) in [
        (
            "[build]\ntarget = \"aarch64-unknown-linux-musl\"\n",
            "it is a `linux/arm64` target, and the images are built for linux/amd64",
        ),
        (
            "[build]\ntarget = \"wasm32-unknown-unknown\"\n",
            "the images run Linux targets",
        ),
        (
            "[build]\ntarget = [\"x86_64-unknown-linux-gnu\", \"x86_64-unknown-linux-musl\"]\n",
            "an image holds one target",
        ),
    ] {
        let error = flags(text, &[], AMD64).unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("failed to honour `build.target` in `.cargo/config.toml`: ")
                && message.contains(problem)
                && !message.contains('\n'),
            "{message}"
        );
        assert!(error
            .hint()
            .is_some_and(|h| h.contains("CARGO_BUILD_TARGET")));
    }
}

#[test]
fn target_cpu_warns_once_per_setting() {
    let cargo = flags(
        "[build]\nrustflags = [\"-C\", \"target-cpu=native\"]\n",
        &[],
        &[Platform::LinuxAmd64, Platform::LinuxArm64],
    )
    .unwrap();
    let warnings = cargo.target_cpu_warnings([
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-unknown-linux-musl",
    ]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("`-C target-cpu=native` in `build.rustflags` in `.cargo/config.toml` reaches the image build (x86_64-unknown-linux-musl, aarch64-unknown-linux-musl): the binaries are compiled for the CPU of the machine that builds the image"),
        "{}",
        warnings[0]
    );
    assert!(flags("", &[], AMD64)
        .unwrap()
        .target_cpu_warnings(["x86_64-unknown-linux-musl"])
        .is_empty());
}

#[test]
fn the_builders_flag_joins_the_workspaces_own() {
    let build = flags(
        "[build]\nrustflags = [\"--cfg\", \"tokio_unstable\"]\n",
        &[],
        AMD64,
    )
    .unwrap();
    assert_eq!(
        build.static_var("x86_64-unknown-linux-gnu"),
        "CARGO_BUILD_RUSTFLAGS"
    );
    let target = flags(
        "[target.x86_64-unknown-linux-gnu]\nrustflags = [\"--cfg\", \"x\"]\n",
        &[],
        AMD64,
    )
    .unwrap();
    for cargo in [target, flags("", &[], AMD64).unwrap()] {
        assert_eq!(
            cargo.static_var("x86_64-unknown-linux-gnu"),
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS"
        );
    }
}

#[test]
fn riscv64s_musl_is_dynamic_when_rustflags_replace_the_builders_flag() {
    let riscv = [Platform::LinuxRiscv64];
    let cargo = flags("", &[("RUSTFLAGS", "--cfg x")], &riscv).unwrap();
    let why = cargo
        .dynamic_musl("riscv64gc-unknown-linux-musl")
        .expect("dynamic");
    assert!(
        why.contains("replaces the `+crt-static` the builder would add"),
        "{why}"
    );
    // Without it, the builder's `+crt-static` makes it static.
    assert_eq!(
        flags("", &[], &riscv)
            .unwrap()
            .dynamic_musl("riscv64gc-unknown-linux-musl"),
        None
    );
}

#[test]
fn a_linker_the_cross_builder_replaces_is_named() {
    let arm = [Platform::LinuxAmd64, Platform::LinuxArm64];
    let cargo = flags(
        "[target.aarch64-unknown-linux-gnu]\nlinker = \"clang\"\n",
        &[],
        &arm,
    )
    .unwrap();
    let builder = |triple: &str, linker: &str| BuilderStage {
        stage: "builder-arm64".into(),
        alias: "builder".into(),
        platform: Platform::LinuxArm64,
        triple: triple.into(),
        crt_static: false,
        static_env: None,
        invocations: Vec::new(),
        cache_id: String::new(),
        compiler_env: vec![(cargo_target_var(triple, "LINKER"), linker.into())],
        compiler_note: String::new(),
        cross: None,
    };
    let notes = cargo.linker_notes(&[
        builder("aarch64-unknown-linux-gnu", "aarch64-linux-gnu-gcc"),
        builder("aarch64-unknown-linux-musl", "rust-lld"),
    ]);
    assert_eq!(
        notes,
        ["linker `clang` (`target.aarch64-unknown-linux-gnu.linker` in `.cargo/config.toml`) is replaced in the builders for `aarch64-unknown-linux-gnu` by `aarch64-linux-gnu-gcc` (`CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER`), the cross toolchain they install"]
    );
    // The same linker as the builder's says nothing.
    assert!(cargo
        .linker_notes(&[builder("aarch64-unknown-linux-gnu", "clang")])
        .is_empty());
}
