//! Opening consultations and answering them. Who a record goes to is
//! decided here and nowhere else: a no-undercut request goes to the denying
//! jurisdiction only and its answer back to the requester only; a breach
//! consultation stays within the group it was opened with.

use super::gate::NoUndercut;
use super::threads::{self, consultation, Thread};
use super::Consult;
use crate::error::{Error, Result};
use crate::exchange::consultation::{
    AnswerDeadline, ConsultationBody, ConsultationExtension, ConsultationKind, ConsultationRequest,
    ConsultationResponse, ConsultationWithdrawal, DenialRef, IntendedDecision, Position,
};
use crate::exchange::{Distribution, Record, RecordKind, RecordView, SignatureCheck};
use crate::identity::{Caller, Jurisdiction};
use crate::licensing::LicenseState;

/// A multilateral consultation as an analyst opens it.
#[derive(Clone, Debug, Default)]
pub struct BreachDraft {
    pub subject: String,
    pub text: String,
    pub dist: Distribution,
}

impl Consult {
    /// The deadline a request made now carries, on this node's calendar.
    fn deadline(&self) -> AnswerDeadline {
        let now = crate::clock::now_unix_ms();
        let c = &self.clocks;
        AnswerDeadline {
            working_days: c.answer_within_working_days,
            answer_by_unix_ms: c.calendar.deadline(now, c.answer_within_working_days),
            max_working_days: c.max_working_days,
            extend_until_unix_ms: c.calendar.deadline(now, c.max_working_days),
        }
    }

    /// Asks the jurisdiction that issued `denial_id` about approving `license_id`.
    pub async fn request_undercut(
        &self,
        officer: &Caller,
        license_id: &str,
        denial_id: &str,
        text: String,
    ) -> Result<RecordView> {
        let license = self.licensing.license(license_id)?;
        if !matches!(
            license.state,
            LicenseState::Submitted | LicenseState::UnderReview
        ) {
            return Err(Error::FailedPrecondition(format!(
                "license {license_id} is {}; consultations are for applications not yet decided",
                license.state
            )));
        }
        let denial = self
            .exchange
            .history(RecordKind::Denial, denial_id)?
            .pop()
            .ok_or_else(|| Error::NotFound(format!("no denial {denial_id} held on this node")))?;
        let Record::Denial(notice) = &denial.record else {
            return Err(Error::NotFound(format!(
                "no denial {denial_id} held on this node"
            )));
        };
        if notice.issuer == self.own {
            return Err(Error::FailedPrecondition(format!(
                "{denial_id} is this node's own denial; there is nobody to consult"
            )));
        }
        if denial.signature != SignatureCheck::Valid {
            return Err(Error::FailedPrecondition(format!(
                "denial {denial_id} does not verify now; it cannot be the subject of a consultation"
            )));
        }
        if !denial.is_active(crate::clock::now_unix_ms()) {
            return Err(Error::FailedPrecondition(format!(
                "denial {denial_id} is no longer active; approval is not blocked by it"
            )));
        }
        let intended = NoUndercut::intended(&self.licensing, &license)?;
        // Only what the consulted jurisdiction needs: the parties resembling
        // its denied party (else the end user), the codes, the destination.
        let mut parties: Vec<String> = self
            .gate
            .findings(&self.licensing, &license)?
            .into_iter()
            .filter(|f| f.denial.id == notice.id)
            .map(|f| f.resemblance.party)
            .collect();
        if parties.is_empty() {
            parties.extend(
                intended
                    .parties
                    .iter()
                    .find(|p| p.role == "end user")
                    .map(|p| p.name.clone()),
            );
        }
        let body = ConsultationBody::TimedRequest(
            ConsultationRequest {
                kind: ConsultationKind::Undercut,
                denial: Some(DenialRef {
                    id: notice.id.clone(),
                    issuer: notice.issuer.clone(),
                    version: notice.version,
                }),
                intended: Some(IntendedDecision {
                    license_id: license.id.clone(),
                    parties,
                    items: license.codes(),
                    destination: license.destination.clone(),
                    end_use: license.end_use.clone(),
                }),
                subject: format!("No-undercut consultation on denial {}", notice.id),
                text,
            },
            self.deadline(),
        );
        let dist = Distribution {
            to: vec![notice.issuer.clone()],
            groups: Vec::new(),
        };
        let rationale = format!(
            "about denial {} for license {license_id}, to {}",
            notice.id, notice.issuer
        );
        let _guard = self.writing.lock().await;
        self.exchange
            .issue_consultation(officer, body, dist, "consult.request", rationale)
            .await
    }

    /// Opens a multilateral consultation on a suspected breach.
    pub async fn request_breach(&self, analyst: &Caller, draft: BreachDraft) -> Result<RecordView> {
        if draft.dist.to.is_empty() && draft.dist.groups.is_empty() {
            return Err(Error::InvalidArgument(
                "a breach consultation needs participants: --group and/or --to".into(),
            ));
        }
        let body = ConsultationBody::TimedRequest(
            ConsultationRequest {
                kind: ConsultationKind::Breach,
                denial: None,
                intended: None,
                subject: draft.subject,
                text: draft.text,
            },
            self.deadline(),
        );
        let rationale = format!(
            "breach consultation with groups [{}] and [{}]",
            draft.dist.groups.join(","),
            join(&draft.dist.to)
        );
        let _guard = self.writing.lock().await;
        self.exchange
            .issue_consultation(analyst, body, draft.dist, "consult.request", rationale)
            .await
    }

    /// Answers a consultation addressed to this node.
    pub async fn respond(
        &self,
        caller: &Caller,
        request_id: &str,
        position: Position,
        text: String,
    ) -> Result<RecordView> {
        // One answer at a time, so "already answered" is decided on what is stored.
        let _guard = self.writing.lock().await;
        let thread = self.thread_of_request(request_id)?;
        let request = &thread.request;
        let asked = thread
            .asked()
            .ok_or_else(|| Error::Internal(format!("{request_id} holds no request")))?;
        self.check_addressed_here(&thread)?;
        if let Some(earlier) = thread.answers().find(|v| v.header.issuer == self.own) {
            return Err(Error::AlreadyExists(format!(
                "{} already answered {request_id} in {}",
                self.own, earlier.header.record_id
            )));
        }
        let to = self.reply_recipients(&thread, asked.kind);
        let body = ConsultationBody::Response(ConsultationResponse {
            in_reply_to: request_id.to_owned(),
            request_issuer: request.header.issuer.clone(),
            position,
            text,
        });
        let rationale = format!("{position} to {request_id}, to {}", join(&to));
        let dist = Distribution {
            to,
            groups: Vec::new(),
        };
        self.exchange
            .issue_consultation(caller, body, dist, "consult.respond", rationale)
            .await
    }

    /// Extends the deadline of a consultation addressed to this node, once,
    /// to `working_days` after the request on this node's calendar, no later
    /// than the request allows.
    pub async fn extend(
        &self,
        caller: &Caller,
        request_id: &str,
        working_days: u32,
        text: String,
    ) -> Result<RecordView> {
        let _guard = self.writing.lock().await;
        let thread = self.thread_of_request(request_id)?;
        let request = &thread.request;
        let asked = thread
            .asked()
            .ok_or_else(|| Error::Internal(format!("{request_id} holds no request")))?;
        self.check_addressed_here(&thread)?;
        let Some(signed) = consultation(request).and_then(|c| c.deadline()).cloned() else {
            return Err(Error::FailedPrecondition(format!(
                "{request_id} carries no deadline to extend"
            )));
        };
        if thread.answers().any(|v| v.header.issuer == self.own) {
            return Err(Error::FailedPrecondition(format!(
                "{} already answered {request_id}; there is nothing to extend",
                self.own
            )));
        }
        if let Some(earlier) = thread.responses.iter().find(|v| {
            v.header.issuer == self.own && consultation(v).and_then(|c| c.extension()).is_some()
        }) {
            return Err(Error::AlreadyExists(format!(
                "{} already extended {request_id} in {}; a deadline is extended once",
                self.own, earlier.header.record_id
            )));
        }
        let asked_at = consultation(request).map_or(0, |c| c.issued_at_unix_ms);
        let answer_by = self.clocks.calendar.deadline(asked_at, working_days);
        if working_days <= signed.working_days || answer_by <= signed.answer_by_unix_ms {
            return Err(Error::InvalidArgument(format!(
                "an extension goes beyond the {} working days asked",
                signed.working_days
            )));
        }
        if working_days > signed.max_working_days || answer_by > signed.extend_until_unix_ms {
            return Err(Error::FailedPrecondition(format!(
                "{request_id} may be extended to at most {} working days (until {}); {working_days} is beyond that",
                signed.max_working_days,
                super::calendar::time_text(signed.extend_until_unix_ms)
            )));
        }
        let to = self.reply_recipients(&thread, asked.kind);
        let body = ConsultationBody::Extension(ConsultationExtension {
            in_reply_to: request_id.to_owned(),
            request_issuer: request.header.issuer.clone(),
            working_days,
            answer_by_unix_ms: answer_by,
            text,
        });
        let rationale = format!(
            "deadline of {request_id} extended to {working_days} working days, to {}",
            join(&to)
        );
        let dist = Distribution {
            to,
            groups: Vec::new(),
        };
        self.exchange
            .issue_consultation(caller, body, dist, "consult.extend", rationale)
            .await
    }

    /// Withdraws one of this node's requests, to the jurisdictions it went to.
    pub async fn withdraw(
        &self,
        caller: &Caller,
        request_id: &str,
        rationale: String,
    ) -> Result<RecordView> {
        let _guard = self.writing.lock().await;
        let thread = self.thread_of_request(request_id)?;
        if thread.request.header.issuer != self.own {
            return Err(Error::FailedPrecondition(format!(
                "{request_id} is {}'s request; only the requester withdraws it",
                thread.request.header.issuer
            )));
        }
        if thread.withdrawn() {
            return Err(Error::FailedPrecondition(format!(
                "{request_id} is withdrawn already"
            )));
        }
        let to = thread.request.header.recipients.clone();
        let body = ConsultationBody::Withdrawal(ConsultationWithdrawal {
            request_id: request_id.to_owned(),
            rationale: rationale.clone(),
        });
        let dist = Distribution {
            to,
            groups: Vec::new(),
        };
        self.exchange
            .issue_consultation(caller, body, dist, "consult.withdraw", rationale)
            .await
    }

    /// A request this node may reply to (answer or extend): another
    /// jurisdiction's, addressed here, verifying now.
    fn check_addressed_here(&self, thread: &Thread) -> Result<()> {
        let (request, id) = (&thread.request, thread.id());
        if request.header.issuer == self.own {
            return Err(Error::FailedPrecondition(format!(
                "{id} is this node's own request; only the jurisdictions it was sent to reply to it"
            )));
        }
        if !crate::policy::may_receive(&request.header.recipients, &self.own) {
            return Err(Error::FailedPrecondition(format!(
                "{id} is not addressed to {}",
                self.own
            )));
        }
        if request.signature != SignatureCheck::Valid {
            return Err(Error::FailedPrecondition(format!(
                "{id} does not verify now; it is not replied to"
            )));
        }
        Ok(())
    }

    /// Who a reply to `thread` goes to: the requester, and for a breach
    /// consultation the other participants.
    fn reply_recipients(&self, thread: &Thread, kind: ConsultationKind) -> Vec<Jurisdiction> {
        let peers = self.peers.current();
        crate::policy::response_recipients(
            matches!(kind, ConsultationKind::Breach),
            &thread.request.header.issuer,
            &thread.request.header.recipients,
            &self.own,
            |j| peers.contains_key(j),
        )
    }

    fn thread_of_request(&self, id: &str) -> Result<Thread> {
        let thread = threads::show(&self.exchange, id)?;
        if thread.id() != id {
            let is_response = thread
                .responses
                .iter()
                .any(|r| r.header.record_id == id && consultation(r).is_some());
            if is_response {
                return Err(Error::InvalidArgument(format!(
                    "{id} is a response; answer the request {}",
                    thread.id()
                )));
            }
        }
        Ok(thread)
    }
}

fn join(js: &[Jurisdiction]) -> String {
    js.iter().map(|j| j.as_str()).collect::<Vec<_>>().join(",")
}
