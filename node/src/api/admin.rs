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
            self.ctx.status(),
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
        let record = self.ctx.peers.add(bundle).await?;
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
        self.ctx.peers.remove(&jurisdiction).await?;
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
        let group = self.ctx.exchange.create_group(&r.name, members).await?;
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
        self.ctx.exchange.remove_group(&name).await?;
        tracing::info!(actor = %who, group = %name, "sharing group removed");
        Ok(Response::new(pb::RemoveGroupResponse {}))
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
