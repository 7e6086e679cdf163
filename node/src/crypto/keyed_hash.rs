//! Keyed hashes (HMAC-SHA256, ring) for task forces' blind matching, and
//! random bytes for opaque references and fresh keys.
//!
//! A `KeyedHash` holds a secret shared by a task force's members; whoever
//! holds it can hash any guess, so it hides identifiers only from those who
//! do not (docs/TASKFORCE.md).

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// Shortest blind key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// Longest blind key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

const KEY_ID_TAG: &[u8] = b"concord.v1.blind-key-id\0";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyedHashError {
    #[error("a blind key must be {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, got {0}")]
    KeyLength(usize),
    #[error("the system random generator failed")]
    Random,
}

/// HMAC-SHA256 under one secret key.
pub struct KeyedHash {
    key: hmac::Key,
    key_id: String,
}

impl KeyedHash {
    pub fn new(secret: &[u8]) -> Result<Self, KeyedHashError> {
        check_key(secret)?;
        Ok(KeyedHash {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            key_id: key_id(secret),
        })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// HMAC over `domain 0 data`: hashes of different kinds of identifiers never collide.
    pub fn hash(&self, domain: &str, data: &[u8]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(domain.as_bytes());
        ctx.update(&[0]);
        ctx.update(data);
        let tag = ctx.sign();
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl std::fmt::Debug for KeyedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedHash")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

pub fn check_key(secret: &[u8]) -> Result<(), KeyedHashError> {
    if (MIN_KEY_BYTES..=MAX_KEY_BYTES).contains(&secret.len()) {
        Ok(())
    } else {
        Err(KeyedHashError::KeyLength(secret.len()))
    }
}

/// Short public id of a secret key, for comparing keys out of band: the
/// first 8 bytes of a domain-separated SHA-256, in hex.
pub fn key_id(secret: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(KEY_ID_TAG);
    ctx.update(secret);
    hex::encode(&ctx.finish().as_ref()[..8])
}

/// `N` bytes from the system's secure random generator.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], KeyedHashError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| KeyedHashError::Random)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_domain_separated() {
        let a = KeyedHash::new(&[1u8; 32]).unwrap();
        let b = KeyedHash::new(&[2u8; 32]).unwrap();
        assert_eq!(a.hash("party", b"acme"), a.hash("party", b"acme"));
        assert_ne!(a.hash("party", b"acme"), b.hash("party", b"acme"));
        assert_ne!(a.hash("party", b"acme"), a.hash("item", b"acme"));
        // The separator keeps `domain || data` unambiguous.
        assert_ne!(a.hash("part", b"yacme"), a.hash("party", b"acme"));
        assert_ne!(a.key_id(), b.key_id());
        assert_eq!(a.key_id().len(), 16);
        assert_eq!(
            KeyedHash::new(&[0u8; 31]).unwrap_err(),
            KeyedHashError::KeyLength(31)
        );
        assert_ne!(random_bytes::<16>().unwrap(), random_bytes::<16>().unwrap());
    }
}
