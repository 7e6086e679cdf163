//! `concord audit verify|export|checkpoint|verify-export`: the node's
//! tamper-evident audit trail (admin), and offline verification of an
//! export with nothing but the node's public key (docs/AUDIT.md).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use concord_node::audit::{entry_hash, AuditEntry, Checkpoint};
use concord_node::crypto::{key_id, KeyRing, RetiredKey};
use concord_proto::v1 as pb;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::client::{rpc_error, Clients};
use crate::duration::{now_unix_ms, parse_since};
use crate::exit::{CliError, ErrorKind};
use crate::output::{
    key_values, or_dash, print_json, print_text, time_or_never, yes_no, OutputFormat, Table,
};
use crate::profile::Profile;

/// The `format` of the first line of an export file.
pub const EXPORT_FORMAT: &str = "concord-audit-export/1";

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit chain and every signed checkpoint (admin). Exits 9
    /// (failed-precondition) naming the first broken entry.
    Verify {
        /// Also ask every peer for the checkpoints of this node it holds as a
        /// witness, and check them against the chain.
        #[arg(long)]
        with_witnesses: bool,
    },
    /// Write the audit trail to a JSON Lines file for an auditor (admin).
    Export {
        /// File to write; must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only entries from this sequence number on.
        #[arg(long, value_name = "SEQ", conflicts_with = "since_time",
              value_parser = clap::value_parser!(u64).range(1..))]
        since: Option<u64>,
        /// Only entries made since this RFC 3339 time (or this long ago, e.g. 30d).
        #[arg(long, value_name = "TIME")]
        since_time: Option<String>,
    },
    /// Sign a checkpoint of the audit chain's head now (admin); peers receive
    /// it as witnesses.
    Checkpoint,
    /// Verify an export file offline: every entry hash, every link, every
    /// checkpoint signature. Needs no node and no certificate.
    VerifyExport {
        /// File written by `concord audit export`.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The node's record-signing public key (hex, from its trust bundle).
        /// Without it the key written in the file itself is used, which only
        /// proves consistency: compare the printed key id out of band.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

pub async fn run(
    cmd: AuditCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        AuditCommand::Verify { with_witnesses } => verify(profile, with_witnesses, output).await,
        AuditCommand::Export {
            out,
            since,
            since_time,
        } => export(profile, &out, since, since_time.as_deref(), output).await,
        AuditCommand::Checkpoint => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let c = client
                .audit_checkpoint(pb::AuditCheckpointRequest {})
                .await
                .map_err(|s| rpc_error("AuditCheckpoint", &profile, &s))?
                .into_inner();
            let line = CheckpointLine::from(&c);
            match output {
                OutputFormat::Json => print_json(&line),
                OutputFormat::Table => print_text(&key_values(
                    "Checkpoint signed",
                    &[
                        ("jurisdiction", line.jurisdiction.clone()),
                        ("entries", line.count.to_string()),
                        ("head", line.head_hash_hex.clone()),
                        ("at", time_or_never(line.at_unix_ms)),
                        ("key id", line.key_id.clone()),
                    ],
                )),
            }
        }
        AuditCommand::VerifyExport { file, public_key } => {
            let key = public_key
                .as_deref()
                .map(|h| {
                    decode_key(h)
                        .map_err(|e| CliError::invalid_argument(format!("--public-key: {e}")))
                })
                .transpose()?;
            let report = verify_export_file(&file, key.as_deref())?;
            match output {
                OutputFormat::Json => print_json(&report),
                OutputFormat::Table => print_text(&report.render(&file)),
            }
        }
    }
}

// ---- verify -----------------------------------------------------------------

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
        }
    }
}

impl VerifyView {
    pub fn render(&self, with_witnesses: bool) -> String {
        let title = if self.ok {
            "Audit trail intact"
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
        let mut out = key_values(title, &pairs);
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
        let message = match self.first_broken_seq {
            Some(seq) => format!("audit chain broken at entry {seq}: {reason}"),
            None => format!("audit trail contradicts a witness: {reason}"),
        };
        Some(CliError::new(ErrorKind::FailedPrecondition, message))
    }
}

async fn verify(
    profile: Option<&Path>,
    with_witnesses: bool,
    output: OutputFormat,
) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.admin;
    let resp = client
        .audit_verify(pb::AuditVerifyRequest { with_witnesses })
        .await
        .map_err(|s| rpc_error("AuditVerify", &profile, &s))?
        .into_inner();
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

// ---- export -----------------------------------------------------------------

/// First line of an export file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderLine {
    pub format: String,
    pub jurisdiction: String,
    pub public_key_hex: String,
    pub key_id: String,
    /// Keys the current one replaced by rotation; older checkpoints verify with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_keys: Vec<RetiredKeyLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKeyLine {
    pub public_key_hex: String,
    pub retired_at_unix_ms: i64,
    pub successor_public_key_hex: String,
    pub handover_signature_hex: String,
}

impl RetiredKeyLine {
    fn from_proto(k: &pb::RetiredSigningKey) -> Self {
        RetiredKeyLine {
            public_key_hex: hex::encode(&k.public_key),
            retired_at_unix_ms: k.retired_at_unix_ms,
            successor_public_key_hex: hex::encode(&k.successor_public_key),
            handover_signature_hex: hex::encode(&k.handover_signature),
        }
    }

    fn to_key(&self) -> Result<RetiredKey, String> {
        let bytes = |what: &str, v: &str| hex::decode(v).map_err(|e| format!("{what}: {e}"));
        Ok(RetiredKey {
            public_key: bytes("public_key_hex", &self.public_key_hex)?,
            retired_at_unix_ms: self.retired_at_unix_ms,
            successor_public_key: bytes(
                "successor_public_key_hex",
                &self.successor_public_key_hex,
            )?,
            handover_signature: bytes("handover_signature_hex", &self.handover_signature_hex)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointLine {
    pub jurisdiction: String,
    pub count: u64,
    pub head_hash_hex: String,
    pub at_unix_ms: i64,
    pub key_id: String,
    pub signature_hex: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryLine {
    pub seq: u64,
    pub at_unix_ms: i64,
    pub actor: String,
    pub action: String,
    pub record: String,
    pub rationale: String,
    pub prev_hash_hex: String,
    pub hash_hex: String,
}

/// Every line after the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Line {
    Checkpoint(CheckpointLine),
    Entry(EntryLine),
}

impl From<&pb::AuditCheckpointInfo> for CheckpointLine {
    fn from(c: &pb::AuditCheckpointInfo) -> Self {
        CheckpointLine {
            jurisdiction: c.jurisdiction.clone(),
            count: c.count,
            head_hash_hex: c.head_hash_hex.clone(),
            at_unix_ms: c.at_unix_ms,
            key_id: c.key_id.clone(),
            signature_hex: c.signature_hex.clone(),
        }
    }
}

impl From<&pb::AuditEntry> for EntryLine {
    fn from(e: &pb::AuditEntry) -> Self {
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

async fn export(
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

    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let write_error =
        |e: std::io::Error| CliError::internal(format!("writing {}: {e}", out.display()));
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
    let mut file = std::io::BufWriter::new(temp);

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
                    .map(RetiredKeyLine::from_proto)
                    .collect(),
            };
            view.jurisdiction = header.jurisdiction.clone();
            view.key_id = header.key_id.clone();
            write_line(&mut file, &header).map_err(write_error)?;
            header_written = true;
        }
        for c in &chunk.checkpoints {
            write_line(&mut file, &Line::Checkpoint(CheckpointLine::from(c)))
                .map_err(write_error)?;
            view.checkpoints += 1;
        }
        for e in &chunk.entries {
            write_line(&mut file, &Line::Entry(EntryLine::from(e))).map_err(write_error)?;
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
    let temp = file.into_inner().map_err(|e| write_error(e.into_error()))?;
    temp.as_file().sync_all().map_err(write_error)?;
    temp.persist_noclobber(out).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::already_exists(format!("{} already exists", out.display()))
        } else {
            write_error(e.error)
        }
    })?;
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

// ---- verify-export (offline) ----------------------------------------------

fn decode_key(text: &str) -> Result<Vec<u8>, String> {
    let bytes = hex::decode(text.trim()).map_err(|e| format!("not hex: {e}"))?;
    if bytes.len() != 32 {
        return Err(format!(
            "an Ed25519 public key has 32 bytes, this has {}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn decode_hash(what: &str, text: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(text).map_err(|e| format!("{what} is not hex: {e}"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{what} must be 32 bytes, found {}", bytes.len()))
}

/// What a successful offline verification established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub ok: bool,
    pub jurisdiction: String,
    pub key_id: String,
    /// `given` (--public-key) or `file` (only self-consistency was shown).
    pub key_source: String,
    pub entries: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub head_hash: Option<String>,
    /// Checkpoints whose signature verifies and whose head matches the entry at their count.
    pub checkpoints_verified: u64,
    /// Valid checkpoints covering entries before this export started.
    pub checkpoints_outside: u64,
    /// Highest entry a verified checkpoint signs; entries after it are chained but unsigned.
    pub signed_through: Option<u64>,
}

impl ExportReport {
    fn render(&self, file: &Path) -> String {
        let key = match self.key_source.as_str() {
            "given" => format!("{} (given with --public-key)", self.key_id),
            _ => format!(
                "{} (taken from the file itself: compare it with the node's trust bundle)",
                self.key_id
            ),
        };
        let entries = match (self.first_seq, self.last_seq) {
            (Some(a), Some(b)) => format!("{} ({a}..{b})", self.entries),
            _ => "0".to_owned(),
        };
        let signed = match (self.signed_through, self.last_seq) {
            (Some(s), Some(last)) if s < last => {
                format!(
                    "{s} (entries {}..{last} are chained but not yet signed)",
                    s + 1
                )
            }
            (Some(s), _) => s.to_string(),
            (None, _) => "none (no checkpoint covers these entries)".to_owned(),
        };
        key_values(
            &format!("Export verified: {}", file.display()),
            &[
                ("jurisdiction", self.jurisdiction.clone()),
                ("public key id", key),
                ("entries", entries),
                ("head", self.head_hash.clone().unwrap_or_else(|| "-".into())),
                (
                    "checkpoints",
                    format!(
                        "{} verified, {} before this export",
                        self.checkpoints_verified, self.checkpoints_outside
                    ),
                ),
                ("signed through entry", signed),
            ],
        )
    }
}

/// Verifies an export file; the error names the file, line and entry.
pub fn verify_export_file(path: &Path, key: Option<&[u8]>) -> Result<ExportReport, CliError> {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::invalid_argument(format!("cannot read {}: {e}", path.display())))?;
    verify_export(BufReader::new(file), key).map_err(|p| p.into_error(path))
}

/// Where and why an export does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub seq: Option<u64>,
    pub reason: String,
    /// Unreadable input rather than failed verification.
    pub malformed: bool,
}

impl Problem {
    fn into_error(self, path: &Path) -> CliError {
        let at = match self.seq {
            Some(seq) => format!("line {} (entry {seq})", self.line),
            None if self.line > 0 => format!("line {}", self.line),
            None => "end of file".to_owned(),
        };
        let kind = if self.malformed {
            ErrorKind::InvalidArgument
        } else {
            ErrorKind::FailedPrecondition
        };
        CliError::new(kind, format!("{} {at}: {}", path.display(), self.reason))
    }
}

/// The checks of docs/AUDIT.md, over any reader.
pub fn verify_export(input: impl BufRead, key: Option<&[u8]>) -> Result<ExportReport, Problem> {
    let fail = |line: usize, seq: Option<u64>, reason: String| Problem {
        line,
        seq,
        reason,
        malformed: false,
    };
    let malformed = |line: usize, reason: String| Problem {
        line,
        seq: None,
        reason,
        malformed: true,
    };
    let mut lines = input.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (n, first) = lines
        .next()
        .ok_or_else(|| malformed(1, "empty file".into()))?;
    let first = first.map_err(|e| malformed(n, e.to_string()))?;
    let header: HeaderLine = serde_json::from_str(&first)
        .map_err(|e| malformed(n, format!("not an export header: {e}")))?;
    if header.format != EXPORT_FORMAT {
        return Err(malformed(
            n,
            format!("format {:?}, expected {EXPORT_FORMAT:?}", header.format),
        ));
    }
    let file_key = decode_key(&header.public_key_hex)
        .map_err(|e| malformed(n, format!("public_key_hex: {e}")))?;
    if header.key_id != key_id(&file_key) {
        return Err(fail(
            n,
            None,
            format!(
                "header key id {} does not belong to its public key (id {})",
                header.key_id,
                key_id(&file_key)
            ),
        ));
    }
    let (public_key, key_source) = match key {
        Some(given) if given != file_key.as_slice() => {
            return Err(fail(
                n,
                None,
                format!(
                    "the export names signing key {}, not the given key {}",
                    header.key_id,
                    key_id(given)
                ),
            ))
        }
        Some(given) => (given.to_vec(), "given"),
        None => (file_key, "file"),
    };
    // Retired keys are believed only through their signed handovers, which
    // must lead to the (given or file) current key.
    let retired = header
        .retired_keys
        .iter()
        .map(RetiredKeyLine::to_key)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| malformed(n, format!("retired_keys: {e}")))?;
    let ring = KeyRing {
        current: &public_key,
        retired: &retired,
    };
    ring.check(&header.jurisdiction)
        .map_err(|e| fail(n, None, format!("retired_keys: {e}")))?;
    if let Some(r) = retired.iter().find(|r| !ring.continues_from(&r.public_key)) {
        return Err(fail(
            n,
            None,
            format!(
                "retired key {} does not hand over to the current key {}",
                r.key_id(),
                key_id(&public_key)
            ),
        ));
    }

    let mut checkpoints: Vec<(usize, Checkpoint)> = Vec::new();
    let mut hashes: HashMap<u64, [u8; 32]> = HashMap::new();
    let mut previous: Option<AuditEntry> = None;
    let mut first_seq = None;
    let mut entries = 0u64;
    for (n, text) in lines {
        let text = text.map_err(|e| malformed(n, e.to_string()))?;
        if text.trim().is_empty() {
            continue;
        }
        let line: Line = serde_json::from_str(&text)
            .map_err(|e| malformed(n, format!("not an export line: {e}")))?;
        match line {
            Line::Checkpoint(c) => {
                let checkpoint = Checkpoint {
                    jurisdiction: c.jurisdiction,
                    count: c.count,
                    head_hash: decode_hash("head_hash_hex", &c.head_hash_hex)
                        .map_err(|e| malformed(n, e))?,
                    at_unix_ms: c.at_unix_ms,
                    key_id: c.key_id,
                    signature: hex::decode(&c.signature_hex)
                        .map_err(|e| malformed(n, format!("signature_hex is not hex: {e}")))?,
                };
                checkpoints.push((n, checkpoint));
            }
            Line::Entry(e) => {
                let seq = Some(e.seq);
                let entry = AuditEntry {
                    seq: e.seq,
                    at_unix_ms: e.at_unix_ms,
                    actor: e.actor,
                    action: e.action,
                    record: e.record,
                    rationale: e.rationale,
                    prev_hash: decode_hash("prev_hash_hex", &e.prev_hash_hex)
                        .map_err(|r| fail(n, seq, r))?,
                    hash: decode_hash("hash_hex", &e.hash_hex).map_err(|r| fail(n, seq, r))?,
                };
                match &previous {
                    None if entry.seq == 0 => {
                        return Err(fail(n, seq, "entries are numbered from 1".into()))
                    }
                    None if entry.seq == 1 && entry.prev_hash != [0; 32] => {
                        return Err(fail(
                            n,
                            seq,
                            "the first entry must chain to 32 zero bytes".into(),
                        ))
                    }
                    None => {}
                    Some(p) if entry.seq != p.seq + 1 => {
                        return Err(fail(
                            n,
                            seq,
                            format!(
                                "expected entry {}, found entry {} (entries missing or reordered)",
                                p.seq + 1,
                                entry.seq
                            ),
                        ))
                    }
                    Some(p) if entry.prev_hash != p.hash => {
                        return Err(fail(n, seq, "does not chain to the previous entry".into()))
                    }
                    Some(_) => {}
                }
                if entry_hash(&entry) != entry.hash {
                    return Err(fail(
                        n,
                        seq,
                        "content does not match its hash (edited)".into(),
                    ));
                }
                first_seq.get_or_insert(entry.seq);
                hashes.insert(entry.seq, entry.hash);
                entries += 1;
                previous = Some(entry);
            }
        }
    }

    let last_seq = previous.as_ref().map(|e| e.seq);
    let mut report = ExportReport {
        ok: true,
        jurisdiction: header.jurisdiction.clone(),
        key_id: key_id(&public_key),
        key_source: key_source.to_owned(),
        entries,
        first_seq,
        last_seq,
        head_hash: previous.as_ref().map(|e| hex::encode(e.hash)),
        checkpoints_verified: 0,
        checkpoints_outside: 0,
        signed_through: None,
    };
    for (n, c) in &checkpoints {
        let at = Some(c.count);
        c.verify_with(&ring, &header.jurisdiction)
            .map_err(|r| fail(*n, None, format!("checkpoint at {}: {r}", c.count)))?;
        if c.count > last_seq.unwrap_or(0) {
            return Err(fail(
                *n,
                None,
                format!(
                    "checkpoint signed at {} entries, but the export ends at entry {}: entries are missing",
                    c.count,
                    last_seq.unwrap_or(0)
                ),
            ));
        }
        if c.count == 0 || first_seq.is_none_or(|f| c.count < f) {
            report.checkpoints_outside += 1;
            continue;
        }
        if hashes.get(&c.count) != Some(&c.head_hash) {
            return Err(fail(
                *n,
                at,
                format!(
                    "checkpoint at {} signs another head than entry {} has: history was rewritten",
                    c.count, c.count
                ),
            ));
        }
        report.checkpoints_verified += 1;
        report.signed_through = report.signed_through.max(Some(c.count));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use concord_node::audit::Action;
    use concord_node::crypto::RecordSigner;

    use super::*;

    fn signer() -> RecordSigner {
        RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap()
    }

    /// An export of `n` entries with a checkpoint at `checkpoint_at`, as text lines.
    fn export(signer: &RecordSigner, n: u64, checkpoint_at: u64) -> Vec<String> {
        let mut lines = vec![serde_json::to_string(&HeaderLine {
            format: EXPORT_FORMAT.into(),
            jurisdiction: "DE".into(),
            public_key_hex: hex::encode(signer.public_key()),
            key_id: signer.key_id().into(),
            retired_keys: Vec::new(),
        })
        .unwrap()];
        let mut prev = [0u8; 32];
        let mut entries = Vec::new();
        for seq in 1..=n {
            let record = format!("DE-A-{seq}");
            let e = AuditEntry::new(
                seq,
                1_700_000_000_000 + seq as i64,
                Action {
                    actor: "DE/analyst/ana",
                    action: "alert.raise",
                    record: &record,
                    rationale: "résumé: ünïcode ok",
                },
                prev,
            );
            prev = e.hash;
            entries.push(e);
        }
        let head = entries[checkpoint_at as usize - 1].hash;
        let c = Checkpoint::sign(signer, "DE", checkpoint_at, head, 1_700_000_001_000);
        lines.push(
            serde_json::to_string(&Line::Checkpoint(CheckpointLine {
                jurisdiction: c.jurisdiction,
                count: c.count,
                head_hash_hex: hex::encode(c.head_hash),
                at_unix_ms: c.at_unix_ms,
                key_id: c.key_id,
                signature_hex: hex::encode(&c.signature),
            }))
            .unwrap(),
        );
        for e in entries {
            lines.push(
                serde_json::to_string(&Line::Entry(EntryLine {
                    seq: e.seq,
                    at_unix_ms: e.at_unix_ms,
                    actor: e.actor,
                    action: e.action,
                    record: e.record,
                    rationale: e.rationale,
                    prev_hash_hex: hex::encode(e.prev_hash),
                    hash_hex: hex::encode(e.hash),
                }))
                .unwrap(),
            );
        }
        lines
    }

    fn check(lines: &[String], key: Option<&[u8]>) -> Result<ExportReport, Problem> {
        verify_export(lines.join("\n").as_bytes(), key)
    }

    #[test]
    fn a_clean_export_verifies_with_the_right_key_only() {
        let s = signer();
        let lines = export(&s, 5, 4);
        let report = check(&lines, Some(s.public_key())).unwrap();
        assert_eq!(report.entries, 5);
        assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(5)));
        assert_eq!(report.checkpoints_verified, 1);
        assert_eq!(report.signed_through, Some(4));
        assert_eq!(report.key_source, "given");
        assert_eq!(check(&lines, None).unwrap().key_source, "file");

        let other = signer();
        let p = check(&lines, Some(other.public_key())).unwrap_err();
        assert!(p.reason.contains("not the given key"), "{p:?}");
    }

    #[test]
    fn tampering_names_the_line_and_entry() {
        let s = signer();
        let key = Some(s.public_key());
        let good = export(&s, 5, 4);
        // Line 1 header, line 2 checkpoint, entry n on line n + 2.
        let mut edited = good.clone();
        edited[4] = edited[4].replace("DE-A-3", "DE-A-9");
        let p = check(&edited, key).unwrap_err();
        assert_eq!((p.line, p.seq), (5, Some(3)), "{p:?}");
        assert!(p.reason.contains("edited"));

        let mut dropped = good.clone();
        dropped.remove(4);
        let p = check(&dropped, key).unwrap_err();
        assert_eq!(p.seq, Some(4), "{p:?}");
        assert!(p.reason.contains("missing"), "{p:?}");

        let truncated = good[..5].to_vec();
        let p = check(&truncated, key).unwrap_err();
        assert_eq!(p.line, 2, "{p:?}");
        assert!(p.reason.contains("entries are missing"), "{p:?}");

        let mut forged = good.clone();
        forged[1] = forged[1].replace("\"count\":4", "\"count\":3");
        let p = check(&forged, key).unwrap_err();
        assert!(p.reason.contains("signature"), "{p:?}");

        let mut garbage = good;
        garbage[3] = "{not json".into();
        let p = check(&garbage, key).unwrap_err();
        assert!(p.malformed && p.line == 4, "{p:?}");
    }

    #[test]
    fn a_partial_export_is_anchored_at_its_first_entry() {
        let s = signer();
        let mut lines = export(&s, 6, 2);
        lines.drain(2..5); // entries 1..=3
        let report = check(&lines, Some(s.public_key())).unwrap();
        assert_eq!(report.first_seq, Some(4));
        assert_eq!(report.checkpoints_outside, 1);
        assert_eq!(report.signed_through, None);
    }

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
        assert!(VerifyView::from(&pb::AuditVerifyResponse {
            ok: true,
            ..Default::default()
        })
        .failure()
        .is_none());
    }
}
