//! Where the Docker engine is: an [`Endpoint`], decided once and carried as a value.
//!
//! [`super::docker_config`] resolves it the way the Docker CLI does (`--host`, `--context`, `DOCKER_HOST`,
//! `DOCKER_CONTEXT`, the `currentContext` of its `config.json`, else the default socket); the build command
//! carries it; `--dry-run`, `-v`, the summary and every connection error show it; [`super::connect`] connects to
//! it. Here only the values: an engine address parsed as the Docker CLI parses it, and shown without secrets.
//! Pure: no environment, no files.

use std::fmt;

use camino::Utf8PathBuf;
use serde::Serialize;

use crate::source::Source;

/// The engine's socket when nothing names another.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// The context that means "no context": the environment, else the default socket.
pub const DEFAULT_CONTEXT: &str = "default";

/// The engine a build talks to, and why that one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub host: Host,
    pub tls: Tls,
    /// What chose it, in the Docker CLI's order of precedence: `--context` or `--host`, `DOCKER_HOST` or
    /// `DOCKER_CONTEXT`, `currentContext` of its `config.json`, or nothing (the default socket).
    pub source: Source,
    /// The Docker context that named it, when a context did (`default` included).
    pub context: Option<String>,
}

/// An engine address: `unix://`, `tcp://` or `ssh://`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Unix {
        path: Utf8PathBuf,
    },
    /// `host:port`.
    Tcp {
        address: String,
    },
    /// Reached as the Docker CLI does: `ssh [-l user] [-p port] -- host docker system dial-stdio`.
    Ssh {
        user: Option<String>,
        host: String,
        port: Option<u16>,
        /// The engine's socket on the remote machine, when the address names one (`ssh://h/run/docker.sock`).
        socket: Option<String>,
    },
}

/// Whether a `tcp://` engine is reached over TLS, and with which files (`ca.pem`, `cert.pem`, `key.pem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Tls {
    Off,
    Verify {
        ca: Utf8PathBuf,
        cert: Utf8PathBuf,
        key: Utf8PathBuf,
    },
}

/// Where an engine was chosen, for `-v`, `--dry-run`, the summary and errors: `--context`, `DOCKER_HOST`,
/// `` currentContext in `~/.docker/config.json` ``, `default`.
pub fn origin(source: &Source) -> String {
    match source {
        Source::Default => "default".into(),
        Source::Flag(flag) => flag.clone(),
        Source::Env(name) => name.clone(),
        Source::File {
            path,
            key: Some(key),
        } => format!("{key} in `{path}`"),
        other => other.to_string(),
    }
}

impl Endpoint {
    /// The engine at the default socket, chosen by nothing.
    pub fn default_socket() -> Self {
        Self {
            host: Host::Unix {
                path: DEFAULT_SOCKET.into(),
            },
            tls: Tls::Off,
            source: Source::Default,
            context: None,
        }
    }

    /// Where it is and what chose it, in one phrase: `ssh://root@build:22 (context `remote`)`,
    /// `tcp://10.0.0.5:2376 (DOCKER_HOST, TLS)`.
    pub fn describe(&self) -> String {
        let mut notes = Vec::new();
        match (&self.source, &self.context) {
            (Source::Default, _) => {}
            (_, Some(context)) => notes.push(format!("context `{context}`")),
            (source, None) => notes.push(origin(source)),
        }
        if matches!(self.tls, Tls::Verify { .. }) {
            notes.push("TLS".into());
        }
        if notes.is_empty() {
            self.host.to_string()
        } else {
            format!("{} ({})", self.host, notes.join(", "))
        }
    }
}

impl Endpoint {
    /// The long form, for `-v` and `--dry-run`: the address, what chose it, and how it is reached.
    pub fn explain(&self) -> String {
        let chosen = match (&self.source, &self.context) {
            (Source::Default, _) => "default (nothing names another engine)".to_string(),
            (source, Some(context)) => format!("context `{context}` ({})", origin(source)),
            (source, None) => origin(source),
        };
        let via = match (&self.host, &self.tls) {
            (Host::Unix { .. }, _) => "its unix socket".to_string(),
            (Host::Tcp { .. }, Tls::Off) => "plain TCP".to_string(),
            (Host::Tcp { .. }, Tls::Verify { ca, .. }) => format!("TLS, verified with `{ca}`"),
            (Host::Ssh { .. }, _) => "ssh, running `docker system dial-stdio` there".to_string(),
        };
        format!("{}, chosen by {chosen}, over {via}", self.host)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl fmt::Display for Host {
    /// The address as a user writes it; an ssh address never carries a password (parsing refuses one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix { path } => write!(f, "unix://{path}"),
            Self::Tcp { address } => write!(f, "tcp://{address}"),
            Self::Ssh {
                user,
                host,
                port,
                socket,
            } => {
                f.write_str("ssh://")?;
                if let Some(user) = user {
                    write!(f, "{user}@")?;
                }
                f.write_str(host)?;
                if let Some(port) = port {
                    write!(f, ":{port}")?;
                }
                f.write_str(socket.as_deref().unwrap_or(""))
            }
        }
    }
}

impl Serialize for Host {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Host {
    /// Parses an engine address as the Docker CLI does. `tls` gives a `tcp://` address without a port Docker's
    /// TLS port (2376) instead of 2375.
    pub fn parse(text: &str, tls: bool) -> Result<Self, String> {
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(
                "expected `unix://<path>`, `tcp://<host>:<port>` or `ssh://[user@]host[:port]`"
                    .into(),
            );
        };
        match scheme {
            "unix" if rest.is_empty() => Ok(Self::Unix {
                path: DEFAULT_SOCKET.into(),
            }),
            "unix" => Ok(Self::Unix { path: rest.into() }),
            "tcp" => parse_tcp(rest, tls),
            // The Docker CLI refuses both (its `ParseHost`): taken as plain TCP, an `https://` engine would get
            // no TLS at all, and registry credentials would travel in clear.
            "http" | "https" => Err(format!(
                "the scheme `{scheme}://` is not an engine address (the Docker CLI refuses it too): use `tcp://<host>:2376` with `DOCKER_TLS_VERIFY=1` for TLS"
            )),
            "ssh" => parse_ssh(rest),
            other => Err(format!(
                "the scheme `{other}://` is not one of `unix://`, `tcp://`, `ssh://`"
            )),
        }
    }
}

fn parse_tcp(rest: &str, tls: bool) -> Result<Host, String> {
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err("no host after `tcp://`".into());
    }
    let default_port = if tls { 2376 } else { 2375 };
    let address = match authority.rsplit_once(':') {
        // `[::1]:2375` and `host:2375`; a bare IPv6 address stays as written.
        Some((host, port)) if !host.is_empty() && !port.contains(']') => {
            port.parse::<u16>()
                .map_err(|_| format!("`{port}` is not a port number"))?;
            authority.to_string()
        }
        Some(("", port)) => format!("localhost:{port}"),
        _ => format!("{authority}:{default_port}"),
    };
    Ok(Host::Tcp { address })
}

fn parse_ssh(rest: &str) -> Result<Host, String> {
    if rest.contains(['?', '#']) {
        return Err("an ssh address takes no query or fragment".into());
    }
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, _)) if user.contains(':') => {
            return Err(
                "a password in the address is not supported: use an ssh key or agent".into(),
            )
        }
        Some((user, host)) => (Some(user.to_string()), host),
        None => (None, authority),
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("`{port}` is not a port number"))?;
            (host, Some(port))
        }
        _ => (host_port, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("no host after `ssh://`".into());
    }
    let socket = (!path.trim_matches('/').is_empty()).then(|| path.to_string());
    Ok(Host::Ssh {
        user,
        host: host.to_string(),
        port,
        socket,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh(user: Option<&str>, host: &str, port: Option<u16>, socket: Option<&str>) -> Host {
        Host::Ssh {
            user: user.map(String::from),
            host: host.into(),
            port,
            socket: socket.map(String::from),
        }
    }

    #[test]
    fn addresses_parse_as_the_docker_cli_reads_them() {
        assert_eq!(
            Host::parse("unix:///run/user/1000/docker.sock", false).unwrap(),
            Host::Unix {
                path: "/run/user/1000/docker.sock".into()
            }
        );
        assert_eq!(
            Host::parse("tcp://10.0.0.5", false).unwrap().to_string(),
            "tcp://10.0.0.5:2375"
        );
        assert_eq!(
            Host::parse("tcp://10.0.0.5", true).unwrap().to_string(),
            "tcp://10.0.0.5:2376"
        );
        assert_eq!(
            Host::parse("tcp://:2375", false).unwrap().to_string(),
            "tcp://localhost:2375"
        );
        assert_eq!(
            Host::parse("ssh://root@127.0.0.1:2222", false).unwrap(),
            ssh(Some("root"), "127.0.0.1", Some(2222), None)
        );
        assert_eq!(
            Host::parse("ssh://build", false).unwrap(),
            ssh(None, "build", None, None)
        );
        assert_eq!(
            Host::parse("ssh://me@build/run/docker.sock", false).unwrap(),
            ssh(Some("me"), "build", None, Some("/run/docker.sock"))
        );
        assert_eq!(
            Host::parse("ssh://me@[::1]:22", false).unwrap(),
            ssh(Some("me"), "::1", Some(22), None)
        );
    }

    #[test]
    fn bad_addresses_say_why() {
        for (text, why) in [
            ("/var/run/docker.sock", "expected"),
            ("npipe:////./pipe/docker_engine", "`npipe://`"),
            ("ssh://me:secret@build", "password"),
            ("ssh://build:port", "`port` is not a port number"),
            ("ssh://", "no host"),
            ("ssh://build?x=1", "no query"),
            ("tcp://", "no host"),
            ("tcp://h:99999", "not a port number"),
            ("https://build:2376", "`https://` is not an engine address"),
            ("http://build:2375", "`http://` is not an engine address"),
        ] {
            let error = Host::parse(text, false).expect_err(text);
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn addresses_print_as_they_parse() {
        for text in [
            "unix:///var/run/docker.sock",
            "tcp://10.0.0.5:2376",
            "ssh://root@127.0.0.1:2222",
            "ssh://build/run/docker.sock",
        ] {
            assert_eq!(Host::parse(text, false).unwrap().to_string(), text);
        }
    }

    #[test]
    fn the_description_names_the_context_or_what_chose_the_engine() {
        let mut endpoint = Endpoint::default_socket();
        assert_eq!(endpoint.describe(), "unix:///var/run/docker.sock");
        endpoint.host = Host::parse("ssh://root@build:2222", false).unwrap();
        endpoint.source = Source::Env("DOCKER_CONTEXT".into());
        endpoint.context = Some("remote".into());
        assert_eq!(
            endpoint.describe(),
            "ssh://root@build:2222 (context `remote`)"
        );
        endpoint.host = Host::parse("tcp://build", true).unwrap();
        endpoint.source = Source::Env("DOCKER_HOST".into());
        endpoint.context = None;
        endpoint.tls = Tls::Verify {
            ca: "ca.pem".into(),
            cert: "cert.pem".into(),
            key: "key.pem".into(),
        };
        assert_eq!(endpoint.describe(), "tcp://build:2376 (DOCKER_HOST, TLS)");
    }
}
