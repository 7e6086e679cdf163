//! Licensing: the records a jurisdiction keeps for itself (shared/DOMAIN.md
//! section 1 and 5) — the versioned control-list catalog, parties, license
//! applications and their decisions, waivers, shipments, end-use checks and
//! voluntary disclosures.
//!
//! Every write appends an audit entry in the same store batch. Denying an
//! application issues a denial notice through [`Exchange::issue_denial_with`]
//! and overturning the denial on appeal revokes it through
//! [`Exchange::revoke_denial_with`]; in both the license and its audit entry
//! ride in the exchange's batch, so a crash leaves the license, its audit
//! entry and the notice all present or all absent.
//!
//! Lock order: the licensing lock (`writing`, held around every
//! read-modify-write), then the exchange's issuing lock, then the audit log.
//!
//! # Layout
//! - `model`: the records and their field checks.
//! - `lifecycle`: the license state machine, pure.
//! - `catalog`: catalog versions (import, list, per-code history).
//! - `licenses`: submission, transitions, reads.
//! - `registry`: parties, waivers, shipments, end-use checks, disclosures.
//! - `gate`: [`ApprovalGate`], checks other modules run before an approval
//!   (the no-undercut consultation).
//! - `review`: the risk picture a decision records and the [`DecisionReview`]
//!   that makes it; pending decisions and countersignatures (four eyes).
//! - `countersign`: the second officer's countersignature or rejection.
//! - `amend`: amending and resubmitting applications.
//! - `terms`: a licence's validity, conditions and limits; shipment checks. Pure.
//! - `parties`: parties, their updates, and the look-alike check on creation.
//! - `stored`: records in their original trees, later facts in sidecar trees.
//! - `recognitions`: whether this jurisdiction recognises a partner's
//!   licence notice (the notices are `consult`'s).

mod amend;
mod catalog;
mod countersign;
mod gate;
mod licenses;
pub mod lifecycle;
pub mod model;
mod parties;
mod recognitions;
mod registry;
pub mod review;
mod stored;
pub mod terms;

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};

pub use amend::Amendment;
pub use catalog::{import_problems, refusal, SourcedEntry};
pub use gate::{ApprovalGate, ApprovalNotice};
pub use lifecycle::{LicenseAction, LicenseState};
pub use model::MAX_CATALOG_ENTRIES;
pub use model::{
    Application, CatalogEntry, CatalogVersion, Category, CheckDraft, CheckResult, Decision,
    DenialDefaults, Disclosure, EndUseCheck, Identifier, ItemDraft, License, LicenseItem, Money,
    Party, PartyDraft, PartyVersion, Revision, Shipment, ShipmentDraft, Waiver, WaiverDraft,
    WaiverKind,
};
pub use recognitions::Recognition;
pub use review::{DecisionReview, HitNote, PendingDecision, RiskSnapshot};
pub use stored::LicenseBrief;
pub use terms::{ItemBalance, ShippedItem, Terms, TermsDraft};

use crate::audit::{Action, AuditLog};
use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::identity::Jurisdiction;
use crate::store::{Batch, Store, StoreError, Tree};

/// Kinds of numbered licensing records; ids read `<JURISDICTION>-<letter>-<n>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Party,
    License,
    Waiver,
    Shipment,
    Check,
    Disclosure,
}

impl Kind {
    fn letter(self) -> &'static str {
        match self {
            Kind::Party => "P",
            Kind::License => "L",
            Kind::Waiver => "W",
            Kind::Shipment => "S",
            Kind::Check => "E",
            Kind::Disclosure => "V",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Kind::Party => "party",
            Kind::License => "license",
            Kind::Waiver => "waiver",
            Kind::Shipment => "shipment",
            Kind::Check => "end-use check",
            Kind::Disclosure => "disclosure",
        }
    }
}

const DENIAL_DEFAULTS: &str = "denial_distribution";

/// Store layout. Numbered records are keyed by their number (8 bytes big
/// endian) so they list in the order they were made; shipments and checks
/// by their license's number, then their own.
struct Trees {
    /// version (4 bytes BE)
    catalog_versions: Tree<CatalogVersion>,
    /// version (4 bytes BE) + code
    catalog_entries: Tree<CatalogEntry>,
    parties: stored::Kept<Party, stored::PartyExt>,
    licenses: stored::Kept<License, stored::LicenseExt>,
    waivers: Tree<Waiver>,
    shipments: stored::Kept<Shipment, stored::ShipmentExt>,
    checks: Tree<EndUseCheck>,
    disclosures: Tree<Disclosure>,
    /// Kind letter -> last number handed out.
    counters: Tree<u64>,
    settings: Tree<DenialDefaults>,
    /// Licence notice id -> this jurisdiction's decision on it.
    recognitions: Tree<Recognition>,
}

pub struct Licensing {
    own: Jurisdiction,
    store: Store,
    exchange: Arc<Exchange>,
    audit: Arc<AuditLog>,
    trees: Trees,
    /// Held around every read-modify-write of licensing records.
    writing: Mutex<()>,
    /// Asked before every approval; set once at start.
    gate: std::sync::OnceLock<Arc<dyn ApprovalGate>>,
    /// Scores and screens an application for every decision; set once at start.
    /// Weak: the reviewer (risk) holds licensing, and a cycle would keep
    /// the store open past shutdown.
    review: std::sync::OnceLock<std::sync::Weak<dyn DecisionReview>>,
    settings: Settings,
}

/// `[licensing]` of node.toml, as licensing uses it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Days an approval is valid when the decision names no end.
    pub validity_days: u32,
    /// Name match score from which a new party looks like a held one.
    pub similar_party_score: f32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            validity_days: terms::DEFAULT_VALIDITY_DAYS,
            similar_party_score: 0.85,
        }
    }
}

/// List filters; `None` matches everything, a `limit` of `None` returns all.
#[derive(Clone, Debug, Default)]
pub struct LicenseFilter {
    pub state: Option<LicenseState>,
    /// A party id in any role.
    pub party: Option<String>,
    /// Only licenses with a decision pending countersignature.
    pub pending_only: bool,
    pub limit: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct PartyFilter {
    /// Case-insensitive substring of the name or an alias.
    pub name: Option<String>,
    pub country: Option<String>,
    pub limit: Option<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct WaiverFilter {
    pub destination: Option<String>,
    pub active_only: bool,
    pub limit: Option<usize>,
}

impl Licensing {
    pub fn open(
        store: Store,
        own: Jurisdiction,
        exchange: Arc<Exchange>,
        audit: Arc<AuditLog>,
    ) -> Result<Self, StoreError> {
        let trees = Trees {
            catalog_versions: store.tree("licensing_catalog_versions")?,
            catalog_entries: store.tree("licensing_catalog_entries")?,
            parties: stored::Kept::open(&store, "licensing_parties", "licensing_party_ext")?,
            licenses: stored::Kept::open_with_briefs(
                &store,
                "licensing_licenses",
                "licensing_license_ext",
                "licensing_license_briefs",
            )?,
            waivers: store.tree("licensing_waivers")?,
            shipments: stored::Kept::open(&store, "licensing_shipments", "licensing_shipment_ext")?,
            checks: store.tree("licensing_end_use_checks")?,
            disclosures: store.tree("licensing_disclosures")?,
            counters: store.tree("licensing_counters")?,
            settings: store.tree("licensing_settings")?,
            recognitions: store.tree("licensing_partner_licences")?,
        };
        Ok(Licensing {
            own,
            store,
            exchange,
            audit,
            trees,
            writing: Mutex::new(()),
            gate: std::sync::OnceLock::new(),
            review: std::sync::OnceLock::new(),
            settings: Settings::default(),
        })
    }

    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Installs what scores and screens each decision; a second call is ignored.
    pub fn set_decision_review(&self, review: &Arc<dyn DecisionReview>) {
        if self.review.set(Arc::downgrade(review)).is_err() {
            tracing::warn!("decision review already installed; the new one is ignored");
        }
    }

    /// Installs the check every approval must pass; a second call is ignored.
    pub fn set_approval_gate(&self, gate: Arc<dyn ApprovalGate>) {
        if self.gate.set(gate).is_err() {
            tracing::warn!("approval gate already installed; the new one is ignored");
        }
    }

    /// The installed reviewer; Unavailable once it is gone (shutting down).
    fn reviewer(&self) -> Result<Option<Arc<dyn DecisionReview>>> {
        match self.review.get() {
            None => Ok(None),
            Some(weak) => weak.upgrade().map(Some).ok_or_else(|| {
                Error::FailedPrecondition(
                    "the node is shutting down; decide again after it restarts".into(),
                )
            }),
        }
    }

    pub fn jurisdiction(&self) -> &Jurisdiction {
        &self.own
    }

    /// Allocates the next number of `kind` into `batch`; call under `writing`.
    fn next_id(&self, batch: &mut Batch, kind: Kind) -> Result<(u64, String)> {
        let n = self.trees.counters.get(kind.letter())?.unwrap_or(0) + 1;
        batch.put(&self.trees.counters, kind.letter(), &n)?;
        Ok((n, self.id(kind, n)))
    }

    fn id(&self, kind: Kind, n: u64) -> String {
        format!("{}-{}-{n}", self.own, kind.letter())
    }

    /// The number in one of this node's ids of `kind`; NotFound otherwise.
    fn number(&self, kind: Kind, id: &str) -> Result<u64> {
        let prefix = format!("{}-{}-", self.own, kind.letter());
        id.strip_prefix(&prefix)
            .filter(|n| !n.starts_with('0') && !n.starts_with('+'))
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no {} {id:?} (ids of this node read {prefix}<n>)",
                    kind.noun()
                ))
            })
    }

    /// Commits `batch` with one audit entry, releasing `guard` once the batch
    /// is applied so concurrent writers share the flush.
    async fn commit(
        &self,
        guard: MutexGuard<'_, ()>,
        batch: Batch,
        action: Action<'_>,
    ) -> Result<()> {
        // Lock order: licensing (held by the caller), then audit.
        self.audit
            .commit_releasing(batch, guard, |w| w.append(action))
            .await?;
        Ok(())
    }
}

fn key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn pair_key(a: u64, b: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&a.to_be_bytes());
    k[8..].copy_from_slice(&b.to_be_bytes());
    k
}

#[cfg(test)]
mod tests;
