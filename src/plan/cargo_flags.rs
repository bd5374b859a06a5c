//! What Cargo's own configuration in the build context decides for the images: how each target links
//! (`-C target-feature=±crt-static`), which CPU it is compiled for (`-C target-cpu`), and `build.target`.
//!
//! The builders copy Cargo's configuration into the image, so its flags apply there whether the plan reads them
//! or not: read here once for every triple of the plan's platforms, from [`crate::workspace::CargoConfig`] and the
//! builders' environment (`build-env`), and handed to the runtime choice and the builder stages. `build.target`
//! never reaches a build (each compile names its `--target`), so it is honoured here or refused, never passed
//! over: a triple of the plan's platforms chooses the C library of every image whose `libc` is `auto`. Pure.

use std::collections::BTreeMap;

use super::{BuilderStage, PlanError};
use crate::platform::{cargo_target_var, LibcKind, Platform, Triple};
use crate::workspace::{CargoConfig, FlagLevel, TargetFlags, Workspace};

/// Cargo's configuration, resolved for every triple of the plan's platforms.
#[derive(Debug, Clone)]
pub struct CargoFlags {
    by_triple: BTreeMap<Triple, TargetFlags>,
    /// `build.target` naming a triple of the platforms: its C library, and the line that says so.
    pub build_target: Option<(LibcKind, String)>,
}

/// `build.target` where it is set, when it names one triple of the plan's platforms; else why not.
fn build_target(
    config: &CargoConfig,
    build_env: &BTreeMap<String, String>,
    platforms: &[Platform],
) -> Result<Option<(LibcKind, String)>, PlanError> {
    let Some((targets, origin)) = config.build_target(build_env) else {
        return Ok(None);
    };
    let refuse = |problem: String| PlanError::BuildTarget {
        origin: origin.clone(),
        targets: targets.join(", "),
        problem,
    };
    let [target] = &targets[..] else {
        return Err(refuse(
            "an image holds one target, and each platform's is chosen by the plan".into(),
        ));
    };
    let Some(triple) = Triple::parse(target) else {
        return Err(refuse(format!(
            "the images run Linux targets Rust ships a standard library for: {}",
            Triple::all()
                .map(Triple::name)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    if !platforms.contains(&triple.platform()) {
        return Err(refuse(format!(
            "it is a `{}` target, and the images are built for {}",
            triple.platform(),
            platforms
                .iter()
                .map(|p| p.docker_name())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let libc = match triple.libc() {
        LibcKind::Musl => "musl",
        LibcKind::Gnu => "glibc",
    };
    Ok(Some((
        triple.libc(),
        format!("{origin} (`{target}`: {libc})"),
    )))
}

/// Resolves the workspace's Cargo configuration for every triple of `platforms`.
pub fn resolve(
    workspace: &Workspace,
    build_env: &BTreeMap<String, String>,
    platforms: &[Platform],
) -> Result<CargoFlags, PlanError> {
    CargoFlags::of_config(&workspace.cargo_config, build_env, platforms)
}

impl CargoFlags {
    /// Resolves `config` for every triple of `platforms`, in builders whose environment is `build_env`.
    pub fn of_config(
        config: &CargoConfig,
        build_env: &BTreeMap<String, String>,
        platforms: &[Platform],
    ) -> Result<Self, PlanError> {
        let by_triple = platforms
            .iter()
            .flat_map(|p| [LibcKind::Musl, LibcKind::Gnu].map(|libc| Triple::of(*p, libc)))
            .flatten()
            .map(|t| (t, config.target_flags(t, build_env)))
            .collect();
        Ok(Self {
            by_triple,
            build_target: build_target(config, build_env, platforms)?,
        })
    }
}

impl CargoFlags {
    fn of(&self, triple: &str) -> Option<&TargetFlags> {
        self.by_triple.get(&Triple::parse(triple)?)
    }

    /// Why a build for the musl `triple` would be linked dynamically, which `scratch` cannot run: its flags say
    /// `-crt-static`, or (for a target Rust links dynamically by default) replace the `+crt-static` the builder
    /// adds. `None` when it is static.
    pub fn dynamic_musl(&self, triple: &str) -> Option<String> {
        let flags = self.of(triple)?;
        match flags.crt_static() {
            Some((false, origin)) => Some(format!(
                "`{triple}` is linked dynamically by `-C target-feature=-crt-static` in {origin}"
            )),
            None if flags.level == FlagLevel::Environment
                && Triple::parse(triple).is_some_and(|t| !t.static_by_default()) =>
            {
                Some(format!(
                    "`{triple}` is linked dynamically: Rust's default for it, and {} replaces the `+crt-static` the builder would add",
                    flags.flags.first().map_or("`RUSTFLAGS` in build-env", |f| f.origin.as_str())
                ))
            }
            _ => None,
        }
    }

    /// What Cargo's configuration says of `crt-static` on a glibc `triple`, and where.
    pub fn crt_static(&self, triple: &str) -> Option<(bool, &str)> {
        self.of(triple)?.crt_static()
    }

    /// Where the flags of `triple` come from when the builder's own cannot join them: `RUSTFLAGS` or
    /// `CARGO_ENCODED_RUSTFLAGS` in build-env, which replace every other setting.
    pub fn replaced_by_environment(&self, triple: &str) -> Option<&str> {
        let flags = self.of(triple)?;
        (flags.level == FlagLevel::Environment).then(|| {
            flags
                .flags
                .first()
                .map_or("`RUSTFLAGS` in build-env", |f| f.origin.as_str())
        })
    }

    /// The variable through which a builder adds `-C target-feature=+crt-static` for `triple`, chosen so the
    /// workspace's own flags stay: `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` joins `target.<triple>.rustflags`, but
    /// would replace `build.rustflags`, which `CARGO_BUILD_RUSTFLAGS` joins instead.
    pub fn static_var(&self, triple: &str) -> String {
        match self.of(triple).map(|f| f.level) {
            Some(FlagLevel::Build) => "CARGO_BUILD_RUSTFLAGS".to_string(),
            _ => cargo_target_var(triple, "RUSTFLAGS"),
        }
    }

    /// A note for each builder whose environment names another linker for its target than Cargo's configuration
    /// does (a cross builder links with Debian's cross toolchain): the environment wins in Cargo, so say so.
    pub fn linker_notes(&self, builders: &[BuilderStage]) -> Vec<String> {
        let mut notes = Vec::new();
        for builder in builders {
            let var = cargo_target_var(&builder.triple, "LINKER");
            let ours = builder.compiler_env.iter().find(|(k, _)| *k == var);
            let theirs = self.of(&builder.triple).and_then(|f| f.linker.as_ref());
            if let (Some((_, ours)), Some(theirs)) = (ours, theirs) {
                let note = format!(
                    "linker `{}` ({}) is replaced in the builders for `{}` by `{ours}` (`{var}`), the cross toolchain they install",
                    theirs.text, theirs.origin, builder.triple
                );
                if theirs.text != *ours && !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        notes
    }

    /// A warning for each `-C target-cpu` that reaches a compile of `triples`: the images would be compiled for
    /// the CPU named there (with `native`, the build machine's), and may not run on the machines they go to.
    pub fn target_cpu_warnings<'a>(
        &self,
        triples: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let mut found: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
        for triple in triples {
            if let Some((cpu, origin)) = self.of(triple).and_then(TargetFlags::target_cpu) {
                let list = found
                    .entry((cpu.to_string(), origin.to_string()))
                    .or_default();
                if !list.contains(&triple) {
                    list.push(triple);
                }
            }
        }
        found
            .into_iter()
            .map(|((cpu, origin), triples)| {
                let what = if cpu == "native" {
                    "the CPU of the machine that builds the image, and may not run on another".to_string()
                } else {
                    format!("`{cpu}` CPUs, and do not run on CPUs without its features")
                };
                format!(
                    "`-C target-cpu={cpu}` in {origin} reaches the image build ({}): the binaries are compiled for {what}; keep it out of Cargo's configuration in the build context to build portable images",
                    triples.join(", ")
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
