//! The configuration, resolved once: every workspace-wide setting with where it came from (the flag, else the
//! workspace table, else the workspace's own files, else the default), and every binary's layered
//! [`BinaryConfig`].
//!
//! Takes the loaded [`Workspace`] (its manifests and toolchain files, before any per-target resolve) and the
//! command line's [`Settings`]; gives the [`Config`] the planner reads, and the target triples whose dependency
//! graphs the workspace must read next ([`Config::triples`]). Nothing after this step looks at a table, a flag
//! that a table could also set, or the toolchain file again. Pure: no I/O.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use serde::Serialize;

use super::layer::BinaryConfig;
use super::read::{binary_config, read_tables, Tables};
use super::settings::{Auditable, SbomFormat, Settings};
use super::ConfigError;
use crate::platform::LibcKind;
use crate::platform::{Platform, PlatformList};
use crate::source::{Source, Sourced, TableOrigin};
use crate::workspace::{Toolchain, Workspace};

/// The Dockerfile's name when nothing sets another.
pub const DEFAULT_DOCKERFILE: &str = "Dockerfile";

/// The configuration of a command: the flags, what every image shares, and each binary's own settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The command line's choices (selection, features, the flags that override the tables).
    pub settings: Settings,
    /// What every image of the workspace shares.
    pub workspace: WorkspaceConfig,
    /// Every binary of every member, by package and binary name: tables and flags layered.
    binaries: BTreeMap<String, BTreeMap<String, BinaryConfig>>,
    /// What the user should know about these choices (a `rust-version` a toolchain file overrides, no pin).
    pub notes: Vec<String>,
    /// The base-image digests the Dockerfile on disk holds (`FROM name:tag@sha256:…`), which `generate` keeps:
    /// set by the command, which reads the file; none by default.
    pub pins: crate::value::Pins,
}

/// The settings every image shares, each with its source. One Dockerfile holds every binary and platform, so
/// these are the workspace's only: a package table that sets one is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkspaceConfig {
    /// The builder's Rust toolchain: a toolchain file, else `rust-version`, else the floating `rust:1`.
    pub toolchain: Toolchain,
    /// `--platform`, else `platforms`, else `linux/amd64`; in order, none twice.
    pub platforms: Sourced<Vec<Platform>>,
    /// The prefix of every tag that names no registry: `--registry`, else `registry`.
    pub registry: Sourced<Option<String>>,
    /// Where the Dockerfile goes, relative to the workspace root (folded, inside it): `--dockerfile`, else
    /// `dockerfile`, else `Dockerfile`.
    pub dockerfile: Sourced<Utf8PathBuf>,
    /// `ENV` of every builder stage, before the cook (`build-env`).
    pub build_env: Sourced<BTreeMap<String, String>>,
    /// Secrets of the cook and the final compile (`build-secrets`), sorted by name.
    pub build_secrets: Sourced<Vec<crate::model::BuildSecret>>,
    /// Whether each binary carries its crate list (`.dep-v0`): `--no-auditable`, else `auditable`, else embedded.
    pub auditable: Sourced<Auditable>,
    /// The SBOM formats attached to each pushed image: `--sbom`, else `sbom`, else both.
    pub sbom: Sourced<Vec<SbomFormat>>,
    /// Whether each pushed image gets its provenance attached: `--[no-]provenance`, else `provenance`, else yes.
    pub provenance: Sourced<bool>,
}

impl Config {
    /// The layered configuration of `binary` of `package`.
    pub fn binary(&self, package: &str, binary: &str) -> &BinaryConfig {
        &self.binaries[package][binary]
    }

    /// The target triples the images may be built for: each platform's musl triple (where Rust has one) and its
    /// glibc one. The workspace reads each one's dependency graph.
    pub fn triples(&self) -> Vec<String> {
        self.workspace
            .platforms
            .value
            .iter()
            .flat_map(|p| [p.triple(LibcKind::Musl), p.triple(LibcKind::Gnu)])
            .flatten()
            .map(str::to_string)
            .collect()
    }
}

/// Resolves every setting of the workspace and of each of its binaries. Every table is read, selected or not, so
/// a mistake in any manifest is reported whatever the command line selects.
pub fn resolve(workspace: &Workspace, settings: &Settings) -> Result<Config, ConfigError> {
    let tables = read_tables(workspace)?;
    let mut notes = Vec::new();
    let (table, origin) = &tables.workspace;
    let from_table = |key_set: bool| key_set.then(|| Source::table(origin.clone()));
    let platforms = match (&settings.platforms, &table.typed.platforms) {
        (Some(list), _) => Sourced::from(list.0.clone(), Source::Flag("--platform".into())),
        (None, Some(list)) => Sourced::from(list.clone(), Source::table(origin.clone())),
        (None, None) => Sourced::default(PlatformList::default().0),
    };
    let registry = match (&settings.registry, &table.registry) {
        (Some(registry), _) => {
            Sourced::from(Some(registry.clone()), Source::Flag("--registry".into()))
        }
        (None, Some(registry)) => {
            Sourced::from(Some(registry.clone()), Source::table(origin.clone()))
        }
        (None, None) => Sourced::default(None),
    };
    let dockerfile = match (&settings.dockerfile, &table.typed.dockerfile) {
        (Some(path), _) => Sourced::from(path.clone(), Source::Flag("--dockerfile".into())),
        (None, Some(path)) => Sourced::from(path.clone(), Source::table(origin.clone())),
        (None, None) => Sourced::default(DEFAULT_DOCKERFILE.into()),
    };
    let build_env = Sourced {
        value: table.build_env.clone().unwrap_or_default(),
        source: from_table(table.build_env.is_some()).unwrap_or(Source::Default),
    };
    let build_secrets = Sourced {
        value: table.typed.build_secrets.clone().unwrap_or_default(),
        source: from_table(table.build_secrets.is_some()).unwrap_or(Source::Default),
    };
    let auditable = match (settings.auditable, table.auditable) {
        (Some(mode), _) => Sourced::from(mode, Source::Flag("--no-auditable".into())),
        (None, Some(embed)) => Sourced::from(
            if embed {
                Auditable::Embed
            } else {
                Auditable::Omit
            },
            Source::table(origin.clone()),
        ),
        (None, None) => Sourced::default(Auditable::Embed),
    };
    let sbom = match (&settings.sbom, &table.sbom) {
        (Some(formats), _) => Sourced::from(formats.clone(), Source::Flag("--sbom".into())),
        (None, Some(formats)) => {
            let mut formats = formats.clone();
            formats.sort();
            formats.dedup();
            Sourced::from(formats, Source::table(origin.clone()))
        }
        (None, None) => Sourced::default(SbomFormat::ALL.to_vec()),
    };
    let provenance = match (settings.provenance, table.provenance) {
        (Some(on), _) => Sourced::from(
            on,
            Source::Flag(
                if on {
                    "--provenance"
                } else {
                    "--no-provenance"
                }
                .into(),
            ),
        ),
        (None, Some(on)) => Sourced::from(on, Source::table(origin.clone())),
        (None, None) => Sourced::default(true),
    };
    let toolchain = toolchain(workspace, table.rust_version.as_deref(), origin, &mut notes);
    Ok(Config {
        binaries: binaries(workspace, &tables, settings)?,
        settings: settings.clone(),
        workspace: WorkspaceConfig {
            toolchain,
            platforms,
            registry,
            dockerfile,
            build_env,
            build_secrets,
            auditable,
            sbom,
            provenance,
        },
        notes,
        pins: crate::value::Pins::default(),
    })
}

/// Every binary's configuration, by package and binary name, each package's binaries by name.
fn binaries(
    workspace: &Workspace,
    tables: &Tables,
    settings: &Settings,
) -> Result<BTreeMap<String, BTreeMap<String, BinaryConfig>>, ConfigError> {
    let mut all = BTreeMap::new();
    let mut members: Vec<&crate::workspace::Package> = workspace.members.iter().collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    for package in members {
        let mut names: Vec<&str> = package.binaries.iter().map(|b| b.name.as_str()).collect();
        names.sort_unstable();
        let mut configs = BTreeMap::new();
        for name in names {
            configs.insert(
                name.to_string(),
                binary_config(tables, package, name, settings)?,
            );
        }
        all.insert(package.name.clone(), configs);
    }
    Ok(all)
}

/// The builder's toolchain: the toolchain file (rustup's precedence), else `rust-version` of
/// `[workspace.metadata.dockerize]`, else the floating `rust:1`, with a note advising a pin. Never the machine's
/// `rustc`, so the Dockerfile is the same wherever it is generated; never the members' `rust-version`, a minimum
/// the crates promise to support, not the release the images should be built with.
fn toolchain(
    workspace: &Workspace,
    rust_version: Option<&str>,
    origin: &TableOrigin,
    notes: &mut Vec<String>,
) -> Toolchain {
    let from_file = !workspace.toolchain.source.is_default();
    match rust_version {
        Some(version) if from_file => {
            notes.push(format!(
                "`rust-version = \"{version}\"` in {origin} is not used: the toolchain file {} pins the toolchain",
                workspace.toolchain.source
            ));
            workspace.toolchain.clone()
        }
        Some(version) => Toolchain {
            image_version: version.to_string(),
            install_channel: None,
            source: Source::table(origin.clone()),
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
