//! The library's own pipeline in process, workspace → settings → plan → render, for the tests that check
//! properties of the planner and the renderer (structure, determinism) over many settings: each fixture is
//! loaded once (one `cargo metadata`, and `cargo tree` where the library needs it), then planned and rendered
//! under as many command lines as a test likes, with no process and no Cargo per setting.
//!
//! This is the one place where tests call the library's workspace, configuration, plan, render and registry API
//! (besides the synthetic workspaces of `tests/determinism.rs`, which edit a loaded [`Workspace`]'s fields): when
//! that API changes, this file changes, and the tests above it keep speaking in command lines (or, where a test
//! needs what no command line gives, such as `ci`'s `{git_sha}` left for the workflow, in [`Settings`]).
//! [`load`] reads a fixture as `command::run` does before planning: `workspace::load`, `config::resolve`, then
//! `read_targets` for the configuration's triples; the snapshot tests of `tests/generate.rs` run the real binary,
//! so a difference between the two shows there.

use std::path::Path;

use cargo_dockerize::cli::CargoCli;
use cargo_dockerize::config::{self, Features, Settings};
use cargo_dockerize::plan::{self, Plan};
use cargo_dockerize::platform::PlatformList;
use cargo_dockerize::render;
use cargo_dockerize::ui::listing;
use cargo_dockerize::workspace::{self, Workspace};
use clap::Parser as _;

/// The registry side the image-index tests (`tests/e2e_index.rs`) call directly: the index push, its error,
/// and the digest of a manifest.
pub use cargo_dockerize::registry::index::{push_index, IndexError, PlatformManifest};
pub use cargo_dockerize::registry::push::digest_of;

/// The settings of `cargo dockerize generate <args>`; panics on a command line clap refuses.
pub fn settings(args: &[&str]) -> Settings {
    let line = ["cargo", "dockerize", "generate"]
        .into_iter()
        .chain(args.iter().copied());
    let CargoCli::Dockerize(cli) = CargoCli::try_parse_from(line)
        .unwrap_or_else(|e| panic!("`generate {}` does not parse: {e}", args.join(" ")));
    cli.settings()
}

/// A workspace loaded once, to plan under every command line that loads it alike.
pub struct Loaded {
    pub workspace: Workspace,
    /// What the command line it was loaded with chose of what loading reads: features and platforms.
    loaded_for: LoadFlags,
}

/// The settings that change what [`load`] reads.
#[derive(Debug, PartialEq)]
struct LoadFlags {
    features: Features,
    platforms: Option<PlatformList>,
}

impl LoadFlags {
    fn of(settings: &Settings) -> Self {
        Self {
            features: settings.features.clone(),
            platforms: settings.platforms.clone(),
        }
    }
}

/// The workspace of `manifest` as `cargo dockerize <args>` loads it; panics when it does not load.
pub fn load(manifest: &Path, args: &[&str]) -> Loaded {
    load_with(manifest, &settings(args))
}

/// The workspace of `manifest` as a command with `settings` reads it: `cargo metadata` and the workspace's
/// files, the configuration resolved, then the dependency graph of each triple the configuration gives; panics
/// when a step fails.
pub fn load_with(manifest: &Path, settings: &Settings) -> Loaded {
    let manifest = manifest.to_str().expect("a UTF-8 manifest path");
    let loaded = workspace::load(&workspace::LoadOptions {
        manifest_path: Some(manifest.into()),
        features: settings.features.features.clone(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
    })
    .unwrap_or_else(|e| panic!("failed to load `{manifest}`: {e}"));
    let config = config::resolve(&loaded.workspace, settings)
        .unwrap_or_else(|e| panic!("failed to resolve the configuration of `{manifest}`: {e}"));
    let workspace = loaded
        .read_targets(&config.triples())
        .unwrap_or_else(|e| panic!("failed to read the targets of `{manifest}`: {e}"));
    Loaded {
        workspace,
        loaded_for: LoadFlags::of(settings),
    }
}

/// `manifest` read and planned as a command with `settings` plans it; panics when it does not plan.
pub fn plan_fixture(manifest: &Path, settings: &Settings) -> Plan {
    plan(&load_with(manifest, settings).workspace, settings)
}

impl Loaded {
    /// Planned under the command line `generate <args>` and rendered; panics when `args` would load the
    /// workspace otherwise (other features or platforms): load it with them instead.
    pub fn render(&self, args: &[&str]) -> Rendered {
        let settings = settings(args);
        assert_eq!(
            LoadFlags::of(&settings),
            self.loaded_for,
            "`{}` loads the workspace otherwise than it was loaded: load it with these flags",
            args.join(" ")
        );
        render_with(&self.workspace, &settings)
    }
}

/// What the commands make of one plan.
pub struct Rendered {
    /// What `generate` writes as the Dockerfile.
    pub dockerfile: String,
    /// What `generate` writes as `.dockerignore`.
    pub dockerignore: String,
    /// `list --format json`, as printed.
    pub list_text: String,
    pub list: serde_json::Value,
}

/// `workspace` planned under `settings` (the configuration resolved again: the workspace must have been read
/// for the triples it gives); panics when it does not plan.
pub fn plan(workspace: &Workspace, settings: &Settings) -> Plan {
    plan::plan_for(workspace, settings).unwrap_or_else(|e| panic!("failed to plan: {e}"))
}

/// The files and the listing of `plan`.
pub fn render_plan(plan: &Plan) -> Rendered {
    let mut json = Vec::new();
    listing::write_json(plan, &mut json).expect("write the JSON listing");
    let list_text = String::from_utf8(json).expect("UTF-8 JSON");
    Rendered {
        dockerfile: render::render(plan),
        dockerignore: render::dockerignore(&plan.command, &plan.dockerfile),
        list: serde_json::from_str(&list_text).expect("the listing is JSON"),
        list_text,
    }
}

/// `workspace` planned under `settings` and rendered.
pub fn render_with(workspace: &Workspace, settings: &Settings) -> Rendered {
    render_plan(&plan(workspace, settings))
}

/// The CI workflow `cargo dockerize ci` writes for `workspace` under `settings`.
pub fn workflow(workspace: &Workspace, settings: &Settings) -> String {
    let ci = plan::ci::ci_plan(
        &plan(workspace, settings),
        plan::ci::DEFAULT_WORKFLOW.into(),
        "cargo dockerize ci".into(),
    )
    .unwrap_or_else(|e| panic!("failed to plan the workflow: {e}"));
    render::workflow(&ci)
}
