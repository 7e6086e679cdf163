//! Backups of a running node and offline restore.
//!
//! [`take`] writes a consistent point-in-time copy of the whole store (see
//! `Store::snapshot`) into an anonymous temporary file, in the format of
//! [`format`], and hands it back ready to be streamed: writers are held up
//! only while the store is copied to local disk, never while a slow client
//! downloads. [`restore`] verifies a backup file completely before it writes
//! anything, then loads it into an empty data directory through the store.
//!
//! Architecture invariant: this module never names sled; it sees raw entries
//! only through `Store::snapshot` and `Store::import`.

pub mod format;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use format::{FormatError, Header, Reader, Writer};

use crate::peers::now_unix_ms;
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
pub fn take(store: &Store, jurisdiction: &str) -> Result<Taken, BackupError> {
    let file = anonymous_file()?;
    let header = Header {
        schema_version: SCHEMA_VERSION,
        created_at_unix_ms: now_unix_ms(),
        jurisdiction: jurisdiction.to_owned(),
    };
    let what = "writing the backup to a temporary file";
    let mut writer = Writer::new(BufWriter::new(file), &header).map_err(io_error(what))?;
    let stats = store.snapshot(|tree, key, value| writer.entry(tree, key, value))?;
    let (out, size, checksum) = writer.finish().map_err(io_error(what))?;
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

/// Reads the whole file and checks its structure and checksum; writes nothing.
pub fn verify(path: &Path) -> Result<Summary, BackupError> {
    let mut trees = std::collections::BTreeSet::new();
    let summary = read(path, |entry| {
        trees.insert(entry.tree);
        Ok(())
    })?;
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

/// One full pass over the file, handing each entry to `each`.
fn read(
    path: &Path,
    mut each: impl FnMut(crate::store::RawEntry) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let (mut reader, size) = open(path)?;
    let format = |source| BackupError::Format {
        path: path.to_owned(),
        source,
    };
    while let Some(entry) = reader.next_entry().map_err(format)? {
        each(entry)?;
    }
    Ok(Summary {
        header: reader.header().clone(),
        entries: reader.entries(),
        trees: 0,
        size,
    })
}

/// Restores the backup at `path` into `data_dir`, which must not exist or be
/// empty. The file is verified completely (checksum, structure, schema)
/// before anything is written; if writing then fails, what was written is
/// removed again.
pub fn restore(path: &Path, data_dir: &Path) -> Result<Summary, BackupError> {
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
    let summary = verify(path)?;
    if summary.header.schema_version != SCHEMA_VERSION {
        return Err(BackupError::Schema {
            path: path.to_owned(),
            found: summary.header.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    let loaded = load(path, data_dir);
    if loaded.is_err() {
        discard(data_dir, existed);
    }
    loaded.map(|()| summary)
}

fn load(path: &Path, data_dir: &Path) -> Result<(), BackupError> {
    let store = Store::open(data_dir)?;
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
    let seq = crate::exchange::skip_sequence_after_restore(&store)?;
    tracing::info!(
        seq,
        "sequence counter moved past anything issued since the backup"
    );
    Ok(())
}

fn discard(data_dir: &Path, existed: bool) {
    let result = if existed {
        std::fs::read_dir(data_dir).and_then(|entries| {
            for entry in entries {
                let p = entry?.path();
                if p.is_dir() {
                    std::fs::remove_dir_all(&p)?;
                } else {
                    std::fs::remove_file(&p)?;
                }
            }
            Ok(())
        })
    } else {
        std::fs::remove_dir_all(data_dir)
    };
    if let Err(e) = result {
        tracing::error!(dir = %data_dir.display(), error = %e, "cannot remove a partly restored store");
    }
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

    fn save(taken: &mut Taken, path: &Path) {
        let mut bytes = Vec::new();
        taken.file.read_to_end(&mut bytes).unwrap();
        assert_eq!(bytes.len() as u64, taken.size);
        std::fs::write(path, bytes).unwrap();
    }

    #[tokio::test]
    async fn a_backup_restores_into_an_equal_store() {
        let (dir, store) = filled().await;
        let mut taken = take(&store, "DE").unwrap();
        assert_eq!((taken.entries, taken.trees), (50, 1));
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);

        let summary = verify(&file).unwrap();
        assert_eq!(summary.header.jurisdiction, "DE");
        assert_eq!((summary.entries, summary.trees), (50, 1));

        let target = dir.path().join("restored");
        restore(&file, &target).unwrap();
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
        let mut taken = take(&store, "DE").unwrap();
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&file, bytes).unwrap();

        let target = dir.path().join("restored");
        let err = restore(&file, &target).unwrap_err();
        assert!(err.to_string().contains("de.backup"), "{err}");
        assert!(!target.exists(), "nothing may be written");

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(restore(&file, &empty).is_err());
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn a_non_empty_directory_is_refused() {
        let (dir, store) = filled().await;
        let mut taken = take(&store, "DE").unwrap();
        let file = dir.path().join("de.backup");
        save(&mut taken, &file);
        let err = restore(&file, &dir.path().join("data")).unwrap_err();
        assert!(matches!(err, BackupError::NotEmpty(_)), "{err}");
    }
}
