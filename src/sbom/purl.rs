//! Package URLs (`pkg:type/namespace/name@version?qualifiers`), as the purl specification and its reference
//! implementation (packageurl-python) write them: qualifiers sorted by key, every component percent-encoded but
//! for the unreserved characters and `:` and `/` where the specification leaves them as they are.

use super::{BaseImage, DebianPackage};
use crate::reference::split_tag;
use crate::workspace::CrateSource;

/// `pkg:cargo/<name>@<version>`, with `repository_url` for another registry or `vcs_url` for a git source.
pub fn cargo(name: &str, version: &str, source: &CrateSource) -> String {
    let qualifiers: Vec<(&str, String)> = match source {
        CrateSource::CratesIo | CrateSource::Local => Vec::new(),
        CrateSource::Registry { index } => vec![("repository_url", index.clone())],
        CrateSource::Git { url, rev } if rev.is_empty() => vec![("vcs_url", format!("git+{url}"))],
        CrateSource::Git { url, rev } => vec![("vcs_url", format!("git+{url}@{rev}"))],
    };
    build("cargo", None, name, Some(version), qualifiers)
}

/// `pkg:deb/debian/<name>@<version>?arch=<arch>&distro=<release>`.
pub fn debian(package: &DebianPackage) -> String {
    build(
        "deb",
        Some("debian"),
        package.name,
        package.version,
        vec![
            ("arch", package.arch.to_string()),
            ("distro", package.distro.to_string()),
        ],
    )
}

/// `pkg:oci/<name>@<digest>?repository_url=<registry/path>&tag=<tag>` of a base image whose digest is known; a
/// reference without a digest names no fixed image, so it gets no purl.
pub fn oci(base: BaseImage) -> Option<String> {
    let digest = base.digest?;
    let reference = base.reference.split('@').next().unwrap_or(base.reference);
    let (repository, tag) = split_tag(reference);
    let repository = match repository.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => {
            repository.to_string()
        }
        Some(_) => format!("docker.io/{repository}"),
        None => format!("docker.io/library/{repository}"),
    };
    let name = repository
        .rsplit('/')
        .next()
        .unwrap_or(&repository)
        .to_string();
    Some(build(
        "oci",
        None,
        &name,
        Some(digest),
        vec![("repository_url", repository), ("tag", tag.to_string())],
    ))
}

fn build(
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    version: Option<&str>,
    mut qualifiers: Vec<(&str, String)>,
) -> String {
    let mut purl = format!("pkg:{kind}/");
    if let Some(namespace) = namespace {
        purl.push_str(&encode(namespace, false));
        purl.push('/');
    }
    purl.push_str(&encode(name, false));
    if let Some(version) = version {
        purl.push('@');
        purl.push_str(&encode(version, true));
    }
    qualifiers.retain(|(_, value)| !value.is_empty());
    qualifiers.sort();
    for (i, (key, value)) in qualifiers.iter().enumerate() {
        purl.push(if i == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        purl.push_str(&encode(value, true));
    }
    purl
}

/// Percent-encodes all but `A-Za-z0-9.-_~`, and `:` and `/` where `keep_separators` (versions and qualifier
/// values; a name's `/` would start another segment).
fn encode(text: &str, keep_separators: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b".-_~".contains(&byte)
            || (keep_separators && (byte == b':' || byte == b'/'));
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected strings are packageurl-python's (`PackageURL(...).to_string()`).
    #[test]
    fn purls_are_written_as_the_reference_implementation_writes_them() {
        assert_eq!(
            cargo("itoa", "1.0.19", &CrateSource::CratesIo),
            "pkg:cargo/itoa@1.0.19"
        );
        assert_eq!(
            cargo(
                "smol",
                "0.1.0+meta",
                &CrateSource::Git {
                    url: "https://github.com/acme/smol".into(),
                    rev: "0123abcdef".into()
                }
            ),
            "pkg:cargo/smol@0.1.0%2Bmeta?vcs_url=git%2Bhttps://github.com/acme/smol%400123abcdef"
        );
        assert_eq!(
            cargo(
                "x",
                "1.0.0",
                &CrateSource::Registry {
                    index: "https://crates.acme.test/index/".into()
                }
            ),
            "pkg:cargo/x@1.0.0?repository_url=https://crates.acme.test/index/"
        );
        assert_eq!(
            debian(&DebianPackage {
                name: "libssl3",
                version: Some("3.0.15-1~deb12u1"),
                arch: "amd64",
                distro: "debian-12"
            }),
            "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn base_images_get_a_purl_only_with_their_digest() {
        let digest = "sha256:abcd";
        assert_eq!(
            oci(BaseImage {
                reference: "gcr.io/distroless/cc-debian12:nonroot",
                digest: Some(digest)
            })
            .as_deref(),
            Some("pkg:oci/cc-debian12@sha256:abcd?repository_url=gcr.io/distroless/cc-debian12&tag=nonroot")
        );
        assert_eq!(
            oci(BaseImage {
                reference: "debian:bookworm-slim",
                digest: Some(digest)
            })
            .as_deref(),
            Some("pkg:oci/debian@sha256:abcd?repository_url=docker.io/library/debian&tag=bookworm-slim")
        );
        assert_eq!(
            oci(BaseImage {
                reference: "debian:bookworm-slim",
                digest: None
            }),
            None
        );
    }

    #[test]
    fn hostile_characters_are_encoded() {
        assert_eq!(encode("a b&c=d?e#f\n", true), "a%20b%26c%3Dd%3Fe%23f%0A");
        assert_eq!(encode("a/b", false), "a%2Fb");
    }
}
