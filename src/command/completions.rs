//! `completions` and `man`: text generated from the command line's own definitions, on stdout. They read no
//! workspace, so they run anywhere.

use std::io::Write as _;

use crate::cli;
use crate::error::Error;

/// `cargo dockerize completions <shell>`: the shell's completion script.
pub fn completions(shell: clap_complete::Shell) -> Result<i32, Error> {
    print(&cli::completions::script(shell))
}

/// `cargo dockerize man`: the manual page, as roff.
pub fn man() -> Result<i32, Error> {
    print(&cli::man::page())
}

fn print(text: &str) -> Result<i32, Error> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(Error::Stdout)?;
    Ok(0)
}
