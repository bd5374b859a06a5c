//! `Cargo.lock` is the user's: no command of this tool changes it. A stale lock (a manifest edited after the lock
//! was written) and a missing one are each one error naming the fix, and afterwards `git status` shows the lock as
//! it was, or still absent. `generate --check` is CI's drift check: it must fail on a stale lock, not repair it.

mod common;

use std::path::Path;
use std::process::Command;

use common::Fixture;

/// Every command that only reads the workspace, and `generate` itself.
const COMMANDS: &[&[&str]] = &[
    &["generate", "--check"],
    &["build", "--dry-run"],
    &["generate"],
    &["list"],
    &["config"],
];

/// `git <args>` in `dir`, which must succeed; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A copy of `single-bin` with its Dockerfile generated, all committed, then `edit` applied and committed too:
/// `git status` is clean before each command runs.
fn committed(edit: impl FnOnce(&Fixture)) -> Fixture {
    let copy = Fixture::copy("single-bin");
    copy.generate(&[]);
    edit(&copy);
    git(&copy.root, &["init", "-q"]);
    git(&copy.root, &["add", "-A"]);
    git(&copy.root, &["commit", "-q", "-m", "fixture"]);
    copy
}

#[test]
fn a_stale_lock_fails_every_command_and_stays_as_it_was() {
    // The package's version moves on in the manifest: the lock's entry for it is stale, which Cargo without
    // `--locked` rewrites silently, and offline.
    let copy = committed(|copy| {
        copy.replace_in("Cargo.toml", "version = \"0.1.0\"", "version = \"0.2.0\"")
    });
    let lock = copy.read("Cargo.lock");
    for args in COMMANDS {
        let what = args.join(" ");
        let run = copy.run(args);
        let error = run.assert_error(1, &what);
        assert!(error.contains("Cargo.lock"), "{what}: {error}");
        assert!(
            error.contains("does not match the manifests"),
            "{what}: {error}"
        );
        assert!(run.stderr.contains("help: "), "{what}: {}", run.stderr);
        assert_eq!(copy.read("Cargo.lock"), lock, "{what} rewrote the lock");
        assert_eq!(git(&copy.root, &["status", "--porcelain"]), "", "{what}");
    }
}

#[test]
fn a_missing_lock_fails_every_command_and_is_not_created() {
    let copy = committed(|copy| std::fs::remove_file(copy.path("Cargo.lock")).unwrap());
    for args in COMMANDS {
        let what = args.join(" ");
        let run = copy.run(args);
        let error = run.assert_error(1, &what);
        assert!(error.contains("has no `Cargo.lock`"), "{what}: {error}");
        assert!(
            run.stderr.contains("cargo generate-lockfile"),
            "{what}: {}",
            run.stderr
        );
        assert!(!copy.path("Cargo.lock").exists(), "{what} created a lock");
        assert_eq!(git(&copy.root, &["status", "--porcelain"]), "", "{what}");
    }
}

#[test]
fn a_current_lock_is_read_and_left_alone() {
    let copy = committed(|_| {});
    for args in COMMANDS {
        let what = args.join(" ");
        copy.run(args).assert_success(&what);
        assert_eq!(git(&copy.root, &["status", "--porcelain"]), "", "{what}");
    }
}
