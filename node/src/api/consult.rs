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
use crate::identity::Jurisdiction;
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
        let mut out = conv::check(&id, &findings);
        out.recognised_licences = self
            .consult
            .recognised_resembling(&id)?
            .iter()
            .map(conv::partner_licence)
            .collect();
        Ok(Response::new(out))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ShareLicence", caller = %crate::api::auth::who(&req), record = %req.get_ref().license_id))]
    async fn share_licence(
        &self,
        req: Request<pb::ShareLicenceRequest>,
    ) -> Result<Response<pb::LicenceNoticeView>, Status> {
        let who = policy::allowed(caller(&req)?, ConsultAction::Recognition)?;
        let r = req.into_inner();
        let id = conv::record_id("license_id", &r.license_id)?;
        let to =
            r.to.iter()
                .map(|j| {
                    j.trim().parse::<Jurisdiction>().map_err(|e| {
                        Status::from(Error::InvalidArgument(format!("to: {j:?}: {e}")))
                    })
                })
                .collect::<Result<Vec<_>, Status>>()?;
        let held = self.consult.share_licence(&who, &id, to, r.text).await?;
        Ok(Response::new(conv::notice(&held, &who.jurisdiction)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListLicenceNotices", caller = %crate::api::auth::who(&req)))]
    async fn list_licence_notices(
        &self,
        req: Request<pb::ListLicenceNoticesRequest>,
    ) -> Result<Response<pb::ListLicenceNoticesResponse>, Status> {
        let who = policy::allowed(caller(&req)?, ConsultAction::Read)?;
        let filter = conv::notice_filter(req.get_ref())?;
        let mut held = self.consult.licence_notices(&filter)?;
        if req.get_ref().limit != 0 {
            held.truncate(req.get_ref().limit as usize);
        }
        let views: Vec<pb::LicenceNoticeView> = held
            .iter()
            .map(|n| conv::notice(n, &who.jurisdiction))
            .collect();
        // A notice id names its issuer, so it is unique here.
        let (notices, next_page_token) =
            super::paging::page(views, &req.get_ref().page_token, |n| {
                n.notice.as_ref().map_or("", |v| v.id.as_str())
            })?;
        Ok(Response::new(pb::ListLicenceNoticesResponse {
            notices,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetLicenceNotice", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn get_licence_notice(
        &self,
        req: Request<pb::GetLicenceNoticeRequest>,
    ) -> Result<Response<pb::LicenceNoticeView>, Status> {
        let who = policy::allowed(caller(&req)?, ConsultAction::Read)?;
        let id = conv::record_id("id", &req.get_ref().id)?;
        let held = self.consult.licence_notice(&id)?;
        Ok(Response::new(conv::notice(&held, &who.jurisdiction)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "DecideLicenceNotice", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn decide_licence_notice(
        &self,
        req: Request<pb::DecideLicenceNoticeRequest>,
    ) -> Result<Response<pb::LicenceNoticeView>, Status> {
        let who = policy::allowed(caller(&req)?, ConsultAction::Recognition)?;
        let r = req.into_inner();
        let id = conv::record_id("id", &r.id)?;
        let recognise = match r.decision.trim() {
            "recognise" => true,
            "decline" => false,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "decision: {other:?}; expected recognise or decline"
                ))
                .into())
            }
        };
        let held = self
            .consult
            .decide_licence_notice(&who, &id, recognise, r.rationale)
            .await?;
        Ok(Response::new(conv::notice(&held, &who.jurisdiction)))
    }
}
