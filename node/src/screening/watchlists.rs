//! Imported lists in the store, and their atomic replacement.
//!
//! Store layout:
//! - `watchlists`: list name → [`ListMeta`];
//! - `watchlist_entries`: list name, 0, source id → [`WatchlistEntry`];
//! - `watchlist_details`: the same key → [`EntryDetails`], for entries that
//!   have any (a tree of its own, so entries stored before details existed
//!   still decode).
//!
//! An import replaces a whole list in one durable batch: the old entries'
//! deletions, the new entries, the new meta and an audit entry
//! (`watchlist.import`). A crash leaves either the old list or the new one.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::entry::{EntryDetails, WatchlistEntry};
use super::index::{IndexedEntry, ListIndex};
use super::list_diff::ListDiff;
use super::{ListInfo, ListKind, Screening, DENIALS_LIST};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::store::{Store, Tree};

/// How large one imported list may be: `[screening] max_list_entries`,
/// `max_list_names` and `max_list_bytes`. Checked as an import streams in
/// and again before anything is indexed, so an oversized list never costs
/// the node the memory of its index.
///
/// The defaults take every real list with room: the OFAC SDN list (about
/// 18,000 entries and 50,000 names today; 8,976 and 23,318 in the 2021
/// snapshot, 3.5 MB of CSV) and the US Consolidated Screening List (about
/// 13,000 entries) are each far below them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListCaps {
    pub entries: usize,
    /// Primary names plus aliases.
    pub names: usize,
    /// Bytes of the entries' text fields (ids, names, aliases, countries,
    /// addresses, programs).
    pub bytes: usize,
}

impl Default for ListCaps {
    fn default() -> Self {
        ListCaps {
            entries: 100_000,
            names: 500_000,
            bytes: 64 * 1024 * 1024,
        }
    }
}

/// What an import has brought so far, measured as [`ListCaps`] counts it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListSize {
    pub entries: usize,
    pub names: usize,
    pub bytes: usize,
}

impl ListSize {
    /// Adds one entry of `aliases` aliases and `bytes` bytes of text.
    pub fn add(&mut self, aliases: usize, bytes: usize) {
        self.entries += 1;
        self.names = self.names.saturating_add(1 + aliases);
        self.bytes = self.bytes.saturating_add(bytes);
    }

    pub fn of(entries: &[WatchlistEntry]) -> ListSize {
        let mut size = ListSize::default();
        for e in entries {
            size.add(e.aliases.len(), e.text_bytes());
        }
        size
    }
}

impl ListCaps {
    /// Refuses a list of `size` beyond any cap: ResourceExhausted naming the
    /// cap and the config key that sets it.
    pub fn check(&self, list: &str, size: &ListSize) -> Result<()> {
        let over = [
            ("entries", size.entries, self.entries, "max_list_entries"),
            ("names", size.names, self.names, "max_list_names"),
            ("bytes", size.bytes, self.bytes, "max_list_bytes"),
        ]
        .into_iter()
        .find(|(_, n, cap, _)| n > cap);
        match over {
            None => Ok(()),
            Some((what, n, cap, key)) => Err(Error::ResourceExhausted(format!(
                "list {list} refused, nothing imported: more than {cap} {what} ({n} counted); \
                 the cap is [screening] {key} in the node's node.toml"
            ))),
        }
    }
}

/// What the store keeps about an imported list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMeta {
    pub name: String,
    pub format: String,
    pub entries: u64,
    pub imported_at_unix_ms: i64,
    pub imported_by: String,
}

impl ListMeta {
    pub(super) fn info(&self, index: &ListIndex) -> ListInfo {
        ListInfo {
            name: self.name.clone(),
            kind: ListKind::Imported,
            format: self.format.clone(),
            entries: index.entries().len(),
            names: index.name_count(),
            updated_at_unix_ms: self.imported_at_unix_ms,
            imported_by: self.imported_by.clone(),
        }
    }
}

/// The result of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOutcome {
    pub list: String,
    pub entries: usize,
    pub names: usize,
    /// Entries the list held before; 0 for a new list.
    pub replaced: usize,
    pub imported_at_unix_ms: i64,
    /// What changed against the list held before.
    pub diff: ListDiff,
}

/// The result of removing a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoveOutcome {
    pub list: String,
    /// Entries the list held.
    pub entries: usize,
    pub removed_at_unix_ms: i64,
}

pub(super) struct Trees {
    metas: Tree<ListMeta>,
    entries: Tree<WatchlistEntry>,
    details: Tree<EntryDetails>,
}

fn prefix(list: &str) -> Vec<u8> {
    let mut k = list.as_bytes().to_vec();
    k.push(0);
    k
}

fn entry_key(list: &str, source_id: &str) -> Vec<u8> {
    let mut k = prefix(list);
    k.extend_from_slice(source_id.as_bytes());
    k
}

impl Trees {
    pub(super) fn open(store: &Store) -> Result<Trees> {
        Ok(Trees {
            metas: store.tree("watchlists")?,
            entries: store.tree("watchlist_entries")?,
            details: store.tree("watchlist_details")?,
        })
    }

    pub(super) fn metas(&self) -> Result<Vec<ListMeta>> {
        Ok(self.metas.iter()?.into_iter().map(|(_, m)| m).collect())
    }

    pub(super) fn entries_of(&self, list: &str) -> Result<Vec<WatchlistEntry>> {
        let mut details: std::collections::HashMap<Vec<u8>, EntryDetails> = self
            .details
            .scan_prefix(prefix(list))?
            .into_iter()
            .map(|(k, d)| (k.to_vec(), d))
            .collect();
        Ok(self
            .entries
            .scan_prefix(prefix(list))?
            .into_iter()
            .map(|(k, mut e)| {
                if let Some(d) = details.remove(&k) {
                    e.details = d;
                }
                e
            })
            .collect())
    }
}

/// A list name: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn validate_list_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if !ok {
        return Err(Error::InvalidArgument(format!(
            "list name {name:?}: use 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit"
        )));
    }
    if name == DENIALS_LIST {
        return Err(Error::InvalidArgument(format!(
            "list name {DENIALS_LIST:?} is reserved for the denial notices this node holds"
        )));
    }
    Ok(())
}

impl Screening {
    /// Replaces list `list` with `entries`, atomically and durably, with an
    /// audit entry naming `actor`. Every entry is checked first; nothing is
    /// written if one is invalid.
    pub async fn import(
        &self,
        actor: &str,
        list: &str,
        format: &str,
        entries: Vec<WatchlistEntry>,
    ) -> Result<ImportOutcome> {
        validate_list_name(list)?;
        if format.is_empty() || format.len() > 32 {
            return Err(Error::InvalidArgument(format!(
                "format {format:?}: 1 to 32 bytes"
            )));
        }
        if entries.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "list {list}: no entries to import"
            )));
        }
        self.caps.check(list, &ListSize::of(&entries))?;
        let mut ids = HashSet::with_capacity(entries.len());
        for e in &entries {
            e.validate().map_err(|reason| {
                Error::InvalidArgument(format!("entry {:?}: {reason}", e.source_id))
            })?;
            if !ids.insert(e.source_id.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "list {list}: source id {:?} appears twice",
                    e.source_id
                )));
            }
        }
        drop(ids);

        let _one_at_a_time = self.importing.lock().await;
        // Index first (CPU), so the swap after the commit is immediate.
        let name = list.to_owned();
        let indexed: Vec<IndexedEntry> = entries.iter().cloned().map(IndexedEntry::from).collect();
        let index = tokio::task::spawn_blocking(move || ListIndex::build(&name, indexed))
            .await
            .map_err(|e| Error::Internal(format!("indexing list {list}: {e}")))?;

        let held = self.trees.entries_of(list)?;
        let old: Vec<Vec<u8>> = held.iter().map(|e| entry_key(list, &e.source_id)).collect();
        let replaced = old.len();
        let diff = ListDiff::between(held, &entries);
        let meta = ListMeta {
            name: list.to_owned(),
            format: format.to_owned(),
            entries: entries.len() as u64,
            imported_at_unix_ms: now_unix_ms(),
            imported_by: actor.to_owned(),
        };
        let mut batch = self.store.batch();
        let new_keys: HashSet<Vec<u8>> = entries
            .iter()
            .map(|e| entry_key(list, &e.source_id))
            .collect();
        for k in old.iter().filter(|k| !new_keys.contains(*k)) {
            batch.delete(&self.trees.entries, k);
        }
        let with_details: HashSet<Vec<u8>> = entries
            .iter()
            .filter(|e| !e.details.is_empty())
            .map(|e| entry_key(list, &e.source_id))
            .collect();
        for r in self.trees.details.lazy_scan_prefix(prefix(list)) {
            let (k, _) = r?;
            if !with_details.contains(&k) {
                batch.delete(&self.trees.details, k);
            }
        }
        for e in &entries {
            let key = entry_key(list, &e.source_id);
            if !e.details.is_empty() {
                batch.put(&self.trees.details, key.clone(), &e.details)?;
            }
            batch.put(&self.trees.entries, key, e)?;
        }
        batch.put(&self.trees.metas, list, &meta)?;
        let rationale = format!(
            "{} entries from {format}, replacing {replaced}: {}",
            entries.len(),
            diff.summary()
        );
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action: "watchlist.import",
                    record: list,
                    rationale: &rationale,
                }],
            )
            .await?;

        let info = meta.info(&index);
        let outcome = ImportOutcome {
            list: list.to_owned(),
            entries: info.entries,
            names: info.names,
            replaced,
            imported_at_unix_ms: meta.imported_at_unix_ms,
            diff,
        };
        self.swap(list, Some((index, info)));
        self.imported.send_replace(Some(list.to_owned()));
        tracing::info!(
            %list,
            %format,
            entries = outcome.entries,
            replaced,
            added = outcome.diff.added.len(),
            removed = outcome.diff.removed.len(),
            changed = outcome.diff.changed.len(),
            %actor,
            "watchlist imported"
        );
        Ok(outcome)
    }

    /// Deletes imported list `list`, its entries and their details, in one
    /// durable batch with an audit entry (`watchlist.remove`) naming
    /// `actor` and `rationale`. NotFound if no such list is imported; the
    /// denials list cannot be removed (it follows the exchange).
    pub async fn remove(&self, actor: &str, list: &str, rationale: &str) -> Result<RemoveOutcome> {
        validate_list_name(list)?;
        let rationale = rationale.trim();
        if rationale.is_empty() || rationale.len() > 1024 {
            return Err(Error::InvalidArgument(
                "a list removal needs a rationale of 1 to 1024 bytes".into(),
            ));
        }
        let _one_at_a_time = self.importing.lock().await;
        let Some(meta) = self.trees.metas.get(list)? else {
            return Err(Error::NotFound(format!("no imported list {list}")));
        };
        let mut batch = self.store.batch();
        let mut entries = 0usize;
        for r in self.trees.entries.lazy_scan_prefix(prefix(list)) {
            let (k, _) = r?;
            batch.delete(&self.trees.entries, k);
            entries += 1;
        }
        for r in self.trees.details.lazy_scan_prefix(prefix(list)) {
            let (k, _) = r?;
            batch.delete(&self.trees.details, k);
        }
        batch.delete(&self.trees.metas, list);
        let why = format!(
            "{entries} entries from {} imported by {}: {rationale}",
            meta.format, meta.imported_by
        );
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action: "watchlist.remove",
                    record: list,
                    rationale: &why,
                }],
            )
            .await?;
        self.swap(list, None);
        self.imported.send_replace(Some(list.to_owned()));
        tracing::info!(%list, entries, %actor, "watchlist removed");
        Ok(RemoveOutcome {
            list: list.to_owned(),
            entries,
            removed_at_unix_ms: now_unix_ms(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::validate_list_name;

    #[test]
    fn list_names() {
        for ok in ["ofac-sdn", "bis.dpl", "csl_2025", "1"] {
            assert!(validate_list_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "OFAC", "-x", "a b", "denials", &"x".repeat(65)] {
            assert!(validate_list_name(bad).is_err(), "{bad}");
        }
    }
}
