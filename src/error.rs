//! The one top-level error, and the exit code each failure maps to.
//!
//! Exit codes (documented in `--help`, README.md and docs/src/reference/commands.md): 0 success, 1 error, 2 usage error (clap),
//! 3 `generate --check` found stale files, 4 a build or a push failed, 5 no Docker engine answered, 130 interrupted.

use crate::config::ConfigError;
use crate::engine::context::ArchiveError;
use crate::engine::docker_config::EndpointError;
use crate::engine::EngineError;
use crate::files::FilesError;
use crate::plan::PlanError;
use crate::registry::credentials::AuthError;
use crate::workspace::WorkspaceError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Config(#[from] ConfigError),
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
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("the images are built for {platforms}, which needs BuildKit, but {engine} offers only the classic builder")]
    CrossNeedsBuildKit { platforms: String, engine: String },
    #[error("the builder mounts {names}, which needs BuildKit, but {engine} offers only the classic builder, which cannot mount secrets")]
    SecretsNeedBuildKit { names: String, engine: String },
    #[error("failed to read build secret `{name}`: {why}")]
    BuildSecret { name: String, why: String },
    #[error("the private registry `{registry}` ({}) refused the build's token (HTTP {status}): no image was built", crate::value::escaped(index))]
    RegistryRefused {
        registry: String,
        index: String,
        status: u16,
        variable: String,
        /// Where Cargo's own words are.
        log_dir: camino::Utf8PathBuf,
    },
    #[error("no token for the private registry `{registry}`, which `Cargo.lock`'s packages come from: {why}")]
    RegistryToken {
        registry: String,
        variable: String,
        why: String,
    },
    #[error("failed to forward an ssh agent for the git dependencies on {hosts}: {why}")]
    SshForward { hosts: String, why: String },
    #[error("failed to open a BuildKit session on the engine")]
    Session(#[source] crate::engine::session::SessionError),
    #[error("`--push` needs tags that name a registry: `{tag}` (image `{stage}`) would go to Docker Hub as `docker.io/{hub_name}`")]
    PushNeedsRegistry {
        tag: String,
        stage: String,
        hub_name: String,
    },
    #[error("`--build-arg {arg}={value}`: {problem}")]
    ImagesArg {
        arg: &'static str,
        value: String,
        problem: String,
        /// The Dockerfile's images, space-separated.
        images: String,
    },
    #[error("failed to push `{tag}` to `{registry}`: {message}{}", if *more > 0 { format!(" (and {more} more image(s) not pushed)") } else { String::new() })]
    PushFailed {
        tag: String,
        registry: String,
        message: String,
        /// The failure's kind, for the hint.
        reason: crate::events::PushFailure,
        /// Other images whose push failed too.
        more: usize,
    },
    #[error("failed to write the metadata file `{path}`")]
    MetadataFile {
        path: camino::Utf8PathBuf,
        #[source]
        source: FilesError,
    },
    #[error("interrupted: builds in flight were cancelled and nothing was tagged by them")]
    Interrupted,
    #[error("failed to start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error("failed to read the base-image pins of `{path}`: {source}")]
    Pins {
        path: camino::Utf8PathBuf,
        source: crate::value::PinError,
    },
    #[error("failed to pin `{base}`: {why}")]
    Pin { base: String, why: String },
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
    #[error("{count} generated file(s) are out of date: {files}")]
    Stale {
        count: usize,
        /// Each file, as `path`, comma-separated.
        files: String,
        /// The command that writes them afresh.
        command: String,
    },
    #[error("failed to write to standard output")]
    Stdout(#[source] std::io::Error),
    #[error("failed to build on `{image}`: {engine} holds it with Rust {found}, older than `rust-version = \"{floor}\"` of package `{package}`")]
    RustTooOld {
        image: String,
        found: String,
        floor: String,
        package: String,
        engine: String,
    },
    #[error("failed to write the OCI layout `{path}`")]
    Output {
        path: camino::Utf8PathBuf,
        #[source]
        source: crate::registry::layout::LayoutError,
    },
    #[error("`SOURCE_DATE_EPOCH={}` is not a number of seconds since 1970", value.escape_debug())]
    SourceDateEpoch { value: String },
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
            Self::BuildOnlyFlag { .. } | Self::SelectionFlag { .. } | Self::ImagesArg { .. } => 2,
            Self::BuildFailed { .. } | Self::PushFailed { .. } | Self::RegistryRefused { .. } => 4,
            Self::Engine(EngineError::NoEngine { .. }) => 5,
            Self::Interrupted => 130,
            _ => 1,
        }
    }

    /// One line naming the fix, where there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Workspace(e) => e.hint(),
            Self::Config(e) => e.hint(),
            Self::Plan(e) => e.hint(),
            Self::Files(e) => e.hint(),
            Self::Stale { command, .. } => Some(format!("run `{command}` and commit the result")),
            Self::Engine(e) => e.hint(),
            Self::Endpoint(e) => e.hint(),
            Self::Auth(e) => e.hint(),
            Self::PushNeedsRegistry { .. } => Some(
                "add `--registry <host>/<namespace>` (e.g. ghcr.io/acme), or `-t <host>/...`; for Docker Hub say so: `-t docker.io/<user>/{bin}:{version}`"
                    .into(),
            ),
            Self::PushFailed { registry, reason, .. } => {
                Some(crate::registry::push::hint(*reason, registry))
            }
            Self::ImagesArg { arg, images, .. } => Some(format!(
                "name images of the Dockerfile ({images}), every one this build builds; or drop it: `--bin <name>` sets {arg}"
            )),
            Self::CrossNeedsBuildKit { .. } => Some(
                "build on an engine with BuildKit (Docker 18.09 and later; not `--builder classic`), or for linux/amd64 alone"
                    .into(),
            ),
            Self::SecretsNeedBuildKit { .. } => Some(
                "build on an engine with BuildKit (Docker 18.09 and later; not `--builder classic`); `build-secrets` in [workspace.metadata.dockerize] names the secrets"
                    .into(),
            ),
            Self::BuildSecret { .. } => Some(
                "set the variable or create the file that `build-secrets` in [workspace.metadata.dockerize] names for it"
                    .into(),
            ),
            Self::RegistryRefused {
                registry,
                variable,
                log_dir,
                ..
            } => Some(format!(
                "give the build a token the registry accepts: `{variable}`, else `[registries.{registry}] token` in Cargo's `credentials.toml`; Cargo's own words are in `{log_dir}`"
            )),
            Self::RegistryToken {
                registry,
                variable,
                ..
            } => Some(format!(
                "set `{variable}` to its token (or run `cargo login --registry {registry}`, which keeps it in Cargo's credentials); the builder gets it as a BuildKit secret only"
            )),
            Self::SshForward { .. } => Some(
                "start an agent holding a key these servers accept (`eval $(ssh-agent)`, `ssh-add`), and check each host's key into `~/.ssh/known_hosts` (`ssh-keyscan -p <port> <host>`, after comparing its fingerprint)"
                    .into(),
            ),
            Self::Pins { .. } => Some(
                "write each pin as `FROM name:tag@sha256:<64 lowercase hex digits>`, or drop the `@…` and run `cargo dockerize pin`"
                    .into(),
            ),
            Self::Pin { .. } => Some(
                "make the base reachable: `docker login` its registry, or `docker pull` it so the engine holds its digest; then run `cargo dockerize pin` again"
                    .into(),
            ),
            Self::Session(_) => Some(
                "a Docker engine with BuildKit serves `/session` (Docker 18.09 and later); or build with `--builder classic`, without secrets"
                    .into(),
            ),
            Self::MetadataFile { source, .. } => source.hint(),
            Self::Output { source, .. } => source.hint(),
            Self::SourceDateEpoch { .. } => Some(
                "set it to whole seconds (`SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`), or unset it to use the last commit's time"
                    .into(),
            ),
            Self::BuildOnlyFlag { flag, .. } => Some(format!("drop it, or build: `cargo dockerize build {flag} ...`")),
            Self::SelectionFlag { flag, .. } => Some(format!(
                "drop it: one Dockerfile serves every image; `cargo dockerize build {flag} ...` builds only those"
            )),
            Self::BuildFailed { log_dir, .. } => Some(format!(
                "the failing step, its command and the end of its log are shown with the build output; whole logs are in `{log_dir}`"
            )),
            Self::RustTooOld { image, .. } => Some(format!(
                "pull the current release on this engine (`docker pull {image}`), or pin a toolchain (`rust-toolchain.toml`, or `rust-version` in [workspace.metadata.dockerize])"
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
