//! Signed checkpoints of the audit chain's head.
//!
//! The node signs, with its record-signing key (Ed25519), the bytes:
//! `"concord.v1.audit-checkpoint\0"`, the jurisdiction code as 4-byte
//! big-endian length + UTF-8, `count` (8 bytes BE), `head_hash` (32 bytes),
//! `at_unix_ms` (8 bytes BE).

use serde::{Deserialize, Serialize};

use crate::crypto::{key_id, verify_signature, RecordSigner};

pub const CHECKPOINT_TAG: &[u8] = b"concord.v1.audit-checkpoint\0";

#[derive(Debug, thiserror::Error)]
#[error("cannot encode the audit checkpoint at {count} entries: {reason}")]
pub struct CheckpointEncodeError {
    pub count: u64,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub jurisdiction: String,
    /// Number of entries covered: the sequence number of the head entry.
    pub count: u64,
    pub head_hash: [u8; 32],
    pub at_unix_ms: i64,
    pub key_id: String,
    pub signature: Vec<u8>,
}

fn signed_bytes(jurisdiction: &str, count: u64, head_hash: &[u8; 32], at: i64) -> Vec<u8> {
    let mut b = CHECKPOINT_TAG.to_vec();
    b.extend_from_slice(&(jurisdiction.len() as u32).to_be_bytes());
    b.extend_from_slice(jurisdiction.as_bytes());
    b.extend_from_slice(&count.to_be_bytes());
    b.extend_from_slice(head_hash);
    b.extend_from_slice(&at.to_be_bytes());
    b
}

impl Checkpoint {
    pub fn sign(
        signer: &RecordSigner,
        jurisdiction: &str,
        count: u64,
        head_hash: [u8; 32],
        at_unix_ms: i64,
    ) -> Self {
        let signature = signer.sign(&signed_bytes(jurisdiction, count, &head_hash, at_unix_ms));
        Checkpoint {
            jurisdiction: jurisdiction.to_owned(),
            count,
            head_hash,
            at_unix_ms,
            key_id: signer.key_id().to_owned(),
            signature,
        }
    }

    /// Verifies with whichever of the signer's keys the checkpoint names, if
    /// in service at the checkpoint's time.
    pub fn verify_with(
        &self,
        keys: &crate::crypto::KeyRing<'_>,
        jurisdiction: &str,
    ) -> Result<(), String> {
        let key = keys
            .key_for(&self.key_id, self.at_unix_ms)
            .map_err(|e| e.to_string())?;
        self.verify(key, jurisdiction)
    }

    pub fn verify(&self, public_key: &[u8], jurisdiction: &str) -> Result<(), String> {
        if self.jurisdiction != jurisdiction {
            return Err(format!(
                "signed for {}, not {jurisdiction}",
                self.jurisdiction
            ));
        }
        if self.key_id != key_id(public_key) {
            return Err(format!(
                "signed with key {}, expected {}",
                self.key_id,
                key_id(public_key)
            ));
        }
        let bytes = signed_bytes(
            &self.jurisdiction,
            self.count,
            &self.head_hash,
            self.at_unix_ms,
        );
        if verify_signature(public_key, &bytes, &self.signature) {
            Ok(())
        } else {
            Err("signature does not verify".into())
        }
    }
}

impl Checkpoint {
    /// Wire form for witnesses and the file kept beside the store; an
    /// encoding failure is an error, never empty bytes in its place.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CheckpointEncodeError> {
        postcard::to_stdvec(self).map_err(|e| CheckpointEncodeError {
            count: self.count,
            reason: e.to_string(),
        })
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("malformed checkpoint: {e}"))
    }
}
