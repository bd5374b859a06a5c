//! `cargo dockerize config`: every setting and where it came from, as a table for people or JSON for scripts —
//! what every image shares (the workspace's settings), then each selected binary's own.
//!
//! Takes the [`Plan`] (the selected images, each with its layered configuration) and the resolved
//! [`WorkspaceConfig`], and writes to the writer it is given.

use std::io::Write;

use serde_json::{json, Value};

use super::listing::FORMAT_VERSION;
use crate::config::{Auditable, WorkspaceConfig};
use crate::plan::Plan;
use crate::source::Source;

/// A workspace setting: its key, its value (as JSON, and as the table shows it) and where it came from.
type Row<'a> = (&'static str, Value, String, &'a Source);

/// The workspace's settings as rows.
fn workspace_rows(workspace: &WorkspaceConfig) -> Vec<Row<'_>> {
    let toolchain = &workspace.toolchain;
    let rust = match &toolchain.install_channel {
        Some(channel) => format!("{} (installs {channel})", toolchain.image_version),
        None => toolchain.image_version.clone(),
    };
    let platforms: Vec<&str> = workspace
        .platforms
        .value
        .iter()
        .map(|p| p.docker_name())
        .collect();
    let row = |key, value: Value, source| {
        let text = shown(&value);
        (key, value, text, source)
    };
    vec![
        (
            "platforms",
            json!(platforms),
            platforms.join(","),
            &workspace.platforms.source,
        ),
        row(
            "registry",
            json!(workspace.registry.value),
            &workspace.registry.source,
        ),
        row(
            "dockerfile",
            json!(workspace.dockerfile.value),
            &workspace.dockerfile.source,
        ),
        row("rust-version", json!(rust), &toolchain.source),
        row(
            "build-env",
            json!(workspace.build_env.value),
            &workspace.build_env.source,
        ),
        row(
            "auditable",
            json!(workspace.auditable.value == Auditable::Embed),
            &workspace.auditable.source,
        ),
        row(
            "sbom",
            json!(workspace
                .sbom
                .value
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>()),
            &workspace.sbom.source,
        ),
        row(
            "provenance",
            json!(workspace.provenance.value),
            &workspace.provenance.source,
        ),
    ]
}

/// A value as the table shows it: a string as it is, nothing as `-`, anything else as JSON.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

/// Rows of `key  value  source`, the keys and values padded to the widest (values to at most 40 characters).
fn write_rows(rows: &[(String, String, String)], out: &mut dyn Write) -> std::io::Result<()> {
    let key_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_width = rows
        .iter()
        .map(|r| r.1.chars().count().min(40))
        .max()
        .unwrap_or(0);
    for (key, shown, source) in rows {
        writeln!(out, "  {key:<key_width$}  {shown:<value_width$}  {source}")?;
    }
    Ok(())
}

/// `cargo dockerize config`: every binary's effective settings and where each came from, then what every image
/// shares.
pub fn write_config_human(
    plan: &Plan,
    workspace: &WorkspaceConfig,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for (index, image) in plan.selected_images().enumerate() {
        if index > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{} (package {}, stage {})",
            image.binary, image.package, image.stage
        )?;
        let value = serde_json::to_value(&image.config).map_err(std::io::Error::other)?;
        let Some(fields) = value.as_object() else {
            continue;
        };
        let rows: Vec<(String, String, String)> = fields
            .iter()
            .map(|(key, field)| {
                let source = match &field["source"]["kind"] {
                    Value::String(kind) if kind == "default" => "default".to_string(),
                    _ => field["source"]["detail"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                };
                (key.replace('_', "-"), shown(&field["value"]), source)
            })
            .collect();
        write_rows(&rows, out)?;
    }
    // What every image shares: one Dockerfile holds every binary and every platform's builder.
    writeln!(out, "\nworkspace (every image)")?;
    let rows: Vec<(String, String, String)> = workspace_rows(workspace)
        .into_iter()
        .map(|(key, _, text, source)| (key.to_string(), text, source.of_key(key)))
        .collect();
    write_rows(&rows, out)
}

/// `cargo dockerize config --format json`: `{"binaries": [{"name", "package", "stage", "config": {...}}],
/// "workspace": {...}, "platforms": {"value": [...], "source": "..."}}`, each key of `config` and `workspace`
/// holding `value` and `source` (`{"kind": "default"}`, `{"kind": "table", "detail": ...}`, `{"kind": "flag",
/// "detail": "--libc gnu"}`, `{"kind": "file", "detail": "rust-toolchain.toml"}`). `platforms` is the form from
/// before `workspace` held every workspace setting, its source in words.
pub fn write_config_json(
    plan: &Plan,
    workspace: &WorkspaceConfig,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let binaries: Vec<Value> = plan
        .selected_images()
        .map(|i| {
            json!({
                "name": i.binary,
                "package": i.package,
                "stage": i.stage,
                "config": i.config,
            })
        })
        .collect();
    let shared: serde_json::Map<String, Value> = workspace_rows(workspace)
        .into_iter()
        .map(|(key, value, _, source)| (key.to_string(), json!({"value": value, "source": source})))
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &json!({
            "format_version": FORMAT_VERSION,
            "binaries": binaries,
            "workspace": shared,
            "platforms": {
                "value": workspace.platforms.value.iter().map(|p| p.docker_name()).collect::<Vec<_>>(),
                "source": workspace.platforms.source.of_key("platforms"),
            },
        }),
    )?;
    writeln!(out)
}
