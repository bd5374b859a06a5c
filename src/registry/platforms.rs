//! Images built for several platforms on an engine that holds one platform per tag (Docker Engine 20.10, and
//! every engine without the containerd image store): one build per platform, each tagged `<tag>-<arch>` locally
//! and pushed under that tag, then with `--push` an image index under each plain tag that lists every
//! platform's manifest ([`super::index`]).
//!
//! Takes the plan's index of one image and its platforms' outcomes; gives an [`IndexOutcome`] and events. The
//! index is put only when every platform's image was built and pushed: an index that silently lacks a platform
//! would be worse than none.

use std::time::Instant;

use super::credentials::Credentials;
use super::index::{push_index, PlatformManifest};
use crate::engine::{error_chain, Run};
use crate::events::{
    BuildEventKind, ImageOutcome, IndexOutcome, IndexPushed, PlatformDigest, Push, PushFailed,
    PushFailure,
};
use crate::plan::{Build, Index};
use crate::reference;

/// Whether the engine speaks plain HTTP to `host`: one of its `insecure` registries
/// ([`crate::engine::insecure_registries`]), or a loopback one (`127.0.0.1:5000`, `localhost:5000`, `[::1]:5000`),
/// which the engine reaches over plain HTTP by default.
pub fn is_insecure(host: &str, insecure: &[String]) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    insecure.iter().any(|h| h == host || h == name)
        || name == "localhost"
        || name == "[::1]"
        || name.starts_with("127.")
}

/// Puts the index of `index` under each of its plain tags, once every platform's image is pushed (`outcomes`
/// holds them, among others); says how it ended with an event. `None` when a platform was not pushed (its own
/// outcome already says why).
pub async fn push_image_index(
    index: &Index,
    outcomes: &[(&Build, &ImageOutcome)],
    credentials: &Credentials,
    insecure: &[String],
    run: &Run,
) -> Option<IndexOutcome> {
    let mut manifests = Vec::new();
    for name in &index.builds {
        let (build, outcome) = outcomes.iter().find(|(b, _)| &b.name == name)?;
        let (Some(platform), Some(Push::Pushed(pushed))) = (build.platform, &outcome.push) else {
            return None;
        };
        manifests.push(PlatformManifest {
            platform,
            digest: pushed.digest.clone(),
        });
    }
    let began = Instant::now();
    let mut digest = String::new();
    for tag in &index.tags {
        let host = reference::registry_host(tag);
        let login = credentials.get(host);
        match push_index(tag, &manifests, login, is_insecure(host, insecure)).await {
            Ok(pushed) => digest = pushed,
            Err(error) => {
                let failed = PushFailed {
                    tag: tag.clone(),
                    registry: host.to_string(),
                    message: error_chain(&error),
                    reason: PushFailure::Index,
                    attempts: 1,
                };
                run.send(&index.stage, BuildEventKind::IndexFailed(failed.clone()));
                return Some(IndexOutcome {
                    stage: index.stage.clone(),
                    binary: index.binary.clone(),
                    index: Err(failed),
                });
            }
        }
    }
    let pushed = IndexPushed {
        digest,
        tags: index.tags.clone(),
        registry: index
            .tags
            .first()
            .map(|t| reference::registry_host(t).to_string())
            .unwrap_or_default(),
        platforms: manifests
            .into_iter()
            .map(|m| PlatformDigest {
                platform: m.platform,
                digest: m.digest,
            })
            .collect(),
        seconds: began.elapsed().as_secs_f64(),
    };
    run.send(&index.stage, BuildEventKind::IndexPushed(pushed.clone()));
    Some(IndexOutcome {
        stage: index.stage.clone(),
        binary: index.binary.clone(),
        index: Ok(pushed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_configured_hosts_are_plain_http() {
        assert!(is_insecure("127.0.0.1:5000", &[]));
        assert!(is_insecure("localhost:5000", &[]));
        assert!(!is_insecure("ghcr.io", &[]));
        assert!(is_insecure(
            "registry.lan:5000",
            &["registry.lan:5000".into()]
        ));
    }
}
