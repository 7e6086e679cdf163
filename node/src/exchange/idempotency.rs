//! Retried writes stored once. A client that sent a record but never heard
//! back (the node was killed between commit and reply, the connection
//! dropped) retries with the same idempotency key; the node answers with the
//! record the first call made instead of issuing a second one to partners.
//!
//! The key is remembered in the record's own durable batch (through the
//! issue path's `AlongWith`), so a record and the memory of its key are
//! committed together or not at all. Keys are scoped to the caller's
//! identity and forgotten after [`KEEP_MS`]; the tree is pruned by the
//! retention sweep, so it holds at most a week of writes.

use serde::{Deserialize, Serialize};

use super::envelope::RecordKind;
use super::issue::AlongWith;
use super::{Exchange, RecordView};
use crate::clock::now_unix_ms;
use crate::crypto::sha256;
use crate::error::{Error, Result};
use crate::identity::Caller;

/// Longest key accepted (bytes).
pub const MAX_KEY: usize = 128;
/// How long a key is remembered: far longer than any client retries.
pub const KEEP_MS: i64 = 7 * 24 * 3600 * 1000;

pub(super) const TREE: &str = "idempotency";

/// What a key's first call made.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Remembered {
    pub kind: RecordKind,
    pub id: String,
    pub version: u32,
    pub at_unix_ms: i64,
}

/// Checks a client-chosen key: 1 to `MAX_KEY` bytes of letters, digits,
/// `-` and `_`.
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty()
        || key.len() > MAX_KEY
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::InvalidArgument(format!(
            "idempotency key: 1 to {MAX_KEY} letters, digits, '-' or '_'"
        )));
    }
    Ok(())
}

fn slot(actor: &Caller, key: &str) -> [u8; 32] {
    let mut b = actor.to_string().into_bytes();
    b.push(0);
    b.extend_from_slice(key.as_bytes());
    sha256(&b)
}

impl Exchange {
    /// The record (at the version it made) that an earlier call by `actor`
    /// with `key` already issued, if any.
    pub fn replayed(&self, actor: &Caller, key: &str) -> Result<Option<RecordView>> {
        check_key(key)?;
        let Some(r) = self.idempotency.get(slot(actor, key))? else {
            return Ok(None);
        };
        if r.at_unix_ms.saturating_add(KEEP_MS) < now_unix_ms() {
            return Ok(None);
        }
        let versions = self.history(r.kind, &r.id)?;
        Ok(versions.into_iter().find(|v| v.header.version == r.version))
    }

    /// Remembers `key` for `actor` in the batch of the record being issued;
    /// `then` adds whatever else the caller commits along with it.
    pub fn remember<'a>(
        &'a self,
        actor: &Caller,
        key: &str,
        kind: RecordKind,
        then: Option<AlongWith<'a>>,
    ) -> AlongWith<'a> {
        let at = slot(actor, key);
        Box::new(move |w, id, version| {
            w.batch().put(
                &self.idempotency,
                at,
                &Remembered {
                    kind,
                    id: id.to_owned(),
                    version,
                    at_unix_ms: now_unix_ms(),
                },
            )?;
            match then {
                Some(f) => f(w, id, version),
                None => Ok(()),
            }
        })
    }

    /// Forgets keys older than [`KEEP_MS`]; returns how many.
    pub async fn prune_idempotency(&self) -> Result<usize> {
        let cutoff = now_unix_ms().saturating_sub(KEEP_MS);
        let mut batch = self.store.batch();
        let mut n = 0;
        for entry in self.idempotency.lazy_iter() {
            let (k, r) = entry?;
            if r.at_unix_ms < cutoff {
                batch.delete(&self.idempotency, &k);
                n += 1;
            }
        }
        if n > 0 {
            self.store.commit(batch).await?;
        }
        Ok(n)
    }
}
