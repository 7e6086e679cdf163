//! The Concord node library.
//!
//! # Layout
//! - `identity`: jurisdictions, roles and the `Caller` a certificate names.
//! - `crypto`: the only code touching ring and private keys (PKI, signing keys, key files).
//! - `config`: `node.toml`, parsed and checked in one pass.
//! - `store`: the only code naming sled; typed trees, schema versions, durable group commit.
//! - `policy`: pure authorization decisions over a `Caller`.
//! - `peers`: the peer registry (trust bundles) as domain logic.
//! - `tls`: rustls server and client configurations; turns certificates into `Caller`s.
//! - `federation`: the only code talking to peers (outgoing links).
//! - `api`: the gRPC services; the only code seeing prost types.
//! - `metrics`: Prometheus counters and their HTTP listener.
//! - `server`: `Node::start`, wiring it all together, and graceful shutdown.

pub mod config;
pub mod crypto;
pub mod identity;
pub mod trust_bundle;
