//! A base image's digest as its registry serves it, for `cargo dockerize pin`.
//!
//! Takes a reference (`name:tag`, as a `FROM` line names it), the registry's credentials and whether it speaks
//! plain HTTP; gives the digest of the manifest the tag points at — an image index (manifest list) where the tag
//! has one, which a multi-platform plan needs — and its media type. The digest is the SHA-256 of the bytes the
//! registry sent, computed here, never a header taken on trust. Talks to the registry only, through `oci-client`.

use bollard::auth::DockerCredentials;
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::Reference;
use serde::Deserialize;

use super::index::{cause, client, digest_of, registry_auth, Cause};
use crate::engine::error_chain;

/// What the registry said of a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// `sha256:…` of the manifest's bytes.
    pub digest: String,
    /// Whether the tag points at an image index (or a Docker manifest list): one digest for every platform.
    pub index: bool,
}

/// Why the registry gave no digest: one line, with the cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ResolveError {
    pub reason: String,
    /// Whether the registry could not be reached at all (then the engine's copy may say).
    pub unreachable: bool,
}

#[derive(Deserialize)]
struct MediaType {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<serde_json::Value>,
}

/// The digest of the manifest `reference` points at in its registry.
pub async fn resolve(
    reference: &str,
    credentials: Option<&DockerCredentials>,
    insecure: bool,
) -> Result<Resolved, ResolveError> {
    let fail = |reason: String, unreachable| ResolveError {
        reason,
        unreachable,
    };
    let target: Reference = reference
        .parse()
        .map_err(|e: oci_client::ParseError| fail(format!("not a reference: {e}"), false))?;
    let registry = target.registry().to_string();
    let auth = registry_auth(credentials, &registry).map_err(|e| fail(e.to_string(), false))?;
    let client = client(insecure).map_err(|e| fail(error_chain(&e), false))?;
    let accepted = [
        OCI_IMAGE_INDEX_MEDIA_TYPE,
        IMAGE_MANIFEST_LIST_MEDIA_TYPE,
        OCI_IMAGE_MEDIA_TYPE,
        IMAGE_MANIFEST_MEDIA_TYPE,
    ];
    let (bytes, _) = client
        .pull_manifest_raw(&target, &auth, &accepted)
        .await
        .map_err(|e| {
            let why = match cause(&e) {
                Cause::Auth => {
                    "the registry refused the credentials (`docker login` it)".to_string()
                }
                Cause::NotFound => "the registry has no such tag".to_string(),
                Cause::Unreachable => "the registry did not answer".to_string(),
                Cause::Tls => "no TLS with a trusted certificate".to_string(),
                Cause::Other => error_chain(&e),
            };
            fail(
                format!("`{registry}`: {}", crate::value::shown(&why)),
                cause(&e) == Cause::Unreachable,
            )
        })?;
    let manifest: MediaType = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("`{registry}` sent no manifest: {e}"), false))?;
    let index = manifest.manifests.is_some()
        || matches!(
            manifest.media_type.as_deref(),
            Some(OCI_IMAGE_INDEX_MEDIA_TYPE | IMAGE_MANIFEST_LIST_MEDIA_TYPE)
        );
    Ok(Resolved {
        digest: digest_of(&bytes),
        index,
    })
}
