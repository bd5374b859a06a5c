//! Layering: the tables that apply to one binary, and the flags, folded into its effective [`BinaryConfig`].
//!
//! Defaults first, then each table in order (workspace, package, binary), then the command-line flags; a value
//! set later replaces the one before it, except `env` and `labels`, whose keys merge. Every value keeps the place
//! it came from ([`Sourced`]), which `cargo dockerize config` shows and error hints name. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use super::settings::{default_tags, Linking, Settings};
use super::table::{Asset, Table};
use super::ConfigError;
use crate::model::{Libc, Port, Runtime, APP_DIR, NONROOT_USER};
use crate::source::{Source, Sourced, TableOrigin};

/// An asset with its source relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedAsset {
    pub source: Utf8PathBuf,
    pub dest: String,
}

/// The effective configuration of one binary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinaryConfig {
    pub runtime: Sourced<Runtime>,
    pub libc: Sourced<Libc>,
    #[serde(rename = "static")]
    pub static_: Sourced<bool>,
    pub build_packages: Sourced<Vec<String>>,
    pub runtime_packages: Sourced<Vec<String>>,
    pub env: Sourced<BTreeMap<String, String>>,
    pub expose: Sourced<Vec<Port>>,
    pub user: Sourced<String>,
    pub workdir: Sourced<Option<String>>,
    pub entrypoint: Sourced<Option<Vec<String>>>,
    pub cmd: Sourced<Vec<String>>,
    pub labels: Sourced<BTreeMap<String, String>>,
    pub assets: Sourced<Vec<ResolvedAsset>>,
    pub features: Sourced<Vec<String>>,
    pub profile: Sourced<String>,
    pub image: Sourced<Option<String>>,
    pub tags: Sourced<Vec<String>>,
    pub skip: Sourced<bool>,
}

impl Default for BinaryConfig {
    /// What a binary gets when no table and no flag says otherwise.
    fn default() -> Self {
        Self {
            runtime: Sourced::default(Runtime::Auto),
            libc: Sourced::default(Libc::Auto),
            static_: Sourced::default(false),
            build_packages: Sourced::default(Vec::new()),
            runtime_packages: Sourced::default(Vec::new()),
            env: Sourced::default(BTreeMap::new()),
            expose: Sourced::default(Vec::new()),
            user: Sourced::default(NONROOT_USER.to_string()),
            workdir: Sourced::default(None),
            entrypoint: Sourced::default(None),
            cmd: Sourced::default(Vec::new()),
            labels: Sourced::default(BTreeMap::new()),
            assets: Sourced::default(Vec::new()),
            features: Sourced::default(Vec::new()),
            profile: Sourced::default("release".to_string()),
            image: Sourced::default(None),
            tags: Sourced::default(default_tags()),
            skip: Sourced::default(false),
        }
    }
}

/// A table in the layering, with the directory its relative paths (assets) start from.
#[derive(Debug, Clone)]
pub struct Layer<'a> {
    pub table: &'a Table,
    pub origin: &'a TableOrigin,
    /// Directory of the manifest, relative to the workspace root.
    pub dir: &'a Utf8Path,
}

/// The one place layering happens: defaults, then each table in order (workspace, package, binary), then flags.
pub fn layer(layers: &[Layer<'_>], settings: &Settings) -> Result<BinaryConfig, ConfigError> {
    let mut config = BinaryConfig::default();
    for layer in layers {
        apply_table(&mut config, layer)?;
    }
    name_merged_sources(&mut config, layers);
    apply_flags(&mut config, settings);
    default_asset_destinations(&mut config);
    Ok(config)
}

/// Every key the table sets replaces the value before it; `env` and `labels` keys are added.
fn apply_table(config: &mut BinaryConfig, layer: &Layer<'_>) -> Result<(), ConfigError> {
    let table = layer.table;
    let source = || Source::table(layer.origin.clone());
    macro_rules! set {
        ($field:ident, $value:expr) => {
            if let Some(v) = &table.$field {
                config.$field = Sourced {
                    value: $value(v),
                    source: source(),
                };
            }
        };
    }
    if let Some(runtime) = &table.runtime {
        let value = runtime
            .parse::<Runtime>()
            .map_err(|message| ConfigError::InvalidValue {
                origin: layer.origin.clone(),
                key: "runtime".into(),
                message,
            })?;
        config.runtime = Sourced {
            value,
            source: source(),
        };
    }
    set!(libc, |v: &Libc| *v);
    set!(static_, |v: &bool| *v);
    set!(build_packages, |v: &Vec<String>| v.clone());
    set!(runtime_packages, |v: &Vec<String>| v.clone());
    set!(expose, |v: &Vec<Port>| v.clone());
    set!(user, |v: &String| v.clone());
    set!(workdir, |v: &String| Some(v.clone()));
    set!(entrypoint, |v: &Vec<String>| Some(v.clone()));
    set!(cmd, |v: &Vec<String>| v.clone());
    set!(features, |v: &Vec<String>| v.clone());
    set!(profile, |v: &String| v.clone());
    set!(image, |v: &String| Some(v.clone()));
    set!(tags, |v: &Vec<String>| v.clone());
    set!(skip, |v: &bool| *v);
    for (field, target) in [
        (&table.env, &mut config.env),
        (&table.labels, &mut config.labels),
    ] {
        if let Some(map) = field {
            target
                .value
                .extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            target.source = source();
        }
    }
    if let Some(assets) = &table.assets {
        let value = assets
            .iter()
            .map(|asset| resolve_asset(asset, layer))
            .collect::<Result<_, _>>()?;
        config.assets = Sourced {
            value,
            source: source(),
        };
    }
    Ok(())
}

/// Merged keys come from several tables: the source names every table whose keys survive, not just the last.
fn name_merged_sources(config: &mut BinaryConfig, layers: &[Layer<'_>]) {
    let env = last_setters(layers, |t| &t.env);
    let labels = last_setters(layers, |t| &t.labels);
    for (target, tables) in [(&mut config.env, env), (&mut config.labels, labels)] {
        if tables.len() > 1 {
            let origins = tables.iter().map(|i| layers[*i].origin.clone()).collect();
            target.source = Source::Tables(origins);
        }
    }
}

/// The layers (by index) that set some key of a merged map last.
fn last_setters(
    layers: &[Layer<'_>],
    map: fn(&Table) -> &Option<BTreeMap<String, String>>,
) -> BTreeSet<usize> {
    let mut last: BTreeMap<&String, usize> = BTreeMap::new();
    for (index, layer) in layers.iter().enumerate() {
        for key in map(layer.table).iter().flat_map(|m| m.keys()) {
            last.insert(key, index);
        }
    }
    last.into_values().collect()
}

/// The flags that apply to every binary override the tables.
fn apply_flags(config: &mut BinaryConfig, settings: &Settings) {
    let flag = |name: String| Source::Flag(name);
    if let Some(runtime) = &settings.runtime {
        config.runtime = Sourced {
            value: runtime.clone(),
            source: flag(format!("--runtime {runtime}")),
        };
    }
    if let Some(libc) = settings.libc {
        config.libc = Sourced {
            value: libc,
            source: flag(format!("--libc {}", libc.as_str())),
        };
    }
    if settings.linking == Linking::Static {
        config.static_ = Sourced {
            value: true,
            source: flag("--static".into()),
        };
    }
    if let Some(profile) = &settings.profile {
        config.profile = Sourced {
            value: profile.clone(),
            source: flag(format!("--profile {profile}")),
        };
    }
    if let Some(tags) = &settings.tags {
        config.tags = Sourced {
            value: tags.clone(),
            source: flag("--tag".into()),
        };
    }
}

/// Assets without a destination go under the working directory (or [`APP_DIR`] when none is set).
fn default_asset_destinations(config: &mut BinaryConfig) {
    let base = config
        .workdir
        .value
        .clone()
        .unwrap_or_else(|| APP_DIR.into());
    for asset in &mut config.assets.value {
        if asset.dest.is_empty() {
            let name = asset.source.file_name().unwrap_or(asset.source.as_str());
            asset.dest = format!("{}/{}", base.trim_end_matches('/'), name);
        }
    }
}

/// An asset's source, made relative to the workspace root; it must stay inside the build context.
fn resolve_asset(asset: &Asset, layer: &Layer<'_>) -> Result<ResolvedAsset, ConfigError> {
    let (source, dest) = match asset {
        Asset::Path(path) => (path.as_str(), String::new()),
        Asset::Table { source, dest } => (source.as_str(), dest.clone().unwrap_or_default()),
    };
    let invalid = |message: String| ConfigError::InvalidValue {
        origin: layer.origin.clone(),
        key: "assets".into(),
        message,
    };
    if source.is_empty() || source.starts_with('/') {
        return Err(invalid(format!(
            "`{source}` must be a path relative to the manifest's directory"
        )));
    }
    let joined = format!("{}/{source}", layer.dir);
    let (parts, escaped) = crate::paths::lexical_parts(&joined);
    if escaped {
        return Err(invalid(format!(
            "`{source}` leaves the workspace, which is the build context"
        )));
    }
    if parts.is_empty() {
        return Err(invalid(format!(
            "`{source}` is the workspace root itself: name the files or directories to copy"
        )));
    }
    if !dest.is_empty() && !dest.starts_with('/') {
        return Err(invalid(format!(
            "the destination `{dest}` must be an absolute path in the image"
        )));
    }
    Ok(ResolvedAsset {
        source: Utf8PathBuf::from(parts.join("/")),
        dest,
    })
}

#[cfg(test)]
mod tests {
    use super::super::table::{parse, tests::origin, TableLevel};
    use super::*;
    use serde_json::json;

    #[test]
    fn layering_overrides_in_order_and_merges_env() {
        let workspace = parse(
            &json!({"runtime": "distroless", "env": {"A": "1"}, "expose": [80]}),
            &origin(),
            TableLevel::Workspace,
        )
        .unwrap();
        let package = parse(
            &json!({"env": {"B": "2"}, "assets": ["static"]}),
            &origin(),
            TableLevel::Package,
        )
        .unwrap();
        let bin = parse(
            &json!({"runtime": "debian-slim", "expose": ["53/udp"]}),
            &origin(),
            TableLevel::Workspace,
        )
        .unwrap();
        let o = origin();
        let layers = [
            Layer {
                table: &workspace,
                origin: &o,
                dir: ".".into(),
            },
            Layer {
                table: &package,
                origin: &o,
                dir: "crates/api".into(),
            },
            Layer {
                table: &bin,
                origin: &o,
                dir: "crates/api".into(),
            },
        ];
        let config = layer(
            &layers,
            &Settings {
                libc: Some(Libc::Gnu),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(config.runtime.value, Runtime::DebianSlim);
        assert_eq!(config.expose.value, vec![Port::Text("53/udp".into())]);
        assert_eq!(config.env.value.len(), 2);
        assert_eq!(config.libc.source, Source::Flag("--libc gnu".into()));
        assert_eq!(config.assets.value[0].source.as_str(), "crates/api/static");
        assert_eq!(config.assets.value[0].dest, "/app/static");
        assert_eq!(config.user.source, Source::Default);
    }

    #[test]
    fn assets_must_stay_in_the_context() {
        let table = parse(
            &json!({"assets": ["../../../etc"]}),
            &origin(),
            TableLevel::Package,
        )
        .unwrap();
        let o = origin();
        let layers = [Layer {
            table: &table,
            origin: &o,
            dir: "crates/api".into(),
        }];
        let err = layer(&layers, &Settings::default()).unwrap_err();
        assert!(err.to_string().contains("leaves the workspace"), "{err}");
    }
}
