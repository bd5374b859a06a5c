//! The library's own pipeline in process, workspace → settings → plan → render, for the tests that check
//! properties of the planner and the renderer (structure, determinism) over many settings: each fixture is
//! loaded once (one `cargo metadata`, and `cargo tree` where the library needs it), then planned and rendered
//! under as many command lines as a test likes, with no process and no Cargo per setting.
//!
//! This is the one place where tests call the library's workspace, configuration, plan, render and registry API
//! (besides the synthetic workspaces of `tests/determinism.rs`, which edit a loaded [`Workspace`]'s fields): when
//! that API changes, this file changes, and the tests above it keep speaking in command lines. [`load`] mirrors
//! what `command::run` does before planning (the load options from the flags and the workspace table's
//! platforms); the snapshot tests of `tests/generate.rs` run the real binary, so a difference between the two
//! shows there.

use std::path::Path;

use cargo_dockerize::cli::CargoCli;
use cargo_dockerize::config::{Features, Settings};
use cargo_dockerize::plan::{self, Plan};
use cargo_dockerize::platform::{Platform, PlatformList};
use cargo_dockerize::render;
use cargo_dockerize::ui::listing;
use cargo_dockerize::workspace::{self, Workspace};
use clap::Parser as _;

/// The registry side the image-index tests (`tests/e2e_index.rs`) call directly: the index push, its error,
/// and the digest of a manifest.
pub use cargo_dockerize::build::index::{push_index, IndexError, PlatformManifest};
pub use cargo_dockerize::build::push::digest_of;

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
    let settings = settings(args);
    let manifest = manifest.to_str().expect("a UTF-8 manifest path");
    let workspace = workspace::load(&workspace::LoadOptions {
        manifest_path: Some(manifest.into()),
        features: settings.features.features.clone(),
        all_features: settings.features.all_features,
        no_default_features: settings.features.no_default_features,
        triples: settings
            .platforms
            .clone()
            .unwrap_or_default()
            .0
            .into_iter()
            .flat_map(platform_triples)
            .collect(),
        table_triples: settings.platforms.is_none().then_some(table_triples as _),
    })
    .unwrap_or_else(|e| panic!("failed to load `{manifest}`: {e}"));
    Loaded {
        workspace,
        loaded_for: LoadFlags::of(&settings),
    }
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

/// The triples of a platform whose dependency graphs the plan reads: musl's (where Rust has it) and glibc's.
fn platform_triples(platform: Platform) -> Vec<String> {
    [platform.triple(true), platform.triple(false)]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

/// The triples of the `platforms` a workspace table names (a bad list adds nothing: the plan reports it).
fn table_triples(table: &serde_json::Value) -> Vec<String> {
    let names = table["platforms"].as_array().into_iter().flatten();
    PlatformList::parse(names.filter_map(|n| n.as_str()))
        .map(|list| list.0.into_iter().flat_map(platform_triples).collect())
        .unwrap_or_default()
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

/// `workspace` planned under `settings`; panics when it does not plan.
pub fn plan(workspace: &Workspace, settings: &Settings) -> Plan {
    plan::plan(workspace, settings).unwrap_or_else(|e| panic!("failed to plan: {e}"))
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
