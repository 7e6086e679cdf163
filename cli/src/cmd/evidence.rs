//! `concord evidence list`: equivocation evidence, i.e. a peer having signed
//! two different records under one (issuer, id, version) (admin).

use std::path::Path;

use concord_proto::v1 as pb;
use serde::Serialize;

use crate::args::EvidenceCommand;
use crate::client::{self, rpc_error};
use crate::exit::CliError;
use crate::output::{print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

pub async fn run(
    cmd: EvidenceCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        EvidenceCommand::List => {
            let profile = Profile::required(profile)?;
            let mut client = client::connect(&profile).await?;
            let evidence = client
                .list_evidence(pb::ListEvidenceRequest {})
                .await
                .map_err(|s| rpc_error("ListEvidence", &profile, &s))?
                .into_inner()
                .evidence;
            let evidence: Vec<EvidenceView> = evidence.iter().map(EvidenceView::from).collect();
            match output {
                OutputFormat::Json => print_json(&EvidenceList { evidence }),
                OutputFormat::Table => print_text(&render_evidence(&evidence)),
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EvidenceList {
    pub evidence: Vec<EvidenceView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceView {
    pub issuer: String,
    pub record_id: String,
    pub version: u32,
    pub received_from: String,
    pub at: Option<String>,
    pub held_digest: String,
    pub conflicting_digest: String,
}

impl From<&pb::EquivocationEvidence> for EvidenceView {
    fn from(e: &pb::EquivocationEvidence) -> Self {
        EvidenceView {
            issuer: e.issuer.clone(),
            record_id: e.record_id.clone(),
            version: e.version,
            received_from: e.received_from.clone(),
            at: rfc3339(e.at_unix_ms),
            held_digest: e.held_digest_hex.clone(),
            conflicting_digest: e.conflicting_digest_hex.clone(),
        }
    }
}

pub fn render_evidence(evidence: &[EvidenceView]) -> String {
    if evidence.is_empty() {
        return "No equivocation evidence: no peer has signed conflicting records.\n".to_owned();
    }
    let mut table = Table::new([
        "ISSUER",
        "RECORD",
        "VERSION",
        "RECEIVED FROM",
        "AT",
        "HELD DIGEST",
        "CONFLICTING DIGEST",
    ]);
    for e in evidence {
        table.row([
            e.issuer.clone(),
            e.record_id.clone(),
            e.version.to_string(),
            e.received_from.clone(),
            e.at.clone().unwrap_or_else(|| "-".to_owned()),
            e.held_digest.clone(),
            e.conflicting_digest.clone(),
        ]);
    }
    format!(
        "{} equivocation(s): the issuer signed two different records under one id and version.\n\n{}",
        evidence.len(),
        table.render()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_evidence() {
        assert!(render_evidence(&[]).starts_with("No equivocation evidence"));
        let e = EvidenceView::from(&pb::EquivocationEvidence {
            issuer: "FR".into(),
            record_id: "FR-D-1".into(),
            version: 2,
            received_from: "FR".into(),
            at_unix_ms: 1_700_000_000_000,
            held_digest_hex: "aa".into(),
            conflicting_digest_hex: "bb".into(),
        });
        let text = render_evidence(std::slice::from_ref(&e));
        assert!(
            text.contains("FR      FR-D-1  2        FR             2023-11-14T22:13:20.000Z  aa"),
            "{text}"
        );
        let json = serde_json::to_value(EvidenceList { evidence: vec![e] }).unwrap();
        assert_eq!(json["evidence"][0]["conflicting_digest"], "bb");
    }
}
