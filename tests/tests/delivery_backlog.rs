//! Delivery after an outage: a backlog of maximum-size records reaches the
//! peer in batches bounded in bytes (a batch bounded by count alone would
//! exceed the peer's message limit and block the link for good), and a push
//! the peer refuses shows at the issuer in `peer list`, `status` and metrics.

use concord_node::exchange::envelope::{EnvelopeHeader, Record, RecordKind, SignedEnvelope};
use concord_node::exchange::records::{
    AlertCategory, AlertState, RiskAlert, Severity, Subjects, MAX_TEXT,
};
use concord_proto::v1::{Distribution, ListRecordsRequest, PushRequest, RaiseAlertRequest};
use concord_tests::*;
use serde_json::Value;

fn big_alert(i: usize) -> RaiseAlertRequest {
    let text = "x".repeat(MAX_TEXT);
    RaiseAlertRequest {
        category: "diversion-suspected".into(),
        severity: "high".into(),
        summary: format!("{i} {}", &text[..MAX_TEXT - 8]),
        indicators: vec![text; 60],
        distribution: Some(Distribution {
            to: vec!["FR".into()],
            groups: vec![],
        }),
        ..Default::default()
    }
}

async fn held_at(profile: &std::path::Path) -> usize {
    let mut client = exchange_client(profile).await.unwrap();
    let mut n = 0;
    let mut token = String::new();
    loop {
        let page = client
            .list_alerts(ListRecordsRequest {
                page_size: 4,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        n += page.records.len();
        if page.next_page_token.is_empty() {
            return n;
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn a_backlog_of_maximum_size_records_is_delivered_after_an_outage() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let de_analyst = de.issue("analyst", "ana");
    let fr_analyst = fr.issue("analyst", "fra");
    let fr_node = fed.take("FR");
    assert!(fr_node.terminate().await.unwrap().success());

    // 24 records of ~250 KB (6 MB in all, beyond a 4 MiB message) and a small one.
    let mut client = exchange_client(&de_analyst).await.unwrap();
    const BIG: usize = 24;
    for i in 0..BIG {
        client.raise_alert(big_alert(i)).await.unwrap();
    }
    let mut small = big_alert(BIG);
    small.summary = "small one after the backlog".into();
    small.indicators.clear();
    client.raise_alert(small).await.unwrap();

    fed.restart(&fr).await.unwrap();
    eventually("FR to hold the whole backlog", || {
        let p = fr_analyst.clone();
        async move {
            let n = held_at(&p).await;
            anyhow::ensure!(n == BIG + 1, "FR holds {n} of {}", BIG + 1);
            Ok(())
        }
    })
    .await
    .unwrap();
    // And the push path drains DE's outbox too (receipts for every record).
    eventually("DE's outbox for FR to drain", || {
        let admin = de.admin_profile();
        async move {
            let peers: Value = json_as(&admin, &["peer", "list"]);
            anyhow::ensure!(peers["peers"][0]["outbox_pending"] == 0, "{peers}");
            anyhow::ensure!(
                peers["peers"][0]["link"]["delivery_error"].is_null(),
                "{peers}"
            );
            Ok(())
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_refused_push_shows_at_the_issuer() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let de_analyst = de.issue("analyst", "ana");
    // DE's sequence 1 goes to JP only; FR is made to hold another record
    // under that number (signed with DE's key, as a bug would) but with the
    // id DE's next record will carry. FR then refuses DE's real DE-A-2 as
    // equivocation. (A forged number above DE's counter would instead make
    // DE pause issuing: `store_faults.rs`.)
    raise_alert_to(&de_analyst, "for JP only", "JP");
    let de_key = record_signer(de).unwrap();
    let seq = 1;
    let alert = RiskAlert {
        id: "DE-A-2".to_owned(),
        issuer: "DE".parse().unwrap(),
        category: AlertCategory::SuspiciousShipment,
        severity: Severity::Low,
        subjects: Subjects::default(),
        indicators: vec![],
        summary: "a conflicting record".into(),
        issued_at_unix_ms: 1_000,
        expires_at_unix_ms: None,
        handling: String::new(),
        version: 1,
        state: AlertState::Active,
        change_reason: String::new(),
    };
    let header = EnvelopeHeader {
        format: concord_node::exchange::envelope::ENVELOPE_FORMAT,
        kind: RecordKind::Alert,
        issuer: "DE".parse().unwrap(),
        key_id: String::new(),
        seq,
        record_id: alert.id.clone(),
        version: 1,
        issued_at_unix_ms: 1_000,
        recipients: vec!["FR".parse().unwrap()],
        body_sha256: [0; 32],
        previous: None,
        expires_at_unix_ms: None,
    };
    let e = SignedEnvelope::seal(&de_key, header, &Record::Alert(alert)).unwrap();
    let mut de_to_fr = federation_client(node_credentials(de, fr).channel(true).await.unwrap());
    push_raw(
        &mut de_to_fr,
        vec![PushRequest {
            envelopes: vec![wire(&e)],
        }],
    )
    .await
    .unwrap();

    let real = raise_alert_to(&de_analyst, "the real second alert", "FR");
    assert_eq!(real, "DE-A-2");
    let shown = eventually("DE's peer list to show the refused delivery", || {
        let admin = de.admin_profile();
        async move {
            let peers = json_as(&admin, &["peer", "list"]);
            let fr = peers["peers"]
                .as_array()
                .and_then(|p| p.iter().find(|p| p["jurisdiction"] == "FR"))
                .cloned()
                .unwrap_or_default();
            let link = &fr["link"];
            anyhow::ensure!(link["delivery_error"].is_string(), "{peers}");
            anyhow::ensure!(link["connected"] == true, "{peers}");
            Ok(link["delivery_error"].as_str().unwrap_or("").to_owned())
        }
    })
    .await
    .unwrap();
    assert!(shown.contains("push"), "{shown}");
    assert!(
        shown.contains("AlreadyExists") || shown.contains("equivocation"),
        "{shown}"
    );
    let text = concord_ok(&["--profile", path_str(&de.admin_profile()), "status"]);
    assert!(text.contains("push:"), "{text}");
    let failures = metric(
        de,
        "concord_deliveries_failed_total{peer=\"FR\",stage=\"push\",code=\"AlreadyExists\"}",
    );
    assert!(failures >= 1, "metric not counted");
    let log = fed.node("DE").log_text();
    assert!(log.contains("delivery to peer failed"), "{log}");
}
