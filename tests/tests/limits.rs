//! Resource limits, each configurable: per-identity request rate and
//! connections, and a flood of idle or garbage connections that must not stop
//! peers exchanging records.

use std::io::Write;
use std::time::Duration;

use concord_proto::v1::{Distribution, ListRecordsRequest, RaiseAlertRequest, StatusRequest};
use concord_tests::*;

/// Sets `[limits]` keys in a node's config before it starts.
fn set_limits(dir: &NodeDir, pairs: &[(&str, u64)]) {
    let text = std::fs::read_to_string(dir.config()).unwrap();
    let text: String = text
        .lines()
        .map(|line| {
            let key = line.split(" = ").next().unwrap_or("");
            match pairs.iter().find(|(k, _)| *k == key) {
                Some((k, v)) => format!("{k} = {v}\n"),
                None => format!("{line}\n"),
            }
        })
        .collect();
    for (k, _) in pairs {
        assert!(text.contains(&format!("{k} = ")), "{k} not in node.toml");
    }
    std::fs::write(dir.config(), text).unwrap();
}

#[tokio::test]
async fn one_identity_cannot_exceed_its_request_rate() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    set_limits(
        &de,
        &[
            ("requests_per_second_per_identity", 2),
            ("request_burst_per_identity", 5),
        ],
    );
    let _node = NodeProcess::start(&de).await.unwrap();
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    let mut exhausted = 0;
    for _ in 0..40 {
        if let Err(e) = admin.status(StatusRequest {}).await {
            assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
            exhausted += 1;
        }
    }
    assert!(
        exhausted >= 30,
        "only {exhausted} of 40 rapid calls were limited"
    );
    // Another identity has its own bucket.
    let other = de.issue("admin", "second");
    let mut second = Credentials::from_profile(&other)
        .unwrap()
        .admin()
        .await
        .unwrap();
    second.status(StatusRequest {}).await.unwrap();
    assert!(
        metric(
            &de,
            "concord_limits_hit_total{result=\"requests_per_second_per_identity\"}"
        ) >= 30
    );
}

#[tokio::test]
async fn one_identity_cannot_hold_more_than_its_connections() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    set_limits(&de, &[("max_connections_per_identity", 3)]);
    let _node = NodeProcess::start(&de).await.unwrap();
    let creds = Credentials::from_profile(&de.admin_profile()).unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = creds.admin().await.unwrap();
        c.status(StatusRequest {}).await.unwrap();
        held.push(c);
    }
    let fourth = async {
        let mut c = creds.admin().await?;
        anyhow::Ok(c.status(StatusRequest {}).await?)
    }
    .await;
    assert!(
        fourth.is_err(),
        "a fourth connection of the same identity was served"
    );
    // Another identity is unaffected; and once one is closed, the identity may connect again.
    let other = Credentials::from_profile(&de.issue("admin", "other")).unwrap();
    other
        .admin()
        .await
        .unwrap()
        .status(StatusRequest {})
        .await
        .unwrap();
    drop(held.pop());
    eventually("a freed connection slot", || async {
        let mut c = creds.admin().await?;
        c.status(StatusRequest {}).await?;
        Ok(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn idle_and_garbage_connections_do_not_stop_the_exchange() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    set_limits(
        &de,
        &[
            ("max_pending_handshakes", 32),
            ("handshake_timeout_ms", 3000),
        ],
    );
    let _de_node = NodeProcess::start(&de).await.unwrap();
    let _fr_node = NodeProcess::start(&fr).await.unwrap();
    add_peer(&de, &fr).await.unwrap();
    add_peer(&fr, &de).await.unwrap();
    wait_links(&de, &["FR"]).await.unwrap();
    wait_links(&fr, &["DE"]).await.unwrap();
    // Users' connections opened before the flood.
    let mut de_analyst = exchange_client(&de.issue("analyst", "a")).await.unwrap();
    let mut fr_analyst = exchange_client(&fr.issue("analyst", "b")).await.unwrap();
    de_analyst
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap();
    fr_analyst
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap();

    // 300 idle TCP connections that never start TLS, and 30 streaming garbage.
    let mut flood = Vec::new();
    for i in 0..330 {
        if let Ok(mut s) = std::net::TcpStream::connect(&de.endpoint) {
            if i >= 300 {
                let _ = s.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff]);
                let _ = s.write_all(&vec![0xAB; 4096]);
            }
            flood.push(s);
        }
    }
    assert!(
        flood.len() >= 300,
        "could not open the flood: {}",
        flood.len()
    );

    let alert = |to: &str, summary: &str| RaiseAlertRequest {
        category: "other".into(),
        severity: "low".into(),
        summary: summary.into(),
        distribution: Some(Distribution {
            to: vec![to.into()],
            groups: vec![],
        }),
        ..Default::default()
    };
    let a = de_analyst
        .raise_alert(alert("FR", "during the flood, DE to FR"))
        .await
        .unwrap()
        .into_inner();
    let b = fr_analyst
        .raise_alert(alert("DE", "during the flood, FR to DE"))
        .await
        .unwrap()
        .into_inner();
    eventually("both alerts delivered during the flood", || {
        let (mut de_analyst, mut fr_analyst, a, b) = (
            de_analyst.clone(),
            fr_analyst.clone(),
            a.id.clone(),
            b.id.clone(),
        );
        async move {
            let at_fr = fr_analyst
                .list_alerts(ListRecordsRequest::default())
                .await?
                .into_inner()
                .records;
            let at_de = de_analyst
                .list_alerts(ListRecordsRequest::default())
                .await?
                .into_inner()
                .records;
            anyhow::ensure!(at_fr.iter().any(|r| r.id == a), "DE's alert not at FR yet");
            anyhow::ensure!(at_de.iter().any(|r| r.id == b), "FR's alert not at DE yet");
            Ok(())
        }
    })
    .await
    .unwrap();
    drop(flood);
    // After the flood's handshakes time out, new clients are served again.
    tokio::time::timeout(Duration::from_secs(60), async {
        eventually("new connections served after the flood", || async {
            status_of(&de.admin_profile()).await.map(|_| ())
        })
        .await
    })
    .await
    .unwrap()
    .unwrap();
}
