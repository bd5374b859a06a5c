//! cargo-dockerize: containerize a Cargo workspace.
//!
//! The data flows one way, one module per step:
//! `cli` → `workspace` (cargo metadata) → `config` (settings) → `plan` (pure) → `dockerfile` (pure text)
//! → `files` (write, check) / `listing` (list) → `context` (tar) → `engine` (bollard) → `events`
//! → `progress` (live) → `report` (summary).
//! Only `workspace`, `files`, `context`, `engine` and `run` below touch the file system, processes or the engine.

pub mod cli;
pub mod config;
pub mod context;
pub mod dockerfile;
pub mod engine;
pub mod error;
pub mod events;
pub mod files;
pub mod listing;
pub mod metadata;
pub mod native;
pub mod plan;
pub mod progress;
pub mod report;
pub mod shell;
pub mod workspace;

use std::io::IsTerminal as _;

use cli::{Cli, Command, GenerateArgs, ListFormat};
use error::Error;
use shell::{Shell, Verbosity};

/// Runs the command line; the `Ok` value is the exit code.
pub fn run(cli: Cli, shell: &mut Shell) -> Result<i32, Error> {
    let command = match &cli.command {
        Some(Command::Generate(_)) => Some("generate"),
        Some(Command::List(_)) => Some("list"),
        Some(Command::Config(_)) => Some("config"),
        Some(Command::Build) | None => None,
    };
    if let (Some(command), Some(flag)) = (command, cli.build.build_only_flag()) {
        return Err(Error::BuildOnlyFlag { flag, command });
    }
    let mut settings = cli.settings();
    let workspace = workspace::load(&workspace::LoadOptions {
        manifest_path: cli.common.manifest_path.clone(),
        features: settings.features.features.clone(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
        target_triple: settings.platform.triple(false),
    })?;
    let wants_sha = |text: String| text.contains("{git_sha}");
    if settings
        .tags
        .iter()
        .flatten()
        .any(|t| t.contains("{git_sha}"))
        || wants_sha(workspace.config.to_string())
        || workspace
            .members
            .iter()
            .any(|m| wants_sha(m.config.to_string()))
    {
        settings.git_sha = git_sha(&workspace.root);
    }
    let plan = plan::plan(&workspace, &settings)?;
    match &cli.command {
        Some(Command::List(args)) => {
            let mut stdout = std::io::stdout().lock();
            match args.format {
                ListFormat::Json => listing::write_json(&plan, &mut stdout),
                ListFormat::Human => listing::write_human(
                    &plan,
                    shell.verbosity() >= Verbosity::Verbose,
                    &mut stdout,
                ),
            }
            .map_err(Error::Stdout)?;
            if args.format == ListFormat::Human {
                for note in &plan.notes {
                    shell.note(note);
                }
            }
            Ok(0)
        }
        Some(Command::Config(args)) => {
            let mut stdout = std::io::stdout().lock();
            match args.format {
                ListFormat::Json => listing::write_config_json(&plan, &mut stdout),
                ListFormat::Human => listing::write_config_human(&plan, &mut stdout),
            }
            .map_err(Error::Stdout)?;
            Ok(0)
        }
        Some(Command::Generate(args)) => generate(&plan, args, shell),
        Some(Command::Build) | None => build(&plan, &cli, shell),
    }
}

/// The short commit of the workspace, for `{git_sha}` in tag templates; `None` outside a git repository.
fn git_sha(root: &camino::Utf8Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The default command: generate, pack the context, build every image through the engine, summarise.
fn build(plan: &plan::Plan, cli: &Cli, shell: &mut Shell) -> Result<i32, Error> {
    let args = &cli.build;
    if args.dry_run {
        dry_run(plan, shell)?;
        return Ok(0);
    }
    generate(plan, &GenerateArgs::default(), shell)?;
    let ignore = context::read_dockerignore(&plan.root)
        .map_err(|source| Error::DockerIgnore {
            path: plan.root.join(".dockerignore"),
            source,
        })?
        .map(|(_, parsed)| parsed)
        .unwrap_or_default();
    let dockerfile_text = dockerfile::render(plan);
    let subtrees: Vec<camino::Utf8PathBuf> = std::iter::once(plan.context.workspace_dir.clone())
        .chain(plan.context.path_packages.iter().cloned())
        .collect();
    let (archive, stats) = context::archive(
        &plan.context.root,
        &subtrees,
        &ignore,
        &dockerfile_text,
        std::slice::from_ref(&plan.target_dir),
    )?;
    shell.status(
        "Packed",
        format!(
            "build context: {} files, {}",
            stats.files,
            report::human_size(stats.bytes)
        ),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let verbose = shell.verbosity() >= Verbosity::Verbose;
    let style = progress::ProgressStyleKind::detect(
        args.message_format,
        shell.verbosity() == Verbosity::Quiet,
        std::io::stderr().is_terminal(),
        std::env::var_os("CI").is_some(),
    );
    let result = runtime.block_on(async {
        let engine = engine::connect(args.builder).await?;
        if engine.kind == engine::BuilderKind::Classic {
            shell.warn(format!(
                "{} has no BuildKit: building with the classic builder, which runs every stage before each target",
                engine.description
            ));
        }
        let jobs = match (args.jobs, engine.kind) {
            (Some(n), _) => n.get(),
            (None, engine::BuilderKind::BuildKit) => plan.images.len(),
            (None, engine::BuilderKind::Classic) => 1,
        };
        shell.status(
            "Building",
            format!(
                "{} image(s) with {} on {} ({})",
                plan.images.len(),
                match engine.kind {
                    engine::BuilderKind::BuildKit => "BuildKit",
                    engine::BuilderKind::Classic => "the classic builder",
                },
                engine.description,
                engine.host
            ),
        );
        let options = engine::BuildOptions {
            no_cache: args.no_cache,
            build_args: args.build_args.iter().cloned().collect(),
            platform: cli.common.platform.map(|p| p.docker_name().to_string()),
            jobs,
            keep_going: args.keep_going,
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let out: Box<dyn std::io::Write + Send> = match style {
            progress::ProgressStyleKind::Json => Box::new(std::io::stdout()),
            _ => Box::new(std::io::stderr()),
        };
        let reporter = tokio::task::spawn_blocking(move || {
            let mut reporter = progress::Reporter::new(style, verbose, out);
            let mut logs = report::BuildLogs::default();
            while let Some(event) = rx.blocking_recv() {
                reporter.handle(&event);
                logs.record(&event);
            }
            reporter.finish();
            logs
        });
        let started = std::time::Instant::now();
        let interrupt = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let (outcomes, interrupted) =
            engine::build_all(&engine, plan, bytes::Bytes::from(archive), &options, tx, started, interrupt).await;
        let logs = reporter.await.unwrap_or_default();
        Ok::<_, Error>((outcomes, interrupted, started.elapsed().as_secs_f64(), logs))
    });
    // Builds were dropped on interrupt; shutting down now ends any session task still open.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    let (outcomes, interrupted, wall, logs) = result?;
    let log_dir = plan.target_dir.join("dockerize").join("logs");
    match logs.write(&log_dir) {
        Ok(_) => shell.status("Logs", format!("{log_dir}/<image>.log")),
        Err(error) => shell.warn(format!(
            "failed to write the build logs to `{log_dir}`: {error}"
        )),
    }
    if args.message_format == progress::MessageFormat::Json {
        let summary = report::summary_json(&outcomes, wall);
        let line = serde_json::to_string(&summary).expect("the summary always serialises");
        println!("{line}");
    } else if shell.verbosity() != Verbosity::Quiet {
        shell.raw(&report::summary(&outcomes, wall));
    }
    if interrupted {
        return Err(Error::Interrupted);
    }
    let count = |f: fn(&events::Outcome) -> bool| outcomes.iter().filter(|o| f(&o.outcome)).count();
    let failed = count(|o| matches!(o, events::Outcome::Failed(_)));
    let cancelled = count(|o| matches!(o, events::Outcome::Cancelled));
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
fn dry_run(plan: &plan::Plan, _shell: &mut Shell) -> Result<(), Error> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let mut stages = vec!["chef".to_string(), "planner".to_string()];
    stages.extend(plan.builders.iter().map(|b| b.stage.clone()));
    stages.extend(plan.images.iter().map(|i| i.stage.clone()));
    if plan.test.is_some() {
        stages.push("test".into());
    }
    let text = {
        let mut text = format!(
            "dockerfile: {} (not written: --dry-run)
stages: {}
images:
",
            plan.root.join("Dockerfile"),
            stages.join(" ")
        );
        for image in &plan.images {
            text.push_str(&format!(
                "  --target {:<16} {} on {} [{}]
",
                image.stage,
                image.triple,
                image.runtime.image(),
                image.tags.join(", ")
            ));
        }
        text
    };
    out.write_all(text.as_bytes()).map_err(Error::Stdout)
}

/// `generate`: render, then write or check.
fn generate(plan: &plan::Plan, args: &GenerateArgs, shell: &mut Shell) -> Result<i32, Error> {
    let dockerfile = dockerfile::render(plan);
    let dockerignore = dockerfile::dockerignore(&plan.command);
    for note in &plan.notes {
        shell.note(note);
    }
    for skipped in &plan.skipped {
        shell.note(format!(
            "skipping binary `{}` of `{}`: {}",
            skipped.binary, skipped.package, skipped.reason
        ));
    }
    if args.check {
        let drifts = files::check(&plan.root, &dockerfile)?;
        if drifts.is_empty() {
            shell.status("Fresh", plan.root.join("Dockerfile"));
            return Ok(0);
        }
        for drift in &drifts {
            shell.raw(&drift.diff);
        }
        return Err(Error::Stale {
            count: drifts.len(),
        });
    }
    let existing =
        context::read_dockerignore(&plan.root).map_err(|source| Error::DockerIgnore {
            path: plan.root.join(".dockerignore"),
            source,
        })?;
    let outcomes = files::write(&plan.root, &dockerfile, &dockerignore, args.force)?;
    for outcome in &outcomes {
        match outcome {
            files::Outcome::Written(path) => shell.status("Wrote", path),
            files::Outcome::Unchanged(path) => shell.status("Unchanged", path),
            files::Outcome::Kept(path) => {
                let ours = existing
                    .as_ref()
                    .is_some_and(|(text, _)| text.starts_with(dockerfile::GENERATED_MARKER));
                let whose = if ours {
                    "written by an earlier run and left as it is"
                } else {
                    "yours"
                };
                shell.status("Kept", format!("{path} ({whose}; --force replaces it)"));
                for warning in
                    files::dockerignore_warnings(existing.as_ref().map(|(_, parsed)| parsed))
                {
                    shell.warn(warning);
                }
            }
        }
    }
    shell.status(
        "Planned",
        format!(
            "{} image(s): {}",
            plan.images.len(),
            plan.images
                .iter()
                .map(|i| i.stage.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    Ok(0)
}
