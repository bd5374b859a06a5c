//! The generated CI files give the builds the same secrets `cargo dockerize build` and a plain `docker build` give
//! (issue 20, item 6): each `build-secrets` id from the CI's secret of that name, as a BuildKit secret and never as
//! an argument; with git over ssh, an agent holding the deploy key and the hosts' keys as the `known_hosts` secret.
//!
//! In-process: the plan of a fixture with `build-secrets`, and the same plan with an ssh git host (a workspace
//! with such a dependency cannot be read here without its server: `tests/e2e_secrets/ssh.rs` builds one), each
//! rendered for GitHub and GitLab, checked by the services' linters (actionlint and GitHub's workflow schema;
//! GitLab's CI schema and shellcheck), and against the Dockerfile of the same plan: every secret the Dockerfile
//! mounts is one the CI file gives.

mod common;

use std::collections::BTreeSet;

use cargo_dockerize::model::CiService;
use cargo_dockerize::plan::{self, Plan};
use cargo_dockerize::render;
use common::workflow::{lint_workflow, require_linters};
use common::{library, pipeline, Fixture};

const SECRETS: &str = "\n[workspace.metadata.dockerize]\nbuild-secrets = [\"NPM_TOKEN\", { name = \"DB_URL\", file = \"/run/keys/db-url\" }]\n";

/// The fixture's copy with two build secrets, and its plan; with `ssh`, as if a dependency came from
/// `ssh://git@git.example.com/...`.
fn planned(ssh: bool) -> (Fixture, Plan) {
    let copy = Fixture::copy("single-bin");
    copy.append_to("Cargo.toml", SECRETS);
    let mut plan = library::plan_fixture(&copy.manifest(), &library::settings(&[]));
    if ssh {
        plan.ssh_hosts = vec!["git.example.com".to_string()];
    }
    (copy, plan)
}

fn ci_file(plan: &Plan, service: CiService) -> String {
    let (workflow, command) = match service {
        CiService::GithubActions => (plan::ci::DEFAULT_WORKFLOW, "cargo dockerize ci"),
        CiService::GitlabCi => (
            plan::ci::DEFAULT_GITLAB_PIPELINE,
            "cargo dockerize ci --gitlab",
        ),
    };
    let ci = plan::ci::ci_plan(plan, service, workflow.into(), command.into())
        .unwrap_or_else(|e| panic!("failed to plan the CI file: {e}"));
    match service {
        CiService::GithubActions => render::workflow(&ci),
        CiService::GitlabCi => render::pipeline(&ci),
    }
}

/// The secret ids the Dockerfile's `RUN` lines mount.
fn mounted_ids(dockerfile: &str) -> BTreeSet<String> {
    dockerfile
        .split("--mount=type=secret,id=")
        .skip(1)
        .map(|rest| rest.split([',', ' ']).next().expect("an id").to_string())
        .collect()
}

/// The keys of a `key=value` list input of build-push-action (`secret-envs`, `secret-files`).
fn list_input(workflow: &str, input: &str) -> BTreeSet<String> {
    let mut lines = workflow
        .lines()
        .skip_while(|l| l.trim() != format!("{input}: |"));
    lines.next();
    lines
        .take_while(|l| l.starts_with("            "))
        .map(|l| l.trim().split('=').next().expect("a key").to_string())
        .collect()
}

#[test]
fn the_workflow_gives_the_build_every_secret_the_dockerfile_mounts() {
    require_linters("the_workflow_gives_the_build_every_secret_the_dockerfile_mounts");
    for ssh in [false, true] {
        let (copy, plan) = planned(ssh);
        let dockerfile = render::render(&plan);
        let workflow = ci_file(&plan, CiService::GithubActions);
        let path = copy.path(".github/workflows/dockerize.yml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &workflow).unwrap();
        lint_workflow(
            &path,
            &format!("the workflow with build secrets (ssh: {ssh})"),
        );

        // The header names the repository secrets to create.
        assert!(
            workflow.contains("# The builds mount the build secrets DB_URL, NPM_TOKEN (`build-secrets`): repository secrets"),
            "{workflow}"
        );
        let mut given = list_input(&workflow, "secret-envs");
        assert_eq!(
            given,
            BTreeSet::from(["DB_URL".to_string(), "NPM_TOKEN".to_string()]),
            "{workflow}"
        );
        for name in ["DB_URL", "NPM_TOKEN"] {
            // From the repository secret into the step's environment, and nowhere else.
            let expression = format!("${{{{ secrets.{name} }}}}");
            assert_eq!(workflow.matches(&expression).count(), 1, "{workflow}");
            assert!(
                workflow.contains(&format!("          {name}: {expression}\n")),
                "{workflow}"
            );
        }
        assert!(
            !workflow.contains("build-args: |\n            NPM_TOKEN"),
            "{workflow}"
        );
        given.extend(list_input(&workflow, "secret-files"));
        if ssh {
            assert!(
                workflow.contains("ssh: default=${{ runner.temp }}/ssh-agent.sock"),
                "{workflow}"
            );
            assert!(workflow.contains("secrets.DOCKERIZE_SSH_KEY"), "{workflow}");
            assert!(dockerfile.contains("--mount=type=ssh"), "{dockerfile}");
        } else {
            assert!(!workflow.contains("ssh"), "{workflow}");
        }
        assert_eq!(mounted_ids(&dockerfile), given, "{dockerfile}\n{workflow}");
    }
}

#[test]
fn the_gitlab_pipeline_gives_the_build_every_secret_the_dockerfile_mounts() {
    common::require_tools(
        "the_gitlab_pipeline_gives_the_build_every_secret_the_dockerfile_mounts",
        pipeline::LINTERS,
    );
    for ssh in [false, true] {
        let (copy, plan) = planned(ssh);
        let dockerfile = render::render(&plan);
        let pipeline = ci_file(&plan, CiService::GitlabCi);
        let path = copy.path(".gitlab-ci.yml");
        std::fs::write(&path, &pipeline).unwrap();
        if let Err(complaint) = pipeline::lint_pipeline(&path, &copy.path("pipeline-scripts.sh")) {
            panic!("the pipeline with build secrets (ssh: {ssh}): {complaint}\n{pipeline}");
        }
        let script = pipeline::script_lines(&pipeline);

        assert!(
            pipeline.contains("# The builds mount the build secrets DB_URL, NPM_TOKEN (`build-secrets`): masked CI/CD variables"),
            "{pipeline}"
        );
        assert_eq!(
            pipeline.contains("the protected CI/CD variables DOCKERIZE_SSH_KEY (a deploy key) and"),
            ssh,
            "{pipeline}"
        );
        let mut given = BTreeSet::new();
        for name in ["DB_URL", "NPM_TOKEN"] {
            // `env=`: the value is read by buildx, never a word of the command line.
            assert!(
                script.contains(&format!("--secret id={name},env={name}\n")),
                "{script}"
            );
            given.insert(name.to_string());
        }
        if ssh {
            assert!(script.contains("--ssh default"), "{script}");
            assert!(
                script.contains("\"$DOCKERIZE_SSH_KEY\" | ssh-add -"),
                "{script}"
            );
            given.insert(render::KNOWN_HOSTS_ID.to_string());
        }
        assert_eq!(mounted_ids(&dockerfile), given, "{dockerfile}\n{pipeline}");
    }
}

#[test]
fn a_build_secret_github_reserves_is_refused_for_the_workflow_only() {
    let copy = Fixture::copy("single-bin");
    copy.append_to(
        "Cargo.toml",
        "\n[workspace.metadata.dockerize]\nbuild-secrets = [\"GITHUB_PACKAGES_TOKEN\"]\n",
    );
    let out = copy.run(&["ci"]);
    let error = out.assert_one_error(1, "ci with a GITHUB_ build secret");
    assert!(error.contains("`GITHUB_PACKAGES_TOKEN`"), "{error}");
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
    assert!(!copy.path(".github").exists(), "nothing written");
    // GitLab has no such rule: its masked variable may carry the name.
    copy.run(&["ci", "--gitlab"]).assert_success("ci --gitlab");
    let pipeline = copy.read(".gitlab-ci.yml");
    assert!(
        pipeline.contains("--secret id=GITHUB_PACKAGES_TOKEN,env=GITHUB_PACKAGES_TOKEN"),
        "{pipeline}"
    );
}
