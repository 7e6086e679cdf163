//! A write whose answer was lost (the node killed between commit and reply)
//! is retried with the same idempotency key and stored once: the retry gets
//! the record the first call made, also after the node restarted, and
//! partners receive one record.

use std::process::Command;

use concord_proto::v1::{Distribution, ListRecordsRequest, RaiseAlertRequest};
use concord_tests::*;
use tonic::Request;

const KEY: &str = "concord-idempotency-key";

fn raise(summary: &str, key: &str) -> Request<RaiseAlertRequest> {
    let mut req = Request::new(RaiseAlertRequest {
        category: "other".into(),
        severity: "low".into(),
        summary: summary.into(),
        distribution: Some(Distribution {
            to: vec!["FR".into()],
            groups: vec![],
        }),
        ..Default::default()
    });
    req.metadata_mut().insert(KEY, key.parse().unwrap());
    req
}

async fn alerts(profile: &std::path::Path) -> Vec<String> {
    exchange_client(profile)
        .await
        .unwrap()
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[tokio::test]
async fn a_retried_raise_is_stored_once_even_across_a_kill() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let analyst = de.issue("analyst", "ana");
    let other_analyst = de.issue("analyst", "bea");
    let fr_analyst = fr.issue("analyst", "fra");
    let mut client = exchange_client(&analyst).await.unwrap();

    // The same key twice: one record, the same answer.
    let first = client
        .raise_alert(raise("once", "k-1"))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .raise_alert(raise("once", "k-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.id, again.id);
    assert_eq!(alerts(&analyst).await, vec![first.id.clone()]);
    // Keys belong to the caller: another analyst's k-1 is its own write.
    let theirs = exchange_client(&other_analyst)
        .await
        .unwrap()
        .raise_alert(raise("theirs", "k-1"))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(theirs.id, first.id);

    // Committed, then the node dies before anyone hears more: the retry
    // after the restart gets the same record.
    let committed = client
        .raise_alert(raise("before the kill", "k-2"))
        .await
        .unwrap()
        .into_inner();
    fed.take("DE").kill();
    fed.restart(&de).await.unwrap();
    let mut client = exchange_client(&analyst).await.unwrap();
    let retried = client
        .raise_alert(raise("before the kill", "k-2"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(retried.id, committed.id);
    let held = alerts(&analyst).await;
    assert_eq!(held.len(), 3, "{held:?}");

    // Bad keys are refused, not ignored.
    let err = client
        .raise_alert(raise("x", "not a key!"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);

    // The CLI sends a key on every write; a script retrying a whole command
    // passes its own with CONCORD_IDEMPOTENCY_KEY.
    let run = || {
        let out = Command::new(bin("concord"))
            .env("CONCORD_IDEMPOTENCY_KEY", "script-write-7")
            .args(["--profile", path_str(&analyst), "--output", "json"])
            .args(["alert", "raise", "--category", "other", "--severity", "low"])
            .args(["--summary", "from a script", "--to", "FR"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(run(), run());
    assert_eq!(alerts(&analyst).await.len(), 4);

    // FR receives each record once.
    eventually("FR to hold DE's four alerts", || {
        let p = fr_analyst.clone();
        async move {
            let n = alerts(&p).await.len();
            anyhow::ensure!(n == 4, "FR holds {n}");
            Ok(())
        }
    })
    .await
    .unwrap();
}
