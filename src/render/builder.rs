//! A builder stage: the dependencies cooked from the recipe in their own layer, then the final compile of the
//! workspace's sources by `.dockerize/build.sh compile`, which leaves each binary in `/out/<stage>` (stripped or
//! not, as the plan says) and its unstripped build in `/out/debug/<stage>` for the debug variant; unless the plan
//! says `auditable = false`, both carry the binary's crate list (`--dep-v0`, see [`crate::sbom::auditable`]).
//!
//! For BuildKit the final compile keeps Cargo's state in a cache mount between builds, so an edit recompiles only
//! the crates it touched. The cooked layer stays the portable cache (CI runners, other machines, `--no-cache`,
//! the classic builder); the cache mount is seeded from it whenever the recipe changes. Freshness is decided by
//! content, never by the file times the context brings: `build.sh` and `date.pl` say how. The classic builder,
//! which has no cache mounts, compiles in the layer.
//!
//! The Dockerfile keeps what a reviewer needs to see: the target, the environment, the `cargo build` of the
//! dependencies and of the binaries, the images each compile serves and where their binaries go.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::dockerfile::{comment, feature_flags, workspace_in_image};
use super::quote::label_value;
use super::scripts::dir_in_workspace;
use super::secrets;
use crate::config::Auditable;
use crate::model::{stage, Backend, BuildSecret, APP_DIR, IMAGES_ARG, OUT_DIR};
use crate::plan::{
    BuildContext, BuilderStage, CrossSetup, DockerfilePath, Image, Invocation, PrivateRegistry,
    Strip,
};
use crate::text::shell_word;

/// What every builder stage reads of the plan besides its own stage.
pub(super) struct Shared<'a> {
    pub context: &'a BuildContext,
    /// Where the Dockerfile is: the scripts are beside it.
    pub dockerfile: &'a DockerfilePath,
    /// `build-env`: the builder's environment, set before the cook.
    pub build_env: &'a BTreeMap<String, String>,
    /// `build-secrets`: mounted in the cook and the final compile only.
    pub build_secrets: &'a [BuildSecret],
    /// The private registries, whose tokens are among `build_secrets`.
    pub registries: &'a [PrivateRegistry],
    /// Git dependencies over ssh: the cook and the final compile mount the ssh agent and the hosts' keys.
    pub ssh: bool,
    /// Whether each binary gets its crate list (`.dep-v0`) before it is stripped.
    pub auditable: Auditable,
    /// `--locked` (the workspace has a `Cargo.lock`).
    pub locked: bool,
    /// Toolchain files the builder removes.
    pub toolchain_files: &'a [String],
    /// Every image of the Dockerfile (`DOCKERIZE_IMAGES` names them; each says whether it is stripped).
    pub images: &'a [Image],
}

/// Where the compile cache is mounted in the final compile.
const CACHE_DIR: &str = "/cache";

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
        cache_id: _,
        compiler_env,
        compiler_note,
        cross,
    } = builder;
    let linking = if *crt_static {
        " with glibc linked statically"
    } else {
        ""
    };
    let on = match cross {
        None => String::new(),
        Some(_) => format!(" ({platform}) on the build platform"),
    };
    // BuildKit's compile keeps Cargo's state in the cache mount its RUN names; the classic builder's starts afresh.
    let how = match backend {
        Backend::BuildKit => "",
        Backend::Classic => ", in the layer",
    };
    comment(
        out,
        &format!(
            "Compiles for {triple}{linking}{on}: the dependencies from the recipe (cached until they change), then \
             the sources{how}."
        ),
    );
    let _ = writeln!(out, "FROM {} AS {stage}", stage::CHEF);
    if let Some(setup) = cross {
        cross_setup(out, setup);
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
    cook_and_compile(out, shared, builder, backend);
}

/// The dependencies cooked from the recipe in their own layer, then the sources copied in and compiled by
/// `build.sh compile`: into the cache mount (BuildKit) or in the layer (classic).
fn cook_and_compile(
    out: &mut String,
    shared: &Shared<'_>,
    builder: &BuilderStage,
    backend: Backend,
) {
    let BuilderStage {
        invocations,
        cache_id,
        ..
    } = builder;
    let widened = shared.context.is_widened();
    if widened {
        let _ = writeln!(out, "WORKDIR {}", workspace_in_image(shared.context));
        let _ = writeln!(out, "COPY --from={} /recipe/ {APP_DIR}/", stage::PLANNER);
    } else {
        let _ = writeln!(out, "COPY --from={} /recipe/ ./", stage::PLANNER);
    }
    // Secrets are read in the cook and the final compile only, and scrubbed from the cooked layer (see
    // `secrets`): the final compile's target directory is a cache mount, in no layer.
    let mut cook: Vec<String> = secrets::export(shared.build_secrets, shared.registries)
        .into_iter()
        .collect();
    cook.extend(
        invocations
            .iter()
            .map(|i| cargo_build(shared, builder, i, true)),
    );
    let target = if widened {
        format!("{APP_DIR}/target")
    } else {
        "./target".to_string()
    };
    cook.extend(secrets::scrub(shared.build_secrets, &target));
    let _ = writeln!(
        out,
        "RUN {}{}",
        secrets::mounts(shared.build_secrets, shared.ssh),
        cook.join(" \\\n    && ")
    );
    if widened {
        let _ = writeln!(out, "COPY . {APP_DIR}/");
    } else {
        out.push_str("COPY . .\n");
    }
    if builder.selects() {
        let _ = writeln!(out, "ARG {IMAGES_ARG}");
    }
    let mut steps: Vec<String> = match backend {
        Backend::BuildKit => secrets::export(shared.build_secrets, shared.registries)
            .into_iter()
            .collect(),
        Backend::Classic => Vec::new(),
    };
    steps.extend(remove_toolchain_files(shared));
    steps.extend(
        invocations
            .iter()
            .map(|i| compile(shared, builder, i, backend)),
    );
    let steps = steps.join(" \\\n    && ");
    match backend {
        Backend::BuildKit => {
            let _ = writeln!(
                out,
                "RUN --mount=type=cache,id={cache_id},target={CACHE_DIR},sharing=locked {}\\\n    {steps}\n",
                secrets::mounts(shared.build_secrets, shared.ssh)
            );
        }
        Backend::Classic => {
            let _ = writeln!(out, "RUN {steps}\n");
        }
    }
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
        objcopy: _,
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

/// The image already carries the pinned toolchain; the file would make rustup look for it by another name.
fn remove_toolchain_files(shared: &Shared<'_>) -> Vec<String> {
    if shared.toolchain_files.is_empty() {
        Vec::new()
    } else {
        vec![format!("rm -f {}", shared.toolchain_files.join(" "))]
    }
}

/// `build.sh compile` of one invocation: into the cache mount (BuildKit) or the layer (classic), the images it
/// serves (`<stage>` or `<stage>=<binary>`), where Cargo leaves their binaries and how they are stripped, then the
/// `cargo build` without `--bin`s (the script adds those of the images wanted).
fn compile(
    shared: &Shared<'_>,
    builder: &BuilderStage,
    invocation: &Invocation,
    backend: Backend,
) -> String {
    let script = dir_in_workspace(shared.dockerfile).join("build.sh");
    let mut words = vec![format!("sh {} compile", shell_word(script.as_str()))];
    if backend == Backend::BuildKit {
        words.push(format!("--cache {CACHE_DIR}"));
        if !shared.build_env.is_empty() {
            // Dependencies cooked with other values must not mix with the cache's.
            let names: Vec<&str> = shared.build_env.keys().map(String::as_str).collect();
            words.push(format!("--env {}", shell_word(&names.join(" "))));
        }
    }
    let own: Vec<&str> = invocation.bins.iter().map(|(_, s)| s.as_str()).collect();
    let every: Vec<&str> = shared.images.iter().map(|i| i.stage.as_str()).collect();
    if builder.selects() && own != every {
        // `DOCKERIZE_IMAGES` may name the images other builders (or invocations) compile.
        words.push(format!("--images {}", shell_word(&every.join(" "))));
    }
    // Stripping follows the profile, which is the invocation's: all its images agree.
    let stripped = shared
        .images
        .iter()
        .any(|i| own.contains(&i.stage.as_str()) && i.strip == Strip::Symbols);
    match builder.cross.as_ref().map(|c| c.strip.as_str()) {
        _ if !stripped => words.push("--no-strip".into()),
        Some(tool) if tool != "strip" => words.push(format!("--strip {}", shell_word(tool))),
        _ => {}
    }
    if shared.auditable == Auditable::Embed {
        // Each binary's crate list, from its own package's resolve, added with the target's objcopy.
        let objcopy = builder
            .cross
            .as_ref()
            .map_or("objcopy", |c| c.objcopy.as_str());
        words.push(format!("--dep-v0 {}", shell_word(objcopy)));
        for (_, stage) in &invocation.bins {
            if let Some(image) = shared.images.iter().find(|i| &i.stage == stage) {
                words.push(format!(
                    "--package {}",
                    shell_word(&format!("{stage}={}", image.package))
                ));
            }
        }
    }
    words.push(format!(
        "--from {}/{} --to {OUT_DIR}",
        builder.triple, invocation.profile.dir
    ));
    for (bin, stage) in &invocation.bins {
        words.push(if bin == stage {
            stage.clone()
        } else {
            shell_word(&format!("{stage}={bin}"))
        });
    }
    format!(
        "{} \\\n    -- {}",
        words.join(" "),
        cargo_build(shared, builder, invocation, false)
    )
}

/// One `cargo build` of an invocation: the same words cook the dependencies and compile the binaries, but for the
/// `--bin`s of the final compile (`with_bins` false), which `build.sh` adds for the images wanted. Features resolve
/// from the `-p` packages, never from the `--bin`s, so any selection finds every dependency of the cooked layer
/// fresh.
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
        words.push(format!("-p {}", shell_word(p)));
    }
    if with_bins {
        for (bin, _) in bins {
            words.push(format!("--bin {}", shell_word(bin)));
        }
    }
    words.extend(feature_flags(features, *all_features, *no_default_features));
    words.join(" ")
}
