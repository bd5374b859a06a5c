//! The Dockerfile: `render(&Plan)` spells every stage out.
//!
//! Pure and deterministic: the same plan gives the same bytes. The renderer decides nothing — every choice is
//! in the [`Plan`] — it only spells the stages out:
//!
//! ```text
//! chef      rust:<version>-slim-bookworm + system packages + rustup targets   (shared builder base)
//! planner   COPY manifests, Cargo.lock, .cargo/config → /recipe: versions and metadata masked, stub targets
//! builder   COPY recipe → cargo build (dependencies only, cached) → COPY . . → cargo build → /out/<stage>
//! <binary>  scratch | distroless | debian-slim: CA certificates, the binary, non-root USER, labels, ENTRYPOINT
//! test      cargo test --locked (optional, last, so no other target builds it)
//! ```
//!
//! The planner stage and its recipe script are in [`super::recipe`]; the quoting of values in [`super::quote`].

use std::fmt::Write as _;

use super::builder::{builder_stage, Shared};
use super::quote::{comment_text, dockerfile_path, json_array, label_value};
use super::recipe::planner;
use crate::model::GENERATED_MARKER;
use crate::model::{stage, Backend, APP_DIR, BIN_DIR, DEBIAN_SLIM, IMAGES_ARG, OUT_DIR};
use crate::plan::{
    builder_aliases, BuildContext, BuilderStage, DebugImage, DockerfilePath, Image, Plan,
    RuntimeBase, RustFloor, Strip, TestPlan,
};
use crate::text::shell_word;

/// Renders the Dockerfile: the one written to disk, for BuildKit.
pub fn render(plan: &Plan) -> String {
    render_for(plan, Backend::BuildKit)
}

/// Renders the Dockerfile for a backend: the classic builder rejects `RUN --mount`, so its final compile runs in
/// the layer, as a plain `docker build` without BuildKit would need.
pub fn render_for(plan: &Plan, backend: Backend) -> String {
    // Destructured without `..`: a new field of the plan must be rendered or explicitly ignored here, and a
    // field bound to `_` is read nowhere in this module.
    let Plan {
        root: _,
        target_dir: _,
        context,
        dockerfile,
        command,
        toolchain,
        toolchain_files,
        planner: planner_inputs,
        platforms,
        platforms_source: _,
        profile: _,
        locked,
        build_env,
        build_secrets,
        registry: _,
        builder_packages,
        builder_reasons,
        rustup_targets,
        builders,
        images,
        selected: _,
        builds: _,
        skipped: _,
        test,
        notes: _,
        warnings,
        rust_floor,
    } = plan;
    let mut out = String::new();
    let selects = builders.iter().any(|b| b.selects());
    let cross = crate::platform::cross_compiles(platforms);
    header(&mut out, command, context, dockerfile, selects);
    super::secrets::header(&mut out, build_secrets);
    for warning in warnings {
        let _ = writeln!(out, "# Warning: {}", comment_text(warning));
    }
    let _ = writeln!(out, "ARG RUST_VERSION={}", toolchain.image_version);
    out.push('\n');
    chef(
        &mut out,
        cross,
        (toolchain.install_channel.as_deref(), rust_floor.as_ref()),
        builder_packages,
        builder_reasons,
        rustup_targets,
    );
    planner(&mut out, toolchain_files, context, planner_inputs);
    let shared = Shared {
        context,
        build_env,
        build_secrets,
        locked: *locked,
        toolchain_files,
        images,
    };
    for builder in builders {
        builder_stage(&mut out, &shared, builder, backend);
    }
    if cross {
        for alias in builder_aliases(builders) {
            platform_pick(&mut out, alias);
        }
    }
    for image in images {
        runtime_stage(&mut out, image, builder_alias(builders, &image.stage));
    }
    for image in images {
        debug_stage(&mut out, image, builder_alias(builders, &image.stage));
    }
    if let Some(test) = test {
        test_stage(&mut out, dockerfile, *locked, test);
    }
    out
}

/// The stage an image copies its binary from: its builder's, or in a multi-platform plan their alias.
fn builder_alias<'a>(builders: &'a [BuilderStage], stage: &str) -> &'a str {
    builders
        .iter()
        .find(|b| b.compiles(stage))
        .map_or("", |b| b.alias.as_str())
}

/// `selects`: a builder reads `DOCKERIZE_IMAGES`, so the header says how a one-image build compiles one binary.
fn header(
    out: &mut String,
    command: &str,
    context: &BuildContext,
    dockerfile: &DockerfilePath,
    selects: bool,
) {
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
            "# Path dependencies live outside the workspace, so the build context is `{up}`:\n#   docker build -f {}/{} --target <binary> {up}",
            context.workspace_dir, dockerfile.path,
        );
    } else if !dockerfile.is_default() {
        let _ = writeln!(
            out,
            "# One image per binary: `docker build -f {} --target <binary> .` (BuildKit builds only the stages it needs\n# and reads `{}`).",
            shell_word(dockerfile.path.as_str()),
            dockerfile.ignore,
        );
    } else {
        out.push_str(
            "# One image per binary: `docker build --target <binary> .` (BuildKit builds only the stages it needs).\n",
        );
    }
    if selects {
        let _ = writeln!(
            out,
            "# With `--build-arg {IMAGES_ARG}=<binary>` the builder compiles that image's binary alone (else every one)."
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
    cross: bool,
    (install_channel, floor): (Option<&str>, Option<&RustFloor>),
    packages: &[String],
    reasons: &[String],
    targets: &[String],
) {
    if cross {
        out.push_str(
            "# Shared builder base, on the build machine's own platform: every platform's builder cross-compiles\n\
             # from it, so no compile runs under emulation. The toolchain and the system packages the build needs.\n",
        );
        let _ = writeln!(
            out,
            "FROM --platform=$BUILDPLATFORM rust:${{RUST_VERSION}}-slim-bookworm AS {}",
            stage::CHEF
        );
    } else {
        out.push_str(
            "# Shared builder base: the toolchain and the system packages the dependencies need.\n",
        );
        let _ = writeln!(
            out,
            "FROM rust:${{RUST_VERSION}}-slim-bookworm AS {}",
            stage::CHEF
        );
    }
    let _ = writeln!(out, "WORKDIR {APP_DIR}");
    let _ = writeln!(
        out,
        "ENV CARGO_TARGET_DIR={APP_DIR}/target CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never"
    );
    if let Some(floor) = floor {
        rust_floor_check(out, floor);
    }
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

/// The floating toolchain checked against the members' `rust-version` before anything is installed: an engine
/// keeps the `rust:1` it pulled once, which may be older than a release the workspace needs, and Cargo would only
/// say so after the system packages, in the cook. `dpkg --compare-versions` orders Rust's versions as they are
/// (`1.96.0` after `1.96`, a `-nightly` suffix dropped first).
fn rust_floor_check(out: &mut String, floor: &RustFloor) {
    let RustFloor {
        version,
        package,
        image,
    } = floor;
    let message = format!(
        "rust-version {version} of package {package} needs a newer Rust than this image has: pull a newer one (docker pull {image}), or pin a toolchain"
    );
    let _ = writeln!(
        out,
        "# `rust-version = \"{}\"` of package `{}`: the image's Rust must be at least that release.",
        comment_text(version),
        comment_text(package)
    );
    let _ = writeln!(
        out,
        "RUN rustc_version=\"$(rustc --version | cut -d ' ' -f 2)\" \\\n    && {{ dpkg --compare-versions \"${{rustc_version%%-*}}\" ge {} \\\n    || {{ echo \"rustc $rustc_version: \"{} >&2; exit 1; }}; }}",
        shell_word(version),
        shell_word(&message)
    );
}

/// The stage runtime stages copy from in a multi-platform plan: BuildKit sets `TARGETARCH` and `TARGETVARIANT`
/// from the platform being built, so this names that platform's builder and no other builder runs.
fn platform_pick(out: &mut String, alias: &str) {
    let _ = writeln!(
        out,
        "# The `{alias}` of the platform being built (`docker build --platform linux/arm64` picks `{alias}-arm64`).\n\
         FROM {alias}-${{TARGETARCH}}${{TARGETVARIANT}} AS {alias}\n"
    );
}

fn runtime_stage(out: &mut String, image: &Image, builder: &str) {
    let strip = match &image.strip {
        Strip::Symbols => "stripped (the profile sets neither `strip` nor debug info)".to_string(),
        Strip::Kept(why) => format!("as Cargo built it: {why}"),
    };
    let _ = writeln!(
        out,
        "# `{}` of package `{}`: {}; {strip}.",
        image.binary,
        image.package,
        comment_text(&image.reasons.join("; "))
    );
    let _ = writeln!(out, "FROM {} AS {}", image.runtime.image(), image.stage);
    match &image.runtime {
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
            packages.extend(image.runtime_packages.iter().cloned());
            let _ = writeln!(out, "{}", apt_install(&packages));
        }
        RuntimeBase::Distroless(_) | RuntimeBase::Custom(_) => {}
    }
    binary_and_files(out, image, builder, &format!("{OUT_DIR}/{}", image.stage));
}

/// The debug variant: Debian slim with a shell and the libraries, the unstripped binary, the same files and user.
fn debug_stage(out: &mut String, image: &Image, builder: &str) {
    let DebugImage {
        stage,
        tags: _,
        packages,
    } = &image.debug;
    let _ = writeln!(
        out,
        "# `{}` unstripped, with a shell, for debugging: built only on request (`--target {stage}`).",
        image.binary
    );
    let _ = writeln!(out, "FROM {DEBIAN_SLIM} AS {stage}");
    let _ = writeln!(out, "{}", apt_install(packages));
    binary_and_files(
        out,
        image,
        builder,
        &format!("{OUT_DIR}/debug/{}", image.stage),
    );
}

/// What every image of a binary holds after its base: the executable from `built`, its working directory and
/// assets, environment, ports, user, labels and entrypoint.
fn binary_and_files(out: &mut String, image: &Image, builder: &str, built: &str) {
    let Image {
        binary,
        package: _,
        version: _,
        stage: _,
        image_name: _,
        tags: _,
        platforms: _,
        libc: _,
        linkage: _,
        runtime: _,
        runtime_packages: _,
        reasons: _,
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
        strip: _,
        debug: _,
        compilers: _,
    } = image;
    let path = format!("{BIN_DIR}/{binary}");
    let _ = writeln!(
        out,
        "COPY --from={builder} {built} {}",
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

fn test_stage(out: &mut String, dockerfile: &DockerfilePath, locked: bool, test: &TestPlan) {
    let TestPlan {
        from,
        packages,
        features,
        all_features,
        no_default_features,
        system_packages,
    } = test;
    let file = if dockerfile.is_default() {
        String::new()
    } else {
        format!("-f {} ", shell_word(dockerfile.path.as_str()))
    };
    let _ = writeln!(
        out,
        "# CI target: `docker build {file}--target test .` runs the workspace's tests in the builder."
    );
    let _ = writeln!(out, "FROM {from} AS {}", stage::TEST);
    if !system_packages.is_empty() {
        out.push_str("# The libraries the tests link on the build platform (the builders hold their targets').\n");
        let _ = writeln!(out, "{}", apt_install(system_packages));
    }
    let mut words = vec!["cargo test".to_string()];
    if locked {
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
pub(super) fn feature_flags(
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
