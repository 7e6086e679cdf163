//! Consultations: signed requests and responses between the jurisdictions
//! concerned by a denial (the no-undercut rule, shared/DOMAIN.md section 3)
//! or by a suspected breach (a multilateral consultation with a group).
//!
//! They travel as exchange records so they get what alerts and denials get:
//! a signed recipient list, need-to-know delivery through the durable
//! outbox, verification on receipt, equivocation evidence and audit at both
//! ends. Who they go to is decided by `consult`; this file only carries them.

use serde::{Deserialize, Serialize};

use super::envelope::{is_bound_id, Record, RecordKind};
use super::issue::{Distribution, IssueAudit};
use super::records::{MAX_LIST, MAX_TEXT};
use super::{Exchange, RecordView};
use crate::error::{Error, Result};
use crate::fields::text;
use crate::identity::{Caller, Jurisdiction};
use crate::kebab::kebab_enum;

kebab_enum!(
    /// What a consultation is about: `undercut` (bilateral, an intended
    /// approval resembling the consulted jurisdiction's active denial) or
    /// `breach` (multilateral, a suspected breach, with a group).
    ConsultationKind {
        Undercut = "undercut",
        Breach = "breach",
    }
);

kebab_enum!(
    /// A response's stance; `more-info` is not an answer yet.
    Position {
        NoObjection = "no-objection",
        Objection = "objection",
        MoreInfo = "more-info",
    }
);

impl Position {
    /// Whether the response answers the request (the officer decides either way).
    pub fn is_answer(self) -> bool {
        self != Position::MoreInfo
    }
}

/// The denial a bilateral consultation concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialRef {
    pub id: String,
    pub issuer: Jurisdiction,
    /// The version the requester held when asking.
    pub version: u32,
}

/// The decision the requester intends, reduced to what the consulted
/// jurisdiction needs to compare it with its denial.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntendedDecision {
    /// The requester's license id (meaningful to the requester only).
    pub license_id: String,
    /// Names of the license parties resembling the denied party.
    pub parties: Vec<String>,
    /// Control-list codes.
    pub items: Vec<String>,
    pub destination: String,
    pub end_use: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationRequest {
    pub kind: ConsultationKind,
    /// Set for `undercut`.
    pub denial: Option<DenialRef>,
    /// Set for `undercut`.
    pub intended: Option<IntendedDecision>,
    pub subject: String,
    /// The question or justification.
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationResponse {
    /// The request's id.
    pub in_reply_to: String,
    pub request_issuer: Jurisdiction,
    pub position: Position,
    pub text: String,
}

/// Longest answer deadline a request may carry, in working days.
pub const MAX_WORKING_DAYS: u32 = 365;

/// When a request wants its answer, as the requester's calendar counts
/// working days, signed with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerDeadline {
    pub working_days: u32,
    pub answer_by_unix_ms: i64,
    /// The latest an extension by the consulted jurisdiction may set.
    pub max_working_days: u32,
    pub extend_until_unix_ms: i64,
}

/// Variants are only ever appended: each record's bytes name theirs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsultationBody {
    /// A request from before requests carried a deadline.
    Request(ConsultationRequest),
    Response(ConsultationResponse),
    TimedRequest(ConsultationRequest, AnswerDeadline),
    /// The consulted jurisdiction's one extension of a request's deadline.
    Extension(ConsultationExtension),
    /// The requester withdraws its request: it needs no answer any more.
    Withdrawal(ConsultationWithdrawal),
    /// A licence granted although it resembles a denial: to the denial's
    /// issuer and every jurisdiction it was addressed to.
    Grant(GrantNotice),
    /// An approved licence shared with chosen partners for mutual recognition.
    LicenceNotice(LicenceNotice),
    /// The issuer's withdrawal of a licence notice (the licence was revoked or ran out).
    LicenceWithdrawal(LicenceWithdrawal),
}

/// One party of a shared licence, with its role on the licence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicensedParty {
    /// applicant, end user, consignee, intermediary
    pub role: String,
    pub party: super::records::Party,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicensedItem {
    pub code: String,
    pub description: String,
    pub quantity: u64,
}

/// What a jurisdiction tells partners of a licence it granted: its terms,
/// never the internal file (no rationale, values or decision history).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceNotice {
    /// The issuer's licence id, `<ISSUER>-L-<n>`.
    pub license_id: String,
    pub parties: Vec<LicensedParty>,
    pub items: Vec<LicensedItem>,
    pub destination: String,
    pub end_use: String,
    pub valid_from_unix_ms: i64,
    pub valid_until_unix_ms: i64,
    pub conditions: Vec<String>,
    /// Why it is shared (a joint programme, a re-export).
    pub text: String,
}

/// Withdraws notice `notice_id` of licence `license_id`, to its recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceWithdrawal {
    pub notice_id: String,
    pub license_id: String,
    /// `revoked` or `expired`.
    pub reason: String,
    pub rationale: String,
}

/// A signed notice that the issuer granted what resembles `denial`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantNotice {
    pub denial: DenialRef,
    /// The issuer's licence id (meaningful to the issuer only).
    pub license_id: String,
    /// The decision's rationale, with how the block was released.
    pub rationale: String,
}

/// A requester's withdrawal of its own request, to the same recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationWithdrawal {
    pub request_id: String,
    pub rationale: String,
}

/// A new answer deadline, set once by a jurisdiction a request was sent to,
/// no later than the request's `extend_until_unix_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationExtension {
    pub in_reply_to: String,
    pub request_issuer: Jurisdiction,
    /// Working days from the request, on the extending jurisdiction's calendar.
    pub working_days: u32,
    pub answer_by_unix_ms: i64,
    pub text: String,
}

/// One consultation record: a request or a response, id `<ISSUER>-C-<n>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consultation {
    pub id: String,
    pub issuer: Jurisdiction,
    pub issued_at_unix_ms: i64,
    pub body: ConsultationBody,
}

impl Consultation {
    pub fn request(&self) -> Option<&ConsultationRequest> {
        match &self.body {
            ConsultationBody::Request(r) | ConsultationBody::TimedRequest(r, _) => Some(r),
            _ => None,
        }
    }

    /// A request's answer deadline, if it carries one.
    pub fn deadline(&self) -> Option<&AnswerDeadline> {
        match &self.body {
            ConsultationBody::TimedRequest(_, d) => Some(d),
            _ => None,
        }
    }

    pub fn response(&self) -> Option<&ConsultationResponse> {
        match &self.body {
            ConsultationBody::Response(r) => Some(r),
            _ => None,
        }
    }

    pub fn extension(&self) -> Option<&ConsultationExtension> {
        match &self.body {
            ConsultationBody::Extension(e) => Some(e),
            _ => None,
        }
    }

    /// The request a response, an extension or a withdrawal belongs to (issuer, id).
    pub fn reply_to(&self) -> Option<(&Jurisdiction, &str)> {
        match &self.body {
            ConsultationBody::Response(r) => Some((&r.request_issuer, r.in_reply_to.as_str())),
            ConsultationBody::Extension(e) => Some((&e.request_issuer, e.in_reply_to.as_str())),
            ConsultationBody::Withdrawal(w) => Some((&self.issuer, w.request_id.as_str())),
            _ => None,
        }
    }

    pub fn grant(&self) -> Option<&GrantNotice> {
        match &self.body {
            ConsultationBody::Grant(g) => Some(g),
            _ => None,
        }
    }

    pub fn licence_notice(&self) -> Option<&LicenceNotice> {
        match &self.body {
            ConsultationBody::LicenceNotice(n) => Some(n),
            _ => None,
        }
    }

    pub fn licence_withdrawal(&self) -> Option<&LicenceWithdrawal> {
        match &self.body {
            ConsultationBody::LicenceWithdrawal(w) => Some(w),
            _ => None,
        }
    }

    pub fn withdrawal(&self) -> Option<&ConsultationWithdrawal> {
        match &self.body {
            ConsultationBody::Withdrawal(w) => Some(w),
            _ => None,
        }
    }

    /// The same checks on issue and on receipt.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(d) = self.deadline() {
            if d.working_days > d.max_working_days || d.max_working_days > MAX_WORKING_DAYS {
                return Err(format!(
                    "deadline: {} working days, at most {} with an extension, and no more than {}",
                    d.working_days, d.max_working_days, MAX_WORKING_DAYS
                ));
            }
            if d.answer_by_unix_ms <= self.issued_at_unix_ms
                || d.extend_until_unix_ms < d.answer_by_unix_ms
            {
                return Err(
                    "deadline: answer_by after the request, extend_until not before it".into(),
                );
            }
        }
        match &self.body {
            ConsultationBody::Request(r) | ConsultationBody::TimedRequest(r, _) => {
                text("subject", &r.subject, true, 256)?;
                text("text", &r.text, true, MAX_TEXT)?;
                match (r.kind, &r.denial, &r.intended) {
                    (ConsultationKind::Undercut, Some(d), Some(i)) => {
                        text("denial.id", &d.id, true, 64)?;
                        if d.issuer == self.issuer {
                            return Err("denial: a jurisdiction does not consult itself".into());
                        }
                        if !is_bound_id(RecordKind::Denial, &d.issuer, &d.id) {
                            return Err(format!(
                                "denial.id {:?} is not a denial id of {}",
                                d.id, d.issuer
                            ));
                        }
                        text("intended.license_id", &i.license_id, true, 64)?;
                        list("intended.parties", &i.parties)?;
                        list("intended.items", &i.items)?;
                        text("intended.destination", &i.destination, true, 2)?;
                        text("intended.end_use", &i.end_use, false, MAX_TEXT)
                    }
                    (ConsultationKind::Undercut, _, _) => Err(
                        "an undercut consultation names its denial and intended decision".into(),
                    ),
                    (ConsultationKind::Breach, None, None) => Ok(()),
                    (ConsultationKind::Breach, _, _) => {
                        Err("a breach consultation names no denial or license".into())
                    }
                }
            }
            ConsultationBody::Grant(g) => {
                if g.denial.issuer == self.issuer {
                    return Err("a grant notice concerns another jurisdiction's denial".into());
                }
                if !is_bound_id(RecordKind::Denial, &g.denial.issuer, &g.denial.id) {
                    return Err(format!(
                        "denial.id {:?} is not a denial id of {}",
                        g.denial.id, g.denial.issuer
                    ));
                }
                text("license_id", &g.license_id, true, 64)?;
                text("rationale", &g.rationale, true, MAX_TEXT)
            }
            ConsultationBody::LicenceNotice(n) => {
                licence_id(&self.issuer, &n.license_id)?;
                if n.parties.is_empty() || n.parties.len() > MAX_LIST {
                    return Err(format!("parties: 1 to {MAX_LIST}"));
                }
                for p in &n.parties {
                    text("parties.role", &p.role, true, 32)?;
                    text("parties.name", &p.party.name, true, 256)?;
                    list("parties.aliases", &p.party.aliases)?;
                    text("parties.country", &p.party.country, false, 2)?;
                    text("parties.address", &p.party.address, false, MAX_TEXT)?;
                }
                if n.items.is_empty() || n.items.len() > MAX_LIST {
                    return Err(format!("items: 1 to {MAX_LIST}"));
                }
                for i in &n.items {
                    text("items.code", &i.code, true, 64)?;
                    text("items.description", &i.description, false, MAX_TEXT)?;
                }
                if n.destination.len() != 2
                    || !n.destination.bytes().all(|b| b.is_ascii_uppercase())
                {
                    return Err(format!(
                        "destination: {:?} is not a two-letter upper-case country code",
                        n.destination
                    ));
                }
                text("end_use", &n.end_use, false, MAX_TEXT)?;
                if n.valid_until_unix_ms <= n.valid_from_unix_ms
                    || n.valid_until_unix_ms > crate::fields::MAX_TIME_UNIX_MS
                {
                    return Err("valid_until: after valid_from and before the year 9999".into());
                }
                if n.conditions.len() > MAX_LIST {
                    return Err(format!("conditions: at most {MAX_LIST}"));
                }
                n.conditions
                    .iter()
                    .try_for_each(|c| text("conditions", c, true, MAX_TEXT))?;
                text("text", &n.text, false, MAX_TEXT)
            }
            ConsultationBody::LicenceWithdrawal(w) => {
                if !is_bound_id(RecordKind::Consultation, &self.issuer, &w.notice_id) {
                    return Err(format!(
                        "notice_id {:?} is not a consultation id of {}: only the issuer withdraws its notice",
                        w.notice_id, self.issuer
                    ));
                }
                licence_id(&self.issuer, &w.license_id)?;
                if !matches!(w.reason.as_str(), "revoked" | "expired") {
                    return Err(format!("reason: {:?}, not revoked or expired", w.reason));
                }
                text("rationale", &w.rationale, true, MAX_TEXT)
            }
            ConsultationBody::Withdrawal(w) => {
                if !is_bound_id(RecordKind::Consultation, &self.issuer, &w.request_id) {
                    return Err(format!(
                        "request_id {:?} is not a consultation id of {}: only the requester withdraws",
                        w.request_id, self.issuer
                    ));
                }
                text("rationale", &w.rationale, true, MAX_TEXT)
            }
            ConsultationBody::Extension(e) => {
                text("in_reply_to", &e.in_reply_to, true, 64)?;
                if e.request_issuer == self.issuer {
                    return Err("a jurisdiction does not extend its own request".into());
                }
                if !is_bound_id(RecordKind::Consultation, &e.request_issuer, &e.in_reply_to) {
                    return Err(format!(
                        "in_reply_to {:?} is not a consultation id of {}",
                        e.in_reply_to, e.request_issuer
                    ));
                }
                if e.working_days == 0 || e.working_days > MAX_WORKING_DAYS {
                    return Err(format!("working_days: 1 to {MAX_WORKING_DAYS}"));
                }
                text("text", &e.text, true, MAX_TEXT)
            }
            ConsultationBody::Response(r) => {
                text("in_reply_to", &r.in_reply_to, true, 64)?;
                if r.request_issuer == self.issuer {
                    return Err("a jurisdiction does not answer its own request".into());
                }
                if !is_bound_id(RecordKind::Consultation, &r.request_issuer, &r.in_reply_to) {
                    return Err(format!(
                        "in_reply_to {:?} is not a consultation id of {}",
                        r.in_reply_to, r.request_issuer
                    ));
                }
                text(
                    "text",
                    &r.text,
                    r.position != Position::NoObjection,
                    MAX_TEXT,
                )
            }
        }
    }
}

/// A licence id only `issuer` could have given: `<ISSUER>-L-<n>`.
fn licence_id(issuer: &Jurisdiction, id: &str) -> Result<(), String> {
    let bound = id
        .strip_prefix(issuer.as_str())
        .and_then(|r| r.strip_prefix("-L-"))
        .is_some_and(|n| {
            !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())
        });
    if bound && id.len() <= 64 {
        Ok(())
    } else {
        Err(format!("license_id {id:?} is not a licence id of {issuer}"))
    }
}

fn list(field: &str, values: &[String]) -> Result<(), String> {
    if values.len() > MAX_LIST {
        return Err(format!("{field}: at most {MAX_LIST} entries"));
    }
    values.iter().try_for_each(|v| text(field, v, true, 256))
}

impl Exchange {
    /// The notices held of licences granted despite denial `denial_id`,
    /// oldest first.
    pub fn grants_despite(&self, denial_id: &str) -> Result<Vec<RecordView>> {
        let mut out: Vec<RecordView> = self
            .list(RecordKind::Consultation, &Default::default())?
            .into_iter()
            .filter(|v| match &v.record {
                Record::Consultation(c) => c.grant().is_some_and(|g| g.denial.id == denial_id),
                _ => false,
            })
            .collect();
        out.sort_by_key(|v| v.header.issued_at_unix_ms);
        Ok(out)
    }

    /// Signs and stores a consultation record for `dist` (which the caller,
    /// `consult`, restricts to the jurisdictions concerned), queued for
    /// delivery in the same durable batch as its audit entry.
    pub async fn issue_consultation(
        &self,
        actor: &Caller,
        body: ConsultationBody,
        dist: Distribution,
        action: &'static str,
        rationale: String,
    ) -> Result<RecordView> {
        self.issue_consultation_with(actor, body, dist, action, rationale, None)
            .await
    }

    /// [`Exchange::issue_consultation`], committing `along` in its batch.
    pub async fn issue_consultation_with(
        &self,
        actor: &Caller,
        body: ConsultationBody,
        dist: Distribution,
        action: &'static str,
        rationale: String,
        along: Option<super::issue::AlongWith<'_>>,
    ) -> Result<RecordView> {
        let fresh = self.fresh(RecordKind::Consultation, &dist).await?;
        let record = Consultation {
            id: format!("{}-C-{}", self.own, fresh.number),
            issuer: self.own.clone(),
            issued_at_unix_ms: fresh.now,
            body,
        };
        record.validate().map_err(Error::InvalidArgument)?;
        tracing::info!(actor = %actor, id = %record.id, recipients = ?fresh.recipients, "consultation issued");
        let why = IssueAudit {
            actor,
            action,
            rationale,
            along,
        };
        self.store_fresh(fresh, Record::Consultation(record), why)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RecordSigner;
    use crate::exchange::envelope::tests::header;
    use crate::exchange::envelope::{EnvelopeError, RecordKind, SignedEnvelope};

    fn request() -> Consultation {
        Consultation {
            id: "DE-C-4".into(),
            issuer: "DE".parse().unwrap(),
            issued_at_unix_ms: 10,
            body: ConsultationBody::Request(ConsultationRequest {
                kind: ConsultationKind::Undercut,
                denial: Some(DenialRef {
                    id: "FR-D-1".into(),
                    issuer: "FR".parse().unwrap(),
                    version: 1,
                }),
                intended: Some(IntendedDecision {
                    license_id: "DE-L-3".into(),
                    parties: vec!["Acme Trading FZE".into()],
                    items: vec!["6A003".into()],
                    destination: "AE".into(),
                    end_use: "surveillance".into(),
                }),
                subject: "No-undercut consultation on denial FR-D-1".into(),
                text: "Objection?".into(),
            }),
        }
    }

    #[test]
    fn a_consultation_travels_signed_and_comes_back_equal() {
        let signer = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
        let mut h = header("DE", "DE-C-4", 4, &["FR"]);
        h.kind = RecordKind::Consultation;
        h.expires_at_unix_ms = None;
        let record = Record::Consultation(request());
        let envelope = SignedEnvelope::seal(&signer, h.clone(), &record).unwrap();
        let opened = envelope.open(signer.public_key()).unwrap();
        assert_eq!(opened.record, record);
        // An expiring or versioned consultation is not one this node would sign.
        h.expires_at_unix_ms = Some(99);
        let odd = SignedEnvelope::seal(&signer, h, &record).unwrap();
        assert!(matches!(
            odd.open(signer.public_key()),
            Err(EnvelopeError::Inconsistent(_))
        ));
    }

    #[test]
    fn validation_names_what_is_wrong() {
        assert_eq!(request().validate(), Ok(()));
        let mut own = request();
        if let ConsultationBody::Request(r) = &mut own.body {
            r.denial.as_mut().unwrap().issuer = "DE".parse().unwrap();
        }
        assert!(own.validate().unwrap_err().contains("itself"));
        let mut breach = request();
        if let ConsultationBody::Request(r) = &mut breach.body {
            r.kind = ConsultationKind::Breach;
        }
        assert!(breach.validate().unwrap_err().contains("breach"));
        let answer = |position, text: &str, by: &str| Consultation {
            id: format!("{by}-C-9"),
            issuer: by.parse().unwrap(),
            issued_at_unix_ms: 11,
            body: ConsultationBody::Response(ConsultationResponse {
                in_reply_to: "DE-C-4".into(),
                request_issuer: "DE".parse().unwrap(),
                position,
                text: text.into(),
            }),
        };
        assert_eq!(answer(Position::NoObjection, "", "FR").validate(), Ok(()));
        assert!(answer(Position::Objection, " ", "FR")
            .validate()
            .unwrap_err()
            .contains("text"));
        assert!(answer(Position::NoObjection, "", "DE")
            .validate()
            .unwrap_err()
            .contains("own request"));
        assert!(Position::Objection.is_answer() && !Position::MoreInfo.is_answer());
    }

    #[test]
    fn a_licence_notice_names_only_its_issuers_licence_and_notices() {
        let notice = |license_id: &str| Consultation {
            id: "DE-C-7".into(),
            issuer: "DE".parse().unwrap(),
            issued_at_unix_ms: 10,
            body: ConsultationBody::LicenceNotice(LicenceNotice {
                license_id: license_id.into(),
                parties: vec![LicensedParty {
                    role: "end user".into(),
                    party: crate::exchange::records::Party {
                        name: "Emirates Space Agency".into(),
                        ..Default::default()
                    },
                }],
                items: vec![LicensedItem {
                    code: "6A003".into(),
                    description: String::new(),
                    quantity: 4,
                }],
                destination: "AE".into(),
                end_use: String::new(),
                valid_from_unix_ms: 10,
                valid_until_unix_ms: 20,
                conditions: vec![],
                text: String::new(),
            }),
        };
        assert_eq!(notice("DE-L-3").validate(), Ok(()));
        // A peer cannot speak for another jurisdiction's licence.
        for bad in ["FR-L-3", "DE-L-03", "DE-L-", "DE-P-3", "DE-L-3x"] {
            assert!(
                notice(bad).validate().unwrap_err().contains("license_id"),
                "{bad}"
            );
        }
        let mut expired_at_birth = notice("DE-L-3");
        if let ConsultationBody::LicenceNotice(n) = &mut expired_at_birth.body {
            n.valid_until_unix_ms = 10;
        }
        assert!(expired_at_birth
            .validate()
            .unwrap_err()
            .contains("valid_until"));
        let withdrawal = |by: &str, notice_id: &str, reason: &str| Consultation {
            id: format!("{by}-C-9"),
            issuer: by.parse().unwrap(),
            issued_at_unix_ms: 11,
            body: ConsultationBody::LicenceWithdrawal(LicenceWithdrawal {
                notice_id: notice_id.into(),
                license_id: format!("{by}-L-3"),
                reason: reason.into(),
                rationale: "revoked".into(),
            }),
        };
        assert_eq!(withdrawal("DE", "DE-C-7", "revoked").validate(), Ok(()));
        assert!(withdrawal("FR", "DE-C-7", "revoked")
            .validate()
            .unwrap_err()
            .contains("only the issuer"));
        assert!(withdrawal("DE", "DE-C-7", "bored")
            .validate()
            .unwrap_err()
            .contains("reason"));
    }
}
