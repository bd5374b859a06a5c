//! The manual page `cargo-dockerize(1)`, generated from the clap definitions by `clap_mangen`: it cannot drift
//! from `--help`.
//!
//! One page for the whole tool, as `cargo dockerize man` prints it and the release archives carry it, rather than
//! clap_mangen's page per subcommand: almost every flag is global (they sit on the top-level page anyway), a
//! subcommand has at most three flags of its own, and one file is what `man -l`, a `>` redirect and a packager
//! handle without a directory. So the page is clap_mangen's name, description and option sections, then a COMMANDS
//! section of our own with each subcommand's description, its own options (clap_mangen's rendering, without its
//! heading) and its notes, then the top-level notes as EXAMPLES and EXIT STATUS.

use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

use super::completions::BIN;

/// The page, as roff.
pub fn page() -> String {
    let command = super::binary_command();
    let man = Man::new(command.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)
        .and_then(|()| man.render_name_section(&mut out))
        .and_then(|()| man.render_description_section(&mut out))
        .expect("writing to memory cannot fail");
    let mut page = String::from_utf8(out).expect("clap_mangen writes UTF-8");
    let mut synopsis = Roff::new();
    synopsis.control("SH", ["SYNOPSIS"]);
    for name in ["cargo dockerize", BIN] {
        synopsis.text([bold(name), roman(" [OPTIONS] [COMMAND]")]);
        synopsis.control("br", []);
    }
    // The synopsis goes after NAME, where man(7) puts it; clap_mangen's own lists every flag in one line.
    let description = page.find(".SH DESCRIPTION").unwrap_or(page.len());
    page.insert_str(description, &synopsis.to_roff());
    page.push_str(&options_of(&command));
    page.push_str(&commands(&command));
    if let Some(after) = command.get_after_help() {
        page.push_str(&notes(&after.to_string()));
    }
    page
}

/// A command's option sections as clap_mangen renders them, headings and all.
fn options_of(command: &clap::Command) -> String {
    let mut out = Vec::new();
    Man::new(command.clone())
        .render_options_section(&mut out)
        .expect("writing to memory cannot fail");
    String::from_utf8(out).expect("clap_mangen writes UTF-8")
}

/// COMMANDS: per subcommand its usage, description, own options and notes.
fn commands(command: &clap::Command) -> String {
    let mut page = Roff::new().control("SH", ["COMMANDS"]).to_roff();
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut roff = Roff::new();
        roff.control(
            "SS",
            [format!("cargo dockerize {}", sub.get_name()).as_str()],
        );
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            roff.text([roman(about.to_string())]);
        }
        page.push_str(&roff.to_roff());
        // The subcommand alone: its own flags (and its `--help`), not the globals listed above.
        let own = options_of(sub);
        page.extend(
            own.lines()
                .filter(|l| !l.starts_with(".SH"))
                .map(|l| l.to_string() + "\n"),
        );
        if let Some(after) = sub.get_after_help() {
            let mut roff = Roff::new();
            roff.control("PP", []);
            paragraphs(&mut roff, &after.to_string());
            page.push_str(&roff.to_roff());
        }
    }
    page
}

/// The top-level notes: the examples, the exit codes, anything else under NOTES.
fn notes(text: &str) -> String {
    let mut roff = Roff::new();
    for paragraph in text.split("\n\n") {
        if let Some(examples) = paragraph.strip_prefix("Examples:\n") {
            roff.control("SH", ["EXAMPLES"]);
            preformatted(&mut roff, examples);
        } else if let Some(codes) = paragraph.strip_prefix("Exit codes: ") {
            roff.control("SH", ["EXIT STATUS"]);
            roff.text([roman(codes.replace('\n', " "))]);
        } else {
            roff.control("SH", ["NOTES"]);
            paragraphs(&mut roff, paragraph);
        }
    }
    roff.to_roff()
}

/// Paragraphs of help text: a paragraph of one line is filled; one of several lines (a table, a list of
/// commands) keeps its lines.
fn paragraphs(roff: &mut Roff, text: &str) {
    for (i, paragraph) in text.split("\n\n").enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        if paragraph.contains('\n') {
            preformatted(roff, paragraph);
        } else {
            roff.text([roman(paragraph)]);
        }
    }
}

/// Lines kept as they are (no filling, no adjusting), in a fixed-width font's columns.
fn preformatted(roff: &mut Roff, text: &str) {
    roff.control("nf", []);
    for line in text.lines() {
        roff.text([roman(line)]);
        roff.control("br", []);
    }
    roff.control("fi", []);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_has_every_section_and_every_command() {
        let page = page();
        for section in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH OPTIONS",
            ".SH COMMANDS",
            ".SH EXAMPLES",
            ".SH \"EXIT STATUS\"",
        ] {
            assert!(page.contains(section), "{section}\n{page}");
        }
        for command in [
            "generate",
            "list",
            "config",
            "ci",
            "build",
            "completions",
            "man",
        ] {
            assert!(
                page.contains(&format!(".SS \"cargo dockerize {command}\"")),
                "{command}"
            );
        }
        assert!(page.find(".SH SYNOPSIS") < page.find(".SH DESCRIPTION"));
    }
}
