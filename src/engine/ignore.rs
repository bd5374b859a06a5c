//! Which files of the workspace go into the build context: the `.dockerignore` Docker reads for the
//! Dockerfile, and the matcher that says which paths it leaves out.
//!
//! Patterns follow Docker's rules (moby's patternmatcher): Go's `filepath.Match` plus `**`, a pattern also
//! excludes everything under a matching directory, `!` re-includes, and the last matching line decides.
//! Matching is done with `globset`. [`DockerIgnore`] is pure; [`read_dockerignore`] reads the file, by Docker's
//! rule for which one applies.

use camino::{Utf8Path, Utf8PathBuf};
use globset::{GlobBuilder, GlobMatcher};

use crate::plan::DockerfilePath;

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
    crate::paths::lexical_parts(pattern).0.join("/")
}

/// Warnings about an existing `.dockerignore` (called `name` in them) that lets build output or VCS data into the
/// context, or keeps out the scripts the Dockerfile runs (`scripts`, one of them, relative to the context root).
pub fn dockerignore_warnings(
    ignore: Option<&DockerIgnore>,
    name: &str,
    scripts: Option<&Utf8Path>,
) -> Vec<String> {
    let Some(ignore) = ignore else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    if let Some(script) = scripts.filter(|s| ignore.excludes(s.as_str())) {
        let dir = script.parent().unwrap_or(script);
        warnings.push(format!(
            "`{name}` keeps `{dir}/` out of the build context, and the Dockerfile runs the scripts there: a plain `docker build` fails; add `!{dir}/`"
        ));
    }
    if !ignore.excludes("target/release") {
        warnings.push(format!(
            "`{name}` lets `target/` into the build context: every build sends it to the engine and `COPY . .` changes with every local build; add `target/` and `**/target/`"
        ));
    }
    if !ignore.excludes(".git/HEAD") {
        warnings.push(format!(
            "`{name}` lets `.git/` into the build context: every commit invalidates `COPY . .`; add `.git/`"
        ));
    }
    warnings
}

/// A `.dockerignore` read from disk: where, its text, and its rules.
#[derive(Debug, Clone)]
pub struct IgnoreFile {
    pub path: Utf8PathBuf,
    pub text: String,
    pub parsed: DockerIgnore,
}

/// The `.dockerignore` Docker reads for the Dockerfile at `place`: `<path>.dockerignore` if present, else
/// `<root>/.dockerignore` if present. `Err` names the file that could not be read or parsed.
pub fn read_dockerignore(
    root: &Utf8Path,
    place: &DockerfilePath,
) -> Result<Option<IgnoreFile>, (Utf8PathBuf, std::io::Error)> {
    for candidate in place.ignore_candidates() {
        let path = root.join(candidate);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let parsed = DockerIgnore::parse(&text)
                    .map_err(|e| (path.clone(), std::io::Error::other(e)))?;
                return Ok(Some(IgnoreFile { path, text, parsed }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err((path, e)),
        }
    }
    Ok(None)
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

    #[test]
    fn docker_reads_the_ignore_file_beside_the_dockerfile_first() {
        let dir = tempfile::tempdir().unwrap();
        let root = Utf8PathBuf::from_path_buf(dir.path().to_owned()).unwrap();
        std::fs::create_dir_all(root.join("docker")).unwrap();
        std::fs::write(root.join(".dockerignore"), "*\n").unwrap();
        std::fs::write(root.join("docker/Dockerfile.x.dockerignore"), "target/\n").unwrap();
        let place = DockerfilePath::new(
            "docker/Dockerfile.x".into(),
            crate::source::Source::Flag("--dockerfile".into()),
        );
        let IgnoreFile { path, text, .. } = read_dockerignore(&root, &place).unwrap().unwrap();
        assert_eq!(
            (path, text.as_str()),
            (root.join("docker/Dockerfile.x.dockerignore"), "target/\n")
        );
        // Docker's rule for the default name too: `Dockerfile.dockerignore` before `.dockerignore`.
        let path = read_dockerignore(&root, &default_place())
            .unwrap()
            .unwrap()
            .path;
        assert_eq!(path, root.join(".dockerignore"));
        std::fs::write(root.join("Dockerfile.dockerignore"), "target/\n").unwrap();
        let path = read_dockerignore(&root, &default_place())
            .unwrap()
            .unwrap()
            .path;
        assert_eq!(path, root.join("Dockerfile.dockerignore"));
    }

    fn default_place() -> DockerfilePath {
        DockerfilePath::new("Dockerfile".into(), crate::source::Source::Default)
    }

    #[test]
    fn warns_when_target_is_not_ignored() {
        let ignore = DockerIgnore::parse(".git\n").unwrap();
        let warnings = dockerignore_warnings(Some(&ignore), ".dockerignore", None);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("target/"));
        let ignore = DockerIgnore::parse("target/\n.git/\n.*\n").unwrap();
        let script = Utf8Path::new(".dockerize/build.sh");
        let warnings = dockerignore_warnings(Some(&ignore), ".dockerignore", Some(script));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("add `!.dockerize/`"), "{warnings:?}");
    }
}
