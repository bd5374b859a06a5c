//! What one image holds, as SBOM documents: SPDX 2.3 JSON and CycloneDX 1.6 JSON, and the crate list Rust
//! scanners read from the binary itself (cargo-auditable's `.dep-v0` section, see [`auditable`]).
//!
//! Takes an [`Inventory`]: the crates one binary was compiled from for one target, as Cargo's resolver gave them
//! ([`CrateSet`]: each with version, source, checksum, license, and whether it is linked or only used by the
//! build), the runtime base image, the Debian packages installed into the runtime stage, and the executable's
//! SHA-256 when the build has told it. Gives text. Pure: the caller supplies the time (`created`, never the
//! clock), so the same inventory always gives the same bytes; every list is sorted; the SPDX document namespace
//! and the CycloneDX serial number are name-based UUIDs (version 5) of the document's own content.
//!
//! Both documents describe the image: it contains the executable and the Debian packages and descends from its
//! base; the executable is generated from its package's crate, whose dependency graph follows, build
//! dependencies and proc macros marked as such (SPDX `BUILD_DEPENDENCY_OF`, CycloneDX `scope: excluded`, which
//! the specification gives to what is not reachable at run time).
//!
//! Package URLs follow the purl specification: `pkg:cargo/<name>@<version>`, with `repository_url` for another
//! registry and `vcs_url` for a git source; a workspace member or path dependency gets none (it names no
//! package anyone can fetch, and a bare `pkg:cargo/<name>` would claim crates.io's crate of that name).
//!
//! Every value is carried into JSON by `serde_json`, which escapes what JSON needs; values with a grammar of their
//! own (checksums, license expressions, SPDX identifiers, purl components) are checked or encoded here.

pub mod auditable;
mod builds;
mod cyclonedx;
mod ids;
pub mod provenance;
mod purl;
mod spdx;

pub use builds::{crate_queries, distinct_queries, BuildCrates};
pub use cyclonedx::cyclonedx;
pub use ids::{hex, rfc3339};
pub use spdx::spdx;

use crate::workspace::{Crate, CrateSet, CrateSource};

/// What one image holds, for one platform.
#[derive(Debug, Clone)]
pub struct Inventory<'a> {
    /// The image as it is tagged (`api:0.3.0`): what the documents describe.
    pub image: &'a str,
    /// Docker's name of the platform (`linux/amd64`).
    pub platform: &'a str,
    pub executable: Executable<'a>,
    /// The crates of the executable's package for the platform's target triple.
    pub crates: &'a CrateSet,
    /// The runtime stage's base; `None` on `scratch`.
    pub base: Option<BaseImage<'a>>,
    /// Debian packages installed into the runtime stage, any order.
    pub debian: Vec<DebianPackage<'a>>,
    /// When the build finished, in seconds since the Unix epoch (`SOURCE_DATE_EPOCH` where it is set): the
    /// documents' only time.
    pub created: u64,
    /// This tool's version.
    pub tool_version: &'a str,
}

/// The binary in the image.
#[derive(Debug, Clone, Copy)]
pub struct Executable<'a> {
    pub name: &'a str,
    /// Where the image holds it (`/usr/local/bin/api`).
    pub path: &'a str,
    /// Hex SHA-256 of the file in the image, when the build has reported it.
    pub sha256: Option<&'a str>,
}

/// The base image of a runtime stage.
#[derive(Debug, Clone, Copy)]
pub struct BaseImage<'a> {
    /// As the Dockerfile names it (`gcr.io/distroless/cc-debian12:nonroot`).
    pub reference: &'a str,
    /// `sha256:<hex>` of its manifest, when pinned or resolved.
    pub digest: Option<&'a str>,
}

/// A Debian package installed into the runtime stage.
#[derive(Debug, Clone, Copy)]
pub struct DebianPackage<'a> {
    pub name: &'a str,
    /// The installed version, when known (read from the image after the build).
    pub version: Option<&'a str>,
    /// Debian's architecture (`amd64`, `arm64`).
    pub arch: &'a str,
    /// Debian's release as the purl specification spells it (`debian-12`).
    pub distro: &'a str,
}

/// The parts both documents are written from: each with the identifier it has in them, sorted.
struct Parts<'a> {
    inventory: &'a Inventory<'a>,
    /// The crates in the set's order, each with its identifier (its purl where it has one) and purl.
    crates: Vec<(String, Option<String>, &'a Crate)>,
    /// Debian packages sorted by name, each with its purl.
    debian: Vec<(String, DebianPackage<'a>)>,
    /// The base image's purl, when its digest is known.
    base_purl: Option<String>,
}

impl<'a> Parts<'a> {
    fn of(inventory: &'a Inventory<'a>) -> Self {
        let mut used = std::collections::BTreeSet::new();
        let crates = inventory
            .crates
            .crates
            .iter()
            .map(|krate| {
                let purl = crate_purl(krate);
                let base = purl
                    .clone()
                    .unwrap_or_else(|| format!("crate:{}@{}", krate.name, krate.version));
                let mut id = base.clone();
                let mut n = 2;
                while !used.insert(id.clone()) {
                    id = format!("{base}#{n}");
                    n += 1;
                }
                (id, purl, krate)
            })
            .collect();
        let mut debian: Vec<(String, DebianPackage)> = inventory
            .debian
            .iter()
            .map(|p| (purl::debian(p), *p))
            .collect();
        debian.sort_by(|a, b| (a.1.name, &a.0).cmp(&(b.1.name, &b.0)));
        debian.dedup_by(|a, b| a.0 == b.0);
        Self {
            inventory,
            crates,
            debian,
            base_purl: inventory.base.and_then(purl::oci),
        }
    }

    /// Whether the executable's package crate is in the set (it always is, from [`crate::workspace`]).
    fn root(&self) -> Option<usize> {
        self.crates.iter().position(|(_, _, c)| c.root)
    }
}

/// The purl of a crate, or `None` for a local one.
fn crate_purl(krate: &Crate) -> Option<String> {
    match &krate.source {
        CrateSource::Local => None,
        source => Some(purl::cargo(&krate.name, &krate.version, source)),
    }
}

/// Where the crate's source can be fetched, in SPDX's `downloadLocation` grammar; `None` where nobody can.
fn download_location(krate: &Crate) -> Option<String> {
    match &krate.source {
        CrateSource::CratesIo => Some(format!(
            "https://crates.io/api/v1/crates/{}/{}/download",
            krate.name, krate.version
        )),
        CrateSource::Git { url, rev } if !rev.is_empty() => Some(format!("git+{url}@{rev}")),
        CrateSource::Git { url, .. } => Some(format!("git+{url}")),
        CrateSource::Registry { .. } | CrateSource::Local => None,
    }
}

#[cfg(test)]
mod tests;
