//! The GitLab pipeline's checks (GitLab's CI schema through check-jsonschema, every script line through
//! shellcheck as `sh`, the `docker` and `rust` images' shell), and reading its script lines back.

use std::path::Path;
use std::process::Command;

use super::process::run;

/// The pipeline's linters and how to get each.
pub const LINTERS: &[(&str, &str)] = &[
    ("check-jsonschema", "pip install check-jsonschema"),
    ("shellcheck", "apt-get install shellcheck"),
];

/// The script lines of every job, as the file spells them: `- 'one line'` (a single-quoted scalar) or `- |` and
/// the block below it. The schema check says the file is YAML of that shape; this reads only the renderer's form,
/// and fails on any other.
pub fn script_lines(text: &str) -> String {
    let mut lines = text.lines().peekable();
    let mut script = String::new();
    while let Some(line) = lines.next() {
        if line != "  script:" {
            continue;
        }
        while let Some(item) = lines.next_if(|l| l.starts_with("    - ")) {
            let item = &item["    - ".len()..];
            if item == "|" {
                while let Some(l) = lines.next_if(|l| l.starts_with("      ")) {
                    script.push_str(&l["      ".len()..]);
                    script.push('\n');
                }
            } else if let Some(quoted) = item.strip_prefix('\'') {
                let unquoted = quoted.strip_suffix('\'').expect("a single-quoted scalar");
                script.push_str(&unquoted.replace("''", "'"));
                script.push('\n');
            } else {
                assert!(
                    !item.contains(['\'', '"', ':', '#']),
                    "a plain scalar: {item}"
                );
                script.push_str(item);
                script.push('\n');
            }
        }
    }
    assert!(!script.is_empty(), "no script in\n{text}");
    script
}

/// `check-jsonschema` with GitLab's schema on `pipeline`, and `shellcheck -s sh` on its scripts, written to
/// `scripts`: `Ok` or the complaint.
pub fn lint_pipeline(pipeline: &Path, scripts: &Path) -> Result<(), String> {
    let schema = run(Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .arg(pipeline));
    if schema.code != Some(0) {
        return Err(schema.describe("check-jsonschema"));
    }
    let text = std::fs::read_to_string(pipeline).expect("read the pipeline");
    std::fs::write(scripts, script_lines(&text)).expect("write the scripts");
    let shell = run(Command::new("shellcheck").args(["-s", "sh"]).arg(scripts));
    if shell.code != Some(0) {
        return Err(shell.describe("shellcheck"));
    }
    Ok(())
}
