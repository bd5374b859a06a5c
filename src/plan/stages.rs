//! The stages of the plan besides the runtime images: the build context, the builder stages with their cargo
//! invocations and cross-compilation setup, the `test` stage, and the binaries left out. Plain data.

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::platform::Platform;

/// The build context: the workspace root, or the closest directory that also holds every path dependency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildContext {
    /// Absolute.
    pub root: Utf8PathBuf,
    /// The workspace root relative to `root`; empty when they are the same.
    pub workspace_dir: Utf8PathBuf,
    /// Directories of the non-member path packages, relative to `root`, sorted: copied into the recipe whole.
    pub path_packages: Vec<Utf8PathBuf>,
}

impl BuildContext {
    /// Whether the context is wider than the workspace.
    pub fn is_widened(&self) -> bool {
        !self.workspace_dir.as_str().is_empty()
    }

    /// The context root as seen from the workspace root: `..`, `../..`.
    pub fn root_from_workspace(&self) -> String {
        let up: Vec<&str> = self.workspace_dir.components().map(|_| "..").collect();
        up.join("/")
    }
}

/// A Cargo profile and the directory it writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub dir: String,
}

impl Profile {
    /// A profile and the directory Cargo writes it to (`dev` writes to `debug`).
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            dir: match name {
                "dev" | "test" => "debug".into(),
                "release" | "bench" => "release".into(),
                other => other.into(),
            },
        }
    }
}

/// A builder stage: cooks the dependencies, then builds its binaries, for one target triple.
#[derive(Debug, Clone, Serialize)]
pub struct BuilderStage {
    /// Its name: `builder` (or `builder-musl`...), with the platform's suffix in a multi-platform plan
    /// (`builder-arm64`).
    pub stage: String,
    /// The name runtime stages copy from: `stage` itself, or in a multi-platform plan the stage that picks the
    /// target platform's builder of this kind (`FROM builder-${TARGETARCH}${TARGETVARIANT} AS builder`).
    pub alias: String,
    /// The platform it compiles for.
    pub platform: Platform,
    pub triple: String,
    /// `-C target-feature=+crt-static` on a glibc target.
    pub crt_static: bool,
    /// The variable and flags through which the builder adds `+crt-static` (static glibc, riscv64's musl): see
    /// [`super::cargo_flags::CargoFlags::static_var`].
    pub static_env: Option<(String, String)>,
    /// The cargo invocations; more than one only when two binaries share a name (their outputs would collide).
    pub invocations: Vec<Invocation>,
    /// The BuildKit cache mount that keeps Cargo's state of the final compile between builds: one per workspace,
    /// target, static-ness, profiles and toolchain, so builds that could not share artifacts never share it.
    pub cache_id: String,
    /// Environment the build scripts' compilers read (`CC_<triple>`, `AR_<triple>`...), sorted, with why: set
    /// explicitly so that `cc`, `cmake` and autoconf builds all find the same compiler.
    pub compiler_env: Vec<(String, String)>,
    /// Why the builder has `compiler_env`, one line; empty when it has none.
    pub compiler_note: String,
    /// In a multi-platform plan: what it installs to cross-compile on the build platform.
    pub cross: Option<CrossSetup>,
}

impl BuilderStage {
    /// The image stages whose binaries it compiles, in its invocations' order.
    pub fn image_stages(&self) -> Vec<&str> {
        image_stages(&self.invocations).collect()
    }

    /// Whether it compiles the binary of the image `stage`.
    pub fn compiles(&self, stage: &str) -> bool {
        image_stages(&self.invocations).any(|s| s == stage)
    }

    /// Whether its final compile reads `DOCKERIZE_IMAGES` to compile only some of its binaries: a builder of one
    /// binary compiles it whenever it is built at all.
    pub fn selects(&self) -> bool {
        image_stages(&self.invocations).count() > 1
    }
}

/// The names runtime stages copy from in a multi-platform plan (`builder`, or `builder-musl`...), each once, in
/// the order of the builders.
pub fn builder_aliases(builders: &[BuilderStage]) -> Vec<&str> {
    let mut aliases: Vec<&str> = Vec::new();
    for builder in builders {
        if !aliases.contains(&builder.alias.as_str()) {
            aliases.push(&builder.alias);
        }
    }
    aliases
}

/// The image stages whose binaries `invocations` compile, in order: the one walk from a builder's invocations to
/// the images it serves.
pub fn image_stages(invocations: &[Invocation]) -> impl Iterator<Item = &str> {
    invocations
        .iter()
        .flat_map(|i| i.bins.iter().map(|(_, stage)| stage.as_str()))
}

/// What a builder of a multi-platform plan installs for its target, beyond the shared base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossSetup {
    /// Added with rustup in this stage only, so a build for another platform never downloads it.
    pub rustup_target: String,
    /// Debian's architecture of the target (`arm64`), added with `dpkg --add-architecture` for its packages.
    pub debian_arch: String,
    /// Packages of the target's architecture, installed on any build platform (`libssl-dev:arm64`), sorted.
    pub target_packages: Vec<String>,
    /// Cross compilers, installed only where the build platform is another architecture, sorted.
    pub cross_packages: Vec<String>,
    /// Debian packages installed instead of `cross_packages` where the build platform is the target's own
    /// architecture (its native `g++`, which the `rust` image lacks), sorted.
    pub native_packages: Vec<String>,
    /// The `strip` that reads the target's executables: `<triplet>-strip` from Debian's cross binutils.
    pub strip: String,
    /// The `objcopy` that writes the target's executables: `<triplet>-objcopy`, from the same binutils.
    pub objcopy: String,
    /// Why each package, one line each.
    pub reasons: Vec<String>,
}

/// One `cargo build`: the same flags cook the dependencies and build the binaries, so nothing recompiles.
#[derive(Debug, Clone, Serialize)]
pub struct Invocation {
    /// Cargo profile and the directory it writes to.
    pub profile: Profile,
    /// `-p` arguments, sorted.
    pub packages: Vec<String>,
    /// `--bin` targets with the stage name each is copied out as, sorted by binary name.
    pub bins: Vec<(String, String)>,
    /// `--features`, qualified `package/feature`, sorted.
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub binary: String,
    pub package: String,
    pub reason: String,
}

/// `cargo test --locked` over the selected packages, for CI.
#[derive(Debug, Clone, Serialize)]
pub struct TestPlan {
    pub from: String,
    pub packages: Vec<String>,
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    /// Debian packages the stage installs itself, sorted: in a multi-platform plan the shared base has none of
    /// the libraries the tests link on the build platform (each builder has its target's).
    pub system_packages: Vec<String>,
}
