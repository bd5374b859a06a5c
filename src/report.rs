//! What was built: the summary table at the end of a build, and its JSON form.
//!
//! Takes the [`ImageOutcome`]s and the wall time and gives text. Pure: the caller prints it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::events::{ImageOutcome, Outcome};

/// Docker's way of showing sizes: decimal units, three significant digits.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else if value < 10.0 {
        format!("{value:.2} {}", UNITS[unit])
    } else if value < 100.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// `12.3s`, `2m05s`.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else {
        let whole = seconds.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// The table: one row per image, then the totals line.
pub fn summary(outcomes: &[ImageOutcome], wall_seconds: f64) -> String {
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
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[&str]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let _ = write!(text, "{cell:<w$}  ", w = widths[i]);
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(&mut out, &header);
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(&mut out, &cells);
    }
    let built = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Built(_)))
        .count();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Failed(_)))
        .count();
    let cancelled = outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Cancelled))
        .count();
    let _ = write!(
        out,
        "built {built} of {} image(s) in {}",
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

/// Every image's whole build log, kept while the build runs and written to files at the end, so a CI job can
/// keep them as artifacts and a failure's full log is there after the 40 lines shown.
#[derive(Debug, Default)]
pub struct BuildLogs {
    lines: std::collections::BTreeMap<String, Vec<String>>,
}

impl BuildLogs {
    pub fn record(&mut self, event: &crate::events::BuildEvent) {
        let lines = self.lines.entry(event.image.clone()).or_default();
        if let Some(line) = crate::progress::plain_line(event, true) {
            lines.push(format!("[{:7.1}s] {}", event.elapsed, line.trim_start()));
        }
        if let crate::events::BuildEventKind::ImageFailed(failed) = &event.kind {
            lines.extend(
                crate::progress::failure_text(&event.image, failed)
                    .lines()
                    .map(str::to_string),
            );
        }
    }

    /// Writes `<dir>/<image>.log` for every image; returns the files written.
    pub fn write(&self, dir: &camino::Utf8Path) -> std::io::Result<Vec<camino::Utf8PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        for (image, lines) in &self.lines {
            let path = dir.join(format!("{image}.log"));
            std::fs::write(&path, lines.join("\n") + "\n")?;
            written.push(path);
        }
        Ok(written)
    }
}

/// The last line of `--message-format json`: the same story as the table.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub event: &'static str,
    pub seconds: f64,
    pub images: Vec<SummaryImage<'a>>,
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

pub fn summary_json(outcomes: &[ImageOutcome], wall_seconds: f64) -> SummaryJson<'_> {
    SummaryJson {
        event: "summary",
        seconds: wall_seconds,
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
    fn sizes_and_durations_read_like_docker() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_642_765), "1.64 MB");
        assert_eq!(human_size(31_400_000), "31.4 MB");
        assert_eq!(human_duration(3.21), "3.2s");
        assert_eq!(human_duration(125.0), "2m05s");
    }

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
        let text = summary(&outcomes, 4.0);
        assert!(text.contains("api:0.3.0  1.64 MB  3.5s  8/10"), "{text}");
        assert!(text.contains("FAILED"));
        assert!(text.ends_with("built 1 of 2 image(s) in 4.0s, 1 failed\n"));
        let json = serde_json::to_value(summary_json(&outcomes, 4.0)).unwrap();
        assert_eq!(json["images"][0]["steps_cached"], 8);
        assert_eq!(json["images"][1]["status"], "failed");
    }
}
