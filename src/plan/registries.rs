//! The private Cargo registries the builder fetches crates from, each with the token it needs: decided once here,
//! from the registries the resolve's packages come from ([`Workspace::registry_sources`]) and the build context's
//! Cargo configuration ([`Workspace::cargo_config`]). Pure.
//!
//! A registry needs a token when a package of `Cargo.lock` comes from it and it is not crates.io; a source that
//! `[source.<name>] replace-with` replaces is fetched from its replacement instead, which needs one when it is a
//! `[registries]` entry (a mirror of crates.io, or of a private registry) and none when it is a directory
//! (vendored sources). Each token is a build secret named for the variable Cargo reads it from,
//! `CARGO_REGISTRIES_<NAME>_TOKEN`: `build` reads that variable, else `[registries.<name>] token` of the user's
//! `credentials.toml`, and a plain `docker build --secret id=<it>,env=<it>` gives the same.

use camino::Utf8PathBuf;
use serde::Serialize;

use super::PlanError;
use crate::model::{BuildSecret, SecretFrom};
use crate::workspace::Workspace;

/// The sources Cargo writes for crates.io, git and sparse index.
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// A registry the builder's Cargo fetches from with a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateRegistry {
    /// Its name, `[registries.<name>]`.
    pub name: String,
    /// Its index, as the configuration writes it.
    pub index: String,
    /// The configuration file that names it, relative to the workspace root.
    pub config: Utf8PathBuf,
    /// `CARGO_REGISTRIES_<NAME>_TOKEN`: the build secret's id, and the variable Cargo reads the token from.
    pub secret: String,
}

/// The variable Cargo reads registry `name`'s token from: `CARGO_REGISTRIES_<NAME>_TOKEN`, the name in capitals
/// with `-` as `_`.
pub fn token_variable(name: &str) -> String {
    format!(
        "CARGO_REGISTRIES_{}_TOKEN",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// An index URL as sources and configuration files compare: without `registry+` (a git index's source has it,
/// its `index` does not) and without a final `/`.
fn comparable(index: &str) -> &str {
    index
        .strip_prefix("registry+")
        .unwrap_or(index)
        .trim_end_matches('/')
}

/// The registries of `workspace` that need a token, sorted by name, each once.
pub fn private_registries(workspace: &Workspace) -> Result<Vec<PrivateRegistry>, PlanError> {
    let config = &workspace.cargo_config;
    let named = config.registries();
    let mut found: Vec<PrivateRegistry> = Vec::new();
    for source in &workspace.registry_sources {
        let name = if CRATES_IO.contains(&source.as_str()) {
            "crates-io"
        } else {
            named
                .iter()
                .find(|(_, (index, _))| comparable(index) == comparable(source))
                .map(|(name, _)| *name)
                .ok_or_else(|| PlanError::RegistryNotInContext {
                    index: source.clone(),
                })?
        };
        // Where Cargo fetches it from: its replacement, when the configuration names one.
        let fetched = config.replacement(name).unwrap_or(name);
        if fetched == "crates-io" {
            continue;
        }
        // A replacement that is not a registry (a directory, a local registry, a `[source]` git mirror) needs
        // no token.
        let Some((index, file)) = named.get(fetched) else {
            continue;
        };
        if !fetched
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(PlanError::RegistryName {
                name: fetched.to_string(),
                file: file.to_path_buf(),
            });
        }
        if found.iter().any(|r| r.name == fetched) {
            continue;
        }
        found.push(PrivateRegistry {
            name: fetched.to_string(),
            index: index.to_string(),
            config: file.to_path_buf(),
            secret: token_variable(fetched),
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// `build-secrets` with each registry's token added (a token `build-secrets` names already is read as it says),
/// sorted by name.
pub fn with_tokens(secrets: &[BuildSecret], registries: &[PrivateRegistry]) -> Vec<BuildSecret> {
    let mut all = secrets.to_vec();
    for registry in registries {
        if !all.iter().any(|s| s.name == registry.secret) {
            all.push(BuildSecret {
                name: registry.secret.clone(),
                from: SecretFrom::Registry(registry.name.clone()),
            });
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::testing::ws;

    fn workspace(config: &str, sources: &[&str]) -> Workspace {
        let mut workspace = ws().cargo_config(config).build();
        workspace.registry_sources = sources.iter().map(|s| s.to_string()).collect();
        workspace
    }

    #[test]
    fn the_registries_of_the_lock_need_tokens_crates_io_does_not() {
        let ws = workspace(
            "[registries.corp-internal]\nindex = \"sparse+http://127.0.0.1:8080/index/\"\n\
             [registries.git_corp]\nindex = \"https://git.example/index\"\n\
             [registries.unused]\nindex = \"sparse+https://unused.example/\"\n",
            &[
                CRATES_IO[0],
                "registry+https://git.example/index",
                "sparse+http://127.0.0.1:8080/index/",
            ],
        );
        let found = private_registries(&ws).unwrap();
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|r| (r.name.as_str(), r.secret.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("corp-internal", "CARGO_REGISTRIES_CORP_INTERNAL_TOKEN"),
                ("git_corp", "CARGO_REGISTRIES_GIT_CORP_TOKEN"),
            ]
        );
        assert_eq!(found[0].config.as_str(), ".cargo/config.toml");
        assert_eq!(found[0].index, "sparse+http://127.0.0.1:8080/index/");
        assert!(private_registries(&workspace("", &[CRATES_IO[1]]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_replacement_decides_which_registry_is_asked() {
        let mirror = "[registries.mirror]\nindex = \"sparse+https://mirror.example/\"\n\
                      [source.crates-io]\nreplace-with = \"mirror\"\n";
        let found = private_registries(&workspace(mirror, &[CRATES_IO[0]])).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].secret, "CARGO_REGISTRIES_MIRROR_TOKEN");
        let vendored = "[registries.corp]\nindex = \"sparse+https://corp.example/\"\n\
                        [source.corp]\nreplace-with = \"vendored\"\n\
                        [source.vendored]\ndirectory = \"vendor\"\n";
        let found =
            private_registries(&workspace(vendored, &["sparse+https://corp.example/"])).unwrap();
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn an_unknown_registry_or_a_hostile_name_is_refused_in_one_line() {
        let why = private_registries(&workspace("", &["sparse+https://corp.example/\n"]))
            .unwrap_err()
            .to_string();
        assert!(
            why.contains("sparse+https://corp.example/") && !why.contains('\n'),
            "{why}"
        );
        let hostile = "[registries.\"a\\nRUN id\"]\nindex = \"sparse+https://corp.example/\"\n";
        let why = private_registries(&workspace(hostile, &["sparse+https://corp.example/"]))
            .unwrap_err()
            .to_string();
        assert!(
            why.contains(".cargo/config.toml") && !why.contains('\n'),
            "{why}"
        );
    }

    #[test]
    fn the_plan_mounts_each_token_as_a_secret_and_says_so() {
        let mut workspace = ws()
            .member(crate::workspace::testing::pkg("api").bin("api"))
            .cargo_config("[registries.corp]\nindex = \"sparse+https://corp.example/index/\"\n")
            .build();
        workspace.registry_sources = vec!["sparse+https://corp.example/index/".into()];
        let plan = crate::plan::testing::plan_of(&workspace);
        assert_eq!(plan.registries.len(), 1);
        assert_eq!(
            plan.build_secrets,
            [BuildSecret {
                name: "CARGO_REGISTRIES_CORP_TOKEN".into(),
                from: SecretFrom::Registry("corp".into()),
            }]
        );
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["build_secrets"][0]["from"]["registry"], "corp");
        assert_eq!(
            json["registries"][0]["secret"],
            "CARGO_REGISTRIES_CORP_TOKEN"
        );
        // No registry: the plan's JSON does not change.
        let plain = crate::plan::testing::plan_of(
            &ws()
                .member(crate::workspace::testing::pkg("api").bin("api"))
                .build(),
        );
        let json = serde_json::to_value(&plain).unwrap();
        assert!(json.get("registries").is_none() && json.get("build_secrets").is_none());
    }

    #[test]
    fn tokens_join_the_build_secrets_once() {
        let registry = PrivateRegistry {
            name: "corp".into(),
            index: "sparse+https://corp.example/".into(),
            config: ".cargo/config.toml".into(),
            secret: token_variable("corp"),
        };
        let own = BuildSecret {
            name: "API_KEY".into(),
            from: SecretFrom::Env("API_KEY".into()),
        };
        let all = with_tokens(std::slice::from_ref(&own), std::slice::from_ref(&registry));
        assert_eq!(all[0], own);
        assert_eq!(all[1].from, SecretFrom::Registry("corp".into()));
        // Named in `build-secrets` already (e.g. read from a file): read as the user says.
        let named = BuildSecret {
            name: "CARGO_REGISTRIES_CORP_TOKEN".into(),
            from: SecretFrom::File("/run/corp-token".into()),
        };
        let all = with_tokens(std::slice::from_ref(&named), &[registry]);
        assert_eq!(all, [named]);
    }
}
