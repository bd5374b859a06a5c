//! Running the builds and timing them: each variant in its own [`Checkout`] of the fixture, through the scenarios
//! in order. (a) runs the `cargo-dockerize` binary and reads its `--message-format json` lines as the library's
//! [`BuildEvent`]s; (b)–(d) pack the same context with `context::archive` and build through
//! `engine::build_target`; the host variant runs `cargo build` ([`host`]). Everything lands in [`Results`]; the
//! report reads them, this module prints only progress.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use camino::Utf8Path;
use cargo_dockerize::config::Cache;
use cargo_dockerize::engine::ignore::{self, DockerIgnore};
use cargo_dockerize::engine::{self, context, docker_config, Engine};
use cargo_dockerize::events::{BuildEvent, Outcome};
use cargo_dockerize::model::BackendChoice;
use cargo_dockerize::plan::{DockerfilePath, DEFAULT_DOCKERFILE};
use serde::Deserialize;

use crate::docker::{self, CacheMounts, Cleanup};
use crate::dockerfiles;
use crate::edits::Checkout;
use crate::fixture::{self, Fixture};
use crate::host;
use crate::options::{Cold, Options, Scenario, Variant};
use crate::records::{ImageRecord, Results, Run, SizeRow};

/// Everything a run of the benchmark needs.
pub struct Bench {
    pub options: Options,
    pub fixture: Fixture,
    pristine: PathBuf,
    work: tempfile::TempDir,
    /// Unique to this run: in every tag, edit and cache-mount id it makes.
    nonce: String,
    tool: &'static str,
    runtime: tokio::runtime::Runtime,
    /// Connected when (b)–(d) run.
    pub engine: Option<Engine>,
    /// Every tag we created and every cache-mount id we used: removed at the end, whatever happened.
    cleanup: Cleanup,
    /// Builds whose event stream broke after the image was built (see [`Bench::recover_stream_error`]).
    pub recovered: Vec<String>,
    /// When the run began, in UTC, as the engine prints times.
    started_utc: String,
}

/// What the builds gave.
#[derive(Default)]
pub struct Measured {
    pub results: Results,
    pub sizes: Vec<SizeRow>,
    /// One per variant that stopped (a build or the harness failed), with what went wrong.
    pub failures: Vec<String>,
}

impl Bench {
    /// Copies and describes the fixture, connects to the engine when (b)–(d) are to run.
    pub fn new(options: Options) -> Result<Self, String> {
        let tool = env!("CARGO_BIN_EXE_cargo-dockerize");
        let work = tempfile::Builder::new()
            .prefix("dzbench-")
            .tempdir()
            .map_err(|e| format!("failed to create a temporary directory: {e}"))?;
        let pristine = work.path().join("pristine");
        let fixture = fixture::load(&options.fixture, &pristine, tool)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("failed to start a tokio runtime: {e}"))?;
        let engine = if options.variants.iter().any(|v| v.is_handwritten()) {
            // The engine the tool itself builds on (a), chosen as the Docker CLI chooses it.
            let endpoint = docker_config::resolve(
                &docker_config::EngineRequest::default(),
                &docker_config::DockerEnv::from_process(),
            )
            .map_err(|e| engine::error_chain(&e))?;
            let connected = runtime.block_on(engine::connect(&endpoint, BackendChoice::Buildkit));
            Some(connected.map_err(|e| engine::error_chain(&e))?)
        } else {
            None
        };
        Ok(Bench {
            options,
            fixture,
            pristine,
            work,
            nonce: run_id(),
            tool,
            runtime,
            engine,
            cleanup: Cleanup::default(),
            recovered: Vec::new(),
            started_utc: utc_now(),
        })
    }

    /// Every variant through every scenario; a variant stops at its first failure, the others go on.
    pub fn run(&mut self) -> Measured {
        let mut measured = Measured::default();
        for variant in self.options.variants.clone() {
            if let Err(message) = self.run_variant(variant, &mut measured) {
                eprintln!("[{}] {message}", variant.label());
                measured
                    .failures
                    .push(format!("{}: {message}", variant.label()));
            }
        }
        measured
    }

    /// One variant through every scenario, in its own copy of the fixture; then its images' sizes.
    fn run_variant(&mut self, variant: Variant, measured: &mut Measured) -> Result<(), String> {
        let dir = self.work.path().join(variant.key());
        let mut checkout =
            Checkout::new(&self.pristine, dir, &self.nonce, variant, self.options.cold)?;
        // A (d) build counts how many cold builds came before, for fresh cache-mount ids.
        let mut generation = 0;
        let mut last_images = Vec::new();
        for scenario in self.options.scenarios.clone() {
            if scenario == Scenario::LibEdit && self.fixture.lib_source.is_none() {
                continue;
            }
            if !variant.runs(scenario) {
                continue;
            }
            for rep in 0..self.options.repeats {
                let mut no_cache = false;
                // The host variant's cold start is its own: a fresh target directory.
                if scenario == Scenario::Cold
                    && !matches!(variant, Variant::Host | Variant::Emulated)
                {
                    match self.options.cold {
                        Cold::Prune => docker::prune_builder_cache()?,
                        Cold::NoCache => {
                            no_cache = true;
                            generation += 1;
                        }
                    }
                }
                checkout.apply(&self.fixture, scenario, rep)?;
                let build = Build {
                    variant,
                    scenario,
                    rep,
                    no_cache,
                    generation,
                };
                let run = self.build(&build, &checkout.dir);
                checkout.built();
                print_progress(&build, &run);
                let failure = run.failure.clone();
                if failure.is_none() {
                    last_images = run.images.clone();
                }
                measured
                    .results
                    .entry((variant, scenario))
                    .or_default()
                    .push(run);
                if let Some(failure) = failure {
                    return Err(format!(
                        "build failed in scenario `{}`:\n{failure}",
                        scenario.label()
                    ));
                }
            }
        }
        let sizes = self.work.path().join("sizes");
        for image in &last_images {
            measured
                .sizes
                .push(docker::measure_size(variant, image, &sizes)?);
        }
        Ok(())
    }

    fn tag(&self, build: &Build, bin: &str) -> String {
        format!(
            "dzbench-{}-{}-{bin}:{}-{}",
            self.nonce,
            build.variant.key(),
            build.scenario.key(),
            build.rep
        )
    }

    /// One timed build; its tags are remembered for the cleanup, its log written with `--logs`.
    fn build(&mut self, build: &Build, dir: &Path) -> Run {
        let mut run = match build.variant {
            Variant::AOne | Variant::AAll | Variant::Arm64 => self.build_ours(build, dir),
            Variant::Host => host::build(dir, &self.fixture, build.scenario == Scenario::Cold),
            Variant::Emulated => {
                host::build_emulated(dir, &self.fixture, build.scenario == Scenario::Cold)
            }
            Variant::Plain | Variant::Chef | Variant::CacheMounts => self.build_other(build, dir),
        };
        let bins: Vec<&str> = match build.variant {
            Variant::AAll => self.fixture.bins.iter().map(|b| b.name.as_str()).collect(),
            Variant::Host | Variant::Emulated => Vec::new(),
            _ => vec![self.fixture.one().name.as_str()],
        };
        let expected: Vec<(String, String)> = bins
            .iter()
            .map(|b| (b.to_string(), self.tag(build, b)))
            .collect();
        self.recover_stream_error(&mut run, &expected, build);
        if let Some(logs) = &self.options.logs {
            write_log(logs, &self.nonce, build, &run);
        }
        // Every tag this build may have written, built or not: a failed build can leave one behind.
        for tag in run.images.iter().map(|i| &i.tag) {
            self.cleanup.tag(tag);
        }
        for (_, tag) in &expected {
            self.cleanup.tag(tag);
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
        build: &Build,
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
            match docker::image_size(tag) {
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
            build.variant.label(),
            build.scenario.label()
        ));
    }

    /// (a): the `cargo-dockerize` binary, timed as a user sees it (cargo metadata, planning, packing included).
    fn build_ours(&self, build: &Build, dir: &Path) -> Run {
        let mut command = Command::new(self.tool);
        command
            .args(["dockerize", "--libc", "gnu", "--static", "--keep-going"])
            .args(["--message-format", "json", "-t"])
            .arg(self.tag(build, "{bin}"))
            .current_dir(dir);
        if matches!(build.variant, Variant::AOne | Variant::Arm64) {
            command.args(["--bin", &self.fixture.one().name]);
        }
        if build.variant == Variant::Arm64 {
            command.args(["--platform", "linux/arm64"]);
        }
        if build.no_cache {
            command.arg("--no-cache");
        }
        let started = Instant::now();
        let output = command.output();
        let mut run = Run::default();
        run.seconds = started.elapsed().as_secs_f64();
        match output {
            Ok(output) => read_output(&output, &mut run),
            Err(e) => run.fail(&format!("failed to run {}: {e}", self.tool)),
        }
        run
    }

    /// (b)–(d): their Dockerfile and the same context, through `engine::build_target`.
    fn build_other(&mut self, build: &Build, dir: &Path) -> Run {
        let bin = self.fixture.one().name.clone();
        let triple = &self.fixture.triple;
        if build.variant == Variant::CacheMounts && self.cleanup.cache_mounts.is_none() {
            self.cleanup.cache_mounts = Some(CacheMounts {
                since: self.started_utc.clone(),
                command: format!(
                    "from exec /bin/sh -c cargo build --locked --release --target {triple} --bin {bin}"
                ),
            });
        }
        let mount_id = (self.options.cold == Cold::NoCache)
            .then(|| format!("dzbench-{}-{}", self.nonce, build.generation));
        let spec = dockerfiles::Spec {
            rust_version: &self.fixture.rust_version,
            triple,
            bin: &bin,
            mount_id: mount_id.as_deref(),
        };
        let dockerfile = match build.variant {
            Variant::Plain => dockerfiles::plain(&spec),
            Variant::Chef => dockerfiles::chef(&spec),
            Variant::CacheMounts => dockerfiles::cache_mounts(&spec),
            Variant::AOne | Variant::AAll | Variant::Host | Variant::Arm64 | Variant::Emulated => {
                unreachable!("not built by the engine")
            }
        };
        let target = cargo_dockerize::plan::Build {
            name: bin.clone(),
            stage: bin.clone(),
            binary: bin.clone(),
            variant: cargo_dockerize::config::Variant::Release,
            platform: None,
            several: false,
            triple: triple.to_string(),
            base: String::new(),
            tags: vec![self.tag(build, &bin)],
            build_args: Default::default(),
            cache_from: Vec::new(),
            cache: if build.no_cache {
                Cache::Ignore
            } else {
                Cache::Use
            },
            push: None,
            network: None,
        };
        let engine = self.engine.as_ref().expect("connected when (b)-(d) run");
        let started = Instant::now();
        let mut run = Run::default();
        let context = match pack_context(dir, &dockerfile) {
            Ok(context) => context,
            Err(message) => {
                run.fail(&message);
                return run;
            }
        };
        // As `build` does: a BuildKit build names a session of the tool's own, opened for it.
        let session = match engine.backend {
            cargo_dockerize::model::Backend::BuildKit => {
                match self
                    .runtime
                    .block_on(engine::session::open(engine, Default::default()))
                {
                    Ok(session) => Some(session),
                    Err(e) => {
                        run.fail(&format!("failed to open a BuildKit session: {e}"));
                        return run;
                    }
                }
            }
            cargo_dockerize::model::Backend::Classic => None,
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let engine_run = engine::Run {
            context,
            dockerfile: DEFAULT_DOCKERFILE.into(),
            registry_config: Default::default(),
            session: session.as_ref().map(|s| s.id.clone()),
            events: tx,
            started,
        };
        let outcome = self
            .runtime
            .block_on(engine::build_target(engine, &target, &engine_run));
        run.seconds = started.elapsed().as_secs_f64();
        drop(engine_run);
        drop(session);
        while let Ok(event) = rx.try_recv() {
            run.record(&event);
        }
        match outcome {
            Outcome::Built(_) => {}
            Outcome::Failed(_) if run.failure.is_some() => {}
            Outcome::Failed(failed) => run.fail(&failed.message),
            Outcome::Cancelled => run.fail("the build was cancelled"),
        }
        run
    }
}

/// Which build of the run this is.
struct Build {
    variant: Variant,
    scenario: Scenario,
    rep: usize,
    no_cache: bool,
    /// How many `--no-cache` cold builds this variant has made: (d)'s cache mounts are new with each.
    generation: usize,
}

/// The context (b)–(d) build from: the checkout as our `.dockerignore` filters it, their Dockerfile packed in.
fn pack_context(dir: &Path, dockerfile: &str) -> Result<bytes::Bytes, String> {
    let root = Utf8Path::from_path(dir).ok_or("the work directory is not UTF-8")?;
    let place = DockerfilePath::new(
        DEFAULT_DOCKERFILE.into(),
        cargo_dockerize::source::Source::Default,
    );
    let ignore = match ignore::read_dockerignore(root, &place) {
        Ok(Some(file)) => file.parsed,
        Ok(None) => DockerIgnore::default(),
        Err((path, e)) => return Err(format!("failed to read {path}: {e}")),
    };
    let dockerfile = context::Rendered {
        path: DEFAULT_DOCKERFILE.into(),
        text: dockerfile,
    };
    let (bytes, _) = context::archive(root, &["".into()], &ignore, &[dockerfile], &[])
        .map_err(|e| engine::error_chain(&e))?;
    Ok(bytes::Bytes::from(bytes))
}

/// The last line of `--message-format json`, after the events: `{"event":"summary",...}`.
#[derive(Deserialize)]
struct SummaryLine {
    event: String,
}

/// (a)'s stdout, one [`BuildEvent`] a line and the summary last, into `run`; a line that is neither fails the
/// run (the documented form changed under the benchmark). On a non-zero exit, the end of its stderr.
fn read_output(output: &Output, run: &mut Run) {
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        match serde_json::from_str::<BuildEvent>(line) {
            Ok(event) => run.record(&event),
            Err(_)
                if serde_json::from_str::<SummaryLine>(line)
                    .is_ok_and(|s| s.event == "summary") => {}
            Err(e) => run.fail(&format!("not a build event ({e}): {line}")),
        }
    }
    if !output.status.success() {
        let what = format!("cargo-dockerize exited with {}", output.status);
        run.fail(&crate::tail(
            &what,
            &String::from_utf8_lossy(&output.stderr),
        ));
    }
}

fn print_progress(build: &Build, run: &Run) {
    eprintln!(
        "[{:<9}] {:<16} #{}: {:>7.1} s{}",
        build.variant.label(),
        build.scenario.label(),
        build.rep,
        run.seconds,
        if run.failure.is_some() {
            "  FAILED"
        } else {
            ""
        }
    );
}

/// `--logs DIR`: the build's step logs, one file per build; a failure to write is a warning.
fn write_log(logs: &Path, nonce: &str, build: &Build, run: &Run) {
    let path = logs.join(format!(
        "{nonce}-{}-{}-{}.log",
        build.variant.key(),
        build.scenario.key(),
        build.rep
    ));
    let written = std::fs::create_dir_all(logs)
        .and_then(|()| std::fs::write(&path, run.log.join("\n") + "\n"));
    if let Err(e) = written {
        eprintln!("warning: failed to write {}: {e}", path.display());
    }
}

/// Eight hex digits from the clock and the process id.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default() as u64;
    format!(
        "{:08x}",
        (nanos ^ u64::from(std::process::id())) & 0xffff_ffff
    )
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, as `docker system df` prints times; empty when `date` fails.
fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M:%S"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The Cargo command that runs another benchmark with this one's profile: `cargo bench` when this benchmark was
/// built optimised, `cargo test` when it was built with the test profile (CI's quick run, `cargo test --bench
/// pipeline -- --quick`, which reuses the test build instead of compiling everything again in release).
pub fn same_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "test"
    } else {
        "bench"
    }
}

/// benches/generate.rs, run as it is (`cargo bench --bench generate -- MEMBERS REPEATS`, or `cargo test` under
/// the test profile, see [`same_profile`]): its table.
pub fn generation_figure(quick: bool) -> Result<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let (members, repeats) = if quick { ("50", "1") } else { ("500", "3") };
    let how = same_profile();
    eprintln!("generation: cargo {how} --bench generate -- {members} {repeats}");
    crate::stdout_of(
        Command::new(&cargo)
            .args([how, "--quiet", "--bench", "generate", "--"])
            .args([members, repeats])
            .current_dir(env!("CARGO_MANIFEST_DIR")),
        &format!("`{cargo} {how} --bench generate -- {members} {repeats}`"),
    )
}
