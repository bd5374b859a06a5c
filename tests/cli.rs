//! The command line through the real binary: help, `generate --check`, and every user error.
//!
//! Every failure must exit non-zero, open with one clear `error:` line (Cargo's own output, causes and
//! hints come below it, indented or prefixed), and leave no Dockerfile or `.dockerignore` behind.

mod common;

use std::path::Path;

use common::{binary, run, tool, Fixture};

/// Neither generated file exists in `dir`.
fn assert_nothing_written(dir: &Path, what: &str) {
    for file in ["Dockerfile", ".dockerignore"] {
        assert!(
            !dir.join(file).exists(),
            "{what}: `{file}` was written in {}",
            dir.display()
        );
    }
}

/// Runs `generate <args>` on a fresh copy of `fixture` and checks the failure; returns the error line
/// and the full stderr.
fn generate_fails(fixture: &str, args: &[&str], code: i32) -> (String, String) {
    let copy = Fixture::copy(fixture);
    let mut full = vec!["generate"];
    full.extend_from_slice(args);
    let what = format!("generate {} on `{fixture}`", args.join(" "));
    let run = copy.run(&full);
    let error = run.assert_error(code, &what).to_string();
    assert_nothing_written(&copy.root, &what);
    (error, run.stderr)
}

/// `list <args>` in a copy of `fixture`: the selection's errors, which `list` and `build` share.
fn list_fails(fixture: &str, args: &[&str], code: i32) -> (String, String) {
    let copy = Fixture::copy(fixture);
    let mut full = vec!["list"];
    full.extend_from_slice(args);
    let what = format!("list {} on `{fixture}`", args.join(" "));
    let run = copy.run(&full);
    let error = run.assert_error(code, &what).to_string();
    assert_nothing_written(&copy.root, &what);
    (error, run.stderr)
}

// --- help and version

#[test]
fn help_names_the_commands_and_key_flags() {
    let run = run(binary().arg("--help"));
    run.assert_success("--help");
    for needle in [
        "Usage: cargo dockerize",
        "generate",
        "list",
        "build",
        "--manifest-path",
        "--package",
        "--workspace",
        "--exclude",
        "--bin",
        "--features",
        "--libc",
        "--static",
        "--runtime",
        "--platform",
        "Exit codes",
    ] {
        assert!(
            run.stdout.contains(needle),
            "`--help` mentions `{needle}`\n{}",
            run.stdout
        );
    }
}

#[test]
fn generate_help_names_check_and_force() {
    let run = run(binary().args(["generate", "--help"]));
    run.assert_success("generate --help");
    for needle in [
        "Usage: cargo dockerize generate",
        "--check",
        "--force",
        "--manifest-path",
        "--bin",
        "--libc",
        "Overwrite a Dockerfile",
    ] {
        assert!(
            run.stdout.contains(needle),
            "`generate --help` mentions `{needle}`\n{}",
            run.stdout
        );
    }
}

#[test]
fn list_help_names_the_formats() {
    let run = run(binary().args(["list", "--help"]));
    run.assert_success("list --help");
    for needle in ["Usage: cargo dockerize list", "--format", "human", "json"] {
        assert!(
            run.stdout.contains(needle),
            "`list --help` mentions `{needle}`\n{}",
            run.stdout
        );
    }
}

#[test]
fn version_in_both_invocation_forms() {
    let expected = format!("cargo-dockerize {}\n", common::VERSION);
    let run = run(binary().arg("--version"));
    assert_eq!(run.stdout, expected, "`cargo dockerize --version`");
    // Run directly, without the `dockerize` Cargo inserts.
    let direct = common::run(tool().arg("--version"));
    assert_eq!(direct.stdout, expected, "`cargo-dockerize --version`");
}

#[test]
fn direct_invocation_generates_too() {
    let copy = Fixture::copy("single-bin");
    let run = run(tool()
        .arg("generate")
        .arg("--manifest-path")
        .arg(copy.manifest())
        .current_dir(&copy.outside));
    run.assert_success("cargo-dockerize generate");
    assert!(copy.dockerfile_path().is_file());
}

// --- generate --check

#[test]
fn check_reports_missing_then_fresh_then_edited_files() {
    let copy = Fixture::copy("workspace");

    // A fresh copy: nothing generated yet, nothing written by --check.
    let fresh = copy.run(&["generate", "--check"]);
    assert_eq!(fresh.code, Some(3), "stale → exit 3\n{}", fresh.stderr);
    let dockerfile = copy.dockerfile_path().display().to_string();
    assert!(
        fresh
            .stderr
            .contains(&format!("`{dockerfile}` does not exist")),
        "{}",
        fresh.stderr
    );
    assert!(
        fresh.stderr.contains(".dockerignore` does not exist"),
        "{}",
        fresh.stderr
    );
    assert!(
        fresh.stderr.contains(
            "error: 6 generated file(s) are out of date: `Dockerfile`, `.dockerize/auditable.pl`, `.dockerize/build.sh`, \
             `.dockerize/date.pl`, `.dockerize/recipe.pl`, `.dockerignore`"
        ),
        "{}",
        fresh.stderr
    );
    assert_nothing_written(&copy.root, "generate --check");

    // Generated: fresh.
    let generated = copy.generate(&[]);
    copy.run(&["generate", "--check"])
        .assert_success("generate --check after generate");

    // Other flags would generate another file: stale, with a diff.
    let other = copy.run(&["generate", "--check", "--libc", "gnu"]);
    assert_eq!(other.code, Some(3), "{}", other.stderr);
    assert!(
        other
            .stderr
            .contains("+#   cargo dockerize generate --libc gnu"),
        "{}",
        other.stderr
    );

    // Edited by hand: stale, with a unified diff from the file on disk to the generated one.
    let edited = generated.replacen("USER 65532:65532", "USER root", 1);
    std::fs::write(copy.dockerfile_path(), &edited).unwrap();
    let stale = copy.run(&["generate", "--check"]);
    assert_eq!(stale.code, Some(3), "{}", stale.stderr);
    for needle in [
        format!("--- {dockerfile} (on disk)"),
        format!("+++ {dockerfile} (generated)"),
        "@@ ".to_string(),
        "\n-USER root\n".to_string(),
        "\n+USER 65532:65532\n".to_string(),
        "error: 1 generated file(s) are out of date".to_string(),
        "help: run `cargo dockerize generate`".to_string(),
    ] {
        assert!(
            stale.stderr.contains(&needle),
            "diff shows `{needle}`\n{}",
            stale.stderr
        );
    }
    assert_eq!(
        std::fs::read_to_string(copy.dockerfile_path()).unwrap(),
        edited,
        "--check writes nothing"
    );

    // A script the Dockerfile runs, edited by hand: stale too, and named.
    std::fs::write(copy.dockerfile_path(), &generated).unwrap();
    let script = copy.path(".dockerize/build.sh");
    let original = std::fs::read_to_string(&script).unwrap();
    std::fs::write(&script, original.replacen("set -euf", "set -eu", 1)).unwrap();
    let stale = copy.run(&["generate", "--check"]);
    assert_eq!(stale.code, Some(3), "{}", stale.stderr);
    for needle in [
        "\n-set -eu\n+set -euf\n",
        "error: 1 generated file(s) are out of date: `.dockerize/build.sh`",
    ] {
        assert!(
            stale.stderr.contains(needle),
            "`{needle}`\n{}",
            stale.stderr
        );
    }
}

// --- where the workspace is

#[test]
fn outside_any_workspace() {
    let empty = tempfile::tempdir().unwrap();
    let run = run(binary().arg("generate").current_dir(empty.path()));
    let error = run.assert_error(1, "generate in an empty directory");
    assert!(error.contains("could not find `Cargo.toml`"), "{error}");
    assert!(
        run.stderr.contains("help: "),
        "a hint names the fix\n{}",
        run.stderr
    );
    assert_nothing_written(empty.path(), "generate in an empty directory");
}

#[test]
fn manifest_path_to_a_missing_file() {
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("nowhere/Cargo.toml");
    let run = run(binary()
        .arg("generate")
        .arg("--manifest-path")
        .arg(&missing)
        .current_dir(empty.path()));
    let error = run.assert_error(1, "--manifest-path to a missing file");
    assert!(error.contains("does not exist"), "{error}");
    assert!(error.contains(&missing.display().to_string()), "{error}");
    assert_nothing_written(empty.path(), "--manifest-path to a missing file");
    assert!(!empty.path().join("nowhere").exists());
}

#[test]
fn manifest_path_to_another_file() {
    let copy = Fixture::copy("single-bin");
    for other in ["Cargo.lock", "src/main.rs"] {
        let run = run(binary()
            .arg("generate")
            .arg("--manifest-path")
            .arg(copy.root.join(other))
            .current_dir(&copy.outside));
        let error = run.assert_error(1, &format!("--manifest-path {other}"));
        assert!(error.contains("must point to a `Cargo.toml`"), "{error}");
        assert_nothing_written(&copy.root, other);
    }
}

#[test]
fn broken_manifest_shows_cargos_message() {
    let copy = Fixture::copy("single-bin");
    let manifest = copy.manifest();
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\nthis is [not toml\n")).unwrap();
    let run = copy.run(&["generate"]);
    let error = run.assert_error(1, "generate with a broken Cargo.toml");
    assert!(error.contains("`cargo metadata` failed"), "{error}");
    // Cargo's own diagnosis, below ours.
    assert!(run.stderr.contains("this is [not toml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("  error: "),
        "Cargo's message is indented\n{}",
        run.stderr
    );
    assert_nothing_written(&copy.root, "broken Cargo.toml");
}

// --- what to build

#[test]
fn workspace_without_binaries() {
    let (error, stderr) = generate_fails("no-bins", &[], 1);
    assert!(error.contains("has no binary targets"), "{error}");
    assert!(stderr.contains("help: "), "{stderr}");
}

#[test]
fn unknown_binary() {
    let (error, stderr) = list_fails("workspace", &["--bin", "nope"], 1);
    assert!(error.contains("no binary target named `nope`"), "{error}");
    assert!(!error.contains("did you mean"), "{error}");
    assert!(
        stderr.contains("help: available binaries: api, dz-cli, worker"),
        "{stderr}"
    );
}

#[test]
fn misspelt_binary_gets_a_suggestion() {
    let (error, _) = list_fails("workspace", &["--bin", "wroker"], 1);
    assert!(error.contains("no binary target named `wroker`"), "{error}");
    assert!(error.contains("did you mean `worker`?"), "{error}");
}

#[test]
fn binary_of_an_unselected_package_names_its_package() {
    let (error, _) = list_fails("workspace", &["-p", "api", "--bin", "worker"], 1);
    assert!(error.contains("add `-p worker`"), "{error}");
}

#[test]
fn unknown_package() {
    let (error, stderr) = list_fails("workspace", &["-p", "nope"], 1);
    assert!(error.contains("package `nope` is not a member"), "{error}");
    assert!(
        stderr.contains("help: workspace members: api, cli, common, worker"),
        "{stderr}"
    );
    let (error, _) = list_fails("workspace", &["-p", "wroker"], 1);
    assert!(error.contains("did you mean `worker`?"), "{error}");
}

/// One Dockerfile serves every image: `generate` takes no selection, and says what to do instead.
#[test]
fn generate_refuses_selection_flags() {
    for args in [&["--bin", "api"][..], &["-p", "api"], &["--workspace"]] {
        let (error, stderr) = generate_fails("workspace", args, 2);
        assert!(error.contains("`generate` writes every binary"), "{error}");
        assert!(stderr.contains("cargo dockerize build"), "{stderr}");
    }
}

/// `--bin` of a binary the Dockerfile leaves out says why it is out and how to bring it in.
#[test]
fn a_binary_the_dockerfile_leaves_out_cannot_be_selected() {
    let (error, _) = list_fails("required-features", &["--bin", "extra"], 1);
    assert!(
        error.contains("binary `extra` is not in the Dockerfile"),
        "{error}"
    );
    assert!(
        error.contains("--features required-features/extra"),
        "{error}"
    );
}

#[test]
fn exclude_without_workspace_is_a_usage_error() {
    let (error, stderr) = list_fails("workspace", &["--exclude", "api"], 2);
    assert!(stderr.contains("--workspace"), "{error}\n{stderr}");
}

#[test]
fn build_only_flags_are_refused_by_commands_that_do_not_build() {
    for flag in [
        &["--dry-run"][..],
        &["--no-cache"],
        &["--jobs", "2"],
        &["--message-format", "json"],
    ] {
        let (error, _) = generate_fails("workspace", flag, 2);
        assert!(
            error.contains(&format!("`{}` only applies when building", flag[0])),
            "{error}"
        );
    }
}

#[test]
fn invalid_tags_fail_before_anything_is_built() {
    for (args, word) in [
        (&["-t", "Api:{version}"][..], "`Api`"),
        (&["--registry", "ghcr.io/ACME"], "`ACME`"),
        (&["-t", "api:-x"], "`-x`"),
    ] {
        let (error, stderr) = generate_fails("single-bin", args, 1);
        assert!(
            error.contains("is not a valid image reference") && error.contains(word),
            "{error}"
        );
        assert!(stderr.contains("help: a reference is"), "{stderr}");
    }
}

#[test]
fn unknown_profiles_fail_and_custom_ones_are_accepted() {
    let (error, stderr) = generate_fails("single-bin", &["--profile", "nope"], 1);
    assert!(
        error.contains("profile `nope` (from `--profile nope`)"),
        "{error}"
    );
    assert!(stderr.contains("bench, dev, release, test"), "{stderr}");

    let copy = Fixture::copy("single-bin");
    let manifest = std::fs::read_to_string(copy.manifest()).unwrap();
    std::fs::write(
        copy.manifest(),
        format!("{manifest}\n[profile.container]\ninherits = \"release\"\n"),
    )
    .unwrap();
    let dockerfile = copy.generate(&["--profile", "container"]);
    assert!(dockerfile.contains("--profile container"), "{dockerfile}");
    assert!(
        dockerfile.contains(" --from x86_64-unknown-linux-musl/container "),
        "a custom profile writes to its own directory"
    );
}

// --- writing the files

#[test]
fn users_dockerfile_is_refused_without_force_and_replaced_with_it() {
    let copy = Fixture::copy("workspace");
    let theirs = "FROM alpine\nCMD [\"true\"]\n";
    std::fs::write(copy.dockerfile_path(), theirs).unwrap();

    let run = copy.run(&["generate"]);
    let error = run.assert_error(1, "generate over a user's Dockerfile");
    assert!(
        error.contains("was not written by cargo-dockerize"),
        "{error}"
    );
    assert!(
        run.stderr.contains("--force"),
        "the hint names --force\n{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(copy.dockerfile_path()).unwrap(),
        theirs,
        "untouched"
    );
    assert!(!copy.dockerignore_path().exists(), "nothing half-written");

    copy.run(&["generate", "--force"])
        .assert_success("generate --force");
    let ours = copy.dockerfile();
    assert!(ours.starts_with("# Generated by cargo-dockerize"), "{ours}");
    assert!(copy.dockerignore_path().is_file());
}

#[test]
fn users_dockerignore_is_kept_with_a_warning() {
    let copy = Fixture::copy("single-bin");
    let theirs = ".git\n";
    std::fs::write(copy.dockerignore_path(), theirs).unwrap();
    let run = copy.run(&["generate"]);
    run.assert_success("generate with a user's .dockerignore");
    assert_eq!(
        std::fs::read_to_string(copy.dockerignore_path()).unwrap(),
        theirs
    );
    assert!(run.stderr.contains("Kept"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: `.dockerignore` lets `target/` into the build context"),
        "{}",
        run.stderr
    );
}

#[test]
fn unwritable_workspace_root() {
    use std::os::unix::fs::PermissionsExt;
    let copy = Fixture::copy("single-bin");
    let mode = |m| std::fs::Permissions::from_mode(m);
    std::fs::set_permissions(&copy.root, mode(0o555)).unwrap();
    // Root (as in CI) writes through any mode bits: for root the directory is made read-only by a read-only bind
    // mount of itself instead, which stops root too.
    let root_writes = std::fs::write(copy.root.join(".probe"), "").is_ok();
    let mount = root_writes.then(|| {
        std::fs::remove_file(copy.root.join(".probe")).unwrap();
        ReadOnlyMount::new(&copy.root)
    });
    let run = copy.run(&["generate"]);
    drop(mount);
    std::fs::set_permissions(&copy.root, mode(0o755)).unwrap();
    let error = run.assert_error(1, "generate into a read-only directory");
    assert!(error.contains("failed to write"), "{error}");
    assert!(run.stderr.contains("writable"), "{}", run.stderr);
    assert_nothing_written(&copy.root, "read-only directory");
}

#[test]
fn dockerfile_path_taken_by_a_directory() {
    // Fails for every user, root included: a path that cannot be read or replaced as a file.
    let copy = Fixture::copy("single-bin");
    std::fs::create_dir(copy.dockerfile_path()).unwrap();
    let run = copy.run(&["generate"]);
    let error = run.assert_error(1, "generate where `Dockerfile` is a directory");
    assert!(error.contains("Dockerfile"), "{error}");
    assert!(!copy.dockerignore_path().exists(), "nothing half-written");
    assert!(copy.dockerfile_path().is_dir());
}

#[test]
fn dockerfile_path_taken_by_a_directory_names_the_cause() {
    let copy = Fixture::copy("single-bin");
    std::fs::create_dir(copy.dockerfile_path()).unwrap();
    let run = copy.run(&["generate"]);
    assert!(
        run.stderr.contains("caused by: Is a directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn dockerignore_path_taken_by_a_directory() {
    let copy = Fixture::copy("single-bin");
    std::fs::create_dir(copy.dockerignore_path()).unwrap();
    let run = copy.run(&["generate"]);
    let error = run.assert_error(1, "generate where `.dockerignore` is a directory");
    assert!(error.contains(".dockerignore"), "{error}");
    assert!(
        !copy.dockerfile_path().exists(),
        "nothing written before the failure"
    );
}

// --- list

#[test]
fn list_human_names_every_binary() {
    let copy = Fixture::copy("workspace");
    let run = copy.run(&["list"]);
    run.assert_success("list");
    let mut lines = run.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["BINARY", "PACKAGE", "STAGE", "IMAGE", "RUNTIME", "TARGET", "WHY"]
    );
    let binaries: Vec<&str> = lines
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(binaries, ["api", "dz-cli", "worker"]);
    assert_nothing_written(&copy.root, "list");
}

#[test]
fn list_json_is_stable_and_writes_nothing() {
    let copy = Fixture::copy("odd-names");
    let (text, list) = copy.list_json(&[]);
    assert_eq!(list["format_version"], 1);
    assert_eq!(list["workspace_root"], copy.root.display().to_string());
    assert!(text.ends_with("}\n"));
    assert_nothing_written(&copy.root, "list --format json");
}

// --- publishing: --push, --metadata-file, --cache-from, --cache-to

#[test]
fn build_help_teaches_the_publishing_flags() {
    let run = run(binary().args(["build", "--help"]));
    run.assert_success("build --help");
    for needle in [
        "--push",
        "DOCKER_CONFIG",
        "credHelpers",
        "docker.io/<user>/{bin}:{version}",
        "--metadata-file",
        "containerimage.digest",
        "--cache-from",
        "--cache-to",
        "BUILDKIT_INLINE_CACHE=1",
    ] {
        assert!(
            run.stdout.contains(needle),
            "`build --help` mentions `{needle}`\n{}",
            run.stdout
        );
    }
}

#[test]
fn publishing_flags_are_refused_by_commands_that_do_not_build() {
    for flag in [
        &["--push"][..],
        &["--metadata-file", "m.json"],
        &["--cache-from", "r.io/c:1"],
        &["--cache-to", "r.io/c:1"],
    ] {
        let (error, _) = generate_fails("single-bin", flag, 2);
        assert!(
            error.contains(&format!("`{}` only applies when building", flag[0])),
            "{error}"
        );
    }
}

#[test]
fn push_needs_tags_that_name_a_registry() {
    let copy = Fixture::copy("single-bin");
    for args in [
        &["--push"][..],
        &["--push", "--registry", "acme"],
        &["--push", "--dry-run"],
    ] {
        let mut full = vec!["build"];
        full.extend_from_slice(args);
        let run = copy.run(&full);
        let error = run.assert_error(1, &full.join(" "));
        assert!(
            error.contains("`--push` needs tags that name a registry")
                && error.contains("would go to Docker Hub as `docker.io/"),
            "{error}"
        );
        assert!(
            run.stderr.contains("help: add `--registry"),
            "{}",
            run.stderr
        );
        assert_nothing_written(&copy.root, &full.join(" "));
    }
}

#[test]
fn cache_references_are_checked_by_the_parser() {
    let copy = Fixture::copy("single-bin");
    let run = copy.run(&["build", "--cache-to", "r.io/Cache:1"]);
    run.assert_code(2, "build --cache-to with an uppercase name");
    assert!(
        run.stderr.contains("`Cache` must be lowercase"),
        "{}",
        run.stderr
    );
}

#[test]
fn dry_run_says_what_would_be_pushed_and_cached() {
    let copy = Fixture::copy("single-bin");
    let args = [
        "build",
        "--dry-run",
        "--push",
        "--registry",
        "127.0.0.1:5000/acme",
        "--cache-from",
        "127.0.0.1:5000/acme/cache:main",
        "--cache-to",
        "127.0.0.1:5000/acme/cache:main",
    ];
    let run = copy.run(&args);
    run.assert_success("build --dry-run --push");
    for needle in [
        "127.0.0.1:5000/acme/single-bin:0.1.0",
        "push (--push): every tag above, to: 127.0.0.1:5000",
        "cache from: 127.0.0.1:5000/acme/cache:main",
        "cache to: 127.0.0.1:5000/acme/cache:main (stage `builder`",
    ] {
        assert!(run.stdout.contains(needle), "`{needle}`\n{}", run.stdout);
    }
    assert_nothing_written(&copy.root, "build --dry-run --push");
    let plain = copy.run(&["build", "--dry-run"]);
    assert!(plain.stdout.contains("push: no"), "{}", plain.stdout);
}

#[test]
fn a_one_image_build_asks_the_builder_for_that_binary_alone() {
    let copy = Fixture::copy("workspace");
    let one = copy.run(&["build", "--dry-run", "--bin", "worker"]);
    one.assert_success("build --dry-run --bin worker");
    assert!(
        one.stdout.contains("build args: DOCKERIZE_IMAGES=worker\n"),
        "{}",
        one.stdout
    );
    // Every image: the builder compiles every binary anyway, so the argument stays unset (the cache key of a
    // plain `docker build`). A `--build-arg` of the user's wins.
    let all = copy.run(&["build", "--dry-run"]);
    assert!(!all.stdout.contains("DOCKERIZE_IMAGES"), "{}", all.stdout);
    let theirs = copy.run(&[
        "build",
        "--dry-run",
        "--bin",
        "worker",
        "--build-arg",
        "DOCKERIZE_IMAGES=api worker",
    ]);
    assert!(
        theirs
            .stdout
            .contains("build args: DOCKERIZE_IMAGES=api worker\n"),
        "{}",
        theirs.stdout
    );
    // A builder of one binary reads no argument: `single-bin` has none to set.
    let single = Fixture::copy("single-bin").run(&["build", "--dry-run"]);
    assert!(!single.stdout.contains("build args"), "{}", single.stdout);
}

#[test]
fn a_images_arg_naming_no_image_or_leaving_one_out_fails_before_anything_is_written() {
    let copy = Fixture::copy("workspace");
    for (args, words) in [
        (
            &["--build-arg", "DOCKERIZE_IMAGES=apy"][..],
            &[
                "`--build-arg DOCKERIZE_IMAGES=apy`: no image `apy` in the Dockerfile",
                "(api dz-cli worker)",
            ][..],
        ),
        (
            &["--bin", "worker", "--build-arg", "DOCKERIZE_IMAGES=api"],
            &[
                "leaves out `worker`, which this build builds",
                "--bin <name>",
            ],
        ),
    ] {
        let mut full = vec!["build"];
        full.extend_from_slice(args);
        let run = copy.run(&full);
        let error = run.assert_one_error(2, &full.join(" "));
        for word in words {
            assert!(
                run.stderr.contains(word),
                "`{word}` in {error}\n{}",
                run.stderr
            );
        }
        assert_nothing_written(&copy.root, &full.join(" "));
    }
}

// --- platforms

#[test]
fn bad_platforms_fail_in_one_line_naming_the_supported_ones() {
    for (value, words) in [
        ("linux/sparc", &["`linux/sparc`", "linux/arm/v7"][..]),
        ("windows/amd64", &["Linux only", "linux/arm64"]),
        (
            "linux/arm64,linux/aarch64",
            &["given twice", "`linux/aarch64`"],
        ),
        ("linux/amd64,linux/amd64", &["given twice"]),
        ("linux/amd64,", &["empty platform"]),
    ] {
        let (error, _) = generate_fails("single-bin", &["--platform", value], 2);
        for word in words {
            assert!(error.contains(word), "--platform {value}: {error}");
        }
    }
}

#[test]
fn bad_platforms_in_the_workspace_table_name_the_key() {
    let copy = Fixture::copy("single-bin");
    copy.append_to(
        "Cargo.toml",
        "\n[package.metadata.dockerize]\nplatforms = [\"linux/amd64\"]\n",
    );
    let run = copy.run(&["generate"]);
    let error = run.assert_error(1, "platforms in a package table");
    assert!(
        error.contains("platforms") && error.contains("[package.metadata.dockerize]"),
        "{error}"
    );
    assert!(
        run.stderr.contains("[workspace.metadata.dockerize]"),
        "{}",
        run.stderr
    );
    assert_nothing_written(&copy.root, "platforms in a package table");

    let copy = Fixture::copy("cross");
    copy.replace_in(
        "Cargo.toml",
        "platforms = [\"linux/amd64\", \"linux/arm64\"]",
        "platforms = [\"linux/amd64\", \"linux/mips\"]",
    );
    let run = copy.run(&["generate"]);
    let error = run.assert_error(1, "an unknown platform in the table");
    assert!(
        error.contains("`platforms`") && error.contains("`linux/mips`"),
        "{error}"
    );
    assert_nothing_written(&copy.root, "an unknown platform in the table");
}

#[test]
fn platforms_rust_or_debian_cannot_serve_fail_with_the_fix() {
    // s390x has no prebuilt musl target: `auto` becomes glibc, an explicit musl is an error.
    let copy = Fixture::copy("single-bin");
    let list = copy.run(&["list", "-v", "--platform", "linux/s390x"]);
    list.assert_success("list --platform linux/s390x");
    assert!(
        list.stdout.contains("s390x-unknown-linux-gnu"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout
            .contains("Rust has no prebuilt musl target for `linux/s390x`"),
        "{}",
        list.stdout
    );
    let (error, stderr) = generate_fails(
        "single-bin",
        &["--platform", "linux/s390x", "--libc", "musl"],
        1,
    );
    assert!(
        error.contains("no prebuilt musl target for `linux/s390x`"),
        "{error}"
    );
    assert!(stderr.contains("help: set `libc = \"gnu\"`"), "{stderr}");
    // Debian bookworm has no riscv64 packages: a binary linking OpenSSL cannot get `libssl-dev:riscv64`.
    let (error, _) = generate_fails("native-openssl", &["--platform", "linux/riscv64"], 1);
    assert!(
        error.contains("`linux/riscv64`") && error.contains("libssl-dev"),
        "{error}"
    );
}

#[test]
fn dry_run_names_every_platform_and_its_tags() {
    let copy = Fixture::copy("cross");
    let run = copy.run(&[
        "build",
        "--dry-run",
        "--bin",
        "greet",
        "--push",
        "--registry",
        "r.io/acme",
    ]);
    run.assert_success("build --dry-run on `cross`");
    for line in [
        "platforms: linux/amd64,linux/arm64 (`platforms` in `[workspace.metadata.dockerize]`",
        "linux/arm64 aarch64-unknown-linux-musl on scratch [r.io/acme/greet:0.1.0-arm64, r.io/acme/greet:latest-arm64]",
        "index (--push): an image index under each plain tag",
    ] {
        assert!(run.stdout.contains(line), "{line}\n--- stdout\n{}", run.stdout);
    }
    assert_nothing_written(&copy.root, "build --dry-run");
}

#[test]
fn control_characters_in_a_path_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("evil\u{1b}]0;owned\u{7}\r/Cargo.toml");
    let out = run(binary()
        .args(["generate", "--manifest-path"])
        .arg(&manifest));
    assert_ne!(out.code, Some(0), "{}", out.describe("generate"));
    assert!(
        !out.stderr.contains(['\u{1b}', '\u{7}', '\r']),
        "a raw control character reached the terminal: {:?}",
        out.stderr
    );
    assert!(
        out.stderr.contains(r"evil\u{1b}]0;owned\u{7}\r"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_http_or_https_engine_address_is_refused_as_the_docker_cli_refuses_it() {
    for host in ["https://build.example.com:2376", "http://127.0.0.1:2375"] {
        let copy = Fixture::copy("single-bin");
        let out = run(copy
            .command(&["build", "--dry-run"])
            .env("DOCKER_HOST", host)
            .env_remove("DOCKER_CONTEXT"));
        let line = out.assert_one_error(out.code.unwrap_or(-1), host);
        let scheme = host.split("://").next().unwrap();
        assert!(
            line.contains(&format!("`{scheme}://` is not an engine address")),
            "{host}: {line}"
        );
        assert_ne!(out.code, Some(0), "{host}");
    }
}

/// A read-only bind mount of a directory onto itself, the one way to take writing away from root; removed when
/// dropped, so a failing assertion never leaves a mount behind.
struct ReadOnlyMount(std::path::PathBuf);

impl ReadOnlyMount {
    fn new(dir: &Path) -> Self {
        let mount = |words: &[&str]| {
            let mut command = std::process::Command::new("mount");
            command.args(words).arg(dir).arg(dir);
            run(&mut command).assert_success(&format!(
                "mount {} {}",
                words.join(" "),
                dir.display()
            ));
        };
        mount(&["--bind"]);
        let guard = Self(dir.to_path_buf());
        mount(&["-o", "remount,ro,bind"]);
        guard
    }
}

impl Drop for ReadOnlyMount {
    fn drop(&mut self) {
        let status = std::process::Command::new("umount").arg(&self.0).status();
        if !status.as_ref().is_ok_and(|s| s.success()) && !std::thread::panicking() {
            panic!("umount {} failed: {status:?}", self.0.display());
        }
    }
}
