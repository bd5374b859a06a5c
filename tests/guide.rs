//! The user guide (`docs/src/`, an mdBook) and README.md say only what the tool does:
//!
//! - every ```console block is run: each `$ ` line by `sh -c` in a fresh copy of a fixture (`workspace`, or the
//!   one a `<!-- fixture: NAME -->` line right above the block names), one after another in the same copy, with
//!   `cargo dockerize` reaching the binary under test through Cargo; the lines below a command, when there are
//!   any, must be what it printed (stdout when it succeeded, stderr from its `error:` line when it failed; the
//!   copy's path written `/path/to/workspace`, the Docker configuration directory `~/.docker`), and a command
//!   without them must succeed;
//! - the fast lane has no engine: these commands run with `DOCKER_HOST` naming a socket that does not exist,
//!   so a command that needs one fails unless its block says `<!-- engine -->`; those blocks run in the
//!   `#[ignore]`d engine test, on the engine the Docker CLI would use;
//! - the configuration reference is the page [`cargo_dockerize::config::keys::reference`] renders
//!   (`UPDATE_GUIDE=1 cargo test --test guide` writes it);
//! - every page is in `SUMMARY.md`, and every relative link of the guide and README.md names a file that exists.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{engine_lock, engine_version, run, Fixture};

/// Where the guide's commands look for an engine in the fast lane: nowhere.
const NO_ENGINE: &str = "unix:///nonexistent/dockerize-guide-has-no-engine.sock";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every Markdown file of the guide's source, and README.md.
fn documents() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(repo().join("docs/src"))
        .into_iter()
        .map(|e| e.expect("read docs/src").into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.push(repo().join("README.md"));
    files
}

/// One command of a block and the output shown below it.
#[derive(Debug)]
struct Step {
    command: String,
    shown: Vec<String>,
}

/// One ```console block.
#[derive(Debug)]
struct Block {
    /// `file:line`, for messages.
    place: String,
    fixture: String,
    engine: bool,
    steps: Vec<Step>,
}

/// The console blocks of `file`, with the markers above them.
fn blocks_of(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let name = file
        .strip_prefix(repo())
        .unwrap_or(file)
        .display()
        .to_string();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != "```console" {
            i += 1;
            continue;
        }
        let (mut fixture, mut engine) = ("workspace".to_string(), false);
        let mut above = i;
        while above > 0 && lines[above - 1].starts_with("<!--") {
            above -= 1;
            let marker = lines[above]
                .trim_start_matches("<!--")
                .trim_end_matches("-->")
                .trim();
            for part in marker.split(',').map(str::trim) {
                if let Some(name) = part.strip_prefix("fixture:") {
                    fixture = name.trim().to_string();
                } else if part == "engine" {
                    engine = true;
                } else {
                    panic!("{name}:{above}: unknown marker `{part}` above a console block");
                }
            }
        }
        let place = format!("{name}:{}", i + 1);
        let mut steps: Vec<Step> = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            match lines[i].strip_prefix("$ ") {
                Some(command) => steps.push(Step {
                    command: command.to_string(),
                    shown: Vec::new(),
                }),
                None => steps
                    .last_mut()
                    .unwrap_or_else(|| panic!("{place}: output before any `$ ` command"))
                    .shown
                    .push(lines[i].to_string()),
            }
            i += 1;
        }
        assert!(
            !steps.is_empty(),
            "{place}: a console block without a command"
        );
        blocks.push(Block {
            place,
            fixture,
            engine,
            steps,
        });
    }
    blocks
}

fn all_blocks() -> Vec<Block> {
    let blocks: Vec<Block> = documents().iter().flat_map(|f| blocks_of(f)).collect();
    assert!(
        blocks.len() > 20,
        "only {} console blocks found",
        blocks.len()
    );
    blocks
}

/// A directory holding `cargo-dockerize`, so that Cargo finds the binary under test as its subcommand.
fn tool_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_cargo-dockerize"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs every step of `block` in a fresh copy of its fixture; `engine` is the `DOCKER_HOST` to use (`None`: the
/// environment's). Returns the failures, one message each.
fn run_block(block: &Block, engine: Option<&str>) -> Vec<String> {
    let copy = Fixture::copy(&block.fixture);
    let config = tempfile::tempdir().unwrap();
    let path = std::env::join_paths(std::iter::once(tool_dir()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let mut failures = Vec::new();
    for step in &block.steps {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&step.command)
            .current_dir(&copy.root)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("DOCKER_CONFIG", config.path())
            .env_remove("CARGO_TERM_COLOR")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env_remove("CI");
        match engine {
            Some(host) => command.env("DOCKER_HOST", host),
            None => &mut command,
        };
        let done = run(&mut command);
        let what = format!("{}: `$ {}`", block.place, step.command);
        let printed = if done.code == Some(0) {
            &done.stdout
        } else {
            &done.stderr
        };
        let printed = copy
            .redact(printed)
            .replace("[ROOT]", "/path/to/workspace")
            .replace(&config.path().display().to_string(), "~/.docker");
        let mut printed: Vec<&str> = printed.lines().map(str::trim_end).collect();
        if done.code != Some(0) {
            // What came before the error (files written, notes, progress) is not the error.
            let first = printed.iter().position(|l| l.starts_with("error:"));
            printed.drain(..first.unwrap_or(0));
        }
        let shown: Vec<&str> = step.shown.iter().map(|l| l.trim_end()).collect();
        if shown.is_empty() {
            if done.code != Some(0) {
                failures.push(done.describe(&what));
            }
        } else if printed != shown {
            failures.push(format!(
                "{what} printed other than the guide shows (exit {:?}):\n--- shown\n{}\n--- printed\n{}",
                done.code,
                shown.join("\n"),
                printed.join("\n")
            ));
        }
    }
    failures
}

#[test]
fn every_console_block_without_an_engine_runs_as_shown() {
    let failures: Vec<String> = all_blocks()
        .iter()
        .filter(|b| !b.engine)
        .flat_map(|b| run_block(b, Some(NO_ENGINE)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
#[ignore = "builds images: needs a Docker engine (cargo test --test guide -- --ignored)"]
fn every_console_block_with_an_engine_runs_as_shown() {
    engine_version();
    let _lock = engine_lock();
    let blocks: Vec<Block> = all_blocks().into_iter().filter(|b| b.engine).collect();
    assert!(!blocks.is_empty(), "no console block is marked `engine`");
    let mut failures = Vec::new();
    for block in &blocks {
        failures.extend(run_block(block, None));
    }
    // The quick start's images, tagged as it shows them: this test made them.
    for bin in ["api", "dz-cli", "worker"] {
        for tag in ["0.3.0", "latest"] {
            let _ = Command::new("docker")
                .args(["image", "rm", "--no-prune", &format!("{bin}:{tag}")])
                .output();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_configuration_reference_is_the_one_the_code_renders() {
    let page = repo().join("docs/src/reference/configuration.md");
    let rendered = cargo_dockerize::config::keys::reference();
    if std::env::var_os("UPDATE_GUIDE").is_some() {
        std::fs::write(&page, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&page).unwrap_or_default();
    assert!(
        committed == rendered,
        "{} differs from what src/config/keys.rs renders: run `UPDATE_GUIDE=1 cargo test --test guide` and commit it",
        page.display()
    );
}

#[test]
fn every_page_is_in_the_summary_and_every_link_resolves() {
    let src = repo().join("docs/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).unwrap();
    let mut problems = Vec::new();
    for file in documents() {
        let relative = file
            .strip_prefix(&src)
            .ok()
            .map(|p| p.display().to_string());
        if let Some(relative) = &relative {
            if relative != "SUMMARY.md" && !summary.contains(&format!("({relative})")) {
                problems.push(format!("docs/src/{relative} is not in SUMMARY.md"));
            }
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (_, rest) in text.match_indices("](").map(|(i, _)| text.split_at(i + 2)) {
            let target = rest.split(')').next().unwrap_or_default();
            let path = target.split('#').next().unwrap_or_default();
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            if !file.parent().unwrap().join(path).exists() {
                problems.push(format!(
                    "{}: the link `{target}` names no file",
                    file.display()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
