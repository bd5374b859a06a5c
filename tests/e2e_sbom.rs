//! The embedded dependency section, made by the tool's own builders: the `sbom` fixture's images built with
//! `cargo dockerize build` for `linux/amd64` and, cross-compiled, `linux/arm64`; the binary copied out of each
//! built image (`docker create` + `docker cp`, nothing runs) is read back with `rust-audit-info` on the host and
//! must give the JSON the host computes for that build: the crates of the plan's list of builds
//! (`sbom::crate_queries`, resolved with the host's own `cargo tree`), per platform. With `--no-auditable` the
//! binary has no section.
//!
//! And attached on `--push`: `single-bin` pushed to Debian's `docker-registry` on loopback (no referrers API),
//! its SBOMs and provenance found from the image's digest alone through the referrers tag schema
//! (`sha256-<hex>`), each artifact fetched by digest over plain HTTP (curl), its `subject` the image, each document
//! valid (the vendored SPDX and CycloneDX schemas, the in-toto/SLSA check); a second push adds to the tag's list
//! and keeps what was there.
//!
//! `#[ignore]`d (run: `--ignored`), holding [`common::engine_lock`]: an engine must answer.

mod common;

use std::process::Command;

use camino::Utf8PathBuf;
use cargo_dockerize::sbom;
use cargo_dockerize::sbom::auditable;
use cargo_dockerize::workspace::resolve_crates;
use common::registry::{registry_lock, Refs, Registry};
use common::{
    docker, docker_ok, engine_lock, events_of, library, run, BuildJson, Fixture, TestImages,
};
use serde_json::Value;

const FEATURES: &str = "alpha/fast";

/// The binary at `path` in the image `reference`, copied to `to` (`docker create` + `docker cp`).
fn copy_out(reference: &str, path: &str, to: &std::path::Path) {
    let id = docker_ok(&["create", reference, "x"]).trim().to_string();
    let copied = docker(&["cp", &format!("{id}:{path}"), to.to_str().expect("UTF-8")]);
    let _ = docker(&["rm", "-f", &id]);
    copied.assert_success(&format!("docker cp {reference}:{path}"));
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_sbom -- --ignored"]
fn the_built_images_binaries_carry_what_their_builds_compiled() {
    let _engine = engine_lock();
    let images = TestImages::new("embed");
    let copy = Fixture::copy("sbom");
    let flags = [
        "--features",
        FEATURES,
        "--platform",
        "linux/amd64,linux/arm64",
    ];
    let template = images.template("1");
    let mut args = vec!["build", "-t", &template];
    args.extend(flags);
    copy.run(&args).assert_code(0, "cargo dockerize build");
    let plan = library::plan_fixture(&copy.manifest(), &library::settings(&flags));
    let root = Utf8PathBuf::from_path_buf(copy.root.clone()).expect("a UTF-8 path");
    let mut checked = Vec::new();
    for build in sbom::crate_queries(&plan) {
        let Some((stage, arch)) = build.build.split_once('@') else {
            panic!(
                "a build of two platforms names its platform: {}",
                build.build
            )
        };
        if stage.ends_with("-debug") {
            continue;
        }
        let sets = resolve_crates(&root, &build.query).expect("cargo tree answers");
        let binary = copy.outside.join(format!("{stage}-{arch}"));
        copy_out(
            &images.tag(stage, &format!("1-{arch}")),
            &format!("/usr/local/bin/{stage}"),
            &binary,
        );
        let read = run(Command::new("rust-audit-info").arg(&binary));
        read.assert_success(&format!("rust-audit-info {}", build.build));
        assert_eq!(
            read.stdout.trim_end(),
            auditable::version_info(&sets[&build.package]),
            "{}",
            build.build
        );
        checked.push(build.build);
    }
    assert_eq!(
        checked,
        ["alpha@amd64", "alpha@arm64", "beta@amd64", "beta@arm64"]
    );

    // Turned off: the same build without the section.
    let template = images.template("off");
    copy.run(&[
        "build",
        "--no-auditable",
        "-t",
        &template,
        "--features",
        FEATURES,
    ])
    .assert_code(0, "cargo dockerize build --no-auditable");
    let binary = copy.outside.join("alpha-off");
    copy_out(&images.tag("alpha", "off"), "/usr/local/bin/alpha", &binary);
    let read = run(Command::new("rust-audit-info").arg(&binary));
    assert_ne!(
        read.code,
        Some(0),
        "no section with --no-auditable: {}",
        read.stdout
    );
}

/// `GET http://<host>/v2/<path>` with `accept`, as bytes; the test fails on any error status.
fn get(host: &str, path: &str, accept: &str) -> Vec<u8> {
    let out = Command::new("curl")
        .args(["-sSf", "-H", &format!("Accept: {accept}")])
        .arg(format!("http://{host}/v2/{path}"))
        .output()
        .expect("curl runs (apt-get install curl)");
    assert!(
        out.status.success(),
        "GET {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("JSON")
}

/// `single-bin` pushed with `args`: the image's manifest digest, and the `documents-attached` event.
fn push(fixture: &Fixture, prefix: &str, args: &[&str]) -> (String, Value, BuildJson) {
    let mut full = vec![
        "build",
        "--registry",
        prefix,
        "--push",
        "--message-format",
        "json",
    ];
    full.extend_from_slice(args);
    let mut command = fixture.command(&full);
    command.env("DOCKER_CONFIG", fixture.outside.join("no-docker-config"));
    let out = run(&mut command);
    out.assert_success("build --push");
    let json = BuildJson::parse(&out, "build --push");
    let digest = json.summary["images"][0]["push"]["digest"]
        .as_str()
        .expect("a pushed digest")
        .to_string();
    let attached: Vec<&Value> = events_of(&json.events, "documents-attached").collect();
    assert_eq!(attached.len(), 1, "one manifest: {:?}", json.events);
    let event = attached[0].clone();
    assert_eq!(event["subject"], digest.as_str(), "{event}");
    (digest, event, json)
}

/// The artifact `manifest_digest` of `repository`: its `subject` is `digest`, its type `artifact_type`, and its
/// document (written into `dir`) validates and names the binary.
fn check_artifact(
    host: &str,
    repository: &str,
    digest: &str,
    manifest_digest: &str,
    artifact_type: &str,
    dir: &std::path::Path,
) {
    let hex = digest.trim_start_matches("sha256:");
    let manifest = json(&get(
        host,
        &format!("{repository}/manifests/{manifest_digest}"),
        "application/vnd.oci.image.manifest.v1+json",
    ));
    assert_eq!(manifest["subject"]["digest"], digest, "{manifest}");
    assert_eq!(manifest["artifactType"], artifact_type);
    let layer = &manifest["layers"][0];
    let document = get(
        host,
        &format!("{repository}/blobs/{}", layer["digest"].as_str().unwrap()),
        "*/*",
    );
    let title = layer["annotations"]["org.opencontainers.image.title"]
        .as_str()
        .unwrap();
    let path = dir.join(title);
    std::fs::write(&path, &document).unwrap();
    let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas");
    let check = |schema: &str| {
        let schema = schemas.join(schema);
        run(Command::new("check-jsonschema")
            .arg("--schemafile")
            .arg(&schema)
            .args(["--base-uri", &format!("file://{}", schema.display())])
            .arg(&path))
    };
    let checked = match artifact_type {
        "application/spdx+json" => check("spdx-2.3/spdx-schema.json"),
        "application/vnd.cyclonedx+json" => check("cyclonedx-1.6/bom-1.6.schema.json"),
        "application/vnd.in-toto+json" => {
            let statement = json(&document);
            assert_eq!(
                statement["subject"][0]["digest"]["sha256"], hex,
                "{statement}"
            );
            run(Command::new("python3")
                .arg(schemas.join("slsa-provenance-1/check.py"))
                .arg(&path))
        }
        other => panic!("an unexpected artifact type `{other}`"),
    };
    checked.assert_success(&format!("validate {}", path.display()));
    assert!(
        String::from_utf8_lossy(&document).contains("single-bin"),
        "the document names the binary: {}",
        path.display()
    );
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_sbom -- --ignored"]
fn pushed_images_carry_their_sboms_and_provenance_as_referrers() {
    let _engine = registry_lock();
    let registry = Registry::start(false);
    let fixture = Fixture::copy("single-bin");
    let prefix = format!("{}/dz-attest-{}", registry.host, std::process::id());
    let repository = format!("dz-attest-{}/single-bin", std::process::id());
    let _refs = Refs(vec![
        format!("{prefix}/single-bin:0.1.0"),
        format!("{prefix}/single-bin:latest"),
    ]);
    let metadata = fixture.outside.join("images.json");
    let metadata_arg = metadata.display().to_string();
    let (digest, event, _) = push(&fixture, &prefix, &["--metadata-file", &metadata_arg]);
    let kinds: Vec<&str> = event["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["spdx", "cyclonedx", "provenance"], "{event}");
    let hex = digest.trim_start_matches("sha256:");
    assert_eq!(event["referrers_tag"], format!("sha256-{hex}"));
    let written: Value = json(&std::fs::read(&metadata).expect("the metadata file"));
    assert_eq!(
        written["single-bin"]["documents"], event["documents"],
        "{written}"
    );

    // From the image's digest alone: the fallback tag's index lists the three artifacts.
    let listed = referrers(&registry.host, &repository, &digest);
    assert_eq!(listed.len(), 3, "{listed:?}");
    let dir = tempfile::tempdir().unwrap();
    for (manifest_digest, artifact_type) in &listed {
        check_artifact(
            &registry.host,
            &repository,
            &digest,
            manifest_digest,
            artifact_type,
            dir.path(),
        );
    }

    // Pushed again with one SBOM and no provenance: its artifact joins the list, the others stay.
    let (again, event, _) = push(&fixture, &prefix, &["--sbom", "spdx", "--no-provenance"]);
    assert_eq!(again, digest, "the same image, cached");
    assert_eq!(event["documents"].as_array().unwrap().len(), 1, "{event}");
    let now: Vec<String> = referrers(&registry.host, &repository, &digest)
        .into_iter()
        .map(|(d, _)| d)
        .collect();
    for (kept, _) in &listed {
        assert!(now.contains(kept), "{kept} kept: {now:?}");
    }
    let added = event["documents"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(now.contains(&added), "{now:?}");
}

/// The referrers listed under the fallback tag of `digest` in `repository`: `(artifact digest, artifact type)`.
fn referrers(host: &str, repository: &str, digest: &str) -> Vec<(String, String)> {
    let hex = digest.trim_start_matches("sha256:");
    let index = json(&get(
        host,
        &format!("{repository}/manifests/sha256-{hex}"),
        "application/vnd.oci.image.index.v1+json",
    ));
    index["manifests"]
        .as_array()
        .expect("an index")
        .iter()
        .map(|m| {
            (
                m["digest"].as_str().unwrap().to_string(),
                m["artifactType"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Two images on two platforms, pushed: each platform's manifest gets its own SBOMs and provenance, for its own
/// target (the SPDX documents of amd64 and arm64 differ), and each index gets the provenance of its platforms.
#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_sbom -- --ignored"]
fn a_multi_platform_push_gives_one_sbom_per_platform() {
    let _engine = registry_lock();
    let registry = Registry::start(false);
    let copy = Fixture::copy("sbom");
    let namespace = format!("dz-attest-multi-{}", std::process::id());
    let prefix = format!("{}/{namespace}", registry.host);
    let mut command = copy.command(&[
        "build",
        "--registry",
        &prefix,
        "--push",
        "--sbom",
        "spdx",
        "--message-format",
        "json",
        "--features",
        FEATURES,
        "--platform",
        "linux/amd64,linux/arm64",
    ]);
    command.env("DOCKER_CONFIG", copy.outside.join("no-docker-config"));
    let out = run(&mut command);
    let mut refs = Vec::new();
    for image in ["alpha", "beta"] {
        for tag in ["0.1.0", "latest"] {
            for arch in ["amd64", "arm64"] {
                refs.push(format!("{prefix}/{image}:{tag}-{arch}"));
            }
        }
    }
    let _refs = Refs(refs);
    out.assert_success("build --push, two platforms");
    let json_out = BuildJson::parse(&out, "build --push");
    let attached: Vec<&Value> = events_of(&json_out.events, "documents-attached").collect();
    assert_eq!(
        attached.len(),
        6,
        "4 platform manifests and 2 indexes: {attached:?}"
    );
    for image in ["alpha", "beta"] {
        let repository = format!("{namespace}/{image}");
        let mine: Vec<&&Value> = attached
            .iter()
            .filter(|e| {
                e["repository"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/{image}"))
            })
            .collect();
        let mut sboms = Vec::new();
        for event in &mine {
            let subject = event["subject"].as_str().unwrap();
            let listed = referrers(&registry.host, &repository, subject);
            let types: Vec<&str> = listed.iter().map(|(_, t)| t.as_str()).collect();
            match event["platform"].as_str() {
                Some(_) => {
                    assert_eq!(
                        types,
                        ["application/spdx+json", "application/vnd.in-toto+json"]
                    );
                    let manifest = json(&get(
                        &registry.host,
                        &format!("{repository}/manifests/{}", listed[0].0),
                        "application/vnd.oci.image.manifest.v1+json",
                    ));
                    assert_eq!(manifest["subject"]["digest"], subject);
                    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
                    sboms.push(get(
                        &registry.host,
                        &format!("{repository}/blobs/{layer}"),
                        "*/*",
                    ));
                }
                None => assert_eq!(
                    types,
                    [
                        "application/vnd.in-toto+json",
                        "application/vnd.in-toto+json"
                    ],
                    "the index: each platform's provenance"
                ),
            }
        }
        assert_eq!(mine.len(), 3, "{image}: two platforms and the index");
        assert_eq!(sboms.len(), 2);
        assert_ne!(sboms[0], sboms[1], "{image}: each platform its own SBOM");
    }
}
