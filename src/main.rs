//! `cargo-dockerize`: parse, run, print the error chain, exit with the error's code.

use cargo_dockerize::cli::Cli;
use cargo_dockerize::ui::shell::{Shell, Verbosity};

fn main() {
    let cli = Cli::parse_args();
    let verbosity = match (cli.common.quiet, cli.common.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    let mut shell = Shell::new(verbosity, cli.common.color);
    let code = match cargo_dockerize::run(cli, &mut shell) {
        Ok(code) => code,
        Err(error) => {
            shell.error(&error.to_string(), &error.causes(), error.hint().as_deref());
            error.exit_code()
        }
    };
    std::process::exit(code);
}
