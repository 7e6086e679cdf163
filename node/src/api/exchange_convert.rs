//! Conversions for the exchange service: wire records ↔ domain records.

use std::time::Duration;

use concord_proto::v1 as pb;

use crate::clock::now_unix_ms;
use crate::error::Error;
use crate::exchange::records::{
    AlertCategory, DenialNotice, DeniedItem, Party, RiskAlert, Severity, Subjects,
};
use crate::exchange::{
    AlertChange, AlertDraft, DeliveryView, DenialChange, DenialDraft, Distribution, NewestCursor,
    PageCursor, Record, RecordFilter, RecordView, SignatureCheck,
};
use crate::identity::Jurisdiction;

use super::convert::jurisdiction;

fn invalid(field: &str, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{field}: {e}"))
}

fn opt_ms(v: i64) -> Option<i64> {
    (v != 0).then_some(v)
}

fn opt_secs(v: u64) -> Option<Duration> {
    (v != 0).then(|| Duration::from_secs(v))
}

pub fn party_in(p: pb::Party) -> Party {
    Party {
        name: p.name.trim().to_owned(),
        aliases: p.aliases,
        country: p.country.trim().to_uppercase(),
        address: p.address,
    }
}

fn party_out(p: &Party) -> pb::Party {
    pb::Party {
        name: p.name.clone(),
        aliases: p.aliases.clone(),
        country: p.country.clone(),
        address: p.address.clone(),
    }
}

fn subjects_in(s: Option<pb::Subjects>) -> Subjects {
    let s = s.unwrap_or_default();
    Subjects {
        parties: s.parties.into_iter().map(party_in).collect(),
        destinations: s
            .destinations
            .into_iter()
            .map(|d| d.trim().to_uppercase())
            .collect(),
        items: s.items,
        shipments: s.shipments,
    }
}

fn subjects_out(s: &Subjects) -> pb::Subjects {
    pb::Subjects {
        parties: s.parties.iter().map(party_out).collect(),
        destinations: s.destinations.clone(),
        items: s.items.clone(),
        shipments: s.shipments.clone(),
    }
}

fn items_in(items: Vec<pb::DeniedItem>) -> Vec<DeniedItem> {
    items
        .into_iter()
        .map(|i| DeniedItem {
            code: i.code.trim().to_owned(),
            description: i.description,
        })
        .collect()
}

pub fn distribution(d: Option<pb::Distribution>) -> Result<Distribution, Error> {
    let d = d.unwrap_or_default();
    let to =
        d.to.iter()
            .map(|j| jurisdiction("distribution.to", j.trim()))
            .collect::<Result<Vec<_>, _>>()?;
    Ok(Distribution {
        to,
        groups: d.groups,
    })
}

pub fn alert_draft(r: &mut pb::RaiseAlertRequest) -> Result<AlertDraft, Error> {
    Ok(AlertDraft {
        category: r
            .category
            .parse::<AlertCategory>()
            .map_err(|e| invalid("category", e))?,
        severity: r
            .severity
            .parse::<Severity>()
            .map_err(|e| invalid("severity", e))?,
        subjects: subjects_in(r.subjects.take()),
        indicators: std::mem::take(&mut r.indicators),
        summary: std::mem::take(&mut r.summary),
        expires_in: opt_secs(r.expires_in_seconds),
        handling: std::mem::take(&mut r.handling),
    })
}

pub fn denial_draft(r: &mut pb::IssueDenialRequest) -> DenialDraft {
    DenialDraft {
        party: party_in(r.party.take().unwrap_or_default()),
        items: items_in(std::mem::take(&mut r.items)),
        destination: r.destination.trim().to_uppercase(),
        end_use: std::mem::take(&mut r.end_use),
        reason: std::mem::take(&mut r.reason),
        valid_for: opt_secs(r.valid_for_seconds),
    }
}

pub fn denial_change(r: pb::AmendDenialRequest) -> DenialChange {
    DenialChange {
        party: r.party.map(party_in),
        items: (!r.items.is_empty()).then(|| items_in(r.items)),
        destination: r.destination.map(|d| d.trim().to_uppercase()),
        end_use: r.end_use,
        reason: r.reason,
        valid_for: opt_secs(r.valid_for_seconds),
        change_reason: r.change_reason,
    }
}

pub fn alert_change(r: pb::AmendAlertRequest) -> Result<AlertChange, Error> {
    Ok(AlertChange {
        category: r
            .category
            .map(|c| {
                c.parse::<AlertCategory>()
                    .map_err(|e| invalid("category", e))
            })
            .transpose()?,
        severity: r
            .severity
            .map(|c| c.parse::<Severity>().map_err(|e| invalid("severity", e)))
            .transpose()?,
        subjects: r.subjects.map(|s| subjects_in(Some(s))),
        indicators: (r.replace_indicators || !r.indicators.is_empty()).then_some(r.indicators),
        summary: r.summary,
        expires_in: opt_secs(r.expires_in_seconds),
        handling: r.handling,
        change_reason: r.rationale,
    })
}

/// Where a listing resumes, from its `page_token`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListToken {
    /// A paged listing in store order.
    Store(PageCursor),
    /// An unpaged (newest-first) listing too large for one message.
    Newest(NewestCursor),
}

/// First byte of a newest-first token; store-order tokens start with a
/// record kind's byte (`A`, `D`, `C`).
const NEWEST_TAG: u8 = b'n';

/// The cursor inside a `page_token`; `None` for the first page.
pub fn page_token(token: &str) -> Result<Option<ListToken>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    if token.len() > 1024 {
        return Err(invalid("page_token", "too long"));
    }
    let foreign = || invalid("page_token", "not a token this node returned");
    let bytes = hex::decode(token).map_err(|_| foreign())?;
    match bytes.split_first() {
        Some((&NEWEST_TAG, rest)) => {
            let (at, prefix) = rest.split_at_checked(8).ok_or_else(foreign)?;
            let at: [u8; 8] = at.try_into().map_err(|_| foreign())?;
            Ok(Some(ListToken::Newest(NewestCursor {
                issued_at_unix_ms: i64::from_be_bytes(at),
                prefix: prefix.to_vec(),
            })))
        }
        _ => Ok(Some(ListToken::Store(PageCursor(bytes)))),
    }
}

/// The `next_page_token` of a listing that resumes at `token`.
pub fn next_page_token(token: &ListToken) -> String {
    match token {
        ListToken::Store(c) => hex::encode(&c.0),
        ListToken::Newest(c) => {
            let mut b = vec![NEWEST_TAG];
            b.extend_from_slice(&c.issued_at_unix_ms.to_be_bytes());
            b.extend_from_slice(&c.prefix);
            hex::encode(b)
        }
    }
}

pub fn filter(r: &pb::ListRecordsRequest) -> Result<RecordFilter, Error> {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Ok(RecordFilter {
        issuer: some(&r.issuer)
            .map(|i| jurisdiction("issuer", &i))
            .transpose()?,
        category: some(&r.category)
            .map(|c| {
                c.parse::<AlertCategory>()
                    .map_err(|e| invalid("category", e))
            })
            .transpose()?,
        severity: some(&r.severity)
            .map(|s| s.parse::<Severity>().map_err(|e| invalid("severity", e)))
            .transpose()?,
        since_unix_ms: opt_ms(r.since_unix_ms),
        active_only: r.active_only,
        limit: (r.limit != 0).then_some(r.limit as usize),
    })
}

fn alert_out(a: &RiskAlert) -> pb::RiskAlert {
    pb::RiskAlert {
        id: a.id.clone(),
        issuer: a.issuer.to_string(),
        category: a.category.to_string(),
        severity: a.severity.to_string(),
        subjects: Some(subjects_out(&a.subjects)),
        indicators: a.indicators.clone(),
        summary: a.summary.clone(),
        issued_at_unix_ms: a.issued_at_unix_ms,
        expires_at_unix_ms: a.expires_at_unix_ms.unwrap_or(0),
        handling: a.handling.clone(),
        version: a.version,
        state: a.state.to_string(),
        change_reason: a.change_reason.clone(),
    }
}

fn denial_out(d: &DenialNotice) -> pb::DenialNotice {
    pb::DenialNotice {
        id: d.id.clone(),
        issuer: d.issuer.to_string(),
        version: d.version,
        state: d.state.to_string(),
        party: Some(party_out(&d.party)),
        items: d
            .items
            .iter()
            .map(|i| pb::DeniedItem {
                code: i.code.clone(),
                description: i.description.clone(),
            })
            .collect(),
        destination: d.destination.clone(),
        end_use: d.end_use.clone(),
        reason: d.reason.clone(),
        decision_date_unix_ms: d.decision_date_unix_ms,
        valid_until_unix_ms: d.valid_until_unix_ms.unwrap_or(0),
        change_reason: d.change_reason.clone(),
    }
}

pub(super) fn delivery_out(recipient: &Jurisdiction, d: &DeliveryView) -> pb::Delivery {
    let (state, at, receipt_valid, duplicate) = match d {
        DeliveryView::Pending => ("pending", 0, false, false),
        DeliveryView::Delivered {
            at_unix_ms,
            receipt_valid,
            duplicate,
        } => ("delivered", *at_unix_ms, *receipt_valid, *duplicate),
        DeliveryView::Expired { at_unix_ms } => ("expired", *at_unix_ms, false, false),
    };
    pb::Delivery {
        recipient: recipient.to_string(),
        state: state.into(),
        at_unix_ms: at,
        receipt_valid,
        duplicate,
    }
}

pub fn record_view(v: &RecordView) -> pb::RecordView {
    let (signature_valid, signature_error) = match &v.signature {
        SignatureCheck::Valid => (true, String::new()),
        SignatureCheck::Invalid(e) => (false, e.clone()),
    };
    pb::RecordView {
        id: v.header.record_id.clone(),
        issuer: v.header.issuer.to_string(),
        version: v.header.version,
        seq: v.header.seq,
        recipients: v.header.recipients.iter().map(|r| r.to_string()).collect(),
        key_id: v.header.key_id.clone(),
        signature_valid,
        signature_error,
        digest_hex: hex::encode(v.digest),
        stored_at_unix_ms: v.stored_at_unix_ms,
        issued_at_unix_ms: v.header.issued_at_unix_ms,
        active: v.is_active(now_unix_ms()),
        standing: v.record.standing(now_unix_ms()).to_string(),
        record: match &v.record {
            Record::Alert(a) => Some(pb::record_view::Record::Alert(alert_out(a))),
            Record::Denial(d) => Some(pb::record_view::Record::Denial(denial_out(d))),
            // Shown by the consult service only; the exchange service never lists them.
            Record::Consultation(_) => None,
        },
        deliveries: v
            .deliveries
            .iter()
            .map(|(r, d)| delivery_out(r, d))
            .collect(),
    }
}
