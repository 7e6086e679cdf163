//! Consultations: the inbox (threads newest first) and a thread with every
//! request and answer; officers and analysts answer those addressed here.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Extension;
use maud::html;

use super::see_other;
use crate::consult::{consultation, ThreadFilter};
use crate::exchange::consultation::Position;
use crate::policy::{self, ConsultAction};
use crate::web::door::{FormData, Person};
use crate::web::error::{PageError, PageResult};
use crate::web::fmt;
use crate::web::layout::{page, post_form, Section};
use crate::web::Console;

pub async fn list(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> PageResult {
    policy::authorize_consult(&person.caller, ConsultAction::Read)?;
    let threads = console.consult.list(&ThreadFilter {
        limit: Some(200),
        ..Default::default()
    })?;
    let body = html! {
        table #live-consultation { thead { tr { th { "Consultation" } th { "From" } th { "Kind" } th { "Subject" } th { "Status" } th { "Asked" } } }
        tbody {
            @if threads.is_empty() { tr #live-consultation-empty { td colspan="6" { "No consultations." } } }
            @for t in &threads {
                tr { td { a href={"/consultations/" (t.id())} { (t.id()) } } td { (t.request.header.issuer) }
                     td { @if let Some(k) = t.kind() { (k) } } td { @if let Some(r) = t.asked() { (r.subject) } }
                     td { (format!("{:?}", t.status())) } td { (fmt::time(t.request.header.issued_at_unix_ms)) } }
            }
        } }
    };
    Ok(page(&person, Section::Consultations, "Consultations", body))
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Path(id): Path<String>,
) -> PageResult {
    policy::authorize_consult(&person.caller, ConsultAction::Read)?;
    let t = console.consult.show(&id)?;
    let asked = t.asked();
    let may_answer = t.request.header.issuer != console.own
        && policy::authorize_consult(&person.caller, ConsultAction::Respond).is_ok();
    let body = html! {
        @if let Some(r) = asked {
            table.facts { tbody {
                tr { th { "From" } td { (t.request.header.issuer) } }
                tr { th { "Kind" } td { (r.kind) } }
                tr { th { "Subject" } td { (r.subject) } }
                tr { th { "Text" } td { (r.text) } }
                @if let Some(d) = &r.denial { tr { th { "About denial" } td { a href={"/denials/" (d.id)} { (d.id) } " v" (d.version) } } }
                @if let Some(i) = &r.intended { tr { th { "Intended decision" } td { (i.license_id) ": " (i.items.join(", ")) " to " (i.destination) } } }
                tr { th { "Asked" } td { (fmt::time(t.request.header.issued_at_unix_ms)) } }
            } }
        }
        h2 { "Answers" }
        table #live-consultation { thead { tr { th { "Answer" } th { "From" } th { "Position" } th { "Text" } th { "When" } } }
        tbody {
            @if t.responses.is_empty() { tr #live-consultation-empty { td colspan="5" { "No answer yet." } } }
            @for v in &t.responses { @if let Some(r) = consultation(v).and_then(|c| c.response()) {
                tr { td { (v.header.record_id) } td { (v.header.issuer) } td { (r.position) } td { (r.text) } td { (fmt::time(v.header.issued_at_unix_ms)) } }
            } }
        } }
        @if may_answer {
            (post_form(&person, &format!("/consultations/{id}/respond"), "box", html! {
                label for="position" { "Position" }
                select #position name="position" { @for p in Position::ALL { option value=(p.as_str()) { (p.as_str()) } } }
                label for="text" { "Answer" } textarea #text name="text" required {}
                button type="submit" { "Sign and send the answer" }
            }))
        }
    };
    Ok(page(
        &person,
        Section::Consultations,
        &format!("Consultation {id}"),
        body,
    ))
}

pub async fn respond(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), ConsultAction::Respond)?;
    let position: Position = form
        .get("position")
        .parse()
        .map_err(|e| PageError::bad_request(format!("position: {e}")))?;
    console
        .consult
        .respond(&who, &id, position, form.get("text").to_owned())
        .await?;
    Ok(see_other(&format!("/consultations/{id}")))
}
