//! Graceful shutdown, metrics, and the store across restarts.

use concord_tests::*;

#[tokio::test]
async fn sigterm_stops_the_node_cleanly() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    let node = NodeProcess::start(&de).await.unwrap();
    add_peer(&de, &fr).await.unwrap();
    let log = node.log.clone();
    let status = node.terminate().await.unwrap();
    assert!(status.success(), "exit status {status}");
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains("shutdown requested"), "{text}");
    assert!(text.contains("node stopped cleanly"), "{text}");
    // The port is released: the node starts again on it.
    let node = NodeProcess::start(&de).await.unwrap();
    assert_eq!(status_of(&de.admin_profile()).await.unwrap().peers.len(), 1);
    drop(node);
}

#[tokio::test]
async fn metrics_are_served_on_localhost() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let status = status_of(&de.admin_profile()).await.unwrap();
    assert_eq!(status.metrics_address, de.metrics);
    let text = scrape_metrics(&de.metrics).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("concord_rpc_requests_total{method=\"/concord.v1.AdminService/Status\"}"), "{text}");
    assert!(text.contains("concord_store_durable_writes"), "{text}");
    assert!(metric(&de, "concord_tls_handshakes_total{result=\"ok\"}") >= 1);
}
