//! The Dockerfile: `render(&Plan)` spells every stage out, each with a comment that says why it is there.
//!
//! Pure and deterministic: the same plan gives the same bytes. The renderer decides nothing — every choice is
//! in the [`Plan`] — it only spells the stages out, in the order the build runs them:
//!
//! ```text
//! chef      rust:<version>-slim-bookworm + system packages + rustup targets   (shared builder base)
//! planner   COPY manifests, Cargo.lock, .cargo/config → /recipe: the dependency recipe (`.dockerize/build.sh recipe`)
//! builder   COPY recipe → cargo build (dependencies only, cached) → COPY . . → `.dockerize/build.sh compile`
//! <binary>  scratch | distroless | debian-slim: CA certificates, the binary, non-root USER, labels, ENTRYPOINT
//! test      cargo test --locked (optional, last, so no other target builds it)
//! ```
//!
//! What takes more than a line is in the scripts beside the Dockerfile ([`super::scripts`]). The planner stage is
//! in [`super::recipe`], the builder in [`super::builder`], the images in [`super::runtime`]; the quoting of values
//! in [`super::quote`].

use std::fmt::Write as _;

use super::builder::{builder_stage, Shared};
use super::quote::comment_text;
use super::recipe::planner;
use super::runtime::image_stages;
use crate::model::GENERATED_MARKER;
use crate::model::{stage, Backend, APP_DIR, IMAGES_ARG};
use crate::plan::{
    builder_aliases, Base, BuildContext, DockerfilePath, PinnedBy, Plan, RustFloor, TestPlan,
};
use crate::text::shell_word;

/// Renders the Dockerfile: the one written to disk, for BuildKit.
pub fn render(plan: &Plan) -> String {
    render_for(plan, Backend::BuildKit)
}

/// Renders the Dockerfile for a backend: the classic builder rejects `RUN --mount`, so its planner copies the
/// scripts in and its final compile runs in the layer, as a plain `docker build` without BuildKit would need.
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
        ssh_hosts,
        registries,
        auditable,
        documents: _,
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
        bases,
    } = plan;
    let mut out = String::new();
    let selects = builders.iter().any(|b| b.selects());
    let cross = crate::platform::cross_compiles(platforms);
    header(&mut out, command, context, dockerfile, selects);
    super::secrets::header(&mut out, build_secrets, ssh_hosts, registries);
    for warning in warnings {
        let _ = writeln!(out, "# Warning: {}", comment_text(warning));
    }
    let builder = builder_from(bases, &toolchain.image_version);
    if builder.is_some() {
        out.push_str(
            "# The builder base is pinned by digest (`cargo dockerize pin`): RUST_VERSION names its release, and a\n\
             # `--build-arg RUST_VERSION=…` no longer picks another image.\n",
        );
    }
    let _ = writeln!(out, "ARG RUST_VERSION={}", toolchain.image_version);
    out.push('\n');
    chef(
        &mut out,
        (cross, builder.as_deref()),
        (toolchain.install_channel.as_deref(), rust_floor.as_ref()),
        builder_packages,
        builder_reasons,
        rustup_targets,
    );
    planner(
        &mut out,
        dockerfile,
        toolchain_files,
        context,
        planner_inputs,
        backend,
    );
    let shared = Shared {
        context,
        dockerfile,
        build_env,
        build_secrets,
        registries,
        ssh: !ssh_hosts.is_empty(),
        auditable: *auditable,
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
    image_stages(&mut out, images, builders, bases);
    if let Some(test) = test {
        test_stage(&mut out, dockerfile, *locked, test);
    }
    out
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
    } else if selects {
        let _ = writeln!(
            out,
            "# One image per binary: `docker build --target <binary> .` (`--build-arg {IMAGES_ARG}=<binary>`: its binary alone)."
        );
        return;
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

/// The builder base's image when the Dockerfile pins it (`rust:<version>-slim-bookworm@sha256:…`: a pinned `FROM`
/// is concrete, no `${RUST_VERSION}`), else `None`.
fn builder_from(bases: &[Base], image_version: &str) -> Option<String> {
    let reference = crate::plan::bases::builder_base(image_version);
    bases
        .iter()
        .find(|b| b.reference == reference && b.pinned_by == PinnedBy::Dockerfile)
        .map(Base::from_image)
}

/// `pinned`: the builder base's pinned image, else the tag from `RUST_VERSION`.
fn chef(
    out: &mut String,
    (cross, pinned): (bool, Option<&str>),
    (install_channel, floor): (Option<&str>, Option<&RustFloor>),
    packages: &[String],
    reasons: &[String],
    targets: &[String],
) {
    let image = pinned.unwrap_or("rust:${RUST_VERSION}-slim-bookworm");
    if cross {
        out.push_str(
            "# Shared builder base, on the build machine's own platform: every platform's builder cross-compiles\n\
             # from it, so no compile runs under emulation. The toolchain and the system packages the build needs.\n",
        );
        let _ = writeln!(
            out,
            "FROM --platform=$BUILDPLATFORM {image} AS {}",
            stage::CHEF
        );
    } else {
        out.push_str(
            "# Shared builder base: the toolchain and the system packages the dependencies need.\n",
        );
        let _ = writeln!(out, "FROM {image} AS {}", stage::CHEF);
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
            "# The workspace pins `{channel}`, which no `rust` image tag carries: rustup installs it.\nRUN rustup toolchain install {word} --profile minimal && rustup default {word}",
            word = shell_word(channel)
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
        words.push(format!("-p {}", shell_word(p)));
    }
    words.extend(feature_flags(features, *all_features, *no_default_features));
    let _ = writeln!(out, "RUN {}", words.join(" "));
}

/// The columns a generated line keeps within where it can: comments, labels, package lists. (A `cargo build` or
/// a mount flag is one word Docker needs whole, whatever its length.)
pub(super) const WIDTH: usize = 132;

/// `# text`, wrapped at [`WIDTH`] columns: a comment says why the lines after it are there.
/// The text is folded by [`comment_text`] first: a value from the workspace's files cannot end the comment.
pub(super) fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in comment_text(text).split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
            let _ = writeln!(out, "{line}");
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    let _ = writeln!(out, "{line}");
}

/// `apt-get install` of `packages`, leaving no package lists or downloaded archives in the layer (whatever
/// the base image's apt configuration says): one line where it fits in [`WIDTH`] columns.
pub(super) fn apt_install(packages: &[String]) -> String {
    let steps = [
        "apt-get update".to_string(),
        format!(
            "apt-get install -y --no-install-recommends {}",
            packages.join(" ")
        ),
        "rm -rf /var/lib/apt/lists/* /var/cache/apt/*".to_string(),
    ];
    let line = format!("RUN {}", steps.join(" && "));
    if line.len() <= WIDTH {
        line
    } else {
        format!("RUN {}", steps.join(" \\\n    && "))
    }
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
