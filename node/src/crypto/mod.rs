//! Everything that touches private keys or ring: certificate issuance,
//! record-signing keys, and key files on disk.
//!
//! Architecture invariant: no other module reads a private key or calls ring.

pub mod digest;
pub mod keyed_hash;
pub mod keyfile;
pub mod keyring;
pub mod pkcs12;
pub mod pki;
pub mod private_key;
pub mod signing;

pub use digest::Sha256;
pub use keyed_hash::{KeyedHash, KeyedHashError};
pub use keyfile::KeyFileError;
pub use keyring::{KeyRing, KeyRingError, RetiredKey};
pub use pkcs12::{generate_password, to_pkcs12};
pub use pki::{CertificateAuthority, IssuedCertificate, PkiError, Validity};
pub use private_key::{private_key_from_pem, read_private_key, PrivateKeyError};
pub use signing::{key_id, sha256, verify_signature, RecordSigner, SigningError};
