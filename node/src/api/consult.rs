//! The consult service: no-undercut consultations (officers), breach
//! consultations (analysts), answers (officers, analysts), reads.

use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::consult_service_server::ConsultService;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::consult_convert as conv;
use super::exchange_convert::distribution;
use crate::consult::{BreachDraft, Consult};
use crate::error::Error;
use crate::policy::{self, ConsultAction};

pub struct ConsultApi {
    consult: Arc<Consult>,
}

impl ConsultApi {
    pub fn new(consult: Arc<Consult>) -> Self {
        ConsultApi { consult }
    }
}

#[tonic::async_trait]
impl ConsultService for ConsultApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RequestConsultation", caller = %crate::api::auth::who(&req)))]
    async fn request_consultation(
        &self,
        req: Request<pb::RequestConsultationRequest>,
    ) -> Result<Response<pb::ConsultationView>, Status> {
        let undercut = !req.get_ref().license_id.trim().is_empty()
            || !req.get_ref().denial_id.trim().is_empty();
        let action = if undercut {
            ConsultAction::RequestUndercut
        } else {
            ConsultAction::RequestBreach
        };
        let who = policy::allowed(caller(&req)?, action)?;
        let r = req.into_inner();
        let view = if undercut {
            if r.distribution.is_some() || !r.subject.is_empty() {
                return Err(Error::InvalidArgument(
                    "a no-undercut consultation goes to the denying jurisdiction only: \
                     give --license and --denial, not participants or a subject"
                        .into(),
                )
                .into());
            }
            let license = conv::record_id("license_id", &r.license_id)?;
            let denial = conv::record_id("denial_id", &r.denial_id)?;
            self.consult
                .request_undercut(&who, &license, &denial, r.text)
                .await?
        } else {
            let draft = BreachDraft {
                subject: r.subject,
                text: r.text,
                dist: distribution(r.distribution)?,
            };
            self.consult.request_breach(&who, draft).await?
        };
        Ok(Response::new(conv::view(&view)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Respond", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn respond(
        &self,
        req: Request<pb::RespondRequest>,
    ) -> Result<Response<pb::ConsultationView>, Status> {
        let who = policy::allowed(caller(&req)?, ConsultAction::Respond)?;
        let r = req.into_inner();
        let id = conv::record_id("id", &r.id)?;
        let position = conv::position(&r.position)?;
        let view = self.consult.respond(&who, &id, position, r.text).await?;
        Ok(Response::new(conv::view(&view)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Withdraw", caller = %crate::api::auth::who(&req)))]
    async fn withdraw(
        &self,
        req: Request<pb::WithdrawConsultationRequest>,
    ) -> Result<Response<pb::ConsultationView>, Status> {
        let who = policy::allowed(caller(&req)?, ConsultAction::Respond)?;
        let r = req.into_inner();
        let id = conv::record_id("id", &r.id)?;
        let view = self.consult.withdraw(&who, &id, r.rationale).await?;
        Ok(Response::new(conv::view(&view)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Extend", caller = %crate::api::auth::who(&req)))]
    async fn extend(
        &self,
        req: Request<pb::ExtendRequest>,
    ) -> Result<Response<pb::ConsultationView>, Status> {
        let who = policy::allowed(caller(&req)?, ConsultAction::Respond)?;
        let r = req.into_inner();
        let id = conv::record_id("id", &r.id)?;
        let view = self
            .consult
            .extend(&who, &id, r.working_days, r.text)
            .await?;
        Ok(Response::new(conv::view(&view)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListConsultations", caller = %crate::api::auth::who(&req)))]
    async fn list_consultations(
        &self,
        req: Request<pb::ListConsultationsRequest>,
    ) -> Result<Response<pb::ListConsultationsResponse>, Status> {
        policy::allowed(caller(&req)?, ConsultAction::Read)?;
        let filter = conv::filter(req.get_ref())?;
        let threads: Vec<pb::ConsultationThread> = self
            .consult
            .list(&filter)?
            .iter()
            .map(|t| conv::thread(t, &self.consult.clocks().calendar))
            .collect();
        // A request id names its issuer (`<J>-C-<n>`), so it is unique here.
        let (consultations, next_page_token) =
            super::paging::page(threads, &req.get_ref().page_token, |t| {
                t.request.as_ref().map_or("", |r| r.id.as_str())
            })?;
        Ok(Response::new(pb::ListConsultationsResponse {
            consultations,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetConsultation", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn get_consultation(
        &self,
        req: Request<pb::GetConsultationRequest>,
    ) -> Result<Response<pb::ConsultationThread>, Status> {
        policy::allowed(caller(&req)?, ConsultAction::Read)?;
        let id = conv::record_id("id", &req.get_ref().id)?;
        let thread = self.consult.show(&id)?;
        Ok(Response::new(conv::thread(
            &thread,
            &self.consult.clocks().calendar,
        )))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CheckLicense", caller = %crate::api::auth::who(&req)))]
    async fn check_license(
        &self,
        req: Request<pb::CheckLicenseRequest>,
    ) -> Result<Response<pb::CheckLicenseResponse>, Status> {
        policy::allowed(caller(&req)?, ConsultAction::Read)?;
        let id = conv::record_id("license_id", &req.get_ref().license_id)?;
        let findings = self.consult.check(&id)?;
        Ok(Response::new(conv::check(&id, &findings)))
    }
}
