//! Every image's whole build log: kept while the build runs, written to `<dir>/<image>.log` at the end, so a CI
//! job can keep them as artifacts and a failure's full log is there after the 40 lines shown.
//!
//! [`BuildLogs::record`] is pure bookkeeping over events; [`BuildLogs::write`] is this module's one file-system
//! edge, called once after the builds.

use super::progress::{failure_text, plain_line};
use crate::events::{BuildEvent, BuildEventKind};

/// The lines of every image's log, by image.
#[derive(Debug, Default)]
pub struct BuildLogs {
    lines: std::collections::BTreeMap<String, Vec<String>>,
}

impl BuildLogs {
    pub fn record(&mut self, event: &BuildEvent) {
        let lines = self.lines.entry(event.image.clone()).or_default();
        if let Some(line) = plain_line(event, true) {
            lines.push(format!("[{:7.1}s] {}", event.elapsed, line.trim_start()));
        }
        if let BuildEventKind::ImageFailed(failed) = &event.kind {
            lines.extend(
                failure_text(&event.image, failed)
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
