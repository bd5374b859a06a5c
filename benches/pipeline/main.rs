//! Pipeline benchmark: how long image builds take through the engine, ours against the Dockerfiles people write
//! by hand, in the scenarios of a working day; and how big the images are against their stripped binaries.
//!
//!     cargo bench --bench pipeline                       full run on fixtures/workspaces/bench-services
//!     cargo bench --bench pipeline -- --quick            CI smoke run on fixtures/workspaces/workspace
//!
//! Options (after `--`): `--repeats N` (median of N, default 1), `--cold prune|no-cache`, `--fixture DIR`,
//! `--scenarios cold,unchanged,source,lib,version,config,dependency`, `--variants a-one,a-all,plain,chef,cache`,
//! `--no-generation`, `--logs DIR` (every build's step logs). BENCHMARKS.md says what each number means.
//!
//! Variants: (a) `cargo dockerize --libc gnu --static` run as a process, for one image (`--bin`) and for all of
//! them; (b) `COPY . . && cargo build`; (c) cargo-chef with `cargo install cargo-chef` in its base; (d) BuildKit
//! cache mounts only. (b)–(d) are built through the library's `engine::build_target`, the same BuildKit path.
//! Each variant runs in its own copy of the fixture, through every scenario in order (cold first), so each build
//! sees exactly one edit on top of its own previous build.
//!
//! Prints tables and PASS/MISS per target; asserts nothing about time (timings belong here, not in tests). Exits
//! non-zero only when something failed to build (or the harness itself failed), so CI catches a rotten harness.

mod dockerfiles;
mod edits;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use camino::Utf8Path;
use cargo_dockerize::context::{self, DockerIgnore};
use cargo_dockerize::engine::{self, BuildOptions, BuilderChoice, Engine, Target};
use cargo_dockerize::events::Outcome;
use cargo_dockerize::events::{BuildEvent, BuildEventKind};
use serde_json::Value;

/// The targets of the "Performance" issue.
const COLD_VS_PLAIN: f64 = 1.10;
const EDIT_VS_BEST: f64 = 1.10;
const ALL_VS_ONE: f64 = 1.15;
const UNCHANGED_SECONDS: f64 = 2.0;
/// Bytes a `scratch` image may hold beyond its stripped binary (the CA bundle is about 220 kB of it).
const IMAGE_OVERHEAD: u64 = 300_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Variant {
    AOne,
    AAll,
    Plain,
    Chef,
    CacheMounts,
}

impl Variant {
    const ALL: [Variant; 5] = [
        Variant::AOne,
        Variant::AAll,
        Variant::Plain,
        Variant::Chef,
        Variant::CacheMounts,
    ];

    fn key(self) -> &'static str {
        match self {
            Variant::AOne => "a-one",
            Variant::AAll => "a-all",
            Variant::Plain => "plain",
            Variant::Chef => "chef",
            Variant::CacheMounts => "cache",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Variant::AOne => "(a) one",
            Variant::AAll => "(a) all",
            Variant::Plain => "(b) plain",
            Variant::Chef => "(c) chef",
            Variant::CacheMounts => "(d) cache",
        }
    }

    fn is_ours(self) -> bool {
        matches!(self, Variant::AOne | Variant::AAll)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scenario {
    Cold,
    Unchanged,
    SourceEdit,
    LibEdit,
    VersionBump,
    ConfigEdit,
    DependencyAdded,
}

impl Scenario {
    const ALL: [Scenario; 7] = [
        Scenario::Cold,
        Scenario::Unchanged,
        Scenario::SourceEdit,
        Scenario::LibEdit,
        Scenario::VersionBump,
        Scenario::ConfigEdit,
        Scenario::DependencyAdded,
    ];

    fn key(self) -> &'static str {
        match self {
            Scenario::Cold => "cold",
            Scenario::Unchanged => "unchanged",
            Scenario::SourceEdit => "source",
            Scenario::LibEdit => "lib",
            Scenario::VersionBump => "version",
            Scenario::ConfigEdit => "config",
            Scenario::DependencyAdded => "dependency",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Scenario::Cold => "cold",
            Scenario::Unchanged => "nothing changed",
            Scenario::SourceEdit => "one source edit",
            Scenario::LibEdit => "shared lib edit",
            Scenario::VersionBump => "version bump",
            Scenario::ConfigEdit => "config edit",
            Scenario::DependencyAdded => "dependency added",
        }
    }
}

/// How a cold build starts from nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cold {
    /// `docker builder prune -af`: the engine's whole build cache goes, base images stay (the definition).
    Prune,
    /// Every step reruns (`--no-cache`) and (d)'s cache mounts get a fresh id: cold for this benchmark without
    /// emptying the cache other users of the engine rely on.
    NoCache,
}

struct Options {
    quick: bool,
    repeats: usize,
    fixture: PathBuf,
    cold: Cold,
    scenarios: Vec<Scenario>,
    variants: Vec<Variant>,
    generation: bool,
    /// `--logs DIR`: every build's step logs, one file per build.
    logs: Option<PathBuf>,
}

const USAGE: &str =
    "usage: cargo bench --bench pipeline -- [--quick] [--repeats N] [--cold prune|no-cache] \
[--fixture DIR] [--scenarios cold,unchanged,source,lib,version,config,dependency] \
[--variants a-one,a-all,plain,chef,cache] [--no-generation] [--logs DIR]";

fn parse_options() -> Result<Options, String> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut quick = false;
    let mut repeats = None;
    let mut fixture = None;
    let mut cold = None;
    let mut scenarios = None;
    let mut variants = None;
    let mut generation = true;
    let mut logs = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every benchmark binary.
            "--bench" => {}
            "--quick" => quick = true,
            "--no-generation" => generation = false,
            "--logs" => logs = Some(PathBuf::from(value("--logs")?)),
            "--repeats" => {
                let n: usize = value("--repeats")?
                    .parse()
                    .map_err(|_| "--repeats takes a number")?;
                repeats = Some(n.max(1));
            }
            "--fixture" => fixture = Some(PathBuf::from(value("--fixture")?)),
            "--cold" => {
                cold = Some(match value("--cold")?.as_str() {
                    "prune" => Cold::Prune,
                    "no-cache" => Cold::NoCache,
                    other => return Err(format!("--cold takes prune or no-cache, not `{other}`")),
                })
            }
            "--scenarios" => {
                scenarios = Some(pick(&value("--scenarios")?, &Scenario::ALL, |s| s.key())?)
            }
            "--variants" => {
                variants = Some(pick(&value("--variants")?, &Variant::ALL, |v| v.key())?)
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let fixture_name = if quick { "workspace" } else { "bench-services" };
    let mut scenarios = scenarios.unwrap_or_else(|| Scenario::ALL.to_vec());
    scenarios.sort();
    scenarios.dedup();
    let mut variants = variants.unwrap_or_else(|| Variant::ALL.to_vec());
    variants.sort();
    variants.dedup();
    Ok(Options {
        quick,
        repeats: repeats.unwrap_or(1),
        fixture: fixture
            .unwrap_or_else(|| manifest_dir.join("fixtures/workspaces").join(fixture_name)),
        // CI runs --quick on an engine others may share: it must not empty their cache.
        cold: cold.unwrap_or(if quick { Cold::NoCache } else { Cold::Prune }),
        scenarios,
        variants,
        generation,
        logs,
    })
}

fn pick<T: Copy>(list: &str, all: &[T], key: impl Fn(T) -> &'static str) -> Result<Vec<T>, String> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            all.iter().copied().find(|x| key(*x) == s).ok_or_else(|| {
                let known: Vec<&str> = all.iter().map(|x| key(*x)).collect();
                format!("unknown `{s}`: expected one of {}", known.join(", "))
            })
        })
        .collect()
}

/// What the benchmark needs to know about the fixture, from `cargo dockerize list` and `cargo metadata`.
struct Fixture {
    name: String,
    rust_version: String,
    triple: String,
    /// Every binary, sorted; the first is "one image".
    bins: Vec<Bin>,
    /// The shared library the first binary depends on, relative to the workspace root.
    lib_source: Option<PathBuf>,
    /// Every manifest of the workspace, relative to its root.
    manifests: Vec<PathBuf>,
    /// Registry packages of Cargo.lock that the first binary's package does not depend on directly.
    spare_dependencies: Vec<(String, String)>,
    locked_packages: usize,
}

struct Bin {
    name: String,
    manifest: PathBuf,
    source: PathBuf,
}

impl Fixture {
    fn one(&self) -> &Bin {
        &self.bins[0]
    }
}

fn load_fixture(root: &Path, tool: &str) -> Result<Fixture, String> {
    let list = run_json(
        Command::new(tool)
            .args([
                "dockerize",
                "list",
                "--format",
                "json",
                "--libc",
                "gnu",
                "--static",
            ])
            .current_dir(root),
    )?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let metadata = run_json(
        Command::new(&cargo)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ])
            .current_dir(root),
    )?;
    let str_of = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let relative = |p: &str| {
        Path::new(p)
            .strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| PathBuf::from(p))
    };
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let package = |name: &str| packages.iter().find(|p| p["name"] == name);
    let mut bins = Vec::new();
    let mut triple = String::new();
    for binary in list["binaries"].as_array().into_iter().flatten() {
        let name = str_of(binary, "name");
        triple = str_of(binary, "target");
        let pkg = package(&str_of(binary, "package"))
            .ok_or_else(|| format!("`{name}`'s package is not in cargo metadata"))?;
        let source = pkg["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == name.as_str() && t["kind"][0] == "bin")
            .map(|t| relative(t["src_path"].as_str().unwrap_or_default()))
            .ok_or_else(|| format!("no source file for binary `{name}`"))?;
        bins.push(Bin {
            name,
            manifest: relative(pkg["manifest_path"].as_str().unwrap_or_default()),
            source,
        });
    }
    bins.sort_by(|a, b| a.name.cmp(&b.name));
    let first = bins
        .first()
        .ok_or("the fixture has no binary to build")?
        .name
        .clone();
    let first_package = list["binaries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|b| b["name"] == first.as_str())
        .map(|b| str_of(b, "package"))
        .unwrap_or_default();
    let first_deps: Vec<&Value> = package(&first_package)
        .and_then(|p| p["dependencies"].as_array())
        .into_iter()
        .flatten()
        .collect();
    // The shared library: a path dependency of the first binary that is a member with a lib target.
    let lib_source = first_deps
        .iter()
        .filter(|d| d["path"].is_string())
        .find_map(|d| {
            let pkg = package(d["name"].as_str()?)?;
            pkg["targets"]
                .as_array()?
                .iter()
                .find(|t| t["kind"][0] == "lib")
                .map(|t| relative(t["src_path"].as_str().unwrap_or_default()))
        });
    let mut manifests = vec![PathBuf::from("Cargo.toml")];
    manifests.extend(
        packages
            .iter()
            .map(|p| relative(p["manifest_path"].as_str().unwrap_or_default()))
            .filter(|p| p != Path::new("Cargo.toml")),
    );
    let lock = edits::read(&root.join("Cargo.lock"))?;
    let locked = edits::locked_registry_packages(&lock);
    // Small leaf crates first: adding one is the common case, and its build is short.
    const PREFERRED: [&str; 10] = [
        "itoa",
        "ryu",
        "memchr",
        "fnv",
        "cfg-if",
        "once_cell",
        "pin-project-lite",
        "bytes",
        "smallvec",
        "percent-encoding",
    ];
    let direct: Vec<&str> = first_deps
        .iter()
        .filter_map(|d| d["name"].as_str())
        .collect();
    let spare_dependencies = PREFERRED
        .iter()
        .filter(|name| !direct.contains(name))
        .filter_map(|name| locked.iter().find(|(n, _)| n == name).cloned())
        .collect();
    Ok(Fixture {
        name: String::new(),
        rust_version: str_of(&list, "rust_version"),
        triple,
        bins,
        lib_source,
        manifests,
        spare_dependencies,
        locked_packages: lock.matches("[[package]]").count(),
    })
}

/// One build step as the engine reported it.
#[derive(Debug, Clone)]
struct StepRecord {
    id: String,
    name: String,
    /// `None`: served from the cache.
    seconds: Option<f64>,
}

#[derive(Debug, Clone)]
struct ImageRecord {
    bin: String,
    tag: String,
    size: u64,
}

/// One timed build (for (a) with every image, one process).
#[derive(Debug, Clone, Default)]
struct Run {
    seconds: f64,
    failure: Option<String>,
    steps: Vec<StepRecord>,
    images: Vec<ImageRecord>,
    /// Every log line of every step, with the seconds since the build began (for `--logs`).
    log: Vec<String>,
}

impl Run {
    fn record(&mut self, event: &BuildEvent) {
        match &event.kind {
            BuildEventKind::StepLog { step, line, .. } => self.log.push(format!(
                "{:>8.2} {:<8} {:<40} | {line}",
                event.elapsed,
                event.image,
                short(&step.name, 40)
            )),
            BuildEventKind::StepCached { step } => self.steps.push(StepRecord {
                id: step.id.clone(),
                name: step.name.clone(),
                seconds: None,
            }),
            BuildEventKind::StepFinished { step, seconds } => self.steps.push(StepRecord {
                id: step.id.clone(),
                name: step.name.clone(),
                seconds: Some(*seconds),
            }),
            BuildEventKind::ImageBuilt(built) => self.images.push(ImageRecord {
                bin: event.image.clone(),
                tag: built
                    .tags
                    .first()
                    .cloned()
                    .unwrap_or_else(|| built.id.clone()),
                size: built.size,
            }),
            BuildEventKind::ImageFailed(failed) => {
                let mut text = format!("image `{}` failed", event.image);
                if let Some(step) = &failed.step {
                    let _ = write!(text, " at `{}`", short(&step.name, 120));
                }
                let _ = writeln!(text, ": {}", failed.message);
                for line in &failed.log_tail {
                    let _ = writeln!(text, "    | {line}");
                }
                self.failure.get_or_insert_with(String::new).push_str(&text);
            }
            _ => {}
        }
    }

    /// Steps that ran, each once (a step shared by several images' builds appears in each stream), in order.
    fn ran(&self) -> Vec<(String, f64)> {
        let mut seen: Vec<(String, String, f64)> = Vec::new();
        for step in &self.steps {
            let Some(seconds) = step.seconds else {
                continue;
            };
            match seen.iter_mut().find(|(id, _, _)| *id == step.id) {
                Some(entry) => entry.2 = entry.2.max(seconds),
                None => seen.push((step.id.clone(), step.name.clone(), seconds)),
            }
        }
        seen.into_iter().map(|(_, n, s)| (n, s)).collect()
    }

    /// The dependency layer of our Dockerfile: the first `RUN` of a builder stage (`[builder 3/6] RUN cargo build`
    /// on the recipe). `Some(None)`: cached in every image's build; `Some(Some(s))`: it ran for `s` seconds.
    fn dependency_step(&self) -> Option<Option<f64>> {
        let position = |name: &str| -> Option<usize> {
            let (head, rest) = name.strip_prefix('[')?.split_once("] ")?;
            let (stage, index) = head.split_once(' ')?;
            (stage.starts_with("builder") && rest.starts_with("RUN "))
                .then(|| index.split('/').next()?.parse().ok())
                .flatten()
        };
        let first = self.steps.iter().filter_map(|s| position(&s.name)).min()?;
        let matching = self
            .steps
            .iter()
            .filter(|s| position(&s.name) == Some(first));
        Some(matching.filter_map(|s| s.seconds).reduce(f64::max))
    }
}

/// Everything a run of the benchmark needs.
struct Bench {
    options: Options,
    fixture: Fixture,
    pristine: PathBuf,
    work: tempfile::TempDir,
    nonce: String,
    tool: &'static str,
    runtime: tokio::runtime::Runtime,
    engine: Option<Engine>,
    /// Every tag we created and every cache-mount id we used: removed at the end, whatever happened.
    cleanup: Cleanup,
    /// Builds whose event stream broke after the image was built (see [`Bench::recover_stream_error`]).
    recovered: Vec<String>,
    /// When the run began, in UTC, as the engine prints times.
    started_utc: String,
}

#[derive(Default)]
struct Cleanup {
    tags: Vec<String>,
    /// Set when (d) ran: its cache mounts (the registry, `target/`) are garbage afterwards, and with the default
    /// ids (`prune`) another Dockerfile mounting `/app/target` would find them.
    cache_mounts: Option<CacheMounts>,
}

/// How to recognise (d)'s cache mounts of this run among the engine's build-cache records: BuildKit describes a
/// cache mount as `cached mount <target> from exec /bin/sh -c <command>` (without its id), so by command and age.
struct CacheMounts {
    /// `YYYY-MM-DD HH:MM:SS` in UTC, as `docker system df -v` prints `CreatedAt`.
    since: String,
    command: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // Tags of builds that failed may not exist; only those that do are counted.
        let mut removed = 0;
        for chunk in self.tags.chunks(40) {
            let output = Command::new("docker").arg("rmi").args(chunk).output();
            if output.is_ok_and(|o| o.status.success()) {
                removed += chunk.len();
            } else {
                // One stubborn tag must not keep the others: retry them one by one.
                for tag in chunk {
                    let ok = Command::new("docker")
                        .args(["rmi", tag])
                        .output()
                        .is_ok_and(|o| o.status.success());
                    removed += usize::from(ok);
                }
            }
        }
        if !self.tags.is_empty() {
            eprintln!("cleanup: removed {removed} image tag(s)");
        }
        if let Some(mounts) = &self.cache_mounts {
            let pruned = prune_cache_mounts(mounts);
            eprintln!("cleanup: removed {pruned} cache-mount records of variant (d)");
        }
    }
}

/// Removes the build-cache records of the cache mounts this run created.
fn prune_cache_mounts(mounts: &CacheMounts) -> usize {
    if mounts.since.is_empty() {
        return 0;
    }
    let Ok(output) = Command::new("docker")
        .args(["system", "df", "-v", "--format", "{{json .BuildCache}}"])
        .output()
    else {
        return 0;
    };
    let records: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_default();
    let mut pruned = 0;
    for record in records {
        let description = record["Description"].as_str().unwrap_or_default();
        let created = record["CreatedAt"].as_str().unwrap_or_default();
        if record["CacheType"] != "exec.cachemount"
            || !description.contains(&mounts.command)
            || created < mounts.since.as_str()
        {
            continue;
        }
        let id = record["ID"]
            .as_str()
            .unwrap_or_default()
            .trim_end_matches('*');
        let ok = Command::new("docker")
            .args(["builder", "prune", "-f", "--filter", &format!("id={id}")])
            .output()
            .is_ok_and(|o| o.status.success());
        pruned += usize::from(ok);
    }
    pruned
}

/// Per variant, per scenario: the runs of every repetition.
type Results = BTreeMap<(Variant, Scenario), Vec<Run>>;

#[derive(Debug, Clone)]
struct SizeRow {
    variant: Variant,
    bin: String,
    image: u64,
    binary: u64,
    stripped: u64,
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let began = Instant::now();
    let load_before = load_average();
    match run(options) {
        Ok(report) => {
            let failed = report.failed;
            print!("{}", report.text);
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

struct Report {
    text: String,
    failed: bool,
}

fn run(options: Options) -> Result<Report, String> {
    let tool = env!("CARGO_BIN_EXE_cargo-dockerize");
    let work = tempfile::Builder::new()
        .prefix("dzbench-")
        .tempdir()
        .map_err(|e| format!("failed to create a temporary directory: {e}"))?;
    let pristine = work.path().join("pristine");
    copy_tree(&options.fixture, &pristine)?;
    let mut fixture = load_fixture(&pristine, tool)?;
    if let Some(name) = options.fixture.file_name() {
        fixture.name = name.to_string_lossy().into_owned();
    }
    let nonce = format!(
        "{:08x}",
        (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default() as u64
            ^ u64::from(std::process::id()))
            & 0xffff_ffff
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("failed to start a tokio runtime: {e}"))?;
    let needs_engine = options.variants.iter().any(|v| !v.is_ours());
    let engine = if needs_engine {
        Some(
            runtime
                .block_on(engine::connect(BuilderChoice::Buildkit))
                .map_err(|e| engine::error_chain(&e))?,
        )
    } else {
        None
    };
    let mut bench = Bench {
        options,
        fixture,
        pristine,
        work,
        nonce,
        tool,
        runtime,
        engine,
        cleanup: Cleanup::default(),
        recovered: Vec::new(),
        started_utc: Command::new("date")
            .args(["-u", "+%Y-%m-%d %H:%M:%S"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default(),
    };
    let mut results = Results::new();
    let mut sizes = Vec::new();
    let mut failures = Vec::new();
    for variant in bench.options.variants.clone() {
        if let Err(message) = bench.run_variant(variant, &mut results, &mut sizes) {
            eprintln!("[{}] {message}", variant.label());
            failures.push(format!("{}: {message}", variant.label()));
        }
    }
    let generation = if bench.options.generation {
        match generation_figure(bench.options.quick) {
            Ok(text) => Some(text),
            Err(message) => {
                failures.push(format!("generation benchmark: {message}"));
                None
            }
        }
    } else {
        None
    };
    let mut text = report(&bench, &results, &sizes, generation.as_deref());
    if !failures.is_empty() {
        text.push_str("\nFAILED\n");
        for failure in &failures {
            let _ = writeln!(text, "  {}", failure.replace('\n', "\n  "));
        }
    }
    Ok(Report {
        text,
        failed: !failures.is_empty(),
    })
}

impl Bench {
    /// One variant through every scenario, in its own copy of the fixture.
    fn run_variant(
        &mut self,
        variant: Variant,
        results: &mut Results,
        sizes: &mut Vec<SizeRow>,
    ) -> Result<(), String> {
        let dir = self.work.path().join(variant.key());
        copy_tree(&self.pristine, &dir)?;
        // Each variant's context differs by this file, so no variant finds another's layers in the cache, and
        // the nonce keeps a run from finding a previous run's (`--cold no-cache` empties nothing; with `prune`
        // it costs nothing).
        edits::write(
            &dir.join(".bench-variant"),
            &format!("{} {}\n", variant.key(), self.nonce),
        )?;
        if self.options.cold == Cold::NoCache {
            // The recipes leave `.bench-variant` out: a comment at the top (kept by ours) and a metadata table
            // (kept by cargo-chef's) make them unique to the run too, so the dependency layers of this run's
            // edits are built, not found in a previous run's cache.
            let root = dir.join("Cargo.toml");
            let text = edits::read(&root)?;
            let table = if text.lines().any(|l| l.trim() == "[workspace]") {
                "workspace"
            } else {
                "package"
            };
            edits::write(
                &root,
                &format!(
                    "# benchmark run {nonce}\n{text}\n[{table}.metadata.benchmark]\nrun = \"{nonce}\"\n",
                    nonce = self.nonce
                ),
            )?;
        }
        if !variant.is_ours() {
            edits::write(
                &dir.join(".dockerignore"),
                &cargo_dockerize::dockerfile::dockerignore("cargo dockerize"),
            )?;
        }
        let mut generation = 0;
        let mut last_ok: Option<Run> = None;
        let scenarios = self.options.scenarios.clone();
        let mut config_base = None;
        for scenario in scenarios {
            if scenario == Scenario::LibEdit && self.fixture.lib_source.is_none() {
                continue;
            }
            for rep in 0..self.options.repeats {
                let mut no_cache = false;
                if scenario == Scenario::Cold {
                    match self.options.cold {
                        Cold::Prune => prune_builder_cache()?,
                        Cold::NoCache => {
                            no_cache = true;
                            generation += 1;
                        }
                    }
                }
                self.edit(&dir, scenario, rep, &mut config_base)?;
                let run = self.build(variant, &dir, scenario, rep, no_cache, generation);
                eprintln!(
                    "[{:<9}] {:<16} #{rep}: {:>7.1} s{}",
                    variant.label(),
                    scenario.label(),
                    run.seconds,
                    if run.failure.is_some() {
                        "  FAILED"
                    } else {
                        ""
                    }
                );
                let failure = run.failure.clone();
                if failure.is_none() {
                    last_ok = Some(run.clone());
                }
                results.entry((variant, scenario)).or_default().push(run);
                if let Some(failure) = failure {
                    return Err(format!(
                        "build failed in scenario `{}`:\n{failure}",
                        scenario.label()
                    ));
                }
            }
        }
        if let Some(run) = last_ok {
            for image in &run.images {
                sizes.push(measure_size(
                    variant,
                    image,
                    &self.work.path().join("sizes"),
                )?);
            }
        }
        Ok(())
    }

    fn edit(
        &self,
        dir: &Path,
        scenario: Scenario,
        rep: usize,
        config_base: &mut Option<String>,
    ) -> Result<(), String> {
        let fixture = &self.fixture;
        let one = fixture.one();
        match scenario {
            Scenario::Cold | Scenario::Unchanged => Ok(()),
            Scenario::SourceEdit => edits::touch_source(&dir.join(&one.source), &self.nonce, rep),
            Scenario::LibEdit => {
                let lib = fixture.lib_source.as_ref().expect("checked by the caller");
                edits::touch_source(&dir.join(lib), &self.nonce, rep)
            }
            Scenario::VersionBump => {
                let manifests: Vec<PathBuf> =
                    fixture.manifests.iter().map(|m| dir.join(m)).collect();
                if edits::bump_versions(&manifests)? == 0 {
                    return Err("no version to bump in the fixture's manifests".into());
                }
                edits::update_lock(dir)
            }
            Scenario::ConfigEdit => {
                let path = dir.join(&one.manifest);
                let base = match config_base {
                    Some(base) => base.clone(),
                    None => config_base.insert(edits::read(&path)?).clone(),
                };
                edits::write(
                    &path,
                    &edits::with_config_edit(&base, &one.name, &format!("{}-{rep}", self.nonce)),
                )
            }
            Scenario::DependencyAdded => {
                let line = match fixture.spare_dependencies.get(rep) {
                    Some((name, version)) => {
                        format!("{name} = \"{version}\" # benchmark {}", self.nonce)
                    }
                    None => {
                        // Out of distinct crates: the same crate again under a new name is still a new dependency.
                        let (name, version) = fixture
                            .spare_dependencies
                            .first()
                            .ok_or("no registry crate in Cargo.lock to add as a dependency")?;
                        format!(
                            "benchmark-dependency-{rep} = {{ package = \"{name}\", version = \"{version}\" }} # benchmark {}",
                            self.nonce
                        )
                    }
                };
                let path = dir.join(&one.manifest);
                edits::write(&path, &edits::with_dependency(&edits::read(&path)?, &line))?;
                edits::update_lock(dir)
            }
        }
    }

    fn tag(&self, variant: Variant, scenario: Scenario, rep: usize, bin: &str) -> String {
        format!(
            "dzbench-{}-{}-{bin}:{}-{rep}",
            self.nonce,
            variant.key(),
            scenario.key()
        )
    }

    fn build(
        &mut self,
        variant: Variant,
        dir: &Path,
        scenario: Scenario,
        rep: usize,
        no_cache: bool,
        generation: usize,
    ) -> Run {
        let mut run = if variant.is_ours() {
            self.build_ours(variant, dir, scenario, rep, no_cache)
        } else {
            self.build_other(variant, dir, scenario, rep, no_cache, generation)
        };
        let bins: Vec<&Bin> = match variant {
            Variant::AAll => self.fixture.bins.iter().collect(),
            _ => vec![self.fixture.one()],
        };
        let expected: Vec<(String, String)> = bins
            .iter()
            .map(|b| (b.name.clone(), self.tag(variant, scenario, rep, &b.name)))
            .collect();
        self.recover_stream_error(&mut run, &expected, variant, scenario);
        if let Some(logs) = &self.options.logs {
            let path = logs.join(format!(
                "{}-{}-{}-{rep}.log",
                self.nonce,
                variant.key(),
                scenario.key()
            ));
            let written = std::fs::create_dir_all(logs)
                .and_then(|()| std::fs::write(&path, run.log.join("\n") + "\n"));
            if let Err(e) = written {
                eprintln!("warning: failed to write {}: {e}", path.display());
            }
        }
        // Every tag this build may have written, built or not: a failed build can leave one behind.
        for tag in run
            .images
            .iter()
            .map(|i| &i.tag)
            .chain(expected.iter().map(|(_, t)| t))
        {
            if !self.cleanup.tags.contains(tag) {
                self.cleanup.tags.push(tag.clone());
            }
        }
        run
    }

    /// bollard's JSON-lines decoder (0.21) ends a build's stream with "bytes remaining on stream" when the
    /// engine's response ends in a whitespace-only line; the build itself has finished by then. When every
    /// image the build was to tag exists, the build counts as done (its wall time is right: the stream ended
    /// with the build), and the report says so. Anything else stays a failure.
    fn recover_stream_error(
        &mut self,
        run: &mut Run,
        expected: &[(String, String)],
        variant: Variant,
        scenario: Scenario,
    ) {
        let Some(failure) = &run.failure else { return };
        if !failure.contains("bytes remaining on stream") {
            return;
        }
        let mut found = Vec::new();
        for (bin, tag) in expected {
            if run.images.iter().any(|i| i.tag == *tag) {
                continue;
            }
            let size = Command::new("docker")
                .args(["image", "inspect", "--format", "{{.Size}}", tag])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .trim()
                        .parse::<u64>()
                        .ok()
                });
            match size {
                Some(size) => found.push(ImageRecord {
                    bin: bin.clone(),
                    tag: tag.clone(),
                    size,
                }),
                // Not built: a real failure.
                None => return,
            }
        }
        run.images.extend(found);
        run.failure = None;
        self.recovered.push(format!(
            "{} / {}: the event stream ended with \"bytes remaining on stream\"; every image was built and tagged",
            variant.label(),
            scenario.label()
        ));
    }

    /// (a): the `cargo-dockerize` binary, timed as a user sees it (cargo metadata, planning, packing included).
    fn build_ours(
        &self,
        variant: Variant,
        dir: &Path,
        scenario: Scenario,
        rep: usize,
        no_cache: bool,
    ) -> Run {
        let template = self.tag(variant, scenario, rep, "{bin}");
        let mut command = Command::new(self.tool);
        command
            .args([
                "dockerize",
                "--libc",
                "gnu",
                "--static",
                "--keep-going",
                "--message-format",
                "json",
                "-t",
            ])
            .arg(&template)
            .current_dir(dir);
        if variant == Variant::AOne {
            command.args(["--bin", &self.fixture.one().name]);
        }
        if no_cache {
            command.arg("--no-cache");
        }
        let started = Instant::now();
        let output = command.output();
        let mut run = Run {
            seconds: started.elapsed().as_secs_f64(),
            ..Run::default()
        };
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                run.failure = Some(format!("failed to run {}: {e}", self.tool));
                return run;
            }
        };
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(value) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if let Some(event) = event_from_json(&value) {
                run.record(&event);
            }
        }
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(30).collect();
            let mut text = run.failure.take().unwrap_or_default();
            let _ = writeln!(
                text,
                "cargo-dockerize exited with {}; the end of its stderr:",
                output.status
            );
            for line in tail.into_iter().rev() {
                let _ = writeln!(text, "    | {line}");
            }
            run.failure = Some(text);
        }
        run
    }

    /// (b)–(d): their Dockerfile and the same context, through `engine::build_target`.
    fn build_other(
        &mut self,
        variant: Variant,
        dir: &Path,
        scenario: Scenario,
        rep: usize,
        no_cache: bool,
        generation: usize,
    ) -> Run {
        let fixture = &self.fixture;
        let bin = &fixture.one().name;
        let mount_id = (self.options.cold == Cold::NoCache)
            .then(|| format!("dzbench-{}-{generation}", self.nonce));
        if variant == Variant::CacheMounts && self.cleanup.cache_mounts.is_none() {
            self.cleanup.cache_mounts = Some(CacheMounts {
                since: self.started_utc.clone(),
                command: format!(
                    "from exec /bin/sh -c cargo build --locked --release --target {} --bin {bin}",
                    fixture.triple
                ),
            });
        }
        let spec = dockerfiles::Spec {
            rust_version: &fixture.rust_version,
            triple: &fixture.triple,
            bin,
            mount_id: mount_id.as_deref(),
        };
        let dockerfile = match variant {
            Variant::Plain => dockerfiles::plain(&spec),
            Variant::Chef => dockerfiles::chef(&spec),
            Variant::CacheMounts => dockerfiles::cache_mounts(&spec),
            Variant::AOne | Variant::AAll => unreachable!("built by build_ours"),
        };
        let tag = self.tag(variant, scenario, rep, bin);
        let engine = self.engine.as_ref().expect("connected when (b)-(d) run");
        let started = Instant::now();
        let mut run = Run::default();
        let context = (|| {
            let root = Utf8Path::from_path(dir).ok_or("the work directory is not UTF-8")?;
            let text = edits::read(&dir.join(".dockerignore"))?;
            let ignore = DockerIgnore::parse(&text).map_err(|e| e.to_string())?;
            let (bytes, _) = context::archive(root, &["".into()], &ignore, &dockerfile, &[])
                .map_err(|e| engine::error_chain(&e))?;
            Ok::<_, String>(bytes::Bytes::from(bytes))
        })();
        let context = match context {
            Ok(c) => c,
            Err(message) => {
                run.failure = Some(message);
                return run;
            }
        };
        let target = Target {
            stage: bin.clone(),
            tags: vec![tag],
        };
        let options = BuildOptions {
            no_cache,
            jobs: 1,
            ..BuildOptions::default()
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let outcome = self.runtime.block_on(engine::build_target(
            engine, &target, context, &options, &tx, started,
        ));
        run.seconds = started.elapsed().as_secs_f64();
        drop(tx);
        while let Ok(event) = rx.try_recv() {
            run.record(&event);
        }
        match outcome {
            Outcome::Built(_) => {}
            Outcome::Failed(_) if run.failure.is_some() => {}
            Outcome::Failed(failed) => run.failure = Some(failed.message),
            Outcome::Cancelled => run.failure = Some("the build was cancelled".into()),
        }
        run
    }
}

/// `--message-format json` lines back into the library's events, for the fields the benchmark reads.
fn event_from_json(value: &Value) -> Option<BuildEvent> {
    let step = || {
        Some(cargo_dockerize::events::Step {
            id: value["step"]["id"].as_str()?.to_string(),
            name: value["step"]["name"].as_str()?.to_string(),
        })
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let kind = match value["event"].as_str()? {
        "step-cached" => BuildEventKind::StepCached { step: step()? },
        "step-log" => BuildEventKind::StepLog {
            step: step()?,
            stream: cargo_dockerize::events::LogStream::Stdout,
            line: value["line"].as_str()?.to_string(),
        },
        "step-finished" => BuildEventKind::StepFinished {
            step: step()?,
            seconds: value["seconds"].as_f64()?,
        },
        "image-built" => BuildEventKind::ImageBuilt(cargo_dockerize::events::ImageBuilt {
            id: value["id"].as_str()?.to_string(),
            tags: strings(&value["tags"]),
            size: value["size"].as_u64().unwrap_or_default(),
            seconds: value["seconds"].as_f64().unwrap_or_default(),
            steps_total: 0,
            steps_cached: 0,
        }),
        "image-failed" => BuildEventKind::ImageFailed(cargo_dockerize::events::ImageFailed {
            message: value["message"].as_str().unwrap_or_default().to_string(),
            step: step(),
            log_tail: strings(&value["log_tail"]),
            seconds: value["seconds"].as_f64().unwrap_or_default(),
        }),
        _ => return None,
    };
    Some(BuildEvent {
        image: value["image"].as_str().unwrap_or_default().to_string(),
        elapsed: value["elapsed"].as_f64().unwrap_or_default(),
        kind,
    })
}

fn prune_builder_cache() -> Result<(), String> {
    let output = Command::new("docker")
        .args(["builder", "prune", "-af"])
        .output()
        .map_err(|e| format!("failed to run `docker builder prune -af`: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`docker builder prune -af` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The image's size against its binary's, taken out of the image and stripped.
fn measure_size(variant: Variant, image: &ImageRecord, dir: &Path) -> Result<SizeRow, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
    let docker = |args: &[&str]| -> Result<String, String> {
        let output = Command::new("docker")
            .args(args)
            .output()
            .map_err(|e| format!("failed to run docker: {e}"))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(format!(
                "`docker {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    };
    let container = docker(&["create", &image.tag])?;
    let binary = dir.join(format!("{}-{}", variant.key(), image.bin));
    let copied = docker(&[
        "cp",
        &format!("{container}:/usr/local/bin/{}", image.bin),
        &binary.to_string_lossy(),
    ]);
    let _ = docker(&["rm", &container]);
    copied?;
    let stripped = binary.with_extension("stripped");
    let status = Command::new("objcopy")
        .arg("--strip-all")
        .arg(&binary)
        .arg(&stripped)
        .status()
        .map_err(|e| format!("failed to run objcopy: {e}"))?;
    if !status.success() {
        return Err(format!("objcopy --strip-all {} failed", binary.display()));
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or_default();
    Ok(SizeRow {
        variant,
        bin: image.bin.clone(),
        image: image.size,
        binary: size(&binary),
        stripped: size(&stripped),
    })
}

/// benches/generate.rs, run as it is (`cargo bench --bench generate -- MEMBERS REPEATS`).
fn generation_figure(quick: bool) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (members, repeats) = if quick { ("50", "1") } else { ("500", "3") };
    eprintln!("generation: cargo bench --bench generate -- {members} {repeats}");
    let output = Command::new(&cargo)
        .args([
            "bench", "--quiet", "--bench", "generate", "--", members, repeats,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map_err(|e| format!("failed to run `{cargo} bench --bench generate`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo bench --bench generate -- {members} {repeats}` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn run_json(command: &mut Command) -> Result<Value, String> {
    let output = command
        .output()
        .map_err(|e| format!("failed to run {command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("{command:?} printed no JSON: {e}"))
}

/// Copies a fixture, leaving out what a checkout would not have (build output, our generated files).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let io = |e: std::io::Error, p: &Path| format!("failed to copy {}: {e}", p.display());
    std::fs::create_dir_all(to).map_err(|e| io(e, to))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(e, from))? {
        let entry = entry.map_err(|e| io(e, from))?;
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("target" | "Dockerfile" | ".dockerignore")
        ) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io(e, &path))?;
        if kind.is_dir() {
            copy_tree(&path, &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(&path, to.join(&name)).map_err(|e| io(e, &path))?;
        }
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(values[values.len() / 2])
}

fn seconds(results: &Results, variant: Variant, scenario: Scenario) -> Option<f64> {
    let runs = results.get(&(variant, scenario))?;
    if runs.iter().any(|r| r.failure.is_some()) {
        return None;
    }
    median(runs.iter().map(|r| r.seconds).collect())
}

fn short(name: &str, width: usize) -> String {
    let flat: String = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        format!("{}…", flat.chars().take(width - 1).collect::<String>())
    }
}

fn size_text(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.2} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.0} kB", bytes as f64 / 1e3)
    }
}

fn report(bench: &Bench, results: &Results, sizes: &[SizeRow], generation: Option<&str>) -> String {
    let options = &bench.options;
    let fixture = &bench.fixture;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\npipeline benchmark{}: fixture `{}` ({} binaries, {} packages in Cargo.lock), one image = `{}`",
        if options.quick { " (quick)" } else { "" },
        fixture.name,
        fixture.bins.len(),
        fixture.locked_packages,
        fixture.one().name
    );
    let _ = writeln!(
        out,
        "every variant: rust:{}-slim-bookworm, release, {} with +crt-static, scratch runtime; median of {} run(s); cold = {}",
        fixture.rust_version,
        fixture.triple,
        options.repeats,
        match options.cold {
            Cold::Prune => "`docker builder prune -af` before the build",
            Cold::NoCache => "--no-cache and fresh cache mounts",
        }
    );
    if let Some(engine) = &bench.engine {
        let _ = writeln!(
            out,
            "engine: {} at {} (BuildKit)",
            engine.description, engine.host
        );
    }

    // Wall times.
    let variants = &options.variants;
    let _ = write!(out, "\n{:<18}", "wall time (s)");
    for v in variants {
        let _ = write!(out, "{:>11}", v.label());
    }
    let ratios: Vec<(Variant, &str)> = [
        (Variant::AAll, "all/one"),
        (Variant::Plain, "b/a"),
        (Variant::Chef, "c/a"),
        (Variant::CacheMounts, "d/a"),
    ]
    .into_iter()
    .filter(|(v, _)| variants.contains(v) && variants.contains(&Variant::AOne))
    .collect();
    for (_, label) in &ratios {
        let _ = write!(out, "{label:>9}");
    }
    out.push('\n');
    for scenario in &options.scenarios {
        let _ = write!(out, "{:<18}", scenario.label());
        for v in variants {
            match (
                seconds(results, *v, *scenario),
                results.contains_key(&(*v, *scenario)),
            ) {
                (Some(s), _) => {
                    let _ = write!(out, "{s:>11.1}");
                }
                (None, true) => {
                    let _ = write!(out, "{:>11}", "FAILED");
                }
                (None, false) => {
                    let _ = write!(out, "{:>11}", "-");
                }
            }
        }
        let a = seconds(results, Variant::AOne, *scenario);
        for (v, _) in &ratios {
            match (seconds(results, *v, *scenario), a) {
                (Some(x), Some(a)) if a > 0.0 => {
                    let _ = write!(out, "{:>9.2}", x / a);
                }
                _ => {
                    let _ = write!(out, "{:>9}", "-");
                }
            }
        }
        out.push('\n');
    }

    // Targets.
    out.push_str("\ntargets\n");
    let mut verdict = |ok: Option<bool>, what: &str, detail: String| {
        let word = match ok {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a ",
        };
        let _ = writeln!(out, "  {word}  {what:<52} {detail}");
    };
    let s = |v, sc| seconds(results, v, sc);
    match (
        s(Variant::AOne, Scenario::Cold),
        s(Variant::Plain, Scenario::Cold),
    ) {
        (Some(a), Some(b)) => verdict(
            Some(a <= COLD_VS_PLAIN * b),
            "cold: (a) <= 1.10 x (b)",
            format!("{a:.1} s vs {b:.1} s ({:.2}x)", a / b),
        ),
        _ => verdict(None, "cold: (a) <= 1.10 x (b)", "not measured".into()),
    }
    let best = [Variant::Chef, Variant::CacheMounts]
        .into_iter()
        .filter_map(|v| s(v, Scenario::SourceEdit).map(|t| (v, t)))
        .min_by(|x, y| x.1.total_cmp(&y.1));
    match (s(Variant::AOne, Scenario::SourceEdit), best) {
        (Some(a), Some((v, b))) => verdict(
            Some(a <= EDIT_VS_BEST * b),
            "one source edit: (a) <= 1.10 x min((c), (d))",
            format!("{a:.1} s vs {b:.1} s {} ({:.2}x)", v.label(), a / b),
        ),
        _ => verdict(
            None,
            "one source edit: (a) <= 1.10 x min((c), (d))",
            "not measured".into(),
        ),
    }
    for scenario in [Scenario::VersionBump, Scenario::ConfigEdit] {
        let what = format!("{}: (a) rebuilds no dependency", scenario.label());
        let mut ran = Vec::new();
        let mut seen = false;
        for v in [Variant::AOne, Variant::AAll] {
            for run in results.get(&(v, scenario)).into_iter().flatten() {
                match run.dependency_step() {
                    Some(None) => seen = true,
                    Some(Some(t)) => {
                        seen = true;
                        ran.push(format!("{} {t:.1} s", v.label()));
                    }
                    None => {}
                }
            }
        }
        if !seen {
            verdict(None, &what, "not measured".into());
        } else if ran.is_empty() {
            verdict(
                Some(true),
                &what,
                "dependency step `step-cached` in every build".into(),
            );
        } else {
            verdict(
                Some(false),
                &what,
                format!("dependency step ran: {}", ran.join(", ")),
            );
        }
    }
    for scenario in &options.scenarios {
        if *scenario == Scenario::Unchanged {
            continue;
        }
        let what = format!(
            "{}: all {} images <= 1.15 x one image",
            scenario.label(),
            fixture.bins.len()
        );
        match (s(Variant::AAll, *scenario), s(Variant::AOne, *scenario)) {
            (Some(all), Some(one)) => verdict(
                Some(all <= ALL_VS_ONE * one),
                &what,
                format!("{all:.1} s vs {one:.1} s ({:.2}x)", all / one),
            ),
            _ => verdict(None, &what, "not measured".into()),
        }
    }
    let what = format!(
        "nothing changed: all {} images in <= 2 s",
        fixture.bins.len()
    );
    match s(Variant::AAll, Scenario::Unchanged) {
        Some(t) => verdict(Some(t <= UNCHANGED_SECONDS), &what, format!("{t:.2} s")),
        None => verdict(None, &what, "not measured".into()),
    }
    let ours: Vec<&SizeRow> = {
        let all: Vec<&SizeRow> = sizes
            .iter()
            .filter(|r| r.variant == Variant::AAll)
            .collect();
        if all.is_empty() {
            sizes
                .iter()
                .filter(|r| r.variant == Variant::AOne)
                .collect()
        } else {
            all
        }
    };
    let what = "scratch image <= stripped binary + 300 kB";
    if ours.is_empty() {
        verdict(None, what, "not measured".into());
    } else {
        let worst = ours
            .iter()
            .max_by_key(|r| r.image.saturating_sub(r.stripped))
            .expect("not empty");
        verdict(
            Some(ours.iter().all(|r| r.image <= r.stripped + IMAGE_OVERHEAD)),
            what,
            format!(
                "worst `{}`: {} image, {} stripped (+{})",
                worst.bin,
                size_text(worst.image),
                size_text(worst.stripped),
                size_text(worst.image.saturating_sub(worst.stripped))
            ),
        );
    }

    // Sizes.
    if !sizes.is_empty() {
        let _ = writeln!(
            out,
            "\nimage sizes\n  {:<10} {:<14} {:>10} {:>12} {:>12} {:>16}",
            "variant", "binary", "image", "binary", "stripped", "image-stripped"
        );
        for row in sizes {
            let _ = writeln!(
                out,
                "  {:<10} {:<14} {:>10} {:>12} {:>12} {:>16}",
                row.variant.label(),
                row.bin,
                size_text(row.image),
                size_text(row.binary),
                size_text(row.stripped),
                size_text(row.image.saturating_sub(row.stripped))
            );
        }
    }

    // Where the time went: the steps that ran, from the engine's events (last repetition).
    out.push_str("\nsteps that ran (seconds, from the build events; last repetition)\n");
    for ((variant, scenario), runs) in results {
        let detailed =
            variant.is_ours() || matches!(scenario, Scenario::Cold | Scenario::SourceEdit);
        let Some(run) = runs.last() else { continue };
        if !detailed {
            continue;
        }
        let ran = run.ran();
        let cached = run.steps.iter().filter(|s| s.seconds.is_none()).count();
        let _ = writeln!(
            out,
            "  {} / {}: wall {:.1} s, {} step(s) cached",
            variant.label(),
            scenario.label(),
            run.seconds,
            cached
        );
        for (name, secs) in ran.iter().filter(|(_, s)| *s >= 0.05) {
            let _ = writeln!(out, "    {secs:>7.2}  {}", short(name, 100));
        }
    }

    if !bench.recovered.is_empty() {
        out.push_str("\nnotes\n");
        for note in &bench.recovered {
            let _ = writeln!(out, "  {note}");
        }
    }

    if let Some(text) = generation {
        out.push_str("\ngeneration speed (benches/generate.rs)\n");
        for line in text.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}
