//! From a hit to more: a member asks the node that gave a reference for the
//! records behind it; that node's analyst approves (at summary or full) or
//! declines; once approved, the member fetches a signed answer carrying the
//! records at the approved level — still only those need-to-know allows.

use super::answer::{AnswerSubject, Expected};
use super::answering::{Refs, Section, SectionOutcome};
use super::fanout::{within, PeerDetails};
use super::matching::Match;
use super::model::{self, Decision, DetailRequest, DetailState, Level};
use super::{peer_error, refusal_error, TaskForces};
use crate::audit::Action;
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::identity::Caller;
use crate::policy;

const DETAIL_COUNTER: &[u8] = b"detail";

/// A detail request and, once approved, the checked answer carrying the records.
#[derive(Clone, Debug)]
pub struct DetailsOutcome {
    pub request: DetailRequest,
    pub section: Option<Section>,
}

impl TaskForces {
    // ---- the member's side (home node) ------------------------------------

    /// Sends a detail request for `reference` to the node that gave it.
    pub async fn request_details(
        &self,
        asker: &Caller,
        reference: &str,
        justification: &str,
    ) -> Result<DetailRequest> {
        let owner = model::owner_of(reference)
            .ok_or_else(|| Error::InvalidArgument(format!("{reference:?} is not a reference")))?;
        if owner == self.own {
            return self
                .open_detail_request(asker, reference, justification)
                .await;
        }
        model::text("justification", justification, true).map_err(Error::InvalidArgument)?;
        let received = self.trees.received.get(reference)?.ok_or_else(|| {
            Error::NotFound(format!(
                "reference {reference} was not given to a member of {}",
                self.own
            ))
        })?;
        let tf = self.get(&received.taskforce)?;
        policy::authorize_taskforce_member(&asker.jurisdiction, &tf.terms(), now_unix_ms())
            .map_err(refusal_error)?;
        let deadline = self.limits.peer_deadline;
        let call = self.transport.request_details(
            owner.clone(),
            reference.to_owned(),
            asker.clone(),
            justification.to_owned(),
            deadline,
        );
        let request = within(deadline, call)
            .await
            .0
            .map_err(|f| peer_error(&owner, f))?;
        let rationale = format!(
            "reference {reference} sent to {owner}; task force {}; justification: {justification}",
            tf.name
        );
        self.audit
            .record(Action {
                actor: &asker.to_string(),
                action: "taskforce.details.request",
                record: &request.id,
                rationale: &rationale,
            })
            .await?;
        Ok(request)
    }

    /// The state of a detail request; the checked records once approved.
    pub async fn fetch_details(&self, asker: &Caller, id: &str) -> Result<DetailsOutcome> {
        let owner = model::owner_of(id)
            .ok_or_else(|| Error::InvalidArgument(format!("{id:?} is not a detail request id")))?;
        let (details, elapsed) = if owner == self.own {
            let started = std::time::Instant::now();
            (self.release_details(asker, id).await?, started.elapsed())
        } else {
            let deadline = self.limits.peer_deadline;
            let call =
                self.transport
                    .get_details(owner.clone(), id.to_owned(), asker.clone(), deadline);
            let (result, elapsed) = within(deadline, call).await;
            (result.map_err(|f| peer_error(&owner, f))?, elapsed)
        };
        let PeerDetails { request, answer } = details;
        if request.id != id || request.owner != owner {
            return Err(Error::Internal(format!(
                "{owner} answered about request {} instead of {id}",
                request.id
            )));
        }
        let section = match answer {
            None => None,
            Some(signed) => {
                let subject = AnswerSubject::Details(id.to_owned());
                let expected = Expected {
                    answering: &owner,
                    taskforce: &request.taskforce,
                    asker: &asker.uri(),
                    subject: &subject,
                };
                let answered = self.check(&owner, &asker.jurisdiction, signed, &expected);
                if owner != self.own {
                    let ids: Vec<String> = answered
                        .records
                        .iter()
                        .flatten()
                        .filter_map(|r| r.as_ref().ok())
                        .map(|v| v.header.record_id.clone())
                        .collect();
                    let level = answered
                        .body
                        .as_ref()
                        .map_or("unverified".to_owned(), |b| b.level.to_string());
                    let rationale = format!(
                        "from {owner}; task force {}; level {level}; records [{}]; signature {}",
                        request.taskforce,
                        ids.join(", "),
                        match &answered.signature {
                            crate::exchange::SignatureCheck::Valid => "valid".to_owned(),
                            crate::exchange::SignatureCheck::Invalid(e) => format!("invalid: {e}"),
                        }
                    );
                    self.audit
                        .record(Action {
                            actor: &asker.to_string(),
                            action: "taskforce.details.receive",
                            record: id,
                            rationale: &rationale,
                        })
                        .await?;
                }
                Some(Section {
                    jurisdiction: owner.clone(),
                    outcome: SectionOutcome::Answered(Box::new(answered)),
                    elapsed,
                })
            }
        };
        Ok(DetailsOutcome { request, section })
    }

    // ---- the owner's side --------------------------------------------------

    /// Records a member's detail request for a reference this node gave
    /// that member's jurisdiction.
    pub async fn open_detail_request(
        &self,
        asker: &Caller,
        reference: &str,
        justification: &str,
    ) -> Result<DetailRequest> {
        model::text("justification", justification, true).map_err(Error::InvalidArgument)?;
        // A reference given to another jurisdiction is, to this asker, no reference at all.
        let r = self
            .trees
            .refs
            .get(reference)?
            .filter(|r| r.asker == asker.jurisdiction)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "no reference {reference} for {} on {}",
                    asker.jurisdiction, self.own
                ))
            })?;
        let tf = self.get(&r.taskforce)?;
        policy::authorize_taskforce_member(&asker.jurisdiction, &tf.terms(), now_unix_ms())
            .map_err(refusal_error)?;
        let _guard = self.writing.lock().await;
        let n = self.trees.counters.get(DETAIL_COUNTER)?.unwrap_or(0) + 1;
        let request = DetailRequest {
            id: format!("{}-DR-{n}", self.own),
            owner: self.own.clone(),
            reference: reference.to_owned(),
            taskforce: tf.name.clone(),
            asker: asker.clone(),
            justification: justification.to_owned(),
            requested_at_unix_ms: now_unix_ms(),
            state: DetailState::Pending,
        };
        let mut batch = self.store.batch();
        batch.put(&self.trees.details, &request.id, &request)?;
        batch.put(&self.trees.counters, DETAIL_COUNTER, &n)?;
        let ids: Vec<&str> = r.records.iter().map(|x| x.id.as_str()).collect();
        let rationale = format!(
            "reference {reference} (records [{}]); task force {}; justification: {justification}",
            ids.join(", "),
            tf.name
        );
        self.audit
            .commit(
                batch,
                [Action {
                    actor: &asker.to_string(),
                    action: "taskforce.details.request",
                    record: &request.id,
                    rationale: &rationale,
                }],
            )
            .await?;
        Ok(request)
    }

    /// Detail requests made to this node, oldest first; pending ones only
    /// unless `all`.
    pub fn detail_requests(&self, all: bool) -> Result<Vec<DetailRequest>> {
        let mut out: Vec<DetailRequest> = self
            .trees
            .details
            .iter()?
            .into_iter()
            .map(|(_, r)| r)
            .filter(|r| all || r.state == DetailState::Pending)
            .collect();
        out.sort_by_key(|r| r.requested_at_unix_ms);
        Ok(out)
    }

    /// An analyst approves or declines a pending request, once.
    pub async fn decide_details(
        &self,
        analyst: &Caller,
        id: &str,
        decision: Decision,
    ) -> Result<DetailRequest> {
        let _guard = self.writing.lock().await;
        let mut request = self
            .trees
            .details
            .get(id)?
            .ok_or_else(|| Error::NotFound(format!("no detail request {id} on this node")))?;
        if request.state != DetailState::Pending {
            return Err(Error::FailedPrecondition(format!(
                "detail request {id} was already {}",
                request.state.as_str()
            )));
        }
        let by = analyst.to_string();
        request.state = model::decide(&request.state, decision, &by, now_unix_ms())
            .map_err(Error::InvalidArgument)?;
        let (action, rationale) = match &request.state {
            DetailState::Approved { level, note, .. } => (
                "taskforce.details.approve",
                format!("level {level}; for {}; {note}", request.asker),
            ),
            DetailState::Declined { reason, .. } => (
                "taskforce.details.decline",
                format!("for {}; {reason}", request.asker),
            ),
            DetailState::Pending => ("taskforce.details.pending", String::new()),
        };
        let mut batch = self.store.batch();
        batch.put(&self.trees.details, &request.id, &request)?;
        self.audit
            .commit(
                batch,
                [Action {
                    actor: &by,
                    action,
                    record: id,
                    rationale: &rationale,
                }],
            )
            .await?;
        Ok(request)
    }

    /// A member of the requesting jurisdiction fetches a request: its state
    /// and, once approved and while the task force is open, a signed answer
    /// with the records at the approved level.
    pub async fn release_details(&self, asker: &Caller, id: &str) -> Result<PeerDetails> {
        let request = self
            .trees
            .details
            .get(id)?
            .filter(|r| r.asker.jurisdiction == asker.jurisdiction)
            .ok_or_else(|| {
                Error::NotFound(format!("no detail request {id} for {}", asker.jurisdiction))
            })?;
        let level = match &request.state {
            DetailState::Approved { level, .. } => *level,
            _ => {
                return Ok(PeerDetails {
                    request,
                    answer: None,
                })
            }
        };
        let tf = self.get(&request.taskforce)?;
        policy::authorize_taskforce_member(&asker.jurisdiction, &tf.terms(), now_unix_ms())
            .map_err(refusal_error)?;
        let reference = self.trees.refs.get(&request.reference)?.ok_or_else(|| {
            Error::NotFound(format!("reference {} is no longer held", request.reference))
        })?;
        let mut matches = Vec::new();
        for r in &reference.records {
            // The current version; a purged record is simply gone.
            let view = match self.exchange.history(r.kind, &r.id) {
                Ok(mut versions) => versions.pop(),
                Err(Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            let Some(view) = view else { continue };
            if policy::may_disclose(
                &self.own,
                &asker.jurisdiction,
                &view.header.issuer,
                &view.header.recipients,
            ) {
                matches.push(Match {
                    header: view.header,
                    record: view.record,
                    score: 1.0,
                });
            }
        }
        let level = level.max(Level::Summary);
        let built = self.build(
            &tf,
            asker,
            AnswerSubject::Details(id.to_owned()),
            level,
            matches,
            Refs::Existing(&request.reference),
        )?;
        let signed = self.seal(&tf, &built)?;
        let rationale = format!(
            "to {}; task force {}; level {level}; records [{}]",
            asker,
            tf.name,
            built.record_ids.join(", ")
        );
        self.audit
            .record(Action {
                actor: &asker.to_string(),
                action: "taskforce.details.release",
                record: id,
                rationale: &rationale,
            })
            .await?;
        Ok(PeerDetails {
            request,
            answer: Some(signed),
        })
    }
}
