//! The node's record-signing key and the keys it retired, as files: loaded
//! at start, rotated offline by `concord pki rotate-signing-key`.
//!
//! The retired-keys file holds public data only (old public keys and their
//! signed handovers); the private key of a retired key is not kept, so a
//! retired key can never sign again from this machine.

use std::path::{Path, PathBuf};

use crate::crypto::{keyfile, KeyFileError, KeyRingError, RecordSigner, RetiredKey, SigningError};
use crate::trust_bundle::{retired_keys_from_toml, retired_keys_to_toml, TrustBundleError};

#[derive(Debug, thiserror::Error)]
pub enum SigningKeysError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("signing key {path}: {source}")]
    Signing { path: PathBuf, source: SigningError },
    #[error("retired signing keys {path}: {source}")]
    RetiredFile {
        path: PathBuf,
        source: TrustBundleError,
    },
    #[error("retired signing keys {path}: {source}{hint}")]
    Ring {
        path: PathBuf,
        source: KeyRingError,
        hint: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where an interrupted rotation leaves the new key.
fn pending_path(key: &Path) -> PathBuf {
    let mut name = key.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Loads the signing key with the keys it retired (none if `retired` is absent).
pub fn load(
    key: &Path,
    retired: &Path,
    jurisdiction: &str,
) -> Result<RecordSigner, SigningKeysError> {
    let pkcs8 = keyfile::read_private(key)?;
    let signer = RecordSigner::from_pkcs8(&pkcs8).map_err(|source| SigningKeysError::Signing {
        path: key.to_owned(),
        source,
    })?;
    let keys = read_retired(retired)?;
    signer
        .with_retired(keys, jurisdiction)
        .map_err(|source| SigningKeysError::Ring {
            path: retired.to_owned(),
            source,
            hint: if pending_path(key).exists() {
                format!(
                    " (an interrupted rotation left {}: rename it to {} to finish it)",
                    pending_path(key).display(),
                    key.display()
                )
            } else {
                String::new()
            },
        })
}

fn read_retired(path: &Path) -> Result<Vec<RetiredKey>, SigningKeysError> {
    match std::fs::read_to_string(path) {
        Ok(text) => retired_keys_from_toml(&text).map_err(|source| SigningKeysError::RetiredFile {
            path: path.to_owned(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(SigningKeysError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// What a rotation did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub old_key_id: String,
    pub new_key_id: String,
    pub retired_at_unix_ms: i64,
    pub retired_keys: usize,
}

/// Replaces the signing key with a fresh one and keeps the old public key,
/// retired at `retired_at_unix_ms` with a signed handover to the new key: it
/// still verifies what it signed before then, nothing after. A planned
/// rotation retires at the current time; after a compromise, retire at the
/// earliest time the key may have leaked (the epoch to distrust everything
/// it ever signed), since anything later could be a forgery.
/// Run only while the node is stopped: a running node keeps its old key.
pub fn rotate(
    key: &Path,
    retired: &Path,
    jurisdiction: &str,
    retired_at_unix_ms: i64,
) -> Result<Rotation, SigningKeysError> {
    let old = load(key, retired, jurisdiction)?;
    let pkcs8 = RecordSigner::generate_pkcs8().map_err(|source| SigningKeysError::Signing {
        path: key.to_owned(),
        source,
    })?;
    let new = RecordSigner::from_pkcs8(&pkcs8).map_err(|source| SigningKeysError::Signing {
        path: key.to_owned(),
        source,
    })?;
    let mut keys = old.keyring().retired.to_vec();
    keys.push(RetiredKey::handover(
        &old,
        jurisdiction,
        new.public_key(),
        retired_at_unix_ms,
    ));
    // New key first (never overwriting), then the retired list, then the
    // swap: a crash leaves either the old state or one rename to finish,
    // which `load` names.
    let pending = pending_path(key);
    // `load` succeeded, so the retired list matches the current key: a
    // pending file can only be left by a rotation interrupted before it
    // wrote that list (often 0 bytes). Nothing refers to the key in it;
    // it is replaced.
    match std::fs::remove_file(&pending) {
        Ok(()) => {
            tracing::warn!(path = %pending.display(), "removed the new key of an interrupted rotation")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(SigningKeysError::Io {
                path: pending,
                source,
            })
        }
    }
    // Encoded before anything is written: a failure leaves the old state.
    let text = retired_keys_to_toml(&keys).map_err(|source| SigningKeysError::RetiredFile {
        path: retired.to_owned(),
        source,
    })?;
    keyfile::write_private(&pending, &pkcs8)?;
    write_atomically(retired, text.as_bytes())?;
    std::fs::rename(&pending, key).map_err(|source| SigningKeysError::Io {
        path: key.to_owned(),
        source,
    })?;
    sync_parent(key)?;
    Ok(Rotation {
        old_key_id: old.key_id().to_owned(),
        new_key_id: new.key_id().to_owned(),
        retired_at_unix_ms,
        retired_keys: keys.len(),
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SigningKeysError> {
    use std::io::Write;
    let io = |source| SigningKeysError::Io {
        path: path.to_owned(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    sync_parent(path)
}

fn sync_parent(path: &Path) -> Result<(), SigningKeysError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| SigningKeysError::Io {
            path: dir.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("signing.pk8");
        let retired = dir.path().join("signing-retired.toml");
        keyfile::write_private(&key, &RecordSigner::generate_pkcs8().unwrap()).unwrap();
        (dir, key, retired)
    }

    #[test]
    fn a_rotation_interrupted_before_its_first_write_does_not_block_the_next() {
        let (_dir, key, retired) = setup();
        let before = load(&key, &retired, "DE").unwrap();
        // Killed right after creating the new key file.
        std::fs::write(pending_path(&key), b"").unwrap();
        assert_eq!(
            load(&key, &retired, "DE").unwrap().key_id(),
            before.key_id()
        );
        let r = rotate(&key, &retired, "DE", 1_000).unwrap();
        assert_eq!(r.old_key_id, before.key_id());
        assert_eq!(load(&key, &retired, "DE").unwrap().key_id(), r.new_key_id);
        assert!(!pending_path(&key).exists());
    }

    #[test]
    fn a_planned_rotation_keeps_the_old_key_for_what_it_signed() {
        let (_dir, key, retired) = setup();
        let before = load(&key, &retired, "DE").unwrap();
        let signed_before = before.sign(b"x");
        let r = rotate(&key, &retired, "DE", 1_000).unwrap();
        assert_eq!(r.old_key_id, before.key_id());
        let after = load(&key, &retired, "DE").unwrap();
        assert_eq!(after.key_id(), r.new_key_id);
        let ring = after.keyring();
        let old_key = ring.key_for(before.key_id(), 999).unwrap();
        assert!(crate::crypto::verify_signature(
            old_key,
            b"x",
            &signed_before
        ));
        assert!(ring.key_for(before.key_id(), 1_001).is_err());
        assert!(ring.continues_from(before.public_key()));
        // A second rotation chains on.
        rotate(&key, &retired, "DE", 2_000).unwrap();
        let third = load(&key, &retired, "DE").unwrap();
        assert_eq!(third.keyring().retired.len(), 2);
        assert!(third.keyring().continues_from(before.public_key()));
    }

    #[test]
    fn a_key_retired_at_the_epoch_verifies_nothing() {
        let (_dir, key, retired) = setup();
        let before = load(&key, &retired, "DE").unwrap();
        rotate(&key, &retired, "DE", 0).unwrap();
        let after = load(&key, &retired, "DE").unwrap();
        assert!(after.keyring().key_for(before.key_id(), 1).is_err());
        assert!(after.keyring().key_for(before.key_id(), -1).is_ok());
    }

    #[test]
    fn an_interrupted_rotation_is_named_at_load() {
        let (_dir, key, retired) = setup();
        let old = load(&key, &retired, "DE").unwrap();
        let pkcs8 = RecordSigner::generate_pkcs8().unwrap();
        let new = RecordSigner::from_pkcs8(&pkcs8).unwrap();
        // The retired list was written but the swap did not happen.
        keyfile::write_private(&pending_path(&key), &pkcs8).unwrap();
        let keys = vec![RetiredKey::handover(&old, "DE", new.public_key(), 5)];
        std::fs::write(&retired, retired_keys_to_toml(&keys).unwrap()).unwrap();
        let err = load(&key, &retired, "DE").unwrap_err().to_string();
        assert!(err.contains("interrupted rotation"), "{err}");
        std::fs::rename(pending_path(&key), &key).unwrap();
        assert_eq!(load(&key, &retired, "DE").unwrap().key_id(), new.key_id());
    }

    #[test]
    fn a_garbled_retired_file_is_refused_with_its_path() {
        let (_dir, key, retired) = setup();
        std::fs::write(&retired, "retired_signing_keys = 3").unwrap();
        let err = load(&key, &retired, "DE").unwrap_err().to_string();
        assert!(err.contains("signing-retired.toml"), "{err}");
    }
}
