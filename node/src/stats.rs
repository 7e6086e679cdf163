//! Licensing figures for `concord stats`: how long decisions take and how
//! they come out. Pure functions over licenses read from `licensing`; they
//! yield only aggregates, never a party or a license id, so the same figures
//! serve public and internal statistics.

use std::collections::BTreeMap;

use crate::licensing::{EndUseCheck, License, LicenseAction, LicenseState, Shipment};

const DAY_MS: f64 = 86_400_000.0;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecisionStats {
    pub applications: u64,
    /// Applications with a first decision (approve, deny or return).
    pub decided: u64,
    pub pending: u64,
    /// Days from submission to first decision (nearest-rank percentiles);
    /// `None` when nothing was decided.
    pub p50_days: Option<f64>,
    pub p90_days: Option<f64>,
    /// First decisions by outcome: `approved`, `denied`, `returned`.
    pub by_outcome: BTreeMap<String, u64>,
    /// Current states.
    pub by_state: BTreeMap<String, u64>,
    /// Appeals lodged, and how those decided came out: `upheld` (the
    /// decision stands) or `overturned`.
    pub appeals: u64,
    pub appeals_by_result: BTreeMap<String, u64>,
    /// Shipments recorded against licenses, and of those recorded although
    /// they failed the license's checks.
    pub shipments: u64,
    pub shipments_with_discrepancy: u64,
    /// End-use checks by result (`pass`, `fail`, `inconclusive`).
    pub end_use_checks: BTreeMap<String, u64>,
    /// The same by calendar year (UTC) of each event: applications by the
    /// year submitted, decisions (and their days) by the year decided,
    /// appeals, shipments and checks by the year they happened.
    pub years: BTreeMap<i32, PeriodStats>,
}

/// One calendar year of [`DecisionStats`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PeriodStats {
    pub submitted: u64,
    pub decided: u64,
    pub p50_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub appeals: u64,
    pub shipments: u64,
    pub end_use_checks: u64,
}

impl DecisionStats {
    /// The figures of the calendar year `unix_ms` falls in.
    fn year(&mut self, unix_ms: i64) -> &mut PeriodStats {
        self.years.entry(year_of(unix_ms)).or_default()
    }
}

/// The calendar year (UTC) of a time; 1970 for one out of range.
fn year_of(unix_ms: i64) -> i32 {
    time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)).map_or(1970, |t| t.year())
}

/// The first decision on an application and when it was made.
fn first_decision(l: &License) -> Option<(LicenseState, i64)> {
    l.history.iter().find_map(|d| {
        matches!(
            d.action,
            LicenseAction::Approve | LicenseAction::Deny | LicenseAction::Return
        )
        .then_some((d.to, d.at_unix_ms))
    })
}

/// The value at quantile `q` of sorted `values` by the nearest-rank method.
fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

pub fn decisions<'a>(licenses: impl IntoIterator<Item = &'a License>) -> DecisionStats {
    let mut stats = DecisionStats::default();
    let mut days = Vec::new();
    let mut days_by_year: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
    for l in licenses {
        stats.applications += 1;
        stats.year(l.submitted_at_unix_ms).submitted += 1;
        *stats
            .by_state
            .entry(l.state.as_str().to_owned())
            .or_default() += 1;
        match first_decision(l) {
            Some((outcome, at)) => {
                stats.decided += 1;
                *stats
                    .by_outcome
                    .entry(outcome.as_str().to_owned())
                    .or_default() += 1;
                let took = at.saturating_sub(l.submitted_at_unix_ms).max(0) as f64 / DAY_MS;
                days.push(took);
                days_by_year.entry(year_of(at)).or_default().push(took);
                stats.year(at).decided += 1;
            }
            None => stats.pending += 1,
        }
        for d in &l.history {
            let result = match d.action {
                LicenseAction::Appeal => {
                    stats.appeals += 1;
                    stats.year(d.at_unix_ms).appeals += 1;
                    continue;
                }
                LicenseAction::Uphold => "upheld",
                LicenseAction::Overturn => "overturned",
                _ => continue,
            };
            *stats
                .appeals_by_result
                .entry(result.to_owned())
                .or_default() += 1;
        }
    }
    days.sort_by(f64::total_cmp);
    stats.p50_days = nearest_rank(&days, 0.5);
    stats.p90_days = nearest_rank(&days, 0.9);
    for (year, mut days) in days_by_year {
        days.sort_by(f64::total_cmp);
        let y = stats.years.entry(year).or_default();
        y.p50_days = nearest_rank(&days, 0.5);
        y.p90_days = nearest_rank(&days, 0.9);
    }
    stats
}

/// Adds what was found after licenses were granted: shipments and end-use
/// checks (counts only).
pub fn add_follow_up<'a>(
    stats: &mut DecisionStats,
    shipments: impl IntoIterator<Item = &'a Shipment>,
    checks: impl IntoIterator<Item = &'a EndUseCheck>,
) {
    for s in shipments {
        stats.shipments += 1;
        stats.year(s.shipped_at_unix_ms).shipments += 1;
        if s.discrepancy.is_some() {
            stats.shipments_with_discrepancy += 1;
        }
    }
    for c in checks {
        stats.year(c.checked_at_unix_ms).end_use_checks += 1;
        *stats
            .end_use_checks
            .entry(c.result.as_str().to_owned())
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licensing::Decision;

    fn step(action: LicenseAction, to: LicenseState, at_day: i64) -> Decision {
        Decision {
            action,
            from: None,
            to,
            officer: "DE/officer/oli".into(),
            at_unix_ms: at_day * 86_400_000,
            rationale: String::new(),
            waivers: vec![],
            denial: None,
            reviewed: None,
        }
    }

    fn license(id: &str, steps: Vec<Decision>) -> License {
        let state = steps.last().map_or(LicenseState::Submitted, |d| d.to);
        License {
            id: id.into(),
            state,
            applicant: "DE-P-1".into(),
            items: vec![],
            end_user: "DE-P-2".into(),
            consignee: "DE-P-3".into(),
            intermediaries: vec![],
            destination: "ZZ".into(),
            end_use: String::new(),
            catalog_version: 1,
            submitted_at_unix_ms: 0,
            submitted_by: "DE/officer/oli".into(),
            updated_at_unix_ms: 0,
            history: steps,
            denial_id: None,
            revision: 1,
            revisions: vec![],
            pending: None,
            rejected: vec![],
            terms: None,
            review_flags: vec![],
        }
    }

    #[test]
    fn percentiles_and_outcomes() {
        use LicenseAction::*;
        use LicenseState as S;
        let submit = || step(Submit, S::Submitted, 0);
        let mut all = vec![license("DE-L-0", vec![submit()])];
        for (i, days) in (1..=10).enumerate() {
            let (action, to) = match i % 3 {
                0 => (Approve, S::Approved),
                1 => (Deny, S::Denied),
                _ => (Return, S::Returned),
            };
            all.push(license(
                &format!("DE-L-{days}"),
                vec![
                    submit(),
                    step(Review, S::UnderReview, 0),
                    step(action, to, days),
                ],
            ));
        }
        // An appeal after a denial does not change when the decision was made.
        all[2].history.push(step(Appeal, S::Appealed, 30));
        all[2].history.push(step(Overturn, S::AppealOverturned, 40));
        all[2].state = S::AppealOverturned;

        let s = decisions(&all);
        assert_eq!((s.applications, s.decided, s.pending), (11, 10, 1));
        assert_eq!(s.p50_days, Some(5.0));
        assert_eq!(s.p90_days, Some(9.0));
        assert_eq!(s.by_outcome["approved"], 4);
        assert_eq!(s.by_outcome["denied"], 3);
        assert_eq!(s.by_outcome["returned"], 3);
        assert_eq!(s.by_state["submitted"], 1);
        assert_eq!(s.by_state["appeal-overturned"], 1);
        assert_eq!(s.appeals, 1);
        assert_eq!(s.appeals_by_result["overturned"], 1);
        assert!(!s.appeals_by_result.contains_key("upheld"));
        // Every event counted in its own year: submissions and decisions in
        // 1970 (days 0–10), the appeal on day 30 too.
        let y = &s.years[&1970];
        assert_eq!((y.submitted, y.decided, y.appeals), (11, 10, 1));
        assert_eq!((y.p50_days, y.p90_days), (Some(5.0), Some(9.0)));
        let mut later = license("DE-L-99", vec![submit(), step(Approve, S::Approved, 400)]);
        later.submitted_at_unix_ms = 300 * 86_400_000;
        let s = decisions(&[later]);
        assert_eq!(s.years[&1970].submitted, 1);
        assert_eq!(
            (s.years[&1971].decided, s.years[&1971].p50_days),
            (1, Some(100.0))
        );
        assert_eq!(decisions(&[]).p50_days, None);
    }
}
