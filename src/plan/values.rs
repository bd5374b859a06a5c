//! Names the workspace itself gives the Dockerfile — package and binary names and package directories — checked before
//! anything is planned: a `[[bin]] name` Cargo accepts (`a\`, `it's`) or a path dependency's directory (`a;b`)
//! would otherwise become Dockerfile or shell syntax. Each refusal names the manifest and the key. Pure.

use super::{BuildContext, PlanError};
use crate::value::{check_dir, BinaryName};
use crate::workspace::Workspace;

/// `Err` for the first package or binary name or directory of `workspace` and `context` a generated file cannot hold.
pub fn check_workspace(workspace: &Workspace, context: &BuildContext) -> Result<(), PlanError> {
    for package in &workspace.members {
        check_dir(package.dir.as_str()).map_err(|refused| PlanError::Refused {
            what: format!(
                "the directory of package `{}`",
                crate::value::shown(&package.name)
            ),
            refused,
        })?;
        // Its directory passed above: the manifest path is shown as it is.
        let manifest = package.dir.join("Cargo.toml");
        // Cargo's own grammar keeps `;` and spaces out of a package name; the name is checked like a binary's
        // all the same (it is a `-p` word of every `cargo` line), so a workspace read otherwise stays inert.
        package
            .name
            .parse::<BinaryName>()
            .map_err(|refused| PlanError::Refused {
                what: format!("`package.name` of `{manifest}`"),
                refused,
            })?;
        for binary in &package.binaries {
            binary
                .name
                .parse::<BinaryName>()
                .map_err(|refused| PlanError::Refused {
                    what: format!("`[[bin]] name` of `{manifest}`"),
                    refused,
                })?;
        }
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
