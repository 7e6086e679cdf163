//! Storing assessments: tree `risk_assessments_2`, license id → the latest
//! [`Assessment`]. Reaching the review threshold appends a `risk.flag` audit
//! entry in the same batch as the assessment, so after a crash both are
//! there or neither is.

use super::methodology::Methodology;
use super::score::Scored;
use super::{Assessment, Hit, Risk};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::Result;
use crate::licensing::License;

/// The assessment following `previous` for `scored`. Flagged while the score
/// is at or above the threshold; the flag time is when it got there.
pub(super) fn next(
    previous: Option<&Assessment>,
    license: &License,
    scored: Scored,
    hits: Vec<Hit>,
    m: &Methodology,
    trigger: &str,
) -> Assessment {
    let now = now_unix_ms();
    // An open hit needs a person as much as a high score does.
    let flagged = scored.needs_review(m) || hits.iter().any(Hit::is_open);
    let flagged_at_unix_ms = match (flagged, previous) {
        (false, _) => None,
        (true, Some(p)) if p.flagged => p.flagged_at_unix_ms,
        (true, _) => Some(now),
    };
    Assessment {
        license_id: license.id.clone(),
        score: scored.score,
        band: scored.band,
        factors: scored.factors,
        review_threshold: m.review_threshold,
        flagged,
        flagged_at_unix_ms,
        methodology: m.label(),
        trigger: trigger.to_owned(),
        assessed_at_unix_ms: now,
        previous_score: previous.map(|p| p.score),
        hits,
        floors: scored.floors,
    }
}

/// Did this assessment newly reach the threshold?
pub(super) fn crossed(previous: Option<&Assessment>, next: &Assessment) -> bool {
    next.flagged && !previous.is_some_and(|p| p.flagged)
}

impl Risk {
    /// Stores `a` durably; with its `risk.flag` audit entry when it crossed.
    pub(super) async fn write(&self, previous: Option<&Assessment>, a: &Assessment) -> Result<()> {
        let mut batch = self.store.batch();
        batch.put(&self.assessments, &a.license_id, a)?;
        if !crossed(previous, a) {
            self.store.commit(batch).await?;
            return Ok(());
        }
        let contributions: Vec<String> = a
            .factors
            .iter()
            .filter(|f| f.points != 0)
            .map(|f| format!("{} {:+}", f.kind.as_str(), f.points))
            .collect();
        let open: Vec<&str> = a.open_hits().map(|h| h.id.as_str()).collect();
        let floors: Vec<&str> = a.floors.iter().map(|f| f.reason.as_str()).collect();
        let why = if a.score >= a.review_threshold {
            format!("reached the review threshold {}", a.review_threshold)
        } else if !floors.is_empty() {
            format!("is held at a floor ({})", floors.join("; "))
        } else {
            format!("has open screening hits {}", open.join(", "))
        };
        let rationale = format!(
            "score {} ({}) {why} on {}; {}; methodology {}",
            a.score,
            a.band,
            a.trigger,
            contributions.join(", "),
            a.methodology
        );
        // Lock order: risk (held by the caller), then audit.
        self.audit
            .commit(
                batch,
                [Action {
                    actor: "system",
                    action: "risk.flag",
                    record: &a.license_id,
                    rationale: &rationale,
                }],
            )
            .await?;
        tracing::warn!(license = %a.license_id, score = a.score, "license flagged for review");
        Ok(())
    }
}
