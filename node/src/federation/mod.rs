//! The only code that talks to peers: one long-lived outgoing mTLS link per
//! registered peer, kept warm by heartbeats, with its state for `status`;
//! every call to a peer goes through `PeerClient`.
//!
//! # Layout
//! - `client`: the `PeerClient` interface (one method per outbound call).
//! - `grpc`: `GrpcPeerClient`, the interface over the links' channels.
//! - `faults`: `Faulty`, a wrapper that drops, delays or partitions calls.
//! - `channels`: the links' open channels, shared with `GrpcPeerClient`.
//! - `links`: the supervisor and one link per peer (heartbeats, announce).
//! - `push`: the pusher and catch-up.
//! - `witness`: checkpoints sent to peers, and what they hold checked.
//! - `wire`, `taskforce_wire`: wire forms shared with `api`'s services.

mod channels;
mod client;
pub mod faults;
mod grpc;
mod links;
mod push;
pub(crate) mod taskforce_wire;
pub(crate) mod wire;
mod witness;

pub use channels::LinkChannels;
pub use client::{CallError, CallFuture, EnvelopeBatches, HelloReply, PeerClient, PushSession};
pub use grpc::{describe_status, GrpcPeerClient};
pub use links::{LinkState, LinkTiming, PeerLinks};
pub use witness::{check_witnesses, WitnessReport};

#[cfg(test)]
mod tests;
