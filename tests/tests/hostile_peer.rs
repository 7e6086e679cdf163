//! A partner holding its own node certificate and record-signing key turns
//! hostile: it signs records under another issuer's ids, with sequence
//! numbers and times no honest issuer produces, with trailing bytes. Every
//! such push is refused over real mTLS and nothing is stored; the real
//! records keep their threads, answers reach their real requester, and
//! screening names who signed a denial.

use std::time::{SystemTime, UNIX_EPOCH};

use concord_node::crypto::RecordSigner;
use concord_node::exchange::consultation::{
    Consultation, ConsultationBody, ConsultationKind, ConsultationRequest,
};
use concord_node::exchange::envelope::{
    EnvelopeHeader, Record, RecordKind, SignedEnvelope, ENVELOPE_FORMAT,
};
use concord_node::exchange::records::{DenialNotice, DenialState, DeniedItem, Party};
use concord_proto::v1::federation_service_client::FederationServiceClient;
use concord_proto::v1::PushRequest;
use concord_tests::*;
use serde_json::Value;
use tonic::transport::Channel;
use tonic::Code;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn header(issuer: &str, kind: RecordKind, id: &str, seq: u64, to: &[&str]) -> EnvelopeHeader {
    EnvelopeHeader {
        format: ENVELOPE_FORMAT,
        kind,
        issuer: issuer.parse().unwrap(),
        key_id: String::new(),
        seq,
        record_id: id.into(),
        version: 1,
        issued_at_unix_ms: now_ms(),
        recipients: to.iter().map(|r| r.parse().unwrap()).collect(),
        body_sha256: [0; 32],
        previous: None,
        expires_at_unix_ms: None,
    }
}

fn breach(issuer: &str, id: &str, at: i64) -> Record {
    Record::Consultation(Consultation {
        id: id.into(),
        issuer: issuer.parse().unwrap(),
        issued_at_unix_ms: at,
        body: ConsultationBody::Request(ConsultationRequest {
            kind: ConsultationKind::Breach,
            denial: None,
            intended: None,
            subject: "Backdated: ignore the real one".into(),
            text: "answer me instead".into(),
        }),
    })
}

fn denial(issuer: &str, id: &str) -> Record {
    Record::Denial(DenialNotice {
        id: id.into(),
        issuer: issuer.parse().unwrap(),
        version: 1,
        state: DenialState::Active,
        party: Party {
            name: "Zarnitsa Avionics".into(),
            aliases: vec![],
            country: "RU".into(),
            address: String::new(),
        },
        items: vec![DeniedItem {
            code: "7A003".into(),
            description: "inertial navigation".into(),
        }],
        destination: "RU".into(),
        end_use: String::new(),
        reason: "military end use".into(),
        decision_date_unix_ms: now_ms(),
        valid_until_unix_ms: None,
        change_reason: String::new(),
    })
}

async fn push(
    client: &mut FederationServiceClient<Channel>,
    e: &SignedEnvelope,
) -> Result<(), tonic::Status> {
    push_raw(
        client,
        vec![PushRequest {
            envelopes: vec![wire(e)],
        }],
    )
    .await
    .map(drop)
}

/// Signs an arbitrary header and body as `key`: what a peer with its own
/// key can produce, including trailing bytes after the encoded values.
fn seal_bytes(key: &RecordSigner, header: Vec<u8>, body: Vec<u8>) -> SignedEnvelope {
    let mut tagged = b"concord.v1.envelope\0".to_vec();
    tagged.extend_from_slice(&header);
    SignedEnvelope {
        signature: key.sign(&tagged),
        header,
        body,
    }
}

#[tokio::test]
async fn a_peer_with_its_own_key_cannot_squat_ids_hijack_threads_or_poison_cursors() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (fed.dir("DE"), fed.dir("FR"), fed.dir("JP"));
    let de_analyst = de.issue("analyst", "ana");
    let fr_analyst = fr.issue("analyst", "fra");
    let jp_key = record_signer(jp).unwrap();
    let mut jp_to_fr = federation_client(node_credentials(jp, fr).channel(true).await.unwrap());

    // DE's real breach consultation with FR and JP.
    let asked = json_as(
        &de_analyst,
        &[
            "consult",
            "request",
            "--subject",
            "Transshipment via a free zone",
            "--to",
            "FR,JP",
            "--text",
            "Seen these consignees?",
        ],
    );
    let real_id = asked["id"].as_str().unwrap().to_owned();
    eventually("FR to hold DE's consultation", || {
        let (p, id) = (fr_analyst.clone(), real_id.clone());
        async move {
            let out = concord_json_as(&p, &["consult", "show", &id]);
            anyhow::ensure!(out.status.success(), "not yet");
            Ok(())
        }
    })
    .await
    .unwrap();

    // JP signs, with its own key, a backdated request under DE's id, and
    // under DE's next ids (reserving them).
    let next: u64 = real_id.rsplit('-').next().unwrap().parse().unwrap();
    for (n, id) in [(0, real_id.clone()), (1, format!("DE-C-{}", next + 1))] {
        let mut h = header("JP", RecordKind::Consultation, &id, 1000 + n, &["FR"]);
        h.issued_at_unix_ms = 1_000;
        let e = SignedEnvelope::seal(&jp_key, h, &breach("JP", &id, 1_000)).unwrap();
        let err = push(&mut jp_to_fr, &e).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{id}: {err:?}");
        assert!(err.message().contains("not an id of issuer JP"), "{err:?}");
    }
    // A denial under DE's id: refused. Under JP's own id: taken, and
    // screening at FR names JP as its issuer.
    let e = SignedEnvelope::seal(
        &jp_key,
        header("JP", RecordKind::Denial, "DE-D-900", 1002, &["FR"]),
        &denial("JP", "DE-D-900"),
    )
    .unwrap();
    assert_eq!(
        push(&mut jp_to_fr, &e).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let own = SignedEnvelope::seal(
        &jp_key,
        header("JP", RecordKind::Denial, "JP-D-1003", 1003, &["FR"]),
        &denial("JP", "JP-D-1003"),
    )
    .unwrap();
    push(&mut jp_to_fr, &own).await.unwrap();
    let fr_officer = fr.issue("officer", "olli");
    let shown = json_as(&fr_officer, &["denial", "show", "JP-D-1003"]);
    assert!(shown.to_string().contains("Zarnitsa"), "{shown}");
    let out = concord_json_as(&fr_officer, &["denial", "show", "DE-D-900"]);
    assert_eq!(out.status.code(), Some(7), "nothing stored under DE-D-900");
    let screened: Value = eventually("FR to screen JP's denial", || {
        let p = fr_officer.clone();
        async move {
            let v = json_as(&p, &["screen", "query", "Zarnitsa Avionics"]);
            anyhow::ensure!(
                v["matches"].as_array().is_some_and(|m| !m.is_empty()),
                "{v}"
            );
            Ok(v)
        }
    })
    .await
    .unwrap();
    let first = &screened["matches"][0];
    assert_eq!(first["source_id"], "JP-D-1003", "{screened}");
    assert_eq!(first["issuer"], "JP", "{screened}");

    // Header values no honest issuer produces, each correctly signed by JP.
    let cursor_before = received_cursor(fr, "JP").await;
    let far = {
        let mut h = header("JP", RecordKind::Denial, "JP-D-1004", 1004, &["FR"]);
        h.issued_at_unix_ms = 32_503_680_000_000; // year 3000
        SignedEnvelope::seal(&jp_key, h, &denial("JP", "JP-D-1004")).unwrap()
    };
    let zero = SignedEnvelope::seal(
        &jp_key,
        header("JP", RecordKind::Denial, "JP-D-1005", 0, &["FR"]),
        &denial("JP", "JP-D-1005"),
    )
    .unwrap();
    let max = SignedEnvelope::seal(
        &jp_key,
        header("JP", RecordKind::Denial, "JP-D-1006", u64::MAX, &["FR"]),
        &denial("JP", "JP-D-1006"),
    )
    .unwrap();
    let good = SignedEnvelope::seal(
        &jp_key,
        header("JP", RecordKind::Denial, "JP-D-1007", 1007, &["FR"]),
        &denial("JP", "JP-D-1007"),
    )
    .unwrap();
    let mut long_header = good.header.clone();
    long_header.push(0);
    let trailing_header = seal_bytes(&jp_key, long_header, good.body.clone());
    let mut long_body = good.body.clone();
    long_body.push(0);
    let mut h = header("JP", RecordKind::Denial, "JP-D-1007", 1007, &["FR"]);
    h.key_id = jp_key.key_id().to_owned();
    h.body_sha256 = concord_node::crypto::sha256(&long_body);
    let h_bytes = postcard::to_stdvec(&h).unwrap();
    let trailing_body = seal_bytes(&jp_key, h_bytes, long_body);
    for (case, e) in [
        ("issued in the year 3000", &far),
        ("sequence 0", &zero),
        ("sequence u64::MAX", &max),
        ("trailing header bytes", &trailing_header),
        ("trailing body bytes", &trailing_body),
    ] {
        let err = push(&mut jp_to_fr, e).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{case}: {err:?}");
    }
    assert_eq!(received_cursor(fr, "JP").await, cursor_before);
    push(&mut jp_to_fr, &good).await.unwrap();
    assert_eq!(received_cursor(fr, "JP").await, 1007);

    // FR answers DE's real consultation: the answer goes to DE (and JP, a
    // participant), and DE sees it on its thread.
    let answered = json_as(
        &fr_analyst,
        &[
            "consult",
            "respond",
            &real_id,
            "--position",
            "more-info",
            "--text",
            "Which consignees?",
        ],
    );
    assert!(answered.to_string().contains("DE"), "{answered}");
    eventually("DE to hold FR's answer on its thread", || {
        let (p, id) = (de_analyst.clone(), real_id.clone());
        async move {
            let t = json_as(&p, &["consult", "show", &id]);
            anyhow::ensure!(
                t["responses"].as_array().is_some_and(|r| r.len() == 1),
                "{t}"
            );
            Ok(())
        }
    })
    .await
    .unwrap();
}

async fn received_cursor(on: &NodeDir, peer: &str) -> u64 {
    let status = status_of(&on.admin_profile()).await.unwrap();
    peer_in(&status, peer).map_or(0, |p| p.received_cursor)
}
