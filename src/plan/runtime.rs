//! Where one binary runs: its C library, how it links, and the base image of its runtime stage, with the reasons.
//!
//! Takes the binary's package (its native crates) and its effective configuration and gives a [`RuntimeChoice`]:
//! a value holding the decision, the one-line reasons `list` shows, and the notes the user should read. Nothing
//! is pushed anywhere; the caller decides what to do with the notes. Pure.

use std::collections::BTreeSet;

use super::cargo_flags::CargoFlags;
use super::{Compilers, PlanError, RuntimeBase};
use crate::config::BinaryConfig;
use crate::model::Libc;
use crate::model::{Linkage, NativeLink, Runtime, DEBIAN_SLIM, DISTROLESS_CC};
use crate::platform::{LibcKind, Platform};
use crate::source::{Source, Sourced};
use crate::workspace::{Package, TargetDeps, DISTROLESS_CC_LIBRARIES};

/// The decision for one binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeChoice {
    pub libc: LibcKind,
    pub linkage: Linkage,
    /// The native crates of its closure, as they link for this choice (static under `+crt-static`), sorted.
    pub native: Vec<NativeLink>,
    pub runtime: RuntimeBase,
    /// Debian packages installed in a Debian-based runtime, sorted.
    pub runtime_packages: Vec<String>,
    /// What the binary needs from Debian on any Debian-based image (the debug variant's): the packages of the
    /// libraries it loads and the configured `runtime-packages`, sorted.
    pub debian_packages: Vec<String>,
    /// Why, one short line each, in the order the decisions were made.
    pub reasons: Vec<String>,
    /// What the user should know about this choice (for `list` and `generate`).
    pub notes: Vec<String>,
    /// The C and C++ compilers its build needs for the chosen target.
    pub compilers: Compilers,
}

/// Chooses for every platform of the image at once, since one runtime stage serves them all: they share the C
/// library, the linkage and the base. musl where every platform has a musl target and its dependencies and
/// Cargo's configuration allow it there; glibc on every platform as soon as one needs it. Of the choices left,
/// the widest base wins (a Debian-based one over distroless over `scratch`), with the runtime packages of every
/// platform.
pub fn choose_for_platforms(
    binary: &str,
    package: &Package,
    config: &BinaryConfig,
    platforms: &[Platform],
    cargo: &CargoFlags,
) -> Result<RuntimeChoice, PlanError> {
    let mut config = config.clone();
    let mut early_notes = Vec::new();
    apply_cargo_config(binary, &mut config, platforms, cargo, &mut early_notes)?;
    if let Some(platform) = platforms
        .iter()
        .find(|p| p.triple(LibcKind::Musl).is_none())
    {
        match config.libc.value {
            Libc::Musl => {
                return Err(PlanError::NoMuslTarget {
                    binary: binary.to_string(),
                    platform: platform.to_string(),
                    origin: config.libc.source.to_string(),
                })
            }
            Libc::Auto => {
                config.libc = Sourced {
                    value: Libc::Gnu,
                    source: Source::Derived(format!(
                        "the platforms: Rust has no prebuilt musl target for `{platform}`"
                    )),
                }
            }
            Libc::Gnu => {}
        }
    }
    let cross = crate::platform::cross_compiles(platforms);
    let choose_all = |config: &BinaryConfig| -> Result<Vec<RuntimeChoice>, PlanError> {
        platforms
            .iter()
            .map(|p| choose(binary, package, config, *p, (cross, cargo)))
            .collect()
    };
    let mut choices = choose_all(&config)?;
    let gnu = platforms
        .iter()
        .zip(&choices)
        .find(|(_, c)| c.libc == LibcKind::Gnu);
    if let Some((platform, _)) = gnu.filter(|_| choices.iter().any(|c| c.libc == LibcKind::Musl)) {
        config.libc = Sourced {
            value: Libc::Gnu,
            source: Source::Derived(format!(
                "the platforms: `{platform}` needs glibc, and every platform of an image shares its runtime stage"
            )),
        };
        choices = choose_all(&config)?;
    }
    let rank = |c: &RuntimeChoice| match c.runtime {
        RuntimeBase::Scratch => 0,
        RuntimeBase::Distroless(_) => 1,
        RuntimeBase::DebianSlim(_) | RuntimeBase::Custom(_) => 2,
    };
    let mut widest = choices
        .iter()
        .max_by_key(|c| rank(c))
        .cloned()
        .expect("an image has at least one platform");
    for other in &choices {
        widest
            .runtime_packages
            .extend(other.runtime_packages.iter().cloned());
        widest
            .debian_packages
            .extend(other.debian_packages.iter().cloned());
        // What another platform's choice has to say stands too (once).
        for note in &other.notes {
            if !widest.notes.contains(note) {
                widest.notes.push(note.clone());
            }
        }
    }
    for list in [&mut widest.runtime_packages, &mut widest.debian_packages] {
        list.sort();
        list.dedup();
    }
    early_notes.append(&mut widest.notes);
    widest.notes = early_notes;
    Ok(widest)
}

/// What Cargo's configuration decides before the dependencies do: `build.target` chooses the C library where
/// `libc` is `auto` (a table or flag that sets it wins, with a note), and flags that link a musl target
/// dynamically (`-crt-static`) leave glibc, since `scratch` has no musl to load.
fn apply_cargo_config(
    binary: &str,
    config: &mut BinaryConfig,
    platforms: &[Platform],
    cargo: &CargoFlags,
    notes: &mut Vec<String>,
) -> Result<(), PlanError> {
    if let Some((libc, origin)) = &cargo.build_target {
        let wanted = match libc {
            LibcKind::Musl => Libc::Musl,
            LibcKind::Gnu => Libc::Gnu,
        };
        match config.libc.value {
            Libc::Auto => {
                config.libc = Sourced {
                    value: wanted,
                    source: Source::Derived(origin.clone()),
                }
            }
            value if value == wanted => {}
            _ => notes.push(format!(
                "binary `{binary}`: `libc` from {} overrides {origin}",
                config.libc.source
            )),
        }
    }
    if config.libc.value == Libc::Gnu {
        return Ok(());
    }
    let dynamic = platforms
        .iter()
        .filter_map(|p| p.triple(LibcKind::Musl))
        .find_map(|triple| cargo.dynamic_musl(triple));
    let Some(why) = dynamic else { return Ok(()) };
    if config.libc.value == Libc::Musl {
        // An image of the user's (Alpine's) may carry musl's loader; `scratch` and Debian's do not.
        if matches!(config.runtime.value, Runtime::Image(_)) {
            return Ok(());
        }
        return Err(PlanError::DynamicMusl {
            binary: binary.to_string(),
            origin: config.libc.source.to_string(),
            why,
        });
    }
    config.libc = Sourced {
        value: Libc::Gnu,
        source: Source::Derived(format!(
            "Cargo's configuration: {why}, and `scratch` cannot run a dynamic musl binary"
        )),
    };
    Ok(())
}

/// Chooses libc, linkage and runtime base for `binary` of `package` on `platform`; `cross` says whether the
/// builders cross-compile, `cargo` what Cargo's configuration says of each target.
///
/// The choice reads the dependency graph of the target it is about: musl's first (its target-specific
/// dependencies, such as a jemalloc allocator for musl only, count), then glibc's when glibc is chosen.
pub fn choose(
    binary: &str,
    package: &Package,
    config: &BinaryConfig,
    platform: Platform,
    (cross, cargo): (bool, &CargoFlags),
) -> Result<RuntimeChoice, PlanError> {
    let musl = package.target(platform.triple(LibcKind::Musl).unwrap_or_default());
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    let (libc, cpp_static) = choose_libc(binary, musl, config, &mut reasons, &mut notes);
    let deps = package.target(platform.triple(libc).unwrap_or_default());
    // Sorted here too: the reasons and library lists below are rendered in this order.
    let mut native = deps.native.clone();
    native.sort();
    native.dedup();
    let gnu = platform.triple(LibcKind::Gnu).unwrap_or_default();
    let musl_triple = platform.triple(LibcKind::Musl).unwrap_or_default();
    let linkage = match libc {
        LibcKind::Musl if cargo.dynamic_musl(musl_triple).is_some() => Linkage::Dynamic,
        LibcKind::Musl => Linkage::Static,
        LibcKind::Gnu => gnu_linkage(binary, config, cpp_static, (gnu, cargo), &mut reasons)?,
    };
    if libc == LibcKind::Gnu && linkage == Linkage::Static {
        link_statically(&mut native);
    }
    let compilers = compilers(libc, linkage, deps, cross);
    let needs = Needs::of(&native, config);
    let (runtime, runtime_packages) =
        choose_base(binary, linkage, &needs, config, &mut reasons, &mut notes)?;
    let configured = &config.runtime_packages.value;
    if !configured.is_empty()
        && matches!(runtime, RuntimeBase::Scratch | RuntimeBase::Distroless(_))
    {
        notes.push(format!(
            "binary `{binary}`: `runtime-packages` ({}) need a Debian-based runtime; `{}` has no package manager, so they are not installed",
            configured.join(", "),
            runtime.image()
        ));
    }
    Ok(RuntimeChoice {
        libc,
        linkage,
        native,
        runtime,
        runtime_packages,
        debian_packages: needs.packages,
        reasons,
        notes,
        compilers,
    })
}

/// How glibc links: as Cargo's configuration says where it says (`±crt-static`), else statically when `static`
/// is set or for C++ (`cpp_static`), with `+crt-static` the builder adds; that addition cannot reach a build whose
/// flags `RUSTFLAGS` in build-env replaces, and a `static` the configuration contradicts is refused.
fn gnu_linkage(
    binary: &str,
    config: &BinaryConfig,
    cpp_static: bool,
    (triple, cargo): (&str, &CargoFlags),
    reasons: &mut Vec<String>,
) -> Result<Linkage, PlanError> {
    let asked = config.static_.value && config.static_.source != Source::Default;
    let conflict = |why: String| PlanError::CrtStaticConflict {
        binary: binary.to_string(),
        origin: config.static_.source.to_string(),
        why,
    };
    match cargo.crt_static(triple) {
        Some((true, origin)) => {
            reasons.push(format!(
                "glibc linked statically (`-C target-feature=+crt-static` in {origin})"
            ));
            return Ok(Linkage::Static);
        }
        Some((false, origin)) if asked => {
            return Err(conflict(format!(
                "Cargo's configuration links `{triple}` dynamically (`-C target-feature=-crt-static` in {origin})"
            )))
        }
        Some((false, origin)) => {
            reasons.push(format!(
                "glibc linked dynamically (`-C target-feature=-crt-static` in {origin})"
            ));
            return Ok(Linkage::Dynamic);
        }
        None => {}
    }
    let wanted = config.static_.value || cpp_static;
    if let Some(by) = cargo.replaced_by_environment(triple).filter(|_| wanted) {
        if asked {
            return Err(conflict(format!(
                "{by} replaces every flag the builder adds, `+crt-static` included"
            )));
        }
        reasons.push(format!(
            "glibc linked dynamically: {by} replaces the `+crt-static` the builder would add"
        ));
        return Ok(Linkage::Dynamic);
    }
    Ok(if config.static_.value {
        reasons.push(format!(
            "glibc linked statically (`+crt-static`) by {}",
            config.static_.source
        ));
        Linkage::Static
    } else if cpp_static {
        reasons.push(
            "glibc linked statically (`+crt-static`, libstdc++ included) so the binary still runs on `scratch`"
                .to_string(),
        );
        Linkage::Static
    } else {
        Linkage::Dynamic
    })
}

/// Why musl gives way to glibc for C++: Debian's `musl-tools` has a C compiler only (no `musl-g++`, no libstdc++
/// built against musl). The other ways to get one were weighed: a musl cross toolchain with libstdc++ is in no
/// archive reachable from a build (musl.cc, Alpine), clang has no musl C++ library in Debian, and zig (PyPI's
/// `ziglang`) adds Python, a 101 MB download (376 MB unpacked) and a compile of libc++ to every cold builder.
/// Static glibc needs only Debian's `g++` and keeps the binary static, on `scratch`.
const CPP_ON_MUSL: &str = "Debian has no C++ compiler for musl";

/// The compilers of a binary's C and C++ dependencies on the chosen target, and the toolchain that runs them.
fn compilers(libc: LibcKind, linkage: Linkage, deps: &TargetDeps, cross: bool) -> Compilers {
    // Sorted: `list` and the Dockerfile name them in this order.
    let c: Vec<String> = deps
        .compiles_c
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cpp: Vec<String> = deps
        .compiles_cpp
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let toolchain = match (libc, cpp.is_empty(), linkage) {
        _ if c.is_empty() && cpp.is_empty() => String::new(),
        // Each platform's builder has its own (see `plan::cross`).
        (LibcKind::Musl, _, _) if cross => {
            "each platform's `<arch>-linux-musl-gcc`: Debian's cross gcc with musl's specs".to_string()
        }
        (LibcKind::Gnu, _, _) if cross => "each platform's Debian cross gcc (glibc)".to_string(),
        (LibcKind::Musl, true, _) => "musl-gcc from Debian's musl-tools".to_string(),
        (LibcKind::Musl, false, _) => format!(
            "musl-gcc from Debian's musl-tools, for C only: {CPP_ON_MUSL}, so the C++ code will not compile"
        ),
        (LibcKind::Gnu, true, _) => "the builder's gcc (glibc)".to_string(),
        (LibcKind::Gnu, false, Linkage::Static) => {
            "gcc and g++ (glibc), with libstdc++ linked statically".to_string()
        }
        (LibcKind::Gnu, false, Linkage::Dynamic) => "gcc and g++ (glibc)".to_string(),
    };
    Compilers { c, cpp, toolchain }
}

fn dynamic(native: &[NativeLink]) -> impl Iterator<Item = &NativeLink> {
    native.iter().filter(|n| n.linkage == Linkage::Dynamic)
}

/// musl unless a dependency links a system library dynamically or compiles C++, or the configuration says
/// otherwise. Reads the musl target's closure. The second value says that glibc was chosen for C++, which then
/// links statically (unless `static` is set either way) so the binary stays on `scratch`.
fn choose_libc(
    binary: &str,
    musl: &TargetDeps,
    config: &BinaryConfig,
    reasons: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> (LibcKind, bool) {
    let source = &config.libc.source;
    // Sorted: the reasons name them in this order.
    let mut dynamic: Vec<&NativeLink> = dynamic(&musl.native).collect();
    dynamic.sort();
    dynamic.dedup();
    match config.libc.value {
        Libc::Musl => {
            reasons.push(format!("musl chosen by {source}"));
            if !dynamic.is_empty() {
                notes.push(format!(
                    "binary `{binary}` links system libraries ({}) but {source} asks for a static musl build: it will only link if those crates vendor their C sources",
                    dynamic.iter().map(|n| n.krate.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            if !musl.compiles_cpp.is_empty() {
                notes.push(format!(
                    "binary `{binary}` compiles C++ ({}) but {source} asks for musl: {CPP_ON_MUSL}, so the build will fail; leave `libc` to `auto` for static glibc",
                    musl.compiles_cpp.join("; ")
                ));
            }
            (LibcKind::Musl, false)
        }
        Libc::Gnu => {
            reasons.push(format!("glibc chosen by {source}"));
            (LibcKind::Gnu, false)
        }
        Libc::Auto if !dynamic.is_empty() => {
            reasons.extend(dynamic.iter().map(|n| n.note.clone()));
            (LibcKind::Gnu, false)
        }
        Libc::Auto if !musl.compiles_cpp.is_empty() => {
            reasons.push(format!(
                "compiles C++ ({}) and {CPP_ON_MUSL}: glibc",
                musl.compiles_cpp.join("; ")
            ));
            (LibcKind::Gnu, config.static_.source == Source::Default)
        }
        Libc::Auto => {
            reasons.push("no dependency links a system library: static musl".to_string());
            (LibcKind::Musl, false)
        }
    }
}

/// Under `+crt-static` the -sys crates link their libraries statically too (openssl-sys and others read the
/// target feature): the runtime needs none of them.
fn link_statically(native: &mut [NativeLink]) {
    for n in native.iter_mut().filter(|n| n.linkage == Linkage::Dynamic) {
        n.linkage = Linkage::Static;
        n.runtime_packages.clear();
        n.libraries.clear();
        n.note = format!(
            "`{}` links its system library statically under `+crt-static`",
            n.krate
        );
    }
}

/// What a dynamically linked binary needs at run time.
struct Needs {
    /// Shared libraries (sonames) it loads.
    libraries: Vec<String>,
    /// Debian packages providing them, and the configured `runtime-packages`, sorted.
    packages: Vec<String>,
    /// Whether distroless `cc` has all of it.
    fits_distroless: bool,
}

impl Needs {
    fn of(native: &[NativeLink], config: &BinaryConfig) -> Self {
        let libraries: Vec<String> = dynamic(native).flat_map(|n| n.libraries.clone()).collect();
        let mut packages: BTreeSet<String> = dynamic(native)
            .flat_map(|n| n.runtime_packages.clone())
            .collect();
        let configured = &config.runtime_packages.value;
        packages.extend(configured.iter().cloned());
        let fits_distroless = libraries
            .iter()
            .all(|l| DISTROLESS_CC_LIBRARIES.contains(&l.as_str()))
            && configured.is_empty();
        Self {
            libraries,
            packages: packages.into_iter().collect(),
            fits_distroless,
        }
    }
}

/// The base image, and the packages a Debian-based one installs.
fn choose_base(
    binary: &str,
    linkage: Linkage,
    needs: &Needs,
    config: &BinaryConfig,
    reasons: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<(RuntimeBase, Vec<String>), PlanError> {
    let source = &config.runtime.source;
    let configured = &config.runtime_packages;
    let packages = || needs.packages.clone();
    let debian = || RuntimeBase::DebianSlim(DEBIAN_SLIM.into());
    let distroless = || RuntimeBase::Distroless(DISTROLESS_CC.into());
    Ok(match (&config.runtime.value, linkage) {
        (Runtime::Auto, _) if !configured.value.is_empty() => {
            reasons.push(format!(
                "runtime packages from {}: Debian slim with {}",
                configured.source,
                needs.packages.join(", ")
            ));
            (debian(), packages())
        }
        (Runtime::Auto, Linkage::Static) => {
            reasons.push("static binary: `scratch` with CA certificates".to_string());
            (RuntimeBase::Scratch, Vec::new())
        }
        (Runtime::Auto, Linkage::Dynamic) if needs.fits_distroless => {
            reasons
                .push("dynamic glibc binary: distroless `cc` (glibc, libgcc, libssl)".to_string());
            (distroless(), Vec::new())
        }
        (Runtime::Auto, Linkage::Dynamic) => {
            reasons.push(format!(
                "needs {} which distroless lacks: Debian slim with {}",
                needs.libraries.join(", "),
                needs.packages.join(", ")
            ));
            (debian(), packages())
        }
        (Runtime::Scratch, Linkage::Dynamic) => {
            return Err(PlanError::DynamicOnScratch {
                binary: binary.to_string(),
                libraries: needs.libraries.clone(),
            })
        }
        (Runtime::Scratch, Linkage::Static) => {
            reasons.push(format!("`scratch` chosen by {source}"));
            (RuntimeBase::Scratch, Vec::new())
        }
        (Runtime::Distroless, _) => {
            reasons.push(format!("distroless chosen by {source}"));
            if !needs.fits_distroless && linkage == Linkage::Dynamic {
                notes.push(format!(
                    "binary `{binary}` needs {} which the distroless image does not ship",
                    needs.libraries.join(", ")
                ));
            }
            (distroless(), Vec::new())
        }
        (Runtime::DebianSlim, _) => {
            reasons.push(format!("Debian slim chosen by {source}"));
            (debian(), packages())
        }
        (Runtime::Image(image), _) => {
            reasons.push(format!("`{image}` chosen by {source}"));
            if !needs.packages.is_empty() {
                notes.push(format!(
                    "binary `{binary}` needs the Debian packages {} at run time: make sure `{image}` has them",
                    needs.packages.join(", ")
                ));
            }
            (RuntimeBase::Custom(unambiguous(image)), Vec::new())
        }
    })
}

/// `image` as `FROM` reads it as an image: BuildKit looks a bare name up among the stages first (`builder`, or
/// a binary's stage) and takes a number for a stage's index (`0` is the builder base), so a name without a
/// registry, a tag or a digest gets its implicit `:latest` written out (no stage name holds a `:`).
fn unambiguous(image: &str) -> String {
    if image.contains(['/', ':', '@']) {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

#[cfg(test)]
mod tests;
