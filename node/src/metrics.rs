//! Prometheus metrics and their HTTP listener, kept on a separate localhost
//! port so scraping never touches the mTLS API.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabel {
    peer: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabel {
    peer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabel {
    peer: String,
    stage: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertificateLabel {
    certificate: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodCodeLabel {
    method: String,
    /// The gRPC status code number ("0" for OK), or "transport".
    code: String,
}

/// Label for a method path. Paths come from callers, so anything that is
/// not a method this node serves collapses into one label: a client must
/// not be able to grow the registry without bound.
const UNKNOWN_METHOD: &str = "unknown";
const MAX_METHOD_LEN: usize = 96;

fn method_label(method: &str, code: &str) -> String {
    // tonic answers UNIMPLEMENTED (12) for every path it does not route.
    if code == "12" || method.len() > MAX_METHOD_LEN || !method.starts_with('/') {
        UNKNOWN_METHOD.to_owned()
    } else {
        method.to_owned()
    }
}

type DurationFamily = Family<MethodCodeLabel, Histogram, fn() -> Histogram>;

fn rpc_histogram() -> Histogram {
    // 0.5 ms to ~16 s: from a cached screening query to a fan-out that
    // waits out its per-peer deadline.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Gauges refreshed at scrape time from live state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    pub peers: i64,
    pub peers_connected: i64,
    pub store_durable_writes: i64,
    pub store_flushes: i64,
    pub store_bytes: i64,
    pub outbox_pending: i64,
    /// Own denials in force past their review date.
    pub denials_review_overdue: i64,
    /// Consultations past their deadline without an answer.
    pub consultations_overdue: i64,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    handshakes: Family<ResultLabel, Counter>,
    limited: Family<ResultLabel, Counter>,
    requests: Family<MethodLabel, Counter>,
    durations: DurationFamily,
    denied: Family<MethodLabel, Counter>,
    web: Family<ResultLabel, Counter>,
    issued: Family<RecordLabel, Counter>,
    received: Counter,
    refused: Family<RefusalLabel, Counter>,
    delivery_failed: Family<DeliveryLabel, Counter>,
    equivocations: Family<PeerLabel, Counter>,
    outbox: Gauge,
    peers: Gauge,
    peers_connected: Gauge,
    store_durable_writes: Gauge,
    store_flushes: Gauge,
    store_bytes: Gauge,
    denials_review_overdue: Gauge,
    consultations_overdue: Gauge,
    certificate_expiry: Family<CertificateLabel, Gauge>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("concord");
        let m = Metrics {
            handshakes: Family::default(),
            limited: Family::default(),
            requests: Family::default(),
            durations: Family::new_with_constructor(rpc_histogram as fn() -> Histogram),
            denied: Family::default(),
            web: Family::default(),
            issued: Family::default(),
            received: Counter::default(),
            refused: Family::default(),
            delivery_failed: Family::default(),
            equivocations: Family::default(),
            outbox: Gauge::default(),
            peers: Gauge::default(),
            peers_connected: Gauge::default(),
            store_durable_writes: Gauge::default(),
            store_flushes: Gauge::default(),
            store_bytes: Gauge::default(),
            denials_review_overdue: Gauge::default(),
            consultations_overdue: Gauge::default(),
            certificate_expiry: Family::default(),
            registry: Mutex::new(Registry::default()),
        };
        registry.register(
            "limits_hit",
            "Connections or requests refused by a resource limit, by limit",
            m.limited.clone(),
        );
        registry.register(
            "tls_handshakes",
            "TLS handshakes by result",
            m.handshakes.clone(),
        );
        registry.register(
            "rpc_requests",
            "gRPC requests received, by method",
            m.requests.clone(),
        );
        registry.register(
            "rpc_duration_seconds",
            "Time from a gRPC request's arrival to its response headers (for streams: to the \
             stream's start), by method and gRPC status code",
            m.durations.clone(),
        );
        registry.register(
            "rpc_denied",
            "gRPC requests refused by policy, by method",
            m.denied.clone(),
        );
        registry.register(
            "web_requests",
            "Web console requests, by result: admitted, or refused for a revoked \
             certificate (revoked), by policy (policy) or for a missing or wrong CSRF \
             token or a cross-site origin (csrf)",
            m.web.clone(),
        );
        registry.register(
            "records_issued",
            "Records this node signed and queued, by kind",
            m.issued.clone(),
        );
        registry.register(
            "records_received",
            "Records received from peers and stored",
            m.received.clone(),
        );
        registry.register(
            "pushes_refused",
            "Pushed batches refused, by sending peer and gRPC code",
            m.refused.clone(),
        );
        registry.register(
            "deliveries_failed",
            "Pushes and catch-ups of this node's records that failed, by peer, stage (push, \
             catch-up) and gRPC code (local: this node's own store)",
            m.delivery_failed.clone(),
        );
        registry.register(
            "equivocations",
            "Conflicting envelopes a peer signed (equivocation), by peer, whether or not \
             their evidence was kept; persisted, so the total survives restarts",
            m.equivocations.clone(),
        );
        registry.register(
            "outbox_pending",
            "Own records queued for peers, summed over peers",
            m.outbox.clone(),
        );
        registry.register("peers", "Registered peer jurisdictions", m.peers.clone());
        registry.register(
            "peers_connected",
            "Peer links currently up",
            m.peers_connected.clone(),
        );
        registry.register(
            "store_durable_writes",
            "Store commits acknowledged as durable",
            m.store_durable_writes.clone(),
        );
        registry.register(
            "store_flushes",
            "Store flushes to disk (one flush covers many commits)",
            m.store_flushes.clone(),
        );
        registry.register(
            "certificate_expiry_timestamp_seconds",
            "When the node's own certificate and its CA expire (Unix time); alert well before",
            m.certificate_expiry.clone(),
        );
        registry.register(
            "store_size_bytes",
            "Store size on disk",
            m.store_bytes.clone(),
        );
        registry.register(
            "consultations_overdue",
            "Consultations past their answer deadline without an answer",
            m.consultations_overdue.clone(),
        );
        registry.register(
            "denials_review_overdue",
            "This node's denials in force past their review date (amend or revoke them)",
            m.denials_review_overdue.clone(),
        );
        *m.registry.lock().unwrap_or_else(|e| e.into_inner()) = registry;
        Arc::new(m)
    }

    pub fn connection_refused(&self, limit: &str) {
        self.limited
            .get_or_create(&ResultLabel {
                result: limit.to_owned(),
            })
            .inc();
    }

    /// One web console request, by `result` (a fixed word: admitted,
    /// revoked, policy, csrf).
    pub fn web_request(&self, result: &'static str) {
        self.web
            .get_or_create(&ResultLabel {
                result: result.to_owned(),
            })
            .inc();
    }

    pub fn rate_limited(&self) {
        self.limited
            .get_or_create(&ResultLabel {
                result: "requests_per_second_per_identity".to_owned(),
            })
            .inc();
    }

    pub fn handshake(&self, ok: bool) {
        let result = if ok { "ok" } else { "refused" }.to_owned();
        self.handshakes.get_or_create(&ResultLabel { result }).inc();
    }

    /// One answered gRPC request: counted, and its time recorded.
    pub fn rpc_done(&self, method: &str, code: &str, elapsed: Duration) {
        let method = method_label(method, code);
        self.requests
            .get_or_create(&MethodLabel {
                method: method.clone(),
            })
            .inc();
        self.durations
            .get_or_create(&MethodCodeLabel {
                method,
                code: code.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn certificate_expiry(&self, certificate: &str, not_after_unix_ms: i64) {
        self.certificate_expiry
            .get_or_create(&CertificateLabel {
                certificate: certificate.to_owned(),
            })
            .set(not_after_unix_ms / 1000);
    }

    pub fn denied(&self, method: &str) {
        // Refused before routing, so the path may be anything the caller sent.
        let method = if method.len() > MAX_METHOD_LEN || !method.starts_with("/concord.v1.") {
            UNKNOWN_METHOD.to_owned()
        } else {
            method.to_owned()
        };
        self.denied.get_or_create(&MethodLabel { method }).inc();
    }

    pub fn issued(&self, kind: &str) {
        self.issued
            .get_or_create(&RecordLabel {
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn received(&self, n: u64) {
        self.received.inc_by(n);
    }

    pub fn refused(&self, peer: &str, code: &str) {
        self.refused
            .get_or_create(&RefusalLabel {
                peer: peer.to_owned(),
                code: code.to_owned(),
            })
            .inc();
    }

    /// Brings `concord_equivocations_total{peer}` up to `total`, the
    /// persisted count of conflicts detected from `peer` (never down).
    pub fn equivocations(&self, peer: &str, total: u64) {
        let counter = self.equivocations.get_or_create(&PeerLabel {
            peer: peer.to_owned(),
        });
        counter.inc_by(total.saturating_sub(counter.get()));
    }

    /// A push or catch-up to `peer` failed (issuer side).
    pub fn delivery_failed(&self, peer: &str, stage: &str, code: &str) {
        self.delivery_failed
            .get_or_create(&DeliveryLabel {
                peer: peer.to_owned(),
                stage: stage.to_owned(),
                code: code.to_owned(),
            })
            .inc();
    }

    /// The text exposition, after refreshing gauges from `snapshot`.
    pub fn render(&self, snapshot: Snapshot) -> String {
        self.peers.set(snapshot.peers);
        self.outbox.set(snapshot.outbox_pending);
        self.peers_connected.set(snapshot.peers_connected);
        self.store_durable_writes.set(snapshot.store_durable_writes);
        self.store_flushes.set(snapshot.store_flushes);
        self.store_bytes.set(snapshot.store_bytes);
        self.denials_review_overdue
            .set(snapshot.denials_review_overdue);
        self.consultations_overdue
            .set(snapshot.consultations_overdue);
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        // Encoding into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    snapshot: impl Fn() -> Snapshot + Send + Sync + 'static,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let snapshot = Arc::new(snapshot);
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (metrics, snapshot) = (metrics.clone(), snapshot.clone());
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(snapshot()),
                )
            }
        }),
    );
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::warn!(error = %e, "metrics listener stopped");
    }
}

/// Address a metrics listener would report, for status output.
pub fn describe(addr: Option<SocketAddr>) -> String {
    addr.map(|a| format!("http://{a}/metrics"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_gauges() {
        let m = Metrics::new();
        m.handshake(false);
        m.rpc_done(
            "/concord.v1.AdminService/Status",
            "0",
            Duration::from_millis(3),
        );
        let text = m.render(Snapshot {
            peers: 2,
            peers_connected: 1,
            ..Snapshot::default()
        });
        assert!(
            text.contains("concord_tls_handshakes_total{result=\"refused\"} 1"),
            "{text}"
        );
        assert!(text.contains("concord_peers_connected 1"), "{text}");
        assert!(
            text.contains(
                "concord_rpc_requests_total{method=\"/concord.v1.AdminService/Status\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "concord_rpc_duration_seconds_bucket{le=\"0.004\",method=\"/concord.v1.AdminService/Status\",code=\"0\"} 1"
            ),
            "{text}"
        );
    }

    #[test]
    fn made_up_method_paths_share_one_label() {
        let m = Metrics::new();
        for i in 0..50 {
            m.rpc_done(
                &format!("/concord.v1.AdminService/No{i}"),
                "12",
                Duration::ZERO,
            );
            m.denied(&format!("/x.Y/No{i}"));
        }
        m.rpc_done(&"/a".repeat(200), "0", Duration::ZERO);
        let text = m.render(Snapshot::default());
        assert!(
            text.contains("concord_rpc_requests_total{method=\"unknown\"} 51"),
            "{text}"
        );
        assert!(
            text.contains("concord_rpc_denied_total{method=\"unknown\"} 50"),
            "{text}"
        );
        assert!(!text.contains("No1"), "{text}");
    }
}
