//! Conversions for the task-force services: wire ↔ domain, by hand.
//! Shared by the inbound services and the outbound peer client.

use concord_proto::v1 as pb;
use concord_proto::v1::task_force_query::Kind;

use super::convert::jurisdiction;
use super::exchange_convert::record_view;
use crate::error::Error;
use crate::exchange::SignatureCheck;
use crate::identity::Caller;
use crate::taskforce::model::Closure;
use crate::taskforce::{
    DetailRequest, DetailState, DetailsOutcome, Level, Query, QueryOutcome, Section,
    SectionOutcome, SignedAnswer, TaskForce, TaskForceDraft,
};

fn invalid(field: &str, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{field}: {e}"))
}

fn opt(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

pub fn level(field: &str, s: &str) -> Result<Level, Error> {
    s.parse().map_err(|e| invalid(field, e))
}

pub fn caller(field: &str, uri: &str) -> Result<Caller, Error> {
    Caller::from_uri(uri).map_err(|e| invalid(field, e))
}

pub fn draft(r: pb::CreateTaskForceRequest) -> Result<TaskForceDraft, Error> {
    let members = r
        .members
        .iter()
        .map(|m| jurisdiction("members", m.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TaskForceDraft {
        name: r.name,
        mandate: r.mandate,
        members,
        ends_at_unix_ms: r.ends_at_unix_ms,
        level: level("level", &r.level)?,
        blind_key: (!r.blind_key.is_empty()).then_some(r.blind_key),
    })
}

pub fn taskforce(tf: &TaskForce, now_unix_ms: i64) -> pb::TaskForce {
    let closed = tf.closed.clone().unwrap_or(Closure {
        by: String::new(),
        at_unix_ms: 0,
        reason: String::new(),
    });
    pb::TaskForce {
        name: tf.name.clone(),
        mandate: tf.mandate.clone(),
        members: tf.members.iter().map(|m| m.to_string()).collect(),
        ends_at_unix_ms: tf.ends_at_unix_ms,
        level: tf.level.to_string(),
        created_by: tf.created_by.clone(),
        created_at_unix_ms: tf.created_at_unix_ms,
        state: tf.state(now_unix_ms).as_str().to_owned(),
        closed_by: closed.by,
        closed_at_unix_ms: closed.at_unix_ms,
        close_reason: closed.reason,
        blind_key_id: tf.blind_key_id().unwrap_or_default(),
    }
}

pub fn query_in(q: Option<pb::TaskForceQuery>) -> Result<Query, Error> {
    match q.and_then(|q| q.kind) {
        Some(Kind::Party(p)) => Ok(Query::Party { name: p.name }),
        Some(Kind::Denials(d)) => Ok(Query::Denials {
            party: opt(d.party),
            destination: opt(d.destination),
            item: opt(d.item),
        }),
        Some(Kind::Alerts(a)) => Ok(Query::Alerts { subject: a.subject }),
        Some(Kind::BlindParty(b)) => {
            let hashes = b
                .hashes
                .iter()
                .map(|h| {
                    <[u8; 32]>::try_from(h.as_slice())
                        .map_err(|_| invalid("blind_party.hashes", "each hash is 32 bytes"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Query::BlindParty {
                key_id: b.key_id,
                hashes,
            })
        }
        None => Err(invalid("query", "missing: party, denials or alerts")),
    }
}

pub fn query_out(q: &Query) -> pb::TaskForceQuery {
    let kind = match q.clone() {
        Query::Party { name } => Kind::Party(pb::TaskForcePartyQuery { name }),
        Query::Denials {
            party,
            destination,
            item,
        } => Kind::Denials(pb::TaskForceDenialQuery {
            party: party.unwrap_or_default(),
            destination: destination.unwrap_or_default(),
            item: item.unwrap_or_default(),
        }),
        Query::Alerts { subject } => Kind::Alerts(pb::TaskForceAlertQuery { subject }),
        Query::BlindParty { key_id, hashes } => Kind::BlindParty(pb::TaskForceBlindQuery {
            key_id,
            hashes: hashes.iter().map(|h| h.to_vec()).collect(),
        }),
    };
    pb::TaskForceQuery { kind: Some(kind) }
}

pub fn signed_out(s: &SignedAnswer) -> pb::SignedTaskForceAnswer {
    pb::SignedTaskForceAnswer {
        body: s.body.clone(),
        signature: s.signature.clone(),
        key_id: s.key_id.clone(),
    }
}

pub fn signed_in(s: pb::SignedTaskForceAnswer) -> SignedAnswer {
    SignedAnswer {
        body: s.body,
        signature: s.signature,
        key_id: s.key_id,
    }
}

pub fn detail_request_out(r: &DetailRequest) -> pb::DetailRequest {
    let mut out = pb::DetailRequest {
        id: r.id.clone(),
        reference: r.reference.clone(),
        taskforce: r.taskforce.clone(),
        asker: r.asker.uri(),
        justification: r.justification.clone(),
        state: r.state.as_str().to_owned(),
        requested_at_unix_ms: r.requested_at_unix_ms,
        owner: r.owner.to_string(),
        ..Default::default()
    };
    match &r.state {
        DetailState::Pending => {}
        DetailState::Approved {
            by,
            at_unix_ms,
            level,
            note,
        } => {
            out.decided_by = by.clone();
            out.decided_at_unix_ms = *at_unix_ms;
            out.level = level.to_string();
            out.note = note.clone();
        }
        DetailState::Declined {
            by,
            at_unix_ms,
            reason,
        } => {
            out.decided_by = by.clone();
            out.decided_at_unix_ms = *at_unix_ms;
            out.note = reason.clone();
        }
    }
    out
}

/// A peer's account of a detail request.
pub fn detail_request_in(r: pb::DetailRequest) -> Result<DetailRequest, Error> {
    let state = match r.state.as_str() {
        "pending" => DetailState::Pending,
        "approved" => DetailState::Approved {
            by: r.decided_by,
            at_unix_ms: r.decided_at_unix_ms,
            level: level("level", &r.level)?,
            note: r.note,
        },
        "declined" => DetailState::Declined {
            by: r.decided_by,
            at_unix_ms: r.decided_at_unix_ms,
            reason: r.note,
        },
        other => return Err(invalid("state", format!("unknown {other:?}"))),
    };
    Ok(DetailRequest {
        id: r.id,
        owner: jurisdiction("owner", &r.owner)?,
        reference: r.reference,
        taskforce: r.taskforce,
        asker: caller("asker", &r.asker)?,
        justification: r.justification,
        requested_at_unix_ms: r.requested_at_unix_ms,
        state,
    })
}

pub fn section(s: &Section) -> pb::TaskForceAnswer {
    let mut out = pb::TaskForceAnswer {
        jurisdiction: s.jurisdiction.to_string(),
        elapsed_ms: s.elapsed.as_millis() as u64,
        ..Default::default()
    };
    match &s.outcome {
        SectionOutcome::Answered(a) => {
            out.outcome = "answered".into();
            out.key_id = a.signed.key_id.clone();
            out.signed = Some(signed_out(&a.signed));
            match &a.signature {
                SignatureCheck::Valid => out.signature_valid = true,
                SignatureCheck::Invalid(e) => out.signature_error = e.clone(),
            }
            if let Some(b) = &a.body {
                out.level = b.level.to_string();
                out.hit = b.hit;
                out.reference = b.reference.clone().unwrap_or_default();
                out.answered_at_unix_ms = b.answered_at_unix_ms;
                out.truncated = b.truncated;
                out.entries = b
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let (record, record_error) = match a.records.get(i) {
                            Some(Some(Ok(view))) => (Some(record_view(view)), String::new()),
                            Some(Some(Err(e))) => (None, e.clone()),
                            _ => (None, String::new()),
                        };
                        pb::TaskForceAnswerEntry {
                            reference: e.reference.clone(),
                            kind: e.kind.as_str().to_owned(),
                            issuer: e.issuer.to_string(),
                            date_unix_ms: e.date_unix_ms,
                            category: e.category.clone(),
                            score: f64::from(e.score),
                            record,
                            record_error,
                        }
                    })
                    .collect();
            }
        }
        SectionOutcome::Unreachable(why) => {
            out.outcome = "unreachable".into();
            out.reason = why.clone();
        }
        SectionOutcome::TimedOut(d) => {
            out.outcome = "timed-out".into();
            out.reason = format!("no answer within {} ms", d.as_millis());
        }
        SectionOutcome::Refused(why) => {
            out.outcome = "refused".into();
            out.reason = why.clone();
        }
    }
    out
}

pub fn query_outcome(o: &QueryOutcome) -> pb::TaskForceQueryResponse {
    pb::TaskForceQueryResponse {
        taskforce: o.taskforce.clone(),
        query: o.query.clone(),
        blind: o.blind,
        sections: o.sections.iter().map(section).collect(),
    }
}

pub fn details_outcome(o: &DetailsOutcome) -> pb::DetailOutcome {
    pb::DetailOutcome {
        request: Some(detail_request_out(&o.request)),
        answer: o.section.as_ref().map(section),
    }
}
