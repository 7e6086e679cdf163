//! CSRF protection: every state-changing form carries a token bound to the
//! client certificate it was served to, under a key made at start. A page
//! from another site cannot read the token, so a forged cross-site POST —
//! which the browser would send with the person's certificate — fails.
//! A restart changes the key: a form opened before it is refused once.

use crate::crypto::keyed_hash::{random_bytes, KeyedHash};
use crate::error::Error;

const DOMAIN: &str = "concord.v1.web-csrf";

pub struct CsrfKey(KeyedHash);

impl CsrfKey {
    pub fn generate() -> Result<Self, Error> {
        let secret = random_bytes::<32>().map_err(|e| Error::Internal(format!("CSRF key: {e}")))?;
        KeyedHash::new(&secret)
            .map(CsrfKey)
            .map_err(|e| Error::Internal(format!("CSRF key: {e}")))
    }

    /// The token of the certificate with SHA-256 `cert_sha256`.
    pub fn token(&self, cert_sha256: &[u8; 32]) -> String {
        hex::encode(self.0.hash(DOMAIN, cert_sha256))
    }

    /// Whether `presented` is that certificate's token, compared in
    /// constant time.
    pub fn check(&self, cert_sha256: &[u8; 32], presented: &str) -> bool {
        let expected = self.token(cert_sha256);
        expected.len() == presented.len()
            && expected
                .bytes()
                .zip(presented.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_bound_to_its_certificate_and_key() {
        let key = CsrfKey::generate().unwrap();
        let (a, b) = ([1u8; 32], [2u8; 32]);
        let t = key.token(&a);
        assert!(key.check(&a, &t));
        assert!(!key.check(&b, &t));
        assert!(!key.check(&a, ""));
        assert!(!key.check(&a, &t[..t.len() - 1]));
        assert!(!CsrfKey::generate().unwrap().check(&a, &t));
    }
}
