//! Authorization at the door of every service: the verified caller from the
//! TLS layer goes through `policy`, and handlers find it in the extensions.

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

use crate::identity::{Caller, Jurisdiction};
use crate::metrics::Metrics;
use crate::peers::PeerDirectory;
use crate::policy::{self, Service};
use crate::revocations::{Revocation, Revocations};
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
    revocations: Arc<Revocations>,
}

impl Guard {
    pub fn new(
        service: Service,
        own: Jurisdiction,
        peers: Arc<PeerDirectory>,
        metrics: Arc<Metrics>,
        limit: Arc<RateLimit>,
        revocations: Arc<Revocations>,
    ) -> Self {
        Guard {
            service,
            own,
            peers,
            metrics,
            limit,
            revocations,
        }
    }
}

impl Interceptor for Guard {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let (caller, cert_sha256) = req
            .extensions()
            .get::<ConnInfo>()
            .map(|c| (c.caller.clone(), c.cert_sha256))
            .ok_or_else(|| {
                Status::unauthenticated("no verified client certificate on this connection")
            })?;
        if let Some(r) = self.revocations.blocking(&caller, &cert_sha256) {
            self.metrics.denied(&format!("{:?}", self.service));
            tracing::warn!(%caller, revocation = %r.target.key(), "revoked certificate refused");
            return Err(revoked(&caller, &r));
        }
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

fn revoked(caller: &Caller, r: &Revocation) -> Status {
    Status::unauthenticated(format!(
        "the certificate of {caller} is revoked ({}, by {}: {})",
        r.target.key(),
        r.actor,
        r.reason
    ))
}

/// The revocation check for long-lived streams: the `Guard` admits a stream
/// once, so the stream re-checks before each item it accepts or sends.
#[derive(Clone)]
pub struct StreamGate {
    revocations: Arc<Revocations>,
    caller: Caller,
    cert_sha256: [u8; 32],
}

impl StreamGate {
    pub fn new<T>(req: &Request<T>, revocations: Arc<Revocations>) -> Result<Self, Status> {
        Ok(StreamGate {
            revocations,
            caller: caller(req)?,
            cert_sha256: caller_cert_sha256(req)?,
        })
    }

    pub fn check(&self) -> Result<(), Status> {
        match self.revocations.blocking(&self.caller, &self.cert_sha256) {
            None => Ok(()),
            Some(r) => {
                tracing::warn!(caller = %self.caller, revocation = %r.target.key(), "stream of a revoked certificate closed");
                Err(revoked(&self.caller, &r))
            }
        }
    }
}

/// SHA-256 of the certificate the request was made with.
pub fn caller_cert_sha256<T>(req: &Request<T>) -> Result<[u8; 32], Status> {
    req.extensions()
        .get::<ConnInfo>()
        .map(|c| c.cert_sha256)
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))
}

/// Who is calling, for log spans: the caller's identity, or `-` before
/// authentication.
pub fn who<T>(req: &Request<T>) -> String {
    req.extensions()
        .get::<Caller>()
        .map_or_else(|| "-".to_owned(), |c| c.to_string())
}

/// The caller a `Guard` admitted.
pub fn caller<T>(req: &Request<T>) -> Result<Caller, Status> {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("request was not authenticated"))
}
