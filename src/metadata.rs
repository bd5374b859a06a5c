//! The `[workspace.metadata.dockerize]`, `[package.metadata.dockerize]` and
//! `[package.metadata.dockerize.bin.<name>]` tables: parsed, checked, and layered per binary.
//!
//! Takes the metadata values `cargo metadata` already read (no TOML parsing of our own) and gives, per binary,
//! the effective [`BinaryConfig`] with the place each value came from. Layering happens in one function,
//! [`layer`]: workspace, then package, then binary, then command-line flags; a value set later replaces the
//! one before it, except `env` and `labels`, whose keys merge. An unknown key is an error naming the manifest,
//! the table and the closest valid key; a wrong type names the expected type. Pure: no I/O.

use std::collections::BTreeMap;
use std::fmt;

use camino::Utf8PathBuf;
use serde::{Deserialize, Serialize};

use crate::config::{Libc, Runtime};

/// One `dockerize` table as written in a manifest. Every key is optional: absent means "inherit".
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
pub struct Table {
    /// `auto`, `scratch`, `distroless`, `debian-slim` or an image reference.
    pub runtime: Option<String>,
    pub libc: Option<Libc>,
    /// Link glibc statically (`+crt-static`).
    #[serde(rename = "static")]
    pub static_: Option<bool>,
    /// Debian packages the builder needs (e.g. `protobuf-compiler`).
    pub build_packages: Option<Vec<String>>,
    /// Debian packages the runtime needs (moves the binary to a Debian-based runtime).
    pub runtime_packages: Option<Vec<String>>,
    pub env: Option<BTreeMap<String, String>>,
    pub expose: Option<Vec<Port>>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    /// Files and directories copied into the image.
    pub assets: Option<Vec<Asset>>,
    pub features: Option<Vec<String>>,
    pub profile: Option<String>,
    /// Image name (default: the binary's name).
    pub image: Option<String>,
    /// Tag templates.
    pub tags: Option<Vec<String>>,
    /// Leave this binary (or every binary of this package) out.
    pub skip: Option<bool>,
    /// Per-binary tables (package level only).
    pub bin: Option<BTreeMap<String, Table>>,
}

/// Every key a table may hold, for "did you mean".
pub const KEYS: &[&str] = &[
    "assets",
    "bin",
    "build-packages",
    "cmd",
    "entrypoint",
    "env",
    "expose",
    "features",
    "image",
    "labels",
    "libc",
    "profile",
    "runtime",
    "runtime-packages",
    "skip",
    "static",
    "tags",
    "user",
    "workdir",
];

/// A port: `8080` or `"8080/udp"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Port {
    Number(u16),
    Text(String),
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

/// `"configuration"` (copied to `<workdir>/configuration`) or `{ source = "static", dest = "/srv/static" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asset {
    Path(String),
    Table {
        source: String,
        dest: Option<String>,
    },
}

// `Port` and `Asset` deserialise by hand rather than with `#[serde(untagged)]`: an untagged enum hides both a
// misspelt key of the table form (`dst`) and what was expected, behind "data did not match any variant".
impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number from 1 to 65535, or a string like \"8080/udp\"")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Port, E> {
                match u16::try_from(n) {
                    Ok(port) if port > 0 => Ok(Port::Number(port)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Unsigned(n), &self)),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Port, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Port, E> {
                let (number, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
                let valid = number.parse::<u16>().is_ok_and(|n| n > 0)
                    && matches!(protocol, "tcp" | "udp" | "sctp");
                if valid {
                    Ok(Port::Text(text.to_string()))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(text), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl<'de> Deserialize<'de> for Asset {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Asset;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path, or a table `{ source = \"...\", dest = \"/...\" }`")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Asset, E> {
                Ok(Asset::Path(text.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Asset, A::Error> {
                let (mut source, mut dest) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "source" => source = Some(map.next_value::<String>()?),
                        "dest" => dest = Some(map.next_value::<String>()?),
                        other => {
                            return Err(serde::de::Error::unknown_field(other, &["source", "dest"]))
                        }
                    }
                }
                let source = source.ok_or_else(|| serde::de::Error::missing_field("source"))?;
                Ok(Asset::Table { source, dest })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Where a table lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableOrigin {
    /// The manifest, relative to the workspace root.
    pub manifest: Utf8PathBuf,
    /// `[package.metadata.dockerize.bin.api]`
    pub table: String,
}

impl fmt::Display for TableOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` in `{}`", self.table, self.manifest)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("unknown key `{key}` in {origin}{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKey {
        origin: TableOrigin,
        key: String,
        suggestion: Option<String>,
    },
    #[error("invalid value for `{key}` in {origin}: {message}")]
    InvalidValue {
        origin: TableOrigin,
        key: String,
        message: String,
    },
    #[error("{origin} configures binary `{binary}`, which package `{package}` does not have{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownBinary {
        origin: TableOrigin,
        package: String,
        binary: String,
        suggestion: Option<String>,
    },
}

impl MetadataError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::UnknownKey { .. } => format!("valid keys: {}", KEYS.join(", ")),
            Self::InvalidValue { .. } => {
                "see README.md, \"Configuration\", for each key's type".into()
            }
            Self::UnknownBinary { .. } => {
                "name a `bin` target of this package, as `cargo dockerize list` shows it".into()
            }
        })
    }
}

/// Parses one `dockerize` table. `value` is the `dockerize` entry of the manifest's `metadata`.
pub fn parse(
    value: &serde_json::Value,
    origin: &TableOrigin,
    allow_bin: bool,
) -> Result<Table, MetadataError> {
    let mut unknown: Vec<String> = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let deserializer = serde_ignored::Deserializer::new(value, &mut record);
    let table: Result<Table, _> = serde_path_to_error::deserialize(deserializer);
    // Unknown keys first: a misspelt key is the likelier mistake, and its type error would mislead.
    if let Some(path) = unknown.first() {
        return Err(unknown_key(origin, path));
    }
    let table = table.map_err(|error| MetadataError::InvalidValue {
        origin: origin.clone(),
        key: error.path().to_string(),
        message: error.inner().to_string(),
    })?;
    check_values(&table, origin)?;
    if !allow_bin && table.bin.is_some() {
        return Err(MetadataError::UnknownKey {
            origin: origin.clone(),
            key: "bin".into(),
            suggestion: None,
        });
    }
    if let Some(bins) = &table.bin {
        for (name, inner) in bins {
            if inner.bin.is_some() {
                return Err(MetadataError::UnknownKey {
                    origin: TableOrigin {
                        manifest: origin.manifest.clone(),
                        table: format!("{}.bin.{name}", origin.table.trim_end_matches(']')) + "]",
                    },
                    key: "bin".into(),
                    suggestion: None,
                });
            }
        }
    }
    Ok(table)
}

/// Values the types accept but a Dockerfile cannot hold: each error names the key and what it must be.
fn check_values(table: &Table, origin: &TableOrigin) -> Result<(), MetadataError> {
    let invalid = |key: &str, message: String| MetadataError::InvalidValue {
        origin: origin.clone(),
        key: key.to_string(),
        message,
    };
    if let Some(user) = &table.user {
        if user.is_empty() || user.chars().any(char::is_whitespace) {
            return Err(invalid(
                "user",
                format!(
                    "`{user}` must be a user name or `uid[:gid]`, not empty and without spaces"
                ),
            ));
        }
    }
    if let Some(workdir) = &table.workdir {
        if !workdir.starts_with('/') {
            return Err(invalid(
                "workdir",
                format!("`{workdir}` must be an absolute path in the image"),
            ));
        }
    }
    if table.entrypoint.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid(
            "entrypoint",
            "must name a program; leave it out to run the binary".into(),
        ));
    }
    let env_name = |k: &str| {
        k.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    };
    if let Some(bad) = table
        .env
        .iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !env_name(k))
    {
        return Err(invalid(
            "env",
            format!("`{bad}` is not a variable name (`A-Za-z_` then `A-Za-z0-9_.-`)"),
        ));
    }
    let label_name = |k: &str| {
        !k.is_empty()
            && !k
                .chars()
                .any(|c| c.is_whitespace() || "=\"'$\\".contains(c))
    };
    if let Some(bad) = table
        .labels
        .iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !label_name(k))
    {
        return Err(invalid(
            "labels",
            format!("`{bad}` is not a label key (no spaces, `=`, quotes or `$`)"),
        ));
    }
    // Debian package names; anything else would also be shell syntax in the `apt-get install` line.
    let package_name = |p: &str| {
        p.len() >= 2
            && p.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+.-".contains(c))
    };
    for (key, list) in [
        ("build-packages", &table.build_packages),
        ("runtime-packages", &table.runtime_packages),
    ] {
        if let Some(bad) = list.iter().flatten().find(|p| !package_name(p)) {
            return Err(invalid(
                key,
                format!("`{bad}` is not a Debian package name"),
            ));
        }
    }
    if let Some(bins) = &table.bin {
        for (name, inner) in bins {
            let origin = TableOrigin {
                manifest: origin.manifest.clone(),
                table: format!("{}.bin.{name}]", origin.table.trim_end_matches(']')),
            };
            check_values(inner, &origin)?;
        }
    }
    Ok(())
}

/// `bin.api.runtme` → the error names `[... .bin.api]` and `runtme`.
fn unknown_key(origin: &TableOrigin, path: &str) -> MetadataError {
    // serde_ignored writes `?` for the `Option` around a field: `bin.?.api.runtme`.
    let parts: Vec<&str> = path.split('.').filter(|p| *p != "?").collect();
    let (table, key) = match parts.as_slice() {
        ["bin", name, key, ..] => (
            format!("{}.bin.{name}]", origin.table.trim_end_matches(']')),
            key.to_string(),
        ),
        [key, ..] => (origin.table.clone(), key.to_string()),
        [] => (origin.table.clone(), path.to_string()),
    };
    let keys: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
    MetadataError::UnknownKey {
        origin: TableOrigin {
            manifest: origin.manifest.clone(),
            table,
        },
        suggestion: crate::plan::closest(&key, &keys),
        key,
    }
}

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum Source {
    /// Nothing set it.
    Default,
    /// A manifest table.
    Table(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Table(t) => f.write_str(t),
            Self::Flag(flag) => write!(f, "`{flag}`"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    fn default(value: T) -> Self {
        Self {
            value,
            source: Source::Default,
        }
    }
}

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

/// What the command line says about every binary: each `Some` overrides the tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagLayer {
    pub runtime: Option<Runtime>,
    pub libc: Option<Libc>,
    pub static_: bool,
    pub profile: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// A table in the layering, with the directory its relative paths (assets) start from.
#[derive(Debug, Clone)]
pub struct Layer<'a> {
    pub table: &'a Table,
    pub origin: &'a TableOrigin,
    /// Directory of the manifest, relative to the workspace root.
    pub dir: &'a camino::Utf8Path,
}

/// The one place layering happens: defaults, then each table in order (workspace, package, binary), then flags.
pub fn layer(layers: &[Layer<'_>], flags: &FlagLayer) -> Result<BinaryConfig, MetadataError> {
    let mut config = BinaryConfig {
        runtime: Sourced::default(Runtime::Auto),
        libc: Sourced::default(Libc::Auto),
        static_: Sourced::default(false),
        build_packages: Sourced::default(Vec::new()),
        runtime_packages: Sourced::default(Vec::new()),
        env: Sourced::default(BTreeMap::new()),
        expose: Sourced::default(Vec::new()),
        user: Sourced::default(crate::plan::NONROOT_USER.to_string()),
        workdir: Sourced::default(None),
        entrypoint: Sourced::default(None),
        cmd: Sourced::default(Vec::new()),
        labels: Sourced::default(BTreeMap::new()),
        assets: Sourced::default(Vec::new()),
        features: Sourced::default(Vec::new()),
        profile: Sourced::default("release".to_string()),
        image: Sourced::default(None),
        tags: Sourced::default(crate::config::default_tags()),
        skip: Sourced::default(false),
    };
    // Merged keys: which layer (by index) set each key last, to name every table whose keys survive.
    let mut env_origins: BTreeMap<String, usize> = BTreeMap::new();
    let mut label_origins: BTreeMap<String, usize> = BTreeMap::new();
    for (index, layer) in layers.iter().enumerate() {
        let table = layer.table;
        let source = || Source::Table(layer.origin.to_string());
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
            let value =
                runtime
                    .parse::<Runtime>()
                    .map_err(|message| MetadataError::InvalidValue {
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
        // Merged keys: remember which table set each, to name them all below.
        for key in table.env.iter().flatten().map(|(k, _)| k) {
            env_origins.insert(key.clone(), index);
        }
        for key in table.labels.iter().flatten().map(|(k, _)| k) {
            label_origins.insert(key.clone(), index);
        }
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
            let mut resolved = Vec::new();
            for asset in assets {
                resolved.push(resolve_asset(asset, layer)?);
            }
            config.assets = Sourced {
                value: resolved,
                source: source(),
            };
        }
    }
    for (target, origins) in [
        (&mut config.env, &env_origins),
        (&mut config.labels, &label_origins),
    ] {
        let tables: std::collections::BTreeSet<usize> = origins.values().copied().collect();
        if tables.len() > 1 {
            let names: Vec<String> = tables
                .iter()
                .map(|i| layers[*i].origin.to_string())
                .collect();
            target.source = Source::Table(names.join(" and "));
        }
    }
    let flag = |name: &str| Source::Flag(name.to_string());
    if let Some(runtime) = &flags.runtime {
        config.runtime = Sourced {
            value: runtime.clone(),
            source: flag(&format!("--runtime {runtime}")),
        };
    }
    if let Some(libc) = flags.libc {
        config.libc = Sourced {
            value: libc,
            source: flag(&format!(
                "--libc {}",
                match libc {
                    Libc::Auto => "auto",
                    Libc::Musl => "musl",
                    Libc::Gnu => "gnu",
                }
            )),
        };
    }
    if flags.static_ {
        config.static_ = Sourced {
            value: true,
            source: flag("--static"),
        };
    }
    if let Some(profile) = &flags.profile {
        config.profile = Sourced {
            value: profile.clone(),
            source: flag(&format!("--profile {profile}")),
        };
    }
    if let Some(tags) = &flags.tags {
        config.tags = Sourced {
            value: tags.clone(),
            source: flag("--tag"),
        };
    }
    // Assets without a destination go under the working directory (or `/app` when none is set).
    let base = config
        .workdir
        .value
        .clone()
        .unwrap_or_else(|| "/app".into());
    for asset in &mut config.assets.value {
        if asset.dest.is_empty() {
            let name = asset.source.file_name().unwrap_or(asset.source.as_str());
            asset.dest = format!("{}/{}", base.trim_end_matches('/'), name);
        }
    }
    Ok(config)
}

/// An asset's source, made relative to the workspace root; it must stay inside the build context.
fn resolve_asset(asset: &Asset, layer: &Layer<'_>) -> Result<ResolvedAsset, MetadataError> {
    let (source, dest) = match asset {
        Asset::Path(path) => (path.as_str(), String::new()),
        Asset::Table { source, dest } => (source.as_str(), dest.clone().unwrap_or_default()),
    };
    let invalid = |message: String| MetadataError::InvalidValue {
        origin: layer.origin.clone(),
        key: "assets".into(),
        message,
    };
    if source.is_empty() || source.starts_with('/') {
        return Err(invalid(format!(
            "`{source}` must be a path relative to the manifest's directory"
        )));
    }
    let mut parts: Vec<&str> = layer
        .dir
        .as_str()
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(invalid(format!(
                        "`{source}` leaves the workspace, which is the build context"
                    )));
                }
            }
            other => parts.push(other),
        }
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
    use super::*;
    use serde_json::json;

    fn origin() -> TableOrigin {
        TableOrigin {
            manifest: "crates/api/Cargo.toml".into(),
            table: "[package.metadata.dockerize]".into(),
        }
    }

    #[test]
    fn unknown_keys_name_the_table_and_suggest() {
        let err = parse(&json!({"runtme": "scratch"}), &origin(), true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown key `runtme` in `[package.metadata.dockerize]` in `crates/api/Cargo.toml` (did you mean `runtime`?)"
        );
        let err = parse(&json!({"bin": {"api": {"exposee": [1]}}}), &origin(), true).unwrap_err();
        assert!(
            err.to_string()
                .contains("`[package.metadata.dockerize.bin.api]`"),
            "{err}"
        );
        assert!(err.to_string().contains("`expose`"), "{err}");
    }

    #[test]
    fn wrong_types_name_the_key_and_the_expected_type() {
        let err = parse(&json!({"expose": "8080"}), &origin(), true).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("invalid value for `expose`"), "{text}");
        assert!(text.contains("expected a sequence"), "{text}");
        let err = parse(&json!({"libc": "glibc"}), &origin(), true).unwrap_err();
        assert!(err.to_string().contains("`libc`"), "{err}");
    }

    #[test]
    fn values_a_dockerfile_cannot_hold_are_refused() {
        for (value, key) in [
            (json!({"user": ""}), "user"),
            (json!({"workdir": "relative"}), "workdir"),
            (json!({"entrypoint": []}), "entrypoint"),
            (json!({"env": {"A B": "x"}}), "env"),
            (json!({"labels": {"a b": "x"}}), "labels"),
            (
                json!({"build-packages": ["curl; rm -rf /"]}),
                "build-packages",
            ),
            (json!({"bin": {"x": {"user": " "}}}), "user"),
        ] {
            let err = parse(&value, &origin(), true).unwrap_err();
            assert!(
                matches!(&err, MetadataError::InvalidValue { key: k, .. } if k == key),
                "{value}: {err}"
            );
        }
        let ok = json!({"user": "1000:1000", "workdir": "/srv", "env": {"RUST_LOG": "info"},
            "labels": {"org.opencontainers.image.vendor": "Acme"}, "build-packages": ["libssl-dev", "g++"]});
        parse(&ok, &origin(), true).unwrap();
    }

    #[test]
    fn bin_tables_only_at_package_level() {
        let err = parse(&json!({"bin": {}}), &origin(), false).unwrap_err();
        assert!(matches!(err, MetadataError::UnknownKey { ref key, .. } if key == "bin"));
    }

    #[test]
    fn layering_overrides_in_order_and_merges_env() {
        let workspace = parse(
            &json!({"runtime": "distroless", "env": {"A": "1"}, "expose": [80]}),
            &origin(),
            false,
        )
        .unwrap();
        let package = parse(
            &json!({"env": {"B": "2"}, "assets": ["static"]}),
            &origin(),
            true,
        )
        .unwrap();
        let bin = parse(
            &json!({"runtime": "debian-slim", "expose": ["53/udp"]}),
            &origin(),
            false,
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
            &FlagLayer {
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
        let table = parse(&json!({"assets": ["../../../etc"]}), &origin(), true).unwrap();
        let o = origin();
        let layers = [Layer {
            table: &table,
            origin: &o,
            dir: "crates/api".into(),
        }];
        let err = layer(&layers, &FlagLayer::default()).unwrap_err();
        assert!(err.to_string().contains("leaves the workspace"), "{err}");
    }
}
