//! Shared risk scoring of license applications (shared/DOMAIN.md section 3):
//! a 0..=100 score from weighted factors under a shared baseline methodology
//! that each jurisdiction may override, with every factor's contribution
//! explained.
//!
//! An application is scored when it is submitted and re-scored whenever an
//! alert, a denial notice or a list import lands. Reaching the review
//! threshold flags it for human review and writes an audit entry in the same
//! batch as the assessment. **The score never decides:** this module reads
//! licensing records and never changes them.
//!
//! # Layout
//! - `methodology`: the baseline TOML, a national file, `[risk]` overrides; checks.
//! - `score`: inputs → score, band and explained factors. Pure.
//! - `assess`: gathers the inputs from licensing, screening and the exchange.
//! - `store`: the latest assessment per license, and the flag with its audit entry.
//! - `rescore`: the background task following the exchange and list imports.
//! - `touching`: which held records touch each open application, in memory.
//! - `hits`: screening hits on an application and officers' dispositions.
//! - `decision`: the risk picture each licensing decision records (four eyes).
//! - `list_import`: which of the node's parties newly match a re-imported list.

pub mod assess;
mod decision;
pub mod hits;
mod list_import;
pub mod methodology;
mod rescore;
pub mod score;
mod store;
mod touching;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

pub use hits::{Disposition, Hit, HitStatus};
pub use list_import::{ImportEffects, NewMatch};
pub use methodology::{Effective, Methodology, RiskFile};
pub use score::{Factor, FactorKind, Scored};

use crate::audit::AuditLog;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::licensing::{License, LicenseState, Licensing};
use crate::screening::Screening;
use crate::store::{Store, StoreError, Tree};
use touching::{App, Touching};

/// The latest score of one application, as stored and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub license_id: String,
    pub score: u32,
    pub band: String,
    /// In listing order; their points add up to `score`.
    pub factors: Vec<Factor>,
    pub review_threshold: u32,
    /// The score is at or above the review threshold: a person must look.
    pub flagged: bool,
    /// When the score last reached the threshold (from below, or at its first scoring).
    pub flagged_at_unix_ms: Option<i64>,
    /// `name version` of the methodology.
    pub methodology: String,
    /// What caused this scoring: `submission`, `denial FR-D-3`, `list import ofac` …
    pub trigger: String,
    pub assessed_at_unix_ms: i64,
    /// The score this one replaced; None for the first.
    pub previous_score: Option<u32>,
    /// Every screening hit of the application's parties, best first.
    pub hits: Vec<Hit>,
    /// Floors that applied: each raised the band and forces review.
    pub floors: Vec<score::AppliedFloor>,
}

impl Assessment {
    /// Same result (whatever the trigger and time)?
    fn same_result(&self, s: &Scored, hits: &[Hit], m: &Methodology) -> bool {
        self.score == s.score
            && self.band == s.band
            && self.factors == s.factors
            && self.floors == s.floors
            && self.hits == hits
            && self.review_threshold == m.review_threshold
            && self.methodology == m.label()
    }

    pub fn open_hits(&self) -> impl Iterator<Item = &Hit> {
        self.hits.iter().filter(|h| h.is_open())
    }
}

/// States in which an application awaits a human decision, so its score matters.
/// What a re-scoring pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rescored {
    /// Applications awaiting a decision, all scored.
    pub scored: usize,
    /// Those whose result changed, stored anew.
    pub stored: usize,
}

pub fn is_open(state: LicenseState) -> bool {
    matches!(
        state,
        LicenseState::Submitted | LicenseState::UnderReview | LicenseState::Appealed
    )
}

/// The key marking `risk_open_hits` as built (no license id starts with 0).
const OPEN_HITS_BUILT: &[u8] = b"\0built";

pub struct Risk {
    effective: Effective,
    licensing: Arc<Licensing>,
    screening: Arc<Screening>,
    exchange: Arc<Exchange>,
    audit: Arc<AuditLog>,
    store: Store,
    /// License id → latest assessment.
    assessments: Tree<Assessment>,
    /// License id → how many open hits its latest assessment has, for those
    /// with any; written in the assessment's batch, so a dashboard counts
    /// open hits without decoding assessments. Key [`OPEN_HITS_BUILT`] marks
    /// a tree built over every assessment.
    open_hits: Tree<u32>,
    /// Party, list, entry → an officer's disposition of the hit.
    dispositions: Tree<Disposition>,
    /// The node's screening threshold: a match at or above it is a hit.
    hit_threshold: f32,
    /// The band from which a decision needs a second officer; None: never.
    four_eyes_from: Option<String>,
    /// Held from gathering the inputs to storing the result, so a scoring
    /// made from older information can never overwrite a newer one; it
    /// guards the sets that say which records touch which application.
    writing: Mutex<Touching>,
}

impl Risk {
    pub fn open(
        store: Store,
        effective: Effective,
        licensing: Arc<Licensing>,
        screening: Arc<Screening>,
        exchange: Arc<Exchange>,
        audit: Arc<AuditLog>,
    ) -> Result<Self, StoreError> {
        let hit_threshold = screening.default_threshold();
        // Assessments are derived (re-made at start for every open
        // application); the tree of the layout before hits was
        // `risk_assessments`, left unread.
        let assessments: Tree<Assessment> = store.tree("risk_assessments_2")?;
        let open_hits: Tree<u32> = store.tree("risk_open_hits")?;
        if open_hits.get(OPEN_HITS_BUILT)?.is_none() {
            let mut batch = store.batch();
            for item in assessments.lazy_iter() {
                let (k, a) = item?;
                let n = a.open_hits().count() as u32;
                if n > 0 {
                    batch.put(&open_hits, &k, &n)?;
                }
            }
            batch.put(&open_hits, OPEN_HITS_BUILT, &0)?;
            store.commit_offline(batch)?;
        }
        Ok(Risk {
            assessments,
            open_hits,
            dispositions: store.tree("risk_dispositions")?,
            hit_threshold,
            four_eyes_from: Some("high".to_owned()),
            effective,
            licensing,
            screening,
            exchange,
            audit,
            store,
            writing: Mutex::new(Touching::default()),
        })
    }

    /// Decisions on applications in band `from` or above need a second
    /// officer; None turns four eyes off.
    pub fn with_four_eyes(mut self, from: Option<String>) -> Self {
        self.four_eyes_from = from;
        self
    }

    pub fn methodology(&self) -> &Effective {
        &self.effective
    }

    /// The latest assessment of license `id`.
    pub fn assessment(&self, id: &str) -> Result<Assessment> {
        self.licensing.license(id)?;
        self.assessments.get(id)?.ok_or_else(|| {
            Error::NotFound(format!(
                "license {id} has no risk assessment yet (it is scored on submission)"
            ))
        })
    }

    /// The held denials whose party resembles one of open application
    /// `id`'s parties at `threshold` or above, from its in-memory set: None
    /// when that set cannot say (not built yet, the application not open,
    /// or `threshold` below the one the sets were built at). For views
    /// only: a decision reads every record held.
    pub async fn named_denials(&self, id: &str, threshold: f32) -> Option<Vec<(String, String)>> {
        if threshold < self.name_threshold() {
            return None;
        }
        self.writing.lock().await.named_denials(id)
    }

    /// License id → number of open hits, for every license whose latest
    /// assessment has any (decided ones too: the caller picks).
    pub fn open_hit_counts(&self) -> Result<std::collections::HashMap<String, u32>> {
        let mut out = std::collections::HashMap::new();
        for item in self.open_hits.lazy_iter() {
            let (k, n) = item?;
            if k.as_slice() == OPEN_HITS_BUILT {
                continue;
            }
            out.insert(String::from_utf8_lossy(&k).into_owned(), n);
        }
        Ok(out)
    }

    /// The stored assessment of a license the caller already holds, without
    /// reading the license again (the dashboard asks this for every open one).
    pub fn stored_assessment(&self, id: &str) -> Result<Option<Assessment>> {
        Ok(self.assessments.get(id)?)
    }

    /// The lifecycle state of license `id` now.
    pub fn license_state(&self, id: &str) -> Result<LicenseState> {
        Ok(self.licensing.license(id)?.state)
    }

    /// Flagged applications with their state, highest score first; only the
    /// ones still awaiting a decision unless `include_decided`.
    pub fn flagged(&self, include_decided: bool) -> Result<Vec<(Assessment, LicenseState)>> {
        let mut out = Vec::new();
        for item in self.assessments.lazy_iter() {
            let (_, a) = item?;
            if !a.flagged {
                continue;
            }
            let state = self.licensing.license(&a.license_id)?.state;
            if include_decided || is_open(state) {
                out.push((a, state));
            }
        }
        out.sort_by(|(a, _), (b, _)| {
            b.score
                .cmp(&a.score)
                .then_with(|| a.license_id.cmp(&b.license_id))
        });
        Ok(out)
    }

    /// Scores license `id` now and stores the result, whatever it was before.
    pub async fn assess(&self, id: &str, trigger: &str) -> Result<Assessment> {
        let mut touching = self.writing.lock().await;
        let license = self.licensing.license(id)?;
        self.track(&mut touching, &license).await?;
        // An open application's set was just filled from every record held
        // (its names compared against each): scoring from it gives what
        // scoring against them all gives, without reading them again.
        let lists = assess::imported_lists(&self.screening);
        let stored = match touching.world_of(&license.id, &lists, now_unix_ms()) {
            Some(set) => self.score_and_store(&set, &license, trigger, true).await?,
            None => {
                let world = self.world().await?;
                self.score_and_store(&world, &license, trigger, true)
                    .await?
            }
        };
        stored.ok_or_else(|| Error::Internal(format!("license {id}: assessment not stored")))
    }

    /// Names count at the lower of the hit and match thresholds (hits and
    /// the score each read one).
    fn name_threshold(&self) -> f32 {
        self.hit_threshold
            .min(self.effective.methodology.screening.match_score)
    }

    /// Brings `license`'s set up to date with `world` (every record held),
    /// or drops it if the application is no longer open.
    async fn track(&self, touching: &mut Touching, license: &License) -> Result<()> {
        if !touching.ready {
            return Ok(());
        }
        if !is_open(license.state) {
            touching.remove_app(&license.id);
            return Ok(());
        }
        let parties = assess::parties(&self.licensing, license)?;
        touching.add_app(&license.id, App::new(license, &parties));
        self.refill(touching, &license.id).await
    }

    /// Refills application `id`'s set from every record held, off the async
    /// workers (it compares the application's names against each).
    async fn refill(&self, touching: &mut Touching, id: &str) -> Result<()> {
        let mut sets = std::mem::take(touching);
        let (m, threshold, id) = (
            self.effective.methodology.clone(),
            self.name_threshold(),
            id.to_owned(),
        );
        *touching = tokio::task::spawn_blocking(move || {
            sets.fill(&m, threshold, &id, now_unix_ms());
            sets
        })
        .await
        .map_err(|e| Error::Internal(format!("refilling a risk set: {e}")))?;
        Ok(())
    }

    /// Re-scores every application awaiting a decision against every
    /// record held, rebuilding the sets; stores (and flags) only those
    /// whose result changed, or that had none. Returns how many were stored.
    pub async fn rescore_open(&self, trigger: &str) -> Result<usize> {
        Ok(self.rescore_open_counted(trigger).await?.stored)
    }

    /// The same, also counting the applications scored (whether or not
    /// their result changed).
    pub(crate) async fn rescore_open_counted(&self, trigger: &str) -> Result<Rescored> {
        let mut touching = self.writing.lock().await;
        let open: Vec<License> = self
            .licensing
            .licenses(&Default::default())?
            .into_iter()
            .filter(|l| is_open(l.state))
            .collect();
        // Most records land on nodes with nothing awaiting a decision: skip
        // re-verifying every record held then.
        // The sets stay unbuilt (not ready): the first application scores
        // against every record read from the store, and the next record
        // stored builds the sets.
        if open.is_empty() {
            *touching = Touching::default();
            return Ok(Rescored::default());
        }
        let started = std::time::Instant::now();
        let world = Arc::new(self.world().await?);
        let mut sets = Touching::default();
        for license in &open {
            let parties = assess::parties(&self.licensing, license)?;
            sets.add_app(&license.id, App::new(license, &parties));
        }
        let (m, threshold, all) = (
            self.effective.methodology.clone(),
            self.name_threshold(),
            world.clone(),
        );
        *touching = tokio::task::spawn_blocking(move || {
            sets.sweep(&m, threshold, &all);
            sets
        })
        .await
        .map_err(|e| Error::Internal(format!("building the risk sets: {e}")))?;
        let built_ms = started.elapsed().as_millis() as u64;
        let scored = open.len();
        let stored = self.score_from_sets(&mut touching, open, trigger).await?;
        tracing::info!(
            applications = scored,
            stored,
            records = world.held().count(),
            built_ms,
            elapsed_ms = started.elapsed().as_millis() as u64,
            %trigger,
            "risk sets built from every record held, open applications scored"
        );
        Ok(Rescored { scored, stored })
    }

    /// Re-scores every open application from its set: what changed is the
    /// imported lists, or time (records lapse), not which records are held.
    pub(crate) async fn rescore_known_counted(&self, trigger: &str) -> Result<Rescored> {
        let mut touching = self.writing.lock().await;
        if !touching.ready {
            drop(touching);
            return self.rescore_open_counted(trigger).await;
        }
        let ids = touching.app_ids();
        let open = self.still_open(&mut touching, &ids)?;
        let scored = open.len();
        let stored = self.score_from_sets(&mut touching, open, trigger).await?;
        Ok(Rescored { scored, stored })
    }

    /// Applies records just stored (or announced) to the sets and re-scores
    /// exactly the open applications whose set changed. Returns how many
    /// were stored.
    pub(crate) async fn apply_records(
        &self,
        views: &[crate::exchange::RecordView],
        trigger: &str,
    ) -> Result<usize> {
        let mut touching = self.writing.lock().await;
        if !touching.ready {
            drop(touching);
            return self.rescore_open(trigger).await;
        }
        let (m, threshold, now) = (
            &self.effective.methodology,
            self.name_threshold(),
            now_unix_ms(),
        );
        let mut applied = touching::Applied::default();
        for view in views {
            let Some(key) = touching::key_of(view) else {
                continue;
            };
            let held = assess::Held::of_view(view, now).map(Arc::new);
            applied.extend(touching.apply(m, threshold, &key, held.as_ref()));
        }
        self.score_changed(&mut touching, applied, trigger).await
    }

    /// Drops from the sets the records that lapsed (expired, past their
    /// end date) and re-scores exactly the applications that held them: the
    /// clock's pass, costing what lapsed rather than every application.
    pub(crate) async fn apply_lapsed(&self, trigger: &str) -> Result<usize> {
        let mut touching = self.writing.lock().await;
        if !touching.ready {
            drop(touching);
            return self.rescore_open(trigger).await;
        }
        let (m, threshold) = (&self.effective.methodology, self.name_threshold());
        let mut applied = touching::Applied::default();
        for key in touching.lapsed(now_unix_ms()) {
            applied.extend(touching.apply(m, threshold, &key, None));
        }
        self.score_changed(&mut touching, applied, trigger).await
    }

    /// Re-scores the open applications `applied` changed; drops the ones
    /// no longer open. Returns how many assessments were stored.
    async fn score_changed(
        &self,
        touching: &mut Touching,
        applied: touching::Applied,
        trigger: &str,
    ) -> Result<usize> {
        let ids: Vec<String> = applied.changed.into_iter().collect();
        let open = self.still_open(touching, &ids)?;
        self.score_from_sets(touching, open, trigger).await
    }

    /// The licenses of `ids` still awaiting a decision; the others leave
    /// the sets.
    fn still_open(&self, touching: &mut Touching, ids: &[String]) -> Result<Vec<License>> {
        let mut open = Vec::with_capacity(ids.len());
        for id in ids {
            let license = self.licensing.license(id)?;
            if is_open(license.state) {
                open.push(license);
            } else {
                touching.remove_app(id);
            }
        }
        Ok(open)
    }

    /// The world `license` is scored against: its set, refilled from every
    /// record held when it cannot stand for them.
    async fn world_from_set(
        &self,
        touching: &mut Touching,
        license: &License,
        lists: &[String],
    ) -> Result<assess::World> {
        let now = now_unix_ms();
        if let Some(w) = touching.world_of(&license.id, lists, now) {
            return Ok(w);
        }
        if !touching.contains(&license.id) {
            let parties = assess::parties(&self.licensing, license)?;
            touching.add_app(&license.id, App::new(license, &parties));
        }
        self.refill(touching, &license.id).await?;
        touching
            .world_of(&license.id, lists, now)
            .ok_or_else(|| Error::Internal(format!("license {}: no risk set", license.id)))
    }

    /// Scores each of `licenses` against its set and stores those whose
    /// result changed, a batch of [`store::PER_COMMIT`] at a time: the
    /// batch's worlds are taken from the sets in turn, then scored on
    /// every core. Returns how many were stored.
    async fn score_from_sets(
        &self,
        touching: &mut Touching,
        licenses: Vec<License>,
        trigger: &str,
    ) -> Result<usize> {
        let lists = assess::imported_lists(&self.screening);
        let mut stored = 0;
        let mut licenses = licenses.into_iter().peekable();
        while licenses.peek().is_some() {
            let mut batch = Vec::with_capacity(store::PER_COMMIT);
            for license in licenses.by_ref().take(store::PER_COMMIT) {
                let world = self.world_from_set(touching, &license, &lists).await?;
                batch.push((license, world));
            }
            let mut pending = store::Pending::default();
            for next in self.score_many(&batch, trigger)? {
                pending.push(next);
            }
            stored += self.write_pending(pending).await?.len();
        }
        Ok(stored)
    }

    /// [`Risk::score_one`] over `batch` on every core (scoring reads the
    /// stores and the worlds only); the changed results, in `batch`'s order.
    fn score_many(
        &self,
        batch: &[(License, assess::World)],
        trigger: &str,
    ) -> Result<Vec<store::Next>> {
        let score = |part: &[(License, assess::World)]| -> Result<Vec<store::Next>> {
            let mut out = Vec::new();
            for (license, world) in part {
                out.extend(self.score_one(world, license, trigger, false)?);
            }
            Ok(out)
        };
        let mut out = Vec::new();
        for part in crate::parallel::by_core(batch, 4, score) {
            out.extend(
                part.map_err(|_| Error::Internal("a risk scoring worker panicked".into()))??,
            );
        }
        Ok(out)
    }

    /// Reading back every record held (decoding each, checking its bytes
    /// against the digest recorded when it was verified) is CPU work, kept
    /// off the async workers.
    async fn world(&self) -> Result<assess::World> {
        let (exchange, screening) = (self.exchange.clone(), self.screening.clone());
        tokio::task::spawn_blocking(move || {
            assess::World::gather(&exchange, &screening, now_unix_ms())
        })
        .await
        .map_err(|e| Error::Internal(format!("gathering risk inputs: {e}")))?
    }

    /// Scores `license`; stores the assessment if `always` or if the result
    /// differs from the stored one. Returns what was stored. Call holding
    /// `writing`.
    async fn score_and_store(
        &self,
        world: &assess::World,
        license: &License,
        trigger: &str,
        always: bool,
    ) -> Result<Option<Assessment>> {
        let Some(next) = self.score_one(world, license, trigger, always)? else {
            return Ok(None);
        };
        let mut pending = store::Pending::default();
        pending.push(next);
        Ok(self.write_pending(pending).await?.pop())
    }

    /// Scores `license`: the stored assessment and the next one, if `always`
    /// or if the result differs from the stored one.
    fn score_one(
        &self,
        world: &assess::World,
        license: &License,
        trigger: &str,
        always: bool,
    ) -> Result<Option<store::Next>> {
        let m = &self.effective.methodology;
        let parties = assess::parties(&self.licensing, license)?;
        // Matches between the methodology's match score and the node's hit
        // threshold feed the score only.
        let all_hits = hits::find(
            world,
            &self.screening,
            &parties,
            self.hit_threshold.min(m.screening.match_score),
            license.denial_id.as_deref(),
            &self.dispositions,
        )?;
        let hits: Vec<Hit> = all_hits
            .iter()
            .filter(|h| h.score() >= self.hit_threshold)
            .cloned()
            .collect();
        let inputs = assess::inputs(m, world, &self.licensing, &parties, &all_hits, license)?;
        let scored = score::score(m, &inputs);
        let previous = self.assessments.get(&license.id)?;
        if !always
            && previous
                .as_ref()
                .is_some_and(|p| p.same_result(&scored, &hits, m))
        {
            return Ok(None);
        }
        let assessment = store::next(previous.as_ref(), license, scored, hits, m, trigger);
        Ok(Some(store::Next {
            previous,
            assessment,
        }))
    }
}

#[cfg(test)]
mod tests;
