//! Typed trees: one sled tree per record kind, values decoded on the way out.
//!
//! Reads are synchronous: they hit sled's page cache and return stored data,
//! which is never trusted: anything that does not decode is reported as
//! `StoreError::Corrupt` with the tree and key, never a panic.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::codec::{self, show_key};
use super::{Inner, StoreError};

/// A tree holding values of one type `V`, keyed by bytes.
///
/// Keep trees short-lived relative to the store: a tree keeps the store
/// (and its directory lock) open.
pub struct Tree<V> {
    pub(super) store: Arc<Inner>,
    pub(super) name: &'static str,
    pub(super) raw: sled::Tree,
    // `fn() -> V` keeps `Tree<V>` Send + Sync whatever `V` is: no `V` is held.
    _value: PhantomData<fn() -> V>,
}

impl<V> Clone for Tree<V> {
    fn clone(&self) -> Self {
        Tree {
            store: Arc::clone(&self.store),
            name: self.name,
            raw: self.raw.clone(),
            _value: PhantomData,
        }
    }
}

impl<V> fmt::Debug for Tree<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tree")
            .field("name", &self.name)
            .field("value", &std::any::type_name::<V>())
            .field("path", &self.store.path)
            .finish()
    }
}

impl<V> Tree<V> {
    pub(super) fn new(store: Arc<Inner>, name: &'static str, raw: sled::Tree) -> Self {
        Tree {
            store,
            name,
            raw,
            _value: PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    fn io(&self, op: &str, key: Option<&[u8]>, source: sled::Error) -> StoreError {
        let what = match key {
            Some(key) => format!("{op} of key {} in tree {}", show_key(key), self.name),
            None => format!("{op} of tree {}", self.name),
        };
        self.store.io(what, source)
    }
}

impl<V: DeserializeOwned> Tree<V> {
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<V>, StoreError> {
        let key = key.as_ref();
        let raw = self
            .raw
            .get(key)
            .map_err(|e| self.io("read", Some(key), e))?;
        raw.map(|bytes| self.decode(key, &bytes)).transpose()
    }

    pub fn contains(&self, key: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        let key = key.as_ref();
        self.raw
            .contains_key(key)
            .map_err(|e| self.io("read", Some(key), e))
    }

    /// All entries in key order; fails on the first that does not decode.
    pub fn iter(&self) -> Result<Vec<(Vec<u8>, V)>, StoreError> {
        self.lazy_iter().collect()
    }

    /// Entries whose key starts with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Result<Vec<(Vec<u8>, V)>, StoreError> {
        self.lazy_scan_prefix(prefix).collect()
    }

    /// Like [`Tree::iter`], decoding one entry at a time, so a large tree
    /// need not fit in memory and a corrupt entry does not hide the others.
    pub fn lazy_iter(&self) -> Iter<V> {
        Iter {
            tree: self.clone(),
            raw: self.raw.iter(),
        }
    }

    /// Like [`Tree::scan_prefix`], decoding one entry at a time.
    pub fn lazy_scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter<V> {
        Iter {
            tree: self.clone(),
            raw: self.raw.scan_prefix(prefix),
        }
    }

    /// Entries with keys in `[start, end)`, in key order, decoded lazily.
    pub fn lazy_range(&self, start: impl AsRef<[u8]>, end: impl AsRef<[u8]>) -> Iter<V> {
        Iter {
            tree: self.clone(),
            raw: self
                .raw
                .range(start.as_ref().to_vec()..end.as_ref().to_vec()),
        }
    }

    /// Keys in `[start, end)`, in key order, without decoding a value: for
    /// counts over an index whose keys carry what is counted.
    pub fn keys_range(
        &self,
        start: impl AsRef<[u8]>,
        end: impl AsRef<[u8]>,
    ) -> impl Iterator<Item = Result<sled::IVec, StoreError>> + '_ {
        self.raw
            .range(start.as_ref().to_vec()..end.as_ref().to_vec())
            .keys()
            .map(move |k| k.map_err(|e| self.io("scan", None, e)))
    }

    /// Number of entries. Walks the whole tree (sled keeps no count).
    pub fn len(&self) -> Result<usize, StoreError> {
        let mut count = 0;
        for key in self.raw.iter().keys() {
            key.map_err(|e| self.io("scan", None, e))?;
            count += 1;
        }
        Ok(count)
    }

    pub fn is_empty(&self) -> Result<bool, StoreError> {
        match self.raw.iter().keys().next() {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(e)) => Err(self.io("scan", None, e)),
        }
    }

    fn decode(&self, key: &[u8], bytes: &[u8]) -> Result<V, StoreError> {
        codec::decode(bytes).map_err(|reason| StoreError::Corrupt {
            path: self.store.path.clone(),
            tree: self.name,
            key: show_key(key),
            reason: reason.to_string(),
        })
    }
}

/// Entries of a tree (or of a prefix of it) in key order, decoded lazily.
pub struct Iter<V> {
    tree: Tree<V>,
    raw: sled::Iter,
}

impl<V: DeserializeOwned> Iter<V> {
    fn entry(&self, raw: sled::Result<(sled::IVec, sled::IVec)>) -> <Self as Iterator>::Item {
        let (key, bytes) = raw.map_err(|e| self.tree.io("scan", None, e))?;
        let value = self.tree.decode(&key, &bytes)?;
        Ok((key.to_vec(), value))
    }
}

impl<V: DeserializeOwned> Iterator for Iter<V> {
    type Item = Result<(Vec<u8>, V), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.raw.next()?;
        Some(self.entry(raw))
    }
}

impl<V: DeserializeOwned> DoubleEndedIterator for Iter<V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let raw = self.raw.next_back()?;
        Some(self.entry(raw))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use crate::store::{Store, StoreError};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Rule {
        id: u32,
        text: String,
    }

    fn rule(id: u32) -> Rule {
        Rule {
            id,
            text: format!("rule {id}"),
        }
    }

    #[tokio::test]
    async fn reads_iterate_and_scan_prefixes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        assert!(rules.is_empty().unwrap());

        let mut batch = store.batch();
        for (key, id) in [("de/2", 2), ("de/1", 1), ("fr/1", 3)] {
            batch.put(&rules, key, &rule(id)).unwrap();
        }
        store.commit(batch).await.unwrap();

        assert_eq!(rules.get("de/1").unwrap(), Some(rule(1)));
        assert_eq!(rules.get("de/9").unwrap(), None);
        assert!(rules.contains("fr/1").unwrap());
        assert!(!rules.contains("fr/2").unwrap());
        assert_eq!(rules.len().unwrap(), 3);
        assert!(!rules.is_empty().unwrap());

        let all = rules.iter().unwrap();
        let keys: Vec<_> = all.iter().map(|(k, _)| k.as_slice()).collect();
        assert_eq!(keys, [&b"de/1"[..], b"de/2", b"fr/1"]);

        let de: Vec<_> = rules
            .scan_prefix("de/")
            .unwrap()
            .into_iter()
            .map(|(_, v)| v.id)
            .collect();
        assert_eq!(de, [1, 2]);
        let lazy: Vec<_> = rules
            .lazy_scan_prefix("de/")
            .map(|entry| entry.map(|(_, v)| v.id))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(lazy, de);
        assert!(rules.scan_prefix("xx").unwrap().is_empty());

        let last = rules.lazy_iter().next_back().unwrap().unwrap();
        assert_eq!(last, (b"fr/1".to_vec(), rule(3)));

        let mut batch = store.batch();
        batch.delete(&rules, "de/1");
        store.commit(batch).await.unwrap();
        assert_eq!(rules.get("de/1").unwrap(), None);
        assert_eq!(rules.len().unwrap(), 2);
    }

    #[tokio::test]
    async fn corrupt_values_are_reported_not_panicked_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        store.put_durable(&rules, "good", &rule(1)).await.unwrap();

        // Bypass the codec to plant bad bytes: an unknown version byte, a
        // truncated body and an empty value.
        rules.raw.insert("bad-version", &[99u8, 1, 2][..]).unwrap();
        rules
            .raw
            .insert("truncated", &[super::super::codec::VALUE_VERSION, 5][..])
            .unwrap();
        rules.raw.insert([0u8, 0xff], &[][..]).unwrap();

        for (key, reason) in [
            (&b"bad-version"[..], "unknown value version 99"),
            (b"truncated", "undecodable body"),
            (&[0, 0xff], "empty value"),
        ] {
            match rules.get(key) {
                Err(StoreError::Corrupt {
                    tree,
                    key: shown,
                    reason: got,
                    ..
                }) => {
                    assert_eq!(tree, "rules");
                    assert!(got.contains(reason), "{got}");
                    assert!(!shown.is_empty());
                }
                other => panic!("expected Corrupt for {key:?}, got {other:?}"),
            }
        }

        // Iteration reports the bad entries and still yields the good one.
        assert!(matches!(rules.iter(), Err(StoreError::Corrupt { .. })));
        let entries: Vec<_> = rules.lazy_iter().collect();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries.iter().filter(|e| e.is_ok()).count(), 1);

        let err = rules.get([0u8, 0xff]).unwrap_err().to_string();
        assert!(err.contains("rules"), "{err}");
        assert!(err.contains("0x00ff"), "{err}");
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }

    #[tokio::test]
    async fn a_value_of_the_wrong_shape_is_corrupt() {
        #[derive(Debug, Serialize, Deserialize)]
        struct Wide {
            a: u64,
            b: u64,
            c: String,
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let narrow = store.tree::<u8>("narrow").unwrap();
        store.put_durable(&narrow, "k", &7).await.unwrap();
        drop(narrow);
        // Simulates a record kind whose layout changed without a schema bump.
        let raw = store.inner.db.open_tree("narrow").unwrap();
        let wide: super::Tree<Wide> = super::Tree::new(store.inner.clone(), "narrow", raw);
        assert!(matches!(wide.get("k"), Err(StoreError::Corrupt { .. })));
    }
}
