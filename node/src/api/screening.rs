//! The screening service: list imports (admins) and name queries
//! (analysts, officers, admins).

use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::import_list_request::Part;
use concord_proto::v1::screening_service_server::ScreeningService;
use tonic::{Request, Response, Status, Streaming};

use super::auth::caller;
use super::screening_convert as conv;
use crate::error::Error;
use crate::policy::{self, ScreeningAction};
use crate::risk::{ImportEffects, Risk};
use crate::screening::{entry::text_bytes, ListSize, Screening, WatchlistEntry, MAX_BATCH};

pub struct ScreeningApi {
    screening: Arc<Screening>,
    /// Tells which parties newly match a re-imported list, and re-scores.
    risk: Option<Arc<Risk>>,
    /// Recognised partner licences naming a screened party, shown beside the hits.
    partner_licences: Option<Arc<crate::consult::Consult>>,
}

impl ScreeningApi {
    pub fn new(screening: Arc<Screening>) -> Self {
        ScreeningApi {
            screening,
            risk: None,
            partner_licences: None,
        }
    }

    pub fn with_partner_licences(self, consult: Arc<crate::consult::Consult>) -> Self {
        ScreeningApi {
            partner_licences: Some(consult),
            ..self
        }
    }

    /// `result` with the recognised partner licences naming its query.
    fn with_licences(&self, mut result: pb::ScreenResult) -> Result<pb::ScreenResult, Status> {
        if let Some(consult) = &self.partner_licences {
            result.partner_licences = consult
                .recognised_naming(&result.query, result.threshold as f32)?
                .iter()
                .map(super::consult_convert::partner_licence)
                .collect();
        }
        Ok(result)
    }

    pub fn with_risk(self, risk: Arc<Risk>) -> Self {
        ScreeningApi {
            risk: Some(risk),
            ..self
        }
    }
}

fn invalid(message: impl Into<String>) -> Status {
    Error::InvalidArgument(message.into()).into()
}

#[tonic::async_trait]
impl ScreeningService for ScreeningApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ImportList", caller = %crate::api::auth::who(&req)))]
    async fn import_list(
        &self,
        req: Request<Streaming<pb::ImportListRequest>>,
    ) -> Result<Response<pb::ImportListResponse>, Status> {
        let who = policy::allowed(caller(&req)?, ScreeningAction::Import)?;
        let mut stream = req.into_inner();
        let header = match stream
            .message()
            .await
            .map_err(super::malformed::relabel_status)?
        {
            Some(pb::ImportListRequest {
                part: Some(Part::Header(h)),
            }) => h,
            _ => return Err(invalid("an import starts with a header naming the list")),
        };
        let mut entries: Vec<WatchlistEntry> = Vec::new();
        // Counted as the entries arrive, so an oversized list is refused
        // before it is held whole, let alone indexed.
        let caps = self.screening.caps();
        let mut size = ListSize::default();
        loop {
            match stream
                .message()
                .await
                .map_err(super::malformed::relabel_status)?
            {
                Some(pb::ImportListRequest {
                    part: Some(Part::Entries(chunk)),
                }) => {
                    for e in &chunk.entries {
                        let bytes = text_bytes(
                            [&e.source_id, &e.name, &e.expires],
                            [
                                &e.aliases,
                                &e.countries,
                                &e.addresses,
                                &e.programs,
                                &e.unresolved_countries,
                                &e.dates_of_birth,
                                &e.identifiers,
                            ],
                        );
                        size.add(e.aliases.len(), bytes);
                    }
                    caps.check(&header.list, &size)?;
                    for e in chunk.entries {
                        entries.push(conv::entry_in(e)?);
                    }
                }
                Some(pb::ImportListRequest {
                    part: Some(Part::Commit(c)),
                }) => {
                    if c.total_entries != entries.len() as u64 {
                        return Err(invalid(format!(
                            "the commit names {} entries but {} arrived; nothing was imported",
                            c.total_entries,
                            entries.len()
                        )));
                    }
                    break;
                }
                Some(_) => {
                    return Err(invalid(
                        "unexpected message in an import; nothing was imported",
                    ))
                }
                None => {
                    return Err(invalid(
                        "the import ended without a commit; nothing was imported",
                    ))
                }
            }
        }
        if stream
            .message()
            .await
            .map_err(super::malformed::relabel_status)?
            .is_some()
        {
            return Err(invalid("messages after the commit; nothing was imported"));
        }
        let outcome = self
            .screening
            .import(&who.to_string(), &header.list, &header.format, entries)
            .await?;
        // The list is durable and acknowledged whatever follows; a failure
        // here is logged and left to the background re-scoring pass.
        let effects = match &self.risk {
            Some(risk) => match risk.after_import(&outcome.list, &outcome.diff).await {
                Ok(effects) => effects,
                Err(error) => {
                    tracing::error!(%error, list = %outcome.list, "after the import: screening own parties failed");
                    ImportEffects::default()
                }
            },
            None => ImportEffects::default(),
        };
        Ok(Response::new(conv::import_out(outcome, effects)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetEntry", caller = %crate::api::auth::who(&req)))]
    async fn get_entry(
        &self,
        req: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        policy::allowed(caller(&req)?, ScreeningAction::Query)?;
        let r = req.into_inner();
        let entry = self.screening.entry(&r.list, &r.source_id)?;
        Ok(Response::new(conv::listed_out(entry)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RemoveList", caller = %crate::api::auth::who(&req)))]
    async fn remove_list(
        &self,
        req: Request<pb::RemoveListRequest>,
    ) -> Result<Response<pb::RemoveListResponse>, Status> {
        let who = policy::allowed(caller(&req)?, ScreeningAction::Import)?;
        let r = req.into_inner();
        let outcome = self
            .screening
            .remove(&who.to_string(), &r.list, &r.rationale)
            .await?;
        if let Some(risk) = &self.risk {
            if let Err(error) = risk.rescore_open(&format!("list removal {}", r.list)).await {
                tracing::error!(%error, list = %r.list, "after the removal: re-scoring failed");
            }
        }
        Ok(Response::new(conv::removed_out(outcome)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Query", caller = %crate::api::auth::who(&req)))]
    async fn query(
        &self,
        req: Request<pb::ScreenQuery>,
    ) -> Result<Response<pb::ScreenResult>, Status> {
        policy::allowed(caller(&req)?, ScreeningAction::Query)?;
        let r = req.into_inner();
        let mut request = conv::options_in(r.options)?;
        request.name = r.name;
        let result = self.screening.query(&request)?;
        Ok(Response::new(self.with_licences(conv::result_out(result))?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "QueryBatch", caller = %crate::api::auth::who(&req)))]
    async fn query_batch(
        &self,
        req: Request<pb::ScreenBatchQuery>,
    ) -> Result<Response<pb::ScreenBatchResult>, Status> {
        policy::allowed(caller(&req)?, ScreeningAction::Query)?;
        let r = req.into_inner();
        if r.names.len() > MAX_BATCH {
            return Err(invalid(format!(
                "a batch holds at most {MAX_BATCH} names, not {}",
                r.names.len()
            )));
        }
        let options = conv::options_in(r.options)?;
        let screening = self.screening.clone();
        // Screening is CPU work: keep it off the async workers.
        let results =
            tokio::task::spawn_blocking(move || screening.query_batch(&r.names, &options))
                .await
                .map_err(|e| Status::internal(format!("screening a batch: {e}")))??;
        Ok(Response::new(pb::ScreenBatchResult {
            results: results
                .into_iter()
                .map(|r| self.with_licences(conv::result_out(r)))
                .collect::<Result<_, Status>>()?,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListLists", caller = %crate::api::auth::who(&req)))]
    async fn list_lists(
        &self,
        req: Request<pb::ListListsRequest>,
    ) -> Result<Response<pb::ListListsResponse>, Status> {
        policy::allowed(caller(&req)?, ScreeningAction::Query)?;
        let lists = self
            .screening
            .lists()
            .into_iter()
            .map(conv::list_out)
            .collect();
        let caps = self.screening.caps();
        Ok(Response::new(pb::ListListsResponse {
            lists,
            max_list_entries: caps.entries as u64,
            max_list_names: caps.names as u64,
            max_list_bytes: caps.bytes as u64,
        }))
    }
}
