//! Counts of the records this node holds, for `concord stats`: per kind,
//! issued here or received, in force or not, by alert category, and per
//! peer. Counts records (all versions of a denial are one record), judged
//! by their latest version held here.

use std::collections::BTreeMap;

use super::envelope::{Record, RecordKind};
use super::ledger::{self, IndexEntry};
use super::records::DenialState;
use super::Exchange;
use crate::error::{Error, Result};
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
    /// Counts everything held now; reads every record's latest version.
    pub fn stats(&self, now: i64) -> Result<ExchangeStats> {
        let mut stats = ExchangeStats::default();
        for kind in [RecordKind::Alert, RecordKind::Denial] {
            for (latest, versions) in self.latest_versions(kind)? {
                self.count(&mut stats, kind, &latest, versions, now)?;
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

    /// The latest index entry of every record of `kind`, with its version count.
    fn latest_versions(&self, kind: RecordKind) -> Result<Vec<(IndexEntry, u64)>> {
        let mut out: Vec<(IndexEntry, u64)> = Vec::new();
        let mut last_prefix: Option<Vec<u8>> = None;
        for entry in self
            .ledger
            .index
            .lazy_scan_prefix([ledger::kind_byte(kind)])
        {
            let (key, e) = entry?;
            let prefix = key[..key.len().saturating_sub(4)].to_vec();
            match out.last_mut() {
                Some((latest, n)) if last_prefix.as_ref() == Some(&prefix) => {
                    *latest = e;
                    *n += 1;
                }
                _ => out.push((e, 1)),
            }
            last_prefix = Some(prefix);
        }
        Ok(out)
    }

    fn count(
        &self,
        stats: &mut ExchangeStats,
        kind: RecordKind,
        latest: &IndexEntry,
        versions: u64,
        now: i64,
    ) -> Result<()> {
        let Some(stored) = self
            .ledger
            .envelopes
            .get(ledger::seq_key(&latest.issuer, latest.seq))?
        else {
            return Ok(());
        };
        let header = stored
            .envelope
            .peek_header()
            .map_err(|e| Error::Internal(format!("stored envelope: {e}")))?;
        let record = Record::decode(kind, &stored.envelope.body)
            .map_err(|e| Error::Internal(format!("stored body of {}: {e}", header.record_id)))?;
        let own = header.issuer == self.own;
        let counts = match kind {
            RecordKind::Alert => &mut stats.alerts,
            RecordKind::Denial => &mut stats.denials,
            RecordKind::Consultation => return Ok(()),
        };
        let active = record.is_in_force(now);
        let (category, revoked) = match &record {
            Record::Alert(a) => (Some(a.category.as_str()), false),
            Record::Denial(d) => (None, d.state == DenialState::Revoked),
            Record::Consultation(_) => return Ok(()),
        };
        let changes = versions.saturating_sub(1);
        if own {
            counts.issued += 1;
            counts.issued_active += u64::from(active);
            counts.issued_revoked += u64::from(revoked);
            counts.issued_changes += changes;
            if let Some(c) = category {
                *counts.issued_by_category.entry(c.to_owned()).or_default() += 1;
            }
            for r in &header.recipients {
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
            let peer = stats.peers.entry(header.issuer.clone()).or_default();
            match kind {
                RecordKind::Alert => peer.alerts_received += 1,
                RecordKind::Denial => peer.denials_received += 1,
                RecordKind::Consultation => {}
            }
        }
        Ok(())
    }
}
