//! `build`, the default command: generate the files, pack the context, build every image through the engine with
//! live progress, keep the logs, and summarise.

use std::io::IsTerminal as _;
use std::time::Instant;

use camino::Utf8PathBuf;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::generate::{generate, read_dockerignore};
use crate::build::{auth, cache, context, engine, platforms, push};
use crate::cli::{BuildArgs, Cli, GenerateArgs};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::events::{BuildEvent, ImageOutcome, IndexOutcome, Outcome, Push};
use crate::model::{BuilderKind, MessageFormat};
use crate::plan::Plan;
use crate::text::human_size;
use crate::ui::logs::BuildLogs;
use crate::ui::metadata::metadata_json;
use crate::ui::progress::{ProgressStyleKind, Reporter};
use crate::ui::shell::{Shell, Verbosity};
use crate::ui::summary;
use crate::{files, reference, render};

/// What the builds left: one outcome per image, the cache images of `--cache-to`, whether Ctrl-C stopped them,
/// the wall time, the logs.
struct Builds {
    outcomes: Vec<ImageOutcome>,
    /// `--push` of images built for several platforms: each image's index.
    indexes: Vec<IndexOutcome>,
    cache: Vec<ImageOutcome>,
    interrupted: bool,
    wall: f64,
    logs: BuildLogs,
    /// The engine they ran on.
    endpoint: Endpoint,
}

/// Generates, builds every image of the plan, and reports; a failed or cancelled image is an error.
pub fn build(plan: &Plan, cli: &Cli, shell: &mut Shell) -> Result<i32, Error> {
    let args = &cli.build;
    check_images_arg(plan, args)?;
    if args.push {
        check_push_tags(plan, args.debug)?;
    }
    if args.dry_run {
        super::dry_run::dry_run(plan, args)?;
        return Ok(0);
    }
    let (credentials, registry_config) = credentials(plan, args)?;
    generate(plan, &GenerateArgs::default(), shell)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let options = engine::BuildOptions {
        dockerfile: dockerfile_in_context(plan).into_string(),
        no_cache: args.no_cache,
        build_args: build_args(plan, args),
        // Each target names its platform (see `targets`); the default plan leaves it to the engine.
        platform: None,
        jobs: 0,
        keep_going: args.keep_going,
        cache_from: cache_from(plan, args),
        registry_config,
        push: args.push.then(|| credentials.clone()),
    };
    let result = runtime.block_on(run_builds(plan, args, options, credentials, shell));
    // Builds were dropped on interrupt; shutting down now ends any session task still open.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    report(plan, args, result?, shell)
}

/// `--build-arg`s, and `DOCKERIZE_IMAGES` naming the selected images when a builder would otherwise compile
/// binaries no selected image needs (unless `--build-arg` sets it): a one-image build compiles one binary.
pub(super) fn build_args(
    plan: &Plan,
    args: &BuildArgs,
) -> std::collections::BTreeMap<String, String> {
    let mut build_args: std::collections::BTreeMap<String, String> =
        args.build_args.iter().cloned().collect();
    if let Some(images) = plan.compile_selection() {
        build_args
            .entry(crate::model::IMAGES_ARG.to_string())
            .or_insert(images);
    }
    build_args
}

/// A `--build-arg DOCKERIZE_IMAGES=...` of the user's must name images of the Dockerfile, and every image this
/// build builds: checked before anything is written, where the builder's own check would fail only at the
/// compile step (and a left-out image only at its `COPY`).
fn check_images_arg(plan: &Plan, args: &BuildArgs) -> Result<(), Error> {
    let arg = crate::model::IMAGES_ARG;
    let Some((_, value)) = args.build_args.iter().find(|(k, _)| k == arg) else {
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
fn check_push_tags(plan: &Plan, debug: bool) -> Result<(), Error> {
    for target in targets(plan, debug) {
        if let Some(tag) = target.tags.iter().find(|t| !reference::names_registry(t)) {
            let hub_name = if tag.contains('/') {
                tag.clone()
            } else {
                format!("library/{tag}")
            };
            return Err(Error::PushNeedsRegistry {
                tag: tag.clone(),
                stage: target.stage,
                hub_name,
            });
        }
    }
    Ok(())
}

/// The credentials of every registry the build pushes to (`--push`, `--cache-to`), and those of the
/// `--cache-from` registries as the engine's `X-Registry-Config`; read before any build, so a broken
/// config.json fails at once.
fn credentials(
    plan: &Plan,
    args: &BuildArgs,
) -> Result<
    (
        push::Credentials,
        std::collections::HashMap<String, bollard::auth::DockerCredentials>,
    ),
    Error,
> {
    let mut hosts: Vec<String> = Vec::new();
    if args.push {
        for target in targets(plan, args.debug) {
            for tag in &target.tags {
                hosts.push(reference::registry_host(tag).to_string());
            }
        }
    }
    hosts.extend(
        args.cache_to
            .iter()
            .map(|r| reference::registry_host(r).to_string()),
    );
    let mut credentials = push::Credentials::new();
    for host in hosts {
        if let std::collections::btree_map::Entry::Vacant(entry) = credentials.entry(host) {
            let found = auth::credentials(entry.key())?;
            entry.insert(found);
        }
    }
    let mut config = std::collections::HashMap::new();
    for reference in &args.cache_from {
        let host = reference::registry_host(reference);
        if let Some(found) = auth::credentials(host)? {
            config.insert(reference::auth_server(host), found);
        }
    }
    Ok((credentials, config))
}

/// The builder stages of the whole plan, in the Dockerfile's order: they name the cache images.
fn builder_stages(plan: &Plan) -> Vec<String> {
    plan.builders.iter().map(|b| b.stage.clone()).collect()
}

/// `--cache-from`: every reference, one per builder stage ([`cache::cache_refs`]).
pub(super) fn cache_from(plan: &Plan, args: &BuildArgs) -> Vec<String> {
    let stages = builder_stages(plan);
    args.cache_from
        .iter()
        .flat_map(|r| cache::cache_refs(r, &stages))
        .map(|(_, r)| r)
        .collect()
}

/// `--cache-to`: the builder stages the selected images use, each with its cache image.
pub(super) fn cache_to(plan: &Plan, args: &BuildArgs) -> Vec<(String, String)> {
    let Some(reference) = &args.cache_to else {
        return Vec::new();
    };
    // Images name the stage they copy from: a builder, or in a multi-platform plan the alias every platform's
    // builder of that kind shares (each of those is cached).
    let used: Vec<&str> = plan
        .selected_images()
        .map(|image| image.builder.as_str())
        .collect();
    cache::cache_refs(reference, &builder_stages(plan))
        .into_iter()
        .filter(|(stage, _)| {
            plan.builders
                .iter()
                .any(|b| &b.stage == stage && used.contains(&b.alias.as_str()))
        })
        .collect()
}

/// The build context as the engine receives it: the workspace's files that `.dockerignore` keeps, and the
/// Dockerfile rendered from memory for the engine's builder (the classic builder's has no cache mounts; the file
/// on disk is BuildKit's) with the scripts it runs.
fn pack(plan: &Plan, kind: BuilderKind, shell: &mut Shell) -> Result<bytes::Bytes, Error> {
    let ignore = read_dockerignore(plan)?
        .map(|(_, _, parsed)| parsed)
        .unwrap_or_default();
    let dockerfile = render::render_for(plan, kind);
    let scripts = render::scripts(&plan.dockerfile);
    let script_paths: Vec<Utf8PathBuf> = scripts
        .iter()
        .map(|s| plan.context.workspace_dir.join(&s.path))
        .collect();
    let dockerfile_path = dockerfile_in_context(plan);
    let rendered: Vec<context::Rendered> = std::iter::once(context::Rendered {
        path: &dockerfile_path,
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
    Ok(bytes::Bytes::from(archive))
}

/// Where the Dockerfile sits in the build context: its path under the workspace's directory in the context.
fn dockerfile_in_context(plan: &Plan) -> Utf8PathBuf {
    plan.context.workspace_dir.join(&plan.dockerfile.path)
}

/// Connects, packs the context for the engine's builder, builds every image `jobs` at a time with a reporter
/// following the events, until all are done or Ctrl-C.
async fn run_builds(
    plan: &Plan,
    args: &BuildArgs,
    mut options: engine::BuildOptions,
    credentials: push::Credentials,
    shell: &mut Shell,
) -> Result<Builds, Error> {
    let endpoint = plan.engine.clone().unwrap_or_else(Endpoint::default_socket);
    if shell.verbosity() >= Verbosity::Verbose {
        shell.status("Engine", endpoint.explain());
    }
    let engine = engine::connect(&endpoint, args.builder).await?;
    if plan.cross_compiles() && engine.kind == BuilderKind::Classic {
        // `FROM --platform=$BUILDPLATFORM` and `$TARGETARCH` are BuildKit's.
        return Err(Error::CrossNeedsBuildKit {
            platforms: crate::platform::PlatformList(plan.platforms.clone()).joined(),
            engine: engine.description.clone(),
        });
    }
    let archive = pack(plan, engine.kind, shell)?;
    announce(&engine, plan, args.debug, shell);
    let targets = targets(plan, args.debug);
    options.jobs = match (args.jobs, engine.kind) {
        (Some(n), _) => n.get(),
        (None, BuilderKind::BuildKit) => targets.len(),
        (None, BuilderKind::Classic) => 1,
    };
    let (events, reporter) = spawn_reporter(args.message_format, shell);
    let started = Instant::now();
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let (outcomes, interrupted) = engine::build_all(
        &engine,
        &targets,
        archive.clone(),
        &options,
        events.clone(),
        started,
        interrupt,
    )
    .await;
    let indexes = if args.push && plan.platforms.len() > 1 && !interrupted {
        let insecure = platforms::insecure_hosts(&engine).await.unwrap_or_else(|why| {
            shell.warn(format!(
                "failed to read the engine's insecure registries ({why}): the indexes go over HTTPS but to loopback registries"
            ));
            Vec::new()
        });
        push_indexes(
            plan,
            args.debug,
            &outcomes,
            &credentials,
            &insecure,
            &events,
            started,
        )
        .await
    } else {
        Vec::new()
    };
    // The cache is pushed only after every image is built (and pushed): its steps are all cached by then.
    let all_done = outcomes.iter().all(|o| {
        matches!(o.outcome, Outcome::Built(_)) && !matches!(o.push, Some(Push::Failed(_)))
    });
    let mut cache = Vec::new();
    if !interrupted && all_done {
        options.push = Some(credentials);
        for (stage, reference) in cache_to(plan, args) {
            cache.push(
                cache::push_cache(
                    &engine,
                    &stage,
                    &reference,
                    archive.clone(),
                    &options,
                    &events,
                    started,
                )
                .await,
            );
        }
    }
    drop(events);
    let logs = reporter.await.unwrap_or_default();
    Ok(Builds {
        outcomes,
        indexes,
        cache,
        interrupted,
        wall: started.elapsed().as_secs_f64(),
        logs,
        endpoint,
    })
}

/// The stage and plain tags of an image, or with `--debug` of its debug variant.
fn stage_and_tags(image: &crate::plan::Image, debug: bool) -> (&String, &Vec<String>) {
    if debug {
        (&image.debug.stage, &image.debug.tags)
    } else {
        (&image.stage, &image.tags)
    }
}

/// The builds: each binary's image (or with `--debug` its debug variant) once per platform. One platform keeps
/// the plain tags; with several, each platform's build is tagged `<tag>-<arch>`, since the engine holds one
/// platform per tag (the index under the plain tag is put in the registry by `--push`).
pub(super) fn targets(plan: &Plan, debug: bool) -> Vec<engine::Target> {
    let mut targets = Vec::new();
    for image in plan.selected_images() {
        let (stage, tags) = stage_and_tags(image, debug);
        if let [only] = plan.platforms[..] {
            targets.push(engine::Target {
                stage: stage.clone(),
                binary: image.binary.clone(),
                tags: tags.clone(),
                platform: plan
                    .platforms_chosen()
                    .then(|| only.docker_name().to_string()),
                several: false,
                name: stage.clone(),
            });
            continue;
        }
        for platform in &plan.platforms {
            targets.push(engine::Target {
                stage: stage.clone(),
                binary: image.binary.clone(),
                tags: tags
                    .iter()
                    .map(|t| platforms::platform_tag(t, platform.suffix()))
                    .collect(),
                platform: Some(platform.docker_name().to_string()),
                several: true,
                name: format!("{stage}@{}", platform.suffix()),
            });
        }
    }
    targets
}

/// `--push` with several platforms: the index of every image whose platforms were all built and pushed.
async fn push_indexes(
    plan: &Plan,
    debug: bool,
    outcomes: &[ImageOutcome],
    credentials: &push::Credentials,
    insecure: &[String],
    events: &mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
) -> Vec<IndexOutcome> {
    let mut indexes = Vec::new();
    for image in plan.selected_images() {
        let (stage, tags) = stage_and_tags(image, debug);
        let multi = platforms::MultiImage {
            stage,
            binary: &image.binary,
            tags,
            outcomes: outcomes.iter().filter(|o| &o.stage == stage).collect(),
        };
        if let Some(index) =
            platforms::push_image_index(&multi, credentials, insecure, events, started).await
        {
            indexes.push(index);
        }
    }
    indexes
}

/// Says which engine and builder run the builds; the classic builder gets a warning, as it builds more.
fn announce(engine: &engine::Engine, plan: &Plan, debug: bool, shell: &mut Shell) {
    let builder = match engine.kind {
        BuilderKind::BuildKit => "BuildKit",
        BuilderKind::Classic => {
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
            "{} {}image(s) with {builder} on {} ({})",
            plan.selected.len(),
            if debug { "debug " } else { "" },
            engine.description,
            engine.endpoint
        ),
    );
}

/// The reporter runs on its own thread, reading events until the builds drop the sender; it keeps the logs.
fn spawn_reporter(
    format: MessageFormat,
    shell: &Shell,
) -> (mpsc::UnboundedSender<BuildEvent>, JoinHandle<BuildLogs>) {
    let verbose = shell.verbosity() >= Verbosity::Verbose;
    let style = ProgressStyleKind::detect(
        format,
        shell.verbosity() == Verbosity::Quiet,
        std::io::stderr().is_terminal(),
        std::env::var_os("CI").is_some(),
    );
    let out: Box<dyn std::io::Write + Send> = match style {
        ProgressStyleKind::Json => Box::new(std::io::stdout()),
        _ => Box::new(std::io::stderr()),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = tokio::task::spawn_blocking(move || {
        let mut reporter = Reporter::new(style, verbose, out);
        let mut logs = BuildLogs::default();
        while let Some(event) = rx.blocking_recv() {
            reporter.handle(&event);
            logs.record(&event);
        }
        reporter.finish();
        logs
    });
    (tx, handle)
}

/// Writes the logs, prints the summary (a table, or the closing JSON line), and turns failures into the error.
fn report(plan: &Plan, args: &BuildArgs, builds: Builds, shell: &mut Shell) -> Result<i32, Error> {
    let format = args.message_format;
    let Builds {
        outcomes,
        indexes,
        cache,
        interrupted,
        wall,
        logs,
        endpoint,
    } = builds;
    let log_dir = plan.target_dir.join("dockerize").join("logs");
    match logs.write(&log_dir) {
        Ok(_) => shell.status("Logs", format!("{log_dir}/<image>.log")),
        Err(error) => shell.warn(format!(
            "failed to write the build logs to `{log_dir}`: {error}"
        )),
    }
    if format == MessageFormat::Json {
        let summary = summary::summary_json(&outcomes, &indexes, &cache, wall, &endpoint);
        let line = serde_json::to_string(&summary).expect("the summary always serialises");
        println!("{line}");
    } else if shell.verbosity() != Verbosity::Quiet {
        shell.raw(&summary::summary(
            &outcomes, &indexes, &cache, wall, &endpoint,
        ));
    }
    if let Some(path) = &args.metadata_file {
        let text = metadata_json(&outcomes, &indexes, plan.platforms[0].docker_name());
        files::write_atomically(path, &text).map_err(|source| Error::MetadataFile {
            path: path.clone(),
            source,
        })?;
        shell.status("Metadata", format!("{path}"));
    }
    if interrupted {
        return Err(Error::Interrupted);
    }
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(&o.outcome)).count();
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let cancelled = count(|o| matches!(o, Outcome::Cancelled));
    if failed + cancelled > 0 {
        return Err(Error::BuildFailed {
            failed,
            cancelled,
            total: outcomes.len(),
            log_dir,
        });
    }
    let mut push_failures = outcomes
        .iter()
        .chain(&cache)
        .filter_map(|o| match &o.push {
            Some(Push::Failed(failed)) => Some(failed),
            _ => None,
        })
        .chain(indexes.iter().filter_map(|i| i.index.as_ref().err()));
    if let Some(first) = push_failures.next() {
        return Err(Error::PushFailed {
            tag: first.tag.clone(),
            registry: first.registry.clone(),
            message: first.message.clone(),
            reason: first.reason.clone(),
            more: push_failures.count(),
        });
    }
    let cache_failed = cache
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Built(_)))
        .count();
    if cache_failed > 0 {
        return Err(Error::BuildFailed {
            failed: cache_failed,
            cancelled: 0,
            total: cache.len(),
            log_dir,
        });
    }
    Ok(0)
}
