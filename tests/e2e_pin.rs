//! End-to-end: `cargo dockerize pin` against a real registry, and the pinned Dockerfile built by a real engine.
//!
//! The stand-in distroless base is pushed to Debian's `docker-registry` on a loopback port, so it has a real
//! digest; the `single-bin` fixture's workspace table names that base as its runtime. `pin` must write the
//! registry's digest into the `FROM` line and the OCI base labels, `generate --check` must pass, and a plain
//! `docker build --target` (BuildKit) must build it. Then another image is pushed under the same tag (a re-tagged
//! base): the pinned Dockerfile builds the same image as before (same layers), while the same Dockerfile without
//! the pin builds a different one — the control that shows the re-tag would have changed it. The builder base
//! (`rust:…`) has no registry here and the stand-in no digest: `pin` leaves it unpinned with a warning.
//!
//! `#[ignore]`d (run: `cargo test --test e2e_pin -- --ignored`); holds the engine lock; a [`Refs`] guard removes
//! every image it made.

mod common;

use std::time::Duration;

use common::process::run_limited;
use common::registry::{registry_lock, Refs, Registry};
use common::{buildkit_docker, docker_ok, inspect_image, Fixture};

const DISTROLESS: &str = "gcr.io/distroless/cc-debian12:nonroot";
const OTHER: &str = "debian:bookworm-slim";
const BUILD_LIMIT: Duration = Duration::from_secs(1200);

/// `docker build` of `target` in the fixture (BuildKit, as a user's CLI), with `-f file`, tagged `tag`.
fn build(fixture: &Fixture, file: &str, target: &str, tag: &str) -> serde_json::Value {
    let mut command = buildkit_docker();
    command
        .args([
            "build", "-q", "-f", file, "--target", target, "-t", tag, ".",
        ])
        .current_dir(&fixture.root);
    let run = run_limited(&mut command, BUILD_LIMIT).unwrap_or_else(|why| panic!("{why}"));
    run.assert_success(&format!("docker build --target {target} ({file})"));
    inspect_image(tag).unwrap_or_else(|| panic!("`{tag}` was built"))
}

fn layers(image: &serde_json::Value) -> Vec<String> {
    serde_json::from_value(image["RootFS"]["Layers"].clone()).expect("RootFS.Layers")
}

/// The digest the registry gave the pushed `reference`, as the engine recorded it.
fn pushed_digest(reference: &str) -> String {
    let repository = reference.rsplit_once(':').map_or(reference, |(r, _)| r);
    let image = inspect_image(reference).expect("the pushed image");
    let digests: Vec<String> = serde_json::from_value(image["RepoDigests"].clone()).unwrap();
    digests
        .iter()
        .find_map(|d| d.strip_prefix(&format!("{repository}@")))
        .unwrap_or_else(|| panic!("no digest of {repository} in {digests:?}"))
        .to_string()
}

/// `pin` on the fixture: the registry's digest in the runtime base's `FROM` line and labels, `generate --check`
/// passes, `list --format json` shows the pin. The Dockerfile.
fn pin(fixture: &Fixture, base: &str, digest: &str, host: &str) -> String {
    let out = fixture.run(&["pin"]);
    out.assert_code(0, "pin");
    assert!(
        out.stderr
            .contains(&format!("{base}@{digest} (from the registry `{}`)", host)),
        "pin says the registry gave the digest:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("warning: `rust:1-slim-bookworm` is not pinned"),
        "{}",
        out.stderr
    );
    let dockerfile = fixture.dockerfile();
    let from = format!("FROM {base}@{digest} AS single-bin\n");
    assert!(dockerfile.contains(&from), "{from:?} in:\n{dockerfile}");
    for label in [
        format!("org.opencontainers.image.base.name=\"{base}\""),
        format!("org.opencontainers.image.base.digest=\"{digest}\""),
    ] {
        assert!(dockerfile.contains(&label), "{label} in:\n{dockerfile}");
    }
    fixture
        .run(&["generate", "--check"])
        .assert_code(0, "generate --check after pin");
    let listed = fixture.list_json(&[]).1;
    let bases = listed["bases"]
        .as_array()
        .expect("`bases` in list --format json");
    let ours = bases
        .iter()
        .find(|b| b["reference"] == base)
        .expect("the runtime base");
    assert_eq!(ours["digest"], digest);

    dockerfile
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_pin -- --ignored"]
fn a_pinned_base_survives_a_retag() {
    let _lock = registry_lock();
    let registry = Registry::start(false);
    let pid = std::process::id();
    let base = format!("{}/dz-e2e-pin-{pid}/cc:nonroot", registry.host);
    let (pinned_tag, again_tag, control_tag) = (
        format!("dz-e2e-pin-{pid}:pinned"),
        format!("dz-e2e-pin-{pid}:again"),
        format!("dz-e2e-pin-{pid}:unpinned"),
    );
    let _refs = Refs(vec![
        base.clone(),
        pinned_tag.clone(),
        again_tag.clone(),
        control_tag.clone(),
    ]);
    docker_ok(&["tag", DISTROLESS, &base]);
    docker_ok(&["push", &base]);
    let digest = pushed_digest(&base);

    let fixture = Fixture::copy("single-bin");
    fixture.append_to(
        "Cargo.toml",
        &format!(
            "\n[workspace.metadata.dockerize]\nruntime = \"{base}\"\nlibc = \"gnu\"\nstatic = true\n"
        ),
    );
    let dockerfile = pin(&fixture, &base, &digest, &registry.host);

    let first = build(&fixture, "Dockerfile", "single-bin", &pinned_tag);
    let labels = &first["Config"]["Labels"];
    assert_eq!(
        labels["org.opencontainers.image.base.digest"],
        digest.as_str()
    );
    assert_eq!(labels["org.opencontainers.image.base.name"], base.as_str());

    // The base's tag now names another image, in the registry and in the engine.
    docker_ok(&["tag", OTHER, &base]);
    docker_ok(&["push", &base]);
    assert_ne!(
        pushed_digest(&base),
        digest,
        "the re-tag pushed another image"
    );

    let again = build(&fixture, "Dockerfile", "single-bin", &again_tag);
    assert_eq!(
        layers(&again),
        layers(&first),
        "the pinned image kept its base"
    );
    fixture
        .run(&["generate", "--check"])
        .assert_code(0, "generate --check after the re-tag");

    // Control: the same Dockerfile without the pin takes the re-tagged base.
    fixture.write(
        "Dockerfile.unpinned",
        &dockerfile.replace(&format!("{base}@{digest}"), &base),
    );
    let control = build(&fixture, "Dockerfile.unpinned", "single-bin", &control_tag);
    assert_ne!(
        layers(&control),
        layers(&first),
        "an unpinned base follows its tag"
    );
}
