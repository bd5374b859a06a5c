//! How a generated workflow gets cargo-dockerize: the prebuilt archive of this very release for the runner,
//! downloaded from the project's GitHub release and checked against the checksum published beside it, else
//! `cargo install --locked` of the same version (6.5 minutes of compiling on a 2-core runner, against seconds).
//!
//! The workflow installs exactly the version that wrote it: its `generate --check` and `ci --check` steps then
//! compare with what this version writes. The archive names are the release workflow's
//! (`.github/workflows/release.yml`) and `[package.metadata.binstall]`'s in Cargo.toml; tests/release.rs runs
//! the release workflow's archive step and the generated install step against each other.

/// One prebuilt archive the workflow can install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prebuilt {
    /// What `uname -sm` prints on a runner this archive runs on.
    pub uname: &'static str,
    /// The Rust target the release builds it for: part of the archive's name.
    pub target: &'static str,
}

/// The archives for the runners the workflow's jobs run on (`ubuntu-latest`, and GitHub's arm64 Linux runners):
/// static musl binaries. The release also builds macOS archives; on any other runner the step compiles.
pub const PREBUILT: &[Prebuilt] = &[
    Prebuilt {
        uname: "Linux x86_64",
        target: "x86_64-unknown-linux-musl",
    },
    Prebuilt {
        uname: "Linux aarch64",
        target: "aarch64-unknown-linux-musl",
    },
];

/// How the workflow installs cargo-dockerize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// The version to install: this build's own.
    pub version: String,
    /// The base of the release downloads: `<releases>/v<version>/<archive>`.
    pub releases: String,
    /// The archives that exist for each release, by runner.
    pub prebuilt: &'static [Prebuilt],
}

impl Install {
    /// This build of cargo-dockerize, from the release of its own repository.
    pub fn this_release() -> Self {
        Self {
            version: env!("CARGO_PKG_VERSION").to_string(),
            releases: format!("{}/releases/download", env!("CARGO_PKG_REPOSITORY")),
            prebuilt: PREBUILT,
        }
    }
}

/// The name of a release archive without its `.tar.gz`, which is also its top directory.
pub fn archive_stem(version: &str, target: &str) -> String {
    format!("cargo-dockerize-{version}-{target}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_release_downloads_from_github() {
        let install = Install::this_release();
        assert_eq!(install.version, env!("CARGO_PKG_VERSION"));
        assert!(
            install
                .releases
                .starts_with("https://github.com/cargo-dockerize/cargo-dockerize/"),
            "{}",
            install.releases
        );
        assert_eq!(
            archive_stem("1.2.3", PREBUILT[0].target),
            "cargo-dockerize-1.2.3-x86_64-unknown-linux-musl"
        );
    }
}
