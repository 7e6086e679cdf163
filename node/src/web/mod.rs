//! The web console: server-rendered pages for the jurisdiction's officers,
//! analysts, task-force members and admins, on its own HTTPS listener with
//! client certificates required (`[web] listen`).
//!
//! Architecture invariant: the console is another door to the same domain
//! services as the gRPC API. It authenticates with the same certificates
//! and revocations, decides with the same `policy` functions, and acts
//! through `Exchange`, `Licensing`, `Risk`, `Screening`, `Consult` and `TaskForces`, whose
//! audit entries it marks `via web` (`audit::via`). It holds no state of its
//! own beyond a per-process CSRF key, and no page is cached by the browser.

mod charts;
mod csrf;
mod door;
mod error;
mod events;
mod fmt;
mod headers;
mod layout;
mod pages;
mod serve;

use std::sync::Arc;

pub use serve::{serve, server_config};

use crate::identity::{Caller, Jurisdiction};

/// Task-force queries a person may make per minute, keyed by who they are.
pub type QueryLimit = governor::DefaultKeyedRateLimiter<Caller>;

/// What the console's pages read and act through.
pub struct Console {
    pub own: Jurisdiction,
    pub exchange: Arc<crate::exchange::Exchange>,
    pub licensing: Arc<crate::licensing::Licensing>,
    pub risk: Arc<crate::risk::Risk>,
    pub screening: Arc<crate::screening::Screening>,
    pub consult: Arc<crate::consult::Consult>,
    pub peers: Arc<crate::peers::PeerDirectory>,
    pub revocations: Arc<crate::revocations::Revocations>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub audit: Arc<crate::audit::AuditLog>,
    pub taskforces: Arc<crate::taskforce::TaskForces>,
    /// The per-person task-force query budget, shared with the gRPC door.
    pub query_limit: Arc<QueryLimit>,
    /// Ends live-update streams when the node stops.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    csrf: csrf::CsrfKey,
}

impl Console {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        own: Jurisdiction,
        exchange: Arc<crate::exchange::Exchange>,
        licensing: Arc<crate::licensing::Licensing>,
        risk: Arc<crate::risk::Risk>,
        screening: Arc<crate::screening::Screening>,
        consult: Arc<crate::consult::Consult>,
        peers: Arc<crate::peers::PeerDirectory>,
        revocations: Arc<crate::revocations::Revocations>,
        metrics: Arc<crate::metrics::Metrics>,
        audit: Arc<crate::audit::AuditLog>,
        taskforces: Arc<crate::taskforce::TaskForces>,
        query_limit: Arc<QueryLimit>,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Self, crate::error::Error> {
        Ok(Console {
            own,
            exchange,
            licensing,
            risk,
            screening,
            consult,
            peers,
            revocations,
            metrics,
            audit,
            taskforces,
            query_limit,
            stopping,
            csrf: csrf::CsrfKey::generate()?,
        })
    }
}

/// The console's routes, behind the door and the security headers.
pub fn router(console: Arc<Console>) -> axum::Router {
    pages::routes()
        .route("/events", axum::routing::get(events::stream))
        .route("/charts/weekly.svg", axum::routing::get(charts::weekly))
        .route(
            "/charts/timeliness.svg",
            axum::routing::get(charts::timeliness),
        )
        .route("/static/console.js", axum::routing::get(headers::script))
        .route("/static/console.css", axum::routing::get(headers::style))
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            door::admit,
        ))
        .layer(axum::middleware::from_fn(headers::secure))
        .with_state(console)
}
