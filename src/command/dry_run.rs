//! `build --dry-run`: the stages, targets, platforms and tags a build would build, what it would push, on
//! stdout; nothing written, no engine contacted.

use super::build::{build_args, cache_from, cache_to, targets};
use crate::cli::BuildArgs;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::plan::Plan;
use crate::{files, reference};

/// The `--dry-run` lines of each build: target, platform, Rust target, base and tags.
fn dry_run_targets(plan: &Plan, debug: bool, text: &mut String) {
    for target in targets(plan, debug) {
        let Some(image) = plan.selected_images().find(|i| {
            i.binary == target.binary && (i.stage == target.stage || i.debug.stage == target.stage)
        }) else {
            continue;
        };
        let platform = target
            .platform
            .clone()
            .unwrap_or_else(|| plan.platforms[0].to_string());
        let triple = image
            .platforms
            .iter()
            .find(|p| p.platform.docker_name() == platform)
            .map_or(image.triple.as_str(), |p| p.triple.as_str());
        let base = if debug {
            crate::model::DEBIAN_SLIM
        } else {
            image.runtime.image()
        };
        text.push_str(&format!(
            "  --target {:<16} {platform} {triple} on {base} [{}]\n",
            target.stage,
            target.tags.join(", ")
        ));
        if !debug {
            text.push_str(&format!("    why: {}\n", image.reasons.join("; ")));
        }
    }
}

/// `--dry-run`: the stages, targets and tags, what would be pushed, on stdout; nothing written, no engine
/// contacted.
pub(super) fn dry_run(plan: &Plan, args: &BuildArgs) -> Result<(), Error> {
    use std::io::Write as _;
    let engine = plan.engine.clone().unwrap_or_else(Endpoint::default_socket);
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
        plan.platforms_source,
        if plan.cross_compiles() {
            ", cross-compiled on the build platform"
        } else {
            ""
        }
    ));
    text.push_str("images:\n");
    dry_run_targets(plan, false, &mut text);
    text.push_str("debug images (--debug):\n");
    dry_run_targets(plan, true, &mut text);
    let build_args = build_args(plan, args);
    if !build_args.is_empty() {
        let args: Vec<String> = build_args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push_str(&format!("build args: {}\n", args.join(" ")));
    }
    if args.push && plan.platforms.len() > 1 {
        text.push_str(
            "index (--push): an image index under each plain tag, listing every platform's image\n",
        );
    }
    if args.push {
        text.push_str("push (--push): every tag above");
        text.push_str(if args.debug {
            " of the debug images"
        } else {
            ""
        });
        text.push_str(", to:");
        let hosts: std::collections::BTreeSet<String> = targets(plan, args.debug)
            .iter()
            .flat_map(|t| &t.tags)
            .map(|tag| reference::registry_host(tag).to_string())
            .collect();
        let hosts: Vec<String> = hosts.into_iter().collect();
        text.push_str(&format!(" {}\n", hosts.join(", ")));
    } else {
        text.push_str("push: no (--push pushes every tag)\n");
    }
    for reference in cache_from(plan, args) {
        text.push_str(&format!("cache from: {reference}\n"));
    }
    for (stage, reference) in cache_to(plan, args) {
        text.push_str(&format!(
            "cache to: {reference} (stage `{stage}` with BUILDKIT_INLINE_CACHE=1, pushed after the images)\n"
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
