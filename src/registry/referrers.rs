//! SBOMs and provenance attached to a pushed image as OCI 1.1 referrers, beside the image and never inside its
//! index (an index that lists documents is one some consumers reject).
//!
//! Takes the repository of a pushed image (`host[:port]/repo`), the digest of the manifest the documents are
//! about (one platform's image, or an image index), the documents, the registry's credentials and whether it
//! speaks plain HTTP; gives each document's artifact manifest digest. Steps: the subject's manifest is fetched
//! by digest (its media type and size make the `subject` descriptor), OCI's empty config blob and each document
//! are put as blobs, each artifact manifest ([`compose::artifact_manifest`]) is put by digest, and the referrers
//! tag schema's index under `sha256-<hex>` is read, extended ([`compose::merge_referrers`]) and put back.
//!
//! The fallback tag is written on every registry: a registry with the referrers API says so only in the
//! `OCI-Subject` header of the manifest put, which `oci-client` 0.18 does not hand back, and the tag is what the
//! distribution specification asks of a client that cannot tell. A registry with the API answers
//! `GET /v2/<repo>/referrers/<digest>` from the subjects it indexed itself; the tag is then one more tag in the
//! repository. Checked here against Debian's `docker-registry` 2.8 (no referrers API): it stores an OCI
//! manifest with `subject`, `artifactType` and the empty config, and serves it back byte for byte.
//!
//! Talks to the registry only, through `oci-client` (never a hand-written client).

use bollard::auth::DockerCredentials;
use hyper::header::HeaderValue;
use oci_client::manifest::{
    OciDescriptor, OciImageIndex, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::{Reference, RegistryOperation};

use super::index::{client, digest_of, index_json, registry_auth, IndexError};

pub mod compose;

/// One document to attach.
#[derive(Debug, Clone)]
pub struct Document {
    /// Its media type, also the artifact's `artifactType`.
    pub media_type: &'static str,
    /// The file name it is pulled as (`api-amd64.spdx.json`).
    pub title: String,
    pub bytes: Vec<u8>,
}

/// Why documents could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum ReferrerError {
    #[error("failed to read the repository `{repository}`: {reason}")]
    RepositoryInvalid { repository: String, reason: String },
    #[error(
        "failed to fetch the manifest `{digest}` of `{repository}` that the documents describe"
    )]
    Subject {
        repository: String,
        digest: String,
        #[source]
        source: Box<oci_client::errors::OciDistributionError>,
    },
    #[error("failed to attach `{title}` to `{repository}@{digest}`")]
    Push {
        repository: String,
        digest: String,
        title: String,
        #[source]
        source: Box<oci_client::errors::OciDistributionError>,
    },
    #[error("failed to update the referrers tag `{repository}:{tag}`")]
    Tag {
        repository: String,
        tag: String,
        #[source]
        source: Box<oci_client::errors::OciDistributionError>,
    },
    #[error(transparent)]
    Client(#[from] IndexError),
}

impl ReferrerError {
    /// One line naming the fix.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Client(inner) => inner.hint(),
            Self::Subject { .. } => Some("push the image first: documents refer to a manifest the registry holds".into()),
            Self::Push { .. } | Self::Tag { .. } => Some(
                "the account needs push rights on the repository, and the registry must accept OCI 1.1 manifests (`subject`, `artifactType`); `--sbom none --no-provenance` pushes without documents".into(),
            ),
            Self::RepositoryInvalid { .. } => None,
        }
    }
}

/// Attaches `documents` to the manifest `digest` (`sha256:<hex>`) of `repository`; gives each artifact
/// manifest's digest, in the order of `documents`.
pub async fn attach(
    repository: &str,
    digest: &str,
    documents: &[Document],
    credentials: Option<&DockerCredentials>,
    insecure: bool,
) -> Result<Vec<String>, ReferrerError> {
    let by_digest: Reference =
        format!("{repository}@{digest}")
            .parse()
            .map_err(
                |e: oci_client::ParseError| ReferrerError::RepositoryInvalid {
                    repository: repository.to_string(),
                    reason: e.to_string(),
                },
            )?;
    let registry = by_digest.registry().to_string();
    let auth = registry_auth(credentials, &registry)?;
    let client = client(insecure).map_err(|source| IndexError::Client {
        registry: registry.clone(),
        source: Box::new(source),
    })?;
    let subject = subject(&client, &auth, &by_digest, repository, digest).await?;
    let mut entries = Vec::new();
    let mut digests = Vec::new();
    // The empty config every artifact shares: put once.
    let mut config_put = false;
    for document in documents {
        let push = |source| ReferrerError::Push {
            repository: repository.to_string(),
            digest: digest.to_string(),
            title: document.title.clone(),
            source: Box::new(source),
        };
        if !config_put {
            client
                .push_blob(&by_digest, compose::EMPTY, &digest_of(compose::EMPTY))
                .await
                .map_err(push)?;
            config_put = true;
        }
        client
            .push_blob(
                &by_digest,
                document.bytes.clone(),
                &digest_of(&document.bytes),
            )
            .await
            .map_err(push)?;
        let manifest = compose::artifact_manifest(
            &subject,
            document.media_type,
            &document.title,
            &document.bytes,
        );
        let manifest_digest = digest_of(&manifest);
        let target = Reference::with_digest(
            registry.clone(),
            by_digest.repository().to_string(),
            manifest_digest.clone(),
        );
        entries.push(compose::referrer_entry(&manifest, document.media_type));
        client
            .push_manifest_raw(
                &target,
                manifest,
                HeaderValue::from_static(OCI_IMAGE_MEDIA_TYPE),
            )
            .await
            .map_err(push)?;
        digests.push(manifest_digest);
    }
    update_tag(&client, &auth, &by_digest, repository, digest, &entries).await?;
    Ok(digests)
}

/// The descriptor of the manifest `digest` the documents describe: its media type and size, as the registry
/// serves it (a push scope asked for up front: a token registry would otherwise give a pull-only one).
async fn subject(
    client: &oci_client::Client,
    auth: &oci_client::secrets::RegistryAuth,
    by_digest: &Reference,
    repository: &str,
    digest: &str,
) -> Result<OciDescriptor, ReferrerError> {
    let subject_error = |source| ReferrerError::Subject {
        repository: repository.to_string(),
        digest: digest.to_string(),
        source: Box::new(source),
    };
    client
        .auth(by_digest, auth, RegistryOperation::Push)
        .await
        .map_err(subject_error)?;
    let accepted = [
        IMAGE_MANIFEST_MEDIA_TYPE,
        OCI_IMAGE_MEDIA_TYPE,
        OCI_IMAGE_INDEX_MEDIA_TYPE,
    ];
    let (subject_bytes, _) = client
        .pull_manifest_raw(by_digest, auth, &accepted)
        .await
        .map_err(subject_error)?;
    let media_type = serde_json::from_slice::<serde_json::Value>(&subject_bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_string))
        .unwrap_or_else(|| OCI_IMAGE_MEDIA_TYPE.to_string());
    Ok(OciDescriptor {
        media_type,
        digest: digest.to_string(),
        size: subject_bytes.len() as i64,
        urls: None,
        artifact_type: None,
        annotations: None,
    })
}

/// Reads the referrers tag schema's index of `digest` (none yet is an empty list), adds `entries`, puts it back.
async fn update_tag(
    client: &oci_client::Client,
    auth: &oci_client::secrets::RegistryAuth,
    subject: &Reference,
    repository: &str,
    digest: &str,
    entries: &[oci_client::manifest::ImageIndexEntry],
) -> Result<(), ReferrerError> {
    let tag = compose::fallback_tag(digest);
    let tagged = Reference::with_tag(
        subject.registry().to_string(),
        subject.repository().to_string(),
        tag.clone(),
    );
    let failed = |source| ReferrerError::Tag {
        repository: repository.to_string(),
        tag: tag.clone(),
        source: Box::new(source),
    };
    let existing = match client
        .pull_manifest_raw(&tagged, auth, &[OCI_IMAGE_INDEX_MEDIA_TYPE])
        .await
    {
        Ok((bytes, _)) => serde_json::from_slice::<OciImageIndex>(&bytes).ok(),
        Err(error) if is_not_found(&error) => None,
        Err(error) => return Err(failed(error)),
    };
    let index = compose::merge_referrers(existing, entries);
    client
        .push_manifest_raw(
            &tagged,
            index_json(&index),
            HeaderValue::from_static(OCI_IMAGE_INDEX_MEDIA_TYPE),
        )
        .await
        .map_err(failed)?;
    Ok(())
}

/// Whether the registry said the tag does not exist.
fn is_not_found(error: &oci_client::errors::OciDistributionError) -> bool {
    use oci_client::errors::OciDistributionError as E;
    match error {
        E::ImageManifestNotFoundError(_) | E::ServerError { code: 404, .. } => true,
        E::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| format!("{:?}", e.code).to_lowercase().contains("unknown")),
        _ => false,
    }
}
