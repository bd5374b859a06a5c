//! The Docker engine: which one ([`docker_config`], as the Docker CLI decides, into an [`endpoint::Endpoint`]),
//! the connection (its socket, TCP with TLS, or [`ssh`]), the build context sent to it ([`context`], filtered by
//! the workspace's `.dockerignore`, [`ignore`]), the build requests ([`request`], run `jobs` at a time by
//! [`jobs`]), and the engine's progress translated into [`crate::events::BuildEvent`]s ([`status`]).
//!
//! The only module besides [`crate::registry`] that knows bollard's types; what it tells the rest of the crate is
//! events and outcomes. It pushes nothing and knows no registry: publishing a built image is the registry
//! module's, which runs on top of the engine this module connects to.
//!
//! Verified on Docker Engine 20.10, this tool's floor: a BuildKit build needs a session, which one [`session`] per
//! run serves (secrets, ssh agents, registry credentials); the shared stages of concurrent builds run once;
//! dropping a build's stream cancels it in the engine, which is how Ctrl-C and `--keep-going`-less failures stop
//! builds in flight, before any tag is written.

pub mod context;
pub mod docker_config;
pub mod endpoint;
pub mod ignore;
mod jobs;
mod request;
pub mod session;
mod ssh;
mod status;

pub use jobs::{build_all, RegistryConfig, Run};
pub use request::build_target;
pub use status::{ClassicTracker, VertexTracker};

use bollard::Docker;

use crate::model::{Backend, BackendChoice};
use crate::source::Source;
use endpoint::{Endpoint, Host, Tls};
use ssh::SshDiagnostics;

/// A connected engine. Cheap to clone: every concurrent build holds one.
#[derive(Clone)]
pub struct Engine {
    /// The client: the registry module pushes through it too.
    pub(crate) docker: Docker,
    pub backend: Backend,
    /// Where we connected and what chose it, for messages.
    pub endpoint: Endpoint,
    /// `Docker Engine 20.10.24`, or what the engine calls itself.
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("failed to connect to the Docker engine at {endpoint}")]
    NoEngine {
        endpoint: Box<Endpoint>,
        #[source]
        source: ConnectError,
    },
    #[error("failed to tag image `{image}` as `{tag}`")]
    Tag {
        image: String,
        tag: String,
        #[source]
        source: bollard::errors::Error,
    },
}

/// Why an engine did not answer: bollard's error, and for ssh what ssh said on stderr.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Engine(#[from] bollard::errors::Error),
    #[error("ssh: {}", stderr.join(" / "))]
    Ssh {
        stderr: Vec<String>,
        #[source]
        source: bollard::errors::Error,
    },
}

impl EngineError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoEngine { endpoint, .. } => Some(no_engine_hint(endpoint)),
            Self::Tag { .. } => None,
        }
    }
}

/// The fix for an engine that does not answer, by what chose it.
fn no_engine_hint(endpoint: &Endpoint) -> String {
    let written = "the Dockerfile is written, so `docker build --target <binary> .` works once an engine answers";
    if let Host::Ssh {
        user, host, port, ..
    } = &endpoint.host
    {
        let mut ssh = vec!["ssh".to_string()];
        if let Some(user) = user {
            ssh.extend(["-l".into(), user.clone()]);
        }
        if let Some(port) = port {
            ssh.extend(["-p".into(), port.to_string()]);
        }
        ssh.extend([host.clone(), "docker".into(), "version".into()]);
        return format!(
            "check that `{}` answers without a prompt (a key or agent, a known host key): each connection runs `docker system dial-stdio` there; {written}",
            ssh.join(" ")
        );
    }
    match (&endpoint.source, &endpoint.context) {
        (Source::Default, _) => format!(
            "start Docker (e.g. `sudo systemctl start docker`), or choose another engine with --context, --host or DOCKER_HOST; {written}"
        ),
        (_, Some(context)) => format!(
            "start the engine of context `{context}`, or choose another with --context (`docker context ls` lists them); {written}"
        ),
        (source, None) => format!(
            "start the engine there, or fix {} (or unset it for the default socket); {written}",
            endpoint::origin(source)
        ),
    }
}

/// A client for the endpoint: nothing is sent yet. For ssh, the diagnostics collect what ssh says.
fn client(endpoint: &Endpoint) -> Result<(Docker, Option<SshDiagnostics>), bollard::errors::Error> {
    let version = bollard::API_DEFAULT_VERSION;
    let docker = match (&endpoint.host, &endpoint.tls) {
        (Host::Unix { path }, _) => Docker::connect_with_unix(path.as_str(), TIMEOUT, version)?,
        (Host::Tcp { address }, Tls::Off) => {
            Docker::connect_with_http(&format!("tcp://{address}"), TIMEOUT, version)?
        }
        (Host::Tcp { address }, Tls::Verify { ca, cert, key }) => Docker::connect_with_ssl(
            &format!("tcp://{address}"),
            key.as_std_path(),
            cert.as_std_path(),
            ca.as_std_path(),
            TIMEOUT,
            version,
        )?,
        (host @ Host::Ssh { .. }, _) => {
            let (docker, diagnostics) = ssh::connect(host).expect("an ssh host has ssh arguments");
            return Ok((docker, Some(diagnostics)));
        }
    };
    Ok((docker, None))
}

/// bollard's default timeout for one request, in seconds.
const TIMEOUT: u64 = 120;

/// Connects to the endpoint, negotiates the API version and picks the builder. An unreachable engine surfaces
/// here, not in the middle of a build, naming the endpoint and what chose it.
pub async fn connect(endpoint: &Endpoint, choice: BackendChoice) -> Result<Engine, EngineError> {
    let (docker, version, diagnostics) = match handshake(endpoint).await {
        Ok(connected) => connected,
        Err((source, diagnostics)) => {
            let stderr = match diagnostics {
                Some(diagnostics) => diagnostics.stderr().await,
                None => Vec::new(),
            };
            let source = if stderr.is_empty() {
                ConnectError::Engine(source)
            } else {
                ConnectError::Ssh { stderr, source }
            };
            return Err(EngineError::NoEngine {
                endpoint: Box::new(endpoint.clone()),
                source,
            });
        }
    };
    drop(diagnostics);
    let components: Vec<String> = version
        .components
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect();
    // Podman's Docker-compatible API answers /build but has no BuildKit session endpoint.
    let podman = components
        .iter()
        .any(|c| c.to_lowercase().contains("podman"));
    let backend = match choice {
        BackendChoice::Buildkit => Backend::BuildKit,
        BackendChoice::Classic => Backend::Classic,
        BackendChoice::Auto if podman => Backend::Classic,
        BackendChoice::Auto => Backend::BuildKit,
    };
    // Docker names its daemon component "Engine"; Podman "Podman Engine".
    let name = match components.first().map(String::as_str) {
        None | Some("Engine") => "Docker Engine".to_string(),
        Some(other) => other.to_string(),
    };
    Ok(Engine {
        docker,
        backend,
        endpoint: endpoint.clone(),
        description: format!("{name} {}", version.version.unwrap_or_default())
            .trim()
            .to_string(),
    })
}

impl Engine {
    /// The environment of an image the engine holds (`["RUST_VERSION=1.95.0", ...]`); `None` when it holds none
    /// by that name (a build pulls it) or the image says nothing.
    pub async fn image_env(&self, image: &str) -> Option<Vec<String>> {
        self.docker.inspect_image(image).await.ok()?.config?.env
    }

    /// The `RepoDigests` of an image the engine holds (`["debian@sha256:…"]`: the digest each repository it was
    /// pulled from or pushed to gave it); empty when it holds none by that name or it has none (built or loaded).
    pub async fn image_repo_digests(&self, image: &str) -> Vec<String> {
        self.docker
            .inspect_image(image)
            .await
            .ok()
            .and_then(|i| i.repo_digests)
            .unwrap_or_default()
    }

    /// The image `reference` as `docker save` gives it: a docker-archive tar (`manifest.json`, the config, one
    /// uncompressed tar per layer), whole in memory.
    pub async fn export_image(&self, reference: &str) -> Result<Vec<u8>, bollard::errors::Error> {
        use futures_util::TryStreamExt as _;
        let chunks: Vec<bytes::Bytes> = self.docker.export_image(reference).try_collect().await?;
        Ok(chunks.concat())
    }
}

type Handshake = (
    Docker,
    bollard::models::SystemVersion,
    Option<SshDiagnostics>,
);

/// The client, its negotiated API version and the engine's version; on failure, the error and what ssh said.
async fn handshake(
    endpoint: &Endpoint,
) -> Result<Handshake, (bollard::errors::Error, Option<SshDiagnostics>)> {
    let (docker, diagnostics) = client(endpoint).map_err(|e| (e, None))?;
    let fail = |e| (e, diagnostics.clone());
    let docker = docker.negotiate_version().await.map_err(fail)?;
    let version = docker.version().await.map_err(fail)?;
    Ok((docker, version, diagnostics))
}

/// The registry hosts the engine reaches over plain HTTP by its own configuration (`IndexConfigs` with `Secure:
/// false`, its `insecure-registries`); loopback hosts are insecure to it by default besides. `Err` is why the
/// engine's list could not be read.
pub async fn insecure_registries(engine: &Engine) -> Result<Vec<String>, String> {
    let info = engine.docker.info().await.map_err(|e| error_chain(&e))?;
    Ok(info
        .registry_config
        .and_then(|c| c.index_configs)
        .into_iter()
        .flatten()
        .filter(|(_, index)| index.secure == Some(false))
        .map(|(host, _)| host)
        .collect())
}

/// An error and its causes on one line: bollard hides the useful part (connection refused) in `source()`.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
