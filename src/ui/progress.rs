//! Live progress of the builds, from [`BuildEvent`]s.
//!
//! Three forms: on a terminal, indicatif bars (an overall bar of steps done, cached ones counted apart, and a
//! line per image with its running step and latest log line); elsewhere (`CI` set, or output not a terminal),
//! one plain line per step; with `--message-format json`, every event as one JSON object per line on stdout.
//! The text of each line comes from pure functions, so tests feed events and read strings or a buffer.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::events::{BuildEvent, BuildEventKind, ImageFailed};
use crate::model::MessageFormat;
use crate::text::{for_terminal, human_duration};

/// How progress is shown, decided once from the flags and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressStyleKind {
    Bars,
    Lines,
    Json,
    Quiet,
}

impl ProgressStyleKind {
    /// Bars only where a person watches: stderr is a terminal and `CI` is unset.
    pub fn detect(format: MessageFormat, quiet: bool, stderr_is_terminal: bool, ci: bool) -> Self {
        match (format, quiet) {
            (MessageFormat::Json, _) => Self::Json,
            (_, true) => Self::Quiet,
            _ if stderr_is_terminal && !ci => Self::Bars,
            _ => Self::Lines,
        }
    }
}

/// Step names as shown to people: one line, at most `width` characters (BuildKit names hold the whole command).
pub fn short_name(name: &str, width: usize) -> String {
    let flat: String = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        let cut: String = flat.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Width of step names in plain lines.
const NAME_WIDTH: usize = 100;

/// One plain line for an event, or `None` for events plain output leaves out (logs unless verbose).
pub fn plain_line(event: &BuildEvent, verbose: bool) -> Option<String> {
    let image = &event.image;
    match &event.kind {
        BuildEventKind::BuildStarted {
            target,
            tags,
            platform,
        } => Some(format!(
            "{image:>12} | building target `{target}`{} as {}",
            platform
                .as_ref()
                .map(|p| format!(" for {p}"))
                .unwrap_or_default(),
            tags.join(", ")
        )),
        BuildEventKind::StepStarted { step } if !step.is_internal() => Some(format!(
            "{image:>12} | {}",
            short_name(&step.name, NAME_WIDTH)
        )),
        BuildEventKind::StepCached { step } if !step.is_internal() => Some(format!(
            "{image:>12} | CACHED {}",
            short_name(&step.name, NAME_WIDTH)
        )),
        BuildEventKind::StepFinished { step, seconds } if !step.is_internal() => Some(format!(
            "{image:>12} | DONE {} {}",
            human_duration(*seconds),
            short_name(&step.name, NAME_WIDTH)
        )),
        BuildEventKind::StepLog { line, .. } if verbose => Some(format!("{image:>12} | > {line}")),
        BuildEventKind::ImageBuilt(built) => Some(format!(
            "{image:>12} | built {} in {} ({}/{} steps cached)",
            built.tags.first().map(String::as_str).unwrap_or(&built.id),
            human_duration(built.seconds),
            built.steps_cached,
            built.steps_total
        )),
        BuildEventKind::ImageFailed(_) => Some(format!("{image:>12} | FAILED")),
        BuildEventKind::PushRetried(retry) => Some(format!(
            "{image:>12} | push of `{}` to `{}` failed (try {}), trying again: {}",
            retry.tag, retry.registry, retry.attempt, retry.message
        )),
        BuildEventKind::ImagePushed(pushed) => Some(format!(
            "{image:>12} | pushed {} to `{}`: {}",
            pushed.tags.join(", "),
            pushed.registry,
            pushed.digest
        )),
        BuildEventKind::PushFailed(failed) => Some(format!(
            "{image:>12} | PUSH FAILED: `{}` to `{}`: {}",
            failed.tag, failed.registry, failed.message
        )),
        BuildEventKind::IndexPushed(index) => Some(format!(
            "{image:>12} | pushed the index of {} as {} to `{}`: {}",
            index
                .platforms
                .iter()
                .map(|p| p.platform.docker_name())
                .collect::<Vec<_>>()
                .join(", "),
            index.tags.join(", "),
            index.registry,
            index.digest
        )),
        BuildEventKind::IndexFailed(failed) => Some(format!(
            "{image:>12} | INDEX FAILED: `{}` to `{}`: {}",
            failed.tag, failed.registry, failed.message
        )),
        BuildEventKind::DocumentsAttached(attached) => Some(format!(
            "{image:>12} | attached {} to `{}@{}`",
            attached
                .documents
                .iter()
                .map(|d| format!("{} ({})", d.kind, d.digest))
                .collect::<Vec<_>>()
                .join(", "),
            attached.repository,
            attached.subject
        )),
        BuildEventKind::AttachFailed(failed) => Some(format!(
            "{image:>12} | ATTACH FAILED: `{}` to `{}`: {}",
            failed.tag, failed.registry, failed.message
        )),
        _ => None,
    }
}

/// The failure block: the failing step, its command, the last lines of its log.
pub fn failure_text(image: &str, failed: &ImageFailed) -> String {
    let mut text = format!("error: failed to build image `{image}`\n");
    if let Some(step) = &failed.step {
        text.push_str(&format!("  step: {}\n", short_name(&step.name, 200)));
        let flat = short_name(&step.name, usize::MAX);
        let command = flat.split_once("] ").map(|(_, c)| c).unwrap_or(&flat);
        text.push_str(&format!("  command: {command}\n"));
    }
    text.push_str(&format!("  cause: {}\n", failed.message));
    // The rust image's name is in the message when the registry answers ("docker.io/library/rust:1.93-...: not
    // found"); when it cannot be reached (no network, air-gapped), only in the step, `[internal] load metadata
    // for docker.io/library/rust:...`, the message naming `.../library/rust/manifests/<tag>` (found by the
    // public-workspace trial: ouch pins 1.93.0, which this machine's engine has no image for).
    let names_rust_image =
        |text: &str| text.contains("library/rust:") || text.contains("library/rust/manifests/");
    if names_rust_image(&failed.message)
        || failed
            .step
            .as_ref()
            .is_some_and(|s| names_rust_image(&s.name))
    {
        text.push_str(
            "  hint: the builder image's tag comes from `ARG RUST_VERSION` (the toolchain file, `rust-version` in `[workspace.metadata.dockerize]`, or `1`); `--build-arg RUST_VERSION=<version>` picks another\n",
        );
    }
    if !failed.log_tail.is_empty() {
        text.push_str(&format!(
            "  last {} lines of its log:\n",
            failed.log_tail.len()
        ));
        for line in &failed.log_tail {
            text.push_str(&format!("    | {line}\n"));
        }
    }
    text
}

/// Consumes events and shows them.
pub struct Reporter {
    kind: ProgressStyleKind,
    verbose: bool,
    out: Box<dyn Write + Send>,
    bars: Option<Bars>,
    failures: Failures,
}

/// Failures already shown: when a shared step fails, every image built on it fails with it, and the step, its
/// command and its log are shown once.
#[derive(Debug, Default)]
pub struct Failures {
    steps: Vec<String>,
    any: bool,
}

impl Failures {
    /// The failure block for this image, or one line pointing at the block already shown.
    pub fn text(&mut self, image: &str, failed: &ImageFailed) -> String {
        let seen_step = failed
            .step
            .as_ref()
            .is_some_and(|s| self.steps.contains(&s.name));
        let text = if seen_step || (failed.step.is_none() && self.any) {
            format!("error: failed to build image `{image}`: the same step failed (see above)\n")
        } else {
            failure_text(image, failed)
        };
        if let Some(step) = &failed.step {
            self.steps.push(step.name.clone());
        }
        self.any = true;
        text
    }
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    images: BTreeMap<String, ProgressBar>,
    /// Per image: steps seen (non-internal) and done, cached.
    seen: HashMap<(String, String), bool>,
    cached: u64,
    current: HashMap<String, String>,
}

impl Reporter {
    /// `out` gets plain lines and JSON; bars draw on stderr.
    pub fn new(kind: ProgressStyleKind, verbose: bool, out: Box<dyn Write + Send>) -> Self {
        let bars = (kind == ProgressStyleKind::Bars).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(0));
            overall.set_style(
                ProgressStyle::with_template("{spinner:.green} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} steps{msg}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            overall.enable_steady_tick(Duration::from_millis(120));
            Bars {
                multi,
                overall,
                images: BTreeMap::new(),
                seen: HashMap::new(),
                cached: 0,
                current: HashMap::new(),
            }
        });
        Self {
            kind,
            verbose,
            out,
            bars,
            failures: Failures::default(),
        }
    }

    pub fn handle(&mut self, event: &BuildEvent) {
        match self.kind {
            ProgressStyleKind::Json => {
                if let Ok(line) = serde_json::to_string(event) {
                    let _ = writeln!(self.out, "{line}");
                }
            }
            ProgressStyleKind::Lines => {
                if let Some(line) = plain_line(event, self.verbose) {
                    let _ = writeln!(self.out, "{}", for_terminal(&line));
                }
                if let BuildEventKind::ImageFailed(failed) = &event.kind {
                    let text = self.failures.text(&event.image, failed);
                    let _ = write!(self.out, "{}", for_terminal(&text));
                }
            }
            ProgressStyleKind::Quiet => {
                if let BuildEventKind::ImageFailed(failed) = &event.kind {
                    let text = self.failures.text(&event.image, failed);
                    let _ = write!(self.out, "{}", for_terminal(&text));
                }
            }
            ProgressStyleKind::Bars => self.draw(event),
        }
        let _ = self.out.flush();
    }

    fn draw(&mut self, event: &BuildEvent) {
        let Some(bars) = &mut self.bars else { return };
        // An index comes after every platform's bar finished: a line, never a bar of its own.
        if matches!(
            event.kind,
            BuildEventKind::IndexPushed(_)
                | BuildEventKind::IndexFailed(_)
                | BuildEventKind::DocumentsAttached(_)
                | BuildEventKind::AttachFailed(_)
        ) {
            if let Some(line) = plain_line(event, false) {
                bars.multi.suspend(|| eprintln!("{}", for_terminal(&line)));
            }
            return;
        }
        let image = for_terminal(&event.image).into_owned();
        let bar = bars
            .images
            .entry(image.clone())
            .or_insert_with(|| {
                let bar = bars.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner:.cyan} {prefix:>12.bold} {wide_msg}")
                        .expect("a valid template"),
                );
                bar.set_prefix(image.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone();
        match &event.kind {
            BuildEventKind::BuildStarted { .. } => bar.set_message("waiting for the engine"),
            BuildEventKind::StepStarted { step }
            | BuildEventKind::StepCached { step }
            | BuildEventKind::StepFinished { step, .. }
                if !step.is_internal() =>
            {
                let key = (image.clone(), step.id.clone());
                let done = !matches!(event.kind, BuildEventKind::StepStarted { .. });
                let known = bars.seen.get(&key).copied();
                if known.is_none() {
                    bars.overall.inc_length(1);
                }
                if done && known != Some(true) {
                    bars.overall.inc(1);
                    if matches!(event.kind, BuildEventKind::StepCached { .. }) {
                        bars.cached += 1;
                        bars.overall
                            .set_message(format!(" ({} cached)", bars.cached));
                    }
                }
                bars.seen.insert(key, done);
                if !done {
                    let name = for_terminal(&short_name(&step.name, 60)).into_owned();
                    bars.current.insert(image.clone(), name.clone());
                    bar.set_message(name);
                }
            }
            BuildEventKind::StepLog { line, .. } => {
                let step = bars.current.get(&image).cloned().unwrap_or_default();
                let line = for_terminal(line);
                bar.set_message(format!("{step} | {}", line.trim()));
                if self.verbose {
                    bars.multi.suspend(|| eprintln!("{image:>12} | > {line}"));
                }
            }
            BuildEventKind::ImageBuilt(built) => {
                bar.finish_with_message(format!(
                    "built {} in {} ({}/{} steps cached)",
                    for_terminal(built.tags.first().map(String::as_str).unwrap_or(&built.id)),
                    human_duration(built.seconds),
                    built.steps_cached,
                    built.steps_total
                ));
            }
            BuildEventKind::ImageFailed(failed) => {
                bar.abandon_with_message("FAILED");
                let text = self.failures.text(&event.image, failed);
                bars.multi.suspend(|| eprint!("{}", for_terminal(&text)));
            }
            BuildEventKind::PushRetried(_)
            | BuildEventKind::ImagePushed(_)
            | BuildEventKind::PushFailed(_) => {
                if let Some(line) = plain_line(event, false) {
                    bars.multi.suspend(|| eprintln!("{}", for_terminal(&line)));
                }
            }
            _ => {}
        }
    }

    /// Clears the bars before the summary is printed.
    pub fn finish(&mut self) {
        if let Some(bars) = &self.bars {
            bars.overall.finish_and_clear();
            for bar in bars.images.values() {
                if !bar.is_finished() {
                    bar.abandon_with_message("cancelled");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{ImageBuilt, Step};
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn event(kind: BuildEventKind) -> BuildEvent {
        BuildEvent {
            image: "api".into(),
            elapsed: 1.0,
            kind,
        }
    }

    fn step(name: &str) -> Step {
        Step {
            id: name.into(),
            name: name.into(),
        }
    }

    #[test]
    fn long_step_names_are_flattened_and_cut() {
        assert_eq!(short_name("RUN a \\\n    && b", 100), "RUN a \\ && b");
        assert_eq!(short_name("abcdef", 4), "abc…");
    }

    #[test]
    fn style_follows_terminal_ci_and_flags() {
        use ProgressStyleKind::*;
        assert_eq!(
            ProgressStyleKind::detect(MessageFormat::Human, false, true, false),
            Bars
        );
        assert_eq!(
            ProgressStyleKind::detect(MessageFormat::Human, false, true, true),
            Lines
        );
        assert_eq!(
            ProgressStyleKind::detect(MessageFormat::Human, false, false, false),
            Lines
        );
        assert_eq!(
            ProgressStyleKind::detect(MessageFormat::Json, true, true, false),
            Json
        );
        assert_eq!(
            ProgressStyleKind::detect(MessageFormat::Human, true, true, false),
            Quiet
        );
    }

    #[test]
    fn plain_lines_skip_internal_steps_and_logs_unless_verbose() {
        let internal = event(BuildEventKind::StepStarted {
            step: step("[internal] load build context"),
        });
        assert_eq!(plain_line(&internal, false), None);
        let cached = event(BuildEventKind::StepCached {
            step: step("[builder 3/6] RUN cargo build"),
        });
        assert_eq!(
            plain_line(&cached, false).unwrap(),
            "         api | CACHED [builder 3/6] RUN cargo build"
        );
        let log = event(BuildEventKind::StepLog {
            step: step("s"),
            stream: crate::events::LogStream::Stderr,
            line: "Compiling api".into(),
        });
        assert_eq!(plain_line(&log, false), None);
        assert_eq!(
            plain_line(&log, true).unwrap(),
            "         api | > Compiling api"
        );
    }

    #[test]
    fn json_mode_writes_one_parseable_object_per_event() {
        let buffer = Buffer::default();
        let mut reporter = Reporter::new(ProgressStyleKind::Json, false, Box::new(buffer.clone()));
        reporter.handle(&event(BuildEventKind::StepCached {
            step: step("[chef 1/3] FROM rust"),
        }));
        reporter.handle(&event(BuildEventKind::ImageBuilt(ImageBuilt {
            id: "sha256:1".into(),
            tags: vec!["api:1".into()],
            size: 10,
            seconds: 2.0,
            steps_total: 3,
            steps_cached: 1,
        })));
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["event"], "step-cached");
        assert_eq!(lines[0]["step"]["name"], "[chef 1/3] FROM rust");
        assert_eq!(lines[1]["event"], "image-built");
        assert_eq!(lines[1]["steps_cached"], 1);
        assert_eq!(lines[1]["image"], "api");
    }

    #[test]
    fn a_shared_step_failing_for_several_images_is_shown_once() {
        let failed = ImageFailed {
            message: "exit code: 101".into(),
            step: Some(step("[builder 4/4] RUN cargo build")),
            log_tail: vec!["error[E0308]".into()],
            seconds: 1.0,
        };
        let mut failures = Failures::default();
        assert!(failures.text("api", &failed).contains("error[E0308]"));
        let again = failures.text("worker", &failed);
        assert_eq!(
            again,
            "error: failed to build image `worker`: the same step failed (see above)\n"
        );
        let unknown = ImageFailed {
            step: None,
            ..failed
        };
        assert!(failures.text("cli", &unknown).contains("see above"));
    }

    #[test]
    fn failures_name_the_step_its_command_and_its_log() {
        let text = failure_text(
            "api",
            &ImageFailed {
                message: "exit code: 101".into(),
                step: Some(step("[builder 6/6] RUN cargo build --release")),
                log_tail: vec!["error[E0308]: mismatched types".into()],
                seconds: 1.0,
            },
        );
        assert!(text.contains("step: [builder 6/6] RUN cargo build --release"));
        assert!(text.contains("command: RUN cargo build --release"));
        assert!(text.contains("    | error[E0308]: mismatched types"));
        assert!(!text.contains("RUST_VERSION"));
    }

    #[test]
    fn a_missing_rust_image_gets_the_rust_version_hint_also_without_a_registry() {
        let unreachable = ImageFailed {
            message: "failed to do request: Head \"https://registry-1.docker.io/v2/library/rust/manifests/1.93.0-slim-bookworm\": dial tcp: lookup registry-1.docker.io: no such host".into(),
            step: Some(step("[internal] load metadata for docker.io/library/rust:1.93.0-slim-bookworm")),
            log_tail: Vec::new(),
            seconds: 1.0,
        };
        let no_step = ImageFailed {
            step: None,
            ..unreachable.clone()
        };
        let not_found = ImageFailed {
            message: "docker.io/library/rust:1.93.0-slim-bookworm: not found".into(),
            step: None,
            ..unreachable.clone()
        };
        for failed in [unreachable, no_step, not_found] {
            let text = failure_text("ouch", &failed);
            assert!(
                text.contains("hint: the builder image's tag comes from `ARG RUST_VERSION`"),
                "{text}"
            );
        }
    }
}
