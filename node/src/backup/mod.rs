//! Backups of a running node and offline restore.
//!
//! [`take`] writes a consistent point-in-time copy of the whole store (see
//! `Store::snapshot`) into an anonymous temporary file, in the format of
//! [`format`], sealed with the node's record-signing key, and hands it back
//! ready to be streamed: writers are held up only while the store is copied
//! to local disk, never while a slow client downloads. [`restore`] verifies
//! a backup file completely (checksum, structure, and the seal against the
//! keys it is told to trust) before it writes anything, then builds the
//! store in a sibling staging directory and renames it into place only when
//! complete, so an interrupted restore never leaves a store a node starts on
//! (the node refuses to start while a staging directory exists).
//!
//! Architecture invariant: this module never names sled; it sees raw entries
//! only through `Store::snapshot` and `Store::import`.

pub mod format;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use format::{FormatError, Header, Reader, Writer};

use crate::clock::now_unix_ms;
use crate::crypto::{verify_signature, KeyRing, RecordSigner};
use crate::store::{Store, StoreError, SCHEMA_VERSION};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("backup {path}: {source}")]
    Format { path: PathBuf, source: FormatError },
    #[error(
        "backup {path} was taken from a store with schema {found}; this build restores schema {supported}"
    )]
    Schema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("data directory {0} is not empty; restore only into a new or empty directory")]
    NotEmpty(PathBuf),
    #[error(
        "backup {path} is sealed by key {key_id}, which is not among the keys trusted for \
         {jurisdiction} ({trusted}); nothing was written. A backup of another node, or one \
         edited after it was taken, is refused; if you know which key sealed it, pass \
         --trust-key with that public key"
    )]
    UntrustedSeal {
        path: PathBuf,
        key_id: String,
        jurisdiction: String,
        trusted: String,
    },
    #[error("backup {path}: the seal's signature does not verify; the file was altered; nothing was written")]
    BadSeal { path: PathBuf },
    #[error("backup {path} was taken by {found}, not by this node's jurisdiction {expected}; nothing was written")]
    WrongJurisdiction {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<BackupError> for crate::error::Error {
    fn from(e: BackupError) -> Self {
        match e {
            BackupError::Store(e) => crate::error::Error::Store(e),
            other => crate::error::Error::Internal(other.to_string()),
        }
    }
}

fn io_error(what: impl Into<String>) -> impl FnOnce(io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

/// A finished backup file, positioned at its start.
pub struct Taken {
    pub file: File,
    pub size: u64,
    pub entries: u64,
    pub trees: usize,
    /// The SHA-256 the file ends with.
    pub checksum: [u8; 32],
}

/// Writes a consistent backup of `store` to an unnamed temporary file (mode
/// 0600, unlinked at once, so it vanishes with the handle). Blocking: call
/// it from a blocking thread.
pub fn take(
    store: &Store,
    jurisdiction: &str,
    signer: &RecordSigner,
) -> Result<Taken, BackupError> {
    let file = anonymous_file()?;
    let header = Header {
        schema_version: SCHEMA_VERSION,
        created_at_unix_ms: now_unix_ms(),
        jurisdiction: jurisdiction.to_owned(),
    };
    let what = "writing the backup to a temporary file";
    let mut writer = Writer::new(BufWriter::new(file), &header).map_err(io_error(what))?;
    let stats = store.snapshot(|tree, key, value| writer.entry(tree, key, value))?;
    let (out, size, checksum) = writer
        .finish(|message| format::Seal {
            key_id: signer.key_id().to_owned(),
            signature: signer.sign(message),
        })
        .map_err(io_error(what))?;
    let mut file = out
        .into_inner()
        .map_err(|e| io_error(what)(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(io_error(what))?;
    Ok(Taken {
        file,
        size,
        entries: stats.entries,
        trees: stats.trees,
        checksum,
    })
}

fn anonymous_file() -> Result<File, BackupError> {
    let dir = std::env::temp_dir();
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    for attempt in 0..100u32 {
        let path = dir.join(format!(
            "concord-backup-{}-{}-{attempt}.tmp",
            std::process::id(),
            now_unix_ms()
        ));
        match options.open(&path) {
            Ok(file) => {
                // The backup holds the whole store: keep no name others could open.
                std::fs::remove_file(&path).map_err(io_error(format!(
                    "unlinking temporary file {}",
                    path.display()
                )))?;
                return Ok(file);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(io_error(format!(
                    "creating a temporary file in {}",
                    dir.display()
                ))(e))
            }
        }
    }
    Err(BackupError::Io {
        what: format!("creating a temporary file in {}", dir.display()),
        source: io::Error::new(io::ErrorKind::AlreadyExists, "no free name"),
    })
}

/// What a verified backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub header: Header,
    pub entries: u64,
    pub trees: usize,
    pub size: u64,
}

/// Checks structure and checksum only, without a key (a client checking
/// what it downloaded); returns the summary and the sealing key's id.
pub fn check(path: &Path) -> Result<(Summary, String), BackupError> {
    let mut trees = std::collections::BTreeSet::new();
    let (summary, _, seal) = read(path, |entry| {
        trees.insert(entry.tree);
        Ok(())
    })?;
    Ok((
        Summary {
            trees: trees.len(),
            ..summary
        },
        seal.key_id,
    ))
}

/// Whose seal a restore accepts: the jurisdiction's record-signing keys
/// (current and retired, each for what it signed while in service).
pub struct Trust<'a> {
    pub jurisdiction: &'a str,
    pub keys: KeyRing<'a>,
}

/// Reads the whole file and checks its structure, checksum and seal against
/// `trust`; writes nothing.
pub fn verify(path: &Path, trust: &Trust<'_>) -> Result<Summary, BackupError> {
    let mut trees = std::collections::BTreeSet::new();
    let (summary, checksum, seal) = read(path, |entry| {
        trees.insert(entry.tree);
        Ok(())
    })?;
    if summary.header.jurisdiction != trust.jurisdiction {
        return Err(BackupError::WrongJurisdiction {
            path: path.to_owned(),
            found: summary.header.jurisdiction.clone(),
            expected: trust.jurisdiction.to_owned(),
        });
    }
    let key = trust
        .keys
        .key_for(&seal.key_id, summary.header.created_at_unix_ms)
        .map_err(|_| BackupError::UntrustedSeal {
            path: path.to_owned(),
            key_id: seal.key_id.clone(),
            jurisdiction: trust.jurisdiction.to_owned(),
            trusted: trust.keys.ids().join(", "),
        })?;
    if !verify_signature(key, &format::sealed_message(&checksum), &seal.signature) {
        return Err(BackupError::BadSeal {
            path: path.to_owned(),
        });
    }
    Ok(Summary {
        trees: trees.len(),
        ..summary
    })
}

fn open(path: &Path) -> Result<(Reader<BufReader<File>>, u64), BackupError> {
    let file = File::open(path).map_err(io_error(format!("opening {}", path.display())))?;
    let size = file
        .metadata()
        .map_err(io_error(format!("reading {}", path.display())))?
        .len();
    let reader = Reader::new(BufReader::new(file)).map_err(|source| BackupError::Format {
        path: path.to_owned(),
        source,
    })?;
    Ok((reader, size))
}

/// One full pass over the file, handing each entry to `each`; returns the
/// summary, the verified checksum and the seal.
fn read(
    path: &Path,
    mut each: impl FnMut(crate::store::RawEntry) -> Result<(), BackupError>,
) -> Result<(Summary, [u8; 32], format::Seal), BackupError> {
    let (mut reader, size) = open(path)?;
    let format = |source| BackupError::Format {
        path: path.to_owned(),
        source,
    };
    while let Some(entry) = reader.next_entry().map_err(format)? {
        each(entry)?;
    }
    let (checksum, seal) = reader
        .sealed()
        .map(|(c, s)| (c, s.clone()))
        .ok_or_else(|| format(FormatError::Malformed("no seal after the checksum".into())))?;
    let summary = Summary {
        header: reader.header().clone(),
        entries: reader.entries(),
        trees: 0,
        size,
    };
    Ok((summary, checksum, seal))
}

/// Where a restore into `data_dir` builds the store before renaming it into
/// place: a sibling, so the rename stays on one filesystem.
pub fn staging_dir(data_dir: &Path) -> PathBuf {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".to_owned());
    data_dir.with_file_name(format!(".{name}.restoring"))
}

/// The staging directory an interrupted restore into `data_dir` left, if
/// any: a node must not start on `data_dir` while it exists.
pub fn interrupted_restore(data_dir: &Path) -> Option<PathBuf> {
    let staging = staging_dir(data_dir);
    staging.exists().then_some(staging)
}

/// Restores the backup at `path` into `data_dir`, which must not exist or be
/// empty. The file is verified completely (checksum, structure, schema and
/// seal against `trust`) before anything is written. The store is built in
/// [`staging_dir`], its sequence counter moved past the backup and flushed,
/// and only then renamed to `data_dir`: killed at any point, a restore
/// leaves either no store at `data_dir` (and a staging directory the node
/// refuses to start beside) or the complete one. A staging directory left by
/// an earlier, interrupted restore is removed first.
pub fn restore(path: &Path, data_dir: &Path, trust: &Trust<'_>) -> Result<Summary, BackupError> {
    let existed = match std::fs::read_dir(data_dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(BackupError::NotEmpty(data_dir.to_owned()));
            }
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_error(format!("reading {}", data_dir.display()))(e)),
    };
    let summary = verify(path, trust)?;
    if summary.header.schema_version != SCHEMA_VERSION {
        return Err(BackupError::Schema {
            path: path.to_owned(),
            found: summary.header.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    let staging = staging_dir(data_dir);
    remove_dir(&staging)?;
    let loaded = load(path, &staging, trust);
    if loaded.is_err() {
        if let Err(e) = remove_dir(&staging) {
            tracing::error!(dir = %staging.display(), error = %e, "cannot remove a partly restored store");
        }
        return loaded.map(|()| summary);
    }
    sync_dir(&staging)?;
    if existed {
        std::fs::remove_dir(data_dir).map_err(io_error(format!(
            "replacing the empty {}",
            data_dir.display()
        )))?;
    }
    std::fs::rename(&staging, data_dir).map_err(io_error(format!(
        "renaming {} to {}",
        staging.display(),
        data_dir.display()
    )))?;
    if let Some(parent) = data_dir.parent() {
        sync_dir(parent)?;
    }
    Ok(summary)
}

fn load(path: &Path, dir: &Path, trust: &Trust<'_>) -> Result<(), BackupError> {
    let store = Store::open(dir)?;
    let (mut reader, _) = open(path)?;
    // The file was verified, but is read again: a change since then shows up
    // as a checksum mismatch at the end, and the caller discards the store.
    let mut failure: Option<FormatError> = None;
    let entries = std::iter::from_fn(|| match reader.next_entry() {
        Ok(Some(entry)) => Some(Ok(entry)),
        Ok(None) => None,
        Err(e) => {
            let text = e.to_string();
            failure = Some(e);
            Some(Err(io::Error::new(io::ErrorKind::InvalidData, text)))
        }
    });
    let imported = store.import(entries);
    if let Some(source) = failure {
        return Err(BackupError::Format {
            path: path.to_owned(),
            source,
        });
    }
    imported?;
    // The second read must be the file that was verified, seal included.
    let same_seal = reader.sealed().is_some_and(|(checksum, seal)| {
        trust
            .keys
            .key_for(&seal.key_id, reader.header().created_at_unix_ms)
            .is_ok_and(|k| verify_signature(k, &format::sealed_message(&checksum), &seal.signature))
    });
    if !same_seal {
        return Err(BackupError::BadSeal {
            path: path.to_owned(),
        });
    }
    let seq = crate::exchange::skip_sequence_after_restore(&store)?;
    tracing::info!(
        seq,
        "sequence counter moved past anything issued since the backup"
    );
    Ok(())
}

fn remove_dir(dir: &Path) -> Result<(), BackupError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error(format!("removing {}", dir.display()))(e)),
    }
}

/// Makes a directory's entries (a rename, new files) durable.
fn sync_dir(dir: &Path) -> Result<(), BackupError> {
    let what = || format!("syncing {}", dir.display());
    let d = File::open(dir).map_err(io_error(what()))?;
    d.sync_all().map_err(io_error(what()))?;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.path().is_file() {
                File::open(entry.path())
                    .and_then(|f| f.sync_all())
                    .map_err(io_error(what()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    async fn filled() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        let words = store.tree::<String>("words").unwrap();
        for i in 0..50u32 {
            store
                .put_durable(&words, i.to_be_bytes(), &format!("word {i}"))
                .await
                .unwrap();
        }
        (dir, store)
    }

    fn signer() -> RecordSigner {
        RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap()
    }

    fn trust(s: &RecordSigner) -> Trust<'_> {
        Trust {
            jurisdiction: "DE",
            keys: s.keyring(),
        }
    }

    fn save(taken: &mut Taken, path: &Path) {
        let mut bytes = Vec::new();
        taken.file.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, taken.size);
        std::fs::write(path, bytes).unwrap();
    }

    #[tokio::test]
    async fn a_backup_restores_into_an_equal_store() {
        let (dir, store) = filled().await;
        let key = signer();
        let mut taken = take(&store, "DE", &key).unwrap();
        assert_eq!((taken.entries, taken.trees), (50, 1));
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);

        let summary = verify(&file, &trust(&key)).unwrap();
        assert_eq!(summary.header.jurisdiction, "DE");
        assert_eq!((summary.entries, summary.trees), (50, 1));

        let target = dir.path().join("restored");
        restore(&file, &target, &trust(&key)).unwrap();
        let restored = Store::open(&target).unwrap();
        let words = restored.tree::<String>("words").unwrap();
        assert_eq!(words.len().unwrap(), 50);
        assert_eq!(
            words.get(7u32.to_be_bytes()).unwrap().as_deref(),
            Some("word 7")
        );
    }

    #[tokio::test]
    async fn a_corrupt_backup_writes_nothing() {
        let (dir, store) = filled().await;
        let key = signer();
        let mut taken = take(&store, "DE", &key).unwrap();
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&file, bytes).unwrap();

        let target = dir.path().join("restored");
        let err = restore(&file, &target, &trust(&key)).unwrap_err();
        assert!(err.to_string().contains("de.backup"), "{err}");
        assert!(!target.exists(), "nothing may be written");

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(restore(&file, &empty, &trust(&key)).is_err());
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_non_empty_directory_is_refused() {
        let (dir, store) = filled().await;
        let key = signer();
        let mut taken = take(&store, "DE", &key).unwrap();
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);
        let err = restore(&file, &dir.path().join("data"), &trust(&key)).unwrap_err();
        assert!(matches!(err, BackupError::NotEmpty(_)), "{err}");
    }

    #[tokio::test]
    async fn a_backup_sealed_by_another_key_or_edited_and_rehashed_is_refused() {
        let (dir, store) = filled().await;
        let key = signer();
        let mut taken = take(&store, "DE", &key).unwrap();
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);
        // Another node's key: refused, nothing written.
        let other = signer();
        let target = dir.path().join("restored");
        let err = restore(&file, &target, &trust(&other)).unwrap_err();
        assert!(matches!(err, BackupError::UntrustedSeal { .. }), "{err}");
        assert!(!target.exists() && !staging_dir(&target).exists());
        // Another jurisdiction's trust: refused.
        let wrong = Trust {
            jurisdiction: "FR",
            keys: key.keyring(),
        };
        assert!(matches!(
            restore(&file, &target, &wrong),
            Err(BackupError::WrongJurisdiction { .. })
        ));
        // Edited, checksum recomputed, old seal kept: the seal no longer verifies.
        let forged = dir.path().join("forged.backup");
        let mut w = format::Writer::new(
            Vec::new(),
            &format::Header {
                schema_version: SCHEMA_VERSION,
                created_at_unix_ms: now_unix_ms(),
                jurisdiction: "DE".into(),
            },
        )
        .unwrap();
        w.entry("words", b"planted", b"value").unwrap();
        let original = std::fs::read(&file).unwrap();
        let seal_len = 2 + key.key_id().len() + 64;
        let old_seal = original[original.len() - seal_len..].to_vec();
        let (mut bytes, _, _) = w
            .finish(|_| format::Seal {
                key_id: key.key_id().to_owned(),
                signature: vec![0; 64],
            })
            .unwrap();
        let cut = bytes.len() - seal_len;
        bytes.truncate(cut);
        bytes.extend_from_slice(&old_seal);
        std::fs::write(&forged, bytes).unwrap();
        let err = restore(&forged, &target, &trust(&key)).unwrap_err();
        assert!(matches!(err, BackupError::BadSeal { .. }), "{err}");
        assert!(!target.exists());
        // The genuine file with its key restores.
        restore(&file, &target, &trust(&key)).unwrap();
        assert!(!staging_dir(&target).exists());
    }

    #[tokio::test]
    async fn a_leftover_staging_directory_is_replaced_and_reported() {
        let (dir, store) = filled().await;
        let key = signer();
        let mut taken = take(&store, "DE", &key).unwrap();
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);
        let target = dir.path().join("restored");
        // What a restore killed half-way leaves: a partial staging store.
        let staging = staging_dir(&target);
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("db"), b"partial").unwrap();
        assert_eq!(interrupted_restore(&target), Some(staging.clone()));
        restore(&file, &target, &trust(&key)).unwrap();
        assert_eq!(interrupted_restore(&target), None);
        let restored = Store::open(&target).unwrap();
        assert_eq!(restored.tree::<String>("words").unwrap().len().unwrap(), 50);
    }
}
