//! What the planner stage copies from the context: the manifests, `Cargo.lock`, Cargo's configuration and the
//! non-member path packages, never the members' sources. A source edit then leaves the planner cached, and with
//! it the whole recipe chain: the final compile no longer waits for the planner to run again (about 0.4 s of
//! every rebuild on 2 cores: its container, and the checksum of its output that keys the cook). The planner
//! stubs the target sources `cargo metadata` must find (see [`crate::workspace::stubs`]).
//!
//! One `COPY` per member directory, since a `COPY` of several files flattens them: beyond
//! [`MAX_SELECTIVE_MEMBERS`] members the planner copies the whole context, as a cold build would otherwise pay
//! for hundreds of layers. Pure.

use camino::{Utf8Path, Utf8PathBuf};

use super::BuildContext;
use crate::workspace::Workspace;

/// Members beyond which the planner copies the whole context instead.
pub const MAX_SELECTIVE_MEMBERS: usize = 32;

/// The planner's inputs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum PlannerInputs {
    /// `COPY . .`: every file of the context.
    Context,
    /// Only what the recipe reads.
    Selected {
        /// `COPY` instructions in order: sources relative to the context root, and the directory they go to,
        /// relative to the context root (empty: the root).
        copies: Vec<(Vec<Utf8PathBuf>, Utf8PathBuf)>,
        /// Empty sources to create before `cargo metadata`, relative to the workspace root, sorted.
        stubs: Vec<Utf8PathBuf>,
    },
}

/// The planner's inputs for `workspace` in `context`.
pub fn planner_inputs(workspace: &Workspace, context: &BuildContext) -> PlannerInputs {
    let outside = |p: &Utf8PathBuf| p.is_absolute() || p.components().any(|c| c.as_str() == "..");
    // A target source outside the workspace (`path = "../x.rs"`) would be stubbed outside the recipe's tree.
    if workspace.members.len() > MAX_SELECTIVE_MEMBERS
        || workspace.members.iter().flat_map(|m| &m.stubs).any(outside)
    {
        return PlannerInputs::Context;
    }
    let in_context = |path: &Utf8Path| crate::paths::fold(&context.workspace_dir.join(path));
    let mut root_files = vec![in_context("Cargo.toml".into())];
    if workspace.has_lockfile {
        root_files.push(in_context("Cargo.lock".into()));
    }
    let mut copies = vec![(root_files, in_context("".into()))];
    if !workspace.cargo_config_files.is_empty() {
        let files = workspace
            .cargo_config_files
            .iter()
            .map(|f| in_context(f.as_str().into()))
            .collect();
        copies.push((files, in_context(".cargo".into())));
    }
    let mut dirs: Vec<&Utf8Path> = workspace
        .members
        .iter()
        .map(|m| m.dir.as_path())
        .filter(|d| *d != "." && !d.as_str().is_empty())
        .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        copies.push((vec![in_context(&dir.join("Cargo.toml"))], in_context(dir)));
    }
    for dir in &context.path_packages {
        // Built from their real sources: copied whole.
        copies.push((vec![dir.clone()], dir.clone()));
    }
    let mut stubs: Vec<Utf8PathBuf> = workspace
        .members
        .iter()
        .flat_map(|m| m.stubs.iter().cloned())
        .collect();
    stubs.sort();
    stubs.dedup();
    PlannerInputs::Selected { copies, stubs }
}
