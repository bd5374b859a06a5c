//! The build context: which files of the workspace the engine sees, as Docker decides it.
//!
//! Takes the workspace root and its `.dockerignore` and gives the matcher ([`DockerIgnore`]) and, for the
//! engine, the context as a tar stream. Patterns follow Docker's rules (moby's patternmatcher): Go's
//! `filepath.Match` plus `**`, a pattern also excludes everything under a matching directory, `!` re-includes,
//! and the last matching line decides. Matching is done with `globset`.

use camino::Utf8Path;
use globset::{GlobBuilder, GlobMatcher};

/// A parsed `.dockerignore`.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: GlobMatcher,
    exception: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("line {line} of `.dockerignore` is not a valid pattern: `{pattern}`")]
pub struct IgnoreError {
    pub line: usize,
    pub pattern: String,
    #[source]
    pub source: globset::Error,
}

impl DockerIgnore {
    /// Parses the text of a `.dockerignore`.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let mut rules = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            let cleaned = clean(pattern);
            if cleaned.is_empty() {
                continue;
            }
            let glob = GlobBuilder::new(&cleaned)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|source| IgnoreError {
                    line: index + 1,
                    pattern: pattern.to_string(),
                    source,
                })?;
            rules.push(Rule {
                matcher: glob.compile_matcher(),
                exception,
            });
        }
        Ok(Self { rules })
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left out of the context.
    pub fn excludes(&self, path: &str) -> bool {
        let mut excluded = false;
        for rule in &self.rules {
            // A pattern matches the path itself or any of its parent directories.
            let mut hit = rule.matcher.is_match(path);
            if !hit {
                let mut prefix = path;
                while let Some((parent, _)) = prefix.rsplit_once('/') {
                    if rule.matcher.is_match(parent) {
                        hit = true;
                        break;
                    }
                    prefix = parent;
                }
            }
            if hit {
                excluded = !rule.exception;
            }
        }
        excluded
    }

    /// Whether a directory could hold re-included files (an exception rule exists), so it must be walked.
    pub fn has_exceptions(&self) -> bool {
        self.rules.iter().any(|r| r.exception)
    }
}

/// Go's `filepath.Clean` for a pattern, without the leading `/` Docker drops.
fn clean(pattern: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in pattern.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
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

    #[test]
    fn directory_patterns_exclude_their_contents() {
        let ignore = DockerIgnore::parse("target/\n**/target/\n.git\n").unwrap();
        assert!(ignore.excludes("target"));
        assert!(ignore.excludes("target/release/app"));
        assert!(ignore.excludes("crates/api/target/debug/x"));
        assert!(ignore.excludes(".git/HEAD"));
        assert!(!ignore.excludes("src/main.rs"));
        assert!(!ignore.excludes("targets.rs"));
    }

    #[test]
    fn last_match_wins_and_exceptions_reinclude() {
        let ignore = DockerIgnore::parse("*.md\n!README.md\n").unwrap();
        assert!(ignore.excludes("CHANGELOG.md"));
        assert!(!ignore.excludes("README.md"));
        // `*` does not cross `/`, as in Go's filepath.Match.
        assert!(!ignore.excludes("docs/guide.md"));
    }

    #[test]
    fn comments_blank_lines_and_leading_slashes() {
        let ignore = DockerIgnore::parse("# comment\n\n/secret.txt\n./build\n").unwrap();
        assert!(ignore.excludes("secret.txt"));
        assert!(ignore.excludes("build/out"));
        assert!(!ignore.excludes("comment"));
    }
}

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

/// What went into the context, for `-v` and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub files: usize,
    pub bytes: u64,
}

/// Packs the build context into a tar for the engine: every file `.dockerignore` keeps, plus the `Dockerfile` we
/// rendered (from memory, so the build uses exactly the plan's text). `subtrees` are the directories of the context
/// to send, relative to `root` (`[""]` for all of it): a context widened for path dependencies sends the workspace
/// and those packages only, each filtered by the workspace's `.dockerignore` from its own top. A `target/` directory
/// at the top of a subtree is never walked, whatever `.dockerignore` says: it holds gigabytes no stage reads.
pub fn archive(
    root: &Utf8Path,
    subtrees: &[camino::Utf8PathBuf],
    ignore: &DockerIgnore,
    dockerfile: &str,
    skip_dirs: &[camino::Utf8PathBuf],
) -> Result<(Vec<u8>, ArchiveStats), ArchiveError> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    let mut stats = ArchiveStats::default();
    // A subtree inside another one is sent with it.
    let tops: Vec<&camino::Utf8PathBuf> = subtrees
        .iter()
        .filter(|s| !subtrees.iter().any(|o| o != *s && s.starts_with(o)))
        .collect();
    for top in tops {
        pack_subtree(&mut builder, root, top, ignore, skip_dirs, &mut stats)?;
    }
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder
        .append_data(&mut header, "Dockerfile", dockerfile.as_bytes())
        .map_err(|source| ArchiveError::Append {
            path: root.join("Dockerfile"),
            source,
        })?;
    stats.files += 1;
    stats.bytes += dockerfile.len() as u64;
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
    stats: &mut ArchiveStats,
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
        let name = within.as_str();
        let is_dir = entry.file_type().is_dir();
        if is_dir && (skip_dirs.iter().any(|d| d == path) || within == "target") {
            walker.skip_current_dir();
            continue;
        }
        if top.as_str().is_empty() && name == "Dockerfile" {
            continue;
        }
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
        let in_tar = path.strip_prefix(root).unwrap_or(path);
        builder
            .append_path_with_name(path, in_tar)
            .map_err(|source| ArchiveError::Append {
                path: path.to_owned(),
                source,
            })?;
        stats.files += 1;
        stats.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
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
        let (bytes, stats) = archive(root, &["".into()], &ignore, "FROM new\n", &[]).unwrap();
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
}
