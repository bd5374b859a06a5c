//! Every decision, made once: [`Workspace`] + [`Settings`] → [`Plan`].
//!
//! Takes the workspace and the resolved settings and gives a plan that says, for every selected binary, how it
//! is built (target triple, static or not, which cargo invocation), on which runtime image it runs and why, what
//! its stage and image are called, and which packages the builder needs. Pure: no I/O, no environment, no Cargo.
//! The renderer and the engine take `&Plan` and decide nothing further.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::config::{Libc, Platform, Runtime, Settings, TestStage};
use crate::metadata::{self, BinaryConfig, MetadataError, Port, ResolvedAsset, Table, TableOrigin};
use crate::native::{Linkage, DISTROLESS_CC_LIBRARIES};
use crate::workspace::{Package, Toolchain, Workspace};

pub const DISTROLESS_CC: &str = "gcr.io/distroless/cc-debian12:nonroot";
pub const DEBIAN_SLIM: &str = "debian:bookworm-slim";
/// The non-root user of every runtime stage: distroless's `nonroot`, numeric so it works on `scratch` too.
pub const NONROOT_USER: &str = "65532:65532";
/// Where the builder leaves each binary, under its stage name, for the runtime stages to copy.
pub const OUT_DIR: &str = "/out";
/// Where binaries live in the runtime images.
pub const BIN_DIR: &str = "/usr/local/bin";

/// Stage names the pipeline itself uses: a binary may not take them.
const RESERVED_STAGES: &[&str] = &[
    "builder",
    "builder-gnu",
    "builder-gnu-static",
    "builder-musl",
    "chef",
    "planner",
    "scratch",
    "test",
];

/// The whole build, decided.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The workspace root: where the Dockerfile goes and the build context starts.
    pub root: Utf8PathBuf,
    /// Cargo's target directory, never sent in the build context.
    pub target_dir: Utf8PathBuf,
    /// What the engine gets as build context, and where the workspace sits in it.
    pub context: BuildContext,
    /// `cargo dockerize generate ...` that reproduces this plan, for the header.
    pub command: String,
    pub toolchain: Toolchain,
    /// Toolchain files the builder removes because the image already carries that toolchain.
    pub toolchain_files: Vec<String>,
    pub platform: Platform,
    /// The profile most binaries build with (`--profile`, else `release`); each invocation names its own.
    pub profile: Profile,
    /// `--locked` when the workspace has a `Cargo.lock`.
    pub locked: bool,
    /// Debian packages of the builder base, sorted.
    pub builder_packages: Vec<String>,
    /// Why the builder has each of them, one line each, sorted.
    pub builder_reasons: Vec<String>,
    /// Rust targets the builder base adds with rustup (musl), sorted.
    pub rustup_targets: Vec<String>,
    /// One builder stage per way of compiling (target triple and static-ness).
    pub builders: Vec<BuilderStage>,
    /// One runtime image per selected binary, sorted by stage name.
    pub images: Vec<Image>,
    /// Binaries of the selected packages that are not built, and why.
    pub skipped: Vec<Skipped>,
    /// The optional `test` stage.
    pub test: Option<TestPlan>,
    /// Things the user should know (for `list`, `generate`): collisions resolved, odd choices.
    pub notes: Vec<String>,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub dir: String,
}

/// A builder stage: cooks the dependencies, then builds its binaries, for one target triple.
#[derive(Debug, Clone, Serialize)]
pub struct BuilderStage {
    pub stage: String,
    pub triple: String,
    /// `-C target-feature=+crt-static` on a glibc target.
    pub crt_static: bool,
    /// The cargo invocations; more than one only when two binaries share a name (their outputs would collide).
    pub invocations: Vec<Invocation>,
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

/// The runtime image of one binary.
#[derive(Debug, Clone, Serialize)]
pub struct Image {
    pub binary: String,
    pub package: String,
    pub version: String,
    /// Stage name (valid, unique) and, by default, image name.
    pub stage: String,
    pub image_name: String,
    pub tags: Vec<String>,
    /// The builder stage that compiles it.
    pub builder: String,
    pub triple: String,
    pub libc: LibcKind,
    pub linkage: Linkage,
    pub runtime: RuntimeBase,
    /// Debian packages installed in a Debian-based runtime, sorted.
    pub runtime_packages: Vec<String>,
    /// Why this runtime, one short line each.
    pub reasons: Vec<String>,
    /// OCI labels, sorted by key.
    pub labels: BTreeMap<String, String>,
    /// Features this binary required and the plan enabled.
    pub required_features: Vec<String>,
    /// Native crates of its package's dependency closure.
    pub native: Vec<crate::native::NativeLink>,
    /// `ENV` of the runtime stage, sorted.
    pub env: BTreeMap<String, String>,
    pub expose: Vec<Port>,
    /// `USER` of the runtime stage.
    pub user: String,
    pub workdir: Option<String>,
    /// `ENTRYPOINT`: the binary unless configured.
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Files copied from the build context into the image.
    pub assets: Vec<ResolvedAsset>,
    /// The effective configuration and where each value came from, for `cargo dockerize config`.
    pub config: BinaryConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LibcKind {
    Musl,
    Gnu,
}

/// The base of a runtime stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "image")]
pub enum RuntimeBase {
    Scratch,
    Distroless(String),
    DebianSlim(String),
    Custom(String),
}

impl RuntimeBase {
    /// The reference in `FROM`.
    pub fn image(&self) -> &str {
        match self {
            Self::Scratch => "scratch",
            Self::Distroless(i) | Self::DebianSlim(i) | Self::Custom(i) => i,
        }
    }

    /// The short name `list` shows.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Scratch => "scratch",
            Self::Distroless(_) => "distroless",
            Self::DebianSlim(_) => "debian-slim",
            Self::Custom(_) => "custom",
        }
    }
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
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("the workspace at `{root}` has no binary targets")]
    NoBinaries { root: Utf8PathBuf },
    #[error("no binaries to build: {why}")]
    NothingSelected { why: String },
    #[error("package `{name}` is not a member of the workspace{}", did_you_mean(.suggestion))]
    UnknownPackage {
        name: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    #[error("no binary target named `{name}` in {scope}{}", did_you_mean(.suggestion))]
    UnknownBinary {
        name: String,
        scope: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    #[error("none of the selected packages has a feature named `{feature}`")]
    UnknownFeature { feature: String },
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    #[error(
        "binary `{binary}` would be tagged `{tag}`, which is not a valid image reference: {reason}"
    )]
    InvalidTag {
        binary: String,
        tag: String,
        reason: String,
        /// Where the template or name came from: a flag or a manifest table.
        origin: String,
    },
    #[error("binary `{binary}` is built with profile `{profile}` (from {origin}), which the workspace does not define")]
    UnknownProfile {
        binary: String,
        profile: String,
        origin: String,
        available: Vec<String>,
    },
    #[error("path dependency `{package}` at `{dir}` shares no directory with the workspace but `/`: the build context would be the whole file system")]
    ContextTooWide { package: String, dir: Utf8PathBuf },
    #[error(
        "binary `{binary}` is linked dynamically (glibc{}) and cannot run on `scratch`",
        libs_suffix(.libraries)
    )]
    DynamicOnScratch {
        binary: String,
        libraries: Vec<String>,
    },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

fn libs_suffix(libraries: &[String]) -> String {
    if libraries.is_empty() {
        String::new()
    } else {
        format!(", {}", libraries.join(", "))
    }
}

impl PlanError {
    pub fn hint(&self) -> Option<String> {
        match self {
                        Self::Metadata(e) => e.hint(),
            Self::InvalidTag { origin, .. } => Some(format!(
                "a reference is `[registry/]name[:tag]` with a lowercase name (`a-z0-9` separated by `.`, `_` or `-`) and a tag of `A-Za-z0-9_.-`; fix it in {origin}"
            )),
            Self::UnknownProfile { available, .. } => Some(format!(
                "profiles of this workspace: {}; add `[profile.<name>]` to the root Cargo.toml for another",
                available.join(", ")
            )),
            Self::ContextTooWide { .. } => Some(
                "keep path dependencies under a directory the workspace shares (e.g. its parent), or depend on them by git or registry"
                    .into(),
            ),
            Self::NoBinaries { .. } => Some(
                "cargo dockerize builds one image per `bin` target: add `src/main.rs` or a `[[bin]]` to a member, or point `--manifest-path` at another workspace"
                    .into(),
            ),
            Self::NothingSelected { .. } => Some("run `cargo dockerize list --workspace` to see every binary".into()),
            Self::UnknownPackage { available, .. } => Some(format!("workspace members: {}", available.join(", "))),
            Self::UnknownBinary { available, .. } => Some(if available.is_empty() {
                "the selected packages have no binaries".into()
            } else {
                format!("available binaries: {}", available.join(", "))
            }),
            Self::UnknownFeature { .. } => Some("qualify it as `<package>/<feature>`, or check the `[features]` tables".into()),
            Self::DynamicOnScratch { .. } => Some(
                "pass `--static` to link glibc statically, `--libc musl`, or pick `--runtime distroless`".into(),
            ),
        }
    }
}

/// One binary on its way through the planner.
struct Candidate<'a> {
    package: &'a Package,
    binary: &'a crate::workspace::Binary,
    /// Required features the plan enables for it (qualified).
    enable: Vec<String>,
    /// Its tables and the flags, layered.
    config: BinaryConfig,
}

/// Every `dockerize` table of the workspace, parsed and checked.
struct Tables {
    workspace: (Table, TableOrigin),
    packages: BTreeMap<String, (Table, TableOrigin)>,
}

/// Parses every table, so a mistake in any manifest is reported whatever is selected.
fn read_tables(workspace: &Workspace) -> Result<Tables, PlanError> {
    let origin = TableOrigin {
        manifest: "Cargo.toml".into(),
        table: "[workspace.metadata.dockerize]".into(),
    };
    let table = if workspace.config.is_null() {
        Table::default()
    } else {
        metadata::parse(&workspace.config, &origin, false)?
    };
    let mut packages = BTreeMap::new();
    for package in &workspace.members {
        let origin = TableOrigin {
            // The root package's manifest is `Cargo.toml`, not `./Cargo.toml`.
            manifest: if package.dir == "." {
                "Cargo.toml".into()
            } else {
                package.dir.join("Cargo.toml")
            },
            table: "[package.metadata.dockerize]".into(),
        };
        let table = if package.config.is_null() {
            Table::default()
        } else {
            metadata::parse(&package.config, &origin, true)?
        };
        let names: Vec<String> = package.binaries.iter().map(|b| b.name.clone()).collect();
        for name in table.bin.iter().flat_map(|b| b.keys()) {
            if !names.contains(name) {
                return Err(MetadataError::UnknownBinary {
                    origin: origin.clone(),
                    package: package.name.clone(),
                    binary: name.clone(),
                    suggestion: closest(name, &names),
                }
                .into());
            }
        }
        packages.insert(package.name.clone(), (table, origin));
    }
    Ok(Tables {
        workspace: (table, origin),
        packages,
    })
}

/// The layered configuration of one binary: workspace table, package table, binary table, flags.
fn binary_config(
    tables: &Tables,
    package: &Package,
    binary: &str,
    settings: &Settings,
) -> Result<BinaryConfig, PlanError> {
    let (ws_table, ws_origin) = &tables.workspace;
    let mut layers = vec![metadata::Layer {
        table: ws_table,
        origin: ws_origin,
        dir: camino::Utf8Path::new("."),
    }];
    let bin_origin;
    if let Some((table, origin)) = tables.packages.get(&package.name) {
        layers.push(metadata::Layer {
            table,
            origin,
            dir: &package.dir,
        });
        if let Some(bin_table) = table.bin.as_ref().and_then(|b| b.get(binary)) {
            bin_origin = TableOrigin {
                manifest: origin.manifest.clone(),
                table: format!("[package.metadata.dockerize.bin.{binary}]"),
            };
            layers.push(metadata::Layer {
                table: bin_table,
                origin: &bin_origin,
                dir: &package.dir,
            });
        }
    }
    Ok(metadata::layer(&layers, &settings.flag_layer())?)
}

/// The context holds the workspace and every non-member path package: their closest common directory.
fn build_context(workspace: &Workspace) -> Result<BuildContext, PlanError> {
    let mut root = workspace.root.clone();
    for package in &workspace.path_packages {
        while !package.dir.starts_with(&root) {
            match root.parent() {
                Some(parent) if parent.parent().is_some() => root = parent.to_owned(),
                _ => {
                    return Err(PlanError::ContextTooWide {
                        package: package.name.clone(),
                        dir: package.dir.clone(),
                    })
                }
            }
        }
    }
    let relative = |dir: &Utf8PathBuf| {
        dir.strip_prefix(&root)
            .map(camino::Utf8Path::to_owned)
            .unwrap_or_else(|_| dir.clone())
    };
    let mut path_packages: Vec<Utf8PathBuf> = workspace
        .path_packages
        .iter()
        .map(|p| relative(&p.dir))
        .collect();
    path_packages.sort();
    path_packages.dedup();
    Ok(BuildContext {
        workspace_dir: relative(&workspace.root),
        root,
        path_packages,
    })
}

/// Where a tag's parts came from, for the hint of an invalid one: only what the user set.
fn tag_origin(config: &BinaryConfig, registry: bool) -> String {
    let mut places = Vec::new();
    if config.image.source != metadata::Source::Default {
        places.push(format!("`image` in {}", config.image.source));
    }
    if config.tags.source != metadata::Source::Default {
        places.push(config.tags.source.to_string());
    }
    if registry {
        places.push("`--registry`".to_string());
    }
    if places.is_empty() {
        places.push("the default tag templates".to_string());
    }
    places.join(" or ")
}

/// Checks an image reference the way the engine will (`[host[:port]/]path[:tag]`), so a bad `-t`, `--registry`,
/// `image` or `tags` fails here, before anything is built. `Err` says what is wrong.
pub fn check_reference(reference: &str) -> Result<(), String> {
    let (name, tag) = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (reference, None),
    };
    if let Some(tag) = tag {
        let valid = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && !tag.starts_with(['.', '-']);
        if !valid {
            return Err(format!(
                "the tag `{tag}` must be 1-128 of `A-Za-z0-9_.-`, not starting with `.` or `-`"
            ));
        }
    }
    if name.is_empty() || name.len() > 255 {
        return Err("the name must be 1-255 characters".into());
    }
    let mut components: Vec<&str> = name.split('/').collect();
    let first = components[0];
    if components.len() > 1 && (first.contains(['.', ':']) || first == "localhost") {
        let (host, port) = first.split_once(':').unwrap_or((first, "1"));
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c));
        if !host_ok || port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("`{first}` is not a registry host (`host[:port]`)"));
        }
        components.remove(0);
    }
    for component in components {
        let separators_ok = !component.is_empty()
            && !component.starts_with(['.', '_', '-'])
            && !component.ends_with(['.', '_', '-'])
            && !component.contains("..");
        let chars_ok = component
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !separators_ok || !chars_ok {
            return Err(format!(
                "`{component}` must be lowercase `a-z0-9`, separated by `.`, `_` or `-`"
            ));
        }
    }
    Ok(())
}

/// The profiles Cargo knows without configuration.
const BUILTIN_PROFILES: [&str; 4] = ["bench", "dev", "release", "test"];

/// A binary's profile must exist, or the build would fail inside the engine with Cargo's message.
fn check_profile(config: &BinaryConfig, binary: &str, custom: &[String]) -> Result<(), PlanError> {
    let profile = &config.profile.value;
    if BUILTIN_PROFILES.contains(&profile.as_str()) || custom.contains(profile) {
        return Ok(());
    }
    let mut available: Vec<String> = BUILTIN_PROFILES.iter().map(|p| p.to_string()).collect();
    available.extend(custom.iter().cloned());
    available.sort();
    Err(PlanError::UnknownProfile {
        binary: binary.to_string(),
        profile: profile.clone(),
        origin: config.profile.source.to_string(),
        available,
    })
}

/// A profile and the directory Cargo writes it to (`dev` writes to `debug`).
fn profile(name: &str) -> Profile {
    Profile {
        name: name.to_string(),
        dir: match name {
            "dev" | "test" => "debug".into(),
            "release" | "bench" => "release".into(),
            other => other.into(),
        },
    }
}

/// Makes the plan. Errors name the package, binary or feature at fault.
pub fn plan(workspace: &Workspace, settings: &Settings) -> Result<Plan, PlanError> {
    if workspace.members.iter().all(|p| p.binaries.is_empty()) {
        return Err(PlanError::NoBinaries {
            root: workspace.root.clone(),
        });
    }
    let context = build_context(workspace)?;
    let tables = read_tables(workspace)?;
    let packages = select_packages(workspace, settings)?;
    let (candidates, skipped) = select_binaries(workspace, &packages, &tables, settings)?;
    if candidates.is_empty() {
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
        return Err(PlanError::NothingSelected { why });
    }
    let user_features = qualify_user_features(&packages, settings)?;
    let mut notes = Vec::new();
    let stage_names = assign_stage_names(&candidates, &mut notes);

    let mut images = Vec::new();
    for (candidate, stage) in candidates.iter().zip(&stage_names) {
        images.push(image_for(candidate, stage, settings, &mut notes)?);
    }
    images.sort_by(|a, b| a.stage.cmp(&b.stage));

    let builders = builder_stages(&images, &candidates, &stage_names, &user_features, settings);
    // Point every image at its builder's final name (which depends on how many builders there are).
    for image in &mut images {
        image.builder = builders
            .iter()
            .find(|b| {
                b.invocations
                    .iter()
                    .any(|i| i.bins.iter().any(|(_, s)| *s == image.stage))
            })
            .map(|b| b.stage.clone())
            .unwrap_or_default();
    }
    let (builder_packages, builder_reasons) =
        builder_packages(&images, &packages, &workspace.cargo_config_tools);
    let rustup_targets: Vec<String> = builders
        .iter()
        .filter(|b| b.triple.ends_with("musl"))
        .map(|b| b.triple.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let test = (settings.test_stage == TestStage::Include).then(|| TestPlan {
        from: builders[0].stage.clone(),
        packages: packages.iter().map(|p| p.name.clone()).collect(),
        features: user_features.clone(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
    });
    if context.is_widened() {
        let up: Vec<&str> = context.workspace_dir.components().map(|_| "..").collect();
        notes.push(format!(
            "path dependencies live outside the workspace: the build context is `{}`, and a plain `docker build` of it does not read the workspace's `.dockerignore` (keep `target/` directories out of it)",
            up.join("/")
        ));
    }
    if !workspace.has_lockfile {
        notes.push(
            "no `Cargo.lock` at the workspace root: builds resolve dependencies afresh and run without `--locked`; commit `Cargo.lock` for reproducible images"
                .into(),
        );
    }
    Ok(Plan {
        root: workspace.root.clone(),
        target_dir: workspace.target_dir.clone(),
        context,
        command: settings.regenerate_command(),
        toolchain: workspace.toolchain.clone(),
        toolchain_files: {
            let mut files = workspace.toolchain_files.clone();
            files.sort();
            files
        },
        platform: settings.platform,
        profile: profile(settings.profile.as_deref().unwrap_or("release")),
        locked: workspace.has_lockfile,
        builder_packages,
        builder_reasons,
        rustup_targets,
        builders,
        images,
        skipped,
        test,
        notes,
    })
}

/// Cargo's package selection: `--workspace` (minus `--exclude`), `-p`, else the current member, else the
/// default members.
fn select_packages<'a>(
    workspace: &'a Workspace,
    settings: &Settings,
) -> Result<Vec<&'a Package>, PlanError> {
    let selection = &settings.selection;
    let names: Vec<String> = workspace.members.iter().map(|p| p.name.clone()).collect();
    let find = |name: &str| -> Result<&'a Package, PlanError> {
        workspace
            .members
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| PlanError::UnknownPackage {
                name: name.to_string(),
                suggestion: closest(name, &names),
                available: names.clone(),
            })
    };
    for excluded in &selection.exclude {
        find(excluded)?;
    }
    let mut selected: Vec<&Package> = if selection.workspace {
        workspace.members.iter().collect()
    } else if !selection.packages.is_empty() {
        selection
            .packages
            .iter()
            .map(|n| find(n))
            .collect::<Result<_, _>>()?
    } else if !selection.bins.is_empty() {
        // `--bin` alone looks through every member: naming a binary is selection enough.
        workspace.members.iter().collect()
    } else if let Some(current) = &workspace.current_package {
        vec![find(current)?]
    } else {
        workspace
            .members
            .iter()
            .filter(|p| workspace.default_members.contains(&p.name))
            .collect()
    };
    selected.retain(|p| !selection.exclude.contains(&p.name));
    selected.sort_by(|a, b| a.name.cmp(&b.name));
    selected.dedup_by(|a, b| a.name == b.name);
    Ok(selected)
}

/// Binaries of the selected packages, filtered by `--bin`, with `required-features` honoured.
fn select_binaries<'a>(
    workspace: &'a Workspace,
    packages: &[&'a Package],
    tables: &Tables,
    settings: &Settings,
) -> Result<(Vec<Candidate<'a>>, Vec<Skipped>), PlanError> {
    let wanted = &settings.selection.bins;
    for name in wanted {
        let found = packages
            .iter()
            .any(|p| p.binaries.iter().any(|b| &b.name == name));
        if !found {
            let available: Vec<String> = packages
                .iter()
                .flat_map(|p| p.binaries.iter().map(|b| b.name.clone()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let elsewhere = workspace
                .members
                .iter()
                .find(|p| p.binaries.iter().any(|b| &b.name == name));
            let scope = match elsewhere {
                Some(p) => format!(
                    "the selected packages (it is in `{}`: add `-p {}`)",
                    p.name, p.name
                ),
                None => "the selected packages".to_string(),
            };
            return Err(PlanError::UnknownBinary {
                name: name.clone(),
                scope,
                suggestion: closest(name, &available),
                available,
            });
        }
    }
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    for package in packages {
        // By name, whatever order the workspace listed them in: stage names, notes and `-2` suffixes
        // are assigned in this order.
        let mut binaries: Vec<&crate::workspace::Binary> = package.binaries.iter().collect();
        binaries.sort_by(|a, b| a.name.cmp(&b.name));
        for binary in binaries {
            let explicit = wanted.contains(&binary.name);
            if !wanted.is_empty() && !explicit {
                continue;
            }
            let config = binary_config(tables, package, &binary.name, settings)?;
            check_profile(&config, &binary.name, &workspace.profiles)?;
            if config.skip.value && !explicit {
                skipped.push(Skipped {
                    binary: binary.name.clone(),
                    package: package.name.clone(),
                    reason: format!("`skip = true` in {}", config.skip.source),
                });
                continue;
            }
            let enabled = enabled_features(package, settings, &config.features.value);
            let missing: Vec<&String> = binary
                .required_features
                .iter()
                .filter(|f| !feature_enabled(f, &enabled))
                .collect();
            if missing.is_empty() {
                candidates.push(Candidate {
                    package,
                    binary,
                    enable: Vec::new(),
                    config,
                });
            } else if explicit {
                // Naming the binary asks for it: build it with the features it needs.
                let enable = missing
                    .iter()
                    .map(|f| format!("{}/{}", package.name, f))
                    .collect();
                candidates.push(Candidate {
                    package,
                    binary,
                    enable,
                    config,
                });
            } else {
                let list = missing
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                skipped.push(Skipped {
                    binary: binary.name.clone(),
                    package: package.name.clone(),
                    reason: format!(
                        "requires feature {list}; pass `--features {}/{}` or `--bin {}`",
                        package.name, missing[0], binary.name
                    ),
                });
            }
        }
    }
    Ok((candidates, skipped))
}

/// The features of `package` the flags enable, expanded through its `[features]` table.
fn enabled_features(
    package: &Package,
    settings: &Settings,
    configured: &[String],
) -> BTreeSet<String> {
    let flags = &settings.features;
    let mut stack: Vec<String> = configured.to_vec();
    if flags.all_features {
        stack.extend(package.features.keys().cloned());
    }
    if !flags.no_default_features && package.features.contains_key("default") {
        stack.push("default".into());
    }
    for feature in &flags.features {
        match feature.split_once('/') {
            Some((p, f)) if p == package.name => stack.push(f.to_string()),
            Some(_) => {}
            None => stack.push(feature.clone()),
        }
    }
    let mut enabled = BTreeSet::new();
    while let Some(feature) = stack.pop() {
        if enabled.insert(feature.clone()) {
            if let Some(implied) = package.features.get(&feature) {
                stack.extend(
                    implied
                        .iter()
                        .filter(|f| !f.contains('/') && !f.starts_with("dep:"))
                        .cloned(),
                );
            }
        }
    }
    enabled
}

/// A required feature is met when it is enabled; `dep/feat` forms count as met when `dep` is.
fn feature_enabled(required: &str, enabled: &BTreeSet<String>) -> bool {
    let name = required
        .split('/')
        .next()
        .unwrap_or(required)
        .trim_end_matches('?');
    enabled.contains(required) || enabled.contains(name)
}

/// `--features` as `package/feature` for the selected packages, so multi-package invocations stay exact.
fn qualify_user_features(
    packages: &[&Package],
    settings: &Settings,
) -> Result<Vec<String>, PlanError> {
    let mut out = BTreeSet::new();
    for feature in &settings.features.features {
        if let Some((p, _)) = feature.split_once('/') {
            if packages.iter().any(|pkg| pkg.name == p) {
                out.insert(feature.clone());
                continue;
            }
            // `dep/feature` of a dependency: Cargo applies it to every selected package that has `dep`.
            out.insert(feature.clone());
            continue;
        }
        let owners: Vec<_> = packages
            .iter()
            .filter(|p| p.features.contains_key(feature))
            .collect();
        if owners.is_empty() {
            return Err(PlanError::UnknownFeature {
                feature: feature.clone(),
            });
        }
        for owner in owners {
            out.insert(format!("{}/{}", owner.name, feature));
        }
    }
    Ok(out.into_iter().collect())
}

/// Valid, unique stage names. A name shared by several binaries becomes `<package>-<binary>` for each of
/// them, so that no binary's name depends on which other binaries happen to be selected first.
fn assign_stage_names(candidates: &[Candidate<'_>], notes: &mut Vec<String>) -> Vec<String> {
    let plain: Vec<String> = candidates
        .iter()
        .map(|c| stage_name(&c.binary.name))
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &plain {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for (candidate, name) in candidates.iter().zip(&plain) {
        let shared = counts[name.as_str()] > 1;
        let reserved = RESERVED_STAGES.contains(&name.as_str());
        let mut chosen = if shared || reserved {
            stage_name(&format!(
                "{}-{}",
                candidate.package.name, candidate.binary.name
            ))
        } else {
            name.clone()
        };
        let base = chosen.clone();
        let mut n = 2;
        while taken.contains(&chosen) || RESERVED_STAGES.contains(&chosen.as_str()) {
            chosen = format!("{base}-{n}");
            n += 1;
        }
        if chosen != candidate.binary.name {
            let why = if shared {
                "its name is shared with another binary of the workspace"
            } else if reserved {
                "its name is reserved for a pipeline stage"
            } else {
                "stage and image names must be lowercase and start with a letter"
            };
            notes.push(format!(
                "binary `{}` of package `{}` gets the stage and image name `{}`: {}",
                candidate.binary.name, candidate.package.name, chosen, why
            ));
        }
        taken.insert(chosen.clone());
        out.push(chosen);
    }
    out
}

/// A Dockerfile stage name for `name`: lowercase, `[a-z][a-z0-9._-]*`, which is also a valid image name.
pub fn stage_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        let after_separator = out.is_empty() || out.ends_with(['-', '_', '.']);
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !after_separator {
            // Separators are kept, anything else becomes `-`; never two in a row.
            out.push(if matches!(c, '-' | '_' | '.') { c } else { '-' });
        }
    }
    let out = out.trim_end_matches(['-', '_', '.']).to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        Some(_) => format!("bin-{out}"),
        None => "bin".to_string(),
    }
}

fn image_for(
    candidate: &Candidate<'_>,
    stage: &str,
    settings: &Settings,
    notes: &mut Vec<String>,
) -> Result<Image, PlanError> {
    let package = candidate.package;
    let binary = candidate.binary;
    let config = &candidate.config;
    // Sorted here too: the reasons and library lists below are rendered in this order.
    let mut native = package.native.clone();
    native.sort();
    native.dedup();
    let dynamic: Vec<_> = native
        .iter()
        .filter(|n| n.linkage == Linkage::Dynamic)
        .collect();
    let mut reasons = Vec::new();
    let libc_source = &config.libc.source;
    let libc = match config.libc.value {
        Libc::Musl => {
            reasons.push(format!("musl chosen by {libc_source}"));
            if !dynamic.is_empty() {
                notes.push(format!(
                    "binary `{}` links system libraries ({}) but {libc_source} asks for a static musl build: it will only link if those crates vendor their C sources",
                    binary.name,
                    dynamic.iter().map(|n| n.krate.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            LibcKind::Musl
        }
        Libc::Gnu => {
            reasons.push(format!("glibc chosen by {libc_source}"));
            LibcKind::Gnu
        }
        Libc::Auto if dynamic.is_empty() => {
            reasons.push("no dependency links a system library: static musl".to_string());
            LibcKind::Musl
        }
        Libc::Auto => {
            for n in &dynamic {
                reasons.push(n.note.clone());
            }
            LibcKind::Gnu
        }
    };
    let linkage = match (libc, config.static_.value) {
        (LibcKind::Musl, _) => Linkage::Static,
        (LibcKind::Gnu, true) => {
            reasons.push(format!(
                "glibc linked statically (`+crt-static`) by {}",
                config.static_.source
            ));
            Linkage::Static
        }
        (LibcKind::Gnu, false) => Linkage::Dynamic,
    };
    // Under `+crt-static` the -sys crates link their libraries statically too (openssl-sys and others read the
    // target feature): the runtime needs none of them.
    if libc == LibcKind::Gnu && linkage == Linkage::Static {
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
    let dynamic: Vec<_> = native
        .iter()
        .filter(|n| n.linkage == Linkage::Dynamic)
        .collect();
    let libraries: Vec<String> = dynamic.iter().flat_map(|n| n.libraries.clone()).collect();
    let mut packages: BTreeSet<String> = dynamic
        .iter()
        .flat_map(|n| n.runtime_packages.clone())
        .collect();
    let configured_packages = &config.runtime_packages;
    packages.extend(configured_packages.value.iter().cloned());
    let package_list = || packages.iter().cloned().collect::<Vec<_>>();
    let fits_distroless = libraries
        .iter()
        .all(|l| DISTROLESS_CC_LIBRARIES.contains(&l.as_str()))
        && configured_packages.value.is_empty();
    let runtime_source = &config.runtime.source;
    let (runtime, runtime_packages) = match (&config.runtime.value, linkage) {
        (Runtime::Auto, _) if !configured_packages.value.is_empty() => {
            reasons.push(format!(
                "runtime packages from {}: Debian slim with {}",
                configured_packages.source,
                package_list().join(", ")
            ));
            (RuntimeBase::DebianSlim(DEBIAN_SLIM.into()), package_list())
        }
        (Runtime::Auto, Linkage::Static) => {
            reasons.push("static binary: `scratch` with CA certificates".to_string());
            (RuntimeBase::Scratch, Vec::new())
        }
        (Runtime::Auto, Linkage::Dynamic) if fits_distroless => {
            reasons
                .push("dynamic glibc binary: distroless `cc` (glibc, libgcc, libssl)".to_string());
            (RuntimeBase::Distroless(DISTROLESS_CC.into()), Vec::new())
        }
        (Runtime::Auto, Linkage::Dynamic) => {
            reasons.push(format!(
                "needs {} which distroless lacks: Debian slim with {}",
                libraries.join(", "),
                package_list().join(", ")
            ));
            (RuntimeBase::DebianSlim(DEBIAN_SLIM.into()), package_list())
        }
        (Runtime::Scratch, Linkage::Dynamic) => {
            return Err(PlanError::DynamicOnScratch {
                binary: binary.name.clone(),
                libraries,
            })
        }
        (Runtime::Scratch, Linkage::Static) => {
            reasons.push(format!("`scratch` chosen by {runtime_source}"));
            (RuntimeBase::Scratch, Vec::new())
        }
        (Runtime::Distroless, _) => {
            reasons.push(format!("distroless chosen by {runtime_source}"));
            if !fits_distroless && linkage == Linkage::Dynamic {
                notes.push(format!(
                    "binary `{}` needs {} which the distroless image does not ship",
                    binary.name,
                    libraries.join(", ")
                ));
            }
            (RuntimeBase::Distroless(DISTROLESS_CC.into()), Vec::new())
        }
        (Runtime::DebianSlim, _) => {
            reasons.push(format!("Debian slim chosen by {runtime_source}"));
            (RuntimeBase::DebianSlim(DEBIAN_SLIM.into()), package_list())
        }
        (Runtime::Image(image), _) => {
            reasons.push(format!("`{image}` chosen by {runtime_source}"));
            if !packages.is_empty() {
                notes.push(format!(
                    "binary `{}` needs the Debian packages {} at run time: make sure `{image}` has them",
                    binary.name,
                    package_list().join(", ")
                ));
            }
            (RuntimeBase::Custom(image.clone()), Vec::new())
        }
    };
    if !configured_packages.value.is_empty()
        && matches!(runtime, RuntimeBase::Scratch | RuntimeBase::Distroless(_))
    {
        notes.push(format!(
            "binary `{}`: `runtime-packages` ({}) need a Debian-based runtime; `{}` has no package manager, so they are not installed",
            binary.name,
            configured_packages.value.join(", "),
            runtime.image()
        ));
    }
    if config.user.value == "root"
        || config.user.value == "0"
        || config.user.value.starts_with("0:")
    {
        notes.push(format!(
            "binary `{}` runs as root (`user` from {})",
            binary.name, config.user.source
        ));
    }
    let triple = settings.platform.triple(libc == LibcKind::Musl);
    let mut labels = BTreeMap::new();
    labels.insert(
        "org.opencontainers.image.title".to_string(),
        binary.name.clone(),
    );
    labels.insert(
        "org.opencontainers.image.version".to_string(),
        package.version.clone(),
    );
    if let Some(d) = package.description.as_ref().filter(|d| !d.is_empty()) {
        labels.insert(
            "org.opencontainers.image.description".to_string(),
            d.clone(),
        );
    }
    if let Some(l) = &package.license {
        labels.insert("org.opencontainers.image.licenses".to_string(), l.clone());
    }
    if let Some(s) = &package.repository {
        labels.insert("org.opencontainers.image.source".to_string(), s.clone());
    }
    if let Some(u) = &package.homepage {
        labels.insert("org.opencontainers.image.url".to_string(), u.clone());
    }
    labels.extend(
        config
            .labels
            .value
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let image_name = config
        .image
        .value
        .clone()
        .unwrap_or_else(|| stage.to_string());
    let tags = expand_tags(
        settings,
        &config.tags.value,
        &image_name,
        &package.name,
        &package.version,
    );
    for tag in &tags {
        check_reference(tag).map_err(|reason| PlanError::InvalidTag {
            binary: binary.name.clone(),
            tag: tag.clone(),
            reason,
            origin: tag_origin(config, settings.registry.is_some()),
        })?;
    }
    let entrypoint = config
        .entrypoint
        .value
        .clone()
        .unwrap_or_else(|| vec![format!("{BIN_DIR}/{}", binary.name)]);
    Ok(Image {
        binary: binary.name.clone(),
        package: package.name.clone(),
        version: package.version.clone(),
        stage: stage.to_string(),
        image_name,
        tags,
        builder: String::new(),
        triple,
        libc,
        linkage,
        runtime,
        runtime_packages,
        reasons,
        labels,
        required_features: candidate.enable.clone(),
        native,
        env: config.env.value.clone(),
        expose: config.expose.value.clone(),
        user: config.user.value.clone(),
        // Assets without a destination land under `/app`: run there, so relative paths find them.
        workdir: config
            .workdir
            .value
            .clone()
            .or_else(|| (!config.assets.value.is_empty()).then(|| "/app".to_string())),
        entrypoint,
        cmd: config.cmd.value.clone(),
        assets: config.assets.value.clone(),
        config: config.clone(),
    })
}

/// Expands `{bin}`, `{package}`, `{version}`, `{git_sha}` in the tag templates and adds the registry prefix.
/// `{bin}` is the image name (the binary's name made valid, or `image` from the manifest).
pub fn expand_tags(
    settings: &Settings,
    templates: &[String],
    image_name: &str,
    package: &str,
    version: &str,
) -> Vec<String> {
    let mut tags: Vec<String> = templates
        .iter()
        .map(|template| {
            let tag = template
                .replace("{bin}", image_name)
                .replace("{package}", package)
                .replace("{version}", &version.replace('+', "_"))
                .replace(
                    "{git_sha}",
                    settings.git_sha.as_deref().unwrap_or("unknown"),
                );
            let has_tag = tag
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':'));
            let tag = if has_tag || tag.contains('@') {
                tag
            } else {
                format!("{tag}:latest")
            };
            match &settings.registry {
                Some(registry) => format!("{}/{}", registry.trim_end_matches('/'), tag),
                None => tag,
            }
        })
        .collect();
    tags.dedup();
    tags
}

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
/// a stage into as few `cargo build`s as profiles, per-package features and output names allow.
fn builder_stages(
    images: &[Image],
    candidates: &[Candidate<'_>],
    stage_names: &[String],
    user_features: &[String],
    settings: &Settings,
) -> Vec<BuilderStage> {
    let mut groups: BTreeMap<(String, bool), Vec<BuildMember<'_>>> = BTreeMap::new();
    for (candidate, stage) in candidates.iter().zip(stage_names) {
        let image = images
            .iter()
            .find(|i| &i.stage == stage)
            .expect("every candidate has an image");
        let crt_static = image.libc == LibcKind::Gnu && image.linkage == Linkage::Static;
        let package = candidate.package.name.as_str();
        let mut features: BTreeSet<String> = candidate.enable.iter().cloned().collect();
        features.extend(candidate.config.features.value.iter().map(|f| {
            if f.contains('/') {
                f.clone()
            } else {
                format!("{package}/{f}")
            }
        }));
        groups
            .entry((image.triple.clone(), crt_static))
            .or_default()
            .push(BuildMember {
                profile: candidate.config.profile.value.as_str(),
                package,
                binary: candidate.binary.name.as_str(),
                stage: stage.as_str(),
                features,
            });
    }
    let single = groups.len() == 1;
    let selected: BTreeSet<String> = candidates.iter().map(|c| c.package.name.clone()).collect();
    groups
        .into_iter()
        .map(|((triple, crt_static), mut members)| {
            members.sort();
            let mut invocations: Vec<Vec<BuildMember<'_>>> = Vec::new();
            for member in members {
                match invocations.iter_mut().find(|inv| member.fits(inv)) {
                    Some(inv) => inv.push(member),
                    None => invocations.push(vec![member]),
                }
            }
            let stage = if single {
                "builder".to_string()
            } else if triple.ends_with("musl") {
                "builder-musl".to_string()
            } else if crt_static {
                "builder-gnu-static".to_string()
            } else {
                "builder-gnu".to_string()
            };
            BuilderStage {
                stage,
                triple,
                crt_static,
                invocations: invocations
                    .into_iter()
                    .map(|members| invocation(members, user_features, &selected, settings))
                    .collect(),
            }
        })
        .collect()
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
        profile: profile(members.first().map(|m| m.profile).unwrap_or("release")),
        packages: packages.into_iter().collect(),
        bins,
        features: features.into_iter().collect(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
    }
}

/// Debian packages of the builder base: what the native crates and build scripts of the selected binaries
/// need, what their tables ask for (`build-packages`), and `musl-tools` for C code on a musl target.
fn builder_packages(
    images: &[Image],
    packages: &[&Package],
    cargo_config_tools: &[crate::native::BuildTool],
) -> (Vec<String>, Vec<String>) {
    let mut out = BTreeSet::new();
    let mut reasons = BTreeSet::new();
    let mut add = |names: &[String], reason: String| {
        if !names.is_empty() {
            out.extend(names.iter().cloned());
            reasons.insert(reason);
        }
    };
    let tool_reason =
        |tool: &crate::native::BuildTool| format!("{}: {}", tool.packages.join(", "), tool.note);
    for tool in cargo_config_tools {
        add(&tool.packages, tool_reason(tool));
    }
    for image in images {
        // The package's own view, before `+crt-static` made its libraries static: linking them statically
        // needs the same `-dev` packages (they carry the `.a` archives).
        let package = packages.iter().find(|p| p.name == image.package);
        for native in package
            .iter()
            .flat_map(|p| p.native.iter())
            .filter(|n| n.linkage == Linkage::Dynamic)
        {
            add(
                &native.build_packages,
                format!(
                    "{}: `{}` links a system library",
                    native.build_packages.join(", "),
                    native.krate
                ),
            );
        }
        let configured = &image.config.build_packages;
        add(
            &configured.value,
            format!(
                "{}: `build-packages` in {}",
                configured.value.join(", "),
                configured.source
            ),
        );
        if let Some(package) = packages.iter().find(|p| p.name == image.package) {
            for tool in &package.build_tools {
                add(&tool.packages, tool_reason(tool));
            }
        }
    }
    let c_on_musl = images
        .iter()
        .filter(|i| i.libc == LibcKind::Musl)
        .find(|i| packages.iter().any(|p| p.name == i.package && p.compiles_c));
    if let Some(image) = c_on_musl {
        add(
            &["musl-tools".to_string()],
            format!(
                "musl-tools: a build script of `{}` compiles C code for the musl target",
                image.package
            ),
        );
    }
    (out.into_iter().collect(), reasons.into_iter().collect())
}

/// The closest name within a small edit distance, for "did you mean".
pub fn closest(name: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min()
        .map(|(_, c)| c.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_are_valid() {
        assert_eq!(stage_name("api"), "api");
        assert_eq!(stage_name("My_Tool"), "my_tool");
        assert_eq!(stage_name("2fa"), "bin-2fa");
        assert_eq!(stage_name("a..b"), "a.b");
        assert_eq!(stage_name("héllo wörld"), "h-llo-w-rld");
        assert_eq!(stage_name("_"), "bin");
    }

    #[test]
    fn tags_expand_templates_and_take_the_registry_prefix() {
        let settings = Settings {
            registry: Some("localhost:5000/acme/".into()),
            git_sha: Some("abc123".into()),
            ..Default::default()
        };
        let templates = vec![
            "{bin}:{version}".to_string(),
            "{package}-{bin}:{git_sha}".to_string(),
            "{bin}".to_string(),
        ];
        assert_eq!(
            expand_tags(&settings, &templates, "api", "pkg", "1.2.3+build.4"),
            vec![
                "localhost:5000/acme/api:1.2.3_build.4",
                "localhost:5000/acme/pkg-api:abc123",
                "localhost:5000/acme/api:latest",
            ]
        );
    }

    #[test]
    fn references_follow_the_engines_grammar() {
        for good in [
            "api:0.3.0",
            "api",
            "acme/api:latest",
            "localhost:5000/acme/api:1",
            "ghcr.io/a_b/c-d.e:V1_2",
        ] {
            assert_eq!(check_reference(good), Ok(()), "{good}");
        }
        for bad in [
            "Api:1",
            "api:-x",
            "api:",
            "ACME/api",
            "api:a b",
            "/api",
            "api/:1",
            "a..b",
            "-api",
            "h@st:5000/api",
        ] {
            assert!(check_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn closest_suggests_near_names_only() {
        let names = vec!["worker".to_string(), "api".to_string()];
        assert_eq!(closest("wroker", &names).as_deref(), Some("worker"));
        assert_eq!(closest("zzzzzzzz", &names), None);
    }
}
