//! The plan's list of builds, in process: what `build` runs and `--dry-run`, `list --format json` and `ci` show.
//! Each fixture is read as a command reads it (metadata, configuration, then the per-target resolve, through
//! `common::library`) and planned under the settings of a `build` command line; no engine, no binary run.

mod common;

use cargo_dockerize::config::{
    BuildRequest, Cache, Destination, EpochFrom, GitSha, Selection, Settings, SourceDateEpoch,
    Variant,
};
use cargo_dockerize::plan::{builds::INLINE_CACHE_ARG, Plan, PushAs};
use cargo_dockerize::platform::{Platform, PlatformList};
use cargo_dockerize::source::Source;
use common::library;

/// `fixture` planned under `settings`, the way a command plans it.
fn plan_of(fixture: &common::Fixture, settings: &Settings) -> Plan {
    library::plan_fixture(&fixture.manifest(), settings)
}

#[test]
fn several_platforms_build_each_platform_under_its_own_tags_and_index_the_plain_ones() {
    let fixture = common::Fixture::copy("cross");
    let plan = plan_of(&fixture, &Settings::default());
    let builds = &plan.builds;
    let greet: Vec<_> = builds.to_run().filter(|b| b.stage == "greet").collect();
    let names: Vec<&str> = greet.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["greet@amd64", "greet@arm64"]);
    assert_eq!(greet[1].tags, ["greet:0.1.0-arm64", "greet:latest-arm64"]);
    assert_eq!(greet[1].platform, Some(Platform::LinuxArm64));
    assert_eq!(greet[1].triple, "aarch64-unknown-linux-musl");
    assert_eq!(greet[1].outcome_platform(), Some(Platform::LinuxArm64));
    let index = builds
        .indexes
        .iter()
        .find(|i| i.stage == "greet" && i.variant == Variant::Release)
        .expect("an index of greet");
    assert_eq!(index.tags, ["greet:0.1.0", "greet:latest"]);
    assert_eq!(index.builds, ["greet@amd64", "greet@arm64"]);
    assert_eq!(
        builds.indexes_to_push().count(),
        0,
        "nothing is pushed without --push"
    );
    let published = builds.published(Variant::Release);
    assert!(
        published.contains(&("greet", &index.tags[..])),
        "{published:?}"
    );
    // The debug variants are planned too (`--dry-run` shows them), not built without `--debug`.
    assert!(builds.to_run().all(|b| b.variant == Variant::Release));
    assert!(builds
        .of_variant(Variant::Debug)
        .any(|b| b.name == "greet-debug@arm64"
            && b.tags == ["greet:0.1.0-debug-arm64", "greet:debug-arm64"]));
}

#[test]
fn one_platform_keeps_the_plain_tags_and_names_its_platform_only_when_chosen() {
    let fixture = common::Fixture::copy("single-bin");
    let plan = plan_of(&fixture, &Settings::default());
    let build = plan.builds.to_run().next().expect("one build");
    assert_eq!(
        (build.name.as_str(), build.platform, build.tags.as_slice()),
        (
            "single-bin",
            None,
            &["single-bin:0.1.0".to_string(), "single-bin:latest".into()][..]
        )
    );
    assert!(plan.builds.indexes.is_empty());
    assert_eq!(plan.platforms_source, Source::Default);
    let chosen = Settings {
        platforms: Some(PlatformList(vec![Platform::LinuxAmd64])),
        ..Settings::default()
    };
    let plan = plan_of(&fixture, &chosen);
    let build = plan.builds.to_run().next().expect("one build");
    assert_eq!(
        build.platform,
        Some(Platform::LinuxAmd64),
        "told to the engine"
    );
    assert!(!build.several && build.outcome_platform().is_none());
    assert_eq!(plan.platforms_source, Source::Flag("--platform".into()));
}

#[test]
fn a_debug_push_of_one_binary_with_registry_caches() {
    let fixture = common::Fixture::copy("multi-bin");
    let settings = Settings {
        selection: Selection {
            bins: vec!["alpha".into()],
            ..Selection::default()
        },
        registry: Some("127.0.0.1:5000/acme".into()),
        builds: BuildRequest {
            variant: Variant::Debug,
            destination: Destination::Registry,
            build_args: vec![("MODE".into(), "fast".into())],
            cache_from: vec!["127.0.0.1:5000/acme/cache:main".into()],
            cache_to: Some("127.0.0.1:6000/acme/cache:main".into()),
            cache: Cache::Ignore,
            jobs: None,
            network: Some(cargo_dockerize::model::BuildNetwork::Host),
            output: None,
            epoch: SourceDateEpoch {
                seconds: 1_700_000_000,
                from: EpochFrom::Environment,
            },
        },
        ..Settings::default()
    };
    let plan = plan_of(&fixture, &settings);
    let builds = &plan.builds;
    let run: Vec<_> = builds.to_run().collect();
    assert_eq!(run.len(), 1, "{run:?}");
    assert!(
        builds
            .images
            .iter()
            .chain(&builds.cache)
            .all(|b| b.network.as_deref() == Some("host")),
        "`--network host` reaches every build: {builds:?}"
    );
    let build = run[0];
    assert_eq!(build.stage, "alpha-debug");
    assert_eq!(build.base, "debian:bookworm-slim");
    assert_eq!(
        build.push,
        Some(PushAs::Normalised {
            epoch: 1_700_000_000
        }),
        "an image of the Dockerfile is pushed normalised, with the edge's epoch"
    );
    assert_eq!(build.cache, Cache::Ignore);
    assert_eq!(build.build_args["MODE"], "fast");
    assert_eq!(
        build.build_args["DOCKERIZE_IMAGES"], "alpha",
        "the builder compiles the one selected binary"
    );
    assert_eq!(build.cache_from, ["127.0.0.1:5000/acme/cache:main"]);
    let cache: Vec<_> = builds.cache.iter().collect();
    assert_eq!(cache.len(), 1);
    assert_eq!(cache[0].stage, "builder");
    assert_eq!(cache[0].tags, ["127.0.0.1:6000/acme/cache:main"]);
    assert_eq!(cache[0].build_args[INLINE_CACHE_ARG], "1");
    assert_eq!(
        cache[0].push,
        Some(PushAs::Engine),
        "a cache image keeps the engine's config, where BuildKit's inline cache is"
    );
    assert_eq!(
        builds.push_registries(),
        ["127.0.0.1:5000", "127.0.0.1:6000"],
        "the images' registry and the cache's"
    );
}

#[test]
fn a_ci_plan_keeps_the_commit_placeholder_in_its_tags() {
    let fixture = common::Fixture::copy("single-bin");
    let settings = Settings {
        tags: Some(vec!["{bin}:{git_sha}".into()]),
        git_sha: GitSha::AtRunTime,
        ..Settings::default()
    };
    let plan = plan_of(&fixture, &settings);
    let published = plan.builds.published(Variant::Release);
    assert_eq!(
        published,
        [("single-bin", &["single-bin:{git_sha}".to_string()][..])]
    );
    let settings = Settings {
        tags: Some(vec!["{bin}:{git_sha}".into()]),
        git_sha: GitSha::Commit("0123456789ab".into()),
        ..Settings::default()
    };
    let plan = plan_of(&fixture, &settings);
    assert_eq!(
        plan.builds.to_run().next().map(|b| b.tags.clone()),
        Some(vec!["single-bin:0123456789ab".to_string()])
    );
}
