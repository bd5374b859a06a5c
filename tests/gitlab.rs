//! `cargo dockerize ci --gitlab`: the GitLab CI pipeline it writes, one snapshot per scenario, checked by
//! GitLab's CI schema (`check-jsonschema --builtin-schema vendor.gitlab-ci`) and every script line by shellcheck
//! as `sh` (the `docker` and `rust` images' shell), and the command's behaviour: `--check`, determinism,
//! ownership.
//!
//! The linters come from PyPI (`check-jsonschema`) and Debian (`shellcheck`); `.ci/run` installs them. A missing
//! one fails the test, naming how to install it.

mod common;

use std::process::Command;

use common::pipeline::{lint_pipeline, script_lines, LINTERS};
use common::{require_tools, run, Fixture};

/// One scenario: a fixture, what is changed in the copy, the arguments of `ci --gitlab`, and where the file lands.
struct Scenario {
    name: &'static str,
    fixture: &'static str,
    setup: fn(&Fixture),
    args: &'static [&'static str],
    pipeline: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    // Three binaries, the default tags: every tag goes to the project's registry.
    Scenario {
        name: "workspace",
        fixture: "workspace",
        setup: |_| {},
        args: &[],
        pipeline: ".gitlab-ci.yml",
    },
    // The registry and a tag of the commit from the manifest, the Dockerfile elsewhere, two platforms.
    Scenario {
        name: "single-bin-configured",
        fixture: "single-bin",
        setup: |copy| {
            copy.append_to(
                "Cargo.toml",
                "\n[workspace.metadata.dockerize]\ndockerfile = \"docker/Dockerfile.dockerize\"\nregistry = \"quay.io/acme\"\ntags = [\"{bin}:{version}\", \"{bin}:sha-{git_sha}\"]\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n",
            );
        },
        args: &[],
        pipeline: ".gitlab-ci.yml",
    },
    // Docker Hub by flag: its CI/CD variables; the project's registry only for the cache.
    Scenario {
        name: "multi-bin-docker-hub",
        fixture: "multi-bin",
        setup: |_| {},
        args: &["--registry", "docker.io/acme"],
        pipeline: ".gitlab-ci.yml",
    },
    // A workspace in a directory of its repository: the pipeline at the repository's root, the checks in `app`.
    Scenario {
        name: "path-outside-subdirectory",
        fixture: "path-outside/app",
        setup: |_| {},
        args: &["--workflow", "../.gitlab-ci.yml"],
        pipeline: "../.gitlab-ci.yml",
    },
];

fn ci_args(scenario: &Scenario) -> Vec<&'static str> {
    let mut args = vec!["ci", "--gitlab"];
    args.extend_from_slice(scenario.args);
    args
}

/// Generates the Dockerfile and the pipeline of `scenario` in a fresh copy: the copy and the pipeline's text.
fn generate(scenario: &Scenario) -> (Fixture, String) {
    let copy = Fixture::copy(scenario.fixture);
    (scenario.setup)(&copy);
    copy.run(&["generate"]).assert_success("generate");
    let args = ci_args(scenario);
    copy.run(&args).assert_success(&args.join(" "));
    let text = copy.read(scenario.pipeline);
    (copy, text)
}

#[test]
fn snapshots() {
    for scenario in SCENARIOS {
        let (copy, text) = generate(scenario);
        let command = format!("cargo dockerize {}", ci_args(scenario).join(" "));
        let mut settings = copy.insta_settings(&format!("`{command}` on `{}`", scenario.fixture));
        settings.add_filter(
            r"cargo-dockerize(,? --locked --version)? \d+\.\d+\.\d+",
            "cargo-dockerize$1 [VERSION]",
        );
        settings.add_filter(r"/v\d+\.\d+\.\d+'", "/v[VERSION]'");
        settings.add_filter(
            r"cargo-dockerize-\d+\.\d+\.\d+-",
            "cargo-dockerize-[VERSION]-",
        );
        settings.bind(|| insta::assert_snapshot!(format!("{}.gitlab-ci", scenario.name), text));
    }
}

#[test]
fn the_pipeline_is_deterministic_and_fresh_after_writing() {
    for scenario in SCENARIOS {
        let (copy, first) = generate(scenario);
        let mut args = ci_args(scenario);
        let again = copy.run(&args);
        again.assert_success("ci --gitlab again");
        assert!(again.stderr.contains("Unchanged"), "{}", again.stderr);
        assert_eq!(copy.read(scenario.pipeline), first, "{}", scenario.name);
        args.push("--check");
        copy.run(&args).assert_success("ci --gitlab --check");
    }
}

/// The pipeline's checks on `pipeline` (a file of the copy), its scripts written beside it.
fn lint(copy: &Fixture, pipeline: &str) -> Result<(), String> {
    lint_pipeline(&copy.path(pipeline), &copy.path("pipeline-scripts.sh"))
}

#[test]
fn gitlab_s_schema_and_shellcheck_accept_every_scenario() {
    require_tools("the pipeline lint", LINTERS);
    for scenario in SCENARIOS {
        let (copy, text) = generate(scenario);
        if let Err(complaint) = lint(&copy, scenario.pipeline) {
            panic!("{}: {complaint}\n--- pipeline\n{text}", scenario.name);
        }
    }
}

/// The checks are not satisfied by anything: a job named for a keyword, or a script line sh cannot run, fails.
#[test]
fn the_checks_reject_a_broken_pipeline() {
    require_tools("the pipeline checks' own test", LINTERS);
    let (copy, text) = generate(&SCENARIOS[0]);
    copy.write(".gitlab-ci.yml", &text.replace("\nimages:\n", "\nimage:\n"));
    let err = lint(&copy, ".gitlab-ci.yml").unwrap_err();
    assert!(err.contains("check-jsonschema"), "{err}");
    copy.write(
        ".gitlab-ci.yml",
        &text.replace("      set --\n", "      set -- $TAGS\"\n"),
    );
    let err = lint(&copy, ".gitlab-ci.yml").unwrap_err();
    assert!(err.contains("shellcheck"), "{err}");
}

#[test]
fn check_reports_a_stale_pipeline_and_a_pipeline_we_did_not_write_is_kept() {
    let (copy, _) = generate(&SCENARIOS[0]);
    copy.replace_in(
        "Cargo.toml",
        "\nversion = \"0.3.0\"",
        "\nversion = \"0.3.1\"",
    );
    copy.relock();
    let out = copy.run(&["ci", "--gitlab", "--check"]);
    let error = out.assert_one_error(3, "ci --gitlab --check after a version bump");
    assert!(error.contains("out of date"), "{error}");
    assert!(
        out.stderr
            .contains("help: run `cargo dockerize ci --gitlab`"),
        "{}",
        out.stderr
    );

    let theirs = "build:\n  script:\n    - make\n";
    let copy = Fixture::copy("single-bin");
    copy.write(".gitlab-ci.yml", theirs);
    let out = copy.run(&["ci", "--gitlab"]);
    let error = out.assert_error(1, "ci --gitlab over a user's pipeline");
    assert!(
        error.contains("was not written by cargo-dockerize"),
        "{error}"
    );
    assert!(out.stderr.contains("include:"), "{}", out.stderr);
    assert_eq!(copy.read(".gitlab-ci.yml"), theirs);
}

/// A workspace directory and a pipeline path holding `$`, quotes, `#`, `: ` and `${{`: GitLab expands `$` in
/// `variables:` values (never in `script:`), and `${{` means nothing to it, so every script line must reach `sh`
/// as the exact words, which `sh` parses back here with the variables set to what they must not become.
#[test]
fn hostile_paths_reach_the_pipelines_shell_as_the_same_words() {
    let dir = tempfile::tempdir().unwrap();
    let workspace_dir = "w$CI_JOB_TOKEN 'q\" #x: ${{ y }}";
    let copy = dir.path().join(workspace_dir);
    common::tree::copy_tree(&common::fixture::fixtures_dir().join("single-bin"), &copy);
    let pipeline = "../p$CI_JOB_TOKEN ${{ x }}.yml";
    let out = run(common::binary()
        .args([
            "ci",
            "--gitlab",
            "--registry",
            "reg.io:5000",
            "--workflow",
            pipeline,
        ])
        .arg("--manifest-path")
        .arg(copy.join("Cargo.toml")));
    out.assert_success("ci --gitlab with hostile paths");
    let text = std::fs::read_to_string(dir.path().join("p$CI_JOB_TOKEN ${{ x }}.yml")).unwrap();
    // What GitLab expands: `variables:` values; ours hold no `$` but GitLab's own predefined variables.
    let variables = text.lines().filter_map(|line| {
        let entry = line.trim_start().trim_start_matches("- ");
        let (name, value) = entry.split_once(": ")?;
        let is_variable = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        is_variable.then_some((line, value))
    });
    let mut seen = 0;
    for (line, value) in variables {
        seen += 1;
        assert!(
            !value.contains('$') || value == "$CI_REGISTRY_IMAGE",
            "a variable GitLab would expand: {line}"
        );
    }
    assert!(seen >= 3, "no variables found in\n{text}");
    let script = script_lines(&text);
    let words = |prefix: &str| -> Vec<String> {
        let line = script
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in\n{script}"));
        let printed = run(Command::new("sh")
            .arg("-c")
            .arg(format!(
                "set -- {}; printf '%s\\n' \"$@\"",
                &line[prefix.len()..]
            ))
            .env("CI_JOB_TOKEN", "LEAKED")
            .env("y", "LEAKED")
            .env("x", "LEAKED"));
        printed.assert_success(line);
        printed.stdout.lines().map(str::to_string).collect()
    };
    assert_eq!(words("cd "), [workspace_dir]);
    let check = words("cargo dockerize ci ");
    assert_eq!(
        check,
        [
            "--gitlab",
            "--registry",
            "reg.io:5000",
            "--workflow",
            pipeline,
            "--check"
        ],
        "{script}"
    );
    assert!(
        !text.contains("${{ '${{' }}"),
        "GitHub's escape in a GitLab file:\n{text}"
    );
}
