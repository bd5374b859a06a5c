//! The GitHub Actions workflow: `workflow(&CiPlan)` spells it out.
//!
//! Pure and deterministic: the same plan gives the same bytes (images sorted by stage, registries by host, no
//! timestamps). The renderer decides nothing — every choice is in the [`CiPlan`]. Two jobs:
//!
//! ```text
//! dockerfile  installs this release of cargo-dockerize (its prebuilt archive: [`super::install`]), then
//!             `generate --check` and `ci --check`: the committed Dockerfile and this workflow are what the
//!             manifests say
//! image       a matrix, one entry per image of the Dockerfile: Buildx builds its target with the GitHub Actions
//!             cache (a scope per image); pushes on the default branch and `v*` tags, only builds on pull requests
//! ```
//!
//! Actions are pinned by major version, the docker ones being the ecosystem's own: `setup-buildx-action`,
//! `login-action`, `build-push-action`, and `setup-qemu-action` where a Debian-based runtime stage of a
//! multi-platform plan runs in its target platform. Values go in single-quoted YAML scalars ([`yaml`]), so no tag, stage or
//! path can be read as YAML syntax. The one shell step fills the matrix's `{registry}` and `{git_sha}` in: GitHub's
//! expressions have no lowercase, which a registry needs of the owner's name.

use std::fmt::Write as _;

use camino::Utf8Path;

use super::secrets::KNOWN_HOSTS_ID;
use crate::model::GENERATED_MARKER;
use crate::plan::ci::{
    CiImage, CiPlan, Credentials, Login, DEFAULT_CI_REGISTRY, KNOWN_HOSTS_SECRET, SSH_KEY_SECRET,
};

/// The actions the workflow uses, pinned by full commit SHA with the release in a comment (the form Dependabot
/// and Renovate keep current): a tag can be moved to other code, a commit cannot. Each SHA is the commit its
/// release tag (and the major tag beside it) pointed to, read from the action's repository.
pub const CHECKOUT: &str = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";
pub const SETUP_BUILDX: &str =
    "docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0";
pub const SETUP_QEMU: &str =
    "docker/setup-qemu-action@96fe6ef7f33517b61c61be40b68a1882f3264fb8 # v4.2.0";
pub const LOGIN: &str = "docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121 # v4.1.0";
pub const BUILD_PUSH: &str =
    "docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a # v7.3.0";

/// Runs a job on pull requests, on pushes to the default branch and on version tags (the only tags that trigger
/// the workflow): pushes to other branches start the workflow but run nothing.
const WANTED: &str = "github.event_name == 'pull_request' || github.ref_type == 'tag' || github.ref_name == github.event.repository.default_branch";

/// Renders the workflow.
pub fn workflow(plan: &CiPlan) -> String {
    // Destructured without `..`: a new field of the plan must be rendered or explicitly ignored here, and a
    // field bound to `_` is read nowhere in this module.
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
        "# Checks that `{dockerfile}` and this workflow are current, then builds one image per binary of the workspace:\n\
         # pushed on the default branch and on `v*` tags, built only on pull requests."
    );
    super::secrets::ci_note(
        &mut out,
        crate::model::CiService::GithubActions,
        build_secrets,
        ssh_hosts,
    );
    out.push_str(
        "name: dockerize\n\non:\n  push:\n    branches: ['**']\n    tags: ['v*']\n  pull_request:\n\n\
         permissions:\n  contents: read\n\njobs:\n",
    );
    let _ = writeln!(out, "  dockerfile:");
    let _ = writeln!(out, "    name: Dockerfile is current");
    let _ = writeln!(out, "    if: {WANTED}");
    out.push_str("    runs-on: ubuntu-latest\n");
    if !workspace_dir.as_str().is_empty() {
        let _ = writeln!(
            out,
            "    defaults:\n      run:\n        working-directory: {}",
            yaml(workspace_dir.as_str())
        );
    }
    let _ = writeln!(out, "    steps:\n      - uses: {CHECKOUT}");
    super::install::step(&mut out, install);
    let _ = writeln!(
        out,
        "      - name: The Dockerfile is what the manifests say\n        run: {}",
        yaml(dockerfile_check)
    );
    let _ = writeln!(
        out,
        "      - name: This workflow is what the manifests say\n        run: {}",
        yaml(&format!("{command} --check"))
    );
    out.push('\n');
    let job = ImageJob {
        context,
        dockerfile,
        platform,
        emulates: *emulates,
        selects_images: *selects_images,
        images,
        logins,
        pushes_to_github: plan.pushes_to_github(),
        uses_default_registry: plan.uses_default_registry(),
        build_secrets,
        ssh_hosts,
    };
    image_job(&mut out, &job);
    out
}

/// What the matrix job reads of the plan.
struct ImageJob<'a> {
    context: &'a Utf8Path,
    dockerfile: &'a Utf8Path,
    platform: &'a str,
    emulates: bool,
    selects_images: bool,
    images: &'a [CiImage],
    logins: &'a [Login],
    /// [`CiPlan::pushes_to_github`]: the job needs `packages: write`.
    pushes_to_github: bool,
    /// [`CiPlan::uses_default_registry`]: the tags step computes it.
    uses_default_registry: bool,
    /// [`CiPlan::build_secrets`]: the build step's environment, from the repository's secrets.
    build_secrets: &'a [String],
    /// [`CiPlan::ssh_hosts`]: an ssh agent and the hosts' keys for the build.
    ssh_hosts: &'a [String],
}

/// The ssh agent the build forwards (`--ssh`), holding the deploy key, and the hosts' keys in a file the build
/// mounts as its `known_hosts` secret. Both under the runner's temporary directory, which the job's end empties.
fn ssh_agent_step(out: &mut String) {
    let _ = writeln!(
        out,
        "      - name: ssh agent for git over ssh\n        env:\n          \
         SSH_KEY: ${{{{ secrets.{SSH_KEY_SECRET} }}}}\n          KNOWN_HOSTS: ${{{{ secrets.{KNOWN_HOSTS_SECRET} }}}}\n        \
         run: |\n          ssh-agent -a \"$RUNNER_TEMP/ssh-agent.sock\" > /dev/null\n          \
         printf '%s\\n' \"$SSH_KEY\" | SSH_AUTH_SOCK=\"$RUNNER_TEMP/ssh-agent.sock\" ssh-add -\n          \
         printf '%s\\n' \"$KNOWN_HOSTS\" > \"$RUNNER_TEMP/known_hosts\""
    );
}

/// The matrix job: one image per entry.
fn image_job(out: &mut String, job: &ImageJob<'_>) {
    out.push_str(
        "  image:\n    name: image ${{ matrix.stage }}\n    needs: dockerfile\n    runs-on: ubuntu-latest\n",
    );
    out.push_str("    permissions:\n      contents: read\n");
    if job.pushes_to_github {
        out.push_str("      packages: write\n");
    }
    out.push_str("    strategy:\n      fail-fast: false\n      matrix:\n        include:\n");
    for CiImage { stage, tags } in job.images {
        let _ = writeln!(out, "          - stage: {}\n            tags:", yaml(stage));
        for tag in tags {
            let _ = writeln!(out, "              - {}", yaml(tag));
        }
    }
    let _ = writeln!(out, "    steps:\n      - uses: {CHECKOUT}");
    if job.emulates {
        // Only the Debian-based runtime stages run in the target platform: every compile is cross.
        let _ = writeln!(out, "      - uses: {SETUP_QEMU}");
    }
    let _ = writeln!(out, "      - uses: {SETUP_BUILDX}");
    for login in job.logins {
        login_step(out, login);
    }
    tags_step(out, job.uses_default_registry);
    if !job.ssh_hosts.is_empty() {
        ssh_agent_step(out);
    }
    let _ = writeln!(out, "      - name: Build{}", push_note(job.logins));
    let _ = writeln!(out, "        uses: {BUILD_PUSH}");
    if !job.build_secrets.is_empty() {
        // In the step's environment, from which build-push-action hands them to BuildKit as secrets: never an
        // argument or a build argument, which the image's history would keep.
        out.push_str("        env:\n");
        for name in job.build_secrets {
            let _ = writeln!(out, "          {name}: ${{{{ secrets.{name} }}}}");
        }
    }
    let _ = writeln!(out, "        with:");
    let _ = writeln!(out, "          context: {}", yaml(job.context.as_str()));
    let _ = writeln!(out, "          file: {}", yaml(job.dockerfile.as_str()));
    out.push_str("          target: ${{ matrix.stage }}\n");
    let _ = writeln!(out, "          platforms: {}", yaml(job.platform));
    if job.selects_images {
        let _ = writeln!(
            out,
            "          build-args: |\n            {}=${{{{ matrix.stage }}}}",
            crate::model::IMAGES_ARG
        );
    }
    if !job.build_secrets.is_empty() {
        out.push_str("          secret-envs: |\n");
        for name in job.build_secrets {
            let _ = writeln!(out, "            {name}={name}");
        }
    }
    if !job.ssh_hosts.is_empty() {
        let _ = writeln!(
            out,
            "          ssh: default=${{{{ runner.temp }}}}/ssh-agent.sock\n          secret-files: |\n            \
             {KNOWN_HOSTS_ID}=${{{{ runner.temp }}}}/known_hosts"
        );
    }
    out.push_str("          tags: ${{ steps.tags.outputs.tags }}\n");
    out.push_str(
        "          labels: |\n            org.opencontainers.image.revision=${{ github.sha }}\n            \
         org.opencontainers.image.source=${{ github.server_url }}/${{ github.repository }}\n",
    );
    out.push_str("          cache-from: type=gha,scope=dockerize-${{ matrix.stage }}\n");
    out.push_str("          cache-to: type=gha,mode=max,scope=dockerize-${{ matrix.stage }}\n");
    out.push_str("          push: ${{ github.event_name == 'push' }}\n");
}

fn push_note(logins: &[Login]) -> String {
    let hosts: Vec<&str> = logins.iter().map(|l| l.host.as_str()).collect();
    format!(" (and push to {} outside pull requests)", hosts.join(", "))
}

/// Logs in to one registry, outside pull requests (which only build).
fn login_step(out: &mut String, login: &Login) {
    let _ = writeln!(out, "      - name: Log in to {}", login.host);
    out.push_str("        if: github.event_name == 'push'\n");
    let _ = writeln!(out, "        uses: {LOGIN}\n        with:");
    let _ = writeln!(out, "          registry: {}", yaml(&login.host));
    match &login.credentials {
        Credentials::GithubToken => out.push_str(
            "          username: ${{ github.actor }}\n          password: ${{ secrets.GITHUB_TOKEN }}\n",
        ),
        Credentials::Secrets { username, password } => {
            let _ = writeln!(
                out,
                "          username: ${{{{ secrets.{username} }}}}\n          password: ${{{{ secrets.{password} }}}}"
            );
        }
        Credentials::GitlabJobToken => {
            unreachable!("the plan gives GitLab's job token to GitLab pipelines only")
        }
    }
}

/// The matrix's tags with `{registry}` (the default registry, lowercased) and `{git_sha}` (the commit's first 12
/// hex digits) filled in, one per line, as the step's output `tags`.
fn tags_step(out: &mut String, default_registry: bool) {
    out.push_str("      - name: Tags\n        id: tags\n        env:\n");
    if default_registry {
        let _ = writeln!(out, "          REGISTRY: {DEFAULT_CI_REGISTRY}");
    }
    out.push_str("          TAGS: ${{ join(matrix.tags, ' ') }}\n        run: |\n");
    if default_registry {
        out.push_str("          registry=\"${REGISTRY,,}\"\n");
    }
    out.push_str("          {\n            echo 'tags<<EOF'\n            for tag in $TAGS; do\n");
    if default_registry {
        out.push_str("              tag=\"${tag/#\\{registry\\}/$registry}\"\n");
    }
    out.push_str(
        "              echo \"${tag//\\{git_sha\\}/${GITHUB_SHA::12}}\"\n            done\n            \
         echo EOF\n          } >> \"$GITHUB_OUTPUT\"\n",
    );
}

/// A YAML scalar holding `text` as it is, for GitHub too: single-quoted (nothing in it is YAML syntax, `'`
/// doubles), or double-quoted with escapes when it holds a character no line may hold (a line break would fold
/// or end the scalar). GitHub expands `${{ … }}` in every value before anything else reads it, a `run:` line
/// included, so each `${{` is written as the expression `${{ '${{' }}`, which yields the text `${{`.
pub(super) fn yaml(text: &str) -> String {
    yaml_scalar(&text.replace("${{", "${{ '${{' }}"))
}

/// A YAML scalar holding `text` as it is, for a YAML reader that expands nothing (GitLab: it expands `$` in
/// `variables:` values and a few keywords, never in a `script:` line, where the shell's quoting applies, and
/// `${{` means nothing to it): single-quoted, or double-quoted with escapes as [`yaml`].
pub(super) fn yaml_scalar(text: &str) -> String {
    if !text.chars().any(crate::value::is_line_unsafe) {
        return format!("'{}'", text.replace('\'', "''"));
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if crate::value::is_line_unsafe(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_are_quoted() {
        assert_eq!(yaml("{registry}/api:1"), "'{registry}/api:1'");
        assert_eq!(yaml("it's"), "'it''s'");
        assert_eq!(
            yaml("a ${{ secrets.X }}"),
            "'a ${{ ''${{'' }} secrets.X }}'"
        );
        assert_eq!(yaml("a\nb: \"c\"\\"), r#""a\u000ab: \"c\"\\""#);
    }

    #[test]
    fn every_action_is_pinned_by_full_commit_sha_with_its_version() {
        for action in [CHECKOUT, SETUP_BUILDX, SETUP_QEMU, LOGIN, BUILD_PUSH] {
            let (reference, version) = action.split_once(" # v").expect(action);
            let (_, sha) = reference.split_once('@').expect(action);
            assert!(
                sha.len() == 40
                    && sha
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{action}"
            );
            assert!(
                version.split('.').count() == 3
                    && version.split('.').all(|n| n.parse::<u32>().is_ok()),
                "{action}"
            );
        }
    }
}
