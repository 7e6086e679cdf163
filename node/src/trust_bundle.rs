//! Trust bundles: what one jurisdiction hands a partner so the partner can
//! authenticate its node and verify its signed records.
//!
//! On disk a bundle is a TOML file written by `concord pki export-trust`.

use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::config::check_endpoint;
use crate::crypto::signing::{check_public_key, key_id};
use crate::identity::Jurisdiction;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustBundle {
    pub jurisdiction: Jurisdiction,
    /// `host:port` of the jurisdiction's node.
    pub endpoint: String,
    /// PEM of the jurisdiction's CA certificate.
    pub ca_cert_pem: String,
    /// Raw Ed25519 public key verifying the node's records.
    pub signing_public_key: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrustBundleError {
    #[error("trust bundle is not valid TOML: {0}")]
    Syntax(String),
    #[error("trust bundle field {field}: {problem}")]
    Field {
        field: &'static str,
        problem: String,
    },
}

/// The file form: hex key, plus the key id for a human to compare out of band.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleFile {
    jurisdiction: String,
    endpoint: String,
    signing_public_key: String,
    #[serde(default)]
    signing_key_id: Option<String>,
    ca_cert: String,
}

impl TrustBundle {
    /// Checks everything checkable without talking to the peer.
    pub fn validate(&self) -> Result<(), TrustBundleError> {
        let field = |field, problem: String| TrustBundleError::Field { field, problem };
        check_endpoint(&self.endpoint).map_err(|p| field("endpoint", p))?;
        check_public_key(&self.signing_public_key)
            .map_err(|e| field("signing_public_key", e.to_string()))?;
        let der = ca_der(&self.ca_cert_pem).map_err(|p| field("ca_cert", p))?;
        let (_, cert) =
            X509Certificate::from_der(&der).map_err(|e| field("ca_cert", e.to_string()))?;
        if !cert.is_ca() {
            return Err(field(
                "ca_cert",
                "certificate is not a CA certificate".into(),
            ));
        }
        Ok(())
    }

    pub fn signing_key_id(&self) -> String {
        key_id(&self.signing_public_key)
    }

    pub fn to_toml(&self) -> String {
        let file = BundleFile {
            jurisdiction: self.jurisdiction.to_string(),
            endpoint: self.endpoint.clone(),
            signing_public_key: hex::encode(&self.signing_public_key),
            signing_key_id: Some(self.signing_key_id()),
            ca_cert: self.ca_cert_pem.clone(),
        };
        // Serializing plain strings into TOML cannot fail.
        let body = toml::to_string(&file).unwrap_or_default();
        format!(
            "# Concord trust bundle for jurisdiction {}\n{body}",
            self.jurisdiction
        )
    }

    pub fn from_toml(text: &str) -> Result<Self, TrustBundleError> {
        let field = |field, problem: String| TrustBundleError::Field { field, problem };
        let file: BundleFile =
            toml::from_str(text).map_err(|e| TrustBundleError::Syntax(e.message().to_owned()))?;
        let bundle = TrustBundle {
            jurisdiction: file.jurisdiction.parse().map_err(
                |e: crate::identity::IdentityError| field("jurisdiction", e.to_string()),
            )?,
            endpoint: file.endpoint,
            ca_cert_pem: file.ca_cert,
            signing_public_key: hex::decode(file.signing_public_key.trim())
                .map_err(|e| field("signing_public_key", e.to_string()))?,
        };
        bundle.validate()?;
        if let Some(id) = file.signing_key_id {
            if id != bundle.signing_key_id() {
                return Err(field(
                    "signing_key_id",
                    format!(
                        "{id} does not match the public key ({})",
                        bundle.signing_key_id()
                    ),
                ));
            }
        }
        Ok(bundle)
    }
}

/// DER of the single certificate in a PEM string.
pub fn ca_der(pem: &str) -> Result<Vec<u8>, String> {
    let (_, parsed) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    if parsed.label != "CERTIFICATE" {
        return Err(format!(
            "expected a CERTIFICATE PEM block, found {}",
            parsed.label
        ));
    }
    Ok(parsed.contents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CertificateAuthority, RecordSigner, Validity};

    fn bundle() -> TrustBundle {
        let j: Jurisdiction = "FR".parse().unwrap();
        let (ca, _) = CertificateAuthority::generate(&j, Validity::days(1)).unwrap();
        let signer = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
        TrustBundle {
            jurisdiction: j,
            endpoint: "127.0.0.1:7402".into(),
            ca_cert_pem: ca.cert_pem().into(),
            signing_public_key: signer.public_key().to_vec(),
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let b = bundle();
        assert_eq!(TrustBundle::from_toml(&b.to_toml()).unwrap(), b);
    }

    #[test]
    fn rejects_tampered_or_broken_bundles() {
        let b = bundle();
        let text = b.to_toml();
        let wrong_key = text.replace(&hex::encode(&b.signing_public_key), &hex::encode([7u8; 32]));
        assert!(TrustBundle::from_toml(&wrong_key)
            .unwrap_err()
            .to_string()
            .contains("signing_key_id"));
        assert!(TrustBundle::from_toml("jurisdiction = ").is_err());
        assert!(TrustBundle::from_toml(&text.replace("BEGIN CERTIFICATE", "BEGIN JUNK")).is_err());
        let short = TrustBundle {
            signing_public_key: vec![1, 2],
            ..b
        };
        assert!(short.validate().is_err());
    }
}
