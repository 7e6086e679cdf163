//! Inputs a partner or an admin can make arbitrarily large are bounded
//! (issue 10, items 9 and 10): equivocation evidence per peer, and
//! imported watchlists.

use std::time::{SystemTime, UNIX_EPOCH};

use concord_node::exchange::envelope::{
    EnvelopeHeader, Record, RecordKind, SignedEnvelope, ENVELOPE_FORMAT,
};
use concord_node::exchange::records::{AlertCategory, AlertState, RiskAlert, Severity, Subjects};
use concord_proto::v1::import_list_request::Part;
use concord_proto::v1::screening_service_client::ScreeningServiceClient;
use concord_proto::v1::{
    Envelope, ImportCommit, ImportEntries, ImportHeader, ImportListRequest, ListEvidenceRequest,
    PushRequest, StatusRequest, WatchlistEntry,
};
use concord_tests::*;
use tonic::Code;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// FR's alert `seq` to DE with `summary`, signed with FR's real key.
fn fr_alert(key: &concord_node::crypto::RecordSigner, seq: u64, summary: &str) -> Envelope {
    let alert = RiskAlert {
        id: format!("FR-A-{seq}"),
        issuer: "FR".parse().unwrap(),
        category: AlertCategory::SuspiciousShipment,
        severity: Severity::Medium,
        subjects: Subjects::default(),
        indicators: vec!["falsified bill of lading".into()],
        summary: summary.into(),
        issued_at_unix_ms: now_ms(),
        expires_at_unix_ms: None,
        handling: "RESTRICTED".into(),
        version: 1,
        state: AlertState::Active,
        change_reason: String::new(),
    };
    let header = EnvelopeHeader {
        format: ENVELOPE_FORMAT,
        kind: RecordKind::Alert,
        issuer: alert.issuer.clone(),
        key_id: String::new(),
        seq,
        record_id: alert.id.clone(),
        version: 1,
        issued_at_unix_ms: alert.issued_at_unix_ms,
        recipients: vec!["DE".parse().unwrap()],
        body_sha256: [0; 32],
        previous: None,
        expires_at_unix_ms: None,
    };
    let e = SignedEnvelope::seal(key, header, &Record::Alert(alert)).unwrap();
    Envelope {
        header: e.header,
        body: e.body,
        signature: e.signature,
    }
}

/// A partner signing conflicting envelopes in a loop: DE keeps one proof
/// per held record, at most `max_evidence_per_peer` of them, counts every
/// conflict (persisted across a restart), flags it in `status`, the metric
/// and `evidence list`, and logs it rate-limited.
#[tokio::test]
async fn equivocation_evidence_is_bounded_per_peer_and_still_flagged() {
    init();
    let root = tempfile::tempdir().unwrap();
    let (de, fr) = (
        NodeDir::init(root.path(), "DE"),
        NodeDir::init(root.path(), "FR"),
    );
    set_config(&de, &[("max_evidence_per_peer", 3)]);
    let de_node = NodeProcess::start(&de).await.unwrap();
    let _fr_node = NodeProcess::start(&fr).await.unwrap();
    add_peer(&de, &fr).await.unwrap();
    add_peer(&fr, &de).await.unwrap();
    wait_links(&de, &["FR"]).await.unwrap();

    let mut fr_to_de = federation_client(node_credentials(&fr, &de).channel(true).await.unwrap());
    let fr_key = record_signer(&fr).unwrap();
    let genuine: Vec<Envelope> = (1000..1005)
        .map(|seq| fr_alert(&fr_key, seq, "Broker arranges split shipments"))
        .collect();
    push_raw(
        &mut fr_to_de,
        vec![PushRequest {
            envelopes: genuine.clone(),
        }],
    )
    .await
    .unwrap();

    // 30 different conflicts with the first record, then 2 with each other one.
    let mut conflicts = 0;
    for (seq, n) in [(1000, 30), (1001, 2), (1002, 2), (1003, 2), (1004, 2)] {
        for i in 0..n {
            let twin = fr_alert(&fr_key, seq, &format!("Broker arranges nothing, take {i}"));
            let err = push_raw(
                &mut fr_to_de,
                vec![PushRequest {
                    envelopes: vec![twin],
                }],
            )
            .await
            .unwrap_err();
            assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
            conflicts += 1;
        }
    }
    assert_eq!(conflicts, 38);

    let check = |evidence: &concord_proto::v1::ListEvidenceResponse| {
        assert_eq!(evidence.evidence.len(), 3, "capped at 3 entries");
        assert_eq!(evidence.max_evidence_per_peer, 3);
        assert_eq!(evidence.counts.len(), 1);
        let c = &evidence.counts[0];
        assert_eq!(
            (c.peer.as_str(), c.detected, c.kept, c.not_kept),
            ("FR", 38, 3, 35)
        );
    };
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    check(
        &admin
            .list_evidence(ListEvidenceRequest {})
            .await
            .unwrap()
            .into_inner(),
    );
    let status = admin.status(StatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.equivocations, 38, "status counts every conflict");
    assert_eq!(metric(&de, "concord_equivocations_total{peer=\"FR\"}"), 38);
    let lines = de_node
        .log_text()
        .lines()
        .filter(|l| l.contains("equivocation detected"))
        .count();
    assert!(
        (1..conflicts).contains(&lines),
        "{lines} error lines for {conflicts} conflicts: not rate-limited"
    );
    let cli = json_as(&de.admin_profile(), &["evidence", "list"]);
    assert_eq!(cli["evidence"].as_array().map(Vec::len), Some(3));
    assert_eq!(cli["counts"][0]["not_kept"], 35);

    // The genuine records are still held, once each.
    let analyst = de.issue("analyst", "ana");
    let listed = json_as(&analyst, &["alert", "list"]);
    assert_eq!(listed["records"].as_array().map(Vec::len), Some(5));

    // Counts are in the store: a restart keeps them and the flag.
    de_node.terminate().await.unwrap();
    let _de_node = NodeProcess::start(&de).await.unwrap();
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    check(
        &admin
            .list_evidence(ListEvidenceRequest {})
            .await
            .unwrap()
            .into_inner(),
    );
    let status = admin.status(StatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.equivocations, 38);
    assert_eq!(metric(&de, "concord_equivocations_total{peer=\"FR\"}"), 38);
}

fn jsonl(ids: std::ops::Range<u32>) -> String {
    ids.map(|i| format!("{{\"id\": \"X-{i}\", \"name\": \"Trading House {i} LLC\"}}\n"))
        .collect()
}

fn wire_entry(i: u32) -> WatchlistEntry {
    WatchlistEntry {
        source_id: format!("X-{i}"),
        entity_type: "entity".into(),
        name: format!("Trading House {i} LLC"),
        ..Default::default()
    }
}

fn list_entries(admin: &std::path::Path) -> Option<u64> {
    let lists = json_as(admin, &["screen", "lists"]);
    lists["lists"]
        .as_array()?
        .iter()
        .find(|l| l["name"] == "acme")
        .and_then(|l| l["entries"].as_u64())
}

/// A watchlist over `[screening] max_list_entries` is refused with
/// RESOURCE_EXHAUSTED naming the cap and its key, by the CLI before
/// streaming and by the node for any client; the list held is unchanged. A
/// JSON-lines file led by a byte-order mark imports whole.
#[tokio::test]
async fn a_watchlist_over_the_cap_is_refused_and_a_bom_is_no_row() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    set_config(&de, &[("max_list_entries", 5)]);
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();

    let file = root.path().join("acme.jsonl");
    std::fs::write(&file, format!("\u{feff}{}", jsonl(0..4))).unwrap();
    let imported = json_as(
        &admin,
        &[
            "screen",
            "import",
            "--format",
            "jsonl",
            "--list",
            "acme",
            path_str(&file),
        ],
    );
    assert_eq!(imported["entries"], 4, "{imported}");
    assert_eq!(
        imported["malformed"].as_array().map(Vec::len),
        Some(0),
        "{imported}"
    );

    std::fs::write(&file, jsonl(0..6)).unwrap();
    let out = concord_json_as(
        &admin,
        &[
            "screen",
            "import",
            "--format",
            "jsonl",
            "--list",
            "acme",
            path_str(&file),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(10), "{stderr}");
    assert!(
        stderr.contains("resource-exhausted") && stderr.contains("[screening] max_list_entries"),
        "{stderr}"
    );
    assert_eq!(list_entries(&admin), Some(4), "the list is unchanged");

    // Any client: the node refuses while the entries stream in.
    let channel = Credentials::from_profile(&admin)
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let mut screening = ScreeningServiceClient::new(channel);
    let requests = vec![
        ImportListRequest {
            part: Some(Part::Header(ImportHeader {
                list: "acme".into(),
                format: "jsonl".into(),
            })),
        },
        ImportListRequest {
            part: Some(Part::Entries(ImportEntries {
                entries: (0..6).map(wire_entry).collect(),
            })),
        },
        ImportListRequest {
            part: Some(Part::Commit(ImportCommit { total_entries: 6 })),
        },
    ];
    let err = screening
        .import_list(tokio_stream::iter(requests))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("max_list_entries"), "{err:?}");
    assert_eq!(list_entries(&admin), Some(4), "the list is unchanged");
}
