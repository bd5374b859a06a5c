//! Every `dockerize` table of a workspace, read and checked at once, and the tables that apply to one binary.
//!
//! Takes the [`Workspace`] (whose manifests `cargo metadata` already read) and gives the parsed [`Tables`]; for
//! one binary, [`binary_config`] layers the workspace, package and binary tables and the flags. Every table is
//! parsed, selected or not, so a mistake in any manifest is reported whatever the command line selects. What
//! the workspace table says for every image is read in [`super::resolve`].

use std::collections::BTreeMap;

use super::layer::{layer, BinaryConfig, Layer};
use super::settings::Settings;
use super::table::{parse, Table, TableLevel};
use super::ConfigError;
use crate::source::TableOrigin;
use crate::text::closest;
use crate::workspace::{Package, Workspace};

/// Every `dockerize` table of the workspace, parsed and checked.
pub struct Tables {
    pub(super) workspace: (Table, TableOrigin),
    packages: BTreeMap<String, (Table, TableOrigin)>,
}

/// Parses every table, so a mistake in any manifest is reported whatever is selected.
pub fn read_tables(workspace: &Workspace) -> Result<Tables, ConfigError> {
    let origin = TableOrigin {
        manifest: "Cargo.toml".into(),
        table: "[workspace.metadata.dockerize]".into(),
    };
    let table = if workspace.config.is_null() {
        Table::default()
    } else {
        parse(&workspace.config, &origin, TableLevel::Workspace)?
    };
    let mut packages = BTreeMap::new();
    for package in &workspace.members {
        let origin = TableOrigin {
            // The root package's manifest is `Cargo.toml`, not `./Cargo.toml`.
            manifest: if package.dir == "." {
                "Cargo.toml".into()
            } else {
                package.dir.join("Cargo.toml")
            },
            table: "[package.metadata.dockerize]".into(),
        };
        let table = if package.config.is_null() {
            Table::default()
        } else {
            parse(&package.config, &origin, TableLevel::Package)?
        };
        let names: Vec<String> = package.binaries.iter().map(|b| b.name.clone()).collect();
        for name in table.bin.iter().flat_map(|b| b.keys()) {
            if !names.contains(name) {
                return Err(ConfigError::UnknownBinary {
                    origin: origin.clone(),
                    package: package.name.clone(),
                    binary: name.clone(),
                    suggestion: closest(name, &names),
                });
            }
        }
        packages.insert(package.name.clone(), (table, origin));
    }
    Ok(Tables {
        workspace: (table, origin),
        packages,
    })
}

/// The layered configuration of one binary: workspace table, package table, binary table, flags.
pub fn binary_config(
    tables: &Tables,
    package: &Package,
    binary: &str,
    settings: &Settings,
) -> Result<BinaryConfig, ConfigError> {
    let (ws_table, ws_origin) = &tables.workspace;
    let mut layers = vec![Layer {
        table: ws_table,
        origin: ws_origin,
        dir: camino::Utf8Path::new("."),
    }];
    let bin_origin;
    if let Some((table, origin)) = tables.packages.get(&package.name) {
        layers.push(Layer {
            table,
            origin,
            dir: &package.dir,
        });
        if let Some(bin_table) = table.bin.as_ref().and_then(|b| b.get(binary)) {
            bin_origin = TableOrigin {
                manifest: origin.manifest.clone(),
                table: format!("[package.metadata.dockerize.bin.{binary}]"),
            };
            layers.push(Layer {
                table: bin_table,
                origin: &bin_origin,
                dir: &package.dir,
            });
        }
    }
    layer(&layers, settings)
}
