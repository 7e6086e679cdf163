//! Envelope and receipt wire forms, shared by the inbound federation service
//! and the outbound federation links.

use concord_proto::v1 as pb;

use crate::exchange::{SignedEnvelope, SignedReceipt};

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
