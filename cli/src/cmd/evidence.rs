//! `concord evidence list`: equivocation evidence, i.e. a peer having signed
//! two different records under one (issuer, id, version) (admin).

use std::path::Path;

use clap::Subcommand;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::CliError;
use crate::output::{print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// List equivocation evidence: two different records signed by one peer
    /// under one (issuer, id, version) (admin).
    List,
}

pub async fn run(
    cmd: EvidenceCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        EvidenceCommand::List => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let response = client
                .list_evidence(pb::ListEvidenceRequest {})
                .await
                .map_err(|s| rpc_error("ListEvidence", &profile, &s))?
                .into_inner();
            let list = EvidenceList::from(&response);
            match output {
                OutputFormat::Json => print_json(&list),
                OutputFormat::Table => print_text(&format!(
                    "{}{}",
                    render_evidence(&list.evidence),
                    render_counts(&list)
                )),
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EvidenceList {
    pub evidence: Vec<EvidenceView>,
    /// Per peer: every conflict detected, and those counted without
    /// evidence (a proof against the same held record was already kept,
    /// or the peer's cap was reached).
    pub counts: Vec<CountView>,
    pub max_evidence_per_peer: u64,
    pub max_evidence_bytes_per_peer: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountView {
    pub peer: String,
    pub detected: u64,
    pub kept: u64,
    pub kept_bytes: u64,
    pub not_kept: u64,
    pub first_at: Option<String>,
    pub last_at: Option<String>,
}

impl From<&pb::ListEvidenceResponse> for EvidenceList {
    fn from(r: &pb::ListEvidenceResponse) -> Self {
        EvidenceList {
            evidence: r.evidence.iter().map(EvidenceView::from).collect(),
            counts: r
                .counts
                .iter()
                .map(|c| CountView {
                    peer: c.peer.clone(),
                    detected: c.detected,
                    kept: c.kept,
                    kept_bytes: c.kept_bytes,
                    not_kept: c.not_kept,
                    first_at: rfc3339(c.first_at_unix_ms),
                    last_at: rfc3339(c.last_at_unix_ms),
                })
                .collect(),
            max_evidence_per_peer: r.max_evidence_per_peer,
            max_evidence_bytes_per_peer: r.max_evidence_bytes_per_peer,
        }
    }
}

/// The per-peer counts, when any conflict went without kept evidence.
pub fn render_counts(list: &EvidenceList) -> String {
    if list.counts.iter().all(|c| c.not_kept == 0) {
        return String::new();
    }
    let mut table = Table::new(["PEER", "DETECTED", "KEPT", "NOT KEPT", "LAST"]);
    for c in &list.counts {
        table.row([
            c.peer.clone(),
            c.detected.to_string(),
            c.kept.to_string(),
            c.not_kept.to_string(),
            c.last_at.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    format!(
        "\nFurther conflicts were counted but not kept: one proof per held record, at most \
         {} entries and {} bytes per peer ([limits] max_evidence_per_peer, \
         max_evidence_bytes_per_peer).\n\n{}",
        list.max_evidence_per_peer,
        list.max_evidence_bytes_per_peer,
        table.render()
    )
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
        let list = EvidenceList::from(&pb::ListEvidenceResponse {
            evidence: vec![],
            counts: vec![pb::EquivocationCount {
                peer: "FR".into(),
                detected: 100,
                kept: 1,
                kept_bytes: 500,
                not_kept: 99,
                first_at_unix_ms: 1_700_000_000_000,
                last_at_unix_ms: 1_700_000_000_000,
            }],
            max_evidence_per_peer: 64,
            max_evidence_bytes_per_peer: 16 << 20,
        });
        let counts = render_counts(&list);
        assert!(counts.contains("at most 64 entries"), "{counts}");
        assert!(counts.contains("FR    100       1     99"), "{counts}");
        let list = EvidenceList {
            evidence: vec![e],
            ..list
        };
        let json = serde_json::to_value(&list).unwrap();
        assert_eq!(json["evidence"][0]["conflicting_digest"], "bb");
        assert_eq!(json["counts"][0]["not_kept"], 99);
    }
}
