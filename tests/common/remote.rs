//! Remote engines for the tests, from real parts: a Docker CLI configuration directory with contexts that the
//! real `docker context create` writes, a `socat` forwarder that makes a second socket in front of the test
//! engine, and an OpenSSH server on a free loopback port with temporary host and client keys.
//!
//! Nothing here touches the machine's own `~/.docker` or `~/.ssh`: the configuration lives in a temporary
//! `DOCKER_CONFIG`, and `ssh` is reached through a wrapper on `PATH` that adds `-F <temporary ssh_config>` (the
//! tool runs `ssh` from `PATH`, as the Docker CLI does). Every process started here is killed when its guard
//! drops, also when the test fails.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::docker::DOCKER_LIMIT;
use super::process::run_limited;

/// How long a started server may take to listen.
const START_LIMIT: Duration = Duration::from_secs(20);

/// The socket of the engine the tests use: `DOCKER_HOST`'s when it is a unix socket, else the default one.
pub fn engine_socket() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("unix://") => PathBuf::from(&host["unix://".len()..]),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

/// A temporary Docker CLI configuration directory (`DOCKER_CONFIG`), written by the real `docker` CLI.
pub struct DockerConfig {
    pub dir: tempfile::TempDir,
}

impl DockerConfig {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("dz-docker-config-")
                .tempdir()
                .expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `docker <args>` with this configuration directory, which must succeed.
    pub fn docker(&self, args: &[&str]) {
        let mut command = Command::new("docker");
        command
            .args(args)
            .env("DOCKER_CONFIG", self.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT");
        let out = run_limited(&mut command, DOCKER_LIMIT).unwrap_or_else(|why| panic!("{why}"));
        out.assert_success(&format!("docker {}", args.join(" ")));
    }

    /// `docker context create <name> --docker host=<host>`: the store laid out by the Docker CLI itself.
    pub fn create_context(&self, name: &str, host: &str) {
        self.docker(&[
            "context",
            "create",
            name,
            "--docker",
            &format!("host={host}"),
        ]);
    }

    /// Points `command` at this configuration only: no engine or context from the test's own environment.
    pub fn apply(&self, command: &mut Command) {
        command
            .env("DOCKER_CONFIG", self.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH");
    }
}

/// A process that is killed when the guard drops.
pub struct Server {
    child: Child,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// `socat` listening on `socket` and forwarding each connection to the test engine's socket, with `-d -d` so
/// that its log counts the connections it accepted.
pub fn forwarder(socket: &Path, log: &Path) -> Server {
    let engine = engine_socket();
    let child = Command::new("socat")
        .args(["-d", "-d"])
        .arg(format!("UNIX-LISTEN:{},fork", socket.display()))
        .arg(format!("UNIX-CONNECT:{}", engine.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("the socat log"))
        .spawn()
        .expect("start socat (Debian's `socat`; .ci/run installs it)");
    let server = Server {
        child,
        log: log.to_path_buf(),
    };
    wait_for(
        || socket.exists(),
        &format!("socat on {}", socket.display()),
    );
    server
}

/// How many connections a forwarder accepted so far.
pub fn accepted(server: &Server) -> usize {
    server.log_text().matches("accepting connection").count()
}

fn wait_for(mut ready: impl FnMut() -> bool, what: &str) {
    let started = Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < START_LIMIT,
            "{what} did not start within {START_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An OpenSSH server on a free loopback port that lets the current user in with a temporary key, and the
/// client side: a directory to put first on `PATH` whose `ssh` uses only a temporary configuration.
pub struct SshServer {
    pub server: Server,
    pub port: u16,
    pub user: String,
    /// Holds the keys, the configurations and the `ssh` wrapper.
    pub dir: tempfile::TempDir,
}

impl SshServer {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dz-sshd-")
            .tempdir()
            .expect("a temporary directory");
        let path = |name: &str| dir.path().join(name);
        for key in ["host_key", "client_key"] {
            let mut keygen = Command::new("ssh-keygen");
            keygen
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(path(key));
            let out = run_limited(&mut keygen, DOCKER_LIMIT).unwrap_or_else(|why| panic!("{why}"));
            out.assert_success("ssh-keygen");
        }
        std::fs::copy(path("client_key.pub"), path("authorized_keys")).expect("authorized_keys");
        let port = free_port();
        let user = current_user();
        let sshd_config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {host_key}\nAuthorizedKeysFile {keys}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
             UsePAM no\nStrictModes no\nPidFile none\nAllowUsers {user}\n",
            host_key = path("host_key").display(),
            keys = path("authorized_keys").display(),
        );
        std::fs::write(path("sshd_config"), sshd_config).expect("sshd_config");
        let host_key = std::fs::read_to_string(path("host_key.pub")).expect("host_key.pub");
        std::fs::write(
            path("known_hosts"),
            format!("[127.0.0.1]:{port} {host_key}"),
        )
        .expect("known_hosts");
        let ssh_config = format!(
            "Host *\n  IdentityFile {key}\n  IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  \
             GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
            key = path("client_key").display(),
            known = path("known_hosts").display(),
        );
        std::fs::write(path("ssh_config"), ssh_config).expect("ssh_config");
        let bin = path("bin");
        std::fs::create_dir(&bin).expect("bin");
        let wrapper = bin.join("ssh");
        let ssh =
            which("ssh").expect("an `ssh` client (Debian's openssh-client; .ci/run installs it)");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec {} -F {} \"$@\"\n",
                ssh.display(),
                path("ssh_config").display()
            ),
        )
        .expect("the ssh wrapper");
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        // sshd run as root wants its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let sshd = which("sshd")
            .or_else(|| Some(PathBuf::from("/usr/sbin/sshd")).filter(|p| p.exists()))
            .expect("an OpenSSH server (Debian's openssh-server; .ci/run installs it)");
        let log = path("sshd.log");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(path("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("the sshd log"))
            .spawn()
            .expect("start sshd");
        let server = Server { child, log };
        wait_for(
            || TcpStream::connect(("127.0.0.1", port)).is_ok(),
            &format!("sshd on port {port}"),
        );
        Self {
            server,
            port,
            user,
            dir,
        }
    }

    /// `ssh://<user>@127.0.0.1:<port>`.
    pub fn docker_host(&self) -> String {
        format!("ssh://{}@127.0.0.1:{}", self.user, self.port)
    }

    /// Puts the `ssh` wrapper first on `command`'s `PATH`.
    pub fn apply(&self, command: &mut Command) {
        let path = std::env::var("PATH").unwrap_or_default();
        command.env(
            "PATH",
            format!("{}:{path}", self.dir.path().join("bin").display()),
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn current_user() -> String {
    let mut command = Command::new("id");
    command.arg("-un");
    let out = run_limited(&mut command, DOCKER_LIMIT).unwrap_or_else(|why| panic!("{why}"));
    out.stdout.trim().to_string()
}

/// A program on `PATH`, or in the sbin directories a non-root `PATH` may lack.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file());
    found
}

/// A TLS endpoint in front of the test engine: `socat OPENSSL-LISTEN` on a free loopback port with a server
/// certificate for `127.0.0.1` from a temporary CA, whose `ca.pem`, `cert.pem` and `key.pem` (a client
/// certificate of the same CA) sit in `certs`, as `DOCKER_CERT_PATH` lays them out; `foreign` holds the same
/// three files from another CA. socat 1.7 does not check client certificates here (with `verify=1` its OpenSSL
/// server fails TLS 1.3 handshakes: "session id context uninitialized"), so these tests check that the client
/// verifies the engine, and that the files are sent.
pub struct TlsForwarder {
    pub server: Server,
    pub port: u16,
    pub certs: PathBuf,
    pub foreign: PathBuf,
    pub dir: tempfile::TempDir,
}

impl TlsForwarder {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dz-tls-")
            .tempdir()
            .expect("a temporary directory");
        let certs = dir.path().join("certs");
        let foreign = dir.path().join("foreign");
        let server_dir = dir.path().join("server");
        for d in [&certs, &foreign, &server_dir] {
            std::fs::create_dir(d).expect("a certificate directory");
        }
        certificate_authority(&certs);
        certificate_authority(&foreign);
        for d in [&certs, &foreign] {
            sign(
                d,
                &d.join("cert.pem"),
                &d.join("key.pem"),
                "client",
                "extendedKeyUsage=clientAuth",
            );
        }
        let server_cert = server_dir.join("server.pem");
        let server_key = server_dir.join("server-key.pem");
        sign(
            &certs,
            &server_cert,
            &server_key,
            "127.0.0.1",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth",
        );
        let port = free_port();
        let log = dir.path().join("socat.log");
        let child = Command::new("socat")
            .args(["-d", "-d"])
            .arg(format!(
                "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
                server_cert.display(),
                server_key.display()
            ))
            .arg(format!("UNIX-CONNECT:{}", engine_socket().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("the socat log"))
            .spawn()
            .expect("start socat (Debian's `socat`; .ci/run installs it)");
        let server = Server { child, log };
        wait_for(
            || server.log_text().contains("listening on"),
            &format!("socat TLS on port {port}"),
        );
        Self {
            server,
            port,
            certs,
            foreign,
            dir,
        }
    }

    /// `tcp://127.0.0.1:<port>`.
    pub fn docker_host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

fn openssl(args: &[&str]) {
    let mut command = Command::new("openssl");
    command.args(args);
    let out = run_limited(&mut command, DOCKER_LIMIT).unwrap_or_else(|why| panic!("{why}"));
    out.assert_success(&format!("openssl {}", args.join(" ")));
}

/// `ca.pem` and `ca-key.pem` in `dir`: a P-256 CA certificate valid for two days.
fn certificate_authority(dir: &Path) {
    let ca = dir.join("ca.pem");
    let key = dir.join("ca-key.pem");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &key.display().to_string(),
        "-out",
        &ca.display().to_string(),
        "-days",
        "2",
        "-subj",
        "/CN=cargo-dockerize test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
}

/// A certificate for `subject` signed by the CA in `ca_dir`, with the extensions `extensions` (one a line).
fn sign(ca_dir: &Path, cert: &Path, key: &Path, subject: &str, extensions: &str) {
    let csr = cert.with_extension("csr");
    let ext = cert.with_extension("ext");
    std::fs::write(&ext, format!("{extensions}\nbasicConstraints=CA:FALSE\n")).expect("extensions");
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &key.display().to_string(),
        "-out",
        &csr.display().to_string(),
        "-subj",
        &format!("/CN={subject}"),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr.display().to_string(),
        "-CA",
        &ca_dir.join("ca.pem").display().to_string(),
        "-CAkey",
        &ca_dir.join("ca-key.pem").display().to_string(),
        "-CAcreateserial",
        "-out",
        &cert.display().to_string(),
        "-days",
        "2",
        "-extfile",
        &ext.display().to_string(),
    ]);
}
