//! Images built for several platforms on an engine that holds one platform per tag (Docker Engine 20.10, and
//! every engine without the containerd image store): one build per platform, each tagged `<tag>-<arch>` locally
//! and pushed under that tag, then with `--push` an image index under each plain tag that lists every
//! platform's manifest ([`super::index`]).
//!
//! Takes the per-platform outcomes of one image and its plain tags; gives an [`IndexOutcome`] and events. The
//! index is put only when every platform's image was built and pushed: an index that silently lacks a platform
//! would be worse than none.

use std::time::Instant;

use tokio::sync::mpsc;

use super::credentials::Credentials;
use super::index::{push_index, PlatformManifest};
use crate::engine::error_chain;
use crate::events::{
    BuildEvent, BuildEventKind, ImageOutcome, IndexOutcome, IndexPushed, PlatformDigest, Push,
    PushFailed,
};
use crate::reference;

/// The local (and per-platform pushed) tag of `tag` for a platform: `api:1.0` → `api:1.0-arm64`.
pub fn platform_tag(tag: &str, suffix: &str) -> String {
    let (name, tag) = reference::split_tag(tag);
    format!("{name}:{tag}-{suffix}")
}

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

/// One image built for several platforms: its stage, binary, plain tags and each platform's outcome.
pub struct MultiImage<'a> {
    pub stage: &'a str,
    pub binary: &'a str,
    pub tags: &'a [String],
    pub outcomes: Vec<&'a ImageOutcome>,
}

/// Puts the index of `image` under each of its plain tags, once every platform's image is pushed; says how it
/// ended with an event. `None` when a platform was not pushed (its own outcome already says why).
pub async fn push_image_index(
    image: &MultiImage<'_>,
    credentials: &Credentials,
    insecure: &[String],
    events: &mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
) -> Option<IndexOutcome> {
    let mut manifests = Vec::new();
    for outcome in &image.outcomes {
        let (Some(platform), Some(Push::Pushed(pushed))) = (&outcome.platform, &outcome.push)
        else {
            return None;
        };
        manifests.push(PlatformManifest {
            platform: platform.clone(),
            digest: pushed.digest.clone(),
        });
    }
    let began = Instant::now();
    let mut digest = String::new();
    for tag in image.tags {
        let host = reference::registry_host(tag);
        let login = credentials.get(host);
        match push_index(tag, &manifests, login, is_insecure(host, insecure)).await {
            Ok(pushed) => digest = pushed,
            Err(error) => {
                let failed = PushFailed {
                    tag: tag.clone(),
                    registry: host.to_string(),
                    message: error_chain(&error),
                    reason: "index".into(),
                    attempts: 1,
                };
                send(
                    events,
                    image.stage,
                    started,
                    BuildEventKind::IndexFailed(failed.clone()),
                );
                return Some(IndexOutcome {
                    stage: image.stage.to_string(),
                    binary: image.binary.to_string(),
                    index: Err(failed),
                });
            }
        }
    }
    let pushed = IndexPushed {
        digest,
        tags: image.tags.to_vec(),
        registry: image
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
    send(
        events,
        image.stage,
        started,
        BuildEventKind::IndexPushed(pushed.clone()),
    );
    Some(IndexOutcome {
        stage: image.stage.to_string(),
        binary: image.binary.to_string(),
        index: Ok(pushed),
    })
}

fn send(
    events: &mpsc::UnboundedSender<BuildEvent>,
    image: &str,
    started: Instant,
    kind: BuildEventKind,
) {
    let _ = events.send(BuildEvent {
        image: image.to_string(),
        elapsed: started.elapsed().as_secs_f64(),
        kind,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_tags_keep_the_registry_port_and_suffix_the_tag() {
        assert_eq!(platform_tag("api:1.0", "arm64"), "api:1.0-arm64");
        assert_eq!(
            platform_tag("127.0.0.1:5000/acme/api", "armv7"),
            "127.0.0.1:5000/acme/api:latest-armv7"
        );
    }

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
