//! Values from outside — a manifest's table, a toolchain file, a directory or binary name, a flag — checked where
//! they are read, each by a type that cannot hold what the generated files forbid it.
//!
//! A Dockerfile line ends at a newline and continues after a `\`; `$`, quotes and `\` are syntax in the words of
//! `COPY`, `WORKDIR`, `USER`, `ENV` and `LABEL`; a `RUN` line is shell; a workflow is YAML whose every string
//! GitHub searches for `${{ … }}`. The types here hold only what each of those places can carry as plain data
//! (the renderer still quotes every value for its context, `render::quote`): text without line breaks or
//! control characters ([`Text`]), names by their own grammar ([`User`], [`EnvName`], [`LabelKey`], [`Feature`],
//! [`Channel`], [`BinaryName`]), paths without Docker's word syntax ([`ImagePath`], [`ContextPath`]) and image
//! references by the engine's grammar ([`ImageRef`], which is also how `--runtime` and `runtime` are read).
//!
//! A refused value is a [`Refused`]: the value shown on one line (escaped) and which character or rule it
//! breaks; the caller names the file and the key, or the flag. Pure: no I/O.

mod digest;
mod image;
mod names;
mod path;

pub use digest::{Digest, PinError, Pins};
pub use image::ImageRef;
pub use names::{BinaryName, Channel, EnvName, Feature, LabelKey, User};
pub use path::{check_dir, ContextPath, ImagePath};

/// The most bytes a value of `env`, `build-env` or `labels` may hold. BuildKit reads a Dockerfile line with a
/// 64 KiB buffer and refuses a longer one (`bufio.Scanner: token too long`); escaping can double a value, and its
/// key and quotes share the line.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// The most bytes a name or path may hold.
pub const MAX_NAME_BYTES: usize = 4096;

/// A value the generated files cannot hold as it is: shown on one line, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{shown}` {reason}")]
pub struct Refused {
    shown: String,
    reason: String,
}

impl Refused {
    /// `value` is refused because it `reason` (a phrase such as "holds a line break (U+000A)").
    pub fn new(value: &str, reason: impl Into<String>) -> Self {
        Self {
            shown: shown(value),
            reason: reason.into(),
        }
    }
}

/// A value in a one-line message: control characters escaped (`\n`, `\u{1b}`), long ones cut with `…`.
pub fn shown(value: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut out = String::new();
    for (count, c) in value.chars().enumerate() {
        if count == MAX_CHARS {
            out.push('…');
            break;
        }
        if is_line_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` with the characters no line may hold escaped (`\n`, `\u{1b}`), whole: for a message that quotes a
/// value inside a longer phrase (a parser's reason).
pub fn escaped(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = is_line_unsafe(c);
            let shown: Vec<char> = if escape {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect()
}

/// Characters no generated line may hold: control characters (a newline ends a Dockerfile line and a YAML
/// scalar, a carriage return or an escape sequence rewrites what a terminal or a reviewer sees), the Unicode line
/// and paragraph separators (line breaks to YAML 1.1), and the bidirectional-text controls (which make a line
/// read in another order than it runs).
pub fn is_line_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// What a refused character is, in a message: "a line break (U+000A)", "`$`, which Docker expands".
pub fn describe(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    match c {
        '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => format!("a line break ({code})"),
        '\t' => format!("a tab ({code})"),
        '\\' => "`\\`, the Dockerfile's escape character (at a line's end it joins the next line)"
            .into(),
        '$' => "`$`, which Docker expands as a variable".into(),
        '"' | '\'' | '`' => {
            format!("`{c}`, a quote Docker's and the shell's word parsers read as syntax")
        }
        c if c.is_control() => format!("the control character {code}"),
        _ => format!("the bidirectional-text control {code}"),
    }
}

/// `Err` naming the first character of `value` no line may hold.
pub fn check_line(value: &str) -> Result<(), Refused> {
    match value.chars().find(|&c| is_line_unsafe(c)) {
        Some(c) => Err(Refused::new(value, format!("holds {}", describe(c)))),
        None => Ok(()),
    }
}

/// `Err` naming the first character of `value` that is syntax in a Dockerfile word (`$`, quotes, `\`) or no
/// line may hold.
pub fn check_word(value: &str) -> Result<(), Refused> {
    check_line(value)?;
    match value
        .chars()
        .find(|c| matches!(c, '\\' | '$' | '"' | '\'' | '`'))
    {
        Some(c) => Err(Refused::new(value, format!("holds {}", describe(c)))),
        None => Ok(()),
    }
}

/// `Err` when `value` is longer than `max` bytes.
fn check_size(value: &str, max: usize) -> Result<(), Refused> {
    if value.len() > max {
        return Err(Refused::new(
            value,
            format!(
                "is {} bytes long: at most {max} fit a Dockerfile line",
                value.len()
            ),
        ));
    }
    Ok(())
}

/// Text for `env`, `build-env` and `labels` values: any characters but those no line may hold, at most
/// [`MAX_VALUE_BYTES`]. The renderer escapes `"`, `\` and `$` (`render::quote`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(String);

impl Text {
    fn check(value: &str) -> Result<(), Refused> {
        check_line(value)?;
        check_size(value, MAX_VALUE_BYTES)
    }
}

/// The common parts of a checked string type: its checks on every way in, and `str` on the way out.
macro_rules! checked_string {
    ($name:ident) => {
        impl TryFrom<String> for $name {
            type Error = $crate::value::Refused;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::check(&value)?;
                Ok(Self(value))
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::value::Refused;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::try_from(value.to_string())
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::try_from(text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use checked_string;

checked_string!(Text);

#[cfg(test)]
mod tests;
