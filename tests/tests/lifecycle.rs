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
    // Certificate expiry, for renewal alerts: `pki init` issues for a year or more.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let names: Vec<&str> = status
        .certificates
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        names.contains(&"node") && names.contains(&"ca"),
        "{names:?}"
    );
    for c in &status.certificates {
        assert!(
            c.not_after_unix_ms > now_ms + 300 * 86_400_000,
            "{} expires too soon: {}",
            c.name,
            c.not_after_unix_ms
        );
    }
    let node_expiry = status
        .certificates
        .iter()
        .find(|c| c.name == "node")
        .unwrap();
    assert_eq!(
        metric(
            &de,
            "concord_certificate_expiry_timestamp_seconds{certificate=\"node\"}"
        ),
        (node_expiry.not_after_unix_ms / 1000) as u64
    );
    let text = scrape_metrics(&de.metrics).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.contains("concord_rpc_requests_total{method=\"/concord.v1.AdminService/Status\"}"),
        "{text}"
    );
    assert!(text.contains("concord_store_durable_writes"), "{text}");
    assert!(metric(&de, "concord_tls_handshakes_total{result=\"ok\"}") >= 1);
    // Latency by method and status code, for alerting on slow or failing calls.
    assert!(
        metric(
            &de,
            "concord_rpc_duration_seconds_count{method=\"/concord.v1.AdminService/Status\",code=\"0\"}"
        ) >= 1
    );
    // A refused call is measured under its code (7: PermissionDenied).
    let analyst = de.issue("analyst", "ana");
    assert!(status_of(&analyst).await.is_err());
    assert!(
        metric(
            &de,
            "concord_rpc_duration_seconds_count{method=\"/concord.v1.AdminService/Status\",code=\"7\"}"
        ) >= 1
    );
}

#[tokio::test]
async fn sigterm_stops_a_node_with_live_peer_streams_promptly() {
    use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
    use concord_proto::v1::{Distribution, RaiseAlertRequest, WatchRequest};
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    // A watch stream at FR and DE's push stream to FR are both open when FR is told to stop.
    let fr_analyst = Credentials::from_profile(&fr.issue("analyst", "w"))
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let mut watch = ExchangeServiceClient::new(fr_analyst)
        .watch_alerts(WatchRequest {})
        .await
        .unwrap()
        .into_inner();
    let de_analyst = Credentials::from_profile(&de.issue("analyst", "a"))
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let raised = ExchangeServiceClient::new(de_analyst)
        .raise_alert(RaiseAlertRequest {
            category: "other".into(),
            severity: "low".into(),
            summary: "keeps the push stream open".into(),
            distribution: Some(Distribution {
                to: vec!["FR".into()],
                groups: vec![],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let seen = watch.message().await.unwrap().unwrap();
    assert_eq!(seen.id, raised.id);

    let fr_node = fed
        .nodes
        .remove(fed.nodes.iter().position(|n| n.dir.code == "FR").unwrap());
    let log = fr_node.log.clone();
    let status = fr_node.terminate().await.unwrap();
    assert!(status.success(), "{status}");
    let text = std::fs::read_to_string(log).unwrap();
    assert!(text.contains("node stopped cleanly"), "{text}");
    assert!(
        !text.contains("did not finish in time"),
        "streams held shutdown open: {text}"
    );
    // The watch stream ended instead of hanging.
    assert!(!matches!(watch.message().await, Ok(Some(_))));
}
