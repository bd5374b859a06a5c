//! The generated files on disk: writing them, `--check`, and reading the workspace's `.dockerignore`.
//!
//! Takes the rendered Dockerfile and `.dockerignore` and puts them at the workspace root: each through a
//! temporary file renamed into place, so an interrupted or failed write leaves nothing half-written. Files
//! this tool did not write (no generated marker on their first line) are not overwritten without `--force`;
//! an existing `.dockerignore` is the user's and is kept.

use camino::{Utf8Path, Utf8PathBuf};
use std::io::Write as _;

use crate::render::{DockerIgnore, GENERATED_MARKER};

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Written(Utf8PathBuf),
    Unchanged(Utf8PathBuf),
    /// An existing `.dockerignore` kept as it is.
    Kept(Utf8PathBuf),
}

/// A file whose content on disk differs from what would be generated.
#[derive(Debug, Clone)]
pub struct Drift {
    pub path: Utf8PathBuf,
    /// A unified diff, on-disk → generated (or a line saying the file is missing).
    pub diff: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("`{path}` was not written by cargo-dockerize; refusing to overwrite it")]
    NotOurs { path: Utf8PathBuf },
    #[error("failed to read `{path}`")]
    Read {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write `{path}`")]
    Write {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FilesError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NotOurs { .. } => {
                Some("pass `--force` to replace it, or move it away first".into())
            }
            Self::Write { path, .. } => Some(format!(
                "check that `{}` exists and is writable",
                path.parent().unwrap_or(path)
            )),
            Self::Read { .. } => None,
        }
    }
}

/// Reads a file, `None` when it does not exist.
fn read_optional(path: &Utf8Path) -> Result<Option<String>, FilesError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(FilesError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn is_ours(text: &str) -> bool {
    text.starts_with(GENERATED_MARKER)
}

/// Writes the Dockerfile (and the `.dockerignore` when there is none). Nothing is written unless every
/// check passes first.
pub fn write(
    root: &Utf8Path,
    dockerfile: &str,
    dockerignore: &str,
    force: bool,
) -> Result<Vec<Outcome>, FilesError> {
    let dockerfile_path = root.join("Dockerfile");
    let ignore_path = root.join(".dockerignore");
    let current = read_optional(&dockerfile_path)?;
    if let Some(text) = &current {
        if !is_ours(text) && !force {
            return Err(FilesError::NotOurs {
                path: dockerfile_path,
            });
        }
    }
    let current_ignore = read_optional(&ignore_path)?;
    let mut outcomes = Vec::new();
    if current.as_deref() == Some(dockerfile) {
        outcomes.push(Outcome::Unchanged(dockerfile_path));
    } else {
        write_atomically(&dockerfile_path, dockerfile)?;
        outcomes.push(Outcome::Written(dockerfile_path));
    }
    match current_ignore {
        None => {
            write_atomically(&ignore_path, dockerignore)?;
            outcomes.push(Outcome::Written(ignore_path));
        }
        Some(text) if force && text != dockerignore => {
            write_atomically(&ignore_path, dockerignore)?;
            outcomes.push(Outcome::Written(ignore_path));
        }
        Some(text) if text == dockerignore => outcomes.push(Outcome::Unchanged(ignore_path)),
        Some(_) => outcomes.push(Outcome::Kept(ignore_path)),
    }
    Ok(outcomes)
}

/// The files that `write` would change: a stale or missing Dockerfile, a missing `.dockerignore`.
pub fn check(root: &Utf8Path, dockerfile: &str) -> Result<Vec<Drift>, FilesError> {
    let mut drifts = Vec::new();
    let dockerfile_path = root.join("Dockerfile");
    match read_optional(&dockerfile_path)? {
        Some(text) if text == dockerfile => {}
        Some(text) => drifts.push(Drift {
            diff: diff(&text, dockerfile, &dockerfile_path),
            path: dockerfile_path,
        }),
        None => drifts.push(Drift {
            diff: format!("`{dockerfile_path}` does not exist\n"),
            path: dockerfile_path,
        }),
    }
    let ignore_path = root.join(".dockerignore");
    if read_optional(&ignore_path)?.is_none() {
        drifts.push(Drift {
            diff: format!("`{ignore_path}` does not exist\n"),
            path: ignore_path,
        });
    }
    Ok(drifts)
}

/// A short unified diff, three lines of context.
fn diff(old: &str, new: &str, path: &Utf8Path) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{path} (on disk)"), &format!("{path} (generated)"))
        .to_string()
}

/// Writes through a temporary file in the same directory, then renames it over the target: a reader sees the old
/// file or the new one, never half of one.
pub fn write_atomically(path: &Utf8Path, text: &str) -> Result<(), FilesError> {
    let error = |source| FilesError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    let mut file = tempfile::Builder::new()
        .prefix(".cargo-dockerize-")
        .tempfile_in(dir)
        .map_err(error)?;
    file.write_all(text.as_bytes()).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// Warnings about an existing `.dockerignore` that lets build output or VCS data into the context.
pub fn dockerignore_warnings(ignore: Option<&DockerIgnore>) -> Vec<String> {
    let Some(ignore) = ignore else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    if !ignore.excludes("target/release") {
        warnings.push(
            "`.dockerignore` lets `target/` into the build context: every build sends it to the engine and `COPY . .` changes with every local build; add `target/` and `**/target/`"
                .to_string(),
        );
    }
    if !ignore.excludes(".git/HEAD") {
        warnings.push(
            "`.dockerignore` lets `.git/` into the build context: every commit invalidates `COPY . .`; add `.git/`"
                .to_string(),
        );
    }
    warnings
}

/// Reads `<root>/.dockerignore` if present.
pub fn read_dockerignore(
    root: &Utf8Path,
) -> Result<Option<(String, DockerIgnore)>, std::io::Error> {
    let path = root.join(".dockerignore");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let parsed = DockerIgnore::parse(&text).map_err(std::io::Error::other)?;
            Ok(Some((text, parsed)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().to_owned()).unwrap();
        (dir, path)
    }

    #[test]
    fn writes_then_reports_unchanged_and_keeps_user_ignore() {
        let (_guard, root) = root();
        let dockerfile = format!("{GENERATED_MARKER} x\nFROM scratch\n");
        let out = write(&root, &dockerfile, "target/\n", false).unwrap();
        assert!(matches!(&out[0], Outcome::Written(_)));
        let out = write(&root, &dockerfile, "target/\n.git/\n", false).unwrap();
        assert!(matches!(&out[0], Outcome::Unchanged(_)));
        assert!(matches!(&out[1], Outcome::Kept(_)));
        assert_eq!(
            std::fs::read_to_string(root.join(".dockerignore")).unwrap(),
            "target/\n"
        );
    }

    #[test]
    fn refuses_a_users_dockerfile_without_force() {
        let (_guard, root) = root();
        std::fs::write(root.join("Dockerfile"), "FROM alpine\n").unwrap();
        let err = write(&root, &format!("{GENERATED_MARKER}\n"), "", false).unwrap_err();
        assert!(matches!(err, FilesError::NotOurs { .. }));
        assert!(!root.join(".dockerignore").exists(), "nothing half-written");
        write(&root, &format!("{GENERATED_MARKER}\n"), "", true).unwrap();
    }

    #[test]
    fn check_reports_a_diff() {
        let (_guard, root) = root();
        std::fs::write(root.join("Dockerfile"), "a\nb\n").unwrap();
        std::fs::write(root.join(".dockerignore"), "target/\n").unwrap();
        let drifts = check(&root, "a\nc\n").unwrap();
        assert_eq!(drifts.len(), 1);
        assert!(drifts[0].diff.contains("-b\n+c"));
        assert!(check(&root, "a\nb\n").unwrap().is_empty());
    }

    #[test]
    fn warns_when_target_is_not_ignored() {
        let ignore = DockerIgnore::parse(".git\n").unwrap();
        let warnings = dockerignore_warnings(Some(&ignore));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("target/"));
    }
}
