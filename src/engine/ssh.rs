//! An engine over ssh, reached as the Docker CLI reaches it: every connection is
//! `ssh -o ConnectTimeout=30 -T [-l user] [-p port] -- host docker system dial-stdio`, and the HTTP of the Engine
//! API runs over that process's stdin and stdout.
//!
//! Why not bollard's `ssh` feature (0.21): it hands `user@host:port` to the `openssh` crate in a form that crate
//! reads as a host name (a port in the address is lost), it adds hosts to `~/.ssh/known_hosts` on its own
//! (`StrictHostKeyChecking=accept-new`) and keeps control sockets under `~/.local/state`. Running the system's
//! `ssh` as docker does keeps the user's `~/.ssh/config`, agent, keys and known hosts in charge, and needs on the
//! remote machine exactly what `docker -H ssh://...` needs: a `docker` CLI that has `system dial-stdio`.
//!
//! The connector plugs into hyper's client, which bollard drives through its custom transport; what ssh says on
//! stderr (a refused key, an unknown host) is kept, so that a failed connection can show it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncReadExt as _;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::engine::endpoint::Host;
use crate::text::shell_word;

/// bollard's default timeout for a request (seconds), as for its own transports.
const TIMEOUT: u64 = 120;

/// The arguments of `ssh` for one connection to the engine at `host`, as docker/cli's `connhelper` writes them.
pub fn ssh_args(host: &Host) -> Option<Vec<String>> {
    let Host::Ssh {
        user,
        host,
        port,
        socket,
    } = host
    else {
        return None;
    };
    let mut args: Vec<String> = vec!["-o".into(), "ConnectTimeout=30".into(), "-T".into()];
    if let Some(user) = user {
        args.extend(["-l".into(), user.clone()]);
    }
    if let Some(port) = port {
        args.extend(["-p".into(), port.to_string()]);
    }
    args.extend(["--".into(), host.clone()]);
    // ssh joins the remote command into one line for the remote shell: the socket is quoted for it.
    let remote = match socket {
        Some(socket) => format!(
            "docker {} system dial-stdio",
            shell_word(&format!("--host=unix://{socket}"))
        ),
        None => "docker system dial-stdio".into(),
    };
    args.push(remote);
    Some(args)
}

/// What the ssh processes said on stderr, for the error when the engine does not answer.
#[derive(Clone, Default)]
pub struct SshDiagnostics {
    stderr: Arc<Mutex<Vec<String>>>,
    /// ssh processes started, and those whose stderr has been read to its end.
    counts: Arc<Mutex<(usize, usize)>>,
}

impl SshDiagnostics {
    /// The stderr lines so far, waiting up to two seconds for ssh processes that are ending to finish saying why.
    pub async fn stderr(&self) -> Vec<String> {
        for _ in 0..40 {
            let (started, done) = *self.counts.lock().expect("never poisoned");
            if done >= started {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.stderr.lock().expect("never poisoned").clone()
    }
}

/// Starts one `ssh ... docker system dial-stdio` per connection hyper asks for.
#[derive(Clone)]
struct SshConnector {
    args: Arc<Vec<String>>,
    diagnostics: SshDiagnostics,
}

impl tower_service::Service<hyper::Uri> for SshConnector {
    type Response = SshStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<SshStream>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let args = self.args.clone();
        let diagnostics = self.diagnostics.clone();
        Box::pin(async move { spawn(&args, &diagnostics) })
    }
}

/// Starts one `ssh ... docker system dial-stdio`: a connection to the engine, for a request or a build session.
/// What ssh says on stderr goes to `diagnostics`.
pub(super) fn spawn(args: &[String], diagnostics: &SshDiagnostics) -> io::Result<SshStream> {
    let mut child = Command::new("ssh")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("failed to run `ssh`: {e}")))?;
    let stdin = child.stdin.take().expect("piped stdin");
    let stdout = child.stdout.take().expect("piped stdout");
    if let Some(mut stderr) = child.stderr.take() {
        diagnostics.counts.lock().expect("never poisoned").0 += 1;
        let diagnostics = diagnostics.clone();
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            let lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            diagnostics
                .stderr
                .lock()
                .expect("never poisoned")
                .extend(lines.map(String::from));
            diagnostics.counts.lock().expect("never poisoned").1 += 1;
        });
    }
    Ok(SshStream {
        _child: child,
        stdin: Some(TokioIo::new(stdin)),
        stdout: TokioIo::new(stdout),
    })
}

/// One connection: the ssh process's stdout to read, its stdin to write; dropping it ends the process.
pub(super) struct SshStream {
    _child: Child,
    stdin: Option<TokioIo<ChildStdin>>,
    stdout: TokioIo<ChildStdout>,
}

impl hyper::rt::Read for SshStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stdout).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for SshStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut().stdin.as_mut() {
            Some(stdin) => Pin::new(stdin).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut().stdin.as_mut() {
            Some(stdin) => Pin::new(stdin).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    /// Closes the write half: ssh passes the end of input on, and `dial-stdio` half-closes the engine's socket.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(stdin) = this.stdin.as_mut() {
            std::task::ready!(Pin::new(stdin).poll_shutdown(cx))?;
        }
        this.stdin = None;
        Poll::Ready(Ok(()))
    }
}

impl Connection for SshStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

/// A bollard client whose every connection is an ssh process; the diagnostics collect what ssh says.
pub fn connect(host: &Host) -> Option<(bollard::Docker, SshDiagnostics)> {
    let args = ssh_args(host)?;
    let diagnostics = SshDiagnostics::default();
    let connector = SshConnector {
        args: Arc::new(args),
        diagnostics: diagnostics.clone(),
    };
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector);
    let transport = move |request: bollard::BollardRequest| {
        let client = client.clone();
        async move {
            client
                .request(request)
                .await
                .map_err(bollard::errors::Error::from)
        }
    };
    // The address only fills the requests' URIs; the connector ignores it, as docker's does.
    let docker = bollard::Docker::connect_with_custom_transport(
        transport,
        Some("http://docker.example.com"),
        TIMEOUT,
        bollard::API_DEFAULT_VERSION,
    )
    .expect("a custom transport always connects");
    Some((docker, diagnostics))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(address: &str) -> Vec<String> {
        ssh_args(&Host::parse(address, false).unwrap()).unwrap()
    }

    #[test]
    fn ssh_runs_dial_stdio_as_the_docker_cli_does() {
        assert_eq!(
            args_of("ssh://root@127.0.0.1:2222").join(" "),
            "-o ConnectTimeout=30 -T -l root -p 2222 -- 127.0.0.1 docker system dial-stdio"
        );
        assert_eq!(
            args_of("ssh://build").join(" "),
            "-o ConnectTimeout=30 -T -- build docker system dial-stdio"
        );
        assert_eq!(
            args_of("ssh://build/run/user/1000/docker.sock")
                .last()
                .unwrap(),
            "docker --host=unix:///run/user/1000/docker.sock system dial-stdio"
        );
        assert!(ssh_args(&Host::Tcp {
            address: "h:1".into()
        })
        .is_none());
    }
}
