//! What the command line chose, as typed values: [`Settings`].
//!
//! The command line (`cli::settings`) fills it; the layering reads the flags that override the manifests' tables,
//! and the planner the rest. Modes are enums, not bools, so the planner never looks at flags, the environment
//! or files. [`Settings::regenerate_command`] spells it back as the flags that reproduce it, for the Dockerfile's
//! header; the command line's tests check that the two directions agree.

use serde::Serialize;

use crate::model::{CiService, Libc, Runtime};
use crate::platform::PlatformList;
use crate::text::shell_word;

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
    /// `--platform`: the platforms the images are built for, overriding the workspace table's `platforms`.
    pub platforms: Option<PlatformList>,
    pub test_stage: TestStage,
    /// `--no-auditable`: no dependency section in the binaries, overriding the workspace table's `auditable`.
    pub auditable: Option<Auditable>,
    /// `--sbom`: the SBOM formats attached to each pushed image (empty: none), over the table's `sbom`.
    pub sbom: Option<Vec<SbomFormat>>,
    /// `--provenance` / `--no-provenance`, over the table's `provenance`.
    pub provenance: Option<bool>,
    /// `--tag` templates, e.g. `{bin}:{version}`, overriding the manifests' `tags`; expanded per image.
    pub tags: Option<Vec<String>>,
    /// A registry prefix for every tag, e.g. `ghcr.io/acme`.
    pub registry: Option<String>,
    /// What `{git_sha}` in a tag template becomes: only the edge can know it.
    pub git_sha: GitSha,
    /// `--dockerfile`: the Dockerfile's path relative to the workspace root (checked by the command line),
    /// overriding the workspace table's `dockerfile`.
    pub dockerfile: Option<camino::Utf8PathBuf>,
    /// What the `build` command asks of its builds; the other commands build nothing and leave the default.
    pub builds: BuildRequest,
}

/// The `build` command's flags that shape its builds: which variant, where the images go, build arguments,
/// registry caches, how many at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildRequest {
    /// `--debug`: the debug variants instead of the images.
    pub variant: Variant,
    /// `--push`: the images go to their registries too.
    pub destination: Destination,
    /// `--build-arg`, in the order given.
    pub build_args: Vec<(String, String)>,
    /// `--cache-from`, in the order given.
    pub cache_from: Vec<String>,
    /// `--cache-to`.
    pub cache_to: Option<String>,
    /// `--no-cache`.
    pub cache: Cache,
    /// `--jobs`: builds at once.
    pub jobs: Option<std::num::NonZeroUsize>,
    /// `--network`: the network of the build's steps; `None` leaves it to the engine.
    pub network: Option<crate::model::BuildNetwork>,
    /// `--output`: an OCI image layout (or archive) of the built images, written after them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
    /// Every time written into a normalised image (`--output`'s layout, and what `--push` puts): file
    /// modification times are clamped to it, the config's `created` and its history's are it. Read at the edge
    /// only when something is normalised.
    #[serde(skip_serializing_if = "SourceDateEpoch::is_unread")]
    pub epoch: SourceDateEpoch,
}

/// `--output oci:<dir>` or `oci-archive:<file>`: the built images exported from the engine and normalised
/// (`crate::registry::layout`), so that the same commit gives the same digests on any engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    pub format: OutputFormat,
    /// The layout's directory, or the archive's file.
    pub path: camino::Utf8PathBuf,
}

/// What `--output` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    /// `oci:<dir>`: an OCI image layout directory.
    Oci,
    /// `oci-archive:<file>`: the same layout as one tar file.
    OciArchive,
}

/// `SOURCE_DATE_EPOCH`: seconds since 1970-01-01 UTC, and where the value came from (only the edge can know it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SourceDateEpoch {
    pub seconds: u64,
    pub from: EpochFrom,
}

impl SourceDateEpoch {
    /// Not read: nothing this command does is normalised.
    pub fn is_unread(&self) -> bool {
        self.from == EpochFrom::Unread
    }
}

/// Where [`SourceDateEpoch`] came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EpochFrom {
    /// Not read yet: the command line's value, before the edge reads the environment and git.
    #[default]
    Unread,
    /// The `SOURCE_DATE_EPOCH` environment variable.
    Environment,
    /// The time of the workspace's last commit; `dirty` when the working tree differs from it.
    Commit { dirty: bool },
    /// No variable and no git repository: 0.
    NoCommit,
}

/// Which variant of each image a build builds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// The runtime image: the stripped (or as-built) executable on its runtime base.
    #[default]
    Release,
    /// The debug variant: the unstripped executable on Debian slim, with a shell.
    Debug,
}

/// Where built images go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    /// The engine's image store only.
    #[default]
    Engine,
    /// Their registries too (`--push`).
    Registry,
}

/// Whether builds reuse the engine's cache (`--no-cache`: they do not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cache {
    #[default]
    Use,
    Ignore,
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
            platforms: None,
            test_stage: TestStage::Include,
            auditable: None,
            sbom: None,
            provenance: None,
            tags: None,
            registry: None,
            git_sha: GitSha::Unknown,
            dockerfile: None,
            builds: BuildRequest::default(),
        }
    }
}

/// What `{git_sha}` in a tag template becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GitSha {
    /// The commit being built: the first 12 hex digits of `HEAD`.
    Commit(String),
    /// Outside a git repository: `unknown`.
    Unknown,
    /// The commits a CI workflow builds, yet to come: `{git_sha}` stays in the tag, and the workflow fills it in.
    AtRunTime,
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

/// `--static`: whether a glibc binary is linked with `-C target-feature=+crt-static`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linking {
    /// musl binaries are static, glibc ones dynamic.
    Auto,
    /// glibc binaries too are static (`+crt-static`), so they run on `scratch`.
    Static,
}

/// Whether the Dockerfile carries a `test` stage (`cargo test --locked`) for CI to target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStage {
    Include,
    Omit,
}

/// Whether each binary carries its crate list in cargo-auditable's `.dep-v0` section, which scanners (trivy,
/// grype, syft, osv-scanner, `cargo audit bin`) read from any copy of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Auditable {
    Embed,
    Omit,
}

/// A format of the SBOM attached to a pushed image (`--sbom`, the table's `sbom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SbomFormat {
    /// SPDX 2.3 JSON, `application/spdx+json`.
    Spdx,
    /// CycloneDX 1.6 JSON, `application/vnd.cyclonedx+json`.
    Cyclonedx,
}

impl SbomFormat {
    pub const ALL: [Self; 2] = [Self::Spdx, Self::Cyclonedx];

    pub fn name(self) -> &'static str {
        match self {
            Self::Spdx => "spdx",
            Self::Cyclonedx => "cyclonedx",
        }
    }

    /// Reads `--sbom`'s value: a comma-separated list of formats, or `none`; sorted, none twice.
    pub fn parse_list(text: &str) -> Result<SbomList, String> {
        if text.trim() == "none" {
            return Ok(SbomList(Vec::new()));
        }
        let mut formats = Vec::new();
        for word in text.split(',').map(str::trim) {
            let format = Self::ALL
                .into_iter()
                .find(|f| f.name() == word)
                .ok_or_else(|| {
                    format!("`{}` is no SBOM format: write `spdx`, `cyclonedx`, both separated by a comma, or `none`", word.escape_debug())
                })?;
            formats.push(format);
        }
        formats.sort();
        formats.dedup();
        Ok(SbomList(formats))
    }
}

/// `--sbom`'s value: the formats, sorted (empty for `none`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SbomList(pub Vec<SbomFormat>);

impl Settings {
    /// The `cargo dockerize generate ...` line that regenerates the same Dockerfile, for its header.
    ///
    /// Only flags that change the Dockerfile appear (never the selection), in a fixed order, so that the header
    /// is deterministic.
    pub fn regenerate_command(&self) -> String {
        command_line("generate", self.file_flags())
    }

    /// The `cargo dockerize ci ...` line that writes the same workflow again, for its header and its own check:
    /// the flags that change the Dockerfile, those that change the tags, and the workflow's path unless default.
    pub fn ci_command(&self, service: CiService, workflow: Option<&camino::Utf8Path>) -> String {
        let mut words = self.file_flags();
        if service == CiService::GitlabCi {
            words.push("--gitlab".into());
        }
        for tag in self.tags.iter().flatten() {
            words.extend(["--tag".into(), tag.clone()]);
        }
        if let Some(registry) = &self.registry {
            words.extend(["--registry".into(), registry.clone()]);
        }
        if let Some(path) = workflow {
            words.extend(["--workflow".into(), path.to_string()]);
        }
        command_line("ci", words)
    }

    /// The flags that change the Dockerfile, in a fixed order.
    fn file_flags(&self) -> Vec<String> {
        let mut words: Vec<String> = Vec::new();
        // The selection (`-p`, `--bin`, ...) chooses images to build, never what the file holds: not a word here.
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
            words.extend(["--libc".into(), libc.as_str().into()]);
        }
        if self.linking == Linking::Static {
            words.push("--static".into());
        }
        if let Some(runtime) = &self.runtime {
            words.extend(["--runtime".into(), runtime.to_string()]);
        }
        if let Some(platforms) = &self.platforms {
            words.extend(["--platform".into(), platforms.joined()]);
        }
        if self.test_stage == TestStage::Omit {
            words.push("--no-test-stage".into());
        }
        if self.auditable == Some(Auditable::Omit) {
            words.push("--no-auditable".into());
        }
        // The file names its own path (its header's `docker build -f`), so a path given by flag is part of it.
        if let Some(path) = &self.dockerfile {
            words.extend(["--dockerfile".into(), path.to_string()]);
        }
        words
    }
}

/// `cargo dockerize <command> <words...>`, each word quoted for a POSIX shell where it needs it.
fn command_line(command: &str, words: Vec<String>) -> String {
    ["cargo", "dockerize", command]
        .into_iter()
        .map(str::to_string)
        .chain(words.iter().map(|w| shell_word(w)))
        .collect::<Vec<_>>()
        .join(" ")
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
            "cargo dockerize generate --libc gnu --static --runtime 'my image'",
            "the selection never changes the file: it is not in the command"
        );
    }
}
