//! A multi-platform index put into a real registry by the library's `push_index`, over per-platform images the
//! engine pushed: Debian's `docker-registry` on loopback ports, one without auth and one with htpasswd auth.
//!
//! The images are made without pulling anything: `FROM scratch` and one file, built by the classic builder
//! with `--platform` (Engine 20.10's `docker import --platform` keeps the engine's own platform), one per
//! platform, `--no-cache` (the classic builder's cache does not key on the platform: an arm/v7 build reuses an
//! arm64 one), and a file unique to the test. Each test is `#[ignore]`d (run: `--ignored`) and
//! holds the engine lock (an engine, `docker-registry` and `htpasswd` must be there); a [`Refs`] guard removes
//! the images.

mod common;

use std::process::Command;

use bollard::auth::DockerCredentials;
use common::library::{digest_of, push_index, IndexError, PlatformManifest};
use common::registry::{registry_lock, Refs, Registry};
use common::{docker_ok, inspect_image, run};
use oci_client::secrets::RegistryAuth;

/// The platforms of every test, with the tag suffix each gets.
const PLATFORMS: [(&str, &str); 2] = [("linux/amd64", "amd64"), ("linux/arm64", "arm64")];

/// One pushed per-platform image.
struct Pushed {
    platform: String,
    tag: String,
    digest: String,
    /// The local image id, to know which one a pull of the index gives.
    id: String,
}

/// Builds `<repo>:1-<suffix>` for each platform and pushes it with `docker_config`'s credentials.
fn build_and_push(repo: &str, docker_config: &std::path::Path, refs: &mut Refs) -> Vec<Pushed> {
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM scratch\nCOPY hello.txt /\n",
    )
    .unwrap();
    std::fs::write(context.path().join("hello.txt"), format!("{repo}\n")).unwrap();
    let mut pushed = Vec::new();
    for (platform, suffix) in PLATFORMS {
        let tag = format!("{repo}:1-{suffix}");
        refs.0.push(tag.clone());
        let mut build = Command::new("docker");
        build
            .args([
                "build",
                "-q",
                "--no-cache",
                "--platform",
                platform,
                "-t",
                &tag,
            ])
            .arg(context.path())
            .env("DOCKER_BUILDKIT", "0");
        run(&mut build).assert_success(&format!("docker build --platform {platform}"));
        let image = inspect_image(&tag).expect("the image just built");
        let (os, arch) = platform.split_once('/').unwrap();
        assert_eq!(
            (image["Os"].as_str(), image["Architecture"].as_str()),
            (Some(os), Some(arch))
        );
        let mut push = Command::new("docker");
        push.args(["push", &tag])
            .env("DOCKER_CONFIG", docker_config);
        let out = run(&mut push);
        out.assert_success(&format!("docker push {tag}"));
        let digest = out
            .stdout
            .lines()
            .find_map(digest_of)
            .unwrap_or_else(|| panic!("no digest in `docker push {tag}`:\n{}", out.stdout))
            .to_string();
        pushed.push(Pushed {
            platform: platform.to_string(),
            tag,
            digest,
            id: image["Id"].as_str().unwrap().to_string(),
        });
    }
    pushed
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn manifests(pushed: &[Pushed]) -> Vec<PlatformManifest> {
    pushed
        .iter()
        .map(|p| PlatformManifest {
            platform: p.platform.parse().expect("a platform the tool supports"),
            digest: p.digest.clone(),
        })
        .collect()
}

/// What the registry serves under `reference`, read with `oci-client` (which checks the bytes against the
/// digest): the JSON and its digest.
fn fetch(reference: &str, auth: &RegistryAuth) -> (serde_json::Value, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::try_from(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    })
    .unwrap();
    let reference: oci_client::Reference = reference.parse().unwrap();
    let accepted = [oci_client::manifest::OCI_IMAGE_INDEX_MEDIA_TYPE];
    let (bytes, digest) = block_on(client.pull_manifest_raw(&reference, auth, &accepted))
        .unwrap_or_else(|e| panic!("fetch {reference}: {e}"));
    (serde_json::from_slice(&bytes).unwrap(), digest)
}

/// The checks both tests make: the index under the tag, and a pull of it by digest on the engine.
fn assert_index(
    repo: &str,
    digest: &str,
    pushed: &[Pushed],
    auth: &RegistryAuth,
    docker_config: &std::path::Path,
    refs: &mut Refs,
) {
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    let (index, served) = fetch(&format!("{repo}:1"), auth);
    assert_eq!(served, digest, "the tag serves the index pushed");
    assert_eq!(
        index["mediaType"], "application/vnd.oci.image.index.v1+json",
        "{index}"
    );
    let listed: Vec<(String, String, String)> = index["manifests"]
        .as_array()
        .expect("a manifests array")
        .iter()
        .map(|m| {
            let platform = format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            );
            (
                platform,
                m["digest"].as_str().unwrap().to_string(),
                m["mediaType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = pushed
        .iter()
        .map(|p| {
            (
                p.platform.clone(),
                p.digest.clone(),
                "application/vnd.docker.distribution.manifest.v2+json".to_string(),
            )
        })
        .collect();
    assert_eq!(listed, expected, "{index}");

    // The engine pulls the index by digest and picks its own platform's image.
    for p in pushed {
        docker_ok(&["rmi", "-f", &p.tag]);
    }
    let by_digest = format!("{repo}@{digest}");
    refs.0.push(by_digest.clone());
    let mut pull = Command::new("docker");
    pull.args(["pull", &by_digest])
        .env("DOCKER_CONFIG", docker_config);
    run(&mut pull).assert_success("docker pull <repo>@<index digest>");
    let image = inspect_image(&by_digest).expect("the pulled image");
    assert_eq!(image["Architecture"], "amd64", "{image}");
    assert_eq!(
        image["Id"].as_str(),
        Some(pushed[0].id.as_str()),
        "the amd64 image: {image}"
    );
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_index -- --ignored"]
fn an_index_over_engine_pushed_images_pulls_on_the_engine() {
    let _engine = registry_lock();
    let registry = Registry::start(false);
    let no_config = tempfile::tempdir().unwrap();
    let repo = format!(
        "{}/dz-index-{}-anon/tiny",
        registry.host,
        std::process::id()
    );
    let mut refs = Refs(Vec::new());
    let pushed = build_and_push(&repo, no_config.path(), &mut refs);
    let reference = format!("{repo}:1");

    // The same inputs in either order give the same index, and so the same digest.
    let digest =
        block_on(push_index(&reference, &manifests(&pushed), None, true)).expect("push_index");
    let mut reversed = manifests(&pushed);
    reversed.reverse();
    let again = block_on(push_index(&reference, &reversed, None, true)).expect("push_index again");
    assert_eq!(again, digest);

    // An image listed under a platform it was not built for is refused, and the tag keeps the good index.
    let lying = [PlatformManifest {
        platform: cargo_dockerize::platform::Platform::LinuxArm64,
        digest: pushed[0].digest.clone(),
    }];
    let error = block_on(push_index(&format!("{repo}:lying"), &lying, None, true)).unwrap_err();
    assert!(
        matches!(&error, IndexError::ChildPlatform { found, .. } if found == "linux/amd64"),
        "{error:?}"
    );

    assert_index(
        &repo,
        &digest,
        &pushed,
        &RegistryAuth::Anonymous,
        no_config.path(),
        &mut refs,
    );
}

#[test]
#[ignore = "needs a Docker engine and docker-registry: cargo test --test e2e_index -- --ignored"]
fn an_index_goes_to_a_registry_with_auth_using_the_credentials() {
    let _engine = registry_lock();
    let registry = Registry::start(true);
    let (user, password) = registry.login.clone().unwrap();
    let config = registry.docker_config(&password);
    let repo = format!(
        "{}/dz-index-{}-auth/tiny",
        registry.host,
        std::process::id()
    );
    let mut refs = Refs(Vec::new());
    let pushed = build_and_push(&repo, config.path(), &mut refs);
    let reference = format!("{repo}:1");

    // Anonymous, and with a wrong password: refused, with the login hint.
    let wrong = DockerCredentials {
        username: Some(user.clone()),
        password: Some("not-the-password".into()),
        ..Default::default()
    };
    for credentials in [None, Some(&wrong)] {
        let error = block_on(push_index(
            &reference,
            &manifests(&pushed),
            credentials,
            true,
        ))
        .unwrap_err();
        assert!(
            error
                .to_string()
                .contains(&format!("from `{}`", registry.host)),
            "{error}"
        );
        let hint = error.hint().unwrap_or_default();
        assert!(
            hint.contains(&format!("docker login {}", registry.host)),
            "{error:?}: {hint}"
        );
    }

    let credentials = DockerCredentials {
        username: Some(user.clone()),
        password: Some(password.clone()),
        serveraddress: Some(registry.host.clone()),
        ..Default::default()
    };
    let digest = block_on(push_index(
        &reference,
        &manifests(&pushed),
        Some(&credentials),
        true,
    ))
    .expect("push_index with credentials");
    let auth = RegistryAuth::Basic(user, password);
    assert_index(&repo, &digest, &pushed, &auth, config.path(), &mut refs);
}
