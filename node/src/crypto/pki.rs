//! Development PKI: a jurisdiction CA and the certificates it issues (rcgen).
//!
//! A production jurisdiction plugs in its national PKI instead (see
//! certs/README.md); the node only requires that client certificates carry a
//! `concord://` URI SAN and chain to the jurisdiction's CA.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::identity::{Caller, Jurisdiction, Role};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("invalid host name {0:?} for a certificate")]
    BadHost(String),
    #[error("the {0} is not PEM")]
    NotPem(&'static str),
    #[error("PKCS#12 encoding failed: {0}")]
    Pkcs12(#[from] p12_keystore::error::Error),
    #[error("the operating system's random number generator failed")]
    Random,
}

/// When a certificate is valid.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From an hour ago (tolerating clock skew between nodes) for `days` days.
    pub fn days(days: i64) -> Self {
        let now = OffsetDateTime::now_utc();
        Validity {
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(days),
        }
    }
}

/// A certificate and its private key, both PEM.
pub struct IssuedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
}

/// A jurisdiction's certificate authority.
pub struct CertificateAuthority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl CertificateAuthority {
    /// Creates a self-signed CA for `jurisdiction`, returning it with its key PEM.
    pub fn generate(
        jurisdiction: &Jurisdiction,
        validity: Validity,
    ) -> Result<(Self, String), PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(
            &format!("Concord {jurisdiction} jurisdiction CA"),
            jurisdiction,
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        let cert = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        let cert_pem = cert.pem();
        Ok((
            CertificateAuthority {
                cert_pem,
                issuer: Issuer::new(params, key),
            },
            key_pem,
        ))
    }

    /// Loads a CA from its certificate and key PEM.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, PkiError> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        Ok(CertificateAuthority {
            cert_pem: cert_pem.to_owned(),
            issuer,
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Issues a certificate naming `identity` in a URI SAN.
    ///
    /// `hosts` become DNS or IP SANs and make it usable as a TLS server
    /// certificate too: a node uses one certificate to serve and to call peers.
    pub fn issue(
        &self,
        identity: &Caller,
        hosts: &[String],
        validity: Validity,
    ) -> Result<IssuedCertificate, PkiError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(&identity.to_string(), &identity.jurisdiction);
        let uri = identity
            .uri()
            .try_into()
            .map_err(|_| PkiError::BadHost(identity.uri()))?;
        params.subject_alt_names = vec![SanType::URI(uri)];
        for host in hosts {
            params.subject_alt_names.push(host_san(host)?);
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if identity.role == Role::Node || !hosts.is_empty() {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ServerAuth);
        }
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCertificate {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn name(common_name: &str, jurisdiction: &Jurisdiction) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, format!("Concord {jurisdiction}"));
    dn.push(DnType::CommonName, common_name);
    dn
}

fn host_san(host: &str) -> Result<SanType, PkiError> {
    if let Ok(ip) = host
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
    {
        return Ok(SanType::IpAddress(ip));
    }
    let dns = host
        .to_owned()
        .try_into()
        .map_err(|_| PkiError::BadHost(host.to_owned()))?;
    Ok(SanType::DnsName(dns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_certificates_carry_their_identity() {
        let de: Jurisdiction = "DE".parse().unwrap();
        let (ca, ca_key) = CertificateAuthority::generate(&de, Validity::days(30)).unwrap();
        let reloaded = CertificateAuthority::from_pem(ca.cert_pem(), &ca_key).unwrap();
        let alice = Caller::new(de, Role::Admin, "alice").unwrap();
        let issued = reloaded.issue(&alice, &[], Validity::days(1)).unwrap();
        let der = x509_parser::pem::parse_x509_pem(issued.cert_pem.as_bytes())
            .unwrap()
            .1
            .contents;
        assert_eq!(Caller::from_cert_der(&der).unwrap(), alice);
    }
}
