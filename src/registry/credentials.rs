//! Registry credentials, found as the Docker CLI finds them, for the engine's `X-Registry-Auth` and
//! `X-Registry-Config` headers and for the registry client.
//!
//! Takes a registry host; gives the credentials for it, or none (an anonymous push, which a registry without
//! auth accepts). The file is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; the `docker_credential`
//! crate reads its `credHelpers` (per host), `auths` (`auth` as base64 `user:password`, or `username` and
//! `password`, or `identitytoken`) and `credsStore`, in the CLI's order, and speaks the helper protocol
//! (`docker-credential-<name> get`). The glue here: Docker Hub's key (`https://index.docker.io/v1/`, see
//! [`crate::reference::auth_server`]), and a config file that exists but cannot be read is an error, not an
//! anonymous push that fails later with a confusing 401.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use bollard::auth::DockerCredentials;
use docker_credential::{CredentialRetrievalError, DockerCredential};

use crate::engine::RegistryConfig;
use crate::reference;

/// The credentials of every registry a build pushes to, by host, found once before any build (a broken config
/// fails before the builds); a host without any pushes anonymously. Opaque: the secrets leave this module only
/// in the requests the engine and the registries receive.
#[derive(Clone, Default)]
pub struct Credentials(BTreeMap<String, Option<DockerCredentials>>);

impl Credentials {
    /// Looks up each host once.
    pub fn find(hosts: impl IntoIterator<Item = String>) -> Result<Self, AuthError> {
        let mut found = BTreeMap::new();
        for host in hosts {
            if let std::collections::btree_map::Entry::Vacant(entry) = found.entry(host) {
                let credentials = credentials(entry.key())?;
                entry.insert(credentials);
            }
        }
        Ok(Self(found))
    }

    /// The credentials of `host`, when it has some.
    pub(crate) fn get(&self, host: &str) -> Option<&DockerCredentials> {
        self.0.get(host).and_then(Option::as_ref)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets: only which hosts have some.
        f.debug_map()
            .entries(self.0.iter().map(|(host, c)| (host, c.is_some())))
            .finish()
    }
}

/// The engine's `X-Registry-Config` for a build that reads `references` (`--cache-from`): the credentials of
/// each one's registry, under the key the Docker CLI stores them by.
pub fn registry_config(references: &[String]) -> Result<RegistryConfig, AuthError> {
    let mut config = HashMap::new();
    for reference in references {
        let host = reference::registry_host(reference);
        if let Some(found) = credentials(host)? {
            config.insert(reference::auth_server(host), found);
        }
    }
    Ok(RegistryConfig(config))
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("failed to read the credentials for `{registry}` from `{path}`")]
    Config {
        registry: String,
        path: String,
        #[source]
        source: CredentialRetrievalError,
    },
    /// Never the helper's output: what a helper prints on failure may hold a credential (a helper that prints
    /// the secret it could not store, a debug trace), and an error reaches the terminal and CI logs.
    #[error("the credential helper for `{registry}` failed: {reason}")]
    Helper { registry: String, reason: String },
}

impl AuthError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Config { path, .. } => Some(format!(
                "fix the JSON in `{path}` (or point DOCKER_CONFIG at another directory), then `docker login` again"
            )),
            Self::Helper { registry, .. } => Some(format!(
                "check that the credential helper named in config.json is on PATH and logged in: `docker login {registry}`"
            )),
        }
    }
}

/// The Docker CLI's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker")))
        .map(|dir| dir.join("config.json"))
}

/// The credentials for `registry` (a host as [`reference::registry_host`] gives it); `None` when the config has
/// none for it, or there is no config file.
fn credentials(registry: &str) -> Result<Option<DockerCredentials>, AuthError> {
    let server = reference::auth_server(registry);
    let path = config_path();
    let exists = path.as_ref().is_some_and(|p| p.is_file());
    match docker_credential::get_credential(&server) {
        Ok(credential) => Ok(Some(to_engine(credential, &server))),
        Err(
            CredentialRetrievalError::NoCredentialConfigured
            | CredentialRetrievalError::ConfigNotFound,
        ) => Ok(None),
        Err(CredentialRetrievalError::ConfigReadError) if !exists => Ok(None),
        Err(
            source @ (CredentialRetrievalError::ConfigReadError
            | CredentialRetrievalError::CredentialDecodingError
            | CredentialRetrievalError::CredentialMismatchError),
        ) => Err(AuthError::Config {
            registry: registry.to_string(),
            path: path.map(|p| p.display().to_string()).unwrap_or_default(),
            source,
        }),
        Err(source) => Err(AuthError::Helper {
            registry: registry.to_string(),
            reason: helper_failure(&source),
        }),
    }
}

/// Why a credential helper failed, without its output (the library's message quotes the helper's stdout and
/// stderr whole).
fn helper_failure(error: &CredentialRetrievalError) -> String {
    match error {
        CredentialRetrievalError::HelperFailure { helper, .. } => format!(
            "`{}` exited with an error (its output is not shown: it may hold a credential)",
            crate::value::shown(helper)
        ),
        CredentialRetrievalError::HelperCommunicationError => "it could not be run".into(),
        CredentialRetrievalError::MalformedHelperResponse => {
            "its answer is not the JSON a credential helper gives (not shown: it may hold a credential)".into()
        }
        _ => "it gave no usable credential".into(),
    }
}

/// The engine's form: username and password, or an identity token (`<token>` from a helper, `identitytoken`).
fn to_engine(credential: DockerCredential, server: &str) -> DockerCredentials {
    match credential {
        DockerCredential::UsernamePassword(username, password) => DockerCredentials {
            username: Some(username),
            password: Some(password),
            serveraddress: Some(server.to_string()),
            ..Default::default()
        },
        DockerCredential::IdentityToken(token) => DockerCredentials {
            identitytoken: Some(token),
            serveraddress: Some(server.to_string()),
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_helpers_output_is_never_in_the_error() {
        let error = AuthError::Helper {
            registry: "registry.example.com".into(),
            reason: helper_failure(&CredentialRetrievalError::HelperFailure {
                helper: "docker-credential-pass".into(),
                stdout: "{\"Secret\":\"dz-s3cret-out\"}".into(),
                stderr: "token dz-s3cret-err".into(),
            }),
        };
        let mut chain = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        chain.push_str(&error.hint().unwrap_or_default());
        assert!(
            chain.contains("`docker-credential-pass` exited with an error"),
            "{chain}"
        );
        assert!(!chain.contains("dz-s3cret"), "{chain}");
    }

    #[test]
    fn credentials_become_the_engines_form() {
        let pair = to_engine(
            DockerCredential::UsernamePassword("u".into(), "p".into()),
            "https://index.docker.io/v1/",
        );
        assert_eq!(pair.username.as_deref(), Some("u"));
        assert_eq!(pair.password.as_deref(), Some("p"));
        assert_eq!(
            pair.serveraddress.as_deref(),
            Some("https://index.docker.io/v1/")
        );
        let token = to_engine(DockerCredential::IdentityToken("t".into()), "ghcr.io");
        assert_eq!(token.identitytoken.as_deref(), Some("t"));
        assert_eq!(token.username, None);
    }

    #[test]
    fn docker_hub_credentials_are_found_under_the_clis_key() {
        // `docker login` stores Docker Hub under `https://index.docker.io/v1/`; references say `docker.io`.
        let config = r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"},
                          "127.0.0.1:5000": {"username": "a", "password": "b"},
                          "ghcr.io": {"identitytoken": "tok"}}}"#;
        let get = |host: &str| {
            docker_credential::get_credential_from_reader(
                config.as_bytes(),
                &reference::auth_server(host),
            )
        };
        assert_eq!(
            get("docker.io"),
            Ok(DockerCredential::UsernamePassword("u".into(), "p".into()))
        );
        assert_eq!(
            get("127.0.0.1:5000"),
            Ok(DockerCredential::UsernamePassword("a".into(), "b".into()))
        );
        assert_eq!(
            get("ghcr.io"),
            Ok(DockerCredential::IdentityToken("tok".into()))
        );
        assert_eq!(
            get("quay.io"),
            Err(CredentialRetrievalError::NoCredentialConfigured)
        );
    }
}
