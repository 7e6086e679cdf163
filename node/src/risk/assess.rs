//! Gathering what a score depends on: the application and its parties from
//! licensing, screening hits on imported lists, the active denial notices and
//! alerts held (own and partners') that touch the application, end-use check
//! history and matching waivers. Reads only; the score itself is `score`.

use std::collections::HashMap;

use super::methodology::Methodology;
use super::score::{CheckInput, Inputs, ItemInput, RecordTouch, ScreeningHit, WaiverInput};
use crate::error::Result;
use crate::exchange::records::{Party as NoticeParty, Severity};
use crate::exchange::{Exchange, Record, RecordFilter, RecordKind, SignatureCheck};
use crate::licensing::{CheckResult, License, Licensing, Party, WaiverFilter};
use crate::screening::score::score_names;
use crate::screening::{ListKind, ScreenRequest, Screening};

/// One active, signature-valid denial notice or alert, as matching needs it.
#[derive(Clone, Debug)]
struct Held {
    id: String,
    severity: Option<Severity>,
    /// Each named party's name and aliases.
    parties: Vec<Vec<String>>,
    destinations: Vec<String>,
    items: Vec<String>,
}

/// What every application is scored against at one moment: built once per
/// re-scoring pass, since reading the records back re-verifies signatures.
pub struct World {
    denials: Vec<Held>,
    alerts: Vec<Held>,
    /// Imported lists; the `denials` list is left out (notices count under
    /// their own factor, and that list is rebuilt asynchronously).
    lists: Vec<String>,
    now_unix_ms: i64,
}

fn names(p: &NoticeParty) -> Vec<String> {
    std::iter::once(p.name.clone())
        .chain(p.aliases.iter().cloned())
        .collect()
}

impl World {
    pub fn gather(exchange: &Exchange, screening: &Screening, now_unix_ms: i64) -> Result<World> {
        let active = RecordFilter {
            active_only: true,
            ..RecordFilter::default()
        };
        let mut denials = Vec::new();
        for v in exchange.list(RecordKind::Denial, &active)? {
            if v.signature != SignatureCheck::Valid {
                continue;
            }
            if let Record::Denial(d) = &v.record {
                denials.push(Held {
                    id: d.id.clone(),
                    severity: None,
                    parties: vec![names(&d.party)],
                    destinations: vec![d.destination.clone()],
                    items: d.items.iter().map(|i| i.code.clone()).collect(),
                });
            }
        }
        let mut alerts = Vec::new();
        for v in exchange.list(RecordKind::Alert, &active)? {
            if v.signature != SignatureCheck::Valid {
                continue;
            }
            if let Record::Alert(a) = &v.record {
                alerts.push(Held {
                    id: a.id.clone(),
                    severity: Some(a.severity),
                    parties: a.subjects.parties.iter().map(names).collect(),
                    destinations: a.subjects.destinations.clone(),
                    items: a.subjects.items.clone(),
                });
            }
        }
        let lists = screening
            .lists()
            .into_iter()
            .filter(|l| l.kind == ListKind::Imported)
            .map(|l| l.name)
            .collect();
        Ok(World {
            denials,
            alerts,
            lists,
            now_unix_ms,
        })
    }
}

/// One of the application's parties, in its role.
struct RoleParty {
    role: &'static str,
    party: Party,
}

impl RoleParty {
    fn describe(&self) -> String {
        format!("{} {} {:?}", self.role, self.party.id, self.party.name)
    }

    /// Name and aliases, each on one line (screening refuses line breaks).
    fn names(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(&self.party.name)
            .chain(&self.party.aliases)
            .map(|n| n.replace(['\n', '\r', '\t'], " "))
    }
}

/// Collects the inputs of `license`'s score.
pub fn inputs(
    m: &Methodology,
    world: &World,
    licensing: &Licensing,
    screening: &Screening,
    license: &License,
) -> Result<Inputs> {
    let parties = parties(licensing, license)?;
    let codes = license.codes();
    let mut inputs = Inputs {
        items: license
            .items
            .iter()
            .map(|i| ItemInput {
                code: i.code.clone(),
                category: i.category,
                tier: i.tier,
            })
            .collect(),
        destination: license.destination.clone(),
        ..Inputs::default()
    };
    if !world.lists.is_empty() {
        for p in &parties {
            if let Some(hit) = best_hit(m, world, screening, p) {
                inputs.screening.push(hit);
            }
        }
    }
    let touch = |h: &Held| RecordTouch {
        id: h.id.clone(),
        severity: h.severity,
        party: named_party(m, &parties, h),
        destination: h.destinations.contains(&license.destination),
        items: codes
            .iter()
            .filter(|c| h.items.contains(c))
            .cloned()
            .collect(),
    };
    // An application under appeal is not held against its own denial notice.
    inputs.denials = world
        .denials
        .iter()
        .filter(|h| license.denial_id.as_deref() != Some(h.id.as_str()))
        .map(touch)
        .filter(|t| t.touches())
        .collect();
    inputs.alerts = world
        .alerts
        .iter()
        .map(touch)
        .filter(|t| t.touches())
        .collect();
    inputs.end_use = end_use_history(licensing, license)?;
    inputs.waivers = licensing
        .waivers(&WaiverFilter {
            destination: Some(license.destination.clone()),
            active_only: true,
            limit: None,
        })?
        .into_iter()
        .filter(|w| w.matches(&license.destination, &codes, world.now_unix_ms))
        .map(|w| WaiverInput {
            id: w.id,
            kind: w.kind,
        })
        .collect();
    Ok(inputs)
}

fn parties(licensing: &Licensing, license: &License) -> Result<Vec<RoleParty>> {
    let roles = [
        ("end user", &license.end_user),
        ("consignee", &license.consignee),
        ("applicant", &license.applicant),
    ]
    .into_iter()
    .chain(license.intermediaries.iter().map(|i| ("intermediary", i)));
    let mut out: Vec<RoleParty> = Vec::new();
    for (role, id) in roles {
        // One party in two roles is screened once, under its first role.
        if out.iter().any(|p| &p.party.id == id) {
            continue;
        }
        out.push(RoleParty {
            role,
            party: licensing.party(id)?,
        });
    }
    Ok(out)
}

/// The party's best match on the imported lists, over its name and aliases.
fn best_hit(
    m: &Methodology,
    world: &World,
    screening: &Screening,
    party: &RoleParty,
) -> Option<ScreeningHit> {
    let mut best: Option<ScreeningHit> = None;
    for name in party.names() {
        let request = ScreenRequest {
            name,
            limit: 1,
            threshold: Some(m.screening.match_score),
            countries: Vec::new(),
            lists: world.lists.clone(),
        };
        let result = match screening.query(&request) {
            Ok(r) => r,
            Err(error) => {
                tracing::debug!(%error, party = %party.party.id, "name not screenable");
                continue;
            }
        };
        if let Some(top) = result.matches.into_iter().next() {
            if best.as_ref().is_none_or(|b| top.score > b.score) {
                best = Some(ScreeningHit {
                    party: party.describe(),
                    list: top.list,
                    source_id: top.source_id,
                    matched_name: top.matched_name,
                    score: top.score,
                });
            }
        }
    }
    best
}

/// The first of the application's parties a record names, by the same fuzzy
/// matching as screening (a notice spells names its own way).
fn named_party(m: &Methodology, parties: &[RoleParty], held: &Held) -> Option<String> {
    let threshold = m.screening.match_score;
    parties
        .iter()
        .find(|p| {
            p.names().any(|ours| {
                held.parties
                    .iter()
                    .flatten()
                    .any(|theirs| score_names(&ours, theirs) >= threshold)
            })
        })
        .map(RoleParty::describe)
}

/// Failed or inconclusive end-use checks of licenses naming the same end
/// user or consignee, in either of those roles.
fn end_use_history(licensing: &Licensing, license: &License) -> Result<Vec<CheckInput>> {
    let ours = [&license.end_user, &license.consignee];
    let mut checked: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for c in licensing.checks(None, None, None)? {
        if c.result == CheckResult::Pass {
            continue;
        }
        let related = match checked.get(&c.license_id) {
            Some(r) => *r,
            None => {
                let other = licensing.license(&c.license_id)?;
                let r = ours.contains(&&other.end_user) || ours.contains(&&other.consignee);
                checked.insert(c.license_id.clone(), r);
                r
            }
        };
        if related {
            out.push(CheckInput {
                id: c.id,
                license_id: c.license_id,
                result: c.result,
            });
        }
    }
    Ok(out)
}
