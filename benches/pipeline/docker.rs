//! The `docker` CLI, for what the library does not do: emptying the build cache before a cold build, measuring a
//! binary inside an image, and removing every tag and cache mount the run made ([`Cleanup`], on drop, whatever
//! happened). Builds never go through here: they go through `cargo dockerize` or the library's engine.

use std::path::Path;
use std::process::Command;

use serde::Deserialize;

use crate::options::Variant;
use crate::records::{ImageRecord, SizeRow};

/// Runs `docker <args>`; its trimmed stdout, or an error with its stderr.
fn docker(args: &[&str]) -> Result<String, String> {
    let what = format!("`docker {}`", args.join(" "));
    let stdout = crate::stdout_of(Command::new("docker").args(args), &what)?;
    Ok(stdout.trim().to_string())
}

/// `docker builder prune -af`: a cold build with the base images preloaded.
pub fn prune_builder_cache() -> Result<(), String> {
    docker(&["builder", "prune", "-af"]).map(drop)
}

/// The engine's size of an image; `None` when the tag does not exist.
pub fn image_size(tag: &str) -> Option<u64> {
    docker(&["image", "inspect", "--format", "{{.Size}}", tag])
        .ok()?
        .parse()
        .ok()
}

/// The image's size against its binary's, taken out of the image (`docker create` + `docker cp`) and stripped.
pub fn measure_size(variant: Variant, image: &ImageRecord, dir: &Path) -> Result<SizeRow, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
    let container = docker(&["create", &image.tag])?;
    let binary = dir.join(format!("{}-{}", variant.key(), image.bin));
    let copied = docker(&[
        "cp",
        &format!("{container}:/usr/local/bin/{}", image.bin),
        &binary.to_string_lossy(),
    ]);
    let _ = docker(&["rm", &container]);
    copied?;
    let stripped = binary.with_extension("stripped");
    // The host's objcopy reads only its own architecture: an arm64 binary takes Debian's cross binutils'.
    let objcopy = if variant == Variant::Arm64 {
        "aarch64-linux-gnu-objcopy"
    } else {
        "objcopy"
    };
    let what = format!("`{objcopy} --strip-all {}`", binary.display());
    crate::stdout_of(
        Command::new(objcopy)
            .arg("--strip-all")
            .arg(&binary)
            .arg(&stripped),
        &what,
    )?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or_default();
    Ok(SizeRow {
        variant,
        bin: image.bin.clone(),
        image: image.size,
        binary: size(&binary),
        stripped: size(&stripped),
    })
}

/// Every tag the run created and every cache-mount id it used: removed on drop, whatever happened.
#[derive(Default)]
pub struct Cleanup {
    pub tags: Vec<String>,
    /// Set when (d) ran: its cache mounts (the registry, `target/`) are garbage afterwards, and with the default
    /// ids (`prune`) another Dockerfile mounting `/app/target` would find them.
    pub cache_mounts: Option<CacheMounts>,
}

/// How to recognise (d)'s cache mounts of this run among the engine's build-cache records: BuildKit describes a
/// cache mount as `cached mount <target> from exec /bin/sh -c <command>` (without its id), so by command and age.
pub struct CacheMounts {
    /// `YYYY-MM-DD HH:MM:SS` in UTC, as `docker system df -v` prints `CreatedAt`.
    pub since: String,
    pub command: String,
}

impl Cleanup {
    /// Remembers a tag a build may have written (built or not: a failed build can leave one behind).
    pub fn tag(&mut self, tag: &str) {
        if !self.tags.iter().any(|t| t == tag) {
            self.tags.push(tag.to_string());
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Tags of builds that failed may not exist; only those that do are counted.
        let mut removed = 0;
        for chunk in self.tags.chunks(40) {
            let args: Vec<&str> = std::iter::once("rmi")
                .chain(chunk.iter().map(String::as_str))
                .collect();
            if docker(&args).is_ok() {
                removed += chunk.len();
            } else {
                // One stubborn tag must not keep the others: retry them one by one.
                removed += chunk.iter().filter(|t| docker(&["rmi", t]).is_ok()).count();
            }
        }
        if !self.tags.is_empty() {
            eprintln!("cleanup: removed {removed} image tag(s)");
        }
        if let Some(mounts) = &self.cache_mounts {
            let pruned = prune_cache_mounts(mounts);
            eprintln!("cleanup: removed {pruned} cache-mount records of variant (d)");
        }
    }
}

/// One record of `docker system df -v --format '{{json .BuildCache}}'`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct CacheRecord {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "CacheType")]
    cache_type: String,
    #[serde(rename = "Description")]
    description: String,
    #[serde(rename = "CreatedAt")]
    created_at: String,
}

/// Removes the build-cache records of the cache mounts this run created; how many.
fn prune_cache_mounts(mounts: &CacheMounts) -> usize {
    if mounts.since.is_empty() {
        return 0;
    }
    let Ok(text) = docker(&["system", "df", "-v", "--format", "{{json .BuildCache}}"]) else {
        return 0;
    };
    let records: Vec<CacheRecord> = serde_json::from_str(&text).unwrap_or_default();
    records
        .iter()
        .filter(|r| {
            r.cache_type == "exec.cachemount"
                && r.description.contains(&mounts.command)
                && r.created_at.as_str() >= mounts.since.as_str()
        })
        .filter(|r| {
            let filter = format!("id={}", r.id.trim_end_matches('*'));
            docker(&["builder", "prune", "-f", "--filter", &filter]).is_ok()
        })
        .count()
}
