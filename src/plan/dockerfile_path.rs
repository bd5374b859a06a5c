//! Where the Dockerfile goes (`--dockerfile`, else `dockerfile` of `[workspace.metadata.dockerize]`, else
//! `Dockerfile` at the workspace root: resolved by the configuration) and which ignore file goes with it.

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::config::DEFAULT_DOCKERFILE;
use crate::source::Source;

/// Where the Dockerfile goes (relative to the workspace root) and the `.dockerignore` written for it.
///
/// Docker's rule for the ignore file: `<Dockerfile>.dockerignore` beside the Dockerfile takes precedence, else
/// `.dockerignore` at the context root. For the default `Dockerfile` at the context root we write the root one,
/// as every builder reads it (the classic one included); for any other path `<path>.dockerignore`, so a workspace
/// that keeps its own `Dockerfile` keeps its own `.dockerignore` for it too, and ours (which must keep `target/`
/// and credentials out) cannot be overruled by it. When path dependencies widen the context above the workspace,
/// the context root's `.dockerignore` is outside the workspace, so we write `<path>.dockerignore` there too:
/// BuildKit reads it (Engine 20.10's BuildKit 0.8 and Buildx included, checked by `tests/e2e_context.rs`); the
/// classic builder reads only the root one, and cannot run this Dockerfile anyway (`RUN --mount`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DockerfilePath {
    /// `Dockerfile`, `docker/Dockerfile.dockerize`: relative, folded, inside the workspace.
    pub path: Utf8PathBuf,
    /// The `.dockerignore` we write: `.dockerignore`, or `<path>.dockerignore`.
    pub ignore: Utf8PathBuf,
    /// Where the path came from: the default, `--dockerfile`, or the workspace table.
    pub source: Source,
    /// The workspace root relative to the context root, empty when they are the same: the ignore file's
    /// patterns are relative to the context root.
    #[serde(skip)]
    pub workspace_dir: Utf8PathBuf,
}

impl DockerfilePath {
    /// The path and its ignore file, from where it came from, for a context that is the workspace.
    pub fn new(path: Utf8PathBuf, source: Source) -> Self {
        Self::in_context(path, source, Utf8PathBuf::new())
    }

    /// The path and its ignore file for a context whose root holds the workspace at `workspace_dir` (empty: the
    /// workspace root is the context root).
    pub fn in_context(path: Utf8PathBuf, source: Source, workspace_dir: Utf8PathBuf) -> Self {
        let ignore = if path == DEFAULT_DOCKERFILE && workspace_dir.as_str().is_empty() {
            ".dockerignore".into()
        } else {
            format!("{path}.dockerignore").into()
        };
        Self {
            path,
            ignore,
            source,
            workspace_dir,
        }
    }

    /// A path relative to the workspace root as seen from the context root.
    pub fn from_context(&self, path: &str) -> Utf8PathBuf {
        self.workspace_dir.join(path)
    }

    /// Whether it is the default `Dockerfile` at the workspace root.
    pub fn is_default(&self) -> bool {
        self.path == DEFAULT_DOCKERFILE
    }

    /// The ignore files Docker would read for this Dockerfile, first match wins: `<path>.dockerignore`, then the
    /// context root's `.dockerignore` (relative to the context root).
    pub fn ignore_candidates(&self) -> [Utf8PathBuf; 2] {
        [
            self.from_context(&format!("{}.dockerignore", self.path)),
            ".dockerignore".into(),
        ]
    }
}
