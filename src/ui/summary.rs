//! What was built: the summary table at the end of a build, and its JSON form.
//!
//! Takes the [`ImageOutcome`]s and the wall time and gives text. Pure: the caller prints it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::endpoint::{Endpoint, Tls};
use crate::events::{ImageOutcome, IndexOutcome, IndexPushed, Outcome, Push, PushFailed};
use crate::text::{human_duration, human_size, table};

/// The status column: `built`, or with `--push` `pushed` / `PUSH FAILED` (never `pushed` unless the registry
/// gave a digest).
fn built_status(push: &Option<Push>) -> String {
    match push {
        None => "built".into(),
        Some(Push::Pushed(_)) => "pushed".into(),
        Some(Push::Failed(_)) => "PUSH FAILED".into(),
    }
}

/// The table: one row per image (with a DIGEST column when something was pushed), the cache images of
/// `--cache-to`, then the totals line.
/// The documents attached to the pushed manifests, one line each; empty when none were.
pub fn documents(attached: &[crate::events::AttachOutcome]) -> String {
    let mut out = String::new();
    for outcome in attached {
        let _ = match &outcome.attached {
            Ok(done) => writeln!(
                out,
                "documents of `{}` ({}@{}, tag {}): {}",
                outcome.stage,
                done.repository,
                done.subject,
                done.referrers_tag,
                done.documents
                    .iter()
                    .map(|d| format!("{} {}", d.kind, d.digest))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(failed) => writeln!(
                out,
                "documents of `{}`: ATTACH FAILED for {}: {}",
                outcome.stage, failed.tag, failed.message
            ),
        };
    }
    out
}

/// The summary line's `documents`: one object per manifest, its `stage`, `status` (`attached`, `failed`) and
/// the `documents-attached` or `attach-failed` event's fields.
pub fn documents_json(attached: &[crate::events::AttachOutcome]) -> serde_json::Value {
    attached
        .iter()
        .map(|a| {
            let (status, mut value) = match &a.attached {
                Ok(done) => ("attached", serde_json::json!(done)),
                Err(failed) => ("failed", serde_json::json!(failed)),
            };
            value["stage"] = a.stage.clone().into();
            value["status"] = status.into();
            value
        })
        .collect()
}

pub fn summary(
    outcomes: &[ImageOutcome],
    indexes: &[IndexOutcome],
    cache: &[ImageOutcome],
    wall_seconds: f64,
    engine: &Endpoint,
) -> String {
    let mut out = images_table(outcomes);
    for index in indexes {
        let _ = match &index.index {
            Ok(pushed) => writeln!(
                out,
                "index `{}`: {} → {} ({})",
                index.stage,
                pushed.tags.join(", "),
                pushed.digest,
                pushed
                    .platforms
                    .iter()
                    .map(|p| format!("{} {}", p.platform, p.digest))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(failed) => writeln!(
                out,
                "index `{}`: INDEX FAILED for {}: {}",
                index.stage, failed.tag, failed.message
            ),
        };
    }
    for c in cache {
        let reference = match &c.outcome {
            Outcome::Built(b) => b.tags.first().cloned().unwrap_or_default(),
            _ => c.stage.clone(),
        };
        let state = match (&c.outcome, &c.push) {
            (_, Some(Push::Pushed(p))) => format!("pushed, {}", p.digest),
            (_, Some(Push::Failed(f))) => format!("PUSH FAILED: {}", f.message),
            (Outcome::Failed(f), _) => format!("FAILED: {}", f.message),
            _ => "not pushed".into(),
        };
        let _ = writeln!(out, "cache `{}` as {reference}: {state}", c.stage);
    }
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(&o.outcome)).count();
    let built = count(|o| matches!(o, Outcome::Built(_)));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let cancelled = count(|o| matches!(o, Outcome::Cancelled));
    let pushed = outcomes
        .iter()
        .filter(|o| matches!(o.push, Some(Push::Pushed(_))))
        .count();
    let push_failed = outcomes
        .iter()
        .filter(|o| matches!(o.push, Some(Push::Failed(_))))
        .count();
    let _ = write!(
        out,
        "built {built} of {} image(s) in {} on {engine}",
        outcomes.len(),
        human_duration(wall_seconds)
    );
    if pushed + push_failed > 0 {
        let _ = write!(out, ", pushed {pushed}");
    }
    if push_failed > 0 {
        let _ = write!(out, ", {push_failed} push(es) failed");
    }
    let indexed = indexes.iter().filter(|i| i.index.is_ok()).count();
    if !indexes.is_empty() {
        let _ = write!(out, ", {indexed} of {} index(es) pushed", indexes.len());
    }
    if failed > 0 {
        let _ = write!(out, ", {failed} failed");
    }
    if cancelled > 0 {
        let _ = write!(out, ", {cancelled} cancelled");
    }
    out.push('\n');
    out
}

/// An image without a tag to show: its stage, with the platform when it is one of several.
fn name(o: &ImageOutcome) -> String {
    match &o.platform {
        Some(platform) => format!("{} ({platform})", o.stage),
        None => o.stage.clone(),
    }
}

/// One row per image; the DIGEST column only when an image was pushed or tried to.
fn images_table(outcomes: &[ImageOutcome]) -> String {
    let pushing = outcomes.iter().any(|o| o.push.is_some());
    let header = [
        "BINARY", "IMAGE", "SIZE", "TIME", "CACHED", "STATUS", "DIGEST",
    ];
    let rows: Vec<[String; 7]> = outcomes
        .iter()
        .map(|o| match &o.outcome {
            Outcome::Built(b) => [
                o.binary.clone(),
                b.tags.first().cloned().unwrap_or_default(),
                human_size(b.size),
                human_duration(b.seconds),
                format!("{}/{}", b.steps_cached, b.steps_total),
                built_status(&o.push),
                match &o.push {
                    Some(Push::Pushed(p)) => p.digest.clone(),
                    _ => "-".into(),
                },
            ],
            Outcome::Failed(f) => [
                o.binary.clone(),
                name(o),
                "-".into(),
                human_duration(f.seconds),
                "-".into(),
                "FAILED".into(),
                "-".into(),
            ],
            Outcome::Cancelled => [
                o.binary.clone(),
                name(o),
                "-".into(),
                "-".into(),
                "-".into(),
                "cancelled".into(),
                "-".into(),
            ],
        })
        .collect();
    if pushing {
        table(header, &rows)
    } else {
        let narrow: Vec<[String; 6]> = rows
            .into_iter()
            .map(|[a, b, c, d, e, f, _]| [a, b, c, d, e, f])
            .collect();
        let [a, b, c, d, e, f, _] = header;
        table([a, b, c, d, e, f], &narrow)
    }
}

/// The last line of `--message-format json`: the same story as the table.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub event: &'static str,
    pub seconds: f64,
    pub engine: SummaryEngine<'a>,
    pub images: Vec<SummaryImage<'a>>,
    /// `--push` of images built for several platforms: each image's index (empty otherwise).
    pub indexes: Vec<SummaryIndex<'a>>,
    /// `--cache-to`: each builder stage's cache image, as its own entry (`binary` empty).
    pub cache: Vec<SummaryImage<'a>>,
}

/// An image's index: `{"stage", "binary", "status": "pushed", "digest", "tags", "registry", "platforms":
/// [{"platform", "digest"}], "seconds"}`, or `"status": "failed"` with the push failure's fields.
#[derive(Debug, Serialize)]
pub struct SummaryIndex<'a> {
    pub stage: &'a str,
    pub binary: &'a str,
    #[serde(flatten)]
    pub index: IndexJson<'a>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum IndexJson<'a> {
    Pushed(&'a IndexPushed),
    Failed(&'a PushFailed),
}

/// The engine the images were built on: its address (never a secret: an address with a password is refused),
/// the context that named it, what chose it, and whether TLS was used.
#[derive(Debug, Serialize)]
pub struct SummaryEngine<'a> {
    pub host: String,
    pub context: Option<&'a str>,
    pub source: String,
    pub tls: bool,
}

impl<'a> SummaryEngine<'a> {
    pub fn of(engine: &'a Endpoint) -> Self {
        Self {
            host: engine.host.to_string(),
            context: engine.context.as_deref(),
            source: crate::engine::endpoint::origin(&engine.source),
            tls: matches!(engine.tls, Tls::Verify { .. }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SummaryImage<'a> {
    pub binary: &'a str,
    pub image: &'a str,
    /// The platform, when the image is built for several (one entry each).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<&'a str>,
    pub status: &'static str,
    pub id: Option<&'a str>,
    pub tags: &'a [String],
    pub size: Option<u64>,
    pub seconds: Option<f64>,
    pub steps_total: Option<usize>,
    pub steps_cached: Option<usize>,
    /// `--push`: `null` when not pushed (no `--push`, or the build failed); else the push's end, with the
    /// digest (`{"status": "pushed", "digest", "tags", "registry", "seconds"}`) or the failure
    /// (`{"status": "failed", "tag", "registry", "message", "reason", "attempts"}`).
    pub push: Option<PushJson<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum PushJson<'a> {
    Pushed(&'a crate::events::ImagePushed),
    Failed(&'a crate::events::PushFailed),
}

fn push_json(push: &Option<Push>) -> Option<PushJson<'_>> {
    match push {
        None => None,
        Some(Push::Pushed(p)) => Some(PushJson::Pushed(p)),
        Some(Push::Failed(f)) => Some(PushJson::Failed(f)),
    }
}

pub fn summary_json<'a>(
    outcomes: &'a [ImageOutcome],
    indexes: &'a [IndexOutcome],
    cache: &'a [ImageOutcome],
    wall_seconds: f64,
    engine: &'a Endpoint,
) -> SummaryJson<'a> {
    SummaryJson {
        event: "summary",
        seconds: wall_seconds,
        engine: SummaryEngine::of(engine),
        images: outcomes.iter().map(summary_image).collect(),
        indexes: indexes
            .iter()
            .map(|i| SummaryIndex {
                stage: &i.stage,
                binary: &i.binary,
                index: match &i.index {
                    Ok(pushed) => IndexJson::Pushed(pushed),
                    Err(failed) => IndexJson::Failed(failed),
                },
            })
            .collect(),
        cache: cache.iter().map(summary_image).collect(),
    }
}

fn summary_image(o: &ImageOutcome) -> SummaryImage<'_> {
    let built = match &o.outcome {
        Outcome::Built(b) => Some(b),
        _ => None,
    };
    SummaryImage {
        binary: &o.binary,
        image: &o.stage,
        platform: o.platform.map(|p| p.docker_name()),
        status: match o.outcome {
            Outcome::Built(_) => "built",
            Outcome::Failed(_) => "failed",
            Outcome::Cancelled => "cancelled",
        },
        id: built.map(|b| b.id.as_str()),
        tags: built.map(|b| b.tags.as_slice()).unwrap_or(&[]),
        size: built.map(|b| b.size),
        seconds: match &o.outcome {
            Outcome::Built(b) => Some(b.seconds),
            Outcome::Failed(f) => Some(f.seconds),
            Outcome::Cancelled => None,
        },
        steps_total: built.map(|b| b.steps_total),
        steps_cached: built.map(|b| b.steps_cached),
        push: push_json(&o.push),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ImageBuilt, ImageFailed};

    #[test]
    fn summary_has_a_row_per_image_and_a_total() {
        let outcomes = vec![
            ImageOutcome {
                stage: "api".into(),
                binary: "api".into(),
                platform: None,
                outcome: Outcome::Built(ImageBuilt {
                    id: "sha256:1".into(),
                    tags: vec!["api:0.3.0".into(), "api:latest".into()],
                    size: 1_642_765,
                    seconds: 3.5,
                    steps_total: 10,
                    steps_cached: 8,
                }),
                push: None,
            },
            ImageOutcome {
                stage: "worker".into(),
                binary: "worker".into(),
                platform: None,
                outcome: Outcome::Failed(ImageFailed {
                    message: "boom".into(),
                    step: None,
                    log_tail: vec![],
                    seconds: 1.0,
                }),
                push: None,
            },
        ];
        let engine = Endpoint {
            host: crate::engine::endpoint::Host::parse("ssh://root@build:2222", false).unwrap(),
            tls: Tls::Off,
            source: crate::source::Source::Flag("--context".into()),
            context: Some("remote".into()),
        };
        let text = summary(&outcomes, &[], &[], 4.0, &engine);
        assert!(text.contains("api:0.3.0  1.64 MB  3.5s  8/10"), "{text}");
        assert!(text.contains("FAILED"));
        assert!(text.ends_with(
            "built 1 of 2 image(s) in 4.0s on ssh://root@build:2222 (context `remote`), 1 failed\n"
        ));
        let json = serde_json::to_value(summary_json(&outcomes, &[], &[], 4.0, &engine)).unwrap();
        assert_eq!(
            json["engine"],
            serde_json::json!({"host": "ssh://root@build:2222", "context": "remote", "source": "--context", "tls": false})
        );
        assert_eq!(json["images"][0]["steps_cached"], 8);
        assert_eq!(json["images"][1]["status"], "failed");
    }

    #[test]
    fn pushed_images_show_their_digest_and_a_failed_push_never_says_pushed() {
        use crate::events::{ImagePushed, PushFailed};
        let built = |stage: &str, push| ImageOutcome {
            stage: stage.into(),
            binary: stage.into(),
            platform: None,
            outcome: Outcome::Built(ImageBuilt {
                id: "sha256:1".into(),
                tags: vec![format!("r.io/{stage}:1")],
                size: 1000,
                seconds: 1.0,
                steps_total: 2,
                steps_cached: 1,
            }),
            push,
        };
        let digest = format!("sha256:{}", "c".repeat(64));
        let outcomes = vec![
            built(
                "api",
                Some(Push::Pushed(ImagePushed {
                    digest: digest.clone(),
                    tags: vec!["r.io/api:1".into()],
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
                    message: "unauthorized".into(),
                    reason: crate::events::PushFailure::Auth,
                    attempts: 1,
                })),
            ),
        ];
        let engine = Endpoint::default_socket();
        let text = summary(&outcomes, &[], &[], 2.0, &engine);
        assert!(text.contains("DIGEST"), "{text}");
        let api = text.lines().find(|l| l.starts_with("api ")).unwrap();
        assert!(api.contains("pushed") && api.ends_with(&digest), "{text}");
        let worker = text.lines().find(|l| l.starts_with("worker ")).unwrap();
        assert!(
            worker.contains("PUSH FAILED") && !worker.contains(" pushed "),
            "{text}"
        );
        assert!(
            text.ends_with(
                "built 2 of 2 image(s) in 2.0s on unix:///var/run/docker.sock, pushed 1, 1 push(es) failed\n"
            ),
            "{text}"
        );
        let json = serde_json::to_value(summary_json(&outcomes, &[], &[], 2.0, &engine)).unwrap();
        assert_eq!(json["images"][0]["push"]["status"], "pushed");
        assert_eq!(json["images"][0]["push"]["digest"], digest.as_str());
        assert_eq!(json["images"][1]["push"]["status"], "failed");
        assert_eq!(json["images"][1]["push"]["reason"], "auth");
        assert_eq!(json["cache"], serde_json::json!([]));
        // Without --push the table keeps its six columns.
        let plain = summary(&[built("api", None)], &[], &[], 1.0, &engine);
        assert!(!plain.contains("DIGEST"), "{plain}");
    }
}
