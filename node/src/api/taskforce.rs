//! The task-force services: `TaskForceService` for the node's own people
//! (admins register, members query, analysts review detail requests) and
//! `TaskForcePeerService` for member nodes relaying their members'
//! questions. Both apply the per-identity query limit (`[taskforce]`), on
//! top of every service's request limit.

use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::task_force_peer_service_server::TaskForcePeerService;
use concord_proto::v1::task_force_service_server::TaskForceService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::taskforce_convert as conv;
use crate::clock::now_unix_ms;
use crate::identity::{Caller, Jurisdiction};
use crate::metrics::Metrics;
use crate::policy::{self, TaskForceAction};
use crate::taskforce::{Decision, Level, Limits, TaskForces};

/// Task-force queries per identity.
pub type QueryLimit = governor::DefaultKeyedRateLimiter<Caller>;

/// A token bucket per identity: `per_minute` sustained, `burst` at once.
pub fn query_limit(limits: &Limits) -> Arc<QueryLimit> {
    let rate =
        std::num::NonZeroU32::new(limits.queries_per_minute).unwrap_or(std::num::NonZeroU32::MIN);
    let burst = std::num::NonZeroU32::new(limits.query_burst).unwrap_or(rate);
    Arc::new(governor::RateLimiter::keyed(
        governor::Quota::per_minute(rate).allow_burst(burst),
    ))
}

fn check_limit(limit: &QueryLimit, metrics: &Metrics, who: &Caller) -> Result<(), Status> {
    if limit.check_key(who).is_err() {
        metrics.rate_limited();
        return Err(Status::resource_exhausted(format!(
            "task-force query limit: {who} is asking faster than this node allows; retry later"
        )));
    }
    Ok(())
}

pub struct TaskForceApi {
    taskforces: Arc<TaskForces>,
    limit: Arc<QueryLimit>,
    metrics: Arc<Metrics>,
}

impl TaskForceApi {
    pub fn new(taskforces: Arc<TaskForces>, limit: Arc<QueryLimit>, metrics: Arc<Metrics>) -> Self {
        TaskForceApi {
            taskforces,
            limit,
            metrics,
        }
    }
}

#[tonic::async_trait]
impl TaskForceService for TaskForceApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CreateTaskForce", caller = %crate::api::auth::who(&req)))]
    async fn create_task_force(
        &self,
        req: Request<pb::CreateTaskForceRequest>,
    ) -> Result<Response<pb::TaskForce>, Status> {
        let who = policy::allowed(caller(&req)?, TaskForceAction::Register)?;
        let draft = conv::draft(req.into_inner())?;
        let tf = self.taskforces.create(&who.to_string(), draft).await?;
        tracing::info!(actor = %who, taskforce = %tf.name, level = %tf.level, "task force registered");
        Ok(Response::new(conv::taskforce(&tf, now_unix_ms())))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListTaskForces", caller = %crate::api::auth::who(&req)))]
    async fn list_task_forces(
        &self,
        req: Request<pb::ListTaskForcesRequest>,
    ) -> Result<Response<pb::ListTaskForcesResponse>, Status> {
        policy::allowed(caller(&req)?, TaskForceAction::Read)?;
        let now = now_unix_ms();
        let taskforces = self
            .taskforces
            .list()?
            .iter()
            .map(|tf| conv::taskforce(tf, now))
            .collect();
        Ok(Response::new(pb::ListTaskForcesResponse { taskforces }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetTaskForce", caller = %crate::api::auth::who(&req)))]
    async fn get_task_force(
        &self,
        req: Request<pb::GetTaskForceRequest>,
    ) -> Result<Response<pb::TaskForce>, Status> {
        policy::allowed(caller(&req)?, TaskForceAction::Read)?;
        let tf = self.taskforces.get(&req.get_ref().name)?;
        Ok(Response::new(conv::taskforce(&tf, now_unix_ms())))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CloseTaskForce", caller = %crate::api::auth::who(&req)))]
    async fn close_task_force(
        &self,
        req: Request<pb::CloseTaskForceRequest>,
    ) -> Result<Response<pb::TaskForce>, Status> {
        let who = policy::allowed(caller(&req)?, TaskForceAction::Register)?;
        let r = req.into_inner();
        let tf = self
            .taskforces
            .close(&who.to_string(), &r.name, &r.reason)
            .await?;
        tracing::info!(actor = %who, taskforce = %tf.name, "task force closed");
        Ok(Response::new(conv::taskforce(&tf, now_unix_ms())))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Query", caller = %crate::api::auth::who(&req)))]
    async fn query(
        &self,
        req: Request<pb::TaskForceQueryRequest>,
    ) -> Result<Response<pb::TaskForceQueryResponse>, Status> {
        let who = policy::allowed(caller(&req)?, TaskForceAction::Query)?;
        check_limit(&self.limit, &self.metrics, &who)?;
        let r = req.into_inner();
        let query = conv::query_in(r.query)?;
        let outcome = self
            .taskforces
            .query(&who, &r.taskforce, query, r.blind)
            .await?;
        Ok(Response::new(conv::query_outcome(&outcome)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RequestDetails", caller = %crate::api::auth::who(&req)))]
    async fn request_details(
        &self,
        req: Request<pb::RequestDetailsRequest>,
    ) -> Result<Response<pb::DetailRequest>, Status> {
        let who = policy::allowed(caller(&req)?, TaskForceAction::Query)?;
        check_limit(&self.limit, &self.metrics, &who)?;
        let r = req.into_inner();
        let request = self
            .taskforces
            .request_details(&who, r.reference.trim(), &r.justification)
            .await?;
        Ok(Response::new(conv::detail_request_out(&request)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetDetails", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn get_details(
        &self,
        req: Request<pb::GetDetailsRequest>,
    ) -> Result<Response<pb::DetailOutcome>, Status> {
        let who = policy::allowed(caller(&req)?, TaskForceAction::Query)?;
        let id = req.get_ref().id.trim().to_owned();
        let outcome = self.taskforces.fetch_details(&who, &id).await?;
        Ok(Response::new(conv::details_outcome(&outcome)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListDetailRequests", caller = %crate::api::auth::who(&req)))]
    async fn list_detail_requests(
        &self,
        req: Request<pb::ListDetailRequestsRequest>,
    ) -> Result<Response<pb::ListDetailRequestsResponse>, Status> {
        policy::allowed(caller(&req)?, TaskForceAction::Review)?;
        let requests = self
            .taskforces
            .detail_requests(req.get_ref().all)?
            .iter()
            .map(conv::detail_request_out)
            .collect();
        Ok(Response::new(pb::ListDetailRequestsResponse { requests }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ApproveDetails", caller = %crate::api::auth::who(&req)))]
    async fn approve_details(
        &self,
        req: Request<pb::ApproveDetailsRequest>,
    ) -> Result<Response<pb::DetailRequest>, Status> {
        let who = policy::allowed(caller(&req)?, TaskForceAction::Review)?;
        let r = req.into_inner();
        let level = match r.level.as_str() {
            "" => Level::Full,
            l => conv::level("level", l)?,
        };
        let request = self
            .taskforces
            .decide_details(
                &who,
                r.id.trim(),
                Decision::Approve {
                    level,
                    note: r.note,
                },
            )
            .await?;
        Ok(Response::new(conv::detail_request_out(&request)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "DeclineDetails", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn decline_details(
        &self,
        req: Request<pb::DeclineDetailsRequest>,
    ) -> Result<Response<pb::DetailRequest>, Status> {
        let who = policy::allowed(caller(&req)?, TaskForceAction::Review)?;
        let r = req.into_inner();
        let request = self
            .taskforces
            .decide_details(&who, r.id.trim(), Decision::Decline { reason: r.reason })
            .await?;
        Ok(Response::new(conv::detail_request_out(&request)))
    }
}

pub struct TaskForcePeerApi {
    taskforces: Arc<TaskForces>,
    limit: Arc<QueryLimit>,
    metrics: Arc<Metrics>,
}

impl TaskForcePeerApi {
    pub fn new(taskforces: Arc<TaskForces>, limit: Arc<QueryLimit>, metrics: Arc<Metrics>) -> Self {
        TaskForcePeerApi {
            taskforces,
            limit,
            metrics,
        }
    }
}

/// The calling peer node and the member it asks for, who must be one of its own.
fn peer_and_asker<T>(req: &Request<T>, asker: &str) -> Result<(Jurisdiction, Caller), Status> {
    let node = caller(req)?.jurisdiction;
    let asker = conv::caller("asker", asker)?;
    policy::authorize_peer_asker(&node, &asker)
        .map_err(|r| Status::permission_denied(r.to_string()))?;
    Ok((node, asker))
}

#[tonic::async_trait]
impl TaskForcePeerService for TaskForcePeerApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Query", caller = %crate::api::auth::who(&req)))]
    async fn query(
        &self,
        req: Request<pb::PeerQueryRequest>,
    ) -> Result<Response<pb::SignedTaskForceAnswer>, Status> {
        let (node, asker) = peer_and_asker(&req, &req.get_ref().asker)?;
        check_limit(&self.limit, &self.metrics, &asker)?;
        let r = req.into_inner();
        let query = conv::query_in(r.query)?;
        let signed = self
            .taskforces
            .answer_peer(&node, &asker, &r.taskforce, query)
            .await?;
        Ok(Response::new(conv::signed_out(&signed)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RequestDetails", caller = %crate::api::auth::who(&req)))]
    async fn request_details(
        &self,
        req: Request<pb::PeerDetailsRequest>,
    ) -> Result<Response<pb::DetailRequest>, Status> {
        let (_, asker) = peer_and_asker(&req, &req.get_ref().asker)?;
        check_limit(&self.limit, &self.metrics, &asker)?;
        let r = req.into_inner();
        let request = self
            .taskforces
            .open_detail_request(&asker, &r.reference, &r.justification)
            .await?;
        Ok(Response::new(conv::detail_request_out(&request)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetDetails", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn get_details(
        &self,
        req: Request<pb::PeerGetDetailsRequest>,
    ) -> Result<Response<pb::PeerDetailOutcome>, Status> {
        let (_, asker) = peer_and_asker(&req, &req.get_ref().asker)?;
        let details = self
            .taskforces
            .release_details(&asker, &req.get_ref().id)
            .await?;
        Ok(Response::new(pb::PeerDetailOutcome {
            request: Some(conv::detail_request_out(&details.request)),
            answer: details.answer.as_ref().map(conv::signed_out),
        }))
    }
}
