//! Gathering what a score depends on: the application and its parties from
//! licensing, screening hits on imported lists, the active denial notices and
//! alerts held (own and partners') that touch the application, end-use check
//! history and matching waivers. Reads only; the score itself is `score`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::hits::{Hit, HitStatus};
use super::methodology::Methodology;
use super::score::{CheckInput, Inputs, ItemInput, RecordTouch, ScreeningHit, WaiverInput};
use crate::error::Result;
use crate::exchange::records::{Party as NoticeParty, Severity};
use crate::exchange::{Exchange, Record, RecordFilter, RecordKind, RecordView, SignatureCheck};
use crate::licensing::{CheckResult, License, Licensing, Party, WaiverFilter};
use crate::screening::score::score_names;
use crate::screening::{ListKind, Screening};

/// One active, signature-valid denial notice or alert, as matching needs it.
#[derive(Clone, Debug)]
pub(super) struct Held {
    pub id: String,
    pub version: u32,
    pub issuer: String,
    pub severity: Option<Severity>,
    /// Each named party's name and aliases.
    pub parties: Vec<Vec<String>>,
    pub destinations: Vec<String>,
    pub items: Vec<String>,
    /// When it stops being in force (an alert's expiry, a denial's end).
    pub until_unix_ms: Option<i64>,
}

impl Held {
    /// Record ids are unique per issuer.
    pub fn key(&self) -> (String, String) {
        (self.issuer.clone(), self.id.clone())
    }

    pub fn is_in_force(&self, now_unix_ms: i64) -> bool {
        self.until_unix_ms.is_none_or(|t| t > now_unix_ms)
    }

    pub fn is_alert(&self) -> bool {
        self.severity.is_some()
    }

    /// The notice or alert in `view`, if it is in force now and its
    /// signature checked out; `None` for anything that must not count.
    pub fn of_view(view: &RecordView, now_unix_ms: i64) -> Option<Held> {
        if view.signature != SignatureCheck::Valid || !view.is_active(now_unix_ms) {
            return None;
        }
        let issuer = view.header.issuer.to_string();
        match &view.record {
            Record::Denial(d) => Some(Held {
                id: d.id.clone(),
                version: d.version,
                issuer,
                severity: None,
                parties: vec![names(&d.party)],
                destinations: vec![d.destination.clone()],
                items: d.items.iter().map(|i| i.code.clone()).collect(),
                until_unix_ms: d.valid_until_unix_ms,
            }),
            Record::Alert(a) => Some(Held {
                id: a.id.clone(),
                version: 0,
                issuer,
                severity: Some(a.severity),
                parties: a.subjects.parties.iter().map(names).collect(),
                destinations: a.subjects.destinations.clone(),
                items: a.subjects.items.clone(),
                until_unix_ms: a.expires_at_unix_ms,
            }),
            Record::Consultation(_) => None,
        }
    }
}

/// What an application is scored against at one moment: every record held
/// (gathered at most once per pass), or its set.
pub struct World {
    denials: Vec<Arc<Held>>,
    alerts: Vec<Arc<Held>>,
    /// Imported lists (see [`imported_lists`]).
    pub(super) lists: Vec<String>,
    now_unix_ms: i64,
    /// For an application's set: the only records that may name one of its
    /// parties (the set compared every other one's names already, at the
    /// same threshold, and found none). `None`: any record may.
    may_name: Option<HashSet<(String, String)>>,
}

fn names(p: &NoticeParty) -> Vec<String> {
    std::iter::once(p.name.clone())
        .chain(p.aliases.iter().cloned())
        .collect()
}

/// Records decoded at a time while gathering a world.
const GATHER_PAGE: usize = 4_096;

impl World {
    pub fn gather(exchange: &Exchange, screening: &Screening, now_unix_ms: i64) -> Result<World> {
        let active = RecordFilter {
            active_only: true,
            ..RecordFilter::default()
        };
        // Page by page: a node holding millions keeps what scoring reads of
        // each record, never every decoded record at once.
        let held = |kind: RecordKind| -> Result<Vec<Arc<Held>>> {
            let mut out = Vec::new();
            let mut after = None;
            loop {
                let (page, next) =
                    exchange.list_page(kind, &active, GATHER_PAGE, after.as_ref())?;
                out.extend(
                    page.iter()
                        .filter_map(|v| Held::of_view(v, now_unix_ms))
                        .map(Arc::new),
                );
                match next {
                    Some(cursor) => after = Some(cursor),
                    None => return Ok(out),
                }
            }
        };
        let denials = held(RecordKind::Denial)?;
        let alerts = held(RecordKind::Alert)?;
        Ok(World::of(
            denials,
            alerts,
            imported_lists(screening),
            now_unix_ms,
        ))
    }

    /// A world of exactly these records (those in force at `now_unix_ms`).
    pub(super) fn of(
        denials: Vec<Arc<Held>>,
        alerts: Vec<Arc<Held>>,
        lists: Vec<String>,
        now_unix_ms: i64,
    ) -> World {
        let live = |v: Vec<Arc<Held>>| -> Vec<Arc<Held>> {
            v.into_iter()
                .filter(|h| h.is_in_force(now_unix_ms))
                .collect()
        };
        World {
            denials: live(denials),
            alerts: live(alerts),
            lists,
            now_unix_ms,
            may_name: None,
        }
    }

    /// [`World::of`] for one application's set, where only the records
    /// keyed in `named` may name one of its parties: scoring then compares
    /// names against those alone, not again against every record the set
    /// holds for its destination or items.
    pub(super) fn of_set(
        denials: Vec<Arc<Held>>,
        alerts: Vec<Arc<Held>>,
        named: HashSet<(String, String)>,
        lists: Vec<String>,
        now_unix_ms: i64,
    ) -> World {
        World {
            may_name: Some(named),
            ..World::of(denials, alerts, lists, now_unix_ms)
        }
    }

    /// Whether `h` may name one of the parties scored.
    pub(super) fn may_name(&self, h: &Held) -> bool {
        self.may_name
            .as_ref()
            .is_none_or(|named| named.contains(&h.key()))
    }

    /// Every record held, denials then alerts.
    pub(super) fn held(&self) -> impl Iterator<Item = &Arc<Held>> {
        self.denials.iter().chain(&self.alerts)
    }
}

/// The imported lists a score reads; the `denials` list is left out
/// (notices count under their own factor, and that list is rebuilt
/// asynchronously).
pub(super) fn imported_lists(screening: &Screening) -> Vec<String> {
    screening
        .lists()
        .into_iter()
        .filter(|l| l.kind == ListKind::Imported)
        .map(|l| l.name)
        .collect()
}

impl World {
    /// The active, signature-valid denial notices held.
    pub(super) fn denials(&self) -> &[Arc<Held>] {
        &self.denials
    }
}

/// One of the application's parties, in its role.
pub(super) struct RoleParty {
    pub role: &'static str,
    pub party: Party,
}

impl RoleParty {
    fn describe(&self) -> String {
        format!("{} {} {:?}", self.role, self.party.id, self.party.name)
    }

    /// Name and aliases, each on one line (screening refuses line breaks).
    pub(super) fn names(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(&self.party.name)
            .chain(&self.party.aliases)
            .map(|n| n.replace(['\n', '\r', '\t'], " "))
    }
}

/// Collects the inputs of `license`'s score. `hits` are the application's
/// screening hits: the best one of each party on an imported list at or
/// above the methodology's match score counts, unless an officer disposed
/// of it as a false positive.
pub(super) fn inputs(
    m: &Methodology,
    world: &World,
    licensing: &Licensing,
    parties: &[RoleParty],
    hits: &[Hit],
    license: &License,
) -> Result<Inputs> {
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
    for p in parties {
        let best = hits
            .iter()
            .filter(|h| h.party_id == p.party.id && h.list != super::hits::DENIALS)
            .filter(|h| h.status != HitStatus::FalsePositive)
            .filter(|h| h.score() >= m.screening.match_score)
            .max_by_key(|h| h.score_milli);
        if let Some(h) = best {
            inputs.screening.push(ScreeningHit {
                party: p.describe(),
                list: h.list.clone(),
                source_id: h.source_id.clone(),
                matched_name: h.matched_name.clone(),
                score: h.score(),
            });
        }
    }
    let touch = |h: &Arc<Held>| RecordTouch {
        id: h.id.clone(),
        severity: h.severity,
        party: if world.may_name(h) {
            named_party(m, parties, h)
        } else {
            None
        },
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

pub(super) fn parties(licensing: &Licensing, license: &License) -> Result<Vec<RoleParty>> {
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
