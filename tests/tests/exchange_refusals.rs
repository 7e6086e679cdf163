//! What a node refuses on the exchange: forged, misaddressed, replayed,
//! equivocating, oversized and malformed pushes from a peer holding a valid
//! node certificate, and exchange calls by the wrong people. Every refusal
//! has its exact gRPC code and leaves nothing stored.

use std::time::{SystemTime, UNIX_EPOCH};

use concord_node::crypto::RecordSigner;
use concord_node::exchange::envelope::{
    EnvelopeHeader, ReceiptBody, Record, RecordKind, SignedEnvelope, SignedReceipt, ENVELOPE_FORMAT,
};
use concord_node::exchange::records::{
    AlertCategory, AlertState, RiskAlert, Severity, Subjects, MAX_TEXT,
};
use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::federation_service_client::FederationServiceClient;
use concord_proto::v1::record_view::Record as ViewRecord;
use concord_proto::v1::{
    DeniedItem, Distribution, Envelope, GetRecordRequest, IssueDenialRequest, ListEvidenceRequest,
    ListRecordsRequest, Party, PushRequest, PushResponse, RaiseAlertRequest, RecordView,
    StatusRequest,
};
use concord_tests::*;
use tonic::transport::Channel;
use tonic::{Code, Status};

type Client = ExchangeServiceClient<Channel>;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn risk_alert(issuer: &str, seq: u64, summary: &str) -> RiskAlert {
    RiskAlert {
        id: format!("{issuer}-A-{seq}"),
        issuer: issuer.parse().unwrap(),
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
    }
}

/// Seals `alert` as sequence `seq` of its issuer, addressed to `recipients`.
fn seal(signer: &RecordSigner, alert: RiskAlert, seq: u64, recipients: &[&str]) -> SignedEnvelope {
    let header = EnvelopeHeader {
        format: ENVELOPE_FORMAT,
        kind: RecordKind::Alert,
        issuer: alert.issuer.clone(),
        key_id: String::new(),
        seq,
        record_id: alert.id.clone(),
        version: 1,
        issued_at_unix_ms: alert.issued_at_unix_ms,
        recipients: recipients.iter().map(|r| r.parse().unwrap()).collect(),
        body_sha256: [0; 32],
        previous: None,
        expires_at_unix_ms: alert.expires_at_unix_ms,
    };
    SignedEnvelope::seal(signer, header, &Record::Alert(alert)).unwrap()
}

async fn push(
    client: &mut FederationServiceClient<Channel>,
    envelopes: &[&SignedEnvelope],
) -> Result<Vec<PushResponse>, Status> {
    push_raw(
        client,
        vec![PushRequest {
            envelopes: envelopes.iter().map(|e| wire(e)).collect(),
        }],
    )
    .await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every alert DE holds, from any issuer.
async fn held(client: &Client) -> Vec<RecordView> {
    client
        .clone()
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records
}

fn summary_of(v: &RecordView) -> &str {
    match &v.record {
        Some(ViewRecord::Alert(a)) => &a.summary,
        _ => "",
    }
}

/// A push that must be refused with `code`, after which DE holds no alert at all.
async fn refused(
    case: &str,
    code: Code,
    result: Result<Vec<PushResponse>, Status>,
    de_ana: &Client,
) {
    match result {
        Err(status) => assert_eq!(status.code(), code, "{case}: {status:?}"),
        Ok(responses) => panic!("{case}: accepted ({responses:?}); expected {code:?}"),
    }
    let held = held(de_ana).await;
    assert!(
        held.is_empty(),
        "{case}: DE holds {:?}",
        held.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
}

struct Setup {
    fed: Federation,
    /// FederationService on DE, called with FR's node certificate.
    fr_to_de: FederationServiceClient<Channel>,
    de_ana: Client,
    fr_key: RecordSigner,
    de_key: RecordSigner,
}

async fn setup() -> Setup {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let fr_to_de = federation_client(node_credentials(fr, de).channel(true).await.unwrap());
    let de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let (fr_key, de_key) = (record_signer(fr).unwrap(), record_signer(de).unwrap());
    Setup {
        fed,
        fr_to_de,
        de_ana,
        fr_key,
        de_key,
    }
}

/// A receipt DE signed for `envelope`, decoded after checking DE's signature.
fn receipt_for(
    de_key: &RecordSigner,
    response: &PushResponse,
    envelope: &SignedEnvelope,
) -> ReceiptBody {
    assert_eq!(response.receipts.len(), 1);
    let r = &response.receipts[0];
    let body = SignedReceipt {
        body: r.body.clone(),
        signature: r.signature.clone(),
    }
    .verify(de_key.public_key())
    .unwrap();
    assert_eq!(body.receiver.as_str(), "DE");
    assert_eq!(body.issuer.as_str(), "FR");
    assert_eq!(body.envelope_digest, envelope.digest());
    body
}

#[tokio::test]
async fn forged_misaddressed_oversized_and_malformed_pushes_are_refused() {
    let Setup {
        fed,
        mut fr_to_de,
        de_ana,
        fr_key,
        de_key,
    } = setup().await;
    let client = &mut fr_to_de;
    let good = seal(
        &fr_key,
        risk_alert("FR", 1001, "Front company ships via free zone"),
        1001,
        &["DE"],
    );

    let mut bad_signature = good.clone();
    bad_signature.signature[10] ^= 0x01;
    refused(
        "bad signature",
        Code::Unauthenticated,
        push(client, &[&bad_signature]).await,
        &de_ana,
    )
    .await;

    let mut tampered = good.clone();
    let last = tampered.body.len() - 1;
    tampered.body[last] ^= 0x01;
    refused(
        "tampered body",
        Code::Unauthenticated,
        push(client, &[&tampered]).await,
        &de_ana,
    )
    .await;

    // KR is no peer of DE; whatever key signed it, FR may not hand it over.
    let kr_key = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
    let from_kr = seal(
        &kr_key,
        risk_alert("KR", 1002, "Unknown issuer"),
        1002,
        &["DE"],
    );
    refused(
        "unknown issuer",
        Code::PermissionDenied,
        push(client, &[&from_kr]).await,
        &de_ana,
    )
    .await;

    // A genuine JP record, signed by JP's real key, relayed over FR's connection.
    let jp_key = record_signer(fed.dir("JP")).unwrap();
    let from_jp = seal(
        &jp_key,
        risk_alert("JP", 1003, "Relayed by someone else"),
        1003,
        &["DE"],
    );
    refused(
        "issuer other than the sender",
        Code::PermissionDenied,
        push(client, &[&from_jp]).await,
        &de_ana,
    )
    .await;

    let not_for_de = seal(
        &fr_key,
        risk_alert("FR", 1004, "Meant for JP only"),
        1004,
        &["JP"],
    );
    refused(
        "recipients omit the receiver",
        Code::PermissionDenied,
        push(client, &[&not_for_de]).await,
        &de_ana,
    )
    .await;

    // All or nothing: a good envelope in a batch with a forged one is not kept either.
    let also_good = seal(
        &fr_key,
        risk_alert("FR", 1005, "Good, but in bad company"),
        1005,
        &["DE"],
    );
    let mut forged = seal(&fr_key, risk_alert("FR", 1006, "Forged"), 1006, &["DE"]);
    forged.signature[0] ^= 0x80;
    refused(
        "batch with one forgery",
        Code::Unauthenticated,
        push(client, &[&also_good, &forged]).await,
        &de_ana,
    )
    .await;

    // 300 KiB body, a valid record otherwise, above the 256 KiB per-record limit.
    let mut big = risk_alert("FR", 1007, "Oversized");
    big.indicators = vec!["x".repeat(MAX_TEXT); 64];
    big.subjects.shipments = vec!["y".repeat(MAX_TEXT); 11];
    let big = seal(&fr_key, big, 1007, &["DE"]);
    assert!(big.body.len() >= 300 * 1024, "{}", big.body.len());
    refused(
        "300 KiB body",
        Code::ResourceExhausted,
        push(client, &[&big]).await,
        &de_ana,
    )
    .await;

    // 17 records of ~250 KiB, each within the record limit: over 4 MiB in one message.
    let many: Vec<SignedEnvelope> = (0..17u64)
        .map(|i| {
            let mut a = risk_alert("FR", 1100 + i, "One of many");
            a.indicators = vec!["z".repeat(MAX_TEXT); 61];
            seal(&fr_key, a, 1100 + i, &["DE"])
        })
        .collect();
    assert!(many.iter().all(|e| e.body.len() < 256 * 1024));
    assert!(
        many.iter()
            .map(|e| e.header.len() + e.body.len() + e.signature.len())
            .sum::<usize>()
            > 4 * 1024 * 1024
    );
    let many_refs: Vec<&SignedEnvelope> = many.iter().collect();
    refused(
        "message above 4 MiB",
        Code::ResourceExhausted,
        push(client, &many_refs).await,
        &de_ana,
    )
    .await;

    let junk = SignedEnvelope {
        header: b"this is not a header".to_vec(),
        body: good.body.clone(),
        signature: vec![0; 64],
    };
    refused(
        "malformed header",
        Code::InvalidArgument,
        push(client, &[&junk]).await,
        &de_ana,
    )
    .await;
    let mut future_format = good.clone();
    future_format.header[0] = ENVELOPE_FORMAT + 1;
    refused(
        "unknown header format",
        Code::InvalidArgument,
        push(client, &[&future_format]).await,
        &de_ana,
    )
    .await;
    let mut short_signature = good.clone();
    short_signature.signature.pop();
    refused(
        "truncated signature",
        Code::InvalidArgument,
        push(client, &[&short_signature]).await,
        &de_ana,
    )
    .await;

    let mut admin = Credentials::from_profile(&fed.dir("DE").admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    assert_eq!(
        admin
            .status(StatusRequest {})
            .await
            .unwrap()
            .into_inner()
            .equivocations,
        0
    );
    assert!(admin
        .list_evidence(ListEvidenceRequest {})
        .await
        .unwrap()
        .into_inner()
        .evidence
        .is_empty());

    // Control: the very envelope the forgeries were made from is accepted.
    let responses = push(client, &[&good]).await.unwrap();
    assert_eq!(responses.len(), 1);
    let receipt = receipt_for(&de_key, &responses[0], &good);
    assert_eq!(
        (receipt.seq, receipt.record_id.as_str(), receipt.duplicate),
        (1001, "FR-A-1001", false)
    );
    let now_held = held(&de_ana).await;
    assert_eq!(now_held.len(), 1);
    assert_eq!(now_held[0].id, "FR-A-1001");
    assert!(
        now_held[0].signature_valid,
        "{}",
        now_held[0].signature_error
    );
}

#[tokio::test]
async fn a_replay_is_acknowledged_again_and_an_equivocation_is_refused_and_kept_as_evidence() {
    let Setup {
        fed,
        mut fr_to_de,
        de_ana,
        fr_key,
        de_key,
    } = setup().await;
    let client = &mut fr_to_de;
    let de = fed.dir("DE");
    let first = seal(
        &fr_key,
        risk_alert("FR", 1000, "Broker arranges split shipments"),
        1000,
        &["DE"],
    );

    let responses = push(client, &[&first]).await.unwrap();
    assert_eq!(responses.len(), 1);
    let receipt = receipt_for(&de_key, &responses[0], &first);
    assert_eq!(
        (
            receipt.seq,
            receipt.record_id.as_str(),
            receipt.version,
            receipt.duplicate
        ),
        (1000, "FR-A-1000", 1, false)
    );

    // Replayed on a new stream, and twice more on one stream.
    let again = push(client, &[&first]).await.unwrap();
    assert_eq!(again.len(), 1);
    assert!(
        receipt_for(&de_key, &again[0], &first).duplicate,
        "a replay is acknowledged as a duplicate"
    );
    let twice = push_raw(
        client,
        vec![
            PushRequest {
                envelopes: vec![wire(&first)],
            },
            PushRequest {
                envelopes: vec![wire(&first)],
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!(twice.len(), 2);
    assert!(twice
        .iter()
        .all(|r| receipt_for(&de_key, r, &first).duplicate));

    let now_held = held(&de_ana).await;
    assert_eq!(now_held.len(), 1, "held exactly once");
    assert_eq!(
        (now_held[0].id.as_str(), now_held[0].digest_hex.clone()),
        ("FR-A-1000", hex(&first.digest()))
    );
    let history = de_ana
        .clone()
        .get_alert(GetRecordRequest {
            id: "FR-A-1000".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.versions.len(), 1);

    // Same record, version and sequence number; different content, validly signed.
    let conflicting = seal(
        &fr_key,
        risk_alert("FR", 1000, "Broker arranges nothing at all"),
        1000,
        &["DE"],
    );
    assert_ne!(conflicting.digest(), first.digest());
    let err = push(client, &[&conflicting]).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");

    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    let evidence = admin
        .list_evidence(ListEvidenceRequest {})
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    let e = &evidence[0];
    assert_eq!(
        (
            e.issuer.as_str(),
            e.record_id.as_str(),
            e.version,
            e.received_from.as_str()
        ),
        ("FR", "FR-A-1000", 1, "FR")
    );
    assert_eq!(e.held_digest_hex, hex(&first.digest()));
    assert_eq!(e.conflicting_digest_hex, hex(&conflicting.digest()));
    assert_eq!(
        admin
            .status(StatusRequest {})
            .await
            .unwrap()
            .into_inner()
            .equivocations,
        1
    );

    let still = held(&de_ana).await;
    assert_eq!(still.len(), 1, "DE still holds only the first version");
    assert_eq!(still[0].digest_hex, hex(&first.digest()));
    assert_eq!(summary_of(&still[0]), "Broker arranges split shipments");

    // The first envelope is still acknowledged as held, unchanged.
    let replay = push(client, &[&first]).await.unwrap();
    assert!(receipt_for(&de_key, &replay[0], &first).duplicate);
    let s = admin.status(StatusRequest {}).await.unwrap().into_inner();
    assert_eq!(peer_in(&s, "FR").unwrap().received_cursor, 1000);
}

fn alert_request(category: &str, to: &[&str]) -> RaiseAlertRequest {
    RaiseAlertRequest {
        category: category.into(),
        severity: "low".into(),
        summary: "Routine check".into(),
        distribution: Some(Distribution {
            to: to.iter().map(|s| s.to_string()).collect(),
            groups: vec![],
        }),
        ..Default::default()
    }
}

fn denial_request(to: &[&str]) -> IssueDenialRequest {
    IssueDenialRequest {
        party: Some(Party {
            name: "Acme Trading FZE".into(),
            ..Default::default()
        }),
        items: vec![DeniedItem {
            code: "3A001".into(),
            description: String::new(),
        }],
        destination: "IR".into(),
        reason: "risk of diversion".into(),
        distribution: Some(Distribution {
            to: to.iter().map(|s| s.to_string()).collect(),
            groups: vec![],
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn exchange_calls_by_the_wrong_people_or_to_the_wrong_places_are_refused() {
    let Setup {
        fed,
        fr_key,
        de_ana,
        ..
    } = setup().await;
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let nothing_held = |case: &'static str| {
        let de_ana = de_ana.clone();
        async move {
            let alerts = held(&de_ana).await;
            assert!(alerts.is_empty(), "{case}: DE holds {alerts:?}");
            let denials = de_ana
                .clone()
                .list_denials(ListRecordsRequest::default())
                .await
                .unwrap()
                .into_inner()
                .records;
            assert!(denials.is_empty(), "{case}: DE holds {denials:?}");
        }
    };

    // A DE analyst is no node: FederationService is closed to it.
    let de_analyst = Credentials::from_profile(&de.dir.join("analyst-ana.profile.toml")).unwrap();
    let mut analyst_push = federation_client(de_analyst.channel(true).await.unwrap());
    let envelope = seal(
        &fr_key,
        risk_alert("FR", 1000, "Pushed by an analyst"),
        1000,
        &["DE"],
    );
    let err = push(&mut analyst_push, &[&envelope]).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    nothing_held("analyst pushing").await;

    // FR's analyst and FR's node are trusted at the TLS layer (FR is a peer), but
    // DE's exchange service serves DE's own people only.
    let fr_analyst = Credentials {
        endpoint: de.endpoint.clone(),
        ca_pem: de.read("ca.crt"),
        ..Credentials::from_profile(&fr.issue("analyst", "ana")).unwrap()
    };
    for (who, creds) in [
        ("FR analyst", fr_analyst),
        ("FR node", node_credentials(fr, de)),
    ] {
        let mut c = ExchangeServiceClient::new(creds.channel(true).await.unwrap());
        let err = c
            .list_alerts(ListRecordsRequest::default())
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::PermissionDenied,
            "{who} listing DE's alerts: {err:?}"
        );
        let err = c
            .raise_alert(alert_request("other", &["FR"]))
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::PermissionDenied,
            "{who} raising on DE: {err:?}"
        );
    }
    nothing_held("foreign callers").await;

    let mut officer = exchange_client(&de.issue("officer", "olaf")).await.unwrap();
    let err = officer
        .raise_alert(alert_request("other", &["FR"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "officer raising an alert: {err:?}"
    );
    let mut admin_x = exchange_client(&de.admin_profile()).await.unwrap();
    let err = admin_x
        .raise_alert(alert_request("other", &["FR"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "admin raising an alert: {err:?}"
    );
    let err = admin_x
        .issue_denial(denial_request(&["FR"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "admin issuing a denial: {err:?}"
    );
    let mut analyst = de_ana.clone();
    let err = analyst
        .issue_denial(denial_request(&["FR"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "analyst issuing a denial: {err:?}"
    );
    nothing_held("wrong roles").await;

    let err = analyst
        .raise_alert(alert_request("other", &["US"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "to a non-peer: {err:?}"
    );
    let err = analyst
        .raise_alert(alert_request("other", &["FR", "US"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "to a peer and a non-peer: {err:?}"
    );
    let err = officer
        .issue_denial(denial_request(&["US"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::FailedPrecondition,
        "denial to a non-peer: {err:?}"
    );
    let err = analyst
        .raise_alert(alert_request("smuggling", &["FR"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::InvalidArgument,
        "unknown category: {err:?}"
    );
    let err = analyst
        .raise_alert(alert_request("other", &[]))
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::InvalidArgument,
        "nobody to send to: {err:?}"
    );
    nothing_held("bad requests").await;

    // Bytes that are not valid UTF-8 where the protocol has a string: the
    // caller's error (INVALID_ARGUMENT), not the node's (INTERNAL).
    // `Envelope.header` (bytes, field 1) encodes exactly like
    // `ListRecordsRequest.issuer` (string, field 1).
    let mut raw = tonic::client::Grpc::new(
        Credentials::from_profile(&de.issue("analyst", "raw"))
            .unwrap()
            .channel(true)
            .await
            .unwrap(),
    );
    raw.ready().await.unwrap();
    let path = http::uri::PathAndQuery::from_static("/concord.v1.ExchangeService/ListAlerts");
    let not_utf8 = Envelope {
        header: vec![0xC3, 0x28, 0xFF],
        ..Default::default()
    };
    let err = raw
        .unary::<_, RecordView, _>(
            tonic::Request::new(not_utf8),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "invalid UTF-8: {err:?}");
    // A request over the message size limit (4 MiB by default): a limit the
    // caller hit (RESOURCE_EXHAUSTED), not tonic's OUT_OF_RANGE.
    let mut huge = alert_request("other", &["FR"]);
    huge.summary = "x".repeat(5 * 1024 * 1024);
    let err = analyst.raise_alert(huge).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "oversized: {err:?}");

    // Control: the same analyst, with a proper request, is served.
    let ok = analyst
        .raise_alert(alert_request("other", &["FR"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.recipients, vec!["FR"]);
    assert_eq!(held(&de_ana).await.len(), 1);
}
