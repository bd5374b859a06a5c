//! The build context: the workspace root, or the closest directory that also holds every path package outside
//! it. Pure.

use camino::Utf8PathBuf;

use super::{BuildContext, PlanError};
use crate::workspace::Workspace;

/// The context holds the workspace and every non-member path package: their closest common directory.
pub fn build_context(workspace: &Workspace) -> Result<BuildContext, PlanError> {
    let mut root = workspace.root.clone();
    for package in &workspace.path_packages {
        while !package.dir.starts_with(&root) {
            match root.parent() {
                Some(parent) if parent.parent().is_some() => root = parent.to_owned(),
                _ => {
                    return Err(PlanError::ContextTooWide {
                        package: package.name.clone(),
                        dir: package.dir.clone(),
                    })
                }
            }
        }
    }
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
