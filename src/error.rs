//! The one top-level error, and the exit code each failure maps to.
//!
//! Exit codes (documented in `--help` and README.md): 0 success, 1 error, 2 usage error (clap),
//! 3 `generate --check` found stale files, 4 a build failed, 5 no Docker engine answered, 130 interrupted.

use crate::build::context::ArchiveError;
use crate::build::docker_config::EndpointError;
use crate::build::engine::EngineError;
use crate::files::FilesError;
use crate::plan::PlanError;
use crate::workspace::WorkspaceError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Files(#[from] FilesError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("failed to build {failed} of {total} image(s){}", if *cancelled > 0 { format!(", {cancelled} cancelled") } else { String::new() })]
    BuildFailed {
        failed: usize,
        /// Not built because another image failed first (without `--keep-going`).
        cancelled: usize,
        total: usize,
        /// Where every image's whole log was written.
        log_dir: camino::Utf8PathBuf,
    },
    #[error("interrupted: builds in flight were cancelled and nothing was tagged by them")]
    Interrupted,
    #[error("failed to start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("`{flag}` only applies when building, not to `cargo dockerize {command}`")]
    BuildOnlyFlag {
        flag: &'static str,
        command: &'static str,
    },
    #[error("`{flag}` chooses which images to build or list; `{command}` writes every binary of the workspace")]
    SelectionFlag {
        flag: &'static str,
        command: &'static str,
    },
    #[error("{count} generated file(s) are out of date")]
    Stale {
        count: usize,
        /// The command that writes them afresh.
        command: String,
    },
    #[error("failed to write to standard output")]
    Stdout(#[source] std::io::Error),
    #[error("failed to read `.dockerignore` at `{path}`")]
    DockerIgnore {
        path: camino::Utf8PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Stale { .. } => 3,
            Self::BuildOnlyFlag { .. } | Self::SelectionFlag { .. } => 2,
            Self::BuildFailed { .. } => 4,
            Self::Engine(EngineError::NoEngine { .. }) => 5,
            Self::Interrupted => 130,
            _ => 1,
        }
    }

    /// One line naming the fix, where there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Workspace(e) => e.hint(),
            Self::Plan(e) => e.hint(),
            Self::Files(e) => e.hint(),
            Self::Stale { command, .. } => Some(format!("run `{command}` and commit the result")),
            Self::Engine(e) => e.hint(),
            Self::Endpoint(e) => e.hint(),
            Self::BuildOnlyFlag { flag, .. } => Some(format!("drop it, or build: `cargo dockerize build {flag} ...`")),
            Self::SelectionFlag { flag, .. } => Some(format!(
                "drop it: one Dockerfile serves every image; `cargo dockerize build {flag} ...` builds only those"
            )),
            Self::BuildFailed { log_dir, .. } => Some(format!(
                "the failing step, its command and the end of its log are shown with the build output; whole logs are in `{log_dir}`"
            )),
            Self::Stdout(_)
            | Self::DockerIgnore { .. }
            | Self::Archive(_)
            | Self::Interrupted
            | Self::Runtime(_) => None,
        }
    }

    /// The chain of causes below the message, outermost first.
    pub fn causes(&self) -> Vec<String> {
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(self);
        // `transparent` variants show the inner error's message and forward its `source()`: nothing to skip.
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        causes
    }
}
