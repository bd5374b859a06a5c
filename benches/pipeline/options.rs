//! The benchmark's command line: what to build (variants), after which edits (scenarios), how a cold build
//! starts, and on which fixture. Parsed by hand, since `cargo bench` passes its own `--bench` to every benchmark
//! binary; a usage error is exit status 2.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Variant {
    AOne,
    AAll,
    Plain,
    Chef,
    CacheMounts,
    /// `cargo build --release` on the host, no engine: the physical limit of a build.
    Host,
    /// (a) one for `linux/arm64`: cross-compiled on this (amd64) machine.
    Arm64,
    /// The same binary for arm64 built the emulated way: an aarch64 Rust toolchain run under qemu on the host,
    /// as it runs in an emulated `docker build --platform linux/arm64` (no arm64 image can be pulled here).
    Emulated,
}

impl Variant {
    pub const ALL: [Variant; 8] = [
        Variant::AOne,
        Variant::AAll,
        Variant::Plain,
        Variant::Chef,
        Variant::CacheMounts,
        Variant::Host,
        Variant::Arm64,
        Variant::Emulated,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Variant::AOne => "a-one",
            Variant::AAll => "a-all",
            Variant::Plain => "plain",
            Variant::Chef => "chef",
            Variant::CacheMounts => "cache",
            Variant::Host => "host",
            Variant::Arm64 => "a-arm64",
            Variant::Emulated => "emulated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Variant::AOne => "(a) one",
            Variant::AAll => "(a) all",
            Variant::Plain => "(b) plain",
            Variant::Chef => "(c) chef",
            Variant::CacheMounts => "(d) cache",
            Variant::Host => "host",
            Variant::Arm64 => "(a) arm64",
            Variant::Emulated => "emu arm64",
        }
    }

    /// The scenarios it runs: the emulated anchor only cold and after a source edit (each costs minutes).
    pub fn runs(self, scenario: Scenario) -> bool {
        self != Variant::Emulated || matches!(scenario, Scenario::Cold | Scenario::SourceEdit)
    }

    /// (b)–(d): a hand-written Dockerfile, built through `engine::build_target`.
    pub fn is_handwritten(self) -> bool {
        matches!(self, Variant::Plain | Variant::Chef | Variant::CacheMounts)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scenario {
    Cold,
    Unchanged,
    SourceEdit,
    LibEdit,
    VersionBump,
    ConfigEdit,
    DependencyAdded,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::Cold,
        Scenario::Unchanged,
        Scenario::SourceEdit,
        Scenario::LibEdit,
        Scenario::VersionBump,
        Scenario::ConfigEdit,
        Scenario::DependencyAdded,
    ];

    pub fn key(self) -> &'static str {
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

    pub fn label(self) -> &'static str {
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
pub enum Cold {
    /// `docker builder prune -af`: the engine's whole build cache goes, base images stay (the definition).
    Prune,
    /// Every step reruns (`--no-cache`) and (d)'s cache mounts get a fresh id: cold for this benchmark without
    /// emptying the cache other users of the engine rely on.
    NoCache,
}

pub struct Options {
    pub quick: bool,
    pub repeats: usize,
    pub fixture: PathBuf,
    pub cold: Cold,
    /// Sorted: cold first, the order the edits build on each other.
    pub scenarios: Vec<Scenario>,
    pub variants: Vec<Variant>,
    pub generation: bool,
    /// `--logs DIR`: every build's step logs, one file per build.
    pub logs: Option<PathBuf>,
}

const USAGE: &str =
    "usage: cargo bench --bench pipeline -- [--quick] [--repeats N] [--cold prune|no-cache] \
[--fixture DIR] [--scenarios cold,unchanged,source,lib,version,config,dependency] \
[--variants a-one,a-all,plain,chef,cache,host,a-arm64,emulated] [--no-generation] [--logs DIR]";

/// The flags as given, before defaults.
#[derive(Default)]
struct Given {
    quick: bool,
    repeats: Option<usize>,
    fixture: Option<PathBuf>,
    cold: Option<Cold>,
    scenarios: Option<Vec<Scenario>>,
    variants: Option<Vec<Variant>>,
    no_generation: bool,
    logs: Option<PathBuf>,
}

/// Parses the process's arguments; `Err` is the message to print (the usage among it).
pub fn parse() -> Result<Options, String> {
    let given = given(std::env::args().skip(1))?;
    Ok(resolve(given))
}

fn given(mut args: impl Iterator<Item = String>) -> Result<Given, String> {
    let mut given = Given::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every benchmark binary.
            "--bench" => {}
            "--quick" => given.quick = true,
            "--no-generation" => given.no_generation = true,
            "--logs" => given.logs = Some(PathBuf::from(value("--logs")?)),
            "--repeats" => {
                let n: usize = value("--repeats")?
                    .parse()
                    .map_err(|_| "--repeats takes a number")?;
                given.repeats = Some(n.max(1));
            }
            "--fixture" => given.fixture = Some(PathBuf::from(value("--fixture")?)),
            "--cold" => {
                given.cold = Some(match value("--cold")?.as_str() {
                    "prune" => Cold::Prune,
                    "no-cache" => Cold::NoCache,
                    other => return Err(format!("--cold takes prune or no-cache, not `{other}`")),
                })
            }
            "--scenarios" => {
                given.scenarios = Some(pick(&value("--scenarios")?, &Scenario::ALL, |s| s.key())?)
            }
            "--variants" => {
                given.variants = Some(pick(&value("--variants")?, &Variant::ALL, |v| v.key())?)
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unexpected argument `{other}`\n{USAGE}")),
        }
    }
    Ok(given)
}

/// The defaults, in one place: `--quick` picks the small fixture and a cold start that empties no cache.
fn resolve(given: Given) -> Options {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture_name = if given.quick {
        "workspace"
    } else {
        "bench-services"
    };
    let mut scenarios = given.scenarios.unwrap_or_else(|| Scenario::ALL.to_vec());
    scenarios.sort();
    scenarios.dedup();
    // The emulated anchor downloads an aarch64 toolchain and takes minutes: the quick run leaves it out.
    let mut variants = given.variants.unwrap_or_else(|| {
        Variant::ALL
            .into_iter()
            .filter(|v| !given.quick || *v != Variant::Emulated)
            .collect()
    });
    variants.sort();
    variants.dedup();
    Options {
        quick: given.quick,
        repeats: given.repeats.unwrap_or(1),
        fixture: given
            .fixture
            .unwrap_or_else(|| manifest_dir.join("fixtures/workspaces").join(fixture_name)),
        // CI runs --quick on an engine others may share: it must not empty their cache.
        cold: given.cold.unwrap_or(if given.quick {
            Cold::NoCache
        } else {
            Cold::Prune
        }),
        scenarios,
        variants,
        generation: !given.no_generation,
        logs: given.logs,
    }
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
