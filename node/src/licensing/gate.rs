//! Checks another module runs before a license is approved.
//!
//! Licensing does not know what they check (the no-undercut rule lives in
//! `consult`, which depends on licensing, never the other way round); it only
//! asks, under its lock, and records what the gate says in the decision.

use super::model::License;
use super::Licensing;
use crate::error::Result;

/// A record a decision must send, the first stored in the decision's own batch.
pub struct ApprovalNotice {
    pub body: crate::exchange::consultation::ConsultationBody,
    pub dist: crate::exchange::Distribution,
    /// The audit action and rationale of the notice.
    pub action: &'static str,
    pub why: String,
}

pub trait ApprovalGate: Send + Sync {
    /// `Ok` with notes to record in the decision's rationale (e.g. the
    /// consultations that released a block), or the refusal —
    /// `FailedPrecondition` naming what stands in the way.
    fn check_approval(&self, licensing: &Licensing, license: &License) -> Result<Vec<String>>;

    /// The notices approving `license` with `rationale` sends (the
    /// no-undercut gate tells the jurisdictions of a denial it undercut);
    /// licensing stores the first in the approval's own batch.
    fn approval_notices(
        &self,
        _licensing: &Licensing,
        _license: &License,
        _rationale: &str,
    ) -> Result<Vec<ApprovalNotice>> {
        Ok(Vec::new())
    }

    /// The notices revoking `license` sends (the withdrawal of each licence
    /// notice that shared it); licensing stores the first in the
    /// revocation's own batch.
    fn revocation_notices(
        &self,
        _licensing: &Licensing,
        _license: &License,
        _rationale: &str,
    ) -> Result<Vec<ApprovalNotice>> {
        Ok(Vec::new())
    }
}
