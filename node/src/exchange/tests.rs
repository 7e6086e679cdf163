//! Exchange logic between in-process nodes with real stores: issue, push,
//! receive, receipts, and every refusal a receiver must make.

use std::sync::Arc;
use std::time::Duration;

use super::envelope::tests::{alert, header, seal_raw};
use super::*;
use crate::crypto::{CertificateAuthority, RecordSigner, Validity};
use crate::exchange::records::{AlertCategory, DeniedItem, Party, Severity, Subjects};
use crate::identity::{Caller, Role};
use crate::trust_bundle::TrustBundle;

struct TestNode {
    j: Jurisdiction,
    x: Exchange,
    signer: Arc<RecordSigner>,
    peers: Arc<PeerDirectory>,
    _dir: tempfile::TempDir,
}

fn j(s: &str) -> Jurisdiction {
    s.parse().unwrap()
}

fn node(code: &str) -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let audit =
        Arc::new(crate::audit::AuditLog::open(store.clone(), signer.clone(), code).unwrap());
    let peers = Arc::new(
        PeerDirectory::open(store.clone(), j(code))
            .unwrap()
            .audited(audit.clone()),
    );
    let x = Exchange::open(store, j(code), signer.clone(), peers.clone(), audit.clone()).unwrap();
    TestNode {
        j: j(code),
        x,
        signer,
        peers,
        _dir: dir,
    }
}

async fn befriend(a: &TestNode, b: &TestNode) {
    let (ca, _) = CertificateAuthority::generate(&b.j, Validity::days(1)).unwrap();
    let bundle = TrustBundle {
        jurisdiction: b.j.clone(),
        endpoint: "127.0.0.1:1".into(),
        ca_cert_pem: ca.cert_pem().into(),
        signing_public_key: b.signer.public_key().to_vec(),
        retired_signing_keys: Vec::new(),
    };
    a.peers.add("DE/admin/test", bundle).await.unwrap();
}

async fn federation(codes: &[&str]) -> Vec<TestNode> {
    let nodes: Vec<_> = codes.iter().map(|c| node(c)).collect();
    for a in &nodes {
        for b in nodes.iter().filter(|b| b.j != a.j) {
            befriend(a, b).await;
        }
    }
    nodes
}

fn analyst(n: &TestNode) -> Caller {
    Caller::new(n.j.clone(), Role::Analyst, "ana").unwrap()
}

fn officer(n: &TestNode) -> Caller {
    Caller::new(n.j.clone(), Role::Officer, "oli").unwrap()
}

fn draft() -> AlertDraft {
    AlertDraft {
        category: AlertCategory::DiversionSuspected,
        severity: Severity::High,
        subjects: Subjects {
            destinations: vec!["IR".into()],
            items: vec!["3A001".into()],
            ..Subjects::default()
        },
        indicators: vec!["end user changed after approval".into()],
        summary: "Consignee resells controlled FPGAs".into(),
        expires_in: None,
        handling: "RESTRICTED".into(),
    }
}

fn to(codes: &[&str]) -> Distribution {
    Distribution {
        to: codes.iter().map(|c| j(c)).collect(),
        groups: vec![],
    }
}

/// Pushes everything queued at `from` for `to_node`, as the federation link would.
async fn deliver(from: &TestNode, to_node: &TestNode) -> usize {
    let pending = from.x.pending_for(&to_node.j, BATCH).await.unwrap();
    if pending.is_empty() {
        return 0;
    }
    let envelopes: Vec<_> = pending.iter().map(|(_, e)| e.clone()).collect();
    let receipts = to_node.x.receive(&from.j, &envelopes).await.unwrap();
    from.x
        .acknowledge(&to_node.j, &pending, &receipts)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_alert_reaches_exactly_its_recipients_with_signed_receipts() {
    let n = federation(&["DE", "FR", "JP"]).await;
    let (de, fr, jp) = (&n[0], &n[1], &n[2]);
    let view =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    assert_eq!(view.header.recipients, vec![j("FR")]);
    assert_eq!(view.deliveries, vec![(j("FR"), DeliveryView::Pending)]);
    assert!(
        de.x.pending_for(&jp.j, BATCH).await.unwrap().is_empty(),
        "JP is not named"
    );
    assert!(
        de.x.catch_up(&jp.j, 0, BATCH).unwrap().is_empty(),
        "catch-up must not leak either"
    );

    assert_eq!(deliver(de, fr).await, 1);
    let held =
        fr.x.list(RecordKind::Alert, &RecordFilter::default())
            .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].signature, SignatureCheck::Valid);
    assert_eq!(held[0].header.record_id, view.header.record_id);
    assert!(jp
        .x
        .list(RecordKind::Alert, &RecordFilter::default())
        .unwrap()
        .is_empty());

    let after =
        de.x.history(RecordKind::Alert, &view.header.record_id)
            .unwrap();
    assert!(matches!(
        after[0].deliveries[0].1,
        DeliveryView::Delivered {
            receipt_valid: true,
            duplicate: false,
            ..
        }
    ));
    assert_eq!(de.x.queued_for(&fr.j), 0);
    assert_eq!(fr.x.cursor(&de.j).unwrap(), view.header.seq);
}

#[tokio::test]
async fn receipt_is_idempotent_and_replays_store_nothing() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
        .await
        .unwrap();
    let pending = de.x.pending_for(&fr.j, BATCH).await.unwrap();
    let envs: Vec<_> = pending.iter().map(|(_, e)| e.clone()).collect();
    fr.x.receive(&de.j, &envs).await.unwrap();
    let again = fr.x.receive(&de.j, &envs).await.unwrap();
    let body = again[0].verify(fr.signer.public_key()).unwrap();
    assert!(body.duplicate);
    assert_eq!(fr.x.held_from(&de.j), 1);
}

#[tokio::test]
async fn receivers_refuse_what_they_must_and_store_nothing() {
    let n = federation(&["DE", "FR", "JP"]).await;
    let (de, fr, jp) = (&n[0], &n[1], &n[2]);
    de.x.raise_alert(&analyst(de), draft(), to(&["JP"]))
        .await
        .unwrap();
    let to_jp = de.x.pending_for(&jp.j, BATCH).await.unwrap()[0].1.clone();

    // Not a recipient.
    let err =
        fr.x.receive(&de.j, std::slice::from_ref(&to_jp))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
    // Issuer other than the sender: JP relaying DE's record.
    let err =
        jp.x.receive(&fr.j, std::slice::from_ref(&to_jp))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
    // Tampered body.
    let mut tampered = to_jp.clone();
    let last = tampered.body.len() - 1;
    tampered.body[last] ^= 1;
    assert!(matches!(
        jp.x.receive(&de.j, &[tampered]).await.unwrap_err(),
        Error::Unauthenticated(_)
    ));
    // Bad signature.
    let mut bad = to_jp.clone();
    bad.signature[3] ^= 1;
    assert!(matches!(
        jp.x.receive(&de.j, &[bad]).await.unwrap_err(),
        Error::Unauthenticated(_)
    ));
    // Signed by someone else's key.
    let forged = SignedEnvelope::seal(
        &fr.signer,
        header("DE", "DE-A-9", 9, &["JP"]),
        &Record::Alert(alert("DE", "DE-A-9")),
    )
    .unwrap();
    assert!(matches!(
        jp.x.receive(&de.j, &[forged]).await.unwrap_err(),
        Error::Unauthenticated(_)
    ));
    // Malformed and oversized.
    let junk = SignedEnvelope {
        header: vec![9; 10],
        body: vec![],
        signature: vec![0; 64],
    };
    assert!(matches!(
        jp.x.receive(&de.j, &[junk]).await.unwrap_err(),
        Error::InvalidArgument(_)
    ));
    let huge = SignedEnvelope {
        body: vec![0; 1024 * 1024],
        ..to_jp.clone()
    };
    assert!(matches!(
        jp.x.receive(&de.j, &[huge]).await.unwrap_err(),
        Error::ResourceExhausted(_)
    ));
    // Unknown issuer.
    let stranger = node("KR");
    assert!(matches!(
        jp.x.receive(&stranger.j, std::slice::from_ref(&to_jp))
            .await
            .unwrap_err(),
        Error::PermissionDenied(_)
    ));
    // A good envelope in a batch with a bad one: all or nothing.
    let mut bad = to_jp.clone();
    bad.signature[0] ^= 1;
    assert!(jp.x.receive(&de.j, &[to_jp.clone(), bad]).await.is_err());

    assert_eq!(fr.x.held_from(&de.j), 0);
    assert_eq!(jp.x.held_from(&de.j), 0);
    assert_eq!(jp.x.held_from(&fr.j), 0);
    // And the genuine one is then accepted.
    jp.x.receive(&de.j, &[to_jp]).await.unwrap();
    assert_eq!(jp.x.held_from(&de.j), 1);
}

#[tokio::test]
async fn equivocation_is_refused_and_kept_as_evidence() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let view =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    deliver(de, fr).await;
    // DE's key signs a different alert under the same id, version and sequence.
    let mut other = alert("DE", &view.header.record_id);
    other.summary = "a different story".into();
    let h = header("DE", &view.header.record_id, view.header.seq, &["FR"]);
    let twin = SignedEnvelope::seal(&de.signer, h, &Record::Alert(other)).unwrap();
    let err = fr.x.receive(&de.j, &[twin]).await.unwrap_err();
    assert!(
        matches!(err, Error::AlreadyExists(ref m) if m.contains("equivocation")),
        "{err}"
    );
    assert_eq!(fr.x.evidence_count(), 1);
    assert_eq!(fr.x.held_from(&de.j), 1);
    let held =
        fr.x.history(RecordKind::Alert, &view.header.record_id)
            .unwrap();
    assert_eq!(held.len(), 1);
    assert!(
        matches!(&held[0].record, Record::Alert(a) if a.summary == "Consignee resells controlled FPGAs")
    );
}

/// A peer signing conflicting envelopes in a loop: one proof per held
/// envelope is kept, within the per-peer cap in entries and bytes; every
/// conflict is counted, persisted, and flagged.
#[tokio::test]
async fn equivocation_evidence_is_bounded_per_peer() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    fr.x.set_evidence_limits(EvidenceLimits {
        entries: 3,
        bytes: u64::MAX,
    });
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(
            de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
                .await
                .unwrap(),
        );
    }
    deliver(de, fr).await;
    let twin = |view: &RecordView, story: &str| {
        let mut other = alert("DE", &view.header.record_id);
        other.summary = story.into();
        let to: Vec<&str> = view.header.recipients.iter().map(|r| r.as_str()).collect();
        let h = header("DE", &view.header.record_id, view.header.seq, &to);
        SignedEnvelope::seal(&de.signer, h, &Record::Alert(other)).unwrap()
    };
    // 50 different conflicts with one held record: one entry kept.
    for i in 0..50 {
        let err =
            fr.x.receive(&de.j, &[twin(&held[0], &format!("story {i}"))])
                .await
                .unwrap_err();
        assert!(matches!(err, Error::AlreadyExists(_)), "{err}");
    }
    assert_eq!(fr.x.evidence_count(), 1, "the first proof only");
    // Conflicts with every other held record: the cap of 3 holds.
    for v in &held[1..] {
        for i in 0..2 {
            fr.x.receive(&de.j, &[twin(v, &format!("other {i}"))])
                .await
                .unwrap_err();
        }
    }
    assert_eq!(fr.x.evidence_count(), 3, "capped at 3 entries");
    let counts = fr.x.equivocation_counts().unwrap();
    assert_eq!(counts.len(), 1);
    let (peer, c) = &counts[0];
    assert_eq!(peer, &de.j);
    assert_eq!((c.detected, c.kept, c.not_kept), (58, 3, 55));
    assert_eq!(fr.x.equivocations_detected(), 58, "status keeps flagging");
    // The genuine records are untouched.
    assert_eq!(fr.x.held_from(&de.j), 5);

    // A cap in bytes: no room for even one pair of envelopes.
    let jp = node("JP");
    befriend(&jp, de).await;
    befriend(de, &jp).await;
    jp.x.set_evidence_limits(EvidenceLimits {
        entries: 64,
        bytes: 100,
    });
    let v =
        de.x.raise_alert(&analyst(de), draft(), to(&["JP"]))
            .await
            .unwrap();
    deliver(de, &jp).await;
    jp.x.receive(&de.j, &[twin(&v, "x")]).await.unwrap_err();
    assert_eq!(jp.x.evidence_count(), 0);
    assert_eq!(jp.x.equivocations_detected(), 1);
}

#[tokio::test]
async fn denials_are_amended_and_revoked_in_a_signed_chain() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let denial = DenialDraft {
        party: Party {
            name: "Rosoboron Trading LLC".into(),
            aliases: vec!["ROSOBORON".into()],
            country: "RU".into(),
            address: String::new(),
        },
        items: vec![DeniedItem {
            code: "3A001".into(),
            description: "FPGAs".into(),
        }],
        destination: "RU".into(),
        end_use: "military radar".into(),
        reason: "risk of military end use".into(),
        valid_for: Some(Duration::from_secs(3600)),
    };
    let v1 =
        de.x.issue_denial(&officer(de), denial, to(&["FR"]))
            .await
            .unwrap();
    let id = v1.header.record_id.clone();
    let change = DenialChange {
        destination: Some("BY".into()),
        change_reason: "transshipment route found".into(),
        ..DenialChange::default()
    };
    let v2 = de.x.amend_denial(&officer(de), &id, change).await.unwrap();
    assert_eq!(v2.header.version, 2);
    assert_eq!(v2.header.previous, Some(v1.digest));
    let v3 =
        de.x.revoke_denial(&officer(de), &id, "appeal upheld".into())
            .await
            .unwrap();
    assert_eq!(v3.header.version, 3);
    let err =
        de.x.revoke_denial(&officer(de), &id, "again".into())
            .await
            .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)));
    assert!(matches!(
        de.x.amend_denial(&officer(de), &id, DenialChange::default())
            .await,
        Err(Error::FailedPrecondition(_))
    ));

    assert_eq!(deliver(de, fr).await, 3);
    let history = fr.x.history(RecordKind::Denial, &id).unwrap();
    assert_eq!(
        history.iter().map(|v| v.header.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let current =
        fr.x.list(RecordKind::Denial, &RecordFilter::default())
            .unwrap();
    assert_eq!(current.len(), 1);
    assert!(
        matches!(&current[0].record, Record::Denial(d) if d.state == records::DenialState::Revoked && d.destination == "BY")
    );
    assert!(fr
        .x
        .list(
            RecordKind::Denial,
            &RecordFilter {
                active_only: true,
                ..RecordFilter::default()
            }
        )
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn expired_alerts_are_not_delivered() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let short = AlertDraft {
        expires_in: Some(Duration::from_millis(1)),
        ..draft()
    };
    let view =
        de.x.raise_alert(&analyst(de), short, to(&["FR"]))
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(deliver(de, fr).await, 0);
    assert_eq!(fr.x.held_from(&de.j), 0);
    let after =
        de.x.history(RecordKind::Alert, &view.header.record_id)
            .unwrap();
    assert!(matches!(
        after[0].deliveries[0].1,
        DeliveryView::Expired { .. }
    ));
}

#[tokio::test]
async fn distributions_name_peers_and_groups() {
    let n = federation(&["DE", "FR", "JP"]).await;
    let de = &n[0];
    // Only registered peers, never the node itself.
    assert!(matches!(
        de.x.create_group("DE/admin/a", "g7", vec![j("FR"), j("US")])
            .await,
        Err(Error::FailedPrecondition(_))
    ));
    assert!(matches!(
        de.x.create_group("DE/admin/a", "g7", vec![j("FR"), j("DE")])
            .await,
        Err(Error::InvalidArgument(_))
    ));
    de.x.create_group("DE/admin/a", "g7", vec![j("FR"), j("JP")])
        .await
        .unwrap();
    assert!(matches!(
        de.x.create_group("DE/admin/a", "g7", vec![j("FR")]).await,
        Err(Error::AlreadyExists(_))
    ));
    let via_group = Distribution {
        to: vec![],
        groups: vec!["g7".into()],
    };
    let v =
        de.x.raise_alert(&analyst(de), draft(), via_group)
            .await
            .unwrap();
    assert_eq!(v.header.recipients, vec![j("FR"), j("JP")]);
    let unknown = Distribution {
        to: vec![],
        groups: vec!["nato".into()],
    };
    assert!(matches!(
        de.x.raise_alert(&analyst(de), draft(), unknown).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        de.x.raise_alert(&analyst(de), draft(), to(&["US"])).await,
        Err(Error::FailedPrecondition(_))
    ));
    assert!(matches!(
        de.x.raise_alert(&analyst(de), draft(), to(&[])).await,
        Err(Error::InvalidArgument(_))
    ));
    de.x.remove_group("DE/admin/a", "g7").await.unwrap();
    assert!(matches!(
        de.x.remove_group("DE/admin/a", "g7").await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn catch_up_serves_only_own_records_naming_the_peer_in_order() {
    let n = federation(&["DE", "FR", "JP"]).await;
    let (de, fr) = (&n[0], &n[1]);
    for k in 0..5 {
        let dist = if k % 2 == 0 { to(&["FR"]) } else { to(&["JP"]) };
        de.x.raise_alert(&analyst(de), draft(), dist).await.unwrap();
    }
    let got: Vec<u64> =
        de.x.catch_up(&fr.j, 0, BATCH)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
    assert_eq!(got, vec![1, 3, 5]);
    let later: Vec<u64> =
        de.x.catch_up(&fr.j, 3, BATCH)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
    assert_eq!(later, vec![5]);
}

#[tokio::test]
async fn concurrent_issues_get_dense_unique_sequence_numbers() {
    let n = federation(&["DE", "FR"]).await;
    let de = Arc::new(n.into_iter().next().unwrap());
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let de = de.clone();
        tasks.push(tokio::spawn(async move {
            de.x.raise_alert(&analyst(&de), draft(), to(&["FR"]))
                .await
                .unwrap()
                .header
                .seq
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=32).collect::<Vec<_>>());
    let queued: Vec<u64> =
        de.x.pending_for(&j("FR"), BATCH)
            .await
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
    assert_eq!(
        queued, seqs,
        "every acknowledged record is queued, in order"
    );
}

#[tokio::test]
async fn a_full_outbox_refuses_new_records_for_that_peer_only() {
    let n = federation(&["DE", "FR", "JP"]).await;
    let (de, fr, jp) = (&n[0], &n[1], &n[2]);
    de.x.set_outbox_limit(3);
    for _ in 0..3 {
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    }
    let err =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap_err();
    assert!(
        matches!(err, Error::ResourceExhausted(ref m) if m.contains("FR")),
        "{err}"
    );
    // Other peers are unaffected, and nothing queued was dropped.
    de.x.raise_alert(&analyst(de), draft(), to(&["JP"]))
        .await
        .unwrap();
    assert_eq!(de.x.queued_for(&fr.j), 3);
    assert_eq!(deliver(de, fr).await, 3);
    assert_eq!(deliver(de, jp).await, 1);
    de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
        .await
        .unwrap();
    assert_eq!(de.x.queued_for(&fr.j), 1);
}

#[tokio::test]
async fn paged_listing_returns_every_current_record_once() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    for _ in 0..7 {
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
        fr.x.raise_alert(&analyst(fr), draft(), to(&["DE"]))
            .await
            .unwrap();
    }
    deliver(fr, de).await;
    let all: Vec<String> =
        de.x.list(RecordKind::Alert, &RecordFilter::default())
            .unwrap()
            .iter()
            .map(|v| v.header.record_id.clone())
            .collect();
    assert_eq!(all.len(), 14);

    let mut paged = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (page, next) =
            de.x.list_page(
                RecordKind::Alert,
                &RecordFilter::default(),
                3,
                cursor.as_ref(),
            )
            .unwrap();
        assert!(page.len() <= 3);
        pages += 1;
        paged.extend(page.into_iter().map(|v| v.header.record_id));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 5, "14 records in pages of 3");
    let mut sorted_all = all.clone();
    sorted_all.sort();
    let mut sorted_paged = paged.clone();
    sorted_paged.sort();
    sorted_paged.dedup();
    assert_eq!(sorted_paged.len(), paged.len(), "no record twice");
    assert_eq!(sorted_paged, sorted_all);

    // Filters apply per page; a foreign token is refused.
    let only_fr = RecordFilter {
        issuer: Some(j("FR")),
        ..RecordFilter::default()
    };
    let (page, next) =
        de.x.list_page(RecordKind::Alert, &only_fr, 100, None)
            .unwrap();
    assert_eq!(page.len(), 7);
    assert!(next.is_none());
    let wrong = PageCursor(vec![b'Z']);
    let err =
        de.x.list_page(RecordKind::Alert, &RecordFilter::default(), 3, Some(&wrong))
            .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

#[tokio::test]
async fn listings_page_by_bytes_in_either_order() {
    let n = federation(&["DE", "FR"]).await;
    let de = &n[0];
    for _ in 0..9 {
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    }
    let all: Vec<String> =
        de.x.list(RecordKind::Alert, &RecordFilter::default())
            .unwrap()
            .into_iter()
            .map(|v| v.header.record_id)
            .collect();
    assert_eq!(all.len(), 9);
    // Every record "costs" 100 bytes: a 250-byte page holds two, however
    // many records a page may hold by count.
    let budget = PageBudget {
        records: 1000,
        bytes: 250,
        cost: &|_| 100,
    };
    let (mut paged, mut cursor, mut pages) = (Vec::new(), None, 0);
    loop {
        let (page, next) =
            de.x.list_page_within(
                RecordKind::Alert,
                &RecordFilter::default(),
                &budget,
                cursor.as_ref(),
            )
            .unwrap();
        assert!(!page.is_empty() && page.len() <= 2, "{}", page.len());
        pages += 1;
        paged.extend(page.into_iter().map(|v| v.header.record_id));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, 5, "9 records, two per page");
    let (mut a, mut b) = (all.clone(), paged);
    a.sort();
    b.sort();
    assert_eq!(a, b, "each record exactly once");
    // A record larger than the whole budget still comes, alone.
    let tiny = PageBudget {
        records: 1000,
        bytes: 10,
        cost: &|_| 100,
    };
    let (page, next) =
        de.x.list_page_within(RecordKind::Alert, &RecordFilter::default(), &tiny, None)
            .unwrap();
    assert_eq!(page.len(), 1);
    assert!(next.is_some());

    // Newest first, resumed after any record, continues in the same order.
    let mut resumed = Vec::new();
    let mut after: Option<NewestCursor> = None;
    loop {
        let one = RecordFilter {
            limit: Some(2),
            ..RecordFilter::default()
        };
        let page =
            de.x.list_newest(RecordKind::Alert, &one, after.as_ref())
                .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(NewestCursor::of(last));
        resumed.extend(page.into_iter().map(|v| v.header.record_id));
    }
    assert_eq!(resumed, all, "newest first, nothing repeated or skipped");
    let foreign = NewestCursor {
        issued_at_unix_ms: 0,
        prefix: vec![b'D'],
    };
    let err =
        de.x.list_newest(RecordKind::Alert, &RecordFilter::default(), Some(&foreign))
            .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

#[tokio::test]
async fn paged_listing_shows_only_the_latest_version_of_a_denial() {
    let n = federation(&["DE", "FR"]).await;
    let de = &n[0];
    let denial = DenialDraft {
        valid_for: None,
        ..denial_draft()
    };
    let mut ids = Vec::new();
    for _ in 0..3 {
        let v =
            de.x.issue_denial(&officer(de), denial.clone(), to(&["FR"]))
                .await
                .unwrap();
        ids.push(v.header.record_id);
    }
    de.x.revoke_denial(&officer(de), &ids[1], "appeal upheld".into())
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) =
            de.x.list_page(
                RecordKind::Denial,
                &RecordFilter::default(),
                1,
                cursor.as_ref(),
            )
            .unwrap();
        seen.extend(
            page.into_iter()
                .map(|v| (v.header.record_id, v.header.version)),
        );
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    seen.sort();
    let mut want = vec![
        (ids[0].clone(), 1),
        (ids[1].clone(), 2),
        (ids[2].clone(), 1),
    ];
    want.sort();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn a_record_edited_in_the_store_after_a_read_is_still_caught() {
    let n = federation(&["DE", "FR"]).await;
    let de = &n[0];
    let v =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    let key = ledger::seq_key(&de.j, v.header.seq);
    let all = RecordFilter::default();
    for _ in 0..2 {
        let listed = de.x.list(RecordKind::Alert, &all).unwrap();
        assert_eq!(listed[0].signature, SignatureCheck::Valid);
    }
    let original = de.x.ledger.envelopes.get(&key).unwrap().unwrap();

    let edit = |f: &dyn Fn(&mut ledger::StoredEnvelope)| {
        let mut stored = original.clone();
        f(&mut stored);
        let mut batch = de.x.store.batch();
        batch.put(&de.x.ledger.envelopes, &key, &stored).unwrap();
        let _staged = de.x.store.stage(batch).unwrap();
    };
    // The body, whose hash is in the signed header.
    edit(&|s| {
        let last = s.envelope.body.len() - 1;
        s.envelope.body[last] ^= 0x01;
    });
    let listed = de.x.list(RecordKind::Alert, &all).unwrap();
    assert!(
        matches!(listed[0].signature, SignatureCheck::Invalid(_)),
        "edited body read as {:?}",
        listed[0].signature
    );
    // The signature itself.
    edit(&|s| s.envelope.signature[0] ^= 0x01);
    let listed = de.x.list(RecordKind::Alert, &all).unwrap();
    assert!(matches!(listed[0].signature, SignatureCheck::Invalid(_)));
    // Put back, it verifies again.
    edit(&|_| {});
    let listed = de.x.list(RecordKind::Alert, &all).unwrap();
    assert_eq!(listed[0].signature, SignatureCheck::Valid);
}

/// A peer holding its own key can sign anything: every id must name it,
/// and header values no honest issuer produces are refused.
#[tokio::test]
async fn a_peer_cannot_squat_ids_or_poison_cursors_with_its_own_key() {
    let n = federation(&["DE", "FR", "JP"]).await;
    let (de, fr, jp) = (&n[0], &n[1], &n[2]);
    // JP (the attacker) signs with its own key, as itself, under DE's ids.
    for (kind, id) in [
        (RecordKind::Alert, "DE-A-10"),
        (RecordKind::Alert, "JP-D-10"),
        (RecordKind::Alert, "JP-A-010"),
    ] {
        let mut h = header("JP", id, 5, &["FR"]);
        h.kind = kind;
        let env = SignedEnvelope::seal(&jp.signer, h, &Record::Alert(alert("JP", id))).unwrap();
        let err = fr.x.receive(&jp.j, &[env]).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{id}: {err}");
        assert!(err.to_string().contains("not an id of issuer JP"), "{err}");
    }
    // Hostile header values, each signed correctly by JP.
    let record = Record::Alert(alert("JP", "JP-A-1"));
    let far_future = {
        let mut h = header("JP", "JP-A-1", 1, &["FR"]);
        h.issued_at_unix_ms = 32_503_680_000_000; // year 3000
        let mut a = alert("JP", "JP-A-1");
        a.issued_at_unix_ms = h.issued_at_unix_ms;
        seal_raw(&jp.signer, h, &Record::Alert(a), b"", b"")
    };
    let cases = [
        (
            "sequence 0",
            seal_raw(
                &jp.signer,
                header("JP", "JP-A-1", 0, &["FR"]),
                &record,
                b"",
                b"",
            ),
        ),
        (
            "sequence u64::MAX",
            seal_raw(
                &jp.signer,
                header("JP", "JP-A-1", u64::MAX, &["FR"]),
                &record,
                b"",
                b"",
            ),
        ),
        ("issued in the year 3000", far_future),
        (
            "trailing header bytes",
            seal_raw(
                &jp.signer,
                header("JP", "JP-A-1", 1, &["FR"]),
                &record,
                b"\0",
                b"",
            ),
        ),
        (
            "trailing body bytes",
            seal_raw(
                &jp.signer,
                header("JP", "JP-A-1", 1, &["FR"]),
                &record,
                b"",
                b"\0",
            ),
        ),
    ];
    for (what, env) in cases {
        let err = fr.x.receive(&jp.j, &[env]).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{what}: {err}");
    }
    assert_eq!(fr.x.held_from(&jp.j), 0);
    assert_eq!(fr.x.cursor(&jp.j).unwrap(), 0);
    // The honest one goes through.
    let ok = seal_raw(
        &jp.signer,
        header("JP", "JP-A-1", 1, &["FR"]),
        &record,
        b"",
        b"",
    );
    fr.x.receive(&jp.j, &[ok]).await.unwrap();
    assert_eq!(fr.x.cursor(&jp.j).unwrap(), 1);
    // DE's real record is not shadowed: the id alone names its issuer.
    let view =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    deliver(de, fr).await;
    let held =
        fr.x.history(RecordKind::Alert, &view.header.record_id)
            .unwrap();
    assert_eq!(held[0].header.issuer, de.j);
}

/// A huge validity must never wrap into a past end date (a denial never in
/// force that retention would delete).
#[tokio::test]
async fn durations_that_overflow_are_refused_not_wrapped() {
    let n = federation(&["DE", "FR"]).await;
    let de = &n[0];
    for secs in [u64::MAX, u64::MAX / 1000, 9_223_372_036_854_775] {
        let mut d = denial_draft();
        d.valid_for = Some(Duration::from_secs(secs));
        let err =
            de.x.issue_denial(&officer(de), d, to(&["FR"]))
                .await
                .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{secs}: {err}");
        let mut a = draft();
        a.expires_in = Some(Duration::from_secs(secs));
        let err =
            de.x.raise_alert(&analyst(de), a, to(&["FR"]))
                .await
                .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{secs}: {err}");
    }
    let view =
        de.x.issue_denial(&officer(de), denial_draft(), to(&["FR"]))
            .await
            .unwrap();
    let change = DenialChange {
        valid_for: Some(Duration::from_secs(u64::MAX)),
        change_reason: "extend".into(),
        ..DenialChange::default()
    };
    let err =
        de.x.amend_denial(&officer(de), &view.header.record_id, change)
            .await
            .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert_eq!(de.x.held_from(&de.j), 1, "nothing refused was stored");
}

/// A backlog of maximum-size records goes out in batches that stay under
/// the byte budget, so no batch can exceed a peer's message limit.
#[tokio::test]
async fn batches_are_bounded_in_bytes_and_oversized_records_are_never_issued() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let big = "x".repeat(super::records::MAX_TEXT);
    let mut raised = 0;
    while raised < 40 {
        let mut a = draft();
        a.summary = big.clone();
        a.indicators = vec![big.clone(); 60];
        match de.x.raise_alert(&analyst(de), a, to(&["FR"])).await {
            Ok(_) => raised += 1,
            Err(e) => panic!("a record within every field limit is issued: {e}"),
        }
    }
    let mut batches = 0;
    loop {
        let pending = de.x.pending_for(&fr.j, BATCH).await.unwrap();
        if pending.is_empty() {
            break;
        }
        let bytes: usize = pending.iter().map(|(_, e)| batch_cost(e)).sum();
        assert!(bytes <= BATCH_BYTES, "batch of {bytes} bytes");
        let envelopes: Vec<_> = pending.iter().map(|(_, e)| e.clone()).collect();
        let receipts = fr.x.receive(&de.j, &envelopes).await.unwrap();
        de.x.acknowledge(&fr.j, &pending, &receipts).await.unwrap();
        batches += 1;
    }
    assert!(batches > 1, "the backlog needed several batches");
    assert_eq!(fr.x.held_from(&de.j), 40);
    let caught: usize =
        de.x.catch_up(&fr.j, 0, BATCH)
            .unwrap()
            .iter()
            .map(|(_, e)| batch_cost(e))
            .sum();
    assert!(caught <= BATCH_BYTES);
    // A record bigger than any receiver accepts is refused at issue.
    let mut a = draft();
    a.summary = big.clone();
    a.indicators = vec![big.clone(); super::records::MAX_LIST];
    let err =
        de.x.raise_alert(&analyst(de), a, to(&["FR"]))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("cannot be issued"), "{err}");
    assert!(de.x.pending_for(&fr.j, BATCH).await.unwrap().is_empty());
}

fn denial_draft() -> DenialDraft {
    DenialDraft {
        party: Party {
            name: "Rosoboron Trading LLC".into(),
            aliases: vec![],
            country: "RU".into(),
            address: String::new(),
        },
        items: vec![DeniedItem {
            code: "3A001".into(),
            description: "FPGAs".into(),
        }],
        destination: "RU".into(),
        end_use: "military radar".into(),
        reason: "risk of military end use".into(),
        valid_for: Some(Duration::from_secs(3600)),
    }
}

/// A peer holding more of this node's records than its store has (an old
/// copy of the store put back) pauses issuing until an admin resumes it past
/// them: nothing is signed under a number a partner already holds.
#[tokio::test]
async fn a_store_behind_its_peers_pauses_issuing_until_an_admin_resumes() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    de.x.peer_holds(&fr.j, 0);
    assert!(de.x.issuing_paused().is_none());
    de.x.peer_holds(&fr.j, 40);
    let paused = de.x.issuing_paused().unwrap();
    assert_eq!(paused.ahead, vec![(fr.j.clone(), 40)]);
    let err =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");
    assert!(err.to_string().contains("FR holds sequence 40"), "{err}");
    assert!(matches!(
        de.x.resume_issuing("DE/admin/a", "").await,
        Err(Error::InvalidArgument(_))
    ));
    let next =
        de.x.resume_issuing("DE/admin/a", "old VM snapshot restored")
            .await
            .unwrap();
    assert!(next >= 40);
    assert!(de.x.issuing_paused().is_none());
    let view =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    assert!(view.header.seq > 40);
    // Resuming what is not paused is refused.
    assert!(matches!(
        de.x.resume_issuing("DE/admin/a", "again").await,
        Err(Error::FailedPrecondition(_))
    ));
}

/// The newest-first listing reads an index kept in the batch of each
/// version: its order is issue time then store order, a new denial version
/// moves its record, a page resumes after its cursor, and a store written
/// before the index existed gets it rebuilt at open with the same result.
#[tokio::test]
async fn newest_first_listing_follows_new_versions_and_is_rebuilt_for_old_stores() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let denial = DenialDraft {
        valid_for: None,
        ..denial_draft()
    };
    let mut ids = Vec::new();
    for _ in 0..4 {
        let v =
            de.x.issue_denial(&officer(de), denial.clone(), to(&["FR"]))
                .await
                .unwrap();
        ids.push(v.header.record_id);
    }
    de.x.revoke_denial(&officer(de), &ids[0], "appeal upheld".into())
        .await
        .unwrap();
    let all = RecordFilter::default();
    let listed = |x: &Exchange| -> Vec<(String, u32)> {
        x.list(RecordKind::Denial, &all)
            .unwrap()
            .into_iter()
            .map(|v| (v.header.record_id, v.header.version))
            .collect()
    };
    // What the order must be, from the views themselves.
    let mut want: Vec<RecordView> = de.x.list(RecordKind::Denial, &all).unwrap();
    want.sort_by(|a, b| {
        b.header
            .issued_at_unix_ms
            .cmp(&a.header.issued_at_unix_ms)
            .then_with(|| PageCursor::of(a).0.cmp(&PageCursor::of(b).0))
    });
    let want: Vec<(String, u32)> = want
        .into_iter()
        .map(|v| (v.header.record_id, v.header.version))
        .collect();
    assert_eq!(listed(&de.x), want);
    assert_eq!(want.len(), 4, "one entry per record, not per version");
    assert!(want.contains(&(ids[0].clone(), 2)), "{want:?}");

    // Paging newest first: two at a time, resuming after each cursor.
    let mut paged = Vec::new();
    let mut after: Option<NewestCursor> = None;
    loop {
        let filter = RecordFilter {
            limit: Some(2),
            ..RecordFilter::default()
        };
        let page =
            de.x.list_newest(RecordKind::Denial, &filter, after.as_ref())
                .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(NewestCursor::of(last));
        paged.extend(
            page.into_iter()
                .map(|v| (v.header.record_id, v.header.version)),
        );
    }
    assert_eq!(paged, want);

    // A receiver given v2 before v1 keeps v2 current.
    let pending = de.x.pending_for(&fr.j, BATCH).await.unwrap();
    let mut envelopes: Vec<_> = pending.iter().map(|(_, e)| e.clone()).collect();
    envelopes.reverse();
    for e in &envelopes {
        fr.x.receive(&de.j, std::slice::from_ref(e)).await.unwrap();
    }
    assert_eq!(listed(&fr.x).len(), 4);
    assert!(listed(&fr.x).contains(&(ids[0].clone(), 2)));

    // A store without the index (written by an earlier build): rebuilt at open.
    let mut batch = de.x.store.batch();
    for (key, _) in de.x.ledger.current.iter().unwrap() {
        batch.delete(&de.x.ledger.current, key);
    }
    for (key, _) in de.x.ledger.newest.iter().unwrap() {
        batch.delete(&de.x.ledger.newest, key);
    }
    batch.delete(&de.x.ledger.counters, b"current_records_built");
    de.x.store.commit_offline(batch).unwrap();
    assert!(listed(&de.x).is_empty(), "the listing reads the index");
    let reopened = Exchange::open(
        de.x.store.clone(),
        de.j.clone(),
        de.signer.clone(),
        de.peers.clone(),
        de.x.audit.clone(),
    )
    .unwrap();
    assert_eq!(listed(&reopened), want);
}

/// What other modules may send elsewhere (task-force answers) passes the
/// same durability gate as the outbox: an own version not yet on disk is
/// not disclosable, received versions are.
#[tokio::test]
async fn only_durable_own_versions_are_disclosable() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let v =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    deliver(de, fr).await;
    let disclosable = |x: &Exchange| -> Vec<String> {
        x.disclosable_current(RecordKind::Alert)
            .map(|h| h.unwrap().header.record_id)
            .collect()
    };
    assert_eq!(disclosable(&de.x), vec![v.header.record_id.clone()]);
    assert!(de
        .x
        .disclosable_envelope(&de.j, v.header.seq)
        .unwrap()
        .is_some());
    // As if the batch were applied but its flush not yet done.
    de.x.durable_seq
        .store(v.header.seq - 1, std::sync::atomic::Ordering::SeqCst);
    assert!(disclosable(&de.x).is_empty());
    assert!(de
        .x
        .disclosable_envelope(&de.j, v.header.seq)
        .unwrap()
        .is_none());
    assert_eq!(
        de.x.list(RecordKind::Alert, &RecordFilter::default())
            .unwrap()
            .len(),
        1,
        "local reads still show it"
    );
    assert_eq!(disclosable(&fr.x), vec![v.header.record_id.clone()]);
}

/// Reads trust the digest recorded when a record was verified; a store
/// edited consistently behind the node's back (envelope and index entry
/// both) is what the full re-verification of `audit verify --records` finds.
#[tokio::test]
async fn full_reverification_finds_what_a_consistent_store_edit_hides() {
    let n = federation(&["DE", "FR"]).await;
    let de = &n[0];
    let v =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    let clean = de.x.reverify_all().unwrap();
    assert_eq!((clean.checked, clean.invalid), (1, 0));

    let key = ledger::seq_key(&de.j, v.header.seq);
    let mut stored = de.x.ledger.envelopes.get(&key).unwrap().unwrap();
    stored.envelope.signature[0] ^= 0x01;
    let index_key = ledger::index_key(RecordKind::Alert, &de.j, &v.header.record_id, 1);
    let mut entry = de.x.ledger.index.get(&index_key).unwrap().unwrap();
    entry.digest = stored.envelope.digest();
    let mut batch = de.x.store.batch();
    batch.put(&de.x.ledger.envelopes, &key, &stored).unwrap();
    batch.put(&de.x.ledger.index, &index_key, &entry).unwrap();
    let prefix = ledger::record_prefix(RecordKind::Alert, &de.j, &v.header.record_id);
    let mut current = de.x.ledger.current.get(&prefix).unwrap().unwrap();
    current.entry.digest = entry.digest;
    batch.put(&de.x.ledger.current, &prefix, &current).unwrap();
    de.x.store.commit_offline(batch).unwrap();

    let found = de.x.reverify_all().unwrap();
    assert_eq!((found.checked, found.invalid), (1, 1));
    assert!(
        found.details[0].starts_with(&format!("{} v1: ", v.header.record_id)),
        "{:?}",
        found.details
    );
}

/// The full re-verification reads the store in batches verified on every
/// core: each batch is reported, every envelope counted once, a forged one
/// found wherever it falls, and a caller that stops listening stops it.
#[tokio::test]
async fn full_reverification_reports_each_batch_and_stops_when_asked() {
    let n = federation(&["DE", "FR"]).await;
    let de = &n[0];
    let v =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    let stored =
        de.x.ledger
            .envelopes
            .get(ledger::seq_key(&de.j, v.header.seq))
            .unwrap()
            .unwrap();
    // Copies of the valid envelope under further keys, one of them forged.
    let copies = 2 * view::REVERIFY_BATCH + 10;
    let mut batch = de.x.store.batch();
    for i in 0..copies {
        let mut copy = stored.clone();
        if i == view::REVERIFY_BATCH + 7 {
            copy.envelope.signature[0] ^= 0x01;
        }
        let key = ledger::seq_key(&de.j, 1_000 + i as u64);
        batch.put(&de.x.ledger.envelopes, &key, &copy).unwrap();
    }
    de.x.store.commit_offline(batch).unwrap();

    let mut reports = Vec::new();
    let found =
        de.x.reverify_all_with(|r| {
            reports.push(r.checked);
            true
        })
        .unwrap();
    let held = copies as u64 + 1;
    assert_eq!((found.checked, found.invalid), (held, 1));
    assert_eq!(de.x.envelope_count().unwrap(), held);
    assert_eq!(reports.len(), 3, "{reports:?}");
    assert_eq!(reports.last(), Some(&held));
    assert!(found.details[0].contains("v1: "), "{:?}", found.details);

    let stopped = de.x.reverify_all_with(|_| false).unwrap();
    assert_eq!(stopped.checked, view::REVERIFY_BATCH as u64);
}

/// Ids of the denials in force to `destination` as the no-undercut gate reads them.
fn denials_to(x: &Exchange, destination: &str) -> Vec<String> {
    x.denials_to(destination, &|_| true)
        .unwrap()
        .into_iter()
        .map(|v| v.header.record_id)
        .collect()
}

#[tokio::test]
async fn denials_are_found_by_destination_through_every_version() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let ru =
        de.x.issue_denial(&officer(de), denial_draft(), to(&["FR"]))
            .await
            .unwrap()
            .header
            .record_id;
    let mut other = denial_draft();
    other.destination = "IR".into();
    let ir =
        de.x.issue_denial(&officer(de), other, to(&["FR"]))
            .await
            .unwrap()
            .header
            .record_id;
    assert_eq!(denials_to(&de.x, "RU"), std::slice::from_ref(&ru));
    assert_eq!(
        denials_to(&de.x, " ru "),
        std::slice::from_ref(&ru),
        "compared as the gate does"
    );
    assert_eq!(
        de.x.denials_to("RU", &|d| d.party.name.contains("nobody"))
            .unwrap()
            .len(),
        0,
        "what the caller's test refuses is not returned"
    );

    // An amendment that moves the destination moves the denial.
    let change = DenialChange {
        destination: Some("BY".into()),
        change_reason: "transshipment route found".into(),
        ..DenialChange::default()
    };
    de.x.amend_denial(&officer(de), &ru, change).await.unwrap();
    assert!(denials_to(&de.x, "RU").is_empty());
    assert_eq!(denials_to(&de.x, "BY"), std::slice::from_ref(&ru));
    // A revoked denial is found nowhere.
    de.x.revoke_denial(&officer(de), &ir, "appeal upheld".into())
        .await
        .unwrap();
    assert!(denials_to(&de.x, "IR").is_empty());

    // The receiver indexes what it is sent, in any batch.
    deliver(de, fr).await;
    assert_eq!(denials_to(&fr.x, "BY"), std::slice::from_ref(&ru));
    assert!(denials_to(&fr.x, "RU").is_empty());

    // A store written before the index existed builds it at open.
    let mut batch = fr.x.store.batch();
    for (key, _) in fr.x.ledger.denial_destinations.iter().unwrap() {
        batch.delete(&fr.x.ledger.denial_destinations, key);
    }
    batch.delete(&fr.x.ledger.counters, b"denial_destinations_built");
    fr.x.store.commit_offline(batch).unwrap();
    assert!(
        denials_to(&fr.x, "BY").is_empty(),
        "the lookup reads the index"
    );
    let reopened = Exchange::open(
        fr.x.store.clone(),
        fr.j.clone(),
        fr.signer.clone(),
        fr.peers.clone(),
        fr.x.audit.clone(),
    )
    .unwrap();
    assert_eq!(denials_to(&reopened, "BY"), [ru]);
    assert!(denials_to(&reopened, "RU").is_empty());
}

/// Ids count per kind, short and contiguous; a receiver remembers each
/// issuer's highest per kind; after a restore a node numbers nothing until
/// every partner has said what it holds, then continues above it.
#[tokio::test]
async fn ids_count_per_kind_and_a_restore_waits_for_what_partners_hold() {
    let n = federation(&["DE", "FR"]).await;
    let (de, fr) = (&n[0], &n[1]);
    let a1 =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    let d1 =
        de.x.issue_denial(&officer(de), denial_draft(), to(&["FR"]))
            .await
            .unwrap();
    let a2 =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    let ids: Vec<&str> = [&a1, &d1, &a2]
        .iter()
        .map(|v| v.header.record_id.as_str())
        .collect();
    assert_eq!(ids, ["DE-A-1", "DE-D-1", "DE-A-2"]);
    // A new version takes no new id.
    let change = AlertChange {
        change_reason: "typo".into(),
        summary: Some("corrected".into()),
        ..AlertChange::default()
    };
    let v2 =
        de.x.amend_alert(&analyst(de), "DE-A-1", change, None)
            .await
            .unwrap();
    assert_eq!(
        (v2.header.record_id.as_str(), v2.header.version),
        ("DE-A-1", 2)
    );
    assert_eq!(deliver(de, fr).await, 4);
    assert_eq!(
        fr.x.held_ids_from(&de.j).unwrap(),
        [(RecordKind::Alert, 2), (RecordKind::Denial, 1)]
    );

    // DE "restored" (the marker a restore writes), with FR holding ids
    // above DE's counters: nothing is numbered until FR reports.
    let mut batch = de.x.store.batch();
    batch
        .put(&de.x.ledger.counters, ledger::IDS_AFTER_RESTORE, &1)
        .unwrap();
    batch
        .put(
            &de.x.ledger.counters,
            ledger::id_counter_key(RecordKind::Alert),
            &1,
        )
        .unwrap();
    de.x.store.commit(batch).await.unwrap();
    let err =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");
    assert!(err.to_string().contains("waiting for FR"), "{err}");
    de.x.peer_holds_ids(&fr.j, &fr.x.held_ids_from(&de.j).unwrap());
    let a3 =
        de.x.raise_alert(&analyst(de), draft(), to(&["FR"]))
            .await
            .unwrap();
    assert_eq!(
        a3.header.record_id, "DE-A-3",
        "above what FR holds, not reused"
    );
    assert!(de.x.awaiting_id_reports().unwrap().is_empty());
    let d2 =
        de.x.issue_denial(&officer(de), denial_draft(), to(&["FR"]))
            .await
            .unwrap();
    assert_eq!(d2.header.record_id, "DE-D-2");
}
