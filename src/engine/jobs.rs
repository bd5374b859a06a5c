//! Every build of a command, `jobs` at a time: started in order, each one's outcome kept in that order, all of
//! them stopped at the first failure (unless `--keep-going`) or at Ctrl-C.
//!
//! What one build is, is the caller's: a future that gives its [`ImageOutcome`] (a build through
//! [`super::build_target`], then perhaps a push). Dropping the future cancels the build in the engine.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use bollard::auth::DockerCredentials;
use tokio::sync::{mpsc, Semaphore};

use crate::events::{BuildEvent, BuildEventKind, ImageOutcome, Outcome, Push};
use crate::plan::Build;

/// What every build of a run shares: the packed build context, the Dockerfile's path in it, the credentials of
/// the registries the builds read, where events go, and when the run started (events count from it).
#[derive(Debug, Clone)]
pub struct Run {
    pub context: bytes::Bytes,
    /// The Dockerfile's path in the context (`Dockerfile`, `docker/Dockerfile.dockerize`).
    pub dockerfile: String,
    /// Credentials of the registries the builds read (`--cache-from`): the classic builder's `X-Registry-Config`
    /// (BuildKit asks the session for them).
    pub registry_config: RegistryConfig,
    /// The id of the run's BuildKit session ([`super::session`]); `None` for the classic builder.
    pub session: Option<String>,
    pub events: mpsc::UnboundedSender<BuildEvent>,
    pub started: Instant,
}

impl Run {
    /// Sends an event of the build called `name`; a reporter that has gone away is no reason to stop building.
    pub fn send(&self, name: &str, kind: BuildEventKind) {
        let _ = self.events.send(BuildEvent {
            image: name.to_string(),
            elapsed: self.started.elapsed().as_secs_f64(),
            kind,
        });
    }
}

/// Credentials of the registries a build reads, by the key the Docker CLI stores them under: the engine's
/// `X-Registry-Config`. Opaque outside the engine and registry modules, which fill it.
#[derive(Clone, Default)]
pub struct RegistryConfig(pub(crate) HashMap<String, DockerCredentials>);

impl std::fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets: only which registries have some.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Runs `build` for every build of `builds`, `jobs` at a time. Returns when all are done, one failed (without
/// `keep_going`), or `interrupt` resolves (Ctrl-C): then builds in flight are dropped, which cancels them in the
/// engine. The outcomes come in the order of `builds`; a build never started is `Cancelled`.
pub async fn build_all<F>(
    builds: &[Build],
    jobs: usize,
    keep_going: bool,
    interrupt: impl Future<Output = ()>,
    build: impl Fn(Build) -> F,
) -> (Vec<ImageOutcome>, bool)
where
    F: Future<Output = ImageOutcome> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for planned in builds {
        let permits = permits.clone();
        let name = planned.name.clone();
        let job = build(planned.clone());
        tasks.spawn(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            (name, job.await)
        });
    }
    let mut outcomes: HashMap<String, ImageOutcome> = HashMap::new();
    let mut interrupted = false;
    tokio::pin!(interrupt);
    loop {
        tokio::select! {
            next = tasks.join_next() => {
                let Some(joined) = next else { break };
                let Ok((name, result)) = joined else { continue };
                let failed = matches!(result.outcome, Outcome::Failed(_))
                    || matches!(result.push, Some(Push::Failed(_)));
                outcomes.insert(name, result);
                if failed && !keep_going {
                    tasks.abort_all();
                }
            }
            () = &mut interrupt, if !interrupted => {
                interrupted = true;
                tasks.abort_all();
            }
        }
    }
    let ordered = builds
        .iter()
        .map(|planned| {
            outcomes.remove(&planned.name).unwrap_or(ImageOutcome {
                stage: planned.stage.clone(),
                binary: planned.binary.clone(),
                platform: planned.outcome_platform(),
                outcome: Outcome::Cancelled,
                push: None,
            })
        })
        .collect();
    (ordered, interrupted)
}
