//! What was built: the summary table at the end of a build, and its JSON form.
//!
//! Takes the [`ImageOutcome`]s and the wall time and gives text. Pure: the caller prints it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::endpoint::{Endpoint, Tls};
use crate::events::{ImageOutcome, Outcome};
use crate::text::{human_duration, human_size, table};

/// The table: one row per image, then the totals line, which names the engine.
pub fn summary(outcomes: &[ImageOutcome], wall_seconds: f64, engine: &Endpoint) -> String {
    let header = ["BINARY", "IMAGE", "SIZE", "TIME", "CACHED", "STATUS"];
    let rows: Vec<[String; 6]> = outcomes
        .iter()
        .map(|o| match &o.outcome {
            Outcome::Built(b) => [
                o.binary.clone(),
                b.tags.first().cloned().unwrap_or_default(),
                human_size(b.size),
                human_duration(b.seconds),
                format!("{}/{}", b.steps_cached, b.steps_total),
                "built".into(),
            ],
            Outcome::Failed(f) => [
                o.binary.clone(),
                o.stage.clone(),
                "-".into(),
                human_duration(f.seconds),
                "-".into(),
                "FAILED".into(),
            ],
            Outcome::Cancelled => [
                o.binary.clone(),
                o.stage.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "cancelled".into(),
            ],
        })
        .collect();
    let mut out = table(header, &rows);
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(&o.outcome)).count();
    let built = count(|o| matches!(o, Outcome::Built(_)));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let cancelled = count(|o| matches!(o, Outcome::Cancelled));
    let _ = write!(
        out,
        "built {built} of {} image(s) in {} on {engine}",
        outcomes.len(),
        human_duration(wall_seconds)
    );
    if failed > 0 {
        let _ = write!(out, ", {failed} failed");
    }
    if cancelled > 0 {
        let _ = write!(out, ", {cancelled} cancelled");
    }
    out.push('\n');
    out
}

/// The last line of `--message-format json`: the same story as the table.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub event: &'static str,
    pub seconds: f64,
    pub engine: SummaryEngine<'a>,
    pub images: Vec<SummaryImage<'a>>,
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
            context: engine.source.context(),
            source: engine.source.origin(),
            tls: matches!(engine.tls, Tls::Verify { .. }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SummaryImage<'a> {
    pub binary: &'a str,
    pub image: &'a str,
    pub status: &'static str,
    pub id: Option<&'a str>,
    pub tags: &'a [String],
    pub size: Option<u64>,
    pub seconds: Option<f64>,
    pub steps_total: Option<usize>,
    pub steps_cached: Option<usize>,
}

pub fn summary_json<'a>(
    outcomes: &'a [ImageOutcome],
    wall_seconds: f64,
    engine: &'a Endpoint,
) -> SummaryJson<'a> {
    SummaryJson {
        event: "summary",
        seconds: wall_seconds,
        engine: SummaryEngine::of(engine),
        images: outcomes
            .iter()
            .map(|o| {
                let built = match &o.outcome {
                    Outcome::Built(b) => Some(b),
                    _ => None,
                };
                SummaryImage {
                    binary: &o.binary,
                    image: &o.stage,
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
                }
            })
            .collect(),
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
                outcome: Outcome::Built(ImageBuilt {
                    id: "sha256:1".into(),
                    tags: vec!["api:0.3.0".into(), "api:latest".into()],
                    size: 1_642_765,
                    seconds: 3.5,
                    steps_total: 10,
                    steps_cached: 8,
                }),
            },
            ImageOutcome {
                stage: "worker".into(),
                binary: "worker".into(),
                outcome: Outcome::Failed(ImageFailed {
                    message: "boom".into(),
                    step: None,
                    log_tail: vec![],
                    seconds: 1.0,
                }),
            },
        ];
        let engine = Endpoint {
            host: crate::endpoint::Host::parse("ssh://root@build:2222", false).unwrap(),
            tls: Tls::Off,
            source: crate::endpoint::EndpointSource::ContextFlag {
                context: "remote".into(),
            },
        };
        let text = summary(&outcomes, 4.0, &engine);
        assert!(text.contains("api:0.3.0  1.64 MB  3.5s  8/10"), "{text}");
        assert!(text.contains("FAILED"));
        assert!(text.ends_with(
            "built 1 of 2 image(s) in 4.0s on ssh://root@build:2222 (context `remote`), 1 failed\n"
        ));
        let json = serde_json::to_value(summary_json(&outcomes, 4.0, &engine)).unwrap();
        assert_eq!(
            json["engine"],
            serde_json::json!({"host": "ssh://root@build:2222", "context": "remote", "source": "--context", "tls": false})
        );
        assert_eq!(json["images"][0]["steps_cached"], 8);
        assert_eq!(json["images"][1]["status"], "failed");
    }
}
