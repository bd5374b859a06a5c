//! What a `cargo build` of the binaries really compiles, where `cargo metadata`'s resolve says more.
//!
//! `cargo metadata` resolves features the way the first resolver did: one feature set per package, unified over
//! normal, build and dev-dependencies (RFC 2957, "cargo metadata"). A `cargo build` with resolver 2 enables
//! neither the features only dev-dependencies ask for nor, on the target, those only build-dependencies ask
//! for. So a test's `flate2 = { features = ["zlib"] }` puts `libz-sys` into the resolve although no binary
//! links it, and a build script's own needs look like the binaries' needs: phantom native crates that would
//! add `-dev` packages and force glibc, or, the other way round, a `bundled` feature that only a test enables.
//! The resolve also lists dependencies only a weak feature names (`serde?/std` shows `serde`, cargo#15784), and
//! what proc macros link as if the binary linked it.
//!
//! `cargo tree -e normal,build --target <triple>` answers with Cargo's own feature resolver, one run for the
//! whole workspace per target triple the images may be built for: every package the build compiles with its features, the ones under a `[build-dependencies]`
//! heading or a proc macro compiled apart for the builder's machine. [`Activated`] holds both sides; the graph
//! walk keeps only packages it lists and takes their features from it. Running `cargo` a second time costs about
//! as much as `cargo metadata` again, so [`at_stake`] says whether anything the resolve shows could change the
//! Dockerfile (a crate with a `links` key, a build tool, C code); a pure-Rust workspace never pays.
//!
//! Parsing is pure; [`run`] is the process edge.

use std::collections::{BTreeMap, BTreeSet};

use camino::Utf8Path;

use super::{LoadOptions, WorkspaceError};

/// A package as `cargo tree` prints it: name and version (`{p}` without its source).
type Key = (String, String);

/// The packages a build of the workspace's binaries compiles, and their features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activated {
    /// Compiled for the target (linked into the binaries, or proc macros), with their features there.
    target: BTreeMap<Key, BTreeSet<String>>,
    /// Compiled for the builder's machine: build-dependencies, proc macros' dependencies, and all they depend on.
    host: BTreeMap<Key, BTreeSet<String>>,
}

impl Activated {
    /// From `cargo tree --workspace -e normal,build --target <triple> --charset ascii -f '{p}|{f}'`.
    pub fn from_tree(tree: &str) -> Self {
        let mut activated = Self::default();
        for line in parse_tree(tree) {
            let side = if line.host {
                &mut activated.host
            } else {
                &mut activated.target
            };
            side.entry(line.key).or_default().extend(line.features);
        }
        activated
    }

    /// The features of `name` `version` where it is compiled for the target; `None` when it is not.
    pub fn target_features(&self, name: &str, version: &str) -> Option<&BTreeSet<String>> {
        self.target.get(&(name.to_string(), version.to_string()))
    }

    /// The features of `name` `version` where build scripts and proc macros use it; `None` when nothing
    /// compiles it. A package only the target compiles answers with the target's features (over-approximating:
    /// the graph walk reaches it on the host side only through an edge the unified resolve shows).
    pub fn host_features(&self, name: &str, version: &str) -> Option<&BTreeSet<String>> {
        let key = (name.to_string(), version.to_string());
        self.host.get(&key).or_else(|| self.target.get(&key))
    }
}

/// One package line of `cargo tree`: the package, its features and whether it is compiled for the builder's
/// machine (under a `[build-dependencies]` heading or a proc macro, at any depth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine {
    pub key: Key,
    pub features: BTreeSet<String>,
    pub host: bool,
}

/// Every package line of `cargo tree --charset ascii -f '{p}|{f}'`, with the side it is compiled for.
///
/// A line is `|   |-- serde v1.0.219|default,std`: four columns of prefix per level, then the package, with
/// ` (proc-macro)` or ` (/path)` after the version and ` (*)` after one printed before (whose children are not
/// repeated). A `[build-dependencies]` heading at a package's column puts the children after it on the host
/// side, until another heading or the package's next sibling. Under `--target`, Cargo prints host and target
/// nodes of the same package apart, so no `(*)` line crosses sides. Other lines (blank between members, a
/// warning) are skipped.
pub fn parse_tree(text: &str) -> Vec<TreeLine> {
    // (depth, on the host side) of the packages above the current line; `section[d]` is the heading under the
    // package at depth `d`, if any.
    let mut stack: Vec<(usize, bool)> = Vec::new();
    let mut section: Vec<Option<bool>> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let column = line.len() - line.trim_start_matches(['|', '`', '-', ' ']).len();
        let text = &line[column..];
        if text.is_empty() {
            continue;
        }
        if let Some(heading) = text.strip_prefix('[') {
            let depth = column / 4;
            section.resize(depth + 1, None);
            section[depth] = Some(heading.starts_with("build-dependencies"));
            continue;
        }
        let Some((package, features)) = text.split_once('|') else {
            continue;
        };
        let mut words = package.split_whitespace();
        let (Some(name), Some(version)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(version) = version.strip_prefix('v') else {
            continue;
        };
        let depth = column / 4;
        while stack.last().is_some_and(|(d, _)| *d >= depth) {
            stack.pop();
        }
        // A heading belongs to the package above it: a new package at this depth ends the previous one's.
        section.truncate(depth);
        let under_build = depth > 0 && section.get(depth - 1).copied().flatten() == Some(true);
        let host = stack.last().is_some_and(|(_, host)| *host) || under_build;
        let proc_macro = package.contains("(proc-macro)");
        // A proc macro is compiled for the host; it counts on the target side (it is part of the build of the
        // binary), its dependencies do not.
        stack.push((depth, host || proc_macro));
        let features = features.trim_end().trim_end_matches("(*)").trim_end();
        out.push(TreeLine {
            key: (name.to_string(), version.to_string()),
            features: features
                .split(',')
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
            host,
        });
    }
    out
}

/// Crates whose presence makes the exact resolve worth a `cargo tree` run: they decide packages, the libc
/// or a C toolchain. Crates with a `links` key count too (see [`at_stake`]).
const DECIDING: &[&str] = &[
    "bindgen",
    "cc",
    "cmake",
    "openssl-src",
    "prost-build",
    "protoc-rust",
];

/// Whether the resolve holds anything the exact resolve could change: a package with a `links` key (a native
/// crate) or one of the crates that bring build tools or C code.
pub fn at_stake(metadata: &cargo_metadata::Metadata) -> bool {
    let resolved: BTreeSet<&cargo_metadata::PackageId> = metadata
        .resolve
        .iter()
        .flat_map(|r| r.nodes.iter().map(|n| &n.id))
        .collect();
    metadata
        .packages
        .iter()
        .filter(|p| resolved.contains(&p.id))
        .any(|p| p.links.is_some() || DECIDING.contains(&p.name.as_str()))
}

/// Runs `cargo tree` for the workspace of `manifest` once per triple of `triples`, with the feature flags of
/// `options`: the exact resolve of each triple, by triple.
///
/// One run per triple, the runs side by side. One run with several `--target` flags prints every member once per
/// target, in an order it does not document, and prints what it showed under one target as ` (*)` under the next,
/// so its answer cannot be split per target; running side by side costs about what that one run does (measured:
/// BENCHMARKS.md).
pub fn run(
    manifest: &Utf8Path,
    options: &LoadOptions,
    triples: &[String],
) -> Result<BTreeMap<String, Activated>, WorkspaceError> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = triples
            .iter()
            .map(|triple| (triple, scope.spawn(move || tree(manifest, options, triple))))
            .collect();
        runs.into_iter()
            .map(|(triple, run)| {
                let tree = run.join().expect("a `cargo tree` thread does not panic")?;
                Ok((triple.clone(), Activated::from_tree(&tree)))
            })
            .collect()
    })
}

fn tree(
    manifest: &Utf8Path,
    options: &LoadOptions,
    triple: &str,
) -> Result<String, WorkspaceError> {
    let mut args: Vec<String> = [
        "--workspace",
        "--format",
        "{p}|{f}",
        "--edges",
        "normal,build",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    args.extend(["--target".to_string(), triple.to_string()]);
    if options.all_features {
        args.push("--all-features".into());
    }
    if options.no_default_features {
        args.push("--no-default-features".into());
    }
    if !options.features.is_empty() {
        args.extend(["--features".to_string(), options.features.join(",")]);
    }
    cargo_tree(manifest, &args)
}

/// `cargo tree --charset ascii --color never <args> --manifest-path <manifest>`: its output, or Cargo's complaint.
pub(super) fn cargo_tree(manifest: &Utf8Path, args: &[String]) -> Result<String, WorkspaceError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = std::process::Command::new(cargo);
    command
        .args(["tree", "--charset", "ascii", "--color", "never"])
        .args(args)
        .arg("--manifest-path")
        .arg(manifest);
    let output = command
        .output()
        .map_err(|source| WorkspaceError::TreeSpawn {
            manifest: manifest.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(WorkspaceError::TreeFailed {
            manifest: manifest.to_owned(),
            stderr: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests;
