//! Every decision, made once: [`Workspace`] + [`Settings`] → [`Plan`].
//!
//! Takes the workspace and the resolved settings and gives a plan that says, for every selected binary, how it
//! is built (target triple, static or not, which cargo invocation), on which runtime image it runs and why, what
//! its stage and image are called, and which packages the builder needs. Pure: no I/O, no environment, no Cargo.
//! The renderer and the engine take `&Plan` and decide nothing further.
//!
//! The steps, each in its own module: [`context`] (what the engine is sent), [`select`] (which binaries),
//! [`naming`] (stage names), [`image`] with [`runtime`] (each binary's image), [`builders`] (how they compile);
//! [`ci`] decides the CI workflow from a finished plan.

mod builders;
pub mod ci;
mod context;
mod cross;
mod dockerfile_path;
mod error;
mod image;
pub mod install;
mod naming;
mod planner;
pub use planner::PlannerInputs;
mod runtime;
mod select;

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8PathBuf;
use serde::Serialize;

use dockerfile_path::dockerfile_path;
pub use dockerfile_path::{DockerfilePath, DEFAULT_DOCKERFILE};
pub use error::PlanError;
pub use image::{expand_tags, Compilers, DebugImage, Image, ImagePlatform, RuntimeBase, Strip};
pub use naming::stage_name;

use crate::config::{read_tables, Selection, Settings, Tables, TestStage};
use crate::endpoint::Endpoint;
use crate::model::stage;
use crate::platform::Platform;
use crate::workspace::{ProfileKeys, Toolchain, ToolchainSource, Workspace};
use select::Candidate;

/// The whole build, decided.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The workspace root: where the Dockerfile goes and the build context starts.
    pub root: Utf8PathBuf,
    /// Cargo's target directory, never sent in the build context.
    pub target_dir: Utf8PathBuf,
    /// What the engine gets as build context, and where the workspace sits in it.
    pub context: BuildContext,
    /// Where the Dockerfile and the `.dockerignore` it reads go.
    pub dockerfile: DockerfilePath,
    /// `cargo dockerize generate ...` that reproduces this plan, for the header.
    pub command: String,
    pub toolchain: Toolchain,
    /// Toolchain files the builder removes because the image already carries that toolchain.
    pub toolchain_files: Vec<String>,
    /// What the planner copies from the context.
    pub planner: PlannerInputs,
    /// The platforms the images are built for, in order: `--platform`, else `platforms` of
    /// `[workspace.metadata.dockerize]`, else `linux/amd64`.
    pub platforms: Vec<Platform>,
    /// Where `platforms` came from, for `list -v` and `config`.
    pub platforms_source: String,
    /// The profile most binaries build with (`--profile`, else `release`); each invocation names its own.
    pub profile: Profile,
    /// `--locked` when the workspace has a `Cargo.lock`.
    pub locked: bool,
    /// `ENV` of every builder stage, before the cook (`build-env` of `[workspace.metadata.dockerize]`), sorted.
    pub build_env: BTreeMap<String, String>,
    /// Debian packages of the builder base, sorted.
    pub builder_packages: Vec<String>,
    /// Why the builder has each of them, one line each, sorted.
    pub builder_reasons: Vec<String>,
    /// Rust targets the builder base adds with rustup (musl), sorted.
    pub rustup_targets: Vec<String>,
    /// One builder stage per way of compiling (target triple and static-ness).
    pub builders: Vec<BuilderStage>,
    /// One runtime image per binary of the workspace (but those left out: `skipped`), sorted by stage name.
    pub images: Vec<Image>,
    /// The stages of `images` the command line selects: what `build` builds and `list` shows, sorted.
    pub selected: Vec<String>,
    /// Binaries of the selected packages that are not built, and why.
    pub skipped: Vec<Skipped>,
    /// The optional `test` stage.
    pub test: Option<TestPlan>,
    /// Things the user should know (for `list`, `generate`): collisions resolved, odd choices.
    pub notes: Vec<String>,
    /// The engine `build` runs on (and `--dry-run` names); `None` for the commands that build nothing.
    pub engine: Option<Endpoint>,
}

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
    pub fn image_stages(&self) -> Vec<String> {
        self.invocations
            .iter()
            .flat_map(|i| i.bins.iter().map(|(_, stage)| stage.clone()))
            .collect()
    }

    /// Whether its final compile reads `DOCKERIZE_IMAGES` to compile only some of its binaries: a builder of one
    /// binary compiles it whenever it is built at all.
    pub fn selects(&self) -> bool {
        self.image_stages().len() > 1
    }
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

/// [`Plan::platforms_source`] when nothing chose the platforms.
pub const DEFAULT_PLATFORMS: &str = "the default";

impl Plan {
    /// Whether a flag or the workspace table chose the platforms (then the engine is told, even for
    /// `linux/amd64` alone: an arm64 engine would otherwise build for itself).
    pub fn platforms_chosen(&self) -> bool {
        self.platforms_source != DEFAULT_PLATFORMS
    }

    /// Whether the builder stages cross-compile on the build platform, one per platform: every plan but the
    /// default one for `linux/amd64` alone, which builds exactly as it always has.
    pub fn cross_compiles(&self) -> bool {
        crate::platform::cross_compiles(&self.platforms)
    }

    /// The value of `DOCKERIZE_IMAGES` for a build of the selected images: the selected stages, space-separated,
    /// when some builder would otherwise compile binaries none of them needs; `None` when every builder the
    /// selection uses compiles exactly its binaries anyway, so the final compile keeps the cache key of a plain
    /// `docker build` without the argument.
    pub fn compile_selection(&self) -> Option<String> {
        let narrows = self.builders.iter().any(|b| {
            let stages = b.image_stages();
            let wanted = stages.iter().filter(|s| self.selected.contains(s)).count();
            b.selects() && wanted > 0 && wanted < stages.len()
        });
        narrows.then(|| self.selected.join(" "))
    }

    /// The images the command line selects, in the plan's order.
    pub fn selected_images(&self) -> impl Iterator<Item = &Image> {
        self.images
            .iter()
            .filter(|i| self.selected.contains(&i.stage))
    }

    /// The names runtime stages copy from in a multi-platform plan (`builder`, or `builder-musl`...), each once,
    /// in the order of the builders.
    pub fn builder_aliases(&self) -> Vec<&str> {
        let mut aliases: Vec<&str> = Vec::new();
        for builder in &self.builders {
            if !aliases.contains(&builder.alias.as_str()) {
                aliases.push(&builder.alias);
            }
        }
        aliases
    }

    /// Every stage of the Dockerfile, in the order it is written.
    pub fn stage_names(&self) -> Vec<&str> {
        let mut stages = vec![stage::CHEF, stage::PLANNER];
        stages.extend(self.builders.iter().map(|b| b.stage.as_str()));
        if self.cross_compiles() {
            stages.extend(self.builder_aliases());
        }
        stages.extend(self.images.iter().map(|i| i.stage.as_str()));
        stages.extend(self.images.iter().map(|i| i.debug.stage.as_str()));
        if self.test.is_some() {
            stages.push(stage::TEST);
        }
        stages
    }
}

/// Makes the plan: the Dockerfile's images are every binary of the workspace (the selection flags never change the
/// file, so every image shares one dependency layer), and `selected` the ones the command line picks among them.
/// Errors name the package, binary or feature at fault.
pub fn plan(workspace: &Workspace, settings: &Settings) -> Result<Plan, PlanError> {
    let whole = Settings {
        selection: Selection {
            workspace: true,
            ..Selection::default()
        },
        ..settings.clone()
    };
    let mut plan = plan_file(workspace, &whole)?;
    plan.selected = select::selected_stages(workspace, &plan, settings)?;
    Ok(plan)
}

/// The plan of the Dockerfile for `settings`, whose selection is the whole workspace.
fn plan_file(workspace: &Workspace, settings: &Settings) -> Result<Plan, PlanError> {
    if workspace.members.iter().all(|p| p.binaries.is_empty()) {
        return Err(PlanError::NoBinaries {
            root: workspace.root.clone(),
        });
    }
    let context = context::build_context(workspace)?;
    let tables = read_tables(workspace)?;
    let dockerfile = dockerfile_path(settings, &tables);
    let settings = &Settings {
        registry: settings
            .registry
            .clone()
            .or_else(|| tables.registry().map(|(r, _)| r.to_string())),
        ..settings.clone()
    };
    let packages = select::select_packages(workspace, settings)?;
    let (candidates, skipped) = select::select_binaries(workspace, &packages, &tables, settings)?;
    if candidates.is_empty() {
        return Err(nothing_selected(&skipped, &packages));
    }
    let user_features = select::qualify_user_features(&packages, settings)?;
    let mut notes = Vec::new();
    let toolchain = toolchain(workspace, &tables, &mut notes);
    let (platforms, platforms_source) = cross::platforms(settings, &tables);
    let cross = crate::platform::cross_compiles(&platforms);
    let stage_names = naming::assign_stage_names(&candidates, &mut notes);
    let mut images = images(
        &candidates,
        &stage_names,
        settings,
        &platforms,
        &workspace.profiles,
        &mut notes,
    )?;
    let builders = builders::builder_stages(
        &images,
        &candidates,
        &stage_names,
        &user_features,
        settings,
        &cache_key(workspace, &toolchain),
        cross.then_some(&packages[..]),
    );
    point_at_builders(&mut images, &builders);
    let (mut builder_packages, mut builder_reasons) =
        builders::builder_packages(&images, &packages, &workspace.cargo_config_tools, cross);
    let rustup_targets: Vec<String> = if cross {
        // Each platform's builder adds its own: a build for one platform never downloads another's.
        Vec::new()
    } else {
        builders
            .iter()
            .filter(|b| builders::is_musl(&b.triple))
            .map(|b| b.triple.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let test = (settings.test_stage == TestStage::Include).then(|| {
        test_plan(
            &packages,
            &images,
            &builders,
            (&mut builder_packages, &mut builder_reasons),
            &user_features,
            settings,
            platforms[0],
        )
    });
    notes.extend(workspace_notes(workspace, &context));
    let mut toolchain_files = workspace.toolchain_files.clone();
    toolchain_files.sort();
    let planner = planner::planner_inputs(workspace, &context);
    Ok(Plan {
        root: workspace.root.clone(),
        target_dir: workspace.target_dir.clone(),
        context,
        dockerfile,
        command: settings.regenerate_command(),
        toolchain,
        toolchain_files,
        planner,
        platforms,
        platforms_source,
        profile: Profile::named(settings.profile.as_deref().unwrap_or("release")),
        locked: workspace.has_lockfile,
        build_env: tables.build_env(),
        builder_packages,
        builder_reasons,
        rustup_targets,
        builders,
        images,
        selected: Vec::new(),
        skipped,
        test,
        notes,
        engine: settings.engine.clone(),
    })
}

/// The `test` stage: `cargo test` of the selected packages on a builder. What only the tests link is installed
/// for them: in the shared base (a one-platform plan), or in the stage itself (a multi-platform one, whose base
/// has none of the libraries).
fn test_plan(
    packages: &[&crate::workspace::Package],
    images: &[Image],
    builders: &[BuilderStage],
    (builder_packages, builder_reasons): (&mut Vec<String>, &mut Vec<String>),
    user_features: &[String],
    settings: &Settings,
    first: Platform,
) -> TestPlan {
    let cross = builders.iter().any(|b| b.cross.is_some());
    let triple = first
        .triple(false)
        .expect("every platform has a glibc target");
    let (more, reasons) = builders::test_packages(packages, triple, builder_packages);
    let mut system_packages = Vec::new();
    if cross {
        system_packages = cross::test_packages_cross(&more, images);
    } else {
        for (all, more) in [
            (&mut *builder_packages, more),
            (&mut *builder_reasons, reasons),
        ] {
            all.extend(more);
            all.sort();
            all.dedup();
        }
    }
    // The tests run for the builder's own target: from a builder without `+crt-static` where there is one, since
    // those flags would also apply to the tests' proc macros (a C++ binary puts a static glibc builder first).
    let from = builders
        .iter()
        .find(|b| !b.crt_static)
        .unwrap_or(&builders[0]);
    TestPlan {
        from: from.stage.clone(),
        packages: packages.iter().map(|p| p.name.clone()).collect(),
        features: user_features.to_vec(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
        system_packages,
    }
}

/// What names the workspace and its toolchain in the cache ids: a digest of the member names (stable across
/// machines and checkouts, unlike a path) and the toolchain, so two workspaces or toolchains never share a cache.
fn cache_key(workspace: &Workspace, toolchain: &Toolchain) -> String {
    use std::hash::Hasher as _;
    let mut names: Vec<&str> = workspace.members.iter().map(|m| m.name.as_str()).collect();
    names.sort_unstable();
    let mut hasher = fnv::FnvHasher::default();
    for name in names {
        hasher.write(name.as_bytes());
        hasher.write(b"\n");
    }
    let channel = toolchain
        .install_channel
        .as_deref()
        .unwrap_or(&toolchain.image_version);
    format!("{:016x}-rust-{channel}", hasher.finish())
}

/// The builder's toolchain: the toolchain file (rustup's precedence), else `rust-version` of
/// `[workspace.metadata.dockerize]`, else the floating `rust:1`, with a note advising a pin. Never the machine's
/// `rustc`, so the Dockerfile is the same wherever it is generated; never the members' `rust-version`, a minimum
/// the crates promise to support, not the release the images should be built with.
fn toolchain(workspace: &Workspace, tables: &Tables, notes: &mut Vec<String>) -> Toolchain {
    let from_file = workspace.toolchain.source != ToolchainSource::Floating;
    match tables.rust_version() {
        Some((version, origin)) if from_file => {
            notes.push(format!(
                "`rust-version = \"{version}\"` in {origin} is not used: the toolchain file {} pins the toolchain",
                workspace.toolchain.source
            ));
            workspace.toolchain.clone()
        }
        Some((version, origin)) => Toolchain {
            image_version: version.to_string(),
            install_channel: None,
            source: ToolchainSource::Config(origin.to_string()),
        },
        None if from_file => workspace.toolchain.clone(),
        None => {
            notes.push(
                "no toolchain is pinned: the builder uses `rust:1`, the latest stable release when the image is built; pin one with `rust-version = \"1.xx\"` in `[workspace.metadata.dockerize]` or a `rust-toolchain.toml`"
                    .into(),
            );
            workspace.toolchain.clone()
        }
    }
}

/// Why no binary is left: the first skipped one, or packages without binaries.
fn nothing_selected(skipped: &[Skipped], packages: &[&crate::workspace::Package]) -> PlanError {
    let why = match skipped.first() {
        Some(s) => format!("`{}` is skipped: {}", s.binary, s.reason),
        None => format!(
            "the selected packages ({}) have no binary targets",
            packages
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    PlanError::NothingSelected { why }
}

/// One image per candidate, sorted by stage name; their notes are added to `notes` in candidate order.
fn images(
    candidates: &[Candidate<'_>],
    stage_names: &[String],
    settings: &Settings,
    platforms: &[Platform],
    profiles: &BTreeMap<String, ProfileKeys>,
    notes: &mut Vec<String>,
) -> Result<Vec<Image>, PlanError> {
    let mut images = Vec::new();
    for (candidate, stage) in candidates.iter().zip(stage_names) {
        let (image, image_notes) =
            image::image_for(candidate, stage, settings, platforms, profiles)?;
        notes.extend(image_notes);
        images.push(image);
    }
    images.sort_by(|a, b| a.stage.cmp(&b.stage));
    Ok(images)
}

/// Points every image at its builder's final name (which depends on how many builders there are).
fn point_at_builders(images: &mut [Image], builders: &[BuilderStage]) {
    for image in images {
        image.builder = builders
            .iter()
            .find(|b| {
                b.invocations
                    .iter()
                    .any(|i| i.bins.iter().any(|(_, s)| *s == image.stage))
            })
            .map(|b| b.alias.clone())
            .unwrap_or_default();
    }
}

/// What the user should know about the workspace as a whole.
fn workspace_notes(workspace: &Workspace, context: &BuildContext) -> Vec<String> {
    let mut notes = Vec::new();
    if context.is_widened() {
        notes.push(format!(
            "path dependencies live outside the workspace: the build context is `{}`, and a plain `docker build` of it does not read the workspace's `.dockerignore` (keep `target/` directories out of it)",
            context.root_from_workspace()
        ));
    }
    if !workspace.has_lockfile {
        notes.push(
            "no `Cargo.lock` at the workspace root: builds resolve dependencies afresh and run without `--locked`; commit `Cargo.lock` for reproducible images"
                .into(),
        );
    }
    notes
}
