//! The `.dockerignore`: the one we write when the workspace has none, and the matcher that reads any one.
//!
//! [`dockerignore`] gives our text; [`DockerIgnore`] parses a file's text and says which paths it leaves out.
//! Patterns follow Docker's rules (moby's patternmatcher): Go's `filepath.Match` plus `**`, a pattern also
//! excludes everything under a matching directory, `!` re-includes, and the last matching line decides.
//! Matching is done with `globset`. Pure: reading the file is the caller's business.

use std::fmt::Write as _;

use globset::{GlobBuilder, GlobMatcher};

use super::GENERATED_MARKER;
use crate::plan::DockerfilePath;

/// The `.dockerignore` we write when the workspace has none: keeps build output, VCS data, secrets and our own
/// files out of the context, so the context is small and a Dockerfile edit does not invalidate `COPY . .`.
pub fn dockerignore(command: &str, dockerfile: &DockerfilePath) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{GENERATED_MARKER} {}. Edit freely: it is never overwritten",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "# unless you pass --force to `{command}`.");
    out.push_str(
        "\n# Build output\ntarget/\n**/target/\n\n# Version control and editors\n.git/\n**/.git/\n.hg/\n.svn/\n.idea/\n.vscode/\n**/.DS_Store\n\
         \n# Secrets\n.env\n.env.*\n**/.env\n**/.env.*\n**/*.pem\n**/*.key\n**/*.p12\n**/*.pfx\n**/id_rsa*\n**/id_ed25519*\n.aws/\n.ssh/\n\
         \n# The build's own files: editing them must not invalidate `COPY . .`\n",
    );
    let _ = writeln!(out, "{}\n{}", dockerfile.path, dockerfile.ignore);
    let _ = writeln!(
        out,
        "# Not `{}/`: the Dockerfile runs the scripts there, so they stay in the context.",
        super::scripts::dir_in_workspace(dockerfile)
    );
    out
}

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
