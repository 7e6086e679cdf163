//! Alerts and denials: filterable, paged lists (newest first); a record
//! page with its signature state, versions, recipients and per-recipient
//! delivery; raising an alert (analysts) and revoking a denial (officers;
//! issuing and amending one is `denial_forms`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Extension;
use maud::{html, Markup};

use super::see_other;
use crate::exchange::records::{AlertCategory, Party, Severity, Subjects};
use crate::exchange::{
    AlertDraft, DeliveryView, Distribution, NewestCursor, Record, RecordFilter, RecordKind,
    RecordView, SignatureCheck,
};
use crate::policy::{self, ExchangeAction};
use crate::web::door::{FormData, Person};
use crate::web::error::{PageError, PageResult};
use crate::web::fmt;
use crate::web::layout::{page, post_form, Section};
use crate::web::Console;

/// Records per page.
pub const PAGE: usize = 50;

/// A page token: where the newest-first listing resumes, as hex.
fn token(c: &NewestCursor) -> String {
    let mut bytes = c.issued_at_unix_ms.to_be_bytes().to_vec();
    bytes.extend_from_slice(&c.prefix);
    hex::encode(bytes)
}

fn cursor(token: &str) -> Result<Option<NewestCursor>, PageError> {
    if token.is_empty() {
        return Ok(None);
    }
    let bytes = hex::decode(token).map_err(|_| PageError::bad_request("page: not a page token"))?;
    if bytes.len() < 9 {
        return Err(PageError::bad_request("page: not a page token"));
    }
    let (at, prefix) = bytes.split_at(8);
    let mut t = [0u8; 8];
    t.copy_from_slice(at);
    Ok(Some(NewestCursor {
        issued_at_unix_ms: i64::from_be_bytes(t),
        prefix: prefix.to_vec(),
    }))
}

/// The list filter a query string names; unknown values are refused.
fn filter(q: &HashMap<String, String>) -> Result<RecordFilter, PageError> {
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let bad = |e: String| PageError::bad_request(e);
    Ok(RecordFilter {
        issuer: get("issuer")
            .map(|v| v.to_uppercase().parse())
            .transpose()
            .map_err(|e: crate::identity::IdentityError| bad(format!("issuer: {e}")))?,
        category: get("category")
            .map(str::parse)
            .transpose()
            .map_err(|e| bad(format!("category: {e}")))?,
        severity: get("severity")
            .map(str::parse)
            .transpose()
            .map_err(|e| bad(format!("severity: {e}")))?,
        since_unix_ms: None,
        active_only: get("active") == Some("on"),
        limit: Some(PAGE + 1),
    })
}

fn listing(
    console: &Console,
    kind: RecordKind,
    q: &HashMap<String, String>,
) -> Result<(Vec<RecordView>, Option<String>), PageError> {
    let f = filter(q)?;
    let after = cursor(q.get("page").map_or("", |s| s.as_str()))?;
    let mut views = console.exchange.list_newest(kind, &f, after.as_ref())?;
    let next = (views.len() > PAGE).then(|| {
        views.truncate(PAGE);
        views.last().map(|v| token(&NewestCursor::of(v)))
    });
    Ok((views, next.flatten()))
}

fn next_link(q: &HashMap<String, String>, base: &str, next: Option<String>) -> Markup {
    let Some(next) = next else {
        return html! {};
    };
    let mut params: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "page")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    params.sort();
    params.push(("page".into(), next));
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    html! { nav.pager { a #next-page href={(base) "?" (query)} { "Older →" } } }
}

fn filters(q: &HashMap<String, String>, alerts: bool) -> Markup {
    let v = |k: &str| q.get(k).cloned().unwrap_or_default();
    html! {
        form.box method="get" {
            label for="issuer" { "Issuer" } input #issuer type="text" name="issuer" value=(v("issuer"));
            @if alerts {
                label for="severity" { "Severity" }
                select #severity name="severity" { option value="" { "any" }
                    @for s in Severity::ALL { option value=(s.as_str()) selected[v("severity") == s.as_str()] { (s.as_str()) } } }
                label for="category" { "Category" }
                select #category name="category" { option value="" { "any" }
                    @for c in AlertCategory::ALL { option value=(c.as_str()) selected[v("category") == c.as_str()] { (c.as_str()) } } }
            }
            label { input type="checkbox" name="active" checked[v("active") == "on"]; " in force only" }
            button type="submit" { "Filter" }
        }
    }
}

pub async fn list_alerts(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    policy::authorize_exchange(&person.caller, ExchangeAction::Read)?;
    let (views, next) = listing(&console, RecordKind::Alert, &q)?;
    let may_raise = policy::authorize_exchange(&person.caller, ExchangeAction::RaiseAlert).is_ok();
    let body = html! {
        @if may_raise { p { a #raise-alert href="/alerts/new" { "Raise an alert" } } }
        (filters(&q, true))
        table #live-alert { thead { tr { th { "Alert" } th { "Issuer" } th { "Severity" } th { "Category" } th { "Summary" } th { "Issued" } th { "State" } } }
        tbody {
            @if views.is_empty() { tr #live-alert-empty { td colspan="7" { "No alerts match." } } }
            @for v in &views { @if let Record::Alert(a) = &v.record {
                tr { td { a href={"/alerts/" (a.id)} { (a.id) } } td { (a.issuer) } td { (a.severity) } td { (a.category) }
                     td { (a.summary) } td { (fmt::time(a.issued_at_unix_ms)) } td { (state(v)) } }
            } }
        } }
        (next_link(&q, "/alerts", next))
    };
    Ok(page(&person, Section::Alerts, "Alerts", body))
}

pub async fn list_denials(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    policy::authorize_exchange(&person.caller, ExchangeAction::Read)?;
    let (views, next) = listing(&console, RecordKind::Denial, &q)?;
    let may_issue = policy::authorize_exchange(&person.caller, ExchangeAction::IssueDenial).is_ok();
    let body = html! {
        @if may_issue { p { a #issue-denial href="/denials/new" { "Issue a denial" } } }
        (filters(&q, false))
        table #live-denial { thead { tr { th { "Denial" } th { "Issuer" } th { "State" } th { "Party" } th { "Destination" } th { "Version" } } }
        tbody {
            @if views.is_empty() { tr #live-denial-empty { td colspan="6" { "No denials match." } } }
            @for v in &views { @if let Record::Denial(d) = &v.record {
                tr { td { a href={"/denials/" (d.id)} { (d.id) } } td { (d.issuer) } td { (state(v)) }
                     td { (d.party.name) } td { (d.destination) } td { (d.version) } }
            } }
        } }
        (next_link(&q, "/denials", next))
    };
    Ok(page(&person, Section::Denials, "Denials", body))
}

/// A record's standing as lists show it: in force, expired, revoked, withdrawn.
pub(crate) fn state(v: &RecordView) -> String {
    v.record
        .standing(crate::clock::now_unix_ms())
        .as_str()
        .replace('-', " ")
}

fn signature(v: &RecordView) -> Markup {
    match &v.signature {
        SignatureCheck::Valid => {
            html! { span.good { "valid (" (v.header.issuer) ", key " (v.header.key_id) ")" } }
        }
        SignatureCheck::Invalid(why) => html! { span.bad { "INVALID: " (why) } },
    }
}

fn deliveries(v: &RecordView) -> Markup {
    html! {
        h2 { "Recipients" }
        @if v.header.recipients.is_empty() { p.muted { "Nobody outside this jurisdiction." } }
        @else if v.deliveries.is_empty() { p { (v.header.recipients.iter().map(|j| j.to_string()).collect::<Vec<_>>().join(", ")) } }
        @else {
            table #deliveries { thead { tr { th { "Recipient" } th { "Delivery" } } }
            tbody { @for (j, d) in &v.deliveries {
                tr { td { (j) } td { @match d {
                    DeliveryView::Pending => "pending",
                    DeliveryView::Delivered { at_unix_ms, receipt_valid, duplicate } => {
                        "delivered " (fmt::time(*at_unix_ms))
                        @if *receipt_valid { ", receipt verified" } @else { span.bad { ", receipt INVALID" } }
                        @if *duplicate { " (already held)" }
                    }
                    DeliveryView::Expired { at_unix_ms } => { "expired undelivered " (fmt::time(*at_unix_ms)) }
                } } }
            } } }
        }
    }
}

fn versions(history: &[RecordView]) -> Markup {
    html! {
        h2 { "Versions" }
        table #versions { thead { tr { th { "Version" } th { "Issued" } th { "Signature" } th { "Digest" } } }
        tbody { @for v in history {
            tr { td { (v.header.version) } td { (fmt::time(v.header.issued_at_unix_ms)) } td { (signature(v)) }
                 td { code { (hex::encode(&v.digest[..8])) "…" } } }
        } } }
    }
}

pub async fn show_alert(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Path(id): Path<String>,
) -> PageResult {
    policy::authorize_exchange(&person.caller, ExchangeAction::Read)?;
    let history = console.exchange.history(RecordKind::Alert, &id)?;
    let Some(current) = history.last() else {
        return Err(
            crate::error::Error::NotFound(format!("no alert {id} held on this node")).into(),
        );
    };
    let Record::Alert(a) = &current.record else {
        return Err(
            crate::error::Error::NotFound(format!("no alert {id} held on this node")).into(),
        );
    };
    let may_change = a.issuer == console.own
        && a.state != crate::exchange::records::AlertState::Withdrawn
        && policy::authorize_exchange(&person.caller, ExchangeAction::RaiseAlert).is_ok();
    let body = html! {
        table.facts { tbody {
            tr { th { "State" } td #state { (state(current)) " (" (a.state) ", version " (a.version) ")" } }
            tr { th { "Signature" } td #signature { (signature(current)) } }
            tr { th { "Issuer" } td { (a.issuer) } }
            tr { th { "Category" } td { (a.category) } }
            tr { th { "Severity" } td { (a.severity) } }
            tr { th { "Summary" } td { (a.summary) } }
            tr { th { "Parties" } td { @for p in &a.subjects.parties { (p.name) @if !p.country.is_empty() { " (" (p.country) ")" } br; } } }
            tr { th { "Destinations" } td { (a.subjects.destinations.join(", ")) } }
            tr { th { "Items" } td { (a.subjects.items.join(", ")) } }
            tr { th { "Indicators" } td { @for i in &a.indicators { (i) br; } } }
            tr { th { "Handling" } td { (a.handling) } }
            tr { th { "Issued" } td { (fmt::time(a.issued_at_unix_ms)) } }
            tr { th { "Expires" } td { (fmt::opt_time(a.expires_at_unix_ms)) } }
            @if !a.change_reason.is_empty() { tr { th { "Why this version" } td { (a.change_reason) } } }
        } }
        (versions(&history))
        (deliveries(current))
        @if may_change {
            h2 { "Withdraw" }
            (post_form(&person, &format!("/alerts/{}/withdraw", a.id), "box", html! {
                label for="rationale" { "Why it is withdrawn (the recipients see this)" }
                textarea #rationale name="rationale" required {}
                button.destructive #withdraw type="submit" { "Withdraw the alert" }
            }))
        }
    };
    Ok(page(
        &person,
        Section::Alerts,
        &format!("Alert {}", a.id),
        body,
    ))
}

pub async fn show_denial(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Path(id): Path<String>,
) -> PageResult {
    policy::authorize_exchange(&person.caller, ExchangeAction::Read)?;
    let history = console.exchange.history(RecordKind::Denial, &id)?;
    let Some(current) = history.last() else {
        return Err(
            crate::error::Error::NotFound(format!("no denial {id} held on this node")).into(),
        );
    };
    let Record::Denial(d) = &current.record else {
        return Err(
            crate::error::Error::NotFound(format!("no denial {id} held on this node")).into(),
        );
    };
    let may_revoke = d.issuer == console.own
        && d.state != crate::exchange::records::DenialState::Revoked
        && policy::authorize_exchange(&person.caller, ExchangeAction::IssueDenial).is_ok();
    let body = html! {
        table.facts { tbody {
            tr { th { "State" } td #state { (state(current)) " (" (d.state) ", version " (d.version) ")" } }
            tr { th { "Signature" } td #signature { (signature(current)) } }
            tr { th { "Party" } td { (d.party.name) @if !d.party.country.is_empty() { " (" (d.party.country) ")" } } }
            tr { th { "Aliases" } td { (d.party.aliases.join("; ")) } }
            tr { th { "Items" } td { @for i in &d.items { (i.code) " " (i.description) br; } } }
            tr { th { "Destination" } td { (d.destination) } }
            tr { th { "End use" } td { (d.end_use) } }
            tr { th { "Reason" } td { (d.reason) } }
            tr { th { "Decided" } td { (fmt::time(d.decision_date_unix_ms)) } }
            tr { th { "Valid until" } td { (fmt::opt_time(d.valid_until_unix_ms)) } }
            @if !d.change_reason.is_empty() { tr { th { "Why this version" } td { (d.change_reason) } } }
        } }
        (versions(&history))
        (deliveries(current))
        @if may_revoke {
            h2 { "Amend" }
            (super::denial_forms::amend_form(&person, d))
            h2 { "Revoke" }
            (post_form(&person, &format!("/denials/{}/revoke", d.id), "box", html! {
                label for="reason" { "Why it is revoked" }
                textarea #reason name="reason" required {}
                button.destructive type="submit" { "Revoke the denial" }
            }))
        }
    };
    Ok(page(
        &person,
        Section::Denials,
        &format!("Denial {}", d.id),
        body,
    ))
}

pub async fn revoke_denial(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), ExchangeAction::IssueDenial)?;
    console
        .exchange
        .revoke_denial(&who, &id, form.get("reason").to_owned())
        .await?;
    console.metrics.issued("denial");
    Ok(see_other(&format!("/denials/{id}")))
}

pub async fn withdraw_alert(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), ExchangeAction::RaiseAlert)?;
    console
        .exchange
        .withdraw_alert(&who, &id, form.get("rationale").to_owned(), None)
        .await?;
    console.metrics.issued("alert");
    Ok(see_other(&format!("/alerts/{id}")))
}

/// The recipients a new record can go to: each registered peer and sharing
/// group, as checkboxes named `to` and `group`.
pub(crate) fn recipients(console: &Console, alone: &str) -> Result<Markup, PageError> {
    let peers: Vec<String> = console
        .peers
        .current()
        .keys()
        .map(|j| j.to_string())
        .collect();
    let groups: Vec<String> = console
        .exchange
        .groups()?
        .into_iter()
        .map(|g| g.name)
        .collect();
    Ok(html! {
        fieldset { legend { "Recipients" }
            @if peers.is_empty() && groups.is_empty() { p.muted { "No peers registered: " (alone) "." } }
            @for p in &peers { label { input type="checkbox" name="to" value=(p); " " (p) } }
            @for g in &groups { label { input type="checkbox" name="group" value=(g); " group " (g) } }
        }
    })
}

pub async fn new_alert(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> PageResult {
    policy::authorize_exchange(&person.caller, ExchangeAction::RaiseAlert)?;
    let recipients = recipients(&console, "the alert stays here")?;
    let body = post_form(
        &person,
        "/alerts",
        "box",
        html! {
            label for="category" { "Category" }
            select #category name="category" { @for c in AlertCategory::ALL { option value=(c.as_str()) { (c.as_str()) } } }
            label for="severity" { "Severity" }
            select #severity name="severity" { @for s in Severity::ALL { option value=(s.as_str()) { (s.as_str()) } } }
            label for="summary" { "Summary" }
            textarea #summary name="summary" required {}
            label for="party" { "Parties (one per line: name, or name | country)" }
            textarea #party name="parties" {}
            label for="destinations" { "Destinations (ISO codes, comma-separated)" }
            input #destinations type="text" name="destinations";
            label for="items" { "Items (control-list codes, comma-separated)" }
            input #items type="text" name="items";
            label for="indicators" { "Indicators (one per line)" }
            textarea #indicators name="indicators" {}
            label for="handling" { "Handling marking" }
            input #handling type="text" name="handling";
            label for="expires_days" { "Expires after (days; empty: never)" }
            input #expires_days type="number" min="1" name="expires_days";
            (recipients)
            button #raise type="submit" { "Raise and sign the alert" }
        },
    );
    Ok(page(&person, Section::Alerts, "Raise an alert", body))
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

pub async fn raise(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), ExchangeAction::RaiseAlert)?;
    let bad = |e: String| PageError::bad_request(e);
    let parties = lines(form.get("parties"))
        .map(|l| {
            let (name, country) = l.split_once('|').unwrap_or((l, ""));
            Party {
                name: name.trim().to_owned(),
                country: country.trim().to_uppercase(),
                ..Default::default()
            }
        })
        .collect();
    let expires_in = match form.get("expires_days") {
        "" => None,
        d => Some(std::time::Duration::from_secs(
            d.parse::<u64>()
                .map_err(|_| bad(format!("expires after: {d:?} is not a number of days")))?
                .saturating_mul(86_400),
        )),
    };
    let draft = AlertDraft {
        category: form
            .get("category")
            .parse()
            .map_err(|e| bad(format!("category: {e}")))?,
        severity: form
            .get("severity")
            .parse()
            .map_err(|e| bad(format!("severity: {e}")))?,
        subjects: Subjects {
            parties,
            destinations: split_list(form.get("destinations"))
                .into_iter()
                .map(|d| d.to_uppercase())
                .collect(),
            items: split_list(form.get("items")),
            shipments: Vec::new(),
        },
        indicators: lines(form.get("indicators")).map(str::to_owned).collect(),
        summary: form.get("summary").to_owned(),
        expires_in,
        handling: form.get("handling").to_owned(),
    };
    let to = form
        .all("to")
        .map(|j| j.parse().map_err(|e| bad(format!("recipient: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let dist = Distribution {
        to,
        groups: form.all("group").map(str::to_owned).collect(),
    };
    let view = console.exchange.raise_alert(&who, draft, dist).await?;
    console.metrics.issued("alert");
    Ok(see_other(&format!("/alerts/{}", view.header.record_id)))
}
