//! `build --dry-run`: the plan's builds, what they would push and where, on stdout; nothing written, no engine
//! contacted. Every line is read off [`crate::plan::Builds`], the same list `build` runs.

use crate::config::{Destination, Variant};
use crate::engine::endpoint::Endpoint;
use crate::error::Error;
use crate::files;
use crate::plan::Plan;

/// The `--dry-run` lines of the builds of `variant`: target, platform, Rust target, base and tags.
fn dry_run_builds(plan: &Plan, variant: Variant, text: &mut String) {
    for build in plan.builds.of_variant(variant) {
        let platform = build.platform.unwrap_or(plan.platforms[0]);
        text.push_str(&format!(
            "  --target {:<16} {platform} {} on {} [{}]\n",
            build.stage,
            build.triple,
            build.base,
            build.tags.join(", ")
        ));
        let image = plan.images.iter().find(|i| i.stage == build.stage);
        if let Some(image) = image.filter(|_| variant == Variant::Release) {
            text.push_str(&format!("    why: {}\n", image.reasons.join("; ")));
        }
    }
}

/// `--dry-run`: the stages, targets and tags, what would be pushed, on stdout; nothing written, no engine
/// contacted.
pub(super) fn dry_run(plan: &Plan, engine: &Endpoint) -> Result<(), Error> {
    use std::io::Write as _;
    let builds = &plan.builds;
    let dockerfile = plan.root.join(&plan.dockerfile.path);
    // A real run stops on a Dockerfile we did not write: say so now rather than after the user relies on this.
    let state = if files::is_theirs(&dockerfile) {
        "not ours: a real run refuses to overwrite it; give ours another path with `dockerfile = \"...\"` in \
         [workspace.metadata.dockerize] or --dockerfile"
    } else {
        "not written: --dry-run"
    };
    let mut text = format!(
        "dockerfile: {dockerfile} ({state})\ndockerignore: {}\nengine: {} (not contacted: --dry-run)\nstages: {}\n",
        plan.root.join(&plan.dockerfile.ignore),
        engine.explain(),
        plan.stage_names().join(" ")
    );
    text.push_str(&format!(
        "platforms: {} ({}{})\n",
        crate::platform::PlatformList(plan.platforms.clone()).joined(),
        plan.platforms_source.of_key("platforms"),
        if plan.cross_compiles() {
            ", cross-compiled on the build platform"
        } else {
            ""
        }
    ));
    text.push_str("images:\n");
    dry_run_builds(plan, Variant::Release, &mut text);
    text.push_str("debug images (--debug):\n");
    dry_run_builds(plan, Variant::Debug, &mut text);
    // Every build of a command takes the same arguments; the cache images add their own.
    if let Some(build_args) = builds.images.first().map(|b| &b.build_args) {
        if !build_args.is_empty() {
            let args: Vec<String> = build_args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            text.push_str(&format!("build args: {}\n", args.join(" ")));
        }
    }
    let secrets = crate::ui::listing::secret_lines(plan);
    if !secrets.is_empty() {
        text.push_str(
            "secrets (BuildKit secret ids, mounted in the cook and the final compile):\n",
        );
        for line in secrets {
            text.push_str(&format!("  {line}\n"));
        }
    }
    if builds.indexes_to_push().next().is_some() {
        text.push_str(
            "index (--push): an image index under each plain tag, listing every platform's image\n",
        );
    }
    if builds.destination == Destination::Registry {
        text.push_str("push (--push): every tag above");
        text.push_str(if builds.variant == Variant::Debug {
            " of the debug images"
        } else {
            ""
        });
        text.push_str(", to:");
        let hosts: std::collections::BTreeSet<String> = builds
            .to_run()
            .flat_map(|b| &b.tags)
            .map(|tag| crate::reference::registry_host(tag).to_string())
            .collect();
        let hosts: Vec<String> = hosts.into_iter().collect();
        text.push_str(&format!(" {}\n", hosts.join(", ")));
    } else {
        text.push_str("push: no (--push pushes every tag)\n");
    }
    for reference in builds.images.first().iter().flat_map(|b| &b.cache_from) {
        text.push_str(&format!("cache from: {reference}\n"));
    }
    for build in &builds.cache {
        text.push_str(&format!(
            "cache to: {} (stage `{}` with BUILDKIT_INLINE_CACHE=1, pushed after the images)\n",
            build.tags.join(", "),
            build.stage
        ));
    }
    for warning in &plan.warnings {
        text.push_str(&format!("warning: {warning}\n"));
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Error::Stdout)
}
