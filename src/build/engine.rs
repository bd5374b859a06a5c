//! The Docker engine, through bollard: connect, and build every image of the plan, `jobs` at a time.
//!
//! Takes the targets (stages of the Dockerfile, with their tags), the packed build context and the build options, and gives [`BuildEvent`]s on a channel
//! and one [`ImageOutcome`] per image. One target's build is [`super::target`]; the translation of the engine's
//! progress into events is [`super::translate`].
//!
//! Verified on Docker Engine 20.10, this tool's floor: BuildKit needs a unique session per build; the shared
//! stages of concurrent builds run once; dropping a build's stream cancels it in the engine, which is how
//! Ctrl-C and `--keep-going`-less failures stop builds in flight, before any tag is written.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use bollard::Docker;
use tokio::sync::{mpsc, Semaphore};

use super::push::{push_tags, Credentials};
use super::ssh::SshDiagnostics;
pub use super::target::build_target;
use crate::endpoint::{Endpoint, EndpointSource, Host, Tls};
use crate::events::{BuildEvent, BuildEventKind, ImageOutcome, Outcome, Push};
use crate::model::{BuilderChoice, BuilderKind};

/// A connected engine. Cheap to clone: every concurrent build holds one.
#[derive(Clone)]
pub struct Engine {
    pub(super) docker: Docker,
    pub kind: BuilderKind,
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
    match &endpoint.source {
        EndpointSource::Default => format!(
            "start Docker (e.g. `sudo systemctl start docker`), or choose another engine with --context, --host or DOCKER_HOST; {written}"
        ),
        source => match source.context() {
            Some(context) => format!(
                "start the engine of context `{context}`, or choose another with --context (`docker context ls` lists them); {written}"
            ),
            None => format!(
                "start the engine there, or fix {} (or unset it for the default socket); {written}",
                source.origin()
            ),
        },
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
            let (docker, diagnostics) =
                super::ssh::connect(host).expect("an ssh host has ssh arguments");
            return Ok((docker, Some(diagnostics)));
        }
    };
    Ok((docker, None))
}

/// bollard's default timeout for one request, in seconds.
const TIMEOUT: u64 = 120;

/// Connects to the endpoint, negotiates the API version and picks the builder. An unreachable engine surfaces
/// here, not in the middle of a build, naming the endpoint and what chose it.
pub async fn connect(endpoint: &Endpoint, choice: BuilderChoice) -> Result<Engine, EngineError> {
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
    let kind = match choice {
        BuilderChoice::Buildkit => BuilderKind::BuildKit,
        BuilderChoice::Classic => BuilderKind::Classic,
        BuilderChoice::Auto if podman => BuilderKind::Classic,
        BuilderChoice::Auto => BuilderKind::BuildKit,
    };
    // Docker names its daemon component "Engine"; Podman "Podman Engine".
    let name = match components.first().map(String::as_str) {
        None | Some("Engine") => "Docker Engine".to_string(),
        Some(other) => other.to_string(),
    };
    Ok(Engine {
        docker,
        kind,
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

/// How to build, beyond the plan.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The Dockerfile's path in the build context (`Dockerfile`, `docker/Dockerfile.dockerize`).
    pub dockerfile: String,
    pub no_cache: bool,
    pub build_args: BTreeMap<String, String>,
    /// Passed to the engine only when the user chose a platform.
    pub platform: Option<String>,
    /// Builds at once.
    pub jobs: usize,
    pub keep_going: bool,
    /// `--cache-from`: images in a registry whose inline cache BuildKit may reuse (the engine's `cachefrom`).
    pub cache_from: Vec<String>,
    /// Credentials of the registries the build reads (`--cache-from`), by host: the engine's `X-Registry-Config`.
    pub registry_config: HashMap<String, bollard::auth::DockerCredentials>,
    /// `--push`: push every tag of each image once it is built, with these credentials.
    pub push: Option<Credentials>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            dockerfile: "Dockerfile".into(),
            no_cache: false,
            build_args: BTreeMap::new(),
            platform: None,
            jobs: 0,
            keep_going: false,
            cache_from: Vec::new(),
            registry_config: HashMap::new(),
            push: None,
        }
    }
}

/// Builds every target, `jobs` at a time, sending events as they come. Returns when all are done, one failed
/// (without `keep_going`), or `interrupt` resolves (Ctrl-C): then builds in flight are dropped, which cancels
/// them in the engine. The outcomes come in the order of `targets`.
pub async fn build_all(
    engine: &Engine,
    targets: &[Target],
    context: bytes::Bytes,
    options: &BuildOptions,
    events: mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
    interrupt: impl std::future::Future<Output = ()>,
) -> (Vec<ImageOutcome>, bool) {
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let engine = engine.clone();
        let target = target.clone();
        let context = context.clone();
        let options = options.clone();
        let events = events.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            build_and_push(&engine, target, context, &options, &events, started).await
        });
    }
    drop(events);
    let mut outcomes: HashMap<String, ImageOutcome> = HashMap::new();
    let mut interrupted = false;
    tokio::pin!(interrupt);
    loop {
        tokio::select! {
            next = tasks.join_next() => {
                let Some(joined) = next else { break };
                let Ok(result) = joined else { continue };
                let failed = matches!(result.outcome, Outcome::Failed(_))
                    || matches!(result.push, Some(Push::Failed(_)));
                let name = targets
                    .iter()
                    .find(|t| t.stage == result.stage && t.several_platform() == result.platform)
                    .map_or_else(|| result.stage.clone(), |t| t.name.clone());
                outcomes.insert(name, result);
                if failed && !options.keep_going {
                    tasks.abort_all();
                }
            }
            () = &mut interrupt, if !interrupted => {
                interrupted = true;
                tasks.abort_all();
            }
        }
    }
    let ordered = targets
        .iter()
        .map(|target| {
            outcomes.remove(&target.name).unwrap_or(ImageOutcome {
                stage: target.stage.clone(),
                binary: target.binary.clone(),
                platform: target.several_platform(),
                outcome: Outcome::Cancelled,
                push: None,
            })
        })
        .collect();
    (ordered, interrupted)
}

/// Builds `target`, then, with `--push` and only when the build succeeded, pushes its tags: one image's outcome.
pub async fn build_and_push(
    engine: &Engine,
    target: Target,
    context: bytes::Bytes,
    options: &BuildOptions,
    events: &mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
) -> ImageOutcome {
    let outcome = build_target(engine, &target, context, options, events, started).await;
    let push = match (&outcome, &options.push) {
        (Outcome::Built(_), Some(credentials)) => {
            Some(push_image(engine, &target, credentials, events, started).await)
        }
        _ => None,
    };
    ImageOutcome {
        platform: target.several_platform(),
        stage: target.stage,
        binary: target.binary,
        outcome,
        push,
    }
}

/// Pushes a built image's tags, sending a retry event for each transient failure and the push's end.
pub async fn push_image(
    engine: &Engine,
    target: &Target,
    credentials: &Credentials,
    events: &mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
) -> Push {
    let send = |kind| {
        let _ = events.send(BuildEvent {
            image: target.name.clone(),
            elapsed: started.elapsed().as_secs_f64(),
            kind,
        });
    };
    let push = push_tags(engine, &target.tags, credentials, |retry| {
        send(BuildEventKind::PushRetried(retry))
    })
    .await;
    send(match &push {
        Push::Pushed(pushed) => BuildEventKind::ImagePushed(pushed.clone()),
        Push::Failed(failed) => BuildEventKind::PushFailed(failed.clone()),
    });
    push
}

/// One target to build: a stage of the Dockerfile in the context, and the tags its image gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub stage: String,
    /// The binary the image holds, for the report.
    pub binary: String,
    /// The first is applied by the build, the others with `tag_image` once it succeeded.
    pub tags: Vec<String>,
    /// The platform to build for (the engine's `platform`); `None` leaves it to `BuildOptions::platform`.
    pub platform: Option<String>,
    /// Whether the image is built for several platforms, this build being one of them: its outcome names the
    /// platform then.
    pub several: bool,
    /// What events and logs call this build: the stage, or `<stage>@<arch>` when the image is built for
    /// several platforms, each its own build.
    pub name: String,
}

impl Target {
    /// The platform its outcome names: only one of several platforms of its image.
    pub fn several_platform(&self) -> Option<String> {
        self.platform.clone().filter(|_| self.several)
    }
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
