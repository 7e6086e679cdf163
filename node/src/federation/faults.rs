//! `Faulty`: a `PeerClient` wrapper that fails or slows calls to chosen
//! peers, in the manner of TiKV's simulator filters, so tests exercise
//! the retry, backoff and catch-up paths without cutting real sockets.
//!
//! Per peer: `partition` fails every call until `heal`; `drop_next(n)`
//! fails the next `n` calls; `delay` holds each call back before it is
//! made. A push stream already open is subject to the switches on every
//! batch, and a catch-up stream on every batch it yields.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio_stream::StreamExt;

use super::client::{CallError, CallFuture, EnvelopeBatches, HelloReply, PeerClient, PushSession};
use crate::exchange::{SignedEnvelope, SignedReceipt};
use crate::identity::{Caller, Jurisdiction};
use crate::taskforce::{
    BoxFuture, DetailRequest, PeerDetails, PeerFailure, PeerQuery, PeerTransport, SignedAnswer,
};
use crate::trust_bundle::TrustBundle;

#[derive(Clone, Debug, Default)]
struct Switches {
    partitioned: bool,
    drop_next: u32,
    delay: Duration,
    /// Calls this wrapper failed.
    failed: u64,
}

#[derive(Clone, Default)]
struct Faults(Arc<Mutex<BTreeMap<Jurisdiction, Switches>>>);

impl Faults {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<Jurisdiction, Switches>> {
        // Switches are plain values: a panic elsewhere cannot leave them torn.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits out `peer`'s delay, then decides the call: `Err` with the
    /// reason when a switch fails it.
    async fn admit(&self, peer: &Jurisdiction) -> Result<(), String> {
        let delay = self.lock().get(peer).map_or(Duration::ZERO, |s| s.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.decide(peer)
    }

    fn decide(&self, peer: &Jurisdiction) -> Result<(), String> {
        let mut faults = self.lock();
        let Some(s) = faults.get_mut(peer) else {
            return Ok(());
        };
        if s.partitioned {
            s.failed += 1;
            return Err(format!("partitioned from {peer} (injected fault)"));
        }
        if s.drop_next > 0 {
            s.drop_next -= 1;
            s.failed += 1;
            return Err(format!("call to {peer} dropped (injected fault)"));
        }
        Ok(())
    }
}

fn unavailable(why: String) -> CallError {
    CallError::failed("Unavailable", why)
}

/// Wraps a `PeerClient`; clones share the same switches.
#[derive(Clone)]
pub struct Faulty {
    inner: Arc<dyn PeerClient>,
    faults: Faults,
}

impl Faulty {
    pub fn new(inner: Arc<dyn PeerClient>) -> Self {
        Faulty {
            inner,
            faults: Faults::default(),
        }
    }

    fn set(&self, peer: &Jurisdiction, f: impl FnOnce(&mut Switches)) {
        f(self.faults.lock().entry(peer.clone()).or_default());
    }

    /// Every call to `peer` fails until `heal`.
    pub fn partition(&self, peer: &Jurisdiction) {
        self.set(peer, |s| s.partitioned = true);
    }

    /// Lifts `partition`, `drop_next` and `delay` for `peer`.
    pub fn heal(&self, peer: &Jurisdiction) {
        self.set(peer, |s| {
            s.partitioned = false;
            s.drop_next = 0;
            s.delay = Duration::ZERO;
        });
    }

    /// The next `n` calls to `peer` fail.
    pub fn drop_next(&self, peer: &Jurisdiction, n: u32) {
        self.set(peer, |s| s.drop_next = n);
    }

    /// Each call to `peer` waits `delay` before it is made.
    pub fn delay(&self, peer: &Jurisdiction, delay: Duration) {
        self.set(peer, |s| s.delay = delay);
    }

    /// How many calls to `peer` this wrapper failed so far.
    pub fn failed(&self, peer: &Jurisdiction) -> u64 {
        self.faults.lock().get(peer).map_or(0, |s| s.failed)
    }

    /// `call` on the inner client once the switches admit it; `fail` turns
    /// the reason into the call's error.
    fn gated<T, E>(
        &self,
        peer: &Jurisdiction,
        fail: fn(String) -> E,
        call: impl FnOnce(&dyn PeerClient) -> CallFuture<'static, Result<T, E>> + Send + 'static,
    ) -> CallFuture<'static, Result<T, E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let (faults, inner, peer) = (self.faults.clone(), self.inner.clone(), peer.clone());
        Box::pin(async move {
            faults.admit(&peer).await.map_err(fail)?;
            call(&*inner).await
        })
    }
}

struct FaultySession {
    inner: Box<dyn PushSession>,
    faults: Faults,
    peer: Jurisdiction,
}

impl PushSession for FaultySession {
    fn send(
        &mut self,
        batch: Vec<SignedEnvelope>,
    ) -> CallFuture<'_, Result<Vec<SignedReceipt>, CallError>> {
        Box::pin(async move {
            self.faults.admit(&self.peer).await.map_err(unavailable)?;
            self.inner.send(batch).await
        })
    }
}

impl PeerClient for Faulty {
    fn hello(
        &self,
        peer: Jurisdiction,
        me: Jurisdiction,
        sent_at_unix_ms: i64,
    ) -> CallFuture<'static, Result<HelloReply, CallError>> {
        let to = peer.clone();
        self.gated(&peer, unavailable, move |c| {
            c.hello(to, me, sent_at_unix_ms)
        })
    }

    fn open_push(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Box<dyn PushSession>, CallError>> {
        let (faults, to) = (self.faults.clone(), peer.clone());
        let open = self.gated(&peer, unavailable, move |c| c.open_push(to));
        Box::pin(async move {
            let inner = open.await?;
            Ok(Box::new(FaultySession {
                inner,
                faults,
                peer,
            }) as Box<dyn PushSession>)
        })
    }

    fn catch_up(
        &self,
        peer: Jurisdiction,
        after_seq: u64,
    ) -> CallFuture<'static, Result<EnvelopeBatches, CallError>> {
        let (faults, to) = (self.faults.clone(), peer.clone());
        let open = self.gated(&peer, unavailable, move |c| c.catch_up(to, after_seq));
        Box::pin(async move {
            let batches = open.await?;
            let gated = batches.map(move |batch| {
                faults.decide(&peer).map_err(unavailable)?;
                batch
            });
            Ok(Box::pin(gated) as EnvelopeBatches)
        })
    }

    fn announce_trust(
        &self,
        peer: Jurisdiction,
        bundle: Arc<TrustBundle>,
    ) -> CallFuture<'static, Result<bool, CallError>> {
        let to = peer.clone();
        self.gated(&peer, unavailable, move |c| c.announce_trust(to, bundle))
    }

    fn witness(
        &self,
        peer: Jurisdiction,
        checkpoint: Vec<u8>,
    ) -> CallFuture<'static, Result<(), CallError>> {
        let to = peer.clone();
        self.gated(&peer, unavailable, move |c| c.witness(to, checkpoint))
    }

    fn get_witnessed(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Vec<Vec<u8>>, CallError>> {
        let to = peer.clone();
        self.gated(&peer, unavailable, move |c| c.get_witnessed(to))
    }
}

impl PeerTransport for Faulty {
    fn query(
        &self,
        peer: Jurisdiction,
        query: PeerQuery,
        deadline: Duration,
    ) -> BoxFuture<Result<SignedAnswer, PeerFailure>> {
        let to = peer.clone();
        self.gated(&peer, PeerFailure::Unreachable, move |c| {
            c.query(to, query, deadline)
        })
    }

    fn request_details(
        &self,
        peer: Jurisdiction,
        reference: String,
        asker: Caller,
        justification: String,
        deadline: Duration,
    ) -> BoxFuture<Result<DetailRequest, PeerFailure>> {
        let to = peer.clone();
        self.gated(&peer, PeerFailure::Unreachable, move |c| {
            c.request_details(to, reference, asker, justification, deadline)
        })
    }

    fn get_details(
        &self,
        peer: Jurisdiction,
        id: String,
        asker: Caller,
        deadline: Duration,
    ) -> BoxFuture<Result<PeerDetails, PeerFailure>> {
        let to = peer.clone();
        self.gated(&peer, PeerFailure::Unreachable, move |c| {
            c.get_details(to, id, asker, deadline)
        })
    }
}
