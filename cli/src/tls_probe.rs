//! Explains a connection the node dropped without a word.
//!
//! Under TLS 1.3 the client finishes its handshake before the server has
//! judged the client certificate; when the server refuses it, hyper often
//! reports only "connection closed" and the alert naming the reason is lost.
//! A second, bare handshake with the same credentials that then waits
//! briefly for the server's first bytes recovers that alert.

use std::sync::Arc;
use std::time::Duration;

use concord_node::crypto;
use concord_node::endpoint::endpoint_host;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::exit::{CliError, ErrorKind};
use crate::profile::Profile;

/// How long to wait for an alert after a handshake the client considers done.
const ALERT_WAIT: Duration = Duration::from_millis(1500);

/// If `err` looks like a silently dropped connection, probes the node and
/// returns a TLS error carrying the node's stated reason; otherwise `err`.
pub async fn explain(profile: &Profile, err: CliError) -> CliError {
    let dropped = matches!(err.kind, ErrorKind::Internal | ErrorKind::ConnectionRefused)
        && (err.message.contains("connection closed")
            || err.message.contains("operation was canceled")
            || err.message.contains("connection reset"));
    if !dropped {
        return err;
    }
    match probe(profile).await {
        Some(reason) => CliError::new(
            ErrorKind::Tls,
            format!("the node refused this client's TLS credentials: {reason}"),
        ),
        None => err,
    }
}

/// The TLS failure reason, if a handshake with the profile's credentials fails.
async fn probe(profile: &Profile) -> Option<String> {
    let ca = std::fs::read(&profile.ca_cert).ok()?;
    let cert_pem = std::fs::read(&profile.cert).ok()?;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&ca) {
        roots.add(c.ok()?).ok()?;
    }
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .ok()?;
    let key = crypto::read_private_key(&profile.key).ok()?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .ok()?
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .ok()?;
    let name = ServerName::try_from(endpoint_host(&profile.endpoint).to_owned()).ok()?;
    let tcp = tokio::time::timeout(ALERT_WAIT, TcpStream::connect(&profile.endpoint))
        .await
        .ok()?
        .ok()?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = match tokio::time::timeout(ALERT_WAIT, connector.connect(name, tcp))
        .await
        .ok()?
    {
        Ok(tls) => tls,
        Err(e) => return Some(e.to_string()),
    };
    let mut byte = [0u8; 1];
    match tokio::time::timeout(ALERT_WAIT, tls.read(&mut byte)).await {
        Ok(Err(e)) => Some(e.to_string()),
        _ => None,
    }
}
