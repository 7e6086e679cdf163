//! Which held notices and alerts touch each open application, kept in
//! memory so that one new alert or denial notice re-scores only the
//! applications it touches, at the cost of what it touches (issue 13).
//!
//! For each open application the set keeps the records that may count in
//! its score: every record naming one of its parties (at the lower of the
//! hit and match thresholds, by the same `score_names` as scoring), and of
//! the records touching it only by destination or items the
//! [`MAX_LISTED`] strongest of each kind, since a factor lists and counts
//! no more (`score::records`). Scoring an application from its set gives
//! what scoring it against every record held gives; a test checks this
//! after every kind of event.
//!
//! A record finds the applications it touches through indexes of the open
//! applications: destination and item codes in a map, party names in the
//! screening module's [`ListIndex`] (rebuilt once [`NAMES_TAIL_MAX`]
//! applications were added since; those are compared one by one). A
//! record's earlier version is found through the sets that hold it.
//!
//! When the set cannot answer alone — a record it let go might now be
//! among the strongest, because one it kept was withdrawn or lapsed — the
//! application is refilled from every record held (`needs_full`). The sets
//! are rebuilt from the store at start and whenever the exchange's
//! announcements were lost, so they never outlive what they were built from.
//! Decisions do not read them: a decision re-scores against every record
//! held.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::assess::{Held, RoleParty, World};
use super::methodology::Methodology;
use super::score::{self, MAX_LISTED};
use crate::exchange::{Record, RecordView};
use crate::licensing::License;
use crate::screening::entry::{EntityType, WatchlistEntry};
use crate::screening::index::{Filter, IndexedEntry, ListIndex, PreparedQuery};
use crate::screening::score::score_names;

/// Issuer and record id.
pub(super) type Key = (String, String);

/// The key of the notice or alert in `view`; `None` for other records.
pub(super) fn key_of(view: &RecordView) -> Option<Key> {
    let id = match &view.record {
        Record::Denial(d) => &d.id,
        Record::Alert(a) => &a.id,
        Record::Consultation(_) => return None,
    };
    Some((view.header.issuer.to_string(), id.clone()))
}

/// Applications added since the name index was built before it is rebuilt.
const NAMES_TAIL_MAX: usize = 64;
/// Index hits this far below the threshold are still compared exactly.
const MARGIN: f32 = 0.05;
/// Applications asked of the name index per name (it scores four times as
/// many candidates); a name matching this many above the margin is compared
/// against every application instead, so none is missed for want of room.
const NAME_HITS: usize = 16;

/// How a record may count in one application's score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Named,
    /// By destination or items only, adding this percentage.
    Unnamed(u32),
}

/// Where an unnamed record stands among the others: strongest first, then
/// by id (see `score::listing_order`), then issuer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank(std::cmp::Reverse<u32>, score::IdOrder, String);

fn rank(percent: u32, h: &Held) -> Rank {
    let (strength, id) = score::listing_order(percent, &h.id);
    Rank(strength, id, h.issuer.clone())
}

/// Would a record of `percent` rank after `weakest`? Decided on the
/// percentage alone where it differs, so the common case allocates nothing.
fn weaker(percent: u32, h: &Held, weakest: &Rank) -> bool {
    match percent.cmp(&weakest.0 .0) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        // Equal strength: `h` is weaker if it sorts after the weakest.
        std::cmp::Ordering::Equal => match weakest.1.cmp_id(&h.id) {
            std::cmp::Ordering::Equal => weakest.2.as_str() < h.issuer.as_str(),
            o => o == std::cmp::Ordering::Less,
        },
    }
}

/// The records of one kind that may count for one application.
#[derive(Default)]
struct Side {
    named: BTreeMap<Key, Arc<Held>>,
    unnamed: BTreeMap<Rank, Arc<Held>>,
    ranks: HashMap<Key, Rank>,
    /// An unnamed record was let go: `unnamed` is the strongest, not all.
    truncated: bool,
}

impl Side {
    /// Keeps `h` (not held yet); returns whether the set changed and the
    /// key it let go.
    fn insert(&mut self, class: Class, h: &Arc<Held>) -> (bool, Option<Key>) {
        let percent = match class {
            Class::Named => {
                self.named.insert(h.key(), h.clone());
                return (true, None);
            }
            Class::Unnamed(percent) => percent,
        };
        if self.unnamed.len() >= MAX_LISTED {
            self.truncated = true;
            // Weaker than all it holds: nothing changes.
            if self
                .unnamed
                .last_key_value()
                .is_some_and(|(w, _)| weaker(percent, h, w))
            {
                return (false, None);
            }
        }
        let r = rank(percent, h);
        self.ranks.insert(h.key(), r.clone());
        self.unnamed.insert(r, h.clone());
        if self.unnamed.len() <= MAX_LISTED {
            return (true, None);
        }
        let gone = self.unnamed.pop_last().map(|(_, h)| h.key());
        if let Some(k) = &gone {
            self.ranks.remove(k);
        }
        (true, gone)
    }

    /// Drops `key`; true if the set can no longer stand for every record
    /// (it let some go, and one it kept leaves).
    fn remove(&mut self, key: &Key) -> bool {
        self.named.remove(key);
        match self.ranks.remove(key) {
            Some(r) => {
                self.unnamed.remove(&r);
                self.truncated
            }
            None => false,
        }
    }

    fn records(&self) -> impl Iterator<Item = &Arc<Held>> {
        self.named.values().chain(self.unnamed.values())
    }

    /// A kept unnamed record lapsed while others were let go.
    fn lapsed(&self, now_unix_ms: i64) -> bool {
        self.truncated && self.unnamed.values().any(|h| !h.is_in_force(now_unix_ms))
    }
}

/// One open application as the sets need it.
pub(super) struct App {
    destination: String,
    codes: Vec<String>,
    /// Every party's name and aliases, as scoring compares them.
    names: Vec<String>,
    denials: Side,
    alerts: Side,
}

impl App {
    pub fn new(license: &License, parties: &[RoleParty]) -> App {
        App {
            destination: license.destination.clone(),
            codes: license.codes(),
            names: parties.iter().flat_map(RoleParty::names).collect(),
            denials: Side::default(),
            alerts: Side::default(),
        }
    }

    /// How `h` counts here; names are compared only if `maybe_named` (the
    /// name index proposed this application for one of `h`'s names).
    fn classify(
        &self,
        m: &Methodology,
        threshold: f32,
        h: &Held,
        maybe_named: bool,
    ) -> Option<Class> {
        let named = maybe_named
            && self.names.iter().any(|ours| {
                h.parties
                    .iter()
                    .flatten()
                    .any(|theirs| score_names(ours, theirs) >= threshold)
            });
        if named {
            return Some(Class::Named);
        }
        let destination = h.destinations.contains(&self.destination);
        let items = self.codes.iter().any(|c| h.items.contains(c));
        (destination || items)
            .then(|| Class::Unnamed(score::unnamed_percent(m, h.severity, destination, items)))
    }

    fn side(&mut self, h: &Held) -> &mut Side {
        if h.is_alert() {
            &mut self.alerts
        } else {
            &mut self.denials
        }
    }
}

/// What one record changed.
#[derive(Default)]
pub(super) struct Applied {
    /// Applications whose set changed: to be re-scored.
    pub changed: BTreeSet<String>,
    /// Of those, the ones to refill from every record held first.
    pub needs_full: BTreeSet<String>,
}

impl Applied {
    pub fn extend(&mut self, other: Applied) {
        self.changed.extend(other.changed);
        self.needs_full.extend(other.needs_full);
    }
}

/// An application's place in [`Touching::slots`]: the indexes hold these,
/// not ids, so that following one record to hundreds of applications
/// allocates nothing per application.
type Slot = u32;

/// The sets and indexes of every open application (see the module docs).
pub(super) struct Touching {
    /// Application id and set, by slot; `None` once removed.
    slots: Vec<Option<(String, App)>>,
    ids: HashMap<String, Slot>,
    /// Destination and item code → applications.
    by_code: HashMap<String, BTreeSet<Slot>>,
    /// Party names of the applications present when it was built (entry
    /// source id: the slot); slots since removed or reused are skipped.
    names: ListIndex,
    /// Applications added since `names` was built.
    names_tail: Vec<Slot>,
    /// Record → the applications whose set holds it.
    by_record: HashMap<Key, BTreeSet<Slot>>,
    /// Built from the store since the last loss of announcements.
    pub ready: bool,
}

impl Default for Touching {
    fn default() -> Self {
        Touching {
            slots: Vec::new(),
            ids: HashMap::new(),
            by_code: HashMap::new(),
            names: ListIndex::build("open applications", Vec::new()),
            names_tail: Vec::new(),
            by_record: HashMap::new(),
            ready: false,
        }
    }
}

impl Touching {
    pub fn app_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.ids.keys().cloned().collect();
        ids.sort();
        ids
    }

    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    fn app(&self, id: &str) -> Option<&App> {
        let slot = *self.ids.get(id)?;
        self.slots.get(slot as usize)?.as_ref().map(|(_, a)| a)
    }

    /// Adds (or replaces) application `id` with an empty set; fill it with
    /// [`Touching::fill`].
    pub fn add_app(&mut self, id: &str, app: App) {
        self.remove_app(id);
        let slot = self.slots.len() as Slot;
        for code in std::iter::once(&app.destination).chain(&app.codes) {
            self.by_code.entry(code.clone()).or_default().insert(slot);
        }
        self.slots.push(Some((id.to_owned(), app)));
        self.ids.insert(id.to_owned(), slot);
        self.names_tail.push(slot);
        // Before the first sweep, the sweep builds the index once.
        if self.ready && self.names_tail.len() > NAMES_TAIL_MAX {
            self.rebuild_names();
        }
    }

    pub fn remove_app(&mut self, id: &str) {
        let Some(slot) = self.ids.remove(id) else {
            return;
        };
        let Some((_, app)) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        for code in std::iter::once(&app.destination).chain(&app.codes) {
            if let Some(slots) = self.by_code.get_mut(code) {
                slots.remove(&slot);
                if slots.is_empty() {
                    self.by_code.remove(code);
                }
            }
        }
        for h in app.denials.records().chain(app.alerts.records()) {
            unlink(&mut self.by_record, &h.key(), slot);
        }
        self.names_tail.retain(|t| *t != slot);
    }

    /// Rebuilds the name index over the applications present now.
    pub fn rebuild_names(&mut self) {
        let entries = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(slot, app)| {
                let (_, app) = app.as_ref()?;
                let (first, rest) = app.names.split_first()?;
                let mut e =
                    WatchlistEntry::new(slot.to_string(), EntityType::Unknown, first.clone());
                e.aliases = rest.to_vec();
                Some(IndexedEntry::from(e))
            })
            .collect();
        self.names = ListIndex::build("open applications", entries);
        self.names_tail.clear();
    }

    /// Applications `h` may touch, each with whether it may name one of
    /// their parties: a superset, decided by `App::classify`.
    fn candidates(&self, threshold: f32, h: &Held) -> Vec<(Slot, bool)> {
        let mut out: Vec<(Slot, bool)> = Vec::new();
        for code in h.destinations.iter().chain(&h.items) {
            if let Some(slots) = self.by_code.get(code) {
                out.extend(slots.iter().map(|s| (*s, false)));
            }
        }
        let filter = Filter {
            countries: &[],
            now_unix_ms: 0,
        };
        for theirs in h.parties.iter().flatten() {
            let q = PreparedQuery::new(theirs);
            let hits = self
                .names
                .search(&q, NAME_HITS, threshold - MARGIN, &filter);
            if hits.len() >= NAME_HITS {
                // Too common a name for the index's room: compare all.
                return (0..self.slots.len() as Slot).map(|s| (s, true)).collect();
            }
            out.extend(
                hits.iter()
                    .filter_map(|hit| hit.entry.entry.source_id.parse().ok())
                    .chain(self.names_tail.iter().copied())
                    .map(|s| (s, true)),
            );
        }
        // A name proposal wins over a code one for the same application.
        out.sort_unstable_by_key(|(s, named)| (*s, !named));
        out.dedup_by_key(|(s, _)| *s);
        out
    }

    /// Puts `h` into the sets of the applications it touches.
    fn insert(&mut self, m: &Methodology, threshold: f32, h: &Arc<Held>, out: &mut Applied) {
        for (slot, maybe_named) in self.candidates(threshold, h) {
            let Some(Some((id, app))) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            let Some(class) = app.classify(m, threshold, h, maybe_named) else {
                continue;
            };
            let (changed, let_go) = app.side(h).insert(class, h);
            if !changed {
                continue;
            }
            out.changed.insert(id.clone());
            if let Some(gone) = let_go {
                unlink(&mut self.by_record, &gone, slot);
            }
            self.by_record.entry(h.key()).or_default().insert(slot);
        }
    }

    /// Record `key` now stands as `now` (`None`: no longer counts —
    /// revoked, withdrawn, lapsed or not valid).
    pub fn apply(
        &mut self,
        m: &Methodology,
        threshold: f32,
        key: &Key,
        now: Option<&Arc<Held>>,
    ) -> Applied {
        let mut out = Applied::default();
        for slot in self.by_record.remove(key).unwrap_or_default() {
            if let Some(Some((id, app))) = self.slots.get_mut(slot as usize) {
                let denial = app.denials.remove(key);
                let alert = app.alerts.remove(key);
                if denial || alert {
                    out.needs_full.insert(id.clone());
                }
                out.changed.insert(id.clone());
            }
        }
        if let Some(h) = now {
            self.insert(m, threshold, h, &mut out);
        }
        out
    }

    /// The records kept in any set that are no longer in force at
    /// `now_unix_ms` (expired alerts, notices past their end date).
    pub fn lapsed(&self, now_unix_ms: i64) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .slots
            .iter()
            .flatten()
            .flat_map(|(_, app)| app.denials.records().chain(app.alerts.records()))
            .filter(|h| !h.is_in_force(now_unix_ms))
            .map(|h| h.key())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Fills every application's set from `world` (every record held), and
    /// marks the sets ready.
    pub fn sweep(&mut self, m: &Methodology, threshold: f32, world: &World) {
        self.rebuild_names();
        // Earliest first: once a set is full, each later record is
        // refused on one comparison instead of displacing the weakest.
        let mut held: Vec<&Arc<Held>> = world.held().collect();
        held.sort_by_cached_key(|h| score::IdOrder::of(&h.id));
        let mut ignored = Applied::default();
        for h in held {
            self.insert(m, threshold, h, &mut ignored);
            ignored.changed.clear();
        }
        self.ready = true;
    }

    /// Refills application `id`'s set from `world` (every record held).
    pub fn fill(&mut self, m: &Methodology, threshold: f32, id: &str, world: &World) {
        let Some(&slot) = self.ids.get(id) else {
            return;
        };
        let Some(Some((_, app))) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let old: Vec<Key> = app
            .denials
            .records()
            .chain(app.alerts.records())
            .map(|h| h.key())
            .collect();
        app.denials = Side::default();
        app.alerts = Side::default();
        for h in world.held() {
            if let Some(class) = app.classify(m, threshold, h, true) {
                app.side(h).insert(class, h);
            }
        }
        let linked: Vec<Key> = app
            .denials
            .records()
            .chain(app.alerts.records())
            .map(|h| h.key())
            .collect();
        for key in old {
            unlink(&mut self.by_record, &key, slot);
        }
        for key in linked {
            self.by_record.entry(key).or_default().insert(slot);
        }
    }

    /// The world application `id` is scored against: the records in its
    /// set. `None` if it has no set, or its set cannot stand for every
    /// record now (refill it first).
    pub fn world_of(&self, id: &str, lists: &[String], now_unix_ms: i64) -> Option<World> {
        let app = self.app(id)?;
        if app.denials.lapsed(now_unix_ms) || app.alerts.lapsed(now_unix_ms) {
            return None;
        }
        Some(World::of_set(
            app.denials.records().cloned().collect(),
            app.alerts.records().cloned().collect(),
            app.denials
                .named
                .keys()
                .chain(app.alerts.named.keys())
                .cloned()
                .collect(),
            lists.to_vec(),
            now_unix_ms,
        ))
    }
}

fn unlink(by_record: &mut HashMap<Key, BTreeSet<Slot>>, key: &Key, slot: Slot) {
    if let Some(slots) = by_record.get_mut(key) {
        slots.remove(&slot);
        if slots.is_empty() {
            by_record.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::records::Severity;

    fn app(destination: &str, name: &str) -> App {
        App {
            destination: destination.into(),
            codes: vec!["ML4".into()],
            names: vec![name.into()],
            denials: Side::default(),
            alerts: Side::default(),
        }
    }

    fn alert(id: &str, destination: &str, party: Option<&str>, until: Option<i64>) -> Arc<Held> {
        Arc::new(Held {
            id: id.into(),
            version: 0,
            issuer: "FR".into(),
            severity: Some(Severity::High),
            parties: party.map(|p| vec![p.to_owned()]).into_iter().collect(),
            destinations: vec![destination.into()],
            items: vec![],
            until_unix_ms: until,
        })
    }

    #[test]
    fn a_record_reaches_the_applications_it_touches_and_leaves_when_it_lapses() {
        let m = match crate::risk::methodology::Effective::baseline() {
            Ok(e) => e.methodology,
            Err(e) => panic!("{e:?}"),
        };
        let mut t = Touching::default();
        t.add_app("DE-L-1", app("AE", "Acme Trading FZE"));
        t.add_app("DE-L-2", app("RU", "Borealis Instruments"));
        t.sweep(&m, 0.85, &World::of(vec![], vec![], vec![], 0));
        let named = alert("FR-A-1", "KZ", Some("ACME TRADING FZE"), Some(5_000));
        let by_destination = alert("FR-A-2", "RU", None, None);
        let a = t.apply(&m, 0.85, &named.key(), Some(&named));
        assert_eq!(a.changed.into_iter().collect::<Vec<_>>(), ["DE-L-1"]);
        let b = t.apply(&m, 0.85, &by_destination.key(), Some(&by_destination));
        assert_eq!(b.changed.into_iter().collect::<Vec<_>>(), ["DE-L-2"]);
        assert!(t.lapsed(4_999).is_empty());
        assert_eq!(t.lapsed(5_000), [named.key()]);
        let gone = t.apply(&m, 0.85, &named.key(), None);
        assert_eq!(gone.changed.into_iter().collect::<Vec<_>>(), ["DE-L-1"]);
        assert!(t.lapsed(10_000).is_empty());
        // An application added after the sweep is found by name too.
        t.add_app("DE-L-3", app("BY", "Delta Kinetics"));
        let late = alert("FR-A-3", "KZ", Some("DELTA KINETICS"), None);
        let c = t.apply(&m, 0.85, &late.key(), Some(&late));
        assert_eq!(c.changed.into_iter().collect::<Vec<_>>(), ["DE-L-3"]);
    }
}
