//! Base-image pins: a digest (`sha256:` and 64 lowercase hex digits, nothing else), and the pins a Dockerfile
//! holds, read back from its `FROM name:tag@sha256:… AS stage` lines.
//!
//! The Dockerfile is where pins live: it is the file Dependabot and Renovate update (`FROM name:tag@sha256:…`),
//! so `generate` reads the pins of the file it rewrites and writes them again, and a bot's bump is kept. What is
//! read back is hostile like any other input: a digest that is not exactly `sha256:<64 lowercase hex>` is refused,
//! naming the file and line. Pure: the caller reads the file.

use std::collections::BTreeMap;

use super::Refused;

/// A manifest or index digest as a `FROM` line may hold it: `sha256:` and exactly 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Digest(String);

impl Digest {
    /// Checks `raw` as a whole: no surrounding space, no other algorithm, no uppercase, no line break.
    pub fn parse(raw: &str) -> Result<Self, Refused> {
        let Some(hex) = raw.strip_prefix("sha256:") else {
            return Err(Refused::new(raw, "is not a `sha256:` digest"));
        };
        if hex.len() != 64 {
            return Err(Refused::new(
                raw,
                format!("has {} hex digits after `sha256:`, not 64", hex.len()),
            ));
        }
        if let Some(c) = hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(Refused::new(
                raw,
                format!(
                    "holds `{}`: a digest is lowercase hex (`0-9a-f`)",
                    c.escape_default()
                ),
            ));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The pins of a Dockerfile: each pinned base as its `FROM` names it without the digest (`debian:bookworm-slim`),
/// and its digest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins(BTreeMap<String, Digest>);

/// A pin of the Dockerfile that cannot be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("line {line}: the pin of `{base}` {refused}")]
    Digest {
        line: usize,
        base: String,
        refused: Refused,
    },
    #[error(
        "line {line}: `{base}` is pinned to `{digest}`, and to `{earlier}` on an earlier line"
    )]
    Twice {
        line: usize,
        base: String,
        digest: String,
        earlier: String,
    },
}

impl Pins {
    /// Pins from `(base, digest)` pairs, each digest checked.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Refused> {
        let mut pins = BTreeMap::new();
        for (base, digest) in pairs {
            pins.insert(base.to_string(), Digest::parse(digest)?);
        }
        Ok(Self(pins))
    }

    /// The pins of every `FROM <name>@<digest>` line of `dockerfile` (a flag such as `--platform=…` before the
    /// image is skipped). A base pinned twice must be pinned alike.
    pub fn read(dockerfile: &str) -> Result<Self, PinError> {
        let mut pins: BTreeMap<String, (Digest, usize)> = BTreeMap::new();
        for (index, text) in dockerfile.split('\n').enumerate() {
            let line = index + 1;
            let mut words = text.split([' ', '\t']).filter(|w| !w.is_empty());
            if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("FROM")) {
                continue;
            }
            let Some(image) = words.find(|w| !w.starts_with("--")) else {
                continue;
            };
            let Some((base, raw)) = image.split_once('@') else {
                continue;
            };
            let digest = Digest::parse(raw).map_err(|refused| PinError::Digest {
                line,
                base: base.to_string(),
                refused,
            })?;
            match pins.get(base) {
                Some((earlier, _)) if *earlier != digest => {
                    return Err(PinError::Twice {
                        line,
                        base: base.to_string(),
                        digest: digest.to_string(),
                        earlier: earlier.to_string(),
                    })
                }
                Some(_) => {}
                None => {
                    pins.insert(base.to_string(), (digest, line));
                }
            }
        }
        Ok(Self(pins.into_iter().map(|(b, (d, _))| (b, d)).collect()))
    }

    /// Pins `base` to `digest`, replacing its pin.
    pub fn insert(&mut self, base: &str, digest: Digest) {
        self.0.insert(base.to_string(), digest);
    }

    /// The digest `base` is pinned to.
    pub fn get(&self, base: &str) -> Option<&Digest> {
        self.0.get(base)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every pin, by base.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Digest)> {
        self.0.iter().map(|(b, d)| (b.as_str(), d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_digest_is_sha256_and_64_lowercase_hex_exactly() {
        let good = format!("sha256:{HEX}");
        assert_eq!(Digest::parse(&good).unwrap().as_str(), good);
        for bad in [
            format!("sha256:{}", &HEX[1..]),
            format!("sha256:{HEX}0"),
            format!("sha256:{}", HEX.to_uppercase()),
            format!("sha512:{HEX}"),
            format!("sha256:{HEX}\n"),
            format!("sha256:{}\nRUN id", &HEX[..60]),
            format!(" sha256:{HEX}"),
            format!("sha256:{}g", &HEX[1..]),
            String::new(),
        ] {
            let refused = Digest::parse(&bad).unwrap_err().to_string();
            assert!(!refused.contains('\n'), "{refused:?}");
        }
    }

    #[test]
    fn pins_are_read_from_from_lines_only() {
        let text = format!(
            "# FROM ignored@sha256:{HEX}\nARG RUST_VERSION=1.95\n\
             FROM --platform=$BUILDPLATFORM rust:1.95-slim-bookworm@sha256:{HEX} AS chef\n\
             FROM chef AS builder\nfrom debian:bookworm-slim@sha256:{HEX} as api\nFROM scratch AS worker\n"
        );
        let pins = Pins::read(&text).unwrap();
        let bases: Vec<&str> = pins.iter().map(|(b, _)| b).collect();
        assert_eq!(bases, ["debian:bookworm-slim", "rust:1.95-slim-bookworm"]);
    }

    #[test]
    fn a_hostile_pin_is_refused_naming_its_line() {
        let upper = format!(
            "FROM debian:bookworm-slim@sha256:{} AS api\n",
            HEX.to_uppercase()
        );
        let short = format!("\nFROM debian:bookworm-slim@sha256:{} AS api\n", &HEX[2..]);
        let cr = format!("\n\nFROM debian:bookworm-slim@sha256:{HEX}\r\n");
        for (text, line) in [(upper, 1), (short, 2), (cr, 3)] {
            let error = Pins::read(&text).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("line {line}: the pin of `debian:bookworm-slim`")),
                "{error}"
            );
            assert!(!error.contains(['\n', '\r']), "{error:?}");
        }
    }

    #[test]
    fn a_base_pinned_twice_differently_is_refused() {
        let other = HEX.replace('0', "1");
        let text = format!(
            "FROM debian:bookworm-slim@sha256:{HEX} AS a\nFROM debian:bookworm-slim@sha256:{HEX} AS b\nFROM debian:bookworm-slim@sha256:{other} AS c\n"
        );
        assert!(matches!(
            Pins::read(&text),
            Err(PinError::Twice { line: 3, .. })
        ));
    }
}
