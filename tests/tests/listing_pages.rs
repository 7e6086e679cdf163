//! Listings page by bytes, not count: records of up to ~250 KB each must
//! not make a listing outgrow the 4 MiB message limit (issue 10, item 8).

use concord_proto::v1::{Distribution, ListRecordsRequest, RaiseAlertRequest};
use concord_tests::*;

/// 40 alerts near the largest a node accepts (~250 KB each, 10 MB in
/// all): `concord alert list` with no flags shows every one, `--limit`
/// still caps, and every response the node sends stays within its budget.
#[tokio::test]
async fn a_listing_of_large_alerts_arrives_whole() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let de = fed.dir("DE");
    let analyst = de.issue("analyst", "ana");
    let mut client = exchange_client(&analyst).await.unwrap();
    let indicator = "i".repeat(4096);
    for n in 0..40 {
        client
            .raise_alert(RaiseAlertRequest {
                category: "other".into(),
                severity: "low".into(),
                summary: format!("{n:04} {}", "s".repeat(4091)),
                indicators: vec![indicator.clone(); 60],
                distribution: Some(Distribution {
                    to: vec!["FR".into()],
                    groups: vec![],
                }),
                ..Default::default()
            })
            .await
            .unwrap();
    }

    let listed = json_as(&analyst, &["alert", "list"]);
    let records = listed["records"].as_array().unwrap();
    assert_eq!(records.len(), 40, "every alert listed");
    let mut ids: Vec<&str> = records.iter().filter_map(|r| r["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no alert twice");

    let limited = json_as(&analyst, &["alert", "list", "--limit", "25"]);
    let limited = limited["records"].as_array().unwrap();
    assert_eq!(limited.len(), 25, "--limit caps across pages");
    let newest: Vec<&serde_json::Value> = records.iter().take(25).collect();
    let got: Vec<&serde_json::Value> = limited.iter().collect();
    assert_eq!(
        got.iter().map(|r| &r["id"]).collect::<Vec<_>>(),
        newest.iter().map(|r| &r["id"]).collect::<Vec<_>>(),
        "the newest 25, newest first"
    );

    // On the wire: a client with the default 4 MiB limit reads it in pages
    // of about 1 MiB, each but the last ending with a token.
    let mut request = ListRecordsRequest::default();
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let page = client
            .list_alerts(request.clone())
            .await
            .unwrap()
            .into_inner();
        seen += page.records.len();
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(seen, 40);
    assert!(pages >= 8, "10 MB in pages of about 1 MiB, not {pages}");

    // The receiving node lists them whole too.
    let fr_analyst = fed.dir("FR").issue("analyst", "ana");
    eventually("FR lists all 40", || async {
        let out = concord_json_as(&fr_analyst, &["alert", "list"]);
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let n = v["records"].as_array().map_or(0, Vec::len);
        anyhow::ensure!(n == 40, "{n} of 40");
        Ok(())
    })
    .await
    .unwrap();
}

/// The licensing lists page the same way: 150 parties of ~33 KB each (5 MB)
/// come whole through `concord party list`, and `--limit` still caps.
#[tokio::test]
async fn a_listing_of_large_parties_arrives_whole() {
    use concord_proto::v1::licensing_service_client::LicensingServiceClient;
    use concord_proto::v1::{CreatePartyRequest, PartyIdentifier};
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let officer = de.issue("officer", "olivia");
    let mut client = LicensingServiceClient::new(
        Credentials::from_profile(&officer)
            .unwrap()
            .channel(true)
            .await
            .unwrap(),
    );
    for n in 0..150 {
        client
            .create_party(CreatePartyRequest {
                name: format!("Trading House {n} LLC"),
                aliases: (0..64)
                    .map(|a| format!("{a:03} {}", "a".repeat(250)))
                    .collect(),
                country: "AE".into(),
                address: "Jebel Ali Free Zone".into(),
                // Numbered look-alikes on purpose.
                allow_similar: true,
                identifiers: (0..64)
                    .map(|i| PartyIdentifier {
                        kind: format!("registration-{i}"),
                        value: "v".repeat(250),
                    })
                    .collect(),
            })
            .await
            .unwrap();
    }
    let listed = json_as(&officer, &["party", "list"]);
    let parties = listed["parties"].as_array().unwrap();
    assert_eq!(parties.len(), 150, "every party listed");
    let mut ids: Vec<&str> = parties.iter().filter_map(|p| p["id"].as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 150, "no party twice");
    let limited = json_as(&officer, &["party", "list", "--limit", "140"]);
    assert_eq!(limited["parties"].as_array().map(Vec::len), Some(140));
}
