//! The runtime image of one binary: its runtime choice, labels, tags, user, working directory and entrypoint.
//!
//! Takes a [`Candidate`] (a selected binary with its layered configuration) and its stage name, and gives the
//! [`Image`] with the notes the user should read. Tags are expanded from their templates here and checked
//! against the engine's grammar, so a bad one fails before anything is built. Pure.

use std::collections::BTreeMap;

use super::runtime::{self, RuntimeChoice};
use super::select::Candidate;
use super::{Image, PlanError};
use crate::config::{BinaryConfig, Settings, Source};
use crate::model::{LibcKind, APP_DIR, BIN_DIR};
use crate::reference;
use crate::workspace::Package;

/// The image of `candidate`, and the notes its choices leave for the user.
pub fn image_for(
    candidate: &Candidate<'_>,
    stage: &str,
    settings: &Settings,
) -> Result<(Image, Vec<String>), PlanError> {
    let package = candidate.package;
    let binary = candidate.binary;
    let config = &candidate.config;
    let RuntimeChoice {
        libc,
        linkage,
        native,
        runtime,
        runtime_packages,
        reasons,
        mut notes,
    } = runtime::choose(&binary.name, package, config)?;
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
    let tags = checked_tags(settings, config, &binary.name, &image_name, package)?;
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
        tags,
        builder: String::new(),
        triple: settings.platform.triple(libc == LibcKind::Musl),
        libc,
        linkage,
        runtime,
        runtime_packages,
        reasons,
        labels: labels(&binary.name, package, config),
        required_features: candidate.enable.clone(),
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
    };
    Ok((image, notes))
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

/// The expanded tags, each checked the way the engine will check it.
fn checked_tags(
    settings: &Settings,
    config: &BinaryConfig,
    binary: &str,
    image_name: &str,
    package: &Package,
) -> Result<Vec<String>, PlanError> {
    let tags = expand_tags(
        settings,
        &config.tags.value,
        image_name,
        &package.name,
        &package.version,
    );
    for tag in &tags {
        reference::check(tag).map_err(|reason| PlanError::InvalidTag {
            binary: binary.to_string(),
            tag: tag.clone(),
            reason,
            origin: tag_origin(config, settings.registry.is_some()),
        })?;
    }
    Ok(tags)
}

/// Where a tag's parts came from, for the hint of an invalid one: only what the user set.
fn tag_origin(config: &BinaryConfig, registry: bool) -> String {
    let mut places = Vec::new();
    if config.image.source != Source::Default {
        places.push(format!("`image` in {}", config.image.source));
    }
    if config.tags.source != Source::Default {
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
            let tag = if reference::has_tag(&tag) || tag.contains('@') {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
