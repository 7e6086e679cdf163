//! Hand-written conversions between wire and domain types.

use concord_proto::v1 as pb;

use crate::context::{NodeStatus, PeerView};
use crate::crypto::RetiredKey;
use crate::error::Error;
use crate::federation::LinkState;
use crate::identity::Jurisdiction;
use crate::peers::PeerRecord;
use crate::trust_bundle::TrustBundle;

pub fn jurisdiction(field: &str, value: &str) -> Result<Jurisdiction, Error> {
    value
        .parse()
        .map_err(|e| Error::InvalidArgument(format!("{field}: {e}")))
}

pub fn trust_bundle(pb: Option<pb::TrustBundle>) -> Result<TrustBundle, Error> {
    let pb = pb.ok_or_else(|| Error::InvalidArgument("trust: missing".into()))?;
    Ok(TrustBundle {
        jurisdiction: jurisdiction("trust.jurisdiction", &pb.jurisdiction)?,
        endpoint: pb.endpoint,
        ca_cert_pem: pb.ca_cert_pem,
        signing_public_key: pb.signing_public_key,
        retired_signing_keys: pb
            .retired_signing_keys
            .into_iter()
            .map(retired_key)
            .collect(),
    })
}

/// The wire form is `federation::wire`'s: the link announces the same bundle.
pub use crate::federation::wire::{
    retired_key_out as retired_key_to_proto, trust_bundle_out as trust_bundle_to_proto,
};

pub fn retired_key(k: pb::RetiredSigningKey) -> RetiredKey {
    RetiredKey {
        public_key: k.public_key,
        retired_at_unix_ms: k.retired_at_unix_ms,
        successor_public_key: k.successor_public_key,
        handover_signature: k.handover_signature,
    }
}

pub fn peer_view(v: &PeerView) -> pb::Peer {
    let mut p = peer(&v.record, &v.link);
    p.outbox_pending = v.outbox_pending as u64;
    p.received_cursor = v.received_cursor;
    p
}

pub fn peer(record: &PeerRecord, link: &LinkState) -> pb::Peer {
    let b = &record.bundle;
    pb::Peer {
        trust: Some(trust_bundle_to_proto(b)),
        signing_key_id: b.signing_key_id(),
        added_at_unix_ms: record.added_at_unix_ms,
        link: Some(pb::LinkState {
            connected: link.connected,
            last_contact_unix_ms: link.last_contact_unix_ms.unwrap_or(0),
            last_error: link.last_error.clone().unwrap_or_default(),
            delivery_error: link.delivery_error.clone().unwrap_or_default(),
        }),
        outbox_pending: 0,
        received_cursor: 0,
    }
}

pub fn status(s: NodeStatus, version: &str) -> pb::StatusResponse {
    pb::StatusResponse {
        jurisdiction: s.jurisdiction.to_string(),
        node_name: s.node_name,
        endpoint: s.endpoint,
        signing_key_id: s.signing_key_id,
        version: version.to_owned(),
        uptime_seconds: s.uptime_seconds,
        store: Some(pb::StoreStatus {
            path: s.store.path.display().to_string(),
            schema_version: s.store.schema_version,
            size_on_disk_bytes: s.store.size_on_disk,
            durable_writes: s.store.durable_writes,
            flushes: s.store.flushes,
        }),
        peers: s.peers.iter().map(peer_view).collect(),
        metrics_address: s.metrics_addr.map(|a| a.to_string()).unwrap_or_default(),
        equivocations: s.equivocations as u64,
        audit_entries: s.audit_entries,
        audit_checkpointed: s.audit_checkpointed,
        retired_signing_key_ids: s.retired_signing_key_ids,
        revocations: s.revocations as u64,
        issuing_paused: s.issuing_paused.unwrap_or_default(),
        denials_overdue_for_review: s.denials_overdue_for_review as u64,
        consultations_overdue: s.consultations_overdue as u64,
        certificates: s
            .certificates
            .iter()
            .map(|c| pb::CertificateExpiry {
                name: c.name.clone(),
                not_after_unix_ms: c.not_after_unix_ms,
            })
            .collect(),
    }
}

pub fn group(g: &crate::exchange::SharingGroup) -> pb::SharingGroup {
    pb::SharingGroup {
        name: g.name.clone(),
        members: g.members.iter().map(|m| m.to_string()).collect(),
        created_at_unix_ms: g.created_at_unix_ms,
    }
}

pub fn evidence(e: &crate::exchange::Evidence) -> pb::EquivocationEvidence {
    pb::EquivocationEvidence {
        issuer: e.issuer.to_string(),
        record_id: e.record_id.clone(),
        version: e.version,
        received_from: e.received_from.to_string(),
        at_unix_ms: e.at_unix_ms,
        held_digest_hex: hex::encode(e.held.digest()),
        conflicting_digest_hex: hex::encode(e.conflicting.digest()),
    }
}

pub fn equivocation_count(
    peer: &crate::identity::Jurisdiction,
    c: &crate::exchange::EquivocationCount,
) -> pb::EquivocationCount {
    pb::EquivocationCount {
        peer: peer.to_string(),
        detected: c.detected,
        kept: c.kept,
        kept_bytes: c.kept_bytes,
        not_kept: c.not_kept,
        first_at_unix_ms: c.first_at_unix_ms,
        last_at_unix_ms: c.last_at_unix_ms,
    }
}

pub fn audit_entry(e: &crate::audit::AuditEntry) -> pb::AuditEntry {
    pb::AuditEntry {
        seq: e.seq,
        at_unix_ms: e.at_unix_ms,
        actor: e.actor.clone(),
        action: e.action.clone(),
        record: e.record.clone(),
        rationale: e.rationale.clone(),
        prev_hash_hex: hex::encode(e.prev_hash),
        hash_hex: hex::encode(e.hash),
    }
}

pub fn checkpoint(c: &crate::audit::Checkpoint) -> pb::AuditCheckpointInfo {
    pb::AuditCheckpointInfo {
        jurisdiction: c.jurisdiction.clone(),
        count: c.count,
        head_hash_hex: hex::encode(c.head_hash),
        at_unix_ms: c.at_unix_ms,
        key_id: c.key_id.clone(),
        signature_hex: hex::encode(&c.signature),
    }
}

pub fn revocation(r: &crate::revocations::Revocation) -> pb::RevocationInfo {
    use crate::revocations::Target;
    pb::RevocationInfo {
        key: r.target.key(),
        identity: r.target.identity().to_string(),
        certificate_sha256_hex: match &r.target {
            Target::Certificate { sha256, .. } => hex::encode(sha256),
            Target::Identity(_) => String::new(),
        },
        reason: r.reason.clone(),
        actor: r.actor.clone(),
        revoked_at_unix_ms: r.revoked_at_unix_ms,
    }
}

/// The revocation target a request names: an identity, or a certificate's PEM.
pub fn revocation_target(
    target: Option<pb::revoke_request::Target>,
) -> Result<crate::revocations::Target, Error> {
    use crate::identity::Caller;
    use crate::revocations::Target;
    match target {
        None => Err(Error::InvalidArgument(
            "name an identity or a certificate to revoke".into(),
        )),
        Some(pb::revoke_request::Target::Identity(text)) => text
            .parse::<Caller>()
            .map(Target::Identity)
            .map_err(|e| Error::InvalidArgument(format!("identity {text:?}: {e}"))),
        Some(pb::revoke_request::Target::CertificatePem(pem)) => {
            let der = crate::tls::certs_from_pem(pem.as_bytes())
                .and_then(|mut c| (c.len() == 1).then(|| c.remove(0)))
                .ok_or_else(|| {
                    Error::InvalidArgument(
                        "certificate_pem: expected exactly one PEM certificate".into(),
                    )
                })?;
            let identity = Caller::from_cert_der(&der)
                .map_err(|e| Error::InvalidArgument(format!("certificate_pem: {e}")))?;
            Ok(Target::Certificate {
                sha256: crate::crypto::sha256(&der),
                identity,
            })
        }
    }
}
