//! Trust bundle files as `concord peer add --trust` reads them.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = concord_node::trust_bundle::TrustBundle::from_toml(text);
        }
    });
}
