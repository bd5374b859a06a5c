//! `--push`, digests and `--metadata-file`, against a real engine and real registries:
//! Debian's `docker-registry` on loopback ports, one with htpasswd auth (credentials in a temporary
//! `DOCKER_CONFIG`), one without, and a proxy that vanishes mid-push.
//!
//! Each test is `#[ignore]`d (run: `--ignored`) and holds the engine lock (an engine, `docker-registry` and
//! `htpasswd` must be there). Images carry the registry's host in their tags; a [`Refs`] guard removes them.
//! The registry cache's fresh-runner test empties the engine's build cache, so it lives apart, in
//! `tests/e2e_registry_cache.rs`, which only an explicit `--test e2e_registry_cache` runs.

mod common;

use std::process::Command;

use common::registry::{registry_lock, Refs, Registry, VanishingProxy};
use common::{docker_ok, events_of, run, BuildJson, Fixture, Run};

const GREETING: &str = "hello from single-bin";

/// `--registry` for a test: its own namespace in the registry, so tags never meet another test's.
fn namespace(registry: &str, test: &str) -> String {
    format!("{registry}/dz-push-{}-{test}", std::process::id())
}

/// The tags `single-bin` gets under `prefix`.
fn single_bin_tags(prefix: &str) -> Vec<String> {
    vec![
        format!("{prefix}/single-bin:0.1.0"),
        format!("{prefix}/single-bin:latest"),
    ]
}

/// `build <args>` on the fixture with `DOCKER_CONFIG` set (or removed when `None`).
fn build(fixture: &Fixture, args: &[&str], docker_config: Option<&std::path::Path>) -> Run {
    let mut full = vec!["build"];
    full.extend_from_slice(args);
    let mut command: Command = fixture.command(&full);
    match docker_config {
        Some(dir) => command.env("DOCKER_CONFIG", dir),
        None => command.env("DOCKER_CONFIG", fixture.outside.join("no-docker-config")),
    };
    run(&mut command)
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_push -- --ignored"]
fn pushed_images_pull_by_digest_and_run() {
    let _engine = registry_lock();
    let registry = Registry::start(true);
    let config = registry.docker_config(&registry.login.as_ref().unwrap().1);
    let fixture = Fixture::copy("single-bin");
    let prefix = namespace(&registry.host, "pull");
    let tags = single_bin_tags(&prefix);
    let _refs = Refs(tags.clone());
    let metadata = fixture.outside.join("out/images.json");
    std::fs::create_dir_all(metadata.parent().unwrap()).unwrap();
    let metadata_arg = metadata.display().to_string();
    let args = [
        "--registry",
        &prefix,
        "--push",
        "--metadata-file",
        &metadata_arg,
        "--message-format",
        "json",
    ];
    let out = build(&fixture, &args, Some(config.path()));
    out.assert_success("build --push");
    let json = BuildJson::parse(&out, "build --push");
    let image = &json.summary["images"][0];
    assert_eq!(image["status"], "built", "{image}");
    assert_eq!(image["push"]["status"], "pushed", "{image}");
    let digest = image["push"]["digest"]
        .as_str()
        .expect("a digest")
        .to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    let pushed: Vec<_> = events_of(&json.events, "image-pushed").collect();
    assert_eq!(pushed.len(), 1, "one image-pushed event: {:?}", json.events);
    assert_eq!(pushed[0]["digest"], digest.as_str());
    assert_eq!(pushed[0]["registry"], registry.host.as_str());
    assert_eq!(pushed[0]["tags"], serde_json::json!(tags));

    // The metadata file: buildx's keys, the same digest.
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&metadata).expect("the metadata file"))
            .expect("the metadata file is JSON");
    let entry = &written["single-bin"];
    assert_eq!(entry["containerimage.digest"], digest.as_str(), "{written}");
    assert_eq!(entry["image.name"], tags.join(","), "{written}");
    assert_eq!(entry["binary"], "single-bin");
    assert_eq!(entry["stage"], "single-bin");
    assert_eq!(entry["platform"], "linux/amd64");
    assert_eq!(entry["status"], "pushed");
    assert!(entry["size"].as_u64().unwrap_or_default() > 0, "{written}");
    assert!(entry.get("error").is_none(), "{written}");

    // What the registry holds is the image: gone locally, pulled by digest, it runs.
    docker_ok(&["rmi", "-f", &tags[0], &tags[1]]);
    let by_digest = format!("{prefix}/single-bin@{digest}");
    let _pulled = Refs(vec![by_digest.clone()]);
    let mut pull = Command::new("docker");
    pull.args(["pull", &by_digest])
        .env("DOCKER_CONFIG", config.path());
    run(&mut pull).assert_success("docker pull by digest, logged in");
    let ran = common::docker::run_container(&[&by_digest]);
    assert_eq!(ran.trim(), GREETING);
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_push -- --ignored"]
fn a_wrong_password_fails_the_push_at_once_with_one_clear_line() {
    let _engine = registry_lock();
    let registry = Registry::start(true);
    let config = registry.docker_config("not-the-password");
    let fixture = Fixture::copy("single-bin");
    let prefix = namespace(&registry.host, "wrongpw");
    let tags = single_bin_tags(&prefix);
    let _refs = Refs(tags.clone());
    let metadata = fixture.outside.join("images.json");
    let metadata_arg = metadata.display().to_string();
    let out = build(
        &fixture,
        &[
            "--registry",
            &prefix,
            "--push",
            "--metadata-file",
            &metadata_arg,
        ],
        Some(config.path()),
    );
    let error = out.assert_one_error(4, "build --push with a wrong password");
    assert!(
        error.contains(&format!(
            "failed to push `{}` to `{}`",
            tags[0], registry.host
        )) && error.contains("unauthorized"),
        "{error}\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("docker login {}", registry.host)),
        "the hint: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("trying again"),
        "auth errors are not retried: {}",
        out.stderr
    );
    let summary = summary_row(&out);
    assert!(summary.contains("PUSH FAILED"), "{summary}");
    assert!(!summary.contains(" pushed "), "{summary}");
    let written = std::fs::read_to_string(&metadata).expect("written also when the push failed");
    let entry: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(entry["single-bin"]["status"], "push-failed");
    assert!(entry["single-bin"].get("containerimage.digest").is_none());
    assert!(
        entry["single-bin"]["error"]
            .as_str()
            .unwrap()
            .contains("unauthorized"),
        "{written}"
    );
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_push -- --ignored"]
fn credentials_come_from_a_credential_helper() {
    let _engine = registry_lock();
    let registry = Registry::start(true);
    let (user, password) = registry.login.clone().unwrap();
    // `credHelpers` names `docker-credential-dztest`, found on PATH, which answers `get` with the login.
    let config = tempfile::tempdir().unwrap();
    let helper = config.path().join("docker-credential-dztest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = \"{}\" ] || exit 1\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{password}\"}}' \"$server\"\n",
            registry.host
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        config.path().join("config.json"),
        format!(r#"{{"credHelpers": {{"{}": "dztest"}}}}"#, registry.host),
    )
    .unwrap();
    let fixture = Fixture::copy("single-bin");
    let prefix = namespace(&registry.host, "helper");
    let _refs = Refs(single_bin_tags(&prefix));
    let path = format!(
        "{}:{}",
        config.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = fixture.command(&["build", "--registry", &prefix, "--push"]);
    command
        .env("DOCKER_CONFIG", config.path())
        .env("PATH", path);
    let out = run(&mut command);
    out.assert_success("build --push with a credential helper");
    let row = summary_row(&out);
    assert!(row.contains(" pushed ") && row.contains("sha256:"), "{row}");
}

/// The summary table's row of `single-bin` (stderr, human output).
fn summary_row(out: &Run) -> String {
    out.stderr
        .lines()
        .find(|l| l.starts_with("single-bin "))
        .unwrap_or_else(|| panic!("no summary row\n{}", out.stderr))
        .to_string()
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_push -- --ignored"]
fn a_stopped_registry_fails_after_bounded_retries() {
    let _engine = registry_lock();
    let mut registry = Registry::start(false);
    let fixture = Fixture::copy("single-bin");
    let prefix = namespace(&registry.host, "stopped");
    let tags = single_bin_tags(&prefix);
    let _refs = Refs(tags.clone());
    registry.stop();
    let out = build(&fixture, &["--registry", &prefix, "--push"], None);
    let error = out.assert_one_error(4, "build --push to a stopped registry");
    assert!(
        error.contains(&format!(
            "failed to push `{}` to `{}`",
            tags[0], registry.host
        )),
        "{error}"
    );
    assert_eq!(
        out.stderr.matches("trying again").count(),
        2,
        "3 tries in all: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did not answer (tried 3 times)"),
        "{}",
        out.stderr
    );
    let row = summary_row(&out);
    assert!(
        row.contains("PUSH FAILED") && !row.contains(" pushed "),
        "{row}"
    );
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_push -- --ignored"]
fn a_registry_going_away_mid_push_fails_with_one_clear_line() {
    let _engine = registry_lock();
    let registry = Registry::start(false);
    // The image's largest layer is the binary, about 600 kB: the proxy vanishes 100 kB into the upload.
    let proxy = VanishingProxy::start(&registry.host, 100_000);
    let fixture = Fixture::copy("single-bin");
    let prefix = namespace(&proxy.host, "midpush");
    let tags = single_bin_tags(&prefix);
    let _refs = Refs(tags.clone());
    let out = build(
        &fixture,
        &["--registry", &prefix, "--push", "--message-format", "json"],
        None,
    );
    assert!(
        proxy.is_gone(),
        "the push reached the proxy's limit\n{}",
        out.describe("build")
    );
    let error = out.assert_one_error(4, "build --push, registry gone mid-push");
    assert!(
        error.contains(&format!("failed to push `{}` to `{}`", tags[0], proxy.host)),
        "{error}"
    );
    let json = BuildJson::parse(&out, "build --push");
    let push = &json.summary["images"][0]["push"];
    assert_eq!(push["status"], "failed", "{push}");
    assert_eq!(push["reason"], "unreachable", "{push}");
    assert_eq!(push["attempts"], 3, "{push}");
    assert_eq!(events_of(&json.events, "push-retried").count(), 2);
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_push -- --ignored"]
fn an_unknown_registry_host_fails_at_once() {
    let _engine = registry_lock();
    let fixture = Fixture::copy("single-bin");
    let prefix = format!("dz-no-such-registry.invalid/dz-push-{}", std::process::id());
    let tags = single_bin_tags(&prefix);
    let _refs = Refs(tags.clone());
    let out = build(&fixture, &["--registry", &prefix, "--push"], None);
    let error = out.assert_one_error(4, "build --push to an unknown host");
    assert!(
        error.contains(&format!(
            "failed to push `{}` to `dz-no-such-registry.invalid`",
            tags[0]
        )),
        "{error}"
    );
    assert!(!out.stderr.contains("trying again"), "{}", out.stderr);
    assert!(out.stderr.contains("does not resolve"), "{}", out.stderr);
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_push -- --ignored"]
fn a_rebuilt_commit_pushes_the_same_digest_and_another_epoch_another() {
    let _engine = registry_lock();
    let registry = Registry::start(false);
    let fixture = Fixture::copy("single-bin");
    let prefix = namespace(&registry.host, "repro");
    let tags = single_bin_tags(&prefix);
    let _refs = Refs(tags.clone());
    let push = |epoch: &str| {
        let mut command = fixture.command(&[
            "build",
            "--registry",
            &prefix,
            "--push",
            "--no-cache",
            "--sbom",
            "none",
            "--no-provenance",
            "--message-format",
            "json",
        ]);
        command
            .env("DOCKER_CONFIG", fixture.outside.join("no-docker-config"))
            .env("SOURCE_DATE_EPOCH", epoch);
        let out = run(&mut command);
        let json = BuildJson::parse(&out, "build --push");
        let pushed: Vec<serde_json::Value> =
            events_of(&json.events, "image-pushed").cloned().collect();
        assert_eq!(pushed.len(), 1, "{}", out.describe("build --push"));
        assert_eq!(
            pushed[0]["source_date_epoch"],
            epoch.parse::<u64>().unwrap()
        );
        pushed[0]["digest"].as_str().unwrap().to_string()
    };
    // Two `--no-cache` builds of one commit: the engine's images differ (their times), the pushed digest not.
    let first = push("1700000000");
    let second = push("1700000000");
    assert_eq!(
        first, second,
        "the same commit and epoch push the same manifest"
    );
    let third = push("1700000001");
    assert_ne!(first, third, "the epoch reaches the pushed image");
}
