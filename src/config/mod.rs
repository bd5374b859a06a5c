//! The user's configuration: the `[workspace.metadata.dockerize]`, `[package.metadata.dockerize]` and
//! `[package.metadata.dockerize.bin.<name>]` tables, and the command line's [`Settings`].
//!
//! Takes the [`crate::workspace::Workspace`] and the settings and gives the [`Config`]: what every image shares,
//! resolved in one place ([`resolve()`]), and per binary the effective [`BinaryConfig`], layered in one
//! function ([`layer::layer`]); each value with the place it came from. Parsing and checking a table is
//! [`table`]; reading every table of the workspace is [`read`]. Pure: no I/O.

pub mod keys;
mod layer;
mod read;
mod resolve;
mod secrets;
mod settings;
mod table;

pub use layer::{BinaryConfig, ResolvedAsset};
pub use resolve::{resolve, Config, WorkspaceConfig, DEFAULT_DOCKERFILE};
pub use settings::{
    default_tags, split_features, Auditable, BuildRequest, Cache, Destination, EpochFrom, Features,
    GitSha, Linking, Output, OutputFormat, SbomFormat, SbomList, Selection, Settings,
    SourceDateEpoch, TestStage, Variant,
};
pub use table::{check_registry, keys};

use crate::source::TableOrigin;
use crate::value::escaped;

/// A table that cannot be used, named by manifest and table. Each message is one line whatever the names hold: a
/// directory's name (so the manifest's path) and a quoted TOML key may hold a newline, shown escaped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("unknown key `{}` in {}{}", escaped(key), escaped(&origin.to_string()), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownKey {
        origin: TableOrigin,
        key: String,
        suggestion: Option<String>,
    },
    #[error("invalid value for `{}` in {}: {}", escaped(key), escaped(&origin.to_string()), escaped(message))]
    InvalidValue {
        origin: TableOrigin,
        key: String,
        message: String,
    },
    #[error("{} configures binary `{}`, which package `{package}` does not have{}", escaped(&origin.to_string()), escaped(binary), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownBinary {
        origin: TableOrigin,
        package: String,
        binary: String,
        suggestion: Option<String>,
    },
}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::UnknownKey { .. } => format!("valid keys: {}", keys().join(", ")),
            Self::InvalidValue { .. } => {
                "each key's type: the configuration reference (docs/src/reference/configuration.md; README.md, \"Configuration\")".into()
            }
            Self::UnknownBinary { .. } => {
                "name a `bin` target of this package, as `cargo dockerize list` shows it".into()
            }
        })
    }
}
