//! Denied-party screening: fuzzy name matching over one consolidated set of
//! watchlists — public lists imported by the administrator (kept in the
//! store) and the denial notices this node holds, its own and its peers'.
//!
//! # Layout
//! - `normalize`: a name → tokens (transliteration, variants, company forms).
//! - `legal_forms`: the legal-form equivalence table (`legal_forms.txt`,
//!   after ISO 20275), which marks form words and phrases in a name.
//! - `score`: one query name against one listed name → score and explanation.
//! - `index`: one list in memory; candidate generation through token keys.
//! - `entry`: [`WatchlistEntry`], what every list is made of.
//! - `formats`: OFAC, BIS DPL, CSL and JSON-lines parsers, with malformed
//!   rows reported by line.
//! - `countries`: country names → ISO codes.
//! - `watchlists`: persistence, atomic replacement and removal of imported lists.
//! - `list_diff`: what a re-import adds, removes and changes.
//! - `denials`: keeps the `denials` list in step with the exchange.
//!
//! Indexes are immutable; a change (an import, a denial stored) builds the
//! changed list's index anew and swaps it in, so queries never wait for a
//! writer and see either the old list or the new one, never a mix.

pub mod countries;
mod denials;
pub mod entry;
pub mod formats;
pub mod index;
pub mod legal_forms;
pub mod list_diff;
pub mod normalize;
pub mod score;
mod watchlists;

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

pub use entry::{EntityType, EntryDetails, WatchlistEntry};
pub use index::{Filter, Hit, IndexedEntry, ListIndex, PreparedQuery};
pub use list_diff::ListDiff;
pub use watchlists::{ImportOutcome, ListCaps, ListMeta, ListSize, RemoveOutcome};

use crate::audit::AuditLog;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::store::Store;

/// Name of the list built from denial notices; cannot be imported over.
pub const DENIALS_LIST: &str = "denials";
/// Default number of matches a query returns.
pub const DEFAULT_LIMIT: usize = 10;
/// Most matches a query may ask for.
pub const MAX_LIMIT: usize = 100;
/// Most names in one batch query.
pub const MAX_BATCH: usize = 1000;
/// Longest query name, in bytes.
pub const MAX_QUERY: usize = 1024;

/// Where a list comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// Imported by an administrator (`concord screen import`).
    Imported,
    /// The active denial notices held by this node.
    Denials,
}

/// A list as `concord screen lists` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ListInfo {
    pub name: String,
    pub kind: ListKind,
    /// Import format (`ofac-csv` …); empty for the denials list.
    pub format: String,
    pub entries: usize,
    /// Names indexed: primary names and aliases.
    pub names: usize,
    /// When it was imported (or last rebuilt, for denials).
    pub updated_at_unix_ms: i64,
    /// Who imported it; empty for the denials list.
    pub imported_by: String,
}

/// What to screen and how.
#[derive(Clone, Debug, Default)]
pub struct ScreenRequest {
    pub name: String,
    /// 0: [`DEFAULT_LIMIT`].
    pub limit: usize,
    /// None: the node's default threshold.
    pub threshold: Option<f32>,
    /// Only entries of these countries (or with none on file); empty: all.
    pub countries: Vec<String>,
    /// Only these lists; empty: all.
    pub lists: Vec<String>,
}

/// One listed party matching a query. `Default` lets code that builds one
/// by hand (risk's denial hits) name only the fields it knows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScreenMatch {
    pub list: String,
    pub source_id: String,
    /// Who signed the entry (denial notices); empty for imported lists.
    pub issuer: String,
    pub entity_type: EntityType,
    /// The entry's primary name.
    pub name: String,
    /// The name or alias that matched.
    pub matched_name: String,
    pub score: f32,
    pub explanation: String,
    pub countries: Vec<String>,
    /// The listed entry's programs, addresses and details, for the officer
    /// deciding on the hit.
    pub programs: Vec<String>,
    pub addresses: Vec<String>,
    pub details: EntryDetails,
    /// The listing has ended (its expiry is past): ranked below entries in force.
    pub expired: bool,
}

/// One entry as `concord screen show` prints it.
#[derive(Clone, Debug, PartialEq)]
pub struct ListedEntry {
    pub list: String,
    pub entry: WatchlistEntry,
    /// Who signed it (denial notices).
    pub issuer: Option<String>,
    /// Its listing has ended.
    pub expired: bool,
}

/// The matches of one query, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreenResult {
    pub query: String,
    pub threshold: f32,
    pub matches: Vec<ScreenMatch>,
}

/// Every list's index, swapped whole on change.
#[derive(Default)]
struct Catalog {
    lists: BTreeMap<String, (Arc<ListIndex>, ListInfo)>,
}

pub struct Screening {
    store: Store,
    audit: Arc<AuditLog>,
    trees: watchlists::Trees,
    catalog: RwLock<Arc<Catalog>>,
    /// One import at a time: replacing a list reads, then rewrites, its keys.
    importing: tokio::sync::Mutex<()>,
    default_threshold: f32,
    /// How large one imported list may be.
    caps: ListCaps,
    /// The name of the last list imported, for those re-scoring on imports.
    imported: tokio::sync::watch::Sender<Option<String>>,
}

impl Screening {
    /// Opens the watchlist trees and indexes every imported list held.
    pub fn open(store: Store, audit: Arc<AuditLog>, default_threshold: f32) -> Result<Self> {
        check_threshold(default_threshold)?;
        let trees = watchlists::Trees::open(&store)?;
        let mut catalog = Catalog::default();
        for meta in trees.metas()? {
            let entries = trees.entries_of(&meta.name)?;
            let index = ListIndex::build(
                &meta.name,
                entries.into_iter().map(IndexedEntry::from).collect(),
            );
            let info = meta.info(&index);
            catalog
                .lists
                .insert(meta.name.clone(), (Arc::new(index), info));
        }
        tracing::info!(lists = catalog.lists.len(), "screening lists loaded");
        Ok(Screening {
            store,
            audit,
            trees,
            catalog: RwLock::new(Arc::new(catalog)),
            importing: tokio::sync::Mutex::new(()),
            default_threshold,
            caps: ListCaps::default(),
            imported: tokio::sync::watch::channel(None).0,
        })
    }

    /// The same, with the configured caps on imported lists.
    pub fn with_caps(self, caps: ListCaps) -> Self {
        Screening { caps, ..self }
    }

    pub fn caps(&self) -> ListCaps {
        self.caps
    }

    pub fn default_threshold(&self) -> f32 {
        self.default_threshold
    }

    /// Changes after every list import, to the imported list's name.
    pub fn imports(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.imported.subscribe()
    }

    fn snapshot(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces (or adds, or with `None` removes) one list's index.
    fn swap(&self, name: &str, list: Option<(ListIndex, ListInfo)>) {
        let mut guard = self.catalog.write().unwrap_or_else(PoisonError::into_inner);
        let mut lists = guard.lists.clone();
        match list {
            Some((index, info)) => {
                lists.insert(name.to_owned(), (Arc::new(index), info));
            }
            None => {
                lists.remove(name);
            }
        }
        *guard = Arc::new(Catalog { lists });
    }

    /// The lists screened, in name order.
    pub fn lists(&self) -> Vec<ListInfo> {
        self.snapshot()
            .lists
            .values()
            .map(|(_, info)| info.clone())
            .collect()
    }

    /// The entry `source_id` of list `list` as screened (with its details
    /// and, for denial notices, its issuer). NotFound for an unknown list
    /// or id.
    pub fn entry(&self, list: &str, source_id: &str) -> Result<ListedEntry> {
        let catalog = self.snapshot();
        let Some((index, _)) = catalog.lists.get(list) else {
            return Err(Error::NotFound(format!("no list {list}")));
        };
        let now = now_unix_ms();
        index
            .entries()
            .iter()
            .find(|e| e.entry.source_id == source_id)
            .map(|e| ListedEntry {
                list: list.to_owned(),
                entry: e.entry.clone(),
                issuer: e.issuer.as_ref().map(|j| j.as_str().to_owned()),
                expired: e
                    .entry
                    .details
                    .expires_at_unix_ms
                    .or(e.expires_at_unix_ms)
                    .is_some_and(|t| t <= now),
            })
            .ok_or_else(|| Error::NotFound(format!("list {list} has no entry {source_id:?}")))
    }

    /// Screens one name. CPU only; call from a blocking context for batches.
    pub fn query(&self, req: &ScreenRequest) -> Result<ScreenResult> {
        let (limit, threshold) = self.check_request(req)?;
        let q = PreparedQuery::new(&req.name);
        Ok(self.run(&self.snapshot(), &q, req, limit, threshold))
    }

    /// Screens many names with the same options, in order.
    pub fn query_batch(
        &self,
        names: &[String],
        options: &ScreenRequest,
    ) -> Result<Vec<ScreenResult>> {
        if names.len() > MAX_BATCH {
            return Err(Error::InvalidArgument(format!(
                "a batch holds at most {MAX_BATCH} names, not {}",
                names.len()
            )));
        }
        let catalog = self.snapshot();
        let mut out = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let req = ScreenRequest {
                name: name.clone(),
                ..options.clone()
            };
            let (limit, threshold) = self
                .check_request(&req)
                .map_err(|e| Error::InvalidArgument(format!("name {}: {e}", i + 1)))?;
            let q = PreparedQuery::new(name);
            out.push(self.run(&catalog, &q, &req, limit, threshold));
        }
        Ok(out)
    }

    fn check_request(&self, req: &ScreenRequest) -> Result<(usize, f32)> {
        let name = req.name.trim();
        if name.is_empty() {
            return Err(Error::InvalidArgument("the name to screen is empty".into()));
        }
        if req.name.len() > MAX_QUERY {
            return Err(Error::InvalidArgument(format!(
                "the name to screen is longer than {MAX_QUERY} bytes"
            )));
        }
        if req.name.chars().any(char::is_control) {
            return Err(Error::InvalidArgument(
                "the name to screen contains control characters".into(),
            ));
        }
        let limit = match req.limit {
            0 => DEFAULT_LIMIT,
            n if n > MAX_LIMIT => {
                return Err(Error::InvalidArgument(format!(
                    "limit {n}: at most {MAX_LIMIT}"
                )))
            }
            n => n,
        };
        let threshold = req.threshold.unwrap_or(self.default_threshold);
        check_threshold(threshold)?;
        for c in &req.countries {
            if !entry::is_country_code(c) {
                return Err(Error::InvalidArgument(format!(
                    "country {c:?} is not a two-letter upper-case code"
                )));
            }
        }
        Ok((limit, threshold))
    }

    fn run(
        &self,
        catalog: &Catalog,
        q: &PreparedQuery,
        req: &ScreenRequest,
        limit: usize,
        threshold: f32,
    ) -> ScreenResult {
        let now = now_unix_ms();
        let filter = Filter {
            countries: &req.countries,
            now_unix_ms: now,
        };
        let expired = |h: &Hit<'_>| {
            h.entry
                .entry
                .details
                .expires_at_unix_ms
                .is_some_and(|t| t <= now)
        };
        let mut hits: Vec<Hit<'_>> = catalog
            .lists
            .iter()
            .filter(|(name, _)| req.lists.is_empty() || req.lists.contains(name))
            .flat_map(|(_, (index, _))| index.search(q, limit, threshold, &filter))
            .collect();
        hits.sort_by(|a, b| {
            expired(a)
                .cmp(&expired(b))
                .then_with(|| b.score().total_cmp(&a.score()))
                .then_with(|| a.list.cmp(b.list))
                .then_with(|| a.entry.entry.source_id.cmp(&b.entry.entry.source_id))
        });
        hits.truncate(limit);
        let matches = hits
            .into_iter()
            .map(|h| {
                let listed = normalize::tokens(h.matched_name);
                let what = if h.is_alias { "alias" } else { "name" };
                ScreenMatch {
                    list: h.list.to_owned(),
                    source_id: h.entry.entry.source_id.clone(),
                    issuer: h
                        .entry
                        .issuer
                        .as_ref()
                        .map(|j| j.as_str().to_owned())
                        .unwrap_or_default(),
                    entity_type: h.entry.entry.entity_type,
                    name: h.entry.entry.name.clone(),
                    matched_name: h.matched_name.to_owned(),
                    score: h.score(),
                    explanation: score::explain(
                        what,
                        h.matched_name,
                        &q.tokens,
                        &listed,
                        &h.alignment,
                    ),
                    countries: h.entry.entry.countries.clone(),
                    programs: h.entry.entry.programs.clone(),
                    addresses: h.entry.entry.addresses.clone(),
                    details: h.entry.entry.details.clone(),
                    expired: expired(&h),
                }
            })
            .collect();
        ScreenResult {
            query: req.name.clone(),
            threshold,
            matches,
        }
    }
}

fn check_threshold(t: f32) -> Result<()> {
    if t > 0.0 && t <= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "threshold {t} must be above 0 and at most 1"
        )))
    }
}

#[cfg(test)]
mod tests;
