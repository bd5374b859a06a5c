//! Where a value came from: one [`Source`] for every setting, whatever decided it — a flag, a `dockerize` table,
//! a file such as `rust-toolchain.toml` or the Docker CLI's `config.json`, the environment, a choice derived
//! from another one, or nothing (the default).
//!
//! `cargo dockerize config`, `list -v`, `--dry-run`, the summary and error hints all say it from here, each in
//! its own words ([`Source::of_key`], the `Display`, the JSON form). Imports nothing of this crate.

use std::fmt;

use camino::Utf8PathBuf;
use serde::Serialize;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Nothing set it: the built-in default.
    Default,
    /// A command-line flag, as a user writes it: `--libc gnu`, `--platform`.
    Flag(String),
    /// The `dockerize` tables that set it, in layering order: two or more when their keys merge (`env`,
    /// `labels`).
    Tables(Vec<TableOrigin>),
    /// A file, and the key read from it when it is not the whole file: `rust-toolchain.toml`, `currentContext` of
    /// the Docker CLI's `config.json`.
    File {
        path: Utf8PathBuf,
        key: Option<String>,
    },
    /// An environment variable: `DOCKER_HOST`.
    Env(String),
    /// Decided from another choice, which the text names (the platforms an image is built for).
    Derived(String),
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    /// A value nothing set.
    pub fn default(value: T) -> Self {
        Self {
            value,
            source: Source::Default,
        }
    }

    /// `value` from `source`.
    pub fn from(value: T, source: Source) -> Self {
        Self { value, source }
    }
}

/// Where a `dockerize` table lives.
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

impl Source {
    /// One table.
    pub fn table(origin: TableOrigin) -> Self {
        Self::Tables(vec![origin])
    }

    /// Whether nothing set the value.
    pub fn is_default(&self) -> bool {
        *self == Self::Default
    }

    /// Where `key` came from, in a sentence about that key: `the default`, `` `--platform` ``,
    /// `` `platforms` in `[workspace.metadata.dockerize]` in `Cargo.toml` ``, `` `rust-toolchain.toml` ``.
    pub fn of_key(&self, key: &str) -> String {
        match self {
            Self::Default => "the default".into(),
            Self::Tables(_) => format!("`{key}` in {self}"),
            other => other.to_string(),
        }
    }
}

/// The source in a sentence whose key is already named: `default`, `` `--libc gnu` ``, the table(s), the file,
/// the variable, or why it was derived.
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Flag(flag) => write!(f, "`{flag}`"),
            Self::Tables(tables) => {
                let names: Vec<String> = tables.iter().map(ToString::to_string).collect();
                f.write_str(&names.join(" and "))
            }
            Self::File {
                path,
                key: Some(key),
            } => write!(f, "`{key}` in `{path}`"),
            Self::File { path, key: None } => write!(f, "`{path}`"),
            Self::Env(name) => write!(f, "`{name}`"),
            Self::Derived(why) => f.write_str(why),
        }
    }
}

/// `{"kind": "default"}`, or `{"kind": "flag" | "table" | "file" | "env" | "derived", "detail": "..."}`: the form
/// `cargo dockerize config --format json` documents (docs/src/reference/json.md), where `detail` is the flag as written, the
/// table(s) as the text form names them, the file (`key` in it), the variable, or why.
impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let (kind, detail) = match self {
            Self::Default => ("default", None),
            Self::Flag(flag) => ("flag", Some(flag.clone())),
            Self::Tables(_) => ("table", Some(self.to_string())),
            Self::File { path, key } => (
                "file",
                Some(match key {
                    Some(key) => format!("{key} in {path}"),
                    None => path.to_string(),
                }),
            ),
            Self::Env(name) => ("env", Some(name.clone())),
            Self::Derived(why) => ("derived", Some(why.clone())),
        };
        let mut map = serializer.serialize_map(Some(if detail.is_some() { 2 } else { 1 }))?;
        map.serialize_entry("kind", kind)?;
        if let Some(detail) = detail {
            map.serialize_entry("detail", &detail)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(table: &str, manifest: &str) -> TableOrigin {
        TableOrigin {
            manifest: manifest.into(),
            table: table.into(),
        }
    }

    #[test]
    fn sources_say_where_in_text_and_json() {
        let workspace = Source::table(table("[workspace.metadata.dockerize]", "Cargo.toml"));
        assert_eq!(
            workspace.of_key("platforms"),
            "`platforms` in `[workspace.metadata.dockerize]` in `Cargo.toml`"
        );
        assert_eq!(Source::Default.of_key("platforms"), "the default");
        assert_eq!(
            Source::Flag("--platform".into()).of_key("platforms"),
            "`--platform`"
        );
        let merged = Source::Tables(vec![
            table("[workspace.metadata.dockerize]", "Cargo.toml"),
            table("[package.metadata.dockerize]", "crates/api/Cargo.toml"),
        ]);
        assert_eq!(
            serde_json::to_value(&merged).unwrap(),
            serde_json::json!({"kind": "table", "detail": "`[workspace.metadata.dockerize]` in `Cargo.toml` and `[package.metadata.dockerize]` in `crates/api/Cargo.toml`"})
        );
        assert_eq!(
            serde_json::to_value(Source::Default).unwrap(),
            serde_json::json!({"kind": "default"})
        );
        assert_eq!(
            serde_json::to_value(Source::Flag("--libc gnu".into())).unwrap(),
            serde_json::json!({"kind": "flag", "detail": "--libc gnu"})
        );
        let file = Source::File {
            path: "rust-toolchain.toml".into(),
            key: None,
        };
        assert_eq!(file.to_string(), "`rust-toolchain.toml`");
        assert_eq!(file.of_key("rust-version"), "`rust-toolchain.toml`");
    }
}
