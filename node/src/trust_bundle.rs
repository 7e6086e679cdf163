//! Trust bundles: what one jurisdiction hands a partner so the partner can
//! authenticate its node and verify its signed records.
//!
//! On disk a bundle is a TOML file written by `concord pki export-trust`.

use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::crypto::signing::{check_public_key, key_id};
use crate::crypto::{KeyRing, RetiredKey};
use crate::endpoint::check_endpoint;
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
    /// Keys the current one replaced, oldest first; each still verifies
    /// what it signed before its retirement.
    pub retired_signing_keys: Vec<RetiredKey>,
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
    #[error("cannot write the {what} as TOML: {reason}")]
    Encode { what: &'static str, reason: String },
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retired_signing_keys: Vec<RetiredKeyFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetiredKeyFile {
    public_key: String,
    #[serde(default)]
    key_id: Option<String>,
    retired_at_unix_ms: i64,
    successor_public_key: String,
    handover_signature: String,
}

impl RetiredKeyFile {
    fn from_key(k: &RetiredKey) -> Self {
        RetiredKeyFile {
            public_key: hex::encode(&k.public_key),
            key_id: Some(k.key_id()),
            retired_at_unix_ms: k.retired_at_unix_ms,
            successor_public_key: hex::encode(&k.successor_public_key),
            handover_signature: hex::encode(&k.handover_signature),
        }
    }

    fn into_key(self) -> Result<RetiredKey, String> {
        let hex = |what: &str, v: &str| hex::decode(v.trim()).map_err(|e| format!("{what}: {e}"));
        let key = RetiredKey {
            public_key: hex("public_key", &self.public_key)?,
            retired_at_unix_ms: self.retired_at_unix_ms,
            successor_public_key: hex("successor_public_key", &self.successor_public_key)?,
            handover_signature: hex("handover_signature", &self.handover_signature)?,
        };
        match self.key_id {
            Some(id) if id != key.key_id() => Err(format!(
                "key_id {id} does not match the public key ({})",
                key.key_id()
            )),
            _ => Ok(key),
        }
    }
}

/// Reads the retired-keys file a rotation writes next to the signing key
/// (same entries as a bundle's `retired_signing_keys`).
pub fn retired_keys_from_toml(text: &str) -> Result<Vec<RetiredKey>, TrustBundleError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RetiredFile {
        #[serde(default)]
        retired_signing_keys: Vec<RetiredKeyFile>,
    }
    let file: RetiredFile =
        toml::from_str(text).map_err(|e| TrustBundleError::Syntax(e.message().to_owned()))?;
    file.retired_signing_keys
        .into_iter()
        .map(RetiredKeyFile::into_key)
        .collect::<Result<_, _>>()
        .map_err(|problem| TrustBundleError::Field {
            field: "retired_signing_keys",
            problem,
        })
}

/// The retired-keys file form of `keys`.
pub fn retired_keys_to_toml(keys: &[RetiredKey]) -> Result<String, TrustBundleError> {
    #[derive(Serialize)]
    struct RetiredFile {
        retired_signing_keys: Vec<RetiredKeyFile>,
    }
    let file = RetiredFile {
        retired_signing_keys: keys.iter().map(RetiredKeyFile::from_key).collect(),
    };
    let body = toml::to_string(&file).map_err(|e| TrustBundleError::Encode {
        what: "retired signing keys",
        reason: e.to_string(),
    })?;
    Ok(format!(
        "# Concord record-signing keys retired by rotation, oldest first (public data)\n{body}"
    ))
}

impl TrustBundle {
    /// Checks everything checkable without talking to the peer.
    pub fn validate(&self) -> Result<(), TrustBundleError> {
        let field = |field, problem: String| TrustBundleError::Field { field, problem };
        check_endpoint(&self.endpoint).map_err(|p| field("endpoint", p))?;
        check_public_key(&self.signing_public_key)
            .map_err(|e| field("signing_public_key", e.to_string()))?;
        self.keyring()
            .check(self.jurisdiction.as_str())
            .map_err(|e| field("retired_signing_keys", e.to_string()))?;
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

    /// The bundle of node `jurisdiction` reachable at `advertise`, with the
    /// CA certificate at `ca_cert` and the keys of `signer`: what `concord
    /// pki export-trust` writes and the node announces.
    pub fn of_node(
        jurisdiction: &Jurisdiction,
        advertise: &str,
        ca_cert: &std::path::Path,
        signer: &crate::crypto::RecordSigner,
    ) -> std::io::Result<TrustBundle> {
        Ok(TrustBundle {
            jurisdiction: jurisdiction.clone(),
            endpoint: advertise.to_owned(),
            ca_cert_pem: std::fs::read_to_string(ca_cert)?,
            signing_public_key: signer.public_key().to_vec(),
            retired_signing_keys: signer.keyring().retired.to_vec(),
        })
    }

    /// Every key that verifies this jurisdiction's signatures.
    pub fn keyring(&self) -> KeyRing<'_> {
        KeyRing {
            current: &self.signing_public_key,
            retired: &self.retired_signing_keys,
        }
    }

    pub fn to_toml(&self) -> Result<String, TrustBundleError> {
        let file = BundleFile {
            jurisdiction: self.jurisdiction.to_string(),
            endpoint: self.endpoint.clone(),
            signing_public_key: hex::encode(&self.signing_public_key),
            signing_key_id: Some(self.signing_key_id()),
            ca_cert: self.ca_cert_pem.clone(),
            retired_signing_keys: self
                .retired_signing_keys
                .iter()
                .map(RetiredKeyFile::from_key)
                .collect(),
        };
        // An empty file in place of a bundle would be handed to partners
        // as if it were one: a failure is an error.
        let body = toml::to_string(&file).map_err(|e| TrustBundleError::Encode {
            what: "trust bundle",
            reason: e.to_string(),
        })?;
        Ok(format!(
            "# Concord trust bundle for jurisdiction {}\n{body}",
            self.jurisdiction
        ))
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
            retired_signing_keys: file
                .retired_signing_keys
                .into_iter()
                .map(RetiredKeyFile::into_key)
                .collect::<Result<_, _>>()
                .map_err(|p| field("retired_signing_keys", p))?,
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
            retired_signing_keys: Vec::new(),
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let b = bundle();
        assert_eq!(TrustBundle::from_toml(&b.to_toml().unwrap()).unwrap(), b);
    }

    #[test]
    fn retired_keys_round_trip_and_forged_handovers_are_refused() {
        let old = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
        let mut b = bundle();
        b.retired_signing_keys = vec![RetiredKey::handover(
            &old,
            "FR",
            &b.signing_public_key,
            1_000,
        )];
        let text = b.to_toml().unwrap();
        assert_eq!(TrustBundle::from_toml(&text).unwrap(), b);
        assert_eq!(
            retired_keys_from_toml(&retired_keys_to_toml(&b.retired_signing_keys).unwrap())
                .unwrap(),
            b.retired_signing_keys
        );
        // Moving the retirement later would let the old key sign for longer.
        let moved = text.replace("retired_at_unix_ms = 1000", "retired_at_unix_ms = 9000");
        assert!(TrustBundle::from_toml(&moved)
            .unwrap_err()
            .to_string()
            .contains("retired_signing_keys"));
    }

    #[test]
    fn rejects_tampered_or_broken_bundles() {
        let b = bundle();
        let text = b.to_toml().unwrap();
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
