use std::pin::Pin;
use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::federation_service_server::FederationService;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use super::auth::caller;
use crate::audit::Checkpoint;
use crate::clock::now_unix_ms;
use crate::context::NodeContext;
use crate::exchange::BATCH;
use crate::federation::wire::{envelope_in, envelope_out, receipt_out};

pub struct FederationApi {
    ctx: Arc<NodeContext>,
    /// Flips to true when the node stops: long-lived streams end so that
    /// graceful shutdown is not held open by peers' push streams.
    stopping: watch::Receiver<bool>,
}

impl FederationApi {
    pub fn new(ctx: Arc<NodeContext>, stopping: watch::Receiver<bool>) -> Self {
        FederationApi { ctx, stopping }
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl FederationService for FederationApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Hello", caller = %crate::api::auth::who(&req)))]
    async fn hello(
        &self,
        req: Request<pb::HelloRequest>,
    ) -> Result<Response<pb::HelloResponse>, Status> {
        let who = caller(&req)?;
        if req.get_ref().jurisdiction != who.jurisdiction.as_str() {
            return Err(Status::invalid_argument(format!(
                "hello claims jurisdiction {:?} but the certificate names {}",
                req.get_ref().jurisdiction,
                who.jurisdiction
            )));
        }
        let held_from_you = self.ctx.exchange.cursor(&who.jurisdiction)?;
        let held_ids_from_you = self
            .ctx
            .exchange
            .held_ids_from(&who.jurisdiction)?
            .into_iter()
            .map(|(kind, highest)| pb::HeldIds {
                kind: kind.as_str().to_owned(),
                highest,
            })
            .collect();
        Ok(Response::new(pb::HelloResponse {
            jurisdiction: self.ctx.jurisdiction.to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            time_unix_ms: now_unix_ms(),
            held_from_you,
            held_ids_from_you,
        }))
    }

    type PushStream = BoxStream<pb::PushResponse>;

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Push", caller = %crate::api::auth::who(&req)))]
    async fn push(
        &self,
        req: Request<Streaming<pb::PushRequest>>,
    ) -> Result<Response<Self::PushStream>, Status> {
        let sender = caller(&req)?.jurisdiction;
        let gate = super::auth::StreamGate::new(&req, self.ctx.revocations.clone())?;
        let mut inbound = req.into_inner();
        let exchange = self.ctx.exchange.clone();
        let metrics = self.ctx.metrics.clone();
        let stopping = crate::shutdown::requested(self.stopping.clone());
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(tracing::Instrument::in_current_span(async move {
            tokio::pin!(stopping);
            loop {
                let next = tokio::select! {
                    next = inbound.message() => next,
                    _ = &mut stopping => {
                        let _ = tx.send(Err(Status::unavailable("node is shutting down"))).await;
                        break;
                    }
                };
                let batch = match next {
                    Ok(Some(batch)) => batch,
                    Ok(None) => break,
                    Err(status) => {
                        let _ = tx.send(Err(super::malformed::relabel_status(status))).await;
                        break;
                    }
                };
                if batch.envelopes.len() > BATCH {
                    let msg = format!(
                        "at most {BATCH} envelopes per push, got {}",
                        batch.envelopes.len()
                    );
                    let _ = tx.send(Err(Status::resource_exhausted(msg))).await;
                    break;
                }
                if let Err(status) = gate.check() {
                    let _ = tx.send(Err(status)).await;
                    break;
                }
                let envelopes: Vec<_> = batch.envelopes.into_iter().map(envelope_in).collect();
                match exchange.receive(&sender, &envelopes).await {
                    Ok(receipts) => {
                        metrics.received(receipts.len() as u64);
                        let receipts = receipts.into_iter().map(receipt_out).collect();
                        if tx.send(Ok(pb::PushResponse { receipts })).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(peer = %sender, error = %e, "push refused");
                        let status: Status = e.into();
                        metrics.refused(sender.as_str(), &format!("{:?}", status.code()));
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                }
            }
        }));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AnnounceTrust", caller = %crate::api::auth::who(&req)))]
    async fn announce_trust(
        &self,
        req: Request<pb::TrustBundle>,
    ) -> Result<Response<pb::AnnounceTrustResponse>, Status> {
        let peer = caller(&req)?;
        let bundle = super::convert::trust_bundle(Some(req.into_inner()))?;
        crate::policy::may_announce(&peer, &bundle.jurisdiction)?;
        let taken = self
            .ctx
            .peers
            .take_announced(&peer.jurisdiction, bundle, self.ctx.accept_announced_keys)
            .await?;
        if let Some(record) = &taken {
            tracing::info!(peer = %peer.jurisdiction, key_id = %record.bundle.signing_key_id(), "peer's announced bundle taken");
        }
        Ok(Response::new(pb::AnnounceTrustResponse {
            updated: taken.is_some(),
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Witness", caller = %crate::api::auth::who(&req)))]
    async fn witness(
        &self,
        req: Request<pb::WitnessRequest>,
    ) -> Result<Response<pb::WitnessResponse>, Status> {
        let peer = caller(&req)?.jurisdiction;
        let checkpoint =
            Checkpoint::from_bytes(&req.get_ref().checkpoint).map_err(Status::invalid_argument)?;
        let peers = self.ctx.peers.current();
        let registered = peers
            .get(&peer)
            .ok_or_else(|| Status::permission_denied(format!("{peer} is not a registered peer")))?;
        self.ctx
            .audit
            .witness(peer.as_str(), &registered.bundle.keyring(), checkpoint)
            .await?;
        Ok(Response::new(pb::WitnessResponse {}))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetWitnessed", caller = %crate::api::auth::who(&req)))]
    async fn get_witnessed(
        &self,
        req: Request<pb::GetWitnessedRequest>,
    ) -> Result<Response<pb::GetWitnessedResponse>, Status> {
        let peer = caller(&req)?.jurisdiction;
        let checkpoints = self
            .ctx
            .audit
            .witnessed_for(peer.as_str())?
            .iter()
            .map(Checkpoint::to_bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(pb::GetWitnessedResponse { checkpoints }))
    }

    type CatchUpStream = BoxStream<pb::PushRequest>;

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CatchUp", caller = %crate::api::auth::who(&req)))]
    async fn catch_up(
        &self,
        req: Request<pb::CatchUpRequest>,
    ) -> Result<Response<Self::CatchUpStream>, Status> {
        let peer = caller(&req)?.jurisdiction;
        let mut after = req.get_ref().after_seq;
        let exchange = self.ctx.exchange.clone();
        let (tx, rx) = mpsc::channel(2);
        tokio::spawn(tracing::Instrument::in_current_span(async move {
            loop {
                let batch = match exchange.catch_up(&peer, after, BATCH) {
                    Ok(b) if b.is_empty() => break,
                    Ok(b) => b,
                    Err(e) => {
                        let _ = tx.send(Err(e.into())).await;
                        break;
                    }
                };
                after = batch.last().map_or(after, |(seq, _)| *seq);
                let envelopes = batch.into_iter().map(|(_, e)| envelope_out(e)).collect();
                if tx.send(Ok(pb::PushRequest { envelopes })).await.is_err() {
                    break;
                }
            }
        }));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
