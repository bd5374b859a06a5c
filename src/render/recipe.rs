//! The planner stage: the dependency recipe, and the script that writes it.
//!
//! The recipe is what the cook builds: member manifests with versions, descriptions and `[*.metadata]` masked,
//! `Cargo.lock` with the members at `0.0.0`, empty sources, `.cargo/config`. It changes only when something that
//! matters to dependencies changes, so a source edit, a member's version bump, a description or a
//! `[package.metadata]` edit leaves the dependency layer cached. It must also be exactly what Cargo accepts with
//! `--locked`, on any workspace.
//!
//! Why a perl script, run in the planner (`recipe.pl`, beside this file):
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
//! `tests/recipe.rs` runs the script this module embeds on copies of every fixture and checks that Cargo accepts
//! the result with `--locked`.

use std::fmt::Write as _;

use super::dockerfile::workspace_in_image;
use camino::{Utf8Path, Utf8PathBuf};

use super::quote::{copy_paths, perl_script};
use crate::model::{stage, APP_DIR};
use crate::plan::{BuildContext, PlannerInputs};
use crate::text::shell_word;

/// The recipe writer, a perl script kept in its own file (`recipe.pl`, which says what it writes and how).
const RECIPE_SCRIPT: &str = include_str!("recipe.pl");

/// The script's statements as embedded in the Dockerfile: whole-line comments and blank lines dropped, indentation
/// trimmed (the RUN instruction joins the lines into one).
pub(crate) fn recipe_script_lines() -> impl Iterator<Item = &'static str> {
    RECIPE_SCRIPT
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

pub(super) fn planner(
    out: &mut String,
    toolchain_files: &[String],
    context: &BuildContext,
    inputs: &PlannerInputs,
) {
    out.push_str(
        "# The dependency recipe: manifests (versions, descriptions and [*.metadata] masked), Cargo.lock and empty\n\
         # sources. It changes only when dependencies change, so the dependency layer below stays cached.\n",
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
            out.push_str(
                "# Only what the recipe reads, so a source edit leaves this stage and the recipe cached; the target\n\
                 # sources Cargo must find are created empty.\n",
            );
            if context.is_widened() {
                let _ = writeln!(out, "WORKDIR {workspace}");
            }
            for (sources, dir) in copies {
                copy(out, sources, dir, context.is_widened());
            }
            if !stubs.is_empty() {
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
                steps.push(if dirs.is_empty() {
                    format!("touch {files}")
                } else {
                    format!("mkdir -p {} && touch {files}", words(dirs))
                });
            }
        }
    }
    for dir in &context.path_packages {
        // Path dependencies that are not members are built from their real sources: copied whole.
        // One shell word each: a directory's name is the user's (`a;b`, `a>b` are valid names).
        let (recipe, source) = (
            shell_word(&format!("/recipe/{dir}")),
            shell_word(&format!("{APP_DIR}/{dir}/.")),
        );
        steps.push(format!(
            "mkdir -p {recipe} && cp -a {source} {}",
            shell_word(&format!("/recipe/{dir}/"))
        ));
    }
    steps.push(
        "cargo metadata --no-deps --format-version 1 --offline > /tmp/metadata.json".to_string(),
    );
    let mut args = format!("/tmp/metadata.json {APP_DIR} {workspace} /recipe");
    for path in &context.path_packages {
        args.push(' ');
        args.push_str(&shell_word(path.as_str()));
    }
    let script = perl_script(recipe_script_lines(), &args);
    steps.push(script);
    let _ = writeln!(out, "RUN {}\n", steps.join(" \\\n    && "));
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
