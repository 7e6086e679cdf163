//! Reading records back: decoded, re-verified, with delivery state.

use super::envelope::{EnvelopeHeader, Record, RecordKind};
use super::ledger::{self, Delivery, StoredEnvelope};
use super::records::{AlertCategory, Severity};
use super::Exchange;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;

/// The outcome of re-verifying a stored envelope now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureCheck {
    Valid,
    Invalid(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryView {
    Pending,
    Delivered {
        at_unix_ms: i64,
        receipt_valid: bool,
        duplicate: bool,
    },
    Expired {
        at_unix_ms: i64,
    },
}

/// One stored record version as users see it.
#[derive(Clone, Debug)]
pub struct RecordView {
    pub header: EnvelopeHeader,
    pub record: Record,
    pub digest: [u8; 32],
    pub signature: SignatureCheck,
    pub stored_at_unix_ms: i64,
    /// Per recipient, for records this node issued; empty for received ones.
    pub deliveries: Vec<(Jurisdiction, DeliveryView)>,
}

impl RecordView {
    pub fn is_active(&self, now: i64) -> bool {
        self.record.is_in_force(now)
    }
}

/// Where a paged listing resumes: the store prefix of the last record returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageCursor(pub Vec<u8>);

impl PageCursor {
    /// The cursor of `view`'s record: a page resuming here starts after it.
    pub fn of(view: &RecordView) -> PageCursor {
        PageCursor(store_prefix(view))
    }
}

/// Where a newest-first listing resumes: the last record returned, by issue
/// time and then store prefix (the order [`Exchange::list`] returns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewestCursor {
    pub issued_at_unix_ms: i64,
    pub prefix: Vec<u8>,
}

impl NewestCursor {
    pub fn of(view: &RecordView) -> NewestCursor {
        NewestCursor {
            issued_at_unix_ms: view.header.issued_at_unix_ms,
            prefix: store_prefix(view),
        }
    }
}

/// How much one page of a listing may hold: at most `records` records, and
/// records whose `cost` (e.g. their encoded size) adds up to at most `bytes`
/// — except that a page always holds at least one record.
pub struct PageBudget<'a> {
    pub records: usize,
    pub bytes: usize,
    pub cost: &'a dyn Fn(&RecordView) -> usize,
}

/// The store prefix of `view`'s record (`kind issuer 0 id 0`).
fn store_prefix(view: &RecordView) -> Vec<u8> {
    ledger::record_prefix(
        view.header.kind,
        &view.header.issuer,
        &view.header.record_id,
    )
}

#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    pub issuer: Option<Jurisdiction>,
    pub category: Option<AlertCategory>,
    pub severity: Option<Severity>,
    pub since_unix_ms: Option<i64>,
    pub active_only: bool,
    pub limit: Option<usize>,
}

impl Exchange {
    /// Decodes a stored envelope and checks it against its issuer's keys.
    /// `verified` is the digest its index entry recorded when the envelope
    /// was verified and stored: bytes still equal to it are not put through
    /// Ed25519 again (see [`SignedEnvelope::open_verified`]); without it,
    /// or if the bytes changed, the signature is verified in full.
    ///
    /// [`SignedEnvelope::open_verified`]: super::envelope::SignedEnvelope::open_verified
    pub(super) fn view(
        &self,
        stored: &StoredEnvelope,
        verified: Option<&[u8; 32]>,
    ) -> Result<RecordView> {
        let header = stored
            .envelope
            .peek_header()
            .map_err(|e| Error::Internal(format!("stored envelope: {e}")))?;
        let peers = self.peers.current();
        let open = |keys: &crate::crypto::KeyRing<'_>| match verified {
            Some(digest) => stored.envelope.open_verified(keys, digest),
            None => stored.envelope.open_with(keys),
        };
        let opened = if header.issuer == self.own {
            Some(open(&self.signer.keyring()))
        } else {
            peers.get(&header.issuer).map(|p| open(&p.bundle.keyring()))
        };
        let unverified = |header: &EnvelopeHeader| {
            Record::decode(header.kind, &stored.envelope.body)
                .map_err(|e| Error::Internal(format!("stored body of {}: {e}", header.record_id)))
        };
        let (signature, record) = match opened {
            Some(Ok(opened)) => (SignatureCheck::Valid, opened.record),
            Some(Err(e)) => (SignatureCheck::Invalid(e.to_string()), unverified(&header)?),
            None => (
                SignatureCheck::Invalid(format!(
                    "issuer {} is no longer a registered peer; its key is unknown",
                    header.issuer
                )),
                unverified(&header)?,
            ),
        };
        let deliveries = if header.issuer == self.own {
            self.deliveries(&header)?
        } else {
            Vec::new()
        };
        Ok(RecordView {
            digest: stored.envelope.digest(),
            header,
            record,
            signature,
            stored_at_unix_ms: stored.stored_at_unix_ms,
            deliveries,
        })
    }

    fn deliveries(&self, header: &EnvelopeHeader) -> Result<Vec<(Jurisdiction, DeliveryView)>> {
        let mut out = Vec::new();
        let peers = self.peers.current();
        for r in &header.recipients {
            let key = ledger::seq_key(r, header.seq);
            let state = match self.ledger.deliveries.get(&key)? {
                Some(Delivery::Delivered {
                    at_unix_ms,
                    receipt,
                    duplicate,
                }) => {
                    let receipt_valid = peers.get(r).is_some_and(|p| {
                        receipt
                            .verify_with(&p.bundle.keyring())
                            .is_ok_and(|b| b.seq == header.seq && &b.receiver == r)
                    });
                    DeliveryView::Delivered {
                        at_unix_ms,
                        receipt_valid,
                        duplicate,
                    }
                }
                Some(Delivery::Expired { at_unix_ms }) => DeliveryView::Expired { at_unix_ms },
                None => DeliveryView::Pending,
            };
            out.push((r.clone(), state));
        }
        Ok(out)
    }

    /// When each current record of `kind` issued at or after `since` was
    /// issued, and by whom, newest first, at most `cap`: read from the
    /// newest-first index's keys alone, so counting a busy quarter of a
    /// million-record store decodes and verifies nothing.
    pub fn issued_since(
        &self,
        kind: RecordKind,
        since_unix_ms: i64,
        cap: usize,
    ) -> Result<Vec<(i64, Jurisdiction)>> {
        let kind_byte = ledger::kind_byte(kind);
        let mut out = Vec::new();
        for key in self.ledger.newest.keys_range([kind_byte], [kind_byte + 1]) {
            if out.len() >= cap {
                break;
            }
            let key = key?;
            let Some(t) = ledger::newest_time(&key) else {
                continue;
            };
            if t < since_unix_ms {
                break;
            }
            if let Some(issuer) = ledger::newest_issuer(&key) {
                out.push((t, issuer));
            }
        }
        Ok(out)
    }

    /// The denials in force to `destination` that `keep` accepts, as
    /// verified views: read through the destination index, and each
    /// candidate decoded and tested before its signature is checked, so a
    /// lookup among a million records verifies only what it returns.
    pub fn denials_to(
        &self,
        destination: &str,
        keep: &dyn Fn(&super::records::DenialNotice) -> bool,
    ) -> Result<Vec<RecordView>> {
        let now = now_unix_ms();
        let start = ledger::destination_prefix(destination);
        let mut out = Vec::new();
        for key in self.ledger.denial_destinations.keys_range(&start, {
            let mut end = start.clone();
            if let Some(last) = end.last_mut() {
                *last = 1;
            }
            end
        }) {
            let key = key?;
            let Some(prefix) = key.get(start.len()..) else {
                continue;
            };
            let Some(current) = self.ledger.current.get(prefix)? else {
                continue;
            };
            if !current.facts.in_force(now) {
                continue;
            }
            let e = &current.entry;
            let Some(stored) = self
                .ledger
                .envelopes
                .get(ledger::seq_key(&e.issuer, e.seq))?
            else {
                continue;
            };
            let Ok(header) = stored.envelope.peek_header() else {
                continue;
            };
            let Ok(Record::Denial(d)) = Record::decode(header.kind, &stored.envelope.body) else {
                continue;
            };
            // A key left by an amendment that moved the destination.
            if !d
                .destination
                .trim()
                .eq_ignore_ascii_case(destination.trim())
                || !keep(&d)
            {
                continue;
            }
            let view = self.view(&stored, Some(&e.digest))?;
            if view.is_active(now) {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// Current records of one kind (the latest version of each denial), newest first.
    pub fn list(&self, kind: RecordKind, filter: &RecordFilter) -> Result<Vec<RecordView>> {
        self.list_newest(kind, filter, None)
    }

    /// Like [`Exchange::list`], but only the records after `after` in its
    /// order (newest first, then store order): how a newest-first listing
    /// too large for one message continues. `filter.limit` counts from there.
    pub fn list_newest(
        &self,
        kind: RecordKind,
        filter: &RecordFilter,
        after: Option<&NewestCursor>,
    ) -> Result<Vec<RecordView>> {
        let kind_byte = ledger::kind_byte(kind);
        let start = match after {
            Some(c) if c.prefix.first() == Some(&kind_byte) => {
                // Just past the cursor's own key.
                let mut k = ledger::newest_key(&c.prefix, c.issued_at_unix_ms);
                k.push(0);
                k
            }
            Some(_) => {
                return Err(Error::InvalidArgument(
                    "page_token: not a token of this listing".into(),
                ))
            }
            None => vec![kind_byte],
        };
        let now = now_unix_ms();
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for item in self.ledger.newest.lazy_range(start, [kind_byte + 1]) {
            if out.len() >= limit {
                break;
            }
            let (key, e) = item?;
            // Newest first: everything from here on is older still.
            if filter
                .since_unix_ms
                .zip(ledger::newest_time(&key))
                .is_some_and(|(since, t)| t < since)
            {
                break;
            }
            if let Some(view) = self.current_view(&e, filter, now)? {
                out.push(view);
            }
        }
        Ok(out)
    }

    /// One page of current records of one kind, in the store's stable order
    /// (issuer, then record id) so a listing of any size can be read in
    /// bounded messages. `after` is the cursor a previous page returned; the
    /// returned cursor is `None` on the last page. Only the records on the
    /// page are decoded and verified.
    pub fn list_page(
        &self,
        kind: RecordKind,
        filter: &RecordFilter,
        page_size: usize,
        after: Option<&PageCursor>,
    ) -> Result<(Vec<RecordView>, Option<PageCursor>)> {
        let budget = PageBudget {
            records: page_size,
            bytes: usize::MAX,
            cost: &|_| 0,
        };
        self.list_page_within(kind, filter, &budget, after)
    }

    /// [`Exchange::list_page`] bounded by `budget` as well: the page ends
    /// before the record that would take it past `budget.bytes`, so a
    /// listing of large records still comes in bounded messages.
    pub fn list_page_within(
        &self,
        kind: RecordKind,
        filter: &RecordFilter,
        budget: &PageBudget<'_>,
        after: Option<&PageCursor>,
    ) -> Result<(Vec<RecordView>, Option<PageCursor>)> {
        let kind_byte = ledger::kind_byte(kind);
        let start = match after {
            Some(cursor) => {
                if cursor.0.first() != Some(&kind_byte) {
                    return Err(Error::InvalidArgument(
                        "page_token: not a token of this listing".into(),
                    ));
                }
                // Just past the cursor's record.
                let mut k = cursor.0.clone();
                k.push(0);
                k
            }
            None => vec![kind_byte],
        };
        let now = now_unix_ms();
        let page_size = budget.records.max(1);
        let mut out: Vec<RecordView> = Vec::new();
        let mut used = 0usize;
        let mut scan = self.ledger.current.lazy_range(start, [kind_byte + 1]);
        while let Some(item) = scan.next() {
            let (prefix, current) = item?;
            if let Some(view) = self.current_view(&current.entry, filter, now)? {
                let cost = (budget.cost)(&view);
                if let Some(last) = out
                    .last()
                    .filter(|_| used.saturating_add(cost) > budget.bytes)
                {
                    // Full: the next page starts with this record.
                    let cursor = PageCursor::of(last);
                    return Ok((out, Some(cursor)));
                }
                used = used.saturating_add(cost);
                out.push(view);
            }
            if out.len() == page_size {
                let more = scan.next().transpose()?.is_some();
                return Ok((out, more.then_some(PageCursor(prefix))));
            }
        }
        Ok((out, None))
    }

    /// The view of `e` if it passes `filter`.
    fn current_view(
        &self,
        e: &ledger::IndexEntry,
        filter: &RecordFilter,
        now: i64,
    ) -> Result<Option<RecordView>> {
        if filter.issuer.as_ref().is_some_and(|i| i != &e.issuer) {
            return Ok(None);
        }
        let Some(stored) = self
            .ledger
            .envelopes
            .get(ledger::seq_key(&e.issuer, e.seq))?
        else {
            return Ok(None);
        };
        let view = self.view(&stored, Some(&e.digest))?;
        Ok(matches_filter(&view, filter, now).then_some(view))
    }

    /// Every version of one record, oldest first. `id` is unique across
    /// issuers because it starts with the issuer's code.
    pub fn history(&self, kind: RecordKind, id: &str) -> Result<Vec<RecordView>> {
        let issuer = super::envelope::issuer_of_id(kind, id).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{id:?} is not a {} id (e.g. DE-{}-12)",
                kind.as_str(),
                kind.id_letter()
            ))
        })?;
        let mut out = Vec::new();
        for (_, e) in self
            .ledger
            .index
            .scan_prefix(ledger::record_prefix(kind, &issuer, id))?
        {
            if let Some(stored) = self
                .ledger
                .envelopes
                .get(ledger::seq_key(&e.issuer, e.seq))?
            {
                out.push(self.view(&stored, Some(&e.digest))?);
            }
        }
        if out.is_empty() {
            return Err(Error::NotFound(format!(
                "no {} {id} held on this node",
                kind.as_str()
            )));
        }
        Ok(out)
    }

    /// Number of envelopes held from `issuer` (own or received).
    pub fn held_from(&self, issuer: &Jurisdiction) -> usize {
        self.ledger
            .envelopes
            .lazy_scan_prefix(ledger::prefix(issuer))
            .count()
    }

    /// Sequence numbers held from `issuer`, in order.
    pub fn held_seqs(&self, issuer: &Jurisdiction) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for entry in self
            .ledger
            .envelopes
            .lazy_scan_prefix(ledger::prefix(issuer))
        {
            let (key, _) = entry?;
            out.extend(ledger::seq_of(&key));
        }
        Ok(out)
    }
}

fn matches_filter(view: &RecordView, f: &RecordFilter, now: i64) -> bool {
    if f.since_unix_ms
        .is_some_and(|s| view.header.issued_at_unix_ms < s)
    {
        return false;
    }
    if f.active_only && !view.is_active(now) {
        return false;
    }
    if let Record::Alert(a) = &view.record {
        if f.category.is_some_and(|c| c != a.category)
            || f.severity.is_some_and(|s| s != a.severity)
        {
            return false;
        }
    }
    true
}

/// What a full re-verification of every held envelope found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reverified {
    pub checked: u64,
    pub invalid: u64,
    /// The first [`REVERIFY_DETAILS`] that did not verify: `ID vN: reason`.
    pub details: Vec<String>,
}

/// How many failures a re-verification names (all are counted).
pub const REVERIFY_DETAILS: usize = 100;

/// Envelopes read before the workers verify them: enough that starting
/// threads costs nothing beside the Ed25519 work.
pub(super) const REVERIFY_BATCH: usize = 1_024;

impl Exchange {
    /// Verifies every held envelope, every version, in full against its
    /// issuer's keys (Ed25519), ignoring the digests recorded when they were
    /// stored: what `audit verify --records` runs. CPU-bound; run it off the
    /// async workers.
    pub fn reverify_all(&self) -> Result<Reverified> {
        self.reverify_all_with(|_| true)
    }

    /// [`Exchange::reverify_all`] on every core, telling `progress` what
    /// was found after each batch; stops early (returning what was found)
    /// when `progress` returns false.
    pub fn reverify_all_with(
        &self,
        mut progress: impl FnMut(&Reverified) -> bool,
    ) -> Result<Reverified> {
        let mut out = Reverified::default();
        let mut items = self.ledger.envelopes.lazy_iter();
        loop {
            let mut batch = Vec::with_capacity(REVERIFY_BATCH);
            for item in items.by_ref().take(REVERIFY_BATCH) {
                batch.push(item?.1);
            }
            if batch.is_empty() {
                return Ok(out);
            }
            let parts = crate::parallel::by_core(&batch, 2, |part| {
                part.iter()
                    .map(|e| self.reverify_one(e))
                    .collect::<Vec<_>>()
            });
            let mut failures = Vec::new();
            for part in parts {
                // A worker only verifies: a panic there is a bug, not a verdict.
                failures.extend(part.map_err(|_| {
                    Error::Internal("a record verification worker panicked".into())
                })?);
            }
            out.checked += batch.len() as u64;
            for failure in failures.into_iter().flatten() {
                out.invalid += 1;
                if out.details.len() < REVERIFY_DETAILS {
                    out.details.push(failure);
                }
            }
            if !progress(&out) {
                return Ok(out);
            }
        }
    }

    /// Why `stored` does not verify, if it does not.
    fn reverify_one(&self, stored: &StoredEnvelope) -> Option<String> {
        match self.view(stored, None) {
            Ok(view) => match view.signature {
                SignatureCheck::Valid => None,
                SignatureCheck::Invalid(why) => Some(format!(
                    "{} v{}: {why}",
                    view.header.record_id, view.header.version
                )),
            },
            Err(e) => Some(format!("undecodable envelope: {e}")),
        }
    }

    /// Envelopes held, every version (a count over the store's keys).
    pub fn envelope_count(&self) -> Result<u64> {
        Ok(self.ledger.envelopes.len()? as u64)
    }
}
