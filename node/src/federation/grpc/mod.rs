//! `GrpcPeerClient`: `PeerClient` over tonic, on the links' channels. It
//! holds the channels only; what to send and when is the callers' business.

mod taskforce;

use std::sync::Arc;
use std::time::Duration;

use concord_proto::v1 as pb;
use concord_proto::v1::federation_service_client::FederationServiceClient;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

use super::channels::LinkChannels;
use super::client::{CallError, CallFuture, EnvelopeBatches, HelloReply, PeerClient, PushSession};
use super::wire::{envelope_in, envelope_out, receipt_in, trust_bundle_out};
use crate::exchange::{RecordKind, SignedEnvelope, SignedReceipt};
use crate::identity::Jurisdiction;
use crate::trust_bundle::TrustBundle;

/// Generous: a full batch costs the receiver one verify per envelope and an fsync.
const RESPONSE_DEADLINE: Duration = Duration::from_secs(30);
/// Push and catch-up messages carry batches of whole envelopes.
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

pub struct GrpcPeerClient {
    channels: LinkChannels,
}

impl GrpcPeerClient {
    pub fn new(channels: LinkChannels) -> Self {
        GrpcPeerClient { channels }
    }

    fn channel(&self, peer: &Jurisdiction) -> Result<Channel, CallError> {
        self.channels
            .get(peer)
            .ok_or_else(|| CallError::NoLink(peer.clone()))
    }

    /// The client for calls that carry small messages (tonic's default limits).
    fn small(&self, peer: &Jurisdiction) -> Result<FederationServiceClient<Channel>, CallError> {
        self.channel(peer).map(FederationServiceClient::new)
    }

    /// The client for push and catch-up, whose messages carry batches.
    fn batches(&self, peer: &Jurisdiction) -> Result<FederationServiceClient<Channel>, CallError> {
        self.small(peer).map(|c| {
            c.max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE)
        })
    }
}

/// A failed call as `CallError`: its code name and the whole cause chain.
pub fn status_error(status: &tonic::Status) -> CallError {
    CallError::Failed {
        code: format!("{:?}", status.code()),
        message: describe_status(status),
    }
}

/// A status with its whole cause chain: "transport error" alone helps no one.
pub fn describe_status(status: &tonic::Status) -> String {
    let mut msg = format!("{:?}: {}", status.code(), status.message());
    let mut source = std::error::Error::source(status);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

struct GrpcPush {
    tx: mpsc::Sender<pb::PushRequest>,
    responses: tonic::Streaming<pb::PushResponse>,
}

impl PushSession for GrpcPush {
    fn send(
        &mut self,
        batch: Vec<SignedEnvelope>,
    ) -> CallFuture<'_, Result<Vec<SignedReceipt>, CallError>> {
        Box::pin(async move {
            let request = pb::PushRequest {
                envelopes: batch.into_iter().map(envelope_out).collect(),
            };
            self.tx
                .send(request)
                .await
                .map_err(|_| CallError::failed("Unavailable", "stream closed"))?;
            let response = tokio::time::timeout(RESPONSE_DEADLINE, self.responses.message())
                .await
                .map_err(|_| {
                    CallError::failed(
                        "DeadlineExceeded",
                        format!("no receipts within {RESPONSE_DEADLINE:?}"),
                    )
                })?
                .map_err(|s| status_error(&s))?
                .ok_or_else(|| CallError::failed("Unavailable", "peer closed the stream"))?;
            Ok(response.receipts.into_iter().map(receipt_in).collect())
        })
    }
}

impl PeerClient for GrpcPeerClient {
    fn hello(
        &self,
        peer: Jurisdiction,
        me: Jurisdiction,
        sent_at_unix_ms: i64,
    ) -> CallFuture<'static, Result<HelloReply, CallError>> {
        let client = self.small(&peer);
        Box::pin(async move {
            let request = pb::HelloRequest {
                jurisdiction: me.to_string(),
                sent_at_unix_ms,
            };
            let reply = client?
                .hello(request)
                .await
                .map_err(|s| status_error(&s))?
                .into_inner();
            Ok(HelloReply {
                jurisdiction: reply.jurisdiction,
                held_from_you: reply.held_from_you,
                // A kind this node does not know is no id of its own.
                held_ids_from_you: reply
                    .held_ids_from_you
                    .iter()
                    .filter_map(|h| {
                        let kind = [
                            RecordKind::Alert,
                            RecordKind::Denial,
                            RecordKind::Consultation,
                        ]
                        .into_iter()
                        .find(|k| k.as_str() == h.kind)?;
                        Some((kind, h.highest))
                    })
                    .collect(),
            })
        })
    }

    fn open_push(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Box<dyn PushSession>, CallError>> {
        let client = self.batches(&peer);
        Box::pin(async move {
            // One batch in flight: the next is read from the outbox only
            // after the receipts of this one are recorded.
            let (tx, rx) = mpsc::channel::<pb::PushRequest>(1);
            let responses = client?
                .push(ReceiverStream::new(rx))
                .await
                .map_err(|s| status_error(&s))?
                .into_inner();
            Ok(Box::new(GrpcPush { tx, responses }) as Box<dyn PushSession>)
        })
    }

    fn catch_up(
        &self,
        peer: Jurisdiction,
        after_seq: u64,
    ) -> CallFuture<'static, Result<EnvelopeBatches, CallError>> {
        let client = self.batches(&peer);
        Box::pin(async move {
            let stream = client?
                .catch_up(pb::CatchUpRequest { after_seq })
                .await
                .map_err(|s| status_error(&s))?
                .into_inner();
            let batches = stream.map(|batch| {
                batch
                    .map(|b| b.envelopes.into_iter().map(envelope_in).collect())
                    .map_err(|s| status_error(&s))
            });
            Ok(Box::pin(batches) as EnvelopeBatches)
        })
    }

    fn announce_trust(
        &self,
        peer: Jurisdiction,
        bundle: Arc<TrustBundle>,
    ) -> CallFuture<'static, Result<bool, CallError>> {
        let client = self.small(&peer);
        Box::pin(async move {
            let reply = client?
                .announce_trust(trust_bundle_out(&bundle))
                .await
                .map_err(|s| status_error(&s))?;
            Ok(reply.get_ref().updated)
        })
    }

    fn witness(
        &self,
        peer: Jurisdiction,
        checkpoint: Vec<u8>,
    ) -> CallFuture<'static, Result<(), CallError>> {
        let client = self.small(&peer);
        Box::pin(async move {
            client?
                .witness(pb::WitnessRequest { checkpoint })
                .await
                .map_err(|s| status_error(&s))?;
            Ok(())
        })
    }

    fn get_witnessed(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Vec<Vec<u8>>, CallError>> {
        let client = self.small(&peer);
        Box::pin(async move {
            let reply = client?
                .get_witnessed(pb::GetWitnessedRequest {})
                .await
                .map_err(|s| status_error(&s))?;
            Ok(reply.into_inner().checkpoints)
        })
    }
}
