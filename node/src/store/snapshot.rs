//! Point-in-time copies of the whole store, and loading one into a fresh
//! store: what backup and restore are built on.
//!
//! sled has no MVCC snapshots, so [`Store::snapshot`] holds the store's
//! snapshot lock exclusively while it reads every tree: batches already being
//! applied finish first, later ones wait until the snapshot has been read.
//! The snapshot therefore contains every batch applied before it (so every
//! write acknowledged before it started) and no part of any other batch.
//!
//! Entries are handed out raw (tree name, key, encoded value): a backup holds
//! exactly the bytes the store holds, and only this module knows how they are
//! laid out on disk.

use std::io;
use std::sync::PoisonError;

use super::codec::{show_key, VALUE_VERSION};
use super::{Store, StoreError, META_TREE};

/// One stored entry, as the store holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEntry {
    pub tree: String,
    pub key: Vec<u8>,
    /// The encoded value: version byte, then the postcard body.
    pub value: Vec<u8>,
}

/// What a snapshot or an import covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnapshotStats {
    pub trees: usize,
    pub entries: u64,
}

impl Store {
    /// Calls `visit` with every entry of every tree (the store's own
    /// bookkeeping aside), trees in name order and keys in order, while no
    /// batch can be applied. Keep `visit` fast (e.g. append to a local file):
    /// writers wait until it has seen everything.
    pub fn snapshot<F>(&self, mut visit: F) -> Result<SnapshotStats, StoreError>
    where
        F: FnMut(&str, &[u8], &[u8]) -> io::Result<()>,
    {
        let _exclusive = self
            .inner
            .snapshot_lock
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut stats = SnapshotStats::default();
        for name in self.user_trees() {
            let tree = self.inner.db.open_tree(&name).map_err(|e| {
                self.inner
                    .io(format!("opening tree {name} for a snapshot"), e)
            })?;
            stats.trees += 1;
            for item in tree.iter() {
                let (key, value) = item.map_err(|e| {
                    self.inner
                        .io(format!("reading tree {name} for a snapshot"), e)
                })?;
                visit(&name, &key, &value).map_err(|source| StoreError::Io {
                    path: self.inner.path.clone(),
                    what: "writing the snapshot".to_owned(),
                    source,
                })?;
                stats.entries += 1;
            }
        }
        Ok(stats)
    }

    /// Whether no tree holds any entry (the store's own bookkeeping aside).
    pub fn is_blank(&self) -> Result<bool, StoreError> {
        for name in self.user_trees() {
            let tree = self
                .inner
                .db
                .open_tree(&name)
                .map_err(|e| self.inner.io(format!("opening tree {name}"), e))?;
            if !tree.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Loads entries as [`Store::snapshot`] produced them into this store,
    /// which must be blank, and flushes them to disk. Stops at the first bad
    /// entry or failed read; the caller discards the store then.
    pub fn import<I>(&self, entries: I) -> Result<SnapshotStats, StoreError>
    where
        I: IntoIterator<Item = io::Result<RawEntry>>,
    {
        let refuse = |reason: String| StoreError::Import {
            path: self.inner.path.clone(),
            reason,
        };
        if !self.is_blank()? {
            return Err(refuse("the store already holds data".to_owned()));
        }
        let mut stats = SnapshotStats::default();
        let mut current: Option<(String, sled::Tree)> = None;
        for entry in entries {
            let entry = entry.map_err(|source| StoreError::Io {
                path: self.inner.path.clone(),
                what: "reading the entries to import".to_owned(),
                source,
            })?;
            if entry.tree.is_empty()
                || entry.tree == META_TREE
                || entry.tree.starts_with("__sled__")
            {
                return Err(refuse(format!("tree name {:?} is reserved", entry.tree)));
            }
            let problem = match entry.value.first() {
                Some(&VALUE_VERSION) => None,
                Some(&other) => Some(format!(
                    "value version {other}; this build reads {VALUE_VERSION}"
                )),
                None => Some("an empty value".to_owned()),
            };
            if let Some(problem) = problem {
                return Err(refuse(format!(
                    "key {} of tree {} has {problem}",
                    show_key(&entry.key),
                    entry.tree
                )));
            }
            if current.as_ref().is_none_or(|(name, _)| *name != entry.tree) {
                let tree = self
                    .inner
                    .db
                    .open_tree(&entry.tree)
                    .map_err(|e| self.inner.io(format!("opening tree {}", entry.tree), e))?;
                stats.trees += 1;
                current = Some((entry.tree.clone(), tree));
            }
            if let Some((name, tree)) = &current {
                tree.insert(entry.key.as_slice(), entry.value.as_slice())
                    .map_err(|e| self.inner.io(format!("importing into tree {name}"), e))?;
            }
            stats.entries += 1;
        }
        self.inner
            .db
            .flush()
            .map_err(|e| self.inner.io("flushing the imported entries".to_owned(), e))?;
        Ok(stats)
    }

    /// Names of the trees domain code created, sorted.
    fn user_trees(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .db
            .tree_names()
            .iter()
            .filter_map(|n| std::str::from_utf8(n).ok().map(str::to_owned))
            .filter(|n| n != META_TREE && !n.starts_with("__sled__"))
            .collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    fn entries(store: &Store) -> Vec<RawEntry> {
        let mut out = Vec::new();
        store
            .snapshot(|tree, key, value| {
                out.push(RawEntry {
                    tree: tree.to_owned(),
                    key: key.to_vec(),
                    value: value.to_vec(),
                });
                Ok(())
            })
            .unwrap();
        out
    }

    #[tokio::test]
    async fn a_snapshot_imports_into_an_identical_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.is_blank().unwrap());
        let words = store.tree::<String>("words").unwrap();
        let numbers = store.tree::<u64>("numbers").unwrap();
        let mut batch = store.batch();
        batch.put(&words, "a", &"alpha".to_owned()).unwrap();
        batch.put(&words, "b", &"beta".to_owned()).unwrap();
        batch.put(&numbers, 7u64.to_be_bytes(), &7).unwrap();
        store.commit(batch).await.unwrap();
        assert!(!store.is_blank().unwrap());

        let taken = entries(&store);
        assert_eq!(taken.len(), 3);
        assert_eq!(taken[0].tree, "numbers", "trees in name order");

        let other_dir = tempfile::tempdir().unwrap();
        let copy = Store::open(other_dir.path()).unwrap();
        let stats = copy.import(taken.iter().cloned().map(Ok)).unwrap();
        assert_eq!(
            stats,
            SnapshotStats {
                trees: 2,
                entries: 3
            }
        );
        assert_eq!(entries(&copy), taken);
        let words = copy.tree::<String>("words").unwrap();
        assert_eq!(words.get("b").unwrap().as_deref(), Some("beta"));

        // Never into a store that holds data.
        let err = copy.import(taken.into_iter().map(Ok)).unwrap_err();
        assert!(err.to_string().contains("already holds data"), "{err}");
    }

    #[test]
    fn bad_entries_are_refused() {
        let check = |entry: RawEntry, expected: &str| {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let err = store.import([Ok(entry)]).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        };
        let entry = |tree: &str, value: &[u8]| RawEntry {
            tree: tree.to_owned(),
            key: b"k".to_vec(),
            value: value.to_vec(),
        };
        check(entry("meta", &[1, 0]), "reserved");
        check(entry("__sled__default", &[1, 0]), "reserved");
        check(entry("t", &[9, 0]), "value version 9");
        check(entry("t", &[]), "empty value");
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let err = store
            .import([Err(io::Error::other("disk on fire"))])
            .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_snapshot_never_sees_half_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let left = store.tree::<u32>("left").unwrap();
        let right = store.tree::<u32>("right").unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(AtomicU32::new(0));
        let writer = tokio::spawn({
            let (store, done, committed) = (store.clone(), done.clone(), committed.clone());
            async move {
                let mut i = 0u32;
                while !done.load(Ordering::SeqCst) {
                    let mut batch = store.batch();
                    batch.put(&left, i.to_be_bytes(), &i).unwrap();
                    batch.put(&right, i.to_be_bytes(), &i).unwrap();
                    store.commit(batch).await.unwrap();
                    i += 1;
                    committed.store(i, Ordering::SeqCst);
                }
            }
        });
        // Snapshots taken while batches keep landing, until a good number
        // of both happened.
        let mut snapshots = 0;
        let mut seen = Vec::new();
        while snapshots < 20 || committed.load(Ordering::SeqCst) < 200 {
            let taken = tokio::task::block_in_place(|| entries(&store));
            let count = |tree: &str| taken.iter().filter(|e| e.tree == tree).count();
            assert_eq!(count("left"), count("right"));
            seen.push(count("left"));
            snapshots += 1;
        }
        done.store(true, Ordering::SeqCst);
        writer.await.unwrap();
        seen.dedup();
        assert!(
            seen.len() > 1,
            "the snapshots saw the store change: {seen:?}"
        );
    }
}
