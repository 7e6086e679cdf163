//! The node's storage: typed trees over sled, a schema version, and atomic
//! batches that are acknowledged only once they are on disk.
//!
//! Architecture invariant: this is the only module that names sled. Domain
//! code sees [`Store`], [`Tree`], [`Batch`], [`Iter`] and [`StoreError`];
//! nothing here exposes a sled type, so the engine can be replaced behind
//! this API.
//!
//! Writes go `store.batch()` -> `Batch::put`/`Batch::delete` ->
//! `Store::commit(batch).await`. A commit applies all its operations in one
//! transaction across trees, then waits for a group-commit flush (see
//! `commit.rs`) so that many concurrent writers share one fsync.
//!
//! A committed value is visible to readers as soon as it is applied, slightly
//! before `commit` returns: readers may see writes that a crash would lose,
//! but no writer is told "done" before its write is durable.

mod anchor;
mod codec;
mod commit;
mod snapshot;
mod tree;

use std::any::{self, TypeId};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{TransactionError, Transactional};

pub use anchor::ANCHOR_FILE;
use codec::show_key;
use commit::GroupCommit;
pub use snapshot::{RawEntry, SnapshotStats};
pub use tree::{Iter, Tree};

/// The layout version this build reads and writes.
///
/// 2: peer trust bundles carry retired signing keys. Stores of schema 1 come
/// from development builds before the first release only, so they are
/// refused by name rather than migrated.
pub const SCHEMA_VERSION: u32 = 2;

/// Holds the store's own bookkeeping; not available through [`Store::tree`].
const META_TREE: &str = "meta";
const SCHEMA_KEY: &[u8] = b"schema_version";
/// Bumped by every applied batch, in its transaction (see `anchor`).
const GENERATION_KEY: &[u8] = b"generation";

/// Free space below which writes are refused (see `Store::set_min_free_bytes`).
pub const DEFAULT_MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store at {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error(
        "store at {path} was written by a newer Concord (schema {found}); \
         this build supports schema {supported}"
    )]
    NewerSchema {
        found: u32,
        supported: u32,
        path: PathBuf,
    },
    #[error(
        "store at {path} has schema {found}, older than this build's schema {supported}, \
         and no migration exists for it"
    )]
    OlderSchema {
        found: u32,
        supported: u32,
        path: PathBuf,
    },
    #[error("store at {path}: corrupt value in tree {tree} at key {key}: {reason}")]
    Corrupt {
        path: PathBuf,
        tree: &'static str,
        key: String,
        reason: String,
    },
    #[error("cannot encode the value for key {key} of tree {tree}: {reason}")]
    Encode {
        tree: &'static str,
        key: String,
        reason: String,
    },
    #[error("store at {path}: {what} failed: {source}")]
    Io {
        path: PathBuf,
        what: String,
        source: io::Error,
    },
    #[error(
        "store at {path}: flushing to disk failed, so the write was not acknowledged: {source}"
    )]
    Flush {
        path: PathBuf,
        source: Arc<io::Error>,
    },
    #[error("tree name {tree:?} is reserved by the store")]
    ReservedTree { tree: &'static str },
    #[error("tree {tree} is already open with values of type {open_as}, not {requested}")]
    TreeType {
        tree: &'static str,
        open_as: &'static str,
        requested: &'static str,
    },
    #[error("tree {tree} belongs to another store than the one at {path}")]
    ForeignTree { tree: &'static str, path: PathBuf },
    #[error("store at {path}: cannot import: {reason}")]
    Import { path: PathBuf, reason: String },
    #[error(
        "store at {path} is behind what this node acknowledged: it holds write {found} but \
         write {acknowledged} was made durable (the store files are damaged or were replaced \
         by older ones). Restore the latest backup into a new directory (`concord restore`); \
         to accept the loss instead, move {anchor} aside"
    )]
    Behind {
        path: PathBuf,
        anchor: PathBuf,
        found: u64,
        acknowledged: u64,
    },
    #[error(
        "store at {path}: its durability record {anchor} is damaged, so the node cannot vouch \
         for the store; if the store is intact, move {anchor} aside and start again"
    )]
    AnchorDamaged { path: PathBuf, anchor: PathBuf },
    #[error(
        "store at {path}: the disk is full ({available} bytes free, {reserve} kept in reserve); \
         nothing was written. Free space on that filesystem; reads are still served"
    )]
    DiskFull {
        path: PathBuf,
        available: u64,
        reserve: u64,
    },
    #[error("store at {path}: sled failed on damaged files: {reason}")]
    Damaged { path: PathBuf, reason: String },
}

impl StoreError {
    /// Whether the failure is a full disk (refused before or during a write).
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull { .. } => true,
            StoreError::Flush { source, .. } => source.kind() == io::ErrorKind::StorageFull,
            StoreError::Io { source, .. } => source.kind() == io::ErrorKind::StorageFull,
            _ => false,
        }
    }
}

/// A batch applied to the store but not yet known to be on disk.
#[must_use = "a staged batch is not acknowledged until durable() returns"]
pub struct Staged {
    store: Option<Store>,
}

impl Staged {
    /// Returns once the batch is on disk.
    pub async fn durable(self) -> Result<(), StoreError> {
        let Some(store) = self.store else {
            return Ok(());
        };
        store
            .inner
            .commit
            .wait_durable()
            .await
            .map_err(|source| store.inner.flush_error(source))?;
        store.inner.durable_writes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Counters for metrics and `status` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreStats {
    /// Commits acknowledged as durable.
    pub durable_writes: u64,
    /// Flushes (fsyncs) started; below `durable_writes` when commits share them.
    pub flushes: u64,
    pub size_on_disk: u64,
    pub schema_version: u32,
    pub path: PathBuf,
}

/// A handle to the open store; clones share it. The directory stays locked
/// until the last clone, and every [`Tree`] taken from it, is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: sled::Db,
    /// Value type each tree was opened with, so one name cannot be read as
    /// two record kinds.
    kinds: Mutex<HashMap<&'static str, (TypeId, &'static str)>>,
    durable_writes: AtomicU64,
    meta: sled::Tree,
    /// Highest generation applied (see `anchor`).
    generation: Arc<AtomicU64>,
    min_free_bytes: AtomicU64,
    /// Held shared while a batch is applied and exclusively while a snapshot
    /// reads every tree, so a snapshot never sees part of a batch.
    snapshot_lock: RwLock<()>,
    // Dropped last: joining the flusher releases its handle on `db`.
    commit: GroupCommit,
}

impl Inner {
    fn io(&self, what: String, source: sled::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            what,
            source: source.into(),
        }
    }

    fn flush_error(&self, source: Arc<io::Error>) -> StoreError {
        StoreError::Flush {
            path: self.path.clone(),
            source,
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the store in `dir`, creating both if needed, and checks that
    /// this build understands its schema.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(open_error)?;
        let db = open_db(dir)?;
        check_schema(dir, &db)?;
        let meta = db
            .open_tree(META_TREE)
            .map_err(|e| open_error(io::Error::from(e)))?;
        let on_disk = read_generation(dir, &meta)?;
        let (mut anchor, found) = anchor::Anchor::open(dir).map_err(open_error)?;
        match found {
            anchor::Found::At(acknowledged) if acknowledged > on_disk => {
                return Err(StoreError::Behind {
                    path: dir.to_owned(),
                    anchor: anchor.path().to_owned(),
                    found: on_disk,
                    acknowledged,
                })
            }
            anchor::Found::Damaged => {
                return Err(StoreError::AnchorDamaged {
                    path: dir.to_owned(),
                    anchor: anchor.path().to_owned(),
                })
            }
            anchor::Found::Missing => anchor.write(on_disk).map_err(open_error)?,
            anchor::Found::At(_) => {}
        }
        let generation = Arc::new(AtomicU64::new(on_disk));
        let commit = GroupCommit::start({
            let db = db.clone();
            let generation = Arc::clone(&generation);
            move || {
                // Everything applied up to here is covered by this flush.
                let reached = generation.load(Ordering::SeqCst);
                db.flush().map(drop).map_err(io::Error::from)?;
                if let Err(error) = anchor.write(reached) {
                    // The data is durable; a stale anchor only weakens the
                    // next start's check, it never refuses a good store.
                    tracing::warn!(%error, path = %anchor.path().display(), "cannot update the store's durability record");
                }
                Ok(())
            }
        })
        .map_err(open_error)?;
        tracing::info!(path = %dir.display(), schema = SCHEMA_VERSION, "store opened");
        Ok(Store {
            inner: Arc::new(Inner {
                path: dir.to_owned(),
                db,
                kinds: Mutex::new(HashMap::new()),
                durable_writes: AtomicU64::new(0),
                meta,
                generation,
                min_free_bytes: AtomicU64::new(DEFAULT_MIN_FREE_BYTES),
                snapshot_lock: RwLock::new(()),
                commit,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The tree `name`, holding values of type `V`. A name may only ever be
    /// opened with one value type per process.
    pub fn tree<V>(&self, name: &'static str) -> Result<Tree<V>, StoreError>
    where
        V: Serialize + DeserializeOwned + 'static,
    {
        if name.is_empty() || name == META_TREE || name.starts_with("__sled__") {
            return Err(StoreError::ReservedTree { tree: name });
        }
        let requested = (TypeId::of::<V>(), any::type_name::<V>());
        {
            let mut kinds = self
                .inner
                .kinds
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let (type_id, open_as) = *kinds.entry(name).or_insert(requested);
            if type_id != requested.0 {
                return Err(StoreError::TreeType {
                    tree: name,
                    open_as,
                    requested: requested.1,
                });
            }
        }
        let raw = self
            .inner
            .db
            .open_tree(name)
            .map_err(|e| self.inner.io(format!("opening tree {name}"), e))?;
        Ok(Tree::new(Arc::clone(&self.inner), name, raw))
    }

    /// An empty batch of writes for [`Store::commit`].
    pub fn batch(&self) -> Batch {
        Batch {
            store: Arc::clone(&self.inner),
            names: Vec::new(),
            trees: Vec::new(),
            ops: Vec::new(),
            foreign: None,
        }
    }

    /// Applies every operation of `batch` atomically (across trees) and
    /// returns once they are on disk. On error nothing is acknowledged; after
    /// a failed flush the store refuses all further commits.
    pub async fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        self.stage(batch)?.durable().await
    }

    /// Applies `batch` and flushes it before returning, without a runtime:
    /// for offline tools such as restore, never on a serving node (it would
    /// stall the group commit's other writers).
    pub fn commit_offline(&self, batch: Batch) -> Result<(), StoreError> {
        // Durable once the flush below returns; the handle has nothing to wait for.
        let _staged = self.stage(batch)?;
        self.inner
            .db
            .flush()
            .map_err(|e| self.inner.io("flushing an offline write".to_owned(), e))?;
        Ok(())
    }

    /// Applies `batch` atomically now and returns a handle whose `durable()`
    /// waits for the flush covering it. Lets a caller release its own locks
    /// between the two so that concurrent writers share one flush; it must
    /// not let the effects leave the node before `durable()` returned.
    pub fn stage(&self, batch: Batch) -> Result<Staged, StoreError> {
        let foreign = match batch.foreign {
            Some(tree) => Some(tree),
            None if !Arc::ptr_eq(&batch.store, &self.inner) => batch.names.first().copied(),
            None => None,
        };
        if let Some(tree) = foreign {
            return Err(StoreError::ForeignTree {
                tree,
                path: self.inner.path.clone(),
            });
        }
        if batch.ops.is_empty() {
            return Ok(Staged { store: None });
        }
        if let Some(source) = self.inner.commit.failure() {
            return Err(self.inner.flush_error(source));
        }
        self.check_free_space()?;
        {
            let _applying = self
                .inner
                .snapshot_lock
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            self.apply(&batch)?;
        }
        Ok(Staged {
            store: Some(self.clone()),
        })
    }

    /// Writes one value durably: a one-operation batch.
    pub async fn put_durable<V: Serialize>(
        &self,
        tree: &Tree<V>,
        key: impl AsRef<[u8]>,
        value: &V,
    ) -> Result<(), StoreError> {
        let mut batch = self.batch();
        batch.put(tree, key, value)?;
        self.commit(batch).await
    }

    /// Returns once everything applied so far is on disk; for shutdown.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.inner
            .commit
            .wait_durable()
            .await
            .map_err(|source| self.inner.flush_error(source))
    }

    /// Current counters. Never fails: a size that cannot be measured is
    /// logged and reported as 0, since stats only feed status and metrics.
    pub fn stats(&self) -> StoreStats {
        let size_on_disk = self.inner.db.size_on_disk().unwrap_or_else(|e| {
            let error = io::Error::from(e);
            tracing::warn!(path = %self.inner.path.display(), %error, "cannot measure the store's size");
            0
        });
        StoreStats {
            durable_writes: self.inner.durable_writes.load(Ordering::Relaxed),
            flushes: self.inner.commit.flushes(),
            size_on_disk,
            schema_version: SCHEMA_VERSION,
            path: self.inner.path.clone(),
        }
    }

    /// Refuses a write while the filesystem has less than the reserve free:
    /// sled turns a write that hits a full disk into an error on every later
    /// read too, so the node stops writing before that and keeps serving reads.
    fn check_free_space(&self) -> Result<(), StoreError> {
        let reserve = self.inner.min_free_bytes.load(Ordering::Relaxed);
        if reserve == 0 {
            return Ok(());
        }
        let Ok(stat) = rustix::fs::statvfs(&self.inner.path) else {
            return Ok(());
        };
        let available = stat.f_bavail.saturating_mul(stat.f_frsize);
        if available < reserve {
            return Err(StoreError::DiskFull {
                path: self.inner.path.clone(),
                available,
                reserve,
            });
        }
        Ok(())
    }

    /// Writes a small file beside the store's own, atomically and durably
    /// (temporary file, fsync, rename, fsync of the directory): state the
    /// store's own files must not be the only witness of (the latest signed
    /// audit checkpoint).
    pub fn put_sidecar(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = &self.inner.path;
        let io = |what: &str, source: io::Error| StoreError::Io {
            path: dir.clone(),
            what: format!("{what} {name}"),
            source,
        };
        let tmp = dir.join(format!("{name}.tmp"));
        let target = dir.join(name);
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(|e| io("creating", e))?;
            f.write_all(bytes).map_err(|e| io("writing", e))?;
            f.sync_all().map_err(|e| io("syncing", e))?;
        }
        std::fs::rename(&tmp, &target).map_err(|e| io("renaming", e))?;
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io("syncing the directory for", e))
    }

    /// A file [`Store::put_sidecar`] wrote, if present.
    pub fn sidecar(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.inner.path.join(name)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                path: self.inner.path.clone(),
                what: format!("reading {name}"),
                source,
            }),
        }
    }

    /// Keeps `bytes` free on the store's filesystem: writes that would
    /// start below it are refused with [`StoreError::DiskFull`]. 0 turns the
    /// check off.
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.inner.min_free_bytes.store(bytes, Ordering::Relaxed);
    }

    fn apply(&self, batch: &Batch) -> Result<(), StoreError> {
        // The meta tree rides in every transaction: sled runs transactions
        // one at a time, so generations grow in the order batches apply.
        let mut trees = batch.trees.clone();
        trees.push(self.inner.meta.clone());
        let meta = trees.len() - 1;
        let result: Result<u64, TransactionError<()>> = trees.as_slice().transaction(|views| {
            let current = views[meta]
                .get(GENERATION_KEY)?
                .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
                .map_or(0, u64::from_be_bytes);
            let next = current + 1;
            views[meta].insert(GENERATION_KEY, &next.to_be_bytes()[..])?;
            for op in &batch.ops {
                match op {
                    Op::Put { tree, key, value } => {
                        views[*tree].insert(key.as_slice(), value.as_slice())?;
                    }
                    Op::Delete { tree, key } => {
                        views[*tree].remove(key.as_slice())?;
                    }
                }
            }
            Ok(next)
        });
        let applied = result.map_err(|e| {
            let source = match e {
                TransactionError::Storage(e) => e,
                TransactionError::Abort(()) => {
                    sled::Error::Unsupported("transaction aborted".to_owned())
                }
            };
            self.inner.io(
                format!("committing a batch to trees {}", batch.names.join(", ")),
                source,
            )
        })?;
        self.inner.generation.fetch_max(applied, Ordering::SeqCst);
        Ok(())
    }
}

/// Writes to apply together with [`Store::commit`]. Values are encoded when
/// added, so a value that cannot be stored is rejected before anything is
/// written.
pub struct Batch {
    store: Arc<Inner>,
    names: Vec<&'static str>,
    /// Distinct trees touched, indexed by `Op::tree`; sled's multi-tree
    /// transaction must not see one tree twice.
    trees: Vec<sled::Tree>,
    ops: Vec<Op>,
    /// First tree added that belongs to another store; fails the commit.
    foreign: Option<&'static str>,
}

enum Op {
    Put {
        tree: usize,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        tree: usize,
        key: Vec<u8>,
    },
}

impl Batch {
    pub fn put<V: Serialize>(
        &mut self,
        tree: &Tree<V>,
        key: impl AsRef<[u8]>,
        value: &V,
    ) -> Result<(), StoreError> {
        let key = key.as_ref();
        let value = codec::encode(value).map_err(|reason| StoreError::Encode {
            tree: tree.name,
            key: show_key(key),
            reason,
        })?;
        let tree = self.slot(tree);
        self.ops.push(Op::Put {
            tree,
            key: key.to_vec(),
            value,
        });
        Ok(())
    }

    pub fn delete<V>(&mut self, tree: &Tree<V>, key: impl AsRef<[u8]>) {
        let tree = self.slot(tree);
        self.ops.push(Op::Delete {
            tree,
            key: key.as_ref().to_vec(),
        });
    }

    /// Operations in the batch.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Moves every operation of `other` (of the same store) into this batch,
    /// after this batch's own, so two modules' writes commit as one.
    pub fn append(&mut self, other: Batch) {
        if !Arc::ptr_eq(&other.store, &self.store) {
            self.foreign
                .get_or_insert(other.names.first().copied().unwrap_or("?"));
        }
        if let Some(f) = other.foreign {
            self.foreign.get_or_insert(f);
        }
        // Re-index the other batch's trees into this one's slots.
        let mut map = Vec::with_capacity(other.trees.len());
        for (name, tree) in other.names.iter().zip(other.trees) {
            let index = match self.names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    self.names.push(name);
                    self.trees.push(tree);
                    self.trees.len() - 1
                }
            };
            map.push(index);
        }
        for op in other.ops {
            self.ops.push(match op {
                Op::Put { tree, key, value } => Op::Put {
                    tree: map[tree],
                    key,
                    value,
                },
                Op::Delete { tree, key } => Op::Delete {
                    tree: map[tree],
                    key,
                },
            });
        }
    }

    fn slot<V>(&mut self, tree: &Tree<V>) -> usize {
        if !Arc::ptr_eq(&tree.store, &self.store) {
            self.foreign.get_or_insert(tree.name);
        }
        if let Some(index) = self.names.iter().position(|name| *name == tree.name) {
            return index;
        }
        self.names.push(tree.name);
        self.trees.push(tree.raw.clone());
        self.trees.len() - 1
    }
}

/// How long `open` waits for a held lock before blaming another process.
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// Sled releases its directory lock from background I/O threads a moment
/// after the last handle is dropped, so reopening in the same process (a
/// restarted node in tests, a retried start) can briefly find our own former
/// lock. Only a lock still held after `LOCK_WAIT` is reported.
fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    let open_error = |source| StoreError::Open {
        path: dir.to_owned(),
        source,
    };
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        let error = match open_catching_panics(dir)? {
            Ok(db) => return Ok(db),
            Err(e) => io::Error::from(e),
        };
        // Sled reports a held lock as an opaque `Other` error.
        if !error.to_string().contains("could not acquire lock") {
            return Err(open_error(error));
        }
        if Instant::now() >= deadline {
            return Err(open_error(io::Error::new(
                io::ErrorKind::WouldBlock,
                "another process holds its lock (is another concord-node running on this data directory?)",
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sled asserts on some damaged files instead of returning an error; a
/// node must say so in one line and exit, not print a panic.
fn open_catching_panics(dir: &Path) -> Result<sled::Result<sled::Db>, StoreError> {
    static QUIET: Mutex<()> = Mutex::new(());
    let _one_at_a_time = QUIET.lock().unwrap_or_else(PoisonError::into_inner);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let opened = std::panic::catch_unwind(|| sled::Config::new().path(dir).open());
    std::panic::set_hook(hook);
    opened.map_err(|payload| {
        let reason = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".to_owned());
        StoreError::Damaged {
            path: dir.to_owned(),
            reason: format!(
                "{reason}; restore the latest backup into a new directory (`concord restore`)"
            ),
        }
    })
}

/// The generation the store holds (0 for a store before anchors).
fn read_generation(dir: &Path, meta: &sled::Tree) -> Result<u64, StoreError> {
    let raw = meta.get(GENERATION_KEY).map_err(|e| StoreError::Io {
        path: dir.to_owned(),
        what: "reading the store generation".to_owned(),
        source: e.into(),
    })?;
    match raw {
        None => Ok(0),
        Some(v) => <[u8; 8]>::try_from(v.as_ref())
            .map(u64::from_be_bytes)
            .map_err(|_| StoreError::Corrupt {
                path: dir.to_owned(),
                tree: META_TREE,
                key: show_key(GENERATION_KEY),
                reason: format!("{} bytes, expected 8", v.len()),
            }),
    }
}

/// Records the schema in a fresh store, or checks the recorded one.
fn check_schema(dir: &Path, db: &sled::Db) -> Result<(), StoreError> {
    let io_error = |what: &str, source: sled::Error| StoreError::Io {
        path: dir.to_owned(),
        what: what.to_owned(),
        source: source.into(),
    };
    let corrupt = |reason: String| StoreError::Corrupt {
        path: dir.to_owned(),
        tree: META_TREE,
        key: show_key(SCHEMA_KEY),
        reason,
    };
    let meta = db
        .open_tree(META_TREE)
        .map_err(|e| io_error("opening the meta tree", e))?;
    let recorded = meta
        .get(SCHEMA_KEY)
        .map_err(|e| io_error("reading the schema version", e))?;
    let Some(bytes) = recorded else {
        // The version is recorded (durably) before any tree is created, so
        // other trees without it mean this is not a Concord store.
        let foreign: Vec<String> = db
            .tree_names()
            .iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .filter(|name| name != META_TREE && !name.starts_with("__sled__"))
            .collect();
        if !foreign.is_empty() {
            return Err(corrupt(format!(
                "no schema version, but the store holds trees {}",
                foreign.join(", ")
            )));
        }
        meta.insert(SCHEMA_KEY, &SCHEMA_VERSION.to_be_bytes())
            .map_err(|e| io_error("recording the schema version", e))?;
        db.flush()
            .map_err(|e| io_error("flushing the schema version", e))?;
        return Ok(());
    };
    let found = <[u8; 4]>::try_from(bytes.as_ref())
        .map(u32::from_be_bytes)
        .map_err(|_| corrupt(format!("expected 4 bytes, found {}", bytes.len())))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
            path: dir.to_owned(),
        });
    }
    // Migrations from older schemas go here once a second schema exists.
    if found < SCHEMA_VERSION {
        return Err(StoreError::OlderSchema {
            found,
            supported: SCHEMA_VERSION,
            path: dir.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::sync::atomic::AtomicBool;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Rule {
        id: u32,
        text: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Audit {
        rule: u32,
        by: String,
    }

    fn rule(id: u32) -> Rule {
        Rule {
            id,
            text: format!("rule {id}"),
        }
    }

    fn audit(rule: u32) -> Audit {
        Audit {
            rule,
            by: "DE/officer".to_owned(),
        }
    }

    /// Writes a schema version as a (hypothetical) other build would.
    fn record_schema(dir: &Path, bytes: &[u8]) {
        let db = open_db(dir).unwrap();
        db.open_tree(META_TREE)
            .unwrap()
            .insert(SCHEMA_KEY, bytes)
            .unwrap();
        db.flush().unwrap();
    }

    #[test]
    fn store_is_shareable() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Store>();
        check::<Tree<Rule>>();
        fn send<T: Send>(_: &T) {}
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        send(&store.commit(store.batch()));
        send(&store.put_durable(&rules, "k", &rule(1)));
        send(&store.flush());
        send(&rules.lazy_iter());
    }

    #[tokio::test]
    async fn committed_data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let rules = store.tree::<Rule>("rules").unwrap();
            let audits = store.tree::<Audit>("audits").unwrap();
            let mut batch = store.batch();
            batch.put(&rules, "r1", &rule(1)).unwrap();
            batch.put(&audits, "a1", &audit(1)).unwrap();
            assert_eq!(batch.len(), 2);
            store.commit(batch).await.unwrap();
            store.put_durable(&rules, "r2", &rule(2)).await.unwrap();
            store.flush().await.unwrap();

            let stats = store.stats();
            assert_eq!(stats.durable_writes, 2);
            assert!(stats.flushes >= 1);
            assert!(stats.size_on_disk > 0);
            assert_eq!(stats.schema_version, SCHEMA_VERSION);
            assert_eq!(stats.path, dir.path());
        }
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        let audits = store.tree::<Audit>("audits").unwrap();
        assert_eq!(rules.get("r1").unwrap(), Some(rule(1)));
        assert_eq!(rules.get("r2").unwrap(), Some(rule(2)));
        assert_eq!(audits.get("a1").unwrap(), Some(audit(1)));
        // Counters are per process.
        assert_eq!(store.stats().durable_writes, 0);
    }

    #[test]
    fn open_creates_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b/store");
        let store = Store::open(&nested).unwrap();
        assert_eq!(store.path(), nested);
        assert!(nested.is_dir());
    }

    #[test]
    fn a_newer_schema_is_refused_clearly() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        record_schema(dir.path(), &7u32.to_be_bytes());

        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::NewerSchema {
                    found: 7,
                    supported: SCHEMA_VERSION,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "store at {} was written by a newer Concord (schema 7); this build supports schema {SCHEMA_VERSION}",
                dir.path().display()
            )
        );
    }

    #[test]
    fn an_older_or_malformed_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        record_schema(dir.path(), &0u32.to_be_bytes());
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::OlderSchema { found: 0, .. }),
            "{err:?}"
        );

        record_schema(dir.path(), b"\x01");
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Corrupt {
                    tree: META_TREE,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("schema_version"), "{err}");
    }

    #[test]
    fn a_sled_db_without_a_schema_is_not_adopted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = open_db(dir.path()).unwrap();
            db.open_tree("stuff").unwrap().insert("k", "v").unwrap();
            db.flush().unwrap();
        }
        let err = Store::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("stuff"), "{err}");
    }

    #[test]
    fn a_locked_store_gives_a_clear_open_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(text.contains("another concord-node"), "{text}");
    }

    #[test]
    fn tree_names_and_types_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for name in ["meta", "", "__sled__default"] {
            assert!(
                matches!(
                    store.tree::<Rule>(name),
                    Err(StoreError::ReservedTree { .. })
                ),
                "{name}"
            );
        }
        store.tree::<Rule>("rules").unwrap();
        store.tree::<Rule>("rules").unwrap();
        let err = store.tree::<Audit>("rules").unwrap_err();
        assert!(matches!(err, StoreError::TreeType { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("rules") && text.contains("Audit"), "{text}");
    }

    #[tokio::test]
    async fn a_batch_is_invisible_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        let audits = store.tree::<Audit>("audits").unwrap();
        store.put_durable(&rules, "old", &rule(0)).await.unwrap();

        let mut batch = store.batch();
        batch.put(&rules, "r1", &rule(1)).unwrap();
        batch.delete(&rules, "old");
        batch.put(&audits, "a1", &audit(1)).unwrap();
        assert!(!rules.contains("r1").unwrap());
        assert!(rules.contains("old").unwrap());
        assert!(audits.is_empty().unwrap());

        store.commit(batch).await.unwrap();
        assert!(rules.contains("r1").unwrap());
        assert!(!rules.contains("old").unwrap());
        assert!(audits.contains("a1").unwrap());
    }

    #[tokio::test]
    async fn a_batch_touching_a_foreign_tree_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let other_dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let other = Store::open(other_dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        let foreign = other.tree::<Audit>("audits").unwrap();

        let mut batch = store.batch();
        batch.put(&rules, "r1", &rule(1)).unwrap();
        batch.put(&foreign, "a1", &audit(1)).unwrap();
        let err = store.commit(batch).await.unwrap_err();
        assert!(
            matches!(err, StoreError::ForeignTree { tree: "audits", .. }),
            "{err:?}"
        );
        assert!(rules.is_empty().unwrap());
        assert!(foreign.is_empty().unwrap());

        // A batch made by another store is refused as a whole, too.
        let mut batch = other.batch();
        batch.put(&foreign, "a1", &audit(1)).unwrap();
        assert!(store.commit(batch).await.is_err());
        assert!(foreign.is_empty().unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn readers_never_see_half_a_batch() {
        const N: u32 = 100;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        let audits = store.tree::<Audit>("audits").unwrap();
        let done = Arc::new(AtomicBool::new(false));

        let reader = std::thread::spawn({
            let (rules, audits, done) = (rules.clone(), audits.clone(), Arc::clone(&done));
            move || {
                let mut checks = 0u64;
                while !done.load(Ordering::SeqCst) {
                    for i in 0..N {
                        let key = i.to_be_bytes();
                        // Whichever tree is read first, seeing the entry there
                        // means the other tree must already have it.
                        if rules.contains(key).unwrap() {
                            assert!(audits.contains(key).unwrap(), "rule {i} without audit");
                        }
                        if audits.contains(key).unwrap() {
                            assert!(rules.contains(key).unwrap(), "audit {i} without rule");
                        }
                        checks += 1;
                    }
                }
                checks
            }
        });

        for i in 0..N {
            let mut batch = store.batch();
            batch.put(&rules, i.to_be_bytes(), &rule(i)).unwrap();
            batch.put(&audits, i.to_be_bytes(), &audit(i)).unwrap();
            store.commit(batch).await.unwrap();
        }
        done.store(true, Ordering::SeqCst);
        assert!(reader.join().unwrap() > 0);
        assert_eq!(rules.len().unwrap(), N as usize);
        assert_eq!(audits.len().unwrap(), N as usize);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_share_flushes() {
        const WRITERS: u64 = 64;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();

        // Hold the flusher so all writers are provably waiting at once; the
        // assertion is then about counts, not about how fast the disk is.
        store.inner.commit.pause();
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let (store, rules) = (store.clone(), rules.clone());
                tokio::spawn(async move {
                    let id = u32::try_from(i).unwrap();
                    store.put_durable(&rules, id.to_be_bytes(), &rule(id)).await
                })
            })
            .collect();
        while store.inner.commit.requested() < WRITERS {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        store.inner.commit.resume();
        for writer in writers {
            writer.await.unwrap().unwrap();
        }

        let stats = store.stats();
        assert_eq!(stats.durable_writes, WRITERS);
        assert!(stats.flushes >= 1);
        assert!(stats.flushes < stats.durable_writes, "{stats:?}");
        assert_eq!(rules.len().unwrap(), 64);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn unpaused_concurrent_commits_all_complete() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rules = store.tree::<Rule>("rules").unwrap();
        let writers: Vec<_> = (0..64u32)
            .map(|i| {
                let (store, rules) = (store.clone(), rules.clone());
                tokio::spawn(
                    async move { store.put_durable(&rules, i.to_be_bytes(), &rule(i)).await },
                )
            })
            .collect();
        for writer in writers {
            writer.await.unwrap().unwrap();
        }
        let stats = store.stats();
        assert_eq!(stats.durable_writes, 64);
        assert!(stats.flushes <= stats.durable_writes, "{stats:?}");
    }

    #[test]
    fn error_messages_name_their_context() {
        let path = PathBuf::from("/var/lib/concord");
        let cases = [
            StoreError::Corrupt {
                path: path.clone(),
                tree: "rules",
                key: show_key(b"r1"),
                reason: "empty value (no version byte)".to_owned(),
            },
            StoreError::Io {
                path: path.clone(),
                what: "read of key \"r1\" in tree rules".to_owned(),
                source: io::Error::other("boom"),
            },
            StoreError::Flush {
                path: path.clone(),
                source: Arc::new(io::Error::other("EIO")),
            },
            StoreError::ForeignTree {
                tree: "rules",
                path: path.clone(),
            },
        ];
        for err in cases {
            let text = err.to_string();
            assert!(text.contains("/var/lib/concord"), "{text}");
            assert!(
                text.contains("rules") || matches!(err, StoreError::Flush { .. }),
                "{text}"
            );
        }
        let encode = StoreError::Encode {
            tree: "rules",
            key: show_key(&[0xff]),
            reason: "x".to_owned(),
        };
        assert!(encode.to_string().contains("rules") && encode.to_string().contains("0xff"));
        let flush = StoreError::Flush {
            path,
            source: Arc::new(io::Error::other("EIO")),
        };
        assert!(flush.to_string().contains("not acknowledged"));
        assert!(std::error::Error::source(&flush).is_some());
    }
}
