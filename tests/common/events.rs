//! Readers of `--message-format json` output: every stdout line one JSON event, the last one the summary.

use serde_json::Value;

use super::process::Run;

/// What a `--message-format json` run printed.
#[derive(Debug)]
pub struct BuildJson {
    /// Every event before the summary.
    pub events: Vec<Value>,
    pub summary: Value,
    /// How long the run took.
    pub seconds: f64,
}

impl BuildJson {
    /// The events `run` printed: every stdout line must be one JSON object with an `event` and, but for
    /// the last one (the one `summary`), an `image`. `what` names the run in assertion messages.
    pub fn parse(run: &Run, what: &str) -> Self {
        let mut events = Vec::new();
        for (n, line) in run.stdout.lines().enumerate() {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!(
                    "stdout line {} is not JSON ({e}): {line:?}\n{}",
                    n + 1,
                    run.describe(what)
                )
            });
            assert!(
                value.get("event").and_then(|e| e.as_str()).is_some(),
                "`{what}`: stdout line {} has no `event`: {line}",
                n + 1
            );
            events.push(value);
        }
        let summary = events
            .pop()
            .unwrap_or_else(|| panic!("no JSON on stdout\n{}", run.describe(what)));
        assert_eq!(
            summary["event"],
            "summary",
            "the last stdout line must be the summary\n{}",
            run.describe(what)
        );
        for event in &events {
            assert_ne!(
                event["event"], "summary",
                "`{what}`: one summary, at the end"
            );
            assert!(
                event["image"].is_string(),
                "`{what}`: every event names its image: {event}"
            );
        }
        Self {
            events,
            summary,
            seconds: run.seconds,
        }
    }

    /// Step names with events of `kind` (`step-started`, `step-cached`, ...), each once, in order.
    pub fn steps(&self, kind: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in events_of(&self.events, kind).map(step_name) {
            if !out.iter().any(|n| n == name) {
                out.push(name.to_string());
            }
        }
        out
    }

    /// The log lines of steps whose name starts with `prefix`.
    pub fn logs(&self, prefix: &str) -> Vec<String> {
        events_of(&self.events, "step-log")
            .filter(|e| step_name(e).starts_with(prefix))
            .filter_map(|e| e["line"].as_str().map(str::to_string))
            .collect()
    }
}

/// Events of one kind (`step-cached`, `image-built`, ...).
pub fn events_of<'a>(events: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    events.iter().filter(move |e| e["event"] == kind)
}

/// A step event's step name (empty for events without a step).
pub fn step_name(event: &Value) -> &str {
    event["step"]["name"].as_str().unwrap_or_default()
}
