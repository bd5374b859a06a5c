//! Where the Dockerfile goes (`--dockerfile`, else `dockerfile` of `[workspace.metadata.dockerize]`, else
//! `Dockerfile` at the workspace root: resolved by the configuration) and which ignore file goes with it.

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::config::DEFAULT_DOCKERFILE;
use crate::source::Source;

/// Where the Dockerfile goes (relative to the workspace root) and the `.dockerignore` written for it.
///
/// Docker's rule for the ignore file: `<Dockerfile>.dockerignore` beside the Dockerfile takes precedence, else
/// `.dockerignore` at the context root. For the default `Dockerfile` we write the root one, as every Docker
/// version reads it; for any other path `<path>.dockerignore`, so a workspace that keeps its own `Dockerfile`
/// keeps its own `.dockerignore` for it too, and ours (which must keep `target/` out) cannot be overruled by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DockerfilePath {
    /// `Dockerfile`, `docker/Dockerfile.dockerize`: relative, folded, inside the workspace.
    pub path: Utf8PathBuf,
    /// The `.dockerignore` we write: `.dockerignore`, or `<path>.dockerignore`.
    pub ignore: Utf8PathBuf,
    /// Where the path came from: the default, `--dockerfile`, or the workspace table.
    pub source: Source,
}

impl DockerfilePath {
    /// The path and its ignore file, from where it came from.
    pub fn new(path: Utf8PathBuf, source: Source) -> Self {
        let ignore = if path == DEFAULT_DOCKERFILE {
            ".dockerignore".into()
        } else {
            format!("{path}.dockerignore").into()
        };
        Self {
            path,
            ignore,
            source,
        }
    }

    /// Whether it is the default `Dockerfile` at the workspace root.
    pub fn is_default(&self) -> bool {
        self.path == DEFAULT_DOCKERFILE
    }

    /// The ignore files Docker would read for this Dockerfile, first match wins: `<path>.dockerignore`, then the
    /// root `.dockerignore` (relative to the workspace root).
    pub fn ignore_candidates(&self) -> [Utf8PathBuf; 2] {
        [
            format!("{}.dockerignore", self.path).into(),
            ".dockerignore".into(),
        ]
    }
}
