//! Own records on their way to each recipient: the queue sizes, their
//! limit and the signal pushers wait on (`Outbox`), and the delivery side
//! of the exchange — what is pending for a peer, its receipts, catch-up.
//! The queue itself is the ledger's `outbox` tree, written in the batch that
//! stores each record; nothing above `durable_seq` leaves.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;

use super::envelope::{SignedEnvelope, SignedReceipt};
use super::issue::{batch_cost, BATCH_BYTES};
use super::ledger::{self, Delivery, OutboxEntry};
use super::Exchange;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;
use crate::policy;
use crate::store::Tree;

/// The per-recipient queues of own records not yet acknowledged.
pub(super) struct Outbox {
    tree: Tree<OutboxEntry>,
    /// Cached sizes, corrected whenever a queue drains.
    lens: Mutex<HashMap<Jurisdiction, usize>>,
    max: AtomicUsize,
    /// Bumped whenever a queue gains entries; pushers wait on it.
    changed: watch::Sender<u64>,
}

impl Outbox {
    pub(super) fn new(tree: Tree<OutboxEntry>) -> Outbox {
        Outbox {
            tree,
            lens: Mutex::default(),
            max: AtomicUsize::new(usize::MAX),
            changed: watch::channel(0).0,
        }
    }

    /// Envelopes still queued for `peer`.
    pub(super) fn queued_for(&self, peer: &Jurisdiction) -> usize {
        let cached = self.lens().get(peer).copied();
        cached.unwrap_or_else(|| self.recount(peer))
    }

    /// Counts `peer`'s queue in the store and caches the count.
    pub(super) fn recount(&self, peer: &Jurisdiction) -> usize {
        let n = self.tree.lazy_scan_prefix(ledger::prefix(peer)).count();
        self.lens().insert(peer.clone(), n);
        n
    }

    pub(super) fn grew(&self, recipients: &[Jurisdiction]) {
        let mut lens = self.lens();
        for r in recipients {
            if let Some(n) = lens.get_mut(r) {
                *n += 1;
            }
        }
    }

    pub(super) fn shrank(&self, peer: &Jurisdiction, by: usize) {
        if let Some(n) = self.lens().get_mut(peer) {
            *n = n.saturating_sub(by);
        }
    }

    /// Forgets the cached sizes of `peers` (their queues changed in ways
    /// not counted, e.g. a purge): the next look counts again.
    pub(super) fn forget<'a>(&self, peers: impl IntoIterator<Item = &'a Jurisdiction>) {
        let mut lens = self.lens();
        for p in peers {
            lens.remove(p);
        }
    }

    /// Refuses to queue more for a peer whose queue is full: a peer down for
    /// weeks must not fill the disk. Nothing already queued is dropped.
    pub(super) fn check_room(&self, recipients: &[Jurisdiction]) -> Result<()> {
        let max = self.max.load(Ordering::Relaxed);
        for r in recipients {
            if self.queued_for(r) >= max && self.recount(r) >= max {
                return Err(Error::ResourceExhausted(format!(
                    "outbox for {r} is full ({max} records queued and unacknowledged); {r} has been unreachable, \
                     so the record was not issued — leave {r} out of the distribution or restore the link"
                )));
            }
        }
        Ok(())
    }

    pub(super) fn set_limit(&self, max: usize) {
        self.max.store(max, Ordering::Relaxed);
    }

    /// Tells pushers that queues gained entries.
    pub(super) fn notify(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    pub(super) fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    fn lens(&self) -> std::sync::MutexGuard<'_, HashMap<Jurisdiction, usize>> {
        self.lens.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Exchange {
    /// The next envelopes queued for `peer`, in sequence order. Alerts that
    /// expired while queued are marked expired and never sent.
    pub async fn pending_for(
        &self,
        peer: &Jurisdiction,
        limit: usize,
    ) -> Result<Vec<(u64, SignedEnvelope)>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        let mut expired = Vec::new();
        let now = now_unix_ms();
        for entry in self.ledger.outbox.lazy_scan_prefix(ledger::prefix(peer)) {
            let (key, _) = entry?;
            let Some(seq) = ledger::seq_of(&key) else {
                continue;
            };
            if seq > self.durable_seq.load(Ordering::SeqCst) {
                break;
            }
            let Some(stored) = self.ledger.envelopes.get(ledger::seq_key(&self.own, seq))? else {
                continue;
            };
            let header = stored
                .envelope
                .peek_header()
                .map_err(|e| Error::Internal(e.to_string()))?;
            // Defence in depth: the outbox only ever holds named recipients.
            if !policy::may_send(&self.own, &header.issuer, &header.recipients, peer) {
                tracing::error!(%peer, seq, "outbox entry for a non-recipient dropped");
                expired.push((key, None));
                continue;
            }
            if header.expires_at_unix_ms.is_some_and(|t| t <= now) {
                expired.push((key, Some(seq)));
                continue;
            }
            let cost = batch_cost(&stored.envelope);
            if !out.is_empty() && bytes + cost > BATCH_BYTES {
                break;
            }
            bytes += cost;
            out.push((seq, stored.envelope));
            if out.len() >= limit {
                break;
            }
        }
        if out.is_empty() {
            // A drained outbox is the moment to correct the cached count.
            self.outbox.recount(peer);
        }
        if !expired.is_empty() {
            self.outbox.shrank(peer, expired.len());
            let mut batch = self.store.batch();
            for (key, seq) in expired {
                batch.delete(&self.ledger.outbox, &key);
                if seq.is_some() {
                    batch.put(
                        &self.ledger.deliveries,
                        &key,
                        &Delivery::Expired { at_unix_ms: now },
                    )?;
                }
            }
            self.store.commit(batch).await?;
        }
        Ok(out)
    }

    /// Records `peer`'s signed receipts for envelopes it was sent. A receipt
    /// that does not verify, or acknowledges something else, is refused and
    /// the envelope stays queued.
    pub async fn acknowledge(
        &self,
        peer: &Jurisdiction,
        sent: &[(u64, SignedEnvelope)],
        receipts: &[SignedReceipt],
    ) -> Result<usize> {
        let peers = self.peers.current();
        let registered = peers
            .get(peer)
            .ok_or_else(|| Error::FailedPrecondition(format!("{peer} is no longer a peer")))?;
        let keys = registered.bundle.keyring();
        let mut batch = self.store.batch();
        let mut acked = 0;
        let mut removed = 0;
        for ((seq, envelope), receipt) in sent.iter().zip(receipts) {
            let body = receipt
                .verify_with(&keys)
                .map_err(|e| Error::Unauthenticated(format!("receipt from {peer}: {e}")))?;
            if body.receiver != *peer
                || body.issuer != self.own
                || body.seq != *seq
                || body.envelope_digest != envelope.digest()
            {
                return Err(Error::InvalidArgument(format!(
                    "receipt from {peer} does not match envelope {seq}"
                )));
            }
            let k = ledger::seq_key(peer, *seq);
            if self.ledger.outbox.contains(&k)? {
                removed += 1;
            }
            batch.delete(&self.ledger.outbox, &k);
            let delivery = Delivery::Delivered {
                at_unix_ms: body.received_at_unix_ms,
                receipt: receipt.clone(),
                duplicate: body.duplicate,
            };
            batch.put(&self.ledger.deliveries, &k, &delivery)?;
            acked += 1;
        }
        if receipts.len() != sent.len() {
            tracing::warn!(%peer, sent = sent.len(), receipts = receipts.len(), "receipt count mismatch");
        }
        self.store.commit(batch).await?;
        self.outbox.shrank(peer, removed);
        Ok(acked)
    }

    /// Own records naming `peer` with sequence numbers after `after`, for a
    /// peer catching up. Never another issuer's records.
    pub fn catch_up(
        &self,
        peer: &Jurisdiction,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, SignedEnvelope)>> {
        let now = now_unix_ms();
        let start = ledger::seq_key(&self.own, after.saturating_add(1));
        let durable = self.durable_seq.load(Ordering::SeqCst);
        let end = ledger::seq_key(&self.own, durable.saturating_add(1));
        let mut out = Vec::new();
        let mut bytes = 0;
        for entry in self.ledger.envelopes.lazy_range(start, end) {
            let (_, stored) = entry?;
            let header = stored
                .envelope
                .peek_header()
                .map_err(|e| Error::Internal(e.to_string()))?;
            if policy::may_send(&self.own, &header.issuer, &header.recipients, peer)
                && header.expires_at_unix_ms.is_none_or(|t| t > now)
            {
                let cost = batch_cost(&stored.envelope);
                if !out.is_empty() && bytes + cost > BATCH_BYTES {
                    break;
                }
                bytes += cost;
                out.push((header.seq, stored.envelope));
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Highest sequence number this node holds from `issuer`.
    pub fn cursor(&self, issuer: &Jurisdiction) -> Result<u64> {
        Ok(self.ledger.cursors.get(issuer.as_str())?.unwrap_or(0))
    }

    /// Envelopes still queued for `peer`.
    pub fn queued_for(&self, peer: &Jurisdiction) -> usize {
        self.outbox.queued_for(peer)
    }

    /// Caps how many own records may wait for one peer.
    pub fn set_outbox_limit(&self, max: usize) {
        self.outbox.set_limit(max);
    }
}
