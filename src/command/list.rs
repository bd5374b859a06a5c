//! `list` and `config`: the plan on stdout, as a table for people or JSON for scripts.

use crate::cli::ListFormat;
use crate::config::Config;
use crate::error::Error;
use crate::plan::Plan;
use crate::ui::shell::{Shell, Verbosity};
use crate::ui::{configuration, listing};

/// `cargo dockerize list`: the binaries, then the plan's notes on stderr (for people only).
pub fn list(plan: &Plan, format: ListFormat, shell: &mut Shell) -> Result<i32, Error> {
    let mut stdout = std::io::stdout().lock();
    match format {
        ListFormat::Json => listing::write_json(plan, &mut stdout),
        ListFormat::Human => {
            let mut text = Vec::new();
            listing::write_human(plan, shell.verbosity() >= Verbosity::Verbose, &mut text)
                .and_then(|()| for_people(&text, &mut stdout))
        }
    }
    .map_err(Error::Stdout)?;
    if format == ListFormat::Human {
        for warning in &plan.warnings {
            shell.warn(warning);
        }
        for note in plan.notes.iter().cloned().chain(plan.unpinned_note()) {
            shell.note(note);
        }
    }
    Ok(0)
}

/// `cargo dockerize config`: every setting of the workspace and of the selected binaries, with its source.
pub fn config(plan: &Plan, config: &Config, format: ListFormat) -> Result<i32, Error> {
    let mut stdout = std::io::stdout().lock();
    match format {
        ListFormat::Json => configuration::write_config_json(plan, &config.workspace, &mut stdout),
        ListFormat::Human => {
            let mut text = Vec::new();
            configuration::write_config_human(plan, &config.workspace, &mut text)
                .and_then(|()| for_people(&text, &mut stdout))
        }
    }
    .map_err(Error::Stdout)?;
    Ok(0)
}

/// A table for people, with control characters (from names and paths) shown escaped.
fn for_people(text: &[u8], out: &mut impl std::io::Write) -> std::io::Result<()> {
    out.write_all(crate::text::for_terminal(&String::from_utf8_lossy(text)).as_bytes())
}
