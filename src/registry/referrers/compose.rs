//! The manifests of the referrers, from their parts: pure, no I/O. The types are `oci-client`'s own.
//!
//! A document becomes an OCI 1.1 artifact: an image manifest whose `artifactType` is the document's media type,
//! whose config is OCI's empty descriptor (`{}`, `application/vnd.oci.empty.v1+json`, as the image
//! specification asks of an artifact without a config), whose one layer is the document, and whose `subject`
//! is the image manifest it describes. Registries without the referrers API are served by the referrers tag
//! schema: an index under the tag `sha256-<hex of the subject's digest>` listing every referrer, which
//! [`merge_referrers`] extends without dropping what another tool put there.

use std::collections::BTreeMap;

use oci_client::manifest::{
    ImageIndexEntry, OciDescriptor, OciImageIndex, OciImageManifest, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};

use crate::registry::index::digest_of;

/// OCI's empty descriptor's media type and content.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY: &[u8] = b"{}";
/// The annotation a layer's file name goes under (what `oras pull` writes it as).
pub const TITLE: &str = "org.opencontainers.image.title";

/// The tag of the referrers tag schema for the subject `digest` (`sha256:<hex>` → `sha256-<hex>`).
pub fn fallback_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

/// The artifact manifest of one document: `bytes` as its layer, of `media_type`, named `title`, about `subject`.
pub fn artifact_manifest(
    subject: &OciDescriptor,
    media_type: &str,
    title: &str,
    bytes: &[u8],
) -> Vec<u8> {
    let layer = OciDescriptor {
        media_type: media_type.to_string(),
        digest: digest_of(bytes),
        size: bytes.len() as i64,
        urls: None,
        artifact_type: None,
        annotations: Some(BTreeMap::from([(TITLE.to_string(), title.to_string())])),
    };
    let manifest = OciImageManifest {
        schema_version: 2,
        media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_string()),
        config: empty_descriptor(),
        layers: vec![layer],
        subject: Some(subject.clone()),
        artifact_type: Some(media_type.to_string()),
        annotations: None,
    };
    serde_json::to_vec(&manifest).expect("a manifest serialises")
}

/// OCI's empty descriptor, with its content inline as the image specification recommends.
pub fn empty_descriptor() -> OciDescriptor {
    OciDescriptor {
        media_type: EMPTY_MEDIA_TYPE.to_string(),
        digest: digest_of(EMPTY),
        size: EMPTY.len() as i64,
        urls: None,
        artifact_type: None,
        annotations: None,
    }
}

/// The entry an artifact manifest of `artifact_type` gets in a referrers list.
pub fn referrer_entry(manifest: &[u8], artifact_type: &str) -> ImageIndexEntry {
    ImageIndexEntry {
        media_type: OCI_IMAGE_MEDIA_TYPE.to_string(),
        digest: digest_of(manifest),
        size: manifest.len() as i64,
        platform: None,
        annotations: None,
        artifact_type: Some(artifact_type.to_string()),
    }
}

/// The fallback tag's index: the entries already there (another tool's too), in their order, then each of
/// `added` not yet listed.
pub fn merge_referrers(
    existing: Option<OciImageIndex>,
    added: &[ImageIndexEntry],
) -> OciImageIndex {
    let mut index = existing.unwrap_or(OciImageIndex {
        schema_version: 2,
        media_type: None,
        manifests: Vec::new(),
        artifact_type: None,
        annotations: None,
    });
    index.media_type = Some(OCI_IMAGE_INDEX_MEDIA_TYPE.to_string());
    for entry in added {
        if !index.manifests.iter().any(|m| m.digest == entry.digest) {
            index.manifests.push(entry.clone());
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject() -> OciDescriptor {
        OciDescriptor {
            media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            size: 527,
            urls: None,
            artifact_type: None,
            annotations: None,
        }
    }

    #[test]
    fn an_artifact_names_its_type_subject_and_document() {
        let bytes = br#"{"spdxVersion":"SPDX-2.3"}"#;
        let manifest =
            artifact_manifest(&subject(), "application/spdx+json", "api.spdx.json", bytes);
        let v: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(v["artifactType"], "application/spdx+json");
        assert_eq!(v["mediaType"], OCI_IMAGE_MEDIA_TYPE);
        assert_eq!(v["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(
            v["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(v["subject"]["digest"], subject().digest);
        assert_eq!(v["subject"]["size"], 527);
        assert_eq!(v["layers"][0]["digest"], digest_of(bytes));
        assert_eq!(v["layers"][0]["annotations"][TITLE], "api.spdx.json");
        assert_eq!(
            fallback_tag(&subject().digest),
            format!("sha256-{}", "a".repeat(64))
        );
    }

    #[test]
    fn the_fallback_index_keeps_what_is_there() {
        let theirs = ImageIndexEntry {
            media_type: OCI_IMAGE_MEDIA_TYPE.into(),
            digest: format!("sha256:{}", "b".repeat(64)),
            size: 300,
            platform: None,
            annotations: None,
            artifact_type: Some("application/vnd.dev.sigstore.bundle.v0.3+json".into()),
        };
        let ours = referrer_entry(b"{}", "application/spdx+json");
        let first = merge_referrers(None, std::slice::from_ref(&ours));
        let digests = |index: &OciImageIndex| -> Vec<String> {
            index.manifests.iter().map(|m| m.digest.clone()).collect()
        };
        assert_eq!(digests(&first), std::slice::from_ref(&ours.digest));
        let existing = merge_referrers(None, std::slice::from_ref(&theirs));
        let merged = merge_referrers(Some(existing), &[ours.clone(), ours.clone()]);
        assert_eq!(digests(&merged), [theirs.digest, ours.digest]);
        assert_eq!(
            merged.manifests[1].artifact_type.as_deref(),
            Some("application/spdx+json")
        );
        assert_eq!(
            merged.media_type.as_deref(),
            Some(OCI_IMAGE_INDEX_MEDIA_TYPE)
        );
    }
}
