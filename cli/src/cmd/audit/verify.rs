//! `concord audit verify`: the node recomputes its chain and checkpoints
//! (and, with witnesses, compares what its peers hold).

use std::path::Path;

use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::{CliError, ErrorKind};
use crate::output::{key_values, or_dash, print_json, print_text, yes_no, OutputFormat, Table};
use crate::profile::Profile;
use crate::progress::Progress;

#[derive(Debug, Serialize)]
pub struct VerifyView {
    pub ok: bool,
    pub entries: u64,
    pub head_hash: Option<String>,
    pub checkpoints: u32,
    /// The first entry found broken; null when the chain itself is intact.
    pub first_broken_seq: Option<u64>,
    pub reason: Option<String>,
    pub witnesses: Vec<WitnessView>,
    /// With --records: envelopes verified in full, and those that failed.
    pub records_checked: Option<u64>,
    pub invalid_records: Option<u64>,
    pub invalid_record_details: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct WitnessView {
    pub peer: String,
    pub checkpoints: u32,
    pub ok: bool,
    pub detail: String,
}

impl From<&pb::AuditVerifyResponse> for VerifyView {
    fn from(r: &pb::AuditVerifyResponse) -> Self {
        VerifyView {
            ok: r.ok,
            entries: r.entries,
            head_hash: Some(r.head_hash_hex.clone()).filter(|h| !h.is_empty()),
            checkpoints: r.checkpoints,
            first_broken_seq: Some(r.first_broken_seq).filter(|s| *s > 0),
            reason: Some(r.reason.clone()).filter(|s| !s.is_empty()),
            witnesses: r
                .witnesses
                .iter()
                .map(|w| WitnessView {
                    peer: w.peer.clone(),
                    checkpoints: w.checkpoints,
                    ok: w.ok,
                    detail: w.detail.clone(),
                })
                .collect(),
            records_checked: Some(r.records_checked).filter(|n| *n > 0),
            invalid_records: Some(r.invalid_records).filter(|_| r.records_checked > 0),
            invalid_record_details: r.invalid_record_details.clone(),
        }
    }
}

impl VerifyView {
    pub fn render(&self, with_witnesses: bool) -> String {
        let title = if self.ok {
            "Audit trail intact"
        } else if self.first_broken_seq.is_none() && self.invalid_records.unwrap_or(0) > 0 {
            "Audit trail intact, held records INVALID"
        } else {
            "Audit trail BROKEN"
        };
        let mut pairs = vec![
            ("entries", self.entries.to_string()),
            ("head", self.head_hash.clone().unwrap_or_else(|| "-".into())),
            ("checkpoints", self.checkpoints.to_string()),
        ];
        if let Some(seq) = self.first_broken_seq {
            pairs.push(("first broken entry", seq.to_string()));
        }
        if let Some(reason) = &self.reason {
            pairs.push(("reason", reason.clone()));
        }
        if let Some(checked) = self.records_checked {
            pairs.push(("records verified", checked.to_string()));
            pairs.push((
                "records invalid",
                self.invalid_records.unwrap_or(0).to_string(),
            ));
        }
        let mut out = key_values(title, &pairs);
        for detail in &self.invalid_record_details {
            out.push_str(&format!("  invalid: {detail}\n"));
        }
        if with_witnesses {
            out.push('\n');
            if self.witnesses.is_empty() {
                out.push_str("Witnesses\n  no peers registered\n");
            } else {
                let mut table = Table::new(["PEER", "CHECKPOINTS HELD", "OK", "DETAIL"]);
                for w in &self.witnesses {
                    table.row([
                        w.peer.clone(),
                        w.checkpoints.to_string(),
                        yes_no(w.ok).to_owned(),
                        or_dash(&w.detail),
                    ]);
                }
                out.push_str("Witnesses\n");
                out.push_str(&table.render());
                let unchecked = self
                    .witnesses
                    .iter()
                    .filter(|w| !w.ok && w.checkpoints == 0)
                    .count();
                if unchecked > 0 {
                    out.push_str(&format!(
                        "Note: {unchecked} of {} peers could not be asked; their copies were not checked.\n",
                        self.witnesses.len()
                    ));
                }
            }
        }
        out
    }

    /// The one-line failure, naming the first broken entry or the witness.
    pub fn failure(&self) -> Option<CliError> {
        if self.ok {
            return None;
        }
        let reason = self.reason.clone().unwrap_or_else(|| "unknown".into());
        let invalid = self.invalid_records.unwrap_or(0);
        let message = match self.first_broken_seq {
            None if invalid > 0 => format!(
                "{invalid} held records do not verify against their issuers' keys; first: {}",
                self.invalid_record_details
                    .first()
                    .map_or("-", String::as_str)
            ),
            Some(seq) => format!("audit chain broken at entry {seq}: {reason}"),
            None => format!("audit trail contradicts a witness: {reason}"),
        };
        Some(CliError::new(ErrorKind::FailedPrecondition, message))
    }
}

pub async fn verify(
    profile: Option<&Path>,
    with_witnesses: bool,
    with_records: bool,
    output: OutputFormat,
) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let mut client = Clients::whole_store_admin(&profile).await?;
    let mut resp = client
        .audit_verify(pb::AuditVerifyRequest {
            with_witnesses,
            with_records: false,
        })
        .await
        .map_err(|s| rpc_error("AuditVerify", &profile, &s))?
        .into_inner();
    if with_records {
        let found = verify_records(&mut client, &profile, output).await?;
        resp.records_checked = found.checked;
        resp.invalid_records = found.invalid;
        resp.invalid_record_details = found.invalid_details;
        resp.ok &= found.invalid == 0;
    }
    let view = VerifyView::from(&resp);
    match output {
        OutputFormat::Json => print_json(&view)?,
        OutputFormat::Table => print_text(&view.render(with_witnesses))?,
    }
    match view.failure() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every held envelope verified in full, with a progress bar: a stream,
/// so that a store of millions is not cut off by one request's time limit.
async fn verify_records(
    client: &mut crate::client::AdminClient,
    profile: &Profile,
    output: OutputFormat,
) -> Result<pb::AuditVerifyRecordsProgress, CliError> {
    let rpc = |s: &tonic::Status| rpc_error("AuditVerifyRecords", profile, s);
    let mut stream = client
        .audit_verify_records(pb::AuditVerifyRecordsRequest {})
        .await
        .map_err(|s| rpc(&s))?
        .into_inner();
    let progress = Progress::new(output);
    let mut bar = None;
    let last = loop {
        let Some(p) = stream.message().await.map_err(|s| rpc(&s))? else {
            progress.clear();
            return Err(CliError::new(
                ErrorKind::Internal,
                "the node stopped re-verifying records before it finished".to_owned(),
            ));
        };
        let b = bar.get_or_insert_with(|| {
            progress.bar("re-verifying every held record", p.total as usize)
        });
        b.set_position(p.checked);
        if p.done {
            break p;
        }
    };
    progress.clear();
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_failures_are_one_line_errors_naming_the_entry() {
        let view = VerifyView::from(&pb::AuditVerifyResponse {
            ok: false,
            entries: 9,
            first_broken_seq: 6,
            reason: "content does not match its hash (edited)".into(),
            ..Default::default()
        });
        let err = view.failure().unwrap();
        assert_eq!(err.exit_code(), 9);
        assert_eq!(
            err.line(),
            "concord: failed-precondition: audit chain broken at entry 6: content does not match its hash (edited)"
        );
        let witness = VerifyView::from(&pb::AuditVerifyResponse {
            ok: false,
            reason: "witness FR: audit entry 8: entries were deleted".into(),
            ..Default::default()
        });
        assert!(witness.failure().unwrap().message.contains("witness FR"));
        let records = VerifyView::from(&pb::AuditVerifyResponse {
            ok: false,
            entries: 9,
            records_checked: 4,
            invalid_records: 1,
            invalid_record_details: vec!["FR-A-3 v1: signature does not verify".into()],
            ..Default::default()
        });
        assert_eq!(
            records.failure().unwrap().line(),
            "concord: failed-precondition: 1 held records do not verify against their issuers' keys; first: FR-A-3 v1: signature does not verify"
        );
        assert!(records.render(false).contains("records invalid"));
        assert!(VerifyView::from(&pb::AuditVerifyResponse {
            ok: true,
            ..Default::default()
        })
        .failure()
        .is_none());
    }
}
