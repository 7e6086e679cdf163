//! Connecting to a node's services over mutual TLS, as a profile says:
//! [`Clients::connect`].

use std::error::Error as _;
use std::time::Duration;

use concord_node::crypto::private_key::{self, PrivateKeyError};
use concord_node::endpoint::endpoint_host;
use concord_proto::v1::admin_service_client::AdminServiceClient;
use concord_proto::v1::consult_service_client::ConsultServiceClient;
use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::licensing_service_client::LicensingServiceClient;
use concord_proto::v1::risk_service_client::RiskServiceClient;
use concord_proto::v1::screening_service_client::ScreeningServiceClient;
use concord_proto::v1::task_force_service_client::TaskForceServiceClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::exit::CliError;
use crate::profile::Profile;

/// How long establishing the connection (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// For requests whose work grows with everything a node holds (stats over
/// every record, re-verifying the audit trail or every envelope): a node
/// that has run for years holds millions.
pub const WHOLE_STORE_TIMEOUT: Duration = Duration::from_secs(1800);

pub type AdminClient = AdminServiceClient<Channel>;
pub type ExchangeClient = ExchangeServiceClient<Channel>;
pub type LicensingClient = LicensingServiceClient<Channel>;
pub type ScreeningClient = ScreeningServiceClient<Channel>;
pub type RiskClient = RiskServiceClient<Channel>;
pub type ConsultClient = ConsultServiceClient<Channel>;
pub type TaskForceClient = TaskForceServiceClient<Channel>;

/// The channel settings for a profile: reads the CA, certificate and key.
fn endpoint(profile: &Profile) -> Result<Endpoint, CliError> {
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
    let identity = private_key::client_identity(cert, &profile.key).map_err(|e| match e {
        PrivateKeyError::KeyFile(e) => {
            CliError::config(format!("profile {}: {e}", profile.path.display()))
        }
        e @ PrivateKeyError::Unusable { .. } => CliError::config(format!(
            "profile {}: unusable CA certificate, certificate or key: {e}",
            profile.path.display()
        )),
    })?;
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca))
        .identity(identity)
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

/// One connection to the node a profile names, and a client of each of its
/// services over it (tonic clients share the channel). Every command gets
/// its clients here.
#[derive(Clone)]
pub struct Clients {
    pub admin: AdminClient,
    pub exchange: ExchangeClient,
    pub licensing: LicensingClient,
    pub screening: ScreeningClient,
    pub risk: RiskClient,
    pub consult: ConsultClient,
    pub taskforce: TaskForceClient,
}

impl Clients {
    /// Connects to the node named by a profile; each request may take
    /// [`REQUEST_TIMEOUT`].
    pub async fn connect(profile: &Profile) -> Result<Clients, CliError> {
        Self::connect_within(profile, REQUEST_TIMEOUT).await
    }

    /// Connects for calls that may take longer than an ordinary request (a
    /// backup, a list import): each request may take `timeout`.
    pub async fn connect_within(profile: &Profile, timeout: Duration) -> Result<Clients, CliError> {
        let channel = endpoint(profile)?
            .timeout(timeout)
            .connect()
            .await
            .map_err(|e| {
                CliError::from_transport(&e).context(format!("connecting to {}", profile.endpoint))
            })?;
        Ok(Clients {
            admin: AdminServiceClient::new(channel.clone()),
            exchange: ExchangeServiceClient::new(channel.clone()),
            licensing: LicensingServiceClient::new(channel.clone()),
            screening: ScreeningServiceClient::new(channel.clone()),
            risk: RiskServiceClient::new(channel.clone()),
            consult: ConsultServiceClient::new(channel.clone()),
            taskforce: TaskForceServiceClient::new(channel),
        })
    }

    /// The admin client for a call over everything the node holds (stats,
    /// re-verifying the audit trail): it may take [`WHOLE_STORE_TIMEOUT`].
    pub async fn whole_store_admin(profile: &Profile) -> Result<AdminClient, CliError> {
        Ok(Self::connect_within(profile, WHOLE_STORE_TIMEOUT)
            .await?
            .admin)
    }
}

/// A failed RPC as a classified error naming the call and the node.
pub fn rpc_error(call: &str, profile: &Profile, status: &tonic::Status) -> CliError {
    CliError::from_status(status).context(format!("{call} on {}", profile.endpoint))
}

/// The idempotency key for one write the user asked for once: the
/// `CONCORD_IDEMPOTENCY_KEY` environment variable when set (a script that
/// retries a whole command sets one per logical write), else a fresh one.
pub fn new_idempotency_key() -> Result<String, CliError> {
    if let Ok(key) = std::env::var("CONCORD_IDEMPOTENCY_KEY") {
        concord_node::exchange::check_idempotency_key(&key)
            .map_err(|e| CliError::invalid_argument(format!("CONCORD_IDEMPOTENCY_KEY: {e}")))?;
        return Ok(key);
    }
    concord_node::crypto::keyed_hash::random_bytes::<16>()
        .map(hex::encode)
        .map_err(|e| CliError::internal(format!("cannot draw an idempotency key: {e}")))
}

/// Whether a failed write may have been committed without its answer
/// arriving (the connection or the node went away mid-call): only then is
/// it retried, with the same key, so the node stores it once.
fn answer_lost(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
    )
}

/// Attempts at a write whose answer was lost, and the first pause between them.
const WRITE_ATTEMPTS: u32 = 6;
const WRITE_RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Sends a write with `key` as its idempotency key, retrying with the same
/// key (pauses doubling from 250 ms, six attempts over about 8 s) while the
/// answer is lost. The node answers a retry of a write it already committed
/// with the record that write made.
pub async fn write_once<Req, Resp, F, Fut>(
    key: &str,
    request: Req,
    mut call: F,
) -> Result<tonic::Response<Resp>, tonic::Status>
where
    Req: Clone,
    F: FnMut(tonic::Request<Req>) -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
{
    let value = tonic::metadata::MetadataValue::try_from(key)
        .map_err(|_| tonic::Status::invalid_argument("idempotency key: not ASCII"))?;
    let mut pause = WRITE_RETRY_PAUSE;
    let mut attempt = 1;
    loop {
        let mut req = tonic::Request::new(request.clone());
        req.metadata_mut().insert(IDEMPOTENCY_KEY, value.clone());
        match call(req).await {
            Err(status) if answer_lost(&status) && attempt < WRITE_ATTEMPTS => {
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// The metadata key the node reads (`api::exchange::IDEMPOTENCY_KEY`).
pub const IDEMPOTENCY_KEY: &str = "concord-idempotency-key";
