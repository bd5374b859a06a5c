//! `docker` CLI calls of the engine tests, each with a time limit: any call, image inspection, running an
//! image, and an image's file system as `docker export` writes it.

use std::process::Command;
use std::time::Duration;

use super::process::{run_bytes, run_limited, Run};

/// The longest a `docker` CLI call may take.
pub const DOCKER_LIMIT: Duration = Duration::from_secs(120);

/// A `docker` command whose `build` uses BuildKit, as a user's does: the one on `PATH` when it has the buildx
/// plugin (the default builder since Docker 23), else a pre-23 CLI with `DOCKER_BUILDKIT=1` (its built-in
/// BuildKit client; Debian's `docker.io`, which `local-engine` installs, is one). Panics naming both when
/// neither is there.
pub fn buildkit_docker() -> Command {
    let answers = |program: &str, args: &[&str]| {
        run_limited(Command::new(program).args(args), DOCKER_LIMIT)
            .ok()
            .filter(|run| run.code == Some(0))
            .map(|run| run.stdout.trim().to_string())
    };
    if answers("docker", &["buildx", "version"]).is_some() {
        return Command::new("docker");
    }
    for program in ["docker", "/usr/bin/docker"] {
        let version = answers(program, &["version", "--format", "{{.Client.Version}}"]);
        let major = version
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|m| m.parse::<u32>().ok());
        if major.is_some_and(|m| m < 23) {
            let mut command = Command::new(program);
            command.env("DOCKER_BUILDKIT", "1");
            return command;
        }
    }
    panic!(
        "no docker CLI builds with BuildKit here: `docker buildx` is missing and no pre-23 `docker` (e.g. Debian's docker.io at /usr/bin/docker) was found"
    )
}

/// `docker <args>`, captured; panics only when the CLI cannot run at all or hangs.
pub fn docker(args: &[&str]) -> Run {
    run_limited(Command::new("docker").args(args), DOCKER_LIMIT)
        .unwrap_or_else(|why| panic!("{why}"))
}

/// `docker <args>`, which must succeed: its stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let run = docker(args);
    run.assert_success(&format!("docker {}", args.join(" ")));
    run.stdout
}

/// `docker image inspect <reference>`: the one object, or `None` when there is no such image.
pub fn inspect_image(reference: &str) -> Option<serde_json::Value> {
    let run = docker(&["image", "inspect", reference]);
    if run.code != Some(0) {
        return None;
    }
    let mut list: Vec<serde_json::Value> =
        serde_json::from_str(&run.stdout).expect("docker image inspect prints a JSON array");
    list.pop()
}

/// The image's entrypoint run with no network, which must exit 0; its stdout.
///
/// Read from the container's log after it exited, not through `docker run`'s attached streams: with Engine 26.1
/// and a current CLI, a container that exits at once loses its output now and then under load (seen here: 1 run in
/// 30 printed nothing at a load average of 15), which failed the tests that check an image's greeting.
pub fn run_image(reference: &str) -> String {
    run_container(&["--network", "none", reference])
}

/// `docker create <args>` (options, the image, its command), started and waited for; it must exit 0. Its stdout,
/// read from its log (see [`run_image`]).
pub fn run_container(args: &[&str]) -> String {
    let reference = args.join(" ");
    let mut create = vec!["create"];
    create.extend_from_slice(args);
    let id = docker_ok(&create).trim().to_string();
    let started = docker(&["start", &id]);
    let waited = docker(&["wait", &id]);
    let logs = docker(&["logs", &id]);
    let _ = docker(&["rm", "-f", &id]);
    started.assert_success(&format!("docker start ({reference})"));
    waited.assert_success(&format!("docker wait ({reference})"));
    assert_eq!(
        waited.stdout.trim(),
        "0",
        "`{reference}` exited with {}; its output:\n{}{}",
        waited.stdout.trim(),
        logs.stdout,
        logs.stderr
    );
    logs.assert_success(&format!("docker logs ({reference})"));
    logs.stdout
}

/// What Docker itself puts into every container's file system (moby's `daemon/initlayer`, plus
/// `.dockerenv`), and so into every `docker export`: found by exporting a container of a `scratch` image on
/// Engine 20.10. Anything else in an exported image came from the image.
pub const DOCKER_INIT_ENTRIES: [&str; 12] = [
    ".dockerenv",
    "dev",
    "dev/console",
    "dev/pts",
    "dev/shm",
    "etc",
    "etc/hostname",
    "etc/hosts",
    "etc/mtab",
    "etc/resolv.conf",
    "proc",
    "sys",
];

/// One entry of a container's file system, as `docker export` writes it.
#[derive(Debug, Clone)]
pub struct ImageEntry {
    /// Relative, without a trailing slash: `usr/local/bin/api`, `app/configuration/base.toml`.
    pub path: String,
    pub is_dir: bool,
    pub mode: u32,
    pub size: u64,
    pub uid: u64,
    pub gid: u64,
}

/// The file system of a container created from `reference` (`docker create` + `docker export`), sorted by
/// path.
pub fn image_entries(reference: &str) -> Vec<ImageEntry> {
    let id = docker_ok(&["create", reference]).trim().to_string();
    let bytes = std::panic::catch_unwind(|| {
        run_bytes(Command::new("docker").args(["export", &id]), DOCKER_LIMIT)
    });
    let _ = docker(&["rm", "-f", &id]);
    let bytes = bytes.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut entries: Vec<ImageEntry> = archive
        .entries()
        .expect("docker export writes a tar archive")
        .map(|entry| {
            let entry = entry.expect("a tar entry");
            let header = entry.header();
            ImageEntry {
                path: entry
                    .path()
                    .expect("a tar entry path")
                    .to_string_lossy()
                    .trim_start_matches("./")
                    .trim_end_matches('/')
                    .to_string(),
                is_dir: header.entry_type().is_dir(),
                mode: header.mode().unwrap_or(0),
                size: header.size().unwrap_or(0),
                uid: header.uid().unwrap_or(u64::MAX),
                gid: header.gid().unwrap_or(u64::MAX),
            }
        })
        .filter(|e| !e.path.is_empty() && e.path != ".")
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries
}
