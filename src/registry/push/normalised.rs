//! The normalised image put under one tag through the registry's API (`oci-client`): each blob the repository
//! lacks (a `HEAD` first, so a second tag or an unchanged layer costs one request), then the OCI manifest. The
//! registry stores the manifest's bytes as they are, so its digest is the one [`super::layout::normalise`]
//! computed: the same commit and `SOURCE_DATE_EPOCH` give the same digest from any engine and any run.
//!
//! Plain HTTP where the engine would use it ([`crate::registry::platforms::is_insecure`]); the engine's
//! credentials as [`crate::registry::index`] turns them into `oci-client`'s. A failure says why in the words
//! [`super::hint`] knows ([`PushFailure`]).

use bollard::auth::DockerCredentials;
use oci_client::errors::OciDistributionError;
use oci_client::manifest::OCI_IMAGE_MEDIA_TYPE;
use oci_client::{Reference, RegistryOperation};

use crate::engine::error_chain;
use crate::events::PushFailure;
use crate::reference;
use crate::registry::index::{cause, client, registry_auth, Cause};
use crate::registry::layout::normalise::Image;
use crate::registry::platforms::is_insecure;

/// Puts `image` under `tag` (`host[:port]/repository:tag`): `Ok(manifest digest)`, or why not and the message.
pub async fn put(
    image: &Image,
    tag: &str,
    credentials: Option<&DockerCredentials>,
    insecure: &[String],
) -> Result<String, (PushFailure, String)> {
    let target: Reference = tag.parse().map_err(|e: oci_client::ParseError| {
        (
            PushFailure::Rejected,
            format!("failed to read the tag `{tag}`: {e}"),
        )
    })?;
    let host = reference::registry_host(tag);
    let auth = registry_auth(credentials, host).map_err(|e| (PushFailure::Auth, e.to_string()))?;
    let client = client(is_insecure(host, insecure)).map_err(failed)?;
    client
        .auth(&target, &auth, RegistryOperation::Push)
        .await
        .map_err(failed)?;
    let manifest = &image.manifest.digest;
    for (digest, bytes) in image.blobs.iter().filter(|(d, _)| *d != manifest) {
        if !client.blob_exists(&target, digest).await.map_err(failed)? {
            client
                .push_blob(&target, bytes.clone(), digest)
                .await
                .map_err(failed)?;
        }
    }
    let body = image.blobs.get(manifest).cloned().ok_or_else(|| {
        (
            PushFailure::Other,
            format!("the normalised image lacks its manifest `{manifest}` (our bug)"),
        )
    })?;
    let content_type = hyper::header::HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE);
    client
        .push_manifest_raw(&target, body, content_type)
        .await
        .map_err(failed)?;
    Ok(manifest.clone())
}

/// The registry client's error as a push failure: why, and its whole chain. `oci-client` gives some refusals as
/// the HTTP status of a `reqwest` error (a `HEAD` of a blob answered 401), others as the registry's error codes.
fn failed(error: OciDistributionError) -> (PushFailure, String) {
    let chain = error_chain(&error);
    let lower = chain.to_lowercase();
    let status = match &error {
        OciDistributionError::RequestError(request) => request.status().map(|s| s.as_u16()),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        _ => None,
    };
    let reason = match (status, cause(&error)) {
        (Some(401 | 403), _) | (_, Cause::Auth) => PushFailure::Auth,
        (Some(404), _) | (_, Cause::NotFound) => PushFailure::Rejected,
        (Some(500..=599), _) => PushFailure::Server,
        _ if lower.contains("dns error") || lower.contains("failed to lookup address") => {
            PushFailure::UnknownHost
        }
        (_, Cause::Tls) => PushFailure::Tls,
        (_, Cause::Unreachable) => PushFailure::Unreachable,
        _ if [
            "connection closed",
            "connection reset",
            "broken pipe",
            "sendrequest",
        ]
        .iter()
        .any(|w| lower.contains(w)) =>
        {
            PushFailure::Unreachable
        }
        _ => PushFailure::Other,
    };
    // The engine's words for a refused login, which scripts and the hint look for.
    let message = if reason == PushFailure::Auth && !chain.contains("unauthorized") {
        format!("unauthorized: the registry refused the credentials: {chain}")
    } else {
        chain
    };
    (reason, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_say_why() {
        let unauthorized = OciDistributionError::UnauthorizedError {
            url: "http://127.0.0.1:5000/v2/".into(),
        };
        assert_eq!(failed(unauthorized).0, PushFailure::Auth);
        let server = OciDistributionError::ServerError {
            code: 503,
            url: "http://127.0.0.1:5000/v2/a/blobs/uploads/".into(),
            message: "unavailable".into(),
        };
        assert_eq!(failed(server).0, PushFailure::Server);
        let missing = OciDistributionError::ServerError {
            code: 404,
            url: "http://127.0.0.1:5000/v2/a/manifests/1".into(),
            message: "not found".into(),
        };
        assert_eq!(failed(missing).0, PushFailure::Rejected);
    }

    #[tokio::test]
    async fn an_unreachable_registry_is_transient_and_a_bad_tag_is_not() {
        let image = Image {
            blobs: Default::default(),
            manifest: oci_client::manifest::OciDescriptor::default(),
            platform: oci_client::manifest::Platform {
                architecture: "amd64".into(),
                os: "linux".into(),
                os_version: None,
                os_features: None,
                variant: None,
                features: None,
            },
        };
        // Nothing listens on port 1.
        let (reason, message) = put(&image, "127.0.0.1:1/api:1", None, &[])
            .await
            .unwrap_err();
        assert_eq!(reason, PushFailure::Unreachable, "{message}");
        assert!(super::super::is_transient(reason));
        let (reason, _) = put(&image, "127.0.0.1:1/API:1", None, &[])
            .await
            .unwrap_err();
        assert_eq!(reason, PushFailure::Rejected);
    }
}
