//! The build context: the workspace root, or the closest directory that also holds every path package outside
//! it. Pure.

use camino::Utf8PathBuf;

use super::{BuildContext, PlanError};
use crate::workspace::Workspace;

/// The context holds the workspace and every non-member path package: their closest common directory.
pub fn build_context(workspace: &Workspace) -> Result<BuildContext, PlanError> {
    let root = workspace
        .context_root()
        .map_err(|package| PlanError::ContextTooWide {
            package: package.name.clone(),
            dir: package.dir.clone(),
        })?;
    let relative = |dir: &Utf8PathBuf| {
        dir.strip_prefix(&root)
            .map(camino::Utf8Path::to_owned)
            .unwrap_or_else(|_| dir.clone())
    };
    let mut path_packages: Vec<Utf8PathBuf> = workspace
        .path_packages
        .iter()
        .map(|p| relative(&p.dir))
        .collect();
    path_packages.sort();
    path_packages.dedup();
    Ok(BuildContext {
        workspace_dir: relative(&workspace.root),
        root,
        path_packages,
    })
}
