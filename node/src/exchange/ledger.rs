//! How the exchange lays its data out in the store: one tree per kind of
//! fact, with keys that sort in the order they are read.

use serde::{Deserialize, Serialize};

use super::envelope::{RecordKind, SignedEnvelope, SignedReceipt};
use crate::identity::Jurisdiction;
use crate::store::{Store, StoreError, Tree};

/// Every envelope this node holds, its own and received: key `issuer 0 seq`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredEnvelope {
    pub envelope: SignedEnvelope,
    pub stored_at_unix_ms: i64,
}

/// Where the envelope of one record version is: key `kind issuer 0 id 0 version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub issuer: Jurisdiction,
    pub seq: u64,
    pub digest: [u8; 32],
}

/// An own record not yet acknowledged by one recipient: key `recipient 0 seq`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub queued_at_unix_ms: i64,
}

/// How delivery of an own record to one recipient ended: key `recipient 0 seq`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Delivery {
    Delivered {
        at_unix_ms: i64,
        receipt: SignedReceipt,
        duplicate: bool,
    },
    /// The alert expired before the recipient acknowledged it; it was not sent.
    Expired { at_unix_ms: i64 },
}

/// Proof that an issuer signed two different envelopes for one record version.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Evidence {
    pub issuer: Jurisdiction,
    pub record_id: String,
    pub version: u32,
    pub held: SignedEnvelope,
    pub conflicting: SignedEnvelope,
    pub received_from: Jurisdiction,
    pub at_unix_ms: i64,
}

/// Every equivocation detected from one peer, kept or not: key `issuer`.
/// Evidence is kept for the first conflict with each held envelope only,
/// and up to a per-peer cap; the rest are counted here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquivocationCount {
    /// Conflicting envelopes refused (kept as evidence or not).
    pub detected: u64,
    /// Evidence entries stored, and their envelopes' bytes.
    pub kept: u64,
    pub kept_bytes: u64,
    /// Conflicts refused without storing their proof: a proof against the
    /// same held envelope was already kept, the cap was reached, or the
    /// conflict was within one pushed batch.
    pub not_kept: u64,
    pub first_at_unix_ms: i64,
    pub last_at_unix_ms: i64,
}

/// A named set of jurisdictions a distribution can name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingGroup {
    pub name: String,
    pub members: Vec<Jurisdiction>,
    pub created_at_unix_ms: i64,
}

#[derive(Clone)]
pub struct Ledger {
    pub envelopes: Tree<StoredEnvelope>,
    pub index: Tree<IndexEntry>,
    pub outbox: Tree<OutboxEntry>,
    pub deliveries: Tree<Delivery>,
    /// Highest sequence number stored from each issuer: key `issuer`.
    pub cursors: Tree<u64>,
    /// This node's last issued sequence number: key `seq`.
    pub counters: Tree<u64>,
    /// Key `issuer 0 seq` of the held envelope the conflict is with: one
    /// entry per held envelope, however many conflicting ones arrive.
    pub evidence: Tree<Evidence>,
    pub equivocations: Tree<EquivocationCount>,
    pub groups: Tree<SharingGroup>,
}

impl Ledger {
    pub fn open(store: &Store) -> Result<Self, StoreError> {
        Ok(Ledger {
            envelopes: store.tree("envelopes")?,
            index: store.tree("record_index")?,
            outbox: store.tree("outbox")?,
            deliveries: store.tree("deliveries")?,
            cursors: store.tree("cursors")?,
            counters: store.tree("counters")?,
            evidence: store.tree("evidence")?,
            equivocations: store.tree("equivocations")?,
            groups: store.tree("groups")?,
        })
    }
}

pub const SEQ_COUNTER: &[u8] = b"seq";

/// `jurisdiction 0 seq(BE)`: sorts by jurisdiction, then sequence.
pub fn seq_key(j: &Jurisdiction, seq: u64) -> Vec<u8> {
    let mut k = prefix(j);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

pub fn prefix(j: &Jurisdiction) -> Vec<u8> {
    let mut k = j.as_str().as_bytes().to_vec();
    k.push(0);
    k
}

pub fn seq_of(key: &[u8]) -> Option<u64> {
    let tail: [u8; 8] = key.get(key.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}

pub fn kind_byte(kind: RecordKind) -> u8 {
    match kind {
        RecordKind::Alert => b'A',
        RecordKind::Denial => b'D',
        RecordKind::Consultation => b'C',
    }
}

/// `kind issuer 0 id 0`: every version of one record.
pub fn record_prefix(kind: RecordKind, issuer: &Jurisdiction, id: &str) -> Vec<u8> {
    let mut k = vec![kind_byte(kind)];
    k.extend_from_slice(&prefix(issuer));
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k
}

pub fn index_key(kind: RecordKind, issuer: &Jurisdiction, id: &str, version: u32) -> Vec<u8> {
    let mut k = record_prefix(kind, issuer, id);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_jurisdiction_then_sequence() {
        let (de, dee): (Jurisdiction, Jurisdiction) =
            ("DE".parse().unwrap(), "DEE".parse().unwrap());
        assert!(seq_key(&de, 2) < seq_key(&de, 10));
        assert!(
            seq_key(&de, u64::MAX) < seq_key(&dee, 0),
            "a longer code must not interleave"
        );
        assert_eq!(seq_of(&seq_key(&de, 77)), Some(77));
        assert!(
            index_key(RecordKind::Denial, &de, "DE-D-1", 1)
                < index_key(RecordKind::Denial, &de, "DE-D-1", 2)
        );
    }
}
