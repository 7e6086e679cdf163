//! Peer links follow the peer registry: a link starts when a peer is added
//! and stops when it is removed.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::channels::LinkChannels;
use super::client::PeerClient;
use crate::audit::AuditLog;
use crate::clock::now_unix_ms;
use crate::exchange::Exchange;
use crate::identity::Jurisdiction;
use crate::metrics::Metrics;
use crate::peers::{PeerRecord, PeerSet};
use crate::tls::{self, NodeIdentity};
use crate::trust_bundle::TrustBundle;

/// What a pusher or catch-up tells the link about delivery.
pub enum Delivery {
    /// A batch was delivered and acknowledged.
    Flowing,
    /// A push or catch-up failed; `code` is the gRPC code name or `local`.
    Failed {
        stage: &'static str,
        code: String,
        message: String,
    },
}

/// What `status` shows about one link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkState {
    pub connected: bool,
    /// Unix ms of the last successful exchange.
    pub last_contact_unix_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Why the last push or catch-up with this peer failed, kept until
    /// records flow again: a heartbeat that gets through does not clear it,
    /// so a link that is up but cannot deliver still shows why.
    pub delivery_error: Option<String>,
}

#[derive(Clone, Copy, Debug)]
pub struct LinkTiming {
    pub heartbeat: Duration,
    pub timeout: Duration,
    pub max_backoff: Duration,
}

type States = Arc<Mutex<BTreeMap<Jurisdiction, LinkState>>>;

pub struct PeerLinks {
    states: States,
    supervisor: JoinHandle<()>,
}

impl PeerLinks {
    /// Starts a supervisor that keeps one link per peer in `peers`. Each
    /// link opens its channel into `channels` and makes every call through
    /// `client`, which calls over those channels (or is a wrapper of it).
    #[allow(clippy::too_many_arguments)]
    pub fn spawn(
        me: NodeIdentity,
        exchange: Arc<Exchange>,
        audit: Arc<AuditLog>,
        mut peers: watch::Receiver<PeerSet>,
        timing: LinkTiming,
        own_bundle: Arc<TrustBundle>,
        metrics: Arc<Metrics>,
        channels: LinkChannels,
        client: Arc<dyn PeerClient>,
    ) -> Self {
        let states: States = Arc::default();
        let supervisor_states = states.clone();
        let supervisor_channels = channels;
        let supervisor = tokio::spawn(async move {
            let me = Arc::new(me);
            let mut running: HashMap<Jurisdiction, (PeerRecord, JoinHandle<()>)> = HashMap::new();
            loop {
                let wanted = peers.borrow_and_update().clone();
                running.retain(|j, (record, task)| {
                    let keep = wanted.get(j) == Some(record);
                    if !keep {
                        task.abort();
                        lock(&supervisor_states).remove(j);
                        supervisor_channels.remove(j);
                    }
                    keep
                });
                for (j, record) in wanted.iter() {
                    if !running.contains_key(j) {
                        lock(&supervisor_states).insert(j.clone(), LinkState::default());
                        let link = run_link(
                            me.clone(),
                            exchange.clone(),
                            audit.clone(),
                            record.clone(),
                            timing,
                            supervisor_states.clone(),
                            supervisor_channels.clone(),
                            client.clone(),
                            own_bundle.clone(),
                            metrics.clone(),
                        );
                        let task = tokio::spawn(link);
                        running.insert(j.clone(), (record.clone(), task));
                    }
                }
                if peers.changed().await.is_err() {
                    break;
                }
            }
            for (_, (_, task)) in running {
                task.abort();
            }
        });
        PeerLinks { states, supervisor }
    }

    pub fn states(&self) -> BTreeMap<Jurisdiction, LinkState> {
        lock(&self.states).clone()
    }

    pub fn connected(&self) -> usize {
        lock(&self.states).values().filter(|s| s.connected).count()
    }
}

impl Drop for PeerLinks {
    fn drop(&mut self) {
        self.supervisor.abort();
    }
}

fn lock(states: &States) -> std::sync::MutexGuard<'_, BTreeMap<Jurisdiction, LinkState>> {
    states.lock().unwrap_or_else(|e| e.into_inner())
}

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(name = "link", skip_all, fields(node = %exchange.jurisdiction(), peer = %peer.bundle.jurisdiction))]
async fn run_link(
    me: Arc<NodeIdentity>,
    exchange: Arc<Exchange>,
    audit: Arc<AuditLog>,
    peer: PeerRecord,
    timing: LinkTiming,
    states: States,
    channels: LinkChannels,
    client: Arc<dyn PeerClient>,
    own_bundle: Arc<TrustBundle>,
    metrics: Arc<Metrics>,
) {
    let j = peer.bundle.jurisdiction.clone();
    // Aborting the link task drops this guard; the abort is also how it ends.
    let update = |f: &dyn Fn(&mut LinkState)| {
        if let Some(s) = lock(&states).get_mut(&j) {
            f(s);
        }
    };
    let ca = match tls::certs_from_pem(peer.bundle.ca_cert_pem.as_bytes()) {
        Some(mut certs) => certs.remove(0),
        None => {
            update(&|s| s.last_error = Some("registered CA certificate is unreadable".into()));
            return;
        }
    };
    let channel = match tls::peer_channel(&me, &j, ca, &peer.bundle.endpoint, timing.timeout) {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            update(&|s| s.last_error = Some(msg.clone()));
            return;
        }
    };
    channels.insert(j.clone(), channel);
    let witness = tokio::spawn(super::witness::send_checkpoints(
        audit.latest_checkpoint(),
        j.clone(),
        client.clone(),
        timing,
    ));
    let _witness = AbortOnDrop(witness);
    // The pusher and catch-up tasks die with this one.
    let report_states = states.clone();
    let report_peer = j.clone();
    let report_metrics = metrics.clone();
    let report = move |outcome: Delivery| {
        let mut states = lock(&report_states);
        let Some(s) = states.get_mut(&report_peer) else {
            return;
        };
        match outcome {
            Delivery::Flowing => {
                if s.delivery_error.take().is_some() {
                    tracing::info!(peer = %report_peer, "delivery resumed");
                }
            }
            Delivery::Failed {
                stage,
                code,
                message,
            } => {
                report_metrics.delivery_failed(report_peer.as_str(), stage, &code);
                if s.delivery_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(peer = %report_peer, stage, code = %code, error = %message, "delivery to peer failed");
                }
                s.delivery_error = Some(format!("{stage}: {message}"));
            }
        }
    };
    let report = Arc::new(report);
    let pusher = tokio::spawn(super::push::run_pusher(
        exchange.clone(),
        j.clone(),
        client.clone(),
        timing,
        report.clone(),
    ));
    let _pusher = AbortOnDrop(pusher);
    let mut catching_up: Option<AbortOnDrop> = None;
    let mut backoff = timing.heartbeat;
    loop {
        let hello = client.hello(j.clone(), me.caller.jurisdiction.clone(), now_unix_ms());
        let outcome = match tokio::time::timeout(timing.timeout, hello).await {
            Ok(Ok(reply)) if reply.jurisdiction == j.as_str() => {
                exchange.peer_holds(&j, reply.held_from_you);
                exchange.peer_holds_ids(&j, &reply.held_ids_from_you);
                Ok(())
            }
            Ok(Ok(reply)) => Err(format!("peer answered as {:?}", reply.jurisdiction)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", timing.timeout)),
        };
        let wait = match outcome {
            Ok(()) => {
                let was_down = !lock(&states).get(&j).is_some_and(|s| s.connected);
                if was_down {
                    let (exchange, peer, client) = (exchange.clone(), j.clone(), client.clone());
                    let bundle = own_bundle.clone();
                    let report = report.clone();
                    catching_up.replace(AbortOnDrop(tokio::spawn(async move {
                        // A peer that has not heard of a key rotation refuses
                        // everything signed with the new key: tell it first.
                        announce(&peer, &*client, bundle).await;
                        match super::push::catch_up(&exchange, &peer, &*client).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(%peer, records = n, "caught up"),
                            Err(e) => report(e.into_delivery("catch-up")),
                        }
                    })));
                }
                let now = now_unix_ms();
                update(&|s| {
                    if !s.connected {
                        tracing::info!(peer = %j, "peer link up");
                    }
                    s.connected = true;
                    s.last_contact_unix_ms = Some(now);
                    s.last_error = None;
                });
                backoff = timing.heartbeat;
                timing.heartbeat
            }
            Err(msg) => {
                update(&|s| {
                    if s.connected {
                        tracing::warn!(peer = %j, error = %msg, "peer link down");
                    }
                    s.connected = false;
                    s.last_error = Some(msg.clone());
                });
                let wait = backoff;
                backoff = (backoff * 2).min(timing.max_backoff);
                wait
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// Sends this node's trust bundle to `peer`, which takes a rotated signing
/// key from it if its handovers start at the key it trusts.
#[tracing::instrument(name = "announce", skip_all, fields(peer = %peer))]
async fn announce(peer: &Jurisdiction, client: &dyn PeerClient, bundle: Arc<TrustBundle>) {
    match client.announce_trust(peer.clone(), bundle).await {
        Ok(true) => tracing::info!(%peer, "peer took this node's new trust bundle"),
        Ok(false) => {}
        Err(e) => tracing::warn!(
            %peer,
            error = %e,
            "peer did not take this node's trust bundle; its admin can run `concord peer update`"
        ),
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
