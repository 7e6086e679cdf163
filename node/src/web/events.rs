//! Live updates by server-sent events: each record newly stored on the
//! node (raised here or received from a peer) that the person may read
//! becomes one event; `console.js` adds it to the page's live table.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tokio::sync::broadcast::error::RecvError;

use super::door::Person;
use super::Console;
use crate::exchange::{Record, RecordView};
use crate::policy::{self, ConsultAction, ExchangeAction};

/// Events waiting for a slow browser before its stream is ended (it
/// reconnects, and the page it reloads is current).
const BUFFER: usize = 64;

pub async fn stream(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> Response {
    let mut stored = console.exchange.watch();
    let stopping = crate::shutdown::requested(console.stopping.clone());
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(BUFFER);
    let revocations = console.revocations.clone();
    tokio::spawn(async move {
        tokio::pin!(stopping);
        loop {
            let view = tokio::select! {
                v = stored.recv() => v,
                _ = &mut stopping => return,
                _ = tx.closed() => return,
            };
            let view = match view {
                Ok(v) => v,
                // Too slow: end the stream; the browser reconnects.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
            };
            // A certificate revoked while its page is open gets no more.
            if revocations
                .blocking(&person.caller, &person.cert_sha256)
                .is_some()
            {
                return;
            }
            let Some(event) = event_for(&person, &view) else {
                continue;
            };
            if tx.try_send(Ok(event)).is_err() {
                return;
            }
        }
    });
    Sse::new(tokio_stream::wrappers::ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The event announcing `view` to `person`, if they may read it.
fn event_for(person: &Person, view: &RecordView) -> Option<Event> {
    let c = &person.caller;
    let (kind, href, cells) = match &view.record {
        Record::Alert(a) => {
            policy::authorize_exchange(c, ExchangeAction::Read).ok()?;
            (
                "alert",
                format!("/alerts/{}", a.id),
                vec![
                    a.issuer.to_string(),
                    a.severity.to_string(),
                    a.category.to_string(),
                    a.summary.chars().take(160).collect::<String>(),
                    super::fmt::time(a.issued_at_unix_ms),
                    view.record
                        .standing(crate::clock::now_unix_ms())
                        .as_str()
                        .replace('-', " "),
                ],
            )
        }
        Record::Denial(d) => {
            policy::authorize_exchange(c, ExchangeAction::Read).ok()?;
            (
                "denial",
                format!("/denials/{}", d.id),
                vec![
                    d.issuer.to_string(),
                    d.state.to_string(),
                    d.party.name.clone(),
                    d.destination.clone(),
                ],
            )
        }
        Record::Consultation(k) => {
            policy::authorize_consult(c, ConsultAction::Read).ok()?;
            use crate::exchange::consultation::ConsultationBody;
            let (thread, what) = match &k.body {
                ConsultationBody::Request(r) | ConsultationBody::TimedRequest(r, _) => {
                    (k.id.clone(), format!("{} request: {}", r.kind, r.subject))
                }
                ConsultationBody::Response(r) => {
                    (r.in_reply_to.clone(), format!("answer: {}", r.position))
                }
                ConsultationBody::Grant(g) => (
                    k.id.clone(),
                    format!("granted despite denial {}", g.denial.id),
                ),
                ConsultationBody::LicenceNotice(n) => (
                    k.id.clone(),
                    format!("licence {} shared for recognition", n.license_id),
                ),
                ConsultationBody::LicenceWithdrawal(w) => (
                    w.notice_id.clone(),
                    format!("licence notice withdrawn ({})", w.reason),
                ),
                ConsultationBody::Withdrawal(w) => (
                    w.request_id.clone(),
                    "withdrawn by the requester".to_owned(),
                ),
                ConsultationBody::Extension(e) => (
                    e.in_reply_to.clone(),
                    format!("deadline extended to {} working days", e.working_days),
                ),
            };
            (
                "consultation",
                format!("/consultations/{thread}"),
                vec![k.issuer.to_string(), what],
            )
        }
    };
    let id = view_id(view);
    let data = serde_json::json!({ "id": id, "href": href, "cells": cells });
    Some(Event::default().event(kind).data(data.to_string()))
}

fn view_id(view: &RecordView) -> String {
    match &view.record {
        Record::Alert(a) => a.id.clone(),
        Record::Denial(d) => d.id.clone(),
        Record::Consultation(k) => k.id.clone(),
    }
}
