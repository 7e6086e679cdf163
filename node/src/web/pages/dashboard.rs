//! What needs me now: applications awaiting review, open screening hits,
//! decisions awaiting my countersignature, consultations awaiting an
//! answer, and alerts received since I last looked; with the charts.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use http::{header, HeaderMap, HeaderValue};
use maud::html;

use crate::clock::now_unix_ms;
use crate::consult::ThreadFilter;
use crate::exchange::{Record, RecordFilter, RecordKind};
use crate::licensing::LicenseState;
use crate::policy::{self, ConsultAction, ExchangeAction, LicensingAction};
use crate::web::door::Person;
use crate::web::error::PageResult;
use crate::web::fmt;
use crate::web::layout::{page, Section};
use crate::web::Console;

/// Rows of each list on the dashboard; the section pages have the rest.
const ROWS: usize = 10;
/// Alerts counted since the last look; beyond it the card says "N+".
const NEW_ALERTS_CAP: usize = 10_000;
/// The cookie holding when this browser last opened the dashboard.
const SEEN: &str = "concord_seen";

fn last_seen(headers: &HeaderMap) -> Option<i64> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SEEN)
        .and_then(|(_, v)| v.parse().ok())
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    headers: HeaderMap,
) -> PageResult {
    let c = &person.caller;
    let now = now_unix_ms();
    let seen = last_seen(&headers);
    let licensing = policy::authorize_licensing(c, LicensingAction::Read).is_ok();
    let deciding = policy::authorize_licensing(c, LicensingAction::Decide).is_ok();
    let reading = policy::authorize_exchange(c, ExchangeAction::Read).is_ok();
    let consulting = policy::authorize_consult(c, ConsultAction::Read).is_ok();

    // Briefs and hit counts, not licences and assessments: a node holds tens
    // of thousands of applications, and only the rows shown are decoded.
    let mut awaiting = Vec::new();
    let mut countersign = Vec::new();
    let mut open_hits = 0u64;
    let mut hits = Vec::new();
    if licensing || deciding {
        for b in console.licensing.license_briefs()? {
            if deciding
                && b.pending_officer
                    .as_deref()
                    .is_some_and(|maker| policy::may_countersign(maker, c).is_ok())
            {
                countersign.push(b.clone());
            }
            if licensing && matches!(b.state, LicenseState::Submitted | LicenseState::UnderReview) {
                awaiting.push(b);
            }
        }
        awaiting.sort_by_key(|b| b.submitted_at_unix_ms);
    }
    if licensing {
        let counts = console.risk.open_hit_counts()?;
        for b in &awaiting {
            let Some(&n) = counts.get(&b.id) else {
                continue;
            };
            open_hits += u64::from(n);
            if hits.len() < ROWS {
                if let Some(a) = console.risk.stored_assessment(&b.id)? {
                    for h in a.open_hits() {
                        hits.push((b.id.clone(), h.clone()));
                    }
                }
            }
        }
    }
    // The reasons for four eyes are on the licence: read the few shown.
    let countersign_count = countersign.len();
    let countersign: Vec<_> = countersign
        .iter()
        .take(ROWS)
        .filter_map(|b| console.licensing.license(&b.id).ok())
        .collect();
    // Requests to us not yet answered, and ours awaiting a partner's
    // answer, each with its deadline.
    let (asked, waiting): (Vec<_>, Vec<_>) = if consulting {
        console
            .consult
            .list(&ThreadFilter::default())?
            .into_iter()
            .filter(|t| t.answers().next().is_none())
            .partition(|t| t.request.header.issuer != console.own)
    } else {
        Default::default()
    };
    let overdue = asked
        .iter()
        .chain(&waiting)
        .filter(|t| t.overdue(now))
        .count();
    let calendar = &console.consult.clocks().calendar;
    let deadline = |t: &crate::consult::Thread| match t.deadline() {
        None => html! { "—" },
        Some(d) if t.overdue(now) => html! { span.bad { "OVERDUE since " (fmt::time(d)) } },
        Some(d) => {
            html! { (fmt::time(d)) " (" (calendar.working_days_left(now, d)) " working days left)" }
        }
    };
    let alerts = if reading {
        console.exchange.list_newest(
            RecordKind::Alert,
            &RecordFilter {
                limit: Some(ROWS),
                ..Default::default()
            },
            None,
        )?
    } else {
        Vec::new()
    };
    let new_alerts = if reading {
        match seen {
            Some(since) => console
                .exchange
                .issued_since(RecordKind::Alert, since, NEW_ALERTS_CAP)?
                .into_iter()
                .filter(|(_, issuer)| *issuer != console.own)
                .count(),
            None => 0,
        }
    } else {
        0
    };

    let body = html! {
        div.cards {
            @if licensing {
                div.card #awaiting-review { div.figure { (awaiting.len()) } "applications awaiting review" }
                div.card #open-hits { div.figure { (open_hits) } "open screening hits" }
            }
            @if deciding {
                div.card #awaiting-countersignature { div.figure { (countersign_count) } "decisions awaiting my countersignature" }
            }
            @if consulting {
                div.card #consultations-awaiting { div.figure { (asked.len()) } "consultations awaiting our answer" }
                div.card #consultations-overdue { div.figure { (overdue) } "consultations past their deadline" }
            }
            @if reading {
                div.card #alerts-since { div.figure { (new_alerts) @if new_alerts >= NEW_ALERTS_CAP { "+" } } "alerts received since I last looked"
                    @if let Some(s) = seen { div.muted { "(" (fmt::time(s)) ")" } } }
            }
        }
        @if licensing {
            h2 { "Awaiting review" }
            @if awaiting.is_empty() { p.muted { "Nothing waits." } } @else {
                table { thead { tr { th { "Application" } th { "State" } th { "Destination" } th { "Submitted" } } }
                tbody { @for l in awaiting.iter().take(ROWS) {
                    tr { td { a href={"/licenses/" (l.id)} { (l.id) } } td { (l.state) } td { (l.destination) } td { (fmt::time(l.submitted_at_unix_ms)) } }
                } } }
            }
            h2 { "Open screening hits" }
            @if hits.is_empty() { p.muted { "No open hits." } } @else {
                table { thead { tr { th { "Application" } th { "Party" } th { "Listed as" } th { "List" } th { "Score" } } }
                tbody { @for (id, h) in hits.iter().take(ROWS) {
                    tr { td { a href={"/licenses/" (id)} { (id) } } td { (h.party_name) " (" (h.role) ")" } td { (h.listed_name) } td { (h.list) } td { (format!("{:.2}", h.score())) } }
                } } }
            }
        }
        @if deciding {
            h2 { "Awaiting my countersignature" }
            @if countersign.is_empty() { p.muted { "Nothing to countersign." } } @else {
                table { thead { tr { th { "Application" } th { "Decision" } th { "By" } th { "Why it needs four eyes" } } }
                tbody { @for l in &countersign { @if let Some(p) = &l.pending {
                    tr { td { a href={"/licenses/" (l.id)} { (l.id) } } td { (p.action) } td { (p.officer) } td { (p.reason) } }
                } } } }
            }
        }
        @if consulting {
            h2 { "Consultations awaiting our answer" }
            @if asked.is_empty() { p.muted { "None." } } @else {
                table #asked { thead { tr { th { "Consultation" } th { "From" } th { "Asked" } th { "Answer by" } } }
                tbody { @for t in asked.iter().take(ROWS) {
                    tr { td { a href={"/consultations/" (t.id())} { (t.id()) } } td { (t.request.header.issuer) } td { (fmt::time(t.request.header.issued_at_unix_ms)) } td { (deadline(t)) } }
                } } }
            }
            h2 { "Our consultations awaiting an answer" }
            @if waiting.is_empty() { p.muted { "None." } } @else {
                table #waiting { thead { tr { th { "Consultation" } th { "To" } th { "Asked" } th { "Answer by" } } }
                tbody { @for t in waiting.iter().take(ROWS) {
                    tr { td { a href={"/consultations/" (t.id())} { (t.id()) } } td { (t.request.header.recipients.iter().map(|j| j.as_str()).collect::<Vec<_>>().join(", ")) } td { (fmt::time(t.request.header.issued_at_unix_ms)) } td { (deadline(t)) } }
                } } }
            }
        }
        @if reading {
            h2 { "Latest alerts" }
            table #live-alert { thead { tr { th { "Alert" } th { "Issuer" } th { "Severity" } th { "Category" } th { "Summary" } th { "Issued" } th { "State" } } }
            tbody {
                @if alerts.is_empty() { tr #live-alert-empty { td colspan="7" { "No alerts yet." } } }
                @for v in &alerts { @if let Record::Alert(a) = &v.record {
                    tr { td { a href={"/alerts/" (a.id)} { (a.id) } } td { (a.issuer) } td { (a.severity) } td { (a.category) } td { (a.summary) } td { (fmt::time(a.issued_at_unix_ms)) }
                         td { (super::alerts::state(v)) } }
                } }
            } }
            h2 { "Charts" }
            img.chart src="/charts/weekly.svg" alt="Alerts and denials per week";
        }
        @if licensing {
            img.chart src="/charts/timeliness.svg" alt="Days from submission to decision per week";
        }
    };
    let mut res: Response = page(&person, Section::Dashboard, "Dashboard", body);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{SEEN}={now}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=31536000"
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
