//! Risk floors: facts that put an application at least in a band and flag it
//! for review whatever its weighted score (baseline.toml `[floors]`). Pure,
//! like the score; a floor never changes the points, only the band.

use serde::{Deserialize, Serialize};

use super::{Inputs, ScreeningHit};
use crate::licensing::Category;
use crate::risk::methodology::{floor_band, Methodology};

/// The floors, in the order an assessment lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FloorKind {
    StrongMatch,
    PeerDenial,
    TopTierDestination,
    EmbargoedMilitary,
}

impl FloorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FloorKind::StrongMatch => "strong-match",
            FloorKind::PeerDenial => "peer-denial",
            FloorKind::TopTierDestination => "top-tier-destination",
            FloorKind::EmbargoedMilitary => "embargoed-military",
        }
    }
}

/// A floor that applied to an application, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedFloor {
    pub kind: FloorKind,
    /// The band the application is at least in.
    pub band: String,
    /// Why, for the officer: the fact, the rule, the band.
    pub reason: String,
    /// Ids of what applied it: list entries as `list:source_id`, denial
    /// notice ids, the destination, item codes.
    pub evidence: Vec<String>,
}

/// Every floor of `m` that `inputs` meet.
pub(super) fn applied(m: &Methodology, inputs: &Inputs) -> Vec<AppliedFloor> {
    [
        strong_match(m, &inputs.screening),
        peer_denial(m, inputs),
        top_tier_destination(m, &inputs.destination),
        embargoed_military(m, inputs),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn floor(kind: FloorKind, band: &str, why: String, evidence: Vec<String>) -> AppliedFloor {
    AppliedFloor {
        kind,
        band: band.to_owned(),
        reason: format!("{why}: at least {band}"),
        evidence,
    }
}

fn strong_match(m: &Methodology, hits: &[ScreeningHit]) -> Option<AppliedFloor> {
    let rule = &m.floors.strong_match;
    let band = floor_band(&rule.band)?;
    let strong: Vec<&ScreeningHit> = hits.iter().filter(|h| h.score >= rule.score).collect();
    let best = strong.iter().max_by(|a, b| a.score.total_cmp(&b.score))?;
    let more = match strong.len() - 1 {
        0 => String::new(),
        n => format!("; {n} more strong match(es)"),
    };
    Some(floor(
        FloorKind::StrongMatch,
        band,
        format!(
            "{} matches {} {} at {:.2} (strong match ≥ {:.2}){more}",
            best.party, best.list, best.source_id, best.score, rule.score
        ),
        strong
            .iter()
            .map(|h| format!("{}:{}", h.list, h.source_id))
            .collect(),
    ))
}

fn peer_denial(m: &Methodology, inputs: &Inputs) -> Option<AppliedFloor> {
    let band = floor_band(&m.floors.peer_denial.band)?;
    let mut why = Vec::new();
    let mut evidence = Vec::new();
    for d in &inputs.denials {
        let how = if let Some(party) = &d.party {
            format!("names {party}")
        } else if d.destination && !d.items.is_empty() {
            format!(
                "has the same destination {} and item {}",
                inputs.destination,
                d.items.join(",")
            )
        } else {
            // Only the destination or only an item: common to many honest
            // applications, so left to the weights.
            continue;
        };
        why.push(format!("denial notice {} {how}", d.id));
        evidence.push(d.id.clone());
    }
    if why.is_empty() {
        return None;
    }
    Some(floor(FloorKind::PeerDenial, band, why.join("; "), evidence))
}

fn top_tier_destination(m: &Methodology, country: &str) -> Option<AppliedFloor> {
    let band = floor_band(&m.floors.top_tier_destination.band)?;
    let top = m.top_tier()?;
    let (tier, listed) = m.destinations.tier(country);
    if tier < top {
        return None;
    }
    let how = if listed {
        ""
    } else {
        " (not listed: default tier)"
    };
    Some(floor(
        FloorKind::TopTierDestination,
        band,
        format!("destination {country} is tier {tier}{how}, the highest destination tier"),
        vec![country.to_owned()],
    ))
}

fn embargoed_military(m: &Methodology, inputs: &Inputs) -> Option<AppliedFloor> {
    let rule = &m.floors.embargoed_military;
    let band = floor_band(&rule.band)?;
    let (tier, _) = m.destinations.tier(&inputs.destination);
    if tier < rule.from_tier {
        return None;
    }
    let mut codes: Vec<String> = Vec::new();
    for i in inputs
        .items
        .iter()
        .filter(|i| i.category == Category::Military)
    {
        if !codes.contains(&i.code) {
            codes.push(i.code.clone());
        }
    }
    if codes.is_empty() {
        return None;
    }
    let noun = if codes.len() == 1 { "item" } else { "items" };
    Some(floor(
        FloorKind::EmbargoedMilitary,
        band,
        format!(
            "military {noun} {} to {}, a tier {tier} destination (military items to tier {} or above)",
            codes.join(", "),
            inputs.destination,
            rule.from_tier
        ),
        codes,
    ))
}
