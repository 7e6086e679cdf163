//! Conversions for the licensing service: wire requests → domain drafts
//! (bad fields are `InvalidArgument`), domain records → wire records.

use concord_proto::v1 as pb;

use crate::error::Error;
use crate::licensing::{
    Application, CatalogEntry, CatalogVersion, Category, CheckDraft, CheckResult, Decision,
    DenialDefaults, Disclosure, EndUseCheck, Identifier, ItemDraft, License, LicenseItem, Money,
    Party, PartyDraft, Shipment, ShipmentDraft, SourcedEntry, Waiver, WaiverDraft, WaiverKind,
};

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
        identifiers: p
            .identifiers
            .iter()
            .map(|i| pb::PartyIdentifier {
                kind: i.kind.clone(),
                value: i.value.clone(),
            })
            .collect(),
        created_at_unix_ms: p.created_at_unix_ms,
        created_by: p.created_by.clone(),
    }
}

pub fn party_filter(r: &pb::ListPartiesRequest) -> crate::licensing::PartyFilter {
    crate::licensing::PartyFilter {
        name: opt(&r.name),
        country: opt(&r.country).map(|c| c.to_uppercase()),
        limit: limit(r.limit),
    }
}

// ---- licenses --------------------------------------------------------------

pub fn application(r: pb::SubmitLicenseRequest) -> Application {
    Application {
        applicant: r.applicant.trim().to_owned(),
        items: r
            .items
            .into_iter()
            .map(|i| {
                let value = i.value.unwrap_or_default();
                ItemDraft {
                    code: i.code.trim().to_owned(),
                    description: i.description,
                    quantity: i.quantity,
                    value: Money {
                        minor_units: value.minor_units,
                        currency: code_upper(&value.currency),
                    },
                }
            })
            .collect(),
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
    }
}

pub fn license_out(l: &License, matching_waivers: Vec<String>) -> pb::License {
    pb::License {
        id: l.id.clone(),
        state: l.state.to_string(),
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
    }
}

pub fn license_filter(
    r: &pb::ListLicensesRequest,
) -> Result<crate::licensing::LicenseFilter, Error> {
    Ok(crate::licensing::LicenseFilter {
        state: opt_parse("state", &r.state)?,
        party: opt(&r.party),
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
    ShipmentDraft {
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
