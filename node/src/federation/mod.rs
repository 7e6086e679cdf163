//! The only code that talks to peers: one long-lived outgoing mTLS link per
//! registered peer, kept warm by heartbeats, with its state for `status`.

mod links;
mod push;
pub(crate) mod wire;
mod witness;

pub use witness::fetch_witnessed;

pub use links::{describe_status, LinkState, LinkTiming, PeerLinks};
