//! What a person with the right to decide must have looked at: the risk and
//! screening picture at the moment of a decision, and the second officer a
//! high-risk decision needs (four eyes).
//!
//! Licensing does not score or screen (that is `risk`, which depends on
//! licensing, never the other way round); it asks a [`DecisionReview`] under
//! its lock and records the answer in the decision.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::lifecycle::LicenseAction;
use super::model::License;
use super::terms::TermsDraft;
use crate::error::Result;

/// The risk and screening picture of an application at one moment, as a
/// decision records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskSnapshot {
    pub score: u32,
    pub band: String,
    /// `name version` of the methodology.
    pub methodology: String,
    pub assessed_at_unix_ms: i64,
    /// `kind +points` of every factor that added or removed points.
    pub factors: Vec<String>,
    /// Why each applied risk floor applied.
    pub floors: Vec<String>,
    /// Screening hits nobody has disposed of, each with the command that does.
    pub open_hits: Vec<HitNote>,
    /// Hits an officer confirmed as true matches.
    pub confirmed_hits: Vec<HitNote>,
    /// Why a second officer must countersign; None: one officer decides.
    pub four_eyes: Option<String>,
}

/// One screening hit, as a decision names it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HitNote {
    /// `<party>/<list>/<source id>`, the id `license dispose` takes.
    pub id: String,
    pub description: String,
}

impl RiskSnapshot {
    /// One line for audit entries and logs.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "risk {} ({}) under {} assessed at {}",
            self.score, self.band, self.methodology, self.assessed_at_unix_ms
        );
        if !self.factors.is_empty() {
            s.push_str(&format!("; factors {}", self.factors.join(", ")));
        }
        if !self.floors.is_empty() {
            s.push_str(&format!("; floors: {}", self.floors.join("; ")));
        }
        let ids = |h: &[HitNote]| {
            h.iter()
                .map(|h| h.id.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.open_hits.is_empty() {
            s.push_str(&format!("; open hits {}", ids(&self.open_hits)));
        }
        if !self.confirmed_hits.is_empty() {
            s.push_str(&format!(
                "; confirmed matches {}",
                ids(&self.confirmed_hits)
            ));
        }
        s
    }
}

/// Scores and screens an application afresh for a decision.
pub trait DecisionReview: Send + Sync {
    /// The picture now: never older than the latest event that should have
    /// re-scored the application, because it is made at this moment.
    fn review<'a>(
        &'a self,
        license: &'a License,
    ) -> Pin<Box<dyn Future<Output = Result<RiskSnapshot>> + Send + 'a>>;
}

/// A decision made by one officer that waits for a second.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDecision {
    /// approve or deny.
    pub action: LicenseAction,
    /// The maker's certificate identity.
    pub officer: String,
    pub at_unix_ms: i64,
    pub rationale: String,
    /// The picture the maker saw.
    pub risk: RiskSnapshot,
    /// Why it waits (from the snapshot's `four_eyes`).
    pub reason: String,
    /// For an approval: the terms the maker set.
    pub terms: Option<TermsDraft>,
    /// For a denial: who receives the notice (jurisdictions, groups).
    pub to: Vec<String>,
    pub groups: Vec<String>,
}

/// The second officer's answer to a pending decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Countersignature {
    pub officer: String,
    pub at_unix_ms: i64,
    pub rationale: String,
    /// Why a confirmed screening match is approved anyway; empty otherwise.
    pub override_rationale: String,
}

/// A pending decision the second officer rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedDecision {
    pub decision: PendingDecision,
    pub rejected: Countersignature,
}

/// What a decision records beyond its step: the picture at that moment and
/// the countersignature, when it needed one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionReviewed {
    pub risk: Option<RiskSnapshot>,
    /// When the maker decided (the step's time is the countersignature's).
    pub proposed_at_unix_ms: Option<i64>,
    pub countersigned: Option<Countersignature>,
}
