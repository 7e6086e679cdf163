//! Parties, waivers, shipments, end-use checks and voluntary disclosures.

use super::lifecycle::LicenseState;
use super::model::{
    text, CheckDraft, CheckResult, Disclosure, EndUseCheck, Party, PartyDraft, Shipment,
    ShipmentDraft, Waiver, WaiverDraft, MAX_LIST, MAX_TEXT,
};
use super::{key, pair_key, Kind, Licensing, PartyFilter, WaiverFilter};
use crate::audit::Action;
use crate::audit::AuditTx;
use crate::error::{Error, Result};
use crate::exchange::records::{AlertCategory, Party as NoticeParty, Severity, Subjects};
use crate::exchange::{AlertDraft, AlongWith, Distribution};
use crate::identity::Caller;
use crate::peers::now_unix_ms;
use crate::store::Batch;

impl Licensing {
    // ---- parties ---------------------------------------------------------

    pub async fn create_party(&self, officer: &Caller, draft: PartyDraft) -> Result<Party> {
        draft.validate()?;
        let guard = self.writing.lock().await;
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::Party)?;
        let party = Party {
            id: id.clone(),
            name: draft.name,
            aliases: draft.aliases,
            country: draft.country,
            address: draft.address,
            identifiers: draft.identifiers,
            created_at_unix_ms: now_unix_ms(),
            created_by: officer.to_string(),
        };
        batch.put(&self.trees.parties, key(n), &party)?;
        self.commit(
            guard,
            batch,
            Action {
                actor: &party.created_by,
                action: "party.create",
                record: &id,
                rationale: &party.name,
            },
        )
        .await?;
        Ok(party)
    }

    pub fn party(&self, id: &str) -> Result<Party> {
        let n = self.number(Kind::Party, id)?;
        self.trees
            .parties
            .get(key(n))?
            .ok_or_else(|| Error::NotFound(format!("no party {id}")))
    }

    /// Parties matching `filter`, newest first.
    pub fn parties(&self, filter: &PartyFilter) -> Result<Vec<Party>> {
        let needle = filter.name.as_deref().map(str::to_lowercase);
        let mut out = Vec::new();
        for item in self.trees.parties.lazy_iter().rev() {
            let (_, p) = item?;
            if filter.country.as_deref().is_some_and(|c| c != p.country) {
                continue;
            }
            if let Some(n) = &needle {
                let hit = std::iter::once(&p.name)
                    .chain(&p.aliases)
                    .any(|name| name.to_lowercase().contains(n.as_str()));
                if !hit {
                    continue;
                }
            }
            out.push(p);
            if filter.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
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

    /// Records a shipment against an approved (and not revoked) license.
    pub async fn record_shipment(
        &self,
        officer: &Caller,
        draft: ShipmentDraft,
    ) -> Result<Shipment> {
        draft.validate()?;
        let license_n = self.number(Kind::License, &draft.license_id)?;
        let guard = self.writing.lock().await;
        let license = self.license(&draft.license_id)?;
        if license.state != LicenseState::Approved {
            return Err(Error::FailedPrecondition(format!(
                "license {} is {}; shipments are recorded only against an approved license",
                license.id, license.state
            )));
        }
        if draft.destination != license.destination {
            return Err(Error::FailedPrecondition(format!(
                "shipment to {} under license {}, which is approved for {} only",
                draft.destination, license.id, license.destination
            )));
        }
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::Shipment)?;
        let now = now_unix_ms();
        let shipment = Shipment {
            id: id.clone(),
            license_id: license.id,
            origin: draft.origin,
            destination: draft.destination,
            route: draft.route,
            shipped_at_unix_ms: draft.shipped_at_unix_ms.unwrap_or(now),
            reference: draft.reference,
            recorded_by: officer.to_string(),
            recorded_at_unix_ms: now,
        };
        batch.put(&self.trees.shipments, pair_key(license_n, n), &shipment)?;
        let record = format!("{id} {}", shipment.license_id);
        let rationale = format!(
            "{} -> {} via {} ref {}",
            shipment.origin,
            shipment.destination,
            shipment.route.join(","),
            shipment.reference
        );
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
        Ok(shipment)
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
        for item in self.trees.shipments.lazy_scan_prefix(&prefix) {
            out.push(item?.1);
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
                parties: vec![NoticeParty {
                    name: end_user.name,
                    aliases: end_user.aliases,
                    country: end_user.country,
                    address: end_user.address,
                }],
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
        let recorded = std::sync::Arc::new(std::sync::Mutex::new(None));
        let (slot, checks) = (recorded.clone(), self.trees.checks.clone());
        let along: AlongWith<'_> = Box::new(
            move |b: &mut Batch, audit: &mut AuditTx, alert_id: &str, _version: u32| {
                let check = EndUseCheck {
                    alert_id: Some(alert_id.to_owned()),
                    ..check
                };
                batch.put(&checks, check_key, &check)?;
                b.append(batch);
                let record = format!(
                    "{} {} {} alert {alert_id}",
                    check.id, check.license_id, check.result
                );
                audit.append(
                    b,
                    Action {
                        actor: &check.officer,
                        action: "enduse.record",
                        record: &record,
                        rationale: &check.findings,
                    },
                )?;
                *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(check);
                Ok(())
            },
        );
        self.exchange
            .raise_alert_with(officer, draft_alert, alert, Some(along))
            .await?;
        drop(guard);
        let check = recorded.lock().unwrap_or_else(|e| e.into_inner()).take();
        check.ok_or_else(|| Error::Internal("end-use check was not recorded with its alert".into()))
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
