//! The commands: `generate`, `list`, `config`, `ci`, `build` (the default), `completions` and `man`, each from
//! the parsed command line to an exit code.
//!
//! Here the steps meet: the command line gives [`crate::config::Settings`], the workspace is loaded, the plan made,
//! and each command renders, writes, lists or builds it. Errors travel up as the one top-level [`Error`], whose
//! exit code `main` uses.

mod agent;
mod attest;
mod ci;
mod completions;
mod dry_run;
mod generate;
mod images;
mod list;
mod pin;
mod report;
mod tokens;

use crate::cli::{Cli, Command};
use crate::config::{Destination, EpochFrom, GitSha, Selection, SourceDateEpoch};
use crate::engine::docker_config;
use crate::engine::endpoint::Endpoint;
use crate::error::Error;
use crate::ui::shell::Shell;
use crate::value::Pins;
use crate::{config, plan, workspace};

/// Runs the command line; the `Ok` value is the exit code.
pub fn run(cli: Cli, shell: &mut Shell) -> Result<i32, Error> {
    let command = match &cli.command {
        Some(Command::Generate(_)) => Some("generate"),
        Some(Command::List(_)) => Some("list"),
        Some(Command::Config(_)) => Some("config"),
        Some(Command::Ci(_)) => Some("ci"),
        Some(Command::Completions(_)) => Some("completions"),
        Some(Command::Man) => Some("man"),
        Some(Command::Pin) => Some("pin"),
        Some(Command::Build) | None => None,
    };
    let engine_flag = |flag: &str| matches!(flag, "--context" | "--host");
    match (command, cli.build.build_only_flag()) {
        // `pin` reads the engine's digests of images a registry cannot give: it takes the engine's flags.
        (Some("pin"), Some(flag)) if engine_flag(flag) && pin_flags_only(&cli) => {}
        (Some(command), Some(flag)) => return Err(Error::BuildOnlyFlag { flag, command }),
        _ => {}
    }
    let writes_files = match &cli.command {
        Some(Command::Generate(_)) => Some("generate"),
        Some(Command::Pin) => Some("pin"),
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
    let loaded = workspace::load(&workspace::LoadOptions {
        manifest_path: cli.common.manifest_path.clone(),
        features: settings.features.features.clone(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
    })?;
    if matches!(cli.command, Some(Command::Ci(_))) {
        // The matrix holds every image of the Dockerfile (selection flags are refused above), for commits yet to
        // come: `{git_sha}` stays in the tags for the workflow to fill in.
        settings.selection = Selection {
            workspace: true,
            ..Selection::default()
        };
        settings.git_sha = GitSha::AtRunTime;
    } else if wants_git_sha(&settings, &loaded.workspace) {
        settings.git_sha = git_sha(&loaded.workspace.root).map_or(GitSha::Unknown, GitSha::Commit);
    }
    // Normalised images (`--output`'s layout, what `--push` puts) take every time from SOURCE_DATE_EPOCH.
    let builds = &mut settings.builds;
    if builds.output.is_some() || builds.destination == Destination::Registry {
        builds.epoch = source_date_epoch(&loaded.workspace.root)?;
    }
    // Decided once, here at the edge, as the Docker CLI decides it; only a build reads Docker's configuration.
    let endpoint = match &cli.command {
        Some(Command::Build | Command::Pin) | None => Some(resolve_engine(&cli)?),
        _ => None,
    };
    let mut config = config::resolve(&loaded.workspace, &settings)?;
    config.pins = read_pins(&loaded.workspace.root, &config.workspace.dockerfile.value)?;
    let workspace = loaded.read_targets(&config.triples())?;
    let plan = plan::plan(&workspace, &config)?;
    match &cli.command {
        Some(Command::List(args)) => list::list(&plan, args.format, shell),
        Some(Command::Config(args)) => list::config(&plan, &config, args.format),
        Some(Command::Generate(args)) => generate::generate(&plan, args, shell),
        Some(Command::Ci(args)) => ci::ci(&plan, &settings, args, shell),
        Some(Command::Pin) => {
            let endpoint = endpoint.unwrap_or_else(Endpoint::default_socket);
            pin::pin(&plan, (&workspace, config), &endpoint, shell)
        }
        Some(Command::Build) | None => {
            let endpoint = endpoint.unwrap_or_else(Endpoint::default_socket);
            images::build(&plan, &cli, &endpoint, shell)
        }
        Some(Command::Completions(_) | Command::Man) => {
            unreachable!("`completions` and `man` returned before the workspace was read")
        }
    }
}

/// Whether the only build flags given are the engine's (`--context`, `--host`), which `pin` reads.
fn pin_flags_only(cli: &Cli) -> bool {
    let mut build = cli.build.clone();
    build.context = None;
    build.host = None;
    build.build_only_flag().is_none()
}

/// The pins of the Dockerfile on disk (`FROM name:tag@sha256:…`), which every command keeps: none when there is no
/// file, or it is not one this tool wrote (a file of the user's is never read for pins, nor overwritten).
fn read_pins(root: &camino::Utf8Path, dockerfile: &camino::Utf8Path) -> Result<Pins, Error> {
    let path = root.join(dockerfile);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Pins::default());
    };
    if !text.starts_with(crate::render::GENERATED_MARKER) {
        return Ok(Pins::default());
    }
    Pins::read(&text).map_err(|source| Error::Pins { path, source })
}

/// The engine of this build, from `--context`/`--host`, the environment and the Docker CLI's configuration.
fn resolve_engine(cli: &Cli) -> Result<Endpoint, Error> {
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
    git(root, &["rev-parse", "--short=12", "HEAD"]).filter(|s| !s.is_empty())
}

/// `git <args>` in `root`, its output trimmed; `None` when git is missing or fails (outside a repository). The one
/// way the commands ask git, so the tag's commit, the epoch and the provenance read the same repository.
pub(super) fn git(root: &camino::Utf8Path, args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Whether the working tree differs from its commit: a changed tracked file, or an untracked one that is not
/// ignored (it is sent with the build context too). Unknown (git fails) counts as dirty.
pub(super) fn tree_dirty(root: &camino::Utf8Path) -> bool {
    git(root, &["status", "--porcelain"]).is_none_or(|s| !s.is_empty())
}

/// `SOURCE_DATE_EPOCH` for `--output` and `--push`: the environment variable, else the time of the workspace's last commit
/// (and whether the working tree differs from it), else 0 outside a git repository.
fn source_date_epoch(root: &camino::Utf8Path) -> Result<SourceDateEpoch, Error> {
    if let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let value = value.to_string_lossy().into_owned();
        let seconds = value
            .trim()
            .parse::<u64>()
            .map_err(|_| Error::SourceDateEpoch { value })?;
        return Ok(SourceDateEpoch {
            seconds,
            from: EpochFrom::Environment,
        });
    }
    let Some(seconds) =
        git(root, &["log", "-1", "--format=%ct"]).and_then(|t| t.parse::<u64>().ok())
    else {
        return Ok(SourceDateEpoch {
            seconds: 0,
            from: EpochFrom::NoCommit,
        });
    };
    let dirty = tree_dirty(root);
    Ok(SourceDateEpoch {
        seconds,
        from: EpochFrom::Commit { dirty },
    })
}
