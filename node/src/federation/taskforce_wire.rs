//! Task-force questions, answers and detail requests in their wire form,
//! shared by the inbound task-force services and the outbound peer client.

use concord_proto::v1 as pb;
use concord_proto::v1::task_force_query::Kind;

use crate::error::Error;
use crate::identity::{Caller, Jurisdiction};
use crate::taskforce::{DetailRequest, DetailState, Level, Query, SignedAnswer};

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

fn jurisdiction(field: &str, value: &str) -> Result<Jurisdiction, Error> {
    value.parse().map_err(|e| invalid(field, e))
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
