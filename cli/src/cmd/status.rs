//! `concord status`: the node's identity, store, metrics and peer links.

use std::io::IsTerminal;
use std::path::Path;

use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{self, rpc_error, Clients};
use crate::cmd::peer::{render_peers, PeerView};
use crate::duration::now_unix_ms;
use crate::exit::CliError;
use crate::output::{bytes, duration, key_values, print_json, print_text, rfc3339, OutputFormat};
use crate::profile::Profile;

pub async fn run(profile: Option<&Path>, output: OutputFormat) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.admin;
    let status = client
        .status(pb::StatusRequest {})
        .await
        .map_err(|s| rpc_error("Status", &profile, &s))?
        .into_inner();
    let view = StatusView::from(&status);
    match output {
        OutputFormat::Json => print_json(&view),
        OutputFormat::Table => {
            let text = view.render();
            if std::io::stdout().is_terminal() {
                print_text(&highlight(&text))
            } else {
                print_text(&text)
            }
        }
    }
}

/// Bold red for the equivocation warning, on terminals.
fn highlight(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.contains(ATTENTION) {
                format!("\x1b[1;31m{l}\x1b[0m\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

const ATTENTION: &str = "!! ATTENTION";

#[derive(Debug, Serialize)]
pub struct StatusView {
    pub jurisdiction: String,
    pub node_name: String,
    pub endpoint: String,
    pub signing_key_id: String,
    /// Keys rotated out, still verifying what they signed before.
    pub retired_signing_key_ids: Vec<String>,
    /// Certificate and identity revocations in force.
    pub revocations: u64,
    pub version: String,
    pub uptime_seconds: u64,
    pub store: Option<StoreView>,
    /// Null when metrics are disabled.
    pub metrics_address: Option<String>,
    /// Equivocation evidence records held; non-zero needs an admin's attention.
    pub equivocations: u64,
    /// Why issuing is paused (a peer holds records this store lost); null when not.
    pub issuing_paused: Option<String>,
    /// This node's denials in force past their review date.
    pub denials_overdue_for_review: u64,
    /// Consultations past their answer deadline without an answer.
    pub consultations_overdue: u64,
    pub peers: Vec<PeerView>,
    /// Soonest expiry first.
    pub certificates: Vec<CertificateView>,
}

#[derive(Debug, Serialize)]
pub struct CertificateView {
    /// `node`, `ca`, or `peer FR ca`.
    pub name: String,
    /// RFC 3339 UTC.
    pub not_after: String,
    pub not_after_unix_ms: i64,
}

/// Certificates expiring sooner than this are flagged for renewal.
const RENEW_WITHIN_DAYS: i64 = 30;

#[derive(Debug, Serialize)]
pub struct StoreView {
    pub path: String,
    pub schema_version: u32,
    pub size_on_disk_bytes: u64,
    pub durable_writes: u64,
    pub flushes: u64,
}

impl From<&pb::StatusResponse> for StatusView {
    fn from(s: &pb::StatusResponse) -> Self {
        StatusView {
            jurisdiction: s.jurisdiction.clone(),
            node_name: s.node_name.clone(),
            endpoint: s.endpoint.clone(),
            signing_key_id: s.signing_key_id.clone(),
            retired_signing_key_ids: s.retired_signing_key_ids.clone(),
            revocations: s.revocations,
            version: s.version.clone(),
            uptime_seconds: s.uptime_seconds,
            store: s.store.as_ref().map(|st| StoreView {
                path: st.path.clone(),
                schema_version: st.schema_version,
                size_on_disk_bytes: st.size_on_disk_bytes,
                durable_writes: st.durable_writes,
                flushes: st.flushes,
            }),
            metrics_address: Some(s.metrics_address.clone()).filter(|m| !m.is_empty()),
            equivocations: s.equivocations,
            issuing_paused: Some(s.issuing_paused.clone()).filter(|p| !p.is_empty()),
            denials_overdue_for_review: s.denials_overdue_for_review,
            consultations_overdue: s.consultations_overdue,
            peers: s.peers.iter().map(PeerView::from).collect(),
            certificates: s
                .certificates
                .iter()
                .map(|c| CertificateView {
                    name: c.name.clone(),
                    not_after: rfc3339(c.not_after_unix_ms).unwrap_or_default(),
                    not_after_unix_ms: c.not_after_unix_ms,
                })
                .collect(),
        }
    }
}

impl StatusView {
    pub fn render(&self) -> String {
        let mut out = key_values(
            "Node",
            &[
                ("jurisdiction", self.jurisdiction.clone()),
                ("name", self.node_name.clone()),
                ("endpoint", self.endpoint.clone()),
                ("signing key id", self.signing_key_id.clone()),
                (
                    "retired keys",
                    if self.retired_signing_key_ids.is_empty() {
                        "none".to_owned()
                    } else {
                        self.retired_signing_key_ids.join(", ")
                    },
                ),
                ("revocations", self.revocations.to_string()),
                ("version", self.version.clone()),
                ("uptime", duration(self.uptime_seconds)),
            ],
        );
        out.push('\n');
        match &self.store {
            Some(st) => out.push_str(&key_values(
                "Store",
                &[
                    ("path", st.path.clone()),
                    ("schema version", st.schema_version.to_string()),
                    ("size on disk", bytes(st.size_on_disk_bytes)),
                    ("durable writes", st.durable_writes.to_string()),
                    ("flushes", st.flushes.to_string()),
                ],
            )),
            None => out.push_str("Store\n  (not reported)\n"),
        }
        out.push('\n');
        out.push_str(&key_values(
            "Metrics",
            &[(
                "address",
                self.metrics_address
                    .clone()
                    .unwrap_or_else(|| "disabled".to_owned()),
            )],
        ));
        out.push('\n');
        out.push_str(&key_values(
            "Exchange",
            &[
                ("equivocations", equivocations(self.equivocations)),
                (
                    "issuing",
                    match &self.issuing_paused {
                        None => "yes".to_owned(),
                        Some(why) => format!("PAUSED  {ATTENTION}: {why}"),
                    },
                ),
                (
                    "review overdue",
                    match self.denials_overdue_for_review {
                        0 => "0".to_owned(),
                        n => format!("{n}  {ATTENTION}: concord denial due-for-review"),
                    },
                ),
                (
                    "consult late",
                    match self.consultations_overdue {
                        0 => "0".to_owned(),
                        n => format!("{n}  {ATTENTION}: concord consult list"),
                    },
                ),
                (
                    "outbox pending",
                    self.peers
                        .iter()
                        .map(|p| p.outbox_pending)
                        .sum::<u64>()
                        .to_string(),
                ),
            ],
        ));
        out.push('\n');
        if !self.certificates.is_empty() {
            let now = now_unix_ms();
            let rows: Vec<(&str, String)> = self
                .certificates
                .iter()
                .map(|c| (c.name.as_str(), expiry(c, now)))
                .collect();
            out.push_str(&key_values("Certificates", &rows));
            out.push('\n');
        }
        let connected = self.peers.iter().filter(|p| p.link.connected).count();
        out.push_str(&format!(
            "Peers ({} registered, {connected} connected)\n",
            self.peers.len()
        ));
        out.push_str(&render_peers(&self.peers));
        out
    }
}

/// `concord resume-issuing`: the admin's decision to go on issuing past
/// the records a peer holds that this node's store lost.
pub async fn resume_issuing(
    reason: &str,
    profile: Option<&std::path::Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    if reason.trim().is_empty() {
        return Err(CliError::invalid_argument("--reason: required"));
    }
    let profile = Profile::required(profile)?;
    let mut admin = Clients::connect(&profile).await?.admin;
    let counter = admin
        .resume_issuing(pb::ResumeIssuingRequest {
            reason: reason.to_owned(),
        })
        .await
        .map_err(|s| client::rpc_error("ResumeIssuing", &profile, &s))?
        .into_inner()
        .counter;
    match output {
        OutputFormat::Json => print_json(&serde_json::json!({ "resumed": true, "counter": counter })),
        OutputFormat::Table => print_text(&format!(
            "Issuing resumed; the sequence counter moved to {counter}, past every record partners hold.\n"
        )),
    }
}

/// "expires 2027-11-23T... (in 364 days)", flagged loudly when renewal is due.
fn expiry(c: &CertificateView, now_unix_ms: i64) -> String {
    let days = (c.not_after_unix_ms - now_unix_ms).div_euclid(86_400_000);
    if days < 0 {
        format!(
            "EXPIRED {}  {ATTENTION}: renew it and its trust bundle",
            c.not_after
        )
    } else if days < RENEW_WITHIN_DAYS {
        format!(
            "expires {} (in {days} days)  {ATTENTION}: renew it",
            c.not_after
        )
    } else {
        format!("expires {} (in {days} days)", c.not_after)
    }
}

/// The equivocation count, flagged loudly when non-zero.
fn equivocations(n: u64) -> String {
    if n == 0 {
        "0".to_owned()
    } else {
        format!("{n}  {ATTENTION}: a peer signed conflicting records; see `concord evidence list`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_block() {
        let status = pb::StatusResponse {
            jurisdiction: "DE".into(),
            node_name: "node".into(),
            endpoint: "127.0.0.1:7401".into(),
            signing_key_id: "00ff".into(),
            version: "0.1.0".into(),
            uptime_seconds: 65,
            store: Some(pb::StoreStatus {
                path: "/d/data".into(),
                schema_version: 1,
                size_on_disk_bytes: 2048,
                durable_writes: 3,
                flushes: 2,
            }),
            ..Default::default()
        };
        let text = StatusView::from(&status).render();
        for expected in [
            "Node\n  jurisdiction    DE\n",
            "  uptime          1m 5s\n",
            "  size on disk    2.0 KiB\n",
            "Metrics\n  address  disabled\n",
            "Exchange\n  equivocations   0\n  issuing         yes\n  review overdue  0\n  consult late    0\n  outbox pending  0\n",
            "Peers (0 registered, 0 connected)\nNo peers",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
        let json = serde_json::to_value(StatusView::from(&status)).unwrap();
        assert_eq!(json["metrics_address"], serde_json::Value::Null);
        assert_eq!(json["store"]["flushes"], 2);
        assert_eq!(json["equivocations"], 0);
        let alarming = pb::StatusResponse {
            equivocations: 2,
            ..status
        };
        let text = StatusView::from(&alarming).render();
        assert!(text.contains("  equivocations   2  !! ATTENTION"), "{text}");
        let paused = pb::StatusResponse {
            issuing_paused: "issuing is paused: FR holds sequence 9".into(),
            ..alarming
        };
        let text = StatusView::from(&paused).render();
        assert!(
            text.contains("  issuing         PAUSED  !! ATTENTION: issuing is paused"),
            "{text}"
        );
    }

    #[test]
    fn certificates_due_for_renewal_are_flagged() {
        let day = 86_400_000;
        let now = 1_700_000_000_000;
        let cert = |in_days: i64| CertificateView {
            name: "node".into(),
            not_after: "t".into(),
            not_after_unix_ms: now + in_days * day + 1000,
        };
        assert_eq!(expiry(&cert(364), now), "expires t (in 364 days)");
        assert!(expiry(&cert(10), now).contains("in 10 days)  !! ATTENTION"));
        assert!(expiry(&cert(-2), now).starts_with("EXPIRED t  !! ATTENTION"));
    }
}
