//! The no-undercut consultation (shared/DOMAIN.md section 3) and the notices
//! jurisdictions send each other about licences: before a node
//! approves an application essentially identical to a peer's active denial,
//! it consults the denying jurisdiction; and analysts open multilateral
//! consultations on suspected breaches with a group.
//!
//! Consultations are exchange records (`exchange::consultation`): signed,
//! delivered need-to-know through the durable outbox, verified and audited at
//! both ends. This module decides what they say and whom they go to, and
//! installs the approval gate licensing asks (licensing ← consult: licensing
//! never names this module).
//!
//! # Layout
//! - `matcher`: the rule itself, pure (party by screening score, item by code
//!   or catalog category, destination).
//! - `gate`: [`NoUndercut`], the [`crate::licensing::ApprovalGate`]:
//!   peer denials a license resembles, and whether a consultation answered.
//! - `requests`: opening consultations and answering them.
//! - `threads`: reading them back, a request with its responses.
//! - `licence_notices`: mutual recognition — approved licences shared with
//!   partners as signed notices, withdrawn when the licence is revoked or
//!   runs out, and recognised or declined by the partner.

pub mod calendar;
mod gate;
mod licence_notices;
pub mod matcher;
mod requests;
mod threads;

use std::sync::Arc;

pub use gate::{Finding, NoUndercut};
pub use licence_notices::{HeldNotice, NoticeFilter, NoticeStanding, PartnerLicenceMatch};
pub use requests::BreachDraft;
pub use threads::{consultation, Thread, ThreadFilter, ThreadStatus};

use crate::error::Result;
use crate::exchange::Exchange;
use crate::identity::Jurisdiction;
use crate::licensing::Licensing;
use crate::peers::PeerDirectory;

pub struct Consult {
    own: Jurisdiction,
    exchange: Arc<Exchange>,
    licensing: Arc<Licensing>,
    peers: Arc<PeerDirectory>,
    gate: Arc<NoUndercut>,
    clocks: calendar::ConsultClocks,
    /// Held while deciding and issuing, so two answers to one request cannot race.
    writing: tokio::sync::Mutex<()>,
    notices: licence_notices::NoticeCache,
}

impl Consult {
    /// `threshold`: the screening score from which a license party is the denied party.
    pub fn new(
        exchange: Arc<Exchange>,
        licensing: Arc<Licensing>,
        peers: Arc<PeerDirectory>,
        threshold: f32,
    ) -> Self {
        let own = exchange.jurisdiction().clone();
        Consult {
            gate: Arc::new(NoUndercut::new(own.clone(), exchange.clone(), threshold)),
            own,
            exchange,
            licensing,
            peers,
            clocks: Default::default(),
            writing: tokio::sync::Mutex::new(()),
            notices: Default::default(),
        }
    }

    /// The consultation clocks (deadlines, calendar, what silence means);
    /// set before the gate is installed.
    pub fn with_clocks(mut self, clocks: calendar::ConsultClocks) -> Self {
        self.gate = Arc::new(
            NoUndercut::new(
                self.own.clone(),
                self.exchange.clone(),
                self.gate.threshold(),
            )
            .silence_is_no_objection(clocks.silence_is_no_objection),
        );
        self.clocks = clocks;
        self
    }

    pub fn clocks(&self) -> &calendar::ConsultClocks {
        &self.clocks
    }

    /// Consultations past their deadline without an answer: this node's
    /// requests awaiting a partner, and partners' requests awaiting this node.
    pub fn overdue(&self) -> Result<usize> {
        let now = crate::clock::now_unix_ms();
        Ok(threads::threads(&self.exchange)?
            .iter()
            .filter(|t| t.overdue(now))
            .count())
    }

    /// The gate to install with [`Licensing::set_approval_gate`].
    pub fn gate(&self) -> Arc<NoUndercut> {
        self.gate.clone()
    }

    /// Consultations this node holds, newest first.
    pub fn list(&self, filter: &ThreadFilter) -> Result<Vec<Thread>> {
        threads::list(&self.exchange, filter)
    }

    /// One consultation by the id of its request or of a response.
    pub fn show(&self, id: &str) -> Result<Thread> {
        threads::show(&self.exchange, id)
    }

    /// The peer denials an approval of `license_id` would undercut, with
    /// the consultations about them.
    pub fn check(&self, license_id: &str) -> Result<Vec<Finding>> {
        let license = self.licensing.license(license_id)?;
        self.gate.findings(&self.licensing, &license)
    }

    /// [`Consult::check`] among the denials `candidates` (issuer, id) only.
    pub fn check_among(
        &self,
        license_id: &str,
        candidates: &[(String, String)],
    ) -> Result<Vec<Finding>> {
        let license = self.licensing.license(license_id)?;
        self.gate
            .findings_among(&self.licensing, &license, candidates)
    }

    /// The screening score from which a license party is the denied party.
    pub fn threshold(&self) -> f32 {
        self.gate.threshold()
    }
}
