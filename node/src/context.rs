//! The running node's shared state, as the services see it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::exchange::Exchange;
use crate::federation::{LinkState, PeerClient, PeerLinks};
use crate::identity::Jurisdiction;
use crate::metrics::{Metrics, Snapshot};
use crate::peers::{PeerDirectory, PeerRecord};
use crate::store::{Store, StoreStats};

pub struct NodeContext {
    pub jurisdiction: Jurisdiction,
    pub node_name: String,
    /// `host:port` peers and clients use.
    pub endpoint: String,
    pub signing_key_id: String,
    /// Seals backups (`backup::take`).
    pub signer: Arc<crate::crypto::RecordSigner>,
    pub store: Store,
    pub peers: Arc<PeerDirectory>,
    pub links: PeerLinks,
    /// How the admin service asks peers what they witnessed.
    pub peer_client: Arc<dyn PeerClient>,
    pub exchange: Arc<Exchange>,
    pub audit: Arc<crate::audit::AuditLog>,
    pub retention: crate::retention::RetentionPolicy,
    /// For `stats` only; the licensing service holds its own handle.
    pub licensing: Arc<crate::licensing::Licensing>,
    /// For the overdue consultations `status` and the metrics count.
    pub consult: Arc<crate::consult::Consult>,
    pub metrics: Arc<Metrics>,
    pub metrics_addr: Option<SocketAddr>,
    /// The TLS trust anchors, to check certificates outside a handshake.
    pub trust: Arc<crate::tls::TrustAnchors>,
    /// Revoked identities and certificates, refused at every service's door.
    pub revocations: Arc<crate::revocations::Revocations>,
    /// Whether peers' announced key rotations are taken without an admin.
    pub accept_announced_keys: bool,
    pub started: Instant,
    /// Expiry of the node's own certificate and its CA, read at start.
    pub own_certificates: Vec<CertificateExpiry>,
}

/// When one certificate the node depends on stops being valid.
#[derive(Clone, Debug)]
pub struct CertificateExpiry {
    pub name: String,
    pub not_after_unix_ms: i64,
}

/// What `concord status` shows.
pub struct NodeStatus {
    pub jurisdiction: Jurisdiction,
    pub node_name: String,
    pub endpoint: String,
    pub signing_key_id: String,
    pub uptime_seconds: u64,
    pub store: StoreStats,
    pub peers: Vec<PeerView>,
    pub metrics_addr: Option<SocketAddr>,
    pub equivocations: usize,
    pub audit_entries: u64,
    pub audit_checkpointed: u64,
    pub certificates: Vec<CertificateExpiry>,
    pub retired_signing_key_ids: Vec<String>,
    pub revocations: usize,
    pub issuing_paused: Option<String>,
    pub denials_overdue_for_review: usize,
    pub consultations_overdue: usize,
}

/// A peer with its link and exchange counters.
pub struct PeerView {
    pub record: PeerRecord,
    pub link: LinkState,
    /// Own records still queued for it.
    pub outbox_pending: usize,
    /// Highest sequence number held from it.
    pub received_cursor: u64,
}

impl NodeContext {
    pub async fn status(&self) -> NodeStatus {
        NodeStatus {
            jurisdiction: self.jurisdiction.clone(),
            node_name: self.node_name.clone(),
            endpoint: self.endpoint.clone(),
            signing_key_id: self.signing_key_id.clone(),
            uptime_seconds: self.started.elapsed().as_secs(),
            store: self.store.stats(),
            peers: self.peers_with_links(),
            metrics_addr: self.metrics_addr,
            equivocations: self.exchange.equivocations_detected(),
            audit_entries: self.audit.count().await,
            audit_checkpointed: self.audit.checkpointed(),
            certificates: self.certificates(),
            retired_signing_key_ids: self
                .audit
                .keyring()
                .retired
                .iter()
                .map(crate::crypto::RetiredKey::key_id)
                .collect(),
            revocations: self.revocations.list().len(),
            issuing_paused: self.exchange.issuing_paused().map(|p| p.describe()),
            denials_overdue_for_review: self.exchange.denials_overdue_for_review().unwrap_or(0),
            consultations_overdue: self.consult.overdue().unwrap_or(0),
        }
    }

    /// The node's certificates and every peer's CA, soonest expiry first.
    fn certificates(&self) -> Vec<CertificateExpiry> {
        let mut all = self.own_certificates.clone();
        for (j, p) in self.peers.current().iter() {
            let expiry = crate::trust_bundle::ca_der(&p.bundle.ca_cert_pem)
                .ok()
                .and_then(|der| crate::identity::Caller::not_after_unix_ms(&der).ok());
            if let Some(not_after_unix_ms) = expiry {
                all.push(CertificateExpiry {
                    name: format!("peer {j} ca"),
                    not_after_unix_ms,
                });
            }
        }
        all.sort_by_key(|c| c.not_after_unix_ms);
        all
    }

    pub fn peers_with_links(&self) -> Vec<PeerView> {
        let links = self.links.states();
        self.peers
            .current()
            .values()
            .map(|p| {
                let j = &p.bundle.jurisdiction;
                PeerView {
                    record: p.clone(),
                    link: links.get(j).cloned().unwrap_or_default(),
                    outbox_pending: self.exchange.queued_for(j),
                    received_cursor: self.exchange.cursor(j).unwrap_or(0),
                }
            })
            .collect()
    }

    pub fn metrics_snapshot(&self) -> Snapshot {
        // Counters kept in the store, brought up to date at each scrape.
        for (peer, count) in self.exchange.equivocation_counts().unwrap_or_default() {
            self.metrics.equivocations(peer.as_str(), count.detected);
        }
        let stats = self.store.stats();
        let outbox: usize = self
            .peers
            .current()
            .keys()
            .map(|j| self.exchange.queued_for(j))
            .sum();
        Snapshot {
            outbox_pending: outbox as i64,
            peers: self.peers.current().len() as i64,
            peers_connected: self.links.connected() as i64,
            store_durable_writes: stats.durable_writes as i64,
            store_flushes: stats.flushes as i64,
            store_bytes: stats.size_on_disk as i64,
            denials_review_overdue: self.exchange.denials_overdue_for_review().unwrap_or(0) as i64,
            consultations_overdue: self.consult.overdue().unwrap_or(0) as i64,
        }
    }
}
