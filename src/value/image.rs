//! Image references of runtime bases (`runtime`, `--runtime`): the engine's grammar, with an optional digest.
//! `FROM` takes its flags before the reference, so a value like `--platform=linux/arm64` must never reach it: it
//! is no reference, and is refused here.

use super::{check_word, checked_string, Refused};
use crate::model::Runtime;

/// `[host[:port]/]path[:tag][@sha256:<64 hex>]`, lowercase path components: what `FROM` can name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageRef(String);

impl ImageRef {
    fn check(value: &str) -> Result<(), Refused> {
        check_word(value)?;
        let (name, digest) = match value.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (value, None),
        };
        if let Some(digest) = digest {
            let hex = digest.strip_prefix("sha256:").unwrap_or_default();
            let valid = hex.len() == 64
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
            if !valid {
                return Err(Refused::new(
                    value,
                    "has a digest that is not `sha256:` and 64 lowercase hex digits",
                ));
            }
        }
        crate::reference::check(name)
            .map_err(|why| Refused::new(value, format!("is not an image reference: {why}")))
    }
}
checked_string!(ImageRef);

/// `--runtime` and `runtime`: a base's short name, or any image reference the engine accepts.
impl std::str::FromStr for Runtime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => Self::Auto,
            "scratch" => Self::Scratch,
            "distroless" => Self::Distroless,
            "debian-slim" => Self::DebianSlim,
            "" => return Err("the runtime image must not be empty".into()),
            other => Self::Image(
                other
                    .parse::<ImageRef>()
                    .map_err(|e| e.to_string())?
                    .to_string(),
            ),
        })
    }
}

impl<'de> serde::Deserialize<'de> for Runtime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
