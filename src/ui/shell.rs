//! Messages to the user on stderr, Cargo-style: `warning: ...`, `note: ...`, right-aligned green statuses.
//!
//! One place decides colour and verbosity; everything else calls these methods. Data for scripts (JSON,
//! the Dockerfile path) goes to stdout elsewhere, never through here. Every message passes
//! [`crate::text::for_terminal`]: control characters in a name or an error are shown escaped, never sent raw.

use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::model::ColorChoice;
use crate::text::for_terminal;

/// Verbosity, from `-q`/`-v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

pub struct Shell {
    verbosity: Verbosity,
    stderr: anstream::AutoStream<std::io::Stderr>,
}

impl Shell {
    pub fn new(verbosity: Verbosity, color: ColorChoice) -> Self {
        let choice = match color {
            ColorChoice::Auto if std::env::var_os("NO_COLOR").is_some() => {
                anstream::ColorChoice::Never
            }
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        };
        Self {
            verbosity,
            stderr: anstream::AutoStream::new(std::io::stderr(), choice),
        }
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    /// `    Wrote path`, like Cargo's `Compiling`.
    pub fn status(&mut self, verb: &str, message: impl std::fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            let style = Style::new().bold().fg_color(Some(AnsiColor::Green.into()));
            let message = message.to_string();
            let message = for_terminal(&message);
            let _ = writeln!(self.stderr, "{style}{verb:>12}{style:#} {message}");
        }
    }

    pub fn warn(&mut self, message: impl std::fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            let style = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
            let message = message.to_string();
            let message = for_terminal(&message);
            let _ = writeln!(self.stderr, "{style}warning{style:#}: {message}");
        }
    }

    pub fn note(&mut self, message: impl std::fmt::Display) {
        if self.verbosity >= Verbosity::Normal {
            let style = Style::new().bold().fg_color(Some(AnsiColor::Cyan.into()));
            let message = message.to_string();
            let message = for_terminal(&message);
            let _ = writeln!(self.stderr, "{style}note{style:#}: {message}");
        }
    }

    /// Any text, its lines unchanged (diffs, tables meant for stderr) but for control characters.
    pub fn raw(&mut self, text: &str) {
        let _ = self.stderr.write_all(for_terminal(text).as_bytes());
    }

    /// The error, its causes, and the hint, as `main` prints them.
    pub fn error(&mut self, message: &str, causes: &[String], hint: Option<&str>) {
        let red = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
        let _ = writeln!(self.stderr, "{red}error{red:#}: {}", for_terminal(message));
        for cause in causes {
            let _ = writeln!(self.stderr, "  caused by: {}", for_terminal(cause));
        }
        if let Some(hint) = hint.map(for_terminal) {
            let cyan = Style::new().bold().fg_color(Some(AnsiColor::Cyan.into()));
            let _ = writeln!(self.stderr, "{cyan}help{cyan:#}: {hint}");
        }
    }
}
