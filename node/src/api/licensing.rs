//! The licensing service: catalog, parties, licenses and their decisions,
//! waivers, shipments, end-use checks and disclosures. The `Guard` admits
//! the jurisdiction's officers, analysts and admins; each call then asks
//! `policy::authorize_licensing` for its action.

use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::licensing_service_server::LicensingService;
use tonic::{Request, Response, Status, Streaming};

use super::auth::caller;
use super::exchange_convert::distribution;
use super::licensing_convert as conv;
use super::paging::page;
use crate::error::Error;
use crate::identity::Caller;
use crate::licensing::{LicenseAction, Licensing, WaiverFilter, MAX_CATALOG_ENTRIES};
use crate::metrics::Metrics;
use crate::policy::{self, LicensingAction};

/// Most text one catalog import may hold in memory.
const MAX_CATALOG_BYTES: usize = 64 << 20;

pub struct LicensingApi {
    licensing: Arc<Licensing>,
    metrics: Arc<Metrics>,
    /// Scores each application as it is submitted.
    risk: Option<Arc<crate::risk::Risk>>,
}

impl LicensingApi {
    pub fn new(licensing: Arc<Licensing>, metrics: Arc<Metrics>) -> Self {
        LicensingApi {
            licensing,
            metrics,
            risk: None,
        }
    }

    /// Scores applications at submission, before answering.
    pub fn with_risk(mut self, risk: Arc<crate::risk::Risk>) -> Self {
        self.risk = Some(risk);
        self
    }

    /// `l` as a single read shows it: waivers matching now, what has been
    /// shipped per item, and the screening hits of its latest assessment.
    fn license_out(&self, l: &crate::licensing::License) -> Result<pb::License, Status> {
        let waivers = self.licensing.matching_waivers(
            &l.destination,
            &l.codes(),
            crate::clock::now_unix_ms(),
        )?;
        let mut out = conv::license_out(l, waivers);
        out.balances = self
            .licensing
            .balances(&l.id)?
            .iter()
            .map(conv::balance_out)
            .collect();
        if let Some(a) = self.assessment(&l.id)? {
            out.open_hits = a.open_hits().count() as u32;
            out.hits = a.hits.iter().map(conv::hit_out).collect();
        }
        Ok(out)
    }

    fn assessment(&self, id: &str) -> Result<Option<crate::risk::Assessment>, Status> {
        let Some(risk) = &self.risk else {
            return Ok(None);
        };
        match risk.assessment(id) {
            Ok(a) => Ok(Some(a)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Re-scores (and re-screens) license `id` after its terms changed.
    async fn rescore(&self, id: &str, trigger: &str) {
        if let Some(risk) = &self.risk {
            // The change is recorded whatever happens here; a scoring that
            // fails is redone by the next re-scoring pass (and at start).
            if let Err(error) = risk.assess(id, trigger).await {
                tracing::error!(%error, license = %id, "cannot score the application");
            }
        }
    }

    async fn act(
        &self,
        who: &Caller,
        id: &str,
        action: LicenseAction,
        rationale: &str,
        dist: Option<pb::Distribution>,
    ) -> Result<Response<pb::License>, Status> {
        self.decide(who, id, action, rationale, dist, Default::default())
            .await
    }

    async fn decide(
        &self,
        who: &Caller,
        id: &str,
        action: LicenseAction,
        rationale: &str,
        dist: Option<pb::Distribution>,
        terms: crate::licensing::TermsDraft,
    ) -> Result<Response<pb::License>, Status> {
        let dist = distribution(dist)?;
        let license = self
            .licensing
            .decide(who, id.trim(), action, rationale, dist, terms)
            .await?;
        if action == LicenseAction::Deny {
            self.metrics.issued("denial");
        }
        Ok(Response::new(self.license_out(&license)?))
    }
}

#[tonic::async_trait]
impl LicensingService for LicensingApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ImportCatalog", caller = %crate::api::auth::who(&req)))]
    async fn import_catalog(
        &self,
        req: Request<Streaming<pb::ImportCatalogChunk>>,
    ) -> Result<Response<pb::CatalogVersion>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::ImportCatalog)?;
        let mut stream = req.into_inner();
        let mut source = None;
        let mut raw = Vec::new();
        let mut bytes = 0usize;
        while let Some(chunk) = stream
            .message()
            .await
            .map_err(super::malformed::relabel_status)?
        {
            if source.is_none() {
                source = Some(chunk.source);
            }
            bytes += chunk
                .entries
                .iter()
                .map(|e| e.code.len() + e.title.len() + e.category.len() + e.rationale.len())
                .sum::<usize>();
            if raw.len() + chunk.entries.len() > MAX_CATALOG_ENTRIES || bytes > MAX_CATALOG_BYTES {
                return Err(Error::InvalidArgument(format!(
                    "catalog refused, nothing imported: more than {MAX_CATALOG_ENTRIES} entries \
                     or {} MiB",
                    MAX_CATALOG_BYTES >> 20
                ))
                .into());
            }
            raw.extend(chunk.entries);
        }
        let entries = conv::catalog_entries_in(raw)?;
        let version = self
            .licensing
            .import_catalog(&who, source.as_deref().unwrap_or(""), entries)
            .await?;
        Ok(Response::new(conv::catalog_version_out(&version)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListCatalog", caller = %crate::api::auth::who(&req)))]
    async fn list_catalog(
        &self,
        req: Request<pb::ListCatalogRequest>,
    ) -> Result<Response<pb::ListCatalogResponse>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let r = req.into_inner();
        let category = conv::opt_parse("category", &r.category)?;
        let version = (r.version != 0).then_some(r.version);
        let (meta, entries) = self
            .licensing
            .catalog(version, category, conv::limit(r.limit))?;
        let versions = self.licensing.catalog_versions()?;
        let (entries, next_page_token) = page(
            entries.iter().map(conv::catalog_entry_out).collect(),
            &r.page_token,
            |e| &e.code,
        )?;
        Ok(Response::new(pb::ListCatalogResponse {
            version: Some(conv::catalog_version_out(&meta)),
            entries,
            versions: versions.iter().map(conv::catalog_version_out).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetCatalogEntry", caller = %crate::api::auth::who(&req)))]
    async fn get_catalog_entry(
        &self,
        req: Request<pb::GetCatalogEntryRequest>,
    ) -> Result<Response<pb::CatalogEntryHistory>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let code = req.get_ref().code.trim();
        let history = self.licensing.catalog_entry_history(code)?;
        let current = self.licensing.current_catalog()?.map_or(0, |v| v.version);
        Ok(Response::new(pb::CatalogEntryHistory {
            versions: history
                .iter()
                .map(|(v, e)| pb::VersionedCatalogEntry {
                    version: *v,
                    entry: Some(conv::catalog_entry_out(e)),
                })
                .collect(),
            current_version: current,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CreateParty", caller = %crate::api::auth::who(&req)))]
    async fn create_party(
        &self,
        req: Request<pb::CreatePartyRequest>,
    ) -> Result<Response<pb::PartyRecord>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let r = req.into_inner();
        let allow_similar = r.allow_similar;
        let party = self
            .licensing
            .create_party(&who, conv::party_draft(r), allow_similar)
            .await?;
        Ok(Response::new(conv::party_out(&party)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "UpdateParty", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn update_party(
        &self,
        req: Request<pb::UpdatePartyRequest>,
    ) -> Result<Response<pb::PartyRecord>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let (id, draft, rationale) = conv::party_update(req.into_inner());
        let party = self
            .licensing
            .update_party(&who, &id, draft, &rationale)
            .await?;
        if let Some(risk) = &self.risk {
            // Its new name may match (or stop matching) a listed party.
            if let Err(error) = risk.rescore_open(&format!("party update {id}")).await {
                tracing::error!(%error, party = %id, "cannot re-score after a party update");
            }
        }
        Ok(Response::new(conv::party_out(&party)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListParties", caller = %crate::api::auth::who(&req)))]
    async fn list_parties(
        &self,
        req: Request<pb::ListPartiesRequest>,
    ) -> Result<Response<pb::ListPartiesResponse>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let parties = self.licensing.parties(&conv::party_filter(req.get_ref()))?;
        let (parties, next_page_token) = page(
            parties.iter().map(conv::party_out).collect(),
            &req.get_ref().page_token,
            |p| &p.id,
        )?;
        Ok(Response::new(pb::ListPartiesResponse {
            parties,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetParty", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn get_party(
        &self,
        req: Request<pb::GetPartyRequest>,
    ) -> Result<Response<pb::PartyRecord>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let party = self.licensing.party(req.get_ref().id.trim())?;
        Ok(Response::new(conv::party_out(&party)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "SubmitLicense", caller = %crate::api::auth::who(&req)))]
    async fn submit_license(
        &self,
        req: Request<pb::SubmitLicenseRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let license = self
            .licensing
            .submit(&who, conv::application(req.into_inner()))
            .await?;
        self.rescore(&license.id, "submission").await;
        Ok(Response::new(self.license_out(&license)?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AmendLicense", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn amend_license(
        &self,
        req: Request<pb::AmendLicenseRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let (id, change, rationale) = conv::amendment(req.into_inner());
        let license = self.licensing.amend(&who, &id, change, &rationale).await?;
        self.rescore(&id, &format!("amendment to revision {}", license.revision))
            .await;
        Ok(Response::new(self.license_out(&license)?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ResubmitLicense", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn resubmit_license(
        &self,
        req: Request<pb::LicenseActionRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let r = req.into_inner();
        let license = self
            .licensing
            .resubmit(&who, r.id.trim(), &r.rationale)
            .await?;
        self.rescore(&license.id, "resubmission").await;
        Ok(Response::new(self.license_out(&license)?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CountersignDecision", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn countersign_decision(
        &self,
        req: Request<pb::CountersignRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Decide)?;
        let r = req.into_inner();
        let id = r.id.trim();
        let license = if r.reject {
            if !r.override_rationale.trim().is_empty() {
                return Err(Status::invalid_argument(
                    "override_rationale: a rejection overrides nothing",
                ));
            }
            self.licensing
                .reject_pending(&who, id, &r.rationale)
                .await?
        } else {
            let license = self
                .licensing
                .countersign(&who, id, &r.rationale, &r.override_rationale)
                .await?;
            if license.state == crate::licensing::LicenseState::Denied {
                self.metrics.issued("denial");
            }
            license
        };
        Ok(Response::new(self.license_out(&license)?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "DisposeHit", caller = %crate::api::auth::who(&req)))]
    async fn dispose_hit(
        &self,
        req: Request<pb::DisposeHitRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Decide)?;
        let r = req.into_inner();
        let status = match r.disposition.trim() {
            "false-positive" => crate::risk::HitStatus::FalsePositive,
            "confirmed" => crate::risk::HitStatus::Confirmed,
            other => {
                return Err(Status::invalid_argument(format!(
                    "disposition: {other:?} is not false-positive or confirmed"
                )))
            }
        };
        let risk = self.risk.as_ref().ok_or_else(|| {
            Status::failed_precondition("this node scores no applications (no risk service)")
        })?;
        let license_id = r.license_id.trim();
        risk.dispose(&who, license_id, r.hit_id.trim(), status, &r.rationale)
            .await?;
        let license = self.licensing.license(license_id)?;
        Ok(Response::new(self.license_out(&license)?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ReviewLicense", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn review_license(
        &self,
        req: Request<pb::LicenseActionRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Decide)?;
        let r = req.into_inner();
        self.act(&who, &r.id, LicenseAction::Review, &r.rationale, None)
            .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "DecideLicense", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn decide_license(
        &self,
        req: Request<pb::DecideLicenseRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Decide)?;
        let r = req.into_inner();
        let action = match r.decision.trim() {
            "approve" => LicenseAction::Approve,
            "deny" => LicenseAction::Deny,
            "return" => LicenseAction::Return,
            other => {
                return Err(Status::invalid_argument(format!(
                    "decision: {other:?} is not approve, deny or return"
                )))
            }
        };
        let terms = conv::terms_draft(&r);
        if action != LicenseAction::Approve && terms != Default::default() {
            return Err(Status::invalid_argument(
                "validity and conditions are terms of an approval",
            ));
        }
        self.decide(&who, &r.id, action, &r.rationale, r.distribution, terms)
            .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AppealLicense", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn appeal_license(
        &self,
        req: Request<pb::LicenseActionRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Decide)?;
        let r = req.into_inner();
        self.act(&who, &r.id, LicenseAction::Appeal, &r.rationale, None)
            .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "DecideAppeal", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn decide_appeal(
        &self,
        req: Request<pb::DecideAppealRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Decide)?;
        let r = req.into_inner();
        let action = match r.outcome.trim() {
            "uphold" => LicenseAction::Uphold,
            "overturn" => LicenseAction::Overturn,
            other => {
                return Err(Status::invalid_argument(format!(
                    "outcome: {other:?} is not uphold or overturn"
                )))
            }
        };
        self.act(&who, &r.id, action, &r.rationale, None).await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RevokeLicense", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn revoke_license(
        &self,
        req: Request<pb::LicenseActionRequest>,
    ) -> Result<Response<pb::License>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Decide)?;
        let r = req.into_inner();
        self.act(&who, &r.id, LicenseAction::Revoke, &r.rationale, None)
            .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetLicense", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn get_license(
        &self,
        req: Request<pb::GetLicenseRequest>,
    ) -> Result<Response<pb::License>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let license = self.licensing.license(req.get_ref().id.trim())?;
        Ok(Response::new(self.license_out(&license)?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListLicenses", caller = %crate::api::auth::who(&req)))]
    async fn list_licenses(
        &self,
        req: Request<pb::ListLicensesRequest>,
    ) -> Result<Response<pb::ListLicensesResponse>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let filter = conv::license_filter(req.get_ref())?;
        let licenses = self.licensing.licenses(&filter)?;
        // Listing skips the per-license waiver scan; `GetLicense` shows them.
        let mut out = Vec::with_capacity(licenses.len());
        for l in &licenses {
            let mut pb = conv::license_out(l, Vec::new());
            if let Some(a) = self.assessment(&l.id)? {
                pb.open_hits = a.open_hits().count() as u32;
            }
            out.push(pb);
        }
        let (licenses, next_page_token) = page(out, &req.get_ref().page_token, |l| &l.id)?;
        Ok(Response::new(pb::ListLicensesResponse {
            licenses,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CreateWaiver", caller = %crate::api::auth::who(&req)))]
    async fn create_waiver(
        &self,
        req: Request<pb::CreateWaiverRequest>,
    ) -> Result<Response<pb::Waiver>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let draft = conv::waiver_draft(req.into_inner())?;
        let waiver = self.licensing.create_waiver(&who, draft).await?;
        Ok(Response::new(conv::waiver_out(&waiver)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListWaivers", caller = %crate::api::auth::who(&req)))]
    async fn list_waivers(
        &self,
        req: Request<pb::ListWaiversRequest>,
    ) -> Result<Response<pb::ListWaiversResponse>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let r = req.get_ref();
        let filter = WaiverFilter {
            destination: (!r.destination.trim().is_empty())
                .then(|| r.destination.trim().to_uppercase()),
            active_only: r.active_only,
            limit: conv::limit(r.limit),
        };
        let waivers = self.licensing.waivers(&filter)?;
        let (waivers, next_page_token) = page(
            waivers.iter().map(conv::waiver_out).collect(),
            &r.page_token,
            |w| &w.id,
        )?;
        Ok(Response::new(pb::ListWaiversResponse {
            waivers,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RecordShipment", caller = %crate::api::auth::who(&req)))]
    async fn record_shipment(
        &self,
        req: Request<pb::RecordShipmentRequest>,
    ) -> Result<Response<pb::Shipment>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let mut r = req.into_inner();
        let alert = distribution(r.alert.take())?;
        let draft = conv::shipment_draft(r);
        let shipment = self.licensing.record_shipment(&who, draft, alert).await?;
        Ok(Response::new(conv::shipment_out(&shipment)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListShipments", caller = %crate::api::auth::who(&req)))]
    async fn list_shipments(
        &self,
        req: Request<pb::ListShipmentsRequest>,
    ) -> Result<Response<pb::ListShipmentsResponse>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let r = req.get_ref();
        let license = r.license_id.trim();
        let shipments = self.licensing.shipments(
            (!license.is_empty()).then_some(license),
            conv::limit(r.limit),
        )?;
        let (shipments, next_page_token) = page(
            shipments.iter().map(conv::shipment_out).collect(),
            &r.page_token,
            |s| &s.id,
        )?;
        Ok(Response::new(pb::ListShipmentsResponse {
            shipments,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RecordEndUseCheck", caller = %crate::api::auth::who(&req)))]
    async fn record_end_use_check(
        &self,
        req: Request<pb::RecordEndUseCheckRequest>,
    ) -> Result<Response<pb::EndUseCheck>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let mut r = req.into_inner();
        let draft = conv::check_draft(&r)?;
        let alert = distribution(r.alert.take())?;
        let check = self.licensing.record_check(&who, draft, alert).await?;
        if check.alert_id.is_some() {
            self.metrics.issued("alert");
        }
        Ok(Response::new(conv::check_out(&check)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListEndUseChecks", caller = %crate::api::auth::who(&req)))]
    async fn list_end_use_checks(
        &self,
        req: Request<pb::ListEndUseChecksRequest>,
    ) -> Result<Response<pb::ListEndUseChecksResponse>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let r = req.get_ref();
        let license = r.license_id.trim();
        let checks = self.licensing.checks(
            (!license.is_empty()).then_some(license),
            conv::opt_parse("result", &r.result)?,
            conv::limit(r.limit),
        )?;
        let (checks, next_page_token) = page(
            checks.iter().map(conv::check_out).collect(),
            &r.page_token,
            |c| &c.id,
        )?;
        Ok(Response::new(pb::ListEndUseChecksResponse {
            checks,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RecordDisclosure", caller = %crate::api::auth::who(&req)))]
    async fn record_disclosure(
        &self,
        req: Request<pb::RecordDisclosureRequest>,
    ) -> Result<Response<pb::Disclosure>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Record)?;
        let r = req.into_inner();
        let disclosure = self
            .licensing
            .record_disclosure(
                &who,
                r.party_id.trim(),
                &r.description,
                conv::received_at(r.received_at_unix_ms),
            )
            .await?;
        Ok(Response::new(conv::disclosure_out(&disclosure)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListDisclosures", caller = %crate::api::auth::who(&req)))]
    async fn list_disclosures(
        &self,
        req: Request<pb::ListDisclosuresRequest>,
    ) -> Result<Response<pb::ListDisclosuresResponse>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let r = req.get_ref();
        let party = r.party_id.trim();
        let disclosures = self
            .licensing
            .disclosures((!party.is_empty()).then_some(party), conv::limit(r.limit))?;
        let (disclosures, next_page_token) = page(
            disclosures.iter().map(conv::disclosure_out).collect(),
            &r.page_token,
            |d| &d.id,
        )?;
        Ok(Response::new(pb::ListDisclosuresResponse {
            disclosures,
            next_page_token,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "SetDenialDistribution", caller = %crate::api::auth::who(&req)))]
    async fn set_denial_distribution(
        &self,
        req: Request<pb::SetDenialDistributionRequest>,
    ) -> Result<Response<pb::DenialDistribution>, Status> {
        let who = policy::allowed(caller(&req)?, LicensingAction::Configure)?;
        let dist = distribution(req.into_inner().distribution)?;
        let defaults = self.licensing.set_denial_defaults(&who, dist).await?;
        Ok(Response::new(conv::denial_defaults_out(&defaults)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetDenialDistribution", caller = %crate::api::auth::who(&req)))]
    async fn get_denial_distribution(
        &self,
        req: Request<pb::GetDenialDistributionRequest>,
    ) -> Result<Response<pb::DenialDistribution>, Status> {
        policy::allowed(caller(&req)?, LicensingAction::Read)?;
        let defaults = self.licensing.denial_defaults()?;
        Ok(Response::new(conv::denial_defaults_out(&defaults)))
    }
}
