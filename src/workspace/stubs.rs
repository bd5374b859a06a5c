//! The target sources the planner must find before it runs `cargo metadata` on the manifests alone: for each
//! member, its lib, bin, proc-macro and build-script targets (auto-discovered or not, they decide which
//! dependencies the cook builds: a build script brings its build-dependencies), and the tests, examples and
//! benches its manifest declares (`[[test]]`...), whose missing file Cargo refuses. Tests, examples and benches
//! Cargo discovers by themselves are left out, so adding one changes neither the Dockerfile nor the recipe.
//!
//! [`declared`] reads the members' manifests (the I/O edge); [`stub_paths`] is pure.

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};
use cargo_metadata::{Metadata, Package as CargoPackage, PackageId, TargetKind};

/// A declared target: its kind as the manifest's array names it (`test`, `example`, `bench`) and its name.
pub type Declared = BTreeSet<(String, String)>;

/// The tests, examples and benches each member's manifest declares. A manifest that cannot be read or parsed
/// declares none here: Cargo, which has just read it, reports any trouble in the build in its own words.
pub fn declared(metadata: &Metadata) -> BTreeMap<PackageId, Declared> {
    let members: BTreeSet<&PackageId> = metadata.workspace_members.iter().collect();
    metadata
        .packages
        .iter()
        .filter(|p| members.contains(&p.id))
        .map(|p| (p.id.clone(), declared_in(&p.manifest_path)))
        .collect()
}

fn declared_in(manifest: &Utf8Path) -> Declared {
    let Some(table) = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return Declared::new();
    };
    let mut found = Declared::new();
    for kind in ["test", "example", "bench"] {
        let entries = table.get(kind).and_then(|v| v.as_array());
        for entry in entries.into_iter().flatten() {
            if let Some(name) = entry.get("name").and_then(|n| n.as_str()) {
                found.insert((kind.to_string(), name.to_string()));
            }
        }
    }
    found
}

/// The sources to stub for `package`, relative to `root`, sorted.
pub fn stub_paths(
    package: &CargoPackage,
    root: &Utf8Path,
    declared: &Declared,
) -> Vec<Utf8PathBuf> {
    let mut paths: Vec<Utf8PathBuf> = package
        .targets
        .iter()
        .filter(|t| {
            t.kind.iter().any(always_stubbed)
                || t.kind.iter().any(|k| {
                    declarable(k).is_some_and(|kind| {
                        declared.contains(&(kind.to_string(), t.name.to_string()))
                    })
                })
        })
        .map(|t| {
            t.src_path
                .strip_prefix(root)
                .map(Utf8Path::to_owned)
                .unwrap_or_else(|_| t.src_path.clone())
        })
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Targets that take part in `cargo build --bin`: libraries of every kind, binaries, build scripts.
fn always_stubbed(kind: &TargetKind) -> bool {
    !matches!(
        kind,
        TargetKind::Test | TargetKind::Example | TargetKind::Bench
    )
}

/// The manifest array that declares a target of this kind.
fn declarable(kind: &TargetKind) -> Option<&'static str> {
    match kind {
        TargetKind::Test => Some("test"),
        TargetKind::Example => Some("example"),
        TargetKind::Bench => Some("bench"),
        _ => None,
    }
}
