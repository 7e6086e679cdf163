//! Accepting records pushed by peers: only authentic ones, from their issuer,
//! naming this node; each stored exactly once.

use std::collections::HashMap;

use super::envelope::{EnvelopeError, ReceiptBody, Record, SignedEnvelope, SignedReceipt};
use super::ledger::{self, Evidence, IndexEntry, StoredEnvelope};
use super::Exchange;
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;
use crate::policy;

/// Largest encoded header, body and signature accepted (bytes).
pub const MAX_HEADER: usize = 4 * 1024;
pub const MAX_BODY: usize = 256 * 1024;
const SIGNATURE_LEN: usize = 64;

/// How far ahead of this node's clock a peer's issue time may be: partners'
/// clocks are NTP-synchronised; a record "issued" later than this would
/// outlive retention and sort above everything real.
pub const MAX_CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

/// The highest sequence number an honest issuer can have reached by `now`:
/// a restore moves an issuer's counter to the current time in microseconds
/// (`skip_sequence_after_restore`), and no issuer signs four billion records
/// after that. A larger number would park this node's catch-up cursor for
/// that issuer beyond anything it will ever issue.
pub fn max_plausible_seq(now_unix_ms: i64) -> u64 {
    let now_us = u64::try_from(now_unix_ms.saturating_add(MAX_CLOCK_SKEW_MS))
        .unwrap_or(0)
        .saturating_mul(1000);
    now_us.saturating_add(1 << 32)
}

/// Header values that verify but that no honest issuer produces.
/// Record ids a "records received" log line names (the rest are counted).
const LOGGED_IDS: usize = 10;

fn check_header_bounds(h: &super::envelope::EnvelopeHeader, now: i64) -> Result<()> {
    if h.issued_at_unix_ms > now.saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(Error::InvalidArgument(format!(
            "{} {}: issued at {} ms, more than {} s ahead of this node's clock",
            h.issuer,
            h.record_id,
            h.issued_at_unix_ms,
            MAX_CLOCK_SKEW_MS / 1000
        )));
    }
    if h.seq > max_plausible_seq(now) {
        return Err(Error::InvalidArgument(format!(
            "{} {}: sequence number {} is beyond any an issuer can have reached",
            h.issuer, h.record_id, h.seq
        )));
    }
    Ok(())
}

impl Exchange {
    /// Accepts a batch pushed by `sender`: all or nothing. Returns one signed
    /// receipt per envelope, in order; already-held identical envelopes are
    /// acknowledged again (marked duplicate) and not stored twice.
    pub async fn receive(
        &self,
        sender: &Jurisdiction,
        envelopes: &[SignedEnvelope],
    ) -> Result<Vec<SignedReceipt>> {
        let peer =
            self.peers.current().get(sender).cloned().ok_or_else(|| {
                Error::PermissionDenied(format!("{sender} is not a registered peer"))
            })?;
        let lock = {
            let mut locks = self.receiving.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(sender.clone()).or_default().clone()
        };
        let _guard = lock.lock().await;
        let now = now_unix_ms();
        let mut batch = self.store.batch();
        let mut receipts = Vec::with_capacity(envelopes.len());
        let mut fresh = Vec::new();
        let mut in_batch: HashMap<Vec<u8>, [u8; 32]> = HashMap::new();
        let mut current_in_batch = HashMap::new();
        let mut cursor = self.cursor(sender)?;
        let mut held_ids: HashMap<super::RecordKind, u64> = HashMap::new();
        for envelope in envelopes {
            check_sizes(envelope)?;
            let header = envelope
                .peek_header()
                .map_err(|e| Error::InvalidArgument(e.to_string()))?;
            if !policy::may_accept_from(&header.issuer, sender) {
                return Err(Error::PermissionDenied(format!(
                    "envelope issued by {} was sent by {sender}; nodes accept records only from their issuer",
                    header.issuer
                )));
            }
            let opened = envelope
                .open_with(&peer.bundle.keyring())
                .map_err(|e| match e {
                    EnvelopeError::Malformed(_) | EnvelopeError::Inconsistent(_) => {
                        Error::InvalidArgument(e.to_string())
                    }
                    _ => Error::Unauthenticated(format!(
                        "{} {}: {e}",
                        header.issuer, header.record_id
                    )),
                })?;
            if !policy::may_receive(&opened.header.recipients, &self.own) {
                return Err(Error::PermissionDenied(format!(
                    "{} {} does not name {} as a recipient",
                    header.issuer, header.record_id, self.own
                )));
            }
            check_record(&opened.record)?;
            let h = &opened.header;
            check_header_bounds(h, now)?;
            let index_key = ledger::index_key(h.kind, &h.issuer, &h.record_id, h.version);
            let seq_key = ledger::seq_key(&h.issuer, h.seq);
            let held = match in_batch.get(&index_key) {
                Some(d) => Some(*d),
                None => self.ledger.index.get(&index_key)?.map(|e| e.digest),
            };
            let seq_taken = self
                .ledger
                .envelopes
                .get(&seq_key)?
                .map(|s| s.envelope.digest());
            let duplicate = match (held, seq_taken) {
                (Some(d), _) if d == opened.digest => true,
                (None, None) => false,
                (held, taken) => {
                    let existing = self.held_envelope(
                        held.is_some().then_some(&index_key),
                        taken.map(|_| &seq_key),
                    )?;
                    return Err(self
                        .equivocation(sender, &opened.header, existing, envelope.clone(), now)
                        .await);
                }
            };
            if !duplicate {
                if let Some(prev) = h.previous {
                    self.check_chain(h, prev)?;
                }
                let stored = StoredEnvelope {
                    envelope: envelope.clone(),
                    stored_at_unix_ms: now,
                };
                batch.put(&self.ledger.envelopes, &seq_key, &stored)?;
                batch.put(
                    &self.ledger.index,
                    &index_key,
                    &IndexEntry {
                        issuer: h.issuer.clone(),
                        seq: h.seq,
                        digest: opened.digest,
                    },
                )?;
                self.ledger.set_current(
                    &mut batch,
                    &mut current_in_batch,
                    h,
                    &opened.record,
                    opened.digest,
                )?;
                in_batch.insert(index_key, opened.digest);
                if let Some(n) = super::envelope::id_number(&h.record_id) {
                    let slot = held_ids.entry(h.kind).or_insert(0);
                    *slot = (*slot).max(n);
                }
                cursor = cursor.max(h.seq);
                fresh.push(stored);
            }
            let body = ReceiptBody {
                receiver: self.own.clone(),
                issuer: h.issuer.clone(),
                seq: h.seq,
                record_id: h.record_id.clone(),
                version: h.version,
                envelope_digest: opened.digest,
                received_at_unix_ms: now,
                duplicate,
            };
            let receipt = SignedReceipt::sign(&self.signer, &body).map_err(|e| {
                Error::Internal(format!(
                    "receipt for {} v{}: {e}",
                    body.record_id, body.version
                ))
            })?;
            receipts.push(receipt);
        }
        if !fresh.is_empty() {
            batch.put(&self.ledger.cursors, sender.as_str(), &cursor)?;
            // What Hello tells the issuer it holds of its ids.
            for (kind, n) in &held_ids {
                let key = ledger::held_id_key(sender, *kind);
                if self.ledger.counters.get(&key)?.unwrap_or(0) < *n {
                    batch.put(&self.ledger.counters, key, n)?;
                }
            }
            let actor = format!("node {sender}");
            let entries: Vec<_> = fresh
                .iter()
                .filter_map(|stored| stored.envelope.peek_header().ok())
                .map(|h| {
                    let action = match h.kind {
                        super::RecordKind::Alert => "alert.receive",
                        super::RecordKind::Denial => "denial.receive",
                        super::RecordKind::Consultation => "consult.receive",
                    };
                    let reference = format!("{} v{}", h.record_id, h.version);
                    let rationale = format!(
                        "signed by {} key {}, sequence {}",
                        h.issuer, h.key_id, h.seq
                    );
                    (action, reference, rationale)
                })
                .collect();
            let actions = entries.iter().map(|(action, reference, rationale)| Action {
                actor: &actor,
                action,
                record: reference,
                rationale,
            });
            self.audit.commit(batch, actions).await?;
            let ids: Vec<String> = fresh
                .iter()
                .take(LOGGED_IDS)
                .filter_map(|s| s.envelope.peek_header().ok())
                .map(|h| format!("{} v{}", h.record_id, h.version))
                .collect();
            tracing::info!(issuer = %sender, records = fresh.len(), ?ids, "records received");
            for stored in &fresh {
                // Verified above, on the way in.
                let digest = stored.envelope.digest();
                if let Ok(view) = self.view(stored, Some(&digest)) {
                    let _ = self.stored.send(view);
                }
            }
        }
        Ok(receipts)
    }

    fn held_envelope(
        &self,
        index_key: Option<&Vec<u8>>,
        seq_key: Option<&Vec<u8>>,
    ) -> Result<Option<SignedEnvelope>> {
        if let Some(k) = index_key {
            if let Some(entry) = self.ledger.index.get(k)? {
                return Ok(self
                    .ledger
                    .envelopes
                    .get(ledger::seq_key(&entry.issuer, entry.seq))?
                    .map(|s| s.envelope));
            }
        }
        match seq_key {
            Some(k) => Ok(self.ledger.envelopes.get(k)?.map(|s| s.envelope)),
            None => Ok(None),
        }
    }

    /// Keeps both signed versions as evidence (the first proof against each
    /// held envelope, within the peer's limits; the rest are counted), logs
    /// it (rate-limited) and returns the refusal.
    async fn equivocation(
        &self,
        sender: &Jurisdiction,
        h: &super::envelope::EnvelopeHeader,
        held: Option<SignedEnvelope>,
        conflicting: SignedEnvelope,
        now: i64,
    ) -> Error {
        let message = format!(
            "equivocation: {} signed two different envelopes for {} version {} (sequence {})",
            h.issuer, h.record_id, h.version, h.seq
        );
        // `None`: seen within this very batch, which is refused; nothing held yet.
        let evidence = held.map(|held| Evidence {
            issuer: h.issuer.clone(),
            record_id: h.record_id.clone(),
            version: h.version,
            held,
            conflicting,
            received_from: sender.clone(),
            at_unix_ms: now,
        });
        match self.record_equivocation(&h.issuer, evidence, now).await {
            Ok((kept, count)) => {
                if let Some(quiet) = self.equivocation_log_due(&h.issuer, count.detected) {
                    tracing::error!(
                        issuer = %h.issuer,
                        record = %h.record_id,
                        version = h.version,
                        seq = h.seq,
                        evidence = ?kept,
                        detected = count.detected,
                        kept = count.kept,
                        not_kept = count.not_kept,
                        not_logged = quiet,
                        "equivocation detected: a peer signed conflicting envelopes"
                    );
                }
            }
            Err(e) => {
                tracing::error!(issuer = %h.issuer, error = %e, "cannot keep equivocation evidence")
            }
        }
        Error::AlreadyExists(message)
    }

    /// A new version must extend the version this node holds, if it holds it.
    fn check_chain(&self, h: &super::envelope::EnvelopeHeader, previous: [u8; 32]) -> Result<()> {
        if h.version < 2 {
            return Err(Error::InvalidArgument(format!(
                "{} version {} cannot have a previous version",
                h.record_id, h.version
            )));
        }
        let prev_key = ledger::index_key(h.kind, &h.issuer, &h.record_id, h.version - 1);
        match self.ledger.index.get(prev_key)? {
            Some(entry) if entry.digest != previous => Err(Error::InvalidArgument(format!(
                "{} version {} does not extend the version {} held here",
                h.record_id,
                h.version,
                h.version - 1
            ))),
            _ => Ok(()),
        }
    }
}

pub(super) fn check_sizes(e: &SignedEnvelope) -> Result<()> {
    if e.header.len() > MAX_HEADER || e.body.len() > MAX_BODY {
        return Err(Error::ResourceExhausted(format!(
            "envelope too large: header {} bytes (max {MAX_HEADER}), body {} bytes (max {MAX_BODY})",
            e.header.len(),
            e.body.len()
        )));
    }
    if e.signature.len() != SIGNATURE_LEN {
        return Err(Error::InvalidArgument(format!(
            "signature must be {SIGNATURE_LEN} bytes, got {}",
            e.signature.len()
        )));
    }
    Ok(())
}

/// A record from a peer must satisfy the same rules as one issued here.
fn check_record(record: &Record) -> Result<()> {
    let (id, checked) = match record {
        Record::Alert(a) => (&a.id, a.validate()),
        Record::Denial(d) => (&d.id, d.validate()),
        Record::Consultation(c) => (&c.id, c.validate()),
    };
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !id_ok {
        return Err(Error::InvalidArgument(format!(
            "record id {id:?} is not acceptable"
        )));
    }
    checked.map_err(|e| Error::InvalidArgument(format!("record {id}: {e}")))
}
