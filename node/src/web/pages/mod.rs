//! The console's pages, one module per section.

mod alerts;
mod audit;
mod consultations;
mod dashboard;
mod denial_forms;
mod licensing;
mod screening;
mod taskforces;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use super::Console;

pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/alerts", get(alerts::list_alerts).post(alerts::raise))
        .route("/alerts/new", get(alerts::new_alert))
        .route("/alerts/{id}", get(alerts::show_alert))
        .route(
            "/denials",
            get(alerts::list_denials).post(denial_forms::issue),
        )
        .route("/denials/new", get(denial_forms::new_denial))
        .route("/denials/{id}", get(alerts::show_denial))
        .route("/denials/{id}/amend", post(denial_forms::amend))
        .route("/denials/{id}/revoke", post(alerts::revoke_denial))
        .route("/alerts/{id}/withdraw", post(alerts::withdraw_alert))
        .route("/licenses", get(licensing::list).post(licensing::submit))
        .route("/licenses/new", get(licensing::new_application))
        .route("/licenses/{id}", get(licensing::show))
        .route(
            "/licenses/{id}/amend",
            get(licensing::edit_application).post(licensing::amend),
        )
        .route("/licenses/{id}/review", post(licensing::review))
        .route("/licenses/{id}/decide", post(licensing::decide))
        .route("/licenses/{id}/countersign", post(licensing::countersign))
        .route("/licenses/{id}/hits", post(licensing::dispose_hit))
        .route("/licenses/{id}/consult", post(licensing::consult))
        .route("/screen", get(screening::screen).post(screening::batch))
        .route("/screen/results.csv", post(screening::batch_csv))
        .route("/consultations", get(consultations::list))
        .route("/consultations/{id}", get(consultations::show))
        .route("/consultations/{id}/respond", post(consultations::respond))
        .route("/taskforces", get(taskforces::list))
        .route("/taskforces/{name}", get(taskforces::show))
        .route("/taskforces/{name}/ask", post(taskforces::ask))
        .route("/audit", get(audit::show))
}

/// Where a form's action sends the browser next: the page it acted on
/// (Post/Redirect/Get, so a reload never repeats the action).
fn see_other(to: &str) -> axum::response::Response {
    axum::response::IntoResponse::into_response(axum::response::Redirect::to(to))
}
