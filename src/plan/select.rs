//! Which binaries: Cargo's selection rules over the workspace, `required-features`, `skip`, and the features the
//! flags enable.
//!
//! Takes the workspace and its configuration and gives the [`Candidate`]s (binaries to image, each with its
//! layered configuration) and the binaries left out with the reason. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::{Image, PlanError, Skipped};
use crate::config::{BinaryConfig, Config, Settings};
use crate::source::Source;
use crate::text::closest;
use crate::workspace::{Binary, Package, ProfileKeys, Workspace};

/// One binary on its way through the planner.
pub struct Candidate<'a> {
    pub package: &'a Package,
    pub binary: &'a Binary,
    /// Its tables and the flags, layered.
    pub config: BinaryConfig,
}

/// Cargo's package selection: `--workspace` (minus `--exclude`), `-p`, else the current member, else the
/// default members.
pub fn select_packages<'a>(
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

/// `--bin` names must be binaries of the selected packages; the error says where a name is instead.
fn check_wanted_bins(
    workspace: &Workspace,
    packages: &[&Package],
    wanted: &[String],
) -> Result<(), PlanError> {
    for name in wanted {
        let found = packages
            .iter()
            .any(|p| p.binaries.iter().any(|b| &b.name == name));
        if found {
            continue;
        }
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
    Ok(())
}

/// Why `package` is a development tool the Dockerfile leaves out unless a table says `skip = false`; `None` for
/// any other package.
///
/// The rule is the cargo-xtask convention only: a package named `xtask` or `xtask-<name>`, which developers and CI
/// run with `cargo xtask` (an alias for `cargo run -p xtask --`) and nobody deploys. `publish = false` is no
/// sign: private services say it too, and leaving them out would leave a first `generate` with nothing to
/// image. Any other tool package is imaged until its table says `skip = true`.
pub fn development_tool(package: &Package) -> Option<String> {
    let name = package.name.as_str();
    (name == "xtask" || name.starts_with("xtask-"))
        .then(|| format!("`{name}` is a development tool (the cargo-xtask convention)"))
}

/// The binaries the Dockerfile holds: every binary of `packages` but those with `skip = true`, those of
/// [`development_tool`] packages no table includes, and those whose `required-features` the manifests and feature
/// flags leave off, which are returned as skipped, with why.
pub fn select_binaries<'a>(
    workspace: &'a Workspace,
    packages: &[&'a Package],
    resolved: &Config,
) -> Result<(Vec<Candidate<'a>>, Vec<Skipped>), PlanError> {
    let settings = &resolved.settings;
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    for package in packages {
        // By name, whatever order the workspace listed them in: stage names, notes and `-2` suffixes
        // are assigned in this order.
        let mut binaries: Vec<&Binary> = package.binaries.iter().collect();
        binaries.sort_by(|a, b| a.name.cmp(&b.name));
        for binary in binaries {
            let config = resolved.binary(&package.name, &binary.name).clone();
            check_profile(&config, &binary.name, &workspace.profiles)?;
            if config.skip.value {
                skipped.push(Skipped {
                    binary: binary.name.clone(),
                    package: package.name.clone(),
                    reason: format!("`skip = true` in {}", config.skip.source),
                });
                continue;
            }
            if let (Source::Default, Some(tool)) = (&config.skip.source, development_tool(package))
            {
                skipped.push(Skipped {
                    binary: binary.name.clone(),
                    package: package.name.clone(),
                    reason: format!(
                        "{tool}, so no image by default; image it with `skip = false` in `[package.metadata.dockerize]` of `{}`",
                        package.name
                    ),
                });
                continue;
            }
            let enabled = enabled_features(package, settings, &config.features.value);
            let missing: Vec<&String> = binary
                .required_features
                .iter()
                .filter(|f| !feature_enabled(f, &enabled))
                .collect();
            if let Some(first) = missing.first() {
                let list = missing
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                skipped.push(Skipped {
                    binary: binary.name.clone(),
                    package: package.name.clone(),
                    reason: format!(
                        "requires feature {list}; enable it with `features = [\"{first}\"]` in `[package.metadata.dockerize.bin.{}]` or `--features {}/{first}`",
                        binary.name, package.name
                    ),
                });
                continue;
            }
            candidates.push(Candidate {
                package,
                binary,
                config,
            });
        }
    }
    Ok((candidates, skipped))
}

/// The stages of `images` the command line selects, by Cargo's rules (`-p`, `--workspace`, `--exclude`, `--bin`,
/// else the current package, else the default members): the images `build` builds and `list` shows. Naming a
/// binary the Dockerfile leaves out (`skipped`) is an error saying why it is out.
pub fn selected_stages(
    workspace: &Workspace,
    images: &[Image],
    skipped: &[Skipped],
    settings: &Settings,
) -> Result<Vec<String>, PlanError> {
    let packages = select_packages(workspace, settings)?;
    let wanted = &settings.selection.bins;
    check_wanted_bins(workspace, &packages, wanted)?;
    let mut stages = Vec::new();
    for package in &packages {
        for binary in &package.binaries {
            let explicit = wanted.contains(&binary.name);
            if !wanted.is_empty() && !explicit {
                continue;
            }
            let image = images
                .iter()
                .find(|i| i.package == package.name && i.binary == binary.name);
            match image {
                Some(image) => stages.push(image.stage.clone()),
                None if explicit => {
                    let reason = skipped
                        .iter()
                        .find(|s| s.package == package.name && s.binary == binary.name)
                        .map(|s| s.reason.clone())
                        .unwrap_or_default();
                    return Err(PlanError::NotInDockerfile {
                        binary: binary.name.clone(),
                        reason,
                    });
                }
                None => {}
            }
        }
    }
    if stages.is_empty() {
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        return Err(PlanError::NothingSelected {
            why: format!(
                "the Dockerfile holds no image of the selected packages ({})",
                names.join(", ")
            ),
        });
    }
    // In the plan's order (by stage name), like everything else `list` and `build` show.
    stages.sort();
    stages.dedup();
    Ok(stages)
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
pub fn qualify_user_features(
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

/// The profiles Cargo knows without configuration.
const BUILTIN_PROFILES: [&str; 4] = ["bench", "dev", "release", "test"];

/// A binary's profile must exist, or the build would fail inside the engine with Cargo's message.
fn check_profile(
    config: &BinaryConfig,
    binary: &str,
    custom: &BTreeMap<String, ProfileKeys>,
) -> Result<(), PlanError> {
    let profile = &config.profile.value;
    if BUILTIN_PROFILES.contains(&profile.as_str()) || custom.contains_key(profile) {
        return Ok(());
    }
    let mut available: BTreeSet<String> = BUILTIN_PROFILES.iter().map(|p| p.to_string()).collect();
    available.extend(custom.keys().cloned());
    let available = available.into_iter().collect();
    Err(PlanError::UnknownProfile {
        binary: binary.to_string(),
        profile: profile.clone(),
        origin: config.profile.source.to_string(),
        available,
    })
}

#[cfg(test)]
mod tests;
