//! Which held records a question matches, among those need-to-know lets
//! this node reveal to the asking member.
//!
//! Party names are compared with the screening module's scorer (the same
//! fuzzy matching `concord screen` uses); destinations, item codes and
//! shipment references exactly. Blind questions compare keyed hashes of
//! normalized names (see `blind_name`).

use std::collections::BTreeSet;

use super::model::Query;
use super::names::NamesView;
use crate::crypto::KeyedHash;
use crate::exchange::envelope::EnvelopeHeader;
use crate::exchange::records::{DenialNotice, Party, RiskAlert};
use crate::exchange::{Exchange, Held, Record, RecordKind};
use crate::identity::Jurisdiction;
use crate::policy;

/// Score from which a listed name counts as the party asked about (the
/// screening default).
pub const MATCH_THRESHOLD: f32 = 0.85;
/// Domain of blind party-name hashes.
pub const BLIND_PARTY: &str = "party-name";

/// One held record matching a question.
#[derive(Clone, Debug)]
pub struct Match {
    pub header: EnvelopeHeader,
    pub record: Record,
    pub score: f32,
}

/// The records `own` holds that match `query` and that it may reveal to a
/// member of `asker`, best first.
///
/// With `names` (the index of held party names, `names::HeldNames`), a
/// cleartext party question reads only the record versions the index
/// proposes: each is loaded only if it is still the current version of its
/// record and may leave this node (`Exchange::disclosable_if_current`), then
/// judged exactly as [`find_by_scan`] judges it, so the answer is the scan's
/// (up to the bound documented at `names::LIMIT`). Blind questions and
/// denial questions without a party, or no index, scan.
pub fn find(
    exchange: &Exchange,
    names: Option<&NamesView>,
    own: &Jurisdiction,
    asker: &Jurisdiction,
    query: &Query,
    blind: Option<&KeyedHash>,
) -> crate::error::Result<Vec<Match>> {
    let Some(candidates) = names.and_then(|n| n.candidates(query)) else {
        return find_by_scan(exchange, own, asker, query, blind);
    };
    let mut out = Vec::new();
    for v in candidates {
        let Some(held) = exchange.disclosable_if_current(&v.issuer, v.seq)? else {
            continue;
        };
        if let Some(m) = judge(own, asker, query, None, held) {
            out.push(m);
        }
    }
    // The scan's order before ranking: kind as it reads them, then store order.
    out.sort_by_cached_key(|m| (m.header.kind != RecordKind::Denial, store_order(&m.header)));
    rank(&mut out);
    Ok(out)
}

/// A record's place in the store's current-version order (`issuer 0 id 0`).
fn store_order(h: &EnvelopeHeader) -> Vec<u8> {
    let mut k = h.issuer.as_str().as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(h.record_id.as_bytes());
    k.push(0);
    k
}

/// [`find`] without the index: every current held record of the kinds the
/// question is about.
///
/// Reads the current version of each record the exchange may disclose
/// (own records only once durable), need-to-know decided on the signed
/// header before the body is even decoded. Signatures are not re-verified
/// here — every stored envelope was verified when it was stored, the body
/// is checked against the signed header's digest, and the asking node
/// verifies every envelope a full-level answer carries.
pub fn find_by_scan(
    exchange: &Exchange,
    own: &Jurisdiction,
    asker: &Jurisdiction,
    query: &Query,
    blind: Option<&KeyedHash>,
) -> crate::error::Result<Vec<Match>> {
    let kinds: &[RecordKind] = match query {
        Query::Party { .. } | Query::BlindParty { .. } => &[RecordKind::Denial, RecordKind::Alert],
        Query::Denials { .. } => &[RecordKind::Denial],
        Query::Alerts { .. } => &[RecordKind::Alert],
    };
    let blind_hashes: BTreeSet<[u8; 32]> = match query {
        Query::BlindParty { hashes, .. } => hashes.iter().copied().collect(),
        _ => BTreeSet::new(),
    };
    let blind = blind.map(|key| (key, &blind_hashes));
    let mut out = Vec::new();
    for kind in kinds {
        for held in exchange.disclosable_current(*kind) {
            if let Some(m) = judge(own, asker, query, blind, held?) {
                out.push(m);
            }
        }
    }
    rank(&mut out);
    Ok(out)
}

/// One held version against a question: need-to-know first (what may not be
/// revealed is not even decoded), then the score.
fn judge(
    own: &Jurisdiction,
    asker: &Jurisdiction,
    query: &Query,
    blind: Option<(&KeyedHash, &BTreeSet<[u8; 32]>)>,
    held: Held,
) -> Option<Match> {
    let header = held.header;
    if !policy::may_disclose(own, asker, &header.issuer, &header.recipients) {
        return None;
    }
    // Consultations stay between the jurisdictions concerned: never an answer.
    if header.kind == RecordKind::Consultation {
        return None;
    }
    let record = Record::decode_signed(&header, &held.envelope.body).ok()?;
    let score = match query {
        Query::BlindParty { .. } => {
            blind.and_then(|(key, hashes)| blind_score(key, hashes, &record))
        }
        _ => score(query, &record),
    }?;
    Some(Match {
        header,
        record,
        score,
    })
}

/// Best first; among equal scores, the most recently issued first.
fn rank(out: &mut [Match]) {
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.header.issued_at_unix_ms.cmp(&a.header.issued_at_unix_ms))
    });
}

/// The score of a record for a cleartext question, if it matches.
pub fn score(query: &Query, record: &Record) -> Option<f32> {
    match (query, record) {
        (Query::Party { name }, Record::Denial(d)) => party_score(name, &d.party),
        (Query::Party { name }, Record::Alert(a)) => alert_parties_score(name, a),
        (
            Query::Denials {
                party,
                destination,
                item,
            },
            Record::Denial(d),
        ) => denial_score(d, party.as_deref(), destination.as_deref(), item.as_deref()),
        (Query::Alerts { subject }, Record::Alert(a)) => alert_subject_score(subject, a),
        _ => None,
    }
}

fn denial_score(
    d: &DenialNotice,
    party: Option<&str>,
    destination: Option<&str>,
    item: Option<&str>,
) -> Option<f32> {
    if destination.is_some_and(|dest| !d.destination.eq_ignore_ascii_case(dest)) {
        return None;
    }
    if item.is_some_and(|code| !d.items.iter().any(|i| same_code(&i.code, code))) {
        return None;
    }
    match party {
        Some(name) => party_score(name, &d.party),
        None => Some(1.0),
    }
}

fn alert_parties_score(name: &str, a: &RiskAlert) -> Option<f32> {
    a.subjects
        .parties
        .iter()
        .filter_map(|p| party_score(name, p))
        .max_by(f32::total_cmp)
}

fn alert_subject_score(subject: &str, a: &RiskAlert) -> Option<f32> {
    let s = &a.subjects;
    let exact = s.destinations.iter().any(|d| same_code(d, subject))
        || s.items.iter().any(|i| same_code(i, subject))
        || s.shipments.iter().any(|r| same_code(r, subject));
    if exact {
        return Some(1.0);
    }
    alert_parties_score(subject, a)
}

/// Codes and references compare without case and surrounding space.
fn same_code(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// Best score of `query` against a party's name and aliases, if it reaches
/// [`MATCH_THRESHOLD`].
fn party_score(query: &str, party: &Party) -> Option<f32> {
    std::iter::once(&party.name)
        .chain(&party.aliases)
        .map(|listed| name_score(query, listed))
        .max_by(f32::total_cmp)
        .filter(|s| *s >= MATCH_THRESHOLD)
}

/// One query name against one listed name, 0..=1.
///
/// The screening module's scorer (transliteration, spelling variants,
/// company forms, token alignment). TODO(screening): if screening grows a
/// prepared-query API for single names, use it to tokenize the query once.
pub fn name_score(query: &str, listed: &str) -> f32 {
    crate::screening::score::score_names(query, listed)
}

/// A name as blind matching hashes it: the screening normalizer's canonical
/// tokens, company-form words dropped, sorted (word order does not matter),
/// joined by spaces. `None` when nothing is left.
///
/// Every node must normalize alike: a node running another version of the
/// normalizer misses matches (it never reports false ones).
pub fn blind_name(name: &str) -> Option<String> {
    let mut words: Vec<String> = crate::screening::normalize::tokens(name)
        .into_iter()
        .filter(|t| t.is_content())
        .map(|t| t.text)
        .collect();
    words.sort();
    words.dedup();
    let joined = words.join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// The keyed hash of a party name, as asking and answering nodes compute it.
pub fn blind_hash(key: &KeyedHash, name: &str) -> Option<[u8; 32]> {
    blind_name(name).map(|n| key.hash(BLIND_PARTY, n.as_bytes()))
}

fn blind_score(key: &KeyedHash, wanted: &BTreeSet<[u8; 32]>, record: &Record) -> Option<f32> {
    let parties: Vec<&Party> = match record {
        Record::Denial(d) => vec![&d.party],
        Record::Alert(a) => a.subjects.parties.iter().collect(),
        Record::Consultation(_) => return None,
    };
    let hit = parties
        .into_iter()
        .flat_map(|p| std::iter::once(&p.name).chain(&p.aliases))
        .filter_map(|n| blind_hash(key, n))
        .any(|h| wanted.contains(&h));
    hit.then_some(1.0)
}

/// The category an answer shows: an alert's category; for a denial, the
/// control-list categories of its items (`dual-use 3` for 3A001, `military`
/// for ML4).
pub fn category(record: &Record) -> String {
    match record {
        Record::Alert(a) => a.category.as_str().to_owned(),
        Record::Denial(d) => {
            let cats: BTreeSet<String> =
                d.items.iter().map(|i| control_category(&i.code)).collect();
            cats.into_iter().collect::<Vec<_>>().join(", ")
        }
        Record::Consultation(_) => "consultation".to_owned(),
    }
}

fn control_category(code: &str) -> String {
    let code = code.trim().to_ascii_uppercase();
    match code.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("dual-use {c}"),
        _ if code.starts_with("ML") => "military".to_owned(),
        _ => "other".to_owned(),
    }
}

/// When a record was decided or raised.
pub fn date(record: &Record) -> i64 {
    match record {
        Record::Alert(a) => a.issued_at_unix_ms,
        Record::Denial(d) => d.decision_date_unix_ms,
        Record::Consultation(c) => c.issued_at_unix_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::records::{
        AlertCategory, AlertState, DenialState, DeniedItem, Severity, Subjects,
    };

    fn party(name: &str, aliases: &[&str]) -> Party {
        Party {
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            country: "AE".into(),
            address: String::new(),
        }
    }

    fn denial(name: &str, dest: &str, items: &[&str]) -> Record {
        Record::Denial(DenialNotice {
            id: "FR-D-1".into(),
            issuer: "FR".parse().unwrap(),
            version: 1,
            state: DenialState::Active,
            party: party(name, &["Acme FZE"]),
            items: items
                .iter()
                .map(|c| DeniedItem {
                    code: c.to_string(),
                    description: String::new(),
                })
                .collect(),
            destination: dest.into(),
            end_use: String::new(),
            reason: "diversion risk".into(),
            decision_date_unix_ms: 10,
            valid_until_unix_ms: None,
            change_reason: String::new(),
        })
    }

    fn alert(parties: &[&str], items: &[&str]) -> Record {
        Record::Alert(RiskAlert {
            id: "JP-A-1".into(),
            issuer: "JP".parse().unwrap(),
            category: AlertCategory::SuspiciousShipment,
            severity: Severity::High,
            subjects: Subjects {
                parties: parties.iter().map(|p| party(p, &[])).collect(),
                destinations: vec!["IR".into()],
                items: items.iter().map(|s| s.to_string()).collect(),
                shipments: vec!["BL-778".into()],
            },
            indicators: vec![],
            summary: "s".into(),
            issued_at_unix_ms: 20,
            expires_at_unix_ms: None,
            handling: String::new(),
            version: 1,
            state: AlertState::Active,
            change_reason: String::new(),
        })
    }

    fn check(query: Query, record: &Record, matches: bool) {
        let got = score(&query, record);
        assert_eq!(got.is_some(), matches, "{query:?} on {record:?}: {got:?}");
    }

    #[test]
    fn questions_match_records() {
        let d = denial("Acme Trading FZE", "IR", &["3A001", "ML4"]);
        let a = alert(&["Acme Trading LLC"], &["5A002"]);
        let party = |n: &str| Query::Party { name: n.into() };
        check(party("ACME TRADING"), &d, true);
        check(party("Acme Trading"), &a, true);
        check(party("Zeta Dynamics"), &d, false);
        check(party("Acme FZE"), &d, true);
        let denials = |p: Option<&str>, dest: Option<&str>, item: Option<&str>| Query::Denials {
            party: p.map(Into::into),
            destination: dest.map(Into::into),
            item: item.map(Into::into),
        };
        check(denials(None, Some("IR"), None), &d, true);
        check(denials(None, Some("SY"), None), &d, false);
        check(
            denials(Some("Acme Trading"), Some("IR"), Some("ml4")),
            &d,
            true,
        );
        check(
            denials(Some("Acme Trading"), None, Some("1C350")),
            &d,
            false,
        );
        check(denials(None, Some("IR"), None), &a, false);
        let alerts = |s: &str| Query::Alerts { subject: s.into() };
        check(alerts("bl-778"), &a, true);
        check(alerts("5A002"), &a, true);
        check(alerts("Acme Trading"), &a, true);
        check(alerts("Acme Trading"), &d, false);
        assert_eq!(category(&d), "dual-use 3, military");
        assert_eq!(category(&a), "suspicious-shipment");
    }

    #[test]
    fn blind_names_ignore_order_case_and_company_forms() {
        let key = KeyedHash::new(&[9; 32]).unwrap();
        let h = |n: &str| blind_hash(&key, n);
        assert_eq!(h("Acme Trading FZE"), h("trading ACME"));
        assert_ne!(h("Acme Trading"), h("Acme Tradings Co Zeta"));
        assert_eq!(h("  "), None);
        let d = denial("Ivanov Petr", "IR", &["3A001"]);
        let wanted: BTreeSet<_> = h("Petr Ivanov").into_iter().collect();
        assert_eq!(blind_score(&key, &wanted, &d), Some(1.0));
        let other = KeyedHash::new(&[8; 32]).unwrap();
        assert_eq!(
            blind_score(&other, &wanted, &d),
            None,
            "another key never matches"
        );
        // Aliases count.
        let wanted: BTreeSet<_> = h("ACME FZE").into_iter().collect();
        assert_eq!(blind_score(&key, &wanted, &d), Some(1.0));
    }
}
