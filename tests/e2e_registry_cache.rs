//! The registry cache on a fresh CI runner: the first run of a pipeline builds with `--cache-to` and pushes the
//! builder stage's inline cache; a fresh runner, with the base images but an empty build cache, builds with
//! `--cache-from` and takes the dependency layer from the registry instead of cooking.
//!
//! The fresh runner is this engine with its build cache emptied (`docker builder prune -af`): the one test that
//! empties a cache others rely on, so it lives alone here, in a test target with `test = false` (Cargo.toml):
//! `cargo test`, `--ignored` and `--include-ignored` never build or run it; only an explicit
//! `cargo test --test e2e_registry_cache -- --ignored` does, which `.ci/run` runs last, in a step of its own, after
//! every other engine test, on each engine it tests. (A second engine as the fresh runner does not work here: the
//! floor's BuildKit 0.8 and the current engine's 0.13 compute other cache keys for the same steps.)

mod common;

use common::registry::{registry_lock, Refs, Registry};
use common::{docker_ok, run, BuildJson, Fixture};

const GREETING: &str = "hello from single-bin";

/// The tags `single-bin` gets under `prefix`.
fn single_bin_tags(prefix: &str) -> Vec<String> {
    vec![
        format!("{prefix}/single-bin:0.1.0"),
        format!("{prefix}/single-bin:latest"),
    ]
}

#[test]
#[ignore = "empties the engine's build cache: run alone, last, as .ci/run does: cargo test --test e2e_registry_cache -- --ignored"]
fn the_dependency_layer_comes_from_the_registry_cache() {
    let _engine = registry_lock();
    // A registry with auth: the engine's cache import must log in too (`X-Registry-Config`).
    let registry = Registry::start(true);
    let config = registry.docker_config(&registry.login.as_ref().unwrap().1);
    let fixture = Fixture::copy("single-bin");
    // A recipe no earlier build saw (the recipe carries `.cargo/config.toml`): the cook is this test's alone.
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    std::fs::create_dir_all(fixture.path(".cargo")).unwrap();
    fixture.write(
        ".cargo/config.toml",
        &format!("[env]\nDZ_CACHE_TEST = \"{nonce}\"\n"),
    );
    let prefix = format!("{}/dz-cache-{}", registry.host, std::process::id());
    let cache_ref = format!("{prefix}/cache:main");
    let mut refs = single_bin_tags(&prefix);
    refs.push(cache_ref.clone());
    let _refs = Refs(refs.clone());

    // The first run of a CI pipeline: `--cache-from` names a cache that does not exist yet, which is no error.
    let first = fixture_build_json(
        &fixture,
        config.path(),
        &[
            "--registry",
            &prefix,
            "--push",
            "--cache-from",
            &cache_ref,
            "--cache-to",
            &cache_ref,
        ],
    );
    assert!(cooked(&first), "the first build cooks the dependencies");
    let cache = &first.summary["cache"][0];
    assert_eq!(cache["image"], "builder", "{}", first.summary);
    assert_eq!(cache["push"]["status"], "pushed", "{}", first.summary);

    // A fresh runner: none of these images, an empty build cache (the base images stay: a runner has those).
    for reference in &refs {
        docker_ok(&["rmi", "-f", reference]);
    }
    // Every record of the build cache goes: removing only this test's records leaves the cook cached on
    // Engine 20.10 (tried: `--filter id=...` for each record the build made empties `docker system df`, yet the
    // next build still reports the dependency step cached).
    docker_ok(&["builder", "prune", "-af"]);

    let second = fixture_build_json(
        &fixture,
        config.path(),
        &["--registry", &prefix, "--cache-from", &cache_ref],
    );
    assert!(
        !cooked(&second),
        "the cook comes from the registry: started {:?}",
        second.steps("step-started")
    );
    assert!(
        second
            .steps("step-cached")
            .iter()
            .any(|s| s.contains("RUN cargo build") && !s.contains("--mount")),
        "the dependency step is reported cached: {:?}",
        second.steps("step-cached")
    );
    assert_eq!(common::docker::run_container(&[&refs[0]]).trim(), GREETING);
}

/// `build <args> --message-format json` with the credentials in `docker_config`, which must succeed.
fn fixture_build_json(
    fixture: &Fixture,
    docker_config: &std::path::Path,
    args: &[&str],
) -> BuildJson {
    let mut full = args.to_vec();
    full.extend_from_slice(&["--message-format", "json"]);
    let mut build = vec!["build"];
    build.extend_from_slice(&full);
    let mut command = fixture.command(&build);
    command.env("DOCKER_CONFIG", docker_config);
    let out = run(&mut command);
    out.assert_success(&build.join(" "));
    BuildJson::parse(&out, &build.join(" "))
}

/// Whether the build ran the dependency step (the cook: `RUN cargo build` without the compile cache's mount).
fn cooked(build: &BuildJson) -> bool {
    build
        .steps("step-started")
        .iter()
        .any(|s| s.contains("RUN cargo build") && !s.contains("--mount"))
}
