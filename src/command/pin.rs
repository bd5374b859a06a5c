//! `pin`: every base image of the plan resolved to a digest, then the Dockerfile written with the pins.
//!
//! The network is read here, at the edge: each base's registry first (the Docker CLI's credentials; plain HTTP
//! for a loopback registry, as the engine speaks to it), else the `RepoDigests` of the engine's copy. What they
//! say is hostile like any input ([`Digest::parse`]). The pins then go into the configuration and the plan is
//! made again, so the Dockerfile, its labels and the notes come from the plan as for `generate`; the file is
//! written atomically by [`crate::files`]. A base that could not be resolved keeps its old pin, or none, with a
//! warning naming both sources' reasons; when no base could be, nothing is written and the command fails.

use crate::cli::GenerateArgs;
use crate::config::Config;
use crate::engine::endpoint::Endpoint;
use crate::error::Error;
use crate::model::BackendChoice;
use crate::plan::{Base, PinnedBy, Plan};
use crate::reference;
use crate::registry::credentials::Credentials;
use crate::registry::pin::resolve;
use crate::registry::platforms::is_insecure;
use crate::ui::shell::Shell;
use crate::value::Digest;
use crate::workspace::Workspace;

/// Where a pin's digest came from.
enum Found {
    Registry(String),
    Engine,
}

/// Resolves every base, writes the Dockerfile with the pins; exit 0 when at least one base (or none needed) was
/// pinned.
pub fn pin(
    plan: &Plan,
    (workspace, mut config): (&Workspace, Config),
    endpoint: &Endpoint,
    shell: &mut Shell,
) -> Result<i32, Error> {
    let wanted: Vec<&Base> = plan
        .bases
        .iter()
        .filter(|b| b.pinned_by != PinnedBy::Reference)
        .collect();
    let hosts = wanted
        .iter()
        .map(|b| reference::registry_host(&b.reference).to_string());
    let credentials = Credentials::find(hosts)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let platforms: Vec<&str> = plan.platforms.iter().map(|p| p.docker_name()).collect();
    let found = runtime.block_on(resolve_all(&wanted, &credentials, endpoint, &platforms));
    let mut failures = Vec::new();
    let mut pinned = 0;
    for (base, outcome) in wanted.iter().zip(found) {
        match outcome {
            Ok((digest, source)) => {
                let from = match source {
                    Found::Registry(host) => format!("the registry `{host}`"),
                    Found::Engine => {
                        "the engine's copy (RepoDigests: the registry did not answer)".into()
                    }
                };
                let verb = if base.digest.as_ref() == Some(&digest) {
                    "Unchanged"
                } else {
                    "Pinned"
                };
                shell.status(verb, format!("{}@{digest} (from {from})", base.reference));
                config.pins.insert(&base.reference, digest);
                pinned += 1;
            }
            Err(why) => failures.push((base.reference.clone(), why)),
        }
    }
    // When nothing could be pinned the first failure is the error, the others warnings before it.
    let error = (pinned == 0 && !failures.is_empty()).then(|| failures.remove(0));
    for (base, why) in &failures {
        shell.warn(format!("`{base}` is not pinned: {why}"));
    }
    if let Some((base, why)) = error {
        return Err(Error::Pin { base, why });
    }
    let plan = crate::plan::plan(workspace, &config)?;
    super::generate::generate(&plan, &GenerateArgs::default(), shell)
}

/// Each base's digest and its source, in order: the registry's, else the engine's.
async fn resolve_all(
    bases: &[&Base],
    credentials: &Credentials,
    endpoint: &Endpoint,
    platforms: &[&str],
) -> Vec<Result<(Digest, Found), String>> {
    let mut engine = None;
    let mut out = Vec::new();
    for base in bases {
        let host = reference::registry_host(&base.reference);
        let insecure = is_insecure(host, &[]);
        let from_registry = resolve(&base.reference, credentials.get(host), insecure).await;
        let outcome = match from_registry {
            Ok(resolved) if platforms.len() > 1 && !resolved.index => Err(format!(
                "the tag points at one image, not an image index, and the images are built for {}: pin a multi-platform tag",
                platforms.join(", ")
            )),
            Ok(resolved) => Digest::parse(&resolved.digest)
                .map(|d| (d, Found::Registry(host.to_string())))
                .map_err(|refused| format!("the registry `{host}` answered the digest {refused}")),
            Err(error) if error.unreachable => {
                if engine.is_none() {
                    engine = Some(crate::engine::connect(endpoint, BackendChoice::Auto).await);
                }
                let held = match engine.as_ref() {
                    Some(Ok(engine)) => engine.image_repo_digests(&base.reference).await,
                    _ => Vec::new(),
                };
                from_engine(&base.reference, &held)
                    .map(|d| (d, Found::Engine))
                    .map_err(|why| format!("{error}; {why}"))
            }
            Err(error) => Err(error.to_string()),
        };
        out.push(outcome);
    }
    out
}

/// The digest of `reference`'s own repository among the engine's `RepoDigests` of it (`rust@sha256:…`): another
/// repository's digest (the image pushed elsewhere) says nothing of where `FROM` pulls it from.
fn from_engine(reference: &str, held: &[String]) -> Result<Digest, String> {
    let repository = familiar(reference::split_tag(reference).0);
    let Some((_, raw)) = held
        .iter()
        .filter_map(|d| d.split_once('@'))
        .find(|(repo, _)| familiar(repo) == repository)
    else {
        return Err(format!(
            "the engine holds no digest of `{repository}` (an image built, loaded or tagged locally has none: `docker pull` it)"
        ));
    };
    Digest::parse(raw)
        .map_err(|refused| format!("the engine's RepoDigests of `{reference}` hold {refused}"))
}

/// A repository as Docker shows it: `rust`, not `docker.io/library/rust`.
fn familiar(repository: &str) -> &str {
    let short = repository
        .strip_prefix("docker.io/")
        .or_else(|| repository.strip_prefix("index.docker.io/"))
        .unwrap_or(repository);
    short
        .strip_prefix("library/")
        .filter(|s| !s.contains('/'))
        .unwrap_or(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_engine_digest_is_the_references_own_repository() {
        let held = [
            format!("127.0.0.1:5000/rust@sha256:{}", HEX.replace('0', "1")),
            format!("rust@sha256:{HEX}"),
        ];
        let digest = from_engine("rust:1.95-slim-bookworm", &held).unwrap();
        assert_eq!(digest.as_str(), format!("sha256:{HEX}"));
        let local = from_engine("127.0.0.1:5000/rust:1.95-slim-bookworm", &held).unwrap();
        assert_ne!(local, digest);
        assert!(from_engine("debian:bookworm-slim", &held).is_err());
        assert!(from_engine("docker.io/library/rust:1", &held).is_ok());
    }

    #[test]
    fn a_hostile_engine_digest_is_refused_in_one_line() {
        for bad in [
            format!("sha256:{}", HEX.to_uppercase()),
            format!("sha256:{HEX}\nRUN id"),
            "sha256:abc".into(),
        ] {
            let held = [format!("rust@{bad}")];
            let why = from_engine("rust:1", &held).unwrap_err();
            assert!(
                why.contains("RepoDigests") && !why.contains('\n'),
                "{why:?}"
            );
        }
    }
}
