//! Pipeline benchmark: how long image builds take through the engine, ours against the Dockerfiles people write
//! by hand, in the scenarios of a working day; and how big the images are against their stripped binaries.
//!
//!     cargo bench --bench pipeline                       full run on fixtures/workspaces/bench-services
//!     cargo bench --bench pipeline -- --quick            smoke run on fixtures/workspaces/workspace
//!     cargo test --bench pipeline -- --quick             the same with the test profile: CI's run, which reuses
//!                                                        the tests' build instead of compiling in release
//!
//! Options (after `--`): `--repeats N` (median of N, default 1), `--cold prune|no-cache`, `--fixture DIR`,
//! `--scenarios cold,unchanged,source,lib,version,config,dependency`,
//! `--variants a-one,a-all,plain,chef,cache,host`, `--no-generation`, `--logs DIR` (every build's step logs).
//! BENCHMARKS.md says what each number means.
//!
//! Variants: (a) `cargo dockerize --libc gnu --static` run as a process, for one image (`--bin`) and for all of
//! them; (b) `COPY . . && cargo build`; (c) cargo-chef with `cargo install cargo-chef` in its base; (d) BuildKit
//! cache mounts only. (b)–(d) are built through the library's `engine::build_target`, the same BuildKit path. And
//! `host`: `cargo build --release` of the one binary on this machine, no engine: the physical limit.
//! Each variant runs in its own copy of the fixture, through every scenario in order (cold first), so each build
//! sees exactly one edit on top of its own previous build.
//!
//! Prints tables and PASS/MISS per target; asserts nothing about time (timings belong here, not in tests). Exits
//! non-zero only when something failed to build (or the harness itself failed), so CI catches a rotten harness.
//!
//! The modules, in the order a run uses them: `options` (the command line), `fixture` (the workspace copied and
//! described), `edits` (each variant's copy and the edits between builds), `dockerfiles` (variants (b)–(d)),
//! `runner` (the builds, timed), `host` (the host variant's `cargo build`), `records` (what a build gave, from its
//! events), `docker` (the CLI: cache, sizes, cleanup), `report` (the tables and target lines).

mod docker;
mod dockerfiles;
mod edits;
mod fixture;
mod host;
mod options;
mod records;
mod report;
mod runner;

use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::Instant;

use runner::Bench;

fn main() -> ExitCode {
    let options = match options::parse() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let began = Instant::now();
    let load_before = load_average();
    match run(options) {
        Ok((text, failed)) => {
            print!("{text}");
            println!(
                "load average before: {load_before}; after: {}; benchmark wall time {:.0} s",
                load_average(),
                began.elapsed().as_secs_f64()
            );
            if failed {
                eprintln!("error: at least one build failed (see above)");
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The builds, the generation figure, the report; `Ok((report, whether anything failed))`. The engine's tags and
/// cache mounts are removed when the [`Bench`] drops, before the last line is printed.
fn run(options: options::Options) -> Result<(String, bool), String> {
    let mut bench = Bench::new(options)?;
    let mut measured = bench.run();
    let generation = if bench.options.generation {
        runner::generation_figure(bench.options.quick)
            .map_err(|message| {
                measured
                    .failures
                    .push(format!("generation benchmark: {message}"))
            })
            .ok()
    } else {
        None
    };
    let mut text = report::render(&bench, &measured, generation.as_deref());
    if !measured.failures.is_empty() {
        text.push_str("\nFAILED\n");
        for failure in &measured.failures {
            let _ = writeln!(text, "  {}", failure.replace('\n', "\n  "));
        }
    }
    Ok((text, !measured.failures.is_empty()))
}

/// Runs `command` to its end; its stdout, or an error naming `what` with the end of its stderr.
fn stdout_of(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("failed to run {what}: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed:\n{}",
            String::from_utf8_lossy(&output.stderr).trim_end()
        ))
    }
}

/// `what`, then the last 30 lines of `stderr`, indented: the end of a failed process's log.
fn tail(what: &str, stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().rev().take(30).collect();
    let mut text = format!("{what}; the end of its stderr:");
    for line in lines.into_iter().rev() {
        text.push_str("\n    | ");
        text.push_str(line);
    }
    text
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
