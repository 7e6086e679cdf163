//! Authorization at the door of every service: the verified caller from the
//! TLS layer goes through `policy`, and handlers find it in the extensions.

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::identity::{Caller, Jurisdiction};
use crate::metrics::Metrics;
use crate::peers::PeerDirectory;
use crate::policy::{self, Service};
use crate::tls::ConnInfo;

/// Requests per identity, shared by every service's guard.
pub type RateLimit = governor::DefaultKeyedRateLimiter<Caller>;

/// A token bucket per certificate identity: `per_second` sustained, `burst` at once.
pub fn rate_limit(per_second: u32, burst: u32) -> Arc<RateLimit> {
    let rate = std::num::NonZeroU32::new(per_second).unwrap_or(std::num::NonZeroU32::MIN);
    let burst = std::num::NonZeroU32::new(burst).unwrap_or(rate);
    Arc::new(governor::RateLimiter::keyed(
        governor::Quota::per_second(rate).allow_burst(burst),
    ))
}

#[derive(Clone)]
pub struct Guard {
    service: Service,
    own: Jurisdiction,
    peers: Arc<PeerDirectory>,
    metrics: Arc<Metrics>,
    limit: Arc<RateLimit>,
}

impl Guard {
    pub fn new(
        service: Service,
        own: Jurisdiction,
        peers: Arc<PeerDirectory>,
        metrics: Arc<Metrics>,
        limit: Arc<RateLimit>,
    ) -> Self {
        Guard {
            service,
            own,
            peers,
            metrics,
            limit,
        }
    }
}

impl Interceptor for Guard {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let caller = req
            .extensions()
            .get::<ConnInfo>()
            .map(|c| c.caller.clone())
            .ok_or_else(|| {
                Status::unauthenticated("no verified client certificate on this connection")
            })?;
        // A removed peer's connection may outlive its registration: check now, not at handshake.
        let is_peer = self.peers.is_peer(&caller.jurisdiction);
        if let Err(denied) = policy::authorize(self.service, &caller, &self.own, is_peer) {
            self.metrics.denied(&format!("{:?}", self.service));
            tracing::warn!(%caller, service = ?self.service, reason = %denied, "request denied");
            return Err(Status::permission_denied(denied.to_string()));
        }
        if self.limit.check_key(&caller).is_err() {
            self.metrics.rate_limited();
            return Err(Status::resource_exhausted(format!(
                "rate limit: {caller} is sending requests faster than this node allows; retry later"
            )));
        }
        req.extensions_mut().insert(caller);
        Ok(req)
    }
}

/// The caller a `Guard` admitted.
pub fn caller<T>(req: &Request<T>) -> Result<Caller, Status> {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))
}
