//! Names by their own grammar: the runtime user, variable and label keys, Cargo features, the rustup channel and
//! binary names. Each is what its owner (Docker, POSIX, Cargo, rustup) accepts, narrowed to what a Dockerfile line
//! and a shell word carry as plain text.

use super::{check_line, check_size, check_word, checked_string, describe, Refused};

/// `USER` and `--chown`: a user name or a numeric id, optionally with `:group` (each `[A-Za-z0-9_][A-Za-z0-9_.-]*`,
/// at most 32 characters, as `useradd` takes them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct User(String);

impl User {
    fn check(value: &str) -> Result<(), Refused> {
        let part_ok = |part: &str| {
            !part.is_empty()
                && part.len() <= 32
                && part.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        };
        let mut parts = value.splitn(2, ':');
        let valid = parts.next().is_some_and(part_ok) && parts.next().is_none_or(part_ok);
        if valid {
            return Ok(());
        }
        check_word(value)?;
        Err(Refused::new(
            value,
            "is not a user: a name or uid, optionally `:group`, each `A-Za-z0-9_` then `A-Za-z0-9_.-`",
        ))
    }

    /// The non-root user of every runtime stage (distroless's `nonroot`).
    pub fn nonroot() -> Self {
        Self(crate::model::NONROOT_USER.to_string())
    }

    /// Whether the image runs as root: `root`, uid 0.
    pub fn is_root(&self) -> bool {
        let user = self.0.split(':').next().unwrap_or_default();
        user == "root" || user == "0"
    }
}
checked_string!(User);

/// An `ENV` variable name: `[A-Za-z_][A-Za-z0-9_.-]*`, as Docker and the shell can both name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EnvName(String);

impl EnvName {
    fn check(value: &str) -> Result<(), Refused> {
        check_size(value, 256)?;
        let valid = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if valid {
            return Ok(());
        }
        check_word(value)?;
        Err(Refused::new(
            value,
            "is not a variable name (`A-Za-z_` then `A-Za-z0-9_.-`)",
        ))
    }
}
checked_string!(EnvName);

/// A `LABEL` key: no whitespace, `=`, quotes, `$` or `\`, at most 256 bytes (`org.opencontainers.image.title`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LabelKey(String);

impl LabelKey {
    fn check(value: &str) -> Result<(), Refused> {
        check_word(value)?;
        check_size(value, 256)?;
        if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c == '=') {
            return Err(Refused::new(
                value,
                "is not a label key (not empty, no spaces or `=`)",
            ));
        }
        Ok(())
    }
}
checked_string!(LabelKey);

/// A Cargo feature, as `--features` takes it: `name`, or `package/name` for a dependency's or another package's
/// feature. Names by Cargo's rule: a letter, digit or `_`, then letters, digits, `_`, `-`, `+` and `.`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Feature(String);

impl Feature {
    fn check(value: &str) -> Result<(), Refused> {
        check_size(value, 256)?;
        let name_ok = |name: &str| {
            name.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || "_-+.".contains(c))
        };
        let valid = match value.split_once('/') {
            Some((package, feature)) => name_ok(package) && name_ok(feature),
            None => name_ok(value),
        };
        if valid {
            return Ok(());
        }
        check_word(value)?;
        Err(Refused::new(
            value,
            "is not a feature name (a letter, digit or `_`, then letters, digits and `_-+.`; `package/feature` for another package's)",
        ))
    }

    /// The feature's package (`package/name`) and name.
    pub fn split(&self) -> (Option<&str>, &str) {
        match self.0.split_once('/') {
            Some((package, name)) => (Some(package), name),
            None => (None, &self.0),
        }
    }
}
checked_string!(Feature);

/// A rustup toolchain channel, by rustup's own grammar: `stable`, `beta`, `nightly` or a release (`1.95`,
/// `1.95.0`), then an optional `-YYYY-MM-DD` and an optional `-<host triple>` (`nightly-2026-01-01`,
/// `1.95-x86_64-unknown-linux-gnu`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Channel(String);

impl Channel {
    fn check(value: &str) -> Result<(), Refused> {
        check_size(value, 256)?;
        if channel_parts(value).is_some() {
            return Ok(());
        }
        check_word(value)?;
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "._-".contains(*c)))
        {
            return Err(Refused::new(
                value,
                format!("holds {}, which no rustup channel has", describe_plain(c)),
            ));
        }
        Err(Refused::new(
            value,
            "is not a rustup channel (`stable`, `beta`, `nightly` or `1.95[.0]`, then `-YYYY-MM-DD` and a host triple, each optional)",
        ))
    }

    /// The release or channel name, the date and the host triple.
    pub fn parts(&self) -> (&str, Option<&str>, Option<&str>) {
        channel_parts(&self.0).unwrap_or((&self.0, None, None))
    }
}
checked_string!(Channel);

/// A character that is not syntax anywhere but has no place in a name: its own text and code point.
fn describe_plain(c: char) -> String {
    if c.is_ascii_graphic() || c == ' ' {
        format!("`{c}` (U+{:04X})", c as u32)
    } else {
        describe(c)
    }
}

/// rustup's `^(nightly|beta|stable|\d\.\d{1,3}(\.\d{1,2})?)(-\d{4}-\d{2}-\d{2})?(-<triple>)?$`, with the triple's
/// parts lowercase `[a-z0-9_.]`.
fn channel_parts(value: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.chars().all(|c| c.is_ascii_digit())
    };
    let (name, rest) = match value.split_once('-') {
        Some((name, rest)) => (name, Some(rest)),
        None => (value, None),
    };
    let release = {
        let parts: Vec<&str> = name.split('.').collect();
        match parts.as_slice() {
            [major, minor] => digits(major, 1, 1) && digits(minor, 1, 3),
            [major, minor, patch] => {
                digits(major, 1, 1) && digits(minor, 1, 3) && digits(patch, 1, 2)
            }
            _ => false,
        }
    };
    if !(release || matches!(name, "stable" | "beta" | "nightly")) {
        return None;
    }
    let Some(rest) = rest else {
        return Some((name, None, None));
    };
    let date_len = "YYYY-MM-DD".len();
    let is_date = |s: &str| {
        let parts: Vec<&str> = s.split('-').collect();
        matches!(parts.as_slice(), [y, m, d] if digits(y, 4, 4) && digits(m, 2, 2) && digits(d, 2, 2))
    };
    let (date, triple) = if rest.len() >= date_len && is_date(&rest[..date_len]) {
        match &rest[date_len..] {
            "" => (Some(&rest[..date_len]), None),
            more => (Some(&rest[..date_len]), Some(more.strip_prefix('-')?)),
        }
    } else {
        (None, Some(rest))
    };
    let triple_ok = triple.is_none_or(|t| {
        t.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.".contains(c))
        })
    });
    triple_ok.then_some((name, date, triple))
}

/// A `[[bin]]` target's name, as Cargo reads it and the Dockerfile uses it (`/usr/local/bin/<name>`, `--bin`,
/// the ENTRYPOINT): no `/`, and none of what a line or a Dockerfile word cannot hold (Cargo accepts `a\`, `a$b`,
/// `it's`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BinaryName(String);

impl BinaryName {
    fn check(value: &str) -> Result<(), Refused> {
        check_line(value)?;
        check_word(value)?;
        check_size(value, 255)?;
        if value.trim().is_empty() || value.contains('/') || value.starts_with('-') {
            return Err(Refused::new(
                value,
                "is not a file name (empty, holds `/` or starts with `-`)",
            ));
        }
        Ok(())
    }
}
checked_string!(BinaryName);
