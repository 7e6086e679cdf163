//! What risk tells a licensing decision: the assessment made at that moment
//! (so never older than the latest event that should have re-scored it),
//! the open and confirmed screening hits, and whether a second officer must
//! countersign. Also where officers dispose of hits.

use std::future::Future;
use std::pin::Pin;

use super::hits::{disposition_key, Disposition, HitStatus};
use super::{Assessment, Risk};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Caller;
use crate::licensing::{DecisionReview, HitNote, License, RiskSnapshot};

impl Risk {
    /// Scores `license` now, storing the result if it changed, and returns it.
    async fn fresh(&self, license: &License, trigger: &str) -> Result<Assessment> {
        let _in_order = self.writing.lock().await;
        let world = self.world().await?;
        if let Some(a) = self
            .score_and_store(&world, license, trigger, false)
            .await?
        {
            return Ok(a);
        }
        self.assessments.get(&license.id)?.ok_or_else(|| {
            Error::Internal(format!("license {}: assessment not stored", license.id))
        })
    }

    fn band_rank(&self, band: &str) -> Option<usize> {
        self.effective
            .methodology
            .bands
            .named()
            .iter()
            .position(|(name, _)| *name == band)
    }

    /// The picture `a` gives a decision.
    pub fn snapshot(&self, a: &Assessment) -> RiskSnapshot {
        let note = |h: &super::Hit| HitNote {
            id: h.id.clone(),
            description: h.describe(),
        };
        let open_hits: Vec<HitNote> = a.open_hits().map(note).collect();
        let confirmed_hits: Vec<HitNote> = a
            .hits
            .iter()
            .filter(|h| h.status == HitStatus::Confirmed)
            .map(note)
            .collect();
        let by_band = self.four_eyes_from.as_ref().and_then(|from| {
            let (band, from_rank) = (self.band_rank(&a.band)?, self.band_rank(from)?);
            (band >= from_rank)
                .then(|| format!("band {} is at or above four_eyes_from = {from:?}", a.band))
        });
        let by_match = (!confirmed_hits.is_empty()).then(|| {
            let ids: Vec<&str> = confirmed_hits.iter().map(|h| h.id.as_str()).collect();
            format!("confirmed screening match {}", ids.join(", "))
        });
        let four_eyes = match (by_band, by_match) {
            (Some(b), Some(m)) => Some(format!("{b}; {m}")),
            (b, m) => b.or(m),
        };
        RiskSnapshot {
            score: a.score,
            band: a.band.clone(),
            methodology: a.methodology.clone(),
            assessed_at_unix_ms: a.assessed_at_unix_ms,
            factors: a
                .factors
                .iter()
                .filter(|f| f.points != 0)
                .map(|f| format!("{} {:+}", f.kind.as_str(), f.points))
                .collect(),
            floors: a.floors.iter().map(|f| f.reason.clone()).collect(),
            open_hits,
            confirmed_hits,
            four_eyes,
        }
    }

    /// Records `officer`'s disposition of hit `hit_id` on license
    /// `license_id` (false positive or confirmed match), audited in the same
    /// batch, then re-scores the application.
    pub async fn dispose(
        &self,
        officer: &Caller,
        license_id: &str,
        hit_id: &str,
        status: HitStatus,
        rationale: &str,
    ) -> Result<Assessment> {
        if status == HitStatus::Open {
            return Err(Error::InvalidArgument(
                "a disposition is false-positive or confirmed".into(),
            ));
        }
        crate::fields::text(
            "rationale",
            rationale,
            true,
            crate::licensing::model::MAX_TEXT,
        )
        .map_err(Error::InvalidArgument)?;
        let license = self.licensing.license(license_id)?;
        let current = self.fresh(&license, "disposition").await?;
        let hit = current
            .hits
            .iter()
            .find(|h| h.id == hit_id)
            .ok_or_else(|| {
                let ids: Vec<&str> = current.hits.iter().map(|h| h.id.as_str()).collect();
                Error::NotFound(format!(
                    "license {license_id} has no screening hit {hit_id:?} (its hits: {})",
                    if ids.is_empty() {
                        "none".to_owned()
                    } else {
                        ids.join(", ")
                    }
                ))
            })?;
        let disposition = Disposition {
            status,
            rationale: rationale.to_owned(),
            officer: officer.to_string(),
            at_unix_ms: now_unix_ms(),
            entry_digest: hit.entry_digest.clone(),
            license_id: license_id.to_owned(),
        };
        {
            let _in_order = self.writing.lock().await;
            let mut batch = self.store.batch();
            batch.put(
                &self.dispositions,
                disposition_key(&hit.party_id, &hit.list, &hit.source_id),
                &disposition,
            )?;
            let record = format!("{hit_id} on {license_id}");
            let audit_rationale = format!("{status}: {rationale} ({})", hit.describe());
            // Lock order: risk, then audit.
            self.audit
                .commit(
                    batch,
                    [Action {
                        actor: &disposition.officer,
                        action: "screening.dispose",
                        record: &record,
                        rationale: &audit_rationale,
                    }],
                )
                .await?;
        }
        tracing::info!(officer = %officer, license = license_id, hit = hit_id, %status, "screening hit disposed of");
        self.fresh(&license, &format!("disposition of {hit_id}"))
            .await
    }
}

impl DecisionReview for Risk {
    fn review<'a>(
        &'a self,
        license: &'a License,
    ) -> Pin<Box<dyn Future<Output = Result<RiskSnapshot>> + Send + 'a>> {
        Box::pin(async move {
            let a = self.fresh(license, "decision").await?;
            Ok(self.snapshot(&a))
        })
    }
}
