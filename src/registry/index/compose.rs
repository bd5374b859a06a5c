//! The index itself, from its entries: pure, no I/O. The types are `oci-client`'s own
//! ([`OciImageIndex`], [`ImageIndexEntry`], [`Platform`]); what is ours is the order and the checks.
//!
//! Platforms are read as `os/architecture[/variant]` ([`parse_platform`]); entries are sorted by platform, so
//! the same entries in any order give the same bytes and so the same digest, and one platform listed twice is
//! an error (a client picks one entry per platform, and which one would be up to it).

use oci_client::manifest::{ImageIndexEntry, OciImageIndex, Platform, OCI_IMAGE_INDEX_MEDIA_TYPE};
use sha2::{Digest as _, Sha256};

/// Why the index cannot be written from its entries (no network involved).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("the platform `{platform}` must be `os/architecture[/variant]`, each part lowercase `a-z0-9._-`")]
    PlatformInvalid { platform: String },
    #[error("the platform `{platform}` is listed twice (`{first}` and `{second}`)")]
    PlatformTwice {
        platform: String,
        first: String,
        second: String,
    },
    #[error("the digest `{digest}` of `{platform}` must be `sha256:` and 64 lowercase hex digits")]
    DigestInvalid { platform: String, digest: String },
    #[error("an index needs at least one platform's manifest")]
    NoManifests,
}

/// Reads `os/architecture[/variant]`; the parts as given (no aliases: `x86_64` is not `amd64` here).
pub fn parse_platform(platform: &str) -> Result<Platform, ComposeError> {
    let invalid = || ComposeError::PlatformInvalid {
        platform: platform.to_string(),
    };
    let parts: Vec<&str> = platform.split('/').collect();
    let part_ok = |p: &&str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    };
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(part_ok) {
        return Err(invalid());
    }
    Ok(Platform {
        architecture: parts[1].into(),
        os: parts[0].into(),
        os_version: None,
        os_features: None,
        variant: parts.get(2).map(|v| v.to_string()),
        features: None,
    })
}

/// `os/architecture[/variant]`, as Docker writes a platform (`oci-client`'s own `Display` lists every field).
pub fn platform_name(platform: &Platform) -> String {
    let mut name = format!("{}/{}", platform.os, platform.architecture);
    if let Some(variant) = &platform.variant {
        name.push('/');
        name.push_str(variant);
    }
    name
}

/// The order of entries in the index: by architecture, then os, then variant (as `docker buildx` lists them).
fn sort_key(platform: &Platform) -> (String, String, Option<String>) {
    (
        platform.architecture.to_string(),
        platform.os.to_string(),
        platform.variant.clone(),
    )
}

fn check_digest(platform: &str, digest: &str) -> Result<(), ComposeError> {
    let hex = digest.strip_prefix("sha256:").unwrap_or_default();
    if hex.len() == 64 && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        Ok(())
    } else {
        Err(ComposeError::DigestInvalid {
            platform: platform.to_string(),
            digest: digest.to_string(),
        })
    }
}

/// Each `(platform, digest)` read and checked, sorted by platform; one platform twice is an error (a client
/// picks one entry per platform, and which one would be up to it).
pub(super) fn sorted_platforms<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<(Platform, &'a str)>, ComposeError> {
    let mut parsed = Vec::new();
    for (platform, digest) in entries {
        check_digest(platform, digest)?;
        parsed.push((parse_platform(platform)?, digest));
    }
    if parsed.is_empty() {
        return Err(ComposeError::NoManifests);
    }
    parsed.sort_by(|a, b| (sort_key(&a.0), a.1).cmp(&(sort_key(&b.0), b.1)));
    if let Some(pair) = parsed.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(ComposeError::PlatformTwice {
            platform: platform_name(&pair[0].0),
            first: pair[0].1.to_string(),
            second: pair[1].1.to_string(),
        });
    }
    Ok(parsed)
}

/// The index of `entries` (each with its platform): sorted by platform, so the same entries in any order give
/// the same index, and checked (digests, no platform twice, at least one).
pub fn image_index(entries: &[ImageIndexEntry]) -> Result<OciImageIndex, ComposeError> {
    let names: Vec<(String, &str)> = entries
        .iter()
        .map(|e| {
            let platform = e.platform.as_ref().map(platform_name).unwrap_or_default();
            (platform, e.digest.as_str())
        })
        .collect();
    let sorted = sorted_platforms(names.iter().map(|(p, d)| (p.as_str(), *d)))?;
    let manifests = sorted
        .into_iter()
        .map(|(platform, digest)| {
            entries
                .iter()
                .find(|e| e.digest == digest && e.platform.as_ref() == Some(&platform))
                .cloned()
                .expect("every sorted platform comes from an entry")
        })
        .collect();
    Ok(OciImageIndex {
        schema_version: 2,
        media_type: Some(OCI_IMAGE_INDEX_MEDIA_TYPE.to_string()),
        manifests,
        artifact_type: None,
        annotations: None,
    })
}

/// The index's bytes: compact JSON in `oci-client`'s field order (then the same index always gives the same
/// bytes, and so the same digest: a rerun of a release changes nothing in the registry).
pub fn index_json(index: &OciImageIndex) -> Vec<u8> {
    serde_json::to_vec(index).expect("the index serialises: strings and numbers only")
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Whether an image's platform is the one claimed; `arm64` is `arm64/v8` (containerd's normalisation: the
/// engine and BuildKit write either, depending on version).
pub(super) fn same_platform(a: &Platform, b: &Platform) -> bool {
    let normal = |p: &Platform| {
        let v8 = p.architecture.to_string() == "arm64" && p.variant.as_deref() == Some("v8");
        (
            p.os.to_string(),
            p.architecture.to_string(),
            if v8 { None } else { p.variant.clone() },
        )
    };
    normal(a) == normal(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_client::manifest::IMAGE_MANIFEST_MEDIA_TYPE;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn entry(platform: &str, c: char) -> ImageIndexEntry {
        ImageIndexEntry {
            media_type: IMAGE_MANIFEST_MEDIA_TYPE.into(),
            digest: digest(c),
            size: 524,
            platform: parse_platform(platform).ok(),
            annotations: None,
            artifact_type: None,
        }
    }

    fn index_bytes(entries: &[ImageIndexEntry]) -> Result<Vec<u8>, ComposeError> {
        image_index(entries).map(|index| index_json(&index))
    }

    #[test]
    fn platforms_are_read_with_their_variant() {
        let arm = parse_platform("linux/arm/v7").unwrap();
        assert_eq!(
            (
                arm.os.to_string(),
                arm.architecture.to_string(),
                arm.variant.as_deref()
            ),
            ("linux".into(), "arm".into(), Some("v7"))
        );
        let amd64 = parse_platform("linux/amd64").unwrap();
        assert_eq!(
            (
                amd64.os.to_string(),
                amd64.architecture.to_string(),
                amd64.variant
            ),
            ("linux".into(), "amd64".into(), None)
        );
        assert_eq!(platform_name(&arm), "linux/arm/v7");
        for bad in [
            "linux",
            "amd64",
            "linux/",
            "/amd64",
            "linux/arm/v7/x",
            "Linux/amd64",
            "linux/amd 64",
            "",
        ] {
            assert_eq!(
                parse_platform(bad),
                Err(ComposeError::PlatformInvalid {
                    platform: bad.into()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_index_lists_every_entry_with_its_platform() {
        let json: serde_json::Value = serde_json::from_slice(
            &index_bytes(&[entry("linux/amd64", 'a'), entry("linux/arm/v7", 'b')]).unwrap(),
        )
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {"mediaType": IMAGE_MANIFEST_MEDIA_TYPE, "digest": digest('a'), "size": 524,
                     "platform": {"architecture": "amd64", "os": "linux"}},
                    {"mediaType": IMAGE_MANIFEST_MEDIA_TYPE, "digest": digest('b'), "size": 524,
                     "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
                ]
            })
        );
    }

    #[test]
    fn the_index_is_the_same_bytes_whatever_the_order() {
        let entries = vec![
            entry("linux/arm64", 'c'),
            entry("linux/amd64", 'a'),
            entry("linux/arm/v7", 'b'),
            entry("linux/arm/v6", 'd'),
            entry("windows/amd64", 'e'),
        ];
        let first = index_bytes(&entries).unwrap();
        let mut shuffled = entries.clone();
        for turn in 0..entries.len() {
            shuffled.rotate_left(1);
            if turn % 2 == 0 {
                shuffled.swap(0, entries.len() - 1);
            }
            assert_eq!(index_bytes(&shuffled).unwrap(), first, "{shuffled:?}");
        }
        let json: serde_json::Value = serde_json::from_slice(&first).unwrap();
        let order: Vec<_> = json["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["digest"].as_str().unwrap().chars().nth(7).unwrap())
            .collect();
        // By architecture, then os, then variant.
        assert_eq!(order, ['a', 'e', 'd', 'b', 'c']);
        assert_eq!(
            digest_of(&first),
            digest_of(&index_bytes(&shuffled).unwrap())
        );
    }

    #[test]
    fn bad_entries_are_refused_before_any_json() {
        assert_eq!(
            parse_platform("linux"),
            Err(ComposeError::PlatformInvalid {
                platform: "linux".into()
            })
        );
        assert_eq!(index_bytes(&[]), Err(ComposeError::NoManifests));
        assert_eq!(
            index_bytes(&[entry("linux/amd64", 'a'), entry("linux/amd64", 'b')]),
            Err(ComposeError::PlatformTwice {
                platform: "linux/amd64".into(),
                first: digest('a'),
                second: digest('b'),
            })
        );
        let mut short = entry("linux/amd64", 'a');
        short.digest = "sha256:abc".into();
        assert!(matches!(
            index_bytes(&[short]),
            Err(ComposeError::DigestInvalid { .. })
        ));
        let mut upper = entry("linux/amd64", 'A');
        upper.digest = upper.digest.to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(
            index_bytes(&[upper]),
            Err(ComposeError::DigestInvalid { .. })
        ));
    }

    #[test]
    fn digests_are_sha256_of_the_bytes() {
        assert_eq!(
            digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn arm64_is_arm64_v8() {
        let p = |s| parse_platform(s).unwrap();
        assert!(same_platform(&p("linux/arm64"), &p("linux/arm64/v8")));
        assert!(!same_platform(&p("linux/arm/v7"), &p("linux/arm/v6")));
        assert!(!same_platform(&p("linux/amd64"), &p("linux/arm64")));
    }
}
