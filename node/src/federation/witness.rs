//! Audit witnesses: every signed checkpoint of this node goes to every peer,
//! which keeps it; a history rewritten after a checkpoint was witnessed no
//! longer matches what the peers hold.

use std::time::Duration;

use concord_proto::v1 as pb;
use concord_proto::v1::federation_service_client::FederationServiceClient;
use tokio::sync::watch;
use tonic::transport::Channel;

use super::links::{describe_status, LinkTiming};
use crate::audit::Checkpoint;
use crate::identity::Jurisdiction;

/// Sends each new own checkpoint to `peer`, retrying until it is accepted.
#[tracing::instrument(name = "witness", skip_all, fields(peer = %peer))]
pub async fn send_checkpoints(
    mut latest: watch::Receiver<Option<Checkpoint>>,
    peer: Jurisdiction,
    channel: Channel,
    timing: LinkTiming,
) {
    let mut client = FederationServiceClient::new(channel);
    let mut sent: Option<u64> = None;
    loop {
        let current = latest.borrow_and_update().clone();
        if let Some(c) = current.filter(|c| Some(c.count) != sent) {
            let checkpoint = match c.to_bytes() {
                Ok(bytes) => bytes,
                Err(error) => {
                    // Encoding is deterministic: retrying would fail again.
                    tracing::error!(%peer, %error, "checkpoint not sent to the witness");
                    sent = Some(c.count);
                    continue;
                }
            };
            let mut backoff = timing.heartbeat;
            loop {
                match client
                    .witness(pb::WitnessRequest {
                        checkpoint: checkpoint.clone(),
                    })
                    .await
                {
                    Ok(_) => {
                        sent = Some(c.count);
                        break;
                    }
                    Err(status) => {
                        tracing::debug!(%peer, error = %describe_status(&status), "checkpoint not witnessed yet");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(timing.max_backoff);
                    }
                }
            }
        }
        if latest.changed().await.is_err() {
            return;
        }
    }
}

/// The checkpoints of this node that `peer` holds as a witness.
#[tracing::instrument(name = "fetch_witnessed", skip_all)]
pub async fn fetch_witnessed(
    channel: Channel,
    deadline: Duration,
) -> Result<Vec<Checkpoint>, String> {
    let mut client = FederationServiceClient::new(channel);
    let resp = tokio::time::timeout(deadline, client.get_witnessed(pb::GetWitnessedRequest {}))
        .await
        .map_err(|_| format!("no answer within {deadline:?}"))?
        .map_err(|s| describe_status(&s))?;
    resp.into_inner()
        .checkpoints
        .iter()
        .map(|b| Checkpoint::from_bytes(b))
        .collect()
}
