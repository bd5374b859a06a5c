//! The Dockerfile: `render(&Plan)` spells every stage out.
//!
//! Pure and deterministic: the same plan gives the same bytes. The renderer decides nothing — every choice is
//! in the [`Plan`] — it only spells the stages out:
//!
//! ```text
//! chef      rust:<version>-slim-bookworm + system packages + rustup targets   (shared builder base)
//! planner   COPY . . → /recipe: manifests with versions and metadata masked, Cargo.lock, dummy sources
//! builder   COPY recipe → cargo build (dependencies only, cached) → COPY . . → cargo build → /out/<stage>
//! <binary>  scratch | distroless | debian-slim: CA certificates, the binary, non-root USER, labels, ENTRYPOINT
//! test      cargo test --locked (optional, last, so no other target builds it)
//! ```
//!
//! The planner stage and its recipe script are in [`super::recipe`]; the quoting of values in [`super::quote`].

use std::fmt::Write as _;

use super::quote::{dockerfile_path, json_array, label_value};
use super::recipe::planner;
use super::GENERATED_MARKER;
use crate::model::{stage, APP_DIR, BIN_DIR, OUT_DIR};
use crate::plan::{BuildContext, BuilderStage, Image, Invocation, Plan, RuntimeBase, TestPlan};
use crate::text::shell_word;

/// Renders the Dockerfile.
pub fn render(plan: &Plan) -> String {
    // Destructured without `..`: a new field of the plan must be rendered or explicitly ignored here.
    let Plan {
        root: _,
        target_dir: _,
        context,
        command,
        toolchain,
        toolchain_files,
        platform: _,
        profile: _,
        locked: _,
        builder_packages,
        builder_reasons,
        rustup_targets,
        builders,
        images,
        skipped: _,
        test,
        notes: _,
    } = plan;
    let mut out = String::new();
    header(&mut out, command, context);
    let _ = writeln!(out, "ARG RUST_VERSION={}", toolchain.image_version);
    out.push('\n');
    chef(
        &mut out,
        toolchain.install_channel.as_deref(),
        builder_packages,
        builder_reasons,
        rustup_targets,
    );
    planner(&mut out, toolchain_files, context);
    for builder in builders {
        builder_stage(&mut out, plan, builder);
    }
    for image in images {
        runtime_stage(&mut out, image);
    }
    if let Some(test) = test {
        test_stage(&mut out, plan, test);
    }
    out
}

fn header(out: &mut String, command: &str, context: &BuildContext) {
    let _ = writeln!(
        out,
        "{GENERATED_MARKER} {}. Do not edit: regenerate with",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "#   {command}");
    if context.is_widened() {
        let up = context.root_from_workspace();
        let _ = writeln!(
            out,
            "# Path dependencies live outside the workspace, so the build context is `{up}`:\n#   docker build -f {}/Dockerfile --target <binary> {up}",
            context.workspace_dir,
        );
    } else {
        out.push_str(
            "# One image per binary: `docker build --target <binary> .` (BuildKit builds only the stages it needs).\n",
        );
    }
}

/// The workspace inside the image: `/app`, or `/app/<dir>` when the context is wider than the workspace.
pub(super) fn workspace_in_image(context: &BuildContext) -> String {
    if context.is_widened() {
        format!("{APP_DIR}/{}", context.workspace_dir)
    } else {
        APP_DIR.to_string()
    }
}

fn chef(
    out: &mut String,
    install_channel: Option<&str>,
    packages: &[String],
    reasons: &[String],
    targets: &[String],
) {
    out.push_str(
        "# Shared builder base: the toolchain and the system packages the dependencies need.\n",
    );
    let _ = writeln!(
        out,
        "FROM rust:${{RUST_VERSION}}-slim-bookworm AS {}",
        stage::CHEF
    );
    let _ = writeln!(out, "WORKDIR {APP_DIR}");
    let _ = writeln!(
        out,
        "ENV CARGO_TARGET_DIR={APP_DIR}/target CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never"
    );
    if !packages.is_empty() {
        for reason in reasons {
            let _ = writeln!(out, "# {reason}");
        }
        let _ = writeln!(out, "{}", apt_install(packages));
    }
    if let Some(channel) = install_channel {
        let _ = writeln!(
            out,
            "# The workspace pins `{channel}`, which no `rust` image tag carries: rustup installs it.\nRUN rustup toolchain install {channel} --profile minimal && rustup default {channel}"
        );
    }
    if !targets.is_empty() {
        let _ = writeln!(out, "RUN rustup target add {}", targets.join(" "));
    }
    out.push('\n');
}

fn cargo_build(plan: &Plan, builder: &BuilderStage, invocation: &Invocation) -> String {
    let Invocation {
        profile,
        packages,
        bins,
        features,
        all_features,
        no_default_features,
    } = invocation;
    let mut words = vec!["cargo build".to_string()];
    if plan.locked {
        words.push("--locked".into());
    }
    words.push(format!("--profile {}", profile.name));
    words.push(format!("--target {}", builder.triple));
    for p in packages {
        words.push(format!("-p {p}"));
    }
    for (bin, _) in bins {
        words.push(format!("--bin {}", shell_word(bin)));
    }
    words.extend(feature_flags(features, *all_features, *no_default_features));
    words.join(" ")
}

fn builder_stage(out: &mut String, plan: &Plan, builder: &BuilderStage) {
    let BuilderStage {
        stage,
        triple,
        crt_static,
        invocations,
    } = builder;
    let _ = writeln!(
        out,
        "# Compiles for {triple}{}.",
        if *crt_static {
            " with glibc linked statically"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "FROM {} AS {stage}", stage::CHEF);
    if *crt_static {
        let var = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            triple.to_uppercase().replace('-', "_")
        );
        let _ = writeln!(out, "ENV {var}=\"-C target-feature=+crt-static\"");
    }
    let widened = plan.context.is_widened();
    if widened {
        let _ = writeln!(out, "WORKDIR {}", workspace_in_image(&plan.context));
        let _ = writeln!(out, "COPY --from={} /recipe/ {APP_DIR}/", stage::PLANNER);
    } else {
        let _ = writeln!(out, "COPY --from={} /recipe/ ./", stage::PLANNER);
    }
    out.push_str("# Dependencies only: cached until Cargo.lock, a manifest's dependencies or the flags change.\n");
    let cooks: Vec<String> = invocations
        .iter()
        .map(|i| cargo_build(plan, builder, i))
        .collect();
    let _ = writeln!(out, "RUN {}", cooks.join(" \\\n    && "));
    if widened {
        let _ = writeln!(out, "COPY . {APP_DIR}/");
    } else {
        out.push_str("COPY . .\n");
    }
    out.push_str(
        "# Sources are newer than the empty ones the dependencies were built with, so the workspace crates rebuild.\n",
    );
    let mut steps = Vec::new();
    if !plan.toolchain_files.is_empty() {
        steps.push(format!("rm -f {}", plan.toolchain_files.join(" ")));
    }
    steps.push(if widened {
        format!("find {APP_DIR} -path {APP_DIR}/target -prune -o -type f -exec touch {{}} +")
    } else {
        "find . -path ./target -prune -o -type f -exec touch {} +".to_string()
    });
    // An empty directory for runtime stages to copy as their working directory: scratch has no `mkdir`, and
    // `WORKDIR` alone would create it owned by root, where a non-root binary cannot write.
    if plan.images.iter().any(|i| i.workdir.is_some()) {
        steps.push(format!("mkdir -p {OUT_DIR}/.empty"));
    } else {
        steps.push(format!("mkdir -p {OUT_DIR}"));
    }
    for invocation in invocations {
        steps.push(cargo_build(plan, builder, invocation));
        for (bin, stage_name) in &invocation.bins {
            steps.push(format!(
                "cp {}/target/{triple}/{}/{} {OUT_DIR}/{stage_name}",
                APP_DIR,
                invocation.profile.dir,
                shell_word(bin)
            ));
        }
    }
    let _ = writeln!(out, "RUN {}", steps.join(" \\\n    && "));
    out.push('\n');
}

fn runtime_stage(out: &mut String, image: &Image) {
    let Image {
        binary,
        package,
        version: _,
        stage,
        image_name: _,
        tags: _,
        builder,
        triple: _,
        libc: _,
        linkage: _,
        runtime,
        runtime_packages,
        reasons,
        labels,
        required_features: _,
        native: _,
        env,
        expose,
        user,
        workdir,
        entrypoint,
        cmd,
        assets,
        config: _,
    } = image;
    let _ = writeln!(
        out,
        "# `{binary}` of package `{package}`: {}.",
        reasons.join("; ")
    );
    let _ = writeln!(out, "FROM {} AS {stage}", runtime.image());
    match runtime {
        RuntimeBase::Scratch => {
            let _ = writeln!(
                out,
                "COPY --from={} /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
                stage::CHEF
            );
            out.push_str("ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\n");
        }
        RuntimeBase::DebianSlim(_) => {
            let mut packages = vec!["ca-certificates".to_string()];
            packages.extend(runtime_packages.iter().cloned());
            let _ = writeln!(out, "{}", apt_install(&packages));
        }
        RuntimeBase::Distroless(_) | RuntimeBase::Custom(_) => {}
    }
    let path = format!("{BIN_DIR}/{binary}");
    let _ = writeln!(
        out,
        "COPY --from={builder} {OUT_DIR}/{stage} {}",
        dockerfile_path(&path)
    );
    if let Some(workdir) = workdir {
        let _ = writeln!(
            out,
            "COPY --from={builder} --chown={user} {OUT_DIR}/.empty/ {}\nWORKDIR {}",
            dockerfile_path(&format!("{}/", workdir.trim_end_matches('/'))),
            dockerfile_path(workdir)
        );
    }
    for asset in assets {
        // From the build context: an asset edit rebuilds only this stage's last layers.
        let _ = writeln!(
            out,
            "COPY --chown={user} {} {}",
            dockerfile_path(asset.source.as_str()),
            dockerfile_path(&asset.dest)
        );
    }
    if !env.is_empty() {
        let rendered: Vec<String> = env
            .iter()
            .map(|(k, v)| format!("{k}={}", label_value(v)))
            .collect();
        let _ = writeln!(out, "ENV {}", rendered.join(" \\\n    "));
    }
    if !expose.is_empty() {
        let ports: Vec<String> = expose.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "EXPOSE {}", ports.join(" "));
    }
    let _ = writeln!(out, "USER {user}");
    if !labels.is_empty() {
        out.push_str("LABEL");
        let rendered: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}={}", label_value(v)))
            .collect();
        let _ = writeln!(out, " {}", rendered.join(" \\\n      "));
    }
    let _ = writeln!(out, "ENTRYPOINT {}", json_array(entrypoint));
    if !cmd.is_empty() {
        let _ = writeln!(out, "CMD {}", json_array(cmd));
    }
    out.push('\n');
}

fn test_stage(out: &mut String, plan: &Plan, test: &TestPlan) {
    let TestPlan {
        from,
        packages,
        features,
        all_features,
        no_default_features,
    } = test;
    out.push_str(
        "# CI target: `docker build --target test .` runs the workspace's tests in the builder.\n",
    );
    let _ = writeln!(out, "FROM {from} AS {}", stage::TEST);
    let mut words = vec!["cargo test".to_string()];
    if plan.locked {
        words.push("--locked".into());
    }
    for p in packages {
        words.push(format!("-p {p}"));
    }
    words.extend(feature_flags(features, *all_features, *no_default_features));
    let _ = writeln!(out, "RUN {}", words.join(" "));
}

/// `apt-get install` of `packages`, leaving no package lists or downloaded archives in the layer (whatever
/// the base image's apt configuration says).
pub(super) fn apt_install(packages: &[String]) -> String {
    format!(
        "RUN apt-get update \\\n    && apt-get install -y --no-install-recommends {} \\\n    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*",
        packages.join(" ")
    )
}

/// Cargo's feature flags, the same for the dependency build, the final build and the tests.
fn feature_flags(
    features: &[String],
    all_features: bool,
    no_default_features: bool,
) -> Vec<String> {
    let mut words = Vec::new();
    if !features.is_empty() {
        words.push(format!("--features {}", shell_word(&features.join(","))));
    }
    if all_features {
        words.push("--all-features".into());
    }
    if no_default_features {
        words.push("--no-default-features".into());
    }
    words
}
