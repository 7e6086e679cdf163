//! The risk service: license applications' assessments, the flagged ones
//! and the methodology, read by the jurisdiction's officers, analysts and
//! admins (the `Guard` admits no one else; every call is a read).

use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::risk_service_server::RiskService;
use tonic::{Request, Response, Status};

use crate::licensing::LicenseState;
use crate::risk::{Assessment, Risk};

pub struct RiskApi {
    risk: Arc<Risk>,
}

impl RiskApi {
    pub fn new(risk: Arc<Risk>) -> Self {
        RiskApi { risk }
    }
}

fn assessment_out(a: &Assessment, state: LicenseState) -> pb::RiskAssessment {
    pb::RiskAssessment {
        license_id: a.license_id.clone(),
        score: a.score,
        band: a.band.clone(),
        factors: a
            .factors
            .iter()
            .map(|f| pb::RiskFactor {
                name: f.kind.as_str().to_owned(),
                points: f.points,
                max: f.max,
                explanation: f.explanation.clone(),
                evidence: f.evidence.clone(),
            })
            .collect(),
        review_threshold: a.review_threshold,
        flagged: a.flagged,
        flagged_at_unix_ms: a.flagged_at_unix_ms.unwrap_or(0),
        methodology: a.methodology.clone(),
        trigger: a.trigger.clone(),
        assessed_at_unix_ms: a.assessed_at_unix_ms,
        has_previous: a.previous_score.is_some(),
        previous_score: a.previous_score.unwrap_or(0),
        license_state: state.to_string(),
        hits: a
            .hits
            .iter()
            .map(super::licensing_convert::hit_out)
            .collect(),
        floors: a
            .floors
            .iter()
            .map(|f| pb::RiskFloor {
                kind: f.kind.as_str().to_owned(),
                band: f.band.clone(),
                reason: f.reason.clone(),
                evidence: f.evidence.clone(),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl RiskService for RiskApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetAssessment", caller = %crate::api::auth::who(&req)))]
    async fn get_assessment(
        &self,
        req: Request<pb::GetRiskAssessmentRequest>,
    ) -> Result<Response<pb::RiskAssessment>, Status> {
        let id = req.get_ref().license_id.trim();
        let a = self.risk.assessment(id)?;
        let state = self.risk.license_state(id)?;
        Ok(Response::new(assessment_out(&a, state)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListFlagged", caller = %crate::api::auth::who(&req)))]
    async fn list_flagged(
        &self,
        req: Request<pb::ListFlaggedRequest>,
    ) -> Result<Response<pb::ListFlaggedResponse>, Status> {
        let flagged = self.risk.flagged(req.get_ref().include_decided)?;
        Ok(Response::new(pb::ListFlaggedResponse {
            assessments: flagged
                .iter()
                .map(|(a, state)| assessment_out(a, *state))
                .collect(),
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetMethodology", caller = %crate::api::auth::who(&_req)))]
    async fn get_methodology(
        &self,
        _req: Request<pb::GetRiskMethodologyRequest>,
    ) -> Result<Response<pb::RiskMethodology>, Status> {
        let e = self.risk.methodology();
        let m = &e.methodology;
        Ok(Response::new(pb::RiskMethodology {
            name: m.name.clone(),
            version: m.version.clone(),
            source: e.source.clone(),
            review_threshold: m.review_threshold,
            weights: m
                .weights
                .named()
                .iter()
                .map(|(factor, max)| pb::RiskWeight {
                    factor: (*factor).to_owned(),
                    max_points: *max,
                })
                .collect(),
            waiver_credit: m.waiver_credit,
            bands: m
                .bands
                .named()
                .iter()
                .map(|(name, from)| pb::RiskBand {
                    name: (*name).to_owned(),
                    from_score: *from,
                })
                .collect(),
            items: m
                .items
                .iter()
                .map(|c| pb::RiskItemClass {
                    category: c.category.clone(),
                    tier: u32::from(c.tier),
                    class: c.class.clone(),
                    percent: c.percent,
                })
                .collect(),
            toml: m.to_toml(),
        }))
    }
}
