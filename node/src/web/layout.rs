//! The frame of every page: what the person may open, who they are, and
//! the hidden CSRF field every form carries.

use axum::response::{IntoResponse, Response};
use http::header;
use maud::{html, Markup, DOCTYPE};

use super::door::Person;
use crate::identity::Role;
use crate::policy::{
    self, ConsultAction, ExchangeAction, LicensingAction, ScreeningAction, TaskForceAction,
};

/// The sections of the console, each shown to those `policy` lets use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Alerts,
    Denials,
    Licensing,
    Screening,
    Consultations,
    TaskForces,
    Audit,
}

impl Section {
    const ALL: [Section; 8] = [
        Section::Dashboard,
        Section::Alerts,
        Section::Denials,
        Section::Licensing,
        Section::Screening,
        Section::Consultations,
        Section::TaskForces,
        Section::Audit,
    ];

    fn label(self) -> &'static str {
        match self {
            Section::Dashboard => "Dashboard",
            Section::Alerts => "Alerts",
            Section::Denials => "Denials",
            Section::Licensing => "Licensing",
            Section::Screening => "Screening",
            Section::Consultations => "Consultations",
            Section::TaskForces => "Task forces",
            Section::Audit => "Audit",
        }
    }

    fn href(self) -> &'static str {
        match self {
            Section::Dashboard => "/",
            Section::Alerts => "/alerts",
            Section::Denials => "/denials",
            Section::Licensing => "/licenses",
            Section::Screening => "/screen",
            Section::Consultations => "/consultations",
            Section::TaskForces => "/taskforces",
            Section::Audit => "/audit",
        }
    }

    /// Whether `person` may open this section: the same decision as the
    /// gRPC service behind it.
    pub fn open_to(self, person: &Person) -> bool {
        let c = &person.caller;
        match self {
            Section::Dashboard => true,
            Section::Alerts | Section::Denials => {
                policy::authorize_exchange(c, ExchangeAction::Read).is_ok()
            }
            Section::Licensing => policy::authorize_licensing(c, LicensingAction::Read).is_ok(),
            Section::Screening => policy::authorize_screening(c, ScreeningAction::Query).is_ok(),
            Section::Consultations => policy::authorize_consult(c, ConsultAction::Read).is_ok(),
            Section::TaskForces => policy::authorize_taskforce(c, TaskForceAction::Read).is_ok(),
            Section::Audit => c.role == Role::Admin,
        }
    }
}

/// A whole page in the console's frame.
pub fn page(person: &Person, here: Section, title: &str, body: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page_html(person, here, title, body),
    )
        .into_response()
}

/// The HTML of [`page`], for a page sent in parts as it is written.
pub fn page_html(person: &Person, here: Section, title: &str, body: Markup) -> String {
    let live = matches!(
        here,
        Section::Dashboard | Section::Alerts | Section::Consultations
    );
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Concord " (person.caller.jurisdiction) }
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body data-live[live] {
                header {
                    strong { "Concord " (person.caller.jurisdiction) }
                    @for s in Section::ALL.iter().filter(|s| s.open_to(person)) {
                        a href=(s.href()) class=[(*s == here).then_some("here")] { (s.label()) }
                    }
                    span.who {
                        (person.caller.to_string())
                        @if live { " · " span #live-status { "connecting…" } }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    };
    markup.into_string()
}

/// The hidden field that lets a form through the door.
pub fn csrf(person: &Person) -> Markup {
    html! { input type="hidden" name="csrf" value=(person.csrf); }
}

/// A form posting to `action` with the CSRF field and `fields`.
pub fn post_form(person: &Person, action: &str, class: &str, fields: Markup) -> Markup {
    html! {
        form method="post" action=(action) class=(class) { (csrf(person)) (fields) }
    }
}
