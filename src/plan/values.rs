//! Names the workspace itself gives the Dockerfile — binary names and package directories — checked before
//! anything is planned: a `[[bin]] name` Cargo accepts (`a\`, `it's`) or a path dependency's directory (`a;b`)
//! would otherwise become Dockerfile or shell syntax. Each refusal names the manifest and the key. Pure.

use super::{BuildContext, PlanError};
use crate::value::{check_dir, BinaryName};
use crate::workspace::Workspace;

/// `Err` for the first binary name or directory of `workspace` and `context` a generated file cannot hold.
pub fn check_workspace(workspace: &Workspace, context: &BuildContext) -> Result<(), PlanError> {
    for package in &workspace.members {
        let manifest = package.dir.join("Cargo.toml");
        for binary in &package.binaries {
            binary
                .name
                .parse::<BinaryName>()
                .map_err(|refused| PlanError::Refused {
                    what: format!("`[[bin]] name` of `{manifest}`"),
                    refused,
                })?;
        }
        check_dir(package.dir.as_str()).map_err(|refused| PlanError::Refused {
            what: format!("the directory of package `{}`", package.name),
            refused,
        })?;
    }
    for dir in context
        .path_packages
        .iter()
        .chain(std::iter::once(&context.workspace_dir))
    {
        check_dir(dir.as_str()).map_err(|refused| PlanError::Refused {
            what: "a path dependency's directory".into(),
            refused,
        })?;
    }
    Ok(())
}
