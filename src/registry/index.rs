//! A multi-platform image: an OCI image index put into the registry under the plain tag, listing the
//! per-platform images the engine pushed.
//!
//! Takes the index's reference (`host[:port]/repo:tag`), one [`PlatformManifest`] per platform (pushed before,
//! by [`super::push`], into the same repository), the registry's credentials and whether it speaks plain HTTP;
//! gives the index's digest. Docker Engine 20.10 holds one platform per tag, so the engine cannot push an index:
//! this module talks to the registry itself, through `oci-client` (never a hand-written registry client).
//!
//! Steps: every input is checked first (the reference, each platform `os/architecture[/variant]`, each digest,
//! no platform twice), so a bad one fails before the network. Then each child's manifest is fetched by digest
//! (`oci-client` checks that the bytes hash to it), which gives the entry its media type and size, and its
//! config blob, whose `os`/`architecture`/`variant` must be the platform claimed: an index that lists an amd64
//! image as `linux/arm64` would be pushed without complaint and fail later on someone's machine with
//! `exec format error`. Then [`index_json`] (pure, in `compose`) writes the index, entries sorted by platform so the same
//! inputs always give the same bytes and so the same digest, and it is put under the tag. The digest returned
//! is the SHA-256 of those bytes, the digest the registry stores (distribution answers it in
//! `Docker-Content-Digest` too).
//!
//! The media type is OCI's, `application/vnd.oci.image.index.v1+json`, also over the Docker schema-2 manifests
//! Engine 20.10 pushes. Checked here (2026-11, Debian's `docker-registry` 2.8.2+ds1, Engine 20.10.24): that
//! registry accepts an OCI index over schema-2 children (201, and it checks every child exists:
//! `MANIFEST_BLOB_UNKNOWN` otherwise), serves it back with its own content type, and `docker pull
//! <repo>@<index digest>` on Engine 20.10 picks the amd64 child (`--platform linux/arm64` the arm64 one);
//! a Docker manifest list (`application/vnd.docker.distribution.manifest.list.v2+json`) over the same
//! children worked the same, so nothing asked for the older type. `tests/e2e_index.rs` checks the pull.
//!
//! Credentials are the engine's ([`DockerCredentials`], from [`super::auth`]): a username and password (HTTP
//! basic, or exchanged for a token where the registry asks for one), a `registrytoken` (a bearer token used as
//! it is), or none (anonymous). An `identitytoken` is an OAuth refresh token, which the engine exchanges with a
//! `POST` to the registry's token service; `oci-client` 0.18 cannot, so it fails here with its own error rather
//! than as a 401 that blames the password.
//!
//! Talks to the registry only; never to the engine, the terminal or the environment. `oci-client` is built on
//! reqwest with rustls and no crypto provider of its own (its default, aws-lc-rs, adds a C library built with
//! cmake); `client` installs ring's, which bollard's TLS already compiles in, as the process
//! default.

use bollard::auth::DockerCredentials;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{
    ImageIndexEntry, OciManifest, Platform, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use serde::Deserialize;

use crate::engine::error_chain;

mod compose;

pub use compose::{
    digest_of, image_index, index_json, parse_platform, platform_name, ComposeError,
};
use compose::{same_platform, sorted_platforms};

/// One platform's image, already pushed by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformManifest {
    pub platform: crate::platform::Platform,
    /// the manifest digest the registry reported for the pushed per-platform tag, `sha256:...`
    pub digest: String,
}

/// Why an index could not be put into the registry.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("failed to read the image reference `{reference}`: {reason}")]
    ReferenceInvalid { reference: String, reason: String },
    #[error("failed to compose the index `{reference}`")]
    Compose {
        reference: String,
        #[source]
        source: ComposeError,
    },
    #[error("failed to use the identity token for `{registry}`: it is an OAuth refresh token, and only the engine can exchange it")]
    IdentityToken { registry: String },
    #[error("failed to set up a registry client for `{registry}`")]
    Client {
        registry: String,
        #[source]
        source: Box<OciDistributionError>,
    },
    #[error(
        "failed to fetch the manifest `{digest}` ({platform}) of `{reference}` from `{registry}`"
    )]
    ChildFetch {
        reference: String,
        registry: String,
        platform: String,
        digest: String,
        #[source]
        source: Box<OciDistributionError>,
    },
    #[error("failed to list the manifest `{digest}` in the index `{reference}`: {reason}")]
    ChildInvalid {
        reference: String,
        digest: String,
        reason: String,
    },
    #[error("failed to list the manifest `{digest}` as `{platform}` in the index `{reference}`: its image is `{found}`")]
    ChildPlatform {
        reference: String,
        digest: String,
        platform: String,
        found: String,
    },
    #[error("failed to push the index `{reference}` to `{registry}`")]
    Push {
        reference: String,
        registry: String,
        #[source]
        source: Box<OciDistributionError>,
    },
}

/// What a registry error means for the user, read from `oci-client`'s error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    Auth,
    Unreachable,
    Tls,
    NotFound,
    Other,
}

pub(super) fn cause(error: &OciDistributionError) -> Cause {
    use OciDistributionError as E;
    match error {
        E::AuthenticationFailure(_) | E::UnauthorizedError { .. } => Cause::Auth,
        E::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}", e.code).to_lowercase())
                .collect();
            let any = |words: &[&str]| codes.iter().any(|c| words.iter().any(|w| c.contains(w)));
            if any(&["unauthorized", "denied"]) {
                Cause::Auth
            } else if any(&["unknown"]) {
                Cause::NotFound
            } else {
                Cause::Other
            }
        }
        E::ServerError { code: 404, .. } | E::ImageManifestNotFoundError(_) => Cause::NotFound,
        E::RequestError(request) => {
            let chain = error_chain(request).to_lowercase();
            if [
                "certificate",
                "tls",
                "ssl",
                "corrupt message",
                "invalidcontenttype",
            ]
            .iter()
            .any(|w| chain.contains(w))
            {
                Cause::Tls
            } else if request.is_connect() || request.is_timeout() {
                Cause::Unreachable
            } else {
                Cause::Other
            }
        }
        _ => Cause::Other,
    }
}

impl IndexError {
    /// One line naming the fix.
    pub fn hint(&self) -> Option<String> {
        let by_cause = |registry: &str, source: &OciDistributionError, not_found: &str| {
            match cause(source) {
            Cause::Auth => Some(format!(
                "log in with `docker login {registry}` (or fix its entry in $DOCKER_CONFIG/config.json); the account needs push rights on the repository"
            )),
            Cause::Unreachable => Some(format!(
                "`{registry}` did not answer: check that it runs and is reachable from this machine, not only from the engine"
            )),
            Cause::Tls => Some(format!(
                "`{registry}` does not speak TLS with a trusted certificate: serve it over HTTPS, or reach it over plain HTTP as the engine does for an insecure registry"
            )),
            Cause::NotFound => Some(not_found.to_string()),
            Cause::Other => None,
        }
        };
        match self {
            Self::ReferenceInvalid { .. } => {
                Some("name the index as `host[:port]/repository:tag`, e.g. `ghcr.io/acme/api:0.3.0`".into())
            }
            Self::Compose { source, .. } => Some(match source {
                ComposeError::PlatformInvalid { .. } => {
                    "write platforms as `os/architecture[/variant]`: `linux/amd64`, `linux/arm64`, `linux/arm/v7`".into()
                }
                ComposeError::PlatformTwice { .. } => "list each platform once".into(),
                ComposeError::DigestInvalid { .. } => {
                    "pass the digest the registry reported for the pushed tag (`docker push` prints it)".into()
                }
                ComposeError::NoManifests => "build and push at least one platform first".into(),
            }),
            Self::IdentityToken { registry } => Some(format!(
                "log in with a username and a password or access token: `docker login -u <user> {registry}`"
            )),
            Self::Client { .. } => Some("this is a bug in cargo-dockerize: please report it with the cause above".into()),
            Self::ChildFetch { registry, source, .. } => by_cause(
                registry,
                source,
                "push each platform's image into the index's repository first: an index lists only manifests the registry holds",
            ),
            Self::ChildInvalid { .. } => {
                Some("list per-platform image manifests only: an index cannot list another index".into())
            }
            Self::ChildPlatform { .. } => Some(
                "the image was built for another platform than the one it is listed under: build it with `--platform` set to that platform".into(),
            ),
            Self::Push { registry, source, .. } => by_cause(
                registry,
                source,
                "the registry refused the index: it must live in the repository of the manifests it lists",
            ),
        }
    }
}

/// Puts an index listing `manifests` under `reference` (`host[:port]/repo:tag`), in the same repository as the
/// per-platform manifests, and returns the index's digest (`sha256:...`).
pub async fn push_index(
    reference: &str,
    manifests: &[PlatformManifest],
    credentials: Option<&DockerCredentials>,
    insecure: bool,
) -> Result<String, IndexError> {
    // The one parse of the reference here; the plan checked it with the engine's grammar already.
    let target: Reference =
        reference
            .parse()
            .map_err(|e: oci_client::ParseError| IndexError::ReferenceInvalid {
                reference: reference.to_string(),
                reason: e.to_string(),
            })?;
    let registry = target.registry().to_string();
    let compose = |source| IndexError::Compose {
        reference: reference.to_string(),
        source,
    };
    let platforms = sorted_platforms(
        manifests
            .iter()
            .map(|m| (m.platform.docker_name(), m.digest.as_str())),
    )
    .map_err(compose)?;
    let auth = registry_auth(credentials, &registry)?;
    let client = client(insecure).map_err(|source| IndexError::Client {
        registry: registry.clone(),
        source: Box::new(source),
    })?;
    let mut entries = Vec::new();
    for (platform, digest) in platforms {
        let child = Reference::with_digest(
            target.registry().to_string(),
            target.repository().to_string(),
            digest.to_string(),
        );
        entries
            .push(describe_child(&client, &auth, reference, &registry, &child, &platform).await?);
    }
    let body = index_json(&image_index(&entries).map_err(compose)?);
    let digest = digest_of(&body);
    let push = |source| IndexError::Push {
        reference: reference.to_string(),
        registry: registry.clone(),
        source: Box::new(source),
    };
    // Push scope asked for up front: on a token registry the pulls above got a pull-only token.
    client
        .auth(&target, &auth, RegistryOperation::Push)
        .await
        .map_err(push)?;
    let content_type = hyper::header::HeaderValue::from_static(OCI_IMAGE_INDEX_MEDIA_TYPE);
    client
        .push_manifest_raw(&target, body, content_type)
        .await
        .map_err(push)?;
    Ok(digest)
}

/// The engine's credentials as `oci-client` takes them.
pub(super) fn registry_auth(
    credentials: Option<&DockerCredentials>,
    registry: &str,
) -> Result<RegistryAuth, IndexError> {
    let Some(credentials) = credentials else {
        return Ok(RegistryAuth::Anonymous);
    };
    let given = |value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    // The engine's order: an identity token wins over a password.
    if given(&credentials.identitytoken).is_some() {
        return Err(IndexError::IdentityToken {
            registry: registry.to_string(),
        });
    }
    if let Some(token) = given(&credentials.registrytoken) {
        return Ok(RegistryAuth::Bearer(token));
    }
    Ok(
        match (given(&credentials.username), given(&credentials.password)) {
            (Some(username), Some(password)) => RegistryAuth::Basic(username, password),
            _ => RegistryAuth::Anonymous,
        },
    )
}

/// A client for one registry: plain HTTP when `insecure`, else HTTPS with the system's roots.
pub(super) fn client(insecure: bool) -> Result<Client, OciDistributionError> {
    // reqwest panics without a crypto provider when built without its own; another may be installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let protocol = if insecure {
        ClientProtocol::Http
    } else {
        ClientProtocol::Https
    };
    // `try_from`, not `Client::new`, which falls back to a default config (HTTPS) on an error.
    Client::try_from(ClientConfig {
        protocol,
        ..ClientConfig::default()
    })
}

/// The parts of an image config this module reads: its platform. (`oci-client`'s `ConfigFile` has no
/// `variant`, which tells `arm/v7` from `arm/v6`.)
#[derive(Deserialize)]
struct ImageConfig {
    os: String,
    architecture: String,
    variant: Option<String>,
}

/// A child's entry: its manifest fetched by digest (media type, size), its config checked against `platform`.
async fn describe_child(
    client: &Client,
    auth: &RegistryAuth,
    reference: &str,
    registry: &str,
    child: &Reference,
    platform: &Platform,
) -> Result<ImageIndexEntry, IndexError> {
    let digest = child.digest().unwrap_or_default().to_string();
    let fetch = |source| IndexError::ChildFetch {
        reference: reference.to_string(),
        registry: registry.to_string(),
        platform: platform_name(platform),
        digest: digest.clone(),
        source: Box::new(source),
    };
    let invalid = |reason: String| IndexError::ChildInvalid {
        reference: reference.to_string(),
        digest: digest.clone(),
        reason,
    };
    let accepted = [IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE];
    let (bytes, _) = client
        .pull_manifest_raw(child, auth, &accepted)
        .await
        .map_err(fetch)?;
    let manifest = match serde_json::from_slice::<OciManifest>(&bytes) {
        Ok(OciManifest::Image(manifest)) => manifest,
        Ok(OciManifest::ImageIndex(index)) => {
            let t = index
                .media_type
                .unwrap_or_else(|| OCI_IMAGE_INDEX_MEDIA_TYPE.into());
            return Err(invalid(format!(
                "its media type is `{t}`, not an image manifest's"
            )));
        }
        Err(e) => return Err(invalid(format!("it is no image manifest: {e}"))),
    };
    // An OCI manifest may leave out its media type; one with a config is an image manifest.
    let media_type = match manifest.media_type {
        Some(t) if accepted.contains(&t.as_str()) => t,
        None => OCI_IMAGE_MEDIA_TYPE.to_string(),
        Some(t) => {
            return Err(invalid(format!(
                "its media type is `{t}`, not an image manifest's"
            )))
        }
    };
    let config = manifest.config;
    let mut blob = Vec::new();
    client
        .pull_blob(child, config.digest.as_str(), &mut blob)
        .await
        .map_err(fetch)?;
    let image: ImageConfig = serde_json::from_slice(&blob).map_err(|e| {
        invalid(format!(
            "its config `{}` is not an image config: {e}",
            config.digest
        ))
    })?;
    let found = Platform {
        architecture: image.architecture.as_str().into(),
        os: image.os.as_str().into(),
        os_version: None,
        os_features: None,
        variant: image.variant.filter(|v| !v.is_empty()),
        features: None,
    };
    if !same_platform(&found, platform) {
        return Err(IndexError::ChildPlatform {
            reference: reference.to_string(),
            digest: digest.clone(),
            platform: platform_name(platform),
            found: platform_name(&found),
        });
    }
    Ok(ImageIndexEntry {
        media_type,
        digest,
        size: bytes.len() as i64,
        platform: Some(platform.clone()),
        annotations: None,
        artifact_type: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn credentials_become_oci_client_auth() {
        let with = |f: fn(&mut DockerCredentials)| {
            let mut c = DockerCredentials::default();
            f(&mut c);
            registry_auth(Some(&c), "r.example")
        };
        assert_eq!(
            registry_auth(None, "r.example").unwrap(),
            RegistryAuth::Anonymous
        );
        assert_eq!(
            with(|c| {
                c.username = Some("u".into());
                c.password = Some("p".into());
            })
            .unwrap(),
            RegistryAuth::Basic("u".into(), "p".into())
        );
        assert_eq!(
            with(|c| c.registrytoken = Some("t".into())).unwrap(),
            RegistryAuth::Bearer("t".into())
        );
        let token = with(|c| {
            c.username = Some("u".into());
            c.identitytoken = Some("refresh".into());
        });
        assert!(
            matches!(token, Err(IndexError::IdentityToken { ref registry }) if registry == "r.example")
        );
        assert_eq!(
            with(|c| c.username = Some("u".into())).unwrap(),
            RegistryAuth::Anonymous
        );
    }

    #[test]
    fn messages_name_the_reference_and_the_registry() {
        let error = IndexError::Compose {
            reference: "127.0.0.1:5000/api:0.3.0".into(),
            source: ComposeError::PlatformInvalid {
                platform: "arm64".into(),
            },
        };
        assert_eq!(
            error.to_string(),
            "failed to compose the index `127.0.0.1:5000/api:0.3.0`"
        );
        assert!(error.hint().unwrap().contains("linux/arm/v7"));
        let push = IndexError::Push {
            reference: "127.0.0.1:5000/api:0.3.0".into(),
            registry: "127.0.0.1:5000".into(),
            source: Box::new(OciDistributionError::UnauthorizedError {
                url: "http://127.0.0.1:5000/v2/".into(),
            }),
        };
        assert_eq!(
            push.to_string(),
            "failed to push the index `127.0.0.1:5000/api:0.3.0` to `127.0.0.1:5000`"
        );
        assert!(
            push.hint().unwrap().contains("docker login 127.0.0.1:5000"),
            "{:?}",
            push.hint()
        );
    }

    #[tokio::test]
    async fn bad_input_fails_before_the_network() {
        // Nothing listens on port 1: reaching the network would fail differently.
        let manifests = [PlatformManifest {
            platform: crate::platform::Platform::LinuxAmd64,
            digest: "sha256:x".into(),
        }];
        let bad_digest = push_index("127.0.0.1:1/api:1", &manifests, None, true).await;
        assert!(matches!(
            bad_digest,
            Err(IndexError::Compose {
                source: ComposeError::DigestInvalid { .. },
                ..
            })
        ));
        let bad_reference = push_index("127.0.0.1:1/API:1", &[], None, true).await;
        assert!(
            matches!(bad_reference, Err(IndexError::ReferenceInvalid { .. })),
            "{bad_reference:?}"
        );
        let none = push_index("127.0.0.1:1/api:1", &[], None, true).await;
        assert!(matches!(
            none,
            Err(IndexError::Compose {
                source: ComposeError::NoManifests,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn an_unreachable_registry_is_named_in_the_hint() {
        let manifests = [PlatformManifest {
            platform: crate::platform::Platform::LinuxAmd64,
            digest: digest('a'),
        }];
        let error = push_index("127.0.0.1:1/api:1", &manifests, None, true)
            .await
            .unwrap_err();
        assert!(matches!(error, IndexError::ChildFetch { .. }), "{error:?}");
        assert!(
            error.to_string().starts_with(&format!(
                "failed to fetch the manifest `{}` (linux/amd64)",
                digest('a')
            )),
            "{error}"
        );
        assert!(
            error
                .hint()
                .unwrap()
                .contains("`127.0.0.1:1` did not answer"),
            "{:?}",
            error.hint()
        );
    }
}
