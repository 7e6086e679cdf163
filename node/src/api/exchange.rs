use std::pin::Pin;
use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::exchange_service_server::ExchangeService;
use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::exchange_convert as conv;
use crate::exchange::{Exchange, Record, RecordKind};
use crate::identity::Caller;
use crate::metrics::Metrics;
use crate::policy::{self, ExchangeAction};

pub struct ExchangeApi {
    exchange: Arc<Exchange>,
    metrics: Arc<Metrics>,
    /// Ends watch streams when the node stops, so shutdown is not held open.
    stopping: watch::Receiver<bool>,
    /// Ends watch streams of certificates revoked while they watch.
    revocations: Arc<crate::revocations::Revocations>,
}

impl ExchangeApi {
    pub fn new(
        exchange: Arc<Exchange>,
        metrics: Arc<Metrics>,
        stopping: watch::Receiver<bool>,
        revocations: Arc<crate::revocations::Revocations>,
    ) -> Self {
        ExchangeApi {
            exchange,
            metrics,
            stopping,
            revocations,
        }
    }
}

/// Largest page a paged listing returns.
const MAX_PAGE: usize = 1000;
/// Largest unpaged listing: beyond it a response could exceed the message
/// size limit, so the caller is told to page instead.
const MAX_UNPAGED: usize = 10_000;

impl ExchangeApi {
    fn list(
        &self,
        kind: RecordKind,
        req: &pb::ListRecordsRequest,
    ) -> Result<pb::ListRecordsResponse, Status> {
        let filter = conv::filter(req)?;
        if req.page_size == 0 && req.page_token.is_empty() {
            let records = self.exchange.list(kind, &filter)?;
            if records.len() > MAX_UNPAGED {
                return Err(Status::resource_exhausted(format!(
                    "{} {}s match; list them in pages (page_size, page_token) or narrow the filter",
                    records.len(),
                    kind.as_str()
                )));
            }
            return Ok(pb::ListRecordsResponse {
                records: records.iter().map(conv::record_view).collect(),
                next_page_token: String::new(),
            });
        }
        let after = conv::page_token(&req.page_token)?;
        let size = match req.page_size as usize {
            0 => MAX_PAGE,
            n => n.min(MAX_PAGE),
        };
        let (records, next) = self
            .exchange
            .list_page(kind, &filter, size, after.as_ref())?;
        Ok(pb::ListRecordsResponse {
            records: records.iter().map(conv::record_view).collect(),
            next_page_token: next.map(|c| hex::encode(c.0)).unwrap_or_default(),
        })
    }
}

fn allowed<T>(req: &Request<T>, action: ExchangeAction) -> Result<Caller, Status> {
    let who = caller(req)?;
    policy::authorize_exchange(&who, action)
        .map_err(|d| Status::permission_denied(d.to_string()))?;
    Ok(who)
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::RecordView, Status>> + Send>>;

#[tonic::async_trait]
impl ExchangeService for ExchangeApi {
    async fn raise_alert(
        &self,
        req: Request<pb::RaiseAlertRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        let who = allowed(&req, ExchangeAction::RaiseAlert)?;
        let mut r = req.into_inner();
        let draft = conv::alert_draft(&mut r)?;
        let dist = conv::distribution(r.distribution)?;
        let view = self.exchange.raise_alert(&who, draft, dist).await?;
        self.metrics.issued("alert");
        Ok(Response::new(conv::record_view(&view)))
    }

    async fn list_alerts(
        &self,
        req: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<pb::ListRecordsResponse>, Status> {
        allowed(&req, ExchangeAction::Read)?;
        Ok(Response::new(self.list(RecordKind::Alert, req.get_ref())?))
    }

    async fn get_alert(
        &self,
        req: Request<pb::GetRecordRequest>,
    ) -> Result<Response<pb::RecordHistory>, Status> {
        allowed(&req, ExchangeAction::Read)?;
        let versions = self
            .exchange
            .history(RecordKind::Alert, &req.get_ref().id)?
            .iter()
            .map(conv::record_view)
            .collect();
        Ok(Response::new(pb::RecordHistory { versions }))
    }

    type WatchAlertsStream = WatchStream;

    async fn watch_alerts(
        &self,
        req: Request<pb::WatchRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        allowed(&req, ExchangeAction::Read)?;
        let gate = super::auth::StreamGate::new(&req, self.revocations.clone())?;
        let mut alerts = self.exchange.watch();
        let stopping = super::stopping(self.stopping.clone());
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            tokio::pin!(stopping);
            loop {
                let item = tokio::select! {
                    item = alerts.recv() => item,
                    _ = &mut stopping => break,
                };
                let out = match item {
                    Ok(view) if matches!(view.record, Record::Alert(_)) => {
                        gate.check().map(|()| conv::record_view(&view))
                    }
                    Ok(_) => continue,
                    // A watcher too slow to keep up is told so rather than silently skipping alerts.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        Err(Status::resource_exhausted(
                            "watcher fell behind; alerts were skipped, re-list and watch again",
                        ))
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                let failed = out.is_err();
                if tx.send(out).await.is_err() || failed {
                    break;
                }
            }
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn issue_denial(
        &self,
        req: Request<pb::IssueDenialRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        let who = allowed(&req, ExchangeAction::IssueDenial)?;
        let mut r = req.into_inner();
        let draft = conv::denial_draft(&mut r);
        let dist = conv::distribution(r.distribution)?;
        let view = self.exchange.issue_denial(&who, draft, dist).await?;
        self.metrics.issued("denial");
        Ok(Response::new(conv::record_view(&view)))
    }

    async fn amend_denial(
        &self,
        req: Request<pb::AmendDenialRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        let who = allowed(&req, ExchangeAction::IssueDenial)?;
        let r = req.into_inner();
        let id = r.id.clone();
        let view = self
            .exchange
            .amend_denial(&who, &id, conv::denial_change(r))
            .await?;
        self.metrics.issued("denial");
        Ok(Response::new(conv::record_view(&view)))
    }

    async fn revoke_denial(
        &self,
        req: Request<pb::RevokeDenialRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        let who = allowed(&req, ExchangeAction::IssueDenial)?;
        let r = req.into_inner();
        let view = self.exchange.revoke_denial(&who, &r.id, r.reason).await?;
        self.metrics.issued("denial");
        Ok(Response::new(conv::record_view(&view)))
    }

    async fn list_denials(
        &self,
        req: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<pb::ListRecordsResponse>, Status> {
        allowed(&req, ExchangeAction::Read)?;
        Ok(Response::new(self.list(RecordKind::Denial, req.get_ref())?))
    }

    async fn get_denial(
        &self,
        req: Request<pb::GetRecordRequest>,
    ) -> Result<Response<pb::RecordHistory>, Status> {
        allowed(&req, ExchangeAction::Read)?;
        let versions = self
            .exchange
            .history(RecordKind::Denial, &req.get_ref().id)?
            .iter()
            .map(conv::record_view)
            .collect();
        Ok(Response::new(pb::RecordHistory { versions }))
    }
}
