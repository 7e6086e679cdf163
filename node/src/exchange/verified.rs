//! Which envelope signatures this node has already verified, so reading a
//! record again (listings, pages, task-force answers, risk re-scoring) does
//! not pay for Ed25519 verification every time.
//!
//! An entry is the SHA-256 of the envelope's exact header and signature
//! bytes together with the issuer's public key: any change to those bytes,
//! or a different key, misses the cache and is verified in full. The body is
//! bound to the header by its hash, which `open_checked` recomputes on every
//! read, so a body edited in the store is still caught.
//!
//! Written by hand (a bounded set cleared when full) rather than with an
//! LRU crate: entries are cheap to recompute, so eviction order does not
//! matter, only the memory bound does.

use std::collections::HashSet;
use std::sync::Mutex;

use super::envelope::SignedEnvelope;
use crate::crypto::sha256;

/// Most remembered signatures (~32 bytes each plus set overhead).
const CAPACITY: usize = 500_000;

#[derive(Default)]
pub struct VerifiedSignatures {
    seen: Mutex<HashSet<[u8; 32]>>,
}

impl VerifiedSignatures {
    fn key(envelope: &SignedEnvelope, public_key: &[u8]) -> [u8; 32] {
        let digest = envelope.digest();
        let mut bytes = Vec::with_capacity(digest.len() + public_key.len());
        bytes.extend_from_slice(&digest);
        bytes.extend_from_slice(public_key);
        sha256(&bytes)
    }

    pub fn contains(&self, envelope: &SignedEnvelope, public_key: &[u8]) -> bool {
        let key = Self::key(envelope, public_key);
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key)
    }

    pub fn insert(&self, envelope: &SignedEnvelope, public_key: &[u8]) {
        let key = Self::key(envelope, public_key);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= CAPACITY {
            seen.clear();
        }
        seen.insert(key);
    }
}
