//! Which engine to build on, chosen as the Docker CLI chooses: the one [`Endpoint`] of a build.
//!
//! Takes the `--host`/`--context` flags and a snapshot of the environment ([`DockerEnv`]) and gives an
//! [`Endpoint`], reading the Docker CLI's own files: `config.json` for `currentContext`, and the context store
//! (`contexts/meta/<sha256 of the name>/meta.json`, TLS files under `contexts/tls/<same>/docker/`), both under
//! `$DOCKER_CONFIG`, else `~/.docker`. The precedence is docker/cli's `resolveContextName`: `--context` (docker
//! refuses it together with `--host`; so does clap here), then `--host`, then `DOCKER_HOST`, then
//! `DOCKER_CONTEXT`, then `currentContext`, else the default context: `DOCKER_HOST`, else the default socket.
//! The context named `default` is that last case wherever it is named. Reads files; contacts nothing.

use std::path::PathBuf;

use camino::{Utf8Path, Utf8PathBuf};
use sha2::{Digest as _, Sha256};

use crate::engine::endpoint::{origin, Endpoint, Host, Tls, DEFAULT_CONTEXT, DEFAULT_SOCKET};
use crate::source::Source;

/// What the command line asked for: `--host` and `--context`.
#[derive(Debug, Clone, Default)]
pub struct EngineRequest {
    pub host: Option<String>,
    pub context: Option<String>,
}

/// The environment the Docker CLI reads, taken once so that resolving is a function of its inputs.
#[derive(Debug, Clone, Default)]
pub struct DockerEnv {
    /// `DOCKER_HOST`, when set and not empty.
    pub host: Option<String>,
    /// `DOCKER_CONTEXT`, when set and not empty.
    pub context: Option<String>,
    /// `DOCKER_TLS_VERIFY` is set and not empty.
    pub tls_verify: bool,
    /// `DOCKER_TLS` is set and not empty (TLS without verification).
    pub tls: bool,
    /// `DOCKER_CERT_PATH`, else the configuration directory.
    pub cert_path: Utf8PathBuf,
    /// `DOCKER_CONFIG`, else `~/.docker`.
    pub config_dir: Utf8PathBuf,
}

impl DockerEnv {
    /// The process's environment, read as the Docker CLI reads it (an empty variable counts as unset).
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let home = var("HOME").unwrap_or_else(|| "/".into());
        let config_dir: Utf8PathBuf = var("DOCKER_CONFIG")
            .map(Into::into)
            .unwrap_or_else(|| Utf8Path::new(&home).join(".docker"));
        Self {
            host: var("DOCKER_HOST"),
            context: var("DOCKER_CONTEXT"),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some(),
            tls: var("DOCKER_TLS").is_some(),
            cert_path: var("DOCKER_CERT_PATH")
                .map(Into::into)
                .unwrap_or_else(|| config_dir.clone()),
            config_dir,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("Docker context `{context}` (from {origin}) does not exist")]
    UnknownContext {
        context: String,
        origin: String,
        /// Every context of the store, `default` first.
        known: Vec<String>,
        store: Utf8PathBuf,
    },
    #[error("failed to read Docker context `{context}` at `{path}`")]
    ContextUnreadable {
        context: String,
        path: Utf8PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "Docker context `{context}` has no docker endpoint (`Endpoints.docker.Host` in `{path}`)"
    )]
    ContextWithoutEngine { context: String, path: Utf8PathBuf },
    #[error("failed to read the Docker CLI configuration `{path}`")]
    ConfigUnreadable {
        path: Utf8PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("invalid engine address `{host}` (from {origin}): {reason}")]
    InvalidHost {
        host: String,
        origin: String,
        reason: String,
    },
    #[error(
        "TLS without certificate verification is not supported (engine `{host}`, from {origin})"
    )]
    SkipVerify { host: String, origin: String },
}

impl EndpointError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Self::UnknownContext { known, store, .. } => format!(
                "known contexts: {} (in `{store}`); `docker context ls` lists them, `docker context create <name> --docker host=<address>` adds one",
                known.join(", ")
            ),
            Self::ContextUnreadable { context, .. } => {
                format!("`docker context inspect {context}` shows what the Docker CLI reads there")
            }
            Self::ContextWithoutEngine { context, .. } => format!(
                "`docker context update {context} --docker host=<address>` gives it an engine"
            ),
            Self::ConfigUnreadable { .. } => {
                "fix the file's JSON, or point DOCKER_CONFIG at another directory".into()
            }
            Self::InvalidHost { .. } => {
                "write it as `unix:///var/run/docker.sock`, `tcp://<host>:<port>` or `ssh://[user@]host[:port]`".into()
            }
            Self::SkipVerify { .. } => {
                "set DOCKER_TLS_VERIFY=1 with the engine's CA in DOCKER_CERT_PATH (or the context's TLS files), or reach the engine over ssh://".into()
            }
        })
    }
}

/// The engine of this build, chosen as the Docker CLI chooses it.
pub fn resolve(request: &EngineRequest, env: &DockerEnv) -> Result<Endpoint, EndpointError> {
    if let Some(context) = &request.context {
        return from_context(context, Source::Flag("--context".into()), env);
    }
    if let Some(host) = &request.host {
        return from_env_tls(host, Source::Flag("--host".into()), None, env);
    }
    if let Some(host) = &env.host {
        return from_env_tls(host, Source::Env("DOCKER_HOST".into()), None, env);
    }
    if let Some(context) = &env.context {
        return from_context(context, Source::Env("DOCKER_CONTEXT".into()), env);
    }
    if let Some((context, config)) = current_context(&env.config_dir)? {
        let source = Source::File {
            path: config,
            key: Some("currentContext".into()),
        };
        return from_context(&context, source, env);
    }
    Ok(Endpoint::default_socket())
}

/// An address given by `--host` or `DOCKER_HOST`, with TLS as `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` say.
fn from_env_tls(
    host: &str,
    source: Source,
    context: Option<String>,
    env: &DockerEnv,
) -> Result<Endpoint, EndpointError> {
    let origin = origin(&source);
    let parsed = Host::parse(host, env.tls || env.tls_verify).map_err(|reason| {
        EndpointError::InvalidHost {
            host: host.to_string(),
            origin: origin.clone(),
            reason,
        }
    })?;
    let tls = match (&parsed, env.tls_verify, env.tls) {
        (Host::Tcp { .. }, true, _) => tls_files(&env.cert_path),
        (Host::Tcp { .. }, false, true) => {
            return Err(EndpointError::SkipVerify {
                host: host.to_string(),
                origin,
            })
        }
        _ => Tls::Off,
    };
    Ok(Endpoint {
        host: parsed,
        tls,
        source,
        context,
    })
}

fn tls_files(dir: &Utf8Path) -> Tls {
    Tls::Verify {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

/// The endpoint of the context `name`, named at `source`; `default` is the environment's engine, else the
/// default socket.
fn from_context(name: &str, source: Source, env: &DockerEnv) -> Result<Endpoint, EndpointError> {
    let context = Some(name.to_string());
    if name == DEFAULT_CONTEXT {
        return match &env.host {
            Some(host) => from_env_tls(host, source, context, env),
            None => Ok(Endpoint {
                host: Host::Unix {
                    path: DEFAULT_SOCKET.into(),
                },
                tls: Tls::Off,
                source,
                context,
            }),
        };
    }
    let store = env.config_dir.join("contexts");
    let id = context_id(name);
    let path = store.join("meta").join(&id).join("meta.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(EndpointError::UnknownContext {
                context: name.to_string(),
                origin: origin(&source),
                known: known_contexts(&store),
                store,
            })
        }
        Err(error) => return Err(unreadable(name, &path, error)),
    };
    let meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| unreadable(name, &path, e))?;
    let docker = &meta["Endpoints"]["docker"];
    let Some(host) = docker["Host"].as_str().filter(|h| !h.is_empty()) else {
        return Err(EndpointError::ContextWithoutEngine {
            context: name.to_string(),
            path,
        });
    };
    let origin = format!("context `{name}`");
    let tls_dir = store.join("tls").join(&id).join("docker");
    let has_tls = tls_dir.join("ca.pem").is_file();
    let parsed = Host::parse(host, has_tls).map_err(|reason| EndpointError::InvalidHost {
        host: host.to_string(),
        origin: origin.clone(),
        reason,
    })?;
    let skip_verify = docker["SkipTLSVerify"].as_bool().unwrap_or(false);
    let tls = match (&parsed, has_tls, skip_verify) {
        (Host::Tcp { .. }, _, true) => {
            return Err(EndpointError::SkipVerify {
                host: host.to_string(),
                origin,
            })
        }
        (Host::Tcp { .. }, true, false) => tls_files(&tls_dir),
        _ => Tls::Off,
    };
    Ok(Endpoint {
        host: parsed,
        tls,
        source,
        context,
    })
}

fn unreadable(
    context: &str,
    path: &Utf8Path,
    error: impl std::error::Error + Send + Sync + 'static,
) -> EndpointError {
    EndpointError::ContextUnreadable {
        context: context.to_string(),
        path: path.to_path_buf(),
        source: Box::new(error),
    }
}

/// The directory name of a context in the store: the hex SHA-256 of its name (docker/cli's `contextdirOf`).
pub fn context_id(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `currentContext` of `config.json` in `config_dir`, with the file's path; `None` when the file or the key is
/// missing or empty.
fn current_context(config_dir: &Utf8Path) -> Result<Option<(String, Utf8PathBuf)>, EndpointError> {
    let path = config_dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(EndpointError::ConfigUnreadable {
                path,
                source: Box::new(error),
            })
        }
    };
    let config: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| EndpointError::ConfigUnreadable {
            path: path.clone(),
            source: Box::new(e),
        })?;
    Ok(config["currentContext"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(|c| (c.to_string(), path)))
}

/// The names of the store's contexts, sorted, after `default` (which every Docker CLI has).
fn known_contexts(store: &Utf8Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.join("meta"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let meta: PathBuf = entry.path().join("meta.json");
            let text = std::fs::read_to_string(meta).ok()?;
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            value["Name"].as_str().map(String::from)
        })
        .collect();
    names.sort();
    names.insert(0, DEFAULT_CONTEXT.into());
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration directory with contexts, as `docker context create` lays them out.
    struct Store {
        dir: tempfile::TempDir,
    }

    impl Store {
        fn new() -> Self {
            Self {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn root(&self) -> Utf8PathBuf {
            Utf8PathBuf::from_path_buf(self.dir.path().to_path_buf()).unwrap()
        }

        fn context(&self, name: &str, host: &str, skip_verify: bool) -> &Self {
            let dir = self.root().join("contexts/meta").join(context_id(name));
            std::fs::create_dir_all(&dir).unwrap();
            let meta = serde_json::json!({
                "Name": name,
                "Metadata": {},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
            });
            std::fs::write(dir.join("meta.json"), meta.to_string()).unwrap();
            self
        }

        fn tls(&self, name: &str) {
            let dir = self
                .root()
                .join("contexts/tls")
                .join(context_id(name))
                .join("docker");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("ca.pem"), "").unwrap();
        }

        fn current(&self, name: &str) {
            let config = serde_json::json!({"auths": {}, "currentContext": name});
            std::fs::write(self.root().join("config.json"), config.to_string()).unwrap();
        }

        fn env(&self) -> DockerEnv {
            DockerEnv {
                cert_path: self.root().join("certs"),
                config_dir: self.root(),
                ..Default::default()
            }
        }
    }

    fn flags(host: Option<&str>, context: Option<&str>) -> EngineRequest {
        EngineRequest {
            host: host.map(String::from),
            context: context.map(String::from),
        }
    }

    #[test]
    fn the_context_directory_is_the_sha256_of_its_name() {
        // `docker context create remote` writes to this directory.
        assert_eq!(
            context_id("default"),
            "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
        );
    }

    #[test]
    fn precedence_follows_the_docker_cli() {
        let store = Store::new();
        store
            .context("flag", "unix:///flag.sock", false)
            .context("env", "unix:///env.sock", false)
            .context("current", "ssh://me@current", false);
        store.current("current");
        let mut env = store.env();
        let host = |request: &EngineRequest, env: &DockerEnv| {
            resolve(request, env).unwrap().host.to_string()
        };
        assert_eq!(host(&flags(None, None), &env), "ssh://me@current");
        env.context = Some("env".into());
        assert_eq!(host(&flags(None, None), &env), "unix:///env.sock");
        env.host = Some("tcp://docker-host:2375".into());
        assert_eq!(host(&flags(None, None), &env), "tcp://docker-host:2375");
        assert_eq!(
            host(&flags(Some("unix:///h.sock"), None), &env),
            "unix:///h.sock"
        );
        assert_eq!(
            host(&flags(Some("unix:///h.sock"), Some("flag")), &env),
            "unix:///flag.sock"
        );
        let endpoint = resolve(&flags(None, Some("flag")), &env).unwrap();
        assert_eq!(endpoint.context.as_deref(), Some("flag"));
        assert_eq!(endpoint.describe(), "unix:///flag.sock (context `flag`)");
    }

    #[test]
    fn the_default_context_is_the_environment_or_the_socket() {
        let store = Store::new();
        store.current("default");
        let mut env = store.env();
        assert_eq!(
            resolve(&flags(None, None), &env).unwrap().host.to_string(),
            "unix:///var/run/docker.sock"
        );
        env.host = Some("unix:///other.sock".into());
        let endpoint = resolve(&flags(None, Some("default")), &env).unwrap();
        assert_eq!(endpoint.host.to_string(), "unix:///other.sock");
        assert_eq!(endpoint.context.as_deref(), Some("default"));
    }

    #[test]
    fn nothing_configured_is_the_default_socket() {
        let store = Store::new();
        assert_eq!(
            resolve(&flags(None, None), &store.env()).unwrap(),
            Endpoint::default_socket()
        );
    }

    #[test]
    fn an_unknown_context_lists_the_known_ones() {
        let store = Store::new();
        store
            .context("zeta", "unix:///z.sock", false)
            .context("alpha", "unix:///a.sock", false);
        let mut env = store.env();
        env.context = Some("nope".into());
        let error = resolve(&flags(None, None), &env).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Docker context `nope` (from DOCKER_CONTEXT) does not exist"
        );
        let hint = error.hint().unwrap();
        assert!(
            hint.starts_with("known contexts: default, alpha, zeta"),
            "{hint}"
        );
    }

    #[test]
    fn tls_comes_from_the_environment_or_the_context_store() {
        let store = Store::new();
        store.context("secure", "tcp://build:2376", false);
        store.tls("secure");
        store.context("insecure", "tcp://build:2376", true);
        let mut env = store.env();
        let endpoint = resolve(&flags(None, Some("secure")), &env).unwrap();
        let dir = store
            .root()
            .join("contexts/tls")
            .join(context_id("secure"))
            .join("docker");
        assert_eq!(endpoint.tls, tls_files(&dir));
        let error = resolve(&flags(None, Some("insecure")), &env).unwrap_err();
        assert!(matches!(error, EndpointError::SkipVerify { .. }), "{error}");

        env.host = Some("tcp://build".into());
        env.tls_verify = true;
        let endpoint = resolve(&flags(None, None), &env).unwrap();
        assert_eq!(endpoint.host.to_string(), "tcp://build:2376");
        assert_eq!(endpoint.tls, tls_files(&store.root().join("certs")));
        env.tls_verify = false;
        env.tls = true;
        assert!(resolve(&flags(None, None), &env).is_err());
    }

    #[test]
    fn broken_files_name_themselves() {
        let store = Store::new();
        std::fs::write(store.root().join("config.json"), "{").unwrap();
        let error = resolve(&flags(None, None), &store.env()).unwrap_err();
        assert!(error.to_string().contains("config.json"), "{error}");
        store.context("bare", "", false);
        let error = resolve(&flags(None, Some("bare")), &store.env()).unwrap_err();
        assert!(
            matches!(error, EndpointError::ContextWithoutEngine { .. }),
            "{error}"
        );
        let mut env = store.env();
        env.host = Some("docker.sock".into());
        let error = resolve(&flags(None, None), &env).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("invalid engine address `docker.sock` (from DOCKER_HOST)"),
            "{error}"
        );
    }
}
