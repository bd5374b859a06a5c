//! What one timed build gave, read from the library's [`BuildEvent`]s (in-process for (b)–(d), deserialised from
//! `--message-format json` for (a)): its wall time, the steps that ran or were cached, the images it tagged, the
//! failure. And the medians the report is made of. No process or engine here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cargo_dockerize::events::{BuildEvent, BuildEventKind, Step};
use cargo_dockerize::ui::progress::{short_name, Failures};

use crate::options::{Scenario, Variant};

/// One build step as the engine reported it.
#[derive(Debug)]
pub struct StepRecord {
    pub step: Step,
    /// `None`: served from the cache.
    pub seconds: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ImageRecord {
    pub bin: String,
    pub tag: String,
    pub size: u64,
}

/// One timed build (for (a) with every image, one process).
#[derive(Debug, Default)]
pub struct Run {
    pub seconds: f64,
    pub failure: Option<String>,
    pub steps: Vec<StepRecord>,
    pub images: Vec<ImageRecord>,
    /// Every log line of every step, with the seconds since the build began (for `--logs`).
    pub log: Vec<String>,
    /// Failures already written to `failure`: a shared step failing for several images is told once.
    failures: Failures,
}

/// Per variant, per scenario: the runs of every repetition.
pub type Results = BTreeMap<(Variant, Scenario), Vec<Run>>;

/// One row of the image-size table.
#[derive(Debug, Clone)]
pub struct SizeRow {
    pub variant: Variant,
    pub bin: String,
    pub image: u64,
    pub binary: u64,
    pub stripped: u64,
}

impl Run {
    pub fn record(&mut self, event: &BuildEvent) {
        match &event.kind {
            BuildEventKind::StepLog { step, line, .. } => self.log.push(format!(
                "{:>8.2} {:<8} {:<40} | {line}",
                event.elapsed,
                event.image,
                short_name(&step.name, 40)
            )),
            BuildEventKind::StepCached { step } => self.steps.push(StepRecord {
                step: step.clone(),
                seconds: None,
            }),
            BuildEventKind::StepFinished { step, seconds } => self.steps.push(StepRecord {
                step: step.clone(),
                seconds: Some(*seconds),
            }),
            BuildEventKind::ImageBuilt(built) => self.images.push(ImageRecord {
                bin: event.image.clone(),
                tag: built
                    .tags
                    .first()
                    .cloned()
                    .unwrap_or_else(|| built.id.clone()),
                size: built.size,
            }),
            BuildEventKind::ImageFailed(failed) => {
                let text = self.failures.text(&event.image, failed);
                self.failure.get_or_insert_with(String::new).push_str(&text);
            }
            // The benchmark never pushes.
            BuildEventKind::BuildStarted { .. }
            | BuildEventKind::StepStarted { .. }
            | BuildEventKind::PushRetried(_)
            | BuildEventKind::ImagePushed(_)
            | BuildEventKind::PushFailed(_)
            | BuildEventKind::IndexPushed(_)
            | BuildEventKind::IndexFailed(_)
            | BuildEventKind::DocumentsAttached(_)
            | BuildEventKind::AttachFailed(_) => {}
        }
    }

    /// Adds a failure of the harness (the process, the context), after any the events told.
    pub fn fail(&mut self, text: &str) {
        let failure = self.failure.get_or_insert_with(String::new);
        let _ = writeln!(failure, "{}", text.trim_end());
    }

    /// Steps that ran, each once (a step shared by several images' builds appears in each stream), in order.
    pub fn ran(&self) -> Vec<(String, f64)> {
        let mut seen: Vec<(&Step, f64)> = Vec::new();
        for record in &self.steps {
            let Some(seconds) = record.seconds else {
                continue;
            };
            match seen.iter_mut().find(|(step, _)| step.id == record.step.id) {
                Some(entry) => entry.1 = entry.1.max(seconds),
                None => seen.push((&record.step, seconds)),
            }
        }
        seen.into_iter().map(|(s, t)| (s.name.clone(), t)).collect()
    }

    /// The crates Cargo compiled, from its `Compiling <name> v<version>` log lines, each once, in order: what an
    /// edit cost in crates, whichever variant built.
    pub fn compiled(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for line in &self.log {
            let Some((_, rest)) = line.split_once("Compiling ") else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let (Some(name), Some(version)) = (words.next(), words.next()) else {
                continue;
            };
            if version.starts_with('v') && !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    pub fn cached(&self) -> usize {
        self.steps.iter().filter(|s| s.seconds.is_none()).count()
    }

    /// The dependency layer of our Dockerfile: the first `RUN` of a builder stage (`[builder 3/6] RUN cargo build`
    /// on the recipe). `Some(None)`: cached in every image's build; `Some(Some(s))`: it ran for `s` seconds.
    pub fn dependency_step(&self) -> Option<Option<f64>> {
        let position = |step: &Step| {
            let (stage, n, instruction) = parse_step(&step.name)?;
            (stage.starts_with("builder") && instruction.starts_with("RUN ")).then_some(n)
        };
        let first = self.steps.iter().filter_map(|s| position(&s.step)).min()?;
        let matching = self
            .steps
            .iter()
            .filter(|s| position(&s.step) == Some(first));
        Some(matching.filter_map(|s| s.seconds).reduce(f64::max))
    }
}

/// `[builder 2/4] RUN cargo build ...` → (`builder`, 2, `RUN cargo build ...`); `None` for names without a
/// `[stage n/m]` prefix (`copy /context /`, `exporting to image`). The engine suites have the same parser
/// (`tests/common/steps.rs`); the library has none to share.
fn parse_step(name: &str) -> Option<(&str, u32, &str)> {
    let rest = name.strip_prefix('[')?;
    let (head, instruction) = rest.split_once("] ")?;
    let (stage, counter) = head.rsplit_once(' ')?;
    let n = counter.split_once('/')?.0.parse().ok()?;
    Some((stage, n, instruction.trim_start()))
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

/// The median wall time of a variant in a scenario; `None` when not measured or a repetition failed.
pub fn seconds(results: &Results, variant: Variant, scenario: Scenario) -> Option<f64> {
    let runs = results.get(&(variant, scenario))?;
    if runs.iter().any(|r| r.failure.is_some()) {
        return None;
    }
    median(runs.iter().map(|r| r.seconds).collect())
}
