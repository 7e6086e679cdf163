//! TLS private keys: the one place a PEM private key is parsed, for the
//! node's own TLS identity (`tls::pem`) and the CLI's client certificates.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;

use super::keyfile::{self, KeyFileError};

#[derive(Debug, thiserror::Error)]
pub enum PrivateKeyError {
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("{path} holds no usable PEM private key")]
    Unusable { path: PathBuf },
}

/// The private key a PEM text holds (PKCS#8, PKCS#1 or SEC1), if any.
pub fn private_key_from_pem(pem: &[u8]) -> Option<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_slice(pem).ok()
}

/// Reads a private key file (refused when group or other can read it,
/// `keyfile::read_private`) and parses the key it holds.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PrivateKeyError> {
    let pem = keyfile::read_private(path)?;
    private_key_from_pem(&pem).ok_or_else(|| PrivateKeyError::Unusable {
        path: path.to_owned(),
    })
}

/// A tonic client identity: the certificate chain `cert_pem` and the key
/// read from `key_path`, checked to be a usable private key before tonic
/// gets its PEM text.
pub fn client_identity(
    cert_pem: Vec<u8>,
    key_path: &Path,
) -> Result<tonic::transport::Identity, PrivateKeyError> {
    let pem = keyfile::read_private(key_path)?;
    if private_key_from_pem(&pem).is_none() {
        return Err(PrivateKeyError::Unusable {
            path: key_path.to_owned(),
        });
    }
    Ok(tonic::transport::Identity::from_pem(cert_pem, pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_key_parses_and_junk_does_not() {
        let key = rcgen::KeyPair::generate().unwrap();
        assert!(private_key_from_pem(key.serialize_pem().as_bytes()).is_some());
        assert!(private_key_from_pem(b"-----BEGIN JUNK-----\n-----END JUNK-----\n").is_none());
        assert!(private_key_from_pem(b"").is_none());
    }
}
