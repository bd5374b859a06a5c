//! The CI workflow, decided: [`Plan`] + where the workflow goes → [`CiPlan`]. Pure: paths are worked out by their
//! text, nothing is read.
//!
//! GitHub runs the workflows in `.github/workflows/` at a repository's root, so the workflow's path says where the
//! repository's root is (two directories above `workflows`), and from it where the workspace, the build context
//! and the Dockerfile are in the checkout. Each image the plan builds (for `ci`, every image of the Dockerfile)
//! becomes one entry of the matrix, with the tags its builds publish: a tag that names no registry gets the CI's
//! default one, written `{registry}` in the matrix; `{git_sha}` in a tag template stays in the plan's tags (see
//! [`crate::config::GitSha::AtRunTime`]) for the commit being built. The workflow fills both in at run time
//! (GitHub's expressions cannot lowercase an owner's name, which a registry requires).

use camino::{Utf8Path, Utf8PathBuf};

use super::install::Install;
use super::{Plan, PlanError};
use crate::config::Variant;
use crate::paths::lexical_parts;
use crate::reference;

/// Where `cargo dockerize ci` writes the workflow, relative to the workspace root.
pub const DEFAULT_WORKFLOW: &str = ".github/workflows/dockerize.yml";
/// The registry of the tags that name none, in CI: GitHub's, under the repository's owner (lowercased at run
/// time), which the job's own `GITHUB_TOKEN` may push to.
pub const DEFAULT_CI_REGISTRY: &str = "ghcr.io/${{ github.repository_owner }}";
/// The registry host of [`DEFAULT_CI_REGISTRY`].
pub const GITHUB_REGISTRY: &str = "ghcr.io";
/// Marks, in a tag of the matrix, the default registry the workflow puts there.
pub const REGISTRY_PLACEHOLDER: &str = "{registry}";

/// The workflow, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiPlan {
    /// The workflow file, relative to the workspace root.
    pub workflow: Utf8PathBuf,
    /// `cargo dockerize ci ...` that writes this workflow again, for its header.
    pub command: String,
    /// `cargo dockerize generate --check ...`: the drift check of the Dockerfile.
    pub dockerfile_check: String,
    /// The workspace root in the repository (`""` at its root): where the `cargo dockerize` steps run.
    pub workspace_dir: Utf8PathBuf,
    /// The build context in the repository: `.`, or a directory.
    pub context: Utf8PathBuf,
    /// The Dockerfile in the repository.
    pub dockerfile: Utf8PathBuf,
    /// `linux/amd64`, or `linux/amd64,linux/arm64`: the plan's platforms, as build-push-action takes them.
    pub platform: String,
    /// Whether a runtime stage runs commands in its target platform (a Debian-based runtime of a multi-platform
    /// plan runs `apt-get` there), which needs QEMU on the runner: the job sets it up.
    pub emulates: bool,
    /// Whether a builder compiles several images' binaries: each job then sets `DOCKERIZE_IMAGES` to its image,
    /// so it compiles one binary on top of the shared dependency layer.
    pub selects_images: bool,
    /// One matrix entry per image of the Dockerfile, sorted by stage.
    pub images: Vec<CiImage>,
    /// The registries the tags name, sorted by host, each with the credentials the workflow logs in with.
    pub logins: Vec<Login>,
    /// How the `dockerfile` job installs cargo-dockerize.
    pub install: Install,
}

/// One image of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiImage {
    /// The Dockerfile's stage: `--target`.
    pub stage: String,
    /// The tags, with [`REGISTRY_PLACEHOLDER`] and `{git_sha}` where the workflow fills them in.
    pub tags: Vec<String>,
}

/// A registry the workflow pushes to, and how it logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// `ghcr.io`, `docker.io`, `registry.example.com:5000`.
    pub host: String,
    pub credentials: Credentials,
}

/// How the workflow logs in to a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `ghcr.io`: the actor and the job's `GITHUB_TOKEN` (with `packages: write`).
    GithubToken,
    /// Anything else: two repository secrets, named after the registry.
    Secrets { username: String, password: String },
}

impl CiPlan {
    /// Whether a tag gets the default registry, so the workflow computes it and logs in to GitHub's registry.
    pub fn uses_default_registry(&self) -> bool {
        self.images
            .iter()
            .flat_map(|i| &i.tags)
            .any(|t| t.starts_with(REGISTRY_PLACEHOLDER))
    }

    /// Whether the workflow pushes to GitHub's registry (and so needs `packages: write`).
    pub fn pushes_to_github(&self) -> bool {
        self.logins
            .iter()
            .any(|l| l.credentials == Credentials::GithubToken)
    }
}

/// Decides the workflow for `plan` at `workflow` (relative to the workspace root). `command` regenerates it.
pub fn ci_plan(plan: &Plan, workflow: &Utf8Path, command: String) -> Result<CiPlan, PlanError> {
    let (repo_root, workflow) = repository_root(&plan.root, workflow)?;
    let workspace_dir: Utf8PathBuf = plan
        .root
        .strip_prefix(&repo_root)
        .map_err(|_| PlanError::Workflow {
            path: workflow.clone(),
            reason: format!(
                "is in a repository rooted at `{repo_root}`, which does not hold the workspace"
            ),
        })?
        .to_owned();
    let context_from_root = workspace_dir.join(plan.context.root_from_workspace());
    let (parts, escaped) = lexical_parts(context_from_root.as_str());
    if escaped {
        return Err(PlanError::Workflow {
            path: workflow,
            reason: format!(
                "is in a repository rooted at `{repo_root}`, but the build context `{}` reaches outside it",
                plan.context.root
            ),
        });
    }
    let context: Utf8PathBuf = if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/").into()
    };
    let images: Vec<CiImage> = plan
        .builds
        .published(Variant::Release)
        .into_iter()
        .map(|(stage, tags)| CiImage {
            stage: stage.to_string(),
            tags: tags.iter().map(|t| ci_tag(t)).collect(),
        })
        .collect();
    let mut hosts: Vec<String> = images
        .iter()
        .flat_map(|i| &i.tags)
        .map(|tag| match tag.strip_prefix(REGISTRY_PLACEHOLDER) {
            Some(_) => GITHUB_REGISTRY.to_string(),
            None => reference::registry_host(tag).to_string(),
        })
        .collect();
    hosts.sort();
    hosts.dedup();
    let mut check = plan.command.clone();
    check.push_str(" --check");
    Ok(CiPlan {
        command,
        dockerfile_check: check,
        dockerfile: workspace_dir.join(&plan.dockerfile.path),
        workspace_dir,
        context,
        platform: crate::platform::PlatformList(plan.platforms.clone()).joined(),
        emulates: plan.cross_compiles()
            && plan
                .images
                .iter()
                .any(|i| matches!(i.runtime, crate::plan::RuntimeBase::DebianSlim(_))),
        selects_images: plan.builders.iter().any(|b| b.selects()),
        images,
        logins: hosts.into_iter().map(login).collect(),
        install: Install::this_release(),
        workflow,
    })
}

/// The repository's root as the workflow's path says it (`<root>/.github/workflows/<name>.yml`), absolute, and
/// the workflow's path folded. `Err` when the path is not where GitHub reads workflows.
fn repository_root(
    workspace_root: &Utf8Path,
    workflow: &Utf8Path,
) -> Result<(Utf8PathBuf, Utf8PathBuf), PlanError> {
    let folded = crate::paths::fold(workflow);
    let error = |reason: &str| PlanError::Workflow {
        path: folded.clone(),
        reason: reason.to_string(),
    };
    if folded.is_absolute() {
        return Err(error(
            "must be relative to the workspace root, not absolute",
        ));
    }
    if !matches!(folded.extension(), Some("yml" | "yaml")) {
        return Err(error("must end in `.yml` or `.yaml`"));
    }
    let absolute = crate::paths::normalize(&workspace_root.join(workflow));
    let mut dirs = absolute.ancestors().skip(1);
    let (workflows, github, root) = (dirs.next(), dirs.next(), dirs.next());
    match (
        workflows.and_then(Utf8Path::file_name),
        github.and_then(Utf8Path::file_name),
        root,
    ) {
        (Some("workflows"), Some(".github"), Some(root)) => Ok((root.to_owned(), folded)),
        _ => Err(error(
            "is not in a `.github/workflows/` directory, the only place GitHub runs workflows from",
        )),
    }
}

/// A plan's tag as the matrix holds it: the default registry's placeholder in front of a tag that names no
/// registry.
fn ci_tag(tag: &str) -> String {
    if reference::names_registry(tag) {
        tag.to_string()
    } else {
        format!("{REGISTRY_PLACEHOLDER}/{tag}")
    }
}

/// How the workflow logs in to `host`: GitHub's registry with the job's token, Docker Hub with the secrets its
/// documentation names, any other with `<HOST>_USERNAME` and `<HOST>_PASSWORD`.
fn login(host: String) -> Login {
    let credentials = match host.as_str() {
        GITHUB_REGISTRY => Credentials::GithubToken,
        "docker.io" => Credentials::Secrets {
            username: "DOCKERHUB_USERNAME".into(),
            password: "DOCKERHUB_TOKEN".into(),
        },
        other => {
            let name: String = other
                .chars()
                .map(|c| match c {
                    'a'..='z' | 'A'..='Z' | '0'..='9' => c.to_ascii_uppercase(),
                    _ => '_',
                })
                .collect();
            Credentials::Secrets {
                username: format!("{name}_USERNAME"),
                password: format!("{name}_PASSWORD"),
            }
        }
    };
    Login { host, credentials }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_path_says_where_the_repository_is() {
        let root = Utf8Path::new("/src/repo/app");
        let (repo, path) = repository_root(root, DEFAULT_WORKFLOW.into()).unwrap();
        assert_eq!(
            (repo.as_str(), path.as_str()),
            ("/src/repo/app", DEFAULT_WORKFLOW)
        );
        let (repo, path) =
            repository_root(root, "../.github/workflows/images.yaml".into()).unwrap();
        assert_eq!(
            (repo.as_str(), path.as_str()),
            ("/src/repo", "../.github/workflows/images.yaml")
        );
        for bad in [
            "dockerize.yml",
            ".github/dockerize.yml",
            "ci/workflows/dockerize.yml",
            ".github/workflows/dockerize.json",
            "/src/repo/.github/workflows/d.yml",
        ] {
            let err = repository_root(root, bad.into()).unwrap_err();
            assert!(matches!(err, PlanError::Workflow { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn tags_without_a_registry_get_the_placeholder_and_the_commit_its_own() {
        assert_eq!(ci_tag("api:1.0"), "{registry}/api:1.0");
        assert_eq!(ci_tag("acme/api:1.0"), "{registry}/acme/api:1.0");
        assert_eq!(ci_tag("quay.io/acme/api:latest"), "quay.io/acme/api:latest");
        assert_eq!(ci_tag("api:{git_sha}"), "{registry}/api:{git_sha}");
    }

    #[test]
    fn logins_by_registry() {
        assert_eq!(
            login("ghcr.io".into()).credentials,
            Credentials::GithubToken
        );
        assert_eq!(
            login("registry.example.com:5000".into()).credentials,
            Credentials::Secrets {
                username: "REGISTRY_EXAMPLE_COM_5000_USERNAME".into(),
                password: "REGISTRY_EXAMPLE_COM_5000_PASSWORD".into(),
            }
        );
        assert!(matches!(
            login("docker.io".into()).credentials,
            Credentials::Secrets { ref password, .. } if password == "DOCKERHUB_TOKEN"
        ));
    }
}
