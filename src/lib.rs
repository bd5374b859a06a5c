//! cargo-dockerize: containerize a Cargo workspace.
//!
//! The data flows one way, one module per step:
//! `cli` → `workspace` (cargo metadata) → `config` (settings) → `plan` (pure) → `dockerfile` (pure text)
//! → `files` (write, check) / `listing` (list).
//! Only `workspace`, `files` and `run` below touch the file system or run processes.

pub mod cli;
pub mod config;
pub mod context;
pub mod dockerfile;
pub mod error;
pub mod files;
pub mod listing;
pub mod native;
pub mod plan;
pub mod shell;
pub mod workspace;

use cli::{Cli, Command, GenerateArgs, ListFormat};
use error::Error;
use shell::{Shell, Verbosity};

/// Runs the command line; the `Ok` value is the exit code.
pub fn run(cli: Cli, shell: &mut Shell) -> Result<i32, Error> {
    let settings = cli.settings();
    let workspace = workspace::load(&workspace::LoadOptions {
        manifest_path: cli.common.manifest_path.clone(),
        features: settings.features.features.clone(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
        target_triple: settings.platform.triple(false),
    })?;
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
        Some(Command::Generate(args)) => generate(&plan, args, shell),
        Some(Command::Build) | None => generate(&plan, &GenerateArgs::default(), shell),
    }
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
                shell.status("Kept", format!("{path} (yours; --force replaces it)"));
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
