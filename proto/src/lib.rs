//! Wire types and gRPC stubs of the Concord protocol, package `concord.v1`.
//!
//! Only the node's `api` module and the CLI use these types; everything else
//! works with domain types.

#![allow(clippy::all, missing_docs)]

pub mod v1 {
    tonic::include_proto!("concord.v1");
}

/// Encoded `FileDescriptorSet` of every Concord proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/concord_descriptor.bin"));
