//! The engine's progress, translated into [`BuildEvent`]s: BuildKit's status stream by [`VertexTracker`], the
//! classic builder's text lines by [`ClassicTracker`].
//!
//! Pure state machines: they take what the engine sent and give the events to send, so their tests feed recorded
//! updates. They know bollard's BuildKit types, and nothing outside `build` does.

use std::collections::HashMap;

use bollard::moby::buildkit::v1::StatusResponse;

use crate::events::{BuildEventKind, LogStream, Step, LOG_TAIL_LINES};

/// Turns BuildKit's repeated vertex updates into one event per change, and keeps each step's log.
#[derive(Debug, Default)]
pub struct VertexTracker {
    order: Vec<String>,
    vertexes: HashMap<String, VertexState>,
}

#[derive(Debug, Default)]
struct VertexState {
    name: String,
    started: bool,
    done: bool,
    cached: bool,
    error: String,
    log: Vec<String>,
    partial: String,
}

impl VertexTracker {
    /// Events for what changed in this status message.
    pub fn update(&mut self, status: &StatusResponse) -> Vec<BuildEventKind> {
        let mut out = Vec::new();
        for vertex in &status.vertexes {
            if !self.vertexes.contains_key(&vertex.digest) {
                self.order.push(vertex.digest.clone());
            }
            let state = self.vertexes.entry(vertex.digest.clone()).or_default();
            state.name.clone_from(&vertex.name);
            let step = Step {
                id: vertex.digest.clone(),
                name: vertex.name.clone(),
            };
            if !vertex.error.is_empty() {
                state.error.clone_from(&vertex.error);
            }
            if vertex.cached && !state.cached && !state.done {
                state.cached = true;
                state.done = true;
                out.push(BuildEventKind::StepCached { step });
                continue;
            }
            if vertex.started.is_some() && !state.started && !state.done {
                state.started = true;
                out.push(BuildEventKind::StepStarted { step: step.clone() });
            }
            if let (Some(start), Some(end)) = (&vertex.started, &vertex.completed) {
                // A failed step is not "finished": the image-failed event says what happened to it.
                if !state.done && state.error.is_empty() {
                    state.done = true;
                    let seconds = (end.seconds - start.seconds) as f64
                        + f64::from(end.nanos - start.nanos) / 1e9;
                    out.push(BuildEventKind::StepFinished {
                        step,
                        seconds: seconds.max(0.0),
                    });
                }
            }
        }
        for log in &status.logs {
            let Some(state) = self.vertexes.get_mut(&log.vertex) else {
                continue;
            };
            let stream = if log.stream == 2 {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            };
            state.partial.push_str(&String::from_utf8_lossy(&log.msg));
            while let Some(newline) = state.partial.find(['\n', '\r']) {
                let line: String = state.partial.drain(..=newline).collect();
                let line = line.trim_end_matches(['\n', '\r']).to_string();
                if line.is_empty() {
                    continue;
                }
                state.log.push(line.clone());
                out.push(BuildEventKind::StepLog {
                    step: Step {
                        id: log.vertex.clone(),
                        name: state.name.clone(),
                    },
                    stream,
                    line,
                });
            }
        }
        out
    }

    /// (steps seen, steps served from cache), internal steps left out.
    pub fn counts(&self) -> (usize, usize) {
        let steps = self
            .order
            .iter()
            .filter_map(|d| self.vertexes.get(d))
            .filter(|v| {
                !Step {
                    id: String::new(),
                    name: v.name.clone(),
                }
                .is_internal()
            });
        let (total, cached) = steps.fold((0, 0), |(t, c), v| (t + 1, c + usize::from(v.cached)));
        (total, cached)
    }

    /// The step BuildKit marked as failed, with the end of its log.
    pub fn failed_step(&self) -> Option<(Step, Vec<String>)> {
        let digest = self
            .order
            .iter()
            .find(|d| self.vertexes.get(*d).is_some_and(|v| !v.error.is_empty()))?;
        let state = &self.vertexes[digest];
        let mut log = state.log.clone();
        if !state.partial.trim().is_empty() {
            log.push(state.partial.trim_end().to_string());
        }
        let tail = log.split_off(log.len().saturating_sub(LOG_TAIL_LINES));
        Some((
            Step {
                id: digest.clone(),
                name: state.name.clone(),
            },
            tail,
        ))
    }
}

/// The classic builder's `Step N/M : ...` text, turned into the same events.
#[derive(Debug, Default)]
pub struct ClassicTracker {
    current: Option<(Step, Vec<String>, bool)>,
    total: usize,
    cached: usize,
}

impl ClassicTracker {
    pub fn update(&mut self, text: &str) -> Vec<BuildEventKind> {
        let mut out = Vec::new();
        for raw in text.lines() {
            let line = strip_ansi(raw);
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix("Step ") {
                self.finish(&mut out);
                let (number, command) = rest.split_once(" : ").unwrap_or((rest, ""));
                let step = Step {
                    id: format!("step-{}", number.split('/').next().unwrap_or(number)),
                    name: format!("[{number}] {command}"),
                };
                self.total += 1;
                out.push(BuildEventKind::StepStarted { step: step.clone() });
                self.current = Some((step, Vec::new(), false));
            } else if trimmed == "---> Using cache" {
                if let Some((step, _, cached)) = &mut self.current {
                    *cached = true;
                    self.cached += 1;
                    out.push(BuildEventKind::StepCached { step: step.clone() });
                }
            } else if trimmed.starts_with("---> ")
                || trimmed.starts_with("Removing intermediate container")
                || trimmed.starts_with("Successfully built")
                || trimmed.starts_with("Successfully tagged")
            {
            } else if let Some((step, log, _)) = &mut self.current {
                log.push(trimmed.to_string());
                out.push(BuildEventKind::StepLog {
                    step: step.clone(),
                    stream: if raw.contains("\u{1b}[91m") {
                        LogStream::Stderr
                    } else {
                        LogStream::Stdout
                    },
                    line: trimmed.to_string(),
                });
            }
        }
        out
    }

    fn finish(&mut self, out: &mut Vec<BuildEventKind>) {
        if let Some((step, _, cached)) = self.current.take() {
            if !cached {
                out.push(BuildEventKind::StepFinished { step, seconds: 0.0 });
            }
        }
    }

    pub fn counts(&self) -> (usize, usize) {
        (self.total, self.cached)
    }

    /// The step that was running when the build failed, with the end of its log.
    pub fn current_step(&self) -> Option<(Step, Vec<String>)> {
        let (step, log, _) = self.current.as_ref()?;
        Some((
            step.clone(),
            log[log.len().saturating_sub(LOG_TAIL_LINES)..].to_vec(),
        ))
    }
}

/// Removes ANSI escape sequences (the classic builder colours stderr).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::moby::buildkit::v1::{Vertex, VertexLog};

    /// A vertex that ran from `start` to `end` seconds; the timestamp type is bollard's private one, so it is
    /// built by inference rather than named.
    fn ran(digest: &str, name: &str, start: i64, end: i64) -> Vertex {
        let mut vertex = Vertex {
            digest: digest.into(),
            name: name.into(),
            started: Some(Default::default()),
            completed: Some(Default::default()),
            ..Default::default()
        };
        vertex.started.as_mut().unwrap().seconds = start;
        vertex.completed.as_mut().unwrap().seconds = end;
        vertex
    }

    #[test]
    fn a_vertex_that_ran_reports_started_then_finished_with_its_duration() {
        let mut tracker = VertexTracker::default();
        let events = tracker.update(&StatusResponse {
            vertexes: vec![ran("c", "[builder 4/5] RUN cargo build", 10, 13)],
            ..Default::default()
        });
        assert!(matches!(&events[0], BuildEventKind::StepStarted { .. }));
        assert!(
            matches!(&events[1], BuildEventKind::StepFinished { seconds, .. } if (*seconds - 3.0).abs() < 1e-9)
        );
        assert_eq!(tracker.counts(), (1, 0));
    }

    #[test]
    fn strip_ansi_removes_colour_codes() {
        assert_eq!(strip_ansi("\u{1b}[91merror\u{1b}[0m"), "error");
    }

    #[test]
    fn classic_lines_become_steps() {
        let mut tracker = ClassicTracker::default();
        let mut events = tracker.update("Step 1/3 : FROM rust AS chef\n");
        events.extend(tracker.update(" ---> Using cache\n"));
        events.extend(tracker.update("Step 2/3 : RUN cargo build\n"));
        events.extend(tracker.update("\u{1b}[91m   Compiling api v0.1.0\n\u{1b}[0m"));
        assert_eq!(tracker.counts(), (2, 1));
        assert!(matches!(&events[1], BuildEventKind::StepCached { .. }));
        match &events[3] {
            BuildEventKind::StepLog { line, stream, .. } => {
                assert_eq!(line, "Compiling api v0.1.0");
                assert_eq!(*stream, LogStream::Stderr);
            }
            other => panic!("unexpected {other:?}"),
        }
        let (step, tail) = tracker.current_step().unwrap();
        assert_eq!(step.name, "[2/3] RUN cargo build");
        assert_eq!(tail, vec!["Compiling api v0.1.0"]);
    }

    #[test]
    fn vertex_updates_become_one_event_each_and_logs_split_into_lines() {
        let mut tracker = VertexTracker::default();
        let status = StatusResponse {
            vertexes: vec![
                Vertex {
                    digest: "a".into(),
                    name: "[planner 1/2] COPY . .".into(),
                    cached: true,
                    ..Default::default()
                },
                Vertex {
                    digest: "b".into(),
                    name: "[builder 3/5] RUN cargo build".into(),
                    ..Default::default()
                },
            ],
            logs: vec![VertexLog {
                vertex: "b".into(),
                stream: 2,
                msg: b"   Compiling a\n   Compiling".to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let events = tracker.update(&status);
        assert!(matches!(&events[0], BuildEventKind::StepCached { step } if step.id == "a"));
        assert!(
            matches!(&events[1], BuildEventKind::StepLog { line, .. } if line == "   Compiling a")
        );
        let again = tracker.update(&status);
        assert!(
            again
                .iter()
                .all(|e| !matches!(e, BuildEventKind::StepCached { .. })),
            "no repeats"
        );
        let failed = StatusResponse {
            vertexes: vec![Vertex {
                digest: "b".into(),
                name: "[builder 3/5] RUN cargo build".into(),
                error: "exit code: 101".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        tracker.update(&failed);
        let (step, tail) = tracker.failed_step().unwrap();
        assert_eq!(step.name, "[builder 3/5] RUN cargo build");
        assert_eq!(tail.first().map(String::as_str), Some("   Compiling a"));
        assert_eq!(tracker.counts(), (2, 1));
    }
}
