//! Retention: a record that stopped being in force longer ago than its
//! kind's retention period is purged from every exchange tree (envelopes,
//! index, and for own records outbox and deliveries) in one batch, together
//! with an audit entry that names the record and the SHA-256 digests of its
//! envelopes and nothing of its content.
//!
//! When a record stops being in force, from its latest version held here:
//! an alert at its expiry, or at its issue time if it has none; a denial when
//! it was revoked (the revoking version's issue time) or reached its end date,
//! whichever came first. An active denial without an end date is never purged.

use std::time::Duration;

use super::envelope::{EnvelopeHeader, Record, RecordKind};
use super::ledger::{self, IndexEntry};
use super::records::{DenialNotice, DenialState};
use super::Exchange;
use crate::audit::Action;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;

/// How long records are kept after they stop being in force; `None` keeps
/// them forever.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionPeriods {
    pub alerts: Option<Duration>,
    pub denials: Option<Duration>,
}

impl RetentionPeriods {
    fn of(&self, kind: RecordKind) -> Option<Duration> {
        match kind {
            RecordKind::Alert => self.alerts,
            RecordKind::Denial => self.denials,
            // Consultations are the record of why a decision was taken: kept.
            RecordKind::Consultation => None,
        }
    }
}

/// A record removed by retention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purged {
    pub kind: RecordKind,
    pub id: String,
    pub issuer: Jurisdiction,
    /// Every version removed, with the digest of its envelope.
    pub versions: Vec<(u32, [u8; 32])>,
    pub ended_at_unix_ms: i64,
}

/// When the record whose latest version is `header` (and, for denials,
/// `denial`) stopped being in force; `None` while it still is at `now`.
pub fn ended_at(header: &EnvelopeHeader, denial: Option<&DenialNotice>, now: i64) -> Option<i64> {
    match header.kind {
        RecordKind::Alert => Some(
            header
                .expires_at_unix_ms
                .map_or(header.issued_at_unix_ms, |e| {
                    e.max(header.issued_at_unix_ms)
                }),
        ),
        RecordKind::Consultation => None,
        RecordKind::Denial => {
            let d = denial?;
            let revoked = (d.state == DenialState::Revoked).then_some(header.issued_at_unix_ms);
            let lapsed = d.valid_until_unix_ms.filter(|t| *t <= now);
            match (revoked, lapsed) {
                (Some(r), Some(l)) => Some(r.min(l)),
                (r, l) => r.or(l),
            }
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Exchange {
    /// Purges every record past its retention period at `now`; `actor` is
    /// recorded in the audit entries (`system` for the periodic sweep).
    pub async fn purge_expired(
        &self,
        actor: &str,
        periods: RetentionPeriods,
        now: i64,
    ) -> Result<Vec<Purged>> {
        let mut purged = Vec::new();
        for kind in [RecordKind::Alert, RecordKind::Denial] {
            let Some(period) = periods.of(kind) else {
                continue;
            };
            for (prefix, issuer) in self.record_prefixes(kind)? {
                if let Some(p) = self
                    .purge_record(actor, &prefix, &issuer, period, now)
                    .await?
                {
                    purged.push(p);
                }
            }
        }
        Ok(purged)
    }

    /// The distinct records of one kind: their index prefix and issuer.
    fn record_prefixes(&self, kind: RecordKind) -> Result<Vec<(Vec<u8>, Jurisdiction)>> {
        let mut out = Vec::new();
        for entry in self
            .ledger
            .current
            .lazy_scan_prefix([ledger::kind_byte(kind)])
        {
            let (prefix, current) = entry?;
            out.push((prefix, current.entry.issuer));
        }
        Ok(out)
    }

    async fn purge_record(
        &self,
        actor: &str,
        prefix: &[u8],
        issuer: &Jurisdiction,
        period: Duration,
        now: i64,
    ) -> Result<Option<Purged>> {
        // Most records are not due: decide without locks first.
        if self.due(prefix, period, now)?.is_none() {
            return Ok(None);
        }
        // Then again under the same locks as issuing and receiving, so no new
        // version of this record can land between the decision and the purge.
        let own = issuer == &self.own;
        let receive_lock = (!own).then(|| {
            let mut locks = self.receiving.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(issuer.clone()).or_default().clone()
        });
        let _issuing = match own {
            true => Some(self.issuing.lock().await),
            false => None,
        };
        let _receiving = match &receive_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let Some(Due {
            versions,
            headers,
            ended,
        }) = self.due(prefix, period, now)?
        else {
            return Ok(None);
        };
        let Some(latest) = headers.last() else {
            return Ok(None);
        };

        let mut batch = self.store.batch();
        self.ledger.remove_current(&mut batch, prefix)?;
        let mut removed = Vec::with_capacity(versions.len());
        for ((key, entry), header) in versions.iter().zip(&headers) {
            batch.delete(&self.ledger.index, key);
            batch.delete(
                &self.ledger.envelopes,
                ledger::seq_key(&entry.issuer, entry.seq),
            );
            if own {
                for r in &header.recipients {
                    batch.delete(&self.ledger.outbox, ledger::seq_key(r, entry.seq));
                    batch.delete(&self.ledger.deliveries, ledger::seq_key(r, entry.seq));
                }
            }
            removed.push((header.version, entry.digest));
        }
        let digests: Vec<String> = removed
            .iter()
            .map(|(v, d)| format!("v{v} sha256 {}", hex::encode(d)))
            .collect();
        let rationale = format!("retention; envelope {}", digests.join(", "));
        let action = match latest.kind {
            RecordKind::Alert => "alert.purge",
            RecordKind::Denial => "denial.purge",
            RecordKind::Consultation => "consult.purge",
        };
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action,
                    record: &latest.record_id,
                    rationale: &rationale,
                }],
            )
            .await?;
        if own {
            // The outbox caches its sizes; let it count again.
            self.outbox
                .forget(headers.iter().flat_map(|h| h.recipients.iter()));
        }
        tracing::info!(record = %latest.record_id, %issuer, versions = removed.len(), "purged by retention");
        Ok(Some(Purged {
            kind: latest.kind,
            id: latest.record_id.clone(),
            issuer: issuer.clone(),
            versions: removed,
            ended_at_unix_ms: ended,
        }))
    }
}

/// A record found past its retention period: every version held, oldest first.
struct Due {
    versions: Vec<(Vec<u8>, IndexEntry)>,
    headers: Vec<EnvelopeHeader>,
    ended: i64,
}

impl Exchange {
    /// The record under `prefix` if it is past its period at `now`.
    fn due(&self, prefix: &[u8], period: Duration, now: i64) -> Result<Option<Due>> {
        let versions: Vec<(Vec<u8>, IndexEntry)> = self.ledger.index.scan_prefix(prefix)?;
        let mut headers = Vec::with_capacity(versions.len());
        let mut latest_body = None;
        for (_, entry) in &versions {
            let Some(stored) = self
                .ledger
                .envelopes
                .get(ledger::seq_key(&entry.issuer, entry.seq))?
            else {
                tracing::warn!(issuer = %entry.issuer, seq = entry.seq, "index names a missing envelope; not purged");
                return Ok(None);
            };
            let header = stored
                .envelope
                .peek_header()
                .map_err(|e| Error::Internal(format!("stored envelope: {e}")))?;
            latest_body = Some(stored.envelope.body);
            headers.push(header);
        }
        let (Some(latest), Some(body)) = (headers.last(), latest_body) else {
            return Ok(None);
        };
        let denial: Option<DenialNotice> = match latest.kind {
            RecordKind::Alert | RecordKind::Consultation => None,
            RecordKind::Denial => match Record::decode(RecordKind::Denial, &body) {
                Ok(Record::Denial(d)) => Some(d),
                Ok(_) => None,
                Err(e) => {
                    return Err(Error::Internal(format!(
                        "stored body of {}: {e}",
                        latest.record_id
                    )))
                }
            },
        };
        let Some(ended) = ended_at(latest, denial.as_ref(), now) else {
            return Ok(None);
        };
        if ended.saturating_add(millis(period)) > now {
            return Ok(None);
        }
        Ok(Some(Due {
            versions,
            headers,
            ended,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::envelope::ENVELOPE_FORMAT;
    use super::super::issue::{AlertDraft, DenialDraft, Distribution, BATCH};
    use super::super::records::{AlertCategory, DeniedItem, Party, Severity, Subjects};
    use super::super::RecordFilter;
    use super::*;
    use crate::audit::AuditLog;
    use crate::clock::now_unix_ms;
    use crate::crypto::{CertificateAuthority, RecordSigner, Validity};
    use crate::identity::{Caller, Role};
    use crate::peers::PeerDirectory;
    use crate::store::Store;
    use crate::trust_bundle::TrustBundle;

    fn header(kind: RecordKind, issued: i64, expires: Option<i64>) -> EnvelopeHeader {
        EnvelopeHeader {
            format: ENVELOPE_FORMAT,
            kind,
            issuer: "DE".parse().unwrap(),
            key_id: String::new(),
            seq: 1,
            record_id: "DE-X-1".into(),
            version: 1,
            issued_at_unix_ms: issued,
            recipients: vec![],
            body_sha256: [0; 32],
            previous: None,
            expires_at_unix_ms: expires,
        }
    }

    fn denial(state: DenialState, valid_until: Option<i64>) -> DenialNotice {
        DenialNotice {
            id: "DE-D-1".into(),
            issuer: "DE".parse().unwrap(),
            version: 1,
            state,
            party: Party::default(),
            items: vec![],
            destination: String::new(),
            end_use: String::new(),
            reason: String::new(),
            decision_date_unix_ms: 0,
            valid_until_unix_ms: valid_until,
            change_reason: String::new(),
        }
    }

    #[test]
    fn when_records_stop_being_in_force() {
        let now = 1_000;
        let check = |h: EnvelopeHeader, d: Option<DenialNotice>, expected: Option<i64>| {
            assert_eq!(ended_at(&h, d.as_ref(), now), expected, "{h:?} {d:?}");
        };
        use DenialState::*;
        use RecordKind::*;
        check(header(Alert, 100, None), None, Some(100));
        check(header(Alert, 100, Some(500)), None, Some(500));
        check(header(Alert, 100, Some(5_000)), None, Some(5_000));
        check(header(Denial, 100, None), Some(denial(Active, None)), None);
        check(
            header(Denial, 100, None),
            Some(denial(Amended, Some(5_000))),
            None,
        );
        check(
            header(Denial, 100, None),
            Some(denial(Active, Some(700))),
            Some(700),
        );
        check(
            header(Denial, 300, None),
            Some(denial(Revoked, None)),
            Some(300),
        );
        check(
            header(Denial, 300, None),
            Some(denial(Revoked, Some(200))),
            Some(200),
        );
        check(
            header(Denial, 300, None),
            Some(denial(Revoked, Some(9_000))),
            Some(300),
        );
        check(header(Denial, 300, None), None, None);
    }

    struct TestNode {
        j: Jurisdiction,
        x: Exchange,
        signer: Arc<RecordSigner>,
        peers: Arc<PeerDirectory>,
        audit: Arc<AuditLog>,
        _dir: tempfile::TempDir,
    }

    fn node(code: &str) -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let signer =
            Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
        let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), code).unwrap());
        let j: Jurisdiction = code.parse().unwrap();
        let peers = Arc::new(
            PeerDirectory::open(store.clone(), j.clone())
                .unwrap()
                .audited(audit.clone()),
        );
        let x = Exchange::open(
            store,
            j.clone(),
            signer.clone(),
            peers.clone(),
            audit.clone(),
        )
        .unwrap();
        TestNode {
            j,
            x,
            signer,
            peers,
            audit,
            _dir: dir,
        }
    }

    async fn pair() -> (TestNode, TestNode) {
        let (de, fr) = (node("DE"), node("FR"));
        for (a, b) in [(&de, &fr), (&fr, &de)] {
            let (ca, _) = CertificateAuthority::generate(&b.j, Validity::days(1)).unwrap();
            let bundle = TrustBundle {
                jurisdiction: b.j.clone(),
                endpoint: "127.0.0.1:1".into(),
                ca_cert_pem: ca.cert_pem().into(),
                signing_public_key: b.signer.public_key().to_vec(),
                retired_signing_keys: Vec::new(),
            };
            a.peers.add("DE/admin/test", bundle).await.unwrap();
        }
        (de, fr)
    }

    async fn deliver(from: &TestNode, to: &TestNode) {
        let pending = from.x.pending_for(&to.j, BATCH).await.unwrap();
        let envelopes: Vec<_> = pending.iter().map(|(_, e)| e.clone()).collect();
        let receipts = to.x.receive(&from.j, &envelopes).await.unwrap();
        from.x
            .acknowledge(&to.j, &pending, &receipts)
            .await
            .unwrap();
    }

    const SUMMARY: &str = "Consignee resells controlled FPGAs";

    fn alert_draft(expires_in: Option<Duration>) -> AlertDraft {
        AlertDraft {
            category: AlertCategory::DiversionSuspected,
            severity: Severity::High,
            subjects: Subjects {
                destinations: vec!["IR".into()],
                ..Subjects::default()
            },
            indicators: vec![],
            summary: SUMMARY.into(),
            expires_in,
            handling: String::new(),
        }
    }

    fn denial_draft() -> DenialDraft {
        DenialDraft {
            party: Party {
                name: "Acme Trading FZE".into(),
                country: "AE".into(),
                ..Party::default()
            },
            items: vec![DeniedItem {
                code: "3A001".into(),
                description: String::new(),
            }],
            destination: "IR".into(),
            end_use: String::new(),
            reason: "diversion risk".into(),
            valid_for: None,
        }
    }

    fn to_fr() -> Distribution {
        Distribution {
            to: vec!["FR".parse().unwrap()],
            groups: vec![],
        }
    }

    fn day() -> Duration {
        Duration::from_secs(86_400)
    }

    #[tokio::test]
    async fn records_past_their_period_are_purged_on_both_sides_with_an_audit_entry() {
        let (de, fr) = pair().await;
        let analyst = Caller::new(de.j.clone(), Role::Analyst, "ana").unwrap();
        let officer = Caller::new(de.j.clone(), Role::Officer, "oli").unwrap();
        let alert =
            de.x.raise_alert(&analyst, alert_draft(Some(day())), to_fr())
                .await
                .unwrap();
        let kept =
            de.x.raise_alert(&analyst, alert_draft(Some(day() * 400)), to_fr())
                .await
                .unwrap();
        let revoked =
            de.x.issue_denial(&officer, denial_draft(), to_fr())
                .await
                .unwrap();
        de.x.revoke_denial(&officer, &revoked.header.record_id, "appeal upheld".into())
            .await
            .unwrap();
        let active =
            de.x.issue_denial(&officer, denial_draft(), to_fr())
                .await
                .unwrap();
        deliver(&de, &fr).await;

        let periods = RetentionPeriods {
            alerts: Some(day() * 30),
            denials: Some(day() * 30),
        };
        // Within the period nothing goes.
        let soon = now_unix_ms() + millis(day() * 20);
        assert!(de
            .x
            .purge_expired("system", periods, soon)
            .await
            .unwrap()
            .is_empty());

        let later = now_unix_ms() + millis(day() * 40);
        let entries_before = de.audit.count().await;
        for (n, actor) in [(&de, "system"), (&fr, "FR/admin/root")] {
            let purged = n.x.purge_expired(actor, periods, later).await.unwrap();
            let ids: Vec<&str> = purged.iter().map(|p| p.id.as_str()).collect();
            assert_eq!(
                ids,
                [
                    alert.header.record_id.as_str(),
                    revoked.header.record_id.as_str()
                ],
                "on {}",
                n.j
            );
            assert_eq!(purged[1].versions.len(), 2, "both versions of the denial");
            assert_eq!(purged[0].versions, vec![(1, alert.digest)]);
            let left: Vec<String> =
                n.x.list(RecordKind::Alert, &RecordFilter::default())
                    .unwrap()
                    .into_iter()
                    .map(|v| v.header.record_id)
                    .collect();
            assert_eq!(left, std::slice::from_ref(&kept.header.record_id));
            let left =
                n.x.list(RecordKind::Denial, &RecordFilter::default())
                    .unwrap();
            assert_eq!(left.len(), 1);
            assert_eq!(left[0].header.record_id, active.header.record_id);
            assert!(n
                .x
                .history(RecordKind::Denial, &revoked.header.record_id)
                .is_err());
            // Nothing else of the purged records remains in any exchange tree.
            assert_eq!(n.x.held_from(&de.j), 2);
            // Purging again finds nothing.
            assert!(n
                .x
                .purge_expired(actor, periods, later)
                .await
                .unwrap()
                .is_empty());
        }
        assert!(de.x.ledger.deliveries.iter().unwrap().iter().all(|(k, _)| {
            let seq = ledger::seq_of(k).unwrap();
            seq != alert.header.seq && seq != revoked.header.seq
        }));
        assert_eq!(de.x.queued_for(&fr.j), 0);

        // One audit entry per purged record: reference and digests, no content.
        let count = de.audit.count().await;
        assert_eq!(count, entries_before + 2);
        let entries = de.audit.entries(entries_before + 1, count).unwrap();
        assert_eq!(entries[0].action, "alert.purge");
        assert_eq!(entries[0].actor, "system");
        assert_eq!(entries[0].record, alert.header.record_id);
        assert!(
            entries[0].rationale.contains(&hex::encode(alert.digest)),
            "{}",
            entries[0].rationale
        );
        assert_eq!(entries[1].action, "denial.purge");
        for e in &entries {
            for content in [SUMMARY, "Acme", "diversion risk", "appeal upheld", "IR"] {
                assert!(!e.rationale.contains(content), "{content:?} in {e:?}");
                assert!(!e.record.contains(content), "{content:?} in {e:?}");
            }
        }
        assert!(de.audit.verify().is_ok());
        let fr_last = fr.audit.entries(fr.audit.count().await, u64::MAX).unwrap();
        assert_eq!(fr_last[0].actor, "FR/admin/root");
    }

    #[tokio::test]
    async fn no_period_keeps_records_forever() {
        let (de, _fr) = pair().await;
        let analyst = Caller::new(de.j.clone(), Role::Analyst, "ana").unwrap();
        de.x.raise_alert(&analyst, alert_draft(None), to_fr())
            .await
            .unwrap();
        let far = now_unix_ms() + millis(day() * 365 * 100);
        let keep_all = RetentionPeriods::default();
        assert!(de
            .x
            .purge_expired("system", keep_all, far)
            .await
            .unwrap()
            .is_empty());
        let alerts_only = RetentionPeriods {
            alerts: Some(Duration::from_millis(1)),
            denials: None,
        };
        let fr: Jurisdiction = "FR".parse().unwrap();
        assert_eq!(de.x.queued_for(&fr), 1, "never delivered");
        let purged =
            de.x.purge_expired("system", alerts_only, far)
                .await
                .unwrap();
        assert_eq!(purged.len(), 1);
        assert_eq!(purged[0].kind, RecordKind::Alert);
        assert_eq!(de.x.queued_for(&fr), 0, "the outbox entry went too");
        assert!(de.x.pending_for(&fr, BATCH).await.unwrap().is_empty());
    }
}
