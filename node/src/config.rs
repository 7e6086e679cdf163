//! `node.toml`: the node's configuration, parsed and checked in one pass that
//! reports every bad field at once.
//!
//! Relative paths are resolved against the directory holding the config file,
//! so a node directory can be moved as a whole.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::endpoint::check_endpoint;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::identity::{self, Jurisdiction};
use crate::retention::RetentionPolicy;

/// The config file as written on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Jurisdiction code this node serves, e.g. "DE".
    pub jurisdiction: String,
    /// Name of the node inside its jurisdiction; its certificate names it.
    #[serde(default = "default_node_name")]
    pub node_name: String,
    /// Address the gRPC server binds.
    pub listen: String,
    /// `host:port` peers and clients use to reach this node; defaults to `listen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<String>,
    /// Where the store lives.
    pub data_dir: PathBuf,
    /// Free space kept on the store's filesystem: writes that would start
    /// below it are refused (ResourceExhausted) while reads go on; 0 disables.
    #[serde(default = "default_min_free_disk_bytes")]
    pub min_free_disk_bytes: u64,
    /// Localhost address of the Prometheus metrics listener; absent disables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<String>,
    pub tls: TlsFile,
    pub signing: SigningFile,
    #[serde(default)]
    pub federation: FederationFile,
    #[serde(default)]
    pub limits: LimitsFile,
    #[serde(default)]
    pub audit: AuditFile,
    #[serde(default)]
    pub retention: RetentionFile,
    #[serde(default)]
    pub exchange: ExchangeFile,
    #[serde(default)]
    pub consult: ConsultFile,
    #[serde(default)]
    pub screening: ScreeningFile,
    #[serde(default)]
    pub taskforce: TaskForceFile,
    #[serde(default)]
    pub licensing: LicensingFile,
    /// Risk scoring: the methodology file and this jurisdiction's overrides.
    #[serde(default, skip_serializing_if = "crate::risk::RiskFile::is_default")]
    pub risk: crate::risk::RiskFile,
    /// The web console; off unless `listen` is set.
    #[serde(default, skip_serializing_if = "WebFile::is_default")]
    pub web: WebFile,
}

/// The web console's HTTPS listener (client certificates required).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebFile {
    /// Address the console binds, e.g. "0.0.0.0:8443"; absent: no console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

impl WebFile {
    pub fn is_default(&self) -> bool {
        self == &WebFile::default()
    }
}

/// Licensing safeguards.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LicensingFile {
    /// The risk band from which a decision (approve, deny) needs a second
    /// officer's countersignature; "never" turns four eyes off.
    pub four_eyes_from: String,
    /// Days an approval is valid when the decision names no end.
    pub validity_days: u32,
}

impl Default for LicensingFile {
    fn default() -> Self {
        LicensingFile {
            four_eyes_from: "high".to_owned(),
            validity_days: crate::licensing::terms::DEFAULT_VALIDITY_DAYS,
        }
    }
}

/// Joint task-force queries.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskForceFile {
    /// How long a query waits for each peer's answer.
    pub peer_deadline_ms: u64,
    /// Sustained task-force queries per minute one identity may make.
    pub queries_per_minute_per_identity: u32,
    /// Burst allowance of that bucket.
    pub query_burst_per_identity: u32,
    /// Most peers one query may fan out to.
    pub max_fanout: usize,
}

impl Default for TaskForceFile {
    fn default() -> Self {
        let limits = crate::taskforce::Limits::default();
        TaskForceFile {
            peer_deadline_ms: limits.peer_deadline.as_millis() as u64,
            queries_per_minute_per_identity: limits.queries_per_minute,
            query_burst_per_identity: limits.query_burst,
            max_fanout: limits.max_fanout,
        }
    }
}

/// Denied-party screening.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScreeningFile {
    /// Score (0..1] from which a listed name is reported as a match, unless
    /// a query gives its own.
    pub threshold: f64,
    /// Most entries one imported list may hold; larger imports are refused
    /// (ResourceExhausted) before anything is indexed. The full OFAC SDN
    /// list has about 18,000.
    pub max_list_entries: usize,
    /// Most names (primary names plus aliases) one imported list may hold;
    /// the index's memory grows with them.
    pub max_list_names: usize,
    /// Most bytes of entries one import may stream.
    pub max_list_bytes: usize,
}

impl Default for ScreeningFile {
    fn default() -> Self {
        let caps = crate::screening::ListCaps::default();
        ScreeningFile {
            threshold: 0.85,
            max_list_entries: caps.entries,
            max_list_names: caps.names,
            max_list_bytes: caps.bytes,
        }
    }
}

/// How long exchanged records are kept once they stop being in force. The
/// audit trail is never purged.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionFile {
    /// Days an alert is kept after it expired (or, without an expiry, after
    /// it was issued); 0 keeps alerts forever.
    pub alerts_days: u32,
    /// Days a denial is kept after it was revoked or reached its end date;
    /// 0 keeps denials forever.
    pub denials_days: u32,
    /// How often the node sweeps for records past their period.
    pub sweep_every_s: u64,
}

impl Default for RetentionFile {
    fn default() -> Self {
        let policy = RetentionPolicy::default();
        RetentionFile {
            alerts_days: policy.alerts_days,
            denials_days: policy.denials_days,
            sweep_every_s: policy.sweep_every.as_secs(),
        }
    }
}

/// The clocks on consultations (EU Regulation 2021/821, Article 16).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsultFile {
    /// Working days the consulted jurisdiction has to answer a request.
    pub answer_within_working_days: u32,
    /// The most one extension by the consulted jurisdiction may allow.
    pub max_working_days: u32,
    /// This jurisdiction's weekend days (English names).
    pub weekend: Vec<String>,
    /// A file of public holidays, one ISO date per line (`#` comments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holidays_file: Option<PathBuf>,
    /// What silence past the deadline means for the no-undercut gate:
    /// `nothing` (approval stays blocked) or `no-objection`.
    pub silence_means: String,
}

impl Default for ConsultFile {
    fn default() -> Self {
        ConsultFile {
            answer_within_working_days: 10,
            max_working_days: 30,
            weekend: vec!["saturday".into(), "sunday".into()],
            holidays_file: None,
            silence_means: "nothing".into(),
        }
    }
}

pub use crate::consult::calendar::ConsultClocks;

impl ConsultFile {
    fn clocks(&self, base: &Path) -> Result<ConsultClocks, String> {
        use crate::consult::calendar;
        let max = calendar::MAX_WORKING_DAYS;
        if self.answer_within_working_days == 0 || self.answer_within_working_days > max {
            return Err(format!(
                "consult.answer_within_working_days must be 1 to {max}"
            ));
        }
        if self.max_working_days < self.answer_within_working_days || self.max_working_days > max {
            return Err(format!(
                "consult.max_working_days must be between answer_within_working_days and {max}"
            ));
        }
        let weekend = self
            .weekend
            .iter()
            .map(|d| calendar::weekday(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("consult.weekend: {e}"))?;
        let holidays = match &self.holidays_file {
            None => Default::default(),
            Some(p) => {
                let path = if p.is_absolute() {
                    p.clone()
                } else {
                    base.join(p)
                };
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("consult.holidays_file {}: {e}", path.display()))?;
                calendar::parse_holidays(&text)
                    .map_err(|e| format!("consult.holidays_file {}: {e}", path.display()))?
            }
        };
        let silence_is_no_objection = match self.silence_means.as_str() {
            "nothing" => false,
            "no-objection" => true,
            other => {
                return Err(format!(
                    "consult.silence_means {other:?}: expected \"nothing\" or \"no-objection\""
                ))
            }
        };
        Ok(ConsultClocks {
            answer_within_working_days: self.answer_within_working_days,
            max_working_days: self.max_working_days,
            calendar: calendar::Calendar::new(weekend, holidays),
            silence_is_no_objection,
        })
    }
}

/// The clocks export-control practice puts on exchanged records.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExchangeFile {
    /// Days after a denial's latest version (its issue, or the amendment
    /// that last reviewed it) when it is due for review.
    pub denial_review_after_days: u32,
}

impl Default for ExchangeFile {
    fn default() -> Self {
        ExchangeFile {
            denial_review_after_days: 3 * 365,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditFile {
    /// How often the node signs a checkpoint of its audit chain (when it grew).
    pub checkpoint_every_s: u64,
}

impl Default for AuditFile {
    fn default() -> Self {
        AuditFile {
            checkpoint_every_s: 300,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    /// This jurisdiction's CA certificate (PEM): trusted for its own clients.
    pub ca_cert: PathBuf,
    /// The node's certificate (PEM), used to serve and to call peers.
    pub cert: PathBuf,
    /// The node's private key (PEM), mode 0600.
    pub key: PathBuf,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningFile {
    /// Ed25519 record-signing key, PKCS#8 DER, mode 0600.
    pub key: PathBuf,
    /// Public keys the signing key replaced (written by
    /// `concord pki rotate-signing-key`); absent until the first rotation.
    #[serde(default = "default_retired_keys")]
    pub retired: PathBuf,
}

fn default_retired_keys() -> PathBuf {
    PathBuf::from("signing-retired.toml")
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FederationFile {
    /// How often a link sends a heartbeat to its peer.
    pub heartbeat_ms: u64,
    /// Deadline of one connection attempt or heartbeat.
    pub timeout_ms: u64,
    /// Upper bound of the reconnect backoff.
    pub max_backoff_ms: u64,
    /// Take a peer's rotated signing key when its node announces a bundle
    /// whose handover chain starts at the key trusted here; false: only
    /// through `concord peer update`.
    pub accept_announced_keys: bool,
}

impl Default for FederationFile {
    fn default() -> Self {
        FederationFile {
            heartbeat_ms: 2_000,
            timeout_ms: 3_000,
            max_backoff_ms: 30_000,
            accept_announced_keys: true,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsFile {
    /// Largest gRPC message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Most concurrent client connections; further ones are closed right
    /// after their handshake.
    pub max_connections: usize,
    /// Deadline for a whole TLS handshake, from accept.
    pub handshake_timeout_ms: u64,
    /// How long a graceful shutdown waits for in-flight requests.
    pub shutdown_grace_ms: u64,
    /// Most TLS handshakes in progress at once; further connections are
    /// closed at once, and established connections keep their slots.
    pub max_pending_handshakes: usize,
    /// Most TLS handshakes in progress from one source address (IPv6: one
    /// /64); further connections from it are closed at once, so one source
    /// cannot fill `max_pending_handshakes`.
    pub max_pending_handshakes_per_address: usize,
    /// Deadline from accept to the client's complete TLS ClientHello (at
    /// most `handshake_timeout_ms`): a connection that never starts TLS gives
    /// its handshake place back this early.
    pub tls_start_timeout_ms: u64,
    /// Most concurrent connections one certificate identity may hold.
    pub max_connections_per_identity: usize,
    /// Most concurrent connections all identities of one other jurisdiction
    /// may hold together (its CA can mint any number of names). Absent:
    /// `max_connections / 8`. The own jurisdiction is bounded by
    /// `max_connections` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections_per_jurisdiction: Option<usize>,
    /// Of `max_connections`, how many other jurisdictions together must
    /// leave to this node's own (its admins, officers, analysts). Absent:
    /// `max_connections / 4`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_connections_own_jurisdiction: Option<usize>,
    /// Sustained requests per second one identity may make (token bucket).
    pub requests_per_second_per_identity: u32,
    /// Burst allowance of that bucket.
    pub request_burst_per_identity: u32,
    /// Most own records queued for one peer. Beyond it, issuing a record
    /// naming that peer fails with ResourceExhausted (nothing is dropped).
    pub max_outbox_per_peer: usize,
    /// Most equivocation evidence entries kept per peer (each holds both
    /// signed envelopes, up to ~520 KB); further conflicts are counted only.
    pub max_evidence_per_peer: u64,
    /// Most bytes of equivocation evidence kept per peer.
    pub max_evidence_bytes_per_peer: u64,
    /// Most requests in flight at once on one connection (HTTP/2 streams);
    /// a client opening more waits for one to finish.
    pub max_concurrent_streams: u32,
    /// Deadline for answering one request (for a streaming response: for
    /// starting it). A client's own, shorter `grpc-timeout` wins.
    pub request_timeout_ms: u64,
    /// How often the node pings each connection, and how long it waits for
    /// the answer before closing it as dead.
    pub keepalive_interval_ms: u64,
    pub keepalive_timeout_ms: u64,
    /// A connection on which the client sends nothing (not even a ping
    /// answer) for this long is closed; must exceed keepalive_interval_ms.
    pub idle_timeout_ms: u64,
}

impl Default for LimitsFile {
    fn default() -> Self {
        LimitsFile {
            max_message_bytes: 4 * 1024 * 1024,
            max_connections: 1024,
            handshake_timeout_ms: 10_000,
            shutdown_grace_ms: 10_000,
            max_pending_handshakes: 256,
            max_pending_handshakes_per_address: 16,
            tls_start_timeout_ms: 2_000,
            max_connections_per_identity: 64,
            max_connections_per_jurisdiction: None,
            reserved_connections_own_jurisdiction: None,
            requests_per_second_per_identity: 5_000,
            request_burst_per_identity: 10_000,
            max_outbox_per_peer: 1_000_000,
            max_evidence_per_peer: crate::exchange::EvidenceLimits::default().entries,
            max_evidence_bytes_per_peer: crate::exchange::EvidenceLimits::default().bytes,
            max_concurrent_streams: 128,
            request_timeout_ms: 120_000,
            keepalive_interval_ms: 30_000,
            keepalive_timeout_ms: 10_000,
            idle_timeout_ms: 120_000,
        }
    }
}

fn default_min_free_disk_bytes() -> u64 {
    crate::store::DEFAULT_MIN_FREE_BYTES
}

impl LimitsFile {
    /// Connections one other jurisdiction may hold: as set, or `max_connections / 8`.
    pub fn max_connections_per_jurisdiction(&self) -> usize {
        self.max_connections_per_jurisdiction
            .unwrap_or((self.max_connections / 8).max(1))
    }

    /// Connections kept for the own jurisdiction: as set, or `max_connections / 4`.
    pub fn reserved_connections_own_jurisdiction(&self) -> usize {
        self.reserved_connections_own_jurisdiction
            .unwrap_or(self.max_connections / 4)
    }

    /// The same limits with every key that defaults from another written
    /// out, as `concord pki init` puts them in a new node.toml.
    pub fn spelled_out(self) -> Self {
        LimitsFile {
            max_connections_per_jurisdiction: Some(self.max_connections_per_jurisdiction()),
            reserved_connections_own_jurisdiction: Some(
                self.reserved_connections_own_jurisdiction(),
            ),
            ..self
        }
    }
}

fn default_node_name() -> String {
    "node".to_owned()
}

/// The smallest `limits.max_message_bytes`: a peer's push or catch-up batch
/// (`exchange::BATCH_BYTES`) must always fit.
pub const MIN_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// A checked configuration with absolute paths and typed values.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub path: PathBuf,
    pub jurisdiction: Jurisdiction,
    pub node_name: String,
    pub listen: SocketAddr,
    pub advertise: String,
    pub data_dir: PathBuf,
    pub min_free_disk_bytes: u64,
    pub metrics_listen: Option<SocketAddr>,
    /// The web console's listener; None: no console.
    pub web_listen: Option<SocketAddr>,
    pub ca_cert: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub signing_key: PathBuf,
    pub retired_signing_keys: PathBuf,
    pub heartbeat: Duration,
    pub accept_announced_keys: bool,
    pub peer_timeout: Duration,
    pub max_backoff: Duration,
    pub max_message_bytes: usize,
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub shutdown_grace: Duration,
    pub max_pending_handshakes: usize,
    pub max_pending_handshakes_per_address: usize,
    pub tls_start_timeout: Duration,
    pub max_connections_per_identity: usize,
    pub max_connections_per_jurisdiction: usize,
    pub reserved_connections_own_jurisdiction: usize,
    pub requests_per_second_per_identity: u32,
    pub request_burst_per_identity: u32,
    pub max_outbox_per_peer: usize,
    pub evidence_limits: crate::exchange::EvidenceLimits,
    pub max_concurrent_streams: u32,
    pub request_timeout: Duration,
    pub keepalive_interval: Duration,
    pub keepalive_timeout: Duration,
    pub idle_timeout: Duration,
    pub checkpoint_every: Duration,
    pub retention: RetentionPolicy,
    /// When a denial is due for review after its latest version.
    pub denial_review_after: Duration,
    pub consult: ConsultClocks,
    pub screening_threshold: f32,
    pub screening_caps: crate::screening::ListCaps,
    pub taskforce: crate::taskforce::Limits,
    /// The risk-scoring methodology with this jurisdiction's overrides applied.
    pub risk: crate::risk::Effective,
    /// The band from which decisions need four eyes; None: never.
    pub four_eyes_from: Option<String>,
    pub validity_days: u32,
}

/// Every problem found in a config file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "config {}: {}",
            self.path.display(),
            self.problems.join("; ")
        )
    }
}

impl NodeConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let fail = |problem: String| ConfigError {
            path: path.to_owned(),
            problems: vec![problem],
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| fail(one_line(&e.to_string())))?;
        // Absolute paths make logs and `status` unambiguous whatever the working directory.
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        let base = path.parent().map(Path::to_owned).unwrap_or_default();
        Self::check(file, &path, &base)
    }

    /// Checks every field, collecting all problems before failing.
    pub fn check(file: ConfigFile, path: &Path, base: &Path) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let mut note = |r: Result<(), String>| {
            if let Err(p) = r {
                problems.push(p);
            }
        };
        let jurisdiction = file.jurisdiction.parse::<Jurisdiction>();
        note(
            jurisdiction
                .as_ref()
                .map(|_| ())
                .map_err(|e| format!("jurisdiction: {e}")),
        );
        note(identity::validate_name(&file.node_name).map_err(|e| format!("node_name: {e}")));
        let listen = file.listen.parse::<SocketAddr>();
        note(
            listen
                .as_ref()
                .map(|_| ())
                .map_err(|e| format!("listen {:?}: {e}", file.listen)),
        );
        let advertise = file
            .advertise
            .clone()
            .unwrap_or_else(|| file.listen.clone());
        note(check_endpoint(&advertise).map_err(|e| format!("advertise: {e}")));
        let metrics = file.metrics_listen.as_deref().map(|m| {
            m.parse::<SocketAddr>()
                .map_err(|e| format!("metrics_listen {m:?}: {e}"))
                .and_then(|a| {
                    if a.ip().is_loopback() {
                        Ok(a)
                    } else {
                        Err(format!("metrics_listen {m:?}: must be a loopback address"))
                    }
                })
        });
        if let Some(Err(p)) = &metrics {
            problems.push(p.clone());
        }
        let web = file.web.listen.as_deref().map(|w| {
            w.parse::<SocketAddr>()
                .map_err(|e| format!("web.listen {w:?}: {e}"))
        });
        if let Some(Err(p)) = &web {
            problems.push(p.clone());
        }
        let positive = |name: &str, v: u64| {
            if v == 0 {
                Err(format!("{name} must be positive"))
            } else {
                Ok(())
            }
        };
        let mut more = vec![
            positive("federation.heartbeat_ms", file.federation.heartbeat_ms),
            positive("federation.timeout_ms", file.federation.timeout_ms),
            positive("federation.max_backoff_ms", file.federation.max_backoff_ms),
            if file.limits.max_message_bytes < MIN_MESSAGE_BYTES {
                Err(format!(
                    "limits.max_message_bytes must be at least {MIN_MESSAGE_BYTES} (peers push \
                     batches of up to {} bytes)",
                    crate::exchange::BATCH_BYTES
                ))
            } else {
                Ok(())
            },
            positive("limits.max_connections", file.limits.max_connections as u64),
            positive(
                "limits.handshake_timeout_ms",
                file.limits.handshake_timeout_ms,
            ),
            positive("limits.shutdown_grace_ms", file.limits.shutdown_grace_ms),
            positive(
                "limits.max_pending_handshakes",
                file.limits.max_pending_handshakes as u64,
            ),
            positive(
                "limits.max_pending_handshakes_per_address",
                file.limits.max_pending_handshakes_per_address as u64,
            ),
            positive(
                "limits.tls_start_timeout_ms",
                file.limits.tls_start_timeout_ms,
            ),
            positive(
                "limits.max_connections_per_identity",
                file.limits.max_connections_per_identity as u64,
            ),
            positive(
                "limits.max_connections_per_jurisdiction",
                file.limits.max_connections_per_jurisdiction() as u64,
            ),
            if file.limits.max_connections == 0
                || file.limits.reserved_connections_own_jurisdiction() < file.limits.max_connections
            {
                Ok(())
            } else {
                // Otherwise no peer could ever connect.
                Err(format!(
                    "limits.reserved_connections_own_jurisdiction ({}) must be below \
                     limits.max_connections ({})",
                    file.limits.reserved_connections_own_jurisdiction(),
                    file.limits.max_connections
                ))
            },
            positive(
                "limits.requests_per_second_per_identity",
                file.limits.requests_per_second_per_identity as u64,
            ),
            positive(
                "limits.request_burst_per_identity",
                file.limits.request_burst_per_identity as u64,
            ),
            positive(
                "limits.max_outbox_per_peer",
                file.limits.max_outbox_per_peer as u64,
            ),
            positive(
                "limits.max_evidence_per_peer",
                file.limits.max_evidence_per_peer,
            ),
            positive(
                "limits.max_evidence_bytes_per_peer",
                file.limits.max_evidence_bytes_per_peer,
            ),
            positive(
                "screening.max_list_entries",
                file.screening.max_list_entries as u64,
            ),
            positive(
                "screening.max_list_names",
                file.screening.max_list_names as u64,
            ),
            positive(
                "screening.max_list_bytes",
                file.screening.max_list_bytes as u64,
            ),
            positive(
                "limits.max_concurrent_streams",
                u64::from(file.limits.max_concurrent_streams),
            ),
            positive("limits.request_timeout_ms", file.limits.request_timeout_ms),
            positive(
                "limits.keepalive_interval_ms",
                file.limits.keepalive_interval_ms,
            ),
            positive(
                "limits.keepalive_timeout_ms",
                file.limits.keepalive_timeout_ms,
            ),
            positive("limits.idle_timeout_ms", file.limits.idle_timeout_ms),
            if file.limits.idle_timeout_ms > file.limits.keepalive_interval_ms {
                Ok(())
            } else {
                // Otherwise a live client with a quiet stream would be cut
                // before the ping that proves it alive.
                Err(format!(
                    "limits.idle_timeout_ms ({}) must exceed limits.keepalive_interval_ms ({})",
                    file.limits.idle_timeout_ms, file.limits.keepalive_interval_ms
                ))
            },
            positive("audit.checkpoint_every_s", file.audit.checkpoint_every_s),
            positive(
                "taskforce.peer_deadline_ms",
                file.taskforce.peer_deadline_ms,
            ),
            positive(
                "taskforce.queries_per_minute_per_identity",
                file.taskforce.queries_per_minute_per_identity as u64,
            ),
            positive(
                "taskforce.query_burst_per_identity",
                file.taskforce.query_burst_per_identity as u64,
            ),
            positive("taskforce.max_fanout", file.taskforce.max_fanout as u64),
        ];
        problems.extend(more.drain(..).filter_map(Result::err));
        problems.extend(check_retention(&file.retention).err());
        if !(1..=36_500).contains(&file.exchange.denial_review_after_days) {
            problems.push(format!(
                "exchange.denial_review_after_days {} must be between 1 and 36500",
                file.exchange.denial_review_after_days
            ));
        }
        let threshold = file.screening.threshold;
        if !(threshold > 0.0 && threshold <= 1.0) {
            problems.push(format!(
                "screening.threshold {threshold} must be above 0 and at most 1"
            ));
        }
        let risk = crate::risk::Effective::load(&file.risk, base);
        if let Err(p) = &risk {
            problems.extend(p.iter().cloned());
        }
        let four_eyes_from = match file.licensing.four_eyes_from.trim() {
            "never" => None,
            band => Some(band.to_owned()),
        };
        if let (Ok(r), Some(band)) = (&risk, &four_eyes_from) {
            let bands = r.methodology.bands.named();
            if !bands.iter().any(|(name, _)| name == band) {
                let names: Vec<&str> = bands.iter().map(|(n, _)| *n).collect();
                problems.push(format!(
                    "licensing.four_eyes_from {band:?} is not a risk band ({}) or \"never\"",
                    names.join(", ")
                ));
            }
        }
        if file.licensing.validity_days == 0 {
            problems.push("licensing.validity_days must be at least 1".to_owned());
        }
        let consult = file.consult.clocks(base).unwrap_or_else(|p| {
            problems.push(p);
            ConsultClocks::default()
        });
        match (jurisdiction, listen, risk, problems.is_empty()) {
            (Ok(jurisdiction), Ok(listen), Ok(risk), true) => Ok(NodeConfig {
                path: path.to_owned(),
                jurisdiction,
                node_name: file.node_name,
                listen,
                advertise,
                data_dir: base.join(&file.data_dir),
                min_free_disk_bytes: file.min_free_disk_bytes,
                metrics_listen: metrics.and_then(Result::ok),
                web_listen: web.and_then(Result::ok),
                ca_cert: base.join(&file.tls.ca_cert),
                cert: base.join(&file.tls.cert),
                key: base.join(&file.tls.key),
                signing_key: base.join(&file.signing.key),
                retired_signing_keys: base.join(&file.signing.retired),
                heartbeat: Duration::from_millis(file.federation.heartbeat_ms),
                accept_announced_keys: file.federation.accept_announced_keys,
                peer_timeout: Duration::from_millis(file.federation.timeout_ms),
                max_backoff: Duration::from_millis(file.federation.max_backoff_ms),
                max_message_bytes: file.limits.max_message_bytes,
                max_connections: file.limits.max_connections,
                handshake_timeout: Duration::from_millis(file.limits.handshake_timeout_ms),
                shutdown_grace: Duration::from_millis(file.limits.shutdown_grace_ms),
                max_pending_handshakes: file.limits.max_pending_handshakes,
                max_pending_handshakes_per_address: file.limits.max_pending_handshakes_per_address,
                tls_start_timeout: Duration::from_millis(file.limits.tls_start_timeout_ms),
                max_connections_per_identity: file.limits.max_connections_per_identity,
                max_connections_per_jurisdiction: file.limits.max_connections_per_jurisdiction(),
                reserved_connections_own_jurisdiction: file
                    .limits
                    .reserved_connections_own_jurisdiction(),
                requests_per_second_per_identity: file.limits.requests_per_second_per_identity,
                request_burst_per_identity: file.limits.request_burst_per_identity,
                max_outbox_per_peer: file.limits.max_outbox_per_peer,
                evidence_limits: crate::exchange::EvidenceLimits {
                    entries: file.limits.max_evidence_per_peer,
                    bytes: file.limits.max_evidence_bytes_per_peer,
                },
                max_concurrent_streams: file.limits.max_concurrent_streams,
                request_timeout: Duration::from_millis(file.limits.request_timeout_ms),
                keepalive_interval: Duration::from_millis(file.limits.keepalive_interval_ms),
                keepalive_timeout: Duration::from_millis(file.limits.keepalive_timeout_ms),
                idle_timeout: Duration::from_millis(file.limits.idle_timeout_ms),
                checkpoint_every: Duration::from_secs(file.audit.checkpoint_every_s),
                retention: RetentionPolicy {
                    alerts_days: file.retention.alerts_days,
                    denials_days: file.retention.denials_days,
                    sweep_every: Duration::from_secs(file.retention.sweep_every_s),
                },
                denial_review_after: Duration::from_secs(
                    u64::from(file.exchange.denial_review_after_days) * 86_400,
                ),
                consult,
                screening_threshold: threshold as f32,
                screening_caps: crate::screening::ListCaps {
                    entries: file.screening.max_list_entries,
                    names: file.screening.max_list_names,
                    bytes: file.screening.max_list_bytes,
                },
                taskforce: crate::taskforce::Limits {
                    peer_deadline: Duration::from_millis(file.taskforce.peer_deadline_ms),
                    queries_per_minute: file.taskforce.queries_per_minute_per_identity,
                    query_burst: file.taskforce.query_burst_per_identity,
                    max_fanout: file.taskforce.max_fanout,
                },
                risk,
                four_eyes_from,
                validity_days: file.licensing.validity_days,
            }),
            _ => Err(ConfigError {
                path: path.to_owned(),
                problems,
            }),
        }
    }
}

/// Periods of at most a century, and a positive sweep interval.
fn check_retention(r: &RetentionFile) -> Result<(), String> {
    const MAX_DAYS: u32 = 36_500;
    let mut bad = Vec::new();
    for (name, days) in [
        ("alerts_days", r.alerts_days),
        ("denials_days", r.denials_days),
    ] {
        if days > MAX_DAYS {
            bad.push(format!(
                "retention.{name} {days} exceeds {MAX_DAYS} (use 0 to keep forever)"
            ));
        }
    }
    if r.sweep_every_s == 0 {
        bad.push("retention.sweep_every_s must be positive".to_owned());
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The good configuration with `more` appended.
    fn good_with(more: &str) -> Result<NodeConfig, ConfigError> {
        file(&format!("{GOOD}\n{more}"))
    }

    fn file(toml_text: &str) -> Result<NodeConfig, ConfigError> {
        let file: ConfigFile = toml::from_str(toml_text).map_err(|e| ConfigError {
            path: "t".into(),
            problems: vec![e.to_string()],
        })?;
        NodeConfig::check(
            file,
            Path::new("/etc/concord/node.toml"),
            Path::new("/etc/concord"),
        )
    }

    const GOOD: &str = r#"
        jurisdiction = "DE"
        listen = "127.0.0.1:7401"
        data_dir = "data"
        metrics_listen = "127.0.0.1:9401"
        [tls]
        ca_cert = "ca.crt"
        cert = "node.crt"
        key = "node.key"
        [signing]
        key = "signing.pk8"
    "#;

    #[test]
    fn resolves_paths_against_the_config_dir() {
        let c = file(GOOD).unwrap();
        assert_eq!(c.data_dir, Path::new("/etc/concord/data"));
        assert_eq!(c.advertise, "127.0.0.1:7401");
        assert_eq!(c.heartbeat, Duration::from_secs(2));
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let bad = GOOD
            .replace("\"DE\"", "\"de\"")
            .replace("127.0.0.1:7401", "nowhere")
            .replace("127.0.0.1:9401", "0.0.0.0:9401");
        let err = file(&bad).unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        assert!(err.to_string().contains("jurisdiction"));
        assert!(err.to_string().contains("loopback"));
    }

    #[test]
    fn retention_has_defaults_and_is_checked() {
        let c = file(GOOD).unwrap();
        assert_eq!(c.retention, RetentionPolicy::default());
        let c = good_with("[retention]\nalerts_days = 0\ndenials_days = 30\n").unwrap();
        assert_eq!((c.retention.alerts_days, c.retention.denials_days), (0, 30));
        assert_eq!(c.retention.sweep_every, Duration::from_secs(86_400));
        let text = good_with("[retention]\nalerts_days = 99999\nsweep_every_s = 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("retention.alerts_days") && text.contains("sweep_every_s"),
            "{text}"
        );
    }

    #[test]
    fn risk_overrides_are_applied_and_checked() {
        let c = file(GOOD).unwrap();
        assert_eq!(c.risk.source, "baseline");
        let c =
            good_with("[risk]\nreview_threshold = 50\n[risk.destination_tiers]\nAE = 4\n").unwrap();
        assert_eq!(c.risk.methodology.review_threshold, 50);
        assert_eq!(c.risk.methodology.destinations.tier("AE"), (4, true));
        let text = good_with("[risk]\nreview_threshold = 500\n[risk.weights]\ndenials = 90\n")
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("review_threshold") && text.contains("weights add up to 170"),
            "{text}"
        );
    }

    #[test]
    fn risk_floor_overrides_are_applied_and_checked() {
        let c = file(GOOD).unwrap();
        assert_eq!(c.risk.methodology.floors.strong_match.score, 0.95);
        let c = good_with(
            "[risk.floors.strong_match]\nscore = 0.9\n\
             [risk.floors.peer_denial]\nband = \"critical\"\n\
             [risk.floors.embargoed_military]\nband = \"off\"\nfrom_tier = 2\n",
        )
        .unwrap();
        let floors = &c.risk.methodology.floors;
        assert_eq!(floors.strong_match.score, 0.9);
        assert_eq!(floors.strong_match.band, "high");
        assert_eq!(floors.peer_denial.band, "critical");
        assert_eq!(
            (
                floors.embargoed_military.band.as_str(),
                floors.embargoed_military.from_tier
            ),
            ("off", 2)
        );
        assert_eq!(floors.top_tier_destination.band, "high");
        assert!(
            c.risk.source.contains("floors.peer_denial.band"),
            "{}",
            c.risk.source
        );
        let text = good_with(
            "[risk.floors.top_tier_destination]\nband = \"severe\"\n\
             [risk.floors.strong_match]\nscore = 1.5\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            text.contains("floors.top_tier_destination.band")
                && text.contains("floors.strong_match.score = 1.5"),
            "{text}"
        );
        assert!(good_with("[risk.floors.sanctioned]\nband = \"high\"\n").is_err());
        assert!(good_with("[risk.floors.peer_denial]\nscore = 1\n").is_err());
    }

    #[test]
    fn connection_limits_have_defaults_sized_from_max_connections_and_are_checked() {
        let c = file(GOOD).unwrap();
        assert_eq!(c.max_pending_handshakes_per_address, 16);
        assert_eq!(c.tls_start_timeout, Duration::from_secs(2));
        assert_eq!(
            (
                c.max_connections_per_jurisdiction,
                c.reserved_connections_own_jurisdiction
            ),
            (128, 256)
        );
        let c = good_with("[limits]\nmax_connections = 40\n").unwrap();
        assert_eq!(
            (
                c.max_connections_per_jurisdiction,
                c.reserved_connections_own_jurisdiction
            ),
            (5, 10)
        );
        let err = good_with(
            "[limits]\nmax_pending_handshakes_per_address = 0\ntls_start_timeout_ms = 0\n\
             max_connections_per_jurisdiction = 0\nmax_connections = 10\n\
             reserved_connections_own_jurisdiction = 10\n",
        )
        .unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        assert!(err.to_string().contains("must be below"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(good_with("[extra]\nx = 1\n").is_err());
    }
}
