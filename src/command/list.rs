//! `list` and `config`: the plan on stdout, as a table for people or JSON for scripts.

use crate::cli::ListFormat;
use crate::error::Error;
use crate::plan::Plan;
use crate::ui::listing;
use crate::ui::shell::{Shell, Verbosity};

/// `cargo dockerize list`: the binaries, then the plan's notes on stderr (for people only).
pub fn list(plan: &Plan, format: ListFormat, shell: &mut Shell) -> Result<i32, Error> {
    let mut stdout = std::io::stdout().lock();
    match format {
        ListFormat::Json => listing::write_json(plan, &mut stdout),
        ListFormat::Human => {
            listing::write_human(plan, shell.verbosity() >= Verbosity::Verbose, &mut stdout)
        }
    }
    .map_err(Error::Stdout)?;
    if format == ListFormat::Human {
        for warning in &plan.warnings {
            shell.warn(warning);
        }
        for note in &plan.notes {
            shell.note(note);
        }
    }
    Ok(0)
}

/// `cargo dockerize config`: every binary's effective settings and their sources.
pub fn config(plan: &Plan, format: ListFormat) -> Result<i32, Error> {
    let mut stdout = std::io::stdout().lock();
    match format {
        ListFormat::Json => listing::write_config_json(plan, &mut stdout),
        ListFormat::Human => listing::write_config_human(plan, &mut stdout),
    }
    .map_err(Error::Stdout)?;
    Ok(0)
}
