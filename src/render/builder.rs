//! A builder stage: the dependencies cooked from the recipe in their own layer, then the final compile of the
//! workspace's sources, which leaves each binary in `/out/<stage>` (stripped or not, as the plan says) and its
//! unstripped build in `/out/debug/<stage>` for the debug variant.
//!
//! For BuildKit the final compile keeps Cargo's state in a cache mount between builds, so an edit recompiles only
//! the crates it touched. The cooked layer stays the portable cache (CI runners, other machines, `--no-cache`,
//! the classic builder); the cache mount is seeded from it whenever the recipe changes. Freshness is decided by
//! content, never by the file times the context brings: each file is dated when its digest was first seen, later
//! than any artifact already in the cache, and keeps that date while its content stays the same; Cargo then judges
//! freshness by comparing those dates with its artifacts, as it does on a machine whose files change only when
//! edited. A build that fails, compiles only some crates or is cancelled leaves dates that stay right.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::dockerfile::{feature_flags, workspace_in_image};
use super::quote::{label_value, perl_script};
use super::secrets;
use crate::model::{stage, Backend, BuildSecret, APP_DIR, IMAGES_ARG, OUT_DIR};
use crate::plan::{BuildContext, BuilderStage, CrossSetup, Image, Invocation, Strip};
use crate::text::shell_word;

/// What every builder stage reads of the plan besides its own stage.
pub(super) struct Shared<'a> {
    pub context: &'a BuildContext,
    /// `build-env`: the builder's environment, set before the cook.
    pub build_env: &'a BTreeMap<String, String>,
    /// `build-secrets`: mounted in the cook and the final compile only.
    pub build_secrets: &'a [BuildSecret],
    /// `--locked` (the workspace has a `Cargo.lock`).
    pub locked: bool,
    /// Toolchain files the builder removes.
    pub toolchain_files: &'a [String],
    /// Every image of the Dockerfile (`DOCKERIZE_IMAGES` names them; each says whether it is stripped).
    pub images: &'a [Image],
}

/// Where the compile cache is mounted in the final compile.
const CACHE_DIR: &str = "/cache";
/// The recipe's digest, written by the cook and kept in the cache: a mismatch re-seeds the cache.
const RECIPE_MARK: &str = ".dockerize-recipe";
/// Touched after every compile into the cache (and set to its newest artifact when seeded): files dated later
/// than this are newer than anything Cargo built there.
const BUILT: &str = ".dockerize-built";

/// The directories a builder works in, which depend on whether the context is wider than the workspace.
struct Paths {
    /// Where the sources are: `.` (the workspace) or `/app` (the whole context).
    top: String,
    /// The cooked target directory, which no source scan enters.
    target: String,
}

impl Paths {
    fn of(shared: &Shared<'_>) -> Self {
        if shared.context.is_widened() {
            Self {
                top: APP_DIR.into(),
                target: format!("{APP_DIR}/target"),
            }
        } else {
            Self {
                top: ".".into(),
                target: "./target".into(),
            }
        }
    }

    /// `find` over every source file, never entering the target directory: the caller adds the action.
    fn sources(&self) -> String {
        format!("find {} -path {} -prune -o -type f", self.top, self.target)
    }
}

pub(super) fn builder_stage(
    out: &mut String,
    shared: &Shared<'_>,
    builder: &BuilderStage,
    backend: Backend,
) {
    let BuilderStage {
        stage,
        alias: _,
        platform,
        triple,
        crt_static,
        static_env,
        invocations: _,
        cache_id,
        compiler_env,
        compiler_note,
        cross,
    } = builder;
    let linking = if *crt_static {
        " with glibc linked statically"
    } else {
        ""
    };
    match cross {
        None => {
            let _ = writeln!(out, "# Compiles for {triple}{linking}.");
            let _ = writeln!(out, "FROM {} AS {stage}", stage::CHEF);
        }
        Some(setup) => {
            let _ = writeln!(
                out,
                "# Cross-compiles for {triple} ({platform}){linking} on the build platform."
            );
            let _ = writeln!(out, "FROM {} AS {stage}", stage::CHEF);
            cross_setup(out, setup);
        }
    }
    if let Some((var, flags)) = static_env {
        let _ = writeln!(out, "ENV {var}={}", label_value(flags));
    }
    if !compiler_env.is_empty() {
        let _ = writeln!(out, "# {compiler_note}.");
        let vars: Vec<String> = compiler_env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_word(v)))
            .collect();
        let _ = writeln!(out, "ENV {}", vars.join(" "));
    }
    if !shared.build_env.is_empty() {
        // Before the cook: dependencies' build scripts and proc macros read it too, so it is part of the
        // dependency layer's key. Runtime stages start from their own base and never see it.
        out.push_str(
            "# The builder's environment (`build-env` in [workspace.metadata.dockerize]).\n",
        );
        let rendered: Vec<String> = shared
            .build_env
            .iter()
            .map(|(k, v)| format!("{k}={}", label_value(v)))
            .collect();
        let _ = writeln!(out, "ENV {}", rendered.join(" \\\n    "));
    }
    let widened = shared.context.is_widened();
    if widened {
        let _ = writeln!(out, "WORKDIR {}", workspace_in_image(shared.context));
        let _ = writeln!(out, "COPY --from={} /recipe/ {APP_DIR}/", stage::PLANNER);
    } else {
        let _ = writeln!(out, "COPY --from={} /recipe/ ./", stage::PLANNER);
    }
    cook(out, shared, builder, backend);
    if widened {
        let _ = writeln!(out, "COPY . {APP_DIR}/");
    } else {
        out.push_str("COPY . .\n");
    }
    match backend {
        Backend::BuildKit => compile_cached(out, shared, builder, cache_id),
        Backend::Classic => compile_in_layer(out, shared, builder),
    }
    out.push('\n');
}

/// A cross builder's own part: its Rust target, and its target's packages and cross compilers. The compilers are
/// installed only where the build platform is another architecture; on the target's own, Debian's native gcc and
/// binutils answer to the same `<triplet>-gcc` names (the `rust` image has them), and its native `g++` is
/// installed where C++ needs it.
fn cross_setup(out: &mut String, setup: &CrossSetup) {
    let CrossSetup {
        rustup_target,
        debian_arch,
        target_packages,
        cross_packages,
        native_packages,
        strip: _,
        reasons,
    } = setup;
    let _ = writeln!(out, "RUN rustup target add {rustup_target}");
    if target_packages.is_empty() && cross_packages.is_empty() {
        return;
    }
    for reason in reasons {
        let _ = writeln!(out, "# {reason}");
    }
    let install = "apt-get install -y --no-install-recommends";
    let mut steps = Vec::new();
    if !target_packages.is_empty() {
        steps.push(format!("dpkg --add-architecture {debian_arch}"));
    }
    steps.push("apt-get update".to_string());
    if !target_packages.is_empty() {
        steps.push(format!("{install} {}", target_packages.join(" ")));
    }
    match (cross_packages.is_empty(), native_packages.is_empty()) {
        (false, true) => steps.push(format!(
            "if [ \"$(dpkg --print-architecture)\" != {debian_arch} ]; then {install} {}; fi",
            cross_packages.join(" ")
        )),
        (false, false) => steps.push(format!(
            "if [ \"$(dpkg --print-architecture)\" != {debian_arch} ]; then {install} {}; else {install} {}; fi",
            cross_packages.join(" "),
            native_packages.join(" ")
        )),
        (true, _) => {}
    }
    steps.push("rm -rf /var/lib/apt/lists/* /var/cache/apt/*".to_string());
    let _ = writeln!(out, "RUN {}", steps.join(" \\\n    && "));
}

/// The dependencies, built from the recipe: the same `cargo build` as the final compile, so nothing recompiles.
fn cook(out: &mut String, shared: &Shared<'_>, builder: &BuilderStage, backend: Backend) {
    out.push_str("# Dependencies only: cached until Cargo.lock, a manifest's dependencies or the flags change.\n");
    let mut steps: Vec<String> = secrets::export(shared.build_secrets).into_iter().collect();
    steps.extend(
        builder
            .invocations
            .iter()
            .map(|i| cargo_build(shared, builder, i, true)),
    );
    if backend == Backend::BuildKit {
        out.push_str("# The recipe's digest marks this layer: the compile cache below starts again from it when it changes.\n");
        let paths = Paths::of(shared);
        let sums = format!(
            "{} -print0 | LC_ALL=C sort -z | xargs -0 sha256sum",
            paths.sources()
        );
        // The builder's environment is part of the mark: dependencies cooked with other values must not be
        // mixed with the cache's, whose build scripts may not say which variables they read.
        let marked = if shared.build_env.is_empty() {
            sums
        } else {
            let names: Vec<&str> = shared.build_env.keys().map(String::as_str).collect();
            format!("{{ {sums} && printenv {}; }}", names.join(" "))
        };
        steps.push(format!(
            "{marked} | sha256sum > {}/{RECIPE_MARK}",
            paths.target
        ));
    }
    steps.extend(secrets::scrub(
        shared.build_secrets,
        &Paths::of(shared).target,
    ));
    let _ = writeln!(
        out,
        "RUN {}{}",
        secrets::mounts(shared.build_secrets),
        steps.join(" \\\n    && ")
    );
}

/// The final compile in the image's layer: every workspace crate rebuilds (its sources are newer than the empty
/// ones the dependencies were cooked with). For the classic builder, which has no cache mounts.
fn compile_in_layer(out: &mut String, shared: &Shared<'_>, builder: &BuilderStage) {
    out.push_str(
        "# Sources are newer than the empty ones the dependencies were built with, so the workspace crates rebuild.\n",
    );
    images_arg(out, builder);
    let mut steps = remove_toolchain_files(shared);
    steps.extend(check_selection(shared, builder));
    steps.push(format!(
        "{} -exec touch {{}} +",
        Paths::of(shared).sources()
    ));
    steps.push(out_dirs(shared));
    steps.extend(compile_and_collect(
        shared,
        builder,
        &format!("{APP_DIR}/target"),
    ));
    let _ = writeln!(out, "RUN {}", steps.join(" \\\n    && "));
}

/// Dates each source file by its content: the time it was first seen with its digest, kept in the cache, or, for
/// a digest not seen before, now (taken before the compile, later than the end of any earlier compile into the
/// cache). Cargo then judges freshness as it does on a developer's machine whose files change only when edited.
/// Reads NUL-separated `sha256sum -z` lines; sets times with `touch` (perl-base's `utime` has whole seconds only).
const DATE_BY_CONTENT: &[&str] = &[
    r#"use strict; my ($cache, $sums, $now, $built) = @ARGV; local $/ = "\0"; my (%seen, %dated);"#,
    r#"$now = sprintf("%.9f", $built + 1) if $built >= $now;"#,
    r#"if (open(my $f, "<", "$cache/.dockerize-times")) { while (<$f>) { chomp; my ($d, $t, $p) = split(/ /, $_, 3); $seen{$p} = [$d, $t]; } }"#,
    r#"open(my $s, "<", $sums) or die "$sums: $!"; open(my $o, ">", "$cache/.dockerize-times.new") or die "$cache: $!";"#,
    r#"while (<$s>) { chomp; my ($d, $p) = /^([0-9a-f]+)  (.*)$/s or next; my $old = $seen{$p};"#,
    r#"  my $t = ($old && $old->[0] eq $d) ? $old->[1] : $now; push(@{$dated{$t}}, $p); print $o "$d $t $p\0"; }"#,
    r#"for my $t (keys %dated) { while (my @chunk = splice(@{$dated{$t}}, 0, 500)) { system("touch", "-c", "-d", "\@$t", "--", @chunk) == 0 or die "touch failed"; } }"#,
    r#"close($o) or die "$cache: $!"; rename("$cache/.dockerize-times.new", "$cache/.dockerize-times") or die "$cache: $!";"#,
];

/// The final compile with Cargo's state in a cache mount (see the module documentation for why it is safe).
fn compile_cached(out: &mut String, shared: &Shared<'_>, builder: &BuilderStage, cache_id: &str) {
    out.push_str(
        "# The final compile keeps Cargo's state in a cache mount, seeded from the layer above, so only the crates\n\
         # whose sources changed recompile. Files are dated by content: the time their digest was first seen, so\n\
         # no file time from the context can leave a stale binary.\n",
    );
    let paths = Paths::of(shared);
    let sources = paths.sources();
    let target = &paths.target;
    images_arg(out, builder);
    let mut steps: Vec<String> = secrets::export(shared.build_secrets).into_iter().collect();
    steps.extend(remove_toolchain_files(shared));
    steps.extend(check_selection(shared, builder));
    steps.push(format!(
        "if ! cmp -s {target}/{RECIPE_MARK} {CACHE_DIR}/{RECIPE_MARK}; then find {CACHE_DIR} -mindepth 1 -delete \
         && cp -a {target}/. {CACHE_DIR}/ \
         && touch -d \"@$(find {CACHE_DIR} -type f -printf '%T@\\n' | sort -n | tail -n 1)\" {CACHE_DIR}/{BUILT}; fi"
    ));
    steps.push(format!(
        "{sources} -print0 | xargs -0 -r sha256sum -z > /tmp/sums"
    ));
    let script = perl_script(
        DATE_BY_CONTENT.iter().copied(),
        &format!(
            "{CACHE_DIR} /tmp/sums \"$(date +%s.%N)\" \"$(stat -c %.9Y {CACHE_DIR}/{BUILT} 2>/dev/null || echo 0)\""
        ),
    );
    steps.push(script);
    steps.push(out_dirs(shared));
    steps.extend(compile_and_collect(shared, builder, CACHE_DIR));
    let _ = writeln!(
        out,
        "RUN --mount=type=cache,id={cache_id},target={CACHE_DIR},sharing=locked {}\\\n    {}",
        secrets::mounts(shared.build_secrets),
        steps.join(" \\\n    && ")
    );
}

/// The image already carries the pinned toolchain; the file would make rustup look for it by another name.
fn remove_toolchain_files(shared: &Shared<'_>) -> Vec<String> {
    if shared.toolchain_files.is_empty() {
        Vec::new()
    } else {
        vec![format!("rm -f {}", shared.toolchain_files.join(" "))]
    }
}

/// `/out` and `/out/debug`, and an empty directory runtime stages copy as their working directory: scratch has no
/// `mkdir`, and `WORKDIR` alone would create it owned by root, where a non-root binary cannot write.
fn out_dirs(shared: &Shared<'_>) -> String {
    if shared.images.iter().any(|i| i.workdir.is_some()) {
        format!("mkdir -p {OUT_DIR}/debug {OUT_DIR}/.empty")
    } else {
        format!("mkdir -p {OUT_DIR}/debug")
    }
}

/// `ARG DOCKERIZE_IMAGES` before the final compile (after the cook, whose layer must not depend on it), for a
/// builder of several binaries.
fn images_arg(out: &mut String, builder: &BuilderStage) {
    if builder.selects() {
        let _ = writeln!(
            out,
            "# Compiles the binaries of the images {IMAGES_ARG} names (stage names, space-separated), or of every image\n\
             # when it is empty: `cargo dockerize build --bin <name>` sets it. The dependencies are the same either way."
        );
        let _ = writeln!(out, "ARG {IMAGES_ARG}");
    }
}

/// For a builder that selects: `$images`, the wanted images between spaces, after checking that each names an
/// image of this Dockerfile (a typo would otherwise compile nothing and fail later, at a `COPY`).
fn check_selection(shared: &Shared<'_>, builder: &BuilderStage) -> Vec<String> {
    if !builder.selects() {
        return Vec::new();
    }
    let all: Vec<&str> = shared.images.iter().map(|i| i.stage.as_str()).collect();
    let all = all.join(" ");
    vec![
        format!("images=\" ${{{IMAGES_ARG}:-{all}}} \""),
        format!(
            "for image in $images; do case \" {all} \" in *\" $image \"*) ;; \
             *) echo \"{IMAGES_ARG}: no image $image in this Dockerfile; its images: {all}\" >&2; exit 1;; esac; done"
        ),
    ]
}

/// `case` over `$images`: runs `then` when the image of `stage` is wanted.
fn when_wanted(stage: &str, then: &str) -> String {
    format!("case \"$images\" in *\" {stage} \"*) {then};; esac")
}

/// Each `cargo build` into `target_dir`, then each binary copied out: unstripped to `/out/debug/<stage>`, and to
/// `/out/<stage>` stripped or as built. A builder that selects passes only the wanted `--bin`s (as `"$@"`) and
/// copies only their binaries, so an image left out can never get a binary the cache kept from an earlier build.
fn compile_and_collect(
    shared: &Shared<'_>,
    builder: &BuilderStage,
    target_dir: &str,
) -> Vec<String> {
    let mut steps = Vec::new();
    let selects = builder.selects();
    for invocation in &builder.invocations {
        let mut build = cargo_build(shared, builder, invocation, !selects);
        if selects {
            steps.push("set --".to_string());
            for (bin, stage_name) in &invocation.bins {
                let flag = format!("set -- \"$@\" --bin {}", shell_word(bin));
                steps.push(when_wanted(stage_name, &flag));
            }
            build.push_str(" \"$@\"");
        }
        // Into the cache, the end of every compile is marked, failed or not: a later edit must date after it.
        let build = if target_dir == CACHE_DIR {
            format!(
                "{{ CARGO_TARGET_DIR={CACHE_DIR} {build}; status=$?; touch {CACHE_DIR}/{BUILT}; [ $status -eq 0 ]; }}"
            )
        } else {
            build
        };
        steps.push(if selects {
            format!("if [ $# -gt 0 ]; then {build}; fi")
        } else {
            build
        });
        for (bin, stage_name) in &invocation.bins {
            let built = format!(
                "{target_dir}/{}/{}/{}",
                builder.triple,
                invocation.profile.dir,
                shell_word(bin)
            );
            let debug = format!("{OUT_DIR}/debug/{stage_name}");
            let stripped = shared
                .images
                .iter()
                .any(|i| &i.stage == stage_name && i.strip == Strip::Symbols);
            let strip = builder.cross.as_ref().map_or("strip", |c| c.strip.as_str());
            let copy = format!("cp {built} {debug}");
            let out = if stripped {
                format!("{strip} --strip-all -o {OUT_DIR}/{stage_name} {debug}")
            } else {
                format!("cp {debug} {OUT_DIR}/{stage_name}")
            };
            if selects {
                steps.push(when_wanted(stage_name, &format!("{copy} && {out}")));
            } else {
                steps.push(copy);
                steps.push(out);
            }
        }
    }
    steps
}

/// One `cargo build` of an invocation: the same words cook the dependencies and compile the binaries, but for the
/// `--bin`s of a compile that selects them (`with_bins` false). Features resolve from the `-p` packages, never
/// from the `--bin`s, so any selection finds every dependency of the cooked layer fresh.
fn cargo_build(
    shared: &Shared<'_>,
    builder: &BuilderStage,
    invocation: &Invocation,
    with_bins: bool,
) -> String {
    let Invocation {
        profile,
        packages,
        bins,
        features,
        all_features,
        no_default_features,
    } = invocation;
    let mut words = vec!["cargo build".to_string()];
    if shared.locked {
        words.push("--locked".into());
    }
    words.push(format!("--profile {}", profile.name));
    words.push(format!("--target {}", builder.triple));
    for p in packages {
        words.push(format!("-p {p}"));
    }
    if with_bins {
        for (bin, _) in bins {
            words.push(format!("--bin {}", shell_word(bin)));
        }
    }
    words.extend(feature_flags(features, *all_features, *no_default_features));
    words.join(" ")
}
