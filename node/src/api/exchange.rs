use std::pin::Pin;
use std::sync::Arc;

use concord_proto::v1 as pb;
use concord_proto::v1::exchange_service_server::ExchangeService;
use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::auth::caller;
use super::exchange_convert as conv;
use crate::exchange::{AlongWith, Exchange, NewestCursor, PageBudget, Record, RecordKind};
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
/// Largest newest-first listing without paging: beyond it the caller is
/// told to page (page_size, page_token) instead. The listing stops reading
/// one record past it, so asking costs at most this many records.
const MAX_UNPAGED: usize = 10_000;
/// Most bytes of encoded records one listing response holds, well below the
/// smallest `limits.max_message_bytes` (`config::MIN_MESSAGE_BYTES`): a
/// listing of records of up to 256 KiB each comes in several responses,
/// each ending with a `next_page_token`.
pub const PAGE_BYTES: usize = 1024 * 1024;

/// The encoded size of one record in a listing response.
fn wire_cost(view: &crate::exchange::RecordView) -> usize {
    prost::Message::encoded_len(&conv::record_view(view))
}

impl ExchangeApi {
    fn list(
        &self,
        kind: RecordKind,
        req: &pb::ListRecordsRequest,
    ) -> Result<pb::ListRecordsResponse, Status> {
        let filter = conv::filter(req)?;
        let token = conv::page_token(&req.page_token)?;
        let after = match token {
            Some(conv::ListToken::Store(c)) => Some(c),
            None if req.page_size != 0 => None,
            // Unpaged: newest first, in as many responses as it takes.
            newest => {
                let after = match newest {
                    Some(conv::ListToken::Newest(c)) => Some(c),
                    _ => None,
                };
                let capped = crate::exchange::RecordFilter {
                    limit: Some(filter.limit.unwrap_or(usize::MAX).min(MAX_UNPAGED + 1)),
                    ..filter.clone()
                };
                let records = self.exchange.list_newest(kind, &capped, after.as_ref())?;
                if records.len() > MAX_UNPAGED {
                    return Err(Status::resource_exhausted(format!(
                        "more than {MAX_UNPAGED} {}s match; list them in pages (page_size, page_token) or narrow the filter",
                        kind.as_str()
                    )));
                }
                let mut out = Vec::new();
                let mut used = 0usize;
                let mut next = None;
                for (i, view) in records.iter().enumerate() {
                    let wire = conv::record_view(view);
                    let cost = prost::Message::encoded_len(&wire);
                    if let Some(last) = i.checked_sub(1).filter(|_| used + cost > PAGE_BYTES) {
                        next = Some(conv::ListToken::Newest(NewestCursor::of(&records[last])));
                        break;
                    }
                    used += cost;
                    out.push(wire);
                }
                return Ok(pb::ListRecordsResponse {
                    records: out,
                    next_page_token: next.map(|t| conv::next_page_token(&t)).unwrap_or_default(),
                });
            }
        };
        let size = match req.page_size as usize {
            0 => MAX_PAGE,
            n => n.min(MAX_PAGE),
        };
        let budget = PageBudget {
            records: size,
            bytes: PAGE_BYTES,
            cost: &wire_cost,
        };
        let (records, next) =
            self.exchange
                .list_page_within(kind, &filter, &budget, after.as_ref())?;
        Ok(pb::ListRecordsResponse {
            records: records.iter().map(conv::record_view).collect(),
            next_page_token: next
                .map(|c| conv::next_page_token(&conv::ListToken::Store(c)))
                .unwrap_or_default(),
        })
    }
}

impl ExchangeApi {
    /// Every version of one record, oldest first.
    fn history(&self, kind: RecordKind, id: &str) -> Result<pb::RecordHistory, Status> {
        let versions = self.exchange.history(kind, id)?;
        let grants = if kind == RecordKind::Denial {
            self.exchange.grants_despite(id)?
        } else {
            Vec::new()
        };
        Ok(pb::RecordHistory {
            versions: versions.iter().map(conv::record_view).collect(),
            grants: grants
                .iter()
                .filter_map(|v| {
                    let crate::exchange::Record::Consultation(c) = &v.record else {
                        return None;
                    };
                    let g = c.grant()?;
                    Some(pb::GrantSeen {
                        notice_id: c.id.clone(),
                        granted_by: c.issuer.to_string(),
                        license_id: g.license_id.clone(),
                        rationale: g.rationale.clone(),
                        issued_at_unix_ms: c.issued_at_unix_ms,
                        signature_valid: v.signature == crate::exchange::SignatureCheck::Valid,
                    })
                })
                .collect(),
        })
    }

    /// A write of one record of `kind` that `action` allows: `issue` makes
    /// it from the caller, the request and, when the request carries an
    /// idempotency key, the write remembering that key in the record's
    /// batch. A retry with a key already used is answered with what the
    /// first call made, and nothing is issued again.
    async fn write<'s, T, F, Fut>(
        &'s self,
        req: Request<T>,
        action: ExchangeAction,
        kind: RecordKind,
        issue: F,
    ) -> Result<Response<pb::RecordView>, Status>
    where
        F: FnOnce(Caller, T, Option<AlongWith<'s>>) -> Fut,
        Fut: std::future::Future<Output = Result<crate::exchange::RecordView, Status>>,
    {
        let who = policy::allowed(caller(&req)?, action)?;
        let key = idempotency_key(&req)?;
        if let Some(view) = self.replayed(&who, key.as_deref())? {
            return Ok(Response::new(view));
        }
        let along = key
            .as_deref()
            .map(|k| self.exchange.remember(&who, k, kind, None));
        let view = issue(who, req.into_inner(), along).await?;
        self.metrics.issued(kind.as_str());
        Ok(Response::new(conv::record_view(&view)))
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::RecordView, Status>> + Send>>;

/// The metadata key a client sends with a write so that a retry of it is
/// stored once (see `exchange::idempotency`).
pub const IDEMPOTENCY_KEY: &str = "concord-idempotency-key";

/// The request's idempotency key, checked, if it carries one.
fn idempotency_key<T>(req: &Request<T>) -> Result<Option<String>, Status> {
    let Some(v) = req.metadata().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .map_err(|_| Status::invalid_argument("idempotency key: not ASCII"))?
        .to_owned();
    crate::exchange::check_idempotency_key(&key)?;
    Ok(Some(key))
}

impl ExchangeApi {
    /// What an earlier call with the same key made, as its answer.
    fn replayed(&self, who: &Caller, key: Option<&str>) -> Result<Option<pb::RecordView>, Status> {
        let Some(key) = key else {
            return Ok(None);
        };
        Ok(self
            .exchange
            .replayed(who, key)?
            .map(|view| conv::record_view(&view)))
    }
}

#[tonic::async_trait]
impl ExchangeService for ExchangeApi {
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RaiseAlert", caller = %crate::api::auth::who(&req)))]
    async fn raise_alert(
        &self,
        req: Request<pb::RaiseAlertRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        self.write(
            req,
            ExchangeAction::RaiseAlert,
            RecordKind::Alert,
            |who, mut r, along| async move {
                let draft = conv::alert_draft(&mut r)?;
                let dist = conv::distribution(r.distribution)?;
                let exchange = &self.exchange;
                Ok(exchange.raise_alert_with(&who, draft, dist, along).await?)
            },
        )
        .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AmendAlert", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn amend_alert(
        &self,
        req: Request<pb::AmendAlertRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        self.write(
            req,
            ExchangeAction::RaiseAlert,
            RecordKind::Alert,
            |who, r, along| async move {
                let id = r.id.clone();
                let change = conv::alert_change(r)?;
                Ok(self.exchange.amend_alert(&who, &id, change, along).await?)
            },
        )
        .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "WithdrawAlert", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn withdraw_alert(
        &self,
        req: Request<pb::WithdrawAlertRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        self.write(
            req,
            ExchangeAction::RaiseAlert,
            RecordKind::Alert,
            |who, r, along| async move {
                let exchange = &self.exchange;
                Ok(exchange
                    .withdraw_alert(&who, &r.id, r.rationale, along)
                    .await?)
            },
        )
        .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListAlerts", caller = %crate::api::auth::who(&req)))]
    async fn list_alerts(
        &self,
        req: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<pb::ListRecordsResponse>, Status> {
        policy::allowed(caller(&req)?, ExchangeAction::Read)?;
        Ok(Response::new(self.list(RecordKind::Alert, req.get_ref())?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetAlert", caller = %crate::api::auth::who(&req)))]
    async fn get_alert(
        &self,
        req: Request<pb::GetRecordRequest>,
    ) -> Result<Response<pb::RecordHistory>, Status> {
        policy::allowed(caller(&req)?, ExchangeAction::Read)?;
        Ok(Response::new(
            self.history(RecordKind::Alert, &req.get_ref().id)?,
        ))
    }

    type WatchAlertsStream = WatchStream;

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "WatchAlerts", caller = %crate::api::auth::who(&req)))]
    async fn watch_alerts(
        &self,
        req: Request<pb::WatchRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        policy::allowed(caller(&req)?, ExchangeAction::Read)?;
        let gate = super::auth::StreamGate::new(&req, self.revocations.clone())?;
        let mut alerts = self.exchange.watch();
        let stopping = crate::shutdown::requested(self.stopping.clone());
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        tokio::spawn(tracing::Instrument::in_current_span(async move {
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
        }));
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        Ok(Response::new(Box::pin(stream)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "IssueDenial", caller = %crate::api::auth::who(&req)))]
    async fn issue_denial(
        &self,
        req: Request<pb::IssueDenialRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        self.write(
            req,
            ExchangeAction::IssueDenial,
            RecordKind::Denial,
            |who, mut r, along| async move {
                let draft = conv::denial_draft(&mut r);
                let dist = conv::distribution(r.distribution)?;
                let exchange = &self.exchange;
                Ok(exchange.issue_denial_with(&who, draft, dist, along).await?)
            },
        )
        .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AmendDenial", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn amend_denial(
        &self,
        req: Request<pb::AmendDenialRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        self.write(
            req,
            ExchangeAction::IssueDenial,
            RecordKind::Denial,
            |who, r, along| async move {
                let id = r.id.clone();
                let change = conv::denial_change(r);
                Ok(self
                    .exchange
                    .amend_denial_with(&who, &id, change, along)
                    .await?)
            },
        )
        .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RevokeDenial", caller = %crate::api::auth::who(&req), record = %req.get_ref().id))]
    async fn revoke_denial(
        &self,
        req: Request<pb::RevokeDenialRequest>,
    ) -> Result<Response<pb::RecordView>, Status> {
        self.write(
            req,
            ExchangeAction::IssueDenial,
            RecordKind::Denial,
            |who, r, along| async move {
                let exchange = &self.exchange;
                Ok(exchange
                    .revoke_denial_with(&who, &r.id, r.reason, along)
                    .await?)
            },
        )
        .await
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListDenialsDueForReview", caller = %crate::api::auth::who(&req)))]
    async fn list_denials_due_for_review(
        &self,
        req: Request<pb::DueForReviewRequest>,
    ) -> Result<Response<pb::DueForReviewResponse>, Status> {
        policy::allowed(caller(&req)?, ExchangeAction::Read)?;
        const MOST: usize = 1000;
        let within = match req.get_ref().within_seconds {
            0 => std::time::Duration::from_secs(90 * 86_400),
            s => std::time::Duration::from_secs(s.min(100 * 365 * 86_400)),
        };
        let due = self.exchange.denials_due_for_review(within)?;
        let now = crate::clock::now_unix_ms();
        let more = due.len() > MOST;
        Ok(Response::new(pb::DueForReviewResponse {
            denials: due
                .iter()
                .take(MOST)
                .map(|d| pb::DueDenial {
                    record: Some(conv::record_view(&d.view)),
                    review_due_unix_ms: d.due_unix_ms,
                    overdue: d.overdue(now),
                })
                .collect(),
            more,
            review_after_days: (self.exchange.denial_review_after().as_secs() / 86_400) as u32,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListDenials", caller = %crate::api::auth::who(&req)))]
    async fn list_denials(
        &self,
        req: Request<pb::ListRecordsRequest>,
    ) -> Result<Response<pb::ListRecordsResponse>, Status> {
        policy::allowed(caller(&req)?, ExchangeAction::Read)?;
        Ok(Response::new(self.list(RecordKind::Denial, req.get_ref())?))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "GetDenial", caller = %crate::api::auth::who(&req)))]
    async fn get_denial(
        &self,
        req: Request<pb::GetRecordRequest>,
    ) -> Result<Response<pb::RecordHistory>, Status> {
        policy::allowed(caller(&req)?, ExchangeAction::Read)?;
        Ok(Response::new(
            self.history(RecordKind::Denial, &req.get_ref().id)?,
        ))
    }
}
