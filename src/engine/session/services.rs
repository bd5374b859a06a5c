//! The gRPC services a build session serves the engine: Health (the engine checks it about once a second and drops
//! the session when it fails), Secrets (`RUN --mount=type=secret`), SSH agent forwarding (`RUN --mount=type=ssh`)
//! and registry Auth (the credentials of the registries a build reads, `--cache-from`).
//!
//! Each is a plain struct over the values it serves, so tests call the trait methods directly. Secret values live
//! only here, in memory, for as long as the session does; no message of these services carries one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::pin::Pin;

use bollard::auth::DockerCredentials;
use bollard::grpc::build::health::health_check_response::ServingStatus;
use bollard::grpc::build::health::health_server::Health;
use bollard::grpc::build::health::{
    HealthCheckRequest, HealthCheckResponse, HealthListRequest, HealthListResponse,
};
use bollard::grpc::build::moby::buildkit::secrets::v1::secrets_server::Secrets;
use bollard::grpc::build::moby::buildkit::secrets::v1::{GetSecretRequest, GetSecretResponse};
use bollard::grpc::build::moby::filesync::v1::auth_server::Auth;
use bollard::grpc::build::moby::filesync::v1::{
    CredentialsRequest, CredentialsResponse, FetchTokenRequest, FetchTokenResponse,
    GetTokenAuthorityRequest, GetTokenAuthorityResponse, VerifyTokenAuthorityRequest,
    VerifyTokenAuthorityResponse,
};
use bollard::grpc::build::moby::sshforward::v1::ssh_server::Ssh;
use bollard::grpc::build::moby::sshforward::v1::{
    BytesMessage, CheckAgentRequest, CheckAgentResponse,
};
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;
use tonic::{Request, Response, Status, Streaming};

use super::SecretValue;

/// The ssh id BuildKit asks for when a mount names none (`RUN --mount=type=ssh`).
pub const DEFAULT_SSH_ID: &str = "default";

/// Always serving: the session lives exactly as long as the task that serves it.
pub struct Healthy;

#[tonic::async_trait]
impl Health for Healthy {
    async fn check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        Ok(Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        }))
    }

    async fn list(
        &self,
        _: Request<HealthListRequest>,
    ) -> Result<Response<HealthListResponse>, Status> {
        Err(Status::unimplemented("health list"))
    }

    type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

    async fn watch(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("health watch"))
    }
}

/// Secret id → value, read before the build started.
pub struct SecretStore(pub BTreeMap<String, SecretValue>);

#[tonic::async_trait]
impl Secrets for SecretStore {
    async fn get_secret(
        &self,
        request: Request<GetSecretRequest>,
    ) -> Result<Response<GetSecretResponse>, Status> {
        let id = &request.get_ref().id;
        match self.0.get(id) {
            Some(value) => Ok(Response::new(GetSecretResponse {
                data: value.0.clone(),
            })),
            // NotFound is what BuildKit turns into "secret <id> not found" (and skips for a mount that is not
            // required).
            None => Err(Status::not_found(format!("secret {id} not found"))),
        }
    }
}

/// ssh id → the agent socket it forwards (`default`: the user's `SSH_AUTH_SOCK`, or the agent holding the keys
/// `--ssh-key` names).
pub struct Agents(pub BTreeMap<String, PathBuf>);

impl Agents {
    fn socket(&self, id: &str) -> Result<&PathBuf, Status> {
        let id = if id.is_empty() { DEFAULT_SSH_ID } else { id };
        self.0
            .get(id)
            .ok_or_else(|| Status::not_found(format!("no ssh agent forwarded for id `{id}`")))
    }

    async fn dial(socket: &PathBuf) -> Result<tokio::net::UnixStream, Status> {
        tokio::net::UnixStream::connect(socket)
            .await
            .map_err(|e| Status::unavailable(format!("ssh agent `{}`: {e}", socket.display())))
    }
}

#[tonic::async_trait]
impl Ssh for Agents {
    /// Dials the agent, as the Docker CLI does when it sets forwarding up: a dead agent fails here, in the step
    /// that mounts it, and not in the middle of a fetch.
    async fn check_agent(
        &self,
        request: Request<CheckAgentRequest>,
    ) -> Result<Response<CheckAgentResponse>, Status> {
        Self::dial(self.socket(&request.get_ref().id)?).await?;
        Ok(Response::new(CheckAgentResponse {}))
    }

    type ForwardAgentStream = Pin<Box<dyn Stream<Item = Result<BytesMessage, Status>> + Send>>;

    /// One agent connection per call, bytes piped both ways as the Docker CLI's provider does (parsing the agent
    /// protocol would refuse messages it does not know). The ssh id comes in the `buildkit.ssh.id` metadata.
    async fn forward_agent(
        &self,
        request: Request<Streaming<BytesMessage>>,
    ) -> Result<Response<Self::ForwardAgentStream>, Status> {
        let id = request
            .metadata()
            .get("buildkit.ssh.id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(DEFAULT_SSH_ID)
            .to_string();
        let agent = Self::dial(self.socket(&id)?).await?;
        let (read, mut write) = agent.into_split();
        let mut inbound = request.into_inner();
        tokio::spawn(async move {
            while let Some(Ok(message)) = inbound.next().await {
                if write.write_all(&message.data).await.is_err() {
                    break;
                }
            }
            let _ = write.shutdown().await;
        });
        let outbound = tokio_util::io::ReaderStream::new(read).map(|chunk| {
            chunk
                .map(|data| BytesMessage {
                    data: data.to_vec(),
                })
                .map_err(|e| Status::unavailable(format!("ssh agent: {e}")))
        });
        Ok(Response::new(Box::pin(outbound)))
    }
}

/// Registry credentials by the key the Docker CLI stores them under, as the engine's `X-Registry-Config` carried
/// them before builds had a session of ours. `FetchToken` is left to BuildKit, which then fetches the token itself
/// with these credentials.
pub struct Registries(pub std::collections::HashMap<String, DockerCredentials>);

/// The key the Docker CLI keeps Docker Hub's credentials under; BuildKit asks for the registry's own host.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
const DOCKER_HUB_HOSTS: &[&str] = &["registry-1.docker.io", "docker.io", "index.docker.io"];

impl Registries {
    /// The credentials for `host`, as BuildKit names it: a user and password, an identity token (no user), or
    /// nothing (anonymous).
    pub fn answer(&self, host: &str) -> CredentialsResponse {
        let key = if DOCKER_HUB_HOSTS.contains(&host) {
            DOCKER_HUB_KEY
        } else {
            host
        };
        let found = self.0.get(key).or_else(|| self.0.get(host));
        match found {
            Some(DockerCredentials {
                identitytoken: Some(token),
                ..
            }) => CredentialsResponse {
                username: String::new(),
                secret: token.clone(),
            },
            Some(credentials) => CredentialsResponse {
                username: credentials.username.clone().unwrap_or_default(),
                secret: credentials.password.clone().unwrap_or_default(),
            },
            None => CredentialsResponse::default(),
        }
    }
}

#[tonic::async_trait]
impl Auth for Registries {
    async fn credentials(
        &self,
        request: Request<CredentialsRequest>,
    ) -> Result<Response<CredentialsResponse>, Status> {
        Ok(Response::new(self.answer(&request.get_ref().host)))
    }

    async fn fetch_token(
        &self,
        _: Request<FetchTokenRequest>,
    ) -> Result<Response<FetchTokenResponse>, Status> {
        Err(Status::unimplemented("fetch_token"))
    }

    async fn get_token_authority(
        &self,
        _: Request<GetTokenAuthorityRequest>,
    ) -> Result<Response<GetTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented("get_token_authority"))
    }

    async fn verify_token_authority(
        &self,
        _: Request<VerifyTokenAuthorityRequest>,
    ) -> Result<Response<VerifyTokenAuthorityResponse>, Status> {
        Err(Status::unimplemented("verify_token_authority"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn secrets_are_served_by_id_and_an_unknown_id_is_not_found() {
        let store = SecretStore(BTreeMap::from([(
            "tok".to_string(),
            SecretValue(b"s3cret".to_vec()),
        )]));
        let found = store
            .get_secret(Request::new(GetSecretRequest {
                id: "tok".into(),
                annotations: Default::default(),
            }))
            .await
            .unwrap();
        assert_eq!(found.get_ref().data, b"s3cret");
        let missing = store
            .get_secret(Request::new(GetSecretRequest {
                id: "other".into(),
                annotations: Default::default(),
            }))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), tonic::Code::NotFound);
        assert!(!format!("{missing:?}").contains("s3cret"));
    }

    #[test]
    fn registry_credentials_follow_the_docker_cli_keys() {
        let credentials = |user: &str, password: &str| DockerCredentials {
            username: Some(user.into()),
            password: Some(password.into()),
            ..Default::default()
        };
        let registries = Registries(std::collections::HashMap::from([
            ("127.0.0.1:5000".to_string(), credentials("u", "p")),
            (DOCKER_HUB_KEY.to_string(), credentials("hub", "hp")),
            (
                "ghcr.io".to_string(),
                DockerCredentials {
                    identitytoken: Some("id-token".into()),
                    ..Default::default()
                },
            ),
        ]));
        let answer = registries.answer("127.0.0.1:5000");
        assert_eq!(
            (answer.username.as_str(), answer.secret.as_str()),
            ("u", "p")
        );
        let hub = registries.answer("registry-1.docker.io");
        assert_eq!((hub.username.as_str(), hub.secret.as_str()), ("hub", "hp"));
        let token = registries.answer("ghcr.io");
        assert_eq!(
            (token.username.as_str(), token.secret.as_str()),
            ("", "id-token")
        );
        assert_eq!(registries.answer("quay.io"), CredentialsResponse::default());
    }

    #[tokio::test]
    async fn the_agent_check_dials_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let agents = Agents(BTreeMap::from([(
            DEFAULT_SSH_ID.to_string(),
            socket.clone(),
        )]));
        let request = || Request::new(CheckAgentRequest { id: String::new() });
        let dead = agents.check_agent(request()).await.unwrap_err();
        assert_eq!(dead.code(), tonic::Code::Unavailable);
        let _listener = tokio::net::UnixListener::bind(&socket).unwrap();
        agents.check_agent(request()).await.unwrap();
        let unknown = agents
            .check_agent(Request::new(CheckAgentRequest {
                id: "deploy".into(),
            }))
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::NotFound);
    }
}
