//! Every decision, made once: [`Workspace`] + resolved [`Config`] → [`Plan`].
//!
//! Takes the workspace and the configuration and gives a plan that says, for every binary, how it is built
//! (target triple, static or not, which cargo invocation), on which runtime image it runs and why, what its stage
//! and image are called, which packages the builder needs, and every build the command runs ([`builds`]: each
//! selected image × platform × variant with its tags, build arguments and cache references). Pure: no I/O, no
//! environment, no Cargo. The renderer spells the plan out and the engine turns its builds into requests; neither
//! chooses a stage, a tag, a platform or what to build.
//!
//! The steps, each in its own module: [`context`] (what the engine is sent), [`select`] (which binaries),
//! [`naming`] (stage names), [`cargo_flags`] (what Cargo's configuration decides), [`image`] with [`runtime`]
//! (each binary's image), [`builders`] (how they compile), [`rust_floor`], [`builds`] (what the command builds);
//! [`ci`] decides the CI workflow from a finished plan.

pub mod bases;
mod builders;
pub mod builds;
mod cargo_flags;
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
mod registries;
pub use registries::{token_variable, PrivateRegistry};
mod runtime;
mod rust_floor;
mod select;
mod stages;
/// `files` sorted: the order the directory listed them in is not the Dockerfile's.
fn sorted(files: &[String]) -> Vec<String> {
    let mut files = files.to_vec();
    files.sort();
    files
}

/// The secrets the builds mount: `build-secrets` (their files checked) and the private registries' tokens.
fn secrets(
    workspace: &Workspace,
    build_secrets: &[crate::model::BuildSecret],
    context: &BuildContext,
) -> Result<(Vec<crate::model::BuildSecret>, Vec<PrivateRegistry>), PlanError> {
    secret_files_outside(build_secrets, &workspace.root, context)?;
    let registries = registries::private_registries(workspace)?;
    Ok((
        registries::with_tokens(build_secrets, &registries),
        registries,
    ))
}

/// Refuses a `build-secrets` file inside the build context: the builder copies the whole context into a layer
/// (`COPY . .`), which `--cache-to` pushes, so the file's value would be in the image however it is mounted.
fn secret_files_outside(
    secrets: &[crate::model::BuildSecret],
    workspace_root: &camino::Utf8Path,
    context: &BuildContext,
) -> Result<(), PlanError> {
    for secret in secrets {
        if let crate::model::SecretFrom::File(file) = &secret.from {
            let path = crate::paths::normalize(&workspace_root.join(file));
            if path.starts_with(&context.root) {
                return Err(PlanError::SecretInContext {
                    name: secret.name.clone(),
                    file: file.clone(),
                    context: context.root.clone(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod testing;
mod values;

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8PathBuf;
use serde::Serialize;

pub use bases::{Base, PinnedBy, BASE_DIGEST_LABEL, BASE_NAME_LABEL};
pub use builds::{Build, Builds, Index, Jobs, PushAs};
pub use dockerfile_path::DockerfilePath;
pub use error::PlanError;
pub use image::{expand_tags, Compilers, DebugImage, Image, ImagePlatform, RuntimeBase, Strip};
pub use naming::stage_name;
pub use rust_floor::RustFloor;
pub use stages::{
    builder_aliases, image_stages, BuildContext, BuilderStage, CrossSetup, Invocation, Profile,
    Skipped, TestPlan,
};

pub use crate::config::DEFAULT_DOCKERFILE;
use crate::config::{Auditable, Config, Settings, TestStage};
use crate::model::stage;
use crate::platform::Platform;
use crate::source::{Source, Sourced};
use crate::workspace::{ProfileKeys, Toolchain, Workspace};
use select::Candidate;

/// The whole build, decided.
/// With `--push`: the documents attached to each pushed image and platform as OCI 1.1 referrers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Documents {
    /// The SBOM formats, sorted (empty: none).
    pub sbom: Vec<crate::config::SbomFormat>,
    /// Whether its SLSA provenance is attached.
    pub provenance: bool,
}

impl Documents {
    fn of(shared: &crate::config::WorkspaceConfig) -> Self {
        Self {
            sbom: shared.sbom.value.clone(),
            provenance: shared.provenance.value,
        }
    }

    /// Whether any document is wanted.
    pub fn any(&self) -> bool {
        !self.sbom.is_empty() || self.provenance
    }
}

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
    pub platforms_source: Source,
    /// The profile most binaries build with (`--profile`, else `release`); each invocation names its own.
    pub profile: Profile,
    /// `--locked` when the workspace has a `Cargo.lock`.
    pub locked: bool,
    /// `ENV` of every builder stage, before the cook (`build-env` of `[workspace.metadata.dockerize]`), sorted.
    pub build_env: BTreeMap<String, String>,
    /// Secrets the cook and the final compile mount (`build-secrets`, and the tokens of [`Plan::registries`]),
    /// sorted by name: ids and where `build` reads them, never a value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub build_secrets: Vec<crate::model::BuildSecret>,
    /// The git servers the cook fetches from over ssh (`known_hosts` names), sorted: when there are any, the cook
    /// and the final compile mount the user's ssh agent and a `known_hosts` holding these hosts' keys.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh_hosts: Vec<String>,
    /// The private Cargo registries the builder fetches from, sorted by name: each one's token is a build secret
    /// of [`Plan::build_secrets`] (`CARGO_REGISTRIES_<NAME>_TOKEN`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registries: Vec<PrivateRegistry>,
    /// Whether each builder embeds its binaries' crate lists (`.dep-v0`, cargo-auditable's format).
    pub auditable: Auditable,
    /// With `--push`: the documents attached to each pushed image.
    pub documents: Documents,
    /// The registry prefix of the tags that name none (`--registry`, else `registry`), and where it came from.
    pub registry: Sourced<Option<String>>,
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
    /// Every build of the selected images, their indexes and cache images: what `build` runs and `--dry-run`,
    /// `list` and `ci` show.
    pub builds: Builds,
    /// Binaries of the selected packages that are not built, and why.
    pub skipped: Vec<Skipped>,
    /// The optional `test` stage.
    pub test: Option<TestPlan>,
    /// Things the user should know (for `list`, `generate`): collisions resolved, odd choices.
    pub notes: Vec<String>,
    /// What makes the images other than expected (`-C target-cpu=native` in Cargo's configuration): warnings.
    pub warnings: Vec<String>,
    /// The oldest Rust the workspace's members declare (`rust-version`), when nothing pins the toolchain: the
    /// floating `rust:1` image must be at least that release.
    pub rust_floor: Option<RustFloor>,
    /// Every base image of the Dockerfile (`scratch` is none), sorted, with its digest where it is pinned.
    pub bases: Vec<Base>,
}

impl Plan {
    /// Whether a flag or the workspace table chose the platforms (then the engine is told, even for
    /// `linux/amd64` alone: an arm64 engine would otherwise build for itself).
    pub fn platforms_chosen(&self) -> bool {
        !self.platforms_source.is_default()
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
        compile_selection(&self.builders, &self.selected)
    }

    /// The builder stage (in a multi-platform plan: the alias of the builders) the image `stage` copies its
    /// binary from.
    pub fn builder_alias(&self, stage: &str) -> &str {
        builder_of(&self.builders, stage).map_or("", |b| b.alias.as_str())
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
        builder_aliases(&self.builders)
    }

    /// The note for the bases no digest pins (one line), when there are any.
    pub fn unpinned_note(&self) -> Option<String> {
        bases::unpinned_note(&self.bases)
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

/// `DOCKERIZE_IMAGES` for a build of `selected`: the selected stages, space-separated, when some builder would
/// otherwise compile binaries none of them needs ([`Plan::compile_selection`]).
fn compile_selection(builders: &[BuilderStage], selected: &[String]) -> Option<String> {
    let narrows = builders.iter().any(|b| {
        let stages = b.image_stages();
        let wanted = stages
            .iter()
            .filter(|s| selected.iter().any(|x| x == *s))
            .count();
        b.selects() && wanted > 0 && wanted < stages.len()
    });
    narrows.then(|| selected.join(" "))
}

/// The builder that compiles the image `stage` (the first: in a multi-platform plan every platform has one).
fn builder_of<'a>(builders: &'a [BuilderStage], stage: &str) -> Option<&'a BuilderStage> {
    builders.iter().find(|b| b.compiles(stage))
}

/// Makes the plan: the Dockerfile's images are every binary of the workspace (the selection flags never change the
/// file, so every image shares one dependency layer), and `selected` the ones the command line picks among them,
/// which its builds build. Errors name the package, binary or feature at fault.
pub fn plan(workspace: &Workspace, config: &Config) -> Result<Plan, PlanError> {
    if workspace.members.iter().all(|p| p.binaries.is_empty()) {
        return Err(PlanError::NoBinaries {
            root: workspace.root.clone(),
        });
    }
    let settings = &config.settings;
    let context = context::build_context(workspace)?;
    values::check_workspace(workspace, &context)?;
    // The file holds every binary of the workspace, whatever the command line selects; by name, whatever order
    // the workspace listed them in.
    let mut packages: Vec<&crate::workspace::Package> = workspace.members.iter().collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    let (candidates, skipped) = select::select_binaries(workspace, &packages, config)?;
    if candidates.is_empty() {
        return Err(nothing_selected(&skipped, &packages));
    }
    let user_features = select::qualify_user_features(&packages, settings)?;
    let mut notes = config.notes.clone();
    let shared = &config.workspace;
    let platforms = &shared.platforms.value;
    let cargo = cargo_flags::resolve(workspace, &shared.build_env.value, platforms)?;
    let cross = crate::platform::cross_compiles(platforms);
    let stage_names = naming::assign_stage_names(&candidates, &mut notes);
    let (images, bases) = images(
        (&candidates, &stage_names),
        (config, &cargo),
        &workspace.profiles,
        &mut notes,
    )?;
    let builders = builders::builder_stages(
        &images,
        &candidates,
        &stage_names,
        &user_features,
        settings,
        (&cache_key(workspace, &shared.toolchain), &cargo),
        cross.then_some(&packages[..]),
    );
    let warnings = cargo.target_cpu_warnings(builders.iter().map(|b| b.triple.as_str()));
    notes.extend(cargo.linker_notes(&builders));
    let rust_floor = rust_floor::rust_floor(workspace, &shared.toolchain);
    let (mut builder_packages, mut builder_reasons) =
        builders::builder_packages(&images, &packages, &workspace.cargo_config_tools, cross);
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
    let selected = select::selected_stages(workspace, &images, &skipped, settings)?;
    let dockerfile = DockerfilePath::in_context(
        shared.dockerfile.value.clone(),
        shared.dockerfile.source.clone(),
        context.workspace_dir.clone(),
    );
    let (build_secrets, registries) = secrets(workspace, &shared.build_secrets.value, &context)?;
    let builds = plan_builds(config, &images, &selected, &builders, &context, &dockerfile);
    Ok(Plan {
        root: workspace.root.clone(),
        target_dir: workspace.target_dir.clone(),
        planner: planner::planner_inputs(workspace, &context),
        context,
        dockerfile,
        command: settings.regenerate_command(),
        toolchain: shared.toolchain.clone(),
        toolchain_files: sorted(&workspace.toolchain_files),
        platforms: platforms.clone(),
        platforms_source: shared.platforms.source.clone(),
        profile: Profile::named(settings.profile.as_deref().unwrap_or("release")),
        locked: workspace.has_lockfile,
        build_env: shared.build_env.value.clone(),
        build_secrets,
        ssh_hosts: workspace.git_ssh_hosts.clone(),
        registries,
        auditable: shared.auditable.value,
        documents: Documents::of(shared),
        registry: shared.registry.clone(),
        builder_packages,
        builder_reasons,
        rustup_targets: rustup_targets(&builders, cross),
        builders,
        images,
        selected,
        builds,
        skipped,
        test,
        notes,
        warnings,
        rust_floor,
        bases,
    })
}

/// The plan of `workspace` under `settings`, the configuration resolved first: what a command does once the
/// workspace is read, for callers that hold one already (in-process tests, benchmarks). The workspace must have
/// been read for the triples the configuration gives ([`Config::triples`]).
pub fn plan_for(workspace: &Workspace, settings: &Settings) -> Result<Plan, PlanError> {
    plan(workspace, &crate::config::resolve(workspace, settings)?)
}

/// The Rust targets the shared base adds with rustup (musl ones), sorted; none in a multi-platform plan, where
/// each platform's builder adds its own (a build for one platform never downloads another's).
fn rustup_targets(builders: &[BuilderStage], cross: bool) -> Vec<String> {
    if cross {
        return Vec::new();
    }
    builders
        .iter()
        .filter(|b| crate::platform::is_musl(&b.triple))
        .map(|b| b.triple.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Every build of the `selected` images ([`builds`]).
fn plan_builds(
    config: &Config,
    images: &[Image],
    selected: &[String],
    builders: &[BuilderStage],
    context: &BuildContext,
    dockerfile: &DockerfilePath,
) -> Builds {
    let chosen: Vec<&Image> = images
        .iter()
        .filter(|i| selected.contains(&i.stage))
        .collect();
    let platforms = &config.workspace.platforms;
    builds::builds(
        &chosen,
        &builds::Common {
            request: &config.settings.builds,
            platforms_chosen: !platforms.source.is_default(),
            compile_selection: compile_selection(builders, selected),
            builders,
            dockerfile: context.workspace_dir.join(&dockerfile.path),
        },
    )
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
        .triple(crate::platform::LibcKind::Gnu)
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

/// One image per candidate, sorted by stage name, and the bases of the Dockerfile ([`bases`]); their notes are
/// added to `notes` in candidate order.
fn images(
    (candidates, stage_names): (&[Candidate<'_>], &[String]),
    (config, cargo): (&Config, &cargo_flags::CargoFlags),
    profiles: &BTreeMap<String, ProfileKeys>,
    notes: &mut Vec<String>,
) -> Result<(Vec<Image>, Vec<Base>), PlanError> {
    let mut images = Vec::new();
    for (candidate, stage) in candidates.iter().zip(stage_names) {
        let (image, image_notes) = image::image_for(candidate, stage, config, profiles, cargo)?;
        notes.extend(image_notes);
        images.push(image);
    }
    images.sort_by(|a, b| a.stage.cmp(&b.stage));
    let image_version = &config.workspace.toolchain.image_version;
    let bases = bases::bases(image_version, &mut images, &config.pins);
    Ok((images, bases))
}

/// What the user should know about the workspace as a whole.
fn workspace_notes(workspace: &Workspace, context: &BuildContext) -> Vec<String> {
    let mut notes = Vec::new();
    if context.is_widened() {
        notes.push(format!(
            "path dependencies live outside the workspace: the build context is `{}`, and a plain `docker build` of it reads the ignore file beside the Dockerfile (BuildKit), not the workspace's `.dockerignore`",
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
