//! Equivocation evidence, bounded per peer: the first proof of each conflict
//! with a held envelope is kept (both signed envelopes), up to a cap in
//! entries and bytes per peer; every further conflict is only counted
//! (`equivocations` tree), so a peer signing conflicting envelopes in a loop
//! cannot grow this node's store. Detection is logged at error level, at
//! most once a minute per peer, and counted for `status`, `evidence list`
//! and the `concord_equivocations_total{peer}` metric.

use std::time::{Duration, Instant};

use super::envelope::SignedEnvelope;
use super::ledger::{self, EquivocationCount, Evidence};
use super::Exchange;
use crate::error::Result;
use crate::identity::Jurisdiction;

/// How much equivocation evidence one peer may make this node keep
/// (`[limits] max_evidence_per_peer`, `max_evidence_bytes_per_peer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvidenceLimits {
    pub entries: u64,
    pub bytes: u64,
}

impl Default for EvidenceLimits {
    fn default() -> Self {
        EvidenceLimits {
            entries: 64,
            bytes: 16 * 1024 * 1024,
        }
    }
}

/// At most one error line per peer in this period; the next one says how
/// many conflicts came in between.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// What became of one detected conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Both envelopes stored as evidence.
    Stored,
    /// Evidence against the same held envelope is already stored.
    AlreadyProven,
    /// The peer's evidence reached `EvidenceLimits`.
    CapReached,
    /// The conflicting envelopes arrived in one batch; none is held.
    NothingHeld,
}

fn size(e: &SignedEnvelope) -> u64 {
    (e.header.len() + e.body.len() + e.signature.len()) as u64
}

impl Exchange {
    pub fn set_evidence_limits(&self, limits: EvidenceLimits) {
        *self
            .evidence_limits
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = limits;
    }

    pub fn evidence_limits(&self) -> EvidenceLimits {
        *self
            .evidence_limits
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Records one detected conflict by `issuer`: keeps `evidence` (the held
    /// and the conflicting envelope) if nothing against the same held
    /// envelope is kept and the peer is within its limits, counts it either
    /// way, in one durable batch. The caller holds the issuer's receive lock,
    /// so counts never race.
    pub(super) async fn record_equivocation(
        &self,
        issuer: &Jurisdiction,
        evidence: Option<Evidence>,
        now: i64,
    ) -> Result<(Kept, EquivocationCount)> {
        let mut count = self
            .ledger
            .equivocations
            .get(issuer.as_str())?
            .unwrap_or_default();
        if count.detected == 0 {
            count.first_at_unix_ms = now;
        }
        count.detected += 1;
        count.last_at_unix_ms = now;
        let mut batch = self.store.batch();
        let kept = match evidence {
            None => Kept::NothingHeld,
            Some(e) => {
                let held_seq = e.held.peek_header().map(|h| h.seq).unwrap_or(0);
                let key = ledger::seq_key(issuer, held_seq);
                let bytes = size(&e.held) + size(&e.conflicting);
                let limits = self.evidence_limits();
                if self.ledger.evidence.contains(&key)? {
                    Kept::AlreadyProven
                } else if count.kept >= limits.entries
                    || count.kept_bytes.saturating_add(bytes) > limits.bytes
                {
                    Kept::CapReached
                } else {
                    batch.put(&self.ledger.evidence, &key, &e)?;
                    count.kept += 1;
                    count.kept_bytes += bytes;
                    Kept::Stored
                }
            }
        };
        if kept != Kept::Stored {
            count.not_kept += 1;
        }
        batch.put(&self.ledger.equivocations, issuer.as_str(), &count)?;
        self.store.commit(batch).await?;
        Ok((kept, count))
    }

    /// Whether an error line about `issuer`'s equivocation is due now (at
    /// most one per [`LOG_EVERY`]): `Some(conflicts not logged since the
    /// last line)`, or `None` to stay quiet.
    pub(super) fn equivocation_log_due(&self, issuer: &Jurisdiction, detected: u64) -> Option<u64> {
        let mut logged = self
            .equivocation_logged
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let quiet = match logged.get(issuer) {
            Some((at, _)) if now.duration_since(*at) < LOG_EVERY => return None,
            Some((_, last)) => detected.saturating_sub(*last).saturating_sub(1),
            None => 0,
        };
        logged.insert(issuer.clone(), (now, detected));
        Some(quiet)
    }

    /// Every peer's equivocation counts, by issuer.
    pub fn equivocation_counts(&self) -> Result<Vec<(Jurisdiction, EquivocationCount)>> {
        let mut out = Vec::new();
        for (key, count) in self.ledger.equivocations.iter()? {
            if let Some(j) = std::str::from_utf8(&key)
                .ok()
                .and_then(|k| k.parse::<Jurisdiction>().ok())
            {
                out.push((j, count));
            }
        }
        Ok(out)
    }

    /// Conflicting envelopes detected in all: the evidence held plus the
    /// conflicts counted without it (evidence kept before counting began
    /// counts too).
    pub fn equivocations_detected(&self) -> usize {
        let not_kept: u64 = self
            .equivocation_counts()
            .unwrap_or_default()
            .iter()
            .map(|(_, c)| c.not_kept)
            .sum();
        self.evidence_count()
            .saturating_add(usize::try_from(not_kept).unwrap_or(usize::MAX))
    }
}
