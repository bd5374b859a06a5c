//! One `dockerize` table as a manifest holds it: [`Table`], parsed and checked.
//!
//! Takes the metadata value `cargo metadata` already read (no TOML parsing of our own) and gives the typed table,
//! or an error: an unknown key names the manifest, the table and the closest valid key; a wrong type names the
//! expected type; a value a Dockerfile cannot hold says what it must be. Pure: no I/O.

use std::collections::BTreeMap;
use std::fmt;

use camino::Utf8PathBuf;
use serde::Deserialize;

use super::secrets::{self, SecretEntry};
use super::ConfigError;
use crate::model::{BuildSecret, Libc, Port};
use crate::platform::{Platform, PlatformList};
use crate::source::TableOrigin;
use crate::value::{ContextPath, EnvName, Feature, ImagePath, LabelKey, Refused, Text, User};

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
    /// The builder's Rust release, `1.95` or `1.95.0` (workspace table only: every package shares the builder).
    pub rust_version: Option<String>,
    /// `ENV` of the builder, set before the dependencies are cooked, so build scripts and proc macros of
    /// dependencies and members see it (workspace table only: every package shares the builder).
    pub build_env: Option<BTreeMap<String, String>>,
    /// Secrets the cook and the final compile read, mounted by BuildKit in those steps only (workspace table
    /// only): names read from the environment, or `{ name, env }` / `{ name, file }`.
    pub build_secrets: Option<Vec<SecretEntry>>,
    /// Where the Dockerfile goes, relative to the workspace root (workspace table only: one file for the workspace).
    pub dockerfile: Option<String>,
    /// The registry prefix of every tag without one, e.g. `ghcr.io/acme` (workspace table only), as `--registry`.
    pub registry: Option<String>,
    /// The platforms the images are built for, e.g. `["linux/amd64", "linux/arm64"]` (workspace table only: one
    /// Dockerfile holds every platform's builder), as `--platform`.
    pub platforms: Option<Vec<String>>,
    /// Whether the builder embeds each binary's crate list in cargo-auditable's format (default `true`; workspace
    /// table only: every package shares the builder), as `--no-auditable` when `false`.
    pub auditable: Option<bool>,
    /// The SBOM formats attached to each pushed image (default both; `[]` for none; workspace table only), as
    /// `--sbom`.
    pub sbom: Option<Vec<crate::config::settings::SbomFormat>>,
    /// Whether each pushed image gets its SLSA provenance attached (default `true`; workspace table only), as
    /// `--provenance` / `--no-provenance`.
    pub provenance: Option<bool>,
    /// Per-binary tables (package level only).
    pub bin: Option<BTreeMap<String, Table>>,
    /// The values of the keys above that have a type of their own, read once when the table is checked.
    #[serde(skip)]
    pub typed: TypedKeys,
}

/// What the checks of a table make of the keys whose text has a type: `platforms` parsed, `dockerfile` folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypedKeys {
    pub platforms: Option<Vec<Platform>>,
    /// Relative to the workspace root, folded, inside it.
    pub dockerfile: Option<Utf8PathBuf>,
    /// `build-secrets`, checked and sorted by name.
    pub build_secrets: Option<Vec<BuildSecret>>,
}

/// Every key a table may hold, sorted, for "did you mean": read from [`Table`]'s own definition, so the list
/// cannot drift from the keys serde accepts.
pub fn keys() -> &'static [&'static str] {
    static KEYS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let mut keys = fields_of::<Table>().to_vec();
        keys.sort_unstable();
        keys
    })
}

/// The field names a `Deserialize` struct accepts, as serde names them (renamed, skipped fields left out): the
/// `fields` it hands `deserialize_struct`, caught by a deserializer that reads nothing.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Fields(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Caught;
    impl std::fmt::Display for Caught {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the field list was caught")
        }
    }
    impl std::error::Error for Caught {}
    impl serde::de::Error for Caught {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Caught
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = Caught;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Caught> {
            Err(Caught)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Caught> {
            self.0 = Some(fields);
            Err(Caught)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(None);
    let _ = T::deserialize(&mut fields);
    fields.0.expect("a struct hands serde its fields")
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

/// Where a table sits, which decides the keys it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableLevel {
    /// `[workspace.metadata.dockerize]`: every key but `bin`, and the keys only it may hold (the builder's, the
    /// Dockerfile's path, the registry, the platforms).
    Workspace,
    /// `[package.metadata.dockerize]`: the per-binary keys, and `bin` tables of the same.
    Package,
}

/// Parses one `dockerize` table. `value` is the `dockerize` entry of the manifest's `metadata`.
pub fn parse(
    value: &serde_json::Value,
    origin: &TableOrigin,
    level: TableLevel,
) -> Result<Table, ConfigError> {
    let mut unknown: Vec<String> = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(path.to_string());
    let deserializer = serde_ignored::Deserializer::new(value, &mut record);
    let table: Result<Table, _> = serde_path_to_error::deserialize(deserializer);
    // Unknown keys first: a misspelt key is the likelier mistake, and its type error would mislead.
    if let Some(path) = unknown.first() {
        return Err(unknown_key(origin, path));
    }
    let mut table = table.map_err(|error| ConfigError::InvalidValue {
        origin: origin.clone(),
        key: error.path().to_string(),
        message: error.inner().to_string(),
    })?;
    table.typed = check_values(&table, origin)?;
    if level == TableLevel::Workspace && table.bin.is_some() {
        return Err(ConfigError::UnknownKey {
            origin: origin.clone(),
            key: "bin".into(),
            suggestion: None,
        });
    }
    // The builder is shared by every package: only the workspace table can choose its toolchain, environment,
    // Dockerfile path or registry.
    workspace_only(
        &table,
        origin,
        level,
        "rust-version",
        |t| t.rust_version.is_some(),
        "the builder's toolchain is the workspace's",
    )?;
    workspace_only(
        &table,
        origin,
        level,
        "build-env",
        |t| t.build_env.is_some(),
        "every package shares the builder, so its environment is the workspace's",
    )?;
    workspace_only(
        &table,
        origin,
        level,
        "build-secrets",
        |t| t.build_secrets.is_some(),
        "every package shares the builder, so its secrets are the workspace's",
    )?;
    workspace_only(
        &table,
        origin,
        level,
        "dockerfile",
        |t| t.dockerfile.is_some(),
        "the Dockerfile's path is the workspace's",
    )?;
    workspace_only(
        &table,
        origin,
        level,
        "platforms",
        |t| t.platforms.is_some(),
        "one Dockerfile holds every platform's builder, so the platforms are the workspace's",
    )?;
    workspace_only(
        &table,
        origin,
        level,
        "registry",
        |t| t.registry.is_some(),
        "the registry of the images is the workspace's",
    )?;
    what_images_say_keys(&table, origin, level)?;
    if let Some(bins) = &table.bin {
        for (name, inner) in bins {
            if inner.bin.is_some() {
                return Err(ConfigError::UnknownKey {
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

/// The workspace-only keys of what the images say about themselves: the embedded crate list, the attached
/// SBOMs and provenance.
fn what_images_say_keys(
    table: &Table,
    origin: &TableOrigin,
    level: TableLevel,
) -> Result<(), ConfigError> {
    workspace_only(
        table,
        origin,
        level,
        "auditable",
        |t| t.auditable.is_some(),
        "every package shares the builder, which embeds the crate lists",
    )?;
    let why = "the documents attached to pushed images are the workspace's choice";
    workspace_only(table, origin, level, "sbom", |t| t.sbom.is_some(), why)?;
    workspace_only(
        table,
        origin,
        level,
        "provenance",
        |t| t.provenance.is_some(),
        why,
    )
}

/// A key only `[workspace.metadata.dockerize]` may hold, found in a package or binary table: an error naming that
/// table, saying `why` and where the key belongs.
fn workspace_only(
    table: &Table,
    origin: &TableOrigin,
    level: TableLevel,
    key: &str,
    set: impl Fn(&Table) -> bool,
    why: &str,
) -> Result<(), ConfigError> {
    let in_bin = table.bin.iter().flatten().find(|(_, inner)| set(inner));
    if !(level == TableLevel::Package && set(table)) && in_bin.is_none() {
        return Ok(());
    }
    let table = match in_bin {
        Some((name, _)) => format!("{}.bin.{name}]", origin.table.trim_end_matches(']')),
        None => origin.table.clone(),
    };
    Err(ConfigError::InvalidValue {
        origin: TableOrigin {
            manifest: origin.manifest.clone(),
            table,
        },
        key: key.into(),
        message: format!(
            "{why}: set it in `[workspace.metadata.dockerize]` of the root `Cargo.toml`"
        ),
    })
}

/// Values the types accept but a Dockerfile cannot hold: each error names the key and what it must be. Gives
/// the typed values of the keys that have one.
fn check_values(table: &Table, origin: &TableOrigin) -> Result<TypedKeys, ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::InvalidValue {
        origin: origin.clone(),
        key: key.to_string(),
        message,
    };
    let typed = check_workspace_values(table).map_err(|(key, message)| invalid(key, message))?;
    check_image_values(table).map_err(|(key, message)| invalid(key, message))?;
    check_names(table).map_err(|(key, message)| invalid(key, message))?;
    if let Some(bins) = &table.bin {
        for (name, inner) in bins {
            let origin = TableOrigin {
                manifest: origin.manifest.clone(),
                table: format!("{}.bin.{name}]", origin.table.trim_end_matches(']')),
            };
            check_values(inner, &origin)?;
        }
    }
    Ok(typed)
}

/// A bad value's key and what it must be.
type Invalid = (&'static str, String);

/// The workspace's own keys: the toolchain, the Dockerfile's path, the registry, the platforms.
fn check_workspace_values(table: &Table) -> Result<TypedKeys, Invalid> {
    let mut typed = TypedKeys::default();
    if let Some(version) = &table.rust_version {
        let parts: Vec<&str> = version.split('.').collect();
        let release = (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        if !release {
            return Err((
                "rust-version",
                format!(
                    "`{}` is not a Rust release like `1.95` or `1.95.0` (for nightly or other channels, use a `rust-toolchain.toml`)",
                    crate::value::shown(version)
                ),
            ));
        }
    }
    if let Some(path) = &table.dockerfile {
        let folded = ContextPath::folded(path).map_err(|why| ("dockerfile", why.to_string()))?;
        typed.dockerfile = Some(folded.to_path());
    }
    if let Some(registry) = &table.registry {
        check_registry(registry).map_err(|why| ("registry", why))?;
    }
    if let Some(platforms) = &table.platforms {
        let list = PlatformList::parse(platforms.iter().map(String::as_str))
            .map_err(|why| ("platforms", why))?;
        typed.platforms = Some(list.0);
    }
    if let Some(entries) = &table.build_secrets {
        let checked = secrets::check(entries, table.build_env.as_ref())
            .map_err(|why| ("build-secrets", why))?;
        typed.build_secrets = Some(checked);
    }
    if let Some(why) = table
        .build_env
        .as_ref()
        .and_then(secrets::secret_in_build_env)
    {
        return Err(("build-env", why));
    }
    Ok(typed)
}

/// What the runtime stage says of the process: its user, working directory, entrypoint, assets and build choices.
/// Each value passes its type in [`crate::value`] (a `\\` at the end of `workdir` would join the `USER` line
/// below it into `WORKDIR`, and a scratch image would run as root).
fn check_image_values(table: &Table) -> Result<(), Invalid> {
    let refused = |key: &'static str| move |why: Refused| (key, why.to_string());
    if let Some(user) = &table.user {
        user.parse::<User>().map_err(refused("user"))?;
    }
    if let Some(workdir) = &table.workdir {
        workdir.parse::<ImagePath>().map_err(refused("workdir"))?;
    }
    if table.entrypoint.as_ref().is_some_and(Vec::is_empty) {
        return Err((
            "entrypoint",
            "must name a program; leave it out to run the binary".into(),
        ));
    }
    for (key, words) in [("entrypoint", &table.entrypoint), ("cmd", &table.cmd)] {
        for word in words.iter().flatten() {
            word.parse::<Text>().map_err(refused(key))?;
        }
    }
    for asset in table.assets.iter().flatten() {
        let (source, dest) = match asset {
            Asset::Path(source) => (source, None),
            Asset::Table { source, dest } => (source, dest.as_ref()),
        };
        // Relative to the package's directory, so `..` may still be inside: the layering folds it.
        crate::value::check_word(source).map_err(refused("assets"))?;
        if let Some(dest) = dest {
            dest.parse::<ImagePath>().map_err(refused("assets"))?;
        }
    }
    for feature in table.features.iter().flatten() {
        feature.parse::<Feature>().map_err(refused("features"))?;
    }
    if let Some(profile) = &table.profile {
        let valid = !profile.is_empty()
            && profile
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
        if !valid {
            return Err((
                "profile",
                format!(
                    "`{}` is not a Cargo profile name (`A-Za-z0-9_-`)",
                    crate::value::shown(profile)
                ),
            ));
        }
    }
    Ok(())
}

/// Names and values that become Dockerfile syntax: variables, label keys, Debian packages.
fn check_names(table: &Table) -> Result<(), Invalid> {
    let refused = |key: &'static str| move |why: Refused| (key, why.to_string());
    for (key, env) in [("env", &table.env), ("build-env", &table.build_env)] {
        for (name, value) in env.iter().flatten() {
            name.parse::<EnvName>().map_err(refused(key))?;
            value.parse::<Text>().map_err(refused(key))?;
        }
    }
    for (name, value) in table.labels.iter().flatten() {
        name.parse::<LabelKey>().map_err(refused("labels"))?;
        value.parse::<Text>().map_err(refused("labels"))?;
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
            return Err((
                key,
                format!(
                    "`{}` is not a Debian package name",
                    crate::value::shown(bad)
                ),
            ));
        }
    }
    Ok(())
}

/// A registry prefix, `host[:port][/namespace...]`: what a tag may start with. `Err` says why not.
pub fn check_registry(registry: &str) -> Result<(), String> {
    crate::value::check_line(registry).map_err(|refused| refused.to_string())?;
    let shown = crate::value::shown(registry);
    let trimmed = registry.trim_end_matches('/');
    if trimmed.is_empty()
        || trimmed.contains('@')
        || crate::reference::has_tag(&format!("{trimmed}/x"))
    {
        return Err(format!(
            "`{shown}` is not a registry prefix like `ghcr.io/acme`"
        ));
    }
    crate::reference::check(&format!("{trimmed}/x:t"))
        .map_err(|why| format!("`{shown}` is not a registry prefix like `ghcr.io/acme`: {why}"))
}

/// `bin.api.runtme` → the error names `[... .bin.api]` and `runtme`.
fn unknown_key(origin: &TableOrigin, path: &str) -> ConfigError {
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
    let keys: Vec<String> = keys().iter().map(|k| k.to_string()).collect();
    ConfigError::UnknownKey {
        origin: TableOrigin {
            manifest: origin.manifest.clone(),
            table,
        },
        suggestion: crate::text::closest(&key, &keys),
        key,
    }
}

#[cfg(test)]
pub(super) mod tests;
