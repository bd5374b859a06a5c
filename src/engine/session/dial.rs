//! One raw connection to the engine, for the session's HTTP upgrade: bollard keeps its own connections to itself
//! (its upgrade is `pub(crate)`), so the session dials the endpoint the same way bollard's transports do — its unix
//! socket, plain TCP, TCP with the endpoint's TLS files, or `ssh ... docker system dial-stdio`.

use std::io;
use std::sync::Arc;

use hyper_util::rt::TokioIo;

use crate::engine::endpoint::{Endpoint, Host, Tls};
use crate::engine::ssh;

/// What hyper's HTTP/1 client needs of a connection.
pub trait Io: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static {}
impl<T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static> Io for T {}

/// Connects to the engine at `endpoint`.
pub async fn dial(endpoint: &Endpoint) -> io::Result<Box<dyn Io>> {
    match (&endpoint.host, &endpoint.tls) {
        (Host::Unix { path }, _) => {
            let stream = tokio::net::UnixStream::connect(path.as_std_path()).await?;
            Ok(Box::new(TokioIo::new(stream)))
        }
        (Host::Tcp { address }, Tls::Off) => {
            let stream = tokio::net::TcpStream::connect(address.as_str()).await?;
            Ok(Box::new(TokioIo::new(stream)))
        }
        (Host::Tcp { address }, Tls::Verify { ca, cert, key }) => {
            let files = TlsFiles {
                ca: ca.as_std_path(),
                cert: cert.as_std_path(),
                key: key.as_std_path(),
            };
            tls(address, &files).await
        }
        (host @ Host::Ssh { .. }, _) => {
            let args = ssh::ssh_args(host).expect("an ssh host has ssh arguments");
            let stream = ssh::spawn(&args, &ssh::SshDiagnostics::default())?;
            Ok(Box::new(stream))
        }
    }
}

/// The files of a TLS endpoint, as the Docker CLI names them: `ca.pem`, `cert.pem`, `key.pem`.
struct TlsFiles<'a> {
    ca: &'a std::path::Path,
    cert: &'a std::path::Path,
    key: &'a std::path::Path,
}

/// TCP with TLS, the server verified against the endpoint's CA only (as `--tlsverify` does) and our client
/// certificate presented.
async fn tls(address: &str, files: &TlsFiles<'_>) -> io::Result<Box<dyn Io>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let invalid = |what: &std::path::Path, e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("`{}`: {e}", what.display()),
        )
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(files.ca).map_err(|e| invalid(files.ca, &e))? {
        roots
            .add(cert.map_err(|e| invalid(files.ca, &e))?)
            .map_err(|e| invalid(files.ca, &e))?;
    }
    let chain = CertificateDer::pem_file_iter(files.cert)
        .map_err(|e| invalid(files.cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(files.cert, &e))?;
    let key = PrivateKeyDer::from_pem_file(files.key).map_err(|e| invalid(files.key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(e.to_string()))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| invalid(files.key, &e))?;
    let host = address
        .rsplit_once(':')
        .map_or(address, |(host, _)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("`{host}`: {e}")))?;
    let tcp = tokio::net::TcpStream::connect(address).await?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    Ok(Box::new(TokioIo::new(stream)))
}
