//! Which held notices and alerts touch each open application, kept in
//! memory so that one new alert or denial notice re-scores only the
//! applications it touches, at the cost of what it touches (issue 13).
//!
//! An application's set is two parts. The records naming one of its
//! parties (at the lower of the hit and match thresholds, by the same
//! `score_names` as scoring) are kept with the application, all of them.
//! The records touching it by destination or items are kept with its
//! *profile* — destination and item codes — shared by every open
//! application with the same profile: the [`KEEP`] strongest of each kind,
//! since a factor lists no more than [`MAX_LISTED`] (`score::records`) and
//! one more tells it that more touch. A record naming a party may also be
//! among its profile's strongest; it then counts as naming, which the
//! methodology never rates below a touch by destination or items, so the
//! profile's strongest still hold every unnamed record the factor lists.
//! Scoring an application from its set gives what scoring it against every
//! record held gives; a test checks this after every kind of event.
//!
//! A record finds what it touches through indexes: destination and item
//! codes → profiles in a map, party names in the screening module's
//! [`ListIndex`] over the applications' parties (rebuilt once
//! [`NAMES_TAIL_MAX`] applications were added since; those are compared
//! one by one). A record's earlier version is found through the sets that
//! hold it. A record touching a thousand applications of one profile costs
//! one comparison, not a thousand.
//!
//! When a profile's strongest cannot answer alone — a record it let go
//! might now be among them, because one it kept was withdrawn or lapsed —
//! the profile is refilled from every record held, once for all its
//! applications. The sets are rebuilt from the store at start and whenever
//! the exchange's announcements were lost, so they never outlive what they
//! were built from. A new application's set is filled from every record
//! held (its names compared against each, on every core) and scored from;
//! decisions do not read the sets: a decision re-scores against every
//! record held.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::assess::{Held, RoleParty, World};
use super::methodology::Methodology;
use super::score::{self, MAX_LISTED};
use crate::exchange::{Record, RecordView};
use crate::licensing::License;
use crate::screening::entry::{EntityType, WatchlistEntry};
use crate::screening::index::{Filter, IndexedEntry, ListIndex, PreparedQuery};
use crate::screening::score::Tok;

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
/// Applications first asked of the name index per name (it scores four
/// times as many candidates); see `Touching::may_name`.
const NAME_HITS: usize = 16;
/// Unnamed records kept per profile and kind: as many as a factor lists,
/// and one more so that it says more touch.
const KEEP: usize = MAX_LISTED + 1;
/// Records whose names the sweep compares in parallel before applying them.
const SWEEP_CHUNK: usize = 4_096;

fn is(h: &Held, key: &Key) -> bool {
    h.issuer == key.0 && h.id == key.1
}

/// An unnamed record with what it adds, ordered as a factor lists records:
/// strongest first, then by id (see `score::listing_order`), then issuer.
/// Holds the record itself rather than a copy of its id, so that a
/// profile's hundred records cost a hundred pointers.
#[derive(Clone)]
struct Ranked {
    percent: u32,
    h: Arc<Held>,
}

impl Ranked {
    fn order(&self, percent: u32, h: &Held) -> std::cmp::Ordering {
        percent
            .cmp(&self.percent)
            .then_with(|| score::cmp_ids(&self.h.id, &h.id))
            .then_with(|| self.h.issuer.cmp(&h.issuer))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order(other.percent, &other.h)
    }
}

/// The strongest unnamed records of one kind for one profile.
#[derive(Default)]
struct Strongest {
    kept: BTreeSet<Ranked>,
    /// A record was let go: `kept` is the strongest, not all.
    truncated: bool,
}

impl Strongest {
    /// Keeps `h` (not kept yet) if it is among the strongest; returns
    /// whether the set changed and the key it let go.
    fn insert(&mut self, percent: u32, h: &Arc<Held>) -> (bool, Option<Key>) {
        if self.kept.len() >= KEEP {
            self.truncated = true;
            // Weaker than all it keeps: nothing changes.
            if self
                .kept
                .last()
                .is_some_and(|w| w.order(percent, h).is_lt())
            {
                return (false, None);
            }
        }
        self.kept.insert(Ranked {
            percent,
            h: h.clone(),
        });
        if self.kept.len() <= KEEP {
            return (true, None);
        }
        (true, self.kept.pop_last().map(|r| r.h.key()))
    }

    /// Drops `key` if kept; `Some(true)` if the set can no longer stand for
    /// every record (it let some go, and one it kept leaves).
    fn remove(&mut self, key: &Key) -> Option<bool> {
        let r = self.kept.iter().find(|r| is(&r.h, key))?.clone();
        self.kept.remove(&r);
        Some(self.truncated)
    }

    fn records(&self) -> impl Iterator<Item = &Arc<Held>> {
        self.kept.iter().map(|r| &r.h)
    }

    /// A kept record lapsed while others were let go.
    fn lapsed(&self, now_unix_ms: i64) -> bool {
        self.truncated && self.records().any(|h| !h.is_in_force(now_unix_ms))
    }
}

/// Destination and sorted item codes: what unnamed records are ranked by.
type Profile = (String, Vec<String>);

/// The open applications of one profile and its strongest records.
struct Group {
    destination: String,
    codes: Vec<String>,
    denials: Strongest,
    alerts: Strongest,
    apps: BTreeSet<Slot>,
    /// Filled from every record held (or by the sweep), and not since
    /// emptied of a record it cannot replace.
    filled: bool,
}

impl Group {
    /// What `h` adds here if it touches the profile.
    fn percent(&self, m: &Methodology, h: &Held) -> Option<u32> {
        let destination = h.destinations.contains(&self.destination);
        let items = self.codes.iter().any(|c| h.items.contains(c));
        (destination || items).then(|| score::unnamed_percent(m, h.severity, destination, items))
    }

    fn side(&mut self, h: &Held) -> &mut Strongest {
        if h.is_alert() {
            &mut self.alerts
        } else {
            &mut self.denials
        }
    }

    fn records(&self) -> impl Iterator<Item = &Arc<Held>> {
        self.denials.records().chain(self.alerts.records())
    }

    /// Refills from `held` (every record in force).
    fn fill(&mut self, m: &Methodology, held: &[&Arc<Held>]) {
        self.denials = Strongest::default();
        self.alerts = Strongest::default();
        for h in held {
            if let Some(percent) = self.percent(m, h) {
                self.side(h).insert(percent, h);
            }
        }
        self.filled = true;
    }

    fn can_stand(&self, now_unix_ms: i64) -> bool {
        self.filled && !self.denials.lapsed(now_unix_ms) && !self.alerts.lapsed(now_unix_ms)
    }
}

/// One open application as the sets need it.
pub(super) struct App {
    profile: Profile,
    /// Every party's name and aliases, as scoring compares them.
    names: Vec<String>,
    /// The same, tokenized as `score_names` does, once.
    tokens: Vec<Vec<Tok>>,
    /// The records naming one of its parties, both kinds.
    named: BTreeMap<Key, Arc<Held>>,
    /// Compared against every record held (or by the sweep).
    filled: bool,
    group: GroupId,
}

impl App {
    pub fn new(license: &License, parties: &[RoleParty]) -> App {
        let mut codes = license.codes();
        codes.sort();
        codes.dedup();
        App {
            profile: (license.destination.clone(), codes),
            ..App::of_names(parties.iter().flat_map(RoleParty::names).collect())
        }
    }

    /// An application with these names and no profile yet.
    fn of_names(names: Vec<String>) -> App {
        App {
            profile: Profile::default(),
            tokens: names.iter().map(|n| prepared(n)).collect(),
            names,
            named: BTreeMap::new(),
            filled: false,
            group: 0,
        }
    }

    /// Whether `h` names one of the parties: `score_names` over tokens, the
    /// application's prepared once, each of `h`'s names once per call.
    fn names(&self, threshold: f32, h: &Held) -> bool {
        h.parties.iter().flatten().any(|theirs| {
            let theirs = prepared(theirs);
            let c: Vec<&Tok> = theirs.iter().collect();
            self.tokens.iter().any(|ours| {
                let q: Vec<&Tok> = ours.iter().collect();
                crate::screening::score::score(&q, &c).score >= threshold
            })
        })
    }
}

/// What one record changed.
#[derive(Default)]
pub(super) struct Applied {
    /// Applications whose set changed: to be re-scored.
    pub changed: BTreeSet<String>,
}

impl Applied {
    pub fn extend(&mut self, other: Applied) {
        self.changed.extend(other.changed);
    }
}

/// An application's place in [`Touching::slots`]: the indexes hold these,
/// not ids, so that following one record to hundreds of applications
/// allocates nothing per application.
type Slot = u32;
/// A profile's place in [`Touching::groups`].
type GroupId = u32;

/// The sets and indexes of every open application (see the module docs).
pub(super) struct Touching {
    /// Application id and set, by slot; `None` once removed.
    slots: Vec<Option<(String, App)>>,
    ids: HashMap<String, Slot>,
    /// Profiles by place; `None` once their last application left.
    groups: Vec<Option<Group>>,
    group_ids: HashMap<Profile, GroupId>,
    /// Destination and item code → profiles.
    by_code: HashMap<String, BTreeSet<GroupId>>,
    /// Party names of the applications present when it was built (entry
    /// source id: the slot); slots since removed or reused are skipped.
    names: ListIndex,
    /// Applications added since `names` was built.
    names_tail: Vec<Slot>,
    /// Record → the applications it names.
    named_by: HashMap<Key, BTreeSet<Slot>>,
    /// Record → the profiles keeping it among their strongest.
    kept_by: HashMap<Key, BTreeSet<GroupId>>,
    /// Every record held that counts, as the sweep read it and `apply`
    /// has kept it since: what a new application or a profile that cannot
    /// stand is filled from, without reading the store again.
    held: HashMap<Key, Arc<Held>>,
    /// Built from the store since the last loss of announcements.
    pub ready: bool,
}

impl Default for Touching {
    fn default() -> Self {
        Touching {
            slots: Vec::new(),
            ids: HashMap::new(),
            groups: Vec::new(),
            group_ids: HashMap::new(),
            by_code: HashMap::new(),
            names: ListIndex::build("open applications", Vec::new()),
            names_tail: Vec::new(),
            named_by: HashMap::new(),
            kept_by: HashMap::new(),
            held: HashMap::new(),
            ready: false,
        }
    }
}

impl Touching {
    /// The denials naming one of application `id`'s parties (issuer, id),
    /// when its set is complete: the sets are built and the application's
    /// was filled from every record held. None otherwise.
    pub fn named_denials(&self, id: &str) -> Option<Vec<Key>> {
        if !self.ready {
            return None;
        }
        let app = self.app(id)?;
        if !app.filled {
            return None;
        }
        Some(
            app.named
                .iter()
                .filter(|(_, h)| h.severity.is_none())
                .map(|(k, _)| k.clone())
                .collect(),
        )
    }

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

    fn group(&self, g: GroupId) -> Option<&Group> {
        self.groups.get(g as usize)?.as_ref()
    }

    /// Adds (or replaces) application `id` with an empty set; fill it with
    /// [`Touching::fill`].
    pub fn add_app(&mut self, id: &str, mut app: App) {
        self.remove_app(id);
        let slot = self.slots.len() as Slot;
        app.group = self.group_for(&app.profile);
        if let Some(Some(g)) = self.groups.get_mut(app.group as usize) {
            g.apps.insert(slot);
        }
        self.slots.push(Some((id.to_owned(), app)));
        self.ids.insert(id.to_owned(), slot);
        self.names_tail.push(slot);
        // Before the first sweep, the sweep builds the index once.
        if self.ready && self.names_tail.len() > NAMES_TAIL_MAX {
            self.rebuild_names();
        }
    }

    /// The profile's group, made (empty, to be filled) if it has none.
    fn group_for(&mut self, profile: &Profile) -> GroupId {
        if let Some(g) = self.group_ids.get(profile) {
            return *g;
        }
        let g = self.groups.len() as GroupId;
        let (destination, codes) = profile.clone();
        for code in std::iter::once(&destination).chain(&codes) {
            self.by_code.entry(code.clone()).or_default().insert(g);
        }
        self.groups.push(Some(Group {
            destination,
            codes,
            denials: Strongest::default(),
            alerts: Strongest::default(),
            apps: BTreeSet::new(),
            filled: false,
        }));
        self.group_ids.insert(profile.clone(), g);
        g
    }

    pub fn remove_app(&mut self, id: &str) {
        let Some(slot) = self.ids.remove(id) else {
            return;
        };
        let Some((_, app)) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        for key in app.named.keys() {
            unlink(&mut self.named_by, key, slot);
        }
        self.names_tail.retain(|t| *t != slot);
        let Some(Some(group)) = self.groups.get_mut(app.group as usize) else {
            return;
        };
        group.apps.remove(&slot);
        if !group.apps.is_empty() {
            return;
        }
        let Some(group) = self
            .groups
            .get_mut(app.group as usize)
            .and_then(Option::take)
        else {
            return;
        };
        for code in std::iter::once(&group.destination).chain(&group.codes) {
            unlink(&mut self.by_code, code, app.group);
        }
        for h in group.records() {
            unlink(&mut self.kept_by, &h.key(), app.group);
        }
        self.group_ids.remove(&app.profile);
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

    /// Applications whose parties `h` may name: a superset, decided by
    /// `App::names`. The index is asked for [`NAME_HITS`] per name, then
    /// for sixteen times as many if that many came back; a name matching
    /// even those is compared against every application, so none is missed
    /// for want of room.
    fn may_name(&self, threshold: f32, h: &Held) -> Vec<Slot> {
        let mut out: Vec<Slot> = Vec::new();
        let filter = Filter {
            countries: &[],
            now_unix_ms: 0,
        };
        for theirs in h.parties.iter().flatten() {
            let q = PreparedQuery::new(theirs);
            let mut hits = Vec::new();
            for room in [NAME_HITS, 16 * NAME_HITS] {
                hits = self.names.search(&q, room, threshold - MARGIN, &filter);
                if hits.len() < room {
                    break;
                }
            }
            if hits.len() >= 16 * NAME_HITS {
                return (0..self.slots.len() as Slot).collect();
            }
            out.extend(
                hits.iter()
                    .filter_map(|hit| hit.entry.entry.source_id.parse::<Slot>().ok())
                    .chain(self.names_tail.iter().copied()),
            );
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The applications whose parties `h` names.
    fn named(&self, threshold: f32, h: &Held) -> Vec<Slot> {
        let mut out = self.may_name(threshold, h);
        out.retain(|slot| {
            self.slots
                .get(*slot as usize)
                .and_then(Option::as_ref)
                .is_some_and(|(_, app)| app.names(threshold, h))
        });
        out
    }

    /// The profiles `h` touches by destination or items.
    fn profiles(&self, h: &Held) -> Vec<GroupId> {
        let mut out: Vec<GroupId> = h
            .destinations
            .iter()
            .chain(&h.items)
            .filter_map(|code| self.by_code.get(code))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Puts `h` into the sets of the applications it touches, adding to
    /// `changed` the applications whose set changed.
    fn insert(
        &mut self,
        m: &Methodology,
        threshold: f32,
        h: &Arc<Held>,
        changed: Option<&mut BTreeSet<Slot>>,
    ) {
        let named = self.named(threshold, h);
        self.insert_named(m, h, &named, changed);
    }

    /// [`Touching::insert`] with the applications `h` names found already.
    fn insert_named(
        &mut self,
        m: &Methodology,
        h: &Arc<Held>,
        named: &[Slot],
        mut changed: Option<&mut BTreeSet<Slot>>,
    ) {
        for &slot in named {
            let Some(Some((_, app))) = self.slots.get_mut(slot as usize) else {
                continue;
            };
            app.named.insert(h.key(), h.clone());
            self.named_by.entry(h.key()).or_default().insert(slot);
            if let Some(c) = changed.as_deref_mut() {
                c.insert(slot);
            }
        }
        for g in self.profiles(h) {
            let Some(Some(group)) = self.groups.get_mut(g as usize) else {
                continue;
            };
            let Some(percent) = group.percent(m, h) else {
                continue;
            };
            let (kept, let_go) = group.side(h).insert(percent, h);
            if !kept {
                continue;
            }
            if let Some(c) = changed.as_deref_mut() {
                c.extend(group.apps.iter().copied());
            }
            if let Some(gone) = let_go {
                unlink(&mut self.kept_by, &gone, g);
            }
            self.kept_by.entry(h.key()).or_default().insert(g);
        }
    }

    fn ids_of(&self, slots: BTreeSet<Slot>) -> BTreeSet<String> {
        slots
            .into_iter()
            .filter_map(|s| Some(self.slots.get(s as usize)?.as_ref()?.0.clone()))
            .collect()
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
        let mut changed = BTreeSet::new();
        for slot in self.named_by.remove(key).unwrap_or_default() {
            if let Some(Some((_, app))) = self.slots.get_mut(slot as usize) {
                app.named.remove(key);
                changed.insert(slot);
            }
        }
        for g in self.kept_by.remove(key).unwrap_or_default() {
            if let Some(Some(group)) = self.groups.get_mut(g as usize) {
                let truncated = group.denials.remove(key).or(group.alerts.remove(key));
                if truncated == Some(true) {
                    // Refilled when one of its applications is scored next.
                    group.filled = false;
                }
                changed.extend(group.apps.iter().copied());
            }
        }
        self.held.remove(key);
        if let Some(h) = now {
            self.held.insert(h.key(), h.clone());
            self.insert(m, threshold, h, Some(&mut changed));
        }
        Applied {
            changed: self.ids_of(changed),
        }
    }

    /// The records kept in any set that are no longer in force at
    /// `now_unix_ms` (expired alerts, notices past their end date).
    pub fn lapsed(&self, now_unix_ms: i64) -> Vec<Key> {
        let named = self
            .slots
            .iter()
            .flatten()
            .flat_map(|(_, app)| app.named.values());
        let kept = self.groups.iter().flatten().flat_map(Group::records);
        let mut keys: Vec<Key> = named
            .chain(kept)
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
        // Earliest first: once a profile is full, each later record is
        // refused on one comparison instead of displacing the weakest.
        self.held = world.held().map(|h| (h.key(), h.clone())).collect();
        let mut held: Vec<&Arc<Held>> = world.held().collect();
        held.sort_by_cached_key(|h| score::IdOrder::of(&h.id));
        // Comparing names is most of the work and reads the sets only:
        // done on every core a chunk at a time, then applied in order.
        for chunk in held.chunks(SWEEP_CHUNK) {
            let this = &*self;
            // A part whose comparison panicked comes back empty; the chunk
            // is then compared again below, here, where a panic is the
            // caller's to see.
            let named: Vec<Vec<Slot>> = crate::parallel::by_core(chunk, 2, |part| {
                part.iter()
                    .map(|h| this.named(threshold, h))
                    .collect::<Vec<_>>()
            })
            .into_iter()
            .flat_map(|r| r.unwrap_or_default())
            .collect();
            if named.len() != chunk.len() {
                for h in chunk {
                    self.insert(m, threshold, h, None);
                }
                continue;
            }
            for (h, named) in chunk.iter().zip(&named) {
                self.insert_named(m, h, named, None);
            }
        }
        for (_, app) in self.slots.iter_mut().flatten() {
            app.filled = true;
        }
        for g in self.groups.iter_mut().flatten() {
            g.filled = true;
        }
        self.ready = true;
    }

    /// Makes application `id`'s set stand for every record held at
    /// `now_unix_ms`: compares its names against every record if it was
    /// not yet, and refills its profile if that cannot stand.
    pub fn fill(&mut self, m: &Methodology, threshold: f32, id: &str, now_unix_ms: i64) {
        let Some(&slot) = self.ids.get(id) else {
            return;
        };
        let Some(Some((_, app))) = self.slots.get_mut(slot as usize) else {
            return;
        };
        let g = app.group;
        let held: Vec<&Arc<Held>> = self
            .held
            .values()
            .filter(|h| h.is_in_force(now_unix_ms))
            .collect();
        if !app.filled {
            let naming = naming(app, threshold, &held);
            let old = std::mem::replace(
                &mut app.named,
                naming.into_iter().map(|h| (h.key(), h)).collect(),
            );
            app.filled = true;
            let linked: Vec<Key> = app.named.keys().cloned().collect();
            for key in old.keys() {
                unlink(&mut self.named_by, key, slot);
            }
            for key in linked {
                self.named_by.entry(key).or_default().insert(slot);
            }
        }
        let Some(Some(group)) = self.groups.get_mut(g as usize) else {
            return;
        };
        if group.can_stand(now_unix_ms) {
            return;
        }
        let old: Vec<Key> = group.records().map(|h| h.key()).collect();
        group.fill(m, &held);
        let linked: Vec<Key> = group.records().map(|h| h.key()).collect();
        for key in old {
            unlink(&mut self.kept_by, &key, g);
        }
        for key in linked {
            self.kept_by.entry(key).or_default().insert(g);
        }
    }

    /// The world application `id` is scored against: the records naming
    /// its parties and its profile's strongest. `None` if it has no set, or
    /// its set cannot stand for every record now (fill it first).
    pub fn world_of(&self, id: &str, lists: &[String], now_unix_ms: i64) -> Option<World> {
        let app = self.app(id)?;
        let group = self.group(app.group)?;
        if !app.filled || !group.can_stand(now_unix_ms) {
            return None;
        }
        let mut denials: Vec<Arc<Held>> = Vec::new();
        let mut alerts: Vec<Arc<Held>> = Vec::new();
        let unnamed = group
            .records()
            .filter(|h| !app.named.contains_key(&h.key()));
        for h in app.named.values().chain(unnamed) {
            if h.is_alert() {
                alerts.push(h.clone());
            } else {
                denials.push(h.clone());
            }
        }
        Some(World::of_set(
            denials,
            alerts,
            app.named.keys().cloned().collect(),
            lists.to_vec(),
            now_unix_ms,
        ))
    }
}

/// The records of `held` naming one of `app`'s parties, compared on every
/// core: what a new application costs is this one pass over every record.
fn naming(app: &App, threshold: f32, held: &[&Arc<Held>]) -> Vec<Arc<Held>> {
    let find = |part: &[&Arc<Held>]| -> Vec<Arc<Held>> {
        part.iter()
            .filter(|h| app.names(threshold, h))
            .map(|h| Arc::clone(h))
            .collect()
    };
    // A part whose comparison panicked comes back empty: compare all of
    // them again here, where a panic is the caller's to see.
    let parts = crate::parallel::by_core(held, SWEEP_CHUNK, find);
    if parts.iter().any(|p| p.is_err()) {
        return find(held);
    }
    parts
        .into_iter()
        .flat_map(|p| p.unwrap_or_default())
        .collect()
}

/// A name's tokens as `score_names` compares them.
fn prepared(name: &str) -> Vec<Tok> {
    crate::screening::normalize::tokens(name)
        .iter()
        .map(Tok::new)
        .collect()
}

fn unlink<K: std::hash::Hash + Eq, V: Ord>(map: &mut HashMap<K, BTreeSet<V>>, key: &K, value: V) {
    if let Some(values) = map.get_mut(key) {
        values.remove(&value);
        if values.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::records::Severity;

    fn app(destination: &str, name: &str) -> App {
        App {
            profile: (destination.into(), vec!["ML4".into()]),
            ..App::of_names(vec![name.into()])
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
