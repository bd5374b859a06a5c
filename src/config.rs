//! The user's choices, resolved: [`Settings`].
//!
//! Takes what the command line said (and, later, `[*.metadata.dockerize]` tables) and gives one value that the
//! planner reads. Every choice that shapes the Dockerfile lives here as a typed value — modes are enums, not
//! bools — so the planner never looks at flags, the environment or files.

use serde::Serialize;

/// Everything the planner needs to know about what the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub selection: Selection,
    pub features: Features,
    /// `--profile`: overrides every binary's configured profile (`release` when nothing sets one).
    pub profile: Option<String>,
    /// `--libc`, overriding the manifests' `libc`.
    pub libc: Option<Libc>,
    /// `--runtime`, overriding the manifests' `runtime`.
    pub runtime: Option<Runtime>,
    pub linking: Linking,
    pub platform: Platform,
    pub test_stage: TestStage,
    /// `--tag` templates, e.g. `{bin}:{version}`, overriding the manifests' `tags`; expanded per image.
    pub tags: Option<Vec<String>>,
    /// A registry prefix for every tag, e.g. `ghcr.io/acme`.
    pub registry: Option<String>,
    /// Values the tag templates may use that only the edge can know (`{git_sha}`).
    pub git_sha: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            selection: Selection::default(),
            features: Features::default(),
            profile: None,
            libc: None,
            runtime: None,
            linking: Linking::Auto,
            platform: Platform::default(),
            test_stage: TestStage::Include,
            tags: None,
            registry: None,
            git_sha: None,
        }
    }
}

/// `{bin}:{version}` and `{bin}:latest`: what `docker images` users expect to see.
pub fn default_tags() -> Vec<String> {
    vec!["{bin}:{version}".into(), "{bin}:latest".into()]
}

/// Which packages and binaries, following Cargo's own rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// `-p/--package`, in the order given.
    pub packages: Vec<String>,
    /// `--workspace`.
    pub workspace: bool,
    /// `--exclude`, with `--workspace`.
    pub exclude: Vec<String>,
    /// `--bin`.
    pub bins: Vec<String>,
}

/// Cargo's feature flags, passed to `cargo metadata` and to every `cargo build` in the Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    /// `--features`, split on commas and spaces.
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
}

/// `--libc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    /// musl where nothing links a native library dynamically, else glibc
    Auto,
    /// a static musl binary (`<arch>-unknown-linux-musl`)
    Musl,
    /// glibc (`<arch>-unknown-linux-gnu`)
    Gnu,
}

/// `--static`: whether a glibc binary is linked with `-C target-feature=+crt-static`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linking {
    /// musl binaries are static, glibc ones dynamic.
    Auto,
    /// glibc binaries too are static (`+crt-static`), so they run on `scratch`.
    Static,
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

/// The one platform the images are built for (multi-platform comes later; see DESIGN.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Platform {
    #[default]
    LinuxAmd64,
    LinuxArm64,
}

impl Platform {
    /// The Docker name, `linux/amd64`.
    pub fn docker_name(self) -> &'static str {
        match self {
            Self::LinuxAmd64 => "linux/amd64",
            Self::LinuxArm64 => "linux/arm64",
        }
    }

    /// The Rust architecture of the target triple.
    pub fn rust_arch(self) -> &'static str {
        match self {
            Self::LinuxAmd64 => "x86_64",
            Self::LinuxArm64 => "aarch64",
        }
    }

    /// The target triple for this platform and libc.
    pub fn triple(self, musl: bool) -> String {
        format!(
            "{}-unknown-linux-{}",
            self.rust_arch(),
            if musl { "musl" } else { "gnu" }
        )
    }
}

impl std::str::FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "linux/amd64" | "linux/x86_64" => Ok(Self::LinuxAmd64),
            "linux/arm64" | "linux/aarch64" | "linux/arm64/v8" => Ok(Self::LinuxArm64),
            other => Err(format!(
                "unsupported platform `{other}`: expected `linux/amd64` or `linux/arm64`"
            )),
        }
    }
}

/// Whether the Dockerfile carries a `test` stage (`cargo test --locked`) for CI to target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStage {
    Include,
    Omit,
}

impl Settings {
    /// The flags that override the manifests' tables for every binary.
    pub fn flag_layer(&self) -> crate::metadata::FlagLayer {
        crate::metadata::FlagLayer {
            runtime: self.runtime.clone(),
            libc: self.libc,
            static_: self.linking == Linking::Static,
            profile: self.profile.clone(),
            tags: self.tags.clone(),
        }
    }

    /// The `cargo dockerize generate ...` line that regenerates the same Dockerfile, for its header.
    ///
    /// Only flags that change the Dockerfile appear, in a fixed order, so that the header is deterministic.
    pub fn regenerate_command(&self) -> String {
        let mut words = vec!["cargo".to_string(), "dockerize".into(), "generate".into()];
        let Selection {
            packages,
            workspace,
            exclude,
            bins,
        } = &self.selection;
        if *workspace {
            words.push("--workspace".into());
        }
        for p in packages {
            words.extend(["-p".into(), p.clone()]);
        }
        for e in exclude {
            words.extend(["--exclude".into(), e.clone()]);
        }
        for b in bins {
            words.extend(["--bin".into(), b.clone()]);
        }
        let Features {
            features,
            all_features,
            no_default_features,
        } = &self.features;
        if !features.is_empty() {
            words.extend(["--features".into(), features.join(",")]);
        }
        if *all_features {
            words.push("--all-features".into());
        }
        if *no_default_features {
            words.push("--no-default-features".into());
        }
        if let Some(profile) = &self.profile {
            words.extend(["--profile".into(), profile.clone()]);
        }
        if let Some(libc) = self.libc {
            let libc = match libc {
                Libc::Auto => "auto",
                Libc::Musl => "musl",
                Libc::Gnu => "gnu",
            };
            words.extend(["--libc".into(), libc.into()]);
        }
        if self.linking == Linking::Static {
            words.push("--static".into());
        }
        if let Some(runtime) = &self.runtime {
            words.extend(["--runtime".into(), runtime.to_string()]);
        }
        if self.platform != Platform::default() {
            words.extend(["--platform".into(), self.platform.docker_name().into()]);
        }
        if self.test_stage == TestStage::Omit {
            words.push("--no-test-stage".into());
        }
        words
            .into_iter()
            .map(|w| {
                if w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:,=@".contains(c))
                {
                    w
                } else {
                    format!("'{}'", w.replace('\'', r"'\''"))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Splits Cargo-style feature lists (`"a b,c"` given once or many times) into single names.
pub fn split_features<S: AsRef<str>>(raw: &[S]) -> Vec<String> {
    raw.iter()
        .flat_map(|s| {
            s.as_ref()
                .split([',', ' '])
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_split_like_cargo() {
        assert_eq!(
            split_features(&["a b,c", "pkg/d"]),
            vec!["a", "b", "c", "pkg/d"]
        );
    }

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
    fn regenerate_command_lists_only_changes_and_quotes() {
        assert_eq!(
            Settings::default().regenerate_command(),
            "cargo dockerize generate"
        );
        let settings = Settings {
            selection: Selection {
                bins: vec!["api".into()],
                ..Default::default()
            },
            libc: Some(Libc::Gnu),
            linking: Linking::Static,
            runtime: Some(Runtime::Image("my image".into())),
            ..Default::default()
        };
        assert_eq!(
            settings.regenerate_command(),
            "cargo dockerize generate --bin api --libc gnu --static --runtime 'my image'"
        );
    }
}
