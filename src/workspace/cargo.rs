//! How this tool runs Cargo: the flags every run carries, the lock looked for before Cargo runs, and Cargo's
//! refusals to touch the lock turned into one error of ours.
//!
//! `Cargo.lock` is the user's. Every command reads the workspace as it is locked and never changes the lock:
//! `generate --check` is a drift check that must fail on a stale lock, not repair it; `list`, `config` and
//! `--dry-run` only read; `generate` and `build` produce files and images from the lock the Dockerfile copies (its
//! builds run `cargo build --locked`, so a lock Cargo would rewrite fails there anyway, minutes later). So every
//! Cargo run here carries `--locked` ([`flags`]), and a stale or missing lock is one error naming the file.
//!
//! Not `--offline` (nor `--frozen`): `cargo metadata` downloads the sources of crates the local cache lacks (it
//! reads their manifests), which a first run on a machine needs. With `--locked` and a lock that matches the
//! manifests, Cargo touches the network only for those downloads, never to update the index.
//!
//! The lock is looked for before Cargo runs ([`lock_candidates`]): without one, `cargo metadata --locked`
//! contacts the registry to resolve before it refuses to create the file, which on a machine without network
//! fails with a network error that hides the missing lock.

use camino::{Utf8Path, Utf8PathBuf};

use super::WorkspaceError;

/// The flags every Cargo run of this tool carries (`cargo metadata`, `cargo tree`), in this one place so that the
/// runs read the same workspace the same way.
pub(super) fn flags() -> Vec<String> {
    vec!["--locked".to_string()]
}

/// Where the workspace's `Cargo.lock` can be for `manifest`: beside it or in a directory above it (the workspace
/// root is the manifest's directory or one of its ancestors), nearest first.
fn lock_candidates(manifest: &Utf8Path) -> impl Iterator<Item = Utf8PathBuf> + '_ {
    manifest
        .parent()
        .into_iter()
        .flat_map(Utf8Path::ancestors)
        .map(|dir| dir.join("Cargo.lock"))
}

/// `Ok` when a `Cargo.lock` exists where the workspace of `manifest` can have it, else `Err(LockMissing)`. A lock
/// above that belongs to another workspace passes here and is caught by Cargo's own refusal ([`refusal`]).
pub(super) fn require_lock(manifest: &Utf8Path) -> Result<(), WorkspaceError> {
    if lock_candidates(manifest).any(|lock| lock.is_file()) {
        return Ok(());
    }
    Err(WorkspaceError::LockMissing {
        manifest: manifest.to_owned(),
    })
}

/// Cargo's refusal to write the lock of `manifest`'s workspace (`--locked`), read from its stderr: our error, or
/// `None` when Cargo failed for another reason. Cargo 1.84 and later say "cannot create the lock file <path> because
/// --locked was passed" and "cannot update ..."; earlier ones "the lock file <path> needs to be updated but
/// --locked was passed".
pub(super) fn refusal(stderr: &str, manifest: &Utf8Path) -> Option<WorkspaceError> {
    let line = stderr.lines().find(|l| l.contains("--locked was passed"))?;
    let path = |after: &str, before: &str| {
        let start = line.find(after)? + after.len();
        let end = start + line[start..].find(before)?;
        Some(Utf8PathBuf::from(&line[start..end]))
    };
    let missing = || WorkspaceError::LockMissing {
        manifest: manifest.to_owned(),
    };
    if line.contains("cannot create the lock file") {
        return Some(missing());
    }
    match path("cannot update the lock file ", " because")
        .or_else(|| path("the lock file ", " needs to be updated"))
    {
        Some(lock) if lock.is_file() => Some(WorkspaceError::LockStale { lock }),
        Some(_) => Some(missing()),
        None => Some(WorkspaceError::LockStale {
            lock: "Cargo.lock".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_is_locked() {
        assert_eq!(flags(), ["--locked"]);
    }

    #[test]
    fn the_lock_is_looked_for_beside_the_manifest_and_above() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8Path::from_path(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("crates/api")).unwrap();
        let member = root.join("crates/api/Cargo.toml");
        let error = require_lock(&member).unwrap_err();
        assert!(
            matches!(&error, WorkspaceError::LockMissing { manifest } if *manifest == member),
            "{error:?}"
        );
        std::fs::write(root.join("Cargo.lock"), "").unwrap();
        require_lock(&member).unwrap();
        require_lock(&root.join("Cargo.toml")).unwrap();
    }

    #[test]
    fn cargos_refusals_name_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Utf8Path::from_path(dir.path()).unwrap().join("Cargo.lock");
        let manifest = lock.with_file_name("Cargo.toml");
        let missing = format!(
            "    Updating crates.io index\nerror: cannot create the lock file {lock} because --locked was passed to prevent this\nhelp: ..."
        );
        assert!(matches!(
            refusal(&missing, &manifest),
            Some(WorkspaceError::LockMissing { manifest: m }) if m == manifest
        ));
        std::fs::write(&lock, "").unwrap();
        for stale in [
            format!("error: cannot update the lock file {lock} because --locked was passed to prevent this"),
            format!("error: the lock file {lock} needs to be updated but --locked was passed to prevent this"),
        ] {
            assert!(
                matches!(refusal(&stale, &manifest), Some(WorkspaceError::LockStale { lock: l }) if l == lock),
                "{stale}"
            );
        }
        assert!(refusal(
            "error: failed to parse manifest at `/x/Cargo.toml`",
            &manifest
        )
        .is_none());
    }
}
