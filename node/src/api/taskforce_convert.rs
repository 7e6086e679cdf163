//! Conversions for the task-force services: wire ↔ domain, by hand.
//! The forms a peer also sends are `federation::taskforce_wire`'s.

use concord_proto::v1 as pb;

use super::convert::jurisdiction;
use super::exchange_convert::record_view;
use crate::error::Error;
use crate::exchange::SignatureCheck;
pub use crate::federation::taskforce_wire::{
    caller, detail_request_out, level, query_in, signed_out,
};
use crate::taskforce::model::Closure;
use crate::taskforce::{
    DetailsOutcome, QueryOutcome, Section, SectionOutcome, TaskForce, TaskForceDraft,
};

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
                out.in_force = b.in_force;
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
                            version: e.version,
                            standing: e.standing.to_string(),
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
