//! Audit (admins): whether the trail verifies now, its checkpoints, and
//! what each peer witnessed of it.

use std::sync::Arc;

use axum::extract::State;
use axum::Extension;
use maud::html;

use crate::identity::Role;
use crate::web::door::Person;
use crate::web::error::{PageError, PageResult};
use crate::web::fmt;
use crate::web::layout::{page, Section};
use crate::web::Console;

pub async fn show(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> PageResult {
    if person.caller.role != Role::Admin {
        return Err(PageError {
            status: http::StatusCode::FORBIDDEN,
            message: format!("the audit page is for admins; {} is not one", person.caller),
        });
    }
    let audit = console.audit.clone();
    let verified = tokio::task::spawn_blocking(move || audit.verify().map_err(|b| b.to_string()))
        .await
        .map_err(|e| PageError::from(crate::error::Error::Internal(e.to_string())))?;
    let checkpoints = console.audit.checkpoints()?;
    let peers: Vec<String> = console
        .peers
        .current()
        .keys()
        .map(|j| j.to_string())
        .collect();
    let body = html! {
        p #verification { @match &verified {
            Ok(v) => { span.good { "The trail verifies" } ": " (v.entries) " entries, " (v.checkpoints) " checkpoints." }
            Err(why) => { span.bad { "The trail is BROKEN: " (why) } }
        } }
        h2 { "Latest checkpoints" }
        table { thead { tr { th { "Entries" } th { "Signed" } } }
        tbody { @for c in checkpoints.iter().rev().take(10) { tr { td { (c.count) } td { (fmt::time(c.at_unix_ms)) } } } } }
        h2 { "Witnesses" }
        @if peers.is_empty() { p.muted { "No peers: nobody witnesses this trail." } }
        @else { p { "Peers holding this node's checkpoints: " (peers.join(", ")) ". " code { "concord audit verify --with-witnesses" } " asks them." } }
    };
    Ok(page(&person, Section::Audit, "Audit", body))
}
