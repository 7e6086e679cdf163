//! node.toml parsing and checking, and identity URIs and certificates.
#[path = "../entry_points.rs"]
mod entry_points;

fn main() {
    afl::fuzz!(|data: &[u8]| entry_points::node_config(data));
}
