//! Conversions for the consult service: wire requests → domain values,
//! consultation threads → wire views.

use concord_proto::v1 as pb;

use super::exchange_convert::delivery_out;
use crate::consult::{
    consultation, Finding, HeldNotice, NoticeFilter, NoticeStanding, PartnerLicenceMatch, Thread,
    ThreadFilter, ThreadStatus,
};
use crate::error::Error;
use crate::exchange::consultation::{ConsultationBody, Position};
use crate::exchange::{RecordView, SignatureCheck};
use crate::identity::Jurisdiction;

fn invalid(field: &str, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{field}: {e}"))
}

pub fn position(s: &str) -> Result<Position, Error> {
    s.trim()
        .parse::<Position>()
        .map_err(|e| invalid("position", e))
}

/// A record id as the node issues them: `<J>-<letter>-<n>`, short, plain.
pub fn record_id(field: &str, id: &str) -> Result<String, Error> {
    let id = id.trim();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(id.to_owned())
    } else {
        Err(invalid(
            field,
            format!("{id:?} is not a record id (e.g. FR-D-3)"),
        ))
    }
}

pub fn filter(r: &pb::ListConsultationsRequest) -> Result<ThreadFilter, Error> {
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    Ok(ThreadFilter {
        license: some(&r.license_id),
        denial: some(&r.denial_id),
        status: some(&r.status)
            .map(|s| s.parse::<ThreadStatus>().map_err(|e| invalid("status", e)))
            .transpose()?,
        limit: (r.limit != 0).then_some(r.limit as usize),
    })
}

pub fn view(v: &RecordView) -> pb::ConsultationView {
    let (signature_valid, signature_error) = match &v.signature {
        SignatureCheck::Valid => (true, String::new()),
        SignatureCheck::Invalid(e) => (false, e.clone()),
    };
    let c = consultation(v);
    let deadline = c.and_then(|c| c.deadline());
    let body = c.map(|c| match &c.body {
        ConsultationBody::Request(r) | ConsultationBody::TimedRequest(r, _) => {
            pb::consultation_view::Body::Request(pb::ConsultationAsked {
                kind: r.kind.to_string(),
                denial_id: r.denial.as_ref().map(|d| d.id.clone()).unwrap_or_default(),
                denial_issuer: r
                    .denial
                    .as_ref()
                    .map(|d| d.issuer.to_string())
                    .unwrap_or_default(),
                denial_version: r.denial.as_ref().map_or(0, |d| d.version),
                intended: r.intended.as_ref().map(|i| pb::IntendedDecision {
                    license_id: i.license_id.clone(),
                    parties: i.parties.clone(),
                    items: i.items.clone(),
                    destination: i.destination.clone(),
                    end_use: i.end_use.clone(),
                }),
                subject: r.subject.clone(),
                text: r.text.clone(),
                answer_within_working_days: deadline.map_or(0, |d| d.working_days),
                answer_by_unix_ms: deadline.map_or(0, |d| d.answer_by_unix_ms),
                max_working_days: deadline.map_or(0, |d| d.max_working_days),
                extend_until_unix_ms: deadline.map_or(0, |d| d.extend_until_unix_ms),
            })
        }
        ConsultationBody::Grant(g) => pb::consultation_view::Body::Grant(pb::GrantNotice {
            denial_id: g.denial.id.clone(),
            denial_issuer: g.denial.issuer.to_string(),
            denial_version: g.denial.version,
            license_id: g.license_id.clone(),
            rationale: g.rationale.clone(),
        }),
        ConsultationBody::LicenceNotice(n) => {
            pb::consultation_view::Body::LicenceNotice(pb::LicenceNotice {
                license_id: n.license_id.clone(),
                parties: n
                    .parties
                    .iter()
                    .map(|p| pb::LicensedParty {
                        role: p.role.clone(),
                        name: p.party.name.clone(),
                        aliases: p.party.aliases.clone(),
                        country: p.party.country.clone(),
                        address: p.party.address.clone(),
                    })
                    .collect(),
                items: n
                    .items
                    .iter()
                    .map(|i| pb::LicensedItem {
                        code: i.code.clone(),
                        description: i.description.clone(),
                        quantity: i.quantity,
                    })
                    .collect(),
                destination: n.destination.clone(),
                end_use: n.end_use.clone(),
                valid_from_unix_ms: n.valid_from_unix_ms,
                valid_until_unix_ms: n.valid_until_unix_ms,
                conditions: n.conditions.clone(),
                text: n.text.clone(),
            })
        }
        ConsultationBody::LicenceWithdrawal(w) => {
            pb::consultation_view::Body::LicenceWithdrawal(pb::LicenceWithdrawn {
                notice_id: w.notice_id.clone(),
                license_id: w.license_id.clone(),
                reason: w.reason.clone(),
                rationale: w.rationale.clone(),
            })
        }
        ConsultationBody::Withdrawal(w) => {
            pb::consultation_view::Body::Withdrawal(pb::ConsultationWithdrawn {
                request_id: w.request_id.clone(),
                rationale: w.rationale.clone(),
            })
        }
        ConsultationBody::Extension(e) => {
            pb::consultation_view::Body::Extension(pb::ConsultationExtended {
                in_reply_to: e.in_reply_to.clone(),
                request_issuer: e.request_issuer.to_string(),
                working_days: e.working_days,
                answer_by_unix_ms: e.answer_by_unix_ms,
                text: e.text.clone(),
            })
        }
        ConsultationBody::Response(r) => {
            pb::consultation_view::Body::Response(pb::ConsultationAnswer {
                in_reply_to: r.in_reply_to.clone(),
                request_issuer: r.request_issuer.to_string(),
                position: r.position.to_string(),
                text: r.text.clone(),
            })
        }
    });
    pb::ConsultationView {
        id: v.header.record_id.clone(),
        issuer: v.header.issuer.to_string(),
        seq: v.header.seq,
        recipients: v.header.recipients.iter().map(|r| r.to_string()).collect(),
        key_id: v.header.key_id.clone(),
        signature_valid,
        signature_error,
        digest_hex: hex::encode(v.digest),
        issued_at_unix_ms: c.map_or(v.header.issued_at_unix_ms, |c| c.issued_at_unix_ms),
        stored_at_unix_ms: v.stored_at_unix_ms,
        body,
        deliveries: v
            .deliveries
            .iter()
            .map(|(r, d)| delivery_out(r, d))
            .collect(),
    }
}

pub fn thread(t: &Thread, calendar: &crate::consult::calendar::Calendar) -> pb::ConsultationThread {
    let now = crate::clock::now_unix_ms();
    pb::ConsultationThread {
        request: Some(view(&t.request)),
        responses: t.responses.iter().map(view).collect(),
        status: t.status().to_string(),
        answer_by_unix_ms: t.deadline().unwrap_or(0),
        overdue: t.overdue(now),
        working_days_left: t
            .deadline()
            .map_or(0, |d| calendar.working_days_left(now, d)),
    }
}

pub fn check(license_id: &str, findings: &[Finding]) -> pb::CheckLicenseResponse {
    let findings: Vec<pb::UndercutFinding> = findings
        .iter()
        .map(|f| {
            let released = f.released_by();
            pb::UndercutFinding {
                denial_id: f.denial.id.clone(),
                denial_issuer: f.denial.issuer.to_string(),
                resemblance: f.resemblance.to_string(),
                released_by: released.map(|(t, _)| t.id().to_owned()).unwrap_or_default(),
                answer_id: released.map(|(_, a)| a.id.clone()).unwrap_or_default(),
                consultations: f.consultations.iter().map(|t| t.id().to_owned()).collect(),
            }
        })
        .collect();
    pb::CheckLicenseResponse {
        license_id: license_id.to_owned(),
        blocked: findings.iter().any(|f| f.released_by.is_empty()),
        findings,
        recognised_licences: Vec::new(),
    }
}

/// A licence notice held, as the wire shows it.
pub fn notice(n: &HeldNotice, own: &Jurisdiction) -> pb::LicenceNoticeView {
    let r = n.recognition.as_ref().filter(|_| n.issuer() != own);
    pb::LicenceNoticeView {
        notice: Some(view(&n.view)),
        standing: n.standing(crate::clock::now_unix_ms()).to_string(),
        withdrawal: n.withdrawal.as_ref().map(view),
        decision: n.decision(own).to_owned(),
        decided_by: r.map(|r| r.by.clone()).unwrap_or_default(),
        decided_at_unix_ms: r.map_or(0, |r| r.at_unix_ms),
        decision_rationale: r.map(|r| r.rationale.clone()).unwrap_or_default(),
    }
}

pub fn partner_licence(m: &PartnerLicenceMatch) -> pb::PartnerLicenceMatch {
    pb::PartnerLicenceMatch {
        notice_id: m.notice.id().to_owned(),
        issuer: m.notice.issuer().to_string(),
        license_id: m.notice.notice.license_id.clone(),
        role: m.role.clone(),
        party: m.party.clone(),
        matched_name: m.matched_name.clone(),
        score: f64::from(m.score),
        destination: m.notice.notice.destination.clone(),
        items: m
            .notice
            .notice
            .items
            .iter()
            .map(|i| i.code.clone())
            .collect(),
        valid_until_unix_ms: m.notice.notice.valid_until_unix_ms,
        resemblance: m.resemblance.clone(),
    }
}

pub fn notice_filter(r: &pb::ListLicenceNoticesRequest) -> Result<NoticeFilter, Error> {
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let decision = some(&r.decision);
    if let Some(d) = &decision {
        if !matches!(d.as_str(), "recognised" | "declined" | "undecided") {
            return Err(invalid(
                "decision",
                format!("{d:?}; expected one of recognised, declined, undecided"),
            ));
        }
    }
    Ok(NoticeFilter {
        issuer: some(&r.issuer)
            .map(|j| j.parse::<Jurisdiction>().map_err(|e| invalid("issuer", e)))
            .transpose()?,
        license_id: some(&r.license_id),
        decision,
        standing: some(&r.standing)
            .map(|s| {
                s.parse::<NoticeStanding>()
                    .map_err(|e| invalid("standing", e))
            })
            .transpose()?,
    })
}
