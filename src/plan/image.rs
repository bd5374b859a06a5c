//! The runtime image of one binary: its runtime choice, labels, tags, user, working directory and entrypoint.
//!
//! Takes a [`Candidate`] (a selected binary with its layered configuration) and its stage name, and gives the
//! [`Image`] with the notes the user should read. Tags are expanded from their templates here and checked
//! against the engine's grammar, so a bad one fails before anything is built. Pure.

use std::collections::BTreeMap;

use serde::Serialize;

use super::cargo_flags::CargoFlags;
use super::naming::DEBUG_SUFFIX;
use super::runtime::{self, RuntimeChoice};
use super::select::Candidate;
use super::PlanError;
use crate::config::{BinaryConfig, Config, GitSha, ResolvedAsset};
use crate::model::{Linkage, NativeLink, Port, APP_DIR, BIN_DIR};
use crate::platform::{LibcKind, Platform};
use crate::reference;
use crate::source::Source;
use crate::workspace::{Package, ProfileKeys};

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
    /// The platforms it is built for, each with its target triple, in the plan's order.
    pub platforms: Vec<ImagePlatform>,
    pub libc: LibcKind,
    pub linkage: Linkage,
    pub runtime: RuntimeBase,
    /// Debian packages installed in a Debian-based runtime, sorted.
    pub runtime_packages: Vec<String>,
    /// Why this runtime, one short line each.
    pub reasons: Vec<String>,
    /// OCI labels, sorted by key.
    pub labels: BTreeMap<String, String>,
    /// The binary's `required-features`, qualified: the manifests or the feature flags enable them.
    pub required_features: Vec<String>,
    /// Native crates of its package's dependency closure.
    pub native: Vec<NativeLink>,
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
    /// Whether the image's executable is stripped, and why.
    pub strip: Strip,
    /// The opt-in debug variant of this image.
    pub debug: DebugImage,
    /// The C and C++ compilers its dependencies need on its target, and which toolchain runs them.
    pub compilers: Compilers,
}

/// One platform of an image and the Rust target it is compiled for there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImagePlatform {
    pub platform: Platform,
    pub triple: String,
}

/// The C and C++ code a binary's dependencies compile for its target, and the toolchain that compiles it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Compilers {
    /// Crates whose build scripts compile C (or C++) for the target, sorted.
    pub c: Vec<String>,
    /// Crates that compile C++, each "`crate`: how we know", sorted.
    pub cpp: Vec<String>,
    /// The toolchain, one line (`musl-gcc from Debian's musl-tools`); empty when nothing compiles C.
    pub toolchain: String,
}

/// Whether an image holds a stripped executable. Stripping happens after the build (`strip --strip-all`, what
/// `strip = "symbols"` in the profile would do), so the unstripped executable is there for the debug variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "reason")]
pub enum Strip {
    /// Stripped: the profile asks for neither `strip` nor debug info.
    Symbols,
    /// As Cargo built it; the reason names the profile key that decided it.
    Kept(String),
}

/// The debug variant of an image: the same binary unstripped, on Debian slim with a shell, as the same non-root
/// user. Built only on request (`--target <stage>`, `cargo dockerize build --debug`), from the same builder, so it
/// costs no second compile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DebugImage {
    /// `<stage>-debug`.
    pub stage: String,
    /// The image's tags with `-debug` on the tag (`latest` becomes `debug`).
    pub tags: Vec<String>,
    /// Debian packages it installs: CA certificates and the libraries the binary loads, sorted.
    pub packages: Vec<String>,
    /// The OCI base labels of its Debian slim base, when that is pinned ([`super::bases`]): they replace the
    /// release image's own base labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub base_labels: BTreeMap<String, String>,
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

    /// Whether it is `scratch`: no image, so no base to pin.
    pub fn is_scratch(&self) -> bool {
        matches!(self, Self::Scratch)
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

/// The image of `candidate`, and the notes its choices leave for the user.
pub fn image_for(
    candidate: &Candidate<'_>,
    stage: &str,
    resolved: &Config,
    profiles: &BTreeMap<String, ProfileKeys>,
    cargo: &CargoFlags,
) -> Result<(Image, Vec<String>), PlanError> {
    let platforms = &resolved.workspace.platforms.value;
    let package = candidate.package;
    let binary = candidate.binary;
    let config = &candidate.config;
    let RuntimeChoice {
        libc,
        linkage,
        native,
        runtime,
        runtime_packages,
        debian_packages,
        reasons,
        mut notes,
        compilers,
    } = runtime::choose_for_platforms(&binary.name, package, config, platforms, cargo)?;
    let image_platforms: Vec<ImagePlatform> = platforms
        .iter()
        .map(|&platform| ImagePlatform {
            platform,
            triple: platform
                .triple(libc)
                .expect("musl is chosen only where every platform has it")
                .to_string(),
        })
        .collect();
    check_debian_carries(&binary.name, libc, &native, &compilers, &runtime, platforms)?;
    let user = &config.user;
    if user.value == "root" || user.value == "0" || user.value.starts_with("0:") {
        notes.push(format!(
            "binary `{}` runs as root (`user` from {})",
            binary.name, user.source
        ));
    }
    let image_name = config
        .image
        .value
        .clone()
        .unwrap_or_else(|| stage.to_string());
    let tags = checked_tags(resolved, config, &binary.name, &image_name, package)?;
    let entrypoint = config
        .entrypoint
        .value
        .clone()
        .unwrap_or_else(|| vec![format!("{BIN_DIR}/{}", binary.name)]);
    let image = Image {
        binary: binary.name.clone(),
        package: package.name.clone(),
        version: package.version.clone(),
        stage: stage.to_string(),
        image_name,
        platforms: image_platforms,
        libc,
        linkage,
        runtime,
        runtime_packages,
        reasons,
        labels: labels(&binary.name, package, config),
        required_features: binary
            .required_features
            .iter()
            .map(|f| format!("{}/{f}", package.name))
            .collect(),
        native,
        env: config.env.value.clone(),
        expose: config.expose.value.clone(),
        user: user.value.clone(),
        // Assets without a destination land under `APP_DIR`: run there, so relative paths find them.
        workdir: config
            .workdir
            .value
            .clone()
            .or_else(|| (!config.assets.value.is_empty()).then(|| APP_DIR.to_string())),
        entrypoint,
        cmd: config.cmd.value.clone(),
        assets: config.assets.value.clone(),
        config: config.clone(),
        strip: strip_for(&config.profile.value, profiles),
        compilers,
        debug: debug_image(stage, &tags, debian_packages),
        tags,
    };
    Ok((image, notes))
}

/// A platform whose packages Debian bookworm lacks (riscv64) can take only binaries that need none of them for
/// the target: no C for musl (that needs its `musl-dev`), no system library (its `-dev` package, also to link it
/// statically), no Debian-based runtime (distroless is made of Debian's packages too).
fn check_debian_carries(
    binary: &str,
    libc: LibcKind,
    native: &[NativeLink],
    compilers: &Compilers,
    runtime: &RuntimeBase,
    platforms: &[Platform],
) -> Result<(), PlanError> {
    let Some(platform) = platforms.iter().find(|p| !p.in_debian_archive()) else {
        return Ok(());
    };
    let mut packages: Vec<String> = native
        .iter()
        .flat_map(|n| n.build_packages.iter())
        .filter(|p| super::builders::is_library(p))
        .map(|p| format!("`{p}`"))
        .collect();
    if libc == LibcKind::Musl && !compilers.c.is_empty() {
        packages.push("`musl-dev`".into());
    }
    if let RuntimeBase::Distroless(base) | RuntimeBase::DebianSlim(base) = runtime {
        packages.push(format!("a `{base}` runtime"));
    }
    if packages.is_empty() {
        return Ok(());
    }
    packages.sort();
    packages.dedup();
    Err(PlanError::NoDebianPackages {
        binary: binary.to_string(),
        platform: platform.to_string(),
        packages: packages.join(", "),
    })
}

/// The profiles Cargo builds with debug info unless told otherwise.
const DEBUG_BY_DEFAULT: [&str; 2] = ["dev", "test"];

/// Stripped unless the profile, or one it inherits from, sets `strip` or turns debug info on: then Cargo's output
/// is what the user asked for. Built-in `release` and `bench` have no debug info, so their images are stripped.
pub fn strip_for(profile: &str, profiles: &BTreeMap<String, ProfileKeys>) -> Strip {
    let none = ProfileKeys::default();
    let mut name = profile;
    // `inherits` chains end at a built-in profile; the bound stops a cycle Cargo would refuse anyway.
    for _ in 0..8 {
        let keys = profiles.get(name).unwrap_or(&none);
        if let Some(strip) = &keys.strip {
            // `strip = true` (or "symbols", "debuginfo") means Cargo strips it already: say so, so that
            // "as Cargo built it" never reads as "with its symbols".
            let what = if matches!(strip.as_str(), "true" | "symbols" | "debuginfo") {
                "Cargo strips it"
            } else {
                "Cargo keeps its symbols"
            };
            return Strip::Kept(format!("{what} (profile `{name}` sets `strip = {strip}`)"));
        }
        if let Some(debug) = &keys.debug {
            return if matches!(debug.as_str(), "false" | "0" | "none") {
                Strip::Symbols
            } else {
                Strip::Kept(format!(
                    "with debug info (profile `{name}` sets `debug = {debug}`)"
                ))
            };
        }
        match keys.inherits.as_deref() {
            Some(parent) if parent != name => name = parent,
            _ => break,
        }
    }
    if DEBUG_BY_DEFAULT.contains(&name) {
        Strip::Kept(format!(
            "with debug info (profile `{name}` has it by default)"
        ))
    } else {
        Strip::Symbols
    }
}

/// The debug variant: `<stage>-debug`, its tags, and the Debian packages it installs.
fn debug_image(stage: &str, tags: &[String], mut packages: Vec<String>) -> DebugImage {
    packages.push("ca-certificates".to_string());
    packages.sort();
    packages.dedup();
    DebugImage {
        stage: format!("{stage}{DEBUG_SUFFIX}"),
        tags: tags
            .iter()
            .map(|tag| {
                let (name, tag) = reference::split_tag(tag);
                match tag {
                    "latest" => format!("{name}:debug"),
                    tag => format!("{name}:{tag}-debug"),
                }
            })
            .collect(),
        packages,
        base_labels: BTreeMap::new(),
    }
}

/// OCI labels from the package's metadata, then the configured ones (which win), sorted by key.
fn labels(binary: &str, package: &Package, config: &BinaryConfig) -> BTreeMap<String, String> {
    let oci = |key: &str| format!("org.opencontainers.image.{key}");
    let mut labels = BTreeMap::new();
    labels.insert(oci("title"), binary.to_string());
    labels.insert(oci("version"), package.version.clone());
    let optional = [
        (
            "description",
            package.description.as_ref().filter(|d| !d.is_empty()),
        ),
        ("licenses", package.license.as_ref()),
        ("source", package.repository.as_ref()),
        ("url", package.homepage.as_ref()),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            labels.insert(oci(key), value.clone());
        }
    }
    labels.extend(
        config
            .labels
            .value
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    labels
}

/// The expanded tags, each checked the way the engine will check it. A tag that keeps `{git_sha}` for a CI
/// workflow to fill in is checked as it will be then, with a commit in its place.
fn checked_tags(
    resolved: &Config,
    config: &BinaryConfig,
    binary: &str,
    image_name: &str,
    package: &Package,
) -> Result<Vec<String>, PlanError> {
    let registry = resolved.workspace.registry.value.as_deref();
    let expand = |git_sha: &GitSha| {
        expand_tags(
            registry,
            git_sha,
            &config.tags.value,
            image_name,
            &package.name,
            &package.version,
        )
    };
    let tags = expand(&resolved.settings.git_sha);
    let checked = match &resolved.settings.git_sha {
        GitSha::AtRunTime => expand(&GitSha::Commit(SAMPLE_COMMIT.into())),
        _ => tags.clone(),
    };
    for (tag, checked) in tags.iter().zip(&checked) {
        // Shown escaped: a tag holds what a manifest, a flag or a binary name gave it.
        reference::check(checked).map_err(|reason| PlanError::InvalidTag {
            binary: crate::value::shown(binary),
            tag: crate::value::shown(tag),
            reason: crate::value::escaped(&reason),
            origin: tag_origin(config, registry.is_some()),
        })?;
    }
    Ok(tags)
}

/// What a commit looks like in a tag (`{git_sha}` is its first 12 hex digits), for checking a tag that keeps
/// the placeholder.
const SAMPLE_COMMIT: &str = "0123456789ab";

/// Where a tag's parts came from, for the hint of an invalid one: only what the user set.
fn tag_origin(config: &BinaryConfig, registry: bool) -> String {
    let mut places = Vec::new();
    if config.image.source != Source::Default {
        places.push(format!("`image` in {}", config.image.source));
    }
    if config.tags.source != Source::Default {
        places.push(match &config.tags.source {
            Source::Tables(_) => format!("`tags` in {}", config.tags.source),
            other => other.to_string(),
        });
    }
    if registry {
        places.push("`--registry` (or `registry` in `[workspace.metadata.dockerize]`)".to_string());
    }
    if places.is_empty() {
        places.push("the default tag templates".to_string());
    }
    places.join(" or ")
}

/// Expands `{bin}`, `{package}`, `{version}`, `{git_sha}` in the tag templates and adds the registry prefix.
/// `{bin}` is the image name (the binary's name made valid, or `image` from the manifest).
pub fn expand_tags(
    registry: Option<&str>,
    git_sha: &GitSha,
    templates: &[String],
    image_name: &str,
    package: &str,
    version: &str,
) -> Vec<String> {
    let commit = match git_sha {
        GitSha::Commit(commit) => commit.as_str(),
        GitSha::Unknown => "unknown",
        GitSha::AtRunTime => "{git_sha}",
    };
    let mut tags: Vec<String> = templates
        .iter()
        .map(|template| {
            let tag = template
                .replace("{bin}", image_name)
                .replace("{package}", package)
                .replace("{version}", &version.replace('+', "_"))
                .replace("{git_sha}", commit);
            let tag = if reference::has_tag(&tag) || tag.contains('@') {
                tag
            } else {
                format!("{tag}:latest")
            };
            match registry {
                Some(registry) => format!("{}/{}", registry.trim_end_matches('/'), tag),
                None => tag,
            }
        })
        .collect();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_is_stripped_unless_the_profile_says_otherwise() {
        let keys = |inherits: Option<&str>, strip: Option<&str>, debug: Option<&str>| ProfileKeys {
            inherits: inherits.map(Into::into),
            strip: strip.map(Into::into),
            debug: debug.map(Into::into),
        };
        let mut profiles = BTreeMap::new();
        assert_eq!(strip_for("release", &profiles), Strip::Symbols);
        assert!(matches!(strip_for("dev", &profiles), Strip::Kept(_)));
        profiles.insert("dist".to_string(), keys(Some("release"), None, None));
        assert_eq!(strip_for("dist", &profiles), Strip::Symbols);
        profiles.insert(
            "release".to_string(),
            keys(None, None, Some("line-tables-only")),
        );
        assert_eq!(
            strip_for("dist", &profiles),
            Strip::Kept(
                "with debug info (profile `release` sets `debug = line-tables-only`)".into()
            )
        );
        profiles.insert(
            "dist".to_string(),
            keys(Some("release"), Some("none"), None),
        );
        assert_eq!(
            strip_for("dist", &profiles),
            Strip::Kept("Cargo keeps its symbols (profile `dist` sets `strip = none`)".into())
        );
        profiles.insert(
            "dist".to_string(),
            keys(Some("release"), Some("true"), None),
        );
        assert_eq!(
            strip_for("dist", &profiles),
            Strip::Kept("Cargo strips it (profile `dist` sets `strip = true`)".into())
        );
        profiles.insert("fast".to_string(), keys(Some("dev"), None, Some("false")));
        assert_eq!(strip_for("fast", &profiles), Strip::Symbols);
    }

    #[test]
    fn debug_tags_mark_the_tag() {
        let debug = debug_image(
            "api",
            &[
                "ghcr.io/a/api:1.2.0".into(),
                "localhost:5000/api:latest".into(),
            ],
            vec!["libssl3".into()],
        );
        assert_eq!(debug.stage, "api-debug");
        assert_eq!(
            debug.tags,
            vec!["ghcr.io/a/api:1.2.0-debug", "localhost:5000/api:debug"]
        );
        assert_eq!(debug.packages, vec!["ca-certificates", "libssl3"]);
    }

    #[test]
    fn tags_expand_templates_and_take_the_registry_prefix() {
        let templates = vec![
            "{bin}:{version}".to_string(),
            "{package}-{bin}:{git_sha}".to_string(),
            "{bin}".to_string(),
        ];
        assert_eq!(
            expand_tags(
                Some("localhost:5000/acme/"),
                &GitSha::Commit("abc123".into()),
                &templates,
                "api",
                "pkg",
                "1.2.3+build.4"
            ),
            vec![
                "localhost:5000/acme/api:1.2.3_build.4",
                "localhost:5000/acme/pkg-api:abc123",
                "localhost:5000/acme/api:latest",
            ]
        );
        assert_eq!(
            expand_tags(
                None,
                &GitSha::AtRunTime,
                &templates[1..2],
                "api",
                "pkg",
                "1"
            ),
            vec!["pkg-api:{git_sha}"],
            "a CI workflow fills the commit in"
        );
    }
}
