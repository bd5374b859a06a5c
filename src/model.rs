//! Value types that more than one step of the pipeline speaks in: the C library, the runtime base, the
//! platform, how a native crate links, the modes of the command line, and the fixed names and paths of the
//! generated Dockerfile.
//!
//! Takes nothing and does nothing: plain data with its parsing and display. Every module may import it; it
//! imports no module of this crate, so it can never close an import circle.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The workspace inside the builder stages, and the default working directory of an image that has assets.
pub const APP_DIR: &str = "/app";
/// The non-root user of every runtime stage: distroless's `nonroot`, numeric so it works on `scratch` too.
pub const NONROOT_USER: &str = "65532:65532";
/// The build argument that narrows a builder's final compile to the binaries of some images: their stage names,
/// space-separated; unset or empty, every binary. `cargo dockerize build --bin <name>` sets it.
pub const IMAGES_ARG: &str = "DOCKERIZE_IMAGES";
/// Where the builder leaves each binary, under its stage name, for the runtime stages to copy.
pub const OUT_DIR: &str = "/out";
/// Where binaries live in the runtime images.
pub const BIN_DIR: &str = "/usr/local/bin";
/// The runtime base for dynamically linked glibc binaries.
pub const DISTROLESS_CC: &str = "gcr.io/distroless/cc-debian12:nonroot";
/// The runtime base when a binary needs Debian packages.
pub const DEBIAN_SLIM: &str = "debian:bookworm-slim";

/// The stages of the pipeline that are not per binary. A binary's stage may not take these names, nor
/// [`BUILDER_STAGES`].
pub mod stage {
    /// The shared builder base: toolchain and system packages.
    pub const CHEF: &str = "chef";
    /// Computes the dependency recipe.
    pub const PLANNER: &str = "planner";
    /// `cargo test` for CI.
    pub const TEST: &str = "test";
    /// The one builder stage when every binary compiles the same way.
    pub const BUILDER: &str = "builder";
    /// Builder stages when binaries compile for several targets.
    pub const BUILDER_MUSL: &str = "builder-musl";
    pub const BUILDER_GNU: &str = "builder-gnu";
    pub const BUILDER_GNU_STATIC: &str = "builder-gnu-static";
    /// Names a binary's stage may not take: the stages above, and `scratch`, which `FROM` reads as the empty image.
    pub const RESERVED: &[&str] = &[
        BUILDER,
        BUILDER_GNU,
        BUILDER_GNU_STATIC,
        BUILDER_MUSL,
        CHEF,
        PLANNER,
        "scratch",
        TEST,
    ];
}

/// `--libc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    /// musl where nothing links a native library dynamically or compiles C++, else glibc (static, on scratch, for C++)
    Auto,
    /// a static musl binary (`<arch>-unknown-linux-musl`)
    Musl,
    /// glibc (`<arch>-unknown-linux-gnu`)
    Gnu,
}

/// `--runtime`: the base image of every runtime stage. Serialised as written (`auto`, `ghcr.io/acme/base:1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// `scratch` for static binaries, distroless `cc` for dynamic ones, Debian slim when a library is missing there.
    Auto,
    Scratch,
    Distroless,
    DebianSlim,
    /// Any image reference.
    Image(String),
}

impl std::str::FromStr for Runtime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "auto" => Self::Auto,
            "scratch" => Self::Scratch,
            "distroless" => Self::Distroless,
            "debian-slim" => Self::DebianSlim,
            "" => return Err("the runtime image must not be empty".into()),
            other if other.chars().any(char::is_whitespace) => {
                return Err(format!("`{other}` is not an image reference"))
            }
            other => Self::Image(other.to_string()),
        })
    }
}

impl Serialize for Runtime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::fmt::Display for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::Scratch => "scratch",
            Self::Distroless => "distroless",
            Self::DebianSlim => "debian-slim",
            Self::Image(image) => image,
        })
    }
}

impl Libc {
    /// The name the flag and the manifests use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Musl => "musl",
            Self::Gnu => "gnu",
        }
    }
}

/// How one native crate of a binary's dependency closure links.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NativeLink {
    /// The `-sys` crate, e.g. `openssl-sys`.
    pub krate: String,
    /// Its `links` key, e.g. `openssl`.
    pub links: Option<String>,
    /// Whether the final binary needs a shared library at run time.
    pub linkage: Linkage,
    /// Debian packages the builder needs to compile and link it.
    pub build_packages: Vec<String>,
    /// Debian packages the runtime needs (empty when linked statically).
    pub runtime_packages: Vec<String>,
    /// Shared libraries (sonames) the binary will load, for the runtime check.
    pub libraries: Vec<String>,
    /// One line saying why, for `list`.
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Linkage {
    /// Links a system shared library: needs glibc and the library in the runtime image.
    Dynamic,
    /// Compiles and links its C sources into the binary.
    Static,
}

/// A tool a build script runs on the builder (not linked into the binary).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct BuildTool {
    /// The crate whose build needs it, e.g. `prost-build`.
    pub krate: String,
    /// Debian packages that provide it.
    pub packages: Vec<String>,
    pub note: String,
}

/// A port: `8080` or `"8080/udp"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Port {
    Number(u16),
    Text(String),
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

// By hand rather than with `#[serde(untagged)]` (as `config::table::Asset` too): an untagged enum hides what was
// expected behind "data did not match any variant".
impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number from 1 to 65535, or a string like \"8080/udp\"")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Port, E> {
                match u16::try_from(n) {
                    Ok(port) if port > 0 => Ok(Port::Number(port)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Unsigned(n), &self)),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Port, E> {
                match u64::try_from(n) {
                    Ok(n) => self.visit_u64(n),
                    Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(n), &self)),
                }
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Port, E> {
                let (number, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
                let valid = number.parse::<u16>().is_ok_and(|n| n > 0)
                    && matches!(protocol, "tcp" | "udp" | "sctp");
                if valid {
                    Ok(Port::Text(text.to_string()))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(text), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Which builder the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BuilderChoice {
    /// BuildKit when the engine has it, else the classic builder
    Auto,
    /// BuildKit (Docker Engine ≥ 18.09)
    Buildkit,
    /// The classic builder (Podman's Docker API has no BuildKit)
    Classic,
}

/// The builder the engine really runs, once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderKind {
    BuildKit,
    Classic,
}

/// `--message-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MessageFormat {
    /// Progress bars on a terminal, plain lines elsewhere
    Human,
    /// One JSON object per line on stdout (see README.md)
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_parses_names_and_images() {
        assert_eq!("scratch".parse::<Runtime>().unwrap(), Runtime::Scratch);
        assert_eq!(
            "ghcr.io/acme/base:1".parse::<Runtime>().unwrap(),
            Runtime::Image("ghcr.io/acme/base:1".into())
        );
        assert!("".parse::<Runtime>().is_err());
    }

    #[test]
    fn libc_names_are_the_flags_values() {
        for libc in [Libc::Auto, Libc::Musl, Libc::Gnu] {
            let parsed: Libc = serde_json::from_value(serde_json::json!(libc.as_str())).unwrap();
            assert_eq!(parsed, libc);
        }
    }
}
