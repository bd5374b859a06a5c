//! The build context as the engine receives it: a tar of the files `.dockerignore` keeps, the Dockerfile and the
//! scripts it runs.
//!
//! Takes the context root, the directories to send, the parsed `.dockerignore` and the rendered files (the
//! Dockerfile and its scripts), and gives the archive in memory. Reads the file system; never writes it.

use camino::Utf8Path;

use super::ignore::DockerIgnore;

/// Why the context could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("failed to read `{path}` for the build context")]
    Walk {
        path: camino::Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to add `{path}` to the build context")]
    Append {
        path: camino::Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A file the build reads as we rendered it, not from disk (the Dockerfile, a script beside it): its path in the
/// context, and its text.
#[derive(Debug, Clone, Copy)]
pub struct Rendered<'a> {
    pub path: &'a Utf8Path,
    pub text: &'a str,
}

/// What went into the context, for `-v` and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub files: usize,
    pub bytes: u64,
    /// Files sent whose names say they hold credentials ([`crate::render::SECRETS`]): the ignore file in use lets
    /// them in, and the build warns.
    pub credentials: Vec<camino::Utf8PathBuf>,
}

/// The credential files of [`crate::render::SECRETS`], at any depth.
fn credentials() -> DockerIgnore {
    let patterns: Vec<String> = crate::render::SECRETS
        .iter()
        .map(|(pattern, _)| format!("**/{pattern}"))
        .collect();
    DockerIgnore::parse(&patterns.join("\n")).unwrap_or_default()
}

/// Packs the build context into a tar for the engine: every file `.dockerignore` keeps, plus the files we rendered
/// (the Dockerfile first, then its scripts) at their paths, from memory, so the build uses exactly the plan's text:
/// the files on disk there are not sent, any other `Dockerfile` is an ordinary file of the context. `subtrees` are
/// the directories of the context to send, relative to `root` (`[""]` for all of it): a context widened for path
/// dependencies sends the workspace and those packages only, filtered by the ignore file as Docker applies it,
/// from the context root. A `target/` directory
/// at the top of a subtree is never walked, whatever `.dockerignore` says: it holds gigabytes no stage reads.
pub fn archive(
    root: &Utf8Path,
    subtrees: &[camino::Utf8PathBuf],
    ignore: &DockerIgnore,
    rendered: &[Rendered<'_>],
    skip_dirs: &[camino::Utf8PathBuf],
) -> Result<(Vec<u8>, ArchiveStats), ArchiveError> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut stats = ArchiveStats::default();
    let credentials = credentials();
    // A subtree inside another one is sent with it.
    let tops: Vec<&camino::Utf8PathBuf> = subtrees
        .iter()
        .filter(|s| !subtrees.iter().any(|o| o != *s && s.starts_with(o)))
        .collect();
    for top in tops {
        pack_subtree(
            &mut builder,
            root,
            top,
            ignore,
            skip_dirs,
            rendered,
            (&credentials, &mut stats),
        )?;
    }
    for file in rendered {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append_data(&mut header, file.path, file.text.as_bytes())
            .map_err(|source| ArchiveError::Append {
                path: root.join(file.path),
                source,
            })?;
        stats.files += 1;
        stats.bytes += file.text.len() as u64;
    }
    let bytes = builder
        .into_inner()
        .map_err(|source| ArchiveError::Append {
            path: root.to_owned(),
            source,
        })?;
    Ok((bytes, stats))
}

fn pack_subtree(
    builder: &mut tar::Builder<Vec<u8>>,
    root: &Utf8Path,
    top: &Utf8Path,
    ignore: &DockerIgnore,
    skip_dirs: &[camino::Utf8PathBuf],
    rendered: &[Rendered<'_>],
    (credentials, stats): (&DockerIgnore, &mut ArchiveStats),
) -> Result<(), ArchiveError> {
    let base = root.join(top);
    let mut walker = walkdir::WalkDir::new(&base)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = entry.map_err(|e| ArchiveError::Walk {
            path: e
                .path()
                .and_then(camino::Utf8Path::from_path)
                .unwrap_or(root)
                .to_owned(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("filesystem loop")),
        })?;
        let Some(path) = camino::Utf8Path::from_path(entry.path()) else {
            continue;
        };
        let within = path.strip_prefix(&base).unwrap_or(path);
        let is_dir = entry.file_type().is_dir();
        if is_dir && (skip_dirs.iter().any(|d| d == path) || within == "target") {
            walker.skip_current_dir();
            continue;
        }
        let in_tar = path.strip_prefix(root).unwrap_or(path);
        if rendered.iter().any(|f| f.path == in_tar) {
            continue;
        }
        let name = in_tar.as_str();
        if ignore.excludes(name) && name != ".dockerignore" {
            // A directory with nothing re-included below it need not be walked at all.
            if is_dir && !ignore.has_exceptions() {
                walker.skip_current_dir();
            }
            continue;
        }
        if is_dir {
            continue;
        }
        builder
            .append_path_with_name(path, in_tar)
            .map_err(|source| ArchiveError::Append {
                path: path.to_owned(),
                source,
            })?;
        stats.files += 1;
        stats.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
        if credentials.excludes(name) {
            stats.credentials.push(in_tar.to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod archive_tests {
    use super::*;

    #[test]
    fn archive_honours_dockerignore_and_skips_target() {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8Path::from_path(dir.path()).unwrap();
        for (path, text) in [
            ("src/main.rs", "fn main() {}"),
            ("target/release/app", "binary"),
            ("secret.env", "KEY=1"),
            ("Dockerfile", "FROM old"),
            ("docs/a.md", "a"),
        ] {
            std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            std::fs::write(root.join(path), text).unwrap();
        }
        let ignore = DockerIgnore::parse("*.env\ndocs/\n").unwrap();
        let dockerfile = Rendered {
            path: "Dockerfile".into(),
            text: "FROM new\n",
        };
        let (bytes, stats) = archive(root, &["".into()], &ignore, &[dockerfile], &[]).unwrap();
        let mut names = Vec::new();
        let mut dockerfile = String::new();
        for entry in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().to_string();
            if name == "Dockerfile" {
                std::io::Read::read_to_string(&mut entry, &mut dockerfile).unwrap();
            }
            names.push(name);
        }
        assert_eq!(names, vec!["src/main.rs", "Dockerfile"]);
        assert_eq!(
            dockerfile, "FROM new\n",
            "the rendered Dockerfile, not the one on disk"
        );
        assert_eq!(stats.files, 2);
    }

    #[test]
    fn another_dockerfile_path_sends_the_users_dockerfile_and_ours_at_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8Path::from_path(dir.path()).unwrap();
        for (path, text) in [
            ("src/main.rs", "fn main() {}"),
            ("Dockerfile", "FROM theirs"),
            ("docker/Dockerfile.x", "FROM stale"),
            ("docker/.dockerize/build.sh", "echo stale"),
        ] {
            std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            std::fs::write(root.join(path), text).unwrap();
        }
        let rendered = [
            Rendered {
                path: "docker/Dockerfile.x".into(),
                text: "FROM ours\n",
            },
            Rendered {
                path: "docker/.dockerize/build.sh".into(),
                text: "echo ours\n",
            },
        ];
        let (bytes, _) =
            archive(root, &["".into()], &DockerIgnore::default(), &rendered, &[]).unwrap();
        let mut entries = Vec::new();
        for entry in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().to_string();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut entry, &mut text).unwrap();
            entries.push((name, text));
        }
        let entry = |name: &str, text: &str| (name.to_string(), text.to_string());
        assert_eq!(
            entries,
            vec![
                entry("Dockerfile", "FROM theirs"),
                entry("src/main.rs", "fn main() {}"),
                entry("docker/Dockerfile.x", "FROM ours\n"),
                entry("docker/.dockerize/build.sh", "echo ours\n"),
            ]
        );
    }

    #[test]
    fn a_widened_context_is_filtered_from_its_root_and_credentials_sent_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let root = camino::Utf8Path::from_path(dir.path()).unwrap();
        for path in [
            "app/src/main.rs",
            "app/.netrc",
            "app/Dockerfile",
            "lib/src/lib.rs",
            "lib/.cargo/credentials.toml",
            "lib/sub/.npmrc",
            "elsewhere/x",
        ] {
            std::fs::create_dir_all(root.join(path).parent().unwrap()).unwrap();
            std::fs::write(root.join(path), "x").unwrap();
        }
        let names = |bytes: &[u8]| -> Vec<String> {
            tar::Archive::new(bytes)
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().to_string_lossy().to_string())
                .collect()
        };
        let place = crate::plan::DockerfilePath::in_context(
            "Dockerfile".into(),
            crate::source::Source::Default,
            "app".into(),
        );
        let generated = DockerIgnore::parse(&crate::render::dockerignore(
            "cargo dockerize generate",
            &place,
        ))
        .unwrap();
        let subtrees = ["app".into(), "lib".into()];
        let (bytes, stats) = archive(root, &subtrees, &generated, &[], &[]).unwrap();
        assert_eq!(names(&bytes), ["app/src/main.rs", "lib/src/lib.rs"]);
        assert!(stats.credentials.is_empty());
        // A pattern anchored at the context root holds there, not at each subtree's top.
        let anchored = DockerIgnore::parse("app/Dockerfile\nsrc/\n").unwrap();
        let (bytes, stats) = archive(root, &subtrees, &anchored, &[], &[]).unwrap();
        assert_eq!(
            names(&bytes),
            [
                "app/.netrc",
                "app/src/main.rs",
                "lib/.cargo/credentials.toml",
                "lib/src/lib.rs",
                "lib/sub/.npmrc"
            ]
        );
        assert_eq!(
            stats.credentials,
            [
                camino::Utf8PathBuf::from("app/.netrc"),
                "lib/.cargo/credentials.toml".into(),
                "lib/sub/.npmrc".into()
            ]
        );
    }
}
