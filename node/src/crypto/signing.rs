//! Ed25519 record-signing keys (ring). A node signs every record it issues;
//! peers verify with the public key from the node's trust bundle.

use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

use super::keyring::{KeyRing, KeyRingError, RetiredKey};

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("cannot generate a signing key")]
    Generate,
    #[error("signing key is not a valid Ed25519 PKCS#8 document")]
    BadKey,
    #[error("signing public key must be 32 bytes, got {0}")]
    BadPublicKey(usize),
}

/// The node's record-signing key.
pub struct RecordSigner {
    key: Ed25519KeyPair,
    key_id: String,
    /// Keys this one replaced, which still verify what they signed before.
    retired: Vec<RetiredKey>,
}

impl RecordSigner {
    /// A fresh key as a PKCS#8 v2 document, ready to be written to a key file.
    pub fn generate_pkcs8() -> Result<Vec<u8>, SigningError> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| SigningError::Generate)
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, SigningError> {
        let key =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(|_| SigningError::BadKey)?;
        let key_id = key_id(key.public_key().as_ref());
        Ok(RecordSigner {
            key,
            key_id,
            retired: Vec::new(),
        })
    }

    /// Adds the keys this one replaced, after checking their handovers.
    pub fn with_retired(
        mut self,
        retired: Vec<RetiredKey>,
        jurisdiction: &str,
    ) -> Result<Self, KeyRingError> {
        KeyRing {
            current: self.public_key(),
            retired: &retired,
        }
        .check(jurisdiction)?;
        self.retired = retired;
        Ok(self)
    }

    /// Every key that verifies this node's own signatures.
    pub fn keyring(&self) -> KeyRing<'_> {
        KeyRing {
            current: self.public_key(),
            retired: &self.retired,
        }
    }

    pub fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).as_ref().to_vec()
    }
}

impl std::fmt::Debug for RecordSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSigner")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Short, stable id of a public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(public_key: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
    hex::encode(&digest.as_ref()[..8])
}

/// Checks an Ed25519 public key's length, the only thing checkable without a signature.
pub fn check_public_key(public_key: &[u8]) -> Result<(), SigningError> {
    if public_key.len() == 32 {
        Ok(())
    } else {
        Err(SigningError::BadPublicKey(public_key.len()))
    }
}

pub fn verify_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let signer = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
        let sig = signer.sign(b"denial notice");
        assert!(verify_signature(
            signer.public_key(),
            b"denial notice",
            &sig
        ));
        assert!(!verify_signature(
            signer.public_key(),
            b"denial notic3",
            &sig
        ));
        assert_eq!(signer.key_id().len(), 16);
        assert!(RecordSigner::from_pkcs8(b"junk").is_err());
    }
}
