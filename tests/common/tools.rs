//! The gate of tests that need programs beyond Rust and the engine (shells, `man`, workflow linters): each is
//! asked for `--version`, and a missing one fails the test, naming how to install it (`.ci/run` installs them
//! all). A test that returned early without them would pass having checked nothing.

use std::process::Command;

/// Fails the test `test` unless every `(program, how to install it)` answers `--version`.
pub fn require_tools(test: &str, tools: &[(&str, &str)]) {
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
    assert!(
        missing.is_empty(),
        "{test} needs these (.ci/run installs them), missing: {}",
        missing.join(", ")
    );
}
