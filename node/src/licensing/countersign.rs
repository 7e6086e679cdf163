//! Four eyes: a decision pending countersignature is countersigned (and
//! then applied, with both officers recorded) or rejected by a second
//! officer, never by its maker.

use super::licenses::{refuse_open_hits, Decided};
use super::model::{text, License, MAX_TEXT};
use super::review::{Countersignature, DecisionReviewed, RejectedDecision};
use super::{key, Kind, Licensing};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::exchange::Distribution;
use crate::identity::{Caller, Jurisdiction};

impl Licensing {
    /// Countersigns license `id`'s pending decision and applies it. The
    /// picture is made afresh: an approval still refuses open hits, and a
    /// confirmed match needs `override_rationale`.
    pub async fn countersign(
        &self,
        checker: &Caller,
        id: &str,
        rationale: &str,
        override_rationale: &str,
    ) -> Result<License> {
        text("rationale", rationale, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        text("override", override_rationale, false, MAX_TEXT).map_err(Error::InvalidArgument)?;
        let n = self.number(Kind::License, id)?;
        let _guard = self.writing.lock().await;
        let license = self.license(id)?;
        let pending = pending_of(&license)?;
        crate::policy::may_countersign(&pending.officer, checker)
            .map_err(|d| Error::PermissionDenied(d.to_string()))?;
        let risk = match self.reviewer()? {
            Some(review) => Some(review.review(&license).await?),
            None => None,
        };
        if pending.action == super::LicenseAction::Approve {
            if let Some(r) = &risk {
                refuse_open_hits(id, r)?;
                if !r.confirmed_hits.is_empty() && override_rationale.trim().is_empty() {
                    let hits: Vec<String> = r.confirmed_hits.iter().map(|h| h.id.clone()).collect();
                    return Err(Error::FailedPrecondition(format!(
                        "license {id}: confirmed screening match(es) {}; approving it anyway \
                         needs an explicit override rationale \
                         (concord license countersign {id} --rationale T --override T)",
                        hits.join(", ")
                    )));
                }
            }
        } else if !override_rationale.trim().is_empty() {
            return Err(Error::InvalidArgument(format!(
                "--override is for approving a confirmed match; the pending decision is to {}",
                pending.action
            )));
        }
        let mut to = Vec::new();
        for j in &pending.to {
            to.push(j.parse::<Jurisdiction>().map_err(|e| {
                Error::Internal(format!("pending denial of {id}: recipient {j:?}: {e}"))
            })?);
        }
        let now = now_unix_ms();
        let decided = Decided {
            action: pending.action,
            officer: pending.officer.clone(),
            at_unix_ms: now,
            rationale: pending.rationale.clone(),
            terms: pending.terms.clone().unwrap_or_default(),
            dist: Distribution {
                to,
                groups: pending.groups.clone(),
            },
            reviewed: Some(DecisionReviewed {
                risk: risk.or_else(|| Some(pending.risk.clone())),
                proposed_at_unix_ms: Some(pending.at_unix_ms),
                countersigned: Some(Countersignature {
                    officer: checker.to_string(),
                    at_unix_ms: now,
                    rationale: rationale.to_owned(),
                    override_rationale: override_rationale.trim().to_owned(),
                }),
            }),
            actor: checker.clone(),
        };
        self.apply(n, license, decided).await
    }

    /// Rejects license `id`'s pending decision: it is kept in the license's
    /// record and the application waits for a new decision.
    pub async fn reject_pending(
        &self,
        checker: &Caller,
        id: &str,
        rationale: &str,
    ) -> Result<License> {
        text("rationale", rationale, true, MAX_TEXT).map_err(Error::InvalidArgument)?;
        let n = self.number(Kind::License, id)?;
        let guard = self.writing.lock().await;
        let mut license = self.license(id)?;
        let pending = pending_of(&license)?;
        crate::policy::may_countersign(&pending.officer, checker)
            .map_err(|d| Error::PermissionDenied(d.to_string()))?;
        let now = now_unix_ms();
        let audit_rationale = format!(
            "rejected {}'s decision to {} made at {}: {}",
            pending.officer, pending.action, pending.at_unix_ms, rationale
        );
        license.pending = None;
        license.updated_at_unix_ms = now;
        license.rejected.push(RejectedDecision {
            decision: pending,
            rejected: Countersignature {
                officer: checker.to_string(),
                at_unix_ms: now,
                rationale: rationale.to_owned(),
                override_rationale: String::new(),
            },
        });
        let mut batch = self.store.batch();
        self.trees.licenses.put(&mut batch, key(n), &license)?;
        let actor = checker.to_string();
        self.commit(
            guard,
            batch,
            Action {
                actor: &actor,
                action: "license.countersign-reject",
                record: id,
                rationale: &audit_rationale,
            },
        )
        .await?;
        self.license(id)
    }
}

fn pending_of(license: &License) -> Result<super::PendingDecision> {
    license.pending.clone().ok_or_else(|| {
        Error::FailedPrecondition(format!(
            "license {} has no decision pending countersignature",
            license.id
        ))
    })
}
