//! The Concord node library.
//!
//! # Layout
//! - `identity`: jurisdictions, roles and the `Caller` a certificate names.
//! - `crypto`: the only code touching ring and private keys (PKI, signing keys, key files).
//! - `config`: `node.toml`, parsed and checked in one pass.
//! - `trust_bundle`: what a partner imports to trust this node.
//! - `store`: the only code naming sled; typed trees, schema versions, durable group commit.
//! - `policy`: pure authorization decisions over a `Caller`.
//! - `peers`: the peer registry as domain logic.
//! - `licensing`: catalog, parties, license applications and decisions, waivers,
//!   shipments, end-use checks, disclosures.
//! - `tls`: rustls server and client configurations; turns certificates into `Caller`s.
//! - `federation`: the only code talking to peers (outgoing links).
//! - `api`: the gRPC services; the only code seeing prost types on the inbound side.
//! - `metrics`: Prometheus counters and their localhost HTTP listener.
//! - `context`: the running node's shared state.
//! - `server`: `Node::start`, wiring it all together, and graceful shutdown.
//! - `backup`: consistent backups of a running node's store; offline restore.
//! - `retention`: the retention policy and its periodic sweep.
//! - `stats`: licensing decision figures for `concord stats` (aggregates only).
//! - `screening`: denied-party screening: fuzzy name matching over imported
//!   watchlists and the denial notices held.
//! - `consult`: the no-undercut consultation: approvals resembling a peer's
//!   denial wait for an answered consultation; multilateral consultations.
//! - `risk`: shared risk scoring of license applications: explained 0-100
//!   scores under a baseline methodology with national overrides; flags for
//!   human review, never decides.
//! - `web`: the web console: server-rendered pages over HTTPS with client
//!   certificates, through the same policy and domain services as `api`.
//! - `taskforce`: joint task forces: federated queries answered at each
//!   node's policy level, signed, audited at both ends.

pub mod api;
pub mod audit;
pub mod backup;
pub mod clock;
pub mod config;
pub mod consult;
pub mod context;
pub mod crypto;
pub mod endpoint;
pub mod error;
pub mod exchange;
pub mod federation;
mod fields;
pub mod identity;
mod kebab;
pub mod licensing;
pub mod metrics;
pub mod parallel;
pub mod peers;
pub mod policy;
pub mod retention;
pub mod revocations;
pub mod risk;
pub mod screening;
pub mod server;
pub mod shutdown;
pub mod signing_keys;
pub mod stats;
pub mod store;
pub mod taskforce;
pub mod tls;
pub mod trust_bundle;
pub mod web;
