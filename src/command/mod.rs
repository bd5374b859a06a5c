//! The commands: `generate`, `list`, `config`, `ci`, `build` (the default), `completions` and `man`, each from
//! the parsed command line to an exit code.
//!
//! Here the steps meet: the command line gives [`crate::config::Settings`], the workspace is loaded, the plan made,
//! and each command renders, writes, lists or builds it. Errors travel up as the one top-level [`Error`], whose
//! exit code `main` uses.

mod build;
mod ci;
mod completions;
mod dry_run;
mod generate;
mod list;

use crate::build::docker_config;
use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::ui::shell::Shell;
use crate::{plan, workspace};

/// Runs the command line; the `Ok` value is the exit code.
pub fn run(cli: Cli, shell: &mut Shell) -> Result<i32, Error> {
    let command = match &cli.command {
        Some(Command::Generate(_)) => Some("generate"),
        Some(Command::List(_)) => Some("list"),
        Some(Command::Config(_)) => Some("config"),
        Some(Command::Ci(_)) => Some("ci"),
        Some(Command::Completions(_)) => Some("completions"),
        Some(Command::Man) => Some("man"),
        Some(Command::Build) | None => None,
    };
    if let (Some(command), Some(flag)) = (command, cli.build.build_only_flag()) {
        return Err(Error::BuildOnlyFlag { flag, command });
    }
    let writes_files = match &cli.command {
        Some(Command::Generate(_)) => Some("generate"),
        Some(Command::Ci(_)) => Some("ci"),
        _ => None,
    };
    if let (Some(command), Some(flag)) = (writes_files, cli.common.selection_flag()) {
        return Err(Error::SelectionFlag { flag, command });
    }
    match &cli.command {
        Some(Command::Completions(args)) => return completions::completions(args.shell),
        Some(Command::Man) => return completions::man(),
        _ => {}
    }
    let mut settings = cli.settings();
    let workspace = workspace::load(&workspace::LoadOptions {
        manifest_path: cli.common.manifest_path.clone(),
        features: settings.features.features.clone(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
        triples: settings
            .platforms
            .clone()
            .unwrap_or_default()
            .0
            .iter()
            .flat_map(|p| platform_triples(*p))
            .collect(),
        // The table's `platforms` count only where no flag chose them; a bad value is reported by the
        // configuration's own reading, with its key, so here it just adds nothing.
        table_triples: settings.platforms.is_none().then_some(table_triples as _),
    })?;
    if matches!(cli.command, Some(Command::Ci(_))) {
        // The workflow builds commits yet to come: `{git_sha}` stays a placeholder it fills in.
        settings.git_sha = Some(plan::ci::GIT_SHA_STANDIN.into());
    } else if wants_git_sha(&settings, &workspace) {
        settings.git_sha = git_sha(&workspace.root);
    }
    if matches!(cli.command, Some(Command::Build) | None) {
        // Decided once, here at the edge, as the Docker CLI decides it; only a build reads Docker's configuration.
        settings.engine = Some(resolve_engine(&cli)?);
    }
    let plan = plan::plan(&workspace, &settings)?;
    match &cli.command {
        Some(Command::List(args)) => list::list(&plan, args.format, shell),
        Some(Command::Config(args)) => list::config(&plan, args.format),
        Some(Command::Generate(args)) => generate::generate(&plan, args, shell),
        Some(Command::Ci(args)) => ci::ci(&plan, &settings, args, shell),
        Some(Command::Build) | None => build::build(&plan, &cli, shell),
        Some(Command::Completions(_) | Command::Man) => {
            unreachable!("`completions` and `man` returned before the workspace was read")
        }
    }
}

/// The triples of a platform whose dependency graphs the plan reads: musl's (where Rust has it) and glibc's.
fn platform_triples(platform: crate::platform::Platform) -> Vec<String> {
    [platform.triple(true), platform.triple(false)]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

/// The triples of the `platforms` a workspace table names, for [`workspace::LoadOptions::table_triples`].
fn table_triples(table: &serde_json::Value) -> Vec<String> {
    let names = table["platforms"].as_array().into_iter().flatten();
    let list = crate::platform::PlatformList::parse(names.filter_map(|n| n.as_str()));
    list.map(|l| l.0.into_iter().flat_map(platform_triples).collect())
        .unwrap_or_default()
}

/// The engine of this build, from `--context`/`--host`, the environment and the Docker CLI's configuration.
fn resolve_engine(cli: &Cli) -> Result<crate::endpoint::Endpoint, Error> {
    let request = docker_config::EngineRequest {
        host: cli.build.host.clone(),
        context: cli.build.context.clone(),
    };
    Ok(docker_config::resolve(
        &request,
        &docker_config::DockerEnv::from_process(),
    )?)
}

/// Whether a tag template anywhere uses `{git_sha}`: only then is git asked.
fn wants_git_sha(settings: &crate::config::Settings, workspace: &workspace::Workspace) -> bool {
    let mentions = |text: String| text.contains("{git_sha}");
    settings
        .tags
        .iter()
        .flatten()
        .any(|t| t.contains("{git_sha}"))
        || mentions(workspace.config.to_string())
        || workspace
            .members
            .iter()
            .any(|m| mentions(m.config.to_string()))
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
