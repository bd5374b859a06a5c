//! What the benchmark prints: the header, the wall-time table with its ratios, the PASS/MISS target lines, the
//! image sizes, the steps that ran, notes and the generation figure, in that order (BENCHMARKS.md, "What it
//! prints"). Pure: takes the measurements and gives text; the thresholds of the targets live here.

use std::fmt::Write as _;

use cargo_dockerize::text::human_size;
use cargo_dockerize::ui::progress::short_name;

use crate::options::{Cold, Scenario, Variant};
use crate::records::{seconds, Results, SizeRow};
use crate::runner::{Bench, Measured};

/// The targets of the "Performance" issue, as ratios of wall times in one run.
const COLD_VS_PLAIN: f64 = 1.0;
/// A source edit, a shared library edit: (a) one against (d) cache mounts.
const EDIT_VS_CACHE: f64 = 1.0;
/// A source edit: (a) one against `cargo build --release` on the host, the physical limit.
const EDIT_VS_HOST: f64 = 1.2;
const ALL_VS_ONE: f64 = 1.15;
/// The arm64 image cross-compiled, against (a) one for amd64: cold, and after a source edit.
const ARM64_COLD_VS_AMD64: f64 = 1.3;
const ARM64_EDIT_VS_AMD64: f64 = 1.2;
const UNCHANGED_SECONDS: f64 = 2.0;
/// Bytes a `scratch` image may hold beyond its stripped binary (the CA bundle is about 220 kB of it).
const IMAGE_OVERHEAD: u64 = 300_000;

/// The whole report; `generation` is the generation benchmark's table when it ran.
pub fn render(bench: &Bench, measured: &Measured, generation: Option<&str>) -> String {
    let mut out = String::new();
    header(&mut out, bench);
    wall_times(
        &mut out,
        &bench.options.variants,
        &bench.options.scenarios,
        &measured.results,
    );
    out.push_str("\ntargets\n");
    let mut targets = Targets {
        out: &mut out,
        results: &measured.results,
    };
    targets.times();
    targets.platforms();
    targets.no_dependency_rebuilt();
    targets.all_images(&bench.options.scenarios, bench.fixture.bins.len());
    targets.image_size(&measured.sizes);
    sizes(&mut out, &measured.sizes);
    steps(&mut out, &measured.results);
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

/// What was built, how, and on which engine.
fn header(out: &mut String, bench: &Bench) {
    let options = &bench.options;
    let fixture = &bench.fixture;
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
    if cfg!(debug_assertions) {
        out.push_str(
            "built with the test profile (`cargo test --bench pipeline`): the tool and the generation figure are \
             unoptimised, so these timings are a smoke test, not figures for BENCHMARKS.md\n",
        );
    }
    if let Some(engine) = &bench.engine {
        let _ = writeln!(
            out,
            "engine: {} at {} (BuildKit)",
            engine.description, engine.endpoint
        );
    }
}

/// One row per scenario: every variant's median, then each variant's ratio to (a) one.
fn wall_times(out: &mut String, variants: &[Variant], scenarios: &[Scenario], results: &Results) {
    let _ = write!(out, "\n{:<18}", "wall time (s)");
    for v in variants {
        let _ = write!(out, "{:>11}", v.label());
    }
    let ratios: Vec<(Variant, &str)> = [
        (Variant::AAll, "all/one"),
        (Variant::Plain, "b/a"),
        (Variant::Chef, "c/a"),
        (Variant::CacheMounts, "d/a"),
        (Variant::Host, "host/a"),
        (Variant::Arm64, "arm64/a"),
        (Variant::Emulated, "emu/a"),
    ]
    .into_iter()
    .filter(|(v, _)| variants.contains(v) && variants.contains(&Variant::AOne))
    .collect();
    for (_, label) in &ratios {
        let _ = write!(out, "{label:>9}");
    }
    out.push('\n');
    for scenario in scenarios {
        let _ = write!(out, "{:<18}", scenario.label());
        for v in variants {
            let cell = match seconds(results, *v, *scenario) {
                Some(s) => format!("{s:.1}"),
                None if results.contains_key(&(*v, *scenario)) => "FAILED".into(),
                None => "-".into(),
            };
            let _ = write!(out, "{cell:>11}");
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
}

/// The PASS/MISS lines; a target without its measurements is `n/a`.
struct Targets<'a> {
    out: &'a mut String,
    results: &'a Results,
}

impl Targets<'_> {
    fn verdict(&mut self, ok: Option<bool>, what: &str, detail: String) {
        let word = match ok {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a ",
        };
        let _ = writeln!(self.out, "  {word}  {what:<52} {detail}");
    }

    fn seconds(&self, variant: Variant, scenario: Scenario) -> Option<f64> {
        seconds(self.results, variant, scenario)
    }

    /// Cold against (b); a source edit against (d) and the host; a shared library edit against (d).
    fn times(&mut self) {
        self.against(Scenario::Cold, Variant::Plain, COLD_VS_PLAIN);
        self.against(Scenario::SourceEdit, Variant::CacheMounts, EDIT_VS_CACHE);
        self.against(Scenario::SourceEdit, Variant::Host, EDIT_VS_HOST);
        self.against(Scenario::LibEdit, Variant::CacheMounts, EDIT_VS_CACHE);
    }

    /// (a) one against `other` in `scenario`: at most `limit` times its wall time.
    fn against(&mut self, scenario: Scenario, other: Variant, limit: f64) {
        let what = format!(
            "{}: (a) <= {limit:.2} x {}",
            scenario.label(),
            other.label()
        );
        self.ratio(&what, (Variant::AOne, scenario), (other, scenario), limit);
    }

    /// The wall time of `x` at most `limit` times that of `y`, the ratio printed.
    fn ratio(&mut self, what: &str, x: (Variant, Scenario), y: (Variant, Scenario), limit: f64) {
        match (self.seconds(x.0, x.1), self.seconds(y.0, y.1)) {
            (Some(a), Some(b)) if b > 0.0 => self.verdict(
                Some(a <= limit * b),
                what,
                format!("{a:.1} s vs {b:.1} s ({:.2}x)", a / b),
            ),
            _ => self.verdict(None, what, "not measured".into()),
        }
    }

    /// The arm64 image cross-compiled against the amd64 one, and against the same binary built emulated.
    fn platforms(&mut self) {
        for (scenario, limit) in [
            (Scenario::Cold, ARM64_COLD_VS_AMD64),
            (Scenario::SourceEdit, ARM64_EDIT_VS_AMD64),
        ] {
            let what = format!(
                "{}: (a) arm64 <= {limit:.2} x (a) one (amd64)",
                scenario.label()
            );
            self.ratio(
                &what,
                (Variant::Arm64, scenario),
                (Variant::AOne, scenario),
                limit,
            );
            let what = format!("{}: (a) arm64 <= 1.00 x emulated arm64", scenario.label());
            self.ratio(
                &what,
                (Variant::Arm64, scenario),
                (Variant::Emulated, scenario),
                1.0,
            );
        }
    }

    /// Version bump and config edit: the dependency step is `step-cached` in every build of (a).
    fn no_dependency_rebuilt(&mut self) {
        for scenario in [Scenario::VersionBump, Scenario::ConfigEdit] {
            let what = format!("{}: (a) rebuilds no dependency", scenario.label());
            let mut ran = Vec::new();
            let mut seen = false;
            for v in [Variant::AOne, Variant::AAll] {
                for run in self.results.get(&(v, scenario)).into_iter().flatten() {
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
                self.verdict(None, &what, "not measured".into());
            } else if ran.is_empty() {
                let detail = "dependency step `step-cached` in every build";
                self.verdict(Some(true), &what, detail.into());
            } else {
                let detail = format!("dependency step ran: {}", ran.join(", "));
                self.verdict(Some(false), &what, detail);
            }
        }
    }

    /// Every image against one image, per scenario; nothing changed against an absolute time.
    fn all_images(&mut self, scenarios: &[Scenario], bins: usize) {
        for scenario in scenarios {
            if *scenario == Scenario::Unchanged {
                continue;
            }
            let what = format!(
                "{}: all {bins} images <= {ALL_VS_ONE:.2} x one image",
                scenario.label()
            );
            let (all, one) = ((Variant::AAll, *scenario), (Variant::AOne, *scenario));
            self.ratio(&what, all, one, ALL_VS_ONE);
        }
        let what = format!("nothing changed: all {bins} images in <= 2 s");
        match self.seconds(Variant::AAll, Scenario::Unchanged) {
            Some(t) => self.verdict(Some(t <= UNCHANGED_SECONDS), &what, format!("{t:.2} s")),
            None => self.verdict(None, &what, "not measured".into()),
        }
    }

    /// Our images (every binary's when (a) all ran) against their stripped binaries.
    fn image_size(&mut self, sizes: &[SizeRow]) {
        let of =
            |variant| -> Vec<&SizeRow> { sizes.iter().filter(|r| r.variant == variant).collect() };
        let ours = match of(Variant::AAll) {
            all if all.is_empty() => of(Variant::AOne),
            all => all,
        };
        let what = "scratch image <= stripped binary + 300 kB";
        let Some(worst) = ours
            .iter()
            .max_by_key(|r| r.image.saturating_sub(r.stripped))
        else {
            self.verdict(None, what, "not measured".into());
            return;
        };
        self.verdict(
            Some(ours.iter().all(|r| r.image <= r.stripped + IMAGE_OVERHEAD)),
            what,
            format!(
                "worst `{}`: {} image, {} stripped (+{} of +{})",
                worst.bin,
                human_size(worst.image),
                human_size(worst.stripped),
                human_size(worst.image.saturating_sub(worst.stripped)),
                human_size(IMAGE_OVERHEAD)
            ),
        );
    }
}

/// The engine's image size, the binary in it, and the same stripped.
fn sizes(out: &mut String, sizes: &[SizeRow]) {
    if sizes.is_empty() {
        return;
    }
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
            human_size(row.image),
            human_size(row.binary),
            human_size(row.stripped),
            human_size(row.image.saturating_sub(row.stripped))
        );
    }
}

/// Up to how many compiled crates a build's line names.
const COMPILED_NAMED: usize = 8;

/// Where the time went: the steps that ran, from the engine's events, and the crates Cargo compiled, from its
/// log (last repetition), for (a) and the host in every scenario and for (b)–(d) cold and after an edit.
fn steps(out: &mut String, results: &Results) {
    out.push_str(
        "\nsteps that ran (seconds, from the build events) and crates compiled (from Cargo's log); last repetition\n",
    );
    for ((variant, scenario), runs) in results {
        let detailed = !variant.is_handwritten()
            || matches!(
                scenario,
                Scenario::Cold | Scenario::SourceEdit | Scenario::LibEdit
            );
        let Some(run) = runs.last() else { continue };
        if !detailed {
            continue;
        }
        let _ = write!(
            out,
            "  {} / {}: wall {:.1} s",
            variant.label(),
            scenario.label(),
            run.seconds
        );
        if !matches!(variant, Variant::Host | Variant::Emulated) {
            let _ = write!(out, ", {} step(s) cached", run.cached());
        }
        let compiled = run.compiled();
        let _ = match compiled.len() {
            0 => writeln!(out, ", no crate compiled"),
            n if n <= COMPILED_NAMED => writeln!(out, ", compiled: {}", compiled.join(" ")),
            n => writeln!(out, ", compiled {n} crates"),
        };
        for (name, secs) in run.ran().iter().filter(|(_, s)| *s >= 0.05) {
            let _ = writeln!(out, "    {secs:>7.2}  {}", short_name(name, 100));
        }
    }
}
