//! Conversions for the licensing service: wire requests → domain drafts
//! (bad fields are `InvalidArgument`), domain records → wire records.

use concord_proto::v1 as pb;

use crate::error::Error;
use crate::licensing::review::Countersignature;
use crate::licensing::{
    Amendment, HitNote, ItemBalance, PendingDecision, Revision, RiskSnapshot, ShippedItem,
    TermsDraft,
};
use crate::licensing::{
    Application, CatalogEntry, CatalogVersion, Category, CheckDraft, CheckResult, Decision,
    DenialDefaults, Disclosure, EndUseCheck, Identifier, ItemDraft, License, LicenseItem, Money,
    Party, PartyDraft, Shipment, ShipmentDraft, SourcedEntry, Waiver, WaiverDraft, WaiverKind,
};
use crate::risk::Hit;

fn invalid(field: &str, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{field}: {e}"))
}

/// Upper-cased, trimmed country or currency code.
fn code_upper(s: &str) -> String {
    s.trim().to_uppercase()
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn opt_ms(ms: i64) -> Option<i64> {
    (ms != 0).then_some(ms)
}

pub fn limit(n: u32) -> Option<usize> {
    (n != 0).then_some(n as usize)
}

pub fn parse<T: std::str::FromStr<Err = String>>(field: &str, value: &str) -> Result<T, Error> {
    value.trim().parse::<T>().map_err(|e| invalid(field, e))
}

pub fn opt_parse<T: std::str::FromStr<Err = String>>(
    field: &str,
    value: &str,
) -> Result<Option<T>, Error> {
    opt(value).map(|v| parse(field, &v)).transpose()
}

// ---- catalog ---------------------------------------------------------------

/// Streamed catalog entries as domain entries, or the refusal naming every
/// problem (by source line where the client sent it).
pub fn catalog_entries_in(raw: Vec<pb::CatalogEntry>) -> Result<Vec<SourcedEntry>, Error> {
    let mut problems = Vec::new();
    let mut entries = Vec::with_capacity(raw.len());
    for (i, e) in raw.into_iter().enumerate() {
        let at = if e.source_line > 0 {
            format!("line {}", e.source_line)
        } else {
            format!("entry {}", i + 1)
        };
        let category = e.category.trim().parse::<Category>().unwrap_or_else(|err| {
            problems.push(format!("{at}: category: {err}"));
            Category::Military
        });
        entries.push(SourcedEntry {
            line: e.source_line,
            entry: CatalogEntry {
                code: e.code.trim().to_owned(),
                title: e.title.trim().to_owned(),
                category,
                tier: u8::try_from(e.tier).unwrap_or(u8::MAX),
                rationale: e.rationale.trim().to_owned(),
            },
        });
    }
    problems.extend(crate::licensing::import_problems(&entries));
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(crate::licensing::refusal(&problems))
    }
}

pub fn catalog_entry_out(e: &CatalogEntry) -> pb::CatalogEntry {
    pb::CatalogEntry {
        code: e.code.clone(),
        title: e.title.clone(),
        category: e.category.to_string(),
        tier: u32::from(e.tier),
        rationale: e.rationale.clone(),
        source_line: 0,
    }
}

pub fn catalog_version_out(v: &CatalogVersion) -> pb::CatalogVersion {
    pb::CatalogVersion {
        version: v.version,
        imported_at_unix_ms: v.imported_at_unix_ms,
        actor: v.actor.clone(),
        source: v.source.clone(),
        entries: v.entries,
    }
}

// ---- parties ---------------------------------------------------------------

pub fn party_update(r: pb::UpdatePartyRequest) -> (String, PartyDraft, String) {
    let draft = party_draft(pb::CreatePartyRequest {
        name: r.name,
        aliases: r.aliases,
        country: r.country,
        address: r.address,
        identifiers: r.identifiers,
        allow_similar: false,
    });
    (r.id.trim().to_owned(), draft, r.rationale)
}

pub fn party_draft(r: pb::CreatePartyRequest) -> PartyDraft {
    PartyDraft {
        name: r.name.trim().to_owned(),
        aliases: r.aliases.into_iter().map(|a| a.trim().to_owned()).collect(),
        country: code_upper(&r.country),
        address: r.address.trim().to_owned(),
        identifiers: r
            .identifiers
            .into_iter()
            .map(|i| Identifier {
                kind: i.kind.trim().to_lowercase(),
                value: i.value.trim().to_owned(),
            })
            .collect(),
    }
}

pub fn party_out(p: &Party) -> pb::PartyRecord {
    pb::PartyRecord {
        id: p.id.clone(),
        name: p.name.clone(),
        aliases: p.aliases.clone(),
        country: p.country.clone(),
        address: p.address.clone(),
        identifiers: identifiers_out(&p.identifiers),
        created_at_unix_ms: p.created_at_unix_ms,
        created_by: p.created_by.clone(),
        revision: p.revision,
        history: p
            .history
            .iter()
            .map(|v| pb::PartyVersion {
                revision: v.revision,
                name: v.name.clone(),
                aliases: v.aliases.clone(),
                country: v.country.clone(),
                address: v.address.clone(),
                identifiers: identifiers_out(&v.identifiers),
                replaced_at_unix_ms: v.replaced_at_unix_ms,
                replaced_by: v.replaced_by.clone(),
                rationale: v.rationale.clone(),
            })
            .collect(),
    }
}

fn identifiers_out(identifiers: &[Identifier]) -> Vec<pb::PartyIdentifier> {
    identifiers
        .iter()
        .map(|i| pb::PartyIdentifier {
            kind: i.kind.clone(),
            value: i.value.clone(),
        })
        .collect()
}

pub fn party_filter(r: &pb::ListPartiesRequest) -> crate::licensing::PartyFilter {
    crate::licensing::PartyFilter {
        name: opt(&r.name),
        country: opt(&r.country).map(|c| c.to_uppercase()),
        limit: limit(r.limit),
    }
}

// ---- licenses --------------------------------------------------------------

fn items_in(items: Vec<pb::LicenseItem>) -> Vec<ItemDraft> {
    items
        .into_iter()
        .map(|i| ItemDraft {
            code: i.code.trim().to_owned(),
            description: i.description,
            quantity: i.quantity,
            value: money_in(i.value),
        })
        .collect()
}

fn money_in(m: Option<pb::Money>) -> Money {
    let m = m.unwrap_or_default();
    Money {
        minor_units: m.minor_units,
        currency: code_upper(&m.currency),
    }
}

fn money_out(m: &Money) -> pb::Money {
    pb::Money {
        minor_units: m.minor_units,
        currency: m.currency.clone(),
    }
}

pub fn amendment(r: pb::AmendLicenseRequest) -> (String, Amendment, String) {
    let change = Amendment {
        applicant: opt(&r.applicant),
        items: (!r.items.is_empty()).then(|| items_in(r.items)),
        end_user: opt(&r.end_user),
        consignee: opt(&r.consignee),
        intermediaries: r.set_intermediaries.then(|| {
            r.intermediaries
                .iter()
                .map(|i| i.trim().to_owned())
                .collect()
        }),
        destination: opt(&r.destination).map(|d| d.to_uppercase()),
        end_use: (!r.end_use.trim().is_empty()).then_some(r.end_use),
    };
    (r.id.trim().to_owned(), change, r.rationale)
}

pub fn terms_draft(r: &pb::DecideLicenseRequest) -> TermsDraft {
    TermsDraft {
        valid_from_unix_ms: opt_ms(r.valid_from_unix_ms),
        valid_until_unix_ms: opt_ms(r.valid_until_unix_ms),
        conditions: r.conditions.iter().map(|c| c.trim().to_owned()).collect(),
    }
}

pub fn application(r: pb::SubmitLicenseRequest) -> Application {
    Application {
        applicant: r.applicant.trim().to_owned(),
        items: items_in(r.items),
        end_user: r.end_user.trim().to_owned(),
        consignee: r.consignee.trim().to_owned(),
        intermediaries: r
            .intermediaries
            .into_iter()
            .map(|i| i.trim().to_owned())
            .collect(),
        destination: code_upper(&r.destination),
        end_use: r.end_use,
    }
}

fn item_out(i: &LicenseItem) -> pb::LicenseItem {
    pb::LicenseItem {
        code: i.code.clone(),
        description: i.description.clone(),
        quantity: i.quantity,
        value: Some(pb::Money {
            minor_units: i.value.minor_units,
            currency: i.value.currency.clone(),
        }),
        category: i.category.to_string(),
        tier: u32::from(i.tier),
    }
}

fn decision_out(d: &Decision) -> pb::LicenseDecision {
    let (denial_id, denial_version) = d.denial.clone().unwrap_or_default();
    pb::LicenseDecision {
        action: d.action.to_string(),
        from_state: d.from.map(|s| s.to_string()).unwrap_or_default(),
        to_state: d.to.to_string(),
        officer: d.officer.clone(),
        at_unix_ms: d.at_unix_ms,
        rationale: d.rationale.clone(),
        waivers: d.waivers.clone(),
        denial_id,
        denial_version,
        risk: d
            .reviewed
            .as_ref()
            .and_then(|r| r.risk.as_ref())
            .map(risk_out),
        proposed_at_unix_ms: d
            .reviewed
            .as_ref()
            .and_then(|r| r.proposed_at_unix_ms)
            .unwrap_or_default(),
        countersigned: d
            .reviewed
            .as_ref()
            .and_then(|r| r.countersigned.as_ref())
            .map(countersignature_out),
    }
}

fn note_out(h: &HitNote) -> pb::HitNote {
    pb::HitNote {
        id: h.id.clone(),
        description: h.description.clone(),
    }
}

pub fn risk_out(r: &RiskSnapshot) -> pb::RiskAtDecision {
    pb::RiskAtDecision {
        score: r.score,
        band: r.band.clone(),
        methodology: r.methodology.clone(),
        assessed_at_unix_ms: r.assessed_at_unix_ms,
        factors: r.factors.clone(),
        floors: r.floors.clone(),
        open_hits: r.open_hits.iter().map(note_out).collect(),
        confirmed_hits: r.confirmed_hits.iter().map(note_out).collect(),
        four_eyes: r.four_eyes.clone().unwrap_or_default(),
    }
}

fn countersignature_out(c: &Countersignature) -> pb::Countersignature {
    pb::Countersignature {
        officer: c.officer.clone(),
        at_unix_ms: c.at_unix_ms,
        rationale: c.rationale.clone(),
        override_rationale: c.override_rationale.clone(),
    }
}

fn pending_out(p: &PendingDecision) -> pb::PendingDecision {
    pb::PendingDecision {
        action: p.action.to_string(),
        officer: p.officer.clone(),
        at_unix_ms: p.at_unix_ms,
        rationale: p.rationale.clone(),
        risk: Some(risk_out(&p.risk)),
        reason: p.reason.clone(),
    }
}

pub fn hit_out(h: &Hit) -> pb::ApplicationHit {
    let d = h.disposition.as_ref();
    pb::ApplicationHit {
        id: h.id.clone(),
        party_id: h.party_id.clone(),
        role: h.role.clone(),
        party_name: h.party_name.clone(),
        list: h.list.clone(),
        source_id: h.source_id.clone(),
        issuer: h.issuer.clone(),
        matched_name: h.matched_name.clone(),
        listed_name: h.listed_name.clone(),
        score: h.score(),
        status: h.status.to_string(),
        disposed_by: d.map(|d| d.officer.clone()).unwrap_or_default(),
        disposed_at_unix_ms: d.map(|d| d.at_unix_ms).unwrap_or_default(),
        disposition_rationale: d.map(|d| d.rationale.clone()).unwrap_or_default(),
        entry_changed: h.entry_changed,
        disposed_on: d.map(|d| d.license_id.clone()).unwrap_or_default(),
    }
}

pub fn balance_out(b: &ItemBalance) -> pb::ItemBalance {
    pb::ItemBalance {
        code: b.code.clone(),
        licensed_quantity: b.licensed_quantity,
        shipped_quantity: b.shipped_quantity,
        remaining_quantity: b.remaining_quantity(),
        licensed_value: Some(money_out(&b.licensed_value)),
        shipped_value_minor_units: b.shipped_value,
        remaining_value_minor_units: b.remaining_value(),
    }
}

fn revision_out(r: &Revision) -> pb::LicenseRevision {
    pb::LicenseRevision {
        revision: r.revision,
        applicant: r.applicant.clone(),
        items: r.items.iter().map(item_out).collect(),
        end_user: r.end_user.clone(),
        consignee: r.consignee.clone(),
        intermediaries: r.intermediaries.clone(),
        destination: r.destination.clone(),
        end_use: r.end_use.clone(),
        catalog_version: r.catalog_version,
        replaced_at_unix_ms: r.replaced_at_unix_ms,
        replaced_by: r.replaced_by.clone(),
        rationale: r.rationale.clone(),
    }
}

/// `l` as listed; `license_detail` adds what a single read shows.
pub fn license_out(l: &License, matching_waivers: Vec<String>) -> pb::License {
    let now = crate::clock::now_unix_ms();
    pb::License {
        id: l.id.clone(),
        state: l.state_at(now).to_string(),
        applicant: l.applicant.clone(),
        items: l.items.iter().map(item_out).collect(),
        end_user: l.end_user.clone(),
        consignee: l.consignee.clone(),
        intermediaries: l.intermediaries.clone(),
        destination: l.destination.clone(),
        end_use: l.end_use.clone(),
        catalog_version: l.catalog_version,
        submitted_at_unix_ms: l.submitted_at_unix_ms,
        submitted_by: l.submitted_by.clone(),
        updated_at_unix_ms: l.updated_at_unix_ms,
        history: l.history.iter().map(decision_out).collect(),
        denial_id: l.denial_id.clone().unwrap_or_default(),
        matching_waivers,
        revision: l.revision,
        revisions: l.revisions.iter().map(revision_out).collect(),
        pending: l.pending.as_ref().map(pending_out),
        rejected: l
            .rejected
            .iter()
            .map(|r| pb::RejectedDecision {
                decision: Some(pending_out(&r.decision)),
                rejected: Some(countersignature_out(&r.rejected)),
            })
            .collect(),
        terms: l.terms.as_ref().map(|t| pb::LicenseTerms {
            valid_from_unix_ms: t.valid_from_unix_ms,
            valid_until_unix_ms: t.valid_until_unix_ms,
            conditions: t.conditions.clone(),
        }),
        review_flags: l
            .review_flags
            .iter()
            .map(|f| pb::ReviewFlag {
                at_unix_ms: f.at_unix_ms,
                by: f.by.clone(),
                reason: f.reason.clone(),
                shipment: f.shipment.clone().unwrap_or_default(),
            })
            .collect(),
        balances: Vec::new(),
        hits: Vec::new(),
        open_hits: 0,
    }
}

pub fn license_filter(
    r: &pb::ListLicensesRequest,
) -> Result<crate::licensing::LicenseFilter, Error> {
    Ok(crate::licensing::LicenseFilter {
        state: opt_parse("state", &r.state)?,
        party: opt(&r.party),
        pending_only: r.pending_countersignature,
        limit: limit(r.limit),
    })
}

// ---- waivers, shipments, checks, disclosures --------------------------------

pub fn waiver_draft(r: pb::CreateWaiverRequest) -> Result<WaiverDraft, Error> {
    Ok(WaiverDraft {
        kind: parse::<WaiverKind>("kind", &r.kind)?,
        destination: code_upper(&r.destination),
        item_codes: r
            .item_codes
            .into_iter()
            .map(|c| c.trim().to_owned())
            .collect(),
        justification: r.justification,
        valid_until_unix_ms: r.valid_until_unix_ms,
    })
}

pub fn waiver_out(w: &Waiver) -> pb::Waiver {
    pb::Waiver {
        id: w.id.clone(),
        kind: w.kind.to_string(),
        destination: w.destination.clone(),
        item_codes: w.item_codes.clone(),
        justification: w.justification.clone(),
        valid_until_unix_ms: w.valid_until_unix_ms,
        created_at_unix_ms: w.created_at_unix_ms,
        created_by: w.created_by.clone(),
    }
}

pub fn shipment_draft(r: pb::RecordShipmentRequest) -> ShipmentDraft {
    let discrepancy = r.discrepancy.then(|| r.rationale.clone());
    ShipmentDraft {
        items: r
            .items
            .into_iter()
            .map(|i| ShippedItem {
                code: i.code.trim().to_owned(),
                quantity: i.quantity,
                value: money_in(i.value),
            })
            .collect(),
        discrepancy,
        license_id: r.license_id.trim().to_owned(),
        origin: code_upper(&r.origin),
        destination: code_upper(&r.destination),
        route: r.route.into_iter().map(|w| w.trim().to_owned()).collect(),
        shipped_at_unix_ms: opt_ms(r.shipped_at_unix_ms),
        reference: r.reference.trim().to_owned(),
    }
}

pub fn shipment_out(s: &Shipment) -> pb::Shipment {
    pb::Shipment {
        id: s.id.clone(),
        license_id: s.license_id.clone(),
        origin: s.origin.clone(),
        destination: s.destination.clone(),
        route: s.route.clone(),
        shipped_at_unix_ms: s.shipped_at_unix_ms,
        reference: s.reference.clone(),
        recorded_by: s.recorded_by.clone(),
        recorded_at_unix_ms: s.recorded_at_unix_ms,
        items: s
            .items
            .iter()
            .map(|i| pb::ShippedItem {
                code: i.code.clone(),
                quantity: i.quantity,
                value: Some(money_out(&i.value)),
            })
            .collect(),
        discrepancy: s.discrepancy.as_ref().map(|d| pb::ShipmentDiscrepancy {
            failed: d.failed.clone(),
            rationale: d.rationale.clone(),
            alert_id: d.alert_id.clone().unwrap_or_default(),
        }),
    }
}

pub fn check_draft(r: &pb::RecordEndUseCheckRequest) -> Result<CheckDraft, Error> {
    Ok(CheckDraft {
        license_id: r.license_id.trim().to_owned(),
        result: parse::<CheckResult>("result", &r.result)?,
        findings: r.findings.clone(),
        checked_at_unix_ms: opt_ms(r.checked_at_unix_ms),
    })
}

pub fn check_out(c: &EndUseCheck) -> pb::EndUseCheck {
    pb::EndUseCheck {
        id: c.id.clone(),
        license_id: c.license_id.clone(),
        result: c.result.to_string(),
        findings: c.findings.clone(),
        checked_at_unix_ms: c.checked_at_unix_ms,
        officer: c.officer.clone(),
        alert_id: c.alert_id.clone().unwrap_or_default(),
    }
}

pub fn disclosure_out(d: &Disclosure) -> pb::Disclosure {
    pb::Disclosure {
        id: d.id.clone(),
        party_id: d.party_id.clone(),
        description: d.description.clone(),
        received_at_unix_ms: d.received_at_unix_ms,
        recorded_by: d.recorded_by.clone(),
        recorded_at_unix_ms: d.recorded_at_unix_ms,
    }
}

pub fn received_at(ms: i64) -> Option<i64> {
    opt_ms(ms)
}

pub fn denial_defaults_out(d: &DenialDefaults) -> pb::DenialDistribution {
    pb::DenialDistribution {
        distribution: (!d.is_empty()).then(|| pb::Distribution {
            to: d.to.iter().map(|j| j.to_string()).collect(),
            groups: d.groups.clone(),
        }),
        updated_at_unix_ms: d.updated_at_unix_ms,
        updated_by: d.updated_by.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(line: u32, code: &str, category: &str, tier: u32) -> pb::CatalogEntry {
        pb::CatalogEntry {
            code: code.into(),
            title: format!("{code} title"),
            category: category.into(),
            tier,
            rationale: "listed".into(),
            source_line: line,
        }
    }

    #[test]
    fn streamed_catalog_entries_are_refused_naming_every_line() {
        let ok = catalog_entries_in(vec![wire(2, " ML4 ", "military", 3)]).unwrap();
        assert_eq!(ok[0].entry.code, "ML4");
        assert_eq!(ok[0].line, 2);
        let err = catalog_entries_in(vec![
            wire(2, "ML4", "military", 3),
            wire(3, "3A001", "dual use", 2),
            wire(4, "5A002", "dual-use", 300),
            wire(0, "ML4", "military", 1),
        ])
        .unwrap_err();
        let Error::InvalidArgument(m) = err else {
            panic!("{err:?}")
        };
        assert!(m.contains("line 3: category"), "{m}");
        assert!(m.contains("line 4: tier"), "{m}");
        assert!(
            m.contains("entry 4: code ML4 is already listed at line 2"),
            "{m}"
        );
    }
}
