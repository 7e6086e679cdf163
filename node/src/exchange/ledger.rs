//! How the exchange lays its data out in the store: one tree per kind of
//! fact, with keys that sort in the order they are read.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::envelope::{EnvelopeHeader, Record, RecordKind, SignedEnvelope, SignedReceipt};
use super::records::{AlertCategory, AlertState, DenialState};
use crate::identity::Jurisdiction;
use crate::store::{Batch, Store, StoreError, Tree};

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

/// The current (highest) version held of one record: key `kind issuer 0
/// id 0`, the record's prefix in `index`. Kept in the batch that stores the
/// version, so reading the current versions touches one entry per record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Current {
    pub entry: IndexEntry,
    pub version: u32,
    pub issued_at_unix_ms: i64,
    /// What `stats` counts, so that it reads one small entry per record.
    pub facts: Facts,
}

/// The facts about a record's current version that counts need.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub recipients: Vec<Jurisdiction>,
    /// Alerts only.
    pub category: Option<AlertCategory>,
    /// A revoked denial or a withdrawn alert.
    pub revoked: bool,
    /// When it stops being in force: an alert's expiry, a denial's end.
    pub ends_at_unix_ms: Option<i64>,
}

impl Facts {
    pub fn of(header: &EnvelopeHeader, record: &Record) -> Facts {
        let (category, revoked, ends_at_unix_ms) = match record {
            Record::Alert(a) => (
                Some(a.category),
                a.state == AlertState::Withdrawn,
                a.expires_at_unix_ms,
            ),
            Record::Denial(d) => (None, d.state == DenialState::Revoked, d.valid_until_unix_ms),
            Record::Consultation(_) => (None, false, None),
        };
        Facts {
            recipients: header.recipients.clone(),
            category,
            revoked,
            ends_at_unix_ms,
        }
    }

    /// In force at `now`: neither revoked nor ended.
    pub fn in_force(&self, now_unix_ms: i64) -> bool {
        !self.revoked && self.ends_at_unix_ms.is_none_or(|t| t > now_unix_ms)
    }
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
    /// The current version of each record: key its record prefix.
    pub current: Tree<Current>,
    /// The current version of each record, newest first: key `kind
    /// inverted-issue-time record-prefix`, so a newest-first page reads
    /// only the records on it.
    pub newest: Tree<IndexEntry>,
    /// Denials by destination: key `DESTINATION 0 record-prefix`, so the
    /// no-undercut gate reads only the denials to one destination. An
    /// amendment that changes the destination adds a key; the old one is
    /// removed with it when the previous version is on disk, and a key that
    /// no longer matches its record's current destination is skipped on
    /// read (the lookup always checks the record itself).
    pub denial_destinations: Tree<u8>,
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
            current: store.tree("current_records")?,
            newest: store.tree("newest_records")?,
            denial_destinations: store.tree("denial_destinations")?,
        })
    }

    /// Makes the version `h` describes (stored in the same batch) the
    /// current one of its record, unless a higher version is held. `pending`
    /// carries what earlier versions in the same batch made current.
    pub fn set_current(
        &self,
        batch: &mut Batch,
        pending: &mut HashMap<Vec<u8>, Current>,
        h: &EnvelopeHeader,
        record: &Record,
        digest: [u8; 32],
    ) -> Result<(), StoreError> {
        let prefix = record_prefix(h.kind, &h.issuer, &h.record_id);
        let held = match pending.get(&prefix) {
            Some(c) => Some(c.clone()),
            None => self.current.get(&prefix)?,
        };
        if let Some(held) = &held {
            if held.version >= h.version {
                return Ok(());
            }
            batch.delete(&self.newest, newest_key(&prefix, held.issued_at_unix_ms));
        }
        if let Record::Denial(d) = record {
            if let Some(old) = held
                .as_ref()
                .and_then(|held| self.denial_destination_of(&held.entry))
            {
                if !old.eq_ignore_ascii_case(d.destination.trim()) {
                    batch.delete(&self.denial_destinations, destination_key(&old, &prefix));
                }
            }
            batch.put(
                &self.denial_destinations,
                destination_key(&d.destination, &prefix),
                &1,
            )?;
        }
        let current = Current {
            entry: IndexEntry {
                issuer: h.issuer.clone(),
                seq: h.seq,
                digest,
            },
            version: h.version,
            issued_at_unix_ms: h.issued_at_unix_ms,
            facts: Facts::of(h, record),
        };
        batch.put(&self.current, &prefix, &current)?;
        batch.put(
            &self.newest,
            newest_key(&prefix, h.issued_at_unix_ms),
            &current.entry,
        )?;
        pending.insert(prefix, current);
        Ok(())
    }

    /// Forgets the record under `prefix` (every version is being removed in
    /// the same batch).
    pub fn remove_current(&self, batch: &mut Batch, prefix: &[u8]) -> Result<(), StoreError> {
        if let Some(held) = self.current.get(prefix)? {
            batch.delete(&self.newest, newest_key(prefix, held.issued_at_unix_ms));
            if let Some(old) = self.denial_destination_of(&held.entry) {
                batch.delete(&self.denial_destinations, destination_key(&old, prefix));
            }
        }
        batch.delete(&self.current, prefix);
        Ok(())
    }

    /// The destination of the stored denial `entry` points to, if it is one.
    fn denial_destination_of(&self, entry: &IndexEntry) -> Option<String> {
        let stored = self
            .envelopes
            .get(seq_key(&entry.issuer, entry.seq))
            .ok()??;
        let header = stored.envelope.peek_header().ok()?;
        match Record::decode(header.kind, &stored.envelope.body).ok()? {
            Record::Denial(d) => Some(d.destination.trim().to_owned()),
            _ => None,
        }
    }

    /// Builds `denial_destinations` from `current` in a store written
    /// before it existed (or whose build was interrupted), marker last.
    /// Returns the number of denials indexed, or `None` if it was complete.
    /// Counts, once, the id numbers of every record held (a store from
    /// before ids were numbered per kind, when they took the sequence
    /// number): the own counters continue above every id issued, and each
    /// issuer's highest held id is known. Returns how many were counted.
    pub fn count_ids(
        &self,
        store: &Store,
        own: &Jurisdiction,
    ) -> Result<Option<usize>, StoreError> {
        if self.counters.contains(IDS_COUNTED)? {
            return Ok(None);
        }
        let mut highest: HashMap<(Jurisdiction, u8), u64> = HashMap::new();
        let mut counted = 0usize;
        for item in self.current.lazy_iter() {
            let (key, current) = item?;
            let issuer = current.entry.issuer;
            let Some((&kind, rest)) = key.split_first() else {
                continue;
            };
            let id = rest
                .get(prefix(&issuer).len()..rest.len().saturating_sub(1))
                .and_then(|b| std::str::from_utf8(b).ok());
            if let Some(n) = id.and_then(super::envelope::id_number) {
                let slot = highest.entry((issuer, kind)).or_default();
                *slot = (*slot).max(n);
                counted += 1;
            }
        }
        let mut batch = store.batch();
        // Ids took the sequence number before: continuing above it reuses
        // none, also of records since purged.
        let seq = self.counters.get(SEQ_COUNTER)?.unwrap_or(0);
        for kind in ID_KINDS {
            let slot = highest.entry((own.clone(), kind_byte(kind))).or_default();
            *slot = (*slot).max(seq);
        }
        for ((issuer, kind), n) in highest {
            let Some(kind) = ID_KINDS.into_iter().find(|k| kind_byte(*k) == kind) else {
                continue;
            };
            let key = if &issuer == own {
                id_counter_key(kind).to_vec()
            } else {
                held_id_key(&issuer, kind)
            };
            batch.put(&self.counters, key, &n)?;
        }
        batch.put(&self.counters, IDS_COUNTED, &1)?;
        store.commit_offline(batch)?;
        Ok(Some(counted))
    }

    pub fn build_denial_destinations(&self, store: &Store) -> Result<Option<usize>, StoreError> {
        if self.counters.contains(DESTINATIONS_BUILT)? {
            return Ok(None);
        }
        clear(store, &self.denial_destinations)?;
        let mut batch = store.batch();
        let mut denials = 0usize;
        let kind = [kind_byte(RecordKind::Denial)];
        for item in self.current.lazy_scan_prefix(kind) {
            let (prefix, current) = item?;
            if let Some(destination) = self.denial_destination_of(&current.entry) {
                batch.put(
                    &self.denial_destinations,
                    destination_key(&destination, &prefix),
                    &1,
                )?;
                denials += 1;
            }
            if batch.len() >= REBUILD_BATCH {
                store.commit_offline(std::mem::replace(&mut batch, store.batch()))?;
            }
        }
        batch.put(&self.counters, DESTINATIONS_BUILT, &1)?;
        store.commit_offline(batch)?;
        Ok(Some(denials))
    }

    /// Builds `current` and `newest` from `index` in a store written before
    /// they existed (or whose build was interrupted): both are cleared and
    /// rebuilt, and the marker that says they are complete is written last,
    /// so a crash part-way means a rebuild at the next start. Returns the
    /// number of records indexed, or `None` if the indexes were complete.
    pub fn build_current(&self, store: &Store) -> Result<Option<usize>, StoreError> {
        if self.counters.contains(CURRENT_BUILT)? {
            return Ok(None);
        }
        clear(store, &self.newest)?;
        clear(store, &self.current)?;
        // Rebuilt from `current` once that is complete.
        batch_delete_marker(store, &self.counters, DESTINATIONS_BUILT)?;
        let mut batch = store.batch();
        let mut pending = HashMap::new();
        let mut records = 0usize;
        for item in self.index.lazy_iter() {
            let (_, entry) = item?;
            let Some(stored) = self.envelopes.get(seq_key(&entry.issuer, entry.seq))? else {
                continue;
            };
            let Ok(header) = stored.envelope.peek_header() else {
                continue;
            };
            let Ok(record) = Record::decode(header.kind, &stored.envelope.body) else {
                continue;
            };
            let before = pending.len();
            self.set_current(&mut batch, &mut pending, &header, &record, entry.digest)?;
            records += pending.len() - before;
            if batch.len() >= REBUILD_BATCH {
                store.commit_offline(std::mem::replace(&mut batch, store.batch()))?;
                pending.clear();
            }
        }
        batch.put(&self.counters, CURRENT_BUILT, &1)?;
        store.commit_offline(batch)?;
        Ok(Some(records))
    }
}

/// Writes per offline batch while rebuilding indexes: bounds memory on a
/// store of millions of records.
const REBUILD_BATCH: usize = 20_000;

fn clear<V: Serialize + serde::de::DeserializeOwned + 'static>(
    store: &Store,
    tree: &Tree<V>,
) -> Result<(), StoreError> {
    let mut batch = store.batch();
    for item in tree.lazy_iter() {
        let (key, _) = item?;
        batch.delete(tree, key);
        if batch.len() >= REBUILD_BATCH {
            store.commit_offline(std::mem::replace(&mut batch, store.batch()))?;
        }
    }
    store.commit_offline(batch)
}

fn batch_delete_marker(store: &Store, counters: &Tree<u64>, key: &[u8]) -> Result<(), StoreError> {
    let mut batch = store.batch();
    batch.delete(counters, key);
    store.commit_offline(batch)
}

/// Set in `counters` once `denial_destinations` covers every current denial.
const DESTINATIONS_BUILT: &[u8] = b"denial_destinations_built";

/// `DESTINATION 0 record-prefix`, the destination upper-cased and trimmed
/// as the gate compares it.
pub fn destination_key(destination: &str, record_prefix: &[u8]) -> Vec<u8> {
    let mut k = destination_prefix(destination);
    k.extend_from_slice(record_prefix);
    k
}

/// Every [`destination_key`] of one destination starts with this.
pub fn destination_prefix(destination: &str) -> Vec<u8> {
    let mut k = destination.trim().to_ascii_uppercase().into_bytes();
    k.push(0);
    k
}

/// Set in `counters` once `current` and `newest` cover every indexed version.
const CURRENT_BUILT: &[u8] = b"current_records_built";

/// `kind inverted-time prefix`: ascending key order is newest first, then
/// store order among records issued in the same millisecond.
pub fn newest_key(prefix: &[u8], issued_at_unix_ms: i64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 9);
    k.push(prefix.first().copied().unwrap_or(0));
    k.extend_from_slice(&newest_order(issued_at_unix_ms).to_be_bytes());
    k.extend_from_slice(prefix);
    k
}

/// The issue time a [`newest_key`] sorts by.
pub fn newest_time(key: &[u8]) -> Option<i64> {
    let order: [u8; 8] = key.get(1..9)?.try_into().ok()?;
    Some(((!u64::from_be_bytes(order)) ^ (1 << 63)) as i64)
}

/// The issuer of the record a [`newest_key`] points to (its record prefix
/// is `kind issuer 0 id 0`).
pub fn newest_issuer(key: &[u8]) -> Option<Jurisdiction> {
    let rest = key.get(10..)?;
    let end = rest.iter().position(|b| *b == 0)?;
    std::str::from_utf8(rest.get(..end)?).ok()?.parse().ok()
}

/// Later times map to smaller numbers (sign bit flipped for order, then inverted).
fn newest_order(t: i64) -> u64 {
    !((t as u64) ^ (1 << 63))
}

pub const SEQ_COUNTER: &[u8] = b"seq";

/// `jurisdiction 0 seq(BE)`: sorts by jurisdiction, then sequence.
pub fn seq_key(j: &Jurisdiction, seq: u64) -> Vec<u8> {
    let mut k = prefix(j);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Counter key of the last id number this node gave an own record of `kind`.
pub fn id_counter_key(kind: RecordKind) -> [u8; 4] {
    [b'i', b'd', b'/', kind_byte(kind)]
}

/// Counter key of the highest id number of `kind` held from `issuer` (what
/// this node tells that issuer in each `Hello`).
pub fn held_id_key(issuer: &Jurisdiction, kind: RecordKind) -> Vec<u8> {
    let mut k = b"held-id/".to_vec();
    k.extend_from_slice(issuer.as_str().as_bytes());
    k.push(b'/');
    k.push(kind_byte(kind));
    k
}

/// Set by a restore: the id counters may lag what partners hold, until
/// each has said what it holds (`resume`).
pub const IDS_AFTER_RESTORE: &[u8] = b"ids-after-restore";
/// Marks the id counters as counted over every record held.
const IDS_COUNTED: &[u8] = b"ids-counted";

pub const ID_KINDS: [RecordKind; 3] = [
    RecordKind::Alert,
    RecordKind::Denial,
    RecordKind::Consultation,
];

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

    #[test]
    fn newest_keys_sort_newest_first_then_in_store_order() {
        let de: Jurisdiction = "DE".parse().unwrap();
        let a = record_prefix(RecordKind::Alert, &de, "DE-A-1");
        let b = record_prefix(RecordKind::Alert, &de, "DE-A-2");
        assert!(newest_key(&a, 2_000) < newest_key(&a, 1_000));
        assert!(
            newest_key(&a, 0) < newest_key(&a, -1),
            "times before 1970 still sort"
        );
        assert!(newest_key(&a, i64::MAX) < newest_key(&b, i64::MIN));
        assert!(newest_key(&a, 5) < newest_key(&b, 5), "ties in store order");
        let denial = record_prefix(RecordKind::Denial, &de, "DE-D-1");
        assert_eq!(newest_key(&denial, 5)[0], b'D', "each kind apart");
        for t in [i64::MIN, -1, 0, 1_800_000_000_000, i64::MAX] {
            assert_eq!(newest_time(&newest_key(&denial, t)), Some(t));
            assert_eq!(newest_issuer(&newest_key(&denial, t)), Some(de.clone()));
        }
    }
}
