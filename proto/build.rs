//! Compiles the protocol with protox (pure Rust) so no system `protoc` is needed.

use std::{env, error::Error, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "concord/v1/admin.proto",
    "concord/v1/federation.proto",
    "concord/v1/exchange.proto",
    "concord/v1/licensing.proto",
    "concord/v1/screening.proto",
    "concord/v1/taskforce.proto",
    "concord/v1/risk.proto",
    "concord/v1/consult.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed=proto/{proto}");
    }
    let fds = protox::compile(PROTOS, ["proto"])?;
    // Served by gRPC reflection so grpcurl needs no local .proto files.
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("concord_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
