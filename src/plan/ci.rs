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
//!
//! For GitLab CI ([`CiService::GitlabCi`]) the same plan becomes a pipeline: GitLab reads `.gitlab-ci.yml` (or
//! the file its project settings name) from the repository's root, so the repository's root is the directory
//! holding the file; the default registry is the project's own (`$CI_REGISTRY_IMAGE`), logged in to with the job's
//! `CI_REGISTRY_USER` and `CI_REGISTRY_PASSWORD`.

use camino::{Utf8Path, Utf8PathBuf};

use super::install::Install;
use super::{Plan, PlanError};
use crate::config::Variant;
use crate::model::CiService;
use crate::paths::lexical_parts;
use crate::reference;

/// Where `cargo dockerize ci` writes the workflow, relative to the workspace root.
pub const DEFAULT_WORKFLOW: &str = ".github/workflows/dockerize.yml";
/// The registry of the tags that name none, in CI: GitHub's, under the repository's owner (lowercased at run
/// time), which the job's own `GITHUB_TOKEN` may push to.
pub const DEFAULT_CI_REGISTRY: &str = "ghcr.io/${{ github.repository_owner }}";
/// The registry host of [`DEFAULT_CI_REGISTRY`].
pub const GITHUB_REGISTRY: &str = "ghcr.io";
/// Where `cargo dockerize ci --gitlab` writes the pipeline, relative to the workspace root.
pub const DEFAULT_GITLAB_PIPELINE: &str = ".gitlab-ci.yml";
/// The registry of the tags that name none in GitLab CI, as the pipeline names it: the project's own registry.
pub const GITLAB_REGISTRY: &str = "$CI_REGISTRY";
/// Marks, in a tag of the matrix, the default registry the workflow puts there.
pub const REGISTRY_PLACEHOLDER: &str = "{registry}";
/// The CI secret (GitHub) or masked variable (GitLab) holding the private key the jobs' ssh agent offers to the
/// git servers of [`CiPlan::ssh_hosts`]: a deploy key with read access.
pub const SSH_KEY_SECRET: &str = "DOCKERIZE_SSH_KEY";
/// The CI secret or variable holding those servers' `known_hosts` lines (`ssh-keyscan <host>`, checked once by a
/// person): the builds trust these keys and no others, as on the user's machine.
pub const KNOWN_HOSTS_SECRET: &str = "DOCKERIZE_KNOWN_HOSTS";

/// The workflow, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiPlan {
    /// The CI service the file is for.
    pub service: CiService,
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
    /// The build secrets the builds mount (`build-secrets`), by id, sorted: each read from the CI secret (GitHub)
    /// or variable (GitLab) of the same name, and given to the build only as a secret, never as an argument.
    pub build_secrets: Vec<String>,
    /// The git servers the builds fetch from over ssh, sorted: the image job starts an ssh agent holding
    /// [`SSH_KEY_SECRET`] and gives the build [`KNOWN_HOSTS_SECRET`] as the `known_hosts` secret.
    pub ssh_hosts: Vec<String>,
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
    /// GitLab's project registry (`$CI_REGISTRY`): the job's `CI_REGISTRY_USER` and `CI_REGISTRY_PASSWORD`.
    GitlabJobToken,
    /// Anything else: two repository secrets (GitLab: CI/CD variables), named after the registry.
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

/// Where `ci` writes for `service` when no `--workflow` says.
pub fn default_file(service: CiService) -> &'static str {
    match service {
        CiService::GithubActions => DEFAULT_WORKFLOW,
        CiService::GitlabCi => DEFAULT_GITLAB_PIPELINE,
    }
}

/// Decides the workflow for `plan` at `workflow` (relative to the workspace root). `command` regenerates it.
pub fn ci_plan(
    plan: &Plan,
    service: CiService,
    workflow: &Utf8Path,
    command: String,
) -> Result<CiPlan, PlanError> {
    let (repo_root, workflow) = repository_root(service, &plan.root, workflow)?;
    let workspace_dir: Utf8PathBuf = plan
        .root
        .strip_prefix(&repo_root)
        .map_err(|_| PlanError::Workflow {
            service,
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
            service,
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
        .map(
            |tag| match (tag.strip_prefix(REGISTRY_PLACEHOLDER), service) {
                (Some(_), CiService::GithubActions) => GITHUB_REGISTRY.to_string(),
                (Some(_), CiService::GitlabCi) => GITLAB_REGISTRY.to_string(),
                (None, _) => reference::registry_host(tag).to_string(),
            },
        )
        .collect();
    hosts.sort();
    hosts.dedup();
    let mut check = plan.command.clone();
    check.push_str(" --check");
    let build_secrets = ci_secret_names(service, &plan.build_secrets, &workflow)?;
    Ok(CiPlan {
        service,
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
        logins: hosts.into_iter().map(|h| login(service, h)).collect(),
        install: Install::this_release(),
        build_secrets,
        ssh_hosts: plan.ssh_hosts.clone(),
        workflow,
    })
}

/// The ids of the build secrets, each of which the CI reads from a secret of the same name. GitHub reserves the
/// `GITHUB_` prefix (a repository secret cannot carry it), so such an id is refused for GitHub in one line.
fn ci_secret_names(
    service: CiService,
    secrets: &[crate::model::BuildSecret],
    workflow: &Utf8Path,
) -> Result<Vec<String>, PlanError> {
    let mut names: Vec<String> = secrets.iter().map(|s| s.name.clone()).collect();
    names.sort();
    if service == CiService::GithubActions {
        if let Some(name) = names
            .iter()
            .find(|n| n.to_ascii_uppercase().starts_with("GITHUB_"))
        {
            return Err(PlanError::CiSecretName {
                workflow: workflow.to_owned(),
                name: name.clone(),
            });
        }
    }
    Ok(names)
}

/// The repository's root as the workflow's path says it (`<root>/.github/workflows/<name>.yml`; for GitLab the
/// pipeline file's own directory), absolute, and the workflow's path folded. `Err` when the path is not where the
/// service reads workflows.
fn repository_root(
    service: CiService,
    workspace_root: &Utf8Path,
    workflow: &Utf8Path,
) -> Result<(Utf8PathBuf, Utf8PathBuf), PlanError> {
    let folded = crate::paths::fold(workflow);
    let error = |reason: &str| PlanError::Workflow {
        service,
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
    if service == CiService::GitlabCi {
        return match absolute.parent() {
            Some(root) => Ok((root.to_owned(), folded)),
            None => Err(error("has no directory to be the repository's root")),
        };
    }
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

/// How the workflow logs in to `host`: the service's own registry with the job's token, Docker Hub with the
/// secrets its documentation names, any other with `<HOST>_USERNAME` and `<HOST>_PASSWORD`.
fn login(service: CiService, host: String) -> Login {
    let credentials = match (service, host.as_str()) {
        (CiService::GithubActions, GITHUB_REGISTRY) => Credentials::GithubToken,
        (CiService::GitlabCi, GITLAB_REGISTRY) => Credentials::GitlabJobToken,
        (_, "docker.io") => Credentials::Secrets {
            username: "DOCKERHUB_USERNAME".into(),
            password: "DOCKERHUB_TOKEN".into(),
        },
        (_, other) => {
            let name = secret_prefix(other);
            Credentials::Secrets {
                username: format!("{name}_USERNAME"),
                password: format!("{name}_PASSWORD"),
            }
        }
    };
    Login { host, credentials }
}

/// The prefix of a registry's secret names: the host in `[A-Z0-9_]`, one `_` for each run of other characters,
/// as GitHub requires of a secret's name (and GitLab of a variable's); `REGISTRY_` first where the name would
/// start with a digit (an IP address) or with GitHub's reserved `GITHUB_`, or be empty.
fn secret_prefix(host: &str) -> String {
    let mut name = String::new();
    for c in host.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_uppercase());
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_');
    if name.is_empty()
        || name.starts_with(|c: char| c.is_ascii_digit())
        || name.starts_with("GITHUB_")
        || name == "GITHUB"
    {
        format!("REGISTRY_{name}").trim_end_matches('_').to_string()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_path_says_where_the_repository_is() {
        let root = Utf8Path::new("/src/repo/app");
        let (repo, path) =
            repository_root(CiService::GithubActions, root, DEFAULT_WORKFLOW.into()).unwrap();
        assert_eq!(
            (repo.as_str(), path.as_str()),
            ("/src/repo/app", DEFAULT_WORKFLOW)
        );
        let (repo, path) = repository_root(
            CiService::GithubActions,
            root,
            "../.github/workflows/images.yaml".into(),
        )
        .unwrap();
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
            let err = repository_root(CiService::GithubActions, root, bad.into()).unwrap_err();
            assert!(matches!(err, PlanError::Workflow { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn a_gitlab_pipeline_is_at_its_repository_root_and_logs_in_with_the_job_token() {
        let root = Utf8Path::new("/src/repo/app");
        let (repo, path) =
            repository_root(CiService::GitlabCi, root, DEFAULT_GITLAB_PIPELINE.into()).unwrap();
        assert_eq!(
            (repo.as_str(), path.as_str()),
            ("/src/repo/app", ".gitlab-ci.yml")
        );
        let (repo, _) =
            repository_root(CiService::GitlabCi, root, "../ci/images.yml".into()).unwrap();
        assert_eq!(repo.as_str(), "/src/repo/ci");
        assert_eq!(
            login(CiService::GitlabCi, GITLAB_REGISTRY.into()).credentials,
            Credentials::GitlabJobToken
        );
        assert!(matches!(
            login(CiService::GitlabCi, GITHUB_REGISTRY.into()).credentials,
            Credentials::Secrets { ref username, .. } if username == "GHCR_IO_USERNAME"
        ));
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
            login(CiService::GithubActions, "ghcr.io".into()).credentials,
            Credentials::GithubToken
        );
        assert_eq!(
            login(CiService::GithubActions, "registry.example.com:5000".into()).credentials,
            Credentials::Secrets {
                username: "REGISTRY_EXAMPLE_COM_5000_USERNAME".into(),
                password: "REGISTRY_EXAMPLE_COM_5000_PASSWORD".into(),
            }
        );
        assert!(matches!(
            login(CiService::GithubActions, "docker.io".into()).credentials,
            Credentials::Secrets { ref password, .. } if password == "DOCKERHUB_TOKEN"
        ));
    }

    #[test]
    fn secret_names_are_valid_for_any_registry_host() {
        for (host, prefix) in [
            ("registry.example.com:5000", "REGISTRY_EXAMPLE_COM_5000"),
            ("10.0.0.5:5000", "REGISTRY_10_0_0_5_5000"),
            ("127.0.0.1", "REGISTRY_127_0_0_1"),
            ("[::1]:5000", "REGISTRY_1_5000"),
            ("[fd00::5]", "FD00_5"),
            ("github.example.com", "REGISTRY_GITHUB_EXAMPLE_COM"),
            ("GitHub.io", "REGISTRY_GITHUB_IO"),
            ("my--registry..io", "MY_REGISTRY_IO"),
            ("localhost:5000", "LOCALHOST_5000"),
        ] {
            let Credentials::Secrets { username, password } =
                login(CiService::GithubActions, host.into()).credentials
            else {
                panic!("{host}: not secrets");
            };
            assert_eq!(username, format!("{prefix}_USERNAME"), "{host}");
            for name in [username, password] {
                assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                        && !name.starts_with(|c: char| c.is_ascii_digit())
                        && !name.starts_with("GITHUB_"),
                    "{host}: `{name}` is not a valid GitHub secret name"
                );
            }
        }
    }
}
