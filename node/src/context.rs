//! The running node's shared state, as the services see it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::federation::{LinkState, PeerLinks};
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
    pub store: Store,
    pub peers: Arc<PeerDirectory>,
    pub links: PeerLinks,
    pub metrics: Arc<Metrics>,
    pub metrics_addr: Option<SocketAddr>,
    pub started: Instant,
}

/// What `concord status` shows.
pub struct NodeStatus {
    pub jurisdiction: Jurisdiction,
    pub node_name: String,
    pub endpoint: String,
    pub signing_key_id: String,
    pub uptime_seconds: u64,
    pub store: StoreStats,
    pub peers: Vec<(PeerRecord, LinkState)>,
    pub metrics_addr: Option<SocketAddr>,
}

impl NodeContext {
    pub fn status(&self) -> NodeStatus {
        NodeStatus {
            jurisdiction: self.jurisdiction.clone(),
            node_name: self.node_name.clone(),
            endpoint: self.endpoint.clone(),
            signing_key_id: self.signing_key_id.clone(),
            uptime_seconds: self.started.elapsed().as_secs(),
            store: self.store.stats(),
            peers: self.peers_with_links(),
            metrics_addr: self.metrics_addr,
        }
    }

    pub fn peers_with_links(&self) -> Vec<(PeerRecord, LinkState)> {
        let links = self.links.states();
        self.peers
            .current()
            .values()
            .map(|p| (p.clone(), links.get(&p.bundle.jurisdiction).cloned().unwrap_or_default()))
            .collect()
    }

    pub fn metrics_snapshot(&self) -> Snapshot {
        let stats = self.store.stats();
        Snapshot {
            peers: self.peers.current().len() as i64,
            peers_connected: self.links.connected() as i64,
            store_durable_writes: stats.durable_writes as i64,
            store_flushes: stats.flushes as i64,
            store_bytes: stats.size_on_disk as i64,
        }
    }
}
