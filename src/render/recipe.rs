//! The planner stage: the dependency recipe, and the script that writes it.
//!
//! The recipe is what the cook builds: member manifests with versions, descriptions and `[*.metadata]` masked,
//! `Cargo.lock` with the members at `0.0.0`, empty sources, `.cargo/config`. It changes only when something that
//! matters to dependencies changes, so a source edit, a member's version bump, a description or a
//! `[package.metadata]` edit leaves the dependency layer cached. It must also be exactly what Cargo accepts with
//! `--locked`, on any workspace.
//!
//! Why a perl script (`.dockerize/recipe.pl`, from `src/render/dockerize/recipe.pl`), run in the planner by
//! `.dockerize/build.sh recipe`:
//! - a tool compiled in the image (cargo-chef) costs about 60 s of the cold build, mostly its own dependencies; a
//!   small Rust program would still pay for a TOML parser; perl-base is in every Debian image and costs nothing;
//! - a recipe computed on the host and sent in the context would make a plain `docker build` depend on a fresh
//!   `generate` after every manifest edit: the Dockerfile would no longer be the workspace's alone;
//! - manifests need only part of TOML to be rewritten safely: the script reads them statement by statement
//!   (table headers, dotted and quoted keys, single-line inline tables, multi-line arrays and strings, comments),
//!   so a path dependency loses its version requirement whatever its form (inline, `[dependencies.foo]` table,
//!   dotted keys, `[workspace.dependencies]`, `[target.'cfg(..)'.*]`, dev and build dependencies);
//! - `Cargo.lock` is rewritten as Cargo writes it: masking a member's version can change how references spell
//!   a registry crate of the same name (`"foo 0.3.1 (registry+…)"` becomes `"foo 0.3.1"`) and where the member
//!   sorts, so the script re-spells every reference and re-sorts packages and dependency lists by Cargo's rules.
//!   A member that a `[patch]` puts in place of a registry crate keeps its version (the patch must still match).
//!
//! The planner mounts the scripts (`RUN --mount=type=bind`: no layer); the classic builder, which has no mounts,
//! and a scripts directory whose path the mount flag cannot spell, copy them in instead.
//!
//! `tests/recipe.rs` runs the planner's step with the scripts `generate` writes on copies of every fixture and
//! checks that Cargo accepts the result with `--locked`.

use std::fmt::Write as _;

use camino::{Utf8Path, Utf8PathBuf};

use super::dockerfile::{comment, workspace_in_image};
use super::quote::copy_paths;
use super::scripts::{dir_in_context, mountable, MOUNTED};
use crate::model::{stage, Backend, APP_DIR};
use crate::plan::{BuildContext, DockerfilePath, PlannerInputs};
use crate::text::shell_word;

pub(super) fn planner(
    out: &mut String,
    dockerfile: &DockerfilePath,
    toolchain_files: &[String],
    context: &BuildContext,
    inputs: &PlannerInputs,
    backend: Backend,
) {
    let why = match inputs {
        PlannerInputs::Selected { .. } => {
            "Only manifests come in, so a source edit leaves it and the dependency layer cached."
        }
        PlannerInputs::Context => {
            "The whole context comes in (too many members for a COPY each); a source edit leaves the recipe as it is."
        }
    };
    comment(
        out,
        &format!(
            "The dependency recipe (`.dockerize/recipe.pl`): manifests with versions, descriptions and [*.metadata] \
             masked, Cargo.lock, empty sources. {why}"
        ),
    );
    let _ = writeln!(out, "FROM {} AS {}", stage::CHEF, stage::PLANNER);
    let workspace = workspace_in_image(context);
    let mut steps = Vec::new();
    match inputs {
        PlannerInputs::Context => {
            if context.is_widened() {
                let _ = writeln!(out, "WORKDIR {workspace}\nCOPY . {APP_DIR}/");
            } else {
                out.push_str("COPY . .\n");
            }
            if !toolchain_files.is_empty() {
                // The image already carries the pinned toolchain; the file would make rustup look for it by
                // another name.
                steps.push(format!("rm -f {}", toolchain_files.join(" ")));
            }
        }
        PlannerInputs::Selected { copies, stubs } => {
            if context.is_widened() {
                let _ = writeln!(out, "WORKDIR {workspace}");
            }
            for (sources, dir) in copies {
                copy(out, sources, dir, context.is_widened());
            }
            steps.extend(stub_step(stubs));
        }
    }
    let mut recipe = format!(
        "sh {MOUNTED}/build.sh recipe {APP_DIR} {} /recipe",
        shell_word(&workspace)
    );
    for path in &context.path_packages {
        // Path dependencies that are not members are built from their real sources: copied whole.
        recipe.push(' ');
        recipe.push_str(&shell_word(path.as_str()));
    }
    steps.push(recipe);
    let scripts = dir_in_context(context, dockerfile);
    let steps = steps.join(" \\\n    && ");
    if backend == Backend::BuildKit && mountable(scripts.as_str()) {
        let _ = writeln!(
            out,
            "RUN --mount=type=bind,source={scripts},target={MOUNTED} \\\n    {steps}\n"
        );
    } else {
        let _ = writeln!(
            out,
            "COPY {}\nRUN {steps}\n",
            copy_paths(&[format!("{scripts}/"), format!("{MOUNTED}/")])
        );
    }
}

/// The empty target sources Cargo must find, created before `cargo metadata` reads the manifests.
fn stub_step(stubs: &[Utf8PathBuf]) -> Option<String> {
    if stubs.is_empty() {
        return None;
    }
    let mut dirs: Vec<&str> = stubs
        .iter()
        .filter_map(|s| s.parent())
        .map(|d| d.as_str())
        .filter(|d| !d.is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    let words = |paths: Vec<&str>| {
        paths
            .into_iter()
            .map(shell_word)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let files = words(stubs.iter().map(|s| s.as_str()).collect());
    Some(if dirs.is_empty() {
        format!("touch {files}")
    } else {
        format!("mkdir -p {} && touch {files}", words(dirs))
    })
}

/// One `COPY` of the planner: `sources` (relative to the context root) into `dir`, which is relative to the
/// context root too: written from the working directory (`/app`) when the context is the workspace, absolute
/// under `/app` when it is wider.
fn copy(out: &mut String, sources: &[Utf8PathBuf], dir: &Utf8Path, widened: bool) {
    let dest = match (widened, dir.as_str().is_empty()) {
        (true, true) => format!("{APP_DIR}/"),
        (true, false) => format!("{APP_DIR}/{dir}/"),
        (false, true) => "./".to_string(),
        (false, false) => format!("{dir}/"),
    };
    let mut paths: Vec<String> = sources.iter().map(|s| s.to_string()).collect();
    paths.push(dest);
    let _ = writeln!(out, "COPY {}", copy_paths(&paths));
}
