//! Storing assessments: tree `risk_assessments_2`, license id → the latest
//! [`Assessment`], many per batch. Reaching the review threshold appends a
//! `risk.flag` audit entry in the same batch as the assessment, so after a
//! crash both are there or neither is.

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

/// An assessment about to be stored, with the one it follows.
pub(super) struct Next {
    pub previous: Option<Assessment>,
    pub assessment: Assessment,
}

/// Assessments scored in one pass, written together: one durable commit
/// for many applications instead of one each (a pass re-scoring hundreds
/// would otherwise wait on the disk hundreds of times).
#[derive(Default)]
pub(super) struct Pending(Vec<Next>);

/// Assessments per commit: bounds one batch in bytes (an assessment lists
/// at most `score::MAX_LISTED` records per factor).
pub(super) const PER_COMMIT: usize = 256;

impl Pending {
    pub fn push(&mut self, next: Next) {
        self.0.push(next);
    }
}

impl Risk {
    /// Stores every assessment in `pending` in one durable batch, with a
    /// `risk.flag` audit entry for each that crossed the threshold; returns
    /// them once on disk.
    pub(super) async fn write_pending(&self, pending: Pending) -> Result<Vec<Assessment>> {
        if pending.0.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = self.store.batch();
        let mut flags: Vec<(String, String)> = Vec::new();
        for Next {
            previous,
            assessment: a,
        } in &pending.0
        {
            batch.put(&self.assessments, &a.license_id, a)?;
            match a.open_hits().count() {
                0 => batch.delete(&self.open_hits, &a.license_id),
                n => batch.put(&self.open_hits, &a.license_id, &(n as u32))?,
            }
            if crossed(previous.as_ref(), a) {
                flags.push((a.license_id.clone(), flag_rationale(a)));
            }
        }
        if flags.is_empty() {
            self.store.commit(batch).await?;
        } else {
            // Lock order: risk (held by the caller), then audit.
            self.audit
                .commit(
                    batch,
                    flags.iter().map(|(license, rationale)| Action {
                        actor: "system",
                        action: "risk.flag",
                        record: license,
                        rationale,
                    }),
                )
                .await?;
        }
        let mut out = Vec::with_capacity(pending.0.len());
        for Next {
            previous,
            assessment: a,
        } in pending.0
        {
            if crossed(previous.as_ref(), &a) {
                tracing::warn!(license = %a.license_id, score = a.score, "license flagged for review");
            }
            tracing::info!(
                license = %a.license_id,
                score = a.score,
                band = %a.band,
                flagged = a.flagged,
                trigger = %a.trigger,
                "license scored"
            );
            out.push(a);
        }
        Ok(out)
    }
}

/// Why an assessment was flagged, for its audit entry.
fn flag_rationale(a: &Assessment) -> String {
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
    format!(
        "score {} ({}) {why} on {}; {}; methodology {}",
        a.score,
        a.band,
        a.trigger,
        contributions.join(", "),
        a.methodology
    )
}
