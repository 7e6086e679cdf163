//! Outgoing mTLS to a peer: the peer's certificate must chain to the CA that
//! peer registered, match its endpoint's host, and name that peer's
//! jurisdiction as a node.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint};

use super::NodeIdentity;
use crate::endpoint::endpoint_host;
use crate::identity::{Caller, Jurisdiction, Role};

#[derive(Debug, thiserror::Error)]
pub enum PeerConnectError {
    #[error("TLS configuration for peer {peer}: {source}")]
    Config {
        peer: Jurisdiction,
        source: rustls::Error,
    },
    #[error("peer {peer} endpoint {endpoint:?} is not a valid host:port")]
    Endpoint {
        peer: Jurisdiction,
        endpoint: String,
    },
    #[error("connect to {endpoint}: {source}")]
    Io {
        endpoint: String,
        source: std::io::Error,
    },
    #[error("peer at {endpoint} presented {found}, expected a node of {expected}")]
    WrongIdentity {
        endpoint: String,
        expected: Jurisdiction,
        found: String,
    },
}

/// A lazily connecting gRPC channel to `peer` at `endpoint`.
pub fn peer_channel(
    me: &NodeIdentity,
    peer: &Jurisdiction,
    peer_ca: CertificateDer<'static>,
    endpoint: &str,
    timeout: Duration,
) -> Result<Channel, PeerConnectError> {
    let config_err = |source| PeerConnectError::Config {
        peer: peer.clone(),
        source,
    };
    let bad_endpoint = || PeerConnectError::Endpoint {
        peer: peer.clone(),
        endpoint: endpoint.to_owned(),
    };
    let mut roots = RootCertStore::empty();
    roots.add(peer_ca).map_err(config_err)?;
    let mut config = ClientConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(config_err)?
        .with_root_certificates(roots)
        .with_client_auth_cert(me.chain.clone(), me.key.clone_key())
        .map_err(config_err)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = TlsConnector::from(Arc::new(config));
    let server_name =
        ServerName::try_from(endpoint_host(endpoint).to_owned()).map_err(|_| bad_endpoint())?;
    // The connector does TLS itself, so tonic sees a plain http:// URI.
    let uri = Endpoint::from_shared(format!("http://{endpoint}")).map_err(|_| bad_endpoint())?;
    let (endpoint, expected) = (endpoint.to_owned(), peer.clone());
    let connect = tower::service_fn(move |_: http::Uri| {
        let (connector, server_name) = (connector.clone(), server_name.clone());
        let (endpoint, expected) = (endpoint.clone(), expected.clone());
        async move {
            let io = |source| PeerConnectError::Io {
                endpoint: endpoint.clone(),
                source,
            };
            let tcp = TcpStream::connect(&endpoint).await.map_err(io)?;
            let _ = tcp.set_nodelay(true);
            let tls = connector.connect(server_name, tcp).await.map_err(io)?;
            let found = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|der| Caller::from_cert_der(der));
            match found {
                Some(Ok(c)) if c.role == Role::Node && c.jurisdiction == expected => {
                    Ok(TokioIo::new(tls))
                }
                other => Err(PeerConnectError::WrongIdentity {
                    endpoint: endpoint.clone(),
                    expected,
                    found: match other {
                        Some(Ok(c)) => c.to_string(),
                        Some(Err(e)) => e.to_string(),
                        None => "no certificate".into(),
                    },
                }),
            }
        }
    });
    Ok(uri
        .connect_timeout(timeout)
        // Callers set their own, clearer deadlines; this only catches a hung peer.
        .timeout(timeout * 2)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true)
        .connect_with_connector_lazy(connect))
}
