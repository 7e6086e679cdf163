//! `host:port` endpoints as configuration, trust bundles and TLS clients
//! write them; at the bottom of the module graph.

/// `host:port` with a non-empty host and a numeric port.
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    match endpoint.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0) => {
            Ok(())
        }
        _ => Err(format!("{endpoint:?} is not host:port")),
    }
}

/// Host part of `host:port`, without IPv6 brackets.
pub fn endpoint_host(endpoint: &str) -> &str {
    let host = endpoint.rsplit_once(':').map_or(endpoint, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(check_endpoint("node.de.example:7401").is_ok());
        assert!(check_endpoint("[::1]:7401").is_ok());
        for bad in ["", "host", ":7401", "host:0", "host:x", "host:70000"] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
        assert_eq!(endpoint_host("[::1]:7401"), "::1");
        assert_eq!(endpoint_host("a.example:1"), "a.example");
    }
}
