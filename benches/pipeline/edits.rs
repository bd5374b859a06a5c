//! The edits a developer makes between two builds, applied to a copy of the fixture workspace.
//!
//! Each edit is new on every repetition (`n`), so a repeated scenario never finds its result in the cache. Text
//! edits only: the fixtures are ours, so a line-based edit of their manifests is exact enough, and it keeps the
//! manifests as a person would leave them (comments, order).

use std::path::Path;
use std::process::Command;

/// A source edit: a comment line at the end of the file. Cargo rebuilds the crate (it compares file times), the
/// build context's checksum changes.
pub fn touch_source(path: &Path, run: &str, n: usize) -> Result<(), String> {
    let mut text = read(path)?;
    text.push_str(&format!("// benchmark {run} edit #{n}\n"));
    write(path, &text)
}

/// Bumps the patch version of every local crate: `version = "x.y.z"` in `[package]` and `[workspace.package]`,
/// and the version requirement of path dependencies (`{ path = "...", version = "x.y.z" }`), so they still match.
pub fn bump_versions(manifests: &[std::path::PathBuf]) -> Result<usize, String> {
    let mut bumped = 0;
    for manifest in manifests {
        let text = read(manifest)?;
        let (new, count) = bump_manifest(&text);
        if count > 0 {
            write(manifest, &new)?;
            bumped += count;
        }
    }
    Ok(bumped)
}

fn bump_manifest(text: &str) -> (String, usize) {
    let mut section = String::new();
    let mut count = 0;
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_string();
        }
        let package = section == "package" || section == "workspace.package";
        let own_version =
            package && trimmed.starts_with("version") && !trimmed.contains(".workspace");
        let path_dependency = trimmed.contains("path") && trimmed.contains('{');
        if own_version || path_dependency {
            if let Some(bumped) = bump_quoted_version(line) {
                out.push_str(&bumped);
                count += 1;
                continue;
            }
        }
        out.push_str(line);
    }
    (out, count)
}

/// `... version = "1.2.3" ...` → `... version = "1.2.4" ...`; `None` when the line holds no such version.
fn bump_quoted_version(line: &str) -> Option<String> {
    let key = line.find("version")?;
    let after = &line[key + "version".len()..];
    let open = key + "version".len() + after.find('"')?;
    let close = open + 1 + line[open + 1..].find('"')?;
    let version = &line[open + 1..close];
    let mut parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let patch: u64 = parts[2].parse().ok()?;
    let next = (patch + 1).to_string();
    parts[2] = &next;
    Some(format!(
        "{}{}{}",
        &line[..=open],
        parts.join("."),
        &line[close..]
    ))
}

/// `base` (a manifest) with a `[package.metadata.dockerize.bin.<bin>]` label whose value is `value`: a configuration
/// edit that changes only the image's metadata.
pub fn with_config_edit(base: &str, bin: &str, value: &str) -> String {
    let mut text = base.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!(
        "\n[package.metadata.dockerize.bin.{bin}.labels]\n\"org.example.benchmark-edit\" = \"{value}\"\n"
    ));
    text
}

/// `text` (a manifest) with `line` added at the top of its `[dependencies]` table (created when missing).
pub fn with_dependency(text: &str, line: &str) -> String {
    let mut out = String::with_capacity(text.len() + line.len() + 16);
    let mut added = false;
    for l in text.split_inclusive('\n') {
        out.push_str(l);
        if !added && l.trim() == "[dependencies]" {
            if !l.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(line);
            out.push('\n');
            added = true;
        }
    }
    if !added {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("\n[dependencies]\n{line}\n"));
    }
    out
}

/// Registry packages of a `Cargo.lock`, as (name, version).
pub fn locked_registry_packages(lock: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.trim_start().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
        };
        if let (Some(name), Some(version), Some(_)) =
            (field("name "), field("version "), field("source "))
        {
            out.push((name, version));
        }
    }
    out
}

/// Brings `Cargo.lock` up to date with the manifests without touching the network or other packages' versions.
pub fn update_lock(root: &Path) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(&cargo)
        .args(["update", "--workspace", "--offline", "--quiet"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("failed to run `{cargo} update`: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo update --workspace --offline` failed in {}:\n{}",
            root.display(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("failed to read {}: {e}", path.display()))
}

pub fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("failed to write {}: {e}", path.display()))
}
