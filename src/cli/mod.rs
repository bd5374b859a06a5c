//! The command line: clap definitions, validated and turned into [`Settings`].
//!
//! Cargo runs `cargo-dockerize dockerize <args>` for `cargo dockerize <args>`; the shim below accepts that
//! form and the direct `cargo-dockerize <args>` alike. Flags follow Cargo's names and meanings. Nothing here
//! runs anything: `lib::run` takes the parsed [`Cli`].

use camino::Utf8PathBuf;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::{
    BackendChoice, BuildNetwork, CiService, ColorChoice, Libc, MessageFormat, Runtime,
};
use crate::platform::PlatformList;

pub mod completions;
mod documents;
mod escape;
pub mod man;
mod pin;
mod values;

pub use completions::binary_command;
pub use values::OutputTarget;
use values::{parse_build_arg, parse_dockerfile, parse_line_path, parse_reference};
mod settings;

use escape::exit_with;

const AFTER_HELP: &str = "\
Examples:
  cargo dockerize                        generate the Dockerfile and build one image per binary
  cargo dockerize generate               write Dockerfile and .dockerignore at the workspace root
  cargo dockerize generate --check       exit 3 with a diff when the Dockerfile on disk is stale (CI)
  cargo dockerize list --format json     the binaries, their stages, images and runtimes, for a CI matrix
  cargo dockerize -c builder             build on the engine of a Docker context, as `docker -c` does
  cargo dockerize ci                     write .github/workflows/dockerize.yml: check, build, push every image
  docker build --target <binary> .       build one image from the generated Dockerfile
  cargo dockerize build --registry ghcr.io/acme --push --metadata-file images.json
                                         build, push every tag, write each image's digest for the next CI step
  cargo dockerize build --push --registry R --cache-from R/app-cache:main --cache-to R/app-cache:main
                                         reuse and refresh the dependency layer in the registry (ephemeral CI runners)

Exit codes: 0 success, 1 error, 2 usage error, 3 `--check` found stale files, 4 a build or push failed,
5 no Docker engine answered, 130 interrupted.";

/// The `cargo` shim: `cargo dockerize ...` arrives as `cargo-dockerize dockerize ...`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap::builder::styling::Styles::styled())]
pub enum CargoCli {
    Dockerize(Cli),
}

/// Containerize a Cargo workspace: one cached multi-stage Dockerfile, one small non-root image per binary.
#[derive(Debug, Args)]
#[command(
    version,
    about,
    long_about = "Containerize a Cargo workspace.\n\n\
        Reads the workspace with `cargo metadata`, writes one Dockerfile with a shared builder base, a planner \
        stage that extracts the dependency recipe, a builder that compiles dependencies in their own cached layer, \
        and one runtime stage per binary: a static musl binary on `scratch`, or glibc on distroless where the \
        binary links native libraries. Without a subcommand it generates the Dockerfile and builds the images.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub build: BuildArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the Dockerfile and its .dockerignore (at the workspace root, or where --dockerfile says)
    #[command(
        after_help = "The Dockerfile holds every binary of the workspace and names the command that regenerates it; \
        left out are binaries with `skip = true`, development tools (a package named `xtask` or `xtask-<name>`) \
        unless a table says `skip = false`, and binaries whose required-features are off (`list` says which). \
        The selection flags (-p, --bin, ...) choose images to build or list and do not apply here. Files this tool \
        did not write are never overwritten without --force; an existing .dockerignore is kept (with --force, it is \
        replaced too)."
    )]
    Generate(GenerateArgs),
    /// Show each binary: package, stage, image, runtime and why
    List(ListArgs),
    /// Show each binary's effective settings and where each came from (manifest table, flag, default)
    #[command(
        after_help = "Settings come from [workspace.metadata.dockerize], then [package.metadata.dockerize], \
        then [package.metadata.dockerize.bin.<name>], then flags; a later one replaces an earlier one, except \
        `env` and `labels`, whose keys merge."
    )]
    Config(ListArgs),
    /// Write the GitHub Actions workflow that checks the Dockerfile and builds (and pushes) every image
    #[command(
        after_help = "The workflow (default .github/workflows/dockerize.yml) has two jobs. `dockerfile` installs this \
        release of cargo-dockerize (its prebuilt archive from the project's GitHub release, checked against the \
        release's SHA-256, else `cargo install --locked`) and runs `generate --check` and `ci --check`. `image` is a matrix with one entry per \
        image of the Dockerfile: docker/build-push-action builds its target with the GitHub Actions cache (one scope \
        per image), pushes on the default branch and on `v*` tags, and only builds on pull requests.\n\n\
        Tags come from the tag templates (`tags`, `-t`); a tag that names no registry gets `--registry`, else \
        `registry` of [workspace.metadata.dockerize], else ghcr.io/<repository owner> (logged in with the job's \
        GITHUB_TOKEN). Other registries log in with the secrets <HOST>_USERNAME and <HOST>_PASSWORD (Docker Hub: \
        DOCKERHUB_USERNAME, DOCKERHUB_TOKEN). `{git_sha}` in a template is the commit being built.\n\n\
        With --gitlab: .gitlab-ci.yml with the same jobs for GitLab CI (`dockerfile`, then `images` as a \
        `parallel: matrix:` building through a docker:dind service with a registry cache), tags without a registry \
        in the project's registry ($CI_REGISTRY_IMAGE), pushing outside merge requests.\n\n\
        A workflow this tool did not write is never overwritten without --force."
    )]
    Ci(CiArgs),
    /// Pin every base image of the Dockerfile by digest: `FROM name:tag@sha256:…`, with OCI base labels
    #[command(after_help = pin::AFTER_HELP)]
    Pin,
    /// Generate the Dockerfile, then build the images through the Docker Engine API (the default)
    Build,
    /// Print the shell completion script for `cargo-dockerize` (and `cargo dockerize`)
    #[command(after_help = completions::AFTER_HELP)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) of cargo-dockerize
    #[command(
        after_help = "Read it with `cargo dockerize man | man -l -`; install it with \
        `cargo dockerize man > ~/.local/share/man/man1/cargo-dockerize.1`. Release archives carry it as \
        `cargo-dockerize.1`."
    )]
    Man,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Flags shared by every subcommand: which workspace, which binaries, how they are built.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Path to the workspace's or a package's Cargo.toml [default: the nearest one from the current directory]
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,

    /// Where the Dockerfile goes, relative to the workspace root [default: `dockerfile` in
    /// [workspace.metadata.dockerize], else Dockerfile]; another name than Dockerfile gets its own
    /// `<PATH>.dockerignore`
    #[arg(long, global = true, value_name = "PATH", value_parser = parse_dockerfile)]
    pub dockerfile: Option<Utf8PathBuf>,

    /// Package to containerize (repeatable) [default: the current package, else the default members]
    #[arg(
        short = 'p',
        long = "package",
        global = true,
        value_name = "SPEC",
        help_heading = "Package Selection"
    )]
    pub packages: Vec<String>,

    /// Containerize every member of the workspace
    #[arg(long, global = true, alias = "all", help_heading = "Package Selection")]
    pub workspace: bool,

    /// Leave this package out (with --workspace; repeatable)
    #[arg(
        long,
        global = true,
        value_name = "SPEC",
        requires = "workspace",
        help_heading = "Package Selection"
    )]
    pub exclude: Vec<String>,

    /// Only this binary (repeatable); searches every member unless -p is given
    #[arg(
        long = "bin",
        global = true,
        value_name = "NAME",
        help_heading = "Target Selection"
    )]
    pub bins: Vec<String>,

    /// Features to activate, space or comma separated; `package/feature` for one member
    #[arg(
        short = 'F',
        long,
        global = true,
        value_name = "FEATURES",
        help_heading = "Feature Selection"
    )]
    pub features: Vec<String>,

    /// Activate all available features
    #[arg(long, global = true, help_heading = "Feature Selection")]
    pub all_features: bool,

    /// Do not activate the `default` feature
    #[arg(long, global = true, help_heading = "Feature Selection")]
    pub no_default_features: bool,

    /// Cargo profile to build with [default: release, or the manifests' `profile`]
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Compilation Options"
    )]
    pub profile: Option<String>,

    /// C library to build against [default: auto, or the manifests' `libc`]
    #[arg(long, global = true, value_enum, help_heading = "Image Options")]
    pub libc: Option<Libc>,

    /// Link glibc statically (`-C target-feature=+crt-static`) so glibc binaries run on `scratch`
    #[arg(long = "static", global = true, help_heading = "Image Options")]
    pub static_glibc: bool,

    /// Runtime base: auto, scratch, distroless, debian-slim, or any image reference [default: auto]
    #[arg(
        long,
        global = true,
        value_name = "IMAGE",
        help_heading = "Image Options"
    )]
    pub runtime: Option<Runtime>,

    /// Platforms of the images, comma-separated, e.g. linux/amd64,linux/arm64 [default: `platforms` of
    /// [workspace.metadata.dockerize], else linux/amd64]
    ///
    /// Every platform is cross-compiled on the build machine's own platform, never emulated: one builder stage
    /// per platform, and only the runtime stage takes the target platform. Supported: linux/amd64, linux/arm64,
    /// linux/arm/v7, linux/ppc64le, linux/s390x (glibc only), linux/riscv64. With more than one, each platform's
    /// image is tagged `<tag>-<arch>` locally (`api:1.0-arm64`), and `--push` puts an image index under `<tag>`.
    #[arg(
        long,
        global = true,
        value_name = "PLATFORMS",
        help_heading = "Image Options"
    )]
    pub platform: Option<PlatformList>,

    /// Leave out the `test` stage (`cargo test --locked`) that CI can target
    #[arg(long, global = true, help_heading = "Image Options")]
    pub no_test_stage: bool,

    /// Leave out the crate list the builder embeds in each binary (cargo-auditable's `.dep-v0` section)
    #[arg(long, global = true, help_heading = "Image Options")]
    pub no_auditable: bool,

    /// Use verbose output (-vv very verbose)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet", help_heading = "Output")]
    pub verbose: u8,

    /// Print only errors and what a script reads (file paths, JSON)
    #[arg(short, long, global = true, help_heading = "Output")]
    pub quiet: bool,

    /// Coloring
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN",
        help_heading = "Output"
    )]
    pub color: ColorChoice,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GenerateArgs {
    /// Write nothing; exit 3 with a diff when the files on disk differ from what would be generated
    #[arg(long)]
    pub check: bool,
    /// Overwrite a Dockerfile or .dockerignore this tool did not write
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CiArgs {
    /// Write nothing; exit 3 with a diff when the workflow on disk differs from what would be generated
    #[arg(long)]
    pub check: bool,
    /// Overwrite a workflow this tool did not write
    #[arg(long)]
    pub force: bool,
    /// Where the workflow goes, relative to the workspace root: in `.github/workflows/` of the repository's root
    /// [default: .github/workflows/dockerize.yml; with --gitlab: .gitlab-ci.yml, in the repository's root]
    #[arg(long, value_name = "PATH", value_parser = parse_line_path)]
    pub workflow: Option<Utf8PathBuf>,
    /// Write a GitLab CI pipeline (`.gitlab-ci.yml`) instead of a GitHub Actions workflow
    #[arg(long)]
    pub gitlab: bool,
}

impl CiArgs {
    /// The CI service the file is for.
    pub fn service(&self) -> CiService {
        if self.gitlab {
            CiService::GitlabCi
        } else {
            CiService::GithubActions
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Output format: a table for people, or JSON (stable, documented in docs/src/reference/json.md) for scripts and CI matrices
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

/// Options of the build (the default command and `build`).
#[derive(Debug, Args, Clone)]
pub struct BuildArgs {
    /// Tag template (repeatable) with {bin}, {package}, {version}, {git_sha} [default: {bin}:{version} and {bin}:latest]
    #[arg(
        long = "tag",
        short = 't',
        global = true,
        value_name = "TEMPLATE",
        help_heading = "Build Options"
    )]
    pub tags: Vec<String>,
    /// Registry prefix for every tag, e.g. ghcr.io/acme [default: `registry` in [workspace.metadata.dockerize];
    /// in the `ci` workflow, ghcr.io/<repository owner>]
    #[arg(
        long,
        global = true,
        value_name = "PREFIX",
        help_heading = "Build Options"
    )]
    pub registry: Option<String>,
    /// Images to build at once [default: all with BuildKit, which shares their common stages; 1 with the classic builder]
    #[arg(
        short = 'j',
        long,
        global = true,
        value_name = "N",
        help_heading = "Build Options"
    )]
    pub jobs: Option<std::num::NonZeroUsize>,
    /// Build every step afresh, ignoring the engine's cache
    #[arg(long, global = true, help_heading = "Build Options")]
    pub no_cache: bool,
    /// A build argument, KEY=VALUE (repeatable)
    #[arg(long = "build-arg", global = true, value_name = "KEY=VALUE", value_parser = parse_build_arg, help_heading = "Build Options")]
    pub build_args: Vec<(String, String)>,
    /// Print the plan (stages, targets, tags) and stop: no file is written, no engine is contacted
    #[arg(long, global = true, help_heading = "Build Options")]
    pub dry_run: bool,
    /// Go on building the other images when one fails
    #[arg(long, global = true, help_heading = "Build Options")]
    pub keep_going: bool,
    /// Build each binary's debug variant instead: unstripped, on Debian slim with a shell, tagged `<tag>-debug`
    #[arg(long, global = true, help_heading = "Build Options")]
    pub debug: bool,
    /// The Docker context to build on (`docker context ls`) [default: DOCKER_HOST, else DOCKER_CONTEXT, else the
    /// Docker CLI's current context, else the local socket]
    #[arg(
        short = 'c',
        long,
        global = true,
        value_name = "NAME",
        conflicts_with = "host",
        help_heading = "Engine"
    )]
    pub context: Option<String>,
    /// The engine to build on: unix:///path, tcp://host:port (TLS with DOCKER_TLS_VERIFY) or ssh://[user@]host[:port]
    /// [default: as --context says]
    #[arg(
        short = 'H',
        long,
        global = true,
        value_name = "ADDRESS",
        help_heading = "Engine"
    )]
    pub host: Option<String>,
    /// Push every tag of each image once it is built, and report its digest
    #[arg(
        long,
        global = true,
        help_heading = "Publishing",
        long_help = "Push every tag of each image once it is built, and report the digest the registry stored \
            (summary, JSON events, --metadata-file). Credentials come from the Docker CLI's config: \
            $DOCKER_CONFIG/config.json, else ~/.docker/config.json (`auths`, `credHelpers`, `credsStore`; \
            `docker login <registry>` writes them). Every tag must name its registry (`--registry ghcr.io/acme`, \
            or `-t ghcr.io/acme/{bin}:{version}`); to push to Docker Hub, say so: `-t docker.io/<user>/{bin}:{version}`. \
            A reset connection or a 5xx is tried again (3 tries); wrong credentials, an unknown host or a TLS \
            problem fail at once. An image whose push failed counts as failed (exit 4)."
    )]
    pub push: bool,
    /// Reuse the dependency layer of a builder image in a registry (repeatable), e.g. ghcr.io/acme/app-cache:main
    #[arg(
        long,
        global = true,
        value_name = "REF",
        value_parser = parse_reference,
        help_heading = "Publishing",
        long_help = "Reuse the layers of a builder image that `--cache-to` pushed (repeatable): BuildKit reads its \
            inline cache and skips every step whose key matches, the dependency compile above all, so a fresh CI \
            runner compiles only the workspace. Missing or unreadable: a warning from the engine, and a normal build."
    )]
    pub cache_from: Vec<String>,
    /// Push the builder stage with its inline cache as REF, for `--cache-from` on the next runner
    #[arg(
        long,
        global = true,
        value_name = "REF",
        value_parser = parse_reference,
        help_heading = "Publishing",
        long_help = "After the images, build the builder stage (toolchain, cooked dependencies, compiled workspace) \
            with BUILDKIT_INLINE_CACHE=1, tag it REF and push it; the next build passes `--cache-from REF`. With \
            several builder stages each gets `REF-<stage>` as its tag. Inline cache because Engine 20.10's BuildKit \
            cannot export a registry cache; it holds the builder's layers only (the planner reruns, in seconds). \
            Typical CI: the main branch runs `--cache-to R --cache-from R`, other branches `--cache-from R`."
    )]
    pub cache_to: Option<String>,
    /// Write what was built and pushed as JSON to PATH, one object per image (like `docker buildx build --metadata-file`)
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Publishing",
        long_help = "Write what was built as JSON to PATH: one object per image, keyed by its stage, with \
            `containerimage.digest` (the pushed manifest's digest, with --push), `containerimage.config.digest` \
            (the image id), `image.name` (the tags, comma-joined, as buildx writes them), `binary`, `stage`, `size`, \
            `platform`, `status`, and `error` for an image that failed. Written atomically, also when a build or \
            push failed."
    )]
    pub metadata_file: Option<Utf8PathBuf>,
    /// Write the built images as an OCI image layout, `oci:DIR`, or as one tar of it, `oci-archive:FILE`;
    /// normalised, so the same commit gives the same digests
    #[arg(
        long,
        global = true,
        value_name = "oci:DIR|oci-archive:FILE",
        value_parser = values::parse_output,
        conflicts_with = "push",
        help_heading = "Publishing",
        long_help = values::OUTPUT_HELP
    )]
    pub output: Option<values::OutputTarget>,
    /// The network of the build's RUN steps: `host` reaches what this machine reaches (a private git server or
    /// registry behind a VPN, a loopback server), `none` builds offline (a vendored workspace) [default: the engine's]
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "MODE",
        help_heading = "Build Options"
    )]
    pub network: Option<BuildNetwork>,
    /// The engine's builder
    #[arg(
        long = "builder",
        global = true,
        value_enum,
        default_value = "auto",
        help_heading = "Engine"
    )]
    pub backend: BackendChoice,
    /// Progress output: bars or lines for people, JSON lines on stdout for scripts
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        help_heading = "Output"
    )]
    pub message_format: MessageFormat,
    #[command(flatten)]
    pub documents: documents::DocumentArgs,
}

impl BuildArgs {
    /// The first flag set that only a build reads, for commands that do not build.
    pub fn build_only_flag(&self) -> Option<&'static str> {
        let Self {
            tags: _,
            registry: _,
            jobs,
            no_cache,
            build_args,
            dry_run,
            keep_going,
            debug,
            context,
            host,
            backend,
            message_format,
            push,
            cache_from,
            cache_to,
            metadata_file,
            network,
            output,
            documents,
        } = self;
        [
            (jobs.is_some(), "--jobs"),
            (*no_cache, "--no-cache"),
            (!build_args.is_empty(), "--build-arg"),
            (*dry_run, "--dry-run"),
            (*keep_going, "--keep-going"),
            (*debug, "--debug"),
            (context.is_some(), "--context"),
            (host.is_some(), "--host"),
            (*backend != BackendChoice::Auto, "--builder"),
            (*message_format != MessageFormat::Human, "--message-format"),
            (*push, "--push"),
            (!cache_from.is_empty(), "--cache-from"),
            (cache_to.is_some(), "--cache-to"),
            (metadata_file.is_some(), "--metadata-file"),
            (network.is_some(), "--network"),
            (output.is_some(), "--output"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
        .or_else(|| documents.flag())
    }
}

impl CommonArgs {
    /// The first selection flag given (`-p`, `--workspace`, `--exclude`, `--bin`): they choose images to build
    /// or list, never what the Dockerfile holds.
    pub fn selection_flag(&self) -> Option<&'static str> {
        [
            (!self.packages.is_empty(), "--package"),
            (self.workspace, "--workspace"),
            (!self.exclude.is_empty(), "--exclude"),
            (!self.bins.is_empty(), "--bin"),
        ]
        .into_iter()
        .find_map(|(set, flag)| set.then_some(flag))
    }
}

impl Cli {
    /// Parses the process arguments, accepting both `cargo dockerize ...` and `cargo-dockerize ...`.
    pub fn parse_args() -> Self {
        let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        if args.get(1).and_then(|a| a.to_str()) != Some("dockerize") {
            args.insert(1, "dockerize".into());
        }
        match CargoCli::try_parse_from(args) {
            Ok(CargoCli::Dockerize(cli)) => cli,
            Err(error) => exit_with(error),
        }
    }
}

#[cfg(test)]
mod tests;
