//! Conversions for the screening service: wire entries, options and
//! results ↔ domain types.

use concord_proto::v1 as pb;

use crate::error::Error;
use crate::risk::ImportEffects;
use crate::screening::{
    EntryDetails, ImportOutcome, ListInfo, ListKind, ListedEntry, RemoveOutcome, ScreenMatch,
    ScreenRequest, ScreenResult, WatchlistEntry,
};

/// Most ids of each kind, and parties, an import's answer lists.
const MAX_LISTED: usize = 1000;

pub fn entry_in(e: pb::WatchlistEntry) -> Result<WatchlistEntry, Error> {
    let entity_type = e
        .entity_type
        .parse()
        .map_err(|reason| Error::InvalidArgument(format!("entry {:?}: {reason}", e.source_id)))?;
    Ok(WatchlistEntry {
        source_id: e.source_id,
        entity_type,
        name: e.name,
        aliases: e.aliases,
        countries: e.countries,
        addresses: e.addresses,
        programs: e.programs,
        details: EntryDetails {
            unresolved_countries: e.unresolved_countries,
            dates_of_birth: e.dates_of_birth,
            identifiers: e.identifiers,
            expires: (!e.expires.is_empty()).then_some(e.expires),
            expires_at_unix_ms: (e.expires_at_unix_ms != 0).then_some(e.expires_at_unix_ms),
        },
    })
}

pub fn entry_out(e: WatchlistEntry) -> pb::WatchlistEntry {
    pb::WatchlistEntry {
        source_id: e.source_id,
        entity_type: e.entity_type.to_string(),
        name: e.name,
        aliases: e.aliases,
        countries: e.countries,
        addresses: e.addresses,
        programs: e.programs,
        unresolved_countries: e.details.unresolved_countries,
        dates_of_birth: e.details.dates_of_birth,
        identifiers: e.details.identifiers,
        expires: e.details.expires.unwrap_or_default(),
        expires_at_unix_ms: e.details.expires_at_unix_ms.unwrap_or_default(),
    }
}

pub fn listed_out(e: ListedEntry) -> pb::GetEntryResponse {
    pb::GetEntryResponse {
        list: e.list,
        entry: Some(entry_out(e.entry)),
        issuer: e.issuer.unwrap_or_default(),
        expired: e.expired,
    }
}

pub fn removed_out(r: RemoveOutcome) -> pb::RemoveListResponse {
    pb::RemoveListResponse {
        list: r.list,
        entries: r.entries as u64,
        removed_at_unix_ms: r.removed_at_unix_ms,
    }
}

/// Options as a request without a name; range checks happen in `screening`.
pub fn options_in(o: Option<pb::ScreenOptions>) -> Result<ScreenRequest, Error> {
    let o = o.unwrap_or_default();
    if !o.threshold.is_finite() || o.threshold < 0.0 {
        return Err(Error::InvalidArgument(format!(
            "threshold {} must be above 0 and at most 1",
            o.threshold
        )));
    }
    Ok(ScreenRequest {
        name: String::new(),
        limit: o.limit as usize,
        threshold: (o.threshold != 0.0).then_some(o.threshold as f32),
        countries: o
            .countries
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .collect(),
        lists: o.lists,
    })
}

pub fn result_out(r: ScreenResult) -> pb::ScreenResult {
    pb::ScreenResult {
        query: r.query,
        threshold: f64::from(r.threshold),
        matches: r.matches.into_iter().map(match_out).collect(),
        partner_licences: Vec::new(),
    }
}

fn match_out(m: ScreenMatch) -> pb::ScreenMatch {
    pb::ScreenMatch {
        list: m.list,
        source_id: m.source_id,
        entity_type: m.entity_type.to_string(),
        name: m.name,
        matched_name: m.matched_name,
        score: score_out(m.score),
        explanation: m.explanation,
        countries: m.countries,
        issuer: m.issuer,
        programs: m.programs,
        addresses: m.addresses,
        dates_of_birth: m.details.dates_of_birth,
        identifiers: m.details.identifiers,
        unresolved_countries: m.details.unresolved_countries,
        expires: m.details.expires.unwrap_or_default(),
        expired: m.expired,
    }
}

pub fn list_out(l: ListInfo) -> pb::WatchlistInfo {
    pb::WatchlistInfo {
        name: l.name,
        kind: match l.kind {
            ListKind::Imported => "imported",
            ListKind::Denials => "denials",
        }
        .to_owned(),
        format: l.format,
        entries: l.entries as u64,
        names: l.names as u64,
        updated_at_unix_ms: l.updated_at_unix_ms,
        imported_by: l.imported_by,
    }
}

fn score_out(score: f32) -> f64 {
    // Scores are computed in f32; round so JSON shows 0.93, not 0.9300000071525574.
    (f64::from(score) * 10_000.0).round() / 10_000.0
}

pub fn import_out(o: ImportOutcome, effects: ImportEffects) -> pb::ImportListResponse {
    let first = |ids: Vec<String>| ids.into_iter().take(MAX_LISTED).collect::<Vec<_>>();
    let d = o.diff;
    pb::ImportListResponse {
        list: o.list,
        entries: o.entries as u64,
        names: o.names as u64,
        replaced: o.replaced as u64,
        imported_at_unix_ms: o.imported_at_unix_ms,
        added: d.added.len() as u64,
        removed: d.removed.len() as u64,
        changed: d.changed.len() as u64,
        added_ids: first(d.added),
        removed_ids: first(d.removed),
        changed_ids: first(d.changed),
        newly_matching: effects
            .newly_matching
            .into_iter()
            .take(MAX_LISTED)
            .map(|m| pb::NewPartyMatch {
                party_id: m.party_id,
                party_name: m.party_name,
                matched_by: m.matched_by,
                source_id: m.source_id,
                listed_name: m.listed_name,
                score: score_out(m.score),
                applications: m.applications,
            })
            .collect(),
        rescored: effects.rescored as u64,
    }
}
