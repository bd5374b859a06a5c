//! Every build of a command, `jobs` at a time: started in order, each one's outcome kept in that order, all of
//! them stopped at the first failure (unless `--keep-going`) or at Ctrl-C.
//!
//! What one build is, is the caller's: a future that gives its [`ImageOutcome`] (a build through
//! [`super::build_target`], then perhaps a push). Dropping the future cancels the build in the engine.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use bollard::auth::DockerCredentials;
use tokio::sync::Semaphore;

use crate::events::{ImageOutcome, Outcome, Push};

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
    /// Credentials of the registries the build reads (`--cache-from`): the engine's `X-Registry-Config`.
    pub registry_config: RegistryConfig,
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
            registry_config: RegistryConfig::default(),
        }
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

/// Runs `build` for every target, `jobs` at a time. Returns when all are done, one failed (without
/// `keep_going`), or `interrupt` resolves (Ctrl-C): then builds in flight are dropped, which cancels them in the
/// engine. The outcomes come in the order of `targets`; a target never started is `Cancelled`.
pub async fn build_all<F>(
    targets: &[Target],
    jobs: usize,
    keep_going: bool,
    interrupt: impl Future<Output = ()>,
    build: impl Fn(Target) -> F,
) -> (Vec<ImageOutcome>, bool)
where
    F: Future<Output = ImageOutcome> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let permits = permits.clone();
        let name = target.name.clone();
        let job = build(target.clone());
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
