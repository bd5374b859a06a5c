//! `build`, the default command: generate the files, pack the context, run the plan's builds through the engine
//! with live progress, push what the plan pushes, keep the logs, and summarise ([`super::report`]).
//!
//! Orchestration only: which builds exist, their tags, platforms, build arguments, cache images and indexes are
//! the plan's ([`crate::plan::Builds`]); this connects, packs and hands each build to the engine as it is.

use std::collections::BTreeMap;
use std::time::Instant;

use camino::Utf8PathBuf;

use super::generate::{generate, read_dockerignore};
use super::report::{report, spawn_reporter};
use crate::cli::{Cli, GenerateArgs};
use crate::config::{EpochFrom, Variant};
use crate::engine::endpoint::Endpoint;
use crate::engine::session::{self, SecretValue, SessionSources};
use crate::engine::{self, context, Engine, Run};
use crate::error::Error;
use crate::events::{ImageOutcome, IndexOutcome, Outcome, Push};
use crate::model::{Backend, SecretFrom};
use crate::plan::{Build, Plan, PushAs};
use crate::registry::credentials::{self, Credentials};
use crate::registry::{layout, platforms, push};
use crate::text::{human_size, release_key};
use crate::ui::logs::BuildLogs;
use crate::ui::shell::{Shell, Verbosity};
use crate::{reference, render};

/// What the builds left: one outcome per build, the indexes and cache images, whether Ctrl-C stopped them, the
/// wall time, the logs.
pub(super) struct Builds {
    pub outcomes: Vec<ImageOutcome>,
    /// `--push` of images built for several platforms: each image's index.
    pub indexes: Vec<IndexOutcome>,
    /// `--push` with documents: what was attached to each pushed manifest ([`super::attest`]).
    pub attached: Vec<crate::events::AttachOutcome>,
    pub cache: Vec<ImageOutcome>,
    pub interrupted: bool,
    pub wall: f64,
    pub logs: BuildLogs,
    /// The engine they ran on.
    pub endpoint: Endpoint,
    /// `--output`: the layout written once every build succeeded.
    pub layout: Option<Result<Vec<layout::Written>, layout::LayoutError>>,
}

/// Generates, runs every build of the plan, and reports; a failed or cancelled image is an error.
pub fn build(plan: &Plan, cli: &Cli, endpoint: &Endpoint, shell: &mut Shell) -> Result<i32, Error> {
    let args = &cli.build;
    check_images_arg(plan, args.build_args.as_slice())?;
    check_push_tags(plan)?;
    if let Some(output) = &plan.builds.output {
        layout::check(output).map_err(|source| Error::Output {
            path: output.path.clone(),
            source,
        })?;
    }
    epoch_note(plan, shell);
    if args.dry_run {
        super::dry_run::dry_run(plan, endpoint)?;
        return Ok(0);
    }
    let mut secrets = read_secrets(plan)?;
    let forwarding = super::agent::forwarding(&plan.ssh_hosts)?;
    secrets.extend(forwarding.known_hosts);
    let credentials = Credentials::find(plan.builds.push_registries())?;
    let registry_config = credentials::registry_config(&args.cache_from)?;
    let prepared = super::attest::prepare(plan)?;
    generate(plan, &GenerateArgs::default(), shell)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let result = runtime.block_on(async {
        let engine = connect(plan, cli, endpoint, shell).await?;
        let context = pack(plan, engine.backend, shell)?;
        // One session serves every build of the run; it ends when dropped, after the builds.
        let session = match engine.backend {
            Backend::BuildKit => {
                let sources = SessionSources {
                    secrets,
                    agents: forwarding.agents,
                    registries: registry_config.0.clone(),
                };
                Some(
                    session::open(&engine, sources)
                        .await
                        .map_err(Error::Session)?,
                )
            }
            Backend::Classic => None,
        };
        announce(&engine, plan, shell);
        let (events, reporter) = spawn_reporter(args.message_format, shell);
        let run = Run {
            context,
            dockerfile: plan.builds.dockerfile.to_string(),
            registry_config,
            session: session.as_ref().map(|s| s.id.clone()),
            events,
            started: Instant::now(),
        };
        let mut builds = run_builds(
            plan,
            cli,
            &engine,
            run,
            (&credentials, prepared.as_ref()),
            shell,
        )
        .await;
        drop(session);
        builds.layout = write_output(plan, &engine, &builds).await;
        builds.logs = reporter.await.unwrap_or_default();
        Ok::<_, Error>(builds)
    });
    // Builds were dropped on interrupt; shutting down now ends any session task still open.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let mut builds = result?;
    builds.endpoint = endpoint.clone();
    let layout = builds.layout.take();
    let code = report(plan, args, builds, shell)?;
    if let (Some(output), Some(written)) = (&plan.builds.output, layout) {
        let written = written.map_err(|source| Error::Output {
            path: output.path.clone(),
            source,
        })?;
        let images: Vec<String> = written
            .iter()
            .map(|w| format!("{} {}", w.name, w.digest))
            .collect();
        shell.status(
            "Wrote",
            format!("OCI layout `{}`: {}", output.path, images.join(", ")),
        );
    }
    Ok(code)
}

/// Where the normalised images' times come from, when that is worth a note: a dirty tree, or no commit.
fn epoch_note(plan: &Plan, shell: &mut Shell) {
    let epoch = &plan.builds.epoch;
    match epoch.from {
        EpochFrom::Commit { dirty: true } => shell.note(format!(
            "the working tree differs from its last commit: SOURCE_DATE_EPOCH is that commit's time ({}), but the images hold the uncommitted changes",
            epoch.seconds
        )),
        EpochFrom::NoCommit => shell.note(
            "no SOURCE_DATE_EPOCH and no git repository: the images' times are 0 (1970-01-01)",
        ),
        EpochFrom::Environment | EpochFrom::Commit { dirty: false } | EpochFrom::Unread => {}
    }
}

/// `--output`: once every build succeeded, the layout of this command's images, one entry per image (its
/// platforms' builds); `None` when there is no output or a build did not succeed (the report says why).
async fn write_output(
    plan: &Plan,
    engine: &Engine,
    builds: &Builds,
) -> Option<Result<Vec<layout::Written>, layout::LayoutError>> {
    let output = plan.builds.output.as_ref()?;
    let all_built = builds
        .outcomes
        .iter()
        .all(|o| matches!(o.outcome, Outcome::Built(_)));
    if builds.interrupted || !all_built {
        return None;
    }
    let mut images: Vec<(String, Vec<&Build>)> = Vec::new();
    for build in plan.builds.to_run() {
        match images.iter_mut().find(|(stage, _)| *stage == build.stage) {
            Some((_, platforms)) => platforms.push(build),
            None => images.push((build.stage.clone(), vec![build])),
        }
    }
    Some(layout::export(engine, &images, output, plan.builds.epoch.seconds).await)
}

/// A `--build-arg DOCKERIZE_IMAGES=...` of the user's must name images of the Dockerfile, and every image this
/// build builds: checked before anything is written, where the builder's own check would fail only at the
/// compile step (and a left-out image only at its `COPY`).
fn check_images_arg(plan: &Plan, build_args: &[(String, String)]) -> Result<(), Error> {
    let arg = crate::model::IMAGES_ARG;
    let Some((_, value)) = build_args.iter().find(|(k, _)| k == arg) else {
        return Ok(());
    };
    let wanted: Vec<&str> = value.split_whitespace().collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let images: Vec<&str> = plan.images.iter().map(|i| i.stage.as_str()).collect();
    let problem = if let Some(unknown) = wanted.iter().find(|w| !images.contains(w)) {
        format!("no image `{unknown}` in the Dockerfile")
    } else if let Some(left) = plan.selected.iter().find(|s| !wanted.contains(&s.as_str())) {
        format!("leaves out `{left}`, which this build builds")
    } else {
        return Ok(());
    };
    Err(Error::ImagesArg {
        arg,
        value: value.clone(),
        problem,
        images: images.join(" "),
    })
}

/// With `--push`, every tag must name its registry: a bare `api:1` would go to Docker Hub's `library/api`,
/// which is rarely what a user of `--push` means, so Docker Hub must be named (`docker.io/<user>/...`).
fn check_push_tags(plan: &Plan) -> Result<(), Error> {
    for build in plan.builds.to_run().filter(|b| b.push.is_some()) {
        if let Some(tag) = build.tags.iter().find(|t| !reference::names_registry(t)) {
            let hub_name = if tag.contains('/') {
                tag.clone()
            } else {
                format!("library/{tag}")
            };
            return Err(Error::PushNeedsRegistry {
                tag: tag.clone(),
                stage: build.stage.clone(),
                hub_name,
            });
        }
    }
    Ok(())
}

/// Connects to the engine; a plan that cross-compiles needs BuildKit (`FROM --platform=$BUILDPLATFORM` and
/// `$TARGETARCH` are BuildKit's).
async fn connect(
    plan: &Plan,
    cli: &Cli,
    endpoint: &Endpoint,
    shell: &mut Shell,
) -> Result<Engine, Error> {
    if shell.verbosity() >= Verbosity::Verbose {
        shell.status("Engine", endpoint.explain());
    }
    let engine = engine::connect(endpoint, cli.build.backend).await?;
    check_rust_floor(&engine, plan).await?;
    if plan.cross_compiles() && engine.backend == Backend::Classic {
        return Err(Error::CrossNeedsBuildKit {
            platforms: crate::platform::PlatformList(plan.platforms.clone()).joined(),
            engine: engine.description.clone(),
        });
    }
    if (!plan.build_secrets.is_empty() || !plan.ssh_hosts.is_empty())
        && engine.backend == Backend::Classic
    {
        let mut names: Vec<String> = plan
            .build_secrets
            .iter()
            .map(|s| format!("the build secret {}", s.name))
            .collect();
        if !plan.ssh_hosts.is_empty() {
            names.push(format!("an ssh agent for {}", plan.ssh_hosts.join(", ")));
        }
        return Err(Error::SecretsNeedBuildKit {
            names: names.join(", "),
            engine: engine.description.clone(),
        });
    }
    Ok(engine)
}

/// The value of every build secret, read before anything is written or sent to the engine: a variable that is
/// not set or a file that cannot be read is an error naming the secret. Values go to the session only.
fn read_secrets(plan: &Plan) -> Result<BTreeMap<String, SecretValue>, Error> {
    let mut values = BTreeMap::new();
    for secret in &plan.build_secrets {
        let failed = |why: String| Error::BuildSecret {
            name: secret.name.clone(),
            why,
        };
        let value = match &secret.from {
            SecretFrom::Env(var) => std::env::var_os(var)
                .ok_or_else(|| failed(format!("the environment variable `{var}` is not set")))?
                .into_encoded_bytes(),
            SecretFrom::File(file) => {
                let path = plan.root.join(file);
                std::fs::read(&path).map_err(|e| failed(format!("`{path}`: {e}")))?
            }
            SecretFrom::Registry(name) => {
                let registry = plan
                    .registries
                    .iter()
                    .find(|r| &r.name == name)
                    .ok_or_else(|| {
                        failed(format!("the plan names no registry `{name}` (our bug)"))
                    })?;
                super::tokens::read(registry)?
            }
        };
        values.insert(secret.name.clone(), SecretValue(value));
    }
    Ok(values)
}

/// With a floating toolchain, the engine's own `rust:1` image must hold at least the members' `rust-version`:
/// an engine keeps the image it pulled once, and Cargo would refuse the release only in the cook, after the system
/// packages. An image the engine lacks is pulled at the current release; the Dockerfile checks that one itself.
async fn check_rust_floor(engine: &Engine, plan: &Plan) -> Result<(), Error> {
    let Some(floor) = &plan.rust_floor else {
        return Ok(());
    };
    let Some(env) = engine.image_env(&floor.image).await else {
        return Ok(());
    };
    let Some(found) = env.iter().find_map(|v| v.strip_prefix("RUST_VERSION=")) else {
        return Ok(());
    };
    let older = match (release_key(found), release_key(&floor.version)) {
        (Some(found), Some(floor)) => found < floor,
        _ => false,
    };
    if !older {
        return Ok(());
    }
    Err(Error::RustTooOld {
        image: floor.image.clone(),
        found: found.to_string(),
        floor: floor.version.clone(),
        package: floor.package.clone(),
        engine: engine.description.clone(),
    })
}

/// The build context as the engine receives it: the workspace's files that `.dockerignore` keeps, and the
/// Dockerfile rendered from memory for the engine's backend (the classic builder's has no cache mounts; the file
/// on disk is BuildKit's) with the scripts it runs.
fn pack(plan: &Plan, backend: Backend, shell: &mut Shell) -> Result<bytes::Bytes, Error> {
    let ignore = read_dockerignore(plan)?
        .map(|file| file.parsed)
        .unwrap_or_default();
    let dockerfile = render::render_for(plan, backend);
    let scripts = render::scripts(&plan.dockerfile);
    let script_paths: Vec<Utf8PathBuf> = scripts
        .iter()
        .map(|s| plan.context.workspace_dir.join(&s.path))
        .collect();
    let rendered: Vec<context::Rendered> = std::iter::once(context::Rendered {
        path: &plan.builds.dockerfile,
        text: &dockerfile,
    })
    .chain(
        scripts
            .iter()
            .zip(&script_paths)
            .map(|(s, path)| context::Rendered { path, text: s.text }),
    )
    .collect();
    let subtrees: Vec<Utf8PathBuf> = std::iter::once(plan.context.workspace_dir.clone())
        .chain(plan.context.path_packages.iter().cloned())
        .collect();
    let (archive, stats) = context::archive(
        &plan.context.root,
        &subtrees,
        &ignore,
        &rendered,
        std::slice::from_ref(&plan.target_dir),
    )?;
    shell.status(
        "Packed",
        format!(
            "build context: {} files, {}",
            stats.files,
            human_size(stats.bytes)
        ),
    );
    if !stats.credentials.is_empty() {
        let ignore_file = read_dockerignore(plan)?
            .map(|file| file.path.to_string())
            .unwrap_or_else(|| plan.root.join(&plan.dockerfile.ignore).to_string());
        let files: Vec<String> = stats.credentials.iter().map(|p| format!("`{p}`")).collect();
        shell.warn(format!(
            "the build context holds files that hold credentials by convention ({}): a `COPY` puts them into a layer; leave them out in `{ignore_file}` (see `cargo dockerize generate --force`)",
            files.join(", ")
        ));
    }
    Ok(bytes::Bytes::from(archive))
}

/// Runs the plan's builds `jobs` at a time (each pushed once built, where the plan pushes it) until all are done
/// or Ctrl-C; then the indexes of the images built for several platforms, then the cache images.
async fn run_builds(
    plan: &Plan,
    cli: &Cli,
    engine: &Engine,
    run: Run,
    (credentials, prepared): (&Credentials, Option<&super::attest::Prepared>),
    shell: &mut Shell,
) -> Builds {
    let times = super::attest::Times::default();
    let builds = &plan.builds;
    let to_run: Vec<Build> = builds.to_run().cloned().collect();
    let jobs = builds.jobs.at_once(engine.backend, to_run.len());
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    // The registries reached over plain HTTP: a normalised push and the indexes go past the engine, as it would.
    let past_engine = to_run
        .iter()
        .any(|b| matches!(b.push, Some(PushAs::Normalised { .. })))
        || builds.indexes_to_push().next().is_some()
        || prepared.is_some();
    let insecure = if past_engine {
        insecure_registries(engine, shell).await
    } else {
        Vec::new()
    };
    let (outcomes, interrupted) =
        engine::build_all(&to_run, jobs, cli.build.keep_going, interrupt, |build| {
            let (engine, run, credentials) = (engine.clone(), run.clone(), credentials.clone());
            let (times, insecure) = (times.clone(), insecure.clone());
            async move {
                let (name, started) = (build.name.clone(), super::attest::Times::now());
                let outcome =
                    push::build_and_push(&engine, build, &run, (&credentials, &insecure)).await;
                times.record(&name, started, super::attest::Times::now());
                outcome
            }
        })
        .await;
    let mut indexes = Vec::new();
    let mut attached = Vec::new();
    if !interrupted && (builds.indexes_to_push().next().is_some() || prepared.is_some()) {
        let built: Vec<(&Build, &ImageOutcome)> = to_run.iter().zip(&outcomes).collect();
        for index in builds.indexes_to_push() {
            let pushed =
                platforms::push_image_index(index, &built, credentials, &insecure, &run).await;
            indexes.extend(pushed);
        }
        if let Some(prepared) = prepared {
            let pushed = super::attest::Pushed {
                builds: &built,
                indexes: &indexes,
                credentials,
                insecure: &insecure,
                engine,
                run: &run,
                times: &times,
            };
            attached = super::attest::attach_all(plan, prepared, pushed).await;
        }
    }
    // The cache images are built only after every image is built (and pushed): their steps are all cached then.
    let all_done = outcomes.iter().all(|o| {
        matches!(o.outcome, Outcome::Built(_)) && !matches!(o.push, Some(Push::Failed(_)))
    });
    let mut cache = Vec::new();
    if !interrupted && all_done {
        for build in &builds.cache {
            cache.push(
                push::build_and_push(engine, build.clone(), &run, (credentials, &insecure)).await,
            );
        }
    }
    Builds {
        outcomes,
        indexes,
        attached,
        cache,
        interrupted,
        wall: run.started.elapsed().as_secs_f64(),
        logs: BuildLogs::default(),
        endpoint: engine.endpoint.clone(),
        layout: None,
    }
}

/// The engine's insecure registries, for the indexes pushed past it; a warning and none when it cannot say.
async fn insecure_registries(engine: &Engine, shell: &mut Shell) -> Vec<String> {
    engine::insecure_registries(engine)
        .await
        .unwrap_or_else(|why| {
            shell.warn(format!(
                "failed to read the engine's insecure registries ({why}): the indexes go over HTTPS but to loopback registries"
            ));
            Vec::new()
        })
}

/// Says which engine and backend run the builds; the classic builder gets a warning, as it builds more.
fn announce(engine: &Engine, plan: &Plan, shell: &mut Shell) {
    let backend = match engine.backend {
        Backend::BuildKit => "BuildKit",
        Backend::Classic => {
            shell.warn(format!(
                "{} has no BuildKit: building with the classic builder, which runs every stage before each target",
                engine.description
            ));
            "the classic builder"
        }
    };
    shell.status(
        "Building",
        format!(
            "{} {}image(s) with {backend} on {} ({})",
            plan.selected.len(),
            if plan.builds.variant == Variant::Debug {
                "debug "
            } else {
                ""
            },
            engine.description,
            engine.endpoint
        ),
    );
}
