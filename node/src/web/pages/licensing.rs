//! Licensing: the applications list and search, the submit and amend forms with the
//! catalog's codes, and the application page — parties with their screening
//! hits, the risk score with every factor, resembling peer denials and the
//! no-undercut state, shipments — where officers review, decide,
//! countersign, dispose of hits and consult the denying jurisdiction.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::Extension;
use maud::{html, Markup};

use super::see_other;
use crate::licensing::{
    Amendment, Application, ItemDraft, License, LicenseAction, LicenseFilter, LicenseState, Money,
    PartyFilter, TermsDraft,
};
use crate::policy::{self, ConsultAction, LicensingAction};
use crate::risk::HitStatus;
use crate::web::door::{FormData, Person};
use crate::web::error::{PageError, PageResult};
use crate::web::fmt;
use crate::web::layout::{page, post_form, Section};
use crate::web::Console;

/// Applications a list page shows.
const PAGE: usize = 200;
/// Item rows on the submit form.
const ITEM_ROWS: usize = 3;

pub async fn list(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    policy::authorize_licensing(&person.caller, LicensingAction::Read)?;
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(id) = get("id") {
        return Ok(see_other(&format!("/licenses/{id}")));
    }
    let state = get("state")
        .map(str::parse::<LicenseState>)
        .transpose()
        .map_err(|e| PageError::bad_request(format!("state: {e}")))?;
    let licenses = console.licensing.licenses(&LicenseFilter {
        state,
        party: get("party").map(str::to_owned),
        pending_only: get("pending") == Some("on"),
        limit: Some(PAGE),
    })?;
    let may_submit = policy::authorize_licensing(&person.caller, LicensingAction::Record).is_ok();
    let body = html! {
        @if may_submit { p { a #new-application href="/licenses/new" { "Submit an application" } } }
        form.box method="get" {
            label for="id" { "Open application by id" } input #id type="text" name="id";
            label for="state" { "State" }
            select #state name="state" { option value="" { "any" }
                @for s in LicenseState::ALL { option value=(s.as_str()) selected[get("state") == Some(s.as_str())] { (s.as_str()) } } }
            label for="party" { "Party id (any role)" } input #party type="text" name="party" value=(get("party").unwrap_or(""));
            label { input type="checkbox" name="pending" checked[get("pending") == Some("on")]; " awaiting countersignature only" }
            button type="submit" { "Search" }
        }
        table #licenses { thead { tr { th { "Application" } th { "State" } th { "Destination" } th { "Items" } th { "Submitted" } } }
        tbody {
            @if licenses.is_empty() { tr { td colspan="5" { "No applications match." } } }
            @for l in &licenses {
                tr { td { a href={"/licenses/" (l.id)} { (l.id) } } td { (l.state_at(crate::clock::now_unix_ms())) }
                     td { (l.destination) } td { (l.codes().join(", ")) } td { (fmt::time(l.submitted_at_unix_ms)) } }
            }
        } }
        @if licenses.len() == PAGE { p.muted { "The first " (PAGE) " shown; narrow the search." } }
    };
    Ok(page(&person, Section::Licensing, "Licensing", body))
}

pub async fn new_application(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
) -> PageResult {
    policy::authorize_licensing(&person.caller, LicensingAction::Record)?;
    let body = application_form(&console, &person, None)?;
    Ok(page(
        &person,
        Section::Licensing,
        "Submit an application",
        body,
    ))
}

pub async fn edit_application(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Path(id): Path<String>,
) -> PageResult {
    policy::authorize_licensing(&person.caller, LicensingAction::Record)?;
    let l = console.licensing.license(&id)?;
    let body = application_form(&console, &person, Some(&l))?;
    Ok(page(
        &person,
        Section::Licensing,
        &format!("Amend application {id}"),
        body,
    ))
}

/// The application form with the catalog's codes and the recorded
/// parties, empty for a submission or filled with `current` to amend it.
fn application_form(
    console: &Console,
    person: &Person,
    current: Option<&License>,
) -> Result<Markup, PageError> {
    let parties = console.licensing.parties(&PartyFilter {
        limit: Some(1000),
        ..Default::default()
    })?;
    let codes = match console.licensing.catalog(None, None, Some(5000)) {
        Ok((_, entries)) => entries,
        Err(crate::error::Error::NotFound(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let party_select = |name: &str, required: bool, chosen: &str| {
        html! {
            select id=(name) name=(name) required[required] {
                @if !required { option value="" { "—" } }
                @for p in &parties { option value=(p.id) selected[p.id == chosen] { (p.id) " — " (p.name) " (" (p.country) ")" } }
            }
        }
    };
    let field = |f: fn(&License) -> &str| current.map_or("", f);
    let item = |i: usize| current.and_then(|l| l.items.get(i));
    let rows = current.map_or(ITEM_ROWS, |l| l.items.len().max(ITEM_ROWS));
    let (action, button) = match current {
        Some(l) => (format!("/licenses/{}/amend", l.id), "Amend the application"),
        None => ("/licenses".to_owned(), "Submit the application"),
    };
    Ok(post_form(
        person,
        &action,
        "box",
        html! {
            @if parties.is_empty() { p.error { "No parties are recorded yet: record them with `concord party create` first." } }
            label for="applicant" { "Applicant" } (party_select("applicant", true, field(|l| &l.applicant)))
            label for="end_user" { "End user" } (party_select("end_user", true, field(|l| &l.end_user)))
            label for="consignee" { "Consignee" } (party_select("consignee", true, field(|l| &l.consignee)))
            label for="intermediary" { "Intermediary" }
            (party_select("intermediary", false, current.and_then(|l| l.intermediaries.first()).map_or("", |s| s.as_str())))
            label for="destination" { "Destination (ISO code)" } input #destination type="text" name="destination" required value=(field(|l| &l.destination));
            label for="end_use" { "End use" } textarea #end_use name="end_use" required { (field(|l| &l.end_use)) }
            datalist #codes { @for e in &codes { option value=(e.code) { (e.title) } } }
            @for i in 0..rows {
                fieldset { legend { "Item " (i + 1) @if i > 0 { " (optional)" } }
                    label for={"code" (i)} { "Control-list code" } input id={"code" (i)} type="text" name="code" list="codes" required[i == 0] value=(item(i).map_or("", |t| t.code.as_str()));
                    label for={"description" (i)} { "Description" } input id={"description" (i)} type="text" name="description" value=(item(i).map_or("", |t| t.description.as_str()));
                    label for={"quantity" (i)} { "Quantity" } input id={"quantity" (i)} type="number" min="1" name="quantity" value=(item(i).map_or(String::new(), |t| t.quantity.to_string()));
                    label for={"value" (i)} { "Value (major units)" } input id={"value" (i)} type="text" name="value" value=(item(i).map_or(String::new(), |t| major_units(t.value.minor_units)));
                    label for={"currency" (i)} { "Currency" } input id={"currency" (i)} type="text" name="currency" value=(item(i).map_or("EUR", |t| t.value.currency.as_str()));
                }
            }
            @if current.is_some() {
                label for="rationale" { "Why the application is amended" }
                textarea #rationale name="rationale" required {}
            }
            button #submit type="submit" { (button) }
        },
    ))
}

/// 123456 minor units as `1234.56`.
fn major_units(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, (minor % 100).abs())
}

/// `1234.56` as 123456 minor units.
fn minor_units(value: &str) -> Result<i64, PageError> {
    let bad =
        || PageError::bad_request(format!("value {value:?}: expected an amount like 1234.56"));
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 2 || whole.is_empty() {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .filter(|v| *v >= 0)
        .ok_or_else(bad)
}

/// The application a submitted or amending form describes.
fn posted_application(form: &FormData) -> Result<Application, PageError> {
    let codes: Vec<&str> = form.all("code").collect();
    let descriptions: Vec<&str> = form.all("description").collect();
    let quantities: Vec<&str> = form.all("quantity").collect();
    let values: Vec<&str> = form.all("value").collect();
    let currencies: Vec<&str> = form.all("currency").collect();
    let mut items = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        if code.is_empty() {
            continue;
        }
        let at = |v: &[&str]| -> String { v.get(i).copied().unwrap_or("").to_owned() };
        let quantity = match at(&quantities).as_str() {
            "" => 1,
            q => q.parse().map_err(|_| {
                PageError::bad_request(format!("item {}: quantity {q:?} is not a number", i + 1))
            })?,
        };
        let value = match at(&values).as_str() {
            "" => 0,
            v => minor_units(v)?,
        };
        items.push(ItemDraft {
            code: (*code).to_owned(),
            description: at(&descriptions),
            quantity,
            value: Money {
                minor_units: value,
                currency: at(&currencies).to_uppercase(),
            },
        });
    }
    Ok(Application {
        applicant: form.get("applicant").to_owned(),
        items,
        end_user: form.get("end_user").to_owned(),
        consignee: form.get("consignee").to_owned(),
        intermediaries: form
            .all("intermediary")
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        destination: form.get("destination").to_uppercase(),
        end_use: form.get("end_use").to_owned(),
    })
}

pub async fn submit(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), LicensingAction::Record)?;
    let app = posted_application(&form)?;
    let license = console.licensing.submit(&who, app).await?;
    // As the gRPC submission does: scored before the officer sees it.
    if let Err(error) = console.risk.assess(&license.id, "submission").await {
        tracing::error!(%error, license = %license.id, "cannot score the application");
    }
    Ok(see_other(&format!("/licenses/{}", license.id)))
}

/// What an amending form changes: each field that differs from the
/// application as it stands (the form shows every field, filled).
fn amendment(current: &License, app: Application) -> Amendment {
    let changed = |now: &str, posted: String| (now != posted).then_some(posted);
    let items_now: Vec<(&str, &str, u64, i64, &str)> = current
        .items
        .iter()
        .map(|i| {
            (
                i.code.as_str(),
                i.description.as_str(),
                i.quantity,
                i.value.minor_units,
                i.value.currency.as_str(),
            )
        })
        .collect();
    let items_posted: Vec<(&str, &str, u64, i64, &str)> = app
        .items
        .iter()
        .map(|i| {
            (
                i.code.as_str(),
                i.description.as_str(),
                i.quantity,
                i.value.minor_units,
                i.value.currency.as_str(),
            )
        })
        .collect();
    let items = (items_now != items_posted).then(|| app.items.clone());
    Amendment {
        applicant: changed(&current.applicant, app.applicant),
        items,
        end_user: changed(&current.end_user, app.end_user),
        consignee: changed(&current.consignee, app.consignee),
        intermediaries: (current.intermediaries != app.intermediaries)
            .then_some(app.intermediaries),
        destination: changed(&current.destination, app.destination),
        end_use: changed(&current.end_use, app.end_use),
    }
}

pub async fn amend(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), LicensingAction::Record)?;
    let current = console.licensing.license(&id)?;
    let change = amendment(&current, posted_application(&form)?);
    let license = console
        .licensing
        .amend(&who, &id, change, form.get("rationale"))
        .await?;
    // As the gRPC amendment does: re-scored on the amended facts.
    let trigger = format!("amendment to revision {}", license.revision);
    if let Err(error) = console.risk.assess(&id, &trigger).await {
        tracing::error!(%error, license = %id, "cannot score the application");
    }
    Ok(see_other(&format!("/licenses/{id}")))
}

pub async fn show(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Path(id): Path<String>,
) -> PageResult {
    let c = &person.caller;
    policy::authorize_licensing(c, LicensingAction::Read)?;
    let l = console.licensing.license(&id)?;
    let now = crate::clock::now_unix_ms();
    let state = l.state_at(now);
    let assessment = match console.risk.assessment(&id) {
        Ok(a) => Some(a),
        Err(crate::error::Error::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    // The application's risk set knows which denials name its parties; the
    // page reads those rather than every denial to the destination (a
    // decision still reads them all).
    let findings = match console
        .risk
        .named_denials(&id, console.consult.threshold())
        .await
    {
        Some(candidates) => console.consult.check_among(&id, &candidates)?,
        None => console.consult.check(&id)?,
    };
    let recognised = console.consult.recognised_resembling(&id)?;
    let shipments = console.licensing.shipments(Some(&id), Some(100))?;
    let deciding = policy::authorize_licensing(c, LicensingAction::Decide).is_ok();
    let open = matches!(state, LicenseState::Submitted | LicenseState::UnderReview);
    let open_hits = assessment.as_ref().map_or(0, |a| a.open_hits().count());
    let may_countersign = deciding
        && l.pending
            .as_ref()
            .is_some_and(|p| policy::may_countersign(&p.officer, c).is_ok());
    let may_consult = policy::authorize_consult(c, ConsultAction::RequestUndercut).is_ok() && open;
    let may_amend = policy::authorize_licensing(c, LicensingAction::Record).is_ok()
        && l.pending.is_none()
        && crate::licensing::lifecycle::transition(&l.id, state, LicenseAction::Amend).is_ok();
    let party = |pid: &str| -> String {
        console.licensing.party(pid).map_or_else(
            |_| pid.to_owned(),
            |p| format!("{} — {} ({})", p.id, p.name, p.country),
        )
    };
    let body = html! {
        table.facts { tbody {
            tr { th { "State" } td #state { (state) } }
            tr { th { "Applicant" } td { (party(&l.applicant)) } }
            tr { th { "End user" } td { (party(&l.end_user)) } }
            tr { th { "Consignee" } td { (party(&l.consignee)) } }
            @for p in &l.intermediaries { tr { th { "Intermediary" } td { (party(p)) } } }
            tr { th { "Destination" } td { (l.destination) } }
            tr { th { "End use" } td { (l.end_use) } }
            tr { th { "Submitted" } td { (fmt::time(l.submitted_at_unix_ms)) " by " (l.submitted_by) } }
            tr { th { "Revision" } td { (l.revision) } }
        } }
        @if may_amend { p { a #amend href={"/licenses/" (l.id) "/amend"} { "Amend the application" } } }
        h2 { "Items" }
        table { thead { tr { th { "Code" } th { "Description" } th { "Category" } th { "Tier" } th { "Quantity" } th { "Value" } } }
        tbody { @for i in &l.items { tr { td { (i.code) } td { (i.description) } td { (i.category) } td { (i.tier) } td { (i.quantity) } td { (fmt::money(i.value.minor_units, &i.value.currency)) } } } } }

        h2 { "Screening hits" }
        @match &assessment {
            None => p.muted { "Not scored yet." },
            Some(a) => {
                @if a.hits.is_empty() { p #no-hits { "No screening hits." } } @else {
                    table #hits { thead { tr { th { "Party" } th { "Listed as" } th { "List" } th { "Score" } th { "State" } th {} } }
                    tbody { @for h in &a.hits {
                        tr { td { (h.party_name) " (" (h.role) ")" } td { (h.listed_name) " — matched " (h.matched_name) }
                             td { (h.list) " " (h.source_id) @if !h.issuer.is_empty() { " (" (h.issuer) ")" } }
                             td { (format!("{:.2}", h.score())) }
                             td { @if h.is_open() { span.bad { "open" } } @else { (h.status) @if let Some(d) = &h.disposition { " by " (d.officer) ": " (d.rationale) } } }
                             td { @if h.is_open() && deciding && open {
                                (post_form(&person, &format!("/licenses/{}/hits", l.id), "inline", html! {
                                    input type="hidden" name="hit" value=(h.id);
                                    select name="disposition" aria-label="disposition" { option value="false-positive" { "false positive" } option value="confirmed" { "confirmed match" } }
                                    input type="text" name="rationale" placeholder="why" required aria-label="rationale";
                                    button.dispose type="submit" { "Dispose" }
                                }))
                             } }
                        }
                    } } }
                }
                h2 { "Risk score" }
                p #risk { strong { (a.score) } " / 100, band " strong { (a.band) } @if a.flagged { span.bad { " — flagged for review" } }
                    span.muted { " (" (a.methodology) ", " (a.trigger) ", " (fmt::time(a.assessed_at_unix_ms)) ")" } }
                table #factors { thead { tr { th { "Factor" } th { "Points" } th { "Why" } th { "Evidence" } } }
                tbody { @for f in &a.factors { tr { td { (f.kind.as_str()) } td { (f.points) " / " (f.max) } td { (f.explanation) } td { (f.evidence.join(", ")) } } } } }
                @for floor in &a.floors { p.bad { "Floor: " (format!("{floor:?}")) } }
            }
        }

        h2 { "Resembling peer denials (no undercut)" }
        @if findings.is_empty() { p #no-undercut { "No peer denial resembles this application." } } @else {
            table #findings { thead { tr { th { "Denial" } th { "Resemblance" } th { "Consultation" } th {} } }
            tbody { @for f in &findings {
                tr { td { a href={"/denials/" (f.denial.id)} { (f.denial.id) } } td { (f.resemblance) }
                     td { @match f.released_by() {
                        Some((t, answer)) => { span.good { "answered" } " (" a href={"/consultations/" (t.id())} { (t.id()) } ": " @if let Some(r) = answer.response() { (r.position) } ")" }
                        None => { span.bad { "approval blocked until " (f.denial.issuer) " answers" } @for t in &f.consultations { " " a href={"/consultations/" (t.id())} { (t.id()) } } }
                     } }
                     td { @if may_consult && f.released_by().is_none() {
                        (post_form(&person, &format!("/licenses/{}/consult", l.id), "inline", html! {
                            input type="hidden" name="denial" value=(f.denial.id);
                            input type="text" name="text" placeholder="what you intend and why" required aria-label="consultation text";
                            button type="submit" { "Consult " (f.denial.issuer) }
                        }))
                     } }
                }
            } } }
        }

        @if !recognised.is_empty() {
            h2 { "Recognised partner licences resembling it" }
            p.muted { "Context for the decision: a partner's licence never clears a hit or releases a block." }
            table #recognised-licences { thead { tr { th { "Notice" } th { "Licence" } th { "Resemblance" } th { "Valid until" } } }
            tbody { @for m in &recognised {
                tr { td { (m.notice.id()) " (" (m.notice.issuer()) ")" } td { (m.notice.notice.license_id) }
                     td { (m.resemblance) } td { (fmt::time(m.notice.notice.valid_until_unix_ms)) } }
            } } }
        }

        @if let Some(p) = &l.pending {
            h2 { "Awaiting countersignature" }
            p #pending { (p.action) " by " (p.officer) " at " (fmt::time(p.at_unix_ms)) ": " (p.rationale) br; span.muted { (p.reason) } }
            @if may_countersign {
                (post_form(&person, &format!("/licenses/{}/countersign", l.id), "box", html! {
                    label for="cs-rationale" { "Rationale" } textarea #cs-rationale name="rationale" required {}
                    label for="override" { "Override rationale (only to approve despite a confirmed match)" } input #override type="text" name="override_rationale";
                    button #countersign type="submit" name="answer" value="countersign" { "Countersign" }
                    " " button.destructive #reject type="submit" name="answer" value="reject" { "Reject" }
                }))
            } @else if deciding { p.muted { "A second officer (not " (p.officer) ") countersigns." } }
        }

        @if deciding && open && l.pending.is_none() {
            h2 { "Decide" }
            @if open_hits > 0 { p.bad #hits-block { (open_hits) " open screening hit(s): dispose of them before approving." } }
            @if l.state == LicenseState::Submitted {
                (post_form(&person, &format!("/licenses/{}/review", l.id), "inline", html! {
                    input type="hidden" name="rationale" value="taken up for review";
                    button #review type="submit" { "Take up for review" }
                }))
            }
            (post_form(&person, &format!("/licenses/{}/decide", l.id), "box", html! {
                label for="decision" { "Decision" }
                select #decision name="decision" {
                    @if open_hits == 0 { option value="approve" { "approve" } }
                    option value="deny" { "deny" } option value="return" { "return to the applicant" } }
                label for="rationale" { "Rationale" } textarea #rationale name="rationale" required {}
                button #decide type="submit" { "Record the decision" }
            }))
        }

        h2 { "History" }
        table #history { thead { tr { th { "When" } th { "Step" } th { "By" } th { "Rationale" } } }
        tbody { @for d in &l.history { tr { td { (fmt::time(d.at_unix_ms)) } td { (d.action) " → " (d.to) } td { (d.officer) } td { (d.rationale) } } } } }

        h2 { "Shipments" }
        @if shipments.is_empty() { p.muted { "None recorded." } } @else {
            table #shipments { thead { tr { th { "Shipment" } th { "Shipped" } th { "Route" } th { "Reference" } th { "Discrepancy" } } }
            tbody { @for s in &shipments { tr { td { (s.id) } td { (fmt::time(s.shipped_at_unix_ms)) } td { (s.origin) " → " (s.route.join(" → ")) " → " (s.destination) } td { (s.reference) }
                td { @if let Some(d) = &s.discrepancy { span.bad { (format!("{d:?}")) } } } } } } }
        }
    };
    Ok(page(
        &person,
        Section::Licensing,
        &format!("Application {}", l.id),
        body,
    ))
}

pub async fn review(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), LicensingAction::Decide)?;
    console
        .licensing
        .decide(
            &who,
            &id,
            LicenseAction::Review,
            form.get("rationale"),
            crate::exchange::Distribution::default(),
            TermsDraft::default(),
        )
        .await?;
    Ok(see_other(&format!("/licenses/{id}")))
}

pub async fn decide(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), LicensingAction::Decide)?;
    let action = match form.get("decision") {
        "approve" => LicenseAction::Approve,
        "deny" => LicenseAction::Deny,
        "return" => LicenseAction::Return,
        other => {
            return Err(PageError::bad_request(format!(
                "decision: {other:?} is not approve, deny or return"
            )))
        }
    };
    console
        .licensing
        .decide(
            &who,
            &id,
            action,
            form.get("rationale"),
            crate::exchange::Distribution::default(),
            TermsDraft::default(),
        )
        .await?;
    if action == LicenseAction::Deny {
        console.metrics.issued("denial");
    }
    Ok(see_other(&format!("/licenses/{id}")))
}

pub async fn countersign(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), LicensingAction::Decide)?;
    if form.get("answer") == "reject" {
        console
            .licensing
            .reject_pending(&who, &id, form.get("rationale"))
            .await?;
    } else {
        let l = console
            .licensing
            .countersign(
                &who,
                &id,
                form.get("rationale"),
                form.get("override_rationale"),
            )
            .await?;
        if l.state == LicenseState::Denied {
            console.metrics.issued("denial");
        }
    }
    Ok(see_other(&format!("/licenses/{id}")))
}

pub async fn dispose_hit(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), LicensingAction::Decide)?;
    let status = match form.get("disposition") {
        "false-positive" => HitStatus::FalsePositive,
        "confirmed" => HitStatus::Confirmed,
        other => {
            return Err(PageError::bad_request(format!(
                "disposition: {other:?} is not false-positive or confirmed"
            )))
        }
    };
    console
        .risk
        .dispose(&who, &id, form.get("hit"), status, form.get("rationale"))
        .await?;
    Ok(see_other(&format!("/licenses/{id}")))
}

pub async fn consult(
    State(console): State<Arc<Console>>,
    Extension(person): Extension<Person>,
    Extension(form): Extension<FormData>,
    Path(id): Path<String>,
) -> PageResult {
    let who = policy::allowed(person.caller.clone(), ConsultAction::RequestUndercut)?;
    let view = console
        .consult
        .request_undercut(&who, &id, form.get("denial"), form.get("text").to_owned())
        .await?;
    Ok(see_other(&format!(
        "/consultations/{}",
        view.header.record_id
    )))
}
