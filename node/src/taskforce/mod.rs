//! Joint task forces (shared/DOMAIN.md section 4): members of several
//! jurisdictions ask the federation "does anyone know this party?" and get,
//! from every reachable member node, a signed answer revealing only what
//! that node's policy and need-to-know allow.
//!
//! # Layout
//! - `model`: task forces, questions, references, detail requests and the
//!   detail-request state machine.
//! - `answer`: the signed answer a node gives one member about one question.
//! - `matching`: which held records a question matches (screening's name
//!   scorer; keyed hashes for blind questions), after need-to-know.
//! - `names`: the in-memory index of held records' party names that
//!   cleartext party questions read instead of every held record.
//! - `fanout`: the `PeerTransport` interface and the parallel fan-out with a
//!   deadline per peer.
//! - `registry`: registering, listing and closing task forces (admins).
//! - `answering`: a member's query at its home node, and a peer's question
//!   answered here.
//! - `details`: detail requests, their decision by an analyst and the
//!   release of the records.
//!
//! Every decision about who may ask and what may be revealed is made by
//! `policy` (`authorize_taskforce_member`, `may_disclose`, `answer_level`).
//! Every query, answer, refusal and detail request is in the audit trail
//! (who, task force, question, level, record ids and references; never
//! record contents), in the same batch as the references it hands out.

mod answer;
mod answering;
mod details;
pub mod fanout;
pub mod matching;
pub mod model;
pub mod names;
mod registry;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

pub use answer::{AnswerBody, AnswerEntry, AnswerError, AnswerSubject, SignedAnswer, ANSWER_TAG};
pub use answering::{Answered, QueryOutcome, Section, SectionOutcome};
pub use details::DetailsOutcome;
pub use fanout::{BoxFuture, PeerDetails, PeerFailure, PeerQuery, PeerTransport};
pub use model::{
    Decision, DetailRequest, DetailState, Level, Query, TaskForce, TaskForceDraft, TaskForceState,
};

use crate::audit::{Action, AuditLog};
use crate::crypto::RecordSigner;
use crate::error::{Error, Result};
use crate::exchange::Exchange;
use crate::identity::Jurisdiction;
use crate::peers::PeerDirectory;
use crate::policy::TaskForceRefusal;
use crate::store::{Store, Tree};

/// Most entries one answer carries; more matches set `truncated`.
pub const MAX_ENTRIES: usize = 100;

/// `[taskforce]` in node.toml.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a query waits for each peer.
    pub peer_deadline: Duration,
    /// Sustained queries per minute one identity may make (asking here, or
    /// asked through a peer).
    pub queries_per_minute: u32,
    /// Burst allowance of that bucket.
    pub query_burst: u32,
    /// Most peers one query may fan out to.
    pub max_fanout: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            peer_deadline: Duration::from_millis(2_000),
            queries_per_minute: 60,
            query_burst: 20,
            max_fanout: 16,
        }
    }
}

struct Trees {
    taskforces: Tree<TaskForce>,
    /// References this node handed out: key reference id.
    refs: Tree<model::Reference>,
    /// References other nodes handed to this node's members: key reference id.
    received: Tree<model::ReceivedRef>,
    /// Detail requests made to this node: key request id.
    details: Tree<DetailRequest>,
    /// `detail`: the last detail request number.
    counters: Tree<u64>,
}

pub struct TaskForces {
    own: Jurisdiction,
    store: Store,
    trees: Trees,
    exchange: Arc<Exchange>,
    peers: Arc<PeerDirectory>,
    audit: Arc<AuditLog>,
    signer: Arc<RecordSigner>,
    transport: Arc<dyn PeerTransport>,
    limits: Limits,
    /// Held records' party names, for the questions asked here.
    names: names::HeldNames,
    /// Registrations, closures and detail-request numbering.
    writing: Mutex<()>,
}

impl TaskForces {
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        store: Store,
        own: Jurisdiction,
        exchange: Arc<Exchange>,
        peers: Arc<PeerDirectory>,
        audit: Arc<AuditLog>,
        signer: Arc<RecordSigner>,
        transport: Arc<dyn PeerTransport>,
        limits: Limits,
    ) -> Result<Self> {
        let trees = Trees {
            taskforces: store.tree("taskforces")?,
            refs: store.tree("taskforce_refs")?,
            received: store.tree("taskforce_received_refs")?,
            details: store.tree("taskforce_details")?,
            counters: store.tree("taskforce_counters")?,
        };
        let names = names::HeldNames::new(exchange.clone());
        names.start();
        Ok(TaskForces {
            names,
            own,
            store,
            trees,
            exchange,
            peers,
            audit,
            signer,
            transport,
            limits,
            writing: Mutex::new(()),
        })
    }

    pub fn jurisdiction(&self) -> &Jurisdiction {
        &self.own
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Records a refused question: who, which task force, why.
    async fn audit_refusal(
        &self,
        actor: &str,
        action: &str,
        taskforce: &str,
        why: &str,
    ) -> Result<()> {
        self.audit
            .record(Action {
                actor,
                action,
                record: taskforce,
                rationale: why,
            })
            .await?;
        Ok(())
    }
}

/// A policy refusal as the error a member sees.
fn refusal_error(refusal: TaskForceRefusal) -> Error {
    match refusal {
        TaskForceRefusal::Closed { .. } | TaskForceRefusal::Expired { .. } => {
            Error::FailedPrecondition(refusal.to_string())
        }
        TaskForceRefusal::NotAMember { .. } | TaskForceRefusal::ForeignAsker { .. } => {
            Error::PermissionDenied(refusal.to_string())
        }
    }
}

/// A peer's failure on a detail request, as an error naming the peer.
fn peer_error(peer: &Jurisdiction, failure: PeerFailure) -> Error {
    match failure {
        PeerFailure::Refused(e) => with_context(e, &format!("{peer}")),
        other => Error::FailedPrecondition(format!("{peer}: {other}")),
    }
}

fn with_context(e: Error, ctx: &str) -> Error {
    match e {
        Error::InvalidArgument(m) => Error::InvalidArgument(format!("{ctx}: {m}")),
        Error::AlreadyExists(m) => Error::AlreadyExists(format!("{ctx}: {m}")),
        Error::NotFound(m) => Error::NotFound(format!("{ctx}: {m}")),
        Error::FailedPrecondition(m) => Error::FailedPrecondition(format!("{ctx}: {m}")),
        Error::PermissionDenied(m) => Error::PermissionDenied(format!("{ctx}: {m}")),
        Error::Unauthenticated(m) => Error::Unauthenticated(format!("{ctx}: {m}")),
        Error::ResourceExhausted(m) => Error::ResourceExhausted(format!("{ctx}: {m}")),
        Error::Internal(m) => Error::Internal(format!("{ctx}: {m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests;
