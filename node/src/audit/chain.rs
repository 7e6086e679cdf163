//! Audit entries and their hash chain.
//!
//! The hash of an entry is SHA-256 over, in order: `seq` (8 bytes big-endian),
//! `at_unix_ms` (8 bytes big-endian, two's complement), then `actor`,
//! `action`, `record`, `rationale`, each as a 4-byte big-endian length followed
//! by its UTF-8 bytes, then `prev_hash` (32 bytes; zeros for entry 1). This is
//! the documented form an auditor recomputes (see docs/AUDIT.md).

use serde::{Deserialize, Serialize};

use super::Action;
use crate::crypto::sha256;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at_unix_ms: i64,
    pub actor: String,
    pub action: String,
    pub record: String,
    pub rationale: String,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// Where and why the chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {reason}")]
pub struct Broken {
    pub seq: u64,
    pub reason: String,
}

impl AuditEntry {
    pub fn new(seq: u64, at_unix_ms: i64, a: Action<'_>, prev_hash: [u8; 32]) -> Self {
        let mut e = AuditEntry {
            seq,
            at_unix_ms,
            actor: a.actor.to_owned(),
            action: a.action.to_owned(),
            record: a.record.to_owned(),
            rationale: a.rationale.to_owned(),
            prev_hash,
            hash: [0; 32],
        };
        e.hash = entry_hash(&e);
        e
    }
}

pub fn entry_hash(e: &AuditEntry) -> [u8; 32] {
    let mut bytes = Vec::with_capacity(
        64 + e.actor.len() + e.action.len() + e.record.len() + e.rationale.len(),
    );
    bytes.extend_from_slice(&e.seq.to_be_bytes());
    bytes.extend_from_slice(&e.at_unix_ms.to_be_bytes());
    for field in [&e.actor, &e.action, &e.record, &e.rationale] {
        bytes.extend_from_slice(&(field.len() as u32).to_be_bytes());
        bytes.extend_from_slice(field.as_bytes());
    }
    bytes.extend_from_slice(&e.prev_hash);
    sha256(&bytes)
}

/// Checks one stored entry against its key, position and predecessor.
pub fn check(key: &[u8], e: &AuditEntry, expected_seq: u64, prev: [u8; 32]) -> Result<(), Broken> {
    let broken = |reason: &str| {
        Err(Broken {
            seq: expected_seq,
            reason: reason.to_owned(),
        })
    };
    if key != e.seq.to_be_bytes() || e.seq != expected_seq {
        return broken(&format!(
            "expected entry {expected_seq}, found entry {} (entries missing or reordered)",
            e.seq
        ));
    }
    if e.prev_hash != prev {
        return broken("does not chain to the previous entry");
    }
    if entry_hash(e) != e.hash {
        return broken("content does not match its hash (edited)");
    }
    Ok(())
}
