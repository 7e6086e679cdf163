//! Audit witnesses: every signed checkpoint of this node goes to every peer,
//! which keeps it; a history rewritten after a checkpoint was witnessed no
//! longer matches what the peers hold.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::client::{CallError, PeerClient};
use super::links::LinkTiming;
use crate::audit::{AuditLog, Checkpoint};
use crate::identity::Jurisdiction;

/// Sends each new own checkpoint to `peer`, retrying until it is accepted.
#[tracing::instrument(name = "witness", skip_all, fields(peer = %peer))]
pub async fn send_checkpoints(
    mut latest: watch::Receiver<Option<Checkpoint>>,
    peer: Jurisdiction,
    client: Arc<dyn PeerClient>,
    timing: LinkTiming,
) {
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
                match client.witness(peer.clone(), checkpoint.clone()).await {
                    Ok(()) => {
                        sent = Some(c.count);
                        break;
                    }
                    Err(error) => {
                        tracing::debug!(%peer, %error, "checkpoint not witnessed yet");
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

/// What one peer holds of this node's checkpoints, judged against the
/// chain as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessReport {
    pub peer: Jurisdiction,
    /// Checkpoints the peer returned (0 when it could not be asked).
    pub checkpoints: usize,
    pub ok: bool,
    /// Why not `ok`: no link, unreachable, or the first checkpoint that does
    /// not verify or no longer matches the chain.
    pub detail: String,
}

/// How long `audit verify --with-witnesses` waits for each witness.
const WITNESS_DEADLINE: Duration = Duration::from_secs(10);

/// Asks every peer in `peers`, in order, for the checkpoints of this node
/// it witnessed, and checks each against the audit chain (`AuditLog::check_witnessed`).
#[tracing::instrument(name = "check_witnesses", skip_all)]
pub async fn check_witnesses(
    client: &dyn PeerClient,
    audit: &AuditLog,
    peers: impl IntoIterator<Item = Jurisdiction>,
) -> Vec<WitnessReport> {
    let count = audit.count().await;
    let mut reports = Vec::new();
    for peer in peers {
        let report = match fetch_witnessed(client, &peer, WITNESS_DEADLINE).await {
            Err(Fetch::NoLink) => WitnessReport {
                peer,
                checkpoints: 0,
                ok: false,
                detail: "no link to this peer".into(),
            },
            Err(Fetch::Unreachable(e)) => WitnessReport {
                peer,
                checkpoints: 0,
                ok: false,
                detail: format!("unreachable: {e}"),
            },
            Ok(held) => {
                let problem = audit.check_witnessed(&held, count).err();
                WitnessReport {
                    peer,
                    checkpoints: held.len(),
                    ok: problem.is_none(),
                    detail: problem.unwrap_or_default(),
                }
            }
        };
        reports.push(report);
    }
    reports
}

enum Fetch {
    NoLink,
    Unreachable(String),
}

/// The checkpoints of this node that `peer` holds as a witness.
async fn fetch_witnessed(
    client: &dyn PeerClient,
    peer: &Jurisdiction,
    deadline: Duration,
) -> Result<Vec<Checkpoint>, Fetch> {
    let held = tokio::time::timeout(deadline, client.get_witnessed(peer.clone()))
        .await
        .map_err(|_| Fetch::Unreachable(format!("no answer within {deadline:?}")))?
        .map_err(|e| match e {
            CallError::NoLink(_) => Fetch::NoLink,
            e @ CallError::Failed { .. } => Fetch::Unreachable(e.to_string()),
        })?;
    held.iter()
        .map(|b| Checkpoint::from_bytes(b))
        .collect::<Result<_, _>>()
        .map_err(Fetch::Unreachable)
}
