//! Reporting a build: the reporter that follows the events on its own thread and keeps the logs, then the logs
//! written, the summary, the metadata file, and the failures turned into the command's error.

use std::io::IsTerminal as _;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::images::Builds;
use crate::cli::BuildArgs;
use crate::error::Error;
use crate::events::{BuildEvent, Outcome, Push};
use crate::files;
use crate::model::MessageFormat;
use crate::plan::Plan;
use crate::ui::logs::BuildLogs;
use crate::ui::metadata::metadata_json_with;
use crate::ui::progress::{ProgressStyleKind, Reporter};
use crate::ui::shell::{Shell, Verbosity};
use crate::ui::summary;

/// The reporter runs on its own thread, reading events until the builds drop the sender; it keeps the logs.
pub(super) fn spawn_reporter(
    format: MessageFormat,
    shell: &Shell,
) -> (mpsc::UnboundedSender<BuildEvent>, JoinHandle<BuildLogs>) {
    let verbose = shell.verbosity() >= Verbosity::Verbose;
    let style = ProgressStyleKind::detect(
        format,
        shell.verbosity() == Verbosity::Quiet,
        std::io::stderr().is_terminal(),
        std::env::var_os("CI").is_some(),
    );
    let out: Box<dyn std::io::Write + Send> = match style {
        ProgressStyleKind::Json => Box::new(std::io::stdout()),
        _ => Box::new(std::io::stderr()),
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handle = tokio::task::spawn_blocking(move || {
        let mut reporter = Reporter::new(style, verbose, out);
        let mut logs = BuildLogs::default();
        while let Some(event) = rx.blocking_recv() {
            reporter.handle(&event);
            logs.record(&event);
        }
        reporter.finish();
        logs
    });
    (tx, handle)
}

/// Writes the logs, prints the summary (a table, or the closing JSON line), and turns failures into the error.
pub(super) fn report(
    plan: &Plan,
    args: &BuildArgs,
    builds: Builds,
    shell: &mut Shell,
) -> Result<i32, Error> {
    let format = args.message_format;
    let Builds {
        outcomes,
        indexes,
        attached,
        cache,
        interrupted,
        wall,
        logs,
        endpoint,
        layout: _,
    } = builds;
    let log_dir = plan.target_dir.join("dockerize").join("logs");
    match logs.write(&log_dir) {
        Ok(_) => shell.status("Logs", format!("{log_dir}/<image>.log")),
        Err(error) => shell.warn(format!(
            "failed to write the build logs to `{log_dir}`: {error}"
        )),
    }
    if format == MessageFormat::Json {
        let mut summary = serde_json::to_value(summary::summary_json(
            &outcomes, &indexes, &cache, wall, &endpoint,
        ))
        .expect("the summary always serialises");
        if !attached.is_empty() {
            summary["documents"] = summary::documents_json(&attached);
        }
        let line = serde_json::to_string(&summary).expect("the summary always serialises");
        println!("{line}");
    } else if shell.verbosity() != Verbosity::Quiet {
        shell.raw(&summary::summary(
            &outcomes, &indexes, &cache, wall, &endpoint,
        ));
        shell.raw(&summary::documents(&attached));
    }
    if let Some(path) = &args.metadata_file {
        let text = metadata_json_with(
            &outcomes,
            &indexes,
            &attached,
            plan.platforms[0].docker_name(),
        );
        files::write_atomically(path, &text).map_err(|source| Error::MetadataFile {
            path: path.clone(),
            source,
        })?;
        shell.status("Metadata", format!("{path}"));
    }
    if interrupted {
        return Err(Error::Interrupted);
    }
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(&o.outcome)).count();
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let cancelled = count(|o| matches!(o, Outcome::Cancelled));
    if failed + cancelled > 0 {
        return Err(Error::BuildFailed {
            failed,
            cancelled,
            total: outcomes.len(),
            log_dir,
        });
    }
    let mut push_failures = outcomes
        .iter()
        .chain(&cache)
        .filter_map(|o| match &o.push {
            Some(Push::Failed(failed)) => Some(failed),
            _ => None,
        })
        .chain(indexes.iter().filter_map(|i| i.index.as_ref().err()))
        .chain(attached.iter().filter_map(|a| a.attached.as_ref().err()));
    if let Some(first) = push_failures.next() {
        return Err(Error::PushFailed {
            tag: first.tag.clone(),
            registry: first.registry.clone(),
            message: first.message.clone(),
            reason: first.reason,
            more: push_failures.count(),
        });
    }
    let cache_failed = cache
        .iter()
        .filter(|c| !matches!(c.outcome, Outcome::Built(_)))
        .count();
    if cache_failed > 0 {
        return Err(Error::BuildFailed {
            failed: cache_failed,
            cancelled: 0,
            total: cache.len(),
            log_dir,
        });
    }
    Ok(0)
}
