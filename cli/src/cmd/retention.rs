//! `concord retention run`: purge records past their retention period now
//! (admin), as the node's periodic sweep does; prints what was purged.

use std::path::Path;

use clap::Subcommand;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::CliError;
use crate::output::{print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Purge alerts and denials past the node's `[retention]` periods now;
    /// each purge leaves an audit entry with the record id and envelope digests.
    Run,
}

pub async fn run(
    cmd: RetentionCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        RetentionCommand::Run => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let resp = client
                .run_retention(pb::RunRetentionRequest {})
                .await
                .map_err(|s| rpc_error("RunRetention", &profile, &s))?
                .into_inner();
            let view = RetentionView::from(&resp);
            match output {
                OutputFormat::Json => print_json(&view),
                OutputFormat::Table => print_text(&view.render()),
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RetentionView {
    /// 0: kept forever.
    pub alerts_days: u32,
    pub denials_days: u32,
    pub purged: Vec<PurgedView>,
}

#[derive(Debug, Serialize)]
pub struct PurgedView {
    pub kind: String,
    pub id: String,
    pub issuer: String,
    pub ended_at: Option<String>,
    /// `v<version> <envelope SHA-256>` per version removed.
    pub versions: Vec<String>,
}

impl From<&pb::RunRetentionResponse> for RetentionView {
    fn from(r: &pb::RunRetentionResponse) -> Self {
        RetentionView {
            alerts_days: r.alerts_days,
            denials_days: r.denials_days,
            purged: r
                .purged
                .iter()
                .map(|p| PurgedView {
                    kind: p.kind.clone(),
                    id: p.id.clone(),
                    issuer: p.issuer.clone(),
                    ended_at: rfc3339(p.ended_at_unix_ms),
                    versions: p
                        .versions
                        .iter()
                        .map(|v| format!("v{} {}", v.version, v.envelope_digest_hex))
                        .collect(),
                })
                .collect(),
        }
    }
}

fn period(days: u32) -> String {
    match days {
        0 => "kept forever".to_owned(),
        1 => "1 day".to_owned(),
        n => format!("{n} days"),
    }
}

impl RetentionView {
    pub fn render(&self) -> String {
        let mut out = format!(
            "Retention: alerts {}, denials {} after they stop being in force.\n",
            period(self.alerts_days),
            period(self.denials_days)
        );
        if self.purged.is_empty() {
            out.push_str("Nothing to purge.\n");
            return out;
        }
        out.push_str(&format!("Purged {} record(s):\n", self.purged.len()));
        let mut table = Table::new(["KIND", "ID", "ISSUER", "ENDED", "ENVELOPE DIGESTS"]);
        for p in &self.purged {
            table.row([
                p.kind.clone(),
                p.id.clone(),
                p.issuer.clone(),
                p.ended_at.clone().unwrap_or_else(|| "-".into()),
                p.versions.join(", "),
            ]);
        }
        out.push_str(&table.render());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_purges_and_nothing() {
        let none = RetentionView::from(&pb::RunRetentionResponse {
            purged: vec![],
            alerts_days: 0,
            denials_days: 3650,
        });
        assert_eq!(
            none.render(),
            "Retention: alerts kept forever, denials 3650 days after they stop being in force.\nNothing to purge.\n"
        );
        let some = RetentionView::from(&pb::RunRetentionResponse {
            purged: vec![pb::PurgedRecord {
                kind: "alert".into(),
                id: "DE-A-1".into(),
                issuer: "DE".into(),
                versions: vec![pb::PurgedVersion {
                    version: 1,
                    envelope_digest_hex: "ab".into(),
                }],
                ended_at_unix_ms: 1_700_000_000_000,
            }],
            alerts_days: 1,
            denials_days: 1,
        });
        let text = some.render();
        assert!(text.contains("Purged 1 record(s)"), "{text}");
        assert!(
            text.contains("DE-A-1  DE      2023-11-14T22:13:20.000Z  v1 ab"),
            "{text}"
        );
    }
}
