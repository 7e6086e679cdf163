//! Delivery of this node's own records to one peer: a long-lived push stream
//! fed from the durable outbox, and catch-up from the peer's own records.

use std::sync::Arc;
use std::time::Duration;

use concord_proto::v1 as pb;
use concord_proto::v1::federation_service_client::FederationServiceClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

use super::links::{describe_status, Delivery, LinkTiming};
use super::wire::{envelope_in, envelope_out, receipt_in};
use crate::exchange::{Exchange, BATCH};
use crate::identity::Jurisdiction;

/// Generous: a full batch costs the receiver one verify per envelope and an fsync.
const RESPONSE_DEADLINE: Duration = Duration::from_secs(30);
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

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

    fn remote(s: &tonic::Status) -> Self {
        PushError {
            code: format!("{:?}", s.code()),
            message: describe_status(s),
        }
    }

    fn other(code: &str, message: impl Into<String>) -> Self {
        PushError {
            code: code.into(),
            message: message.into(),
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

fn client(channel: Channel) -> FederationServiceClient<Channel> {
    FederationServiceClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE)
}

/// Pushes the outbox for `peer` until aborted. Reports problems through `report`.
pub async fn run_pusher(
    exchange: Arc<Exchange>,
    peer: Jurisdiction,
    channel: Channel,
    timing: LinkTiming,
    report: std::sync::Arc<dyn Fn(Delivery) + Send + Sync>,
) {
    let mut changes = exchange.outbox_changes();
    let mut backoff = timing.heartbeat;
    loop {
        match push_session(
            &exchange,
            &peer,
            channel.clone(),
            timing,
            &mut changes,
            &*report,
        )
        .await
        {
            Ok(()) => backoff = timing.heartbeat,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "push session ended");
                report(e.into_delivery("push"));
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(timing.max_backoff);
    }
}

/// One push stream: sends outbox batches in sequence order, records receipts.
async fn push_session(
    exchange: &Exchange,
    peer: &Jurisdiction,
    channel: Channel,
    timing: LinkTiming,
    changes: &mut tokio::sync::watch::Receiver<u64>,
    report: &(dyn Fn(Delivery) + Send + Sync),
) -> Result<(), PushError> {
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
    let (tx, rx) = mpsc::channel::<pb::PushRequest>(1);
    let mut responses = client(channel)
        .push(ReceiverStream::new(rx))
        .await
        .map_err(|s| PushError::remote(&s))?
        .into_inner();
    let mut pending = first;
    loop {
        let request = pb::PushRequest {
            envelopes: pending
                .iter()
                .map(|(_, e)| envelope_out(e.clone()))
                .collect(),
        };
        tx.send(request)
            .await
            .map_err(|_| PushError::other("Unavailable", "stream closed"))?;
        let response = tokio::time::timeout(RESPONSE_DEADLINE, responses.message())
            .await
            .map_err(|_| {
                PushError::other(
                    "DeadlineExceeded",
                    format!("no receipts within {RESPONSE_DEADLINE:?}"),
                )
            })?
            .map_err(|s| PushError::remote(&s))?
            .ok_or_else(|| PushError::other("Unavailable", "peer closed the stream"))?;
        let receipts: Vec<_> = response.receipts.into_iter().map(receipt_in).collect();
        exchange
            .acknowledge(peer, &pending, &receipts)
            .await
            .map_err(PushError::local)?;
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
pub async fn catch_up(
    exchange: &Exchange,
    peer: &Jurisdiction,
    channel: Channel,
) -> Result<usize, PushError> {
    let after = exchange.cursor(peer).map_err(PushError::local)?;
    let request = pb::CatchUpRequest { after_seq: after };
    let mut stream = client(channel)
        .catch_up(request)
        .await
        .map_err(|s| PushError::remote(&s))?
        .into_inner();
    let mut received = 0;
    while let Some(batch) = stream.message().await.map_err(|s| PushError::remote(&s))? {
        let envelopes: Vec<_> = batch.envelopes.into_iter().map(envelope_in).collect();
        exchange
            .receive(peer, &envelopes)
            .await
            .map_err(PushError::local)?;
        received += envelopes.len();
    }
    Ok(received)
}
