//! The gate of tests that need programs beyond Rust and the engine (shells, `man`, workflow linters): each is
//! asked for `--version`. In CI (`CI` set, or `DOCKERIZE_E2E` set and not `0`) a missing one fails the test,
//! naming how to install it (`.ci/run` installs them all); elsewhere the test says in one line what is missing
//! and returns, so `cargo test` works on a laptop without fish.

use std::process::Command;

/// Whether every `(program, how to install it)` answers `--version`. In CI a missing one panics.
pub fn tools_present(test: &str, tools: &[(&str, &str)]) -> bool {
    let missing: Vec<String> = tools
        .iter()
        .filter(|(program, _)| {
            !Command::new(program)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|(program, how)| format!("`{program}` (`{how}`)"))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let in_ci = std::env::var_os("CI").is_some()
        || std::env::var("DOCKERIZE_E2E").is_ok_and(|v| !v.is_empty() && v != "0");
    assert!(
        !in_ci,
        "{test} needs these in CI (.ci/run installs them), missing: {}",
        missing.join(", ")
    );
    println!("skipping {test}, missing: {}", missing.join(", "));
    false
}
