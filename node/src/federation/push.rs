//! Delivery of this node's own records to one peer: a long-lived push stream
//! fed from the durable outbox, and catch-up from the peer's own records.

use std::sync::Arc;
use std::time::Duration;

use tokio_stream::StreamExt;

use super::client::{CallError, PeerClient};
use super::links::{Delivery, LinkTiming};
use crate::exchange::{Exchange, BATCH};
use crate::identity::Jurisdiction;

/// Why a push or catch-up failed: the gRPC code (or `local` for this node's
/// own store) and the message.
#[derive(Debug)]
pub struct PushError {
    code: String,
    message: String,
}

impl PushError {
    fn local(e: impl std::fmt::Display) -> Self {
        PushError {
            code: "local".into(),
            message: e.to_string(),
        }
    }

    fn remote(e: CallError) -> Self {
        PushError {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }

    pub fn into_delivery(self, stage: &'static str) -> Delivery {
        Delivery::Failed {
            stage,
            code: self.code,
            message: self.message,
        }
    }
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Pushes the outbox for `peer` until aborted. Reports problems through `report`.
#[tracing::instrument(name = "pusher", skip_all, fields(node = %exchange.jurisdiction(), peer = %peer))]
pub async fn run_pusher(
    exchange: Arc<Exchange>,
    peer: Jurisdiction,
    client: Arc<dyn PeerClient>,
    timing: LinkTiming,
    report: std::sync::Arc<dyn Fn(Delivery) + Send + Sync>,
) {
    let mut changes = exchange.outbox_changes();
    let mut backoff = Backoff::new(timing);
    loop {
        let mut acknowledged = 0;
        let ended = push_session(
            &exchange,
            &peer,
            &*client,
            timing,
            &mut changes,
            &*report,
            &mut acknowledged,
        )
        .await;
        let e = match ended {
            Ok(never) => match never {},
            Err(e) => e,
        };
        tracing::debug!(%peer, error = %e, acknowledged, "push session ended");
        report(e.into_delivery("push"));
        tokio::time::sleep(backoff.after_session(acknowledged > 0)).await;
    }
}

/// The wait between push sessions. A session only ever ends in an error,
/// so what tells a healthy link from a failing one is whether the session
/// got anything acknowledged: after one that did, the wait starts again
/// from `heartbeat`; after each one that did not, it doubles up to
/// `max_backoff`.
#[derive(Clone, Copy, Debug)]
struct Backoff {
    timing: LinkTiming,
    next: Duration,
}

impl Backoff {
    fn new(timing: LinkTiming) -> Self {
        Backoff {
            timing,
            next: timing.heartbeat,
        }
    }

    /// How long to wait after a session; `progressed`: it had batches acknowledged.
    fn after_session(&mut self, progressed: bool) -> Duration {
        if progressed {
            self.next = self.timing.heartbeat;
        }
        let wait = self.next;
        self.next = (self.next * 2).min(self.timing.max_backoff);
        wait
    }
}

/// One push stream: sends outbox batches in sequence order, records
/// receipts, counting acknowledged batches in `acknowledged`. Runs until
/// the stream or the store fails; it never ends otherwise.
async fn push_session(
    exchange: &Exchange,
    peer: &Jurisdiction,
    client: &dyn PeerClient,
    timing: LinkTiming,
    changes: &mut tokio::sync::watch::Receiver<u64>,
    report: &(dyn Fn(Delivery) + Send + Sync),
    acknowledged: &mut u64,
) -> Result<std::convert::Infallible, PushError> {
    // Wait for something to send before opening a stream.
    let first = loop {
        changes.borrow_and_update();
        let pending = exchange
            .pending_for(peer, BATCH)
            .await
            .map_err(PushError::local)?;
        if !pending.is_empty() {
            break pending;
        }
        tokio::select! {
            _ = changes.changed() => {},
            // Periodic re-check: expiry, or a peer added back.
            _ = tokio::time::sleep(timing.heartbeat * 10) => {},
        }
    };
    let mut session = client
        .open_push(peer.clone())
        .await
        .map_err(PushError::remote)?;
    let mut pending = first;
    loop {
        let batch = pending.iter().map(|(_, e)| e.clone()).collect();
        let receipts = session.send(batch).await.map_err(PushError::remote)?;
        exchange
            .acknowledge(peer, &pending, &receipts)
            .await
            .map_err(PushError::local)?;
        *acknowledged += 1;
        report(Delivery::Flowing);
        loop {
            changes.borrow_and_update();
            pending = exchange
                .pending_for(peer, BATCH)
                .await
                .map_err(PushError::local)?;
            if !pending.is_empty() {
                break;
            }
            tokio::select! {
                _ = changes.changed() => {},
                _ = tokio::time::sleep(timing.heartbeat * 10) => {},
            }
        }
    }
}

/// Fetches `peer`'s records naming this node that are newer than what is held.
#[tracing::instrument(name = "catch_up", skip_all, fields(node = %exchange.jurisdiction(), peer = %peer))]
pub async fn catch_up(
    exchange: &Exchange,
    peer: &Jurisdiction,
    client: &dyn PeerClient,
) -> Result<usize, PushError> {
    let after = exchange.cursor(peer).map_err(PushError::local)?;
    let mut batches = client
        .catch_up(peer.clone(), after)
        .await
        .map_err(PushError::remote)?;
    let mut received = 0;
    while let Some(batch) = batches.next().await {
        let envelopes = batch.map_err(PushError::remote)?;
        exchange
            .receive(peer, &envelopes)
            .await
            .map_err(PushError::local)?;
        received += envelopes.len();
    }
    Ok(received)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing() -> LinkTiming {
        LinkTiming {
            heartbeat: Duration::from_millis(100),
            timeout: Duration::from_secs(1),
            max_backoff: Duration::from_millis(500),
        }
    }

    /// Waits after a run of sessions, `true` for one that had batches acknowledged.
    fn check(sessions: &[bool], expected_ms: &[u64]) {
        let mut backoff = Backoff::new(timing());
        let waits: Vec<u64> = sessions
            .iter()
            .map(|&progressed| backoff.after_session(progressed).as_millis() as u64)
            .collect();
        assert_eq!(waits, expected_ms, "sessions {sessions:?}");
    }

    #[test]
    fn the_push_backoff_doubles_while_failing_and_resets_after_progress() {
        // A failing link backs off up to the cap.
        check(&[false; 5], &[100, 200, 400, 500, 500]);
        // A session that delivered something starts the wait again.
        check(
            &[false, false, false, false, true, false, false],
            &[100, 200, 400, 500, 100, 200, 400],
        );
        // A healthy link that keeps delivering never waits longer than a heartbeat.
        check(&[true, true, true, true], &[100, 100, 100, 100]);
    }
}
