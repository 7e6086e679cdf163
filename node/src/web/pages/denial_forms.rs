//! Issuing and amending a denial from the console (officers): the same
//! `Exchange` calls, signatures, distribution and audit entries as
//! `concord denial issue` and `concord denial amend`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::Extension;
use maud::{html, Markup};

use super::see_other;
use crate::exchange::records::{DeniedItem, Party};
use crate::exchange::{DenialChange, DenialDraft, Distribution, Record, RecordKind};
use crate::policy::{self, ExchangeAction};
use crate::web::door::{FormData, Person};
use crate::web::error::{PageError, PageResult};
use crate::web::layout::{page, post_form, Section};
use crate::web::Console;

fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// `code | description` per line.
fn items(text: &str) -> Vec<DeniedItem> {
    lines(text)
        .map(|l| {
            let (code, description) = l.split_once('|').unwrap_or((l, ""));
            DeniedItem {
                code: code.trim().to_owned(),
                description: description.trim().to_owned(),
            }
        })
        .collect()
}

fn items_text(items: &[DeniedItem]) -> String {
    items
        .iter()
        .map(|i| format!("{} | {}", i.code, i.description))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A number of days as a validity; empty is none.
fn valid_for(form: &FormData) -> Result<Option<Duration>, PageError> {
    match form.get("valid_days") {
        "" => Ok(None),
        d => d
            .parse::<u64>()
            .ok()
            .filter(|d| *d > 0)
            .map(|d| Some(Duration::from_secs(d.saturating_mul(86_400))))
            .ok_or_else(|| {
                PageError::bad_request(format!("valid for: {d:?} is not a number of days"))
            }),
    }
}

fn party(form: &FormData) -> Party {
    Party {
        name: form.get("party_name").to_owned(),
        aliases: lines(form.get("aliases")).map(str::to_owned).collect(),
        country: form.get("country").to_uppercase(),
        address: form.get("address").to_owned(),
    }
}

fn party_fields(p: Option<&Party>) -> Markup {
    let aliases = p.map_or(String::new(), |p| p.aliases.join("\n"));
    html! {
        label for="party_name" { "Denied party" }
        input #party_name type="text" name="party_name" required value=(p.map_or("", |p| p.name.as_str()));
        label for="aliases" { "Aliases (one per line)" }
        textarea #aliases name="aliases" { (aliases) }
        label for="country" { "Party's country (ISO code)" }
        input #country type="text" name="country" value=(p.map_or("", |p| p.country.as_str()));
        label for="address" { "Address" }
        input #address type="text" name="address" value=(p.map_or("", |p| p.address.as_str()));
    }
}

pub async fn new_denial(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> PageResult {
    policy::authorize_exchange(&person.caller, ExchangeAction::IssueDenial)?;
    let recipients = super::alerts::recipients(&console, "the denial stays here")?;
    let body = post_form(
        &person,
        "/denials",
        "box",
        html! {
            (party_fields(None))
            label for="items" { "Denied items (one per line: code | description)" }
            textarea #items name="items" required {}
            label for="destination" { "Destination (ISO code)" }
            input #destination type="text" name="destination" required;
            label for="end_use" { "Stated end use" }
            textarea #end_use name="end_use" {}
            label for="reason" { "Grounds for the denial" }
            textarea #reason name="reason" required {}
            label for="valid_days" { "Valid for (days; empty: until revoked)" }
            input #valid_days type="number" min="1" name="valid_days";
            (recipients)
            button #issue type="submit" { "Issue and sign the denial" }
        },
    );
    Ok(page(&person, Section::Denials, "Issue a denial", body))
}

pub async fn issue(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), ExchangeAction::IssueDenial)?;
    let draft = DenialDraft {
        party: party(&form),
        items: items(form.get("items")),
        destination: form.get("destination").to_uppercase(),
        end_use: form.get("end_use").to_owned(),
        reason: form.get("reason").to_owned(),
        valid_for: valid_for(&form)?,
    };
    let to = form
        .all("to")
        .map(|j| {
            j.parse()
                .map_err(|e| PageError::bad_request(format!("recipient: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dist = Distribution {
        to,
        groups: form.all("group").map(str::to_owned).collect(),
    };
    let view = console.exchange.issue_denial(&who, draft, dist).await?;
    console.metrics.issued("denial");
    Ok(see_other(&format!("/denials/{}", view.header.record_id)))
}

/// The amend form on a denial's page, filled with its current version.
pub fn amend_form(person: &Person, d: &crate::exchange::records::DenialNotice) -> Markup {
    post_form(
        person,
        &format!("/denials/{}/amend", d.id),
        "box",
        html! {
            (party_fields(Some(&d.party)))
            label for="items" { "Denied items (one per line: code | description)" }
            textarea #items name="items" required { (items_text(&d.items)) }
            label for="destination" { "Destination (ISO code)" }
            input #destination type="text" name="destination" required value=(d.destination);
            label for="end_use" { "Stated end use" }
            textarea #end_use name="end_use" { (d.end_use) }
            label for="amend_reason" { "Grounds for the denial" }
            textarea #amend_reason name="reason" required { (d.reason) }
            label for="valid_days" { "Valid for (days from now; empty: unchanged)" }
            input #valid_days type="number" min="1" name="valid_days";
            label for="change_reason" { "Why it is amended" }
            textarea #change_reason name="change_reason" required {}
            button #amend type="submit" { "Sign the amended version" }
        },
    )
}

pub async fn amend(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), ExchangeAction::IssueDenial)?;
    let history = console.exchange.history(RecordKind::Denial, &id)?;
    let Some(Record::Denial(d)) = history.last().map(|v| &v.record) else {
        return Err(
            crate::error::Error::NotFound(format!("no denial {id} held on this node")).into(),
        );
    };
    // The form shows every field; only those changed go into the version.
    let posted = party(&form);
    let new_items = items(form.get("items"));
    let changed = |now: &str, posted: &str| (now != posted).then(|| posted.to_owned());
    let change = DenialChange {
        party: (posted != d.party).then_some(posted),
        items: (new_items != d.items).then_some(new_items),
        destination: changed(&d.destination, &form.get("destination").to_uppercase()),
        end_use: changed(&d.end_use, form.get("end_use")),
        reason: changed(&d.reason, form.get("reason")),
        valid_for: valid_for(&form)?,
        change_reason: form.get("change_reason").to_owned(),
    };
    console.exchange.amend_denial(&who, &id, change).await?;
    console.metrics.issued("denial");
    Ok(see_other(&format!("/denials/{id}")))
}
