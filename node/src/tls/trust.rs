//! Which client certificates the server accepts: those chaining to the CA of
//! the very jurisdiction their identity names — the node's own, or a
//! registered peer's. The set is swappable so `peer add` needs no restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, OtherError, RootCertStore,
    SignatureScheme,
};

use crate::identity::{Caller, Jurisdiction};

pub type TrustedJurisdictions = HashMap<Jurisdiction, Arc<dyn ClientCertVerifier>>;

/// A client-certificate verifier over a swappable set of jurisdiction CAs.
///
/// Verifying against the one CA the certificate's own identity names (rather
/// than "any trusted CA") is what stops a peer CA from minting identities of
/// another jurisdiction.
#[derive(Debug)]
pub struct TrustAnchors {
    provider: Arc<CryptoProvider>,
    own: (Jurisdiction, CertificateDer<'static>),
    by_jurisdiction: RwLock<Arc<TrustedJurisdictions>>,
}

impl TrustAnchors {
    pub fn new(own: Jurisdiction, own_ca: CertificateDer<'static>) -> Result<Arc<Self>, Error> {
        let anchors = TrustAnchors {
            provider: super::provider(),
            own: (own, own_ca),
            by_jurisdiction: RwLock::new(Arc::new(HashMap::new())),
        };
        anchors.set_peers(std::iter::empty())?;
        Ok(Arc::new(anchors))
    }

    /// Replaces the peer CAs; the node's own CA always stays.
    pub fn set_peers(
        &self,
        peers: impl IntoIterator<Item = (Jurisdiction, CertificateDer<'static>)>,
    ) -> Result<(), Error> {
        let mut map: TrustedJurisdictions = HashMap::new();
        let own = std::iter::once(self.own.clone());
        for (jurisdiction, ca) in own.chain(peers) {
            let mut roots = RootCertStore::empty();
            roots.add(ca)?;
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                    .build()
                    .map_err(|e| Error::General(format!("trust anchor for {jurisdiction}: {e}")))?;
            map.entry(jurisdiction).or_insert(verifier);
        }
        // A poisoned lock only means a panic elsewhere mid-swap of an Arc; the value is still whole.
        *self
            .by_jurisdiction
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(map);
        Ok(())
    }

    pub fn trusts(&self, jurisdiction: &Jurisdiction) -> bool {
        self.current().contains_key(jurisdiction)
    }

    fn current(&self) -> Arc<TrustedJurisdictions> {
        self.by_jurisdiction
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn other(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
}

impl ClientCertVerifier for TrustAnchors {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // Hints are optional; Concord clients hold exactly one certificate.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let caller = Caller::from_cert_der(end_entity).map_err(other)?;
        let verifier = self
            .current()
            .get(&caller.jurisdiction)
            .cloned()
            .ok_or(Error::InvalidCertificate(CertificateError::UnknownIssuer))?;
        verifier.verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{CertificateAuthority, Validity};
    use crate::identity::Role;
    use crate::tls::pem::certs_from_pem;

    fn der(pem: &str) -> CertificateDer<'static> {
        certs_from_pem(pem.as_bytes()).unwrap().remove(0)
    }

    #[test]
    fn a_certificate_must_chain_to_the_ca_of_the_jurisdiction_it_names() {
        let (de, fr): (Jurisdiction, Jurisdiction) = ("DE".parse().unwrap(), "FR".parse().unwrap());
        let (de_ca, _) = CertificateAuthority::generate(&de, Validity::days(1)).unwrap();
        let (fr_ca, _) = CertificateAuthority::generate(&fr, Validity::days(1)).unwrap();
        let anchors = TrustAnchors::new(de.clone(), der(de_ca.cert_pem())).unwrap();
        let now = UnixTime::now();

        let de_admin = de_ca
            .issue(
                &Caller::new(de.clone(), Role::Admin, "a").unwrap(),
                &[],
                Validity::days(1),
            )
            .unwrap();
        assert!(anchors
            .verify_client_cert(&der(&de_admin.cert_pem), &[], now)
            .is_ok());

        let fr_node = fr_ca
            .issue(
                &Caller::new(fr.clone(), Role::Node, "n").unwrap(),
                &[],
                Validity::days(1),
            )
            .unwrap();
        assert!(
            anchors
                .verify_client_cert(&der(&fr_node.cert_pem), &[], now)
                .is_err(),
            "FR not yet a peer"
        );
        anchors
            .set_peers([(fr.clone(), der(fr_ca.cert_pem()))])
            .unwrap();
        assert!(anchors
            .verify_client_cert(&der(&fr_node.cert_pem), &[], now)
            .is_ok());

        // FR's CA minting a DE identity is refused.
        let forged = fr_ca
            .issue(
                &Caller::new(de.clone(), Role::Admin, "evil").unwrap(),
                &[],
                Validity::days(1),
            )
            .unwrap();
        assert!(anchors
            .verify_client_cert(&der(&forged.cert_pem), &[], now)
            .is_err());

        anchors.set_peers([]).unwrap();
        assert!(!anchors.trusts(&fr));
        assert!(
            anchors
                .verify_client_cert(&der(&fr_node.cert_pem), &[], now)
                .is_err(),
            "removed peer"
        );
    }
}
