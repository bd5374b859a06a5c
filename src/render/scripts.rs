//! The build scripts beside the Dockerfile: `.dockerize/` in the Dockerfile's directory, written and checked with it.
//!
//! The Dockerfile says what each stage does; what takes more than a line lives here, readable and commented:
//! - `build.sh` (POSIX `sh`), with a subcommand per stage that runs it: `recipe` in the planner (`cargo metadata`,
//!   `recipe.pl`, the recipe's digest), `compile` in the builder (which images `DOCKERIZE_IMAGES` wants, the cache
//!   mount seeded from the cooked layer, sources dated by content, `cargo build`, the crate lists embedded, the
//!   binaries copied out and stripped);
//! - `recipe.pl`, the dependency recipe (see [`super::recipe`] for why perl);
//! - `date.pl`, sources dated by content (sub-second `touch` in batches, which `sh` cannot do in one process);
//! - `auditable.pl`, each binary's crate list in cargo-auditable's format from the build's `cargo tree`, which
//!   `build.sh compile --dep-v0` adds to the binary (see [`crate::sbom::auditable`]).
//!
//! Several files, one job each, rather than one script with every subcommand: perl does what `sh` cannot (TOML,
//! batched dating) and `sh` what it does best (running Cargo, `find`, `cp`); each file is checked by its own tool
//! (`shellcheck`, `perl -c`), and a reviewer opens the one the stage names. One shell entry point (`build.sh`),
//! so the Dockerfile names one script whatever the stage.
//!
//! The files are the same for every workspace (their text is this module's, not the plan's): whatever the plan
//! says is in the Dockerfile, as the scripts' arguments. So the files change only when cargo-dockerize does, never
//! with a source edit, a version bump or a manifest edit, and the planner, which mounts them, stays cached. The
//! planner mounts them (`RUN --mount=type=bind`: no layer, nothing in the cold build); the builder finds them in
//! the context it copies for the final compile. The classic builder has no mounts: its planner copies them in.

use camino::Utf8PathBuf;

use crate::plan::{BuildContext, DockerfilePath};

/// The directory of the scripts, beside the Dockerfile.
pub const DIR: &str = ".dockerize";

/// Where the planner mounts the scripts (or copies them, for the classic builder).
pub(super) const MOUNTED: &str = "/dockerize";

/// The scripts, by file name: the same text for every workspace.
const FILES: &[(&str, &str)] = &[
    ("auditable.pl", include_str!("dockerize/auditable.pl")),
    ("build.sh", include_str!("dockerize/build.sh")),
    ("date.pl", include_str!("dockerize/date.pl")),
    ("recipe.pl", include_str!("dockerize/recipe.pl")),
];

/// One generated script: its path relative to the workspace root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub path: Utf8PathBuf,
    pub text: &'static str,
}

/// The scripts the Dockerfile at `dockerfile` runs, at their paths relative to the workspace root.
pub fn scripts(dockerfile: &DockerfilePath) -> Vec<Script> {
    let dir = dir_in_workspace(dockerfile);
    FILES
        .iter()
        .map(|(name, text)| Script {
            path: dir.join(name),
            text,
        })
        .collect()
}

/// `.dockerize` in the Dockerfile's directory, relative to the workspace root (the builder's working directory).
pub(super) fn dir_in_workspace(dockerfile: &DockerfilePath) -> Utf8PathBuf {
    match dockerfile.path.parent() {
        Some(parent) if !parent.as_str().is_empty() => parent.join(DIR),
        _ => DIR.into(),
    }
}

/// The scripts' directory relative to the context root, which `RUN --mount` and `COPY` read from.
pub(super) fn dir_in_context(context: &BuildContext, dockerfile: &DockerfilePath) -> Utf8PathBuf {
    crate::paths::fold(&context.workspace_dir.join(dir_in_workspace(dockerfile)))
}

/// Whether `path` can be a `RUN --mount` source as it is: the flag's value is split on commas and whitespace and
/// reads quotes, so a path with any of them (or anything else unusual) is copied in instead.
pub(super) fn mountable(path: &str) -> bool {
    path.chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/+@%:~-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_script_is_marked_as_ours() {
        for (name, text) in FILES {
            assert!(text.starts_with(super::super::GENERATED_MARKER), "{name}");
        }
    }

    #[test]
    fn the_scripts_sit_beside_the_dockerfile() {
        let at = |path: &str| {
            dir_in_workspace(&DockerfilePath::new(
                path.into(),
                crate::source::Source::Default,
            ))
        };
        assert_eq!(at("Dockerfile"), ".dockerize");
        assert_eq!(at("docker/Dockerfile.x"), "docker/.dockerize");
        assert!(mountable(".dockerize") && mountable("app/docker/.dockerize"));
        assert!(!mountable("my app/.dockerize") && !mountable("a,b/.dockerize"));
    }
}
