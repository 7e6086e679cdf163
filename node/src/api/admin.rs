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
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RecordIssuance", caller = %crate::api::auth::who(&req)))]
    async fn record_issuance(
        &self,
        req: Request<pb::RecordIssuanceRequest>,
    ) -> Result<Response<pb::RecordIssuanceResponse>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        // Only certificates this jurisdiction's CA issued, naming what they claim, are recorded.
        let fingerprint = crate::tls::verify_issued(
            &self.ctx.trust,
            &self.ctx.jurisdiction,
            &r.certificate_pem,
            &r.identity,
            &r.certificate_sha256_hex,
        )
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let rationale = format!("certificate sha256 {fingerprint}");
        let seq = self
            .ctx
            .audit
            .record(crate::audit::Action {
                actor: &who.to_string(),
                action: "pki.issue",
                record: &r.identity,
                rationale: &rationale,
            })
            .await?;
        Ok(Response::new(pb::RecordIssuanceResponse { audit_seq: seq }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Status", caller = %crate::api::auth::who(&_req)))]
    async fn status(
        &self,
        _req: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        Ok(Response::new(convert::status(
            self.ctx.status().await,
            env!("CARGO_PKG_VERSION"),
        )))
    }

    #[tracing::instrument(skip_all)]
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ResumeIssuing", caller = %crate::api::auth::who(&req)))]
    async fn resume_issuing(
        &self,
        req: Request<pb::ResumeIssuingRequest>,
    ) -> Result<Response<pb::ResumeIssuingResponse>, Status> {
        let who = caller(&req)?;
        let counter = self
            .ctx
            .exchange
            .resume_issuing(&who.to_string(), &req.get_ref().reason)
            .await?;
        Ok(Response::new(pb::ResumeIssuingResponse { counter }))
    }

    #[tracing::instrument(skip_all)]
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AddPeer", caller = %crate::api::auth::who(&req)))]
    async fn add_peer(
        &self,
        req: Request<pb::AddPeerRequest>,
    ) -> Result<Response<pb::Peer>, Status> {
        let who = caller(&req)?;
        let bundle = convert::trust_bundle(req.into_inner().trust)?;
        let record = self.ctx.peers.add(&who.to_string(), bundle).await?;
        tracing::info!(actor = %who, peer = %record.bundle.jurisdiction, key_id = %record.bundle.signing_key_id(), "peer added");
        Ok(Response::new(convert::peer(&record, &LinkState::default())))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "UpdatePeer", caller = %crate::api::auth::who(&req)))]
    async fn update_peer(
        &self,
        req: Request<pb::UpdatePeerRequest>,
    ) -> Result<Response<pb::Peer>, Status> {
        let who = caller(&req)?;
        let req = req.into_inner();
        let bundle = convert::trust_bundle(req.trust)?;
        let record = self
            .ctx
            .peers
            .update(&who.to_string(), bundle, req.verified_out_of_band)
            .await?;
        tracing::info!(actor = %who, peer = %record.bundle.jurisdiction, key_id = %record.bundle.signing_key_id(), "peer updated");
        Ok(Response::new(convert::peer(&record, &LinkState::default())))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Revoke", caller = %crate::api::auth::who(&req)))]
    async fn revoke(
        &self,
        req: Request<pb::RevokeRequest>,
    ) -> Result<Response<pb::RevocationInfo>, Status> {
        let who = caller(&req)?;
        let own_cert = super::auth::caller_cert_sha256(&req)?;
        let req = req.into_inner();
        let target = convert::revocation_target(req.target)?;
        let r = self
            .ctx
            .revocations
            .revoke(&who, &own_cert, target, &req.reason)
            .await?;
        tracing::warn!(actor = %who, revoked = %r.target.key(), "certificate revoked");
        Ok(Response::new(convert::revocation(&r)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListRevocations", caller = %crate::api::auth::who(&_req)))]
    async fn list_revocations(
        &self,
        _req: Request<pb::ListRevocationsRequest>,
    ) -> Result<Response<pb::ListRevocationsResponse>, Status> {
        let revocations = self
            .ctx
            .revocations
            .list()
            .iter()
            .map(convert::revocation)
            .collect();
        Ok(Response::new(pb::ListRevocationsResponse { revocations }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "LiftRevocation", caller = %crate::api::auth::who(&req)))]
    async fn lift_revocation(
        &self,
        req: Request<pb::LiftRevocationRequest>,
    ) -> Result<Response<pb::RevocationInfo>, Status> {
        let who = caller(&req)?;
        let req = req.into_inner();
        let r = self
            .ctx
            .revocations
            .lift(&who, &req.key, &req.reason)
            .await?;
        tracing::warn!(actor = %who, lifted = %r.target.key(), "revocation lifted");
        Ok(Response::new(convert::revocation(&r)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListPeers", caller = %crate::api::auth::who(&_req)))]
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
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RemovePeer", caller = %crate::api::auth::who(&req)))]
    async fn remove_peer(
        &self,
        req: Request<pb::RemovePeerRequest>,
    ) -> Result<Response<pb::RemovePeerResponse>, Status> {
        let who = caller(&req)?;
        let jurisdiction = convert::jurisdiction("jurisdiction", &req.into_inner().jurisdiction)?;
        self.ctx
            .peers
            .remove(&who.to_string(), &jurisdiction)
            .await?;
        tracing::info!(actor = %who, peer = %jurisdiction, "peer removed");
        Ok(Response::new(pb::RemovePeerResponse {}))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "CreateGroup", caller = %crate::api::auth::who(&req)))]
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
        let group = self
            .ctx
            .exchange
            .create_group(&who.to_string(), &r.name, members)
            .await?;
        tracing::info!(actor = %who, group = %group.name, members = ?group.members, "sharing group created");
        Ok(Response::new(convert::group(&group)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListGroups", caller = %crate::api::auth::who(&_req)))]
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

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RemoveGroup", caller = %crate::api::auth::who(&req)))]
    async fn remove_group(
        &self,
        req: Request<pb::RemoveGroupRequest>,
    ) -> Result<Response<pb::RemoveGroupResponse>, Status> {
        let who = caller(&req)?;
        let name = req.into_inner().name;
        self.ctx
            .exchange
            .remove_group(&who.to_string(), &name)
            .await?;
        tracing::info!(actor = %who, group = %name, "sharing group removed");
        Ok(Response::new(pb::RemoveGroupResponse {}))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AuditVerify", caller = %crate::api::auth::who(&req)))]
    async fn audit_verify(
        &self,
        req: Request<pb::AuditVerifyRequest>,
    ) -> Result<Response<pb::AuditVerifyResponse>, Status> {
        let audit = &self.ctx.audit;
        let mut resp = match audit.verify() {
            Ok(v) => pb::AuditVerifyResponse {
                ok: true,
                entries: v.entries,
                head_hash_hex: hex::encode(v.head),
                checkpoints: v.checkpoints as u32,
                ..Default::default()
            },
            Err(broken) => pb::AuditVerifyResponse {
                ok: false,
                entries: audit.count().await,
                first_broken_seq: broken.seq,
                reason: broken.reason,
                ..Default::default()
            },
        };
        if req.get_ref().with_records {
            let exchange = self.ctx.exchange.clone();
            let found = tokio::task::spawn_blocking(move || exchange.reverify_all())
                .await
                .map_err(|e| Status::internal(format!("re-verifying records: {e}")))??;
            if found.invalid > 0 {
                resp.ok = false;
                tracing::warn!(
                    invalid = found.invalid,
                    checked = found.checked,
                    "held records do not verify"
                );
            }
            resp.records_checked = found.checked;
            resp.invalid_records = found.invalid;
            resp.invalid_record_details = found.details;
        }
        if req.get_ref().with_witnesses {
            let peers = self.ctx.peers.current().keys().cloned().collect::<Vec<_>>();
            let reports =
                crate::federation::check_witnesses(&*self.ctx.peer_client, audit, peers).await;
            for report in reports {
                let report = pb::WitnessReport {
                    peer: report.peer.to_string(),
                    checkpoints: report.checkpoints as u32,
                    ok: report.ok,
                    detail: report.detail,
                };
                if !report.ok && report.checkpoints > 0 {
                    resp.ok = false;
                    if resp.reason.is_empty() {
                        resp.reason = format!("witness {}: {}", report.peer, report.detail);
                    }
                }
                resp.witnesses.push(report);
            }
        }
        Ok(Response::new(resp))
    }

    type AuditVerifyRecordsStream = std::pin::Pin<
        Box<dyn tokio_stream::Stream<Item = Result<pb::AuditVerifyRecordsProgress, Status>> + Send>,
    >;

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AuditVerifyRecords", caller = %crate::api::auth::who(&req)))]
    async fn audit_verify_records(
        &self,
        req: Request<pb::AuditVerifyRecordsRequest>,
    ) -> Result<Response<Self::AuditVerifyRecordsStream>, Status> {
        let who = caller(&req)?;
        let exchange = self.ctx.exchange.clone();
        let total = exchange.envelope_count()?;
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tracing::info!(actor = %who, total, "re-verifying every held record");
        let progress =
            move |r: &crate::exchange::Reverified, done: bool| pb::AuditVerifyRecordsProgress {
                checked: r.checked,
                invalid: r.invalid,
                total,
                done,
                invalid_details: if done { r.details.clone() } else { Vec::new() },
            };
        tokio::task::spawn_blocking(move || {
            let found = exchange.reverify_all_with(|r| {
                // Progress is cumulative: a message the client has not
                // taken yet is simply superseded. A closed stream stops it.
                !matches!(
                    tx.try_send(Ok(progress(r, false))),
                    Err(tokio::sync::mpsc::error::TrySendError::Closed(_))
                )
            });
            let last = match found {
                Ok(found) => {
                    if found.invalid > 0 {
                        tracing::warn!(
                            invalid = found.invalid,
                            checked = found.checked,
                            "held records do not verify"
                        );
                    } else {
                        tracing::info!(checked = found.checked, "every held record verifies");
                    }
                    Ok(progress(&found, true))
                }
                Err(e) => Err(Status::from(e)),
            };
            let _ = tx.blocking_send(last);
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    type AuditExportStream = std::pin::Pin<
        Box<dyn tokio_stream::Stream<Item = Result<pb::AuditExportChunk, Status>> + Send>,
    >;

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AuditExport", caller = %crate::api::auth::who(&req)))]
    async fn audit_export(
        &self,
        req: Request<pb::AuditExportRequest>,
    ) -> Result<Response<Self::AuditExportStream>, Status> {
        let who = caller(&req)?;
        let r = req.into_inner();
        let audit = self.ctx.audit.clone();
        let head = audit.count().await;
        // A checkpoint signed after `head` was read covers entries this
        // export does not hold; leave it out rather than have it look like
        // missing entries.
        let checkpoints: Vec<_> = audit
            .checkpoints()?
            .iter()
            .filter(|c| c.count <= head)
            .map(convert::checkpoint)
            .collect();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        // Checkpoints grow with the node's age: they come in as many
        // messages of at most 1 MiB as they need, before the entries.
        let mut checkpoint_runs = super::paging::chunks(checkpoints).into_iter();
        let first = pb::AuditExportChunk {
            entries: vec![],
            checkpoints: checkpoint_runs.next().unwrap_or_default(),
            jurisdiction: audit.jurisdiction().to_owned(),
            public_key_hex: hex::encode(audit.public_key()),
            retired_signing_keys: audit
                .keyring()
                .retired
                .iter()
                .map(convert::retired_key_to_proto)
                .collect(),
        };
        tracing::info!(actor = %who, since = r.since_seq, "audit exported");
        tokio::spawn(tracing::Instrument::in_current_span(async move {
            if tx.send(Ok(first)).await.is_err() {
                return;
            }
            for checkpoints in checkpoint_runs {
                let chunk = pb::AuditExportChunk {
                    checkpoints,
                    ..Default::default()
                };
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
            let mut from = r.since_seq.max(1);
            while from <= head {
                let to = (from + 999).min(head);
                // Entries carry free-text rationales: 1000 of them can
                // outgrow a message, so each read is sent in 1 MiB runs.
                let chunks = match audit.entries(from, to) {
                    Ok(entries) => super::paging::chunks(
                        entries
                            .iter()
                            .filter(|e| e.at_unix_ms >= r.since_unix_ms)
                            .map(convert::audit_entry)
                            .collect(),
                    )
                    .into_iter()
                    .map(|entries| {
                        Ok(pb::AuditExportChunk {
                            entries,
                            ..Default::default()
                        })
                    })
                    .collect(),
                    Err(e) => vec![Err(Status::from(e))],
                };
                for chunk in chunks {
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        return;
                    }
                }
                from = to + 1;
            }
        }));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "AuditCheckpoint", caller = %crate::api::auth::who(&req)))]
    async fn audit_checkpoint(
        &self,
        req: Request<pb::AuditCheckpointRequest>,
    ) -> Result<Response<pb::AuditCheckpointInfo>, Status> {
        let who = caller(&req)?;
        let c = self.ctx.audit.checkpoint().await?;
        tracing::info!(actor = %who, count = c.count, "audit checkpoint signed on demand");
        Ok(Response::new(convert::checkpoint(&c)))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "ListEvidence", caller = %crate::api::auth::who(&_req)))]
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
        let counts = self
            .ctx
            .exchange
            .equivocation_counts()?
            .iter()
            .map(|(peer, c)| convert::equivocation_count(peer, c))
            .collect();
        let limits = self.ctx.exchange.evidence_limits();
        Ok(Response::new(pb::ListEvidenceResponse {
            evidence,
            counts,
            max_evidence_per_peer: limits.entries,
            max_evidence_bytes_per_peer: limits.bytes,
        }))
    }

    type BackupStream =
        std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::BackupChunk, Status>> + Send>>;

    /// Copies the store to a local temporary file under the snapshot lock
    /// (writers wait only for that), records the backup in the audit trail,
    /// then streams the file.
    #[tracing::instrument(skip_all)]
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Backup", caller = %crate::api::auth::who(&req)))]
    async fn backup(
        &self,
        req: Request<pb::BackupRequest>,
    ) -> Result<Response<Self::BackupStream>, Status> {
        let who = caller(&req)?;
        let store = self.ctx.store.clone();
        let jurisdiction = self.ctx.jurisdiction.to_string();
        let signer = self.ctx.signer.clone();
        let started = std::time::Instant::now();
        let taken = tokio::task::spawn_blocking(move || {
            crate::backup::take(&store, &jurisdiction, &signer)
        })
        .await
        .map_err(|e| Status::internal(format!("backup task failed: {e}")))?
        .map_err(crate::error::Error::from)?;
        let rationale = format!(
            "{} entries, {} bytes, sha256 {}",
            taken.entries,
            taken.size,
            hex::encode(taken.checksum)
        );
        self.ctx
            .audit
            .record(crate::audit::Action {
                actor: &who.to_string(),
                action: "store.backup",
                record: "",
                rationale: &rationale,
            })
            .await?;
        tracing::info!(actor = %who, entries = taken.entries, bytes = taken.size, elapsed = ?started.elapsed(), "backup taken");
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let (size, entries) = (taken.size, taken.entries);
        tokio::task::spawn_blocking(move || stream_file(taken.file, size, entries, &tx));
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    #[tracing::instrument(skip_all)]
    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "RunRetention", caller = %crate::api::auth::who(&req)))]
    async fn run_retention(
        &self,
        req: Request<pb::RunRetentionRequest>,
    ) -> Result<Response<pb::RunRetentionResponse>, Status> {
        let who = caller(&req)?;
        let policy = self.ctx.retention;
        let purged = policy.run(&self.ctx.exchange, &who.to_string()).await?;
        tracing::info!(actor = %who, records = purged.len(), "retention run on demand");
        Ok(Response::new(pb::RunRetentionResponse {
            purged: purged.iter().map(purged_record).collect(),
            alerts_days: policy.alerts_days,
            denials_days: policy.denials_days,
        }))
    }

    #[tracing::instrument(name = "rpc", skip_all, fields(rpc = "Stats", caller = %crate::api::auth::who(&req)))]
    async fn stats(
        &self,
        req: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::StatsResponse>, Status> {
        let public = req.get_ref().public;
        let now = crate::clock::now_unix_ms();
        let (exchange, licensing) = (self.ctx.exchange.clone(), self.ctx.licensing.clone());
        let (stats, decisions) = tokio::task::spawn_blocking(move || {
            let licenses = licensing.licenses(&Default::default())?;
            let mut decisions = crate::stats::decisions(&licenses);
            crate::stats::add_follow_up(
                &mut decisions,
                &licensing.shipments(None, None)?,
                &licensing.checks(None, None, None)?,
            );
            Ok::<_, crate::error::Error>((exchange.stats(now)?, decisions))
        })
        .await
        .map_err(|e| Status::internal(format!("stats task failed: {e}")))??;
        let peers = match public {
            true => Vec::new(),
            false => stats
                .peers
                .iter()
                .map(|(j, c)| pb::PeerCounts {
                    jurisdiction: j.to_string(),
                    alerts_sent: c.alerts_sent,
                    alerts_received: c.alerts_received,
                    denials_sent: c.denials_sent,
                    denials_received: c.denials_received,
                    equivocations: c.equivocations,
                })
                .collect(),
        };
        // Licensing figures are aggregates only: the same in public mode.
        Ok(Response::new(pb::StatsResponse {
            jurisdiction: self.ctx.jurisdiction.to_string(),
            at_unix_ms: now,
            public,
            alerts: Some(record_counts(&stats.alerts)),
            denials: Some(record_counts(&stats.denials)),
            equivocations: stats.equivocations,
            peers,
            audit_entries: self.ctx.audit.count().await,
            licensing: Some(decision_stats(&decisions)),
        }))
    }
}

fn decision_stats(d: &crate::stats::DecisionStats) -> pb::DecisionStats {
    let counts = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(outcome, count)| pb::OutcomeCount {
                outcome: outcome.clone(),
                count: *count,
            })
            .collect()
    };
    pb::DecisionStats {
        applications: d.applications,
        decided: d.decided,
        pending: d.pending,
        p50_days: d.p50_days.unwrap_or(0.0),
        p90_days: d.p90_days.unwrap_or(0.0),
        by_outcome: counts(&d.by_outcome),
        by_state: counts(&d.by_state),
        appeals: d.appeals,
        appeals_by_result: counts(&d.appeals_by_result),
        shipments: d.shipments,
        shipments_with_discrepancy: d.shipments_with_discrepancy,
        end_use_checks: counts(&d.end_use_checks),
        by_year: d
            .years
            .iter()
            .map(|(year, y)| pb::PeriodStats {
                year: *year,
                submitted: y.submitted,
                decided: y.decided,
                p50_days: y.p50_days.unwrap_or(0.0),
                p90_days: y.p90_days.unwrap_or(0.0),
                appeals: y.appeals,
                shipments: y.shipments,
                end_use_checks: y.end_use_checks,
            })
            .collect(),
    }
}

/// Sends the backup file in chunks; the first carries its size.
fn stream_file(
    mut file: std::fs::File,
    size: u64,
    entries: u64,
    tx: &tokio::sync::mpsc::Sender<Result<pb::BackupChunk, Status>>,
) {
    use std::io::Read;
    const CHUNK: usize = 256 * 1024;
    let mut first = true;
    loop {
        let mut data = vec![0u8; CHUNK];
        let n = match file.read(&mut data) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.blocking_send(Err(Status::internal(format!(
                    "reading the backup file: {e}"
                ))));
                return;
            }
        };
        if n == 0 && !first {
            return;
        }
        data.truncate(n);
        let chunk = pb::BackupChunk {
            data,
            total_bytes: if first { size } else { 0 },
            entries: if first { entries } else { 0 },
        };
        first = false;
        if tx.blocking_send(Ok(chunk)).is_err() {
            return;
        }
        if n == 0 {
            return;
        }
    }
}

fn purged_record(p: &crate::exchange::Purged) -> pb::PurgedRecord {
    pb::PurgedRecord {
        kind: p.kind.as_str().to_owned(),
        id: p.id.clone(),
        issuer: p.issuer.to_string(),
        versions: p
            .versions
            .iter()
            .map(|(version, digest)| pb::PurgedVersion {
                version: *version,
                envelope_digest_hex: hex::encode(digest),
            })
            .collect(),
        ended_at_unix_ms: p.ended_at_unix_ms,
    }
}

fn record_counts(c: &crate::exchange::KindCounts) -> pb::RecordCounts {
    let categories = |m: &std::collections::BTreeMap<String, u64>| {
        m.iter()
            .map(|(category, count)| pb::CategoryCount {
                category: category.clone(),
                count: *count,
            })
            .collect()
    };
    pb::RecordCounts {
        issued: c.issued,
        received: c.received,
        issued_active: c.issued_active,
        received_active: c.received_active,
        issued_by_category: categories(&c.issued_by_category),
        received_by_category: categories(&c.received_by_category),
        issued_changes: c.issued_changes,
        received_changes: c.received_changes,
        issued_revoked: c.issued_revoked,
        received_revoked: c.received_revoked,
    }
}
