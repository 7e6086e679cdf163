//! Task forces: the ones this node belongs to, and asking one a question.
//! The answer page is sent as it is written: this node's section first,
//! then each member's as it arrives, so a slow partner delays only its own
//! section (the same fan-out, deadlines and audit entry as the gRPC query).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::header;
use maud::{html, Markup, PreEscaped};
use tokio::sync::mpsc;

use crate::clock::now_unix_ms;
use crate::exchange::SignatureCheck;
use crate::policy::{self, TaskForceAction};
use crate::taskforce::{Query, Section as Answer, SectionOutcome, TaskForce};
use crate::web::door::{FormData, Person};
use crate::web::error::{PageError, PageResult};
use crate::web::fmt;
use crate::web::layout::{page, page_html, post_form, Section};
use crate::web::Console;

/// Where the streamed sections go in the answer page.
const SECTIONS: &str = "<!--concord:sections-->";

pub async fn list(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> PageResult {
    policy::authorize_taskforce(&person.caller, TaskForceAction::Read)?;
    let now = now_unix_ms();
    let forces = console.taskforces.list()?;
    let body = html! {
        @if forces.is_empty() { p.muted { "This node belongs to no task force." } } @else {
            table { thead { tr { th { "Task force" } th { "Members" } th { "Answers at" } th { "State" } th { "Ends" } } }
            tbody { @for tf in &forces {
                tr { td { a href={"/taskforces/" (tf.name)} { (tf.name) } }
                     td { (members(tf)) } td { (tf.level) } td { (tf.state(now).as_str()) }
                     td { (fmt::time(tf.ends_at_unix_ms)) } }
            } } }
        }
    };
    Ok(page(&person, Section::TaskForces, "Task forces", body))
}

fn members(tf: &TaskForce) -> String {
    tf.members
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn facts(tf: &TaskForce, now: i64) -> Markup {
    html! {
        table.facts { tbody {
            tr { th { "Mandate" } td { (tf.mandate) } }
            tr { th { "Members" } td { (members(tf)) } }
            tr { th { "This node answers at" } td { (tf.level) " level" } }
            tr { th { "State" } td #tf-state { (tf.state(now).as_str()) } }
            tr { th { "Ends" } td { (fmt::time(tf.ends_at_unix_ms)) } }
        } }
    }
}

fn ask_form(person: &Person, tf: &TaskForce, asked: &FormData) -> Markup {
    let kind = match asked.get("kind") {
        "" => "party",
        k => k,
    };
    post_form(
        person,
        &format!("/taskforces/{}/ask", tf.name),
        "box",
        html! {
            label for="kind" { "Question" }
            select #kind name="kind" {
                @for (value, label) in [("party", "Does anyone know this party?"), ("denials", "Denials matching"), ("alerts", "Alerts naming a subject")] {
                    option value=(value) selected[kind == value] { (label) }
                }
            }
            label for="name" { "Party name (party question; optional filter for denials)" }
            input #name type="text" name="name" value=(asked.get("name"));
            label for="destination" { "Destination (denials; ISO code)" }
            input #destination type="text" name="destination" value=(asked.get("destination"));
            label for="item" { "Item (denials; control-list code)" }
            input #item type="text" name="item" value=(asked.get("item"));
            label for="subject" { "Subject (alerts: a party, destination, item or shipment)" }
            input #subject type="text" name="subject" value=(asked.get("subject"));
            @if tf.blind_key.is_some() {
                label { input type="checkbox" name="blind" checked[asked.get("blind") == "on"]; " Ask blind (party questions: members see keyed hashes, never the name)" }
            }
            button #ask type="submit" { "Ask the task force" }
        },
    )
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Path(name): Path<String>,
) -> PageResult {
    policy::authorize_taskforce(&person.caller, TaskForceAction::Read)?;
    let tf = console.taskforces.get(&name)?;
    let may_ask = policy::authorize_taskforce(&person.caller, TaskForceAction::Query).is_ok();
    let body = html! {
        (facts(&tf, now_unix_ms()))
        @if may_ask { h2 { "Ask" } (ask_form(&person, &tf, &FormData::default())) }
    };
    Ok(page(
        &person,
        Section::TaskForces,
        &format!("Task force {}", tf.name),
        body,
    ))
}

/// The question a form asks; a question with nothing to ask is refused.
fn query(form: &FormData) -> Result<Query, PageError> {
    let opt = |k: &str| Some(form.get(k).to_owned()).filter(|v| !v.is_empty());
    let q = match form.get("kind") {
        "party" | "" => Query::Party {
            name: form.get("name").to_owned(),
        },
        "denials" => Query::Denials {
            party: opt("name"),
            destination: opt("destination").map(|d| d.to_uppercase()),
            item: opt("item"),
        },
        "alerts" => Query::Alerts {
            subject: form.get("subject").to_owned(),
        },
        other => {
            return Err(PageError::bad_request(format!(
                "question: {other:?} is not one of party, denials, alerts"
            )))
        }
    };
    Ok(q)
}

pub async fn ask(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    let who = policy::allowed(person.caller.clone(), TaskForceAction::Query)?;
    if console.query_limit.check_key(&who).is_err() {
        console.metrics.rate_limited();
        tracing::warn!(caller = %who, "web: task-force query limit reached");
        return Err(crate::error::Error::ResourceExhausted(format!(
            "task-force query limit: {who} is asking faster than this node allows; retry later"
        ))
        .into());
    }
    let tf = console.taskforces.get(&name)?;
    let question = query(&form)?;
    let blind = form.get("blind") == "on";

    let (tx, mut sections) = mpsc::unbounded_channel();
    let taskforces = console.taskforces.clone();
    let (asker, tf_name) = (who.clone(), tf.name.clone());
    let mut asking = tokio::spawn(crate::audit::via("web", async move {
        taskforces
            .query_with_progress(&asker, &tf_name, question, blind, Some(tx))
            .await
    }));
    // Nothing is sent until this node has answered: a question refused
    // (not a member, a closed task force, a bad field) is an error page.
    let first = match sections.recv().await {
        Some(first) => first,
        None => {
            let outcome = (&mut asking)
                .await
                .map_err(|e| crate::error::Error::Internal(format!("task-force query: {e}")))?;
            outcome?;
            return Err(
                crate::error::Error::Internal("task-force query answered nothing".into()).into(),
            );
        }
    };

    let asked = html! {
        (facts(&tf, now_unix_ms()))
        h2 { "Ask again" }
        (ask_form(&person, &tf, &form))
        h2 { "Answers" }
        div #answers { (PreEscaped(SECTIONS)) }
    };
    let whole = page_html(
        &person,
        Section::TaskForces,
        &format!("Task force {}", tf.name),
        asked,
    );
    let (head, tail) = whole.split_once(SECTIONS).map_or_else(
        || (whole.clone(), String::new()),
        |(h, t)| (h.to_owned(), t.to_owned()),
    );
    let (out, body) = mpsc::channel::<Result<String, Infallible>>(8);
    tokio::spawn(async move {
        let _ = out.send(Ok(head)).await;
        let _ = out.send(Ok(section(&first).into_string())).await;
        while let Some(s) = sections.recv().await {
            if out.send(Ok(section(&s).into_string())).await.is_err() {
                // The browser left; the query still finishes and is audited.
                break;
            }
        }
        let end = match asking.await {
            Ok(Ok(outcome)) => html! {
                p #answers-complete { "All " (outcome.sections.len()) " members' sections are in; the question is in the audit trail." }
            },
            Ok(Err(e)) => {
                html! { p.error #answers-complete { "The query did not complete: " (e) } }
            }
            Err(e) => html! { p.error #answers-complete { "The query did not complete: " (e) } },
        };
        let _ = out.send(Ok(end.into_string())).await;
        let _ = out.send(Ok(tail)).await;
    });
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(body)),
    )
        .into_response())
}

/// One member's section of an answer.
fn section(s: &Answer) -> Markup {
    let j = s.jurisdiction.as_str();
    html! {
        section.answer id={"answer-" (j)} {
            h3 { (j) " " span.muted { "(" (s.elapsed.as_millis()) " ms)" } }
            @match &s.outcome {
                SectionOutcome::Unreachable(why) => p.warn { "Unreachable: " (why) },
                SectionOutcome::TimedOut(d) => p.warn { "No answer within " (d.as_secs_f32()) " s." },
                SectionOutcome::Refused(why) => p.warn { "Refused: " (why) },
                SectionOutcome::Answered(a) => {
                    @match &a.signature {
                        SignatureCheck::Valid => p.ok { "Signed answer, verified." },
                        SignatureCheck::Invalid(why) => p.error { "Signature does not verify (" (why) "): the answer is not shown." },
                    }
                    @if let Some(body) = &a.body {
                        @if !body.hit { p.outcome { "No hit." } }
                        @else if body.entries.is_empty() {
                            p.outcome { "Hit. Reference " code { (body.reference.clone().unwrap_or_default()) } " — ask for details by reference."
                                @if !body.in_force { " Nothing of what matched is in force." } }
                        } @else {
                            table { thead { tr { th { "Reference" } th { "Kind" } th { "Issuer" } th { "Version" } th { "Standing" } th { "Date" } th { "Category" } th { "Score" } th { "Record" } } }
                            tbody { @for (i, e) in body.entries.iter().enumerate() {
                                tr { td { code { (e.reference) } } td { (e.kind.as_str()) } td { (e.issuer) } td { (e.version) } td.standing { (e.standing.as_str().replace('-', " ")) } td { (fmt::time(e.date_unix_ms)) }
                                     td { (e.category) } td { (format!("{:.2}", e.score)) }
                                     td { @match a.records.get(i) {
                                         Some(Some(Ok(v))) => (v.header.record_id),
                                         Some(Some(Err(why))) => span.error { "does not verify: " (why) },
                                         _ => span.muted { "by reference" },
                                     } } }
                            } } }
                            @if body.truncated { p.muted { "More matched than one answer carries." } }
                        }
                    }
                }
            }
        }
    }
}
