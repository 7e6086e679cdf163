//! A store that is behind what its partners hold. Every peer tells this
//! node, in each `Hello` answer, the highest sequence number it holds from
//! it. One above this node's own counter means the store lost records it
//! issued (an old copy of the data directory put back, a VM snapshot rolled
//! back): issuing again would sign new records under numbers partners hold,
//! which they refuse as equivocation. Issuing pauses until an administrator
//! decides (`concord resume-issuing`), which moves the counter past
//! everything any partner reported and past the current time in
//! microseconds, as a restore does.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;

use super::envelope::RecordKind;
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

/// What partners reported of this node's ids, since it started: each
/// kind's highest id number any of them holds, and who reported.
#[derive(Debug, Default)]
pub(super) struct IdReports {
    floor: HashMap<RecordKind, u64>,
    reported: BTreeSet<Jurisdiction>,
}

impl Exchange {
    /// The id number the next own record of `kind` takes: one above both
    /// this node's counter and anything a partner reported holding, so ids
    /// stay short and contiguous and a restored node reuses none.
    pub(super) fn next_id_number(&self, kind: RecordKind) -> Result<u64> {
        let own = self
            .ledger
            .counters
            .get(ledger::id_counter_key(kind))?
            .unwrap_or(0);
        let floor = self
            .id_reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .floor
            .get(&kind)
            .copied()
            .unwrap_or(0);
        Ok(own.max(floor) + 1)
    }

    /// What `peer` says it holds of this node's ids (each kind's highest).
    pub fn peer_holds_ids(&self, peer: &Jurisdiction, held: &[(RecordKind, u64)]) {
        let mut reports = self.id_reports.lock().unwrap_or_else(|e| e.into_inner());
        for (kind, n) in held {
            let slot = reports.floor.entry(*kind).or_default();
            *slot = (*slot).max(*n);
        }
        reports.reported.insert(peer.clone());
    }

    /// The partners a restored node still waits for before it numbers a new
    /// record; empty when it waits for none.
    pub fn awaiting_id_reports(&self) -> Result<Vec<Jurisdiction>> {
        if !self.ledger.counters.contains(ledger::IDS_AFTER_RESTORE)? {
            return Ok(Vec::new());
        }
        let reports = self.id_reports.lock().unwrap_or_else(|e| e.into_inner());
        Ok(self
            .peers
            .current()
            .keys()
            .filter(|j| !reports.reported.contains(*j))
            .cloned()
            .collect())
    }

    /// After a restore, a new record waits until every partner has said
    /// which of this node's ids it holds: numbering before that could sign
    /// a second record under an id a partner holds.
    pub(super) fn check_ids_confirmed(&self) -> Result<()> {
        let waiting = self.awaiting_id_reports()?;
        if waiting.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = waiting.iter().map(|j| j.as_str()).collect();
        Err(Error::FailedPrecondition(format!(
            "this node was restored from a backup and numbers no new record until every partner \
             has said which of its records it holds; waiting for {} (they report as soon as \
             their link is up). Run `concord resume-issuing --reason T` to go on without them",
            names.join(", ")
        )))
    }

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
    /// audited; returns the new counter. After a restore whose partners have
    /// not all reported, the id counters jump the same way (the ids that
    /// follow are long: the price of not waiting).
    pub async fn resume_issuing(&self, actor: &str, reason: &str) -> Result<u64> {
        crate::fields::text("reason", reason, true, 1024).map_err(Error::InvalidArgument)?;
        let paused = self.issuing_paused();
        let waiting = self.awaiting_id_reports()?;
        if paused.is_none() && waiting.is_empty() {
            return Err(Error::FailedPrecondition(
                "issuing is not paused; nothing to resume".into(),
            ));
        }
        let _guard = self.issuing.lock().await;
        let highest = paused
            .iter()
            .flat_map(|p| p.ahead.iter().map(|(_, s)| *s))
            .max()
            .unwrap_or(0);
        let held = self.ledger.counters.get(ledger::SEQ_COUNTER)?.unwrap_or(0);
        let next = held.max(highest).max(super::now_as_sequence());
        let mut batch = self.store.batch();
        batch.put(&self.ledger.counters, ledger::SEQ_COUNTER, &next)?;
        let mut why = Vec::new();
        if let Some(p) = &paused {
            why.push(p.describe());
        }
        if !waiting.is_empty() {
            for kind in ledger::ID_KINDS {
                let n = (self.next_id_number(kind)? - 1).max(super::now_as_sequence());
                batch.put(&self.ledger.counters, ledger::id_counter_key(kind), &n)?;
            }
            batch.delete(&self.ledger.counters, ledger::IDS_AFTER_RESTORE);
            let names: Vec<&str> = waiting.iter().map(|j| j.as_str()).collect();
            why.push(format!(
                "restored, without the reports of {}; ids moved past now in microseconds",
                names.join(", ")
            ));
        }
        let rationale = format!("{}; counter moved to {next}: {reason}", why.join("; "));
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

    /// Each kind's highest id number held from `issuer`, as `Hello` reports it.
    pub fn held_ids_from(&self, issuer: &Jurisdiction) -> Result<Vec<(RecordKind, u64)>> {
        let mut out = Vec::new();
        for kind in ledger::ID_KINDS {
            if let Some(n) = self
                .ledger
                .counters
                .get(ledger::held_id_key(issuer, kind))?
            {
                out.push((kind, n));
            }
        }
        Ok(out)
    }
}
