//! The scoring methodology: the shared baseline shipped in the repository
//! (`node/risk/baseline.toml`, embedded in the binary), or a jurisdiction's
//! own file, with the per-key overrides of `[risk]` in `node.toml` applied on
//! top (national autonomy over a shared baseline). Checked in one pass that
//! reports every bad key, like the rest of the configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::licensing::Category;

/// The shared baseline; its comments document every key.
pub const BASELINE: &str = include_str!("../../risk/baseline.toml");

/// Number of destination tiers (0 = close partner .. 4 = comprehensively sanctioned).
pub const TIERS: usize = 5;

/// A complete methodology, as the baseline file lays it out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Methodology {
    pub name: String,
    pub version: String,
    pub review_threshold: u32,
    pub weights: Weights,
    pub waiver_credit: u32,
    pub items: Vec<ItemClass>,
    pub destinations: Destinations,
    pub screening: ScreeningRule,
    pub denials: TouchRule,
    pub alerts: AlertRule,
    pub end_use: EndUseRule,
    pub bands: Bands,
    /// Facts that put an application in a band whatever its score. A file
    /// written before floors existed gets the baseline's, so upgrading a
    /// national methodology never silently drops them.
    #[serde(default)]
    pub floors: Floors,
}

/// Most points each risk factor can add; they sum to 100.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub item_sensitivity: u32,
    pub destination: u32,
    pub screening: u32,
    pub denials: u32,
    pub alerts: u32,
    pub end_use: u32,
}

impl Weights {
    pub fn named(&self) -> [(&'static str, u32); 6] {
        [
            ("item-sensitivity", self.item_sensitivity),
            ("destination", self.destination),
            ("screening", self.screening),
            ("denials", self.denials),
            ("alerts", self.alerts),
            ("end-use", self.end_use),
        ]
    }

    pub fn total(&self) -> u32 {
        self.named().iter().map(|(_, w)| w).sum()
    }
}

/// One (catalog category, tier) pair translated into a standard risk class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemClass {
    /// `military` or `dual-use`, as in the catalog.
    pub category: String,
    pub tier: u8,
    pub class: String,
    pub percent: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destinations {
    pub default_tier: u8,
    /// Share of the destination weight per tier, index = tier.
    pub percent: Vec<u32>,
    /// Country code → tier.
    pub tiers: BTreeMap<String, u8>,
}

impl Destinations {
    /// The tier of `country` and whether it was listed.
    pub fn tier(&self, country: &str) -> (u8, bool) {
        match self.tiers.get(country) {
            Some(t) => (*t, true),
            None => (self.default_tier, false),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScreeningRule {
    pub match_score: f32,
    pub floor_percent: u32,
}

/// Percentages of a factor's weight by how a record touches an application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TouchRule {
    pub party: u32,
    pub item_and_destination: u32,
    pub destination: u32,
    pub item: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    pub party: u32,
    pub item_and_destination: u32,
    pub destination: u32,
    pub item: u32,
    pub severity: SeverityPercent,
}

impl AlertRule {
    pub fn touch(&self) -> TouchRule {
        TouchRule {
            party: self.party,
            item_and_destination: self.item_and_destination,
            destination: self.destination,
            item: self.item,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityPercent {
    pub low: u32,
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndUseRule {
    pub fail: u32,
    pub inconclusive: u32,
}

/// The lowest score of each standard risk band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bands {
    pub low: u32,
    pub medium: u32,
    pub high: u32,
    pub critical: u32,
}

impl Bands {
    pub fn named(&self) -> [(&'static str, u32); 4] {
        [
            ("low", self.low),
            ("medium", self.medium),
            ("high", self.high),
            ("critical", self.critical),
        ]
    }

    /// The band a score falls in.
    pub fn of(&self, score: u32) -> &'static str {
        self.named()
            .iter()
            .rev()
            .find(|(_, from)| score >= *from)
            .map_or("low", |(name, _)| name)
    }

    /// Position of band `name` in the order `[bands]` lists them; None for
    /// a name that is not a band.
    pub fn rank(&self, name: &str) -> Option<usize> {
        self.named().iter().position(|(n, _)| *n == name)
    }

    /// The higher of two bands; an unknown name never wins, so a floor
    /// naming no band cannot hide the band a score reached.
    pub fn higher<'a>(&self, a: &'a str, b: &'a str) -> &'a str {
        match (self.rank(a), self.rank(b)) {
            (Some(x), Some(y)) if y > x => b,
            (None, Some(_)) => b,
            _ => a,
        }
    }
}

/// The band value that disables a floor.
pub const FLOOR_OFF: &str = "off";

/// Risk floors: facts the weighted sum could under-rate (a listed party, a
/// partner's denial of the same deal, a sanctioned destination, weapons to
/// an embargoed country). Each raises the band to at least its own and
/// forces review; none changes the score. `Default` is the baseline's
/// values; a test keeps `baseline.toml` equal to it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Floors {
    pub strong_match: StrongMatchFloor,
    pub peer_denial: Floor,
    pub top_tier_destination: Floor,
    pub embargoed_military: EmbargoedMilitaryFloor,
}

const DEFAULT_FLOOR_BAND: &str = "high";

/// A floor with nothing to tune but its band.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Floor {
    /// A band name, or `off`.
    pub band: String,
}

impl Default for Floor {
    fn default() -> Self {
        Floor {
            band: DEFAULT_FLOOR_BAND.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StrongMatchFloor {
    pub band: String,
    /// A screening hit at or above this score applies the floor.
    pub score: f32,
}

impl Default for StrongMatchFloor {
    fn default() -> Self {
        StrongMatchFloor {
            band: DEFAULT_FLOOR_BAND.into(),
            score: 0.95,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbargoedMilitaryFloor {
    pub band: String,
    /// Military items to a destination of this tier or above apply the floor.
    pub from_tier: u8,
}

impl Default for EmbargoedMilitaryFloor {
    fn default() -> Self {
        EmbargoedMilitaryFloor {
            band: DEFAULT_FLOOR_BAND.into(),
            from_tier: 3,
        }
    }
}

/// The band a floor forces, None when it is off.
pub fn floor_band(band: &str) -> Option<&str> {
    (band != FLOOR_OFF).then_some(band)
}

/// `[risk]` in `node.toml`: which methodology file, and the keys this
/// jurisdiction sets differently. Absent keys keep the methodology's value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskFile {
    /// A methodology file replacing the shipped baseline (relative paths
    /// resolve against the config file's directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methodology: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_threshold: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver_credit: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_destination_tier: Option<u8>,
    #[serde(skip_serializing_if = "WeightOverrides::is_empty")]
    pub weights: WeightOverrides,
    #[serde(skip_serializing_if = "BandOverrides::is_empty")]
    pub bands: BandOverrides,
    /// Country code → tier, added to or replacing the methodology's.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub destination_tiers: BTreeMap<String, u8>,
    #[serde(skip_serializing_if = "FloorOverrides::is_empty")]
    pub floors: FloorOverrides,
}

impl RiskFile {
    pub fn is_default(&self) -> bool {
        self == &RiskFile::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_sensitivity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screening: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denials: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_use: Option<u32>,
}

impl WeightOverrides {
    pub fn is_empty(&self) -> bool {
        self == &WeightOverrides::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BandOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub critical: Option<u32>,
}

impl BandOverrides {
    pub fn is_empty(&self) -> bool {
        self == &BandOverrides::default()
    }
}

/// `[risk.floors]`: single floor keys this jurisdiction sets differently.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FloorOverrides {
    #[serde(skip_serializing_if = "StrongMatchOverride::is_empty")]
    pub strong_match: StrongMatchOverride,
    #[serde(skip_serializing_if = "BandOverride::is_empty")]
    pub peer_denial: BandOverride,
    #[serde(skip_serializing_if = "BandOverride::is_empty")]
    pub top_tier_destination: BandOverride,
    #[serde(skip_serializing_if = "EmbargoedMilitaryOverride::is_empty")]
    pub embargoed_military: EmbargoedMilitaryOverride,
}

impl FloorOverrides {
    pub fn is_empty(&self) -> bool {
        self == &FloorOverrides::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BandOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
}

impl BandOverride {
    pub fn is_empty(&self) -> bool {
        self == &BandOverride::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StrongMatchOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

impl StrongMatchOverride {
    pub fn is_empty(&self) -> bool {
        self == &StrongMatchOverride::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbargoedMilitaryOverride {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub band: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_tier: Option<u8>,
}

impl EmbargoedMilitaryOverride {
    pub fn is_empty(&self) -> bool {
        self == &EmbargoedMilitaryOverride::default()
    }
}

/// The methodology a node scores with, and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Effective {
    pub methodology: Methodology,
    /// `baseline` or the file's path, plus the overridden keys.
    pub source: String,
}

impl Effective {
    /// The shipped baseline, unchanged.
    pub fn baseline() -> Result<Effective, Vec<String>> {
        Effective::load(&RiskFile::default(), Path::new("."))
    }

    /// Reads the methodology `file` names (or the baseline), applies its
    /// overrides and checks the result. Every problem is returned, each
    /// naming its key.
    pub fn load(file: &RiskFile, base: &Path) -> Result<Effective, Vec<String>> {
        let (text, origin) = match &file.methodology {
            Some(p) => {
                let path = base.join(p);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    vec![format!(
                        "risk.methodology {}: cannot read: {e}",
                        path.display()
                    )]
                })?;
                (text, path.display().to_string())
            }
            None => (BASELINE.to_owned(), "baseline".to_owned()),
        };
        let mut m: Methodology = toml::from_str(&text).map_err(|e| {
            let one_line = e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            vec![format!("risk.methodology {origin}: {one_line}")]
        })?;
        let overridden = apply(&mut m, file);
        let mut problems = m.problems();
        problems.extend(override_problems(file));
        if !problems.is_empty() {
            return Err(problems
                .into_iter()
                .map(|p| format!("risk ({origin}): {p}"))
                .collect());
        }
        let source = if overridden.is_empty() {
            origin
        } else {
            format!("{origin}, overridden: {}", overridden.join(", "))
        };
        Ok(Effective {
            methodology: m,
            source,
        })
    }
}

/// Applies the overrides; returns the keys that were set.
fn apply(m: &mut Methodology, f: &RiskFile) -> Vec<String> {
    let mut set = Vec::new();
    let mut put = |name: &str, from: Option<u32>, to: &mut u32| {
        if let Some(v) = from {
            *to = v;
            set.push(name.to_owned());
        }
    };
    put(
        "review_threshold",
        f.review_threshold,
        &mut m.review_threshold,
    );
    put("waiver_credit", f.waiver_credit, &mut m.waiver_credit);
    let w = &f.weights;
    put(
        "weights.item_sensitivity",
        w.item_sensitivity,
        &mut m.weights.item_sensitivity,
    );
    put(
        "weights.destination",
        w.destination,
        &mut m.weights.destination,
    );
    put("weights.screening", w.screening, &mut m.weights.screening);
    put("weights.denials", w.denials, &mut m.weights.denials);
    put("weights.alerts", w.alerts, &mut m.weights.alerts);
    put("weights.end_use", w.end_use, &mut m.weights.end_use);
    put("bands.medium", f.bands.medium, &mut m.bands.medium);
    put("bands.high", f.bands.high, &mut m.bands.high);
    put("bands.critical", f.bands.critical, &mut m.bands.critical);
    if let Some(s) = f.match_score {
        m.screening.match_score = s;
        set.push("match_score".to_owned());
    }
    if let Some(t) = f.default_destination_tier {
        m.destinations.default_tier = t;
        set.push("default_destination_tier".to_owned());
    }
    for (country, tier) in &f.destination_tiers {
        m.destinations.tiers.insert(country.clone(), *tier);
        set.push(format!("destination_tiers.{country}"));
    }
    set.extend(apply_floors(&mut m.floors, &f.floors));
    set
}

/// Applies `[risk.floors]`; returns the keys that were set.
fn apply_floors(m: &mut Floors, f: &FloorOverrides) -> Vec<String> {
    let mut set = Vec::new();
    let mut band = |name: &str, from: &Option<String>, to: &mut String| {
        if let Some(b) = from {
            to.clone_from(b);
            set.push(format!("floors.{name}.band"));
        }
    };
    band(
        "strong_match",
        &f.strong_match.band,
        &mut m.strong_match.band,
    );
    band("peer_denial", &f.peer_denial.band, &mut m.peer_denial.band);
    band(
        "top_tier_destination",
        &f.top_tier_destination.band,
        &mut m.top_tier_destination.band,
    );
    band(
        "embargoed_military",
        &f.embargoed_military.band,
        &mut m.embargoed_military.band,
    );
    if let Some(s) = f.strong_match.score {
        m.strong_match.score = s;
        set.push("floors.strong_match.score".to_owned());
    }
    if let Some(t) = f.embargoed_military.from_tier {
        m.embargoed_military.from_tier = t;
        set.push("floors.embargoed_military.from_tier".to_owned());
    }
    set
}

/// Problems only the override section can have (its own keys' syntax).
fn override_problems(f: &RiskFile) -> Vec<String> {
    f.destination_tiers
        .keys()
        .filter(|c| !is_country(c))
        .map(|c| format!("destination_tiers.{c}: not a two-letter upper-case country code"))
        .collect()
}

fn is_country(c: &str) -> bool {
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())
}

impl Methodology {
    /// Every inconsistency, each naming its key.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut percent = |key: &str, v: u32| {
            if v > 100 {
                out.push(format!("{key} = {v}: a percentage is at most 100"));
            }
        };
        percent("waiver_credit", self.waiver_credit);
        percent("screening.floor_percent", self.screening.floor_percent);
        for (key, rule) in [("denials", &self.denials), ("alerts", &self.alerts.touch())] {
            percent(&format!("{key}.party"), rule.party);
            percent(
                &format!("{key}.item_and_destination"),
                rule.item_and_destination,
            );
            percent(&format!("{key}.destination"), rule.destination);
            percent(&format!("{key}.item"), rule.item);
        }
        let s = &self.alerts.severity;
        for (name, v) in [
            ("low", s.low),
            ("medium", s.medium),
            ("high", s.high),
            ("critical", s.critical),
        ] {
            percent(&format!("alerts.severity.{name}"), v);
        }
        percent("end_use.fail", self.end_use.fail);
        percent("end_use.inconclusive", self.end_use.inconclusive);
        for (i, p) in self.destinations.percent.iter().enumerate() {
            percent(&format!("destinations.percent[{i}]"), *p);
        }
        for (i, c) in self.items.iter().enumerate() {
            percent(&format!("items[{i}].percent"), c.percent);
        }

        // Naming a party is the closest touch; `risk::touching` keeps a
        // profile's strongest unnamed records on that premise.
        for (key, rule) in [("denials", &self.denials), ("alerts", &self.alerts.touch())] {
            for (touch, v) in [
                ("item_and_destination", rule.item_and_destination),
                ("destination", rule.destination),
                ("item", rule.item),
            ] {
                if rule.party < v {
                    out.push(format!(
                        "{key}.party = {} is below {key}.{touch} = {v}: naming a party is the closest touch",
                        rule.party
                    ));
                }
            }
        }

        if self.name.trim().is_empty() {
            out.push("name: required".into());
        }
        if self.version.trim().is_empty() {
            out.push("version: required".into());
        }
        if !(1..=100).contains(&self.review_threshold) {
            out.push(format!(
                "review_threshold = {}: must be 1 to 100",
                self.review_threshold
            ));
        }
        let total = self.weights.total();
        if total != 100 {
            let parts: Vec<String> = self
                .weights
                .named()
                .iter()
                .map(|(n, w)| format!("{n} {w}"))
                .collect();
            out.push(format!(
                "weights add up to {total}, not 100 ({})",
                parts.join(", ")
            ));
        }
        out.extend(self.item_problems());
        out.extend(self.destination_problems());
        out.extend(self.floor_problems());
        let m = self.screening.match_score;
        if !(m > 0.0 && m <= 1.0) {
            out.push(format!(
                "screening.match_score = {m}: must be above 0 and at most 1"
            ));
        }
        let b = self.bands.named();
        if self.bands.low != 0 {
            out.push(format!("bands.low = {}: must be 0", self.bands.low));
        }
        for pair in b.windows(2) {
            let ((lo_name, lo), (hi_name, hi)) = (pair[0], pair[1]);
            if hi <= lo || hi > 100 {
                out.push(format!(
                    "bands.{hi_name} = {hi}: must be above bands.{lo_name} ({lo}) and at most 100"
                ));
            }
        }
        out
    }

    fn item_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, c) in self.items.iter().enumerate() {
            if c.category.parse::<Category>().is_err() {
                out.push(format!(
                    "items[{i}].category {:?}: not military or dual-use",
                    c.category
                ));
            }
            if !(1..=3).contains(&c.tier) {
                out.push(format!("items[{i}].tier = {}: must be 1, 2 or 3", c.tier));
            }
            if c.class.trim().is_empty() {
                out.push(format!("items[{i}].class: required"));
            }
        }
        for category in Category::ALL {
            for tier in 1..=3u8 {
                let n = self
                    .items
                    .iter()
                    .filter(|c| c.category == category.as_str() && c.tier == tier)
                    .count();
                if n != 1 {
                    out.push(format!(
                        "items: {category} tier {tier} appears {n} times, must appear once"
                    ));
                }
            }
        }
        out
    }

    fn destination_problems(&self) -> Vec<String> {
        let d = &self.destinations;
        let mut out = Vec::new();
        if d.percent.len() != TIERS {
            out.push(format!(
                "destinations.percent: {} entries, must give one per tier 0 to {}",
                d.percent.len(),
                TIERS - 1
            ));
        } else if d.percent.windows(2).any(|w| w[1] < w[0]) {
            out.push("destinations.percent: must not decrease from tier to tier".into());
        }
        if usize::from(d.default_tier) >= TIERS {
            out.push(format!(
                "destinations.default_tier = {}: must be 0 to {}",
                d.default_tier,
                TIERS - 1
            ));
        }
        for (c, t) in &d.tiers {
            if !is_country(c) {
                out.push(format!(
                    "destinations.tiers.{c}: not a two-letter upper-case country code"
                ));
            }
            if usize::from(*t) >= TIERS {
                out.push(format!(
                    "destinations.tiers.{c} = {t}: must be 0 to {}",
                    TIERS - 1
                ));
            }
        }
        out
    }

    fn floor_problems(&self) -> Vec<String> {
        let f = &self.floors;
        let mut out = Vec::new();
        let names: Vec<&str> = self.bands.named().iter().map(|(n, _)| *n).collect();
        for (name, band) in [
            ("strong_match", &f.strong_match.band),
            ("peer_denial", &f.peer_denial.band),
            ("top_tier_destination", &f.top_tier_destination.band),
            ("embargoed_military", &f.embargoed_military.band),
        ] {
            if floor_band(band).is_some_and(|b| self.bands.rank(b).is_none()) {
                out.push(format!(
                    "floors.{name}.band = {band:?}: not a band ({}) or {FLOOR_OFF:?}",
                    names.join(", ")
                ));
            }
        }
        // A floor that is off is not checked further, so a jurisdiction can
        // turn one off without also having to make its other keys agree.
        let s = &f.strong_match;
        let threshold = self.screening.match_score;
        if floor_band(&s.band).is_some() && !(s.score >= threshold && s.score <= 1.0) {
            out.push(format!(
                "floors.strong_match.score = {}: must be at least screening.match_score ({threshold}) and at most 1",
                s.score
            ));
        }
        let e = &f.embargoed_military;
        if floor_band(&e.band).is_some() && usize::from(e.from_tier) >= TIERS {
            out.push(format!(
                "floors.embargoed_military.from_tier = {}: must be 0 to {}",
                e.from_tier,
                TIERS - 1
            ));
        }
        out
    }

    /// The highest destination tier (the last entry of
    /// `destinations.percent`); None when no tier is defined.
    pub fn top_tier(&self) -> Option<u8> {
        let top = self.destinations.percent.len().checked_sub(1)?;
        u8::try_from(top).ok()
    }

    /// The standard class and percentage of a (category, tier) pair; the
    /// methodology was checked to hold every pair.
    pub fn item_class(&self, category: Category, tier: u8) -> (&str, u32) {
        self.items
            .iter()
            .find(|c| c.category == category.as_str() && c.tier == tier)
            .map_or(("unclassified", 100), |c| (c.class.as_str(), c.percent))
    }

    /// The percentage of the destination weight a tier carries.
    pub fn tier_percent(&self, tier: u8) -> u32 {
        self.destinations
            .percent
            .get(usize::from(tier))
            .copied()
            .unwrap_or(100)
    }

    /// `name version`, as assessments record it.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }

    /// The methodology as TOML, for `concord risk methodology --output json`.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(file: RiskFile) -> Result<Effective, Vec<String>> {
        Effective::load(&file, Path::new("."))
    }

    #[test]
    fn the_shipped_baseline_is_consistent() {
        let e = Effective::baseline().unwrap();
        assert_eq!(e.methodology.weights.total(), 100);
        assert_eq!(e.source, "baseline");
        assert_eq!(e.methodology.bands.of(0), "low");
        assert_eq!(e.methodology.bands.of(65), "high");
        assert_eq!(e.methodology.bands.of(100), "critical");
        // It survives a round trip through TOML (what `risk methodology` shows).
        let back: Methodology = toml::from_str(&e.methodology.to_toml()).unwrap();
        assert_eq!(back, e.methodology);
    }

    #[test]
    fn a_jurisdiction_overrides_weights_thresholds_and_tiers() {
        let mut f = RiskFile {
            review_threshold: Some(45),
            ..RiskFile::default()
        };
        f.weights.destination = Some(30);
        f.weights.item_sensitivity = Some(15);
        f.destination_tiers.insert("AE".into(), 4);
        let e = load(f).unwrap();
        assert_eq!(e.methodology.review_threshold, 45);
        assert_eq!(e.methodology.weights.destination, 30);
        assert_eq!(e.methodology.destinations.tier("AE"), (4, true));
        assert!(
            e.source.contains("weights.destination") && e.source.contains("destination_tiers.AE"),
            "{}",
            e.source
        );
    }

    #[test]
    fn every_bad_key_is_reported() {
        let mut f = RiskFile {
            review_threshold: Some(0),
            waiver_credit: Some(150),
            match_score: Some(1.5),
            default_destination_tier: Some(9),
            ..RiskFile::default()
        };
        f.weights.denials = Some(50);
        f.bands.high = Some(20);
        f.destination_tiers.insert("iran".into(), 7);
        let problems = load(f).unwrap_err();
        let text = problems.join("\n");
        for key in [
            "review_threshold",
            "waiver_credit",
            "match_score",
            "default_tier",
            "weights add up to 130",
            "bands.high",
            "destination_tiers.iran",
            "destinations.tiers.iran = 7",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
    }

    #[test]
    fn naming_a_party_may_not_count_less_than_a_destination() {
        let dir = tempfile::tempdir().unwrap();
        let own = BASELINE.replacen("party = 100", "party = 10", 1);
        std::fs::write(dir.path().join("de.toml"), own).unwrap();
        let f = RiskFile {
            methodology: Some("de.toml".into()),
            ..RiskFile::default()
        };
        let problems = match Effective::load(&f, dir.path()) {
            Ok(_) => panic!("a party rated below a destination was accepted"),
            Err(e) => format!("{e:?}"),
        };
        assert!(
            problems.contains("denials.party = 10 is below denials.item_and_destination = 60"),
            "{problems}"
        );
    }

    #[test]
    fn a_national_file_replaces_the_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let own = BASELINE
            .replace("name = \"concord-baseline\"", "name = \"de-national\"")
            .replace("review_threshold = 60", "review_threshold = 70");
        std::fs::write(dir.path().join("de.toml"), own).unwrap();
        let f = RiskFile {
            methodology: Some("de.toml".into()),
            ..RiskFile::default()
        };
        let e = Effective::load(&f, dir.path()).unwrap();
        assert_eq!(e.methodology.label(), "de-national 1.1");
        assert_eq!(e.methodology.review_threshold, 70);
        let missing = RiskFile {
            methodology: Some("nope.toml".into()),
            ..RiskFile::default()
        };
        let err = Effective::load(&missing, dir.path()).unwrap_err();
        assert!(err[0].contains("cannot read"), "{err:?}");
        std::fs::write(dir.path().join("bad.toml"), "name = 1").unwrap();
        let bad = RiskFile {
            methodology: Some("bad.toml".into()),
            ..RiskFile::default()
        };
        assert!(Effective::load(&bad, dir.path()).is_err());
    }

    #[test]
    fn floors_default_to_the_baseline_and_bad_floor_keys_are_named() {
        let baseline = Effective::baseline().unwrap().methodology;
        assert_eq!(baseline.floors, Floors::default());
        assert_eq!(baseline.top_tier(), Some(4));
        // A national file written before floors existed keeps them.
        let dir = tempfile::tempdir().unwrap();
        let (before, _) = BASELINE.split_once("# Risk floors:").unwrap();
        assert!(!before.lines().any(|l| l.starts_with("[floors")));
        std::fs::write(dir.path().join("old.toml"), before).unwrap();
        let old = RiskFile {
            methodology: Some("old.toml".into()),
            ..RiskFile::default()
        };
        let e = Effective::load(&old, dir.path()).unwrap();
        assert_eq!(e.methodology.floors, Floors::default());

        let mut f = RiskFile::default();
        f.floors.peer_denial.band = Some("severe".into());
        f.floors.strong_match.score = Some(0.8);
        f.floors.embargoed_military.from_tier = Some(7);
        let text = load(f).unwrap_err().join("\n");
        for key in [
            "floors.peer_denial.band = \"severe\": not a band",
            "floors.strong_match.score = 0.8: must be at least screening.match_score (0.85)",
            "floors.embargoed_military.from_tier = 7",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
        // Raising match_score above the strong-match score is caught too.
        let above = RiskFile {
            match_score: Some(0.97),
            ..RiskFile::default()
        };
        let text = load(above).unwrap_err().join("\n");
        assert!(text.contains("floors.strong_match.score = 0.95"), "{text}");
        // A floor that is off is not checked further.
        let mut off = RiskFile::default();
        off.floors.strong_match.band = Some("off".into());
        off.floors.strong_match.score = Some(0.5);
        let e = load(off).unwrap();
        assert!(
            e.source.contains("floors.strong_match.band"),
            "{}",
            e.source
        );
        assert!(e.methodology.problems().is_empty());
    }

    #[test]
    fn every_item_pair_must_be_classified_once() {
        let mut m = Effective::baseline().unwrap().methodology;
        m.items.pop();
        m.items.push(m.items[0].clone());
        let text = m.problems().join("\n");
        assert!(text.contains("dual-use tier 3 appears 0 times"), "{text}");
        assert!(text.contains("military tier 1 appears 2 times"), "{text}");
    }
}
