//! `--metadata-file`: what was built and pushed, for the next step of a CI pipeline.
//!
//! Takes the outcomes and gives the file's JSON text; pure (the command writes it atomically). One object per
//! image, keyed by its stage (as `docker buildx bake --metadata-file` keys by target), with buildx's key names
//! where they fit: `containerimage.digest` (the pushed manifest's digest: pull `<repository>@<digest>`),
//! `containerimage.config.digest` (the image id), `image.name` (every tag, comma-joined). Beyond buildx:
//! `binary`, `stage`, `size`, `platform`, `status` (`built`, `pushed`, `failed`, `push-failed`, `cancelled`),
//! and `error` for an image without a digest because something failed. Keys sorted: the same build gives the
//! same file.
//!
//! An image built for several platforms has one entry too: `containerimage.digest` is its index's (what
//! `docker pull <repository>@<digest>` resolves on any platform), `image.name` its plain tags, `platforms`
//! the platform names, and `platform-images` each platform's own entry as above, keyed by platform.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::events::{AttachOutcome, ImageOutcome, IndexOutcome, Outcome, Push};

/// The file's text: a JSON object, pretty-printed, with a final newline. `platform` is the plan's when each
/// image is built for one.
pub fn metadata_json(
    outcomes: &[ImageOutcome],
    indexes: &[IndexOutcome],
    platform: &str,
) -> String {
    metadata_json_with(outcomes, indexes, &[], platform)
}

/// [`metadata_json`] with the documents attached to the pushed manifests: `documents` (each one's `kind`,
/// `media_type`, artifact `digest` and `document_digest`) and `referrers-tag` in the entry of the manifest
/// they describe (a platform's entry in `platform-images`, or the image's own for one platform or an index),
/// or `documents-error`.
pub fn metadata_json_with(
    outcomes: &[ImageOutcome],
    indexes: &[IndexOutcome],
    attached: &[AttachOutcome],
    platform: &str,
) -> String {
    let mut images = entries(outcomes, indexes, platform);
    for outcome in attached {
        let Some(entry) = images.get_mut(outcome.stage.as_str()) else {
            continue;
        };
        let platform = outcome.attached.as_ref().ok().and_then(|a| a.platform);
        let target = match platform {
            Some(p) if entry["platform-images"].get(p.docker_name()).is_some() => {
                &mut entry["platform-images"][p.docker_name()]
            }
            _ => entry,
        };
        match &outcome.attached {
            Ok(done) => {
                target["documents"] = json!(done.documents);
                target["referrers-tag"] = done.referrers_tag.clone().into();
            }
            Err(failed) => {
                target["documents-error"] = format!(
                    "failed to attach the documents to `{}`: {}",
                    failed.tag, failed.message
                )
                .into();
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&images).expect("the metadata always serialises");
    text.push('\n');
    text
}

/// One entry per image, keyed by stage.
fn entries<'a>(
    outcomes: &'a [ImageOutcome],
    indexes: &[IndexOutcome],
    platform: &str,
) -> BTreeMap<&'a str, Value> {
    let mut images: BTreeMap<&str, Value> = BTreeMap::new();
    for o in outcomes {
        match &o.platform {
            None => {
                images.insert(&o.stage, image(o, platform));
            }
            Some(p) => {
                let entry = images
                    .entry(&o.stage)
                    .or_insert_with(|| multi_platform(o, indexes));
                entry["platform-images"][p.docker_name()] = image(o, p.docker_name());
                if let Some(list) = entry["platforms"].as_array_mut() {
                    list.push(p.docker_name().into());
                }
                let failure = match (&o.outcome, &o.push) {
                    (Outcome::Built(_), Some(Push::Failed(_))) => Some(("push-failed", "pushed")),
                    (Outcome::Built(_), _) => None,
                    _ => Some(("failed", "built")),
                };
                if let Some((status, verb)) = failure {
                    if entry["status"] != "failed" {
                        entry["status"] = status.into();
                        entry["error"] = format!("the `{p}` image was not {verb}").into();
                    }
                }
            }
        }
    }
    images
}

/// The entry of an image built for several platforms, before its platforms are added: its index when one was
/// pushed (`pushed`), or why not (`index-failed`), else `built`.
fn multi_platform(o: &ImageOutcome, indexes: &[IndexOutcome]) -> Value {
    let mut value = json!({
        "binary": o.binary,
        "stage": o.stage,
        "platforms": [],
        "platform-images": {},
        "status": "built",
    });
    match indexes
        .iter()
        .find(|i| i.stage == o.stage)
        .map(|i| &i.index)
    {
        Some(Ok(pushed)) => {
            value["status"] = "pushed".into();
            value["containerimage.digest"] = pushed.digest.clone().into();
            value["image.name"] = pushed.tags.join(",").into();
            value["registry"] = pushed.registry.clone().into();
        }
        Some(Err(failed)) => {
            value["status"] = "index-failed".into();
            value["error"] = format!(
                "failed to push the index `{}` to `{}`: {}",
                failed.tag, failed.registry, failed.message
            )
            .into();
        }
        None => {}
    }
    value
}

fn image(o: &ImageOutcome, platform: &str) -> Value {
    let mut value = json!({
        "binary": o.binary,
        "stage": o.stage,
        "platform": platform,
    });
    let fields = value.as_object_mut().expect("an object");
    let (status, error) = match (&o.outcome, &o.push) {
        (Outcome::Built(_), None) => ("built", None),
        (Outcome::Built(_), Some(Push::Pushed(_))) => ("pushed", None),
        (Outcome::Built(_), Some(Push::Failed(f))) => (
            "push-failed",
            Some(format!(
                "failed to push `{}` to `{}`: {}",
                f.tag, f.registry, f.message
            )),
        ),
        (Outcome::Failed(f), _) => ("failed", Some(f.message.clone())),
        (Outcome::Cancelled, _) => (
            "cancelled",
            Some("not built: another image failed first, or the build was interrupted".into()),
        ),
    };
    fields.insert("status".into(), status.into());
    if let Outcome::Built(built) = &o.outcome {
        fields.insert("image.name".into(), built.tags.join(",").into());
        fields.insert(
            "containerimage.config.digest".into(),
            built.id.clone().into(),
        );
        fields.insert("size".into(), built.size.into());
    }
    if let Some(Push::Pushed(pushed)) = &o.push {
        fields.insert("containerimage.digest".into(), pushed.digest.clone().into());
        fields.insert("registry".into(), pushed.registry.clone().into());
    }
    if let Some(error) = error {
        fields.insert("error".into(), error.into());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ImageBuilt, ImageFailed, ImagePushed, PushFailed};

    fn built(stage: &str, push: Option<Push>) -> ImageOutcome {
        ImageOutcome {
            stage: stage.into(),
            binary: stage.into(),
            platform: None,
            outcome: Outcome::Built(ImageBuilt {
                id: "sha256:1d".into(),
                tags: vec![format!("r.io/{stage}:1"), format!("r.io/{stage}:latest")],
                size: 1234,
                seconds: 1.0,
                steps_total: 3,
                steps_cached: 1,
            }),
            push,
        }
    }

    #[test]
    fn one_object_per_image_with_buildx_keys_and_errors() {
        let digest = format!("sha256:{}", "b".repeat(64));
        let outcomes = vec![
            built(
                "api",
                Some(Push::Pushed(ImagePushed {
                    digest: digest.clone(),
                    tags: vec!["r.io/api:1".into(), "r.io/api:latest".into()],
                    registry: "r.io".into(),
                    seconds: 1.0,
                    source_date_epoch: None,
                })),
            ),
            built(
                "worker",
                Some(Push::Failed(PushFailed {
                    tag: "r.io/worker:1".into(),
                    registry: "r.io".into(),
                    message: "unauthorized: authentication required".into(),
                    reason: crate::events::PushFailure::Auth,
                    attempts: 1,
                })),
            ),
            ImageOutcome {
                stage: "cli".into(),
                binary: "cli".into(),
                platform: None,
                outcome: Outcome::Failed(ImageFailed {
                    message: "cargo build failed".into(),
                    step: None,
                    log_tail: vec![],
                    seconds: 1.0,
                }),
                push: None,
            },
        ];
        let text = metadata_json(&outcomes, &[], "linux/amd64");
        assert!(text.ends_with("}\n"));
        let value: Value = serde_json::from_str(&text).unwrap();
        let api = &value["api"];
        assert_eq!(api["containerimage.digest"], digest.as_str());
        assert_eq!(api["image.name"], "r.io/api:1,r.io/api:latest");
        assert_eq!(api["containerimage.config.digest"], "sha256:1d");
        assert_eq!(api["status"], "pushed");
        assert_eq!(api["platform"], "linux/amd64");
        assert_eq!(api["size"], 1234);
        assert!(api.get("error").is_none());
        let worker = &value["worker"];
        assert!(worker.get("containerimage.digest").is_none());
        assert_eq!(worker["status"], "push-failed");
        assert_eq!(
            worker["error"],
            "failed to push `r.io/worker:1` to `r.io`: unauthorized: authentication required"
        );
        assert_eq!(value["cli"]["status"], "failed");
        assert_eq!(value["cli"]["error"], "cargo build failed");
        assert!(value["cli"].get("image.name").is_none());
        assert_eq!(text, metadata_json(&outcomes, &[], "linux/amd64"));
    }

    #[test]
    fn an_image_of_several_platforms_is_one_entry_with_its_index_and_each_platform() {
        let pushed = |digest: &str| {
            Some(Push::Pushed(ImagePushed {
                digest: digest.into(),
                tags: vec!["r.io/api:1-amd64".into()],
                registry: "r.io".into(),
                seconds: 1.0,
                source_date_epoch: None,
            }))
        };
        let on = |platform: &str, push| ImageOutcome {
            platform: Some(platform.parse().unwrap()),
            ..built("api", push)
        };
        let outcomes = vec![
            on("linux/amd64", pushed("sha256:a1")),
            on("linux/arm64", pushed("sha256:a2")),
        ];
        let index = IndexOutcome {
            stage: "api".into(),
            binary: "api".into(),
            index: Ok(crate::events::IndexPushed {
                digest: "sha256:1x".into(),
                tags: vec!["r.io/api:1".into(), "r.io/api:latest".into()],
                registry: "r.io".into(),
                platforms: Vec::new(),
                seconds: 0.1,
            }),
        };
        let value: Value =
            serde_json::from_str(&metadata_json(&outcomes, &[index], "linux/amd64")).unwrap();
        let api = &value["api"];
        assert_eq!(api["status"], "pushed");
        assert_eq!(api["containerimage.digest"], "sha256:1x");
        assert_eq!(api["image.name"], "r.io/api:1,r.io/api:latest");
        assert_eq!(
            api["platforms"],
            serde_json::json!(["linux/amd64", "linux/arm64"])
        );
        assert_eq!(
            api["platform-images"]["linux/arm64"]["containerimage.digest"],
            "sha256:a2"
        );
        assert_eq!(
            api["platform-images"]["linux/arm64"]["platform"],
            "linux/arm64"
        );

        // A platform whose push failed: no index, and the entry says which platform.
        let failed = PushFailed {
            tag: "r.io/api:1-arm64".into(),
            registry: "r.io".into(),
            message: "denied".into(),
            reason: crate::events::PushFailure::Auth,
            attempts: 1,
        };
        let outcomes = vec![
            on("linux/amd64", pushed("sha256:a1")),
            on("linux/arm64", Some(Push::Failed(failed))),
        ];
        let value: Value =
            serde_json::from_str(&metadata_json(&outcomes, &[], "linux/amd64")).unwrap();
        assert_eq!(value["api"]["status"], "push-failed");
        assert_eq!(
            value["api"]["error"],
            "the `linux/arm64` image was not pushed"
        );
        assert!(value["api"].get("containerimage.digest").is_none());
    }
}
