//! The in-memory index of held records' party names, so that a cleartext
//! party question costs what it returns rather than a walk over every held
//! record (issue 13).
//!
//! What is indexed: each held denial version's party (name and aliases) and
//! each held alert version's subject parties, in the screening module's
//! [`ListIndex`] (one list for denials, one for alerts); and each alert's
//! destination, item and shipment codes in a map. Every indexed entry names
//! the record version it came from (issuer in `IndexedEntry::issuer`,
//! sequence number in the entry's `source_id`). The index only proposes
//! candidates: `matching::find` loads each through the exchange (only if it
//! is still the current version and may leave this node), decides
//! need-to-know on the header and scores with `matching::score`, as the scan
//! does.
//!
//! How it is kept current: segments (immutable `ListIndex`es) plus a tail
//! of records stored since, scanned linearly. A background task (started
//! with the task forces) builds the first segment from a full read of the
//! held records, then every [`TICK`] moves what `Exchange::watch` announced
//! into the tail; once the tail holds [`TAIL_MAX`] records it is built,
//! with the newest segments of comparable size, into one new segment off
//! the async workers (`spawn_blocking`), so there are O(log n) segments. A
//! question drains the watch too before reading, so a record stored before
//! the question is asked is found. A watcher that fell behind (`Lagged`)
//! means announcements were lost: questions wait until a full rebuild
//! completes; a failed build makes questions fall back to the scan.
//!
//! Superseded versions (amendments, revocations) and purged records stay in
//! their segment until the next full rebuild; the load by current version
//! drops them.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::matching::{self, MATCH_THRESHOLD};
use super::model::Query;
use super::MAX_ENTRIES;
use crate::exchange::records::Party;
use crate::exchange::{Exchange, Record, RecordKind, RecordView};
use crate::identity::Jurisdiction;
use crate::screening::entry::{EntityType, WatchlistEntry};
use crate::screening::index::{Filter, IndexedEntry, ListIndex, PreparedQuery};

/// Records in the tail before it is built into a segment.
pub const TAIL_MAX: usize = 1_024;
/// How often the background task reads the watch.
pub const TICK: Duration = Duration::from_millis(100);
/// Entries asked of each index list per question. At most [`MAX_ENTRIES`]
/// matches matter to an answer; the list scores exactly its best
/// `4 × LIMIT` candidate names (`ListIndex::search`), so a question whose
/// name is shared (above the threshold) by more than about `LIMIT` record
/// versions of one kind may miss some of them — the answer is truncated at
/// [`MAX_ENTRIES`] then anyway.
pub const LIMIT: usize = 4 * MAX_ENTRIES;
/// Index hits below this are not loaded (a margin under the threshold; the
/// final score is `matching::score`'s).
const FLOOR: f32 = MATCH_THRESHOLD - 0.05;

/// One held record version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub issuer: Jurisdiction,
    pub seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Building,
    Ready,
    /// The last full build failed; questions scan until one succeeds.
    Failed,
}

struct Tail {
    version: Version,
    record: Record,
}

/// Names of a set of record versions.
struct Segment {
    denials: ListIndex,
    alerts: ListIndex,
    /// An alert's destination, item and shipment codes, trimmed, ASCII upper case.
    codes: HashMap<String, Vec<Version>>,
    records: usize,
}

#[derive(Default)]
struct SegmentBuilder {
    denials: Vec<IndexedEntry>,
    alerts: Vec<IndexedEntry>,
    codes: HashMap<String, Vec<Version>>,
    records: usize,
}

fn entry(v: &Version, party: &Party) -> IndexedEntry {
    let mut e = WatchlistEntry::new(v.seq.to_string(), EntityType::Unknown, party.name.clone());
    e.aliases = party.aliases.clone();
    IndexedEntry {
        entry: e,
        expires_at_unix_ms: None,
        issuer: Some(v.issuer.clone()),
    }
}

fn code_key(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

impl SegmentBuilder {
    fn add(&mut self, v: &Version, record: &Record) {
        match record {
            Record::Denial(d) => self.denials.push(entry(v, &d.party)),
            Record::Alert(a) => {
                let s = &a.subjects;
                self.alerts.extend(s.parties.iter().map(|p| entry(v, p)));
                for code in s.destinations.iter().chain(&s.items).chain(&s.shipments) {
                    self.codes
                        .entry(code_key(code))
                        .or_default()
                        .push(v.clone());
                }
            }
            Record::Consultation(_) => return,
        }
        self.records += 1;
    }

    fn add_segment(&mut self, s: &Segment) {
        self.denials.extend_from_slice(s.denials.entries());
        self.alerts.extend_from_slice(s.alerts.entries());
        for (code, versions) in &s.codes {
            self.codes
                .entry(code.clone())
                .or_default()
                .extend_from_slice(versions);
        }
        self.records += s.records;
    }

    fn build(self) -> Segment {
        Segment {
            denials: ListIndex::build("held denials", self.denials),
            alerts: ListIndex::build("held alerts", self.alerts),
            codes: self.codes,
            records: self.records,
        }
    }
}

/// Every current held record that may leave this node, as one segment.
fn full_segment(exchange: &Exchange) -> crate::error::Result<Segment> {
    let mut b = SegmentBuilder::default();
    for kind in [RecordKind::Denial, RecordKind::Alert] {
        for held in exchange.disclosable_current(kind) {
            let held = held?;
            let Ok(record) = Record::decode_signed(&held.header, &held.envelope.body) else {
                continue;
            };
            let v = Version {
                issuer: held.header.issuer.clone(),
                seq: held.header.seq,
            };
            b.add(&v, &record);
        }
    }
    Ok(b.build())
}

/// What one question reads: the segments and tail at the time it was asked.
pub struct NamesView {
    segments: Vec<Arc<Segment>>,
    tail: Vec<Arc<Tail>>,
}

impl NamesView {
    /// The record versions that may match `query`, or `None` for questions
    /// the index does not serve (blind questions, whose keyed hashes differ
    /// per task force, and denial questions without a party): those scan.
    pub fn candidates(&self, query: &Query) -> Option<BTreeSet<Version>> {
        let (name, denials, alerts, code) = match query {
            Query::Party { name } => (name.as_str(), true, true, false),
            Query::Denials {
                party: Some(name), ..
            } => (name.as_str(), true, false, false),
            Query::Alerts { subject } => (subject.as_str(), false, true, true),
            Query::Denials { party: None, .. } | Query::BlindParty { .. } => return None,
        };
        let q = PreparedQuery::new(name);
        let filter = Filter {
            countries: &[],
            now_unix_ms: 0,
        };
        let mut out = BTreeSet::new();
        for s in &self.segments {
            let lists = [(denials, &s.denials), (alerts, &s.alerts)];
            for (_, list) in lists.into_iter().filter(|(wanted, _)| *wanted) {
                for hit in list.search(&q, LIMIT, FLOOR, &filter) {
                    let (Some(issuer), Ok(seq)) =
                        (&hit.entry.issuer, hit.entry.entry.source_id.parse())
                    else {
                        continue;
                    };
                    out.insert(Version {
                        issuer: issuer.clone(),
                        seq,
                    });
                }
            }
            if code {
                if let Some(versions) = s.codes.get(&code_key(name)) {
                    out.extend(versions.iter().cloned());
                }
            }
        }
        for t in &self.tail {
            if matching::score(query, &t.record).is_some() {
                out.insert(t.version.clone());
            }
        }
        Some(out)
    }
}

/// The index of one node's held records (see the module docs).
pub struct HeldNames {
    inner: Arc<Inner>,
}

struct Inner {
    exchange: Arc<Exchange>,
    /// [`TAIL_MAX`], smaller in tests.
    tail_max: usize,
    state: Mutex<State>,
    status: watch::Sender<Status>,
}

struct State {
    rx: broadcast::Receiver<RecordView>,
    segments: Vec<Arc<Segment>>,
    tail: Vec<Arc<Tail>>,
    /// Announcements were lost: a full rebuild is due.
    resync: bool,
    started: bool,
}

impl State {
    /// Moves what the exchange announced into the tail.
    fn drain(&mut self, status: &watch::Sender<Status>) {
        loop {
            match self.rx.try_recv() {
                Ok(view) => {
                    if view.header.kind == RecordKind::Consultation {
                        continue;
                    }
                    self.tail.push(Arc::new(Tail {
                        version: Version {
                            issuer: view.header.issuer.clone(),
                            seq: view.header.seq,
                        },
                        record: view.record,
                    }));
                }
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "task-force name index fell behind the store; rebuilding"
                    );
                    self.resync = true;
                    status.send_replace(Status::Building);
                }
                Err(_) => return,
            }
        }
    }
}

fn lock(inner: &Inner) -> std::sync::MutexGuard<'_, State> {
    inner.state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A job of the background task and what it replaces when done.
enum Job {
    /// Replaces every segment.
    Full(JoinHandle<crate::error::Result<Segment>>),
    /// Replaces the newest `segments` segments and the first `tail` tail records.
    Merge {
        handle: JoinHandle<Segment>,
        segments: usize,
        tail: usize,
    },
}

impl HeldNames {
    /// Subscribes to `exchange`'s stored records now; the index is built
    /// once [`HeldNames::start`] runs (or the first question asks).
    pub fn new(exchange: Arc<Exchange>) -> HeldNames {
        HeldNames::with_tail(exchange, TAIL_MAX)
    }

    fn with_tail(exchange: Arc<Exchange>, tail_max: usize) -> HeldNames {
        let rx = exchange.watch();
        HeldNames {
            inner: Arc::new(Inner {
                exchange,
                tail_max: tail_max.max(1),
                state: Mutex::new(State {
                    rx,
                    segments: Vec::new(),
                    tail: Vec::new(),
                    resync: false,
                    started: false,
                }),
                status: watch::channel(Status::Building).0,
            }),
        }
    }

    /// Starts the background build and upkeep, if there is a runtime to run
    /// it and it is not running yet.
    pub fn start(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        {
            let mut state = lock(&self.inner);
            if state.started {
                return;
            }
            state.started = true;
        }
        runtime.spawn(maintain(Arc::downgrade(&self.inner)));
    }

    /// What a question reads, once the index is complete; `None` if it
    /// cannot be built (the question scans).
    pub async fn view(&self) -> Option<NamesView> {
        self.start();
        let mut status = self.inner.status.subscribe();
        loop {
            let now = *status.wait_for(|s| *s != Status::Building).await.ok()?;
            if now == Status::Failed {
                return None;
            }
            let mut state = lock(&self.inner);
            state.drain(&self.inner.status);
            if state.resync {
                continue;
            }
            return Some(NamesView {
                segments: state.segments.clone(),
                tail: state.tail.clone(),
            });
        }
    }
}

#[cfg(test)]
impl HeldNames {
    /// An index whose tail is built into a segment every `tail_max` records.
    pub(super) fn with_small_tail(exchange: Arc<Exchange>, tail_max: usize) -> HeldNames {
        HeldNames::with_tail(exchange, tail_max)
    }

    /// Records in each segment, oldest first, and in the tail.
    pub(super) fn shape(&self) -> (Vec<usize>, usize) {
        let state = lock(&self.inner);
        let segments = state.segments.iter().map(|s| s.records).collect();
        (segments, state.tail.len())
    }
}

async fn maintain(inner: Weak<Inner>) {
    let mut job: Option<Job> = None;
    let mut first = true;
    let mut retry = false;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let done = tokio::select! {
            _ = tick.tick() => None,
            done = finish(&mut job) => Some(done),
        };
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let mut state = lock(&inner);
        if let Some(done) = done {
            let resync = state.resync;
            match (job.take(), done) {
                // Announcements were lost while the job ran: its result is stale.
                (_, Done::Full(Ok(Ok(_))) | Done::Merge(Ok(_))) if resync => {}
                (Some(Job::Full(_)), Done::Full(Ok(Ok(segment)))) => {
                    state.segments = vec![Arc::new(segment)];
                    inner.status.send_replace(Status::Ready);
                }
                (_, Done::Full(failed)) => {
                    let why = match failed {
                        Ok(Err(e)) => e.to_string(),
                        Err(e) => e.to_string(),
                        Ok(Ok(_)) => "no build was running".to_owned(),
                    };
                    tracing::warn!(error = %why, "task-force name index build failed; questions scan");
                    state.resync = true;
                    retry = true;
                    inner.status.send_replace(Status::Failed);
                }
                (Some(Job::Merge { segments, tail, .. }), Done::Merge(Ok(segment))) => {
                    let keep = state.segments.len().saturating_sub(segments);
                    state.segments.truncate(keep);
                    state.segments.push(Arc::new(segment));
                    let tail = tail.min(state.tail.len());
                    state.tail.drain(..tail);
                }
                (_, Done::Merge(failed)) => {
                    if let Err(e) = failed {
                        tracing::warn!(error = %e, "task-force name index merge failed; rebuilding");
                    }
                    state.resync = true;
                }
            }
        }
        state.drain(&inner.status);
        if job.is_some() {
            continue;
        }
        if first || state.resync {
            if !first {
                state.rx = inner.exchange.watch();
                state.tail.clear();
            }
            first = false;
            state.resync = false;
            if *inner.status.borrow() != Status::Failed {
                inner.status.send_replace(Status::Building);
            }
            let exchange = inner.exchange.clone();
            let delay = if retry {
                Duration::from_secs(1)
            } else {
                Duration::ZERO
            };
            retry = false;
            job = Some(Job::Full(tokio::task::spawn_blocking(move || {
                std::thread::sleep(delay);
                full_segment(&exchange)
            })));
        } else if state.tail.len() >= inner.tail_max {
            let tail: Vec<Arc<Tail>> = state.tail.clone();
            let mut size = tail.len();
            let mut merged = 0;
            for s in state.segments.iter().rev() {
                if s.records > 2 * size {
                    break;
                }
                size += s.records;
                merged += 1;
            }
            let parts: Vec<Arc<Segment>> = state.segments[state.segments.len() - merged..].to_vec();
            let tail_len = tail.len();
            job = Some(Job::Merge {
                handle: tokio::task::spawn_blocking(move || {
                    let mut b = SegmentBuilder::default();
                    for p in &parts {
                        b.add_segment(p);
                    }
                    for t in &tail {
                        b.add(&t.version, &t.record);
                    }
                    b.build()
                }),
                segments: merged,
                tail: tail_len,
            });
        }
    }
}

enum Done {
    Full(Result<crate::error::Result<Segment>, tokio::task::JoinError>),
    Merge(Result<Segment, tokio::task::JoinError>),
}

/// The running job's outcome; never resolves when there is none.
async fn finish(job: &mut Option<Job>) -> Done {
    match job {
        Some(Job::Full(h)) => Done::Full(h.await),
        Some(Job::Merge { handle, .. }) => Done::Merge(handle.await),
        None => std::future::pending().await,
    }
}
