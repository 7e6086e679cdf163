use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::federation_service_server::FederationService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use crate::context::NodeContext;
use crate::peers::now_unix_ms;

pub struct FederationApi {
    ctx: Arc<NodeContext>,
}

impl FederationApi {
    pub fn new(ctx: Arc<NodeContext>) -> Self {
        FederationApi { ctx }
    }
}

#[tonic::async_trait]
impl FederationService for FederationApi {
    async fn hello(&self, req: Request<pb::HelloRequest>) -> Result<Response<pb::HelloResponse>, Status> {
        let who = caller(&req)?;
        if req.get_ref().jurisdiction != who.jurisdiction.as_str() {
            return Err(Status::invalid_argument(format!(
                "hello claims jurisdiction {:?} but the certificate names {}",
                req.get_ref().jurisdiction,
                who.jurisdiction
            )));
        }
        Ok(Response::new(pb::HelloResponse {
            jurisdiction: self.ctx.jurisdiction.to_string(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            time_unix_ms: now_unix_ms(),
        }))
    }
}
