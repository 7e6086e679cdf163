//! A store that is behind what its partners hold. Every peer tells this
//! node, in each `Hello` answer, the highest sequence number it holds from
//! it. One above this node's own counter means the store lost records it
//! issued (an old copy of the data directory put back, a VM snapshot rolled
//! back): issuing again would sign new records under numbers partners hold,
//! which they refuse as equivocation. Issuing pauses until an administrator
//! decides (`concord resume-issuing`), which moves the counter past
//! everything any partner reported and past the current time in
//! microseconds, as a restore does.

use std::sync::atomic::Ordering;

use super::{ledger, Exchange};
use crate::audit::Action;
use crate::error::{Error, Result};
use crate::identity::Jurisdiction;

/// Why issuing is paused: the peers that hold more than this node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paused {
    /// Peer, and the highest sequence number it holds from this node.
    pub ahead: Vec<(Jurisdiction, u64)>,
    /// This node's counter when the first peer reported.
    pub own: u64,
}

impl Paused {
    pub fn describe(&self) -> String {
        let peers: Vec<String> = self
            .ahead
            .iter()
            .map(|(j, s)| format!("{j} holds sequence {s}"))
            .collect();
        format!(
            "issuing is paused: {} but this node's store has reached only {}; it lost records \
             it issued. Restore the latest backup, or run `concord resume-issuing --reason T` \
             to continue past them",
            peers.join(", "),
            self.own
        )
    }
}

impl Exchange {
    /// What `peer` says it holds from this node; pauses issuing when that is
    /// more than this node's store has.
    pub fn peer_holds(&self, peer: &Jurisdiction, held: u64) {
        let own = self.durable_seq.load(Ordering::SeqCst);
        if held <= own {
            return;
        }
        let mut paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        let state = paused.get_or_insert_with(|| Paused {
            ahead: Vec::new(),
            own,
        });
        match state.ahead.iter_mut().find(|(j, _)| j == peer) {
            Some((_, s)) if *s >= held => return,
            Some((_, s)) => *s = held,
            None => state.ahead.push((peer.clone(), held)),
        }
        tracing::error!(%peer, held, own, "a peer holds records this node's store lost; issuing paused");
    }

    /// Why issuing is paused, if it is.
    pub fn issuing_paused(&self) -> Option<Paused> {
        self.paused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn check_not_paused(&self) -> Result<()> {
        match self.issuing_paused() {
            Some(p) => Err(Error::FailedPrecondition(p.describe())),
            None => Ok(()),
        }
    }

    /// The administrator's decision to go on: the counter moves past every
    /// number a peer reported and past now in microseconds, durably and
    /// audited; returns the new counter.
    pub async fn resume_issuing(&self, actor: &str, reason: &str) -> Result<u64> {
        crate::fields::text("reason", reason, true, 1024).map_err(Error::InvalidArgument)?;
        let Some(paused) = self.issuing_paused() else {
            return Err(Error::FailedPrecondition(
                "issuing is not paused; nothing to resume".into(),
            ));
        };
        let _guard = self.issuing.lock().await;
        let highest = paused.ahead.iter().map(|(_, s)| *s).max().unwrap_or(0);
        let held = self.ledger.counters.get(ledger::SEQ_COUNTER)?.unwrap_or(0);
        let next = held.max(highest).max(super::now_as_sequence());
        let mut batch = self.store.batch();
        batch.put(&self.ledger.counters, ledger::SEQ_COUNTER, &next)?;
        let rationale = format!("{}; counter moved to {next}: {reason}", paused.describe());
        self.audit
            .commit(
                batch,
                [Action {
                    actor,
                    action: "exchange.resume-issuing",
                    record: "",
                    rationale: &rationale,
                }],
            )
            .await?;
        self.durable_seq.fetch_max(next, Ordering::SeqCst);
        *self.paused.lock().unwrap_or_else(|e| e.into_inner()) = None;
        tracing::warn!(%actor, next, "issuing resumed past the records peers hold");
        Ok(next)
    }
}
