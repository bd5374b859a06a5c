//! The Rust toolchain the workspace's own files pin, and where that came from: the toolchain file (rustup's own
//! precedence), else nothing, which is the floating `rust:1`. The configuration weighs it against `rust-version`
//! of `[workspace.metadata.dockerize]`.

use camino::Utf8Path;
use serde::Serialize;

use super::WorkspaceError;
use crate::source::Source;

const TOOLCHAIN_FILES: [&str; 2] = ["rust-toolchain.toml", "rust-toolchain"];

pub(super) fn present_toolchain_files(root: &Utf8Path) -> Vec<String> {
    TOOLCHAIN_FILES
        .iter()
        .filter(|name| root.join(name).is_file())
        .map(|name| name.to_string())
        .collect()
}

/// The toolchain file, when the workspace has one (rustup's own precedence); else the floating `rust:1`, which
/// the planner replaces with `rust-version` from `[workspace.metadata.dockerize]` when that is set. Nothing of
/// this machine (its `rustc`) and not the members' `rust-version` (a minimum, not a release toolchain) decides it,
/// so the Dockerfile is the same wherever it is generated.
pub(super) fn read_toolchain(
    root: &Utf8Path,
    files: &[String],
) -> Result<Toolchain, WorkspaceError> {
    let Some(name) = files.first() else {
        return Ok(Toolchain::floating());
    };
    let path = root.join(name);
    let text = std::fs::read_to_string(&path).map_err(|source| WorkspaceError::ToolchainRead {
        path: path.clone(),
        source,
    })?;
    let channel = parse_toolchain_file(&text)
        .map_err(|message| WorkspaceError::ToolchainParse { path, message })?;
    Ok(toolchain_for_channel(
        &channel,
        Source::File {
            path: name.into(),
            key: None,
        },
    ))
}

/// The channel of a `rust-toolchain` file: the legacy one-line form or the TOML `[toolchain]` table.
pub fn parse_toolchain_file(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if !trimmed.contains('=')
        && !trimmed.contains('[')
        && !trimmed.is_empty()
        && !trimmed.contains('\n')
    {
        return Ok(trimmed.to_string());
    }
    let value: toml::Value = toml::from_str(text).map_err(|e| e.message().to_string())?;
    value
        .get("toolchain")
        .and_then(|t| t.get("channel"))
        .and_then(|c| c.as_str())
        .map(str::to_string)
        .ok_or_else(|| "no `toolchain.channel` key".to_string())
}

/// Maps a rustup channel to an official `rust` image tag, installing the channel where no tag has it.
pub fn toolchain_for_channel(channel: &str, source: Source) -> Toolchain {
    let is_version = |s: &str| {
        let parts: Vec<_> = s.split('.').collect();
        (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    };
    // A host suffix (`1.95-x86_64-unknown-linux-gnu`) names the same release.
    let base = channel.split('-').next().unwrap_or(channel);
    if is_version(base) && !channel.contains("nightly") && !channel.contains("beta") {
        return Toolchain {
            image_version: base.to_string(),
            install_channel: None,
            source,
        };
    }
    if base == "stable" && !channel.contains('-') {
        return Toolchain {
            image_version: "1".to_string(),
            install_channel: None,
            source,
        };
    }
    // nightly, beta, dated channels (`nightly-2026-01-01`, `stable-2025-06-01`): the image's rustup installs it.
    Toolchain {
        image_version: "1".to_string(),
        install_channel: Some(channel.to_string()),
        source,
    }
}

/// The Rust toolchain of the builder, and where that choice came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Toolchain {
    /// What goes into the `rust:<version>-slim-bookworm` tag: `1.95`, `1.95.0` or `1`.
    pub image_version: String,
    /// A channel the builder installs with rustup on top of that image (nightly or dated channels).
    pub install_channel: Option<String>,
    /// `rust-toolchain.toml` or `rust-toolchain` at the workspace root, `rust-version` of the workspace table,
    /// or nothing (the default: `rust:1`, the latest stable release when the image is built).
    pub source: Source,
}

impl Toolchain {
    /// `rust:1`: what a workspace that pins nothing builds with.
    pub fn floating() -> Self {
        Self {
            image_version: "1".into(),
            install_channel: None,
            source: Source::Default,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_file_forms() {
        assert_eq!(parse_toolchain_file("1.95\n").unwrap(), "1.95");
        assert_eq!(
            parse_toolchain_file("[toolchain]\nchannel = \"1.95.0\"\ncomponents = [\"clippy\"]\n")
                .unwrap(),
            "1.95.0"
        );
        assert!(parse_toolchain_file("[toolchain]\nprofile = \"minimal\"\n").is_err());
    }

    #[test]
    fn channels_map_to_image_tags() {
        let source = Source::Default;
        let t = toolchain_for_channel("1.95", source.clone());
        assert_eq!(
            (t.image_version.as_str(), t.install_channel),
            ("1.95", None)
        );
        let t = toolchain_for_channel("1.95.0", source.clone());
        assert_eq!(t.image_version, "1.95.0");
        let t = toolchain_for_channel("stable", source.clone());
        assert_eq!((t.image_version.as_str(), t.install_channel), ("1", None));
        let t = toolchain_for_channel("nightly-2026-01-01", source);
        assert_eq!(t.install_channel.as_deref(), Some("nightly-2026-01-01"));
    }
}
