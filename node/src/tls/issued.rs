//! Checking a certificate the CLI says this jurisdiction's CA issued, before
//! `RecordIssuance` puts it in the audit trail: exactly one certificate,
//! naming the identity claimed in this jurisdiction, chaining to the own CA,
//! with the fingerprint claimed.

use rustls::pki_types::UnixTime;
use rustls::server::danger::ClientCertVerifier;

use super::pem::certs_from_pem;
use super::trust::TrustAnchors;
use crate::identity::{Caller, Jurisdiction};

/// Why a reported issuance is refused; each is the caller's mistake.
#[derive(Debug, thiserror::Error)]
pub enum IssuedError {
    #[error("certificate_pem must hold exactly one certificate")]
    NotOneCertificate,
    #[error("{0}")]
    NoIdentity(String),
    #[error("certificate names {named}, not {claimed} of this jurisdiction")]
    OtherIdentity { named: String, claimed: String },
    #[error("certificate was not issued by this jurisdiction's CA: {0}")]
    NotOurCa(rustls::Error),
    #[error("certificate_sha256_hex does not match the certificate")]
    OtherFingerprint,
}

/// Verifies a reported issuance; returns the certificate's SHA-256 in hex.
pub fn verify_issued(
    anchors: &TrustAnchors,
    own: &Jurisdiction,
    certificate_pem: &str,
    identity: &str,
    sha256_hex: &str,
) -> Result<String, IssuedError> {
    let der = certs_from_pem(certificate_pem.as_bytes())
        .and_then(|mut c| (c.len() == 1).then(|| c.remove(0)))
        .ok_or(IssuedError::NotOneCertificate)?;
    let named = Caller::from_cert_der(&der).map_err(|e| IssuedError::NoIdentity(e.to_string()))?;
    if named.uri() != identity || &named.jurisdiction != own {
        return Err(IssuedError::OtherIdentity {
            named: named.uri(),
            claimed: identity.to_owned(),
        });
    }
    anchors
        .verify_client_cert(&der, &[], UnixTime::now())
        .map_err(IssuedError::NotOurCa)?;
    let fingerprint = hex::encode(crate::crypto::sha256(&der));
    if fingerprint != sha256_hex {
        return Err(IssuedError::OtherFingerprint);
    }
    Ok(fingerprint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CertificateAuthority, Validity};
    use crate::identity::Role;

    #[test]
    fn only_an_own_ca_certificate_with_its_claimed_identity_and_fingerprint_is_accepted() {
        let (de, fr): (Jurisdiction, Jurisdiction) = ("DE".parse().unwrap(), "FR".parse().unwrap());
        let (de_ca, _) = CertificateAuthority::generate(&de, Validity::days(1)).unwrap();
        let (fr_ca, _) = CertificateAuthority::generate(&fr, Validity::days(1)).unwrap();
        let ca_der = certs_from_pem(de_ca.cert_pem().as_bytes())
            .unwrap()
            .remove(0);
        let anchors = TrustAnchors::new(de.clone(), ca_der).unwrap();
        let admin = Caller::new(de.clone(), Role::Admin, "a").unwrap();
        let issued = de_ca.issue(&admin, &[], Validity::days(1)).unwrap();
        let der = certs_from_pem(issued.cert_pem.as_bytes())
            .unwrap()
            .remove(0);
        let sha = hex::encode(crate::crypto::sha256(&der));
        let check =
            |pem: &str, identity: &str, sha: &str| verify_issued(&anchors, &de, pem, identity, sha);

        assert_eq!(check(&issued.cert_pem, &admin.uri(), &sha).unwrap(), sha);
        assert!(matches!(
            check("", &admin.uri(), &sha),
            Err(IssuedError::NotOneCertificate)
        ));
        let two = format!("{}{}", issued.cert_pem, issued.cert_pem);
        assert!(matches!(
            check(&two, &admin.uri(), &sha),
            Err(IssuedError::NotOneCertificate)
        ));
        assert!(matches!(
            check(&issued.cert_pem, "concord://DE/admin/b", &sha),
            Err(IssuedError::OtherIdentity { .. })
        ));
        assert!(matches!(
            check(&issued.cert_pem, &admin.uri(), &"0".repeat(64)),
            Err(IssuedError::OtherFingerprint)
        ));
        // A certificate of another CA naming this jurisdiction is refused.
        let forged = fr_ca.issue(&admin, &[], Validity::days(1)).unwrap();
        let forged_der = certs_from_pem(forged.cert_pem.as_bytes())
            .unwrap()
            .remove(0);
        let forged_sha = hex::encode(crate::crypto::sha256(&forged_der));
        assert!(matches!(
            check(&forged.cert_pem, &admin.uri(), &forged_sha),
            Err(IssuedError::NotOurCa(_))
        ));
    }
}
