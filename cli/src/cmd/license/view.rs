//! How licenses, their decisions, revisions and screening hits are shown
//! (tables, key/value blocks, JSON), for `license`, `risk` and the review
//! commands.

use concord_proto::v1 as pb;
use serde::Serialize;

use crate::exit::CliError;
use crate::output::{
    key_values, or_dash, print_json, print_text, time_or_never, OutputFormat, Table,
};

#[derive(Debug, Serialize)]
pub struct MoneyOut {
    pub minor_units: i64,
    pub currency: String,
}

#[derive(Debug, Serialize)]
pub struct ItemOut {
    pub code: String,
    pub description: String,
    pub quantity: u64,
    pub value: MoneyOut,
    pub category: String,
    pub tier: u32,
}

#[derive(Debug, Serialize)]
pub struct DecisionOut {
    pub action: String,
    /// Null for the submission.
    pub from: Option<String>,
    pub to: String,
    pub officer: String,
    pub at: String,
    pub rationale: String,
    pub waivers: Vec<String>,
    pub denial_id: Option<String>,
    pub denial_version: Option<u32>,
    /// The risk picture at the moment of the decision.
    pub risk: Option<RiskAtOut>,
    /// A four-eyes decision: when its maker decided, and the second officer.
    pub proposed_at: Option<String>,
    pub countersigned: Option<CountersignOut>,
}

#[derive(Debug, Serialize)]
pub struct RiskAtOut {
    pub score: u32,
    pub band: String,
    pub methodology: String,
    pub assessed_at: String,
    pub factors: Vec<String>,
    pub floors: Vec<String>,
    pub open_hits: Vec<String>,
    pub confirmed_hits: Vec<String>,
    pub four_eyes: Option<String>,
}

impl From<&pb::RiskAtDecision> for RiskAtOut {
    fn from(r: &pb::RiskAtDecision) -> Self {
        RiskAtOut {
            score: r.score,
            band: r.band.clone(),
            methodology: r.methodology.clone(),
            assessed_at: time_or_never(r.assessed_at_unix_ms),
            factors: r.factors.clone(),
            floors: r.floors.clone(),
            open_hits: r.open_hits.iter().map(|h| h.id.clone()).collect(),
            confirmed_hits: r.confirmed_hits.iter().map(|h| h.id.clone()).collect(),
            four_eyes: some(&r.four_eyes),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CountersignOut {
    pub officer: String,
    pub at: String,
    pub rationale: String,
    pub override_rationale: Option<String>,
}

impl From<&pb::Countersignature> for CountersignOut {
    fn from(c: &pb::Countersignature) -> Self {
        CountersignOut {
            officer: c.officer.clone(),
            at: time_or_never(c.at_unix_ms),
            rationale: c.rationale.clone(),
            override_rationale: some(&c.override_rationale),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PendingOut {
    pub action: String,
    pub officer: String,
    pub at: String,
    pub rationale: String,
    pub reason: String,
    pub risk: Option<RiskAtOut>,
}

impl From<&pb::PendingDecision> for PendingOut {
    fn from(p: &pb::PendingDecision) -> Self {
        PendingOut {
            action: p.action.clone(),
            officer: p.officer.clone(),
            at: time_or_never(p.at_unix_ms),
            rationale: p.rationale.clone(),
            reason: p.reason.clone(),
            risk: p.risk.as_ref().map(RiskAtOut::from),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HitOut {
    pub id: String,
    pub status: String,
    pub score: f32,
    pub party_id: String,
    pub role: String,
    pub party_name: String,
    pub list: String,
    pub source_id: String,
    pub issuer: Option<String>,
    pub matched_name: String,
    pub listed_name: String,
    pub entry_changed: bool,
    pub disposed_by: Option<String>,
    pub disposed_at: Option<String>,
    pub disposed_on: Option<String>,
    pub disposition_rationale: Option<String>,
}

impl From<&pb::ApplicationHit> for HitOut {
    fn from(h: &pb::ApplicationHit) -> Self {
        HitOut {
            id: h.id.clone(),
            status: h.status.clone(),
            score: h.score,
            party_id: h.party_id.clone(),
            role: h.role.clone(),
            party_name: h.party_name.clone(),
            list: h.list.clone(),
            source_id: h.source_id.clone(),
            issuer: some(&h.issuer),
            matched_name: h.matched_name.clone(),
            listed_name: h.listed_name.clone(),
            entry_changed: h.entry_changed,
            disposed_by: some(&h.disposed_by),
            disposed_at: (h.disposed_at_unix_ms != 0).then(|| time_or_never(h.disposed_at_unix_ms)),
            disposed_on: some(&h.disposed_on),
            disposition_rationale: some(&h.disposition_rationale),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TermsOut {
    pub valid_from: String,
    pub valid_until: String,
    pub conditions: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BalanceOut {
    pub code: String,
    pub licensed_quantity: u64,
    pub shipped_quantity: u64,
    pub remaining_quantity: u64,
    pub licensed_value: MoneyOut,
    pub shipped_value: MoneyOut,
    pub remaining_value: MoneyOut,
}

#[derive(Debug, Serialize)]
pub struct RevisionOut {
    pub revision: u32,
    pub applicant: String,
    pub end_user: String,
    pub consignee: String,
    pub intermediaries: Vec<String>,
    pub destination: String,
    pub end_use: String,
    pub items: Vec<String>,
    pub replaced_at: String,
    pub replaced_by: String,
    pub rationale: String,
}

#[derive(Debug, Serialize)]
pub struct FlagOut {
    pub at: String,
    pub by: String,
    pub reason: String,
    pub shipment: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LicenseOut {
    pub id: String,
    pub state: String,
    pub applicant: String,
    pub end_user: String,
    pub consignee: String,
    pub intermediaries: Vec<String>,
    pub destination: String,
    pub end_use: String,
    pub items: Vec<ItemOut>,
    pub catalog_version: u32,
    pub submitted_at: String,
    pub submitted_by: String,
    pub updated_at: String,
    pub denial_id: Option<String>,
    /// Waivers covering the application now.
    pub matching_waivers: Vec<String>,
    pub history: Vec<DecisionOut>,
    pub revision: u32,
    pub revisions: Vec<RevisionOut>,
    /// A decision waiting for a second officer.
    pub pending: Option<PendingOut>,
    pub rejected: Vec<RejectedOut>,
    pub terms: Option<TermsOut>,
    /// Shipped and remaining per item.
    pub balances: Vec<BalanceOut>,
    pub review_flags: Vec<FlagOut>,
    /// Screening hits from the latest assessment.
    pub hits: Vec<HitOut>,
    pub open_hits: u32,
}

#[derive(Debug, Serialize)]
pub struct RejectedOut {
    pub decision: Option<PendingOut>,
    pub rejected: Option<CountersignOut>,
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl From<&pb::License> for LicenseOut {
    fn from(l: &pb::License) -> Self {
        LicenseOut {
            id: l.id.clone(),
            state: l.state.clone(),
            applicant: l.applicant.clone(),
            end_user: l.end_user.clone(),
            consignee: l.consignee.clone(),
            intermediaries: l.intermediaries.clone(),
            destination: l.destination.clone(),
            end_use: l.end_use.clone(),
            items: l
                .items
                .iter()
                .map(|i| {
                    let v = i.value.clone().unwrap_or_default();
                    ItemOut {
                        code: i.code.clone(),
                        description: i.description.clone(),
                        quantity: i.quantity,
                        value: MoneyOut {
                            minor_units: v.minor_units,
                            currency: v.currency,
                        },
                        category: i.category.clone(),
                        tier: i.tier,
                    }
                })
                .collect(),
            catalog_version: l.catalog_version,
            submitted_at: time_or_never(l.submitted_at_unix_ms),
            submitted_by: l.submitted_by.clone(),
            updated_at: time_or_never(l.updated_at_unix_ms),
            denial_id: some(&l.denial_id),
            matching_waivers: l.matching_waivers.clone(),
            history: l
                .history
                .iter()
                .map(|d| DecisionOut {
                    action: d.action.clone(),
                    from: some(&d.from_state),
                    to: d.to_state.clone(),
                    officer: d.officer.clone(),
                    at: time_or_never(d.at_unix_ms),
                    rationale: d.rationale.clone(),
                    waivers: d.waivers.clone(),
                    denial_id: some(&d.denial_id),
                    denial_version: (!d.denial_id.is_empty()).then_some(d.denial_version),
                    risk: d.risk.as_ref().map(RiskAtOut::from),
                    proposed_at: (d.proposed_at_unix_ms != 0)
                        .then(|| time_or_never(d.proposed_at_unix_ms)),
                    countersigned: d.countersigned.as_ref().map(CountersignOut::from),
                })
                .collect(),
            revision: l.revision,
            revisions: l
                .revisions
                .iter()
                .map(|r| RevisionOut {
                    revision: r.revision,
                    applicant: r.applicant.clone(),
                    end_user: r.end_user.clone(),
                    consignee: r.consignee.clone(),
                    intermediaries: r.intermediaries.clone(),
                    destination: r.destination.clone(),
                    end_use: r.end_use.clone(),
                    items: r
                        .items
                        .iter()
                        .map(|i| format!("{} x{}", i.code, i.quantity))
                        .collect(),
                    replaced_at: time_or_never(r.replaced_at_unix_ms),
                    replaced_by: r.replaced_by.clone(),
                    rationale: r.rationale.clone(),
                })
                .collect(),
            pending: l.pending.as_ref().map(PendingOut::from),
            rejected: l
                .rejected
                .iter()
                .map(|r| RejectedOut {
                    decision: r.decision.as_ref().map(PendingOut::from),
                    rejected: r.rejected.as_ref().map(CountersignOut::from),
                })
                .collect(),
            terms: l.terms.as_ref().map(|t| TermsOut {
                valid_from: time_or_never(t.valid_from_unix_ms),
                valid_until: time_or_never(t.valid_until_unix_ms),
                conditions: t.conditions.clone(),
            }),
            balances: l
                .balances
                .iter()
                .map(|b| {
                    let v = b.licensed_value.clone().unwrap_or_default();
                    let m = |minor_units| MoneyOut {
                        minor_units,
                        currency: v.currency.clone(),
                    };
                    BalanceOut {
                        code: b.code.clone(),
                        licensed_quantity: b.licensed_quantity,
                        shipped_quantity: b.shipped_quantity,
                        remaining_quantity: b.remaining_quantity,
                        licensed_value: m(v.minor_units),
                        shipped_value: m(b.shipped_value_minor_units),
                        remaining_value: m(b.remaining_value_minor_units),
                    }
                })
                .collect(),
            review_flags: l
                .review_flags
                .iter()
                .map(|f| FlagOut {
                    at: time_or_never(f.at_unix_ms),
                    by: f.by.clone(),
                    reason: f.reason.clone(),
                    shipment: some(&f.shipment),
                })
                .collect(),
            hits: l.hits.iter().map(HitOut::from).collect(),
            open_hits: l.open_hits,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LicenseList {
    pub licenses: Vec<LicenseOut>,
}

pub fn print_license(done: &str, l: &pb::License, output: OutputFormat) -> Result<(), CliError> {
    let out = LicenseOut::from(l);
    match output {
        OutputFormat::Json => print_json(&out),
        OutputFormat::Table => {
            let mut text = format!("{done} {} (now {})\n", out.id, out.state);
            if let Some(p) = &out.pending {
                text.push_str(&format!(
                    "Pending countersignature: {} by {} ({}). Another officer runs: \
                     concord license countersign {} --rationale T\n",
                    p.action, p.officer, p.reason, out.id
                ));
            }
            if out.open_hits > 0 {
                text.push_str(&format!(
                    "Open screening hits: {} (concord license show {} lists them)\n",
                    out.open_hits, out.id
                ));
            }
            if let Some(last) = out.history.last() {
                if let Some(d) = &last.denial_id {
                    let verb = if last.action == "deny" {
                        "issued"
                    } else {
                        "revoked"
                    };
                    text.push_str(&format!(
                        "Denial notice {d} {verb} (version {})\n",
                        last.denial_version.unwrap_or(0)
                    ));
                }
                if !last.waivers.is_empty() {
                    text.push_str(&format!("Matching waivers: {}\n", last.waivers.join(", ")));
                }
            }
            print_text(&text)
        }
    }
}

/// Decimal places of a currency's minor unit (ISO 4217); 2 unless listed.
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Money in minor units as people write it: `1250.05 EUR`, `1250 JPY`.
fn money(m: &MoneyOut) -> String {
    let digits = minor_digits(&m.currency);
    if digits == 0 {
        return format!("{} {}", m.minor_units, m.currency);
    }
    let scale = 10i64.pow(digits);
    format!(
        "{}.{:0width$} {}",
        m.minor_units / scale,
        m.minor_units % scale,
        m.currency,
        width = digits as usize
    )
}

pub fn render_license(
    l: &LicenseOut,
    names: &std::collections::BTreeMap<String, String>,
) -> String {
    let named = |id: &str| match names.get(id) {
        Some(n) => format!("{id}  {n}"),
        None => id.to_owned(),
    };
    let intermediaries: Vec<String> = l.intermediaries.iter().map(|i| named(i)).collect();
    let mut out = key_values(
        &format!("License {}", l.id),
        &[
            ("state", l.state.clone()),
            ("applicant", named(&l.applicant)),
            ("end user", named(&l.end_user)),
            ("consignee", named(&l.consignee)),
            ("intermediaries", or_dash(&intermediaries.join(", "))),
            ("destination", l.destination.clone()),
            ("end use", l.end_use.replace('\n', " ")),
            ("catalog version", l.catalog_version.to_string()),
            (
                "submitted",
                format!("{} by {}", l.submitted_at, l.submitted_by),
            ),
            (
                "denial notice",
                l.denial_id.clone().unwrap_or_else(|| "-".into()),
            ),
            ("waivers now", or_dash(&l.matching_waivers.join(", "))),
        ],
    );
    out.push_str("\nItems\n");
    let mut items = Table::new(["CODE", "CATEGORY", "TIER", "QTY", "VALUE", "DESCRIPTION"]);
    for i in &l.items {
        items.row([
            i.code.clone(),
            i.category.clone(),
            i.tier.to_string(),
            i.quantity.to_string(),
            money(&i.value),
            or_dash(&i.description),
        ]);
    }
    out.push_str(&items.render());
    out.push_str("\nHistory\n");
    let mut history = Table::new([
        "AT",
        "ACTION",
        "STATE",
        "OFFICER",
        "WAIVERS",
        "DENIAL",
        "RATIONALE",
    ]);
    for d in &l.history {
        let state = match &d.from {
            Some(from) => format!("{from} -> {}", d.to),
            None => d.to.clone(),
        };
        let denial = match (&d.denial_id, d.denial_version) {
            (Some(id), Some(v)) => format!("{id} v{v}"),
            _ => "-".into(),
        };
        history.row([
            d.at.clone(),
            d.action.clone(),
            state,
            d.officer.clone(),
            or_dash(&d.waivers.join(",")),
            denial,
            or_dash(&d.rationale),
        ]);
    }
    out.push_str(&history.render());
    for d in &l.history {
        if let Some(r) = &d.risk {
            out.push_str(&format!(
                "{} {} at {}: risk {} ({}){}{}{}\n",
                d.action,
                d.officer,
                d.at,
                r.score,
                r.band,
                if r.floors.is_empty() {
                    String::new()
                } else {
                    format!("; floors: {}", r.floors.join("; "))
                },
                if r.confirmed_hits.is_empty() {
                    String::new()
                } else {
                    format!("; confirmed matches {}", r.confirmed_hits.join(", "))
                },
                match &d.countersigned {
                    Some(c) => format!(
                        "; countersigned by {} at {}: {}{}",
                        c.officer,
                        c.at,
                        c.rationale,
                        c.override_rationale
                            .as_ref()
                            .map(|o| format!("; override: {o}"))
                            .unwrap_or_default()
                    ),
                    None => String::new(),
                }
            ));
        }
    }
    if let Some(p) = &l.pending {
        out.push_str(&format!(
            "\nPending countersignature: {} by {} at {} ({}): {}\n",
            p.action, p.officer, p.at, p.reason, p.rationale
        ));
    }
    for r in &l.rejected {
        if let (Some(d), Some(c)) = (&r.decision, &r.rejected) {
            out.push_str(&format!(
                "Rejected: {} by {} at {}, rejected by {} at {}: {}\n",
                d.action, d.officer, d.at, c.officer, c.at, c.rationale
            ));
        }
    }
    if let Some(t) = &l.terms {
        out.push_str(&format!(
            "\nTerms: valid {} to {}; conditions: {}\n",
            t.valid_from,
            t.valid_until,
            or_dash(&t.conditions.join("; "))
        ));
    }
    if !l.balances.is_empty() && l.terms.is_some() {
        out.push_str("\nShipped\n");
        let mut t = Table::new([
            "CODE",
            "LICENSED",
            "SHIPPED",
            "REMAINING",
            "VALUE REMAINING",
        ]);
        for b in &l.balances {
            t.row([
                b.code.clone(),
                b.licensed_quantity.to_string(),
                b.shipped_quantity.to_string(),
                b.remaining_quantity.to_string(),
                money(&b.remaining_value),
            ]);
        }
        out.push_str(&t.render());
    }
    for f in &l.review_flags {
        out.push_str(&format!(
            "Flagged for review at {} by {}: {}\n",
            f.at, f.by, f.reason
        ));
    }
    if l.revision > 1 {
        out.push_str(&format!(
            "\nRevision {} (earlier: {})\n",
            l.revision,
            l.revisions.len()
        ));
        for r in &l.revisions {
            out.push_str(&format!(
                "  r{} replaced {} by {}: {} (was to {}, items {})\n",
                r.revision,
                r.replaced_at,
                r.replaced_by,
                r.rationale,
                r.destination,
                r.items.join(", ")
            ));
        }
    }
    out.push_str("\nScreening hits\n");
    out.push_str(&hits_table(&l.hits));
    if l.open_hits > 0 {
        out.push_str(&format!(
            "Dispose: concord license dispose {} HIT --false-positive|--confirmed --rationale T\n",
            l.id
        ));
    }
    out
}

/// The hits of an application, as `license show` and `license dispose` print them.
pub fn hits_table(hits: &[HitOut]) -> String {
    if hits.is_empty() {
        return "No screening hit.\n".to_owned();
    }
    let mut t = Table::new(["HIT", "STATUS", "SCORE", "ROLE", "MATCHED", "DISPOSED"]);
    for h in hits {
        t.row([
            h.id.clone(),
            if h.entry_changed {
                format!("{} (entry changed)", h.status)
            } else {
                h.status.clone()
            },
            format!("{:.2}", h.score),
            h.role.clone(),
            format!("{:?} ~ {:?}", h.party_name, h.matched_name),
            match (&h.disposed_by, &h.disposed_on) {
                (Some(by), on) => format!(
                    "{by}{}: {}",
                    on.as_ref().map(|o| format!(" on {o}")).unwrap_or_default(),
                    h.disposition_rationale.clone().unwrap_or_default()
                ),
                (None, _) => "-".into(),
            },
        ]);
    }
    t.render()
}

pub fn license_table(licenses: &[LicenseOut]) -> String {
    let mut t = Table::new([
        "ID",
        "STATE",
        "APPLICANT",
        "END USER",
        "DEST",
        "ITEMS",
        "UPDATED",
        "DENIAL",
        "HITS",
        "PENDING",
    ]);
    for l in licenses {
        let codes: Vec<&str> = l.items.iter().map(|i| i.code.as_str()).collect();
        t.row([
            l.id.clone(),
            l.state.clone(),
            l.applicant.clone(),
            l.end_user.clone(),
            l.destination.clone(),
            codes.join(","),
            l.updated_at.clone(),
            l.denial_id.clone().unwrap_or_else(|| "-".into()),
            if l.open_hits > 0 {
                format!("{} open", l.open_hits)
            } else {
                "-".into()
            },
            l.pending
                .as_ref()
                .map(|p| format!("{} by {}", p.action, p.officer))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    t.render()
}

#[derive(Debug, Serialize)]
pub struct DistributionOut {
    pub to: Vec<String>,
    pub groups: Vec<String>,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

impl From<&pb::DenialDistribution> for DistributionOut {
    fn from(d: &pb::DenialDistribution) -> Self {
        let dist = d.distribution.clone().unwrap_or_default();
        DistributionOut {
            to: dist.to,
            groups: dist.groups,
            updated_at: crate::output::rfc3339(d.updated_at_unix_ms),
            updated_by: some(&d.updated_by),
        }
    }
}

impl DistributionOut {
    pub fn render(&self) -> String {
        if self.to.is_empty() && self.groups.is_empty() {
            return "No default denial distribution: deny decisions must name --to/--group.\n"
                .to_owned();
        }
        key_values(
            "Default denial distribution",
            &[
                ("to", or_dash(&self.to.join(", "))),
                ("groups", or_dash(&self.groups.join(", "))),
                (
                    "set",
                    format!(
                        "{} by {}",
                        self.updated_at.as_deref().unwrap_or("-"),
                        self.updated_by.as_deref().unwrap_or("-")
                    ),
                ),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_shows_minor_units_as_decimals() {
        let m = MoneyOut {
            minor_units: 125_005,
            currency: "EUR".into(),
        };
        assert_eq!(money(&m), "1250.05 EUR");
        let yen = MoneyOut {
            minor_units: 125_005,
            currency: "JPY".into(),
        };
        assert_eq!(money(&yen), "125005 JPY");
        let dinar = MoneyOut {
            minor_units: 1_005,
            currency: "KWD".into(),
        };
        assert_eq!(money(&dinar), "1.005 KWD");
    }
}
