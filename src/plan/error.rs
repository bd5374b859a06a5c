//! Why a plan cannot be made: each error names the package, binary, feature, tag or profile at fault, and
//! [`PlanError::hint`] the fix.

use camino::Utf8PathBuf;

use crate::config::ConfigError;

/// A selection, configuration or combination of choices that cannot be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("the workspace at `{root}` has no binary targets")]
    NoBinaries { root: Utf8PathBuf },
    #[error("no binaries to build: {why}")]
    NothingSelected { why: String },
    #[error("package `{name}` is not a member of the workspace{}", did_you_mean(.suggestion))]
    UnknownPackage {
        name: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    #[error("no binary target named `{name}` in {scope}{}", did_you_mean(.suggestion))]
    UnknownBinary {
        name: String,
        scope: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    #[error("binary `{binary}` is not in the Dockerfile ({reason})")]
    NotInDockerfile { binary: String, reason: String },
    #[error("none of the selected packages has a feature named `{feature}`")]
    UnknownFeature { feature: String },
    #[error("binary `{binary}` enables feature `{feature}` (from {origin}), which its package does not define")]
    UnknownConfiguredFeature {
        binary: String,
        feature: String,
        origin: String,
        available: Vec<String>,
    },
    #[error("failed to use {what}: {refused}")]
    Refused {
        what: String,
        refused: crate::value::Refused,
    },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "binary `{binary}` would be tagged `{tag}`, which is not a valid image reference: {reason}"
    )]
    InvalidTag {
        binary: String,
        tag: String,
        reason: String,
        /// Where the template or name came from: a flag or a manifest table.
        origin: String,
    },
    #[error("binary `{binary}` is built with profile `{profile}` (from {origin}), which the workspace does not define")]
    UnknownProfile {
        binary: String,
        profile: String,
        origin: String,
        available: Vec<String>,
    },
    #[error("path dependency `{package}` at `{dir}` shares no directory with the workspace but `/`: the build context would be the whole file system")]
    ContextTooWide { package: String, dir: Utf8PathBuf },
    #[error("the workflow `{path}` {reason}")]
    Workflow {
        path: Utf8PathBuf,
        reason: String,
        service: crate::model::CiService,
    },
    #[error("the build secret `{name}` is read from `{}`, inside the build context `{context}`: every file of the context goes into the builder's layers", crate::value::escaped(file))]
    SecretInContext {
        name: String,
        file: String,
        context: Utf8PathBuf,
    },
    #[error("the packages of `Cargo.lock` come from the registry `{}`, which no `[registries]` table of the build context's Cargo configuration names (the builder's Cargo reads only those)", crate::value::escaped(index))]
    RegistryNotInContext { index: String },
    #[error("the registry name `{}` in `{file}` is not one Cargo accepts (letters, digits, `-` and `_`)", crate::value::escaped(name))]
    RegistryName { name: String, file: Utf8PathBuf },
    #[error("the workflow `{workflow}` would read the build secret `{name}` from a repository secret of that name, which GitHub does not allow (the `GITHUB_` prefix is reserved)")]
    CiSecretName { workflow: Utf8PathBuf, name: String },
    #[error(
        "binary `{binary}` is linked dynamically (glibc{}) and cannot run on `scratch`",
        libs_suffix(.libraries)
    )]
    DynamicOnScratch {
        binary: String,
        libraries: Vec<String>,
    },
    #[error("binary `{binary}` is built with musl ({origin}), but Rust has no prebuilt musl target for `{platform}`")]
    NoMuslTarget {
        binary: String,
        platform: String,
        origin: String,
    },
    #[error("binary `{binary}` needs {packages} for `{platform}`, which Debian bookworm (the builder's and distroless' release) does not carry")]
    NoDebianPackages {
        binary: String,
        platform: String,
        packages: String,
    },
    #[error("failed to honour {origin}: {problem}")]
    BuildTarget {
        /// "`build.target` in `.cargo/config.toml`".
        origin: String,
        targets: String,
        problem: String,
    },
    #[error("binary `{binary}` is built with musl ({origin}), but {why}: `scratch` cannot run a dynamically linked musl binary")]
    DynamicMusl {
        binary: String,
        origin: String,
        why: String,
    },
    #[error("binary `{binary}` is to link glibc statically ({origin}), but {why}")]
    CrtStaticConflict {
        binary: String,
        origin: String,
        why: String,
    },
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

fn libs_suffix(libraries: &[String]) -> String {
    if libraries.is_empty() {
        String::new()
    } else {
        format!(", {}", libraries.join(", "))
    }
}

impl PlanError {
    pub fn hint(&self) -> Option<String> {
        match self {
                        Self::Config(e) => e.hint(),
            Self::InvalidTag { origin, .. } => Some(format!(
                "a reference is `[registry/]name[:tag]` with a lowercase name (`a-z0-9` separated by `.`, `_` or `-`) and a tag of `A-Za-z0-9_.-`; fix it in {origin}"
            )),
            Self::UnknownProfile { available, .. } => Some(format!(
                "profiles of this workspace: {}; add `[profile.<name>]` to the root Cargo.toml for another",
                available.join(", ")
            )),
            Self::ContextTooWide { .. } => Some(
                "keep path dependencies under a directory the workspace shares (e.g. its parent), or depend on them by git or registry"
                    .into(),
            ),
            Self::NoBinaries { .. } => Some(
                "cargo dockerize builds one image per `bin` target: add `src/main.rs` or a `[[bin]]` to a member, or point `--manifest-path` at another workspace"
                    .into(),
            ),
            Self::NothingSelected { .. } => Some("run `cargo dockerize list --workspace` to see every binary".into()),
            Self::UnknownPackage { available, .. } => Some(format!("workspace members: {}", available.join(", "))),
            Self::UnknownBinary { available, .. } => Some(if available.is_empty() {
                "the selected packages have no binaries".into()
            } else {
                format!("available binaries: {}", available.join(", "))
            }),
            Self::NotInDockerfile { .. } => Some(
                "the Dockerfile holds every binary the manifests and feature flags enable, but `skip = true` ones and development tools (`xtask`) no table includes; `--bin` chooses among them".into(),
            ),
            Self::UnknownConfiguredFeature { available, origin, .. } => Some(if available.is_empty() {
                format!("the package has no `[features]`: remove it from {origin}")
            } else {
                format!("features of the package: {}; fix {origin}", available.join(", "))
            }),
            Self::Refused { .. } => Some(
                "a generated Dockerfile or workflow line cannot hold it as plain text: rename it (letters, digits, `_`, `-`, `.` are always safe)".into(),
            ),
            Self::UnknownFeature { .. } => Some("qualify it as `<package>/<feature>`, or check the `[features]` tables".into()),
            Self::Workflow { service: crate::model::CiService::GithubActions, .. } => Some(
                "GitHub runs the workflows in `.github/workflows/` at the repository's root: `--workflow <repository root, relative to the workspace>/.github/workflows/dockerize.yml`".into(),
            ),
            Self::Workflow { service: crate::model::CiService::GitlabCi, .. } => Some(
                "GitLab reads `.gitlab-ci.yml` at the repository's root, whose directory the pipeline's paths start from: `--gitlab --workflow <repository root, relative to the workspace>/.gitlab-ci.yml`".into(),
            ),
            Self::SecretInContext { .. } => Some(
                "keep the file outside the build context (e.g. under `~/.config` or `/run/secrets`) and name it by its absolute path in `build-secrets`, or read the secret from a variable: `{ name = \"...\", env = \"...\" }`".into(),
            ),
            Self::RegistryNotInContext { .. } => Some(
                "declare it in the workspace's `.cargo/config.toml` (`[registries.<name>] index = \"...\"`), which the build context carries, rather than in `~/.cargo/config.toml`".into(),
            ),
            Self::RegistryName { .. } => Some(
                "rename the registry in `[registries]` and in the `registry = \"...\"` of the dependencies that name it".into(),
            ),
            Self::CiSecretName { .. } => Some(
                "rename it in `build-secrets` of [workspace.metadata.dockerize] and read it from the variable it is in: `{ name = \"<NEW_NAME>\", env = \"GITHUB_...\" }`".into(),
            ),
            Self::NoMuslTarget { platform, .. } => Some(format!(
                "set `libc = \"gnu\"` for it (or leave `libc` to `auto`, which picks glibc), or build without `{platform}`"
            )),
            Self::NoDebianPackages { platform, .. } => Some(format!(
                "for C code, `libc = \"gnu\"` with `static = true` links glibc statically on `scratch` with Debian's cross toolchain; a system library needs its vendored build (e.g. openssl's `vendored`); or build without `{platform}`"
            )),
            Self::BuildTarget { .. } => Some(
                "name one target of the platforms the images are built for (`--platform`, `platforms` in [workspace.metadata.dockerize]), or give the image build its own with `build-env = { CARGO_BUILD_TARGET = \"<triple>\" }` in [workspace.metadata.dockerize]".into(),
            ),
            Self::DynamicMusl { .. } => Some(
                "leave `libc` to `auto` for glibc on distroless `cc`, or keep `-crt-static` away from musl targets (e.g. under `[target.x86_64-unknown-linux-gnu]`)".into(),
            ),
            Self::CrtStaticConflict { .. } => Some(
                "drop `static = true` to link glibc dynamically (distroless `cc`), or make Cargo's configuration agree (`-C target-feature=+crt-static`)".into(),
            ),
            Self::DynamicOnScratch { .. } => Some(
                "pass `--static` to link glibc statically, `--libc musl`, or pick `--runtime distroless`".into(),
            ),
        }
    }
}
