//! Task forces between in-process nodes with real stores and real
//! signatures; peers are reached through an in-process transport that can
//! take a peer down or make it slow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::*;
use crate::crypto::{CertificateAuthority, KeyedHash, Validity};
use crate::exchange::records::{AlertCategory, DeniedItem, Party, Severity, Subjects};
use crate::exchange::{AlertDraft, DenialDraft, Distribution, RecordKind, SignatureCheck, BATCH};
use crate::identity::{Caller, Role};
use crate::trust_bundle::TrustBundle;

#[derive(Clone, Copy)]
enum Fault {
    Down,
    Slow(Duration),
}

/// Peers in the same process: calls go straight to the other node's
/// `TaskForces`, unless a fault is set for that peer.
#[derive(Default)]
struct LocalPeers {
    nodes: Mutex<HashMap<Jurisdiction, Weak<TaskForces>>>,
    faults: Mutex<HashMap<Jurisdiction, Fault>>,
    /// Every question a peer received, as it received it.
    seen: Mutex<Vec<(Jurisdiction, Query)>>,
}

impl LocalPeers {
    fn target(&self, peer: &Jurisdiction) -> Result<Arc<TaskForces>, PeerFailure> {
        let fault = self.faults.lock().unwrap().get(peer).copied();
        if let Some(Fault::Down) = fault {
            return Err(PeerFailure::Unreachable("connection refused".into()));
        }
        self.nodes
            .lock()
            .unwrap()
            .get(peer)
            .and_then(Weak::upgrade)
            .ok_or_else(|| PeerFailure::Unreachable("no such node".into()))
    }

    fn delay(&self, peer: &Jurisdiction) -> Duration {
        match self.faults.lock().unwrap().get(peer) {
            Some(Fault::Slow(d)) => *d,
            _ => Duration::ZERO,
        }
    }
}

struct Transport(Arc<LocalPeers>);

impl PeerTransport for Transport {
    fn query(
        &self,
        peer: Jurisdiction,
        query: PeerQuery,
        _deadline: Duration,
    ) -> BoxFuture<Result<SignedAnswer, PeerFailure>> {
        let peers = self.0.clone();
        Box::pin(async move {
            tokio::time::sleep(peers.delay(&peer)).await;
            let target = peers.target(&peer)?;
            peers
                .seen
                .lock()
                .unwrap()
                .push((peer.clone(), query.query.clone()));
            let node = query.asker.jurisdiction.clone();
            target
                .answer_peer(&node, &query.asker, &query.taskforce, query.query)
                .await
                .map_err(PeerFailure::Refused)
        })
    }

    fn request_details(
        &self,
        peer: Jurisdiction,
        reference: String,
        asker: Caller,
        justification: String,
        _deadline: Duration,
    ) -> BoxFuture<Result<DetailRequest, PeerFailure>> {
        let peers = self.0.clone();
        Box::pin(async move {
            let target = peers.target(&peer)?;
            target
                .open_detail_request(&asker, &reference, &justification)
                .await
                .map_err(PeerFailure::Refused)
        })
    }

    fn get_details(
        &self,
        peer: Jurisdiction,
        id: String,
        asker: Caller,
        _deadline: Duration,
    ) -> BoxFuture<Result<PeerDetails, PeerFailure>> {
        let peers = self.0.clone();
        Box::pin(async move {
            let target = peers.target(&peer)?;
            target
                .release_details(&asker, &id)
                .await
                .map_err(PeerFailure::Refused)
        })
    }
}

struct TestNode {
    j: Jurisdiction,
    x: Arc<Exchange>,
    tf: Arc<TaskForces>,
    signer: Arc<RecordSigner>,
    peers: Arc<PeerDirectory>,
    audit: Arc<AuditLog>,
    _dir: tempfile::TempDir,
}

fn j(s: &str) -> Jurisdiction {
    s.parse().unwrap()
}

fn limits() -> Limits {
    Limits {
        peer_deadline: Duration::from_millis(300),
        ..Limits::default()
    }
}

fn node(code: &str, net: &Arc<LocalPeers>, limits: Limits) -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), code).unwrap());
    let peers = Arc::new(PeerDirectory::open(store.clone(), j(code)).unwrap());
    let x = Arc::new(
        Exchange::open(
            store.clone(),
            j(code),
            signer.clone(),
            peers.clone(),
            audit.clone(),
        )
        .unwrap(),
    );
    let tf = Arc::new(
        TaskForces::open(
            store,
            j(code),
            x.clone(),
            peers.clone(),
            audit.clone(),
            signer.clone(),
            Arc::new(Transport(net.clone())),
            limits,
        )
        .unwrap(),
    );
    net.nodes
        .lock()
        .unwrap()
        .insert(j(code), Arc::downgrade(&tf));
    TestNode {
        j: j(code),
        x,
        tf,
        signer,
        peers,
        audit,
        _dir: dir,
    }
}

async fn federation(codes: &[&str]) -> (Arc<LocalPeers>, Vec<TestNode>) {
    federation_with(codes, limits()).await
}

async fn federation_with(codes: &[&str], limits: Limits) -> (Arc<LocalPeers>, Vec<TestNode>) {
    let net = Arc::new(LocalPeers::default());
    let nodes: Vec<_> = codes.iter().map(|c| node(c, &net, limits)).collect();
    for a in &nodes {
        for b in nodes.iter().filter(|b| b.j != a.j) {
            let (ca, _) = CertificateAuthority::generate(&b.j, Validity::days(1)).unwrap();
            let bundle = TrustBundle {
                jurisdiction: b.j.clone(),
                endpoint: "127.0.0.1:1".into(),
                ca_cert_pem: ca.cert_pem().into(),
                signing_public_key: b.signer.public_key().to_vec(),
                retired_signing_keys: Vec::new(),
            };
            a.peers.add("test", bundle).await.unwrap();
        }
    }
    (net, nodes)
}

fn who(n: &TestNode, role: Role, name: &str) -> Caller {
    Caller::new(n.j.clone(), role, name).unwrap()
}

fn member(n: &TestNode) -> Caller {
    who(n, Role::Taskforce, "tina")
}

async fn register(n: &TestNode, name: &str, members: &[&str], level: Level, key: Option<&[u8]>) {
    n.tf.create(
        "admin",
        TaskForceDraft {
            name: name.into(),
            mandate: "Procurement network for controlled FPGAs".into(),
            members: members.iter().map(|m| j(m)).collect(),
            ends_at_unix_ms: now_unix_ms() + 3_600_000,
            level,
            blind_key: key.map(<[u8]>::to_vec),
        },
    )
    .await
    .unwrap();
}

fn now_unix_ms() -> i64 {
    crate::clock::now_unix_ms()
}

fn to(codes: &[&str]) -> Distribution {
    Distribution {
        to: codes.iter().map(|c| j(c)).collect(),
        groups: vec![],
    }
}

async fn deny(n: &TestNode, party: &str, recipients: &[&str]) -> String {
    let officer = who(n, Role::Officer, "oli");
    let draft = DenialDraft {
        party: Party {
            name: party.into(),
            aliases: vec![],
            country: "AE".into(),
            address: String::new(),
        },
        items: vec![DeniedItem {
            code: "3A001".into(),
            description: "FPGAs".into(),
        }],
        destination: "IR".into(),
        end_use: String::new(),
        reason: "CONFIDENTIAL diversion finding".into(),
        valid_for: None,
    };
    let view =
        n.x.issue_denial(&officer, draft, to(recipients))
            .await
            .unwrap();
    view.header.record_id
}

async fn alert(n: &TestNode, party: &str, recipients: &[&str]) -> String {
    let analyst = who(n, Role::Analyst, "ana");
    let draft = AlertDraft {
        category: AlertCategory::SuspiciousShipment,
        severity: Severity::High,
        subjects: Subjects {
            parties: vec![Party {
                name: party.into(),
                ..Party::default()
            }],
            ..Subjects::default()
        },
        indicators: vec![],
        summary: "CONFIDENTIAL shipment pattern".into(),
        expires_in: None,
        handling: String::new(),
    };
    let view =
        n.x.raise_alert(&analyst, draft, to(recipients))
            .await
            .unwrap();
    view.header.record_id
}

/// Pushes everything queued at `from` for `to_node`, as the federation link would.
async fn deliver(from: &TestNode, to_node: &TestNode) {
    let pending = from.x.pending_for(&to_node.j, BATCH).await.unwrap();
    if pending.is_empty() {
        return;
    }
    let envelopes: Vec<_> = pending.iter().map(|(_, e)| e.clone()).collect();
    let receipts = to_node.x.receive(&from.j, &envelopes).await.unwrap();
    from.x
        .acknowledge(&to_node.j, &pending, &receipts)
        .await
        .unwrap();
}

fn section<'a>(o: &'a QueryOutcome, code: &str) -> &'a Section {
    o.sections
        .iter()
        .find(|s| s.jurisdiction.as_str() == code)
        .unwrap_or_else(|| panic!("no section for {code}"))
}

fn answered(s: &Section) -> &Answered {
    match &s.outcome {
        SectionOutcome::Answered(a) => {
            assert_eq!(a.signature, SignatureCheck::Valid, "{}", s.jurisdiction);
            a
        }
        other => panic!("{} did not answer: {other:?}", s.jurisdiction),
    }
}

fn body(s: &Section) -> &AnswerBody {
    answered(s).body.as_ref().unwrap()
}

fn party(name: &str) -> Query {
    Query::Party { name: name.into() }
}

fn audit_text(n: &TestNode) -> String {
    n.audit
        .entries(1, u64::MAX - 1)
        .unwrap()
        .iter()
        .map(|e| format!("{} {} {} {}\n", e.actor, e.action, e.record, e.rationale))
        .collect()
}

#[tokio::test]
async fn each_node_answers_at_its_level_and_only_within_distribution() {
    let (_net, n) = federation(&["DE", "FR", "JP", "IT"]).await;
    let (de, fr, jp, it) = (&n[0], &n[1], &n[2], &n[3]);
    let all = ["DE", "FR", "JP", "IT"];
    register(de, "ops", &all, Level::Hit, None).await;
    register(fr, "ops", &all, Level::Full, None).await;
    register(jp, "ops", &all, Level::Summary, None).await;
    register(it, "ops", &all, Level::Hit, None).await;

    let fr_to_de = deny(fr, "Acme Trading FZE", &["DE"]).await;
    let fr_to_jp = deny(fr, "Acme Trading FZE", &["JP"]).await;
    let jp_to_de = alert(jp, "ACME Trading", &["DE", "FR"]).await;
    let _it_to_fr = deny(it, "Acme Trading FZE", &["FR"]).await;
    deliver(fr, de).await;
    deliver(jp, de).await;
    deliver(jp, fr).await;

    let out = de
        .tf
        .query(&member(de), "ops", party("Acme Trading FZE"), false)
        .await
        .unwrap();
    assert_eq!(out.sections.len(), 4);
    assert_eq!(out.sections[0].jurisdiction, j("DE"), "own section first");

    // DE (hit): it holds FR's and JP's records naming DE.
    let b = body(section(&out, "DE"));
    assert_eq!((b.level, b.hit, b.entries.len()), (Level::Hit, true, 0));
    assert!(b.reference.as_deref().unwrap().starts_with("DE-R-"));

    // FR (full): exactly its record naming DE, as FR signed it; never the one
    // to JP only, and never JP's alert FR merely received.
    let s = section(&out, "FR");
    let b = body(s);
    assert_eq!(b.level, Level::Full);
    assert_eq!(b.entries.len(), 1, "{:?}", b.entries);
    let record = answered(s).records[0].clone().unwrap().unwrap();
    assert_eq!(record.header.record_id, fr_to_de);
    assert_ne!(record.header.record_id, fr_to_jp);
    assert_eq!(record.signature, SignatureCheck::Valid);

    // JP (summary): kind, issuer, date, category, score; no record.
    let b = body(section(&out, "JP"));
    assert_eq!(b.level, Level::Summary);
    assert_eq!(b.entries.len(), 1);
    let e = &b.entries[0];
    assert_eq!((e.kind, e.issuer.as_str()), (RecordKind::Alert, "JP"));
    assert_eq!(e.category, "suspicious-shipment");
    assert!(e.score >= matching::MATCH_THRESHOLD && e.envelope.is_none());
    let _ = jp_to_de;

    // IT (hit) holds only a record for FR: nothing for DE, not even a hit.
    let b = body(section(&out, "IT"));
    assert_eq!(
        (b.hit, b.reference.clone(), b.entries.len()),
        (false, None, 0)
    );

    // Both ends audited: record ids, never contents.
    let de_audit = audit_text(de);
    assert!(
        de_audit.contains("DE/taskforce/tina taskforce.query ops party \"Acme Trading FZE\""),
        "{de_audit}"
    );
    assert!(de_audit.contains(&fr_to_de), "{de_audit}");
    let fr_audit = audit_text(fr);
    assert!(
        fr_audit.contains("DE/taskforce/tina taskforce.answer ops via node DE"),
        "{fr_audit}"
    );
    let answer = fr_audit
        .lines()
        .find(|l| l.contains("taskforce.answer"))
        .unwrap();
    assert!(
        answer.contains(&fr_to_de) && !answer.contains(&fr_to_jp),
        "{answer}"
    );
    for text in [&de_audit, &fr_audit, &audit_text(jp), &audit_text(it)] {
        for line in text.lines().filter(|l| l.contains("taskforce.")) {
            assert!(!line.contains("CONFIDENTIAL"), "contents audited: {line}");
        }
    }
}

#[tokio::test]
async fn refusals_non_members_closed_expired_and_unregistered() {
    let (_net, n) = federation(&["DE", "FR", "JP"]).await;
    let (de, fr, jp) = (&n[0], &n[1], &n[2]);
    register(de, "duo", &["FR"], Level::Full, None).await;
    // FR registered the task force without DE.
    register(fr, "duo", &["JP"], Level::Full, None).await;
    let out = de
        .tf
        .query(&member(de), "duo", party("Acme"), false)
        .await
        .unwrap();
    match &section(&out, "FR").outcome {
        SectionOutcome::Refused(why) => assert!(why.contains("not a member"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(audit_text(fr).contains("taskforce.answer.refused duo via node DE"));

    // A task force the home node does not know.
    let err = jp
        .tf
        .query(&member(jp), "duo", party("Acme"), false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    // Closed.
    de.tf
        .close("admin", "duo", "mandate fulfilled")
        .await
        .unwrap();
    let err = de
        .tf
        .query(&member(de), "duo", party("Acme"), false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");
    assert!(audit_text(de).contains("taskforce.query.refused duo"));
    // Expired: the end date is checked at each question.
    register(jp, "brief", &["DE"], Level::Hit, None).await;
    let mut tf = jp.tf.get("brief").unwrap();
    tf.ends_at_unix_ms = now_unix_ms() - 1;
    let mut batch = jp.tf.store.batch();
    batch.put(&jp.tf.trees.taskforces, "brief", &tf).unwrap();
    jp.tf.store.commit(batch).await.unwrap();
    let err = jp
        .tf
        .query(&member(jp), "brief", party("Acme"), false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ended"), "{err}");
    // A node may relay only its own jurisdiction's members.
    let err = fr
        .tf
        .answer_peer(&j("DE"), &member(jp), "duo", party("Acme"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err}");
}

#[tokio::test]
async fn a_dead_or_slow_peer_never_holds_up_the_others() {
    let (net, n) = federation(&["DE", "FR", "JP", "IT"]).await;
    let all = ["DE", "FR", "JP", "IT"];
    for node in &n {
        register(node, "ops", &all, Level::Summary, None).await;
    }
    deny(&n[1], "Acme Trading", &["DE"]).await;
    net.faults.lock().unwrap().insert(j("JP"), Fault::Down);
    net.faults
        .lock()
        .unwrap()
        .insert(j("IT"), Fault::Slow(Duration::from_secs(3600)));
    let out = n[0]
        .tf
        .query(&member(&n[0]), "ops", party("Acme Trading"), false)
        .await
        .unwrap();
    assert!(body(section(&out, "FR")).hit);
    assert!(matches!(
        section(&out, "JP").outcome,
        SectionOutcome::Unreachable(_)
    ));
    assert!(
        matches!(section(&out, "IT").outcome, SectionOutcome::TimedOut(d) if d == limits().peer_deadline)
    );
    let audit = audit_text(&n[0]);
    assert!(
        audit.contains("JP unreachable") && audit.contains("IT timed out"),
        "{audit}"
    );
}

#[tokio::test]
async fn fan_out_is_capped() {
    let tight = Limits {
        max_fanout: 1,
        ..limits()
    };
    let (_net, n) = federation_with(&["DE", "FR", "JP"], tight).await;
    register(&n[0], "ops", &["FR", "JP"], Level::Hit, None).await;
    let err = n[0]
        .tf
        .query(&member(&n[0]), "ops", party("Acme"), false)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err}");
}

#[tokio::test]
async fn blind_questions_carry_no_cleartext_and_need_the_same_key() {
    let (net, n) = federation(&["DE", "FR", "JP"]).await;
    let key = [42u8; 32];
    register(&n[0], "ops", &["FR", "JP"], Level::Full, Some(&key)).await;
    register(&n[1], "ops", &["DE", "JP"], Level::Full, Some(&key)).await;
    register(&n[2], "ops", &["DE", "FR"], Level::Full, Some(&[7u8; 32])).await;
    let id = deny(&n[1], "Petr Ivanov", &["DE"]).await;
    let out = n[0]
        .tf
        .query(&member(&n[0]), "ops", party("IVANOV Petr"), true)
        .await
        .unwrap();
    assert!(out.blind && !out.query.contains("Ivanov"), "{}", out.query);
    // FR matched by hash, and answered hit-only despite its full level.
    let b = body(section(&out, "FR"));
    assert_eq!((b.level, b.hit, b.entries.len()), (Level::Hit, true, 0));
    // JP holds another key: refused, naming both key ids.
    match &section(&out, "JP").outcome {
        SectionOutcome::Refused(why) => assert!(why.contains("blind keys differ"), "{why}"),
        other => panic!("{other:?}"),
    }
    // What the peers received: hashes only.
    for (_, q) in net.seen.lock().unwrap().iter() {
        let Query::BlindParty { hashes, .. } = q else {
            panic!("cleartext question sent: {q:?}")
        };
        let expected = matching::blind_hash(&KeyedHash::new(&key).unwrap(), "Petr Ivanov").unwrap();
        assert_eq!(hashes, &vec![expected]);
    }
    let fr_audit = audit_text(&n[1]);
    assert!(
        fr_audit.contains("blind party") && fr_audit.contains(&id),
        "{fr_audit}"
    );
    assert!(!fr_audit.to_lowercase().contains("ivanov"), "{fr_audit}");
    // The home node's own trail keeps what its member asked.
    let de_audit = audit_text(&n[0]);
    assert!(
        de_audit.contains("party \"IVANOV Petr\", sent blind as blind party"),
        "{de_audit}"
    );
    // Without a key there is no blind question.
    register(&n[0], "plain", &["FR"], Level::Full, None).await;
    let err = n[0]
        .tf
        .query(&member(&n[0]), "plain", party("Petr Ivanov"), true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err}");
}

#[tokio::test]
async fn details_are_released_once_approved_at_the_approved_level() {
    let (_net, n) = federation(&["DE", "FR", "JP"]).await;
    let (de, fr, jp) = (&n[0], &n[1], &n[2]);
    for node in &n {
        register(node, "ops", &["DE", "FR", "JP"], Level::Hit, None).await;
    }
    let id = deny(fr, "Acme Trading", &["DE", "JP"]).await;
    let out = de
        .tf
        .query(&member(de), "ops", party("Acme Trading"), false)
        .await
        .unwrap();
    let reference = body(section(&out, "FR")).reference.clone().unwrap();

    // JP's member cannot use DE's reference, at DE or at FR.
    let err = jp
        .tf
        .request_details(&member(jp), &reference, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let err = fr
        .tf
        .open_detail_request(&member(jp), &reference, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");

    let request = de
        .tf
        .request_details(
            &member(de),
            &reference,
            "Same consignee in our case 2024-17",
        )
        .await
        .unwrap();
    assert!(request.id.starts_with("FR-DR-"));
    let pending = de.tf.fetch_details(&member(de), &request.id).await.unwrap();
    assert_eq!(pending.request.state, DetailState::Pending);
    assert!(pending.section.is_none());
    assert_eq!(fr.tf.detail_requests(false).unwrap().len(), 1);

    let analyst = who(fr, Role::Analyst, "ana");
    fr.tf
        .decide_details(
            &analyst,
            &request.id,
            Decision::Approve {
                level: Level::Full,
                note: "for case 2024-17".into(),
            },
        )
        .await
        .unwrap();
    let err = fr
        .tf
        .decide_details(
            &analyst,
            &request.id,
            Decision::Decline {
                reason: "no".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::FailedPrecondition(_)),
        "decided once: {err}"
    );
    assert!(fr.tf.detail_requests(false).unwrap().is_empty());

    let released = de.tf.fetch_details(&member(de), &request.id).await.unwrap();
    let s = released.section.unwrap();
    let b = body(&s);
    assert_eq!(b.level, Level::Full);
    assert_eq!(b.entries[0].reference, reference);
    let record = answered(&s).records[0].clone().unwrap().unwrap();
    assert_eq!(record.header.record_id, id);
    // Another jurisdiction cannot fetch it.
    let err = fr
        .tf
        .release_details(&member(jp), &request.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");

    let fr_audit = audit_text(fr);
    for action in [
        "taskforce.details.request",
        "taskforce.details.approve",
        "taskforce.details.release",
    ] {
        assert!(fr_audit.contains(action), "{action} missing: {fr_audit}");
    }
    let de_audit = audit_text(de);
    assert!(
        de_audit.contains("taskforce.details.request")
            && de_audit.contains("taskforce.details.receive")
    );
}

#[test]
fn the_config_section_has_defaults_and_is_checked() {
    let base = r#"
        jurisdiction = "DE"
        listen = "127.0.0.1:7401"
        data_dir = "data"
        [tls]
        ca_cert = "ca.crt"
        cert = "node.crt"
        key = "node.key"
        [signing]
        key = "signing.pk8"
    "#;
    let load = |extra: &str| {
        let file: crate::config::ConfigFile = toml::from_str(&format!("{base}{extra}")).unwrap();
        crate::config::NodeConfig::check(
            file,
            std::path::Path::new("/n/node.toml"),
            std::path::Path::new("/n"),
        )
    };
    assert_eq!(load("").unwrap().taskforce, Limits::default());
    let c = load("[taskforce]\npeer_deadline_ms = 500\nmax_fanout = 3\n").unwrap();
    assert_eq!(c.taskforce.peer_deadline, Duration::from_millis(500));
    assert_eq!(c.taskforce.max_fanout, 3);
    let err =
        load("[taskforce]\npeer_deadline_ms = 0\nquery_burst_per_identity = 0\n").unwrap_err();
    assert_eq!(err.problems.len(), 2, "{err}");
}

/// What a question found, comparable across the index and the scan.
fn found(matches: &[matching::Match]) -> Vec<(String, String, u32, u32)> {
    matches
        .iter()
        .map(|m| {
            (
                m.header.issuer.to_string(),
                m.header.record_id.clone(),
                m.header.version,
                m.score.to_bits(),
            )
        })
        .collect()
}

/// The index's answer to `query` from `asker`, checked against the scan's.
async fn indexed(
    n: &TestNode,
    names: &names::HeldNames,
    asker: &str,
    query: &Query,
) -> Vec<(String, String, u32, u32)> {
    let view = names.view().await;
    assert!(view.is_some(), "the index is built");
    let by_index = matching::find(&n.x, view.as_ref(), &n.j, &j(asker), query, None).unwrap();
    let by_scan = matching::find_by_scan(&n.x, &n.j, &j(asker), query, None).unwrap();
    assert_eq!(
        found(&by_index),
        found(&by_scan),
        "{query:?} asked by {asker}"
    );
    found(&by_index)
}

async fn deny_with(
    n: &TestNode,
    party: Party,
    dest: &str,
    item: &str,
    recipients: &[&str],
) -> String {
    let officer = who(n, Role::Officer, "oli");
    let draft = DenialDraft {
        party,
        items: vec![DeniedItem {
            code: item.into(),
            description: String::new(),
        }],
        destination: dest.into(),
        end_use: String::new(),
        reason: "diversion".into(),
        valid_for: None,
    };
    n.x.issue_denial(&officer, draft, to(recipients))
        .await
        .unwrap()
        .header
        .record_id
}

async fn alert_about(
    n: &TestNode,
    parties: &[&str],
    items: &[&str],
    shipments: &[&str],
    recipients: &[&str],
) {
    let analyst = who(n, Role::Analyst, "ana");
    let draft = AlertDraft {
        category: AlertCategory::SuspiciousShipment,
        severity: Severity::High,
        subjects: Subjects {
            parties: parties
                .iter()
                .map(|p| Party {
                    name: (*p).into(),
                    ..Party::default()
                })
                .collect(),
            destinations: vec!["SY".into()],
            items: items.iter().map(|s| s.to_string()).collect(),
            shipments: shipments.iter().map(|s| s.to_string()).collect(),
        },
        indicators: vec![],
        summary: "pattern".into(),
        expires_in: None,
        handling: String::new(),
    };
    n.x.raise_alert(&analyst, draft, to(recipients))
        .await
        .unwrap();
}

fn named(name: &str, aliases: &[&str]) -> Party {
    Party {
        name: name.into(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        country: "AE".into(),
        address: String::new(),
    }
}

/// The questions the equivalence test asks.
fn questions() -> Vec<Query> {
    let party = |n: &str| Query::Party { name: n.into() };
    let denials = |p: Option<&str>, dest: Option<&str>, item: Option<&str>| Query::Denials {
        party: p.map(Into::into),
        destination: dest.map(Into::into),
        item: item.map(Into::into),
    };
    let alerts = |s: &str| Query::Alerts { subject: s.into() };
    vec![
        party("Orion Microsystems"),
        party("ORION MICRO SYSTEMS LLC"),
        party("Orin Microsystem"),
        party("Petr Ivanov"),
        party("Ivanov, Petr"),
        party("Kestrel Avionics"),
        party("Zeta Dynamics"),
        party("Unknown Party Nobody Listed"),
        party("Trading"),
        denials(Some("Orion Microsystems"), None, None),
        denials(Some("Orion Microsystems"), Some("IR"), Some("3a001")),
        denials(Some("Orion Microsystems"), Some("SY"), None),
        denials(None, Some("IR"), None),
        alerts("Kestrel Avionics"),
        alerts("bl-4410"),
        alerts("5A002"),
        alerts("sy"),
        alerts("Orion Microsystems"),
    ]
}

/// A mixed set of held records, own and received, disclosable to some
/// askers only: the index answers every question as the scan does, for
/// records held when it was built and for records stored since.
#[tokio::test]
async fn the_name_index_answers_as_the_scan_does() {
    let (_net, nodes) = federation(&["FR", "DE", "JP"]).await;
    let (fr, de) = (&nodes[0], &nodes[1]);
    deny_with(
        fr,
        named("Orion Microsystems FZE", &["Orion Micro Systems"]),
        "IR",
        "3A001",
        &["DE", "JP"],
    )
    .await;
    deny_with(
        fr,
        named("Orion Microsystems GmbH", &[]),
        "SY",
        "ML4",
        &["JP"],
    )
    .await;
    deny_with(
        fr,
        named("Ivanov Petr", &["P. Ivanov"]),
        "IR",
        "1C350",
        &["DE"],
    )
    .await;
    alert_about(
        fr,
        &["Kestrel Avionics Ltd", "Orion Microsystems"],
        &["5A002"],
        &["BL-4410"],
        &["DE"],
    )
    .await;
    alert_about(fr, &["Zeta Dynamics Trading"], &["3A001"], &[], &["JP"]).await;
    // Received from DE: DE's own to FR.
    deny_with(de, named("Orion Microsystem", &[]), "IR", "3A001", &["FR"]).await;
    alert_about(de, &["Kestrel Avionics"], &[], &["BL-4410"], &["FR"]).await;
    deliver(de, fr).await;

    // A tail of two records: segments are built and merged as records arrive.
    let names = names::HeldNames::with_small_tail(fr.x.clone(), 2);
    for q in questions() {
        for asker in ["DE", "JP", "FR"] {
            indexed(fr, &names, asker, &q).await;
        }
    }
    // Stored after the index was built: in its tail.
    let before = indexed(
        fr,
        &names,
        "DE",
        &Query::Party {
            name: "Nimbus Optics".into(),
        },
    )
    .await;
    assert!(before.is_empty());
    deny_with(fr, named("Nimbus Optics SARL", &[]), "IR", "6A003", &["DE"]).await;
    alert_about(de, &["Orion Microsystems"], &["9A004"], &["BL-9"], &["FR"]).await;
    deliver(de, fr).await;
    let after = indexed(
        fr,
        &names,
        "DE",
        &Query::Party {
            name: "Nimbus Optics".into(),
        },
    )
    .await;
    assert_eq!(after.len(), 1, "{after:?}");
    for q in questions() {
        for asker in ["DE", "JP"] {
            indexed(fr, &names, asker, &q).await;
        }
    }
    for n in 0..6 {
        deny_with(
            fr,
            named(&format!("Orion Microsystems {n}"), &[]),
            "IR",
            "3A001",
            &["DE"],
        )
        .await;
        tokio::time::sleep(names::TICK * 2).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while names.shape().1 >= 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(names::TICK).await;
    }
    let (segments, tail) = names.shape();
    assert!(segments.len() >= 2 && tail < 2, "{segments:?} + {tail}");
    for q in questions() {
        for asker in ["DE", "JP"] {
            indexed(fr, &names, asker, &q).await;
        }
    }
    // The task forces' own index answers too (started when they opened).
    let view = fr.tf.names.view().await;
    let q = Query::Party {
        name: "Nimbus Optics".into(),
    };
    let got = matching::find(&fr.x, view.as_ref(), &fr.j, &j("DE"), &q, None).unwrap();
    assert_eq!(found(&got), after);
}

/// An amended, then revoked denial: a question finds its current version
/// only, whether the index holds the older versions or not; a denial not
/// shared with the asker is never returned.
#[tokio::test]
async fn the_name_index_returns_current_versions_within_need_to_know() {
    let (_net, nodes) = federation(&["FR", "DE", "JP"]).await;
    let fr = &nodes[0];
    let id = deny_with(
        fr,
        named("Orion Microsystems FZE", &[]),
        "IR",
        "3A001",
        &["DE"],
    )
    .await;
    deny_with(
        fr,
        named("Orion Microsystems LLC", &[]),
        "IR",
        "3A001",
        &["JP"],
    )
    .await;
    let names = names::HeldNames::new(fr.x.clone());
    let q = Query::Party {
        name: "Orion Microsystems".into(),
    };
    let versions = |got: &[(String, String, u32, u32)]| -> Vec<(String, u32)> {
        got.iter().map(|(_, id, v, _)| (id.clone(), *v)).collect()
    };
    assert_eq!(
        versions(&indexed(fr, &names, "DE", &q).await),
        [(id.clone(), 1)]
    );

    let officer = who(fr, Role::Officer, "oli");
    let change = crate::exchange::DenialChange {
        party: None,
        items: None,
        destination: None,
        end_use: Some("centrifuge controllers".into()),
        reason: None,
        valid_for: None,
        change_reason: "end use established".into(),
    };
    fr.x.amend_denial(&officer, &id, change).await.unwrap();
    assert_eq!(
        versions(&indexed(fr, &names, "DE", &q).await),
        [(id.clone(), 2)]
    );
    fr.x.revoke_denial(&officer, &id, "licence granted on appeal".into())
        .await
        .unwrap();
    assert_eq!(
        versions(&indexed(fr, &names, "DE", &q).await),
        [(id.clone(), 3)]
    );
    // An index built after the amendments holds the current version only.
    let rebuilt = names::HeldNames::new(fr.x.clone());
    assert_eq!(
        versions(&indexed(fr, &rebuilt, "DE", &q).await),
        [(id.clone(), 3)]
    );

    // Need-to-know: JP sees its own denial only, DE never sees JP's.
    let jp = indexed(fr, &names, "JP", &q).await;
    assert_eq!(jp.len(), 1);
    assert_ne!(jp[0].1, id);
    let de = indexed(fr, &names, "DE", &q).await;
    assert!(de.iter().all(|(_, rid, _, _)| *rid == id), "{de:?}");
}
