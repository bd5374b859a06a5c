//! The Docker engine, through bollard: connect, build one target per image, tag, inspect.
//!
//! Takes the [`Plan`], the packed build context and the build options, and gives [`BuildEvent`]s on a channel
//! and one [`ImageOutcome`] per image. This is the only module that knows bollard's types: BuildKit's status
//! stream (vertexes, logs) and the classic builder's text lines are translated here, by the pure trackers
//! [`VertexTracker`] and [`ClassicTracker`], into the events the reporter reads.
//!
//! Verified on Docker Engine 20.10 (DESIGN.md §3): BuildKit needs a unique session per build; the shared
//! stages of concurrent builds run once; dropping a build's stream cancels it in the engine, which is how
//! Ctrl-C and `--keep-going`-less failures stop builds in flight, before any tag is written.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use bollard::moby::buildkit::v1::StatusResponse;
use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion, TagImageOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::{mpsc, Semaphore};

use crate::events::{
    BuildEvent, BuildEventKind, ImageBuilt, ImageFailed, ImageOutcome, LogStream, Outcome, Step,
    LOG_TAIL_LINES,
};
use crate::plan::Plan;

/// Which builder the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BuilderChoice {
    /// BuildKit when the engine has it, else the classic builder
    Auto,
    /// BuildKit (Docker Engine ≥ 18.09)
    Buildkit,
    /// The classic builder (Podman's Docker API has no BuildKit)
    Classic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderKind {
    BuildKit,
    Classic,
}

/// A connected engine.
pub struct Engine {
    docker: Docker,
    pub kind: BuilderKind,
    /// Where we connected, for messages: `DOCKER_HOST` or the default socket.
    pub host: String,
    /// `Docker Engine 20.10.24`, or what the engine calls itself.
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no Docker engine answered at `{host}`")]
    NoEngine {
        host: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("failed to tag image `{image}` as `{tag}`")]
    Tag {
        image: String,
        tag: String,
        #[source]
        source: bollard::errors::Error,
    },
}

impl EngineError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NoEngine { .. } => Some(
                "start Docker (e.g. `sudo systemctl start docker`), or set DOCKER_HOST to an engine that answers; the Dockerfile is written, so `docker build --target <binary> .` works once one runs"
                    .into(),
            ),
            Self::Tag { .. } => None,
        }
    }
}

/// The engine's address as a user would name it.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// Connects (following `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`), negotiates the API version and
/// picks the builder. An unreachable engine surfaces here, not in the middle of a build.
pub async fn connect(choice: BuilderChoice) -> Result<Engine, EngineError> {
    let host = docker_host();
    let no_engine = |source| EngineError::NoEngine {
        host: host.clone(),
        source,
    };
    let docker = Docker::connect_with_defaults().map_err(no_engine)?;
    let docker = docker.negotiate_version().await.map_err(no_engine)?;
    let version = docker.version().await.map_err(no_engine)?;
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
        host,
        description: format!("{name} {}", version.version.unwrap_or_default())
            .trim()
            .to_string(),
    })
}

/// How to build, beyond the plan.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub no_cache: bool,
    pub build_args: BTreeMap<String, String>,
    /// Passed to the engine only when the user chose a platform.
    pub platform: Option<String>,
    /// Builds at once.
    pub jobs: usize,
    pub keep_going: bool,
}

/// Builds every image of the plan, `jobs` at a time, sending events as they come. Returns when all are done,
/// one failed (without `keep_going`), or `interrupt` resolves (Ctrl-C): then builds in flight are dropped,
/// which cancels them in the engine.
pub async fn build_all(
    engine: &Engine,
    plan: &Plan,
    context: bytes::Bytes,
    options: &BuildOptions,
    events: mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
    interrupt: impl std::future::Future<Output = ()>,
) -> (Vec<ImageOutcome>, bool) {
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for image in &plan.images {
        let docker = engine.docker.clone();
        let image = image.clone();
        let target = Target {
            stage: image.stage.clone(),
            tags: image.tags.clone(),
        };
        let context = context.clone();
        let options = options.clone();
        let events = events.clone();
        let permits = permits.clone();
        let kind = engine.kind;
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let outcome =
                build_one(&docker, kind, &target, context, &options, &events, started).await;
            ImageOutcome {
                stage: image.stage.clone(),
                binary: image.binary.clone(),
                outcome,
            }
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
                let failed = matches!(result.outcome, Outcome::Failed(_));
                outcomes.insert(result.stage.clone(), result);
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
    let ordered = plan
        .images
        .iter()
        .map(|image| {
            outcomes.remove(&image.stage).unwrap_or(ImageOutcome {
                stage: image.stage.clone(),
                binary: image.binary.clone(),
                outcome: Outcome::Cancelled,
            })
        })
        .collect();
    (ordered, interrupted)
}

/// One target to build: a stage of the Dockerfile in the context, and the tags its image gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub stage: String,
    /// The first is applied by the build, the others with `tag_image` once it succeeded.
    pub tags: Vec<String>,
}

/// Builds one target of the Dockerfile in `context` (a tar with a `Dockerfile` at its root), sending events
/// as they come. Public for the benchmarks, which build other Dockerfiles through the same path.
pub async fn build_target(
    engine: &Engine,
    target: &Target,
    context: bytes::Bytes,
    options: &BuildOptions,
    events: &mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
) -> Outcome {
    build_one(
        &engine.docker,
        engine.kind,
        target,
        context,
        options,
        events,
        started,
    )
    .await
}

async fn build_one(
    docker: &Docker,
    kind: BuilderKind,
    image: &Target,
    context: bytes::Bytes,
    options: &BuildOptions,
    events: &mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
) -> Outcome {
    let began = Instant::now();
    let send = |kind: BuildEventKind| {
        let _ = events.send(BuildEvent {
            image: image.stage.clone(),
            elapsed: started.elapsed().as_secs_f64(),
            kind,
        });
    };
    send(BuildEventKind::BuildStarted {
        target: image.stage.clone(),
        tags: image.tags.clone(),
    });
    let session = format!(
        "cargo-dockerize-{}-{}-{}",
        std::process::id(),
        image.stage,
        started.elapsed().as_nanos()
    );
    let build_args: HashMap<&str, String> = options
        .build_args
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let first_tag = image
        .tags
        .first()
        .cloned()
        .unwrap_or_else(|| format!("{}:latest", image.stage));
    let mut builder = BuildImageOptionsBuilder::new()
        .dockerfile("Dockerfile")
        .t(&first_tag)
        .target(&image.stage)
        .buildargs(&build_args)
        .nocache(options.no_cache)
        .rm(true)
        .forcerm(true);
    builder = match kind {
        BuilderKind::BuildKit => builder
            .version(BuilderVersion::BuilderBuildKit)
            .session(&session),
        BuilderKind::Classic => builder.version(BuilderVersion::BuilderV1),
    };
    if let Some(platform) = &options.platform {
        builder = builder.platform(platform);
    }
    let mut stream = docker.build_image(builder.build(), None, Some(bollard::body_full(context)));
    let mut vertexes = VertexTracker::default();
    let mut classic = ClassicTracker::default();
    let mut image_id = None;
    let mut failure = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(BuildInfo {
                aux: Some(BuildInfoAux::BuildKit(status)),
                ..
            }) => vertexes.update(&status).into_iter().for_each(&send),
            Ok(BuildInfo {
                aux: Some(BuildInfoAux::Default(id)),
                ..
            }) => image_id = id.id.or(image_id),
            Ok(BuildInfo {
                stream: Some(text), ..
            }) => classic.update(&text).into_iter().for_each(&send),
            Ok(BuildInfo {
                error_detail: Some(detail),
                ..
            }) => failure = detail.message.or(failure),
            Ok(_) => {}
            // bollard 0.21's line decoder can end a finished build's stream with a lone `\r`, reported as
            // "bytes remaining on stream": once the image id has arrived, that is the end, not a failure.
            Err(bollard::errors::Error::IOError { err })
                if image_id.is_some() && err.to_string().contains("bytes remaining on stream") =>
            {
                break;
            }
            Err(error) => {
                failure = Some(match error {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    other => error_chain(&other),
                });
                break;
            }
        }
    }
    drop(stream);
    let seconds = began.elapsed().as_secs_f64();
    let (steps_total, steps_cached) = match kind {
        BuilderKind::BuildKit => vertexes.counts(),
        BuilderKind::Classic => classic.counts(),
    };
    let fail = |message: String, failed_step: Option<(Step, Vec<String>)>| {
        let (step, log_tail) = match failed_step {
            Some((step, tail)) => (Some(step), tail),
            None => (None, Vec::new()),
        };
        let failed = ImageFailed {
            message,
            step,
            log_tail,
            seconds,
        };
        send(BuildEventKind::ImageFailed(failed.clone()));
        Outcome::Failed(failed)
    };
    if let Some(message) = failure {
        let failed_step = match kind {
            BuilderKind::BuildKit => vertexes.failed_step(),
            BuilderKind::Classic => classic.current_step(),
        };
        return fail(message, failed_step);
    }
    let Some(id) = image_id else {
        return fail(
            "the engine ended the build without an image id".into(),
            None,
        );
    };
    for tag in image.tags.iter().skip(1) {
        let (repo, tag_name) = split_tag(tag);
        let tagged = docker
            .tag_image(
                &id,
                Some(
                    TagImageOptionsBuilder::new()
                        .repo(repo)
                        .tag(tag_name)
                        .build(),
                ),
            )
            .await;
        if let Err(source) = tagged {
            let error = EngineError::Tag {
                image: id.clone(),
                tag: tag.clone(),
                source,
            };
            return fail(error_chain(&error), None);
        }
    }
    let size = docker
        .inspect_image(&id)
        .await
        .ok()
        .and_then(|i| i.size)
        .unwrap_or_default()
        .max(0) as u64;
    let built = ImageBuilt {
        id,
        tags: image.tags.clone(),
        size,
        seconds,
        steps_total,
        steps_cached,
    };
    send(BuildEventKind::ImageBuilt(built.clone()));
    Outcome::Built(built)
}

/// `registry:5000/ns/name:tag` → (`registry:5000/ns/name`, `tag`).
pub fn split_tag(reference: &str) -> (&str, &str) {
    let slash = reference.rfind('/').unwrap_or(0);
    match reference[slash..].rfind(':') {
        Some(colon) => (&reference[..slash + colon], &reference[slash + colon + 1..]),
        None => (reference, "latest"),
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

/// Turns BuildKit's repeated vertex updates into one event per change, and keeps each step's log.
#[derive(Debug, Default)]
pub struct VertexTracker {
    order: Vec<String>,
    vertexes: HashMap<String, VertexState>,
}

#[derive(Debug, Default)]
struct VertexState {
    name: String,
    started: bool,
    done: bool,
    cached: bool,
    error: String,
    log: Vec<String>,
    partial: String,
}

impl VertexTracker {
    /// Events for what changed in this status message.
    pub fn update(&mut self, status: &StatusResponse) -> Vec<BuildEventKind> {
        let mut out = Vec::new();
        for vertex in &status.vertexes {
            if !self.vertexes.contains_key(&vertex.digest) {
                self.order.push(vertex.digest.clone());
            }
            let state = self.vertexes.entry(vertex.digest.clone()).or_default();
            state.name.clone_from(&vertex.name);
            let step = Step {
                id: vertex.digest.clone(),
                name: vertex.name.clone(),
            };
            if !vertex.error.is_empty() {
                state.error.clone_from(&vertex.error);
            }
            if vertex.cached && !state.cached && !state.done {
                state.cached = true;
                state.done = true;
                out.push(BuildEventKind::StepCached { step });
                continue;
            }
            if vertex.started.is_some() && !state.started && !state.done {
                state.started = true;
                out.push(BuildEventKind::StepStarted { step: step.clone() });
            }
            if let (Some(start), Some(end)) = (&vertex.started, &vertex.completed) {
                // A failed step is not "finished": the image-failed event says what happened to it.
                if !state.done && state.error.is_empty() {
                    state.done = true;
                    let seconds = (end.seconds - start.seconds) as f64
                        + f64::from(end.nanos - start.nanos) / 1e9;
                    out.push(BuildEventKind::StepFinished {
                        step,
                        seconds: seconds.max(0.0),
                    });
                }
            }
        }
        for log in &status.logs {
            let Some(state) = self.vertexes.get_mut(&log.vertex) else {
                continue;
            };
            let stream = if log.stream == 2 {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            };
            state.partial.push_str(&String::from_utf8_lossy(&log.msg));
            while let Some(newline) = state.partial.find(['\n', '\r']) {
                let line: String = state.partial.drain(..=newline).collect();
                let line = line.trim_end_matches(['\n', '\r']).to_string();
                if line.is_empty() {
                    continue;
                }
                state.log.push(line.clone());
                out.push(BuildEventKind::StepLog {
                    step: Step {
                        id: log.vertex.clone(),
                        name: state.name.clone(),
                    },
                    stream,
                    line,
                });
            }
        }
        out
    }

    /// (steps seen, steps served from cache), internal steps left out.
    pub fn counts(&self) -> (usize, usize) {
        let steps = self
            .order
            .iter()
            .filter_map(|d| self.vertexes.get(d))
            .filter(|v| {
                !Step {
                    id: String::new(),
                    name: v.name.clone(),
                }
                .is_internal()
            });
        let (total, cached) = steps.fold((0, 0), |(t, c), v| (t + 1, c + usize::from(v.cached)));
        (total, cached)
    }

    /// The step BuildKit marked as failed, with the end of its log.
    pub fn failed_step(&self) -> Option<(Step, Vec<String>)> {
        let digest = self
            .order
            .iter()
            .find(|d| self.vertexes.get(*d).is_some_and(|v| !v.error.is_empty()))?;
        let state = &self.vertexes[digest];
        let mut log = state.log.clone();
        if !state.partial.trim().is_empty() {
            log.push(state.partial.trim_end().to_string());
        }
        let tail = log.split_off(log.len().saturating_sub(LOG_TAIL_LINES));
        Some((
            Step {
                id: digest.clone(),
                name: state.name.clone(),
            },
            tail,
        ))
    }
}

/// The classic builder's `Step N/M : ...` text, turned into the same events.
#[derive(Debug, Default)]
pub struct ClassicTracker {
    current: Option<(Step, Vec<String>, bool)>,
    total: usize,
    cached: usize,
}

impl ClassicTracker {
    pub fn update(&mut self, text: &str) -> Vec<BuildEventKind> {
        let mut out = Vec::new();
        for raw in text.lines() {
            let line = strip_ansi(raw);
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix("Step ") {
                self.finish(&mut out);
                let (number, command) = rest.split_once(" : ").unwrap_or((rest, ""));
                let step = Step {
                    id: format!("step-{}", number.split('/').next().unwrap_or(number)),
                    name: format!("[{number}] {command}"),
                };
                self.total += 1;
                out.push(BuildEventKind::StepStarted { step: step.clone() });
                self.current = Some((step, Vec::new(), false));
            } else if trimmed == "---> Using cache" {
                if let Some((step, _, cached)) = &mut self.current {
                    *cached = true;
                    self.cached += 1;
                    out.push(BuildEventKind::StepCached { step: step.clone() });
                }
            } else if trimmed.starts_with("---> ")
                || trimmed.starts_with("Removing intermediate container")
                || trimmed.starts_with("Successfully built")
                || trimmed.starts_with("Successfully tagged")
            {
            } else if let Some((step, log, _)) = &mut self.current {
                log.push(trimmed.to_string());
                out.push(BuildEventKind::StepLog {
                    step: step.clone(),
                    stream: if raw.contains("\u{1b}[91m") {
                        LogStream::Stderr
                    } else {
                        LogStream::Stdout
                    },
                    line: trimmed.to_string(),
                });
            }
        }
        out
    }

    fn finish(&mut self, out: &mut Vec<BuildEventKind>) {
        if let Some((step, _, cached)) = self.current.take() {
            if !cached {
                out.push(BuildEventKind::StepFinished { step, seconds: 0.0 });
            }
        }
    }

    pub fn counts(&self) -> (usize, usize) {
        (self.total, self.cached)
    }

    /// The step that was running when the build failed, with the end of its log.
    pub fn current_step(&self) -> Option<(Step, Vec<String>)> {
        let (step, log, _) = self.current.as_ref()?;
        Some((
            step.clone(),
            log[log.len().saturating_sub(LOG_TAIL_LINES)..].to_vec(),
        ))
    }
}

/// Removes ANSI escape sequences (the classic builder colours stderr).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::moby::buildkit::v1::{Vertex, VertexLog};

    /// A vertex that ran from `start` to `end` seconds; the timestamp type is bollard's private one, so it is
    /// built by inference rather than named.
    fn ran(digest: &str, name: &str, start: i64, end: i64) -> Vertex {
        let mut vertex = Vertex {
            digest: digest.into(),
            name: name.into(),
            started: Some(Default::default()),
            completed: Some(Default::default()),
            ..Default::default()
        };
        vertex.started.as_mut().unwrap().seconds = start;
        vertex.completed.as_mut().unwrap().seconds = end;
        vertex
    }

    #[test]
    fn a_vertex_that_ran_reports_started_then_finished_with_its_duration() {
        let mut tracker = VertexTracker::default();
        let events = tracker.update(&StatusResponse {
            vertexes: vec![ran("c", "[builder 4/5] RUN cargo build", 10, 13)],
            ..Default::default()
        });
        assert!(matches!(&events[0], BuildEventKind::StepStarted { .. }));
        assert!(
            matches!(&events[1], BuildEventKind::StepFinished { seconds, .. } if (*seconds - 3.0).abs() < 1e-9)
        );
        assert_eq!(tracker.counts(), (1, 0));
    }

    #[test]
    fn split_tag_handles_registry_ports() {
        assert_eq!(split_tag("api:0.3.0"), ("api", "0.3.0"));
        assert_eq!(
            split_tag("localhost:5000/acme/api:1"),
            ("localhost:5000/acme/api", "1")
        );
        assert_eq!(
            split_tag("localhost:5000/acme/api"),
            ("localhost:5000/acme/api", "latest")
        );
    }

    #[test]
    fn strip_ansi_removes_colour_codes() {
        assert_eq!(strip_ansi("\u{1b}[91merror\u{1b}[0m"), "error");
    }

    #[test]
    fn classic_lines_become_steps() {
        let mut tracker = ClassicTracker::default();
        let mut events = tracker.update("Step 1/3 : FROM rust AS chef\n");
        events.extend(tracker.update(" ---> Using cache\n"));
        events.extend(tracker.update("Step 2/3 : RUN cargo build\n"));
        events.extend(tracker.update("\u{1b}[91m   Compiling api v0.1.0\n\u{1b}[0m"));
        assert_eq!(tracker.counts(), (2, 1));
        assert!(matches!(&events[1], BuildEventKind::StepCached { .. }));
        match &events[3] {
            BuildEventKind::StepLog { line, stream, .. } => {
                assert_eq!(line, "Compiling api v0.1.0");
                assert_eq!(*stream, LogStream::Stderr);
            }
            other => panic!("unexpected {other:?}"),
        }
        let (step, tail) = tracker.current_step().unwrap();
        assert_eq!(step.name, "[2/3] RUN cargo build");
        assert_eq!(tail, vec!["Compiling api v0.1.0"]);
    }

    #[test]
    fn vertex_updates_become_one_event_each_and_logs_split_into_lines() {
        let mut tracker = VertexTracker::default();
        let status = StatusResponse {
            vertexes: vec![
                Vertex {
                    digest: "a".into(),
                    name: "[planner 1/2] COPY . .".into(),
                    cached: true,
                    ..Default::default()
                },
                Vertex {
                    digest: "b".into(),
                    name: "[builder 3/5] RUN cargo build".into(),
                    ..Default::default()
                },
            ],
            logs: vec![VertexLog {
                vertex: "b".into(),
                stream: 2,
                msg: b"   Compiling a\n   Compiling".to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let events = tracker.update(&status);
        assert!(matches!(&events[0], BuildEventKind::StepCached { step } if step.id == "a"));
        assert!(
            matches!(&events[1], BuildEventKind::StepLog { line, .. } if line == "   Compiling a")
        );
        let again = tracker.update(&status);
        assert!(
            again
                .iter()
                .all(|e| !matches!(e, BuildEventKind::StepCached { .. })),
            "no repeats"
        );
        let failed = StatusResponse {
            vertexes: vec![Vertex {
                digest: "b".into(),
                name: "[builder 3/5] RUN cargo build".into(),
                error: "exit code: 101".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        tracker.update(&failed);
        let (step, tail) = tracker.failed_step().unwrap();
        assert_eq!(step.name, "[builder 3/5] RUN cargo build");
        assert_eq!(tail.first().map(String::as_str), Some("   Compiling a"));
        assert_eq!(tracker.counts(), (2, 1));
    }
}
