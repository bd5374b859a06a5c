//! The Rust toolchain of the builder image, and where that choice came from: the toolchain file (rustup's own
//! precedence), then the members' `rust-version`, then the `rustc` of this machine.

use camino::Utf8Path;
use cargo_metadata::Metadata;
use serde::Serialize;

use super::WorkspaceError;

const TOOLCHAIN_FILES: [&str; 2] = ["rust-toolchain.toml", "rust-toolchain"];

pub(super) fn present_toolchain_files(root: &Utf8Path) -> Vec<String> {
    TOOLCHAIN_FILES
        .iter()
        .filter(|name| root.join(name).is_file())
        .map(|name| name.to_string())
        .collect()
}

pub(super) fn spawn_rustc_version(dir: &Utf8Path) -> std::io::Result<std::process::Child> {
    std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .current_dir(dir)
        // Never let this guess install a pinned toolchain: when a pin exists, its answer is not used.
        .env("RUSTUP_AUTO_INSTALL", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
}

/// The toolchain file wins (rustup's own precedence), then the members' `rust-version`, then local rustc.
pub(super) fn read_toolchain(
    metadata: &Metadata,
    files: &[String],
    rustc: std::io::Result<std::process::Child>,
) -> Result<Toolchain, WorkspaceError> {
    // The speculative `rustc --version` is reaped on every path that does not need it.
    let reap = |child: std::io::Result<std::process::Child>| {
        if let Ok(mut child) = child {
            let _ = child.kill();
            let _ = child.wait();
        }
    };
    if let Some(name) = files.first() {
        reap(rustc);
        let path = metadata.workspace_root.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|source| WorkspaceError::ToolchainRead {
                path: path.clone(),
                source,
            })?;
        let channel = parse_toolchain_file(&text)
            .map_err(|message| WorkspaceError::ToolchainParse { path, message })?;
        return Ok(toolchain_for_channel(
            &channel,
            ToolchainSource::ToolchainFile(name.clone()),
        ));
    }
    let highest = metadata
        .workspace_members
        .iter()
        .filter_map(|id| metadata.packages.iter().find(|p| &p.id == id))
        .filter_map(|p| {
            p.rust_version
                .as_ref()
                .map(|v| (v.clone(), p.name.to_string()))
        })
        .max();
    if let Some((version, package)) = highest {
        reap(rustc);
        return Ok(Toolchain {
            image_version: format!("{}.{}", version.major, version.minor),
            install_channel: None,
            source: ToolchainSource::RustVersion(package),
        });
    }
    let output = rustc
        .and_then(std::process::Child::wait_with_output)
        .map_err(WorkspaceError::RustcVersion)?;
    let text = String::from_utf8_lossy(&output.stdout);
    let full = text.split_whitespace().nth(1).unwrap_or_default();
    // A nightly or beta rustc names a release no `rust` image has yet: build with the latest stable, `rust:1`.
    if full.contains("-nightly") || full.contains("-beta") {
        return Ok(Toolchain {
            image_version: "1".to_string(),
            install_channel: None,
            source: ToolchainSource::LocalRustc,
        });
    }
    let version = Some(full)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.split('-').next())
        .and_then(|v| {
            let mut parts = v.split('.');
            Some(format!("{}.{}", parts.next()?, parts.next()?))
        })
        .ok_or_else(|| {
            WorkspaceError::RustcVersion(std::io::Error::other(format!(
                "unexpected output: {}",
                text.trim()
            )))
        })?;
    Ok(Toolchain {
        image_version: version,
        install_channel: None,
        source: ToolchainSource::LocalRustc,
    })
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
pub fn toolchain_for_channel(channel: &str, source: ToolchainSource) -> Toolchain {
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
    pub source: ToolchainSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum ToolchainSource {
    /// `rust-toolchain.toml` or `rust-toolchain` at the workspace root.
    ToolchainFile(String),
    /// The highest `rust-version` among the members.
    RustVersion(String),
    /// The `rustc` found on this machine.
    LocalRustc,
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
        let source = ToolchainSource::LocalRustc;
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
