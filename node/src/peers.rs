//! The peer registry: which partner jurisdictions this node trusts, from
//! their trust bundles. Persisted in the store; every change is published so
//! the TLS trust anchors and the federation links follow without a restart.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Mutex};

use crate::audit::{Action, AuditLog};
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;
use crate::store::{Store, Tree};
use crate::trust_bundle::TrustBundle;

const TREE: &str = "peers";

/// A registered peer as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerRecord {
    pub bundle: TrustBundle,
    pub added_at_unix_ms: i64,
}

pub type PeerSet = Arc<BTreeMap<Jurisdiction, PeerRecord>>;

pub struct PeerDirectory {
    own: Jurisdiction,
    store: Store,
    tree: Tree<PeerRecord>,
    // Serializes check-then-write so two concurrent adds cannot both succeed.
    writer: Mutex<()>,
    published: watch::Sender<PeerSet>,
    observers: std::sync::Mutex<Vec<Observer>>,
    audit: Option<Arc<AuditLog>>,
}

type Observer = Box<dyn Fn(&PeerSet) + Send + Sync>;

impl PeerDirectory {
    pub fn open(store: Store, own: Jurisdiction) -> Result<Self> {
        let tree = store.tree::<PeerRecord>(TREE)?;
        let mut set = BTreeMap::new();
        for (_, record) in tree.iter()? {
            set.insert(record.bundle.jurisdiction.clone(), record);
        }
        let (published, _) = watch::channel(Arc::new(set));
        Ok(PeerDirectory {
            own,
            store,
            tree,
            writer: Mutex::new(()),
            published,
            observers: Default::default(),
            audit: None,
        })
    }

    /// Records every change in `audit`, in the same batch as the change.
    pub fn audited(mut self, audit: Arc<AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Commits `batch`, through the audit log with an entry for `action`
    /// when audited.
    async fn commit_change(&self, batch: crate::store::Batch, action: Action<'_>) -> Result<()> {
        match &self.audit {
            Some(audit) => {
                audit.commit(batch, [action]).await?;
            }
            None => self.store.commit(batch).await?,
        }
        Ok(())
    }

    /// Registers a peer durably. Fails if it is this node's own jurisdiction
    /// or already registered (remove it first to replace its trust).
    pub async fn add(&self, actor: &str, bundle: TrustBundle) -> Result<PeerRecord> {
        self.check_peer_bundle(&bundle)?;
        let _guard = self.writer.lock().await;
        let key = bundle.jurisdiction.as_str().as_bytes().to_vec();
        if self.tree.get(&key)?.is_some() {
            return Err(Error::AlreadyExists(format!(
                "peer {} is already registered; remove it first to replace its trust bundle",
                bundle.jurisdiction
            )));
        }
        let record = PeerRecord {
            bundle,
            added_at_unix_ms: now_unix_ms(),
        };
        let rationale = format!(
            "trust bundle: endpoint {}, signing key {}",
            record.bundle.endpoint,
            record.bundle.signing_key_id()
        );
        self.put_audited(actor, "peer.add", &rationale, record)
            .await
    }

    /// Takes the bundle a registered peer announced about itself (the
    /// caller checked it names the peer's own jurisdiction): `None` when it
    /// is what is registered already, the updated record otherwise.
    /// How this node reaches the peer is its admin's choice (a proxy, a NAT
    /// address), so an announcement changes keys, never the endpoint.
    pub async fn take_announced(
        &self,
        peer: &Jurisdiction,
        mut bundle: TrustBundle,
        accept_announced_keys: bool,
    ) -> Result<Option<PeerRecord>> {
        let registered = self.current().get(peer).map(|p| p.bundle.clone());
        if let Some(r) = &registered {
            bundle.endpoint = r.endpoint.clone();
        }
        if registered.as_ref() == Some(&bundle) {
            return Ok(None);
        }
        crate::policy::may_take_announced(accept_announced_keys, peer)
            .map_err(|e| Error::FailedPrecondition(e.to_string()))?;
        let actor = format!("node {peer}");
        self.update(&actor, bundle, false).await.map(Some)
    }

    /// Replaces a registered peer's trust bundle in place, keeping its
    /// registration time. A new signing key must continue from the trusted
    /// one through the bundle's signed handovers, and a new CA cannot be
    /// proven by record keys at all: both need `verified_out_of_band`
    /// otherwise (the admin compared fingerprints with the partner).
    pub async fn update(
        &self,
        actor: &str,
        bundle: TrustBundle,
        verified_out_of_band: bool,
    ) -> Result<PeerRecord> {
        self.check_peer_bundle(&bundle)?;
        let _guard = self.writer.lock().await;
        let key = bundle.jurisdiction.as_str().as_bytes().to_vec();
        let Some(old) = self.tree.get(&key)? else {
            return Err(Error::NotFound(format!(
                "peer {} is not registered; add it instead",
                bundle.jurisdiction
            )));
        };
        if old.bundle == bundle {
            return Ok(old);
        }
        let change = KeyChange::between(&old.bundle, &bundle);
        if let Some(problem) = change.needs_out_of_band() {
            if !verified_out_of_band {
                return Err(Error::FailedPrecondition(format!(
                    "{problem}; compare the new bundle's fingerprints with {} through another channel, then update with --verified-out-of-band",
                    bundle.jurisdiction
                )));
            }
        }
        let record = PeerRecord {
            bundle,
            added_at_unix_ms: old.added_at_unix_ms,
        };
        let rationale = format!(
            "{}; endpoint {} -> {}; retired keys {}",
            change.describe(verified_out_of_band),
            old.bundle.endpoint,
            record.bundle.endpoint,
            record.bundle.retired_signing_keys.len()
        );
        self.put_audited(actor, "peer.update", &rationale, record)
            .await
    }

    /// Stores `record` with its audit entry in one batch, then publishes it.
    /// Call holding `writer`.
    async fn put_audited(
        &self,
        actor: &str,
        action: &str,
        rationale: &str,
        record: PeerRecord,
    ) -> Result<PeerRecord> {
        let what = record.bundle.jurisdiction.to_string();
        let mut batch = self.store.batch();
        batch.put(&self.tree, what.as_bytes(), &record)?;
        self.commit_change(
            batch,
            Action {
                actor,
                action,
                record: &what,
                rationale,
            },
        )
        .await?;
        self.publish(|set| {
            set.insert(record.bundle.jurisdiction.clone(), record.clone());
        });
        Ok(record)
    }

    /// A bundle a peer may be registered with: valid, and not this node's own.
    fn check_peer_bundle(&self, bundle: &TrustBundle) -> Result<()> {
        bundle
            .validate()
            .map_err(|e| Error::InvalidArgument(e.to_string()))?;
        if bundle.jurisdiction == self.own {
            return Err(Error::InvalidArgument(format!(
                "{} is this node's own jurisdiction, not a peer",
                self.own
            )));
        }
        Ok(())
    }

    pub async fn remove(&self, actor: &str, jurisdiction: &Jurisdiction) -> Result<()> {
        let _guard = self.writer.lock().await;
        let key = jurisdiction.as_str().as_bytes();
        if self.tree.get(key)?.is_none() {
            return Err(Error::NotFound(format!(
                "peer {jurisdiction} is not registered"
            )));
        }
        let mut batch = self.store.batch();
        batch.delete(&self.tree, key);
        let what = jurisdiction.to_string();
        self.commit_change(
            batch,
            Action {
                actor,
                action: "peer.remove",
                record: &what,
                rationale: "",
            },
        )
        .await?;
        self.publish(|set| {
            set.remove(jurisdiction);
        });
        Ok(())
    }

    pub fn current(&self) -> PeerSet {
        self.published.borrow().clone()
    }

    pub fn is_peer(&self, jurisdiction: &Jurisdiction) -> bool {
        self.published.borrow().contains_key(jurisdiction)
    }

    /// Changes to the peer set, for the TLS layer and the federation links.
    pub fn subscribe(&self) -> watch::Receiver<PeerSet> {
        self.published.subscribe()
    }

    /// Calls `observer` with the current set now and after every change,
    /// before the change is acknowledged: trust must be in place by the time
    /// `add` returns, or the new peer's first call could be refused.
    pub fn observe(&self, observer: impl Fn(&PeerSet) + Send + Sync + 'static) {
        observer(&self.current());
        self.observers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(observer));
    }

    fn publish(&self, change: impl FnOnce(&mut BTreeMap<Jurisdiction, PeerRecord>)) {
        let mut next = (*self.current()).clone();
        change(&mut next);
        let next = Arc::new(next);
        for observer in self
            .observers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            observer(&next);
        }
        self.published.send_replace(next);
    }
}

/// How a bundle update changes what this node trusts.
struct KeyChange {
    old_key: String,
    new_key: String,
    key_changed: bool,
    handed_over: bool,
    ca_changed: bool,
}

impl KeyChange {
    fn between(old: &TrustBundle, new: &TrustBundle) -> Self {
        KeyChange {
            old_key: old.signing_key_id(),
            new_key: new.signing_key_id(),
            key_changed: old.signing_public_key != new.signing_public_key,
            handed_over: new.keyring().continues_from(&old.signing_public_key),
            ca_changed: old.ca_cert_pem.trim() != new.ca_cert_pem.trim(),
        }
    }

    fn needs_out_of_band(&self) -> Option<String> {
        if self.ca_changed {
            return Some("the bundle names a different CA".into());
        }
        if self.key_changed && !self.handed_over {
            return Some(format!(
                "the new signing key {} carries no handover from the trusted key {}",
                self.new_key, self.old_key
            ));
        }
        None
    }

    fn describe(&self, verified_out_of_band: bool) -> String {
        let key = match (self.key_changed, self.handed_over) {
            (false, _) => format!("signing key {} unchanged", self.old_key),
            (true, true) => format!(
                "signing key {} -> {} (handover verified)",
                self.old_key, self.new_key
            ),
            (true, false) => format!(
                "signing key {} -> {} (no handover: verified out of band)",
                self.old_key, self.new_key
            ),
        };
        let ca = if self.ca_changed {
            "; CA replaced (verified out of band)"
        } else {
            ""
        };
        let oob = if verified_out_of_band && !self.key_changed && !self.ca_changed {
            " (marked verified out of band)"
        } else {
            ""
        };
        format!("{key}{ca}{oob}")
    }
}
