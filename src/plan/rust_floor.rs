//! The oldest Rust release the builder may carry: the highest `rust-version` of the members, when nothing pins
//! the toolchain and the builder floats on `rust:1`. Checked twice, since an engine keeps the `rust:1` it pulled
//! once: by the Dockerfile itself before anything is installed (a plain `docker build` too), and by `build`
//! against the engine's image before it builds. Building on `rust:<rust-version>` instead was weighed and left:
//! `rust-version` is the oldest release the crates promise to support, not the one to build with: the lockfile's
//! dependencies often need newer ones, Docker's Debian bookworm tags start at 1.70, and older compilers make
//! slower binaries. Pure.

use serde::Serialize;

use crate::source::Source;
use crate::workspace::{Toolchain, Workspace};

/// The highest `rust-version` of the members, which the builder's floating toolchain must reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RustFloor {
    /// As written: `1.96`.
    pub version: String,
    /// The member that declares it (the first by name of those that declare that release).
    pub package: String,
    /// The builder's base image that must hold at least that release: `rust:1-slim-bookworm`.
    pub image: String,
}

/// The highest `rust-version` of the members when the toolchain floats (`rust:1`): a pinned toolchain is the
/// user's own choice, which Cargo checks against `rust-version` itself.
pub fn rust_floor(workspace: &Workspace, toolchain: &Toolchain) -> Option<RustFloor> {
    if toolchain.source != Source::Default {
        return None;
    }
    workspace
        .members
        .iter()
        .filter_map(|m| Some((crate::text::release_key(m.rust_version.as_deref()?)?, m)))
        .max_by(|(a, ma), (b, mb)| a.cmp(b).then(mb.name.cmp(&ma.name)))
        .map(|(_, member)| RustFloor {
            version: member.rust_version.clone().unwrap_or_default(),
            package: member.name.clone(),
            image: format!("rust:{}-slim-bookworm", toolchain.image_version),
        })
}
