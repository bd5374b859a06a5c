//! The crate list embedded in each binary, in cargo-auditable's format, so that any scanner finds it in any copy
//! of the image: trivy, grype, syft, osv-scanner and `cargo audit bin` read it.
//!
//! The format (cargo-auditable's `auditable-serde`): a JSON `VersionInfo`, `{"packages":[...],"format":1}`, each
//! package with `name`, `version`, `source` (`crates.io`, `registry`, `git`, `local`), `kind` (`build`, omitted
//! for `runtime`), `dependencies` (indices into the list, omitted when none) and `root` (omitted when false),
//! compressed with zlib into a section named `.dep-v0` that is not loaded at run time (ELF flags 0). Format 1
//! says proc macros and what they use are recorded as build-time, which is what Cargo's resolver gives here.
//!
//! How it gets there: written by us, not by cargo-auditable. Measured (BENCHMARKS.md): `cargo install
//! cargo-auditable --locked` in the builder image takes about 68 s on the 2-core machine, in the shared chef
//! layer of every cold build, and its crate list comes from `cargo metadata` (`format` 0/1: "may include more
//! dependencies than are actually used"), so it would disagree with the SBOM, which comes from `cargo tree`.
//! Instead the builder's final compile (`.dockerize/build.sh compile --dep-v0 <objcopy>`), after its `cargo
//! build`, runs `cargo tree` with the same packages, target and features (offline: the cook fetched everything),
//! turns it into the JSON with `.dockerize/auditable.pl` (perl-base and gzip are in every Debian image), and adds
//! the section to each unstripped binary with binutils' `objcopy` (`<triplet>-objcopy` when cross-compiling,
//! beside the `<triplet>-strip` the builder already uses), before the strip, which keeps it. Computed in the
//! builder rather than on the host so that a plain `docker build` and the CI workflow embed it too; the host
//! computes the same JSON from the same resolve ([`version_info`], compared byte for byte with the script's in
//! `tests/sbom.rs`; `tests/e2e_sbom.rs` reads it back from the binaries of images the tool built, for amd64 and
//! arm64). Whether the builders embed it is the plan's `auditable` (`auditable = false` or `--no-auditable`).

use serde::Serialize;

use crate::workspace::{CrateSet, CrateSource};

/// cargo-auditable's `VersionInfo` of `set`, as `serde_json` writes it (and the builder's script too).
pub fn version_info(set: &CrateSet) -> String {
    #[derive(Serialize)]
    struct VersionInfo<'a> {
        packages: Vec<Package<'a>>,
        format: u32,
    }
    #[derive(Serialize)]
    struct Package<'a> {
        name: &'a str,
        version: &'a str,
        source: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<&'static str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        dependencies: Vec<usize>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        root: bool,
    }
    let packages = set
        .crates
        .iter()
        .map(|c| {
            let mut dependencies: Vec<usize> = c.dependencies.iter().map(|d| d.index).collect();
            dependencies.dedup();
            Package {
                name: &c.name,
                version: &c.version,
                source: match c.source {
                    CrateSource::CratesIo => "crates.io",
                    CrateSource::Registry { .. } => "registry",
                    CrateSource::Git { .. } => "git",
                    CrateSource::Local => "local",
                },
                kind: c.build_only.then_some("build"),
                dependencies,
                root: c.root,
            }
        })
        .collect();
    let info = VersionInfo {
        packages,
        format: 1,
    };
    serde_json::to_string(&info).expect("plain data serialises")
}
