//! Checks another module runs before a license is approved.
//!
//! Licensing does not know what they check (the no-undercut rule lives in
//! `consult`, which depends on licensing, never the other way round); it only
//! asks, under its lock, and records what the gate says in the decision.

use super::model::License;
use super::Licensing;
use crate::error::Result;

/// What a gate does once an approval it let through is stored.
pub type AfterApproval<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

pub trait ApprovalGate: Send + Sync {
    /// `Ok` with notes to record in the decision's rationale (e.g. the
    /// consultations that released a block), or the refusal —
    /// `FailedPrecondition` naming what stands in the way.
    fn check_approval(&self, licensing: &Licensing, license: &License) -> Result<Vec<String>>;

    /// Called once the approval of `license` with `rationale` is stored
    /// (the no-undercut gate notifies the jurisdictions of a denial it
    /// undercut); failures are the gate's to report.
    fn approved<'a>(
        &'a self,
        _licensing: &'a Licensing,
        _license: &'a License,
        _rationale: &'a str,
    ) -> AfterApproval<'a> {
        Box::pin(async {})
    }
}
