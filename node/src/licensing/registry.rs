//! Waivers, shipments, end-use checks and voluntary disclosures.

use super::model::{
    text, CheckDraft, CheckResult, Disclosure, EndUseCheck, License, Shipment, ShipmentDraft,
    Waiver, WaiverDraft, MAX_LIST, MAX_TEXT,
};
use super::terms::{self, Discrepancy, ReviewFlag};
use super::{key, pair_key, Kind, Licensing, WaiverFilter};
use crate::audit::{Action, AuditedBatch};
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::exchange::records::{AlertCategory, Severity, Subjects};
use crate::exchange::{AlertDraft, AlongWith, Distribution};
use crate::identity::Caller;

impl Licensing {
    /// Raises `draft` to `dist` with `record` committed in the alert's
    /// durable batch (given the batch and the alert's id, it writes what it
    /// records and returns it), then releases the licensing `guard`: after a
    /// crash the record and its alert are both there or neither is. `what`
    /// names the record should it not have been written.
    async fn raise_alert_recording<T: Send>(
        &self,
        guard: tokio::sync::MutexGuard<'_, ()>,
        officer: &Caller,
        draft: AlertDraft,
        dist: Distribution,
        what: &str,
        record: impl FnOnce(&mut AuditedBatch<'_>, &str) -> Result<T> + Send,
    ) -> Result<T> {
        let mut recorded = None;
        let slot = &mut recorded;
        let along: AlongWith<'_> = Box::new(
            move |w: &mut AuditedBatch<'_>, alert_id: &str, _version: u32| {
                *slot = Some(record(w, alert_id)?);
                Ok(())
            },
        );
        self.exchange
            .raise_alert_with(officer, draft, dist, Some(along))
            .await?;
        drop(guard);
        recorded.ok_or_else(|| Error::Internal(format!("{what} was not recorded with its alert")))
    }

    // ---- waivers ---------------------------------------------------------

    /// Records a waiver. Its item codes must be in the current catalog.
    pub async fn create_waiver(&self, officer: &Caller, mut draft: WaiverDraft) -> Result<Waiver> {
        let now = now_unix_ms();
        draft.validate(now)?;
        draft.item_codes.sort();
        draft.item_codes.dedup();
        if !draft.item_codes.is_empty() {
            self.current_entries("item_codes", &draft.item_codes)?;
        }
        let guard = self.writing.lock().await;
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::Waiver)?;
        let waiver = Waiver {
            id: id.clone(),
            kind: draft.kind,
            destination: draft.destination,
            item_codes: draft.item_codes,
            justification: draft.justification,
            valid_until_unix_ms: draft.valid_until_unix_ms,
            created_at_unix_ms: now,
            created_by: officer.to_string(),
        };
        batch.put(&self.trees.waivers, key(n), &waiver)?;
        let record = format!("{id} {} {}", waiver.kind, waiver.destination);
        self.commit(
            guard,
            batch,
            Action {
                actor: &waiver.created_by,
                action: "waiver.create",
                record: &record,
                rationale: &waiver.justification,
            },
        )
        .await?;
        Ok(waiver)
    }

    /// Waivers matching `filter`, newest first.
    pub fn waivers(&self, filter: &WaiverFilter) -> Result<Vec<Waiver>> {
        let now = now_unix_ms();
        let mut out = Vec::new();
        for item in self.trees.waivers.lazy_iter().rev() {
            let (_, w) = item?;
            if filter
                .destination
                .as_deref()
                .is_some_and(|d| d != w.destination)
            {
                continue;
            }
            if filter.active_only && w.valid_until_unix_ms <= now {
                continue;
            }
            out.push(w);
            if filter.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }

    // ---- shipments -------------------------------------------------------

    /// Records a shipment against license `draft.license_id`. Refused
    /// (FailedPrecondition naming every failed check) unless the licence is
    /// approved and within its validity, the destination is the licence's,
    /// every item is on it and the cumulative quantities and values stay
    /// within it — or the draft records it as a discrepancy, which flags the
    /// licence for review and, with a non-empty `alert` distribution, raises
    /// a `suspicious-shipment` risk alert in the same batch.
    pub async fn record_shipment(
        &self,
        officer: &Caller,
        draft: ShipmentDraft,
        alert: Distribution,
    ) -> Result<Shipment> {
        draft.validate()?;
        let wants_alert = !alert.to.is_empty() || !alert.groups.is_empty();
        if wants_alert && draft.discrepancy.is_none() {
            return Err(Error::InvalidArgument(
                "an alert is raised only for a shipment recorded as a discrepancy \
                 (--discrepancy --rationale T)"
                    .into(),
            ));
        }
        let license_n = self.number(Kind::License, &draft.license_id)?;
        let guard = self.writing.lock().await;
        let mut license = self.license(&draft.license_id)?;
        let now = now_unix_ms();
        let earlier = self.shipments(Some(&license.id), None)?;
        let balances = terms::balances(&license, earlier.iter().flat_map(|s| &s.items));
        let failed =
            terms::shipment_problems(&license, &draft.destination, &draft.items, &balances, now);
        let discrepancy = match (draft.discrepancy, failed.is_empty()) {
            (None, true) => None,
            (None, false) => {
                return Err(Error::FailedPrecondition(format!(
                    "shipment refused, nothing recorded: {}. If it happened anyway, record it \
                     as a discrepancy (--discrepancy --rationale T), which flags the licence",
                    failed.join("; ")
                )))
            }
            (Some(rationale), _) => Some(Discrepancy {
                failed,
                rationale,
                alert_id: None,
            }),
        };
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::Shipment)?;
        let shipment = Shipment {
            id: id.clone(),
            license_id: license.id.clone(),
            origin: draft.origin,
            destination: draft.destination,
            route: draft.route,
            shipped_at_unix_ms: draft.shipped_at_unix_ms.unwrap_or(now),
            reference: draft.reference,
            recorded_by: officer.to_string(),
            recorded_at_unix_ms: now,
            items: draft.items,
            discrepancy,
        };
        let shipment_key = pair_key(license_n, n);
        let items: Vec<String> = shipment
            .items
            .iter()
            .map(|i| {
                format!(
                    "{} x{} {} {}",
                    i.code, i.quantity, i.value.minor_units, i.value.currency
                )
            })
            .collect();
        let mut rationale = format!(
            "{} -> {} via {} ref {}; {}",
            shipment.origin,
            shipment.destination,
            shipment.route.join(","),
            shipment.reference,
            items.join(", ")
        );
        let Some(d) = &shipment.discrepancy else {
            self.trees
                .shipments
                .put(&mut batch, shipment_key, &shipment)?;
            let record = format!("{id} {}", shipment.license_id);
            self.commit(
                guard,
                batch,
                Action {
                    actor: &shipment.recorded_by,
                    action: "shipment.record",
                    record: &record,
                    rationale: &rationale,
                },
            )
            .await?;
            return Ok(shipment);
        };
        rationale = format!(
            "{rationale}; discrepancy ({}): {}",
            if d.failed.is_empty() {
                "no check failed".to_owned()
            } else {
                d.failed.join("; ")
            },
            d.rationale
        );
        license.review_flags.push(ReviewFlag {
            at_unix_ms: now,
            by: shipment.recorded_by.clone(),
            reason: format!("shipment {id} recorded as a discrepancy: {}", d.rationale),
            shipment: Some(id.clone()),
        });
        let (shipments, licenses) = (self.trees.shipments.clone(), self.trees.licenses.clone());
        let license_key = key(license_n);
        let write =
            move |w: &mut AuditedBatch<'_>, shipment: &Shipment, license: &License| -> Result<()> {
                shipments.put(w.batch(), shipment_key, shipment)?;
                licenses.put(w.batch(), license_key, license)?;
                let record = format!("{} {}", shipment.id, shipment.license_id);
                w.append(Action {
                    actor: &shipment.recorded_by,
                    action: "shipment.discrepancy",
                    record: &record,
                    rationale: &rationale,
                })?;
                Ok(())
            };
        if !wants_alert {
            // Lock order: licensing, then audit; licensing is released once
            // the batch is applied.
            self.audit
                .commit_releasing(batch, guard, |w| write(w, &shipment, &license))
                .await?;
            tracing::warn!(shipment = %id, license = %license.id, "shipment recorded as a discrepancy");
            return Ok(shipment);
        }
        let end_user = self.party(&license.end_user)?;
        let draft_alert = AlertDraft {
            category: AlertCategory::SuspiciousShipment,
            severity: Severity::High,
            subjects: Subjects {
                parties: vec![end_user.into()],
                destinations: vec![shipment.destination.clone()],
                items: shipment
                    .items
                    .iter()
                    .map(|i| i.code.clone())
                    .take(MAX_LIST)
                    .collect(),
                shipments: vec![id.clone()],
            },
            indicators: vec![format!(
                "shipment {id} under licence {} recorded as a discrepancy",
                license.id
            )],
            summary: d.rationale.clone(),
            expires_in: None,
            handling: String::new(),
        };
        self.raise_alert_recording(
            guard,
            officer,
            draft_alert,
            alert,
            "shipment",
            |w, alert_id| {
                let mut shipment = shipment;
                if let Some(d) = &mut shipment.discrepancy {
                    d.alert_id = Some(alert_id.to_owned());
                }
                w.batch().append(batch);
                write(w, &shipment, &license)?;
                Ok(shipment)
            },
        )
        .await
    }

    /// What has been shipped against each item of license `id`, and what remains.
    pub fn balances(&self, id: &str) -> Result<Vec<terms::ItemBalance>> {
        let license = self.license(id)?;
        let shipped = self.shipments(Some(id), None)?;
        Ok(terms::balances(
            &license,
            shipped.iter().flat_map(|s| &s.items),
        ))
    }

    /// Shipments of one license (or of all, with None), newest first.
    pub fn shipments(
        &self,
        license_id: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Shipment>> {
        let prefix = match license_id {
            Some(id) => {
                self.license(id)?;
                key(self.number(Kind::License, id)?).to_vec()
            }
            None => Vec::new(),
        };
        let mut out: Vec<Shipment> = Vec::new();
        for item in self.trees.shipments.each_with_prefix(&prefix) {
            out.push(item?);
        }
        Ok(newest(out, limit, |s| s.recorded_at_unix_ms))
    }

    // ---- end-use checks --------------------------------------------------

    /// Records an end-use check. For a failed check with a non-empty
    /// `alert` distribution, first raises a `failed-end-use-verification`
    /// risk alert (severity high) naming the end user, the destination and
    /// the items, and keeps its id on the check.
    pub async fn record_check(
        &self,
        officer: &Caller,
        draft: CheckDraft,
        alert: Distribution,
    ) -> Result<EndUseCheck> {
        draft.validate()?;
        let wants_alert = !alert.to.is_empty() || !alert.groups.is_empty();
        if wants_alert && draft.result != CheckResult::Fail {
            return Err(Error::InvalidArgument(format!(
                "an alert is raised only for a failed check; this one is {}",
                draft.result
            )));
        }
        let license_n = self.number(Kind::License, &draft.license_id)?;
        let guard = self.writing.lock().await;
        let license = self.license(&draft.license_id)?;
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::Check)?;
        let check = EndUseCheck {
            id: id.clone(),
            license_id: license.id.clone(),
            result: draft.result,
            findings: draft.findings.clone(),
            checked_at_unix_ms: draft.checked_at_unix_ms.unwrap_or_else(now_unix_ms),
            officer: officer.to_string(),
            alert_id: None,
        };
        let check_key = pair_key(license_n, n);
        if !wants_alert {
            batch.put(&self.trees.checks, check_key, &check)?;
            let record = format!("{id} {} {}", check.license_id, check.result);
            let action = Action {
                actor: &check.officer,
                action: "enduse.record",
                record: &record,
                rationale: &check.findings,
            };
            self.commit(guard, batch, action).await?;
            return Ok(check);
        }
        let end_user = self.party(&license.end_user)?;
        let shipments: Vec<String> = self
            .shipments(Some(&license.id), Some(MAX_LIST))?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut codes: Vec<String> = Vec::new();
        for c in license.codes() {
            if !codes.contains(&c) && codes.len() < MAX_LIST {
                codes.push(c);
            }
        }
        let draft_alert = AlertDraft {
            category: AlertCategory::FailedEndUseVerification,
            severity: Severity::High,
            subjects: Subjects {
                parties: vec![end_user.into()],
                destinations: vec![license.destination.clone()],
                items: codes,
                shipments,
            },
            indicators: vec![format!(
                "end-use check {id} of license {} failed",
                license.id
            )],
            summary: draft.findings.clone(),
            expires_in: None,
            handling: String::new(),
        };
        // The check, its audit entry and the alert commit in one batch: after
        // a crash all three are there or none is.
        let checks = self.trees.checks.clone();
        self.raise_alert_recording(
            guard,
            officer,
            draft_alert,
            alert,
            "end-use check",
            |w, alert_id| {
                let check = EndUseCheck {
                    alert_id: Some(alert_id.to_owned()),
                    ..check
                };
                batch.put(&checks, check_key, &check)?;
                w.batch().append(batch);
                let record = format!(
                    "{} {} {} alert {alert_id}",
                    check.id, check.license_id, check.result
                );
                w.append(Action {
                    actor: &check.officer,
                    action: "enduse.record",
                    record: &record,
                    rationale: &check.findings,
                })?;
                Ok(check)
            },
        )
        .await
    }

    /// End-use checks of one license (or of all), optionally of one result, newest first.
    pub fn checks(
        &self,
        license_id: Option<&str>,
        result: Option<CheckResult>,
        limit: Option<usize>,
    ) -> Result<Vec<EndUseCheck>> {
        let prefix = match license_id {
            Some(id) => {
                self.license(id)?;
                key(self.number(Kind::License, id)?).to_vec()
            }
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for item in self.trees.checks.lazy_scan_prefix(&prefix) {
            let (_, c) = item?;
            if result.is_none_or(|r| r == c.result) {
                out.push(c);
            }
        }
        Ok(newest(out, limit, |c| c.checked_at_unix_ms))
    }

    // ---- voluntary disclosures ---------------------------------------------

    pub async fn record_disclosure(
        &self,
        officer: &Caller,
        party_id: &str,
        description: &str,
        received_at_unix_ms: Option<i64>,
    ) -> Result<Disclosure> {
        text("description", description, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        if received_at_unix_ms.is_some_and(|t| t <= 0) {
            return Err(Error::InvalidArgument(
                "received_at: not a time after 1970".into(),
            ));
        }
        let party = self.party(party_id)?;
        let guard = self.writing.lock().await;
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::Disclosure)?;
        let now = now_unix_ms();
        let disclosure = Disclosure {
            id: id.clone(),
            party_id: party.id,
            description: description.to_owned(),
            received_at_unix_ms: received_at_unix_ms.unwrap_or(now),
            recorded_by: officer.to_string(),
            recorded_at_unix_ms: now,
        };
        batch.put(&self.trees.disclosures, key(n), &disclosure)?;
        let record = format!("{id} {}", disclosure.party_id);
        self.commit(
            guard,
            batch,
            Action {
                actor: &disclosure.recorded_by,
                action: "disclosure.record",
                record: &record,
                rationale: &disclosure.description,
            },
        )
        .await?;
        Ok(disclosure)
    }

    /// Disclosures (of one party, or all), newest first.
    pub fn disclosures(
        &self,
        party_id: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<Disclosure>> {
        if let Some(p) = party_id {
            self.party(p)?;
        }
        let mut out = Vec::new();
        for item in self.trees.disclosures.lazy_iter().rev() {
            let (_, d) = item?;
            if party_id.is_some_and(|p| p != d.party_id) {
                continue;
            }
            out.push(d);
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }
}

/// Sorted newest first by `at` (stable, so records of one instant keep
/// their reverse recording order), at most `limit`.
fn newest<T>(mut items: Vec<T>, limit: Option<usize>, at: impl Fn(&T) -> i64) -> Vec<T> {
    items.reverse();
    items.sort_by_key(|t| std::cmp::Reverse(at(t)));
    if let Some(l) = limit {
        items.truncate(l);
    }
    items
}
