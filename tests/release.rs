//! This project's release (`.github/workflows/release.yml`) and the install step of the generated workflows,
//! checked against each other without GitHub: the release's archive step runs here on the binary under test,
//! Python's file server on loopback stands in for the release's downloads, and the generated install step runs
//! against it: it must install that binary, refuse an archive whose checksum does not match, and compile (with
//! `cargo install`) when there is no archive. Also: the release workflow passes actionlint (with shellcheck) and
//! the workflow schema, pins every action by commit, builds every archive the install step and
//! `[package.metadata.binstall]` name.
//!
//! The tools (bash, curl, tar, sha256sum, shasum, Python, the linters) are required ([`require_tools`]).

mod common;

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use cargo_dockerize::plan::install::{archive_stem, PREBUILT};
use common::workflow::{lint_workflow, require_linters, run_script};
use common::{require_tools, run, tool, Fixture, Run};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn release_workflow() -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/release.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

#[test]
fn the_release_workflow_passes_actionlint_and_the_schema() {
    require_linters("the release workflow lint");
    lint_workflow(&release_workflow().0, "release.yml");
}

/// Every action is pinned by a full commit, its version in a comment: a moved tag cannot change the release.
#[test]
fn actions_are_pinned_by_commit() {
    let (_, text) = release_workflow();
    let uses: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .trim_start_matches("- ")
                .strip_prefix("uses: ")
        })
        .collect();
    assert!(uses.len() >= 3, "{uses:?}");
    for line in uses {
        let (action, comment) = line
            .split_once(" # v")
            .unwrap_or_else(|| panic!("no version: {line}"));
        let (_, commit) = action
            .split_once('@')
            .unwrap_or_else(|| panic!("no ref: {line}"));
        assert!(
            commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "not a commit: {line}"
        );
        assert!(comment.starts_with(|c: char| c.is_ascii_digit()), "{line}");
    }
}

/// The targets of the release's matrix: every archive the install step downloads, and macOS's two.
#[test]
fn the_release_builds_every_prebuilt_target() {
    let (_, text) = release_workflow();
    let targets: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("- target: "))
        .collect();
    for prebuilt in PREBUILT {
        assert!(
            targets.contains(&prebuilt.target),
            "{} not built: {targets:?}",
            prebuilt.target
        );
    }
    for target in ["x86_64-apple-darwin", "aarch64-apple-darwin"] {
        assert!(targets.contains(&target), "{target} not built: {targets:?}");
    }
}

/// `cargo binstall` expands `[package.metadata.binstall]`'s templates into the release's URL and the binary's
/// path in the archive (`{ binary-ext }` is empty outside Windows).
#[test]
fn binstall_finds_the_release_archives() {
    let manifest: toml::Value = toml::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap(),
    )
    .unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let target = PREBUILT[0].target;
    let expand = |template: &str| {
        template
            .replace("{ repo }", env!("CARGO_PKG_REPOSITORY"))
            .replace("{ name }", "cargo-dockerize")
            .replace("{ version }", VERSION)
            .replace("{ target }", target)
            .replace("{ bin }", "cargo-dockerize")
            .replace("{ binary-ext }", "")
    };
    let stem = archive_stem(VERSION, target);
    assert_eq!(
        expand(binstall["pkg-url"].as_str().unwrap()),
        format!(
            "{}/releases/download/v{VERSION}/{stem}.tar.gz",
            env!("CARGO_PKG_REPOSITORY")
        )
    );
    assert_eq!(
        expand(binstall["bin-dir"].as_str().unwrap()),
        format!("{stem}/cargo-dockerize")
    );
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"));
}

const TOOLS: &[(&str, &str)] = &[
    ("bash", "apt-get install bash"),
    ("curl", "apt-get install curl"),
    ("tar", "apt-get install tar"),
    ("sha256sum", "apt-get install coreutils"),
    ("shasum", "apt-get install perl"),
    ("python3", "apt-get install python3"),
];

/// Python's file server on a loopback port, stopped when dropped.
struct FileServer {
    child: Child,
    port: u16,
}

impl FileServer {
    fn start(root: &Path) -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", "--directory"])
            .arg(root)
            .arg(port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the file server did not answer on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release's archive step, run as the release's `build` job runs it (`bash -eo pipefail`, in the checkout)
/// on the binary under test, for `target`: the archive and its `.sha256`, in `<checkout>/dist`.
fn archive(checkout: &Path, target: &str) -> PathBuf {
    let release = target_dir(checkout, target);
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_cargo-dockerize"),
        release.join("cargo-dockerize"),
    )
    .unwrap();
    for file in ["README.md", "LICENSE"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(file),
            checkout.join(file),
        )
        .unwrap();
    }
    let script = run_script(&release_workflow().1, "Archive");
    let out = run(Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
        .env("TARGET", target)
        .env("VERSION", VERSION)
        .current_dir(checkout));
    out.assert_success("the release's archive step");
    checkout.join("dist")
}

fn target_dir(checkout: &Path, target: &str) -> PathBuf {
    checkout.join("target").join(target).join("release")
}

/// Runs the generated workflow's install step as GitHub runs a `run:` step on Linux (`bash -e`), against
/// `release`, with `RUNNER_TEMP` and `GITHUB_PATH` in `runner`, and a `cargo` first on `PATH` that only records
/// its arguments in `runner/cargo-args` (the fallback's `cargo install` would compile for minutes).
fn install(step: &str, release: &str, runner: &Path) -> Run {
    let temp = runner.join("temp");
    std::fs::create_dir_all(&temp).unwrap();
    let bin = runner.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/../cargo-args\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    run(Command::new("bash")
        .args(["--noprofile", "--norc", "-e", "-c", step])
        .env("DOCKERIZE_RELEASE", release)
        .env("RUNNER_TEMP", &temp)
        .env("GITHUB_PATH", runner.join("github-path"))
        .env("PATH", std::env::join_paths(paths).unwrap())
        .current_dir(runner))
}

fn read_or_empty(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Runs the release's archive step for `target` in `work/checkout`, checks what the archive holds, and lays its
/// files out as GitHub serves a release's downloads: `work/releases/v<version>/<file>`, the directory returned.
fn release_of(work: &Path, target: &str) -> PathBuf {
    let dist = archive(&work.join("checkout"), target);
    let stem = archive_stem(VERSION, target);
    let listed = run(Command::new("tar")
        .arg("-tzf")
        .arg(dist.join(format!("{stem}.tar.gz"))));
    listed.assert_success("tar -t");
    for file in [
        "cargo-dockerize",
        "cargo-dockerize.1",
        "README.md",
        "LICENSE",
        "completions/cargo-dockerize.bash",
        "completions/_cargo-dockerize",
        "completions/cargo-dockerize.fish",
        "completions/_cargo-dockerize.ps1",
        "completions/cargo-dockerize.elv",
    ] {
        assert!(
            listed.stdout.lines().any(|l| l == format!("{stem}/{file}")),
            "{file}:\n{}",
            listed.stdout
        );
    }
    let served = work.join("releases").join(format!("v{VERSION}"));
    std::fs::create_dir_all(&served).unwrap();
    for entry in std::fs::read_dir(&dist).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), served.join(entry.file_name())).unwrap();
    }
    served
}

#[test]
fn the_install_step_installs_what_the_release_archives() {
    require_tools("the release and install test", TOOLS);
    let uname = run(Command::new("uname").arg("-sm"));
    let uname = uname.stdout.trim();
    let prebuilt = PREBUILT
        .iter()
        .find(|p| p.uname == uname)
        .unwrap_or_else(|| {
            panic!("no prebuilt archive for `{uname}`: the test needs a Linux runner")
        });
    let work = tempfile::tempdir().unwrap();
    let stem = archive_stem(VERSION, prebuilt.target);
    let served = release_of(work.path(), prebuilt.target);
    let server = FileServer::start(&work.path().join("releases"));
    let release = format!("http://127.0.0.1:{}/v{VERSION}", server.port);

    let copy = Fixture::copy("single-bin");
    copy.run(&["ci"]).assert_success("ci");
    let step = run_script(
        &copy.read(".github/workflows/dockerize.yml"),
        &format!("Install cargo-dockerize {VERSION}"),
    );

    // The archive: installed, on GITHUB_PATH, and it is the binary the release archived.
    let runner = work.path().join("runner-ok");
    let out = install(&step, &release, &runner);
    out.assert_success("the install step");
    let installed = runner.join("temp").join(&stem);
    assert_eq!(
        read_or_empty(&runner.join("github-path")),
        format!("{}\n", installed.display())
    );
    assert!(
        out.stdout.contains(&format!("{stem}.tar.gz: OK")),
        "{}",
        out.stdout
    );
    let version = run(Command::new(installed.join("cargo-dockerize")).arg("--version"));
    assert_eq!(version.stdout.trim(), format!("cargo-dockerize {VERSION}"));
    assert_eq!(
        std::fs::read(installed.join("cargo-dockerize.1")).unwrap(),
        run(tool().arg("man")).stdout.into_bytes()
    );
    assert_eq!(
        read_or_empty(&runner.join("cargo-args")),
        "",
        "nothing compiled"
    );

    // A checksum that does not match: the step fails, installs nothing and compiles nothing.
    let sum = served.join(format!("{stem}.tar.gz.sha256"));
    let good = std::fs::read_to_string(&sum).unwrap();
    std::fs::write(&sum, format!("{}{}", "0".repeat(64), &good[64..])).unwrap();
    let runner = work.path().join("runner-bad-sum");
    let out = install(&step, &release, &runner);
    assert_ne!(
        out.code,
        Some(0),
        "{}",
        out.describe("install with a wrong checksum")
    );
    assert!(
        out.stdout.contains("FAILED") || out.stderr.contains("FAILED"),
        "{}",
        out.describe("install")
    );
    assert_eq!(read_or_empty(&runner.join("github-path")), "");
    assert_eq!(read_or_empty(&runner.join("cargo-args")), "");

    // No archive for this release: a warning, and `cargo install` of the same version.
    std::fs::remove_file(served.join(format!("{stem}.tar.gz"))).unwrap();
    let runner = work.path().join("runner-missing");
    let out = install(&step, &release, &runner);
    out.assert_success("install without an archive");
    assert!(
        out.stdout
            .contains("::warning::no prebuilt cargo-dockerize"),
        "{}",
        out.stdout
    );
    assert_eq!(
        read_or_empty(&runner.join("cargo-args")),
        format!("install cargo-dockerize --locked --version {VERSION}\n")
    );
    assert_eq!(read_or_empty(&runner.join("github-path")), "");
    drop(server);
}
