//! Connecting to a node's admin and exchange APIs over mutual TLS, as a
//! profile says.

use std::error::Error as _;
use std::time::Duration;

use concord_node::config::endpoint_host;
use concord_node::crypto::keyfile;
use concord_proto::v1::admin_service_client::AdminServiceClient;
use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::exit::CliError;
use crate::profile::Profile;

/// How long establishing the connection (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

pub type AdminClient = AdminServiceClient<Channel>;
pub type ExchangeClient = ExchangeServiceClient<Channel>;

/// The channel settings for a profile: reads the CA, certificate and key.
pub fn endpoint(profile: &Profile) -> Result<Endpoint, CliError> {
    let read = |what: &str, path: &std::path::Path| {
        std::fs::read(path).map_err(|e| {
            CliError::config(format!(
                "profile {}: cannot read {what} {}: {e}",
                profile.path.display(),
                path.display()
            ))
        })
    };
    let ca = read("CA certificate", &profile.ca_cert)?;
    let cert = read("client certificate", &profile.cert)?;
    let key = keyfile::read_private(&profile.key)
        .map_err(|e| CliError::config(format!("profile {}: {e}", profile.path.display())))?;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .identity(Identity::from_pem(cert, key))
        .domain_name(endpoint_host(&profile.endpoint))
        .timeout(CONNECT_TIMEOUT);
    let bad_endpoint = |e: tonic::transport::Error| {
        CliError::config(format!(
            "profile {}: endpoint {:?}: {e}",
            profile.path.display(),
            profile.endpoint
        ))
    };
    Endpoint::from_shared(format!("https://{}", profile.endpoint))
        .map_err(bad_endpoint)?
        .tls_config(tls)
        .map_err(|e| {
            CliError::config(format!(
                "profile {}: unusable CA certificate, certificate or key: {e}: {}",
                profile.path.display(),
                e.source().map(|s| s.to_string()).unwrap_or_default()
            ))
        })
        .map(|ep| ep.connect_timeout(CONNECT_TIMEOUT).timeout(REQUEST_TIMEOUT))
}

/// A channel to the node named by a profile.
pub async fn channel(profile: &Profile) -> Result<Channel, CliError> {
    endpoint(profile)?.connect().await.map_err(|e| {
        CliError::from_transport(&e).context(format!("connecting to {}", profile.endpoint))
    })
}

/// Connects to the admin API of the node named by a profile.
pub async fn connect(profile: &Profile) -> Result<AdminClient, CliError> {
    Ok(AdminServiceClient::new(channel(profile).await?))
}

/// Connects to the exchange API of the node named by a profile.
pub async fn connect_exchange(profile: &Profile) -> Result<ExchangeClient, CliError> {
    Ok(ExchangeServiceClient::new(channel(profile).await?))
}

/// A failed RPC as a classified error naming the call and the node.
pub fn rpc_error(call: &str, profile: &Profile, status: &tonic::Status) -> CliError {
    CliError::from_status(status).context(format!("{call} on {}", profile.endpoint))
}
