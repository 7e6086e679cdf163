//! PKCS#12 bundles of a person's key and certificate, the one form browsers
//! and smartcard tools import a client identity in.
//!
//! The encryption is p12-keystore's default (PBES2: PBKDF2-HMAC-SHA256 with
//! AES-256-CBC, HMAC-SHA256 MAC): NSS, OpenSSL 3 and current Windows and
//! macOS read it; the legacy RC2/3DES forms are not written.

use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use ring::rand::{SecureRandom, SystemRandom};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use super::pki::PkiError;

/// Characters of a generated password: RFC 4648 base32, so that it can be
/// read out, typed and pasted without quoting in any shell or dialog.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Length of a generated password: 26 base32 characters carry 130 bits.
pub const PASSWORD_CHARS: usize = 26;

/// A PKCS#12 bundle of `key_pem` (PKCS#8, as `CertificateAuthority::issue`
/// writes it) with `cert_pem` and the issuing CA's `ca_pem` as its chain,
/// encrypted and MACed with `password`. `friendly_name` is what browsers show
/// when they list or offer the certificate.
pub fn to_pkcs12(
    cert_pem: &str,
    key_pem: &str,
    ca_pem: &str,
    friendly_name: &str,
    password: &str,
) -> Result<Vec<u8>, PkiError> {
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|_| PkiError::NotPem("certificate"))?;
    let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .map_err(|_| PkiError::NotPem("CA certificate"))?;
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| PkiError::NotPem("PKCS#8 private key"))?;
    // The local key id links the key bag to its certificate bag; a digest of
    // the certificate makes it unique per issuance without another secret.
    let local_key_id = super::sha256(&cert).to_vec();
    let chain = PrivateKeyChain::new(
        local_key_id,
        PrivateKey::from_der(key.secret_pkcs8_der())?,
        [Certificate::from_der(&cert)?, Certificate::from_der(&ca)?],
    );
    let mut store = KeyStore::new();
    store.add_entry(friendly_name, KeyStoreEntry::PrivateKeyChain(chain));
    Ok(store.writer(password).write()?)
}

/// A random password of [`PASSWORD_CHARS`] base32 characters for a bundle
/// nobody chose a password for.
pub fn generate_password() -> Result<String, PkiError> {
    let mut bytes = [0u8; PASSWORD_CHARS];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Random)?;
    // One byte per character, masked to 5 bits: uniform, since 32 divides 256.
    Ok(bytes
        .iter()
        .map(|b| char::from(BASE32[usize::from(b & 0x1f)]))
        .collect())
}

#[cfg(test)]
mod tests {
    use p12_keystore::Pkcs12ImportPolicy;

    use super::*;
    use crate::crypto::{CertificateAuthority, Validity};
    use crate::identity::{Caller, Jurisdiction, Role};

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    #[test]
    fn a_bundle_round_trips_with_key_certificate_and_chain() {
        let de: Jurisdiction = "DE".parse().unwrap();
        let (ca, _) = CertificateAuthority::generate(&de, Validity::days(30)).unwrap();
        let olivia = Caller::new(de, Role::Officer, "olivia").unwrap();
        let issued = ca.issue(&olivia, &[], Validity::days(1)).unwrap();
        let password = generate_password().unwrap();
        let name = olivia.to_string();
        let p12 = to_pkcs12(
            &issued.cert_pem,
            &issued.key_pem,
            ca.cert_pem(),
            &name,
            &password,
        )
        .unwrap();

        let store = KeyStore::from_pkcs12(&p12, &password, Pkcs12ImportPolicy::Strict).unwrap();
        let (alias, chain) = store.private_key_chain().unwrap();
        assert_eq!(alias, "DE/officer/olivia");
        let key = PrivatePkcs8KeyDer::from_pem_slice(issued.key_pem.as_bytes()).unwrap();
        assert_eq!(chain.key().as_der(), key.secret_pkcs8_der());
        let certs: Vec<&[u8]> = chain.certs().iter().map(Certificate::as_der).collect();
        assert_eq!(
            certs,
            [
                der(&issued.cert_pem).as_slice(),
                der(ca.cert_pem()).as_slice()
            ]
        );

        assert!(KeyStore::from_pkcs12(&p12, "wrong", Pkcs12ImportPolicy::Strict).is_err());
    }

    #[test]
    fn junk_is_refused_and_passwords_differ() {
        let err = to_pkcs12("junk", "junk", "junk", "x", "pw").unwrap_err();
        assert!(matches!(err, PkiError::NotPem("certificate")), "{err}");
        let (a, b) = (generate_password().unwrap(), generate_password().unwrap());
        assert_eq!(a.len(), PASSWORD_CHARS);
        assert!(a.bytes().all(|c| BASE32.contains(&c)), "{a}");
        assert_ne!(a, b);
    }
}
