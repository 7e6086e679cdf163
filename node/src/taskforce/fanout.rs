//! Asking peers: the narrow interface task forces use to reach other
//! member nodes, and the parallel fan-out with a deadline per peer.
//!
//! `PeerTransport` is the task-force half of `federation::PeerClient`,
//! so questions go out through the same client as every other peer call
//! (and its fault-injecting wrapper); tests substitute their own to delay,
//! drop or refuse.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::answer::SignedAnswer;
use super::model::{DetailRequest, Query};
use crate::error::Error;
use crate::identity::{Caller, Jurisdiction};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Why a peer gave no answer.
#[derive(Debug)]
pub enum PeerFailure {
    /// No link, connection refused or broken.
    Unreachable(String),
    /// No answer within the deadline.
    TimedOut(Duration),
    /// The peer answered with a refusal (not a member, closed, rate limit …).
    Refused(Error),
}

impl std::fmt::Display for PeerFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerFailure::Unreachable(why) => write!(f, "unreachable: {why}"),
            PeerFailure::TimedOut(d) => write!(f, "no answer within {} ms", d.as_millis()),
            PeerFailure::Refused(e) => write!(f, "refused: {e}"),
        }
    }
}

/// A question relayed to a peer on behalf of one of this node's members.
#[derive(Clone, Debug)]
pub struct PeerQuery {
    pub taskforce: String,
    pub asker: Caller,
    pub query: Query,
}

/// What a detail request's owner says about it.
#[derive(Clone, Debug)]
pub struct PeerDetails {
    pub request: DetailRequest,
    /// Set once approved.
    pub answer: Option<SignedAnswer>,
}

/// How task forces reach other member nodes.
pub trait PeerTransport: Send + Sync + 'static {
    fn query(
        &self,
        peer: Jurisdiction,
        query: PeerQuery,
        deadline: Duration,
    ) -> BoxFuture<Result<SignedAnswer, PeerFailure>>;

    fn request_details(
        &self,
        peer: Jurisdiction,
        reference: String,
        asker: Caller,
        justification: String,
        deadline: Duration,
    ) -> BoxFuture<Result<DetailRequest, PeerFailure>>;

    fn get_details(
        &self,
        peer: Jurisdiction,
        id: String,
        asker: Caller,
        deadline: Duration,
    ) -> BoxFuture<Result<PeerDetails, PeerFailure>>;
}

/// Runs `call` with a deadline: a peer that does not answer in time is
/// `TimedOut`, whatever the transport does.
pub async fn within<T>(
    deadline: Duration,
    call: BoxFuture<Result<T, PeerFailure>>,
) -> (Result<T, PeerFailure>, Duration) {
    let started = Instant::now();
    let out = match tokio::time::timeout(deadline, call).await {
        Ok(r) => r,
        Err(_) => Err(PeerFailure::TimedOut(deadline)),
    };
    (out, started.elapsed())
}

/// Like [`fan_out`], but hands each peer's outcome over as soon as it
/// arrives (in the order they finish), so an asker can see the fast
/// answers while a slow peer is still thinking.
pub fn fan_out_each(
    transport: &std::sync::Arc<dyn PeerTransport>,
    peers: &[Jurisdiction],
    query: &PeerQuery,
    deadline: Duration,
) -> tokio::sync::mpsc::Receiver<(Jurisdiction, Result<SignedAnswer, PeerFailure>, Duration)> {
    let (tx, rx) = tokio::sync::mpsc::channel(peers.len().max(1));
    for peer in peers {
        let call = transport.query(peer.clone(), query.clone(), deadline);
        let (tx, peer) = (tx.clone(), peer.clone());
        tokio::spawn(async move {
            let (result, elapsed) = within(deadline, call).await;
            // The asker may have gone: its answer is then nobody's.
            let _ = tx.send((peer, result, elapsed)).await;
        });
    }
    rx
}

/// Asks every peer in parallel, each within `deadline`; returns their
/// outcomes in the order of `peers`. A slow or dead peer delays nobody
/// else, and the whole fan-out takes at most about one deadline.
pub async fn fan_out(
    transport: &std::sync::Arc<dyn PeerTransport>,
    peers: &[Jurisdiction],
    query: &PeerQuery,
    deadline: Duration,
) -> Vec<(Jurisdiction, Result<SignedAnswer, PeerFailure>, Duration)> {
    let mut each = fan_out_each(transport, peers, query, deadline);
    let mut out = Vec::with_capacity(peers.len());
    while let Some(done) = each.recv().await {
        out.push(done);
    }
    for peer in peers {
        if !out.iter().any(|(p, _, _)| p == peer) {
            out.push((
                peer.clone(),
                Err(PeerFailure::Unreachable("query task failed".into())),
                Duration::ZERO,
            ));
        }
    }
    out.sort_by_key(|(p, _, _)| peers.iter().position(|q| q == p));
    out
}
