//! Loading the node's certificate and key from PEM files.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::crypto::keyfile::KeyFileError;
use crate::crypto::{self, PrivateKeyError};
use crate::identity::{Caller, IdentityError};

#[derive(Debug, thiserror::Error)]
pub enum TlsLoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no usable PEM private key")]
    BadKey { path: PathBuf },
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error("certificate {path}: {source}")]
    Identity {
        path: PathBuf,
        source: IdentityError,
    },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The node's own TLS identity: its certificate chain, key, and the identity it names.
pub struct NodeIdentity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub caller: Caller,
    /// The node's own jurisdiction CA, trusted for its local clients.
    pub ca: CertificateDer<'static>,
}

impl Clone for NodeIdentity {
    fn clone(&self) -> Self {
        NodeIdentity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            caller: self.caller.clone(),
            ca: self.ca.clone(),
        }
    }
}

pub fn load_identity(cert: &Path, key: &Path, ca: &Path) -> Result<NodeIdentity, TlsLoadError> {
    let chain = read_certs(cert)?;
    let caller = Caller::from_cert_der(&chain[0]).map_err(|source| TlsLoadError::Identity {
        path: cert.to_owned(),
        source,
    })?;
    let key = crypto::read_private_key(key).map_err(|e| match e {
        PrivateKeyError::KeyFile(e) => TlsLoadError::KeyFile(e),
        PrivateKeyError::Unusable { path } => TlsLoadError::BadKey { path },
    })?;
    let ca = read_certs(ca)?.remove(0);
    Ok(NodeIdentity {
        chain,
        key,
        caller,
        ca,
    })
}

/// Every certificate in a PEM file; at least one.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsLoadError> {
    let bytes = std::fs::read(path).map_err(|source| TlsLoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    certs_from_pem(&bytes).ok_or_else(|| TlsLoadError::NoCertificate {
        path: path.to_owned(),
    })
}

pub fn certs_from_pem(pem: &[u8]) -> Option<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .ok()?;
    (!certs.is_empty()).then_some(certs)
}
