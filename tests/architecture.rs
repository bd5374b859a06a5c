//! The shape of the crate, checked: the pipeline order the crate documentation gives is the order its imports
//! follow, and no source file or function grows past what a newcomer can hold in mind.
//!
//! The order is read from the `text` block of `src/lib.rs`'s documentation: one line per step, its module
//! names (comma-separated) before the first double space. A module may use only modules on earlier lines; the
//! modules of the first line use none. So the documentation cannot drift from the code: changing either makes
//! this test fail until the other follows.
//!
//! No module is named like something Cargo makes (`build`, `target`, `debug`...): in a Cargo crate those words
//! already mean `build.rs`, `cargo build` and the output directories, and tools that skip output directories
//! would skip the module.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A source file over this many lines is split by what it holds.
const MAX_FILE_LINES: usize = 600;
/// A function over this many lines is split into named steps.
const MAX_FN_LINES: usize = 100;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The step order from the crate documentation: module name → line index.
fn documented_order() -> BTreeMap<String, usize> {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("read src/lib.rs");
    let block: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .skip_while(|l| !l.trim_start().starts_with("```text"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("```"))
        .collect();
    let mut order = BTreeMap::new();
    for (rank, line) in block.iter().enumerate() {
        let names = line.trim_start().split("  ").next().unwrap_or_default();
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            order.insert(name.to_string(), rank);
        }
    }
    assert!(
        order.len() > 5,
        "the crate documentation's ```text block lists the steps"
    );
    order
}

/// The top-level module a source file belongs to: `src/plan/image.rs` → `plan`.
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(root().join("src")).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

/// The crate's modules that a file's code (not its comments) names as `crate::<module>` or in
/// `crate::{<module>, ...}`.
fn uses(text: &str) -> Vec<String> {
    let code: String = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            out.push(ident(rest));
            continue;
        };
        // The names at the top level of the braces: `{a, b::{C, D}}` → a, b.
        let (mut depth, mut start) = (0, 0);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    out.push(ident(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(ident(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    out.retain(|name| !name.is_empty());
    out
}

#[test]
fn imports_follow_the_documented_pipeline() {
    let order = documented_order();
    let mut problems = Vec::new();
    for file in rust_files(&root().join("src")) {
        let Some(module) = module_of(&file) else {
            continue;
        };
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let Some(&rank) = order.get(&module) else {
            problems.push(format!(
                "module `{module}` is missing from the crate documentation's step list"
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for used in uses(&text) {
            if used == module {
                continue;
            }
            match order.get(&used) {
                Some(&other) if other < rank => {}
                _ => problems.push(format!(
                    "{}: `{module}` uses `crate::{used}`, which is not an earlier step",
                    file.display()
                )),
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `fn` items (free, in `impl`s and in modules) and their length in lines, by rustfmt's layout: a signature at
/// some indentation, closed by a `}` at the same indentation.
fn long_functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let signature = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "async fn ",
            "pub async fn ",
        ]
        .iter()
        .find_map(|prefix| trimmed.strip_prefix(prefix));
        let Some(signature) = signature else { continue };
        if line.trim_end().ends_with(';') {
            continue;
        }
        let name: String = signature
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let close = format!("{}}}", " ".repeat(indent));
        let end = lines[start..]
            .iter()
            .position(|l| l.trim_end() == close)
            .map(|offset| start + offset);
        if let Some(end) = end {
            let length = end - start + 1;
            if length > MAX_FN_LINES {
                out.push((start + 1, name, length));
            }
        }
    }
    out
}

/// Test code is held to the function limit but not the file limit: a suite of one behaviour may be long.
#[test]
fn files_and_functions_stay_small() {
    let mut problems = Vec::new();
    for dir in ["src", "benches", "tests"] {
        for file in rust_files(&root().join(dir)) {
            let text = std::fs::read_to_string(&file).expect("read a source file");
            let lines = text.lines().count();
            if dir != "tests" && lines > MAX_FILE_LINES {
                problems.push(format!("{}: {lines} lines", file.display()));
            }
            for (line, name, length) in long_functions(&text) {
                problems.push(format!(
                    "{}:{line}: fn `{name}` has {length} lines",
                    file.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "split these by what they do (at most {MAX_FILE_LINES} lines a file outside tests, {MAX_FN_LINES} a function):\n{}",
        problems.join("\n")
    );
}

/// Names Cargo gives to its own files and output directories: no module takes one.
const CARGO_ARTEFACTS: &[&str] = &[
    "build",
    "target",
    "debug",
    "release",
    "deps",
    "examples",
    "incremental",
    "doc",
    "out",
    "package",
];

/// The module names a source path declares: every directory under `src` and the file's stem (`mod.rs` and
/// `lib.rs`/`main.rs` declare none of their own).
fn module_names(file: &Path) -> Vec<String> {
    let Ok(relative) = file.strip_prefix(root().join("src")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    names.retain(|n| !matches!(n.as_str(), "mod" | "lib" | "main"));
    names
}

#[test]
fn no_module_is_named_like_a_cargo_artefact() {
    let mut problems: Vec<String> = rust_files(&root().join("src"))
        .iter()
        .flat_map(|file| {
            module_names(file)
                .into_iter()
                .filter(|name| CARGO_ARTEFACTS.contains(&name.as_str()))
                .map(move |name| format!("{}: module `{name}`", file.display()))
        })
        .collect();
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "name these modules for what they hold, not like Cargo's own files ({}):\n{}",
        CARGO_ARTEFACTS.join(", "),
        problems.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_check() {
    let src = root().join("src");
    assert_eq!(
        module_names(&src.join("build/target.rs")),
        ["build", "target"]
    );
    assert_eq!(module_names(&src.join("engine/mod.rs")), ["engine"]);
    assert!(module_names(&src.join("lib.rs")).is_empty());
    assert_eq!(uses("use crate::plan::Plan; // crate::ui"), vec!["plan"]);
    assert_eq!(
        uses("use crate::{model::{A, B}, text,\n    ui::shell};"),
        vec!["model", "text", "ui"]
    );
    let long = format!("fn big() {{\n{}}}\n", "    x();\n".repeat(MAX_FN_LINES));
    assert_eq!(
        long_functions(&long),
        vec![(1, "big".to_string(), MAX_FN_LINES + 2)]
    );
    assert!(long_functions("fn small() {\n}\n").is_empty());
    let order = documented_order();
    assert!(order["model"] < order["plan"] && order["plan"] < order["render"]);
}
