//! License applications: submission, the lifecycle's transitions (with the
//! denial notices they issue and revoke), and reads.

use super::lifecycle::{self, LicenseAction, LicenseState};
use super::model::{text, Application, Decision, DenialDefaults, License, LicenseItem, MAX_TEXT};
use super::review::{DecisionReviewed, PendingDecision, RiskSnapshot};
use super::terms::TermsDraft;
use super::{key, Kind, LicenseBrief, LicenseFilter, Licensing};
use crate::audit::{Action, AuditedBatch};
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::exchange::records::DeniedItem;
use crate::exchange::{AlongWith, DenialDraft, Distribution, RecordKind};
use crate::identity::Caller;

impl Licensing {
    /// Records a new application in state `submitted`. Every party must
    /// exist and every item code must be in the current catalog.
    pub async fn submit(&self, officer: &Caller, app: Application) -> Result<License> {
        let (catalog_version, items) = self.resolve(&app)?;
        let guard = self.writing.lock().await;
        let mut batch = self.store.batch();
        let (n, id) = self.next_id(&mut batch, Kind::License)?;
        let now = now_unix_ms();
        let officer_id = officer.to_string();
        let license = License {
            id: id.clone(),
            state: LicenseState::Submitted,
            applicant: app.applicant,
            items,
            end_user: app.end_user,
            consignee: app.consignee,
            intermediaries: app.intermediaries,
            destination: app.destination,
            end_use: app.end_use,
            catalog_version,
            submitted_at_unix_ms: now,
            submitted_by: officer_id.clone(),
            updated_at_unix_ms: now,
            history: vec![Decision {
                action: LicenseAction::Submit,
                from: None,
                to: LicenseState::Submitted,
                officer: officer_id.clone(),
                at_unix_ms: now,
                rationale: String::new(),
                waivers: Vec::new(),
                denial: None,
                reviewed: None,
            }],
            denial_id: None,
            revision: 1,
            revisions: Vec::new(),
            pending: None,
            rejected: Vec::new(),
            terms: None,
            review_flags: Vec::new(),
        };
        self.trees.licenses.put(&mut batch, key(n), &license)?;
        let summary = format!(
            "applicant {}, end user {}, destination {}, items {}",
            license.applicant,
            license.end_user,
            license.destination,
            license.codes().join(",")
        );
        self.commit(
            guard,
            batch,
            Action {
                actor: &officer_id,
                action: LicenseAction::Submit.audit_action(),
                record: &id,
                rationale: &summary,
            },
        )
        .await?;
        tracing::info!(officer = %officer_id, %id, "license submitted");
        Ok(license)
    }

    /// Moves license `id` by `action`. The officer is the caller; a rationale
    /// is required. `dist` is only used by `deny`: who receives the denial
    /// notice (empty: the node's default denial distribution); `terms` only
    /// by `approve`.
    ///
    /// A decision first asks the [`DecisionReview`](super::DecisionReview)
    /// for the risk picture now and records it. An approval with an open
    /// screening hit is refused; a decision the picture says needs four eyes
    /// becomes pending until another officer countersigns it.
    pub async fn transition(
        &self,
        officer: &Caller,
        id: &str,
        action: LicenseAction,
        rationale: &str,
        dist: Distribution,
    ) -> Result<License> {
        self.decide(officer, id, action, rationale, dist, TermsDraft::default())
            .await
    }

    pub async fn decide(
        &self,
        officer: &Caller,
        id: &str,
        action: LicenseAction,
        rationale: &str,
        dist: Distribution,
        terms: TermsDraft,
    ) -> Result<License> {
        text("rationale", rationale, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        terms.validate()?;
        if matches!(action, LicenseAction::Amend | LicenseAction::Resubmit) {
            return Err(Error::InvalidArgument(format!(
                "{action} is its own call (license {action})"
            )));
        }
        let n = self.number(Kind::License, id)?;
        let _guard = self.writing.lock().await;
        let license = self.license(id)?;
        let now = now_unix_ms();
        if let Some(p) = &license.pending {
            return Err(Error::FailedPrecondition(format!(
                "license {id} has a decision to {} by {} pending countersignature; \
                 another officer countersigns or rejects it first \
                 (concord license countersign {id} --rationale T [--reject])",
                p.action, p.officer
            )));
        }
        lifecycle::transition(id, license.state_at(now), action)?;
        let risk = match self.reviewer()? {
            Some(review) if action.is_decision() => Some(review.review(&license).await?),
            _ => None,
        };
        if action == LicenseAction::Approve {
            if let Some(r) = &risk {
                refuse_open_hits(id, r)?;
            }
        }
        let needs_second = risk
            .as_ref()
            .and_then(|r| r.four_eyes.clone())
            .filter(|_| matches!(action, LicenseAction::Approve | LicenseAction::Deny));
        if let Some(reason) = needs_second {
            if action == LicenseAction::Approve {
                // Refuse now what the countersignature would refuse anyway.
                self.gate_notes(&license)?;
                terms.resolve(now, self.settings.validity_days)?;
            } else {
                self.denial_distribution(dist.clone())?;
            }
            let pending = PendingDecision {
                action,
                officer: officer.to_string(),
                at_unix_ms: now,
                rationale: rationale.to_owned(),
                risk: risk.unwrap_or_default(),
                reason,
                terms: (action == LicenseAction::Approve).then_some(terms),
                to: dist.to.iter().map(|j| j.to_string()).collect(),
                groups: dist.groups,
            };
            return self.write_pending(n, license, pending).await;
        }
        let decided = Decided {
            action,
            officer: officer.to_string(),
            at_unix_ms: now,
            rationale: rationale.to_owned(),
            terms,
            dist,
            reviewed: risk.map(|r| DecisionReviewed {
                risk: Some(r),
                proposed_at_unix_ms: None,
                countersigned: None,
            }),
            actor: officer.clone(),
        };
        self.apply(n, license, decided).await
    }

    /// The approval gate's notes, or its refusal.
    pub(super) fn gate_notes(&self, license: &License) -> Result<Vec<String>> {
        match self.gate.get() {
            Some(gate) => gate.check_approval(self, license),
            None => Ok(Vec::new()),
        }
    }

    /// Writes `decided` on `license` (number `n`); call under `writing`.
    pub(super) async fn apply(&self, n: u64, mut license: License, d: Decided) -> Result<License> {
        let id = license.id.clone();
        let to = lifecycle::transition(&id, license.state_at(d.at_unix_ms), d.action)?;
        let mut rationale = d.rationale.clone();
        if d.action == LicenseAction::Approve {
            // Under the licensing lock: nothing changes the license between check and write.
            for note in self.gate_notes(&license)? {
                rationale.push('\n');
                rationale.push_str(&note);
            }
            license.terms = Some(d.terms.resolve(d.at_unix_ms, self.settings.validity_days)?);
        }
        let waivers = if d.action.is_decision() {
            self.matching_waivers(&license.destination, &license.codes(), d.at_unix_ms)?
        } else {
            Vec::new()
        };
        license.pending = None;
        let officer = &d.actor;
        let step = Step {
            license,
            decision: Decision {
                action: d.action,
                from: None,
                to,
                officer: d.officer.clone(),
                at_unix_ms: d.at_unix_ms,
                rationale: rationale.clone(),
                waivers,
                denial: None,
                reviewed: d.reviewed,
            },
            licenses: self.trees.licenses.clone(),
            key: key(n),
        };
        match d.action {
            LicenseAction::Deny => {
                let dist = self.denial_distribution(d.dist)?;
                let draft = self.denial_draft(&step.license, &rationale)?;
                let view = self
                    .exchange
                    .issue_denial_with(officer, draft, dist, Some(step.along()))
                    .await?;
                tracing::info!(%officer, id, denial = %view.header.record_id, "license denied");
            }
            LicenseAction::Overturn => {
                let denial_id = step.license.denial_id.clone().ok_or_else(|| {
                    Error::Internal(format!("license {id} was denied without a denial notice"))
                })?;
                if self.denial_revoked(&denial_id)? {
                    // Someone revoked the notice directly; the decision still stands.
                    self.write_step(step).await?;
                } else {
                    self.exchange
                        .revoke_denial_with(
                            officer,
                            &denial_id,
                            rationale.to_owned(),
                            Some(step.along()),
                        )
                        .await?;
                }
                tracing::info!(%officer, id, denial = %denial_id, "denial overturned on appeal");
            }
            LicenseAction::Approve | LicenseAction::Revoke => {
                let notices = match (self.gate.get(), d.action) {
                    (Some(gate), LicenseAction::Approve) => {
                        gate.approval_notices(self, &step.license, &rationale)?
                    }
                    (Some(gate), _) => gate.revocation_notices(self, &step.license, &rationale)?,
                    (None, _) => Vec::new(),
                };
                let mut notices = notices.into_iter();
                match notices.next() {
                    // The decision and its first notice commit together, so
                    // a grant despite a denial is never stored untold and a
                    // revoked licence's notice is withdrawn with it.
                    Some(first) => {
                        self.exchange
                            .issue_consultation_with(
                                officer,
                                first.body,
                                first.dist,
                                first.action,
                                first.why,
                                Some(step.along_as_is()),
                            )
                            .await?;
                    }
                    None => self.write_step(step).await?,
                }
                // A crash before these leaves notices that `consult`'s sweep
                // withdraws at the next start.
                for more in notices {
                    self.exchange
                        .issue_consultation_with(
                            officer,
                            more.body,
                            more.dist,
                            more.action,
                            more.why,
                            None,
                        )
                        .await?;
                }
                tracing::info!(%officer, id, state = %to, "license decided");
            }
            action => {
                self.write_step(step).await?;
                tracing::info!(%officer, id, %action, state = %to, "license moved");
            }
        }
        // Still under the licensing lock: what is stored now is what this call wrote.
        self.license(&id)
    }

    /// Stores `pending` on `license` with its audit entry; call under `writing`.
    async fn write_pending(
        &self,
        n: u64,
        mut license: License,
        pending: PendingDecision,
    ) -> Result<License> {
        let id = license.id.clone();
        let rationale = format!(
            "{} pending countersignature ({}): {}; {}",
            pending.action,
            pending.reason,
            pending.rationale,
            pending.risk.summary()
        );
        let officer = pending.officer.clone();
        license.pending = Some(pending);
        let mut batch = self.store.batch();
        self.trees.licenses.put(&mut batch, key(n), &license)?;
        self.audit
            .commit(
                batch,
                [Action {
                    actor: &officer,
                    action: "license.decide-pending",
                    record: &id,
                    rationale: &rationale,
                }],
            )
            .await?;
        tracing::info!(%officer, id, "decision pending countersignature");
        self.license(&id)
    }

    /// Checks `app` against stored data: every party exists, every item
    /// code is in the current catalog (which fills in category and tier).
    pub(super) fn resolve(&self, app: &Application) -> Result<(u32, Vec<LicenseItem>)> {
        app.validate()?;
        for (field, id) in [
            ("applicant", &app.applicant),
            ("end_user", &app.end_user),
            ("consignee", &app.consignee),
        ]
        .into_iter()
        .chain(app.intermediaries.iter().map(|i| ("intermediaries", i)))
        {
            self.party(id)
                .map_err(|e| Error::NotFound(format!("{field}: {e}")))?;
        }
        let codes: Vec<String> = app.items.iter().map(|i| i.code.clone()).collect();
        let (catalog_version, entries) = self.current_entries("items", &codes)?;
        let items = app
            .items
            .iter()
            .zip(entries)
            .map(|(i, e)| LicenseItem {
                code: i.code.clone(),
                description: i.description.clone(),
                quantity: i.quantity,
                value: i.value.clone(),
                category: e.category,
                tier: e.tier,
            })
            .collect();
        Ok((catalog_version, items))
    }

    /// Commits a transition that issues no record, with its audit entry.
    async fn write_step(&self, step: Step) -> Result<()> {
        // Lock order: licensing (held by the caller), then audit.
        self.audit
            .commit_with(self.store.batch(), |w| step.write(w, None))
            .await
    }

    pub fn license(&self, id: &str) -> Result<License> {
        let n = self.number(Kind::License, id)?;
        self.trees
            .licenses
            .get(key(n))?
            .ok_or_else(|| Error::NotFound(format!("no license {id}")))
    }

    /// Licenses matching `filter`, newest first.
    pub fn licenses(&self, filter: &LicenseFilter) -> Result<Vec<License>> {
        let now = now_unix_ms();
        let mut out = Vec::new();
        for item in self.trees.licenses.each(true) {
            let l = item?;
            if filter.state.is_some_and(|s| s != l.state_at(now)) {
                continue;
            }
            if filter.pending_only && l.pending.is_none() {
                continue;
            }
            if filter.party.as_deref().is_some_and(|p| !l.names_party(p)) {
                continue;
            }
            out.push(l);
            if filter.limit.is_some_and(|n| out.len() >= n) {
                break;
            }
        }
        Ok(out)
    }

    /// Every licence's brief (state, destination, submission, pending maker),
    /// without decoding the licences: for views that count or pick a few.
    pub fn license_briefs(&self) -> Result<Vec<LicenseBrief>> {
        self.trees.licenses.briefs().collect()
    }

    /// Ids of the waivers covering an application for `codes` to `destination` at `now`.
    pub fn matching_waivers(
        &self,
        destination: &str,
        codes: &[String],
        now_unix_ms: i64,
    ) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for item in self.trees.waivers.lazy_iter() {
            let (_, w) = item?;
            if w.matches(destination, codes, now_unix_ms) {
                out.push(w.id);
            }
        }
        Ok(out)
    }

    // ---- denial distribution -------------------------------------------

    pub fn denial_defaults(&self) -> Result<DenialDefaults> {
        Ok(self
            .trees
            .settings
            .get(super::DENIAL_DEFAULTS)?
            .unwrap_or_default())
    }

    /// Sets (or, with an empty distribution, clears) where denial notices
    /// from decisions go when a decision names nobody.
    pub async fn set_denial_defaults(
        &self,
        actor: &Caller,
        dist: Distribution,
    ) -> Result<DenialDefaults> {
        for g in &dist.groups {
            crate::identity::validate_name(g)
                .map_err(|e| Error::InvalidArgument(format!("groups: {e}")))?;
        }
        let known = self.exchange.groups()?;
        if let Some(g) = dist
            .groups
            .iter()
            .find(|g| !known.iter().any(|k| &k.name == *g))
        {
            return Err(Error::NotFound(format!("unknown sharing group {g:?}")));
        }
        let guard = self.writing.lock().await;
        let defaults = DenialDefaults {
            to: dist.to,
            groups: dist.groups,
            updated_at_unix_ms: now_unix_ms(),
            updated_by: actor.to_string(),
        };
        let mut batch = self.store.batch();
        batch.put(&self.trees.settings, super::DENIAL_DEFAULTS, &defaults)?;
        let to: Vec<&str> = defaults.to.iter().map(|j| j.as_str()).collect();
        let rationale = if defaults.is_empty() {
            "cleared".to_owned()
        } else {
            format!("to {} groups {}", to.join(","), defaults.groups.join(","))
        };
        let actor = actor.to_string();
        self.commit(
            guard,
            batch,
            Action {
                actor: &actor,
                action: "licensing.denial-distribution",
                record: "denial distribution",
                rationale: &rationale,
            },
        )
        .await?;
        Ok(defaults)
    }

    /// The request's distribution, or the node's default when it names nobody.
    fn denial_distribution(&self, requested: Distribution) -> Result<Distribution> {
        if !requested.to.is_empty() || !requested.groups.is_empty() {
            return Ok(requested);
        }
        let defaults = self.denial_defaults()?;
        if defaults.is_empty() {
            return Err(Error::FailedPrecondition(
                "denying needs recipients for the denial notice: name them (--to/--group), \
                 or have an admin set the default denial distribution"
                    .to_owned(),
            ));
        }
        Ok(Distribution {
            to: defaults.to,
            groups: defaults.groups,
        })
    }

    /// The denial notice for denying `license`: the end user, the items'
    /// codes, the destination, the stated end use, the rationale as reason.
    fn denial_draft(&self, license: &License, rationale: &str) -> Result<DenialDraft> {
        let end_user = self.party(&license.end_user)?;
        let mut items: Vec<DeniedItem> = Vec::new();
        for i in &license.items {
            if !items.iter().any(|d| d.code == i.code) {
                items.push(DeniedItem {
                    code: i.code.clone(),
                    description: i.description.clone(),
                });
            }
        }
        Ok(DenialDraft {
            party: end_user.into(),
            items,
            destination: license.destination.clone(),
            end_use: license.end_use.clone(),
            reason: rationale.to_owned(),
            valid_for: None,
        })
    }

    fn denial_revoked(&self, denial_id: &str) -> Result<bool> {
        let versions = self.exchange.history(RecordKind::Denial, denial_id)?;
        Ok(versions.last().is_some_and(|v| match &v.record {
            crate::exchange::Record::Denial(d) => {
                d.state == crate::exchange::records::DenialState::Revoked
            }
            _ => false,
        }))
    }
}

/// One transition about to be written: the license before it, the decision,
/// and where the license is stored.
struct Step {
    license: License,
    decision: Decision,
    licenses: super::stored::Kept<License, super::stored::LicenseExt>,
    key: [u8; 8],
}

/// A decision about to be applied: by whom, when, why, with what.
pub(super) struct Decided {
    pub action: LicenseAction,
    /// The officer who made it (the maker, for a countersigned decision).
    pub officer: String,
    pub at_unix_ms: i64,
    pub rationale: String,
    pub terms: TermsDraft,
    pub dist: Distribution,
    pub reviewed: Option<DecisionReviewed>,
    /// Who performs it now: issues the denial notice, signs the audit entry.
    pub actor: Caller,
}

/// Refuses an approval while `risk` names hits nobody has disposed of.
pub(super) fn refuse_open_hits(id: &str, risk: &RiskSnapshot) -> Result<()> {
    if risk.open_hits.is_empty() {
        return Ok(());
    }
    let hits: Vec<String> = risk
        .open_hits
        .iter()
        .map(|h| format!("{} ({})", h.id, h.description))
        .collect();
    Err(Error::FailedPrecondition(format!(
        "license {id} has {} open screening hit(s); a person disposes of each before approval: \
         {}. Dispose with: concord license dispose {id} HIT --false-positive|--confirmed \
         --rationale T",
        hits.len(),
        hits.join("; ")
    )))
}

impl Step {
    /// Adds the updated license and its audit entry to `batch`. `denial`:
    /// the notice (id, version) this transition issued or revoked.
    fn write(mut self, w: &mut AuditedBatch<'_>, denial: Option<(&str, u32)>) -> Result<()> {
        let l = &mut self.license;
        let mut d = self.decision;
        d.from = Some(l.state);
        d.denial = denial.map(|(id, v)| (id.to_owned(), v));
        if d.action == LicenseAction::Deny {
            l.denial_id = denial.map(|(id, _)| id.to_owned());
        }
        l.state = d.to;
        l.updated_at_unix_ms = d.at_unix_ms;
        let record = match &d.denial {
            Some((id, v)) => format!("{} {} {id} v{v}", l.id, d.action),
            None => format!("{} {}", l.id, d.action),
        };
        let (mut officer, action, mut rationale) =
            (d.officer.clone(), d.action, d.rationale.clone());
        if let Some(r) = &d.reviewed {
            if let Some(c) = &r.countersigned {
                // The trail names both: the maker's decision, the checker's signature.
                rationale = format!(
                    "decided by {officer} at {}: {rationale}\ncountersigned by {} at {}: {}{}",
                    r.proposed_at_unix_ms.unwrap_or(d.at_unix_ms),
                    c.officer,
                    c.at_unix_ms,
                    c.rationale,
                    if c.override_rationale.is_empty() {
                        String::new()
                    } else {
                        format!("\noverride of confirmed match: {}", c.override_rationale)
                    }
                );
                officer = c.officer.clone();
            }
            if let Some(risk) = &r.risk {
                rationale.push('\n');
                rationale.push_str(&risk.summary());
            }
        }
        l.history.push(d);
        self.licenses.put(w.batch(), self.key, &self.license)?;
        w.append(Action {
            actor: &officer,
            action: action.audit_action(),
            record: &record,
            rationale: &rationale,
        })?;
        Ok(())
    }

    /// `write`, as the writes an issued or revoked denial carries along.
    fn along(self) -> AlongWith<'static> {
        Box::new(move |w, denial_id, version| self.write(w, Some((denial_id, version))))
    }

    /// `write` carried along by another record (a grant notice), which the
    /// license does not name.
    fn along_as_is(self) -> AlongWith<'static> {
        Box::new(move |w, _, _| self.write(w, None))
    }
}
