//! A git dependency over ssh: an OpenSSH server on loopback serves a bare repository, the only key it accepts is
//! in a test ssh agent, and the host key is in a `known_hosts` under a temporary `HOME`. The build forwards the
//! agent (`RUN --mount=type=ssh`) and the host key (a secret) to the cook, over the host's network; the image
//! runs the private crate's code; no line of the private key is in the output or the image. Without an agent,
//! the build fails in one line naming `SSH_AUTH_SOCK`, with nothing written.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::remote::SshServer;
use crate::common::{engine_lock, run, run_image, Fixture, TestImages};

const GREETING: &str = "hello from a private repository";

/// An `ssh-agent` on a socket of its own, holding `key`; killed when dropped.
struct Agent {
    child: Child,
    socket: PathBuf,
}

impl Agent {
    fn start(dir: &Path, key: &Path) -> Self {
        let socket = dir.join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent (Debian's openssh-client)");
        let started = std::time::Instant::now();
        while !socket.exists() {
            assert!(
                started.elapsed().as_secs() < 20,
                "ssh-agent never made its socket"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let mut add = Command::new("ssh-add");
        add.arg("-q").arg(key).env("SSH_AUTH_SOCK", &socket);
        run(&mut add).assert_success("ssh-add");
        Self { child, socket }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git <args>` in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) {
    let mut command = Command::new("git");
    command
        .args(["-c", "user.name=dz", "-c", "user.email=dz@example.invalid"])
        .args(args)
        .current_dir(dir);
    run(&mut command).assert_success(&format!("git {}", args.join(" ")));
}

/// A bare repository holding the crate `privcrate`: its path.
fn private_repository(dir: &Path) -> PathBuf {
    let work = dir.join("privcrate");
    std::fs::create_dir_all(work.join("src")).unwrap();
    std::fs::write(
        work.join("Cargo.toml"),
        "[package]\nname = \"privcrate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(
        work.join("src/lib.rs"),
        format!("pub fn greeting() -> &'static str {{\n    \"{GREETING}\"\n}}\n"),
    )
    .unwrap();
    git(&work, &["init", "-q"]);
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "privcrate"]);
    let bare = dir.join("privcrate.git");
    git(
        dir,
        &["clone", "-q", "--bare", "privcrate", "privcrate.git"],
    );
    bare
}

/// The environment of every command of this test: `HOME` with the server's host key in `.ssh/known_hosts`
/// (Cargo's and ssh's), Cargo's and rustup's own directories kept where they are.
fn with_home(command: &mut Command, home: &Path) {
    let real = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let cargo_home = std::env::var_os("CARGO_HOME").map_or(real.join(".cargo"), PathBuf::from);
    let rustup_home = std::env::var_os("RUSTUP_HOME").map_or(real.join(".rustup"), PathBuf::from);
    command
        .env("HOME", home)
        .env("CARGO_HOME", cargo_home)
        .env("RUSTUP_HOME", rustup_home);
}

#[test]
#[ignore = "needs a Docker engine: cargo test --test e2e_secrets -- --ignored"]
fn e2e_git_dependency_over_ssh_through_the_agent() {
    let _engine = engine_lock();
    let images = TestImages::new("ssh");
    let server = SshServer::start();
    let dir = tempfile::tempdir().unwrap();
    let bare = private_repository(dir.path());
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::copy(
        server.dir.path().join("known_hosts"),
        home.join(".ssh/known_hosts"),
    )
    .unwrap();
    let key = server.dir.path().join("client_key");
    let agent = Agent::start(dir.path(), &key);
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        server.user,
        server.port,
        bare.display()
    );
    let manifest = format!(
        "[package]\nname = \"uses-private\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nprivcrate = {{ git = \"{url}\" }}\n\n[workspace]\n"
    );
    let copy = Fixture::from_files(
        "uses-private",
        &[
            ("Cargo.toml", &manifest),
            (
                "src/main.rs",
                "fn main() {\n    println!(\"{}\", privcrate::greeting());\n}\n",
            ),
        ],
    );
    let mut lock = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    lock.arg("generate-lockfile")
        .arg("--manifest-path")
        .arg(copy.manifest())
        .env("SSH_AUTH_SOCK", &agent.socket);
    with_home(&mut lock, &home);
    run(&mut lock).assert_success("cargo generate-lockfile (fetches over ssh on the host)");
    let template = images.template("t");
    let args = [
        "build",
        "--libc",
        "gnu",
        "--static",
        "--network",
        "host",
        "-t",
        &template,
    ];

    let mut no_agent = copy.command(&args);
    no_agent.env_remove("SSH_AUTH_SOCK");
    with_home(&mut no_agent, &home);
    let failed = run(&mut no_agent);
    let line = failed.assert_one_error(1, "build without an agent");
    assert!(line.contains("SSH_AUTH_SOCK"), "{line}");
    assert!(
        !copy.dockerfile_path().exists(),
        "a failed build wrote the Dockerfile"
    );

    let mut command = copy.command(&args);
    command.env("SSH_AUTH_SOCK", &agent.socket);
    with_home(&mut command, &home);
    let built = run(&mut command);
    built.assert_success("build with a git dependency over ssh");
    println!("e2e: built through the ssh agent in {:.1}s", built.seconds);
    let reference = images.tag("uses-private", "t");
    assert_eq!(run_image(&reference).trim(), GREETING);
    let dockerfile = copy.dockerfile();
    assert_eq!(
        dockerfile.matches("--mount=type=ssh,required=true").count(),
        2,
        "the agent is mounted in the cook and the final compile only:\n{dockerfile}"
    );
    let private = std::fs::read_to_string(&key).unwrap();
    let lines: Vec<&str> = private
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    assert!(!lines.is_empty());
    for text in [&built.stdout, &built.stderr, &dockerfile] {
        for line in &lines {
            assert!(
                !text.contains(line),
                "a line of the private key was printed"
            );
        }
    }
    super::assert_not_in_saved_image(&reference, &lines, dir.path());
}
