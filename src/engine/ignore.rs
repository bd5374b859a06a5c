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
/// context, or keeps out the scripts the Dockerfile runs (`scripts`, one of them, relative to the workspace root).
/// `workspace_dir` is the workspace root relative to the context root, whose paths the patterns match.
pub fn dockerignore_warnings(
    ignore: Option<&DockerIgnore>,
    name: &str,
    scripts: Option<&Utf8Path>,
    workspace_dir: &Utf8Path,
) -> Vec<String> {
    let Some(ignore) = ignore else {
        return Vec::new();
    };
    let excludes = |path: &str| ignore.excludes(workspace_dir.join(path).as_str());
    let mut warnings = Vec::new();
    if let Some(script) = scripts.filter(|s| excludes(s.as_str())) {
        let dir = script.parent().unwrap_or(script);
        warnings.push(format!(
            "`{name}` keeps `{dir}/` out of the build context, and the Dockerfile runs the scripts there: a plain `docker build` fails; add `!{dir}/`"
        ));
    }
    if !excludes("target/release") {
        warnings.push(format!(
            "`{name}` lets `target/` into the build context: every build sends it to the engine and `COPY . .` changes with every local build; add `target/` and `**/target/`"
        ));
    }
    if !excludes(".git/HEAD") {
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
/// `<root>/.dockerignore` if present, `root` being the context root (its patterns are relative to it). `Err`
/// names the file that could not be read or parsed.
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
        let warnings = dockerignore_warnings(Some(&ignore), ".dockerignore", None, "".into());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("target/"));
        let ignore = DockerIgnore::parse("target/\n.git/\n.*\n").unwrap();
        let script = Utf8Path::new(".dockerize/build.sh");
        let warnings =
            dockerignore_warnings(Some(&ignore), ".dockerignore", Some(script), "".into());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("add `!.dockerize/`"), "{warnings:?}");
    }

    /// What the generated ignore file (`crate::render::dockerignore`) keeps out, read by this matcher.
    mod generated {
        use super::*;
        use crate::source::Source;

        fn parsed(dockerfile: &DockerfilePath) -> DockerIgnore {
            DockerIgnore::parse(&crate::render::dockerignore(
                "cargo dockerize generate",
                dockerfile,
            ))
            .unwrap()
        }

        #[test]
        fn credentials_are_left_out_at_any_depth() {
            let ignore = parsed(&DockerfilePath::new("Dockerfile".into(), Source::Default));
            for dir in ["", "crates/api/", "a/b/c/"] {
                for file in [
                    ".cargo/credentials",
                    ".cargo/credentials.toml",
                    ".netrc",
                    ".git-credentials",
                    ".npmrc",
                    ".pypirc",
                    ".docker/config.json",
                    ".ssh/id_rsa",
                    ".ssh/config",
                    ".aws/credentials",
                    ".gnupg/private-keys-v1.d/x.key",
                    ".env",
                    ".env.production",
                    "id_rsa",
                    "id_ed25519.pub",
                    "target/release/app",
                    ".git/HEAD",
                ] {
                    let path = format!("{dir}{file}");
                    assert!(ignore.excludes(&path), "{path} is in the context");
                }
            }
        }

        #[test]
        fn source_inputs_stay_even_when_they_look_like_keys() {
            let ignore = parsed(&DockerfilePath::new("Dockerfile".into(), Source::Default));
            for path in [
                "src/main.rs",
                "certs/ca.pem",
                "tests/fixtures/server.key",
                "tests/identity.p12",
                ".cargo/config.toml",
                "docker/config.toml",
                ".environment.rs",
                "src/env.rs",
                ".dockerize/build.sh",
                "Cargo.lock",
            ] {
                assert!(!ignore.excludes(path), "{path} is left out");
            }
        }

        #[test]
        fn a_widened_context_reads_patterns_from_its_own_root() {
            let place =
                DockerfilePath::in_context("Dockerfile".into(), Source::Default, "app".into());
            assert_eq!(place.ignore, "Dockerfile.dockerignore");
            let text = crate::render::dockerignore("cargo dockerize generate", &place);
            assert!(
                text.contains("\napp/Dockerfile\napp/Dockerfile.dockerignore\n"),
                "{text}"
            );
            let ignore = DockerIgnore::parse(&text).unwrap();
            for path in [
                "app/Dockerfile",
                "app/.netrc",
                "shared-lib/.cargo/credentials.toml",
                "shared-lib/target/debug/x",
                ".ssh/id_ed25519",
            ] {
                assert!(ignore.excludes(path), "{path} is in the context");
            }
            for path in [
                "app/src/main.rs",
                "shared-lib/src/lib.rs",
                "app/.dockerize/build.sh",
            ] {
                assert!(!ignore.excludes(path), "{path} is left out");
            }
        }

        #[test]
        fn the_generated_file_matches_its_own_files_literally() {
            let place = DockerfilePath::new("d[1]/Dockerfile.x".into(), Source::Default);
            let ignore = parsed(&place);
            assert!(ignore.excludes("d[1]/Dockerfile.x"));
            assert!(!ignore.excludes("d1/Dockerfile.x"));
        }
    }
}
