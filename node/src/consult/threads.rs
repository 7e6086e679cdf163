//! Reading consultations back: each request with the responses to it.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::exchange::consultation::{Consultation, ConsultationKind};
use crate::exchange::envelope::issuer_of_id;
use crate::exchange::{Exchange, Record, RecordFilter, RecordKind, RecordView, SignatureCheck};
use crate::identity::Jurisdiction;
use crate::kebab::kebab_enum;

kebab_enum!(
    /// Where a consultation stands, as this node sees it.
    ThreadStatus {
        Open = "open",
        MoreInfo = "more-info",
        Answered = "answered",
        Withdrawn = "withdrawn",
    }
);

/// A request and the responses this node holds, oldest first. Every view
/// was re-verified when read.
#[derive(Clone, Debug)]
pub struct Thread {
    pub request: RecordView,
    pub responses: Vec<RecordView>,
}

/// The consultation inside a view, if it holds one.
pub fn consultation(view: &RecordView) -> Option<&Consultation> {
    match &view.record {
        Record::Consultation(c) => Some(c),
        _ => None,
    }
}

impl Thread {
    pub fn id(&self) -> &str {
        &self.request.header.record_id
    }

    /// The request (a thread is only built around one).
    pub fn asked(&self) -> Option<&crate::exchange::consultation::ConsultationRequest> {
        consultation(&self.request).and_then(Consultation::request)
    }

    pub fn kind(&self) -> Option<ConsultationKind> {
        self.asked().map(|r| r.kind)
    }

    /// Responses whose signature verifies now and that answer the request.
    pub fn answers(&self) -> impl Iterator<Item = &RecordView> {
        self.responses.iter().filter(|v| {
            v.signature == SignatureCheck::Valid
                && consultation(v)
                    .and_then(Consultation::response)
                    .is_some_and(|r| r.position.is_answer())
        })
    }

    /// When the request wants its answer (as its one extension set it);
    /// None for requests from before deadlines.
    pub fn deadline(&self) -> Option<i64> {
        let signed = consultation(&self.request).and_then(Consultation::deadline)?;
        Some(
            self.extension()
                .filter(|e| {
                    e.answer_by_unix_ms > signed.answer_by_unix_ms
                        && e.answer_by_unix_ms <= signed.extend_until_unix_ms
                })
                .map_or(signed.answer_by_unix_ms, |e| e.answer_by_unix_ms),
        )
    }

    /// The first extension that verifies, from a jurisdiction asked.
    pub fn extension(&self) -> Option<&crate::exchange::consultation::ConsultationExtension> {
        self.responses
            .iter()
            .filter(|v| v.signature == SignatureCheck::Valid)
            .find_map(|v| consultation(v).and_then(Consultation::extension))
    }

    /// Past its deadline without an answer (a withdrawn request waits for none).
    pub fn overdue(&self, now_unix_ms: i64) -> bool {
        self.deadline().is_some_and(|d| now_unix_ms >= d)
            && self.answers().next().is_none()
            && !self.withdrawn()
    }

    /// The requester withdrew it (a withdrawal that verifies, by the requester).
    pub fn withdrawn(&self) -> bool {
        self.responses.iter().any(|v| {
            v.signature == SignatureCheck::Valid
                && v.header.issuer == self.request.header.issuer
                && consultation(v).and_then(Consultation::withdrawal).is_some()
        })
    }

    pub fn status(&self) -> ThreadStatus {
        let replied = self
            .responses
            .iter()
            .any(|v| consultation(v).and_then(Consultation::response).is_some());
        if self.withdrawn() {
            ThreadStatus::Withdrawn
        } else if self.answers().next().is_some() {
            ThreadStatus::Answered
        } else if !replied {
            ThreadStatus::Open
        } else {
            ThreadStatus::MoreInfo
        }
    }
}

/// What to list; `None` matches everything.
#[derive(Clone, Debug, Default)]
pub struct ThreadFilter {
    /// Requests about this (own) license.
    pub license: Option<String>,
    /// Requests about this denial.
    pub denial: Option<String>,
    pub status: Option<ThreadStatus>,
    pub limit: Option<usize>,
}

impl ThreadFilter {
    fn admits(&self, t: &Thread) -> bool {
        let asked = t.asked();
        let license = asked
            .and_then(|r| r.intended.as_ref())
            .map(|i| &i.license_id);
        let denial = asked.and_then(|r| r.denial.as_ref()).map(|d| &d.id);
        self.license.as_ref().is_none_or(|l| license == Some(l))
            && self.denial.as_ref().is_none_or(|d| denial == Some(d))
            && self.status.is_none_or(|s| s == t.status())
    }
}

/// Every consultation this node holds, newest request first.
pub fn threads(exchange: &Exchange) -> Result<Vec<Thread>> {
    let filter = RecordFilter::default();
    // Keyed by (issuer, id): an id is only ever looked up with its issuer.
    let mut requests: BTreeMap<(Jurisdiction, String), Thread> = BTreeMap::new();
    let mut responses: Vec<RecordView> = Vec::new();
    for view in exchange.list(RecordKind::Consultation, &filter)? {
        match consultation(&view).map(|c| c.request().is_some()) {
            Some(true) => {
                requests.insert(
                    (view.header.issuer.clone(), view.header.record_id.clone()),
                    Thread {
                        request: view,
                        responses: Vec::new(),
                    },
                );
            }
            Some(false) => responses.push(view),
            None => {}
        }
    }
    for view in responses {
        let Some((issuer, id)) = consultation(&view).and_then(Consultation::reply_to) else {
            continue;
        };
        // A response without its request held here cannot be shown in context.
        let key = (issuer.clone(), id.to_owned());
        let Some(thread) = requests.get_mut(&key) else {
            continue;
        };
        // Only the jurisdictions asked answer; anything else is not part of the thread.
        let asked = &thread.request.header;
        let by_requester = view.header.issuer == asked.issuer;
        if asked.issuer == key.0
            && (by_requester || crate::policy::may_receive(&asked.recipients, &view.header.issuer))
        {
            thread.responses.push(view);
        }
    }
    let mut out: Vec<Thread> = requests.into_values().collect();
    for t in &mut out {
        t.responses.sort_by_key(|v| v.header.issued_at_unix_ms);
    }
    out.sort_by_key(|t| std::cmp::Reverse(t.request.header.issued_at_unix_ms));
    Ok(out)
}

/// The threads `filter` admits.
pub fn list(exchange: &Exchange, filter: &ThreadFilter) -> Result<Vec<Thread>> {
    let mut out: Vec<Thread> = threads(exchange)?
        .into_iter()
        .filter(|t| filter.admits(t))
        .collect();
    if let Some(limit) = filter.limit {
        out.truncate(limit);
    }
    Ok(out)
}

/// The thread of a request or response id.
pub fn show(exchange: &Exchange, id: &str) -> Result<Thread> {
    let issuer = issuer_of_id(RecordKind::Consultation, id).ok_or_else(|| {
        Error::InvalidArgument(format!("{id:?} is not a consultation id (e.g. DE-C-4)"))
    })?;
    let is = |v: &RecordView| v.header.issuer == issuer && v.header.record_id == id;
    threads(exchange)?
        .into_iter()
        .find(|t| is(&t.request) || t.responses.iter().any(is))
        .ok_or_else(|| Error::NotFound(format!("no consultation {id} held on this node")))
}
