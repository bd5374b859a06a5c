//! Which platforms a plan builds for, and how a builder stage of a multi-platform plan cross-compiles for its platform on the build platform: the Rust
//! target it adds, the Debian packages of the target's architecture, the cross compilers, and the environment
//! that points Cargo, the `cc` crate and `pkg-config` at them. Pure.
//!
//! Chosen by measurement (a Debian bookworm builder on amd64, compiling for aarch64; the binaries ran under qemu):
//! - musl, pure Rust: `rust-lld` with Rust's self-contained musl start files and `libc.a`: no C toolchain at all.
//! - musl with C (`cc`, `cmake`, autoconf builds): Debian's GCC cross compiler (`gcc-aarch64-linux-gnu`, about
//!   40 MB) with Debian's `musl-dev` of the target architecture (multiarch, beside the build platform's own),
//!   whose `/usr/bin/<arch>-linux-musl-gcc` runs that gcc with musl's specs: the name the `cc` crate guesses for
//!   the target, so build scripts that ignore `CC_<triple>` find it too. `rust-lld` still links. Weighed
//!   against clang + lld (a second compiler in every cross builder, which still needs musl's headers) and `cargo-zigbuild`
//!   (zig is a 101 MB wheel from PyPI, plus compiling cargo-zigbuild in every cold builder).
//! - glibc: Debian's cross toolchain (`gcc-<triplet>`, `libc6-dev-<arch>-cross`) as linker and C compiler, and
//!   the target's `-dev` packages from Debian's multiarch archive (`libssl-dev:arm64`), which `pkg-config` finds
//!   through `PKG_CONFIG_LIBDIR_<triple>` (only the target's directory: the build platform's own libraries can
//!   never be picked up by mistake).
//!
//! The cross compilers are installed only when the build platform is another architecture (the Dockerfile asks
//! `dpkg --print-architecture` at build time): on a machine of the target's own architecture the native GCC,
//! which Debian also names `<triplet>-gcc`, does the same job.

use std::collections::BTreeSet;

use super::builders::CrossNeeds;
use super::{CrossSetup, Image};
use crate::model::Linkage;
use crate::platform::{cargo_target_var, cc_var, is_musl, Language, Platform};

/// The environment, its one-line note and the setup of a cross builder for `triple` on `platform`.
pub fn cross_setup(
    platform: Platform,
    triple: &str,
    needs: &CrossNeeds,
) -> (Vec<(String, String)>, String, CrossSetup) {
    let arch = platform.debian_arch();
    let gcc = platform.gcc_triplet();
    let linker_var = cargo_target_var(triple, "LINKER");
    let mut env = Vec::new();
    let mut target_packages = BTreeSet::new();
    let mut cross_packages = BTreeSet::new();
    let mut native_packages = BTreeSet::new();
    let mut reasons = Vec::new();
    let note;
    if needs.strip {
        // The build platform's `strip` reads only its own architecture's files.
        let binutils = format!("binutils-{}", gcc.replace('_', "-"));
        reasons.push(format!(
            "{binutils}: `{gcc}-strip` strips the {} executables",
            platform.docker_name()
        ));
        cross_packages.insert(binutils);
    }
    if is_musl(triple) {
        env.push((linker_var, "rust-lld".to_string()));
        if needs.c.is_empty() {
            note = format!("{triple} links with rust-lld and Rust's own musl: no C toolchain");
        } else {
            let wrapper = format!("{}-gcc", platform.musl_dir());
            env.push((cc_var("AR", triple), format!("{gcc}-ar")));
            env.push((cc_var("CC", triple), wrapper.clone()));
            target_packages.insert(format!("musl-dev:{arch}"));
            cross_packages.insert(platform.cross_compiler_package(Language::C));
            let crates = needs.c.iter().cloned().collect::<Vec<_>>().join(", ");
            reasons.push(format!(
                "musl-dev:{arch}, {}: C for {triple} ({crates}), compiled by musl-dev's `{wrapper}` (Debian's cross gcc with musl's specs)",
                platform.cross_compiler_package(Language::C)
            ));
            note = format!(
                "C for {triple} compiles with `{wrapper}` (Debian's `{gcc}-gcc` with musl-dev:{arch}), for {crates}; rust-lld links"
            );
        }
    } else {
        env.push((linker_var, format!("{gcc}-gcc")));
        env.push((cc_var("AR", triple), format!("{gcc}-ar")));
        env.push((cc_var("CC", triple), format!("{gcc}-gcc")));
        let mut toolchain = vec![
            platform.cross_compiler_package(Language::C),
            format!("libc6-dev-{arch}-cross"),
        ];
        if needs.cpp {
            env.push((cc_var("CXX", triple), format!("{gcc}-g++")));
            toolchain.push(platform.cross_compiler_package(Language::Cpp));
            // On the target's own architecture `<triplet>-g++` comes with Debian's `g++`, which the image lacks.
            native_packages.insert("g++".to_string());
        }
        reasons.push(format!(
            "{}: Debian's cross toolchain links {triple}",
            toolchain.join(", ")
        ));
        cross_packages.extend(toolchain);
        if !needs.libraries.is_empty() {
            env.push((cc_var("PKG_CONFIG_ALLOW_CROSS", triple), "1".to_string()));
            env.push((
                cc_var("PKG_CONFIG_LIBDIR", triple),
                format!("/usr/lib/{gcc}/pkgconfig:/usr/share/pkgconfig"),
            ));
        }
        for (package, why) in &needs.libraries {
            target_packages.insert(format!("{package}:{arch}"));
            reasons.push(format!("{package}:{arch}: {why} for {triple}"));
        }
        note = format!("{triple} links with Debian's `{gcc}-gcc`");
    }
    env.sort();
    let setup = CrossSetup {
        rustup_target: triple.to_string(),
        debian_arch: arch.to_string(),
        target_packages: target_packages.into_iter().collect(),
        cross_packages: cross_packages.into_iter().collect(),
        native_packages: native_packages.into_iter().collect(),
        strip: format!("{gcc}-strip"),
        objcopy: format!("{gcc}-objcopy"),
        reasons,
    };
    (env, note, setup)
}

/// In a multi-platform plan, what the `test` stage installs for the build platform's tests: the `-dev`
/// packages of every system library the images link dynamically, and those only the tests link (`more`).
pub(super) fn test_packages_cross(more: &[String], images: &[Image]) -> Vec<String> {
    let mut packages: BTreeSet<String> = more.iter().cloned().collect();
    // The builders have their targets' `<triplet>-g++`; the tests build for the build platform with its own.
    if images.iter().any(|i| !i.compilers.cpp.is_empty()) {
        packages.insert("g++".to_string());
    }
    for native in images
        .iter()
        .flat_map(|i| i.native.iter())
        .filter(|n| n.linkage == Linkage::Dynamic)
    {
        packages.extend(native.build_packages.iter().cloned());
    }
    packages.into_iter().collect()
}

#[cfg(test)]
mod tests;
