//! node.toml parsing and checking, and identity URIs and certificates.
use std::path::Path;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = concord_node::identity::Caller::from_cert_der(data);
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = concord_node::identity::Caller::from_uri(text);
            if let Ok(file) = toml::from_str::<concord_node::config::ConfigFile>(text) {
                let _ = concord_node::config::NodeConfig::check(file, Path::new("/x/node.toml"), Path::new("/x"));
            }
        }
    });
}
