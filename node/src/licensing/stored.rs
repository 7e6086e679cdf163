//! How licences, parties and shipments are kept: each record in its original
//! tree with its original layout, and what later versions added (revisions,
//! terms, pending decisions, risk pictures, shipped items) in a sidecar tree
//! under the same key. Stores written before those facts existed open
//! unchanged; a record without a sidecar has none of them.

use serde::{Deserialize, Serialize};

use super::lifecycle::LicenseState;
use super::model::{License, Party, PartyVersion, Revision, Shipment};
use super::review::{DecisionReviewed, PendingDecision, RejectedDecision};
use super::terms::{Discrepancy, ReviewFlag, ShippedItem, Terms};
use crate::error::Result;
use crate::store::{Batch, Store, StoreError, Tree};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct LicenseExt {
    revision: u32,
    revisions: Vec<Revision>,
    pending: Option<PendingDecision>,
    rejected: Vec<RejectedDecision>,
    terms: Option<Terms>,
    review_flags: Vec<ReviewFlag>,
    /// One per history step, in order.
    decisions: Vec<Option<DecisionReviewed>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct PartyExt {
    revision: u32,
    history: Vec<PartyVersion>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct ShipmentExt {
    items: Vec<ShippedItem>,
    discrepancy: Option<Discrepancy>,
}

/// What a licence listing needs without decoding the licence: the
/// dashboard reads these for every licence on each visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseBrief {
    pub id: String,
    /// As stored (an approved licence past its end reads `approved` here).
    pub state: LicenseState,
    pub destination: String,
    pub submitted_at_unix_ms: i64,
    /// The maker of a decision pending countersignature.
    pub pending_officer: Option<String>,
}

/// A record tree and its sidecar, read and written together, and for
/// licences a third tree of briefs under the same key, written in the same
/// batch.
pub(super) struct Kept<V: Sidecar, E> {
    main: Tree<V>,
    ext: Tree<E>,
    briefs: Option<Tree<V::Brief>>,
}

impl<V: Sidecar, E> Clone for Kept<V, E> {
    fn clone(&self) -> Self {
        Kept {
            main: self.main.clone(),
            ext: self.ext.clone(),
            briefs: self.briefs.clone(),
        }
    }
}

/// Moves what the sidecar holds between a record and its sidecar value.
pub(super) trait Sidecar: Sized {
    type Ext: Serialize + serde::de::DeserializeOwned + Default;
    /// The record's brief, for kinds that keep one.
    type Brief: Serialize + serde::de::DeserializeOwned + 'static;
    fn split(&self) -> Self::Ext;
    fn join(self, ext: Option<Self::Ext>) -> Self;
    fn brief(&self) -> Option<Self::Brief> {
        None
    }
}

impl<V, E> Kept<V, E>
where
    V: Sidecar<Ext = E> + Serialize + serde::de::DeserializeOwned + 'static,
    E: Serialize + serde::de::DeserializeOwned + Default + 'static,
{
    pub(super) fn open(
        store: &Store,
        main: &'static str,
        ext: &'static str,
    ) -> Result<Self, StoreError> {
        Ok(Kept {
            main: store.tree(main)?,
            ext: store.tree(ext)?,
            briefs: None,
        })
    }

    /// Like [`Kept::open`], with a tree of briefs; a store written before
    /// briefs existed gets them built here, in one batch.
    pub(super) fn open_with_briefs(
        store: &Store,
        main: &'static str,
        ext: &'static str,
        briefs: &'static str,
    ) -> Result<Self, StoreError> {
        let mut kept: Kept<V, E> = Kept::open(store, main, ext)?;
        let tree: Tree<V::Brief> = store.tree(briefs)?;
        if tree.is_empty()? && !kept.main.is_empty()? {
            let mut batch = store.batch();
            let mut built = 0usize;
            for item in kept.main.lazy_iter() {
                let (k, v) = item?;
                let v = v.join(kept.ext.get(&k)?);
                if let Some(b) = v.brief() {
                    batch.put(&tree, &k, &b)?;
                    built += 1;
                }
            }
            store.commit_offline(batch)?;
            tracing::info!(
                tree = briefs,
                built,
                "briefs built for a store written before them"
            );
        }
        kept.briefs = Some(tree);
        Ok(kept)
    }

    /// Every brief, in key order.
    pub(super) fn briefs(&self) -> impl Iterator<Item = Result<V::Brief>> + '_ {
        self.briefs
            .iter()
            .flat_map(|t| t.lazy_iter())
            .map(|item| Ok(item.map(|(_, b)| b)?))
    }

    pub(super) fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<V>> {
        let key = key.as_ref();
        match self.main.get(key)? {
            Some(v) => Ok(Some(v.join(self.ext.get(key)?))),
            None => Ok(None),
        }
    }

    pub(super) fn put(&self, batch: &mut Batch, key: impl AsRef<[u8]>, v: &V) -> Result<()> {
        let key = key.as_ref();
        batch.put(&self.main, key, v)?;
        batch.put(&self.ext, key, &v.split())?;
        if let (Some(tree), Some(b)) = (&self.briefs, v.brief()) {
            batch.put(tree, key, &b)?;
        }
        Ok(())
    }

    /// Every record, in key order (reversed with `rev`), sidecars joined.
    pub(super) fn each(&self, rev: bool) -> impl Iterator<Item = Result<V>> + '_ {
        let iter: Box<dyn Iterator<Item = _>> = if rev {
            Box::new(self.main.lazy_iter().rev())
        } else {
            Box::new(self.main.lazy_iter())
        };
        iter.map(move |item| self.joined(item))
    }

    pub(super) fn each_with_prefix(
        &self,
        prefix: impl AsRef<[u8]>,
    ) -> impl Iterator<Item = Result<V>> + '_ {
        self.main
            .lazy_scan_prefix(prefix)
            .map(move |item| self.joined(item))
    }

    fn joined(&self, item: Result<(Vec<u8>, V), StoreError>) -> Result<V> {
        let (k, v) = item?;
        Ok(v.join(self.ext.get(&k)?))
    }
}

impl Sidecar for License {
    type Ext = LicenseExt;
    type Brief = LicenseBrief;

    fn brief(&self) -> Option<LicenseBrief> {
        Some(LicenseBrief {
            id: self.id.clone(),
            state: self.state,
            destination: self.destination.clone(),
            submitted_at_unix_ms: self.submitted_at_unix_ms,
            pending_officer: self.pending.as_ref().map(|p| p.officer.clone()),
        })
    }

    fn split(&self) -> LicenseExt {
        LicenseExt {
            revision: self.revision,
            revisions: self.revisions.clone(),
            pending: self.pending.clone(),
            rejected: self.rejected.clone(),
            terms: self.terms.clone(),
            review_flags: self.review_flags.clone(),
            decisions: self.history.iter().map(|d| d.reviewed.clone()).collect(),
        }
    }

    fn join(mut self, ext: Option<LicenseExt>) -> License {
        let ext = ext.unwrap_or_default();
        self.revision = ext.revision.max(1);
        self.revisions = ext.revisions;
        self.pending = ext.pending;
        self.rejected = ext.rejected;
        self.terms = ext.terms;
        self.review_flags = ext.review_flags;
        for (d, r) in self.history.iter_mut().zip(ext.decisions) {
            d.reviewed = r;
        }
        self
    }
}

impl Sidecar for Party {
    type Ext = PartyExt;
    type Brief = ();

    fn split(&self) -> PartyExt {
        PartyExt {
            revision: self.revision,
            history: self.history.clone(),
        }
    }

    fn join(mut self, ext: Option<PartyExt>) -> Party {
        let ext = ext.unwrap_or_default();
        self.revision = ext.revision.max(1);
        self.history = ext.history;
        self
    }
}

impl Sidecar for Shipment {
    type Ext = ShipmentExt;
    type Brief = ();

    fn split(&self) -> ShipmentExt {
        ShipmentExt {
            items: self.items.clone(),
            discrepancy: self.discrepancy.clone(),
        }
    }

    fn join(mut self, ext: Option<ShipmentExt>) -> Shipment {
        let ext = ext.unwrap_or_default();
        self.items = ext.items;
        self.discrepancy = ext.discrepancy;
        self
    }
}
