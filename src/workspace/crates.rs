//! The crates one `cargo build` compiles for each of its packages, on one target: what an SBOM lists and what the
//! binary's embedded dependency section holds.
//!
//! Cargo's own resolver answers, through `cargo tree -e normal,build --target <triple> -p <package>... <features>`
//! with the packages and feature flags of the builder's `cargo build` (a [`CrateQuery`]): features unify over the
//! `-p` packages of one build exactly as they do in that build, so each package's set is what its binaries were
//! compiled with, not the unified guess of `cargo metadata` (whose resolve also holds dev-dependencies' features,
//! weak features' crates and every platform's dependencies). For a query of one package this is the set of
//! `cargo tree -e normal --target <triple> -p <package> <features>`, plus the build dependencies, each crate
//! marked linked or build-only.
//!
//! One run answers for every package of the query: `cargo tree` prints one tree per `-p` package, but a node it
//! printed under an earlier package shows as ` (*)` under a later one, without its children. So the lines are
//! read into the graph they print (a node is a package, its features and the side it is compiled for: the
//! target, or the builder's machine for build scripts and proc macros, which `--target` keeps apart), and each
//! package's set is what its node reaches in that graph.
//!
//! Checksums and full sources (a git dependency's whole commit) come from `Cargo.lock`, licenses from the
//! manifests (`{l}`). Nothing here runs unless a caller asks: `list` and `generate` never pay for it.
//!
//! [`parse`] is pure; [`resolve`] is the process edge.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use camino::Utf8Path;
use serde::Serialize;

use super::activated::cargo_tree;
use super::WorkspaceError;

/// One `cargo build` of a builder, as far as the resolve is concerned: its target, `-p` packages and features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrateQuery {
    pub triple: String,
    /// `-p` packages: workspace members.
    pub packages: Vec<String>,
    /// `--features`, as the build passes them (`package/feature` or `feature`).
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

/// The crates compiled for one package's binaries on one target: the package itself (`root`), every crate linked
/// into the binaries, and every crate only the build uses. Sorted by name, version and source, so the same
/// workspace always gives the same set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrateSet {
    pub package: String,
    pub triple: String,
    pub crates: Vec<Crate>,
}

impl CrateSet {
    /// The package the set is for.
    pub fn root(&self) -> Option<&Crate> {
        self.crates.iter().find(|c| c.root)
    }
}

/// One crate of a [`CrateSet`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crate {
    pub name: String,
    pub version: String,
    pub source: CrateSource,
    /// SHA-256 of the `.crate` file, from `Cargo.lock` (registry crates only).
    pub checksum: Option<String>,
    /// The manifest's `license` expression, as written.
    pub license: Option<String>,
    pub proc_macro: bool,
    /// Compiled only for the build (a build dependency, a proc macro, or only what those use): not in the binary.
    pub build_only: bool,
    /// The package the set is for.
    pub root: bool,
    /// The crates it depends on, by index into the set's `crates`, sorted.
    pub dependencies: Vec<Dependency>,
}

/// An edge of the graph: a build dependency, or a proc macro, is needed to build, not linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Dependency {
    pub index: usize,
    pub kind: DependencyKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DependencyKind {
    Normal,
    Build,
}

/// Where a crate comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum CrateSource {
    CratesIo,
    /// Another registry, by its index URL (without Cargo's `registry+`/`sparse+` prefix).
    Registry {
        index: String,
    },
    /// A git repository and the commit `Cargo.lock` pins (empty when there is no lock file).
    Git {
        url: String,
        rev: String,
    },
    /// A path dependency or a workspace member. Its directory is left out: it is a path on the machine that read
    /// the workspace.
    Local,
}

/// The crate sets of every package of `query`, by package, read with `cargo tree` in the workspace at `root`.
pub fn resolve(
    root: &Utf8Path,
    query: &CrateQuery,
) -> Result<BTreeMap<String, CrateSet>, WorkspaceError> {
    let manifest = root.join("Cargo.toml");
    let mut args: Vec<String> = ["--edges", "normal,build", "--format", "{p}|{f}|{l}"]
        .into_iter()
        .map(str::to_string)
        .collect();
    args.extend(["--target".to_string(), query.triple.clone()]);
    // The builder compiles with `--locked`: a lock file Cargo would have to change is an error here too, and the
    // workspace's own file is never rewritten behind the user's back.
    if root.join("Cargo.lock").is_file() {
        args.push("--locked".into());
    }
    for package in &query.packages {
        args.extend(["-p".to_string(), package.clone()]);
    }
    if query.all_features {
        args.push("--all-features".into());
    }
    if query.no_default_features {
        args.push("--no-default-features".into());
    }
    if !query.features.is_empty() {
        args.extend(["--features".to_string(), query.features.join(",")]);
    }
    let tree = cargo_tree(&manifest, &args)?;
    // `cargo tree` has just resolved: the lock file is there whenever the workspace has one.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap_or_default();
    Ok(parse(&tree, &lock, &query.triple))
}

/// A node of the printed graph: the package line without ` (*)`, and whether it is compiled for the builder.
type NodeKey = (String, bool);
/// A crate as the printed graph identifies it: name, version, and the source as printed.
type CrateKey = (String, String, Option<String>);
/// A `Cargo.lock` entry's source and checksum.
type LockEntry = (Option<String>, Option<String>);

/// A package as `cargo tree` prints it with `{p}|{f}|{l}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Printed {
    name: String,
    version: String,
    /// What ` (...)` after the version says of the source: nothing for crates.io, a path, a URL, `registry `x``.
    source: Option<String>,
    proc_macro: bool,
    license: Option<String>,
}

/// The graph `cargo tree` prints: nodes, their edges (child, kind), and the roots in order.
#[derive(Default)]
struct Graph {
    nodes: Vec<(Printed, bool)>,
    index: HashMap<NodeKey, usize>,
    edges: Vec<BTreeSet<(usize, DependencyKind)>>,
    roots: Vec<usize>,
}

impl Graph {
    fn node(&mut self, key: NodeKey, printed: Printed, host: bool) -> usize {
        if let Some(&at) = self.index.get(&key) {
            return at;
        }
        self.nodes.push((printed, host));
        self.edges.push(BTreeSet::new());
        self.index.insert(key, self.nodes.len() - 1);
        self.nodes.len() - 1
    }
}

/// The crate set of every root package of `tree` (`cargo tree -e normal,build --target <triple> --charset ascii
/// -f '{p}|{f}|{l}'`), with checksums and sources from `lock` (the text of `Cargo.lock`; empty when there is none).
pub fn parse(tree: &str, lock: &str, triple: &str) -> BTreeMap<String, CrateSet> {
    let graph = read_graph(tree);
    let lock = LockFile::parse(lock);
    graph
        .roots
        .iter()
        .map(|&root| {
            let set = crate_set(&graph, root, &lock, triple);
            (set.package.clone(), set)
        })
        .collect()
}

/// Reads the lines of `cargo tree` into its graph. A line is `|   |-- name v1.0.0 (source)|features|license`,
/// four columns of prefix per level; a `[build-dependencies]` heading at a package's column makes the children
/// after it build edges, until another heading or the package's next sibling; ` (*)` ends a node printed
/// before, whose children are not repeated. Other lines (blank between roots, warnings) are skipped.
fn read_graph(tree: &str) -> Graph {
    let mut graph = Graph::default();
    // The nodes above the current line: (depth, node, compiled for the builder).
    let mut stack: Vec<(usize, usize, bool)> = Vec::new();
    let mut section: Vec<Option<bool>> = Vec::new();
    for line in tree.lines() {
        let column = line.len() - line.trim_start_matches(['|', '`', '-', ' ']).len();
        let text = &line[column..];
        let depth = column / 4;
        if let Some(heading) = text.strip_prefix('[') {
            section.resize(depth + 1, None);
            section[depth] = Some(heading.starts_with("build-dependencies"));
            continue;
        }
        let (text, repeated) = match text.trim_end().strip_suffix("(*)") {
            Some(rest) => (rest.trim_end(), true),
            None => (text.trim_end(), false),
        };
        let Some(printed) = printed(text) else {
            continue;
        };
        while stack.last().is_some_and(|(d, _, _)| *d >= depth) {
            stack.pop();
        }
        section.truncate(depth);
        let build_edge = depth > 0 && section.get(depth - 1).copied().flatten() == Some(true);
        let parent = stack.last().copied();
        let host = parent.is_some_and(|(_, _, host)| host) || build_edge || printed.proc_macro;
        // The line without its license: a node is its package, features and side.
        let identity = text
            .rsplit_once('|')
            .map_or(text, |(left, _)| left)
            .to_string();
        let key = (identity, host);
        // A node printed before on the other side would be Cargo's to explain; take it rather than lose it.
        let other = (key.0.clone(), !host);
        let node = match (repeated, graph.index.get(&other)) {
            (true, Some(&at)) if !graph.index.contains_key(&key) => at,
            _ => graph.node(key, printed.clone(), host),
        };
        match parent {
            Some((_, from, _)) => {
                let kind = if build_edge || printed.proc_macro {
                    DependencyKind::Build
                } else {
                    DependencyKind::Normal
                };
                graph.edges[from].insert((node, kind));
            }
            None => graph.roots.push(node),
        }
        if !repeated {
            stack.push((depth, node, host));
        }
    }
    graph
}

/// The package of a line's `{p}|{f}|{l}`: `name v1.2.3`, then ` (proc-macro)` and ` (source)` in either order.
fn printed(text: &str) -> Option<Printed> {
    let mut fields = text.splitn(3, '|');
    let package = fields.next()?;
    let _features = fields.next()?;
    let license = fields.next().map(str::trim).filter(|l| !l.is_empty());
    let (name, rest) = package.split_once(' ')?;
    let (version, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let version = version.strip_prefix('v')?;
    let (mut source, mut proc_macro) = (None, false);
    while let Some(open) = rest.trim_start().strip_prefix('(') {
        let close = open.find(')')?;
        match &open[..close] {
            "proc-macro" => proc_macro = true,
            other => source = Some(other.to_string()),
        }
        rest = &open[close + 1..];
    }
    Some(Printed {
        name: name.to_string(),
        version: version.to_string(),
        source,
        proc_macro,
        license: license.map(str::to_string),
    })
}

/// What `root` reaches in `graph`, as crates: a crate is linked when one of its nodes reached is on the target
/// side (the root is), build-only otherwise; its edges are those of all its nodes.
fn crate_set(graph: &Graph, root: usize, lock: &LockFile, triple: &str) -> CrateSet {
    let mut reached = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if reached.insert(node) {
            stack.extend(graph.edges[node].iter().map(|(child, _)| *child));
        }
    }
    // Crates by what identifies them (name, version, printed source); each node maps to one.
    let mut crates: BTreeMap<CrateKey, Crate> = BTreeMap::new();
    let identify = |node: usize| {
        let (p, _) = &graph.nodes[node];
        (p.name.clone(), p.version.clone(), p.source.clone())
    };
    for &node in &reached {
        let (printed, host) = &graph.nodes[node];
        let entry = crates.entry(identify(node)).or_insert_with(|| {
            let (source, checksum) = lock.source(printed);
            Crate {
                name: printed.name.clone(),
                version: printed.version.clone(),
                source,
                checksum,
                license: printed.license.clone(),
                proc_macro: printed.proc_macro,
                build_only: true,
                root: node == root,
                dependencies: Vec::new(),
            }
        });
        entry.build_only &= *host;
    }
    // Sorted by name, version and source: the order of the set, and the indices of its edges.
    let mut sorted: Vec<(CrateKey, Crate)> = crates.into_iter().collect();
    sorted.sort_by(|(a, x), (b, y)| {
        (&x.name, &x.version, &x.source, &a.2).cmp(&(&y.name, &y.version, &y.source, &b.2))
    });
    let position: HashMap<&CrateKey, usize> = sorted
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id, i))
        .collect();
    let mut edges: Vec<BTreeSet<Dependency>> = vec![BTreeSet::new(); sorted.len()];
    for &node in &reached {
        let from = position[&identify(node)];
        for &(child, kind) in &graph.edges[node] {
            let index = position[&identify(child)];
            edges[from].insert(Dependency { index, kind });
        }
    }
    let crates: Vec<Crate> = sorted
        .into_iter()
        .zip(edges)
        .map(|((_, mut krate), edges)| {
            krate.dependencies = edges.into_iter().collect();
            krate
        })
        .collect();
    CrateSet {
        package: graph.nodes[root].0.name.clone(),
        triple: triple.to_string(),
        crates,
    }
}

/// The `[[package]]` entries of `Cargo.lock`: (name, version) → every (source, checksum) it records.
struct LockFile(HashMap<(String, String), Vec<LockEntry>>);

const CRATES_IO_INDEX: &str = "registry+https://github.com/rust-lang/crates.io-index";

impl LockFile {
    fn parse(text: &str) -> Self {
        let mut entries: HashMap<_, Vec<_>> = HashMap::new();
        let table: toml::Table = text.parse().unwrap_or_default();
        for package in table
            .get("package")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
        {
            let field = |key: &str| {
                package
                    .get(key)
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            if let (Some(name), Some(version)) = (field("name"), field("version")) {
                entries
                    .entry((name, version))
                    .or_default()
                    .push((field("source"), field("checksum")));
            }
        }
        Self(entries)
    }

    /// The source and checksum of a printed package: its `Cargo.lock` entry of the same kind of source (a
    /// name and version may come from two), else what the printed source says.
    fn source(&self, printed: &Printed) -> (CrateSource, Option<String>) {
        let shown = printed.source.as_deref();
        let printed_kind = match shown {
            None => "crates.io",
            Some(s) if s.starts_with('/') || s.contains(":\\") => "local",
            Some(s) if s.starts_with("registry ") => "registry",
            Some(_) => "git",
        };
        let key = (printed.name.clone(), printed.version.clone());
        let entry = self.0.get(&key).and_then(|entries| {
            entries
                .iter()
                .find(|(source, _)| lock_kind(source.as_deref()) == printed_kind)
        });
        match entry {
            Some((source, checksum)) => (from_lock(source.as_deref()), checksum.clone()),
            None => (from_printed(shown), None),
        }
    }
}

fn lock_kind(source: Option<&str>) -> &'static str {
    match source {
        None => "local",
        Some(CRATES_IO_INDEX) | Some("sparse+https://index.crates.io/") => "crates.io",
        Some(s) if s.starts_with("git+") => "git",
        Some(_) => "registry",
    }
}

/// A `Cargo.lock` source: `registry+<index>`, `sparse+<index>`, `git+<url>?<reference>#<commit>`, or none.
fn from_lock(source: Option<&str>) -> CrateSource {
    let Some(text) = source else {
        return CrateSource::Local;
    };
    match lock_kind(source) {
        "crates.io" => CrateSource::CratesIo,
        "git" => {
            let text = &text["git+".len()..];
            let (url, rev) = text.split_once('#').unwrap_or((text, ""));
            CrateSource::Git {
                url: url.split_once('?').map_or(url, |(u, _)| u).to_string(),
                rev: rev.to_string(),
            }
        }
        _ => CrateSource::Registry {
            index: text
                .split_once('+')
                .map_or(text, |(_, url)| url)
                .to_string(),
        },
    }
}

/// What `cargo tree` shows of a source where `Cargo.lock` has no entry: a path, `registry `name``, a git URL
/// (`url?branch=x#short`), or nothing for crates.io.
fn from_printed(shown: Option<&str>) -> CrateSource {
    match shown {
        None => CrateSource::CratesIo,
        Some(s) if s.starts_with('/') || s.contains(":\\") => CrateSource::Local,
        Some(s) => match s.strip_prefix("registry ") {
            Some(name) => CrateSource::Registry {
                index: name.trim_matches('`').to_string(),
            },
            None => {
                let (url, rev) = s.split_once('#').unwrap_or((s, ""));
                CrateSource::Git {
                    url: url.split_once('?').map_or(url, |(u, _)| u).to_string(),
                    rev: rev.to_string(),
                }
            }
        },
    }
}

#[cfg(test)]
mod tests;
