//! The score itself: what is known about an application in, a 0..=100 score
//! with one explained contribution per factor. Pure (no I/O, no clock), so
//! every property of the methodology is tested here.
//!
//! Points are integers: a factor's points are its weight times a whole
//! percentage, rounded once, so the factors add up to the score exactly —
//! an officer can check the arithmetic on screen. Floors (`floors`) raise
//! the band and force review without touching the points.

mod floors;

use serde::{Deserialize, Serialize};

use super::methodology::{Methodology, TouchRule};
use crate::exchange::records::Severity;
use crate::licensing::{Category, CheckResult, WaiverKind};

pub use floors::{AppliedFloor, FloorKind};

/// The factors, in the order an assessment lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactorKind {
    ItemSensitivity,
    Destination,
    Screening,
    Denials,
    Alerts,
    EndUse,
    Waivers,
}

impl FactorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::ItemSensitivity => "item-sensitivity",
            FactorKind::Destination => "destination",
            FactorKind::Screening => "screening",
            FactorKind::Denials => "denials",
            FactorKind::Alerts => "alerts",
            FactorKind::EndUse => "end-use",
            FactorKind::Waivers => "waivers",
        }
    }
}

/// One factor's contribution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    pub kind: FactorKind,
    /// Negative only for the waiver credit.
    pub points: i32,
    /// The most points the factor can add (the credit: subtract).
    pub max: u32,
    pub explanation: String,
    /// Ids of the records that contributed (denials, alerts, checks,
    /// waivers, list entries as `list:source_id`, item codes).
    pub evidence: Vec<String>,
}

/// A score and how it was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scored {
    pub score: u32,
    /// The higher of the score's band and every applied floor's band.
    pub band: String,
    pub factors: Vec<Factor>,
    /// In listing order; empty when no floor applies.
    pub floors: Vec<AppliedFloor>,
}

impl Scored {
    /// A person must look: the score reached the review threshold, or a
    /// floor applied (a floor exists for what the weights may under-rate).
    pub fn needs_review(&self, m: &Methodology) -> bool {
        self.score >= m.review_threshold || !self.floors.is_empty()
    }
}

/// Everything the score depends on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inputs {
    pub items: Vec<ItemInput>,
    pub destination: String,
    pub screening: Vec<ScreeningHit>,
    pub denials: Vec<RecordTouch>,
    pub alerts: Vec<RecordTouch>,
    pub end_use: Vec<CheckInput>,
    pub waivers: Vec<WaiverInput>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemInput {
    pub code: String,
    pub category: Category,
    pub tier: u8,
}

/// A party's best match against an imported list.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreeningHit {
    /// e.g. `end user DE-P-2 "Acme Trading FZE"`.
    pub party: String,
    pub list: String,
    pub source_id: String,
    pub matched_name: String,
    pub score: f32,
}

/// How an active denial notice or alert touches the application.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordTouch {
    pub id: String,
    /// Alerts only.
    pub severity: Option<Severity>,
    /// The application's party the record names (by screening match), described.
    pub party: Option<String>,
    pub destination: bool,
    /// Item codes in both.
    pub items: Vec<String>,
}

impl RecordTouch {
    pub fn touches(&self) -> bool {
        self.party.is_some() || self.destination || !self.items.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckInput {
    pub id: String,
    pub license_id: String,
    pub result: CheckResult,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WaiverInput {
    pub id: String,
    pub kind: WaiverKind,
}

/// `percent` (capped at 100) of `weight`, rounded to the nearest point;
/// never more than `weight`.
fn share(weight: u32, percent: u32) -> u32 {
    (weight * percent.min(100) + 50) / 100
}

/// Scores `inputs` under `m`. The factors' points add up to the score, which
/// is within 0..=100 because the risk weights add up to 100 and the credit
/// never exceeds what the other factors added.
pub fn score(m: &Methodology, inputs: &Inputs) -> Scored {
    let mut factors = vec![
        item_sensitivity(m, &inputs.items),
        destination(m, &inputs.destination),
        screening(m, &inputs.screening),
        records(
            FactorKind::Denials,
            m.weights.denials,
            &m.denials,
            &inputs.denials,
            |_| 100,
        ),
        records(
            FactorKind::Alerts,
            m.weights.alerts,
            &m.alerts.touch(),
            &inputs.alerts,
            |s| alert_severity_percent(m, s),
        ),
        end_use(m, &inputs.end_use),
    ];
    let risk: i32 = factors.iter().map(|f| f.points).sum();
    let waivers = waivers(m, &inputs.waivers, risk);
    let score = (risk + waivers.points).clamp(0, 100) as u32;
    factors.push(waivers);
    let floors = floors::applied(m, inputs);
    let band = floors
        .iter()
        .fold(m.bands.of(score), |band, f| m.bands.higher(band, &f.band))
        .to_owned();
    Scored {
        score,
        band,
        factors,
        floors,
    }
}

fn factor(kind: FactorKind, max: u32, points: u32, explanation: String) -> Factor {
    Factor {
        kind,
        points: points as i32,
        max,
        explanation,
        evidence: Vec::new(),
    }
}

fn item_sensitivity(m: &Methodology, items: &[ItemInput]) -> Factor {
    let weight = m.weights.item_sensitivity;
    let best = items
        .iter()
        .map(|i| (i, m.item_class(i.category, i.tier)))
        .max_by_key(|(_, (_, percent))| *percent);
    let Some((item, (class, percent))) = best else {
        return factor(FactorKind::ItemSensitivity, weight, 0, "no items".into());
    };
    let points = share(weight, percent);
    let others = if items.len() > 1 {
        format!("; most sensitive of {} items", items.len())
    } else {
        String::new()
    };
    let mut f = factor(
        FactorKind::ItemSensitivity,
        weight,
        points,
        format!(
            "{} {} tier {} is {class}: {percent}% of {weight}{others}",
            item.code, item.category, item.tier
        ),
    );
    f.evidence.push(item.code.clone());
    f
}

fn destination(m: &Methodology, country: &str) -> Factor {
    let weight = m.weights.destination;
    let (tier, listed) = m.destinations.tier(country);
    let percent = m.tier_percent(tier);
    let how = if listed {
        format!("{country} is tier {tier}")
    } else {
        format!("{country} is not listed: default tier {tier}")
    };
    factor(
        FactorKind::Destination,
        weight,
        share(weight, percent),
        format!("{how}: {percent}% of {weight}"),
    )
}

/// Percentage of the screening weight a match score carries: the floor at
/// the match threshold, 100 at an exact match, linear in between.
pub fn screening_percent(m: &Methodology, score: f32) -> u32 {
    let threshold = m.screening.match_score;
    if score < threshold {
        return 0;
    }
    let floor = m.screening.floor_percent.min(100) as f32;
    let span = (1.0 - threshold).max(f32::EPSILON);
    let above = ((score.min(1.0) - threshold) / span).clamp(0.0, 1.0);
    (floor + (100.0 - floor) * above).round() as u32
}

fn screening(m: &Methodology, hits: &[ScreeningHit]) -> Factor {
    let weight = m.weights.screening;
    let best = hits
        .iter()
        .filter(|h| h.score >= m.screening.match_score)
        .max_by(|a, b| a.score.total_cmp(&b.score));
    let Some(best) = best else {
        return factor(
            FactorKind::Screening,
            weight,
            0,
            format!(
                "no party matches an imported list at {:.2} or above",
                m.screening.match_score
            ),
        );
    };
    let percent = screening_percent(m, best.score);
    let matching = hits.iter().filter(|h| h.score >= m.screening.match_score);
    let more = matching.clone().count().saturating_sub(1);
    let more = if more > 0 {
        format!("; {more} more match(es)")
    } else {
        String::new()
    };
    let mut f = factor(
        FactorKind::Screening,
        weight,
        share(weight, percent),
        format!(
            "{} matches {} {} {:?} at {:.2}: {percent}% of {weight}{more}",
            best.party, best.list, best.source_id, best.matched_name, best.score
        ),
    );
    f.evidence = matching
        .map(|h| format!("{}:{}", h.list, h.source_id))
        .collect();
    f
}

/// The closest way a record touches the application, and its percentage.
fn touch(rule: &TouchRule, r: &RecordTouch) -> (String, u32) {
    if let Some(p) = &r.party {
        (format!("names {p}"), rule.party)
    } else if r.destination && !r.items.is_empty() {
        (
            format!("same destination and item {}", r.items.join(",")),
            rule.item_and_destination,
        )
    } else if r.destination {
        ("same destination".into(), rule.destination)
    } else {
        (format!("same item {}", r.items.join(",")), rule.item)
    }
}

/// Most records one factor lists. The factor is capped at 100% anyway;
/// listing stops there, so a destination touched by a hundred thousand
/// notices costs what the strongest of them say, and the in-memory sets of
/// `risk::touching` need keep only this many records per application.
pub const MAX_LISTED: usize = 100;

/// What `r` adds to its factor, in percent, with how it touches.
fn contribution(
    rule: &TouchRule,
    r: &RecordTouch,
    severity_percent: &impl Fn(Option<Severity>) -> u32,
) -> (String, u32) {
    let (how, base) = touch(rule, r);
    (how, with_severity(base, r.severity, severity_percent))
}

fn with_severity(
    base: u32,
    severity: Option<Severity>,
    severity_percent: &impl Fn(Option<Severity>) -> u32,
) -> u32 {
    match severity {
        Some(s) => (base.min(100) * severity_percent(Some(s)).min(100) + 50) / 100,
        None => base,
    }
}

/// A record id ordered by its prefix, then its number (`FR-D-9` before
/// `FR-D-10`), so later records sort after earlier ones of their issuer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IdOrder(String, u64, String);

impl IdOrder {
    pub fn of(id: &str) -> IdOrder {
        let (prefix, number) = id_parts(id);
        IdOrder(prefix.to_owned(), number, id.to_owned())
    }

    /// Where `id` stands against this one, without allocating.
    pub fn cmp_id(&self, id: &str) -> std::cmp::Ordering {
        let (prefix, number) = id_parts(id);
        (self.0.as_str(), self.1, self.2.as_str()).cmp(&(prefix, number, id))
    }
}

/// How two record ids compare in [`IdOrder`], without allocating.
pub(super) fn cmp_ids(a: &str, b: &str) -> std::cmp::Ordering {
    let ((pa, na), (pb, nb)) = (id_parts(a), id_parts(b));
    (pa, na, a).cmp(&(pb, nb, b))
}

fn id_parts(id: &str) -> (&str, u64) {
    match id.rsplit_once('-') {
        Some((p, n)) => match n.parse() {
            Ok(n) => (p, n),
            Err(_) => (id, 0),
        },
        None => (id, 0),
    }
}

/// The order records are listed in: strongest first, then earliest id.
pub(super) fn listing_order(percent: u32, id: &str) -> (std::cmp::Reverse<u32>, IdOrder) {
    (std::cmp::Reverse(percent), IdOrder::of(id))
}

/// The percentage a record touching the application only by destination
/// and/or items adds to the denial (`severity` None) or alert factor, as
/// `records` counts it: what `risk::touching` ranks such records by.
/// Allocates nothing, since it runs for every record and application.
pub(super) fn unnamed_percent(
    m: &Methodology,
    severity: Option<Severity>,
    destination: bool,
    items: bool,
) -> u32 {
    let base = |rule: &TouchRule| match (destination, items) {
        (true, true) => rule.item_and_destination,
        (true, false) => rule.destination,
        _ => rule.item,
    };
    match severity {
        Some(_) => with_severity(base(&m.alerts.touch()), severity, &|s| {
            alert_severity_percent(m, s)
        }),
        None => base(&m.denials),
    }
}

fn alert_severity_percent(m: &Methodology, s: Option<Severity>) -> u32 {
    match s {
        Some(Severity::Low) => m.alerts.severity.low,
        Some(Severity::Medium) => m.alerts.severity.medium,
        Some(Severity::High) => m.alerts.severity.high,
        Some(Severity::Critical) | None => m.alerts.severity.critical,
    }
}

fn records(
    kind: FactorKind,
    weight: u32,
    rule: &TouchRule,
    records: &[RecordTouch],
    severity_percent: impl Fn(Option<Severity>) -> u32,
) -> Factor {
    let noun = if kind == FactorKind::Denials {
        "denial notice"
    } else {
        "alert"
    };
    let mut touching: Vec<(&RecordTouch, String, u32)> = records
        .iter()
        .filter(|r| r.touches())
        .map(|r| {
            let (how, percent) = contribution(rule, r, &severity_percent);
            (r, how, percent)
        })
        .collect();
    if touching.is_empty() {
        return factor(
            kind,
            weight,
            0,
            format!("no active {noun} touches the parties, destination or items"),
        );
    }
    touching.sort_by_cached_key(|(r, _, percent)| listing_order(*percent, &r.id));
    let mut total = 0u32;
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    for (r, how, percent) in &touching {
        if total >= 100 || evidence.len() >= MAX_LISTED {
            break;
        }
        match r.severity {
            Some(s) => parts.push(format!("{} ({s}) {how}: {percent}%", r.id)),
            None => parts.push(format!("{} {how}: {percent}%", r.id)),
        }
        evidence.push(r.id.clone());
        total = total.saturating_add(*percent);
    }
    let capped = if total > 100 { " (capped)" } else { "" };
    // No count of the rest: `risk::touching` keeps only the strongest.
    let unlisted = if evidence.len() < touching.len() {
        format!("; more touch it, not listed (strongest first, up to 100% or {MAX_LISTED} records)")
    } else {
        "".to_owned()
    };
    let percent = total.min(100);
    let mut f = factor(
        kind,
        weight,
        share(weight, percent),
        format!(
            "{}{unlisted}; {percent}%{capped} of {weight}",
            parts.join("; ")
        ),
    );
    f.evidence = evidence;
    f
}

fn end_use(m: &Methodology, checks: &[CheckInput]) -> Factor {
    let weight = m.weights.end_use;
    let mut total = 0u32;
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    for c in checks {
        let percent = match c.result {
            CheckResult::Fail => m.end_use.fail,
            CheckResult::Inconclusive => m.end_use.inconclusive,
            CheckResult::Pass => continue,
        };
        parts.push(format!(
            "{} of {} {}: {percent}%",
            c.id, c.license_id, c.result
        ));
        evidence.push(c.id.clone());
        total = total.saturating_add(percent);
    }
    if parts.is_empty() {
        return factor(
            FactorKind::EndUse,
            weight,
            0,
            "no failed or inconclusive end-use check of the end user or consignee".into(),
        );
    }
    let capped = if total > 100 { " (capped)" } else { "" };
    let percent = total.min(100);
    let mut f = factor(
        FactorKind::EndUse,
        weight,
        share(weight, percent),
        format!("{}; {percent}%{capped} of {weight}", parts.join("; ")),
    );
    f.evidence = evidence;
    f
}

/// The credit of matching waivers: the methodology's credit, but never more
/// than the risk factors added (`risk`), so the score stays at or above 0.
fn waivers(m: &Methodology, waivers: &[WaiverInput], risk: i32) -> Factor {
    let credit = m.waiver_credit.min(100);
    if waivers.is_empty() {
        return factor(
            FactorKind::Waivers,
            credit,
            0,
            "no waiver covers the application".into(),
        );
    }
    let points = (credit as i32).min(risk.max(0));
    let names: Vec<String> = waivers
        .iter()
        .map(|w| format!("{} ({})", w.id, w.kind))
        .collect();
    Factor {
        kind: FactorKind::Waivers,
        points: -points,
        max: credit,
        explanation: format!(
            "covered by {}: credit of {points} (at most {credit})",
            names.join(", ")
        ),
        evidence: waivers.iter().map(|w| w.id.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::risk::methodology::Effective;

    fn baseline() -> Methodology {
        Effective::baseline().unwrap().methodology
    }

    fn item(code: &str, category: Category, tier: u8) -> ItemInput {
        ItemInput {
            code: code.into(),
            category,
            tier,
        }
    }

    fn denial(id: &str, party: bool, destination: bool, items: &[&str]) -> RecordTouch {
        RecordTouch {
            id: id.into(),
            severity: None,
            party: party.then(|| "end user DE-P-2 \"Acme Trading FZE\"".to_owned()),
            destination,
            items: items.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Scores `inputs` under the baseline and checks the arithmetic shown.
    fn check(inputs: &Inputs, expected_score: u32, expected: &[(FactorKind, i32)]) -> Scored {
        let s = score(&baseline(), inputs);
        let sum: i32 = s.factors.iter().map(|f| f.points).sum();
        assert_eq!(sum, s.score as i32, "{s:#?}");
        assert_eq!(s.score, expected_score, "{s:#?}");
        for (kind, points) in expected {
            let f = s.factors.iter().find(|f| f.kind == *kind).unwrap();
            assert_eq!(f.points, *points, "{kind:?}: {}", f.explanation);
        }
        s
    }

    #[test]
    fn the_explanation_adds_up() {
        let inputs = Inputs {
            items: vec![
                item("ML13", Category::Military, 1),
                item("3A001", Category::DualUse, 2),
            ],
            destination: "AE".into(),
            screening: vec![ScreeningHit {
                party: "consignee DE-P-3 \"Gulf Logistics\"".into(),
                list: "ofac".into(),
                source_id: "123".into(),
                matched_name: "GULF LOGISTICS".into(),
                score: 1.0,
            }],
            denials: vec![denial("FR-D-1", true, true, &["3A001"])],
            alerts: vec![RecordTouch {
                id: "JP-A-4".into(),
                severity: Some(Severity::High),
                party: None,
                destination: true,
                items: vec![],
            }],
            end_use: vec![CheckInput {
                id: "DE-E-1".into(),
                license_id: "DE-L-1".into(),
                result: CheckResult::Inconclusive,
            }],
            waivers: vec![],
        };
        // 3A001 sensitive dual-use 60% of 25 = 15; AE tier 2 50% of 20 = 10;
        // exact match 100% of 15; denial naming the party 100% of 20; high
        // alert on the destination 40%*75% = 30% of 10 = 3; inconclusive
        // check 40% of 10 = 4.
        let s = check(
            &inputs,
            67,
            &[
                (FactorKind::ItemSensitivity, 15),
                (FactorKind::Destination, 10),
                (FactorKind::Screening, 15),
                (FactorKind::Denials, 20),
                (FactorKind::Alerts, 3),
                (FactorKind::EndUse, 4),
                (FactorKind::Waivers, 0),
            ],
        );
        assert_eq!(s.band, "high");
        let denials = &s.factors[3];
        assert!(
            denials.explanation.contains("FR-D-1 names end user"),
            "{}",
            denials.explanation
        );
        assert_eq!(denials.evidence, ["FR-D-1"]);
    }

    #[test]
    fn advanced_dual_use_outranks_basic_military() {
        let one = |i: ItemInput| Inputs {
            items: vec![i],
            destination: "DE".into(),
            ..Inputs::default()
        };
        let basic_military = score(&baseline(), &one(item("ML13", Category::Military, 1)));
        let advanced_dual_use = score(&baseline(), &one(item("9A012", Category::DualUse, 3)));
        assert!(
            advanced_dual_use.score > basic_military.score,
            "{advanced_dual_use:?} vs {basic_military:?}"
        );
        assert!(advanced_dual_use.factors[0]
            .explanation
            .contains("advanced-dual-use"));
        assert!(basic_military.factors[0]
            .explanation
            .contains("basic-military"));
    }

    #[test]
    fn overrides_change_the_weights() {
        let inputs = Inputs {
            items: vec![item("ML4", Category::Military, 3)],
            destination: "AE".into(),
            ..Inputs::default()
        };
        check(
            &inputs,
            35,
            &[
                (FactorKind::ItemSensitivity, 25),
                (FactorKind::Destination, 10),
            ],
        );
        let mut f = crate::risk::RiskFile::default();
        f.weights.item_sensitivity = Some(10);
        f.weights.destination = Some(35);
        f.destination_tiers.insert("AE".into(), 4);
        let national = Effective::load(&f, std::path::Path::new("."))
            .unwrap()
            .methodology;
        let s = score(&national, &inputs);
        assert_eq!(s.score, 45, "{s:#?}");
        assert_eq!(s.factors[1].explanation, "AE is tier 4: 100% of 35");
    }

    #[test]
    fn records_accumulate_up_to_the_weight() {
        let inputs = Inputs {
            items: vec![item("ML4", Category::Military, 3)],
            destination: "XX".into(),
            denials: vec![
                denial("FR-D-1", false, true, &["ML4"]),
                denial("JP-D-2", false, true, &[]),
                denial("JP-D-3", false, false, &["ML4"]),
                denial("JP-D-4", false, false, &[]),
            ],
            ..Inputs::default()
        };
        // 60 + 15 + 10 = 85% of 20 = 17; the untouching notice is ignored;
        // XX is unlisted: default tier 1, 25% of 20 = 5.
        let s = check(
            &inputs,
            47,
            &[(FactorKind::Denials, 17), (FactorKind::Destination, 5)],
        );
        assert_eq!(s.factors[3].evidence, ["FR-D-1", "JP-D-2", "JP-D-3"]);
        let more = Inputs {
            denials: vec![
                denial("FR-D-1", true, false, &[]),
                denial("FR-D-2", true, false, &[]),
            ],
            ..inputs
        };
        let s = check(&more, 50, &[(FactorKind::Denials, 20)]);
        // The first notice reaches 100%: the second is not listed.
        assert_eq!(s.factors[3].evidence, ["FR-D-1"]);
        assert!(s.factors[3]
            .explanation
            .contains("more touch it, not listed"));
    }

    #[test]
    fn records_are_listed_strongest_first_up_to_the_cap() {
        // Destination only: 15% each, in id order by number (9 before 10).
        let many: Vec<RecordTouch> = (1..=12)
            .rev()
            .map(|n| denial(&format!("FR-D-{n}"), false, true, &[]))
            .chain([denial("JP-D-1", true, false, &[])])
            .collect();
        let inputs = Inputs {
            destination: "XX".into(),
            denials: many,
            ..Inputs::default()
        };
        let s = score(&baseline(), &inputs);
        let f = &s.factors[3];
        assert_eq!(f.points, 20);
        // The naming notice first, then the earliest until 100% is reached.
        assert_eq!(f.evidence, ["JP-D-1"]);
        let unnamed = Inputs {
            denials: inputs.denials[..12].to_vec(),
            ..inputs.clone()
        };
        let s = score(&baseline(), &unnamed);
        let f = &s.factors[3];
        assert_eq!(
            f.evidence,
            ["FR-D-1", "FR-D-2", "FR-D-3", "FR-D-4", "FR-D-5", "FR-D-6", "FR-D-7"]
        );
        assert!(f.explanation.contains("(capped)"), "{}", f.explanation);
        assert!(f.explanation.contains("more touch it"), "{}", f.explanation);
        let mut ids = ["FR-D-10", "FR-D-9", "DE-D-2"].map(IdOrder::of);
        ids.sort();
        assert_eq!(ids.map(|i| i.2), ["DE-D-2", "FR-D-9", "FR-D-10"]);
    }

    #[test]
    fn a_waiver_credit_never_makes_a_score_negative() {
        let waived = |destination: &str| Inputs {
            items: vec![item("5A002", Category::DualUse, 1)],
            destination: destination.into(),
            waivers: vec![WaiverInput {
                id: "DE-W-1".into(),
                kind: WaiverKind::Humanitarian,
            }],
            ..Inputs::default()
        };
        // 20% of 25 = 5 points, tier 0: the credit is limited to 5.
        check(&waived("FR"), 0, &[(FactorKind::Waivers, -5)]);
        // Tier 4: 5 + 20 = 25, credit 10.
        check(&waived("KP"), 15, &[(FactorKind::Waivers, -10)]);
    }

    #[test]
    fn screening_scales_with_the_match() {
        let m = baseline();
        assert_eq!(screening_percent(&m, 0.84), 0);
        assert_eq!(screening_percent(&m, 0.85), 50);
        assert_eq!(screening_percent(&m, 1.0), 100);
        assert_eq!(screening_percent(&m, 0.925), 75);
    }

    /// Under a national methodology: the baseline with `overrides`.
    fn national(overrides: impl FnOnce(&mut crate::risk::RiskFile)) -> Methodology {
        let mut f = crate::risk::RiskFile::default();
        overrides(&mut f);
        Effective::load(&f, std::path::Path::new("."))
            .unwrap()
            .methodology
    }

    /// Scores `inputs` under `m` and checks the band and the floors applied;
    /// a floor never moves the points.
    fn check_floors(
        m: &Methodology,
        inputs: &Inputs,
        expected_band: &str,
        expected: &[FloorKind],
    ) -> Scored {
        let s = score(m, inputs);
        let sum: i32 = s.factors.iter().map(|f| f.points).sum();
        assert_eq!(sum, s.score as i32, "{s:#?}");
        let kinds: Vec<FloorKind> = s.floors.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, expected, "{s:#?}");
        assert_eq!(s.band, expected_band, "{s:#?}");
        assert_eq!(
            s.needs_review(m),
            s.score >= m.review_threshold || !expected.is_empty()
        );
        s
    }

    /// The issue 11 case: a party matching the OFAC SDN list exactly, a
    /// basic dual-use item, a comprehensively sanctioned destination.
    fn bank_melli(match_score: f32) -> Inputs {
        Inputs {
            items: vec![item("5A002", Category::DualUse, 1)],
            destination: "IR".into(),
            screening: vec![ScreeningHit {
                party: "end user DE-P-2 \"Bank Melli Iran\"".into(),
                list: "ofac-sdn".into(),
                source_id: "12345".into(),
                matched_name: "BANK MELLI IRAN".into(),
                score: match_score,
            }],
            ..Inputs::default()
        }
    }

    fn to(destination: &str, items: Vec<ItemInput>) -> Inputs {
        Inputs {
            items,
            destination: destination.into(),
            ..Inputs::default()
        }
    }

    #[test]
    fn a_listed_party_to_a_sanctioned_destination_is_high_whatever_the_weights() {
        let m = baseline();
        let s = check_floors(
            &m,
            &bank_melli(1.0),
            "high",
            &[FloorKind::StrongMatch, FloorKind::TopTierDestination],
        );
        // 5A002 basic dual-use 20% of 25 = 5; IR tier 4 20; exact match 15:
        // medium by the weights alone, and the score stays what it was.
        assert_eq!(s.score, 40);
        assert_eq!(m.bands.of(s.score), "medium");
        assert!(s.needs_review(&m) && s.score < m.review_threshold);
        assert_eq!(
            s.floors[0].reason,
            "end user DE-P-2 \"Bank Melli Iran\" matches ofac-sdn 12345 at 1.00 \
             (strong match ≥ 0.95): at least high"
        );
        assert_eq!(s.floors[0].evidence, ["ofac-sdn:12345"]);
        assert_eq!(
            s.floors[1].reason,
            "destination IR is tier 4, the highest destination tier: at least high"
        );
        assert_eq!(s.floors[1].band, "high");
        assert_eq!(s.floors[0].kind.as_str(), "strong-match");
        assert_eq!(s.floors[1].kind.as_str(), "top-tier-destination");
    }

    #[test]
    fn floors_apply_to_what_they_name_and_nothing_else() {
        let m = baseline();
        let ml4 = || item("ML4", Category::Military, 3);
        let weak = Inputs {
            destination: "AE".into(),
            ..bank_melli(0.86)
        };
        let party_denial = Inputs {
            denials: vec![denial("FR-D-1", true, false, &[])],
            ..to("AE", vec![item("5A002", Category::DualUse, 1)])
        };
        let same_deal = Inputs {
            denials: vec![denial("FR-D-1", false, true, &["ML4"])],
            ..to("AE", vec![ml4()])
        };
        let near = Inputs {
            denials: vec![
                denial("FR-D-1", false, true, &[]),
                denial("FR-D-2", false, false, &["ML4"]),
            ],
            ..to("AE", vec![ml4()])
        };
        let table: [(&str, Inputs, &str, &[FloorKind]); 9] = [
            // ML4 advanced military 25 + BY tier 3 16 = 41: medium by weight.
            (
                "ML4 to BY",
                to("BY", vec![ml4()]),
                "high",
                &[FloorKind::EmbargoedMilitary],
            ),
            ("ML4 to AE, tier 2", to("AE", vec![ml4()]), "medium", &[]),
            (
                "advanced dual-use to BY",
                to("BY", vec![item("9A012", Category::DualUse, 3)]),
                "medium",
                &[],
            ),
            (
                "basic military to KP",
                to("KP", vec![item("ML13", Category::Military, 1)]),
                "high",
                &[FloorKind::TopTierDestination, FloorKind::EmbargoedMilitary],
            ),
            // A hit, but not a strong one: left to the weights.
            ("a weak hit (0.86)", weak, "low", &[]),
            (
                "a denial naming a party",
                party_denial,
                "high",
                &[FloorKind::PeerDenial],
            ),
            (
                "a denial of the same item to the same destination",
                same_deal,
                "high",
                &[FloorKind::PeerDenial],
            ),
            (
                "denials of the destination only, or an item only",
                near,
                "medium",
                &[],
            ),
            ("nothing", to("DE", vec![]), "low", &[]),
        ];
        for (name, inputs, band, floors) in table {
            eprintln!("{name}");
            check_floors(&m, &inputs, band, floors);
        }
        let s = score(&m, &to("BY", vec![ml4()]));
        assert_eq!(s.score, 41);
        assert_eq!(
            s.floors[0].reason,
            "military item ML4 to BY, a tier 3 destination (military items to tier 3 or above): \
             at least high"
        );
        assert_eq!(s.floors[0].evidence, ["ML4"]);
        let s = score(
            &m,
            &Inputs {
                denials: vec![denial("FR-D-1", false, true, &["ML4"])],
                ..to("AE", vec![ml4()])
            },
        );
        assert_eq!(
            s.floors[0].reason,
            "denial notice FR-D-1 has the same destination AE and item ML4: at least high"
        );
        assert_eq!(s.floors[0].evidence, ["FR-D-1"]);
    }

    #[test]
    fn a_jurisdiction_tunes_or_disables_each_floor() {
        let off = national(|f| f.floors.strong_match.band = Some("off".into()));
        check_floors(
            &off,
            &bank_melli(1.0),
            "high",
            &[FloorKind::TopTierDestination],
        );
        let both_off = national(|f| {
            f.floors.strong_match.band = Some("off".into());
            f.floors.top_tier_destination.band = Some("off".into());
        });
        let s = check_floors(&both_off, &bank_melli(1.0), "medium", &[]);
        assert!(!s.needs_review(&both_off));

        let critical = national(|f| f.floors.top_tier_destination.band = Some("critical".into()));
        let s = check_floors(
            &critical,
            &bank_melli(1.0),
            "critical",
            &[FloorKind::StrongMatch, FloorKind::TopTierDestination],
        );
        assert_eq!(s.score, 40);
        assert_eq!(s.floors[0].band, "high");
        assert_eq!(s.floors[1].band, "critical");

        // A lower strong-match score catches the 0.86 hit; a lower tier
        // catches military items to transshipment hubs.
        let strict = national(|f| {
            f.floors.strong_match.score = Some(0.86);
            f.floors.embargoed_military.from_tier = Some(2);
        });
        check_floors(
            &strict,
            &Inputs {
                destination: "AE".into(),
                ..bank_melli(0.86)
            },
            "high",
            &[FloorKind::StrongMatch],
        );
        check_floors(
            &strict,
            &to("AE", vec![item("ML13", Category::Military, 1)]),
            "high",
            &[FloorKind::EmbargoedMilitary],
        );
    }

    #[test]
    fn a_floor_never_lowers_the_band_of_a_score() {
        let medium = national(|f| f.floors.peer_denial.band = Some("medium".into()));
        let inputs = Inputs {
            denials: vec![denial("FR-D-1", true, true, &["ML4"])],
            ..to("RU", vec![item("ML4", Category::Military, 3)])
        };
        // 25 + RU tier 3 16 + denial naming the party 20 = 61: high.
        let s = check_floors(
            &medium,
            &inputs,
            "high",
            &[FloorKind::PeerDenial, FloorKind::EmbargoedMilitary],
        );
        assert_eq!(s.score, 61);
        assert_eq!(s.floors[0].band, "medium");
    }

    fn arb_severity() -> impl Strategy<Value = Option<Severity>> {
        prop_oneof![
            Just(None),
            Just(Some(Severity::Low)),
            Just(Some(Severity::Medium)),
            Just(Some(Severity::High)),
            Just(Some(Severity::Critical)),
        ]
    }

    fn arb_touch() -> impl Strategy<Value = RecordTouch> {
        (any::<bool>(), any::<bool>(), 0usize..3, arb_severity()).prop_map(
            |(party, destination, items, severity)| RecordTouch {
                id: "X-D-1".into(),
                severity,
                party: party.then(|| "party".to_owned()),
                destination,
                items: (0..items).map(|i| format!("C{i}")).collect(),
            },
        )
    }

    fn arb_inputs() -> impl Strategy<Value = Inputs> {
        (
            prop::collection::vec((any::<bool>(), 1u8..=3), 0..4),
            prop::sample::select(vec!["DE", "AE", "KP", "RU", "ZZ"]),
            prop::collection::vec(0.0f32..=1.0, 0..4),
            prop::collection::vec(arb_touch(), 0..6),
            prop::collection::vec(arb_touch(), 0..6),
            prop::collection::vec(0u8..3, 0..5),
            0usize..3,
        )
            .prop_map(
                |(items, dest, hits, denials, alerts, checks, waivers)| Inputs {
                    items: items
                        .into_iter()
                        .map(|(mil, tier)| ItemInput {
                            code: "C".into(),
                            category: if mil {
                                Category::Military
                            } else {
                                Category::DualUse
                            },
                            tier,
                        })
                        .collect(),
                    destination: dest.into(),
                    screening: hits
                        .into_iter()
                        .map(|score| ScreeningHit {
                            party: "p".into(),
                            list: "l".into(),
                            source_id: "1".into(),
                            matched_name: "n".into(),
                            score,
                        })
                        .collect(),
                    denials: denials
                        .into_iter()
                        .map(|d| RecordTouch {
                            severity: None,
                            ..d
                        })
                        .collect(),
                    alerts,
                    end_use: checks
                        .into_iter()
                        .map(|r| CheckInput {
                            id: "E".into(),
                            license_id: "L".into(),
                            result: [
                                CheckResult::Pass,
                                CheckResult::Fail,
                                CheckResult::Inconclusive,
                            ][usize::from(r)],
                        })
                        .collect(),
                    waivers: (0..waivers)
                        .map(|_| WaiverInput {
                            id: "W".into(),
                            kind: WaiverKind::UrgentDefense,
                        })
                        .collect(),
                },
            )
    }

    /// Any weights adding up to 100 (six parts), any credit.
    fn arb_methodology() -> impl Strategy<Value = Methodology> {
        (prop::collection::vec(0u32..=100, 5), 0u32..=100, 1u32..=100).prop_map(
            |(cuts, credit, threshold)| {
                let mut cuts = cuts;
                cuts.sort_unstable();
                let mut w = Vec::new();
                let mut last = 0;
                for c in cuts.iter().chain(std::iter::once(&100)) {
                    w.push(c - last);
                    last = *c;
                }
                let mut m = baseline();
                m.weights.item_sensitivity = w[0];
                m.weights.destination = w[1];
                m.weights.screening = w[2];
                m.weights.denials = w[3];
                m.weights.alerts = w[4];
                m.weights.end_use = w[5];
                m.waiver_credit = credit;
                m.review_threshold = threshold;
                m
            },
        )
    }

    proptest! {
        #[test]
        fn contributions_always_add_up_and_stay_in_range(
            m in arb_methodology(),
            inputs in arb_inputs(),
        ) {
            prop_assert!(m.problems().is_empty(), "{:?}", m.problems());
            let s = score(&m, &inputs);
            let sum: i32 = s.factors.iter().map(|f| f.points).sum();
            prop_assert_eq!(sum, s.score as i32);
            prop_assert!(s.score <= 100);
            for f in &s.factors {
                prop_assert!(f.points.unsigned_abs() <= f.max, "{:?}", f);
            }
            // Floors raise the band to the highest floor's, never lower it,
            // and always force review.
            let band = m.bands.rank(&s.band);
            prop_assert!(band >= m.bands.rank(m.bands.of(s.score)), "{:?}", s);
            for f in &s.floors {
                prop_assert!(band >= m.bands.rank(&f.band), "{:?}", s);
            }
            prop_assert_eq!(
                s.needs_review(&m),
                s.score >= m.review_threshold || !s.floors.is_empty()
            );
        }
    }
}
