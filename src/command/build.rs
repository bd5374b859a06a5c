//! `build`, the default command: generate the files, pack the context, build every image through the engine with
//! live progress, keep the logs, and summarise.

use std::io::IsTerminal as _;
use std::time::Instant;

use camino::Utf8PathBuf;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::generate::{generate, read_dockerignore};
use crate::build::{context, engine};
use crate::cli::{BuildArgs, Cli, GenerateArgs};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::events::{BuildEvent, ImageOutcome, Outcome};
use crate::model::{BuilderKind, MessageFormat};
use crate::plan::Plan;
use crate::render;
use crate::text::human_size;
use crate::ui::logs::BuildLogs;
use crate::ui::progress::{ProgressStyleKind, Reporter};
use crate::ui::shell::{Shell, Verbosity};
use crate::ui::summary;

/// What the builds left: one outcome per image, whether Ctrl-C stopped them, the wall time, the logs.
struct Builds {
    outcomes: Vec<ImageOutcome>,
    interrupted: bool,
    wall: f64,
    logs: BuildLogs,
    /// The engine they ran on.
    endpoint: Endpoint,
}

/// Generates, builds every image of the plan, and reports; a failed or cancelled image is an error.
pub fn build(plan: &Plan, cli: &Cli, shell: &mut Shell) -> Result<i32, Error> {
    let args = &cli.build;
    if args.dry_run {
        dry_run(plan)?;
        return Ok(0);
    }
    generate(plan, &GenerateArgs::default(), shell)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let options = engine::BuildOptions {
        dockerfile: dockerfile_in_context(plan).into_string(),
        no_cache: args.no_cache,
        build_args: args.build_args.iter().cloned().collect(),
        platform: cli.common.platform.map(|p| p.docker_name().to_string()),
        jobs: 0,
        keep_going: args.keep_going,
    };
    let result = runtime.block_on(run_builds(plan, args, options, shell));
    // Builds were dropped on interrupt; shutting down now ends any session task still open.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    report(plan, args.message_format, result?, shell)
}

/// The build context as the engine receives it: the workspace's files that `.dockerignore` keeps, and the
/// Dockerfile rendered from memory for the engine's builder (the classic builder's has no cache mounts; the file
/// on disk is BuildKit's).
fn pack(plan: &Plan, kind: BuilderKind, shell: &mut Shell) -> Result<bytes::Bytes, Error> {
    let ignore = read_dockerignore(plan)?
        .map(|(_, _, parsed)| parsed)
        .unwrap_or_default();
    let dockerfile = render::render_for(plan, kind);
    let subtrees: Vec<Utf8PathBuf> = std::iter::once(plan.context.workspace_dir.clone())
        .chain(plan.context.path_packages.iter().cloned())
        .collect();
    let (archive, stats) = context::archive(
        &plan.context.root,
        &subtrees,
        &ignore,
        &context::Dockerfile {
            path: &dockerfile_in_context(plan),
            text: &dockerfile,
        },
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
    shell: &mut Shell,
) -> Result<Builds, Error> {
    let endpoint = plan.engine.clone().unwrap_or_else(Endpoint::default_socket);
    if shell.verbosity() >= Verbosity::Verbose {
        shell.status("Engine", endpoint.explain());
    }
    let engine = engine::connect(&endpoint, args.builder).await?;
    let archive = pack(plan, engine.kind, shell)?;
    announce(&engine, plan, args.debug, shell);
    let targets = targets(plan, args.debug);
    options.jobs = match (args.jobs, engine.kind) {
        (Some(n), _) => n.get(),
        (None, BuilderKind::BuildKit) => plan.selected.len(),
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
        &engine, &targets, archive, &options, events, started, interrupt,
    )
    .await;
    let logs = reporter.await.unwrap_or_default();
    Ok(Builds {
        outcomes,
        interrupted,
        wall: started.elapsed().as_secs_f64(),
        logs,
        endpoint,
    })
}

/// The stages to build and their tags: each binary's image, or with `--debug` its debug variant.
fn targets(plan: &Plan, debug: bool) -> Vec<engine::Target> {
    plan.selected_images()
        .map(|image| {
            let (stage, tags) = if debug {
                (&image.debug.stage, &image.debug.tags)
            } else {
                (&image.stage, &image.tags)
            };
            engine::Target {
                stage: stage.clone(),
                binary: image.binary.clone(),
                tags: tags.clone(),
            }
        })
        .collect()
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
fn report(
    plan: &Plan,
    format: MessageFormat,
    builds: Builds,
    shell: &mut Shell,
) -> Result<i32, Error> {
    let Builds {
        outcomes,
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
        let summary = summary::summary_json(&outcomes, wall, &endpoint);
        let line = serde_json::to_string(&summary).expect("the summary always serialises");
        println!("{line}");
    } else if shell.verbosity() != Verbosity::Quiet {
        shell.raw(&summary::summary(&outcomes, wall, &endpoint));
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
    Ok(0)
}

/// `--dry-run`: the stages, targets and tags, on stdout; nothing written, no engine contacted.
fn dry_run(plan: &Plan) -> Result<(), Error> {
    use std::io::Write as _;
    let engine = plan.engine.clone().unwrap_or_else(Endpoint::default_socket);
    let mut text = format!(
        "dockerfile: {} (not written: --dry-run)\ndockerignore: {}\nengine: {} (not contacted: --dry-run)\nstages: {}\nimages:\n",
        plan.root.join(&plan.dockerfile.path),
        plan.root.join(&plan.dockerfile.ignore),
        engine.explain(),
        plan.stage_names().join(" ")
    );
    for image in plan.selected_images() {
        text.push_str(&format!(
            "  --target {:<16} {} on {} [{}]\n",
            image.stage,
            image.triple,
            image.runtime.image(),
            image.tags.join(", ")
        ));
    }
    text.push_str("debug images (--debug):\n");
    for image in plan.selected_images() {
        text.push_str(&format!(
            "  --target {:<16} {} on {} [{}]\n",
            image.debug.stage,
            image.triple,
            crate::model::DEBIAN_SLIM,
            image.debug.tags.join(", ")
        ));
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::Stdout)
}
