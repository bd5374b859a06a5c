//! The GitLab CI pipeline: `pipeline(&CiPlan)` spells it out, the same jobs as the GitHub workflow.
//!
//! Pure and deterministic, deciding nothing: every choice is in the [`CiPlan`]. Pipelines run for merge
//! requests, the default branch and `v*` tags (`workflow: rules:`, so a branch with a merge request runs once).
//! Two jobs (`image` is a keyword of GitLab's, so the matrix job is `images`):
//!
//! ```text
//! dockerfile  in `rust:1`: installs this release of cargo-dockerize (its prebuilt archive: [`super::install`]),
//!             then `generate --check` and `ci --gitlab --check`
//! images      `parallel: matrix:`, one job per image: `docker buildx build` of its target against a
//!             `docker:dind` service, with a registry cache in the project's registry (a tag per image); pushes
//!             the tags and the cache on the default branch and tags, only builds on merge requests
//! ```
//!
//! A remote engine instead of the service: project CI/CD variables override the job's `DOCKER_HOST` and TLS
//! variables (docs/src/tasks/ci.md). The buildx builder is a `docker-container` one, which exports a registry cache
//! with the engine's own BuildKit too old or not. Values go in single-quoted YAML scalars and single-quoted shell
//! words; the matrix holds each image's tags with `{registry}` and `{git_sha}` for the script to fill in.

use std::fmt::Write as _;

use super::secrets::KNOWN_HOSTS_ID;
use super::workflow::yaml_scalar as yaml;
use crate::model::{CiService, GENERATED_MARKER};
use crate::plan::ci::{CiImage, CiPlan, Credentials, Login, KNOWN_HOSTS_SECRET, SSH_KEY_SECRET};
use crate::text::shell_word;

/// The images the jobs run in, pinned by major version.
pub const RUST_IMAGE: &str = "rust:1";
pub const DOCKER_IMAGE: &str = "docker:28";
pub const DIND_SERVICE: &str = "docker:28-dind";
/// Registers QEMU in the engine's kernel for the runtime stages that run in their target platform.
pub const BINFMT_IMAGE: &str = "tonistiigi/binfmt:latest";

/// Where the `images` job keeps each image's registry cache: a tag per image in the project's registry.
const CACHE: &str = "$CI_REGISTRY_IMAGE/dockerize-cache:$STAGE";

/// Renders the pipeline.
pub fn pipeline(plan: &CiPlan) -> String {
    // Destructured without `..`: a new field of the plan must be rendered or explicitly ignored here.
    let CiPlan {
        service: _,
        workflow: _,
        command,
        dockerfile_check,
        workspace_dir,
        context,
        dockerfile,
        platform,
        emulates,
        selects_images,
        images,
        logins,
        install,
        build_secrets,
        ssh_hosts,
    } = plan;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{GENERATED_MARKER} {}. Do not edit: regenerate with\n#   {command}",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(
        out,
        "# Checks that `{dockerfile}` and this pipeline are current, then builds one image per binary of the workspace:\n\
         # pushed on the default branch and on `v*` tags, built only on merge requests."
    );
    super::secrets::ci_note(
        &mut out,
        crate::model::CiService::GitlabCi,
        build_secrets,
        ssh_hosts,
    );
    out.push_str(
        "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    \
         - if: $CI_COMMIT_TAG =~ /^v/\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n\n\
         stages:\n  - check\n  - images\n\n",
    );
    let _ = writeln!(
        out,
        "dockerfile:\n  stage: check\n  image: {}",
        yaml(RUST_IMAGE)
    );
    let _ = writeln!(
        out,
        "  variables:\n    DOCKERIZE_RELEASE: {}",
        yaml(&super::install::release_url(install))
    );
    out.push_str("  script:\n");
    if !workspace_dir.as_str().is_empty() {
        let _ = writeln!(
            out,
            "    - {}",
            yaml(&format!(
                "cd {} || exit 1",
                shell_word(workspace_dir.as_str())
            ))
        );
    }
    block(
        &mut out,
        &super::install::script(install, CiService::GitlabCi),
    );
    let _ = writeln!(out, "    - {}", yaml(dockerfile_check));
    let _ = writeln!(out, "    - {}\n", yaml(&format!("{command} --check")));
    image_job(&mut out, plan, images);
    out.push_str("  script:\n");
    out.push_str("    - docker buildx create --use --driver docker-container\n");
    if *emulates {
        let _ = writeln!(
            out,
            "    - {}",
            yaml(&format!(
                "docker run --privileged --rm {BINFMT_IMAGE} --install all"
            ))
        );
    }
    block(
        &mut out,
        &build_script(
            context,
            dockerfile,
            platform,
            *selects_images,
            logins,
            &secret_flags(build_secrets, !ssh_hosts.is_empty()),
        ),
    );
    out
}

/// The `images` job up to its script: the dind service, the matrix.
fn image_job(out: &mut String, plan: &CiPlan, images: &[CiImage]) {
    let _ = writeln!(
        out,
        "images:\n  stage: images\n  needs: [dockerfile]\n  image: {}\n  services:\n    - {}",
        yaml(DOCKER_IMAGE),
        yaml(DIND_SERVICE)
    );
    out.push_str(
        "  variables:\n    DOCKER_HOST: tcp://docker:2376\n    DOCKER_TLS_CERTDIR: /certs\n    \
         DOCKER_TLS_VERIFY: '1'\n    DOCKER_CERT_PATH: /certs/client\n",
    );
    if plan.uses_default_registry() {
        out.push_str("    REGISTRY: $CI_REGISTRY_IMAGE\n");
    }
    out.push_str("  parallel:\n    matrix:\n");
    for CiImage { stage, tags } in images {
        let _ = writeln!(
            out,
            "      - STAGE: {}\n        TAGS: {}",
            yaml(stage),
            yaml(&tags.join(" "))
        );
    }
}

/// The script lines that give the build its secrets, after the tags (they add to the arguments): each build secret
/// from the variable of its name (`env=`: the value is never a word of the command line), and with git over ssh
/// an agent holding the deploy key and the hosts' keys in a temporary file. The `docker` image has OpenSSH's
/// client.
fn secret_flags(build_secrets: &[String], ssh: bool) -> String {
    let mut s = String::new();
    for name in build_secrets {
        let _ = writeln!(s, "set -- \"$@\" --secret id={name},env={name}");
    }
    if ssh {
        let _ = writeln!(
            s,
            "eval \"$(ssh-agent -s)\" > /dev/null\n\
             printf '%s\\n' \"${SSH_KEY_SECRET}\" | ssh-add -\n\
             known_hosts=$(mktemp)\n\
             printf '%s\\n' \"${KNOWN_HOSTS_SECRET}\" > \"$known_hosts\"\n\
             set -- \"$@\" --ssh default --secret \"id={KNOWN_HOSTS_ID},src=$known_hosts\""
        );
    }
    s
}

/// The build: tags filled in, logins and the push outside merge requests, the registry cache.
fn build_script(
    context: &camino::Utf8Path,
    dockerfile: &camino::Utf8Path,
    platform: &str,
    selects_images: bool,
    logins: &[Login],
    secret_flags: &str,
) -> String {
    let mut s = String::from(
        "echo \"$CI_REGISTRY_PASSWORD\" | docker login --username \"$CI_REGISTRY_USER\" --password-stdin \"$CI_REGISTRY\"\n\
         set --\n\
         for tag in $TAGS; do\n  \
         tag=$(printf '%s' \"$tag\" | sed \"s|^{registry}|$REGISTRY|; s|{git_sha}|$(printf %.12s \"$CI_COMMIT_SHA\")|g\")\n  \
         set -- \"$@\" --tag \"$tag\"\n\
         done\n",
    );
    s.push_str(secret_flags);
    s.push_str("if [ \"$CI_PIPELINE_SOURCE\" != merge_request_event ]; then\n");
    for login in logins {
        if let Credentials::Secrets { username, password } = &login.credentials {
            let _ = writeln!(
                s,
                "  echo \"${password}\" | docker login --username \"${username}\" --password-stdin {}",
                shell_word(&login.host)
            );
        }
    }
    let _ = writeln!(
        s,
        "  set -- \"$@\" --push --cache-to \"type=registry,ref={CACHE},mode=max\"\nfi"
    );
    let _ = write!(
        s,
        "docker buildx build --file {} --target \"$STAGE\" --platform {}",
        shell_word(dockerfile.as_str()),
        shell_word(platform)
    );
    if selects_images {
        let _ = write!(s, " --build-arg \"{}=$STAGE\"", crate::model::IMAGES_ARG);
    }
    let _ = writeln!(
        s,
        " \\\n  --label \"org.opencontainers.image.revision=$CI_COMMIT_SHA\" \
         --label \"org.opencontainers.image.source=$CI_PROJECT_URL\" \\\n  \
         --cache-from \"type=registry,ref={CACHE}\" \"$@\" {}",
        shell_word(context.as_str())
    );
    s
}

/// A multi-line script item: `- |` and its lines.
fn block(out: &mut String, script: &str) {
    out.push_str("    - |\n");
    for line in script.lines() {
        let _ = writeln!(out, "      {line}");
    }
}
