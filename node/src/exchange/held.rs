//! How other modules read the records held here: through the exchange,
//! never its trees. What may leave the node is gated on durability, as the
//! outbox and catch-up are: an own version is disclosable only once the
//! batch that stored it is on disk.

use std::sync::atomic::Ordering;

use super::envelope::{EnvelopeHeader, RecordKind, SignedEnvelope};
use super::ledger;
use super::Exchange;
use crate::error::Result;
use crate::identity::Jurisdiction;

/// One held record version: its signed header and the exact envelope bytes
/// (verified when they were stored; the body is decoded by the reader, after
/// deciding on the header, with `Record::decode_signed`).
#[derive(Clone, Debug)]
pub struct Held {
    pub header: EnvelopeHeader,
    pub envelope: SignedEnvelope,
}

impl Exchange {
    /// The current version of every record of `kind` that may leave this
    /// node, in store order. Reads one index entry and one envelope per record.
    pub fn disclosable_current(&self, kind: RecordKind) -> impl Iterator<Item = Result<Held>> + '_ {
        let durable = self.durable_seq.load(Ordering::SeqCst);
        self.ledger
            .current
            .lazy_scan_prefix([ledger::kind_byte(kind)])
            .filter_map(move |item| {
                let entry = match item {
                    Ok((_, current)) => current.entry,
                    Err(e) => return Some(Err(e.into())),
                };
                self.disclosable(&entry.issuer, entry.seq, durable)
                    .transpose()
            })
    }

    /// The envelope of one held version, exactly as its issuer signed it,
    /// if it may leave this node.
    pub fn disclosable_envelope(
        &self,
        issuer: &Jurisdiction,
        seq: u64,
    ) -> Result<Option<SignedEnvelope>> {
        let durable = self.durable_seq.load(Ordering::SeqCst);
        Ok(self.disclosable(issuer, seq, durable)?.map(|h| h.envelope))
    }

    /// Version `seq` of `issuer`, if it is still the current version of its
    /// record (not amended, revoked or purged since) and may leave this node.
    pub fn disclosable_if_current(&self, issuer: &Jurisdiction, seq: u64) -> Result<Option<Held>> {
        let durable = self.durable_seq.load(Ordering::SeqCst);
        let Some(held) = self.disclosable(issuer, seq, durable)? else {
            return Ok(None);
        };
        let h = &held.header;
        let prefix = ledger::record_prefix(h.kind, &h.issuer, &h.record_id);
        let current = self.ledger.current.get(prefix)?;
        Ok(current
            .filter(|c| c.entry.issuer == *issuer && c.entry.seq == seq)
            .map(|_| held))
    }

    fn disclosable(&self, issuer: &Jurisdiction, seq: u64, durable: u64) -> Result<Option<Held>> {
        if issuer == &self.own && seq > durable {
            return Ok(None);
        }
        let Some(stored) = self.ledger.envelopes.get(ledger::seq_key(issuer, seq))? else {
            return Ok(None);
        };
        let Ok(header) = stored.envelope.peek_header() else {
            tracing::warn!(%issuer, seq, "held envelope has an unreadable header; not disclosed");
            return Ok(None);
        };
        Ok(Some(Held {
            header,
            envelope: stored.envelope,
        }))
    }
}
