//! `concord stats [--public]`: counts of exchanged records (admin). With
//! `--public`, nothing naming a peer, a party or a record is requested or
//! printed, so the output can be published as it is.

use std::collections::BTreeMap;
use std::path::Path;

use clap::Args;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::CliError;
use crate::output::{key_values, print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Leave out everything naming a peer, a party or a record (for publication).
    #[arg(long)]
    pub public: bool,
}

pub async fn run(
    args: StatsArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let mut client = Clients::whole_store_admin(&profile).await?;
    let resp = client
        .stats(pb::StatsRequest {
            public: args.public,
        })
        .await
        .map_err(|s| rpc_error("Stats", &profile, &s))?
        .into_inner();
    let view = StatsView::new(&resp, args.public);
    match output {
        OutputFormat::Json => print_json(&view),
        OutputFormat::Table => print_text(&view.render()),
    }
}

#[derive(Debug, Serialize)]
pub struct StatsView {
    pub jurisdiction: String,
    pub at: Option<String>,
    pub public: bool,
    pub alerts: CountsView,
    pub denials: CountsView,
    pub equivocations: u64,
    pub audit_entries: u64,
    pub licensing: DecisionsView,
    /// Absent in public statistics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers: Option<Vec<PeerStatsView>>,
}

#[derive(Debug, Default, Serialize)]
pub struct CountsView {
    pub issued: u64,
    pub received: u64,
    pub issued_active: u64,
    pub received_active: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub issued_by_category: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub received_by_category: BTreeMap<String, u64>,
    pub issued_changes: u64,
    pub received_changes: u64,
    pub issued_revoked: u64,
    pub received_revoked: u64,
}

/// License applications; aggregates only.
#[derive(Debug, Default, Serialize)]
pub struct DecisionsView {
    pub applications: u64,
    pub decided: u64,
    pub pending: u64,
    /// Days from submission to first decision; null when nothing was decided.
    pub p50_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub by_outcome: BTreeMap<String, u64>,
    pub by_state: BTreeMap<String, u64>,
    pub appeals: u64,
    /// Appeals decided: upheld, overturned.
    pub appeals_by_result: BTreeMap<String, u64>,
    pub shipments: u64,
    /// Shipments recorded although they failed the license's checks.
    pub shipments_with_discrepancy: u64,
    /// End-use checks by result: pass, fail, inconclusive.
    pub end_use_checks: BTreeMap<String, u64>,
    /// The same by calendar year (UTC) of each event, oldest first.
    pub by_year: Vec<YearView>,
}

/// One calendar year of licensing figures.
#[derive(Debug, Default, Serialize)]
pub struct YearView {
    pub year: i32,
    pub submitted: u64,
    pub decided: u64,
    /// Days from submission to first decision; null when nothing was decided.
    pub p50_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub appeals: u64,
    pub shipments: u64,
    pub end_use_checks: u64,
}

impl From<Option<&pb::DecisionStats>> for DecisionsView {
    fn from(d: Option<&pb::DecisionStats>) -> Self {
        let Some(d) = d else {
            return DecisionsView::default();
        };
        let counts = |v: &[pb::OutcomeCount]| {
            v.iter()
                .map(|c| (c.outcome.clone(), c.count))
                .collect::<BTreeMap<_, _>>()
        };
        let decided = d.decided > 0;
        DecisionsView {
            applications: d.applications,
            decided: d.decided,
            pending: d.pending,
            p50_days: decided.then_some(d.p50_days),
            p90_days: decided.then_some(d.p90_days),
            by_outcome: counts(&d.by_outcome),
            by_state: counts(&d.by_state),
            appeals: d.appeals,
            appeals_by_result: counts(&d.appeals_by_result),
            shipments: d.shipments,
            shipments_with_discrepancy: d.shipments_with_discrepancy,
            end_use_checks: counts(&d.end_use_checks),
            by_year: d
                .by_year
                .iter()
                .map(|y| YearView {
                    year: y.year,
                    submitted: y.submitted,
                    decided: y.decided,
                    p50_days: (y.decided > 0).then_some(y.p50_days),
                    p90_days: (y.decided > 0).then_some(y.p90_days),
                    appeals: y.appeals,
                    shipments: y.shipments,
                    end_use_checks: y.end_use_checks,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PeerStatsView {
    pub jurisdiction: String,
    pub alerts_sent: u64,
    pub alerts_received: u64,
    pub denials_sent: u64,
    pub denials_received: u64,
    pub equivocations: u64,
}

impl From<Option<&pb::RecordCounts>> for CountsView {
    fn from(c: Option<&pb::RecordCounts>) -> Self {
        let Some(c) = c else {
            return CountsView::default();
        };
        let categories = |v: &[pb::CategoryCount]| {
            v.iter()
                .map(|c| (c.category.clone(), c.count))
                .collect::<BTreeMap<_, _>>()
        };
        CountsView {
            issued: c.issued,
            received: c.received,
            issued_active: c.issued_active,
            received_active: c.received_active,
            issued_by_category: categories(&c.issued_by_category),
            received_by_category: categories(&c.received_by_category),
            issued_changes: c.issued_changes,
            received_changes: c.received_changes,
            issued_revoked: c.issued_revoked,
            received_revoked: c.received_revoked,
        }
    }
}

impl StatsView {
    /// `public` is what was asked for: peers are dropped even if a node sent them.
    pub fn new(r: &pb::StatsResponse, public: bool) -> Self {
        StatsView {
            jurisdiction: r.jurisdiction.clone(),
            at: rfc3339(r.at_unix_ms),
            public,
            alerts: CountsView::from(r.alerts.as_ref()),
            denials: CountsView::from(r.denials.as_ref()),
            equivocations: r.equivocations,
            audit_entries: r.audit_entries,
            licensing: DecisionsView::from(r.licensing.as_ref()),
            peers: (!public).then(|| {
                r.peers
                    .iter()
                    .map(|p| PeerStatsView {
                        jurisdiction: p.jurisdiction.clone(),
                        alerts_sent: p.alerts_sent,
                        alerts_received: p.alerts_received,
                        denials_sent: p.denials_sent,
                        denials_received: p.denials_received,
                        equivocations: p.equivocations,
                    })
                    .collect()
            }),
        }
    }

    pub fn render(&self) -> String {
        let title = format!(
            "{} statistics{} at {}",
            self.jurisdiction,
            if self.public { " (public)" } else { "" },
            self.at.clone().unwrap_or_else(|| "-".into())
        );
        let mut out = format!("{title}\n\n");
        let a = &self.alerts;
        out.push_str(&key_values(
            "Alerts",
            &[
                ("sent", format!("{} ({} active)", a.issued, a.issued_active)),
                (
                    "received",
                    format!("{} ({} active)", a.received, a.received_active),
                ),
            ],
        ));
        let categories: std::collections::BTreeSet<&String> = a
            .issued_by_category
            .keys()
            .chain(a.received_by_category.keys())
            .collect();
        if !categories.is_empty() {
            let mut table = Table::new(["  CATEGORY", "SENT", "RECEIVED"]);
            for c in categories {
                table.row([
                    format!("  {c}"),
                    a.issued_by_category
                        .get(c)
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                    a.received_by_category
                        .get(c)
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                ]);
            }
            out.push_str(&table.render());
        }
        out.push('\n');
        let d = &self.denials;
        out.push_str(&key_values(
            "Denials",
            &[
                (
                    "issued",
                    format!(
                        "{} ({} in force, {} revoked, {} amendments/revocations)",
                        d.issued, d.issued_active, d.issued_revoked, d.issued_changes
                    ),
                ),
                (
                    "received",
                    format!(
                        "{} ({} in force, {} revoked, {} amendments/revocations)",
                        d.received, d.received_active, d.received_revoked, d.received_changes
                    ),
                ),
            ],
        ));
        out.push('\n');
        let l = &self.licensing;
        let days = |d: Option<f64>| d.map_or_else(|| "-".to_owned(), |d| format!("{d:.1} days"));
        let joined = |m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                return "-".to_owned();
            }
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&key_values(
            "Licensing",
            &[
                (
                    "applications",
                    format!(
                        "{} ({} decided, {} pending)",
                        l.applications, l.decided, l.pending
                    ),
                ),
                (
                    "time to decision",
                    format!("p50 {}, p90 {}", days(l.p50_days), days(l.p90_days)),
                ),
                ("first decisions", joined(&l.by_outcome)),
                ("current states", joined(&l.by_state)),
                (
                    "appeals",
                    format!("{} ({})", l.appeals, joined(&l.appeals_by_result)),
                ),
                (
                    "shipments",
                    format!(
                        "{} ({} with a discrepancy)",
                        l.shipments, l.shipments_with_discrepancy
                    ),
                ),
                ("end-use checks", joined(&l.end_use_checks)),
            ],
        ));
        out.push('\n');
        if !l.by_year.is_empty() {
            let years: Vec<(String, String)> = l
                .by_year
                .iter()
                .map(|y| {
                    (
                        y.year.to_string(),
                        format!(
                            "{} submitted, {} decided (p50 {}, p90 {}), {} appeals, {} shipments, {} end-use checks",
                            y.submitted,
                            y.decided,
                            days(y.p50_days),
                            days(y.p90_days),
                            y.appeals,
                            y.shipments,
                            y.end_use_checks
                        ),
                    )
                })
                .collect();
            let pairs: Vec<(&str, String)> =
                years.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            out.push_str(&key_values("Licensing by year (UTC)", &pairs));
            out.push('\n');
        }
        out.push_str(&key_values(
            "Integrity",
            &[
                ("equivocations", self.equivocations.to_string()),
                ("audit entries", self.audit_entries.to_string()),
            ],
        ));
        if let Some(peers) = &self.peers {
            out.push('\n');
            if peers.is_empty() {
                out.push_str("Peers\n  none\n");
            } else {
                let mut table = Table::new([
                    "PEER",
                    "ALERTS SENT",
                    "ALERTS RECEIVED",
                    "DENIALS SENT",
                    "DENIALS RECEIVED",
                    "EQUIVOCATIONS",
                ]);
                for p in peers {
                    table.row([
                        p.jurisdiction.clone(),
                        p.alerts_sent.to_string(),
                        p.alerts_received.to_string(),
                        p.denials_sent.to_string(),
                        p.denials_received.to_string(),
                        p.equivocations.to_string(),
                    ]);
                }
                out.push_str("Peers\n");
                out.push_str(&table.render());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> pb::StatsResponse {
        pb::StatsResponse {
            jurisdiction: "DE".into(),
            at_unix_ms: 1_700_000_000_000,
            public: false,
            alerts: Some(pb::RecordCounts {
                issued: 2,
                issued_active: 1,
                issued_by_category: vec![pb::CategoryCount {
                    category: "diversion-suspected".into(),
                    count: 2,
                }],
                ..Default::default()
            }),
            denials: None,
            equivocations: 0,
            peers: vec![pb::PeerCounts {
                jurisdiction: "FR".into(),
                alerts_sent: 2,
                ..Default::default()
            }],
            audit_entries: 7,
            licensing: Some(pb::DecisionStats {
                applications: 3,
                decided: 2,
                pending: 1,
                p50_days: 1.5,
                p90_days: 4.0,
                by_outcome: vec![pb::OutcomeCount {
                    outcome: "approved".into(),
                    count: 2,
                }],
                by_state: vec![],
                appeals: 1,
                appeals_by_result: vec![pb::OutcomeCount {
                    outcome: "upheld".into(),
                    count: 1,
                }],
                shipments: 4,
                shipments_with_discrepancy: 1,
                end_use_checks: vec![pb::OutcomeCount {
                    outcome: "fail".into(),
                    count: 1,
                }],
                by_year: vec![pb::PeriodStats {
                    year: 2026,
                    submitted: 3,
                    decided: 2,
                    p50_days: 1.5,
                    p90_days: 4.0,
                    appeals: 1,
                    shipments: 4,
                    end_use_checks: 1,
                }],
            }),
        }
    }

    #[test]
    fn public_statistics_drop_peers() {
        let private = StatsView::new(&response(), false);
        let text = private.render();
        assert!(text.contains("  sent      2 (1 active)"), "{text}");
        assert!(text.contains("  diversion-suspected  2     0"), "{text}");
        assert!(text.contains("FR    2"), "{text}");
        assert!(
            text.contains("  time to decision  p50 1.5 days, p90 4.0 days\n"),
            "{text}"
        );
        assert!(text.contains("  first decisions   approved 2\n"), "{text}");
        assert!(
            text.contains("  appeals           1 (upheld 1)\n"),
            "{text}"
        );
        assert!(
            text.contains("  shipments         4 (1 with a discrepancy)\n"),
            "{text}"
        );
        assert!(text.contains("  end-use checks    fail 1\n"), "{text}");
        assert!(
            text.contains("  2026  3 submitted, 2 decided (p50 1.5 days, p90 4.0 days), 1 appeals, 4 shipments, 1 end-use checks\n"),
            "{text}"
        );
        let public = StatsView::new(&response(), true);
        let json = serde_json::to_string(&public).unwrap();
        assert!(!json.contains("FR") && !json.contains("peers"), "{json}");
        assert!(!public.render().contains("Peers"));
    }
}
