//! The command line turned into [`Settings`]: the one mapping from flags to the values the later steps read.
//!
//! [`Settings::regenerate_command`] spells settings back as flags, for the Dockerfile's header; the tests below
//! parse that command again and check that it gives the same settings, so the two directions cannot drift apart.

use super::Cli;
use crate::config::{
    split_features, Auditable, BuildRequest, Cache, Destination, Features, GitSha, Linking, Output,
    Selection, Settings, SourceDateEpoch, TestStage, Variant,
};

impl Cli {
    /// The settings every step after the command line reads.
    pub fn settings(&self) -> Settings {
        let c = &self.common;
        Settings {
            selection: Selection {
                packages: c.packages.clone(),
                workspace: c.workspace,
                exclude: c.exclude.clone(),
                bins: c.bins.clone(),
            },
            features: Features {
                features: split_features(&c.features),
                all_features: c.all_features,
                no_default_features: c.no_default_features,
            },
            profile: c.profile.clone(),
            libc: c.libc,
            runtime: c.runtime.clone(),
            linking: if c.static_glibc {
                Linking::Static
            } else {
                Linking::Auto
            },
            platforms: c.platform.clone(),
            test_stage: if c.no_test_stage {
                TestStage::Omit
            } else {
                TestStage::Include
            },
            auditable: c.no_auditable.then_some(Auditable::Omit),
            tags: (!self.build.tags.is_empty()).then(|| self.build.tags.clone()),
            registry: self.build.registry.clone(),
            sbom: self.build.documents.sbom.clone().map(|list| list.0),
            provenance: self.build.documents.provenance(),
            dockerfile: c.dockerfile.clone(),
            git_sha: GitSha::Unknown,
            builds: self.build_request(),
        }
    }

    /// What `build` asks of its builds; the other commands refuse these flags (see `build_only_flag`).
    fn build_request(&self) -> BuildRequest {
        let b = &self.build;
        BuildRequest {
            variant: if b.debug {
                Variant::Debug
            } else {
                Variant::Release
            },
            destination: if b.push {
                Destination::Registry
            } else {
                Destination::Engine
            },
            build_args: b.build_args.clone(),
            cache_from: b.cache_from.clone(),
            cache_to: b.cache_to.clone(),
            cache: if b.no_cache {
                Cache::Ignore
            } else {
                Cache::Use
            },
            jobs: b.jobs,
            network: b.network,
            output: b.output.as_ref().map(|target| Output {
                format: target.format,
                path: target.path.clone(),
            }),
            epoch: SourceDateEpoch::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::super::CargoCli;
    use super::*;

    fn settings_of(args: &[&str]) -> Settings {
        let mut argv = vec!["cargo", "dockerize", "generate"];
        argv.extend(args);
        let CargoCli::Dockerize(cli) = CargoCli::try_parse_from(argv).expect("the arguments parse");
        cli.settings()
    }

    #[test]
    fn the_regenerate_command_gives_back_the_same_settings() {
        for args in [
            &[][..],
            &["--workspace", "--exclude", "xtask"],
            &["-p", "api", "-p", "worker", "--bin", "api"],
            &["--features", "a b,api/c", "--no-default-features"],
            &["--all-features", "--profile", "dist"],
            &[
                "--libc",
                "gnu",
                "--static",
                "--runtime",
                "ghcr.io/acme/base:1",
            ],
            &[
                "--runtime",
                "distroless",
                "--platform",
                "linux/arm64,linux/amd64",
                "--no-test-stage",
                "--no-auditable",
            ],
            &["--dockerfile", "./docker/Dockerfile.dockerize"],
            &["--libc", "musl", "--bin", "it's"],
        ] {
            let settings = settings_of(args);
            let command = settings.regenerate_command();
            let words = shell_words(&command);
            assert_eq!(&words[..3], ["cargo", "dockerize", "generate"], "{command}");
            let again: Vec<&str> = words[3..].iter().map(String::as_str).collect();
            // The selection chooses images to build, never what the file holds: it is not in the command.
            let unselected = Settings {
                selection: Default::default(),
                ..settings
            };
            assert_eq!(settings_of(&again), unselected, "{args:?} → {command}");
        }
    }

    /// Splits a command the way `sh` would, for the plain and single-quoted words `shell_word` writes.
    fn shell_words(command: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        let mut started = false;
        let mut chars = command.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if !quoted => {
                    word.extend(chars.next());
                    started = true;
                }
                '\'' => {
                    quoted = !quoted;
                    started = true;
                }
                ' ' if !quoted => {
                    if started {
                        words.push(std::mem::take(&mut word));
                    }
                    started = false;
                }
                other => {
                    word.push(other);
                    started = true;
                }
            }
        }
        if started {
            words.push(word);
        }
        words
    }
}
