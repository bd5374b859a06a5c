//! `--cache-from` / `--cache-to`: the dependency layer kept in a registry, so a fresh CI runner skips the cook.
//!
//! Engine 20.10's built-in BuildKit cannot export a registry cache (`type=registry`), but every engine writes an
//! inline cache: the cache keys of an image's own layers, in its config, when built with the build argument
//! `BUILDKIT_INLINE_CACHE=1`. So `--cache-to <ref>` builds the builder stage (toolchain, the cooked dependencies,
//! the compiled workspace: every layer a runtime image copies from) with it, tags it `<ref>` and pushes it;
//! `--cache-from <ref>` hands `<ref>` to the engine's `cachefrom`, and BuildKit reuses each of its layers whose
//! key matches. Inline cache is `mode=min`: only the layers of the image itself, so the planner stage (cheap:
//! `cargo metadata` and a script) runs again, and its output, the recipe, is matched by content, which is what
//! lets the cook come from the registry.
//!
//! A plan with several builder stages (e.g. musl and glibc) keeps one cache image per builder: the reference as
//! given for one builder, `<tag>-<stage>` on each otherwise ([`cache_refs`]).

use std::time::Instant;

use tokio::sync::mpsc;

use super::credentials::Credentials;
use super::push::build_and_push;
use crate::engine::{BuildOptions, Engine, Target};
use crate::events::{BuildEvent, ImageOutcome};
use crate::reference;

/// The build argument that makes BuildKit write the inline cache into the image's config.
pub const INLINE_CACHE_ARG: &str = "BUILDKIT_INLINE_CACHE";

/// The cache image of each builder stage for `reference`: the reference itself when there is one builder,
/// else `<repository>:<tag>-<stage>` for each, in the order given.
pub fn cache_refs(reference: &str, builders: &[String]) -> Vec<(String, String)> {
    if let [only] = builders {
        return vec![(only.clone(), reference.to_string())];
    }
    let (repository, tag) = reference::split_tag(reference);
    builders
        .iter()
        .map(|stage| (stage.clone(), format!("{repository}:{tag}-{stage}")))
        .collect()
}

/// The build of the cache image of builder stage `stage`, tagged `reference`: an outcome whose `binary` is empty.
pub fn cache_target(stage: &str, reference: &str) -> Target {
    Target {
        stage: stage.to_string(),
        binary: String::new(),
        tags: vec![reference.to_string()],
        platform: None,
        several: false,
        name: stage.to_string(),
    }
}

/// Builds a builder stage ([`cache_target`]) with its inline cache, tags it and pushes it. The runtime images
/// were built first, so every step is cached and this costs the export and the upload.
pub async fn push_cache(
    engine: &Engine,
    target: Target,
    context: bytes::Bytes,
    options: &BuildOptions,
    credentials: &Credentials,
    events: &mpsc::UnboundedSender<BuildEvent>,
    started: Instant,
) -> ImageOutcome {
    let mut options = options.clone();
    options
        .build_args
        .insert(INLINE_CACHE_ARG.to_string(), "1".to_string());
    build_and_push(
        engine,
        target,
        context,
        &options,
        Some(credentials),
        events,
        started,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_builder_takes_the_reference_as_given() {
        assert_eq!(
            cache_refs("127.0.0.1:5000/app-cache:main", &["builder".into()]),
            vec![("builder".into(), "127.0.0.1:5000/app-cache:main".into())]
        );
        assert_eq!(
            cache_refs("r.io/app-cache", &["builder".into(), "builder-gnu".into()]),
            vec![
                ("builder".into(), "r.io/app-cache:latest-builder".into()),
                (
                    "builder-gnu".into(),
                    "r.io/app-cache:latest-builder-gnu".into()
                )
            ]
        );
    }
}
