//! The audit export format (`concord-audit-export/1`, JSON Lines: a header
//! naming the jurisdiction and its signing keys, then checkpoints and
//! entries) and its offline verification, with nothing but the node's public
//! key (docs/AUDIT.md). The CLI writes exports from the `AuditExport` stream
//! and verifies them with [`verify_export`].

use std::collections::HashMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use super::{entry_hash, AuditEntry, Checkpoint};
use crate::crypto::{key_id, KeyRing, RetiredKey};

/// The `format` of the first line of an export file.
pub const EXPORT_FORMAT: &str = "concord-audit-export/1";

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
    /// The retired key this line describes (believed only through its handover).
    pub fn to_key(&self) -> Result<RetiredKey, String> {
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

/// Where and why an export does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub seq: Option<u64>,
    pub reason: String,
    /// Unreadable input rather than failed verification.
    pub malformed: bool,
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

/// An Ed25519 public key written as hex (a trust bundle's, an export header's).
pub fn decode_key(text: &str) -> Result<Vec<u8>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Action;
    use crate::crypto::RecordSigner;

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
}
