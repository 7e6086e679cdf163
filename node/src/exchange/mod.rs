//! Signed, need-to-know exchange of risk alerts and denial notices.
//!
//! Issuing signs a record with its resolved recipient list and, in one
//! durable batch, stores it and queues it in a per-recipient outbox. The
//! federation links push outboxes to peers and hand what peers push here to
//! [`Exchange::receive`], which accepts only authentic records that name this
//! node, exactly once. Need-to-know is decided by `policy` on every path.

pub mod consultation;
pub mod envelope;
mod evidence;
mod held;
mod idempotency;
mod issue;
mod ledger;
mod outbox;
mod receive;
pub mod records;
mod resume;
mod retention;
mod review;
mod stats;
mod view;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use tokio::sync::{broadcast, watch, Mutex};

pub use envelope::{Record, RecordKind, SignedEnvelope, SignedReceipt, Standing};
pub use evidence::EvidenceLimits;
pub use held::Held;
pub use idempotency::check_key as check_idempotency_key;
pub use issue::{
    batch_cost, AlertChange, AlertDraft, AlongWith, DenialChange, DenialDraft, Distribution, BATCH,
    BATCH_BYTES,
};
pub use resume::Paused;
pub use retention::{Purged, RetentionPeriods};
pub use review::DueDenial;
pub use stats::{ExchangeStats, KindCounts, PeerCounts};
pub use view::{
    DeliveryView, NewestCursor, PageBudget, PageCursor, RecordFilter, RecordView, Reverified,
    SignatureCheck, REVERIFY_DETAILS,
};

use crate::audit::{Action, AuditLog};
use crate::clock::now_unix_ms;
use crate::crypto::RecordSigner;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;
use crate::peers::PeerDirectory;
use crate::store::Store;
use ledger::Ledger;
pub use ledger::{EquivocationCount, Evidence, SharingGroup};

pub struct Exchange {
    own: Jurisdiction,
    signer: Arc<RecordSigner>,
    store: Store,
    peers: Arc<PeerDirectory>,
    ledger: Ledger,
    idempotency: crate::store::Tree<idempotency::Remembered>,
    /// Set when a peer holds more of this node's records than its store.
    paused: std::sync::Mutex<Option<Paused>>,
    /// When a denial is due for review after its latest version (`review`).
    denial_review_after_ms: std::sync::atomic::AtomicI64,
    /// What partners said they hold of this node's ids since it started.
    id_reports: std::sync::Mutex<resume::IdReports>,
    audit: Arc<AuditLog>,
    // Sequence numbers are assigned under this lock so they follow commit order.
    issuing: Mutex<()>,
    // Duplicate and equivocation checks must see every earlier receive from
    // the same issuer; different issuers' records never collide, so their
    // receives run concurrently and share flushes.
    receiving: std::sync::Mutex<HashMap<Jurisdiction, Arc<Mutex<()>>>>,
    outbox: outbox::Outbox,
    /// Highest own sequence number known to be on disk. Records above it may
    /// be visible in the store but must not leave the node yet.
    durable_seq: AtomicU64,
    /// Every record newly stored here, issued or received, for live watchers.
    stored: broadcast::Sender<RecordView>,
    /// How much equivocation evidence each peer may make this node keep.
    evidence_limits: std::sync::Mutex<EvidenceLimits>,
    /// When each peer's equivocation was last logged, and its count then.
    equivocation_logged: std::sync::Mutex<HashMap<Jurisdiction, (std::time::Instant, u64)>>,
}

/// The current time in microseconds: where a counter that may lag what
/// partners hold jumps to (after a restore, or when an admin resumes
/// issuing), above anything a node can have issued before.
pub(crate) fn now_as_sequence() -> u64 {
    u64::try_from(now_unix_ms())
        .unwrap_or(0)
        .saturating_mul(1000)
}

/// Moves this node's sequence counter past anything it could have issued
/// since a backup was taken, so a restored node never signs a second, different
/// record under a sequence number (and record id) its peers already hold —
/// which they would rightly refuse as equivocation. The new counter is the
/// restore time in microseconds: above every number issued before it as long
/// as the node issued fewer than a million records a second on average.
/// Returns the new counter.
pub fn skip_sequence_after_restore(store: &Store) -> Result<u64, crate::store::StoreError> {
    let ledger = Ledger::open(store)?;
    let held = ledger.counters.get(ledger::SEQ_COUNTER)?.unwrap_or(0);
    let next = held.max(now_as_sequence());
    let mut batch = store.batch();
    batch.put(&ledger.counters, ledger::SEQ_COUNTER, &next)?;
    // Ids stay short: instead of jumping, they wait for the partners to
    // say which they hold (`resume`).
    batch.put(&ledger.counters, ledger::IDS_AFTER_RESTORE, &1)?;
    store.commit_offline(batch)?;
    Ok(next)
}

impl Exchange {
    pub fn open(
        store: Store,
        own: Jurisdiction,
        signer: Arc<RecordSigner>,
        peers: Arc<PeerDirectory>,
        audit: Arc<AuditLog>,
    ) -> Result<Self> {
        let ledger = Ledger::open(&store)?;
        if let Some(records) = ledger.build_current(&store)? {
            tracing::info!(records, "indexed the current version of every record held");
        }
        if let Some(denials) = ledger.build_denial_destinations(&store)? {
            tracing::info!(denials, "indexed the denials held by destination");
        }
        if let Some(records) = ledger.count_ids(&store, &own)? {
            tracing::info!(records, "counted the id numbers of every record held");
        }
        let idempotency = store.tree(idempotency::TREE)?;
        // Everything found on disk at start is durable.
        let durable_seq = AtomicU64::new(ledger.counters.get(ledger::SEQ_COUNTER)?.unwrap_or(0));
        Ok(Exchange {
            outbox: outbox::Outbox::new(ledger.outbox.clone()),
            durable_seq,
            own,
            signer,
            store,
            peers,
            ledger,
            idempotency,
            paused: Default::default(),
            id_reports: Default::default(),
            denial_review_after_ms: std::sync::atomic::AtomicI64::new(3 * 365 * 86_400_000),
            audit,
            issuing: Mutex::new(()),
            receiving: Default::default(),
            // Sized for bursts: a watcher that still falls behind is told so, not silently skipped.
            stored: broadcast::channel(16_384).0,
            evidence_limits: Default::default(),
            equivocation_logged: Default::default(),
        })
    }

    pub fn jurisdiction(&self) -> &Jurisdiction {
        &self.own
    }

    /// The registered peers, as records are addressed to them.
    pub fn peers(&self) -> &PeerDirectory {
        &self.peers
    }

    pub fn signer(&self) -> &RecordSigner {
        &self.signer
    }

    /// Wakes when any outbox gains entries.
    pub fn outbox_changes(&self) -> watch::Receiver<u64> {
        self.outbox.changes()
    }

    /// Records newly stored on this node, as they land.
    pub fn watch(&self) -> broadcast::Receiver<RecordView> {
        self.stored.subscribe()
    }

    // ---- sharing groups -------------------------------------------------

    pub async fn create_group(
        &self,
        actor: &str,
        name: &str,
        members: Vec<Jurisdiction>,
    ) -> Result<SharingGroup> {
        crate::identity::validate_name(name)
            .map_err(|e| Error::InvalidArgument(format!("group name: {e}")))?;
        let members: Vec<Jurisdiction> = members
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if members.is_empty() {
            return Err(Error::InvalidArgument(
                "a group needs at least one member".into(),
            ));
        }
        if members.contains(&self.own) {
            return Err(Error::InvalidArgument(format!(
                "{} is this node's own jurisdiction; groups name the peers records go to",
                self.own
            )));
        }
        let peers = self.peers.current();
        let unknown: Vec<&str> = members
            .iter()
            .filter(|m| !peers.contains_key(*m))
            .map(|m| m.as_str())
            .collect();
        if !unknown.is_empty() {
            return Err(Error::FailedPrecondition(format!(
                "not registered peers: {}; add them first (concord peer add --trust FILE)",
                unknown.join(", ")
            )));
        }
        let _guard = self.issuing.lock().await;
        if self.ledger.groups.contains(name)? {
            return Err(Error::AlreadyExists(format!(
                "group {name:?} already exists"
            )));
        }
        let group = SharingGroup {
            name: name.to_owned(),
            members,
            created_at_unix_ms: now_unix_ms(),
        };
        let mut batch = self.store.batch();
        batch.put(&self.ledger.groups, name, &group)?;
        let members: Vec<_> = group.members.iter().map(|m| m.as_str()).collect();
        let rationale = format!("members {}", members.join(","));
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action: "group.create",
                    record: name,
                    rationale: &rationale,
                }],
            )
            .await?;
        Ok(group)
    }

    pub fn groups(&self) -> Result<Vec<SharingGroup>> {
        Ok(self
            .ledger
            .groups
            .iter()?
            .into_iter()
            .map(|(_, g)| g)
            .collect())
    }

    pub async fn remove_group(&self, actor: &str, name: &str) -> Result<()> {
        let _guard = self.issuing.lock().await;
        if !self.ledger.groups.contains(name)? {
            return Err(Error::NotFound(format!("no group {name:?}")));
        }
        let mut batch = self.store.batch();
        batch.delete(&self.ledger.groups, name);
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action: "group.remove",
                    record: name,
                    rationale: "",
                }],
            )
            .await?;
        Ok(())
    }

    fn group_map(&self) -> Result<BTreeMap<String, Vec<Jurisdiction>>> {
        Ok(self
            .groups()?
            .into_iter()
            .map(|g| (g.name, g.members))
            .collect())
    }

    // ---- equivocation evidence ------------------------------------------

    pub fn evidence(&self) -> Result<Vec<Evidence>> {
        Ok(self
            .ledger
            .evidence
            .iter()?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    pub fn evidence_count(&self) -> usize {
        self.ledger.evidence.len().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
