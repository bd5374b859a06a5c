//! Multi-platform images, for real: the `cross` fixture cross-compiled on this amd64 engine for `linux/amd64`
//! and `linux/arm64` (its workspace table's `platforms`), the arm64 binaries run under qemu (Debian's
//! `qemu-user-static` with binfmt_misc, which `.ci/run` sets up), pushed to Debian's `docker-registry` on a
//! loopback port with an OCI image index under each tag.
//!
//! - `greet` (pure Rust, linked by rust-lld) and `zstd-greet` (zstd-sys compiles C for the target with Debian's
//!   cross gcc and musl's specs): static musl on `scratch` for both platforms; `file` says ARM aarch64 and
//!   statically linked, the arm64 image runs as 65532 and prints `arch aarch64`; the index lists exactly the two
//!   pushed manifests with their platforms, and a pull by each digest runs.
//! - `tls-greet` (OpenSSL, glibc, dynamic) for linux/arm64 alone, with Debian's cross toolchain and
//!   `libssl-dev:arm64`: its runtime base is an arm64 image the test makes from Debian's arm64 packages (libc6,
//!   libgcc-s1, libssl3 unpacked with `dpkg-deb`, no emulation) and pushes to the registry, since the engine's
//!   stand-ins are amd64 only; the binary runs against those arm64 libraries and prints OpenSSL's version.
//!
//! Each test is `#[ignore]`d (run: `--ignored`) and holds the engine lock (an engine, the registry tools and
//! qemu must be there, or it fails); a [`Refs`] guard removes the images it made.
//!
//! Run: `cargo test --test e2e_platforms -- --ignored --nocapture`.

mod common;

use std::path::Path;
use std::process::Command;

use common::registry::{registry_lock, Refs, Registry};
use common::{docker, docker_ok, events_of, inspect_image, run, BuildJson, Fixture};
use serde_json::Value;

/// Where Debian's qemu-user-static registers the arm64 interpreter.
const QEMU_AARCH64: &str = "/proc/sys/fs/binfmt_misc/qemu-aarch64";

/// The engine lock, once the registry tools and qemu's binfmt entry are there; panics naming what is missing.
fn gate() -> std::sync::MutexGuard<'static, ()> {
    let guard = registry_lock();
    assert!(
        Path::new(QEMU_AARCH64).exists(),
        "this engine test cannot run: `{QEMU_AARCH64}` is missing (apt-get install qemu-user-static \
         binfmt-support, with binfmt_misc mounted)"
    );
    guard
}

/// `docker run --platform <p>` of an image: its stdout (the run must succeed).
fn run_on(platform: &str, reference: &str) -> String {
    common::docker::run_container(&["--network", "none", "--platform", platform, reference])
}

/// What `file` says of the executable `binary` copied out of `reference`.
fn file_of(reference: &str, binary: &str, dir: &Path) -> String {
    let container = docker_ok(&["create", reference]).trim().to_string();
    let out = dir.join(format!("{binary}-{}", reference.len()));
    let copied = docker(&[
        "cp",
        &format!("{container}:/usr/local/bin/{binary}"),
        &out.display().to_string(),
    ]);
    let _ = docker(&["rm", &container]);
    copied.assert_success("docker cp");
    run(Command::new("file").arg(&out)).stdout
}

/// The manifest the registry serves under `reference` (plain HTTP), and its digest.
fn fetch_manifest(reference: &str) -> (Value, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::try_from(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    })
    .expect("an oci client");
    let parsed: oci_client::Reference = reference.parse().expect("a reference");
    let accepted = [oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE];
    let (bytes, digest) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(client.pull_manifest_raw(
            &parsed,
            &oci_client::secrets::RegistryAuth::Anonymous,
            &accepted,
        ))
        .unwrap_or_else(|e| panic!("fetch {reference}: {e}"));
    (
        serde_json::from_slice(&bytes).expect("a JSON manifest"),
        digest,
    )
}

#[test]
#[ignore = "needs a Docker engine, docker-registry and qemu-user-static: cargo test --test e2e_platforms -- --ignored"]
fn two_platforms_cross_compile_push_an_index_and_run_by_digest() {
    let _engine = gate();
    let registry = Registry::start(false);
    let prefix = format!("{}/dz-platforms-{}", registry.host, std::process::id());
    let fixture = Fixture::copy("cross");
    let binaries = ["greet", "zstd-greet"];
    let mut refs = Refs(Vec::new());
    for binary in binaries {
        for tag in ["0.1.0", "latest"] {
            for suffix in ["amd64", "arm64"] {
                refs.0.push(format!("{prefix}/{binary}:{tag}-{suffix}"));
            }
        }
    }
    let metadata = fixture.outside.join("images.json");
    let metadata_arg = metadata.display().to_string();
    let build = fixture.build_json(&[
        "--bin",
        "greet",
        "--bin",
        "zstd-greet",
        "--registry",
        &prefix,
        "--push",
        "--metadata-file",
        &metadata_arg,
    ]);
    println!(
        "e2e: cross: 2 images for 2 platforms built and pushed in {:.1}s",
        build.seconds
    );
    let images = build.summary["images"].as_array().expect("summary.images");
    assert_eq!(images.len(), 4, "{images:?}");

    // Every compile ran in a builder on the build platform: no step of an arm64 builder ran in an arm64 stage.
    let started: Vec<&Value> = events_of(&build.events, "build-started").collect();
    assert_eq!(started.len(), 4);
    assert!(started
        .iter()
        .any(|e| e["platform"] == "linux/arm64" && e["image"] == "greet@arm64"));

    let digests = check_platform_images(&prefix, &binaries, images);
    check_indexes(&prefix, &binaries, &build.summary, &metadata, &digests);
    pull_and_run_by_digest(&prefix, &digests, &mut refs);
}

/// Each platform's manifest digest, by binary and platform.
type Digests = std::collections::BTreeMap<(&'static str, &'static str), String>;

/// Every image of `binaries` for both platforms: its architecture, user, static executable and what it prints
/// there, and the digest its push gave.
fn check_platform_images(prefix: &str, binaries: &[&'static str], images: &[Value]) -> Digests {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut platform_digests = Digests::new();
    for &binary in binaries {
        for (platform, suffix, arch) in [
            ("linux/amd64", "amd64", "x86_64"),
            ("linux/arm64", "arm64", "aarch64"),
        ] {
            let tag = format!("{prefix}/{binary}:0.1.0-{suffix}");
            let image = inspect_image(&tag).unwrap_or_else(|| panic!("`{tag}` exists"));
            assert_eq!(image["Architecture"], suffix, "{tag}");
            assert_eq!(image["Config"]["User"], "65532:65532", "{tag}");
            let says = file_of(&tag, binary, dir.path());
            assert!(
                says.contains("statically linked") || says.contains("static-pie linked"),
                "{tag}: {says}"
            );
            if suffix == "arm64" {
                assert!(says.contains("ARM aarch64"), "{tag}: {says}");
            }
            let out = run_on(platform, &tag);
            assert!(
                out.starts_with(&format!("hello from {binary}\narch {arch}")),
                "{tag}: {out}"
            );
            let entry = images
                .iter()
                .find(|i| i["binary"] == binary && i["platform"] == platform)
                .unwrap_or_else(|| panic!("a summary entry for {binary} on {platform}"));
            assert_eq!(entry["push"]["status"], "pushed", "{entry}");
            let digest = entry["push"]["digest"].as_str().unwrap().to_string();
            platform_digests.insert((binary, platform), digest);
        }
    }

    platform_digests
}

/// The index under each plain tag lists exactly the two pushed manifests, with their platforms; the metadata
/// file says the same.
fn check_indexes(
    prefix: &str,
    binaries: &[&'static str],
    summary: &Value,
    metadata: &Path,
    platform_digests: &Digests,
) {
    let indexes = summary["indexes"].as_array().expect("summary.indexes");
    assert_eq!(indexes.len(), 2, "{indexes:?}");
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(metadata).expect("the metadata file"))
            .expect("JSON");
    for &binary in binaries {
        let index = indexes
            .iter()
            .find(|i| i["binary"] == binary)
            .expect("an index");
        assert_eq!(index["status"], "pushed", "{index}");
        let digest = index["digest"].as_str().unwrap().to_string();
        for tag in ["0.1.0", "latest"] {
            let (served, served_digest) = fetch_manifest(&format!("{prefix}/{binary}:{tag}"));
            assert_eq!(served_digest, digest, "`{binary}:{tag}` serves the index");
            assert_eq!(
                served["mediaType"],
                "application/vnd.oci.image.index.v1+json"
            );
            let listed: Vec<(String, String)> = served["manifests"]
                .as_array()
                .expect("manifests")
                .iter()
                .map(|m| {
                    (
                        format!(
                            "{}/{}",
                            m["platform"]["os"].as_str().unwrap(),
                            m["platform"]["architecture"].as_str().unwrap()
                        ),
                        m["digest"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let expected: Vec<(String, String)> = ["linux/amd64", "linux/arm64"]
                .iter()
                .map(|p| (p.to_string(), platform_digests[&(binary, *p)].clone()))
                .collect();
            assert_eq!(listed, expected, "{served}");
        }
        let entry = &written[binary];
        assert_eq!(entry["containerimage.digest"], digest.as_str(), "{written}");
        assert_eq!(
            entry["platform-images"]["linux/arm64"]["containerimage.digest"],
            platform_digests[&(binary, "linux/arm64")].as_str(),
            "{written}"
        );
    }
}

/// Pulled by each platform's digest (with nothing of it left locally), each runs.
fn pull_and_run_by_digest(prefix: &str, platform_digests: &Digests, refs: &mut Refs) {
    for tag in refs.0.clone() {
        let _ = docker(&["rmi", "-f", &tag]);
    }
    for ((binary, platform), digest) in platform_digests {
        let by_digest = format!("{prefix}/{binary}@{digest}");
        refs.0.push(by_digest.clone());
        docker_ok(&["pull", &by_digest]);
        let arch = if *platform == "linux/arm64" {
            "aarch64"
        } else {
            "x86_64"
        };
        let out = run_on(platform, &by_digest);
        assert!(out.contains(&format!("arch {arch}")), "{by_digest}: {out}");
    }
}

/// An arm64 base with glibc, libgcc and OpenSSL 3 from Debian bookworm's arm64 packages, unpacked (no package
/// scripts, so nothing runs under emulation) into an image built for linux/arm64, pushed as `reference`.
fn push_arm64_glibc_base(reference: &str, refs: &mut Refs) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rootfs = dir.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc/ssl/certs")).unwrap();
    std::fs::copy(
        "/etc/ssl/certs/ca-certificates.crt",
        rootfs.join("etc/ssl/certs/ca-certificates.crt"),
    )
    .expect("the host's CA bundle");
    let script = "set -e; dpkg --add-architecture arm64; apt-get update -qq; cd /tmp; \
                  apt-get download -qq libc6:arm64 libgcc-s1:arm64 libssl3:arm64; \
                  for deb in *.deb; do dpkg-deb -x \"$deb\" /rootfs; done";
    docker_ok(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/rootfs", rootfs.display()),
        "debian:bookworm-slim",
        "sh",
        "-c",
        script,
    ]);
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM scratch\nCOPY rootfs/ /\n",
    )
    .unwrap();
    refs.0.push(reference.to_string());
    let mut build = Command::new("docker");
    build
        .args(["build", "-q", "--platform", "linux/arm64", "-t", reference])
        .arg(dir.path())
        .env("DOCKER_BUILDKIT", "0");
    run(&mut build).assert_success("docker build of the arm64 base");
    docker_ok(&["push", reference]);
    // Gone locally: BuildKit takes it from the registry, by platform, as it would a real distroless image.
    docker_ok(&["rmi", reference]);
}

#[test]
#[ignore = "needs a Docker engine, docker-registry and qemu-user-static: cargo test --test e2e_platforms -- --ignored"]
fn glibc_with_openssl_cross_compiles_for_arm64_and_runs_on_arm64_libraries() {
    let _engine = gate();
    let registry = Registry::start(false);
    let mut refs = Refs(Vec::new());
    let base = format!("{}/dz-arm64-glibc-base:nonroot", registry.host);
    push_arm64_glibc_base(&base, &mut refs);
    let fixture = Fixture::copy("cross");
    fixture.append_to(
        "crates/tls-greet/Cargo.toml",
        &format!("\n[package.metadata.dockerize]\nruntime = \"{base}\"\n"),
    );
    let prefix = format!("dz-platforms-{}", std::process::id());
    let template = format!("{prefix}/{{bin}}:t");
    let tag = format!("{prefix}/tls-greet:t");
    refs.0.push(tag.clone());
    let list = fixture.run(&["list", "-v", "--platform", "linux/arm64"]);
    list.assert_success("list -v");
    assert!(
        list.stdout.contains("aarch64-unknown-linux-gnu"),
        "{}",
        list.stdout
    );
    let build: BuildJson = fixture.build_json(&[
        "--platform",
        "linux/arm64",
        "--bin",
        "tls-greet",
        "-t",
        &template,
    ]);
    println!(
        "e2e: cross: tls-greet (glibc, OpenSSL) for linux/arm64 built in {:.1}s",
        build.seconds
    );
    let dockerfile = fixture.dockerfile();
    assert!(
        dockerfile.contains("libssl-dev:arm64") && dockerfile.contains("gcc-aarch64-linux-gnu"),
        "{dockerfile}"
    );
    let image = inspect_image(&tag).expect("the image");
    assert_eq!(image["Architecture"], "arm64");
    let dir = tempfile::tempdir().unwrap();
    let says = file_of(&tag, "tls-greet", dir.path());
    assert!(
        says.contains("ARM aarch64")
            && says.contains("dynamically linked")
            && says.contains("ld-linux-aarch64.so.1"),
        "{says}"
    );
    let out = run_on("linux/arm64", &tag);
    assert!(
        out.starts_with("hello from tls-greet\narch aarch64 OpenSSL 3."),
        "{out}"
    );
}
