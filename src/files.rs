//! The generated files on disk: writing them and `--check`.
//!
//! Takes the rendered Dockerfile, the scripts beside it and the `.dockerignore`, and puts them where the plan says
//! (the workspace root by default, or the configured Dockerfile path, `.dockerize/` in its directory and its
//! `<path>.dockerignore`), and the CI workflow where `ci` says: each through a temporary file renamed into place,
//! so an interrupted or failed write leaves nothing half-written. Files this tool did not write (no generated
//! marker on their first line) are not overwritten without `--force`; an existing `.dockerignore` is the user's and
//! is kept. `--check` compares the same files.

use camino::{Utf8Path, Utf8PathBuf};
use std::io::Write as _;

use crate::model::GENERATED_MARKER;
use crate::plan::DockerfilePath;
use crate::render::Script;

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
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
    NotOurs {
        path: Utf8PathBuf,
        /// How to keep it and put ours elsewhere.
        elsewhere: &'static str,
    },
    #[error("failed to read `{path}`")]
    Read {
        path: Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` leads through a symlink to `{resolved}`, outside `{bound}`; refusing to write there")]
    Escapes {
        path: Utf8PathBuf,
        resolved: Utf8PathBuf,
        bound: Utf8PathBuf,
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
            Self::NotOurs { elsewhere, .. } => Some(format!(
                "pass `--force` to replace it, move it away first, or keep it and {elsewhere}"
            )),
            Self::Write { path, .. } => Some(format!(
                "check that `{}` exists and is writable",
                path.parent().unwrap_or(path)
            )),
            Self::Escapes { .. } => Some(
                "replace the symlink with a real directory or file, or give the generated file another path".into(),
            ),
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

/// Whether `path` holds a file this tool did not write (no generated marker), which `write` would refuse: what
/// `--dry-run` warns about before a real run stops on it.
pub fn is_theirs(path: &Utf8Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| !is_ours(&text))
}

/// Writes the Dockerfile and its scripts (and the `.dockerignore` when there is none) at the places `place` names
/// under `root`. Nothing is written unless every check passes first.
pub fn write(
    root: &Utf8Path,
    place: &DockerfilePath,
    dockerfile: &str,
    scripts: &[Script],
    dockerignore: &str,
    force: bool,
) -> Result<Vec<Change>, FilesError> {
    let owned: Vec<(Utf8PathBuf, &str)> = std::iter::once((root.join(&place.path), dockerfile))
        .chain(scripts.iter().map(|s| (root.join(&s.path), s.text)))
        .collect();
    let mut current = Vec::new();
    for (path, _) in &owned {
        let text = read_optional(path)?;
        refuse_theirs(
            path,
            text.as_deref(),
            force,
            "give ours another path: `dockerfile = \"docker/Dockerfile.dockerize\"` in `[workspace.metadata.dockerize]` (or `--dockerfile`)",
        )?;
        current.push(text);
    }
    let ignore_path = root.join(&place.ignore);
    for (path, _) in &owned {
        refuse_escape(root, path)?;
    }
    refuse_escape(root, &ignore_path)?;
    let current_ignore = read_optional(&ignore_path)?;
    let mut outcomes = Vec::new();
    for ((path, text), current) in owned.into_iter().zip(current) {
        outcomes.push(replace(path, current.as_deref(), text)?);
    }
    match current_ignore {
        None => {
            write_atomically(&ignore_path, dockerignore)?;
            outcomes.push(Change::Written(ignore_path));
        }
        Some(text) if force && text != dockerignore => {
            write_atomically(&ignore_path, dockerignore)?;
            outcomes.push(Change::Written(ignore_path));
        }
        Some(text) if text == dockerignore => outcomes.push(Change::Unchanged(ignore_path)),
        Some(_) => outcomes.push(Change::Kept(ignore_path)),
    }
    Ok(outcomes)
}

/// Writes one generated file that has no companion (the CI workflow) at `path` inside `bound` (the repository
/// root): refused when a file we did not write is there, unless `force`, or when a symlink leads out of `bound`;
/// `elsewhere` says how to keep it and write ours at another path.
pub fn write_owned(
    bound: &Utf8Path,
    path: &Utf8Path,
    text: &str,
    force: bool,
    elsewhere: &'static str,
) -> Result<Change, FilesError> {
    refuse_escape(bound, path)?;
    let current = read_optional(path)?;
    refuse_theirs(path, current.as_deref(), force, elsewhere)?;
    replace(path.to_owned(), current.as_deref(), text)
}

/// `NotOurs` when `current` (the file at `path`) exists without our marker and `force` is not given.
fn refuse_theirs(
    path: &Utf8Path,
    current: Option<&str>,
    force: bool,
    elsewhere: &'static str,
) -> Result<(), FilesError> {
    match current {
        Some(text) if !is_ours(text) && !force => Err(FilesError::NotOurs {
            path: path.to_owned(),
            elsewhere,
        }),
        _ => Ok(()),
    }
}

/// Writes `text` at `path` unless `current` already is that text.
fn replace(path: Utf8PathBuf, current: Option<&str>, text: &str) -> Result<Change, FilesError> {
    if current == Some(text) {
        return Ok(Change::Unchanged(path));
    }
    write_atomically(&path, text)?;
    Ok(Change::Written(path))
}

/// The files that `write` would change: a stale or missing Dockerfile or script, a missing `.dockerignore`.
pub fn check(
    root: &Utf8Path,
    place: &DockerfilePath,
    dockerfile: &str,
    scripts: &[Script],
) -> Result<Vec<Drift>, FilesError> {
    let mut drifts = Vec::new();
    drifts.extend(check_owned(&root.join(&place.path), dockerfile)?);
    for script in scripts {
        drifts.extend(check_owned(&root.join(&script.path), script.text)?);
    }
    let ignore_path = root.join(&place.ignore);
    if read_optional(&ignore_path)?.is_none() {
        drifts.push(Drift {
            diff: format!("`{ignore_path}` does not exist\n"),
            path: ignore_path,
        });
    }
    Ok(drifts)
}

/// Whether the file at `path` differs from `text`: a diff, or a line saying it is missing.
pub fn check_owned(path: &Utf8Path, text: &str) -> Result<Option<Drift>, FilesError> {
    Ok(match read_optional(path)? {
        Some(current) if current == text => None,
        Some(current) => Some(Drift {
            diff: diff(&current, text, path),
            path: path.to_owned(),
        }),
        None => Some(Drift {
            diff: format!("`{path}` does not exist\n"),
            path: path.to_owned(),
        }),
    })
}

/// A short unified diff, three lines of context.
fn diff(old: &str, new: &str, path: &Utf8Path) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{path} (on disk)"), &format!("{path} (generated)"))
        .to_string()
}

/// Refuses `path` when it, or the closest of its directories that exists, resolves (through a symlink) outside
/// `bound`: a generated file is never written through a link out of the workspace (or repository). `bound` itself
/// may be reached through a symlink.
fn refuse_escape(bound: &Utf8Path, path: &Utf8Path) -> Result<(), FilesError> {
    let read_error = |path: &Utf8Path, source| FilesError::Read {
        path: path.to_owned(),
        source,
    };
    let real_bound = bound
        .canonicalize_utf8()
        .map_err(|source| read_error(bound, source))?;
    let mut existing = path;
    while std::fs::symlink_metadata(existing).is_err() {
        match existing.parent() {
            Some(parent) if !parent.as_str().is_empty() => existing = parent,
            _ => return Ok(()),
        }
    }
    let resolved = match existing.canonicalize_utf8() {
        Ok(resolved) => resolved,
        // A dangling symlink: where it points is not ours to create.
        Err(_) => std::fs::read_link(existing)
            .ok()
            .and_then(|target| Utf8PathBuf::from_path_buf(target).ok())
            .unwrap_or_else(|| existing.to_owned()),
    };
    if resolved.starts_with(&real_bound) {
        return Ok(());
    }
    Err(FilesError::Escapes {
        path: path.to_owned(),
        resolved,
        bound: bound.to_owned(),
    })
}

/// Writes through a temporary file in the same directory, then renames it over the target: a reader sees the old
/// file or the new one, never half of one. An existing file keeps its mode; a new one gets the mode the umask
/// gives a new file (`0666` less the umask: `0644` under the usual `022`), as an editor or a checkout would
/// write it. (`build` sends the rendered files with `0644` whatever the disk says: their modes are part of
/// BuildKit's cache keys.)
pub fn write_atomically(path: &Utf8Path, text: &str) -> Result<(), FilesError> {
    use std::os::unix::fs::PermissionsExt as _;
    let error = |source| FilesError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_str().is_empty())
        .unwrap_or(Utf8Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let existing = std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777);
    // `0o666` through `open(2)`, which applies the umask.
    let mut file = tempfile::Builder::new()
        .prefix(".cargo-dockerize-")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(error)?;
    if let Some(mode) = existing {
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(error)?;
    }
    file.write_all(text.as_bytes()).map_err(error)?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, Utf8PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::from_path_buf(dir.path().to_owned()).unwrap();
        (dir, path)
    }

    fn default_place() -> DockerfilePath {
        DockerfilePath::new("Dockerfile".into(), crate::source::Source::Default)
    }

    #[test]
    fn writes_then_reports_unchanged_and_keeps_user_ignore() {
        let (_guard, root) = root();
        let dockerfile = format!("{GENERATED_MARKER} x\nFROM scratch\n");
        let place = default_place();
        let out = write(&root, &place, &dockerfile, &[], "target/\n", false).unwrap();
        assert!(matches!(&out[0], Change::Written(_)));
        let out = write(&root, &place, &dockerfile, &[], "target/\n.git/\n", false).unwrap();
        assert!(matches!(&out[0], Change::Unchanged(_)));
        assert!(matches!(&out[1], Change::Kept(_)));
        assert_eq!(
            std::fs::read_to_string(root.join(".dockerignore")).unwrap(),
            "target/\n"
        );
    }

    #[test]
    fn refuses_a_users_dockerfile_without_force() {
        let (_guard, root) = root();
        std::fs::write(root.join("Dockerfile"), "FROM alpine\n").unwrap();
        let place = default_place();
        let err = write(
            &root,
            &place,
            &format!("{GENERATED_MARKER}\n"),
            &[],
            "",
            false,
        )
        .unwrap_err();
        assert!(matches!(err, FilesError::NotOurs { .. }));
        assert!(!root.join(".dockerignore").exists(), "nothing half-written");
        write(
            &root,
            &place,
            &format!("{GENERATED_MARKER}\n"),
            &[],
            "",
            true,
        )
        .unwrap();
    }

    #[test]
    fn scripts_are_written_checked_and_refused_like_the_dockerfile() {
        let (_guard, root) = root();
        let place = default_place();
        let dockerfile = format!("{GENERATED_MARKER}\nFROM scratch\n");
        let scripts = [Script {
            path: ".dockerize/build.sh".into(),
            text: "# Generated by cargo-dockerize\nset -eu\n",
        }];
        let out = write(&root, &place, &dockerfile, &scripts, "target/\n", false).unwrap();
        assert_eq!(out[1], Change::Written(root.join(".dockerize/build.sh")));
        assert!(check(&root, &place, &dockerfile, &scripts)
            .unwrap()
            .is_empty());
        std::fs::write(root.join(".dockerize/build.sh"), "mine\n").unwrap();
        let drifts = check(&root, &place, &dockerfile, &scripts).unwrap();
        assert_eq!(drifts.len(), 1);
        assert_eq!(drifts[0].path, root.join(".dockerize/build.sh"));
        let err = write(&root, &place, &dockerfile, &scripts, "", false).unwrap_err();
        assert!(matches!(err, FilesError::NotOurs { .. }), "{err}");
        assert_eq!(
            std::fs::read_to_string(root.join(".dockerize/build.sh")).unwrap(),
            "mine\n",
            "a script we did not write is kept without --force"
        );
    }

    #[test]
    fn check_reports_a_diff() {
        let (_guard, root) = root();
        std::fs::write(root.join("Dockerfile"), "a\nb\n").unwrap();
        std::fs::write(root.join(".dockerignore"), "target/\n").unwrap();
        let place = default_place();
        let drifts = check(&root, &place, "a\nc\n", &[]).unwrap();
        assert_eq!(drifts.len(), 1);
        assert!(drifts[0].diff.contains("-b\n+c"));
        assert!(check(&root, &place, "a\nb\n", &[]).unwrap().is_empty());
    }

    #[test]
    fn another_path_gets_its_own_ignore_file_and_leaves_the_users_dockerfile() {
        let (_guard, root) = root();
        std::fs::write(root.join("Dockerfile"), "FROM alpine\n").unwrap();
        std::fs::write(root.join(".dockerignore"), "*\n").unwrap();
        let place = DockerfilePath::new(
            "docker/Dockerfile.x".into(),
            crate::source::Source::Flag("--dockerfile".into()),
        );
        let dockerfile = format!("{GENERATED_MARKER}\nFROM scratch\n");
        let out = write(&root, &place, &dockerfile, &[], "target/\n", false).unwrap();
        assert_eq!(
            out,
            vec![
                Change::Written(root.join("docker/Dockerfile.x")),
                Change::Written(root.join("docker/Dockerfile.x.dockerignore")),
            ]
        );
        assert_eq!(
            std::fs::read_to_string(root.join("Dockerfile")).unwrap(),
            "FROM alpine\n"
        );
        assert!(check(&root, &place, &dockerfile, &[]).unwrap().is_empty());
    }

    #[test]
    fn owned_files_are_refused_checked_and_left_unchanged() {
        let (_guard, root) = root();
        let path = root.join(".github/workflows/x.yml");
        let text = format!("{GENERATED_MARKER}\nname: x\n");
        assert!(check_owned(&path, &text)
            .unwrap()
            .unwrap()
            .diff
            .contains("does not exist"));
        assert_eq!(
            write_owned(&root, &path, &text, false, "x").unwrap(),
            Change::Written(path.clone())
        );
        assert_eq!(
            write_owned(&root, &path, &text, false, "x").unwrap(),
            Change::Unchanged(path.clone())
        );
        assert!(check_owned(&path, &text).unwrap().is_none());
        std::fs::write(&path, "name: mine\n").unwrap();
        assert!(matches!(
            write_owned(&root, &path, &text, false, "x"),
            Err(FilesError::NotOurs { .. })
        ));
        assert!(check_owned(&path, &text)
            .unwrap()
            .unwrap()
            .diff
            .contains("+name: x"));
    }

    /// The process's umask, from `/proc` (setting it to read it would race with the other tests).
    fn umask() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
        u32::from_str_radix(line.split_whitespace().nth(1).unwrap(), 8).unwrap()
    }

    fn mode(path: &Utf8Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn new_files_get_the_umasks_mode_and_existing_ones_keep_theirs() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_guard, root) = root();
        let path = root.join("Dockerfile");
        write_atomically(&path, "FROM a\n").unwrap();
        assert_eq!(mode(&path), 0o666 & !umask(), "umask {:o}", umask());
        for kept in [0o600, 0o640, 0o664, 0o755] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(kept)).unwrap();
            write_atomically(&path, "FROM b\n").unwrap();
            assert_eq!(mode(&path), kept);
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "FROM b\n");
    }

    #[test]
    fn a_symlink_out_of_the_workspace_is_refused_naming_the_path() {
        let (_guard, root) = root();
        let (_outside_guard, outside) = super::tests::root();
        let workspace = root.join("ws");
        std::fs::create_dir_all(&workspace).unwrap();
        // A directory of the Dockerfile's path that is a link out of the workspace.
        std::os::unix::fs::symlink(&outside, workspace.join("docker")).unwrap();
        let place =
            DockerfilePath::new("docker/Dockerfile.x".into(), crate::source::Source::Default);
        let error = write(&workspace, &place, "FROM a\n", &[], "target/\n", false).unwrap_err();
        assert!(
            matches!(&error, FilesError::Escapes { path, .. } if *path == workspace.join("docker/Dockerfile.x")),
            "{error}"
        );
        assert!(error.to_string().contains("docker/Dockerfile.x"), "{error}");
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "nothing written outside"
        );
        // The file itself a link out, and a link to a directory that does not exist yet.
        std::os::unix::fs::symlink(outside.join("Dockerfile"), workspace.join("Dockerfile"))
            .unwrap();
        assert!(matches!(
            write(
                &workspace,
                &default_place(),
                "FROM a\n",
                &[],
                "target/\n",
                false
            ),
            Err(FilesError::Escapes { .. })
        ));
        std::os::unix::fs::symlink(outside.join("gone"), workspace.join(".github")).unwrap();
        assert!(matches!(
            write_owned(
                &workspace,
                &workspace.join(".github/workflows/x.yml"),
                "x",
                false,
                "x"
            ),
            Err(FilesError::Escapes { .. })
        ));
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "nothing written outside"
        );
        // A link that stays inside is followed as before.
        std::fs::create_dir_all(workspace.join("real")).unwrap();
        std::os::unix::fs::symlink(workspace.join("real"), workspace.join("inside")).unwrap();
        write_owned(&workspace, &workspace.join("inside/x.yml"), "x", false, "x").unwrap();
        assert!(workspace.join("real/x.yml").is_file());
    }
}
