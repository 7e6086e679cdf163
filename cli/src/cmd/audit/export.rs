//! `concord audit export`: the node's `AuditExport` stream written as an
//! export file (`concord_node::audit::export`), atomically, never over an
//! existing file.

use std::io::Write;
use std::path::Path;

use concord_node::audit::export::{
    decode_key, CheckpointLine, EntryLine, HeaderLine, Line, RetiredKeyLine, EXPORT_FORMAT,
};
use concord_node::crypto::key_id;
use concord_proto::v1 as pb;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::duration::{now_unix_ms, parse_since};
use crate::exit::CliError;
use crate::output::{print_json, print_text, OutputFormat};
use crate::output_file::OutputFile;
use crate::profile::Profile;

/// A checkpoint as the export writes it.
pub fn checkpoint_line(c: &pb::AuditCheckpointInfo) -> CheckpointLine {
    CheckpointLine {
        jurisdiction: c.jurisdiction.clone(),
        count: c.count,
        head_hash_hex: c.head_hash_hex.clone(),
        at_unix_ms: c.at_unix_ms,
        key_id: c.key_id.clone(),
        signature_hex: c.signature_hex.clone(),
    }
}

/// An entry as the export writes it.
fn entry_line(e: &pb::AuditEntry) -> EntryLine {
    EntryLine {
        seq: e.seq,
        at_unix_ms: e.at_unix_ms,
        actor: e.actor.clone(),
        action: e.action.clone(),
        record: e.record.clone(),
        rationale: e.rationale.clone(),
        prev_hash_hex: e.prev_hash_hex.clone(),
        hash_hex: e.hash_hex.clone(),
    }
}

/// A retired signing key as the export header lists it.
fn retired_key_line(k: &pb::RetiredSigningKey) -> RetiredKeyLine {
    RetiredKeyLine {
        public_key_hex: hex::encode(&k.public_key),
        retired_at_unix_ms: k.retired_at_unix_ms,
        successor_public_key_hex: hex::encode(&k.successor_public_key),
        handover_signature_hex: hex::encode(&k.handover_signature),
    }
}

#[derive(Debug, Serialize)]
struct ExportView {
    file: String,
    jurisdiction: String,
    key_id: String,
    entries: u64,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    checkpoints: u64,
}

pub async fn export(
    profile: Option<&Path>,
    out: &Path,
    since: Option<u64>,
    since_time: Option<&str>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let since_unix_ms = since_time
        .map(|t| parse_since(t, now_unix_ms()))
        .transpose()
        .map_err(|e| CliError::invalid_argument(format!("--since-time: {e}")))?
        .unwrap_or(0);
    crate::output::check_new_file(out, "--out")?;
    let profile = Profile::required(profile)?;
    let mut admin = Clients::connect(&profile).await?.admin;
    let total = admin
        .status(pb::StatusRequest {})
        .await
        .map_err(|s| rpc_error("Status", &profile, &s))?
        .into_inner()
        .audit_entries;
    let mut stream = admin
        .audit_export(pb::AuditExportRequest {
            since_seq: since.unwrap_or(0),
            since_unix_ms,
        })
        .await
        .map_err(|s| rpc_error("AuditExport", &profile, &s))?
        .into_inner();

    let mut file = OutputFile::create(out)?;

    let bar = progress(
        output,
        total.saturating_sub(since.unwrap_or(1).saturating_sub(1)),
    );
    let mut view = ExportView {
        file: out.display().to_string(),
        jurisdiction: String::new(),
        key_id: String::new(),
        entries: 0,
        first_seq: None,
        last_seq: None,
        checkpoints: 0,
    };
    let mut header_written = false;
    while let Some(chunk) = stream
        .message()
        .await
        .map_err(|s| rpc_error("AuditExport", &profile, &s))?
    {
        if !header_written {
            let key = decode_key(&chunk.public_key_hex).map_err(|e| {
                CliError::internal(format!("the node sent an unusable public key: {e}"))
            })?;
            let header = HeaderLine {
                format: EXPORT_FORMAT.to_owned(),
                jurisdiction: chunk.jurisdiction.clone(),
                public_key_hex: chunk.public_key_hex.clone(),
                key_id: key_id(&key),
                retired_keys: chunk
                    .retired_signing_keys
                    .iter()
                    .map(retired_key_line)
                    .collect(),
            };
            view.jurisdiction = header.jurisdiction.clone();
            view.key_id = header.key_id.clone();
            write_line(file.writer(), &header).map_err(|e| file.error(e))?;
            header_written = true;
        }
        for c in &chunk.checkpoints {
            write_line(file.writer(), &Line::Checkpoint(checkpoint_line(c)))
                .map_err(|e| file.error(e))?;
            view.checkpoints += 1;
        }
        for e in &chunk.entries {
            write_line(file.writer(), &Line::Entry(entry_line(e))).map_err(|e| file.error(e))?;
            view.entries += 1;
            view.first_seq.get_or_insert(e.seq);
            view.last_seq = Some(e.seq);
        }
        bar.set_position(view.entries);
    }
    bar.finish_and_clear();
    if !header_written {
        return Err(CliError::internal("the node sent an empty export"));
    }
    file.finish()?.persist()?;
    match output {
        OutputFormat::Json => print_json(&view),
        OutputFormat::Table => print_text(&format!(
            "Exported {} entries{} and {} checkpoints of {} to {}\n\
             Signing key id {}: compare it with the node's trust bundle, then run\n  \
             concord audit verify-export {} --public-key <hex from the trust bundle>\n",
            view.entries,
            match (view.first_seq, view.last_seq) {
                (Some(a), Some(b)) => format!(" ({a}..{b})"),
                _ => String::new(),
            },
            view.checkpoints,
            view.jurisdiction,
            view.file,
            view.key_id,
            view.file,
        )),
    }
}

fn write_line<T: Serialize>(out: &mut impl Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

/// A progress bar on stderr, only for people watching a terminal.
fn progress(output: OutputFormat, len: u64) -> ProgressBar {
    use std::io::IsTerminal;
    let visible = output == OutputFormat::Table && std::io::stderr().is_terminal();
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let style = ProgressStyle::with_template("{msg} [{bar:30.cyan}] {pos}/{len} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(Some(len), target).with_style(style);
    bar.set_message("exporting entries");
    bar
}
