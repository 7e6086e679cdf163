//! Denial reviews: each of this node's denials is due for review a
//! configured time (`[exchange] denial_review_after_days`, three years by
//! default) after its latest version. A review is recorded as that next
//! version: an amendment (which restarts the clock, with its rationale) or a
//! revocation (which ends it). Read from the current-version index, so
//! counting what is overdue decodes no record.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::envelope::RecordKind;
use super::{ledger, Exchange, RecordView};
use crate::clock::now_unix_ms;
use crate::error::Result;

/// One of this node's denials with when it is due for review.
#[derive(Clone, Debug)]
pub struct DueDenial {
    pub view: RecordView,
    pub due_unix_ms: i64,
}

impl DueDenial {
    pub fn overdue(&self, now_unix_ms: i64) -> bool {
        self.due_unix_ms <= now_unix_ms
    }
}

impl Exchange {
    pub fn set_denial_review_after(&self, after: Duration) {
        self.denial_review_after_ms
            .store(after.as_millis() as i64, Ordering::Relaxed);
    }

    /// How long after its latest version a denial is due for review.
    pub fn denial_review_after(&self) -> Duration {
        Duration::from_millis(self.denial_review_after_ms.load(Ordering::Relaxed).max(0) as u64)
    }

    /// (index entry, due time) of each own denial in force.
    fn review_dates(&self, now: i64) -> Result<Vec<(ledger::IndexEntry, i64)>> {
        let after = self.denial_review_after_ms.load(Ordering::Relaxed);
        let mut start = vec![ledger::kind_byte(RecordKind::Denial)];
        start.extend_from_slice(&ledger::prefix(&self.own));
        let mut out = Vec::new();
        for item in self.ledger.current.lazy_scan_prefix(&start) {
            let (_, current) = item?;
            if current.facts.in_force(now) {
                let due = current.issued_at_unix_ms.saturating_add(after);
                out.push((current.entry, due));
            }
        }
        Ok(out)
    }

    /// This node's denials in force that are due for review before `now +
    /// within` (overdue ones too), soonest first.
    pub fn denials_due_for_review(&self, within: Duration) -> Result<Vec<DueDenial>> {
        let now = now_unix_ms();
        let horizon = now.saturating_add(within.as_millis() as i64);
        let mut due: Vec<(ledger::IndexEntry, i64)> = self
            .review_dates(now)?
            .into_iter()
            .filter(|(_, at)| *at <= horizon)
            .collect();
        due.sort_by_key(|(_, at)| *at);
        let mut out = Vec::with_capacity(due.len());
        for (entry, due_unix_ms) in due {
            let Some(stored) = self
                .ledger
                .envelopes
                .get(ledger::seq_key(&entry.issuer, entry.seq))?
            else {
                continue;
            };
            let view = self.view(&stored, Some(&entry.digest))?;
            out.push(DueDenial { view, due_unix_ms });
        }
        Ok(out)
    }

    /// How many of this node's denials in force are past their review date.
    pub fn denials_overdue_for_review(&self) -> Result<usize> {
        let now = now_unix_ms();
        Ok(self
            .review_dates(now)?
            .into_iter()
            .filter(|(_, at)| *at <= now)
            .count())
    }
}
