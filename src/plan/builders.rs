//! Builder stages: binaries grouped by how they compile (target triple, static or not), each group's `cargo
//! build` invocations, and the Debian packages the builder base needs and why. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::cargo_flags::CargoFlags;
use super::select::Candidate;
use super::{image_stages, BuilderStage, Image, Invocation, Profile};
use crate::config::Settings;
use crate::model::{stage, BuildTool, Linkage};
use crate::platform::{cc_var, is_musl, LibcKind, Platform, Triple};
use crate::workspace::Package;

/// A binary as the builder stages see it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct BuildMember<'a> {
    profile: &'a str,
    package: &'a str,
    binary: &'a str,
    stage: &'a str,
    /// Features of its package it needs, qualified: required ones it was selected with, and configured ones.
    features: BTreeSet<String>,
}

impl BuildMember<'_> {
    /// Whether it can share a `cargo build` with `others`: same profile, no output name collision, and the
    /// same features for the same package (features are per package in one invocation).
    fn fits(&self, others: &[BuildMember<'_>]) -> bool {
        others.iter().all(|o| {
            o.profile == self.profile
                && o.binary != self.binary
                && (o.package != self.package || o.features == self.features)
        })
    }
}

/// Groups binaries by how they are compiled (target triple, static or not) into builder stages, and within
/// a stage into as few `cargo build`s as profiles, per-package features and output names allow. In a
/// multi-platform plan each platform gets its own stage of every kind (`builder-arm64`), cross-compiling on the
/// build platform, and [`BuilderStage::alias`] names the stage that picks the target platform's one.
pub fn builder_stages(
    images: &[Image],
    candidates: &[Candidate<'_>],
    stage_names: &[String],
    user_features: &[String],
    settings: &Settings,
    (cache_key, cargo): (&str, &CargoFlags),
    cross: Option<&[&Package]>,
) -> Vec<BuilderStage> {
    let (groups, platforms) = group_members(images, candidates, stage_names);
    let kinds: BTreeSet<(bool, bool)> = groups
        .keys()
        .map(|(_, triple, crt_static)| (is_musl(triple), *crt_static))
        .collect();
    let single = kinds.len() == 1;
    let selected: BTreeSet<String> = candidates.iter().map(|c| c.package.name.clone()).collect();
    groups
        .into_iter()
        .map(|((index, triple, crt_static), mut members)| {
            members.sort();
            let mut invocations: Vec<Vec<BuildMember<'_>>> = Vec::new();
            for member in members {
                match invocations.iter_mut().find(|inv| member.fits(inv)) {
                    Some(inv) => inv.push(member),
                    None => invocations.push(vec![member]),
                }
            }
            let alias = if single {
                stage::BUILDER
            } else if is_musl(&triple) {
                stage::BUILDER_MUSL
            } else if crt_static {
                stage::BUILDER_GNU_STATIC
            } else {
                stage::BUILDER_GNU
            };
            let invocations: Vec<Invocation> = invocations
                .into_iter()
                .map(|members| invocation(members, user_features, &selected, settings))
                .collect();
            let profiles: BTreeSet<&str> = invocations
                .iter()
                .map(|i| i.profile.name.as_str())
                .collect();
            let cache_id = format!(
                "cargo-dockerize-{cache_key}-{triple}{}-{}",
                if crt_static { "-static" } else { "" },
                profiles.into_iter().collect::<Vec<_>>().join("+")
            );
            let platform = platforms[&index];
            let (stage, compiler_env, compiler_note, setup) = match cross {
                None => {
                    let (env, note) = compiler_env(&triple, images, &invocations);
                    (alias.to_string(), env, note, None)
                }
                Some(packages) => {
                    let needs = CrossNeeds::of(&triple, images, &invocations, packages);
                    let (env, note, setup) = super::cross::cross_setup(platform, &triple, &needs);
                    (
                        format!("{alias}-{}", platform.suffix()),
                        env,
                        note,
                        Some(setup),
                    )
                }
            };
            let static_env = static_env(&triple, crt_static, cargo);
            BuilderStage {
                stage,
                alias: alias.to_string(),
                platform,
                triple,
                crt_static,
                static_env,
                invocations,
                cache_id,
                compiler_env,
                compiler_note,
                cross: setup,
            }
        })
        .collect()
}

/// The binaries grouped by how they compile: platform (by index in the plan's order), triple and static-ness;
/// and each platform by its index.
#[allow(clippy::type_complexity)]
fn group_members<'a>(
    images: &[Image],
    candidates: &'a [Candidate<'_>],
    stage_names: &'a [String],
) -> (
    BTreeMap<(usize, String, bool), Vec<BuildMember<'a>>>,
    BTreeMap<usize, Platform>,
) {
    // Keyed by platform first, so a one-platform plan keeps its order by triple.
    let mut groups: BTreeMap<(usize, String, bool), Vec<BuildMember<'_>>> = BTreeMap::new();
    let mut platforms: BTreeMap<usize, Platform> = BTreeMap::new();
    for (candidate, stage) in candidates.iter().zip(stage_names) {
        let image = images
            .iter()
            .find(|i| &i.stage == stage)
            .expect("every candidate has an image");
        let crt_static = image.libc == LibcKind::Gnu && image.linkage == Linkage::Static;
        let package = candidate.package.name.as_str();
        let mut features: BTreeSet<String> = BTreeSet::new();
        features.extend(candidate.config.features.value.iter().map(|f| {
            if f.contains('/') {
                f.clone()
            } else {
                format!("{package}/{f}")
            }
        }));
        let member = BuildMember {
            profile: candidate.config.profile.value.as_str(),
            package,
            binary: candidate.binary.name.as_str(),
            stage: stage.as_str(),
            features,
        };
        for (index, target) in image.platforms.iter().enumerate() {
            platforms.insert(index, target.platform);
            groups
                .entry((index, target.triple.clone(), crt_static))
                .or_default()
                .push(member.clone());
        }
    }
    (groups, platforms)
}

/// The variable and flags through which a builder links its target statically: static glibc, and a musl target
/// Rust links dynamically by default (riscv64's), since `scratch` has no C library to load.
fn static_env(triple: &str, crt_static: bool, cargo: &CargoFlags) -> Option<(String, String)> {
    let dynamic_musl =
        Triple::parse(triple).is_some_and(|t| t.libc() == LibcKind::Musl && !t.static_by_default());
    (crt_static || dynamic_musl).then(|| {
        (
            cargo.static_var(triple),
            "-C target-feature=+crt-static".to_string(),
        )
    })
}

/// Whether a Debian package is a library's development files (`libssl-dev`), which a cross builder needs for
/// the target's architecture, rather than a tool (`pkg-config`), which runs on the build platform.
pub fn is_library(package: &str) -> bool {
    package.ends_with("-dev")
}

/// What the binaries of a cross builder need for its target: which crates compile C and C++, and the `-dev`
/// packages of the system libraries they link.
pub struct CrossNeeds {
    pub c: BTreeSet<String>,
    pub cpp: bool,
    /// Whether an image of the builder is stripped after the build (which takes the target's `strip`).
    pub strip: bool,
    /// `-dev` packages (unqualified), each with why: a crate links its library, or `build-packages` names it.
    pub libraries: BTreeMap<String, String>,
}

impl CrossNeeds {
    fn of(
        triple: &str,
        images: &[Image],
        invocations: &[Invocation],
        packages: &[&Package],
    ) -> Self {
        let stages: BTreeSet<&str> = image_stages(invocations).collect();
        let mine: Vec<&Image> = images
            .iter()
            .filter(|i| stages.contains(i.stage.as_str()))
            .collect();
        let mut libraries = BTreeMap::new();
        for image in &mine {
            let deps = packages
                .iter()
                .find(|p| p.name == image.package)
                .map(|p| p.target(triple));
            for native in deps
                .iter()
                .flat_map(|d| d.native.iter())
                .filter(|n| n.linkage == Linkage::Dynamic)
            {
                for package in native.build_packages.iter().filter(|p| is_library(p)) {
                    libraries
                        .entry(package.clone())
                        .or_insert_with(|| format!("`{}` links a system library", native.krate));
                }
            }
            // A configured `-dev` package is a library to link for the target too.
            let configured = &image.config.build_packages;
            for package in configured.value.iter().filter(|p| is_library(p)) {
                libraries
                    .entry(package.clone())
                    .or_insert_with(|| format!("`build-packages` in {}", configured.source));
            }
        }
        Self {
            c: mine
                .iter()
                .flat_map(|i| i.compilers.c.iter().cloned())
                .collect(),
            cpp: mine.iter().any(|i| !i.compilers.cpp.is_empty()),
            strip: mine.iter().any(|i| i.strip == super::Strip::Symbols),
            libraries,
        }
    }
}

/// The compiler a musl builder's build scripts use, named for every tool that asks: the `cc` crate reads
/// `CC_<triple>` and `AR_<triple>` (and hands them to `cmake` and to the autoconf builds of crates such as
/// jemalloc), so with these set nothing guesses a `x86_64-linux-musl-gcc` that Debian does not have. Empty for a
/// glibc builder, whose gcc is the default, or when nothing compiles C for the target.
fn compiler_env(
    triple: &str,
    images: &[Image],
    invocations: &[Invocation],
) -> (Vec<(String, String)>, String) {
    if !is_musl(triple) {
        return (Vec::new(), String::new());
    }
    let stages: BTreeSet<&str> = image_stages(invocations).collect();
    let crates: BTreeSet<&str> = images
        .iter()
        .filter(|i| stages.contains(i.stage.as_str()))
        .flat_map(|i| i.compilers.c.iter().map(String::as_str))
        .collect();
    if crates.is_empty() {
        return (Vec::new(), String::new());
    }
    let env = vec![
        (cc_var("AR", triple), "ar".to_string()),
        (cc_var("CC", triple), "musl-gcc".to_string()),
    ];
    let note = format!(
        "C for {triple} compiles with musl-gcc (Debian's musl-tools), for {}",
        crates.into_iter().collect::<Vec<_>>().join(", ")
    );
    (env, note)
}

fn invocation(
    members: Vec<BuildMember<'_>>,
    user_features: &[String],
    selected: &BTreeSet<String>,
    settings: &Settings,
) -> Invocation {
    let packages: BTreeSet<String> = members.iter().map(|m| m.package.to_string()).collect();
    let mut features: BTreeSet<String> = members
        .iter()
        .flat_map(|m| m.features.iter().cloned())
        .collect();
    for feature in user_features {
        // Every user feature is qualified by now: `member/feature`, or `dependency/feature` which Cargo
        // applies to whichever selected package depends on it.
        let owner = feature.split_once('/').map(|(p, _)| p).unwrap_or_default();
        if packages.contains(owner) || !selected.contains(owner) {
            features.insert(feature.clone());
        }
    }
    let mut bins: Vec<(String, String)> = members
        .iter()
        .map(|m| (m.binary.to_string(), m.stage.to_string()))
        .collect();
    bins.sort();
    Invocation {
        profile: Profile::named(members.first().map(|m| m.profile).unwrap_or("release")),
        packages: packages.into_iter().collect(),
        bins,
        features: features.into_iter().collect(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
    }
}

/// Debian packages of the builder base: what the native crates and build scripts of the selected binaries
/// need on their targets, what their tables ask for (`build-packages`), `musl-tools` for C code on a musl target
/// and `g++` for C++ code. With `cross`, the base holds only what runs on the build platform (tools, what
/// build scripts link, `build-packages`): each platform's builder installs its target's libraries and compilers.
pub fn builder_packages(
    images: &[Image],
    packages: &[&Package],
    cargo_config_tools: &[BuildTool],
    cross: bool,
) -> (Vec<String>, Vec<String>) {
    let mut out = BTreeSet::new();
    let mut reasons = BTreeSet::new();
    let mut add = |names: &[String], reason: String| {
        if !names.is_empty() {
            out.extend(names.iter().cloned());
            reasons.insert(reason);
        }
    };
    let tool_reason = |tool: &BuildTool| format!("{}: {}", tool.packages.join(", "), tool.note);
    for tool in cargo_config_tools {
        add(&tool.packages, tool_reason(tool));
    }
    for image in images {
        // The package's own view on the image's target, before `+crt-static` made its libraries static: linking
        // them statically needs the same `-dev` packages (they carry the `.a` archives).
        let deps = packages
            .iter()
            .find(|p| p.name == image.package)
            .map(|p| p.target(&image.platforms[0].triple));
        for native in deps
            .iter()
            .flat_map(|d| d.native.iter())
            .filter(|n| n.linkage == Linkage::Dynamic)
        {
            // Cross: the libraries are the target's (each platform's builder installs them), the tools that
            // find them (`pkg-config`) the build platform's.
            let packages: Vec<String> = native
                .build_packages
                .iter()
                .filter(|p| !cross || !is_library(p))
                .cloned()
                .collect();
            add(
                &packages,
                format!(
                    "{}: `{}` links a system library",
                    packages.join(", "),
                    native.krate
                ),
            );
        }
        // Cross: a configured `-dev` package is the target's (each platform's builder installs it).
        let configured = &image.config.build_packages;
        let mine: Vec<String> = configured
            .value
            .iter()
            .filter(|p| !cross || !is_library(p))
            .cloned()
            .collect();
        add(
            &mine,
            format!(
                "{}: `build-packages` in {}",
                mine.join(", "),
                configured.source
            ),
        );
        for tool in deps.iter().flat_map(|d| d.build_tools.iter()) {
            add(&tool.packages, tool_reason(tool));
        }
        for native in deps.iter().flat_map(|d| d.build_native.iter()) {
            add(
                &native.build_packages,
                format!(
                    "{}: `{}` links a system library into a build script",
                    native.build_packages.join(", "),
                    native.krate
                ),
            );
        }
    }
    if !cross {
        for (package, reason) in compilers(images) {
            add(&[package], reason);
        }
    }
    (out.into_iter().collect(), reasons.into_iter().collect())
}

/// The compilers a one-platform builder base installs, each with why: `musl-tools` for C code on a musl target
/// and `g++` for C++ code. (A cross builder installs its target's own.)
fn compilers(images: &[Image]) -> Vec<(String, String)> {
    let mut compilers = Vec::new();
    let c_on_musl = images
        .iter()
        .find(|i| i.libc == LibcKind::Musl && !i.compilers.c.is_empty());
    if let Some(image) = c_on_musl {
        compilers.push((
            "musl-tools".to_string(),
            format!(
                "musl-tools: a build script of `{}` compiles C code for the musl target ({})",
                image.package,
                image.compilers.c.join(", ")
            ),
        ));
    }
    if let Some(image) = images.iter().find(|i| !i.compilers.cpp.is_empty()) {
        compilers.push((
            "g++".to_string(),
            format!(
                "g++: `{}` compiles C++ ({})",
                image.package,
                image.compilers.cpp.join("; ")
            ),
        ));
    }
    compilers
}

/// Debian packages the `test` stage adds to the builder base: the `-dev` packages of what the tests of `packages`
/// link on `triple` (the builder's own target, which `cargo test` builds for; dev-dependencies included), which
/// no image needs, but those `installed` already has. With the reasons, like [`builder_packages`].
pub fn test_packages(
    packages: &[&Package],
    triple: &str,
    installed: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut out = BTreeSet::new();
    let mut reasons = BTreeSet::new();
    let new = |native: &&crate::model::NativeLink| {
        native.build_packages.iter().any(|p| !installed.contains(p))
    };
    for native in packages
        .iter()
        .flat_map(|p| p.target(triple).test_native.iter())
        .filter(new)
    {
        out.extend(native.build_packages.iter().cloned());
        reasons.insert(format!(
            "{}: `{}` links a system library into the tests (the `test` stage)",
            native.build_packages.join(", "),
            native.krate
        ));
    }
    (out.into_iter().collect(), reasons.into_iter().collect())
}

#[cfg(test)]
mod tests;
