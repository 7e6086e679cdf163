//! `Node::start`: wires identity, store, peers, TLS, services and links
//! together, and shuts them down in order.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use concord_proto::v1::admin_service_server::AdminServiceServer;
use concord_proto::v1::consult_service_server::ConsultServiceServer;
use concord_proto::v1::exchange_service_server::ExchangeServiceServer;
use concord_proto::v1::federation_service_server::FederationServiceServer;
use concord_proto::v1::licensing_service_server::LicensingServiceServer;
use concord_proto::v1::risk_service_server::RiskServiceServer;
use concord_proto::v1::screening_service_server::ScreeningServiceServer;
use concord_proto::v1::task_force_peer_service_server::TaskForcePeerServiceServer;
use concord_proto::v1::task_force_service_server::TaskForceServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;

use crate::api::{AdminApi, ExchangeApi, FederationApi, Guard, LicensingApi};
use crate::audit::AuditLog;
use crate::config::NodeConfig;
use crate::context::NodeContext;
use crate::crypto::keyfile::KeyFileError;
use crate::exchange::Exchange;
use crate::federation::{GrpcPeerClient, LinkChannels, LinkTiming, PeerClient, PeerLinks};
use crate::identity::{Caller, Role};
use crate::licensing::Licensing;
use crate::metrics::{self, Metrics};
use crate::peers::{PeerDirectory, PeerSet};
use crate::policy::Service;
use crate::store::{Store, StoreError};
use crate::tls::{self, TlsLoadError, TrustAnchors};

/// Why a node could not start. Each is a one-line, actionable message.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Tls(#[from] TlsLoadError),
    #[error("node certificate {path} names {found}, but the config is for a node of jurisdiction {expected}")]
    WrongCertificate {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error(transparent)]
    Signing(#[from] crate::signing_keys::SigningKeysError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("loading the node's stored state: {0}")]
    State(#[from] crate::error::Error),
    #[error(
        "a restore into {data_dir} was interrupted ({staging} is left); the node will not start \
         beside it. Run `concord restore` again (it replaces {staging}), or remove it to start on \
         {data_dir} as it is"
    )]
    InterruptedRestore { data_dir: PathBuf, staging: PathBuf },
    #[error("clock offset (CONCORD_CLOCK_OFFSET_FILE): {0}")]
    ClockOffset(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("reflection setup: {0}")]
    Reflection(String),
    #[error("CA certificate {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Serve(#[from] tonic::transport::Error),
    /// The task running the node panicked or was cancelled, so it never
    /// reached its orderly shutdown.
    #[error(
        "the node stopped abnormally ({0}) before its orderly shutdown; the log names the cause"
    )]
    NodeTask(#[source] tokio::task::JoinError),
}

/// A started node.
pub struct NodeHandle {
    /// The address the gRPC server is bound to (useful with port 0).
    pub local_addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    /// The web console's address, when it serves.
    pub web_addr: Option<SocketAddr>,
    task: JoinHandle<Result<(), StartError>>,
}

impl NodeHandle {
    /// Waits until the node has shut down and flushed its store.
    pub async fn wait(self) -> Result<(), StartError> {
        self.task
            .await
            .unwrap_or_else(|e| Err(StartError::NodeTask(e)))
    }
}

pub struct Node;

impl Node {
    /// Starts serving; returns once every listener is bound. The node stops
    /// gracefully when `shutdown` completes: no new connections, in-flight
    /// requests finish, then the store is flushed.
    pub async fn start(
        config: NodeConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<NodeHandle, StartError> {
        Self::start_with_peer_client(config, shutdown, |grpc| grpc).await
    }

    /// `start`, with every call to peers made through what `wrap` makes of
    /// the gRPC peer client: the seam tests use to drop, delay or
    /// partition calls (`federation::faults::Faulty`).
    pub async fn start_with_peer_client(
        config: NodeConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
        wrap: impl FnOnce(Arc<dyn PeerClient>) -> Arc<dyn PeerClient>,
    ) -> Result<NodeHandle, StartError> {
        // Before anything reads the time: a node under a moved clock starts
        // on it.
        if let Some(path) = crate::clock::offset_file() {
            crate::clock::apply_offset_file(&path).map_err(StartError::ClockOffset)?;
            tracing::warn!(
                offset_ms = crate::clock::offset_ms(),
                file = %path.display(),
                "the node's clock runs at the offset this file gives (for tests and drills only)"
            );
            tokio::spawn(crate::clock::follow_offset_file(path));
        }
        let identity = tls::load_identity(&config.cert, &config.key, &config.ca_cert)?;
        if identity.caller.jurisdiction != config.jurisdiction || identity.caller.role != Role::Node
        {
            return Err(StartError::WrongCertificate {
                path: config.cert.clone(),
                found: identity.caller.to_string(),
                expected: config.jurisdiction.to_string(),
            });
        }
        // Read once: the node serves these files until it restarts.
        let own_certificates: Vec<crate::context::CertificateExpiry> =
            [("node", &identity.chain[0]), ("ca", &identity.ca)]
                .into_iter()
                .filter_map(|(name, der)| {
                    Caller::not_after_unix_ms(der)
                        .ok()
                        .map(|not_after_unix_ms| crate::context::CertificateExpiry {
                            name: name.to_owned(),
                            not_after_unix_ms,
                        })
                })
                .collect();
        let signer = crate::signing_keys::load(
            &config.signing_key,
            &config.retired_signing_keys,
            config.jurisdiction.as_str(),
        )?;

        if let Some(staging) = crate::backup::interrupted_restore(&config.data_dir) {
            return Err(StartError::InterruptedRestore {
                data_dir: config.data_dir.clone(),
                staging,
            });
        }
        let store = Store::open(&config.data_dir)?;
        store.set_min_free_bytes(config.min_free_disk_bytes);
        let signer = Arc::new(signer);
        let audit = Arc::new(AuditLog::open(
            store.clone(),
            signer.clone(),
            config.jurisdiction.as_str(),
        )?);
        if let Some(change) = audit.record_key_change().await.map_err(StartError::State)? {
            tracing::warn!(%change, "record-signing key changed since the last checkpoint");
        }
        let peers = Arc::new(
            PeerDirectory::open(store.clone(), config.jurisdiction.clone())?.audited(audit.clone()),
        );
        let revocations = Arc::new(crate::revocations::Revocations::open(
            store.clone(),
            audit.clone(),
        )?);
        let anchors = TrustAnchors::new(config.jurisdiction.clone(), identity.ca.clone())?;
        let observed = anchors.clone();
        peers.observe(move |set: &PeerSet| {
            let cas = set.iter().filter_map(|(j, p)| {
                tls::certs_from_pem(p.bundle.ca_cert_pem.as_bytes())
                    .map(|mut c| (j.clone(), c.remove(0)))
            });
            if let Err(e) = observed.set_peers(cas) {
                tracing::error!(error = %e, "cannot install peer trust anchors");
            }
        });

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let metrics_addr = metrics_listener.as_ref().and_then(|l| l.local_addr().ok());
        let web_listener = match config.web_listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let web_addr = web_listener.as_ref().and_then(|l| l.local_addr().ok());

        let mut server_config = rustls::ServerConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(anchors.clone())
            .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
        server_config.alpn_protocols = vec![b"h2".to_vec()];

        let metrics = Metrics::new();
        for c in &own_certificates {
            metrics.certificate_expiry(&c.name, c.not_after_unix_ms);
        }
        let timing = LinkTiming {
            heartbeat: config.heartbeat,
            timeout: config.peer_timeout,
            max_backoff: config.max_backoff,
        };
        let exchange = Arc::new(Exchange::open(
            store.clone(),
            config.jurisdiction.clone(),
            signer.clone(),
            peers.clone(),
            audit.clone(),
        )?);
        exchange.set_outbox_limit(config.max_outbox_per_peer);
        exchange.set_evidence_limits(config.evidence_limits);
        exchange.set_denial_review_after(config.denial_review_after);
        let licensing = Arc::new(
            Licensing::open(
                store.clone(),
                config.jurisdiction.clone(),
                exchange.clone(),
                audit.clone(),
            )?
            .with_settings(crate::licensing::Settings {
                validity_days: config.validity_days,
                similar_party_score: config.screening_threshold,
            }),
        );
        // Imported watchlists are indexed before the node reports itself started.
        let screening = Arc::new(
            crate::screening::Screening::open(
                store.clone(),
                audit.clone(),
                config.screening_threshold,
            )
            .map(|s| s.with_caps(config.screening_caps))
            .map_err(|e| match e {
                crate::error::Error::Store(e) => StartError::Store(e),
                other => StartError::State(other),
            })?,
        );
        // Approvals wait for consultations: the gate is in place before any request is served.
        let consult = Arc::new(
            crate::consult::Consult::new(
                exchange.clone(),
                licensing.clone(),
                peers.clone(),
                config.screening_threshold,
            )
            .with_clocks(config.consult.clone()),
        );
        licensing.set_approval_gate(consult.gate());
        let risk = Arc::new(
            crate::risk::Risk::open(
                store.clone(),
                config.risk.clone(),
                licensing.clone(),
                screening.clone(),
                exchange.clone(),
                audit.clone(),
            )?
            .with_four_eyes(config.four_eyes_from.clone()),
        );
        // Every decision records the risk picture of its moment, before any request is served.
        let review: Arc<dyn crate::licensing::DecisionReview> = risk.clone();
        licensing.set_decision_review(&review);
        // What partners need to verify this node, announced on every link so
        // a rotated signing key reaches them without their admin.
        let own_bundle = crate::trust_bundle::TrustBundle::of_node(
            &config.jurisdiction,
            &config.advertise,
            &config.ca_cert,
            &signer,
        )
        .map_err(|source| StartError::CaFile {
            path: config.ca_cert.clone(),
            source,
        })?;
        let own_bundle = Arc::new(own_bundle);
        // Every outbound call goes through this one client, over the links'
        // channels.
        let channels = LinkChannels::default();
        let peer_client = wrap(Arc::new(GrpcPeerClient::new(channels.clone())));
        let links = PeerLinks::spawn(
            identity.clone(),
            exchange.clone(),
            audit.clone(),
            peers.subscribe(),
            timing,
            own_bundle,
            metrics.clone(),
            channels,
            peer_client.clone(),
        );
        let ctx = Arc::new(NodeContext {
            jurisdiction: config.jurisdiction.clone(),
            node_name: config.node_name.clone(),
            endpoint: config.advertise.clone(),
            signing_key_id: signer.key_id().to_owned(),
            signer: signer.clone(),
            store: store.clone(),
            peers: peers.clone(),
            links,
            peer_client: peer_client.clone(),
            exchange: exchange.clone(),
            audit: audit.clone(),
            retention: config.retention,
            licensing: licensing.clone(),
            consult: consult.clone(),
            metrics: metrics.clone(),
            metrics_addr,
            trust: anchors.clone(),
            revocations: revocations.clone(),
            accept_announced_keys: config.accept_announced_keys,
            started: Instant::now(),
            own_certificates,
        });
        // Task forces see only the task-force half of the peer client.
        let taskforce_peers: Arc<dyn crate::taskforce::PeerTransport> = peer_client;
        let taskforces = Arc::new(
            crate::taskforce::TaskForces::open(
                store.clone(),
                config.jurisdiction.clone(),
                exchange.clone(),
                peers.clone(),
                audit.clone(),
                signer.clone(),
                taskforce_peers,
                config.taskforce,
            )
            .map_err(|e| match e {
                crate::error::Error::Store(e) => StartError::Store(e),
                other => StartError::State(other),
            })?,
        );

        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(checkpoint_periodically(
            audit.clone(),
            config.checkpoint_every,
            stop_rx.clone(),
        ));
        tokio::spawn(crate::retention::sweep_periodically(
            exchange.clone(),
            config.retention,
            stop_rx.clone(),
        ));
        tokio::spawn(
            screening
                .clone()
                .follow_denials(exchange.clone(), stop_rx.clone()),
        );
        // Scores what a crash left unscored, then re-scores on every alert,
        // denial and list import.
        tokio::spawn(risk.clone().follow(stop_rx.clone()));
        // Withdraws the notices of revoked or lapsed licences a crash or the
        // clock left standing, and keeps the licence-notice cache current.
        tokio::spawn(consult.clone().follow(stop_rx.clone()));
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };

        if let Some(l) = metrics_listener {
            let snap_ctx = ctx.clone();
            tokio::spawn(metrics::serve(
                l,
                metrics.clone(),
                move || snap_ctx.metrics_snapshot(),
                stopped(stop_rx.clone()),
            ));
        }

        let (health, health_service) = tonic_health::server::health_reporter();
        health.set_serving::<AdminServiceServer<AdminApi>>().await;
        health
            .set_serving::<FederationServiceServer<FederationApi>>()
            .await;
        health
            .set_serving::<ExchangeServiceServer<ExchangeApi>>()
            .await;
        health
            .set_serving::<LicensingServiceServer<LicensingApi>>()
            .await;
        health
            .set_serving::<ScreeningServiceServer<crate::api::ScreeningApi>>()
            .await;
        health
            .set_serving::<RiskServiceServer<crate::api::RiskApi>>()
            .await;
        health
            .set_serving::<TaskForceServiceServer<crate::api::TaskForceApi>>()
            .await;
        health
            .set_serving::<TaskForcePeerServiceServer<crate::api::TaskForcePeerApi>>()
            .await;
        health
            .set_serving::<ConsultServiceServer<crate::api::ConsultApi>>()
            .await;
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(concord_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| StartError::Reflection(e.to_string()))?;

        let max = config.max_message_bytes;
        let limit = crate::api::rate_limit(
            config.requests_per_second_per_identity,
            config.request_burst_per_identity,
        );
        let guard = |service| {
            Guard::new(
                service,
                config.jurisdiction.clone(),
                peers.clone(),
                metrics.clone(),
                limit.clone(),
                revocations.clone(),
            )
        };
        let admin = AdminServiceServer::new(AdminApi::new(ctx.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let federation =
            FederationServiceServer::new(FederationApi::new(ctx.clone(), stop_rx.clone()))
                .max_decoding_message_size(max)
                .max_encoding_message_size(max);
        let exchange_api = ExchangeServiceServer::new(ExchangeApi::new(
            exchange.clone(),
            metrics.clone(),
            stop_rx.clone(),
            revocations.clone(),
        ))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
        let licensing_api = LicensingServiceServer::new(
            LicensingApi::new(licensing.clone(), metrics.clone()).with_risk(risk.clone()),
        )
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
        let screening_api = ScreeningServiceServer::new(
            crate::api::ScreeningApi::new(screening.clone())
                .with_risk(risk.clone())
                .with_partner_licences(consult.clone()),
        )
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
        let risk_api = RiskServiceServer::new(crate::api::RiskApi::new(risk.clone()))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let query_limit = crate::api::query_limit(&config.taskforce);
        let taskforce_api = TaskForceServiceServer::new(crate::api::TaskForceApi::new(
            taskforces.clone(),
            query_limit.clone(),
            metrics.clone(),
        ))
        .max_decoding_message_size(max)
        .max_encoding_message_size(max);
        let taskforce_peer_api =
            TaskForcePeerServiceServer::new(crate::api::TaskForcePeerApi::new(
                taskforces.clone(),
                query_limit.clone(),
                metrics.clone(),
            ))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        if let Some(l) = web_listener {
            let console = crate::web::Console::new(
                config.jurisdiction.clone(),
                exchange.clone(),
                licensing.clone(),
                risk.clone(),
                screening.clone(),
                consult.clone(),
                peers.clone(),
                revocations.clone(),
                metrics.clone(),
                audit.clone(),
                taskforces,
                query_limit,
                stop_rx.clone(),
            )?;
            let web_limits = tls::IncomingLimits {
                handshake_timeout: config.handshake_timeout,
                tls_start_timeout: config.tls_start_timeout,
                max_connections: config.max_connections,
                max_pending_handshakes: config.max_pending_handshakes,
                max_pending_handshakes_per_address: config.max_pending_handshakes_per_address,
                max_connections_per_identity: config.max_connections_per_identity,
                max_connections_per_jurisdiction: config.max_connections_per_jurisdiction,
                reserved_connections_own_jurisdiction: config.reserved_connections_own_jurisdiction,
                own_jurisdiction: config.jurisdiction.clone(),
                idle_timeout: config.idle_timeout,
            };
            tokio::spawn(crate::web::serve(
                l,
                crate::web::server_config(&identity)?,
                web_limits,
                metrics.clone(),
                crate::web::router(Arc::new(console)),
                stopped(stop_rx.clone()),
            ));
            tracing::info!(web = %web_addr.map(|a| format!("https://{a}/")).unwrap_or_default(), "web console serving");
        }
        let consult_api = ConsultServiceServer::new(crate::api::ConsultApi::new(consult))
            .max_decoding_message_size(max)
            .max_encoding_message_size(max);
        let router = Server::builder()
            .max_concurrent_streams(Some(config.max_concurrent_streams))
            .timeout(config.request_timeout)
            .http2_keepalive_interval(Some(config.keepalive_interval))
            .http2_keepalive_timeout(Some(config.keepalive_timeout))
            .layer(crate::api::timing::TimingLayer::new(metrics.clone()))
            .layer(tower::util::MapResponseLayer::new(
                crate::api::malformed::relabel::<tonic::body::Body>,
            ))
            .add_service(health_service)
            .add_service(reflection)
            .add_service(InterceptedService::new(admin, guard(Service::Admin)))
            .add_service(InterceptedService::new(
                federation,
                guard(Service::Federation),
            ))
            .add_service(InterceptedService::new(
                exchange_api,
                guard(Service::Exchange),
            ))
            .add_service(InterceptedService::new(
                licensing_api,
                guard(Service::Licensing),
            ))
            .add_service(InterceptedService::new(
                screening_api,
                guard(Service::Screening),
            ))
            .add_service(InterceptedService::new(risk_api, guard(Service::Risk)))
            .add_service(InterceptedService::new(
                taskforce_api,
                guard(Service::TaskForce),
            ))
            .add_service(InterceptedService::new(
                taskforce_peer_api,
                guard(Service::TaskForcePeer),
            ))
            .add_service(InterceptedService::new(
                consult_api,
                guard(Service::Consult),
            ));

        let limits = tls::IncomingLimits {
            handshake_timeout: config.handshake_timeout,
            tls_start_timeout: config.tls_start_timeout,
            max_connections: config.max_connections,
            max_pending_handshakes: config.max_pending_handshakes,
            max_pending_handshakes_per_address: config.max_pending_handshakes_per_address,
            max_connections_per_identity: config.max_connections_per_identity,
            max_connections_per_jurisdiction: config.max_connections_per_jurisdiction,
            reserved_connections_own_jurisdiction: config.reserved_connections_own_jurisdiction,
            own_jurisdiction: config.jurisdiction.clone(),
            idle_timeout: config.idle_timeout,
        };
        let incoming =
            tls::serve_incoming(listener, Arc::new(server_config), limits, metrics.clone());
        tracing::info!(
            jurisdiction = %config.jurisdiction,
            listen = %local_addr,
            metrics = %metrics::describe(metrics_addr),
            signing_key_id = %signer.key_id(),
            store = %config.data_dir.display(),
            "node started"
        );
        let grace = config.shutdown_grace;
        let task = tokio::spawn(async move {
            let serving = router.serve_with_incoming_shutdown(incoming, stopped(stop_rx.clone()));
            let deadline = async {
                stopped(stop_rx).await;
                tokio::time::sleep(grace).await;
            };
            let served = tokio::select! {
                served = serving => served,
                _ = deadline => {
                    tracing::warn!(?grace, "in-flight requests did not finish in time; closing connections");
                    Ok(())
                }
            };
            tracing::info!("server stopped; flushing store");
            drop(ctx);
            // A flush can hang on a full or failing disk: bounded, so SIGTERM
            // always ends the process.
            let flushed = match tokio::time::timeout(grace, store.flush()).await {
                Ok(flushed) => flushed,
                Err(_) => Err(crate::store::StoreError::Io {
                    path: store.path().to_owned(),
                    what: "the last flush at shutdown".to_owned(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("did not finish within {grace:?}"),
                    ),
                }),
            };
            served?;
            flushed?;
            tracing::info!("node stopped cleanly");
            Ok(())
        });
        Ok(NodeHandle {
            local_addr,
            metrics_addr,
            web_addr,
            task,
        })
    }
}

/// Signs a checkpoint of the audit chain whenever entries were appended
/// since the last one, every `every`, and once more at shutdown.
async fn checkpoint_periodically(
    audit: Arc<AuditLog>,
    every: std::time::Duration,
    stopping: watch::Receiver<bool>,
) {
    let stop = crate::shutdown::requested(stopping);
    tokio::pin!(stop);
    loop {
        let stopping_now = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = &mut stop => true,
        };
        if audit.needs_checkpoint().await {
            match audit.checkpoint().await {
                Ok(c) => tracing::debug!(count = c.count, "audit checkpoint signed"),
                Err(e) => tracing::error!(error = %e, "cannot sign audit checkpoint"),
            }
        }
        if stopping_now {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicked_node_task_is_reported_as_such() {
        let handle = NodeHandle {
            local_addr: SocketAddr::from(([127, 0, 0, 1], 1)),
            metrics_addr: None,
            web_addr: None,
            task: tokio::spawn(async {
                let stop = true;
                if stop {
                    panic!("a task of the node failed");
                }
                Ok(())
            }),
        };
        let err = handle.wait().await.unwrap_err();
        assert!(matches!(err, StartError::NodeTask(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("stopped abnormally") && text.contains("panicked"),
            "{text}"
        );
        assert!(!text.contains("reflection"), "{text}");
    }
}
