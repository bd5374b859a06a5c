//! A real registry for push tests: Debian's `docker-registry` (distribution v2) on a free 127.0.0.1 port, with a
//! temporary config and storage, with or without htpasswd auth; a `DOCKER_CONFIG` directory holding its
//! credentials; and a proxy in front of it that goes away mid-push.
//!
//! The engine pushes to loopback registries over plain HTTP (127.0.0.0/8 is insecure by default). Every process
//! started here is killed when its guard drops, also when the test fails.

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::docker::docker;
use super::engine::engine_lock;
use super::process::run;

pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// What the registry tests miss here (`docker-registry` or `htpasswd`), or `None`.
pub fn missing_tools() -> Option<String> {
    for tool in [REGISTRY_BIN, "/usr/bin/htpasswd"] {
        if !Path::new(tool).exists() {
            return Some(format!(
                "`{tool}` is missing (apt-get install docker-registry apache2-utils)"
            ));
        }
    }
    None
}

/// The engine lock for a test that needs a registry as well: panics, naming the packages to install, when
/// `docker-registry` or `htpasswd` is missing (engine tests never skip).
pub fn registry_lock() -> std::sync::MutexGuard<'static, ()> {
    let guard = engine_lock();
    if let Some(why) = missing_tools() {
        panic!("this engine test cannot run: {why}");
    }
    guard
}

/// Image references a test created, removed (if they exist) when it ends, failing or not.
pub struct Refs(pub Vec<String>);

impl Drop for Refs {
    fn drop(&mut self) {
        for reference in &self.0 {
            let _ = docker(&["rmi", "-f", reference]);
        }
    }
}

/// A running registry; killed on drop.
pub struct Registry {
    /// `127.0.0.1:<port>`
    pub host: String,
    /// `user`/`password` when started with auth.
    pub login: Option<(String, String)>,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

/// A free port on 127.0.0.1 (the listener is closed before the port is used; a race is unlikely on loopback).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

impl Registry {
    /// Starts a registry; with `auth`, htpasswd auth for user `dz` with a fixed password.
    pub fn start(auth: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("dockerize-registry-")
            .tempdir()
            .expect("create a temporary directory");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        let login = auth.then(|| ("dz".to_string(), "s3cret-dz".to_string()));
        if let Some((user, password)) = &login {
            let mut htpasswd = Command::new("htpasswd");
            htpasswd.args(["-Bbn", user, password]);
            let out = run(&mut htpasswd);
            out.assert_success("htpasswd -Bbn");
            let path = dir.path().join("htpasswd");
            std::fs::write(&path, out.stdout.trim()).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: dockerize-test\n    path: {}\n",
                path.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write the registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Self {
            host,
            login,
            child: Some(child),
            dir,
        };
        registry.wait_until_up();
        registry
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&self.host).is_err() {
            assert!(
                Instant::now() < deadline,
                "the registry at {} did not start: {}",
                self.host,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the registry logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Stops it (the port then refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A `DOCKER_CONFIG` directory whose `config.json` logs in to this registry with `password` (the right one
    /// unless a test wants it wrong), in the `auth` (base64) form `docker login` writes.
    pub fn docker_config(&self, password: &str) -> tempfile::TempDir {
        let user = self.login.as_ref().map(|(u, _)| u.as_str()).unwrap_or("dz");
        let dir = tempfile::Builder::new()
            .prefix("dockerize-docker-config-")
            .tempdir()
            .expect("create a temporary directory");
        let auth = base64(format!("{user}:{password}").as_bytes());
        let json = format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, self.host);
        std::fs::write(dir.path().join("config.json"), json).expect("write config.json");
        dir
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Standard base64 with padding, for `config.json`'s `auth`.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A TCP proxy on a free 127.0.0.1 port in front of a registry, that goes away after `limit` bytes came from
/// the engine: it cuts every open connection and stops listening, as a registry that dies mid-push.
pub struct VanishingProxy {
    pub host: String,
    gone: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl VanishingProxy {
    pub fn start(upstream: &str, limit: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let host = listener.local_addr().expect("proxy address").to_string();
        listener.set_nonblocking(true).expect("nonblocking accept");
        let gone = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicUsize::new(0));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let upstream = upstream.to_string();
        let thread = {
            let gone = gone.clone();
            std::thread::spawn(move || {
                while !gone.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let _ = client.set_nonblocking(false);
                            let Ok(server) = TcpStream::connect(&upstream) else {
                                continue;
                            };
                            for stream in [&client, &server] {
                                if let Ok(clone) = stream.try_clone() {
                                    open.lock().unwrap().push(clone);
                                }
                            }
                            let counted = (sent.clone(), gone.clone(), open.clone(), limit);
                            pipe(
                                client.try_clone().unwrap(),
                                server.try_clone().unwrap(),
                                Some(counted),
                            );
                            pipe(server, client, None);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
                for stream in open.lock().unwrap().drain(..) {
                    let _ = stream.shutdown(Shutdown::Both);
                }
                // The listener drops here: the port refuses connections from now on.
            })
        };
        Self {
            host,
            gone,
            thread: Some(thread),
        }
    }

    /// Whether the proxy cut the connections.
    pub fn is_gone(&self) -> bool {
        self.gone.load(Ordering::SeqCst)
    }
}

type Counted = (
    Arc<AtomicUsize>,
    Arc<AtomicBool>,
    Arc<Mutex<Vec<TcpStream>>>,
    usize,
);

/// Copies `from` to `to` on a thread; with `counted`, adds the bytes to the total and, past the limit, marks
/// the proxy gone and cuts every connection.
fn pipe(mut from: TcpStream, mut to: TcpStream, counted: Option<Counted>) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some((sent, gone, open, limit)) = &counted {
                if sent.fetch_add(n, Ordering::SeqCst) + n > *limit {
                    gone.store(true, Ordering::SeqCst);
                    for stream in open.lock().unwrap().iter() {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                    break;
                }
            }
            if to.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

impl Drop for VanishingProxy {
    fn drop(&mut self) {
        self.gone.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
