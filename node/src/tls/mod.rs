//! TLS for the node: rustls (ring provider) configurations for serving and for
//! calling peers, and the turn from a verified certificate into a [`Caller`].
//!
//! Architecture invariant: this module decides *who* is on the other end of a
//! connection; it never decides what they may do (that is `policy`).
//!
//! [`Caller`]: crate::identity::Caller

mod client;
mod incoming;
mod issued;
mod limits;
mod pem;
mod trust;

pub use client::{peer_channel, PeerConnectError};
pub use incoming::{serve_incoming, ConnInfo, IncomingLimits};
pub use issued::{verify_issued, IssuedError};
pub use pem::{certs_from_pem, load_identity, read_certs, NodeIdentity, TlsLoadError};
pub use trust::{TrustAnchors, TrustedJurisdictions};

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The one crypto provider every TLS config in the node uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
