//! Counts of the records this node holds, for `concord stats`: per kind,
//! issued here or received, in force or not, by alert category, and per
//! peer. Counts records (all versions of a denial are one record), judged
//! by their latest version held here.

use std::collections::BTreeMap;

use super::envelope::RecordKind;
use super::ledger::{self, Current};
use super::Exchange;
use crate::error::Result;
use crate::identity::Jurisdiction;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub issued: u64,
    pub received: u64,
    pub issued_active: u64,
    pub received_active: u64,
    /// Alerts only, by category name.
    pub issued_by_category: BTreeMap<String, u64>,
    pub received_by_category: BTreeMap<String, u64>,
    /// Denials only: versions after the first.
    pub issued_changes: u64,
    pub received_changes: u64,
    pub issued_revoked: u64,
    pub received_revoked: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerCounts {
    /// Own records naming the peer as a recipient.
    pub alerts_sent: u64,
    pub denials_sent: u64,
    /// Records issued by the peer held here.
    pub alerts_received: u64,
    pub denials_received: u64,
    /// Equivocations detected from the peer (evidence held, and conflicts
    /// counted beyond it).
    pub equivocations: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExchangeStats {
    pub alerts: KindCounts,
    pub denials: KindCounts,
    pub equivocations: u64,
    pub peers: BTreeMap<Jurisdiction, PeerCounts>,
}

impl Exchange {
    /// Counts everything held now from the current-version index alone:
    /// one small entry per record, no envelope read or decoded.
    pub fn stats(&self, now: i64) -> Result<ExchangeStats> {
        let mut stats = ExchangeStats::default();
        for kind in [RecordKind::Alert, RecordKind::Denial] {
            for item in self
                .ledger
                .current
                .lazy_scan_prefix([ledger::kind_byte(kind)])
            {
                let (_, current) = item?;
                self.count(&mut stats, kind, &current, now);
            }
        }
        for (_, e) in self.ledger.evidence.iter()? {
            stats.equivocations += 1;
            stats.peers.entry(e.issuer).or_default().equivocations += 1;
        }
        // Conflicts counted beyond the evidence kept.
        for (peer, c) in self.equivocation_counts()? {
            stats.equivocations += c.not_kept;
            stats.peers.entry(peer).or_default().equivocations += c.not_kept;
        }
        Ok(stats)
    }

    fn count(&self, stats: &mut ExchangeStats, kind: RecordKind, current: &Current, now: i64) {
        let facts = &current.facts;
        let own = current.entry.issuer == self.own;
        let counts = match kind {
            RecordKind::Alert => &mut stats.alerts,
            RecordKind::Denial => &mut stats.denials,
            RecordKind::Consultation => return,
        };
        let active = facts.in_force(now);
        let category = facts.category.map(|c| c.as_str());
        let revoked = facts.revoked;
        // Versions after the first, by the current version's number.
        let changes = u64::from(current.version.saturating_sub(1));
        if own {
            counts.issued += 1;
            counts.issued_active += u64::from(active);
            counts.issued_revoked += u64::from(revoked);
            counts.issued_changes += changes;
            if let Some(c) = category {
                *counts.issued_by_category.entry(c.to_owned()).or_default() += 1;
            }
            for r in &facts.recipients {
                let peer = stats.peers.entry(r.clone()).or_default();
                match kind {
                    RecordKind::Alert => peer.alerts_sent += 1,
                    RecordKind::Denial => peer.denials_sent += 1,
                    RecordKind::Consultation => {}
                }
            }
        } else {
            counts.received += 1;
            counts.received_active += u64::from(active);
            counts.received_revoked += u64::from(revoked);
            counts.received_changes += changes;
            if let Some(c) = category {
                *counts.received_by_category.entry(c.to_owned()).or_default() += 1;
            }
            let peer = stats.peers.entry(current.entry.issuer.clone()).or_default();
            match kind {
                RecordKind::Alert => peer.alerts_received += 1,
                RecordKind::Denial => peer.denials_received += 1,
                RecordKind::Consultation => {}
            }
        }
    }
}
