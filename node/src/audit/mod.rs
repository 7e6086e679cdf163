//! The tamper-evident audit trail: every state-changing action appends an
//! entry chained to the previous one by SHA-256; signed checkpoints pin the
//! head so that even the node's administrator cannot rewrite history
//! unnoticed once a checkpoint has been exported or witnessed.
//!
//! An entry is appended in the same store batch as the action it records, so
//! after a crash both are there or neither is.

mod chain;
mod checkpoint;
pub mod export;

use std::sync::{Arc, Mutex};

pub use chain::{entry_hash, AuditEntry, Broken};
pub use checkpoint::{Checkpoint, CheckpointEncodeError, CHECKPOINT_TAG};

use crate::clock::now_unix_ms;
use crate::crypto::RecordSigner;
use crate::error::{Error, Result};
use crate::store::{Batch, Store, Tree};

/// What happened, as the caller describes it; the log adds sequence, time and hashes.
#[derive(Clone, Debug)]
pub struct Action<'a> {
    /// Who did it: a certificate identity (`DE/officer/olivia`), a peer (`node FR`) or `system`.
    pub actor: &'a str,
    /// Dotted verb, e.g. `license.decide`, `peer.add`, `alert.receive`.
    pub action: &'a str,
    /// Reference to the record acted on, e.g. a license or alert id.
    pub record: &'a str,
    pub rationale: &'a str,
}

tokio::task_local! {
    /// The door other than gRPC an action came through (`web`), for the
    /// actor of the entries it appends.
    static DOOR: &'static str;
}

/// Runs `f` with every audit entry it appends marked as made `via door`
/// (the actor reads `DE/officer/olivia via web`): the one thing the trail
/// records about which door a person used.
pub async fn via<F: std::future::Future>(door: &'static str, f: F) -> F::Output {
    DOOR.scope(door, f).await
}

fn door() -> Option<&'static str> {
    DOOR.try_with(|d| *d).ok()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    seq: u64,
    hash: [u8; 32],
}

pub struct AuditLog {
    store: Store,
    entries: Tree<AuditEntry>,
    checkpoints: Tree<Checkpoint>,
    signer: Arc<RecordSigner>,
    jurisdiction: String,
    head: tokio::sync::Mutex<Head>,
    last_checkpoint: Mutex<u64>,
    /// Peers' checkpoints this node keeps as a witness: key `issuer 0 count`.
    witnessed: Tree<Checkpoint>,
    /// The newest own checkpoint, for the links that send it to peers.
    latest: tokio::sync::watch::Sender<Option<Checkpoint>>,
}

/// The batch of an audited write while it is being built, with the log's
/// append open: what the closure of [`AuditLog::commit_with`] receives.
/// Entries go only into this batch, the one that is committed, and the
/// value cannot outlive the commit.
///
/// There is no other way to append: opening an append, applying the batch
/// and moving the head happen only inside [`AuditLog::commit_releasing`].
pub struct AuditedBatch<'a> {
    /// The head as it will be once the batch is applied.
    next: &'a mut Head,
    entries: &'a Tree<AuditEntry>,
    batch: &'a mut Batch,
}

impl AuditedBatch<'_> {
    /// Appends one entry to the batch; returns its sequence number.
    pub fn append(&mut self, a: Action<'_>) -> Result<u64> {
        let marked;
        let a = match door() {
            // Only a person's actions are marked: `system` and peers use no door.
            Some(d) if a.actor.contains('/') => {
                marked = format!("{} via {d}", a.actor);
                Action {
                    actor: &marked,
                    ..a
                }
            }
            _ => a,
        };
        let entry = AuditEntry::new(self.next.seq + 1, now_unix_ms(), a, self.next.hash);
        self.batch
            .put(self.entries, entry.seq.to_be_bytes(), &entry)?;
        *self.next = Head {
            seq: entry.seq,
            hash: entry.hash,
        };
        Ok(entry.seq)
    }

    /// The batch itself, for the writes that go with the entries (such as
    /// keys derived from an entry's sequence number).
    pub fn batch(&mut self) -> &mut Batch {
        self.batch
    }
}

impl AuditLog {
    pub fn open(store: Store, signer: Arc<RecordSigner>, jurisdiction: &str) -> Result<Self> {
        let entries = store.tree::<AuditEntry>("audit")?;
        let checkpoints = store.tree::<Checkpoint>("audit_checkpoints")?;
        let head = match entries.lazy_iter().next_back() {
            Some(last) => {
                let (_, e) = last?;
                Head {
                    seq: e.seq,
                    hash: e.hash,
                }
            }
            None => Head {
                seq: 0,
                hash: [0; 32],
            },
        };
        let latest_checkpoint = match checkpoints.lazy_iter().next_back() {
            Some(c) => Some(c?.1),
            None => None,
        };
        let last_checkpoint = latest_checkpoint.as_ref().map_or(0, |c| c.count);
        let witnessed = store.tree::<Checkpoint>("audit_witnessed")?;
        Ok(AuditLog {
            store,
            entries,
            checkpoints,
            signer,
            jurisdiction: jurisdiction.to_owned(),
            head: tokio::sync::Mutex::new(head),
            last_checkpoint: Mutex::new(last_checkpoint),
            witnessed,
            latest: tokio::sync::watch::channel(latest_checkpoint).0,
        })
    }

    /// Commits `batch` with one audit entry per action, in order, and
    /// returns their sequence numbers once the batch is on disk.
    pub async fn commit<'a>(
        &self,
        batch: Batch,
        actions: impl IntoIterator<Item = Action<'a>>,
    ) -> Result<Vec<u64>> {
        self.commit_with(batch, |w| {
            actions.into_iter().map(|a| w.append(a)).collect()
        })
        .await
    }

    /// Commits `batch` after `build` has added its entries (and any writes
    /// that depend on them, such as keys derived from an entry's sequence
    /// number) through [`AuditedBatch`]; returns what `build` returned once
    /// the batch is on disk.
    pub async fn commit_with<T>(
        &self,
        batch: Batch,
        build: impl FnOnce(&mut AuditedBatch<'_>) -> Result<T>,
    ) -> Result<T> {
        self.commit_releasing(batch, (), build).await
    }

    /// [`AuditLog::commit_with`], dropping `release` (the caller's own lock,
    /// taken before this one) as soon as the batch is applied, so that
    /// concurrent writers share the flush. Nothing the batch wrote may leave
    /// the node before this returns.
    ///
    /// The audited-write protocol lives here and only here: take the head
    /// lock, append, apply the batch atomically, move the head, release the
    /// locks, wait for the disk. If `build` or applying the batch fails,
    /// nothing was written and the head stays where it was.
    pub async fn commit_releasing<T, R>(
        &self,
        mut batch: Batch,
        release: R,
        build: impl FnOnce(&mut AuditedBatch<'_>) -> Result<T>,
    ) -> Result<T> {
        // Held until the batch is applied, so no two writers chain onto the
        // same head; dropped (with the head unchanged) on any error.
        let mut head = self.head.lock().await;
        let mut next = *head;
        let out = build(&mut AuditedBatch {
            next: &mut next,
            entries: &self.entries,
            batch: &mut batch,
        })?;
        let staged = self.store.stage(batch)?;
        *head = next;
        drop(head);
        drop(release);
        staged.durable().await?;
        Ok(out)
    }

    /// When the newest checkpoint was signed by another key than the
    /// node's, the key was rotated while the node was stopped: records that
    /// in the trail and checkpoints with the new key at once, so the change
    /// is recorded exactly once however often the node restarts.
    pub async fn record_key_change(&self) -> Result<Option<String>> {
        let Some(last) = self.latest.borrow().clone() else {
            return Ok(None);
        };
        if last.key_id == self.signer.key_id() {
            return Ok(None);
        }
        let keys = self.signer.keyring();
        let how = match keys.retired.iter().find(|r| r.key_id() == last.key_id) {
            Some(r) => format!(
                "retired at {} (unix ms) with a handover",
                r.retired_at_unix_ms
            ),
            None => "not kept: what it signed no longer verifies".into(),
        };
        let rationale = format!(
            "record-signing key {} replaced by {}; the old key was {how}; retired keys kept: {}",
            last.key_id,
            self.signer.key_id(),
            keys.retired.len()
        );
        self.record(Action {
            actor: "system",
            action: "signing.rotate",
            record: self.signer.key_id(),
            rationale: &rationale,
        })
        .await?;
        self.checkpoint().await?;
        Ok(Some(rationale))
    }

    /// Appends one entry on its own, durably.
    pub async fn record(&self, a: Action<'_>) -> Result<u64> {
        self.commit_with(self.store.batch(), |w| w.append(a)).await
    }

    /// Number of entries (the head's sequence number).
    pub async fn count(&self) -> u64 {
        self.head.lock().await.seq
    }

    /// Entries with sequence numbers in `[from, to]`.
    pub fn entries(&self, from: u64, to: u64) -> Result<Vec<AuditEntry>> {
        let start = from.to_be_bytes();
        let end = to.saturating_add(1).to_be_bytes();
        self.entries
            .lazy_range(start, end)
            .map(|r| r.map(|(_, e)| e).map_err(Error::from))
            .collect()
    }

    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        Ok(self
            .checkpoints
            .iter()?
            .into_iter()
            .map(|(_, c)| c)
            .collect())
    }

    /// Signs a checkpoint of the current head, durably. Returns the existing
    /// one when nothing was appended since.
    pub async fn checkpoint(&self) -> Result<Checkpoint> {
        let head = *self.head.lock().await;
        if let Some(c) = self.checkpoints.get(head.seq.to_be_bytes())? {
            return Ok(c);
        }
        let c = Checkpoint::sign(
            &self.signer,
            &self.jurisdiction,
            head.seq,
            head.hash,
            now_unix_ms(),
        );
        let bytes = c.to_bytes().map_err(|e| Error::Internal(e.to_string()))?;
        let mut batch = self.store.batch();
        batch.put(&self.checkpoints, head.seq.to_be_bytes(), &c)?;
        self.store.commit(batch).await?;
        // Outside the store's files too: `verify` must notice a store that
        // lost entries together with the checkpoints that covered them.
        let store = self.store.clone();
        let kept =
            tokio::task::spawn_blocking(move || store.put_sidecar(LATEST_CHECKPOINT, &bytes))
                .await
                .map_err(|e| {
                    crate::error::Error::Internal(format!("writing the checkpoint file: {e}"))
                })?;
        if let Err(error) = kept {
            tracing::warn!(%error, "cannot keep the latest checkpoint beside the store");
        }
        *self
            .last_checkpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = head.seq;
        self.latest.send_replace(Some(c.clone()));
        Ok(c)
    }

    /// The newest own checkpoint, as it changes.
    pub fn latest_checkpoint(&self) -> tokio::sync::watch::Receiver<Option<Checkpoint>> {
        self.latest.subscribe()
    }

    pub fn public_key(&self) -> &[u8] {
        self.signer.public_key()
    }

    /// Every key that verifies this node's checkpoints, retired ones included.
    pub fn keyring(&self) -> crate::crypto::KeyRing<'_> {
        self.signer.keyring()
    }

    pub fn jurisdiction(&self) -> &str {
        &self.jurisdiction
    }

    /// Keeps a peer's checkpoint as a witness, after checking its signature
    /// with the peer's registered keys. Idempotent.
    pub async fn witness(
        &self,
        issuer: &str,
        issuer_keys: &crate::crypto::KeyRing<'_>,
        c: Checkpoint,
    ) -> Result<()> {
        c.verify_with(issuer_keys, issuer)
            .map_err(|e| Error::Unauthenticated(format!("checkpoint from {issuer}: {e}")))?;
        let key = witness_key(issuer, c.count);
        if let Some(held) = self.witnessed.get(&key)? {
            if held.head_hash != c.head_hash {
                // Two signed heads for one count: the issuer rewrote its history.
                tracing::error!(%issuer, count = c.count, "peer signed two different audit heads for one count");
                return Err(Error::AlreadyExists(format!(
                    "{issuer} already checkpointed {} entries with another head",
                    c.count
                )));
            }
            return Ok(());
        }
        let mut batch = self.store.batch();
        batch.put(&self.witnessed, &key, &c)?;
        self.store.commit(batch).await?;
        Ok(())
    }

    /// Checkpoints of `issuer` held here as a witness.
    pub fn witnessed_for(&self, issuer: &str) -> Result<Vec<Checkpoint>> {
        let mut prefix = issuer.as_bytes().to_vec();
        prefix.push(0);
        Ok(self
            .witnessed
            .scan_prefix(prefix)?
            .into_iter()
            .map(|(_, c)| c)
            .collect())
    }

    /// Newest checkpointed entry count.
    pub fn checkpointed(&self) -> u64 {
        *self
            .last_checkpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Whether entries were appended since the last checkpoint.
    pub async fn needs_checkpoint(&self) -> bool {
        let head = self.head.lock().await.seq;
        head > *self
            .last_checkpoint
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Recomputes the whole chain and every checkpoint; names the first break.
    pub fn verify(&self) -> Result<Verified, Broken> {
        let mut prev = [0u8; 32];
        let mut expected_seq = 1;
        for item in self.entries.lazy_iter() {
            let (key, entry) = item.map_err(|e| Broken {
                seq: expected_seq,
                reason: format!("unreadable entry: {e}"),
            })?;
            chain::check(&key, &entry, expected_seq, prev)?;
            prev = entry.hash;
            expected_seq += 1;
        }
        let count = expected_seq - 1;
        let checkpoints = self.checkpoints().map_err(|e| Broken {
            seq: count,
            reason: format!("unreadable checkpoints: {e}"),
        })?;
        for c in &checkpoints {
            c.verify_with(&self.signer.keyring(), &self.jurisdiction)
                .map_err(|reason| Broken {
                    seq: c.count,
                    reason: format!("checkpoint at {}: {reason}", c.count),
                })?;
            self.check_against(c, count)?;
        }
        // The latest checkpoint this node signed, as kept beside the store:
        // a store that lost its tail lost the checkpoints over it too.
        if let Some(bytes) = self.store.sidecar(LATEST_CHECKPOINT).map_err(|e| Broken {
            seq: count,
            reason: e.to_string(),
        })? {
            let c = Checkpoint::from_bytes(&bytes).map_err(|reason| Broken {
                seq: count,
                reason: format!("{LATEST_CHECKPOINT}: {reason}"),
            })?;
            c.verify_with(&self.signer.keyring(), &self.jurisdiction)
                .map_err(|reason| Broken {
                    seq: c.count,
                    reason: format!("latest signed checkpoint ({LATEST_CHECKPOINT}): {reason}"),
                })?;
            self.check_against(&c, count)?;
        }
        Ok(Verified {
            entries: count,
            head: prev,
            checkpoints: checkpoints.len(),
        })
    }

    /// Checks what a witness holds of this node's checkpoints: each must be
    /// signed by one of this node's keys and match the chain of `count`
    /// entries held now. The error names the first that does not.
    pub fn check_witnessed(&self, held: &[Checkpoint], count: u64) -> Result<(), String> {
        let keys = self.keyring();
        held.iter()
            .find_map(|c| {
                c.verify_with(&keys, self.jurisdiction())
                    .err()
                    .or_else(|| self.check_against(c, count).err().map(|b| b.to_string()))
            })
            .map_or(Ok(()), Err)
    }

    /// Checks that `c` (own or witnessed) matches the chain held now.
    pub fn check_against(&self, c: &Checkpoint, count: u64) -> Result<(), Broken> {
        if c.count > count {
            return Err(Broken {
                seq: count + 1,
                reason: format!(
                    "checkpoint signed at {} entries but only {count} remain: entries were deleted",
                    c.count
                ),
            });
        }
        if c.count == 0 {
            return Ok(());
        }
        let at = self
            .entries
            .get(c.count.to_be_bytes())
            .map_err(|e| Broken {
                seq: c.count,
                reason: e.to_string(),
            })?
            .ok_or(Broken {
                seq: c.count,
                reason: "entry named by a checkpoint is missing".into(),
            })?;
        if at.hash != c.head_hash {
            return Err(Broken {
                seq: c.count,
                reason: format!("history differs from the checkpoint signed at {}: rewritten after it was signed", c.count),
            });
        }
        Ok(())
    }
}

/// The latest own checkpoint, kept beside the store (`Store::put_sidecar`).
pub const LATEST_CHECKPOINT: &str = "latest.checkpoint";

fn witness_key(issuer: &str, count: u64) -> Vec<u8> {
    let mut k = issuer.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&count.to_be_bytes());
    k
}

/// The outcome of a clean verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub head: [u8; 32],
    pub checkpoints: usize,
}

#[cfg(test)]
mod tests;
