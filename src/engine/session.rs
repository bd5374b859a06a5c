//! The BuildKit session of a run: the client side of BuildKit that the engine calls back into while it builds, for
//! secrets (`RUN --mount=type=secret`), ssh agents (`RUN --mount=type=ssh`) and registry credentials.
//!
//! Why our own and not bollard's (0.21): `build_image` opens a session for every BuildKit build, but it serves
//! registry credentials only; bollard's `grpc` driver serves secrets and ssh but drives the build through `/grpc`
//! Solve, which gives neither progress nor the image id. So we open the session ourselves and the build stays the
//! plain `POST /build` it always was, naming the session ([`super::request`] explains the `version` detour).
//!
//! The wire, verified on Docker Engine 20.10 (BuildKit 0.8) and 26.1 (BuildKit 0.13): `POST /v<api>/session` with
//! `Upgrade: h2c` and `X-Docker-Expose-Session-*` headers naming the session and every gRPC method it serves; the
//! engine answers 101, then acts as the gRPC *client* on that connection (HTTP/2, prior knowledge) and we serve.
//! BuildKit calls only the methods a session announces. One session serves every build of a run, concurrent ones
//! included; dropping [`Session`] ends it, after the builds that use it were dropped (Ctrl-C) or finished.

mod dial;
pub mod services;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use bollard::auth::DockerCredentials;
use bollard::grpc::build::health::health_server::HealthServer;
use bollard::grpc::build::moby::buildkit::secrets::v1::secrets_server::SecretsServer;
use bollard::grpc::build::moby::filesync::v1::auth_server::AuthServer;
use bollard::grpc::build::moby::sshforward::v1::ssh_server::SshServer;
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioExecutor;
use tonic::server::NamedService;

use super::Engine;
use services::{Agents, Healthy, Registries, SecretStore};

/// A secret's bytes. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(pub Vec<u8>);

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes, redacted>", self.0.len())
    }
}

/// What the session serves, every value read before anything was sent to the engine.
#[derive(Clone, Default)]
pub struct SessionSources {
    /// Secret id → value.
    pub secrets: BTreeMap<String, SecretValue>,
    /// ssh id → the agent socket it forwards.
    pub agents: BTreeMap<String, PathBuf>,
    /// Credentials of the registries the builds read (`--cache-from`), by the Docker CLI's keys.
    pub registries: HashMap<String, DockerCredentials>,
}

impl std::fmt::Debug for SessionSources {
    /// Which secrets, agents and registries: never a value, a socket's credentials or a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut registries: Vec<&String> = self.registries.keys().collect();
        registries.sort();
        f.debug_struct("SessionSources")
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("agents", &self.agents)
            .field("registries", &registries)
            .finish()
    }
}

/// An open session: builds name it by [`Session::id`]. Dropping it ends the session.
pub struct Session {
    pub id: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why the engine did not take a session.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("failed to connect to the engine: {0}")]
    Connect(#[source] std::io::Error),
    #[error("failed to send `POST /session`: {0}")]
    Request(#[source] hyper::Error),
    #[error("the engine answered `POST /session` with {status}, not a protocol switch{}", detail(.body))]
    Refused {
        status: http::StatusCode,
        body: String,
    },
}

fn detail(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// Opens a session on `engine`, serving `sources`, on a connection of its own.
pub async fn open(engine: &Engine, sources: SessionSources) -> Result<Session, SessionError> {
    let id = new_id();
    let version = engine.docker.client_version();
    let request = upgrade_request(
        &format!("{}.{}", version.major_version, version.minor_version),
        &id,
        &sources,
    );
    let stream = dial::dial(&engine.endpoint)
        .await
        .map_err(SessionError::Connect)?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(stream)
        .await
        .map_err(SessionError::Request)?;
    let connection = tokio::spawn(connection.with_upgrades());
    let response = sender
        .send_request(request)
        .await
        .map_err(SessionError::Request)?;
    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        connection.abort();
        return Err(refused(response).await);
    }
    let upgraded = hyper::upgrade::on(response)
        .await
        .map_err(SessionError::Request)?;
    let routes = routes(sources);
    let serving = hyper::server::conn::http2::Builder::new(TokioExecutor::new()).serve_connection(
        upgraded,
        hyper_util::service::TowerToHyperService::new(routes),
    );
    let task = tokio::spawn(async move {
        let _ = serving.await;
    });
    Ok(Session { id, task })
}

/// The engine's refusal, with what it said (Podman's API, for one, has no `/session`).
async fn refused(response: http::Response<hyper::body::Incoming>) -> SessionError {
    use http_body_util::BodyExt;
    let status = response.status();
    let body = match response.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(_) => String::new(),
    };
    SessionError::Refused {
        status,
        body: body.chars().take(200).collect(),
    }
}

/// The services of a session: Health and Auth always, Secrets and SSH when there is something to serve.
fn routes(sources: SessionSources) -> tonic::service::Routes {
    let SessionSources {
        secrets,
        agents,
        registries,
    } = sources;
    let mut routes = tonic::service::Routes::new(HealthServer::new(Healthy))
        .add_service(AuthServer::new(Registries(registries)));
    if !secrets.is_empty() {
        routes = routes.add_service(SecretsServer::new(SecretStore(secrets)));
    }
    if !agents.is_empty() {
        routes = routes.add_service(SshServer::new(Agents(agents)));
    }
    routes
}

/// `POST /v<api>/session`, upgrading to h2c, with the headers that name the session and announce its methods.
fn upgrade_request(api: &str, id: &str, sources: &SessionSources) -> http::Request<Empty<Bytes>> {
    let mut request = http::Request::post(format!("/v{api}/session"))
        .header(http::header::HOST, "docker")
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::UPGRADE, "h2c")
        .header("X-Docker-Expose-Session-Uuid", id)
        .header("X-Docker-Expose-Session-Name", "cargo-dockerize")
        .header("X-Docker-Expose-Session-Sharedkey", "");
    for method in methods(sources) {
        request = request.header("X-Docker-Expose-Session-Grpc-Method", method);
    }
    request
        .body(Empty::new())
        .expect("a request of fixed, valid parts")
}

/// The gRPC methods the session serves, as BuildKit expects them announced.
fn methods(sources: &SessionSources) -> Vec<String> {
    let mut names = vec![
        method::<HealthServer<Healthy>>("Check"),
        method::<AuthServer<Registries>>("Credentials"),
    ];
    if !sources.secrets.is_empty() {
        names.push(method::<SecretsServer<SecretStore>>("GetSecret"));
    }
    if !sources.agents.is_empty() {
        names.push(method::<SshServer<Agents>>("CheckAgent"));
        names.push(method::<SshServer<Agents>>("ForwardAgent"));
    }
    names
}

fn method<S: NamedService>(name: &str) -> String {
    format!("/{}/{name}", S::NAME)
}

/// A new session id: 25 base-36 characters, as BuildKit's own, from the system's random source (hashed with the
/// clock and the process id should it be unreadable: an id must be unique, not secret).
fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    let mut n = u128::from_le_bytes(bytes);
    if read.is_err() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        hasher.write_u32(std::process::id());
        n = u128::from(hasher.finish()) << 64 | u128::from(hasher.finish().rotate_left(17));
    }
    (0..25)
        .map(|_| {
            let digit = (n % 36) as u32;
            n /= 36;
            char::from_digit(digit, 36).expect("a base-36 digit")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(request: &http::Request<Empty<Bytes>>, name: &str) -> Vec<String> {
        request
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn the_upgrade_names_the_session_and_only_the_methods_it_serves() {
        let plain = upgrade_request("1.41", "abc", &SessionSources::default());
        assert_eq!(plain.uri(), "/v1.41/session");
        assert_eq!(headers(&plain, "upgrade"), ["h2c"]);
        assert_eq!(headers(&plain, "X-Docker-Expose-Session-Uuid"), ["abc"]);
        assert_eq!(
            headers(&plain, "X-Docker-Expose-Session-Grpc-Method"),
            [
                "/grpc.health.v1.Health/Check",
                "/moby.filesync.v1.Auth/Credentials"
            ]
        );
        let sources = SessionSources {
            secrets: BTreeMap::from([("tok".into(), SecretValue(b"x".to_vec()))]),
            agents: BTreeMap::from([("default".into(), PathBuf::from("/tmp/agent"))]),
            registries: HashMap::new(),
        };
        let full = upgrade_request("1.45", "abc", &sources);
        let methods = headers(&full, "X-Docker-Expose-Session-Grpc-Method");
        assert!(methods.contains(&"/moby.buildkit.secrets.v1.Secrets/GetSecret".to_string()));
        assert!(methods.contains(&"/moby.sshforward.v1.SSH/ForwardAgent".to_string()));
        assert!(methods.contains(&"/moby.sshforward.v1.SSH/CheckAgent".to_string()));
    }

    #[test]
    fn ids_are_25_base_36_characters_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 25);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn secret_values_never_print() {
        let value = SecretValue(b"hunter2".to_vec());
        assert_eq!(format!("{value:?}"), "<7 bytes, redacted>");
        let sources = SessionSources {
            secrets: BTreeMap::from([("tok".into(), value)]),
            registries: HashMap::from([(
                "r.io".to_string(),
                DockerCredentials {
                    password: Some("hunter3".into()),
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        assert!(!format!("{sources:?}").contains("hunter3"));
        assert!(!format!("{sources:?}").contains("hunter2"));
    }
}
