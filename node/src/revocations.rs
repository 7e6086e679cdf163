//! Revoked client identities and certificates: a node-local deny list the
//! door of every service consults on every call.
//!
//! A certificate stays cryptographically valid until it expires, so cutting
//! off a person (a lost laptop, someone who left) cannot wait for expiry.
//! Revoking one certificate (by its SHA-256 fingerprint) blocks just that
//! copy, so a replacement can be issued under the same name; revoking an
//! identity blocks every certificate naming it until the revocation is
//! lifted. Checked per call, not at the handshake, so connections opened
//! before the revocation are cut off too.
//!
//! Not X.509 CRLs (which rustls' webpki verifier could check): a CRL is
//! consulted only at the handshake, must be signed by the CA key (kept
//! offline in production), and names serial numbers, not identities.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::audit::{Action, AuditLog};
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::fields;
use crate::identity::Caller;
use crate::store::{Store, Tree};

const TREE: &str = "revocations";
const MAX_REASON: usize = 1_000;

/// What a revocation blocks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// Every certificate naming this identity.
    Identity(Caller),
    /// One certificate, by the SHA-256 of its DER encoding.
    Certificate { sha256: [u8; 32], identity: Caller },
}

impl Target {
    /// Stable key, also what `lift` takes: `identity DE/officer/olivia` or
    /// `certificate <sha256 hex>`.
    pub fn key(&self) -> String {
        match self {
            Target::Identity(c) => identity_key(c),
            Target::Certificate { sha256, .. } => certificate_key(sha256),
        }
    }

    pub fn identity(&self) -> &Caller {
        match self {
            Target::Identity(c) | Target::Certificate { identity: c, .. } => c,
        }
    }
}

fn identity_key(c: &Caller) -> String {
    format!("identity {c}")
}

fn certificate_key(sha256: &[u8; 32]) -> String {
    format!("certificate {}", hex::encode(sha256))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub target: Target,
    pub reason: String,
    pub actor: String,
    pub revoked_at_unix_ms: i64,
}

pub struct Revocations {
    store: Store,
    tree: Tree<Revocation>,
    audit: Arc<AuditLog>,
    // Serializes check-then-write so a revocation and its lift cannot interleave.
    writer: Mutex<()>,
    // Read on every call by every service: kept in memory, keyed by `Target::key`.
    active: RwLock<BTreeMap<String, Revocation>>,
}

impl Revocations {
    pub fn open(store: Store, audit: Arc<AuditLog>) -> Result<Self> {
        let tree = store.tree::<Revocation>(TREE)?;
        let mut active = BTreeMap::new();
        for (_, r) in tree.iter()? {
            active.insert(r.target.key(), r);
        }
        Ok(Revocations {
            store,
            tree,
            audit,
            writer: Mutex::new(()),
            active: RwLock::new(active),
        })
    }

    /// The revocation that blocks a certificate naming `caller` with
    /// fingerprint `sha256`, if any.
    pub fn blocking(&self, caller: &Caller, sha256: &[u8; 32]) -> Option<Revocation> {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        if active.is_empty() {
            return None;
        }
        active
            .get(&identity_key(caller))
            .or_else(|| active.get(&certificate_key(sha256)))
            .cloned()
    }

    pub fn list(&self) -> Vec<Revocation> {
        let active = self.active.read().unwrap_or_else(|e| e.into_inner());
        active.values().cloned().collect()
    }

    /// Revokes `target` durably, with its audit entry in the same batch.
    /// An admin cannot revoke the identity or certificate they call with:
    /// the node would lose its last administrator as easily as a typo.
    pub async fn revoke(
        &self,
        actor: &Caller,
        actor_sha256: &[u8; 32],
        target: Target,
        reason: &str,
    ) -> Result<Revocation> {
        fields::text("reason", reason, true, MAX_REASON).map_err(Error::InvalidArgument)?;
        let own = match &target {
            Target::Identity(c) => c == actor,
            Target::Certificate { sha256, .. } => sha256 == actor_sha256,
        };
        if own {
            return Err(Error::FailedPrecondition(format!(
                "{} is the certificate this request was made with; revoke it from another admin identity",
                target.key()
            )));
        }
        let key = target.key();
        let _guard = self.writer.lock().await;
        if let Some(held) = self.tree.get(key.as_bytes())? {
            return Err(Error::AlreadyExists(format!(
                "{key} was already revoked by {} at {} (unix ms)",
                held.actor, held.revoked_at_unix_ms
            )));
        }
        let revocation = Revocation {
            target,
            reason: reason.to_owned(),
            actor: actor.to_string(),
            revoked_at_unix_ms: now_unix_ms(),
        };
        let mut batch = self.store.batch();
        batch.put(&self.tree, key.as_bytes(), &revocation)?;
        let action = Action {
            actor: &revocation.actor,
            action: "access.revoke",
            record: &key,
            rationale: reason,
        };
        self.audit.commit(batch, [action]).await?;
        self.active
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, revocation.clone());
        Ok(revocation)
    }

    /// Lifts the revocation with `key` (as `Target::key` renders it).
    pub async fn lift(&self, actor: &Caller, key: &str, reason: &str) -> Result<Revocation> {
        fields::text("reason", reason, true, MAX_REASON).map_err(Error::InvalidArgument)?;
        let _guard = self.writer.lock().await;
        let Some(held) = self.tree.get(key.as_bytes())? else {
            return Err(Error::NotFound(format!("no revocation {key:?}")));
        };
        let mut batch = self.store.batch();
        batch.delete(&self.tree, key.as_bytes());
        let actor = actor.to_string();
        let action = Action {
            actor: &actor,
            action: "access.lift",
            record: key,
            rationale: reason,
        };
        self.audit.commit(batch, [action]).await?;
        self.active
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RecordSigner;
    use crate::identity::Role;

    fn caller(role: Role, name: &str) -> Caller {
        Caller::new("DE".parse().unwrap(), role, name).unwrap()
    }

    fn open(dir: &std::path::Path) -> Revocations {
        let store = Store::open(dir).unwrap();
        let signer =
            Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
        let audit = Arc::new(AuditLog::open(store.clone(), signer, "DE").unwrap());
        Revocations::open(store, audit).unwrap()
    }

    #[tokio::test]
    async fn revocations_block_their_target_only_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let admin = caller(Role::Admin, "root");
        let (olivia, ana) = (
            caller(Role::Officer, "olivia"),
            caller(Role::Analyst, "ana"),
        );
        let (lost, spare) = ([1u8; 32], [2u8; 32]);
        {
            let r = open(dir.path());
            assert!(r.blocking(&olivia, &lost).is_none());
            r.revoke(
                &admin,
                &[9; 32],
                Target::Certificate {
                    sha256: lost,
                    identity: olivia.clone(),
                },
                "laptop lost",
            )
            .await
            .unwrap();
            r.revoke(&admin, &[9; 32], Target::Identity(ana.clone()), "left")
                .await
                .unwrap();
        }
        let r = open(dir.path());
        assert!(r.blocking(&olivia, &lost).is_some());
        assert!(
            r.blocking(&olivia, &spare).is_none(),
            "a reissued cert works"
        );
        assert!(r.blocking(&ana, &spare).is_some(), "every cert of ana");
        assert_eq!(r.list().len(), 2);
        let err = r
            .revoke(&admin, &[9; 32], Target::Identity(ana.clone()), "again")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
        r.lift(&admin, "identity DE/analyst/ana", "back")
            .await
            .unwrap();
        assert!(r.blocking(&ana, &spare).is_none());
        let err = r.lift(&admin, "identity DE/analyst/ana", "x").await;
        assert!(matches!(err, Err(Error::NotFound(_))), "{err:?}");
    }

    #[tokio::test]
    async fn an_admin_cannot_revoke_the_certificate_they_call_with() {
        let dir = tempfile::tempdir().unwrap();
        let r = open(dir.path());
        let admin = caller(Role::Admin, "root");
        let own = r
            .revoke(&admin, &[3; 32], Target::Identity(admin.clone()), "oops")
            .await;
        assert!(matches!(own, Err(Error::FailedPrecondition(_))), "{own:?}");
        let own_cert = r
            .revoke(
                &admin,
                &[3; 32],
                Target::Certificate {
                    sha256: [3; 32],
                    identity: admin.clone(),
                },
                "oops",
            )
            .await;
        assert!(matches!(own_cert, Err(Error::FailedPrecondition(_))));
        let bad = r
            .revoke(
                &admin,
                &[3; 32],
                Target::Identity(caller(Role::Officer, "o")),
                "",
            )
            .await;
        assert!(matches!(bad, Err(Error::InvalidArgument(_))), "{bad:?}");
        assert!(r.list().is_empty());
    }
}
