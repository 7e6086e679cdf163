//! Issuing records and delivering this node's own records to their recipients.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::envelope::{EnvelopeHeader, Record, RecordKind, SignedEnvelope, ENVELOPE_FORMAT};
use super::ledger::{self, IndexEntry, OutboxEntry, StoredEnvelope};
use super::records::{
    AlertCategory, AlertState, DenialNotice, DenialState, DeniedItem, Party, RiskAlert, Severity,
    Subjects,
};
use super::{Exchange, RecordView};
use crate::audit::{Action, AuditedBatch};
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::fields::time_after;
use crate::identity::{Caller, Jurisdiction};
use crate::policy::{self, DistributionError};

/// Who a record goes to, as the issuer names it.
#[derive(Clone, Debug, Default)]
pub struct Distribution {
    pub to: Vec<Jurisdiction>,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct AlertDraft {
    pub category: AlertCategory,
    pub severity: Severity,
    pub subjects: Subjects,
    pub indicators: Vec<String>,
    pub summary: String,
    pub expires_in: Option<Duration>,
    pub handling: String,
}

#[derive(Clone, Debug)]
pub struct DenialDraft {
    pub party: Party,
    pub items: Vec<DeniedItem>,
    pub destination: String,
    pub end_use: String,
    pub reason: String,
    pub valid_for: Option<Duration>,
}

/// An amendment: fields left `None` keep their current value.
#[derive(Clone, Debug, Default)]
pub struct DenialChange {
    pub party: Option<Party>,
    pub items: Option<Vec<DeniedItem>>,
    pub destination: Option<String>,
    pub end_use: Option<String>,
    pub reason: Option<String>,
    pub valid_for: Option<Duration>,
    pub change_reason: String,
}

/// An alert amendment: fields left `None` keep their current value.
#[derive(Clone, Debug, Default)]
pub struct AlertChange {
    pub category: Option<AlertCategory>,
    pub severity: Option<Severity>,
    pub subjects: Option<Subjects>,
    pub indicators: Option<Vec<String>>,
    pub summary: Option<String>,
    /// From now; the expiry otherwise stays as it is.
    pub expires_in: Option<Duration>,
    pub handling: Option<String>,
    pub change_reason: String,
}

/// Writes committed atomically with an issued record, such as the license
/// decision that caused a denial: given the record's batch (with the audit
/// log's append open), and the record's id and version.
pub type AlongWith<'a> =
    Box<dyn FnOnce(&mut AuditedBatch<'_>, &str, u32) -> Result<()> + Send + 'a>;

/// Who issues a record and why, for the audit trail.
pub(super) struct IssueAudit<'a> {
    pub(super) actor: &'a Caller,
    pub(super) action: &'static str,
    pub(super) rationale: String,
    pub(super) along: Option<AlongWith<'a>>,
}

/// A new record (not the next version of one) being issued. The issuing
/// lock is held from before its sequence number is read until its batch is
/// applied, so no number is handed out twice.
pub(super) struct Fresh<'a> {
    guard: tokio::sync::MutexGuard<'a, ()>,
    pub(super) recipients: Vec<Jurisdiction>,
    pub(super) seq: u64,
    /// The record's id number: ids count per kind (`DE-A-1`, `DE-D-1`).
    pub(super) number: u64,
    kind: RecordKind,
    /// When it is issued.
    pub(super) now: i64,
}

/// The numbers a record is sealed under: its sequence number and, for a new
/// record, its kind and id number (a new version keeps its record's id).
pub(super) struct Numbers {
    seq: u64,
    numbered: Option<(RecordKind, u64)>,
}

/// `now` plus `after`, when given: a record's end time. `field` names the
/// duration in the error when the sum does not fit.
fn end_time(field: &str, now: i64, after: Option<Duration>) -> Result<Option<i64>> {
    after
        .map(|d| time_after(field, now, d))
        .transpose()
        .map_err(Error::InvalidArgument)
}

/// Most envelopes one push or catch-up message carries.
pub const BATCH: usize = 256;

/// Most envelope bytes one push or catch-up message carries. Below the
/// smallest message limit a node may configure (`config::MIN_MESSAGE_BYTES`),
/// so a batch is never refused for its size; one envelope of the largest
/// size a receiver accepts always fits.
pub const BATCH_BYTES: usize = 1024 * 1024;

/// What an envelope costs in a batch: its bytes plus protobuf framing.
pub fn batch_cost(e: &SignedEnvelope) -> usize {
    e.header.len() + e.body.len() + e.signature.len() + 16
}

const _: () = assert!(
    super::receive::MAX_HEADER + super::receive::MAX_BODY + 64 + 16 <= BATCH_BYTES,
    "the largest acceptable envelope must fit in one batch"
);

impl Exchange {
    pub async fn raise_alert(
        &self,
        actor: &Caller,
        draft: AlertDraft,
        dist: Distribution,
    ) -> Result<RecordView> {
        self.raise_alert_with(actor, draft, dist, None).await
    }

    /// Raises an alert and commits `along` in the same durable batch.
    pub async fn raise_alert_with(
        &self,
        actor: &Caller,
        draft: AlertDraft,
        dist: Distribution,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        let fresh = self.fresh(RecordKind::Alert, &dist).await?;
        let now = fresh.now;
        let alert = RiskAlert {
            id: format!("{}-A-{}", self.own, fresh.number),
            issuer: self.own.clone(),
            category: draft.category,
            severity: draft.severity,
            subjects: draft.subjects,
            indicators: draft.indicators,
            summary: draft.summary,
            issued_at_unix_ms: now,
            expires_at_unix_ms: end_time("expires_in", now, draft.expires_in)?,
            handling: draft.handling,
            version: 1,
            state: AlertState::Active,
            change_reason: String::new(),
        };
        alert.validate().map_err(Error::InvalidArgument)?;
        tracing::info!(actor = %actor, id = %alert.id, recipients = ?fresh.recipients, "alert raised");
        let why = IssueAudit {
            actor,
            action: "alert.raise",
            // The trail outlives retention purges: it names the alert, not its content.
            rationale: format!(
                "{} {} to {}",
                alert.category,
                alert.severity,
                join(&fresh.recipients)
            ),
            along,
        };
        self.store_fresh(fresh, Record::Alert(alert), why).await
    }

    pub async fn issue_denial(
        &self,
        actor: &Caller,
        draft: DenialDraft,
        dist: Distribution,
    ) -> Result<RecordView> {
        self.issue_denial_with(actor, draft, dist, None).await
    }

    /// Issues a denial and commits `along` in the same durable batch.
    pub async fn issue_denial_with(
        &self,
        actor: &Caller,
        draft: DenialDraft,
        dist: Distribution,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        let fresh = self.fresh(RecordKind::Denial, &dist).await?;
        let now = fresh.now;
        let notice = DenialNotice {
            id: format!("{}-D-{}", self.own, fresh.number),
            issuer: self.own.clone(),
            version: 1,
            state: DenialState::Active,
            party: draft.party,
            items: draft.items,
            destination: draft.destination,
            end_use: draft.end_use,
            reason: draft.reason,
            decision_date_unix_ms: now,
            valid_until_unix_ms: end_time("valid_for", now, draft.valid_for)?,
            change_reason: String::new(),
        };
        notice.validate().map_err(Error::InvalidArgument)?;
        tracing::info!(actor = %actor, id = %notice.id, recipients = ?fresh.recipients, "denial issued");
        let why = IssueAudit {
            actor,
            action: "denial.issue",
            rationale: notice.reason.clone(),
            along,
        };
        self.store_fresh(fresh, Record::Denial(notice), why).await
    }

    /// Issues the next version of one of this node's denials, to the same recipients.
    pub async fn amend_denial(
        &self,
        actor: &Caller,
        id: &str,
        change: DenialChange,
    ) -> Result<RecordView> {
        self.amend_denial_with(actor, id, change, None).await
    }

    /// Amends a denial and commits `along` in the same durable batch.
    pub async fn amend_denial_with(
        &self,
        actor: &Caller,
        id: &str,
        change: DenialChange,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        self.next_denial_version(actor, id, change, DenialState::Amended, along)
            .await
    }

    pub async fn revoke_denial(
        &self,
        actor: &Caller,
        id: &str,
        reason: String,
    ) -> Result<RecordView> {
        self.revoke_denial_with(actor, id, reason, None).await
    }

    /// Revokes a denial and commits `along` in the same durable batch.
    pub async fn revoke_denial_with(
        &self,
        actor: &Caller,
        id: &str,
        reason: String,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        let change = DenialChange {
            change_reason: reason,
            ..DenialChange::default()
        };
        self.next_denial_version(actor, id, change, DenialState::Revoked, along)
            .await
    }

    async fn next_denial_version(
        &self,
        actor: &Caller,
        id: &str,
        change: DenialChange,
        state: DenialState,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        let guard = self.issuing.lock().await;
        let (prev_header, prev, prev_digest) = self.latest_denial(&self.own, id)?;
        if prev.state == DenialState::Revoked {
            return Err(Error::FailedPrecondition(format!(
                "denial {id} is revoked; it cannot change any more"
            )));
        }
        if change.change_reason.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "a reason for the change is required".into(),
            ));
        }
        let seq = self.next_seq()?;
        let now = now_unix_ms();
        let notice = DenialNotice {
            version: prev.version + 1,
            state,
            party: change.party.unwrap_or(prev.party),
            items: change.items.unwrap_or(prev.items),
            destination: change.destination.unwrap_or(prev.destination),
            end_use: change.end_use.unwrap_or(prev.end_use),
            reason: change.reason.unwrap_or(prev.reason),
            valid_until_unix_ms: end_time("valid_for", now, change.valid_for)?
                .or(prev.valid_until_unix_ms),
            change_reason: change.change_reason,
            ..prev
        };
        notice.validate().map_err(Error::InvalidArgument)?;
        tracing::info!(actor = %actor, id, version = notice.version, state = %state, "denial changed");
        let action = if state == DenialState::Revoked {
            "denial.revoke"
        } else {
            "denial.amend"
        };
        let why = IssueAudit {
            actor,
            action,
            rationale: notice.change_reason.clone(),
            along,
        };
        self.seal_and_store(
            guard,
            Numbers {
                seq,
                numbered: None,
            },
            prev_header.recipients,
            Some(prev_digest),
            Record::Denial(notice),
            why,
        )
        .await
    }

    /// Issues the next version of one of this node's alerts, to exactly the
    /// recipients of the first: a correction; `along` commits in its batch.
    pub async fn amend_alert(
        &self,
        actor: &Caller,
        id: &str,
        change: AlertChange,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        self.next_alert_version(actor, id, change, AlertState::Amended, along)
            .await
    }

    /// Withdraws one of this node's alerts: a last version, to the same
    /// recipients, after which it counts nowhere.
    pub async fn withdraw_alert(
        &self,
        actor: &Caller,
        id: &str,
        rationale: String,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        let change = AlertChange {
            change_reason: rationale,
            ..AlertChange::default()
        };
        self.next_alert_version(actor, id, change, AlertState::Withdrawn, along)
            .await
    }

    async fn next_alert_version(
        &self,
        actor: &Caller,
        id: &str,
        change: AlertChange,
        state: AlertState,
        along: Option<AlongWith<'_>>,
    ) -> Result<RecordView> {
        let guard = self.issuing.lock().await;
        let (prev_header, prev, prev_digest) = self.latest_record(RecordKind::Alert, id)?;
        let Record::Alert(prev) = prev else {
            return Err(Error::Internal(format!("{id} is not stored as an alert")));
        };
        if prev.state == AlertState::Withdrawn {
            return Err(Error::FailedPrecondition(format!(
                "alert {id} is withdrawn; it cannot change any more"
            )));
        }
        if change.change_reason.trim().is_empty() {
            return Err(Error::InvalidArgument(
                "a rationale for the change is required".into(),
            ));
        }
        let seq = self.next_seq()?;
        let now = now_unix_ms();
        let alert = RiskAlert {
            version: prev.version + 1,
            state,
            category: change.category.unwrap_or(prev.category),
            severity: change.severity.unwrap_or(prev.severity),
            subjects: change.subjects.unwrap_or(prev.subjects),
            indicators: change.indicators.unwrap_or(prev.indicators),
            summary: change.summary.unwrap_or(prev.summary),
            expires_at_unix_ms: end_time("expires_in", now, change.expires_in)?
                .or(prev.expires_at_unix_ms),
            handling: change.handling.unwrap_or(prev.handling),
            change_reason: change.change_reason,
            ..prev
        };
        alert.validate().map_err(Error::InvalidArgument)?;
        tracing::info!(actor = %actor, id, version = alert.version, state = %state, "alert changed");
        let action = if state == AlertState::Withdrawn {
            "alert.withdraw"
        } else {
            "alert.amend"
        };
        let why = IssueAudit {
            actor,
            action,
            rationale: alert.change_reason.clone(),
            along,
        };
        self.seal_and_store(
            guard,
            Numbers {
                seq,
                numbered: None,
            },
            prev_header.recipients,
            Some(prev_digest),
            Record::Alert(alert),
            why,
        )
        .await
    }

    pub(super) fn resolve(&self, dist: &Distribution) -> Result<Vec<Jurisdiction>> {
        let peers = self.peers.current().keys().cloned().collect();
        policy::resolve_distribution(
            &self.own,
            &dist.to,
            &dist.groups,
            &self.group_map()?,
            &peers,
        )
        .map_err(|e| match e {
            DistributionError::UnknownGroup(_) => Error::NotFound(e.to_string()),
            DistributionError::NotAPeer(_) => Error::FailedPrecondition(e.to_string()),
            DistributionError::Empty => Error::InvalidArgument(e.to_string()),
        })
    }

    pub(super) fn next_seq(&self) -> Result<u64> {
        Ok(self.ledger.counters.get(ledger::SEQ_COUNTER)?.unwrap_or(0) + 1)
    }

    /// Starts issuing a new record of `kind` to `dist`: takes the issuing
    /// lock, then resolves the recipients and reads the record's sequence
    /// number and id number.
    pub(super) async fn fresh(&self, kind: RecordKind, dist: &Distribution) -> Result<Fresh<'_>> {
        let guard = self.issuing.lock().await;
        self.check_ids_confirmed()?;
        let recipients = self.resolve(dist)?;
        let seq = self.next_seq()?;
        let number = self.next_id_number(kind)?;
        Ok(Fresh {
            guard,
            recipients,
            seq,
            number,
            kind,
            now: now_unix_ms(),
        })
    }

    /// Seals and stores a new record begun with [`Exchange::fresh`].
    pub(super) async fn store_fresh(
        &self,
        fresh: Fresh<'_>,
        record: Record,
        why: IssueAudit<'_>,
    ) -> Result<RecordView> {
        let numbers = Numbers {
            seq: fresh.seq,
            numbered: Some((fresh.kind, fresh.number)),
        };
        self.seal_and_store(fresh.guard, numbers, fresh.recipients, None, record, why)
            .await
    }

    /// Signs the record and, in one durable batch, stores it, indexes it, and
    /// queues it for every recipient.
    ///
    /// The issuing lock is released once the batch is applied, so concurrent
    /// issues share one flush; nothing leaves the node until it is durable
    /// (`durable_seq` gates the outbox and catch-up).
    pub(super) async fn seal_and_store(
        &self,
        guard: tokio::sync::MutexGuard<'_, ()>,
        Numbers { seq, numbered }: Numbers,
        recipients: Vec<Jurisdiction>,
        previous: Option<[u8; 32]>,
        record: Record,
        why: IssueAudit<'_>,
    ) -> Result<RecordView> {
        self.check_not_paused()?;
        self.outbox.check_room(&recipients)?;
        let (kind, id, version, issued_at, expires) = match &record {
            // A later version is signed now; the alert keeps when it was raised.
            Record::Alert(a) => (
                RecordKind::Alert,
                a.id.clone(),
                a.version,
                if a.version == 1 {
                    a.issued_at_unix_ms
                } else {
                    now_unix_ms()
                },
                a.expires_at_unix_ms,
            ),
            Record::Denial(d) => (
                RecordKind::Denial,
                d.id.clone(),
                d.version,
                now_unix_ms(),
                None,
            ),
            Record::Consultation(c) => (
                RecordKind::Consultation,
                c.id.clone(),
                1,
                c.issued_at_unix_ms,
                None,
            ),
        };
        let header = EnvelopeHeader {
            format: ENVELOPE_FORMAT,
            kind,
            issuer: self.own.clone(),
            key_id: String::new(),
            seq,
            record_id: id.clone(),
            version,
            issued_at_unix_ms: issued_at,
            recipients: recipients.clone(),
            body_sha256: [0; 32],
            previous,
            expires_at_unix_ms: expires,
        };
        let envelope = SignedEnvelope::seal(&self.signer, header, &record)
            .map_err(|e| Error::Internal(format!("{id} cannot be signed: {e}")))?;
        // What a receiver would refuse must never be issued: it would sit in
        // the outbox for good.
        super::receive::check_sizes(&envelope)
            .map_err(|e| Error::InvalidArgument(format!("{id} cannot be issued: {e}")))?;
        let digest = envelope.digest();
        let now = now_unix_ms();
        let mut batch = self.store.batch();
        let stored = StoredEnvelope {
            envelope,
            stored_at_unix_ms: now,
        };
        batch.put(
            &self.ledger.envelopes,
            ledger::seq_key(&self.own, seq),
            &stored,
        )?;
        let entry = IndexEntry {
            issuer: self.own.clone(),
            seq,
            digest,
        };
        batch.put(
            &self.ledger.index,
            ledger::index_key(kind, &self.own, &id, version),
            &entry,
        )?;
        let sealed = stored
            .envelope
            .peek_header()
            .map_err(|e| Error::Internal(format!("sealed envelope of {id}: {e}")))?;
        self.ledger.set_current(
            &mut batch,
            &mut Default::default(),
            &sealed,
            &record,
            digest,
        )?;
        for r in &recipients {
            batch.put(
                &self.ledger.outbox,
                ledger::seq_key(r, seq),
                &OutboxEntry {
                    queued_at_unix_ms: now,
                },
            )?;
        }
        batch.put(&self.ledger.counters, ledger::SEQ_COUNTER, &seq)?;
        if let Some((kind, number)) = numbered {
            batch.put(&self.ledger.counters, ledger::id_counter_key(kind), &number)?;
            // The first record numbered after every partner reported what it
            // holds ends the wait a restore began.
            if self.ledger.counters.contains(ledger::IDS_AFTER_RESTORE)? {
                batch.delete(&self.ledger.counters, ledger::IDS_AFTER_RESTORE);
            }
        }
        let reference = format!("{id} v{version}");
        let actor = why.actor.to_string();
        // Lock order: issuing, then audit; issuing is released once the
        // batch is applied, so concurrent issues share the flush.
        self.audit
            .commit_releasing(batch, guard, |w| {
                w.append(Action {
                    actor: &actor,
                    action: why.action,
                    record: &reference,
                    rationale: &why.rationale,
                })?;
                match why.along {
                    Some(along) => along(w, &id, version),
                    None => Ok(()),
                }
            })
            .await?;
        self.outbox.grew(&recipients);
        self.durable_seq.fetch_max(seq, Ordering::SeqCst);
        self.outbox.notify();
        let view = self.view(&stored, Some(&digest))?;
        let _ = self.stored.send(view.clone());
        Ok(view)
    }

    pub(super) fn latest_denial(
        &self,
        issuer: &Jurisdiction,
        id: &str,
    ) -> Result<(EnvelopeHeader, DenialNotice, [u8; 32])> {
        if issuer != &self.own {
            return Err(Error::NotFound(format!(
                "no denial {id} issued by {issuer}"
            )));
        }
        match self.latest_record(RecordKind::Denial, id)? {
            (header, Record::Denial(body), digest) => Ok((header, body, digest)),
            _ => Err(Error::Internal(format!("{id} is not stored as a denial"))),
        }
    }

    /// The current version of one of this node's own records of `kind`:
    /// its header, body and envelope digest (which the next version chains to).
    pub(super) fn latest_record(
        &self,
        kind: RecordKind,
        id: &str,
    ) -> Result<(EnvelopeHeader, Record, [u8; 32])> {
        let what = kind.as_str();
        let entry = self
            .ledger
            .current
            .get(ledger::record_prefix(kind, &self.own, id))?
            .ok_or_else(|| Error::NotFound(format!("no {what} {id} issued by {}", self.own)))?
            .entry;
        let stored = self
            .ledger
            .envelopes
            .get(ledger::seq_key(&entry.issuer, entry.seq))?
            .ok_or_else(|| {
                Error::Internal(format!(
                    "index names missing envelope {}/{}",
                    entry.issuer, entry.seq
                ))
            })?;
        let header = stored
            .envelope
            .peek_header()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let body = Record::decode(kind, &stored.envelope.body)
            .map_err(|e| Error::Internal(format!("stored body of {id}: {e}")))?;
        Ok((header, body, entry.digest))
    }
}

fn join(js: &[Jurisdiction]) -> String {
    js.iter().map(|j| j.as_str()).collect::<Vec<_>>().join(",")
}
