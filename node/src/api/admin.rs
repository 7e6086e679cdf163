use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::admin_service_server::AdminService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::convert;
use crate::context::NodeContext;
use crate::federation::LinkState;

pub struct AdminApi {
    ctx: Arc<NodeContext>,
}

impl AdminApi {
    pub fn new(ctx: Arc<NodeContext>) -> Self {
        AdminApi { ctx }
    }
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn status(
        &self,
        _req: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        Ok(Response::new(convert::status(
            self.ctx.status().await,
            env!("CARGO_PKG_VERSION"),
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn add_peer(
        &self,
        req: Request<pb::AddPeerRequest>,
    ) -> Result<Response<pb::Peer>, Status> {
        let who = caller(&req)?;
        let bundle = convert::trust_bundle(req.into_inner().trust)?;
        let record = self.ctx.peers.add(&who.to_string(), bundle).await?;
        tracing::info!(actor = %who, peer = %record.bundle.jurisdiction, key_id = %record.bundle.signing_key_id(), "peer added");
        Ok(Response::new(convert::peer(&record, &LinkState::default())))
    }

    async fn list_peers(
        &self,
        _req: Request<pb::ListPeersRequest>,
    ) -> Result<Response<pb::ListPeersResponse>, Status> {
        let peers = self
            .ctx
            .peers_with_links()
            .iter()
            .map(convert::peer_view)
            .collect();
        Ok(Response::new(pb::ListPeersResponse { peers }))
    }

    #[tracing::instrument(skip_all)]
    async fn remove_peer(
        &self,
        req: Request<pb::RemovePeerRequest>,
    ) -> Result<Response<pb::RemovePeerResponse>, Status> {
        let who = caller(&req)?;
        let jurisdiction = convert::jurisdiction("jurisdiction", &req.into_inner().jurisdiction)?;
        self.ctx
            .peers
            .remove(&who.to_string(), &jurisdiction)
            .await?;
        tracing::info!(actor = %who, peer = %jurisdiction, "peer removed");
        Ok(Response::new(pb::RemovePeerResponse {}))
    }

    async fn create_group(
        &self,
        req: Request<pb::CreateGroupRequest>,
    ) -> Result<Response<pb::SharingGroup>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let members = r
            .members
            .iter()
            .map(|m| convert::jurisdiction("members", m.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        let group = self
            .ctx
            .exchange
            .create_group(&who.to_string(), &r.name, members)
            .await?;
        tracing::info!(actor = %who, group = %group.name, members = ?group.members, "sharing group created");
        Ok(Response::new(convert::group(&group)))
    }

    async fn list_groups(
        &self,
        _req: Request<pb::ListGroupsRequest>,
    ) -> Result<Response<pb::ListGroupsResponse>, Status> {
        let groups = self
            .ctx
            .exchange
            .groups()?
            .iter()
            .map(convert::group)
            .collect();
        Ok(Response::new(pb::ListGroupsResponse { groups }))
    }

    async fn remove_group(
        &self,
        req: Request<pb::RemoveGroupRequest>,
    ) -> Result<Response<pb::RemoveGroupResponse>, Status> {
        let who = caller(&req)?;
        let name = req.into_inner().name;
        self.ctx
            .exchange
            .remove_group(&who.to_string(), &name)
            .await?;
        tracing::info!(actor = %who, group = %name, "sharing group removed");
        Ok(Response::new(pb::RemoveGroupResponse {}))
    }

    async fn audit_verify(
        &self,
        req: Request<pb::AuditVerifyRequest>,
    ) -> Result<Response<pb::AuditVerifyResponse>, Status> {
        let audit = &self.ctx.audit;
        let mut resp = match audit.verify() {
            Ok(v) => pb::AuditVerifyResponse {
                ok: true,
                entries: v.entries,
                head_hash_hex: hex::encode(v.head),
                checkpoints: v.checkpoints as u32,
                ..Default::default()
            },
            Err(broken) => pb::AuditVerifyResponse {
                ok: false,
                entries: audit.count().await,
                first_broken_seq: broken.seq,
                reason: broken.reason,
                ..Default::default()
            },
        };
        if req.get_ref().with_witnesses {
            let count = audit.count().await;
            for peer in self.ctx.peers.current().keys() {
                let report = match self.ctx.links.channel(peer) {
                    None => pb::WitnessReport {
                        peer: peer.to_string(),
                        ok: false,
                        detail: "no link to this peer".into(),
                        ..Default::default()
                    },
                    Some(channel) => match crate::federation::fetch_witnessed(
                        channel,
                        std::time::Duration::from_secs(10),
                    )
                    .await
                    {
                        Err(e) => pb::WitnessReport {
                            peer: peer.to_string(),
                            ok: false,
                            detail: format!("unreachable: {e}"),
                            ..Default::default()
                        },
                        Ok(held) => {
                            let problem = held.iter().find_map(|c| {
                                c.verify(audit.public_key(), audit.jurisdiction())
                                    .err()
                                    .or_else(|| {
                                        audit.check_against(c, count).err().map(|b| b.to_string())
                                    })
                            });
                            pb::WitnessReport {
                                peer: peer.to_string(),
                                checkpoints: held.len() as u32,
                                ok: problem.is_none(),
                                detail: problem.unwrap_or_default(),
                            }
                        }
                    },
                };
                if !report.ok && report.checkpoints > 0 {
                    resp.ok = false;
                    if resp.reason.is_empty() {
                        resp.reason = format!("witness {}: {}", report.peer, report.detail);
                    }
                }
                resp.witnesses.push(report);
            }
        }
        Ok(Response::new(resp))
    }

    type AuditExportStream = std::pin::Pin<
        Box<dyn tokio_stream::Stream<Item = Result<pb::AuditExportChunk, Status>> + Send>,
    >;

    async fn audit_export(
        &self,
        req: Request<pb::AuditExportRequest>,
    ) -> Result<Response<Self::AuditExportStream>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let audit = self.ctx.audit.clone();
        let head = audit.count().await;
        let checkpoints: Vec<_> = audit
            .checkpoints()?
            .iter()
            .map(convert::checkpoint)
            .collect();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let first = pb::AuditExportChunk {
            entries: vec![],
            checkpoints,
            jurisdiction: audit.jurisdiction().to_owned(),
            public_key_hex: hex::encode(audit.public_key()),
        };
        tracing::info!(actor = %who, since = r.since_seq, "audit exported");
        tokio::spawn(async move {
            if tx.send(Ok(first)).await.is_err() {
                return;
            }
            let mut from = r.since_seq.max(1);
            while from <= head {
                let to = (from + 999).min(head);
                let chunk = match audit.entries(from, to) {
                    Ok(entries) => Ok(pb::AuditExportChunk {
                        entries: entries
                            .iter()
                            .filter(|e| e.at_unix_ms >= r.since_unix_ms)
                            .map(convert::audit_entry)
                            .collect(),
                        ..Default::default()
                    }),
                    Err(e) => Err(Status::from(e)),
                };
                let failed = chunk.is_err();
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
                from = to + 1;
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn audit_checkpoint(
        &self,
        req: Request<pb::AuditCheckpointRequest>,
    ) -> Result<Response<pb::AuditCheckpointInfo>, Status> {
        let who = caller(&req)?;
        let c = self.ctx.audit.checkpoint().await?;
        tracing::info!(actor = %who, count = c.count, "audit checkpoint signed on demand");
        Ok(Response::new(convert::checkpoint(&c)))
    }

    async fn list_evidence(
        &self,
        _req: Request<pb::ListEvidenceRequest>,
    ) -> Result<Response<pb::ListEvidenceResponse>, Status> {
        let evidence = self
            .ctx
            .exchange
            .evidence()?
            .iter()
            .map(convert::evidence)
            .collect();
        Ok(Response::new(pb::ListEvidenceResponse { evidence }))
    }
}
