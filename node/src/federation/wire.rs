//! Envelope, receipt and trust-bundle wire forms, shared by the inbound
//! services and the outbound peer client.

use concord_proto::v1 as pb;

use crate::crypto::RetiredKey;
use crate::exchange::{SignedEnvelope, SignedReceipt};
use crate::trust_bundle::TrustBundle;

pub fn envelope_in(e: pb::Envelope) -> SignedEnvelope {
    SignedEnvelope {
        header: e.header,
        body: e.body,
        signature: e.signature,
    }
}

pub fn envelope_out(e: SignedEnvelope) -> pb::Envelope {
    pb::Envelope {
        header: e.header,
        body: e.body,
        signature: e.signature,
    }
}

pub fn receipt_in(r: pb::Receipt) -> SignedReceipt {
    SignedReceipt {
        body: r.body,
        signature: r.signature,
    }
}

pub fn receipt_out(r: SignedReceipt) -> pb::Receipt {
    pb::Receipt {
        body: r.body,
        signature: r.signature,
    }
}

/// A trust bundle as announced to peers and shown by the admin service.
pub fn trust_bundle_out(b: &TrustBundle) -> pb::TrustBundle {
    pb::TrustBundle {
        jurisdiction: b.jurisdiction.to_string(),
        endpoint: b.endpoint.clone(),
        ca_cert_pem: b.ca_cert_pem.clone(),
        signing_public_key: b.signing_public_key.clone(),
        retired_signing_keys: b.retired_signing_keys.iter().map(retired_key_out).collect(),
    }
}

pub fn retired_key_out(k: &RetiredKey) -> pb::RetiredSigningKey {
    pb::RetiredSigningKey {
        public_key: k.public_key.clone(),
        retired_at_unix_ms: k.retired_at_unix_ms,
        successor_public_key: k.successor_public_key.clone(),
        handover_signature: k.handover_signature.clone(),
    }
}
