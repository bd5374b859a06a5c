//! The small grammars of SBOM documents: times, name-based UUIDs, SPDX identifiers, license expressions and
//! hex digests.

use sha2::{Digest, Sha256};

pub use crate::text::rfc3339;

/// RFC 9562's namespace for URLs, under which the documents' UUIDs are named.
const URL_NAMESPACE: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// A version 5 (name-based, SHA-1) UUID of `kind` and the SHA-256 of `content`: the same document always gets
/// the same one, another document another. CycloneDX's schema accepts versions 1 to 5 only, so not version 8.
pub fn content_uuid(kind: &str, content: &[u8]) -> String {
    let digest = hex(&Sha256::digest(content));
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(&URL_NAMESPACE);
    sha1.update(format!("cargo-dockerize:{kind}:{digest}").as_bytes());
    let mut bytes: [u8; 16] = sha1.digest().bytes()[..16]
        .try_into()
        .expect("SHA-1 gives 20 bytes");
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `text` is a SHA-256 in hex: what a checksum field may hold.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// `text` as an SPDX identifier's tail: `[A-Za-z0-9.-]`, anything else a `-`.
pub fn spdx_id_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A Cargo `license` field as an SPDX license expression: the deprecated `MIT/Apache-2.0` form read as `OR`, as
/// crates.io does; `None` when it is not an expression (free text such as `Apache 2`), which the documents then
/// record as a license name or `NOASSERTION` rather than as an expression it is not.
pub fn license_expression(license: &str) -> Option<String> {
    let expression = if license.contains('/') && !license.contains(' ') {
        license.split('/').collect::<Vec<_>>().join(" OR ")
    } else {
        license.trim().to_string()
    };
    if expression.chars().any(char::is_control) {
        return None;
    }
    let spaced = expression.replace('(', " ( ").replace(')', " ) ");
    let mut expect_operand = true;
    let mut depth = 0i32;
    for token in spaced.split_whitespace() {
        match token {
            "(" if expect_operand => depth += 1,
            ")" if !expect_operand && depth > 0 => depth -= 1,
            "AND" | "OR" | "WITH" if !expect_operand => expect_operand = true,
            id if expect_operand && is_license_id(id) => expect_operand = false,
            _ => return None,
        }
    }
    (!expect_operand && depth == 0).then_some(expression)
}

/// A license or exception identifier, or a `LicenseRef-`: `[A-Za-z0-9.-]+`, an optional `+`.
fn is_license_id(token: &str) -> bool {
    let id = token.strip_suffix('+').unwrap_or(token);
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !matches!(id, "AND" | "OR" | "WITH")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_seconds() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_764_547_199), "2025-11-30T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn uuids_are_version_5_and_follow_the_content() {
        let a = content_uuid("spdx", b"one");
        assert_eq!(a, content_uuid("spdx", b"one"));
        assert_ne!(a, content_uuid("spdx", b"two"));
        assert_ne!(a, content_uuid("cyclonedx", b"one"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
        assert!("89ab".contains(&a[19..20]), "{a}");
    }

    #[test]
    fn uuid_v5_matches_the_rfc_example_construction() {
        // RFC 9562's own test vector is for the DNS namespace; check the construction on the URL namespace
        // against Python's `uuid.uuid5(uuid.NAMESPACE_URL, "https://example.com")`.
        let mut sha1 = sha1_smol::Sha1::new();
        sha1.update(&URL_NAMESPACE);
        sha1.update(b"https://example.com");
        let mut bytes: [u8; 16] = sha1.digest().bytes()[..16].try_into().unwrap();
        bytes[6] = (bytes[6] & 0x0f) | 0x50;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        assert_eq!(hex(&bytes), "4fd35a7171ef5a55a9d9aa75c889a6d0");
    }

    #[test]
    fn license_expressions_are_checked_not_trusted() {
        assert_eq!(
            license_expression("MIT/Apache-2.0").as_deref(),
            Some("MIT OR Apache-2.0")
        );
        assert_eq!(
            license_expression("(MIT OR Apache-2.0) AND Unicode-3.0").as_deref(),
            Some("(MIT OR Apache-2.0) AND Unicode-3.0")
        );
        assert_eq!(
            license_expression("Apache-2.0 WITH LLVM-exception").as_deref(),
            Some("Apache-2.0 WITH LLVM-exception")
        );
        assert_eq!(license_expression("GPL-2.0+").as_deref(), Some("GPL-2.0+"));
        for bad in [
            "Apache 2",
            "MIT OR",
            "(MIT",
            "MIT)",
            "",
            "MIT AND OR BSD-3-Clause",
            "MIT\nOR x",
        ] {
            assert_eq!(license_expression(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn identifiers_keep_only_what_spdx_allows() {
        assert_eq!(
            spdx_id_part("unicode_ident-1.0.27+x"),
            "unicode-ident-1.0.27-x"
        );
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"g".repeat(64)));
        assert!(!is_sha256("abc"));
    }
}
