//! Every build, decided: each selected image × platform × variant with every tag, build argument and cache
//! reference; the index each image built for several platforms gets on `--push`; the cache image of each builder
//! stage for `--cache-to`. `build` runs them, `--dry-run` prints them, `list --format json` and `ci` show them:
//! one list, so they cannot disagree. The engine turns each into a request as it is, and decides nothing.
//!
//! Engine 20.10 holds one platform per tag, so an image built for several platforms is one build per platform,
//! each tagged `<tag>-<arch>` (`api:1.0-arm64`), and with `--push` an index under each plain tag lists them.
//! A plan with one platform keeps the plain tags, and names no platform to the engine unless the platform was
//! chosen (an arm64 engine would otherwise build for itself).
//!
//! `--cache-from` / `--cache-to` keep the dependency layer in a registry, so a fresh CI runner skips the cook.
//! Engine 20.10's built-in BuildKit cannot export a registry cache (`type=registry`), but every engine writes an
//! inline cache: the cache keys of an image's own layers, in its config, when built with the build argument
//! `BUILDKIT_INLINE_CACHE=1`. So `--cache-to <ref>` is one more build per builder stage (toolchain, the cooked
//! dependencies, the compiled workspace: every layer a runtime image copies from), with that argument, tagged
//! `<ref>` and pushed after the images, when every step is cached; `--cache-from <ref>` goes into each build's
//! `cachefrom`, and BuildKit reuses each of its layers whose key matches. Inline cache is `mode=min`: only the
//! layers of the image itself, so the planner stage (cheap: a script) runs again, and its output, the recipe, is
//! matched by content, which is what lets the cook come from the registry. A plan with several builder stages
//! (musl and glibc) keeps one cache image per builder: the reference as given for one builder, `<tag>-<stage>` on
//! each otherwise ([`cache_refs`]). Pure.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use serde::Serialize;

use super::{BuilderStage, Image};
use crate::config::{BuildRequest, Cache, Destination, Output, SourceDateEpoch, Variant};
use crate::model::{Backend, DEBIAN_SLIM, IMAGES_ARG};
use crate::platform::Platform;
use crate::reference;

/// The build argument that makes BuildKit write the inline cache into the image's config (`--cache-to`).
pub const INLINE_CACHE_ARG: &str = "BUILDKIT_INLINE_CACHE";

/// Every build of the command, and how they run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Builds {
    /// Each selected image in both variants, each for every platform: in the plan's order of images, the
    /// release variant before the debug one, platforms in the plan's order.
    pub images: Vec<Build>,
    /// The variant this command builds (`--debug`: the debug variants).
    pub variant: Variant,
    /// Where the built images go: the engine's store, or their registries too (`--push`).
    pub destination: Destination,
    /// The index of each image (in both variants) built for several platforms: what `--push` puts under its
    /// plain tags once every platform's image is pushed.
    pub indexes: Vec<Index>,
    /// `--cache-to`: the cache image of each builder stage the selected images use, built after them.
    pub cache: Vec<Build>,
    /// How many builds run at once.
    pub jobs: Jobs,
    /// The Dockerfile's path in the build context.
    pub dockerfile: Utf8PathBuf,
    /// `--output`: the OCI layout the built images of this command's variant are written to, one entry per
    /// image (its stage as the reference name), after every build succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
    /// `SOURCE_DATE_EPOCH` of every normalised image: `--output`'s layout and what `--push` puts.
    #[serde(skip_serializing_if = "SourceDateEpoch::is_unread")]
    pub epoch: SourceDateEpoch,
}

/// One build: a stage of the Dockerfile for one platform, with its tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Build {
    /// What events, logs and outcomes call it: the stage, or `<stage>@<arch>` when its image is built for
    /// several platforms, each its own build.
    pub name: String,
    /// The Dockerfile's stage: `--target`.
    pub stage: String,
    /// The binary the image holds; empty for a cache image.
    pub binary: String,
    pub variant: Variant,
    /// The platform the engine is asked for; `None` leaves it to the engine (the default plan).
    pub platform: Option<Platform>,
    /// Whether its image is built for several platforms, this build being one: its outcome names the platform.
    pub several: bool,
    /// The Rust target it compiles for.
    pub triple: String,
    /// The base of the stage it builds.
    pub base: String,
    /// Every tag: the engine's build applies the first, the others are added once it succeeded.
    pub tags: Vec<String>,
    /// `--build-arg`, `DOCKERIZE_IMAGES` where a builder would compile more than the selection needs, and the
    /// inline cache argument for a cache image. Sorted.
    pub build_args: BTreeMap<String, String>,
    /// `--cache-from`: the images whose inline cache BuildKit may reuse, one per builder stage.
    pub cache_from: Vec<String>,
    /// `--no-cache`.
    pub cache: Cache,
    /// Whether and how its tags go to their registries once it is built (`--push`; always for a cache image).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushAs>,
    /// `--network`: the network of its `RUN` steps (`host`, `none`); `None` leaves it to the engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

impl Build {
    /// The platform its outcome names: only one of several platforms of its image.
    pub fn outcome_platform(&self) -> Option<Platform> {
        self.platform.filter(|_| self.several)
    }
}

/// How a pushed build's image reaches its registries.
///
/// An image of the Dockerfile is pushed normalised: exported from the engine and rewritten exactly as
/// `--output` writes it (`crate::registry::layout`), then put by the tool, so that the same commit gives the same
/// manifest digest (and, over its platforms, the same index digest) from any engine and any run; what a release
/// pipeline publishes is then what anyone can rebuild. A cache image (`--cache-to`) is the engine's own: its
/// config carries BuildKit's inline cache, which the normaliser, keeping only the OCI image spec's fields, drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "as")]
pub enum PushAs {
    /// Normalised with `SOURCE_DATE_EPOCH` = `epoch` seconds, and put through the registry's API.
    Normalised { epoch: u64 },
    /// Pushed by the engine, as it built it.
    Engine,
}

/// The image index of an image built for several platforms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Index {
    pub stage: String,
    pub binary: String,
    pub variant: Variant,
    /// The plain tags it goes under.
    pub tags: Vec<String>,
    /// The names of its platforms' builds, in the plan's order of platforms.
    pub builds: Vec<String>,
}

/// How many builds run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Jobs {
    /// `--jobs`.
    Given(usize),
    /// Every build at once with BuildKit, which runs the stages they share once; one at a time with the classic
    /// builder, which runs every stage before each target.
    PerBackend,
}

impl Jobs {
    /// Builds at once on `backend`, for `count` builds.
    pub fn at_once(self, backend: Backend, count: usize) -> usize {
        match (self, backend) {
            (Self::Given(n), _) => n,
            (Self::PerBackend, Backend::BuildKit) => count,
            (Self::PerBackend, Backend::Classic) => 1,
        }
    }
}

impl Builds {
    /// The builds this command runs: the images of its variant, in order.
    pub fn to_run(&self) -> impl Iterator<Item = &Build> {
        self.images.iter().filter(|b| b.variant == self.variant)
    }

    /// The builds of `variant`, in order.
    pub fn of_variant(&self, variant: Variant) -> impl Iterator<Item = &Build> {
        self.images.iter().filter(move |b| b.variant == variant)
    }

    /// The indexes `--push` puts: of this command's variant, when it pushes.
    pub fn indexes_to_push(&self) -> impl Iterator<Item = &Index> {
        let pushes = self.destination == Destination::Registry;
        self.indexes
            .iter()
            .filter(move |i| pushes && i.variant == self.variant)
    }

    /// The registry hosts this command pushes to: the tags of its pushed builds and of the cache images, sorted.
    pub fn push_registries(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self
            .to_run()
            .chain(&self.cache)
            .filter(|b| b.push.is_some())
            .flat_map(|b| &b.tags)
            .map(|tag| reference::registry_host(tag).to_string())
            .collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// Each image's published tags in `variant`: its index's when it is built for several platforms, else its
    /// one build's; with the image's stage, in the plan's order.
    pub fn published(&self, variant: Variant) -> Vec<(&str, &[String])> {
        let mut published: Vec<(&str, &[String])> = Vec::new();
        for build in self.of_variant(variant) {
            if published.iter().any(|(stage, _)| *stage == build.stage) {
                continue;
            }
            let index = self
                .indexes
                .iter()
                .find(|i| i.variant == variant && i.stage == build.stage);
            let tags = index.map_or(build.tags.as_slice(), |i| i.tags.as_slice());
            published.push((build.stage.as_str(), tags));
        }
        published
    }
}

/// What every build shares, decided before the list is made.
pub(super) struct Common<'a> {
    pub request: &'a BuildRequest,
    /// Whether a flag or the table chose the platforms (then the engine is told, even for one).
    pub platforms_chosen: bool,
    /// `DOCKERIZE_IMAGES` for this selection, where a builder would compile more than it needs.
    pub compile_selection: Option<String>,
    pub builders: &'a [BuilderStage],
    pub dockerfile: Utf8PathBuf,
}

/// The builds of `selected` (in order), their indexes, and the cache images of the builder stages they use.
pub(super) fn builds(selected: &[&Image], common: &Common<'_>) -> Builds {
    let request = common.request;
    let mut build_args: BTreeMap<String, String> = request.build_args.iter().cloned().collect();
    if let Some(images) = &common.compile_selection {
        build_args
            .entry(IMAGES_ARG.to_string())
            .or_insert(images.clone());
    }
    let stages: Vec<String> = common.builders.iter().map(|b| b.stage.clone()).collect();
    let cache_from: Vec<String> = request
        .cache_from
        .iter()
        .flat_map(|r| cache_refs(r, &stages))
        .map(|(_, r)| r)
        .collect();
    let shared = Build {
        name: String::new(),
        stage: String::new(),
        binary: String::new(),
        variant: Variant::Release,
        platform: None,
        several: false,
        triple: String::new(),
        base: String::new(),
        tags: Vec::new(),
        build_args,
        cache_from,
        cache: request.cache,
        push: (request.destination == Destination::Registry).then_some(PushAs::Normalised {
            epoch: request.epoch.seconds,
        }),
        network: request.network.map(|n| n.engine_name().to_string()),
    };
    let mut images = Vec::new();
    let mut indexes = Vec::new();
    for image in selected {
        for variant in [Variant::Release, Variant::Debug] {
            let (builds, index) = image_builds(image, variant, common, &shared);
            images.extend(builds);
            indexes.extend(index);
        }
    }
    Builds {
        cache: cache_builds(selected, common, &shared),
        images,
        variant: request.variant,
        destination: request.destination,
        indexes,
        jobs: request
            .jobs
            .map_or(Jobs::PerBackend, |n| Jobs::Given(n.get())),
        dockerfile: common.dockerfile.clone(),
        output: request.output.clone(),
        epoch: request.epoch,
    }
}

/// The builds of one image in one variant, one per platform, and its index when there are several.
fn image_builds(
    image: &Image,
    variant: Variant,
    common: &Common<'_>,
    shared: &Build,
) -> (Vec<Build>, Option<Index>) {
    let (stage, tags, base) = match variant {
        Variant::Release => (&image.stage, &image.tags, image.runtime.image()),
        Variant::Debug => (&image.debug.stage, &image.debug.tags, DEBIAN_SLIM),
    };
    let build = |platform: Option<Platform>, triple: &str, several: bool, name: String| Build {
        name,
        stage: stage.clone(),
        binary: image.binary.clone(),
        variant,
        platform,
        several,
        triple: triple.to_string(),
        base: base.to_string(),
        tags: match platform.filter(|_| several) {
            Some(platform) => tags
                .iter()
                .map(|t| platform_tag(t, platform.suffix()))
                .collect(),
            None => tags.clone(),
        },
        ..shared.clone()
    };
    if let [only] = &image.platforms[..] {
        let platform = common.platforms_chosen.then_some(only.platform);
        return (
            vec![build(platform, &only.triple, false, stage.clone())],
            None,
        );
    }
    let builds: Vec<Build> = image
        .platforms
        .iter()
        .map(|p| {
            let name = format!("{stage}@{}", p.platform.suffix());
            build(Some(p.platform), &p.triple, true, name)
        })
        .collect();
    let index = Index {
        stage: stage.clone(),
        binary: image.binary.clone(),
        variant,
        tags: tags.clone(),
        builds: builds.iter().map(|b| b.name.clone()).collect(),
    };
    (builds, Some(index))
}

/// `--cache-to`: the builder stages the selected images use, each built with its inline cache and pushed as its
/// cache image. Images name the stage they copy from: a builder, or in a multi-platform plan the alias every
/// platform's builder of that kind shares (each of those is cached).
fn cache_builds(selected: &[&Image], common: &Common<'_>, shared: &Build) -> Vec<Build> {
    let Some(reference) = &common.request.cache_to else {
        return Vec::new();
    };
    let used: Vec<&str> = selected
        .iter()
        .filter_map(|image| super::builder_of(common.builders, &image.stage))
        .map(|b| b.alias.as_str())
        .collect();
    let stages: Vec<String> = common.builders.iter().map(|b| b.stage.clone()).collect();
    let mut build_args = shared.build_args.clone();
    build_args.insert(INLINE_CACHE_ARG.to_string(), "1".to_string());
    cache_refs(reference, &stages)
        .into_iter()
        .filter_map(|(stage, reference)| {
            let builder = common
                .builders
                .iter()
                .find(|b| b.stage == stage && used.contains(&b.alias.as_str()))?;
            Some(Build {
                name: stage.clone(),
                stage,
                triple: builder.triple.clone(),
                base: crate::model::stage::CHEF.to_string(),
                tags: vec![reference],
                build_args: build_args.clone(),
                push: Some(PushAs::Engine),
                ..shared.clone()
            })
        })
        .collect()
}

/// The local (and per-platform pushed) tag of `tag` for a platform: `api:1.0` → `api:1.0-arm64`.
pub fn platform_tag(tag: &str, suffix: &str) -> String {
    let (name, tag) = reference::split_tag(tag);
    format!("{name}:{tag}-{suffix}")
}

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

    #[test]
    fn platform_tags_keep_the_registry_port_and_suffix_the_tag() {
        assert_eq!(platform_tag("api:1.0", "arm64"), "api:1.0-arm64");
        assert_eq!(
            platform_tag("127.0.0.1:5000/acme/api", "armv7"),
            "127.0.0.1:5000/acme/api:latest-armv7"
        );
    }

    #[test]
    fn jobs_follow_the_backend_unless_given() {
        assert_eq!(Jobs::PerBackend.at_once(Backend::BuildKit, 4), 4);
        assert_eq!(Jobs::PerBackend.at_once(Backend::Classic, 4), 1);
        assert_eq!(Jobs::Given(2).at_once(Backend::BuildKit, 4), 2);
    }
}
