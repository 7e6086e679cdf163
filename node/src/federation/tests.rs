//! The federation tasks reach peers only through the `PeerClient` they are
//! given: in-process nodes with real stores, connected by `Local` (a
//! `PeerClient` that hands each call to the other node's exchange and audit
//! log), with `Faulty` in between. Whole nodes with `Faulty` around
//! `GrpcPeerClient`, over mutual TLS, are `tests/tests/peer_faults.rs`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::{CallError, CallFuture, EnvelopeBatches, HelloReply, PeerClient, PushSession};
use super::faults::Faulty;
use super::links::{Delivery, LinkTiming};
use crate::audit::{AuditLog, Checkpoint};
use crate::crypto::{CertificateAuthority, RecordSigner, Validity};
use crate::exchange::records::{AlertCategory, Severity, Subjects};
use crate::exchange::{AlertDraft, Distribution, Exchange, SignedEnvelope, SignedReceipt, BATCH};
use crate::identity::{Caller, Jurisdiction, Role};
use crate::peers::PeerDirectory;
use crate::store::Store;
use crate::taskforce::{
    BoxFuture, DetailRequest, PeerDetails, PeerFailure, PeerQuery, PeerTransport, Query,
    SignedAnswer,
};
use crate::trust_bundle::TrustBundle;

fn j(s: &str) -> Jurisdiction {
    s.parse().unwrap()
}

struct TestNode {
    j: Jurisdiction,
    x: Arc<Exchange>,
    audit: Arc<AuditLog>,
    signer: Arc<RecordSigner>,
    peers: Arc<PeerDirectory>,
    _dir: tempfile::TempDir,
}

fn node(code: &str) -> Arc<TestNode> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), code).unwrap());
    let peers = Arc::new(
        PeerDirectory::open(store.clone(), j(code))
            .unwrap()
            .audited(audit.clone()),
    );
    let x = Arc::new(
        Exchange::open(store, j(code), signer.clone(), peers.clone(), audit.clone()).unwrap(),
    );
    Arc::new(TestNode {
        j: j(code),
        x,
        audit,
        signer,
        peers,
        _dir: dir,
    })
}

/// Two nodes that registered each other.
async fn pair() -> (Arc<TestNode>, Arc<TestNode>) {
    let (de, fr) = (node("DE"), node("FR"));
    for (a, b) in [(&de, &fr), (&fr, &de)] {
        let (ca, _) = CertificateAuthority::generate(&b.j, Validity::days(1)).unwrap();
        let bundle = TrustBundle {
            jurisdiction: b.j.clone(),
            endpoint: "127.0.0.1:1".into(),
            ca_cert_pem: ca.cert_pem().into(),
            signing_public_key: b.signer.public_key().to_vec(),
            retired_signing_keys: Vec::new(),
        };
        a.peers
            .add(&format!("{}/admin/test", a.j), bundle)
            .await
            .unwrap();
    }
    (de, fr)
}

fn draft(summary: &str) -> AlertDraft {
    AlertDraft {
        category: AlertCategory::DiversionSuspected,
        severity: Severity::High,
        subjects: Subjects {
            destinations: vec!["IR".into()],
            items: vec!["3A001".into()],
            ..Subjects::default()
        },
        indicators: vec!["end user changed after approval".into()],
        summary: summary.into(),
        expires_in: None,
        handling: "RESTRICTED".into(),
    }
}

async fn raise(from: &TestNode, to: &TestNode, summary: &str) {
    let analyst = Caller::new(from.j.clone(), Role::Analyst, "ana").unwrap();
    let dist = Distribution {
        to: vec![to.j.clone()],
        groups: vec![],
    };
    from.x
        .raise_alert(&analyst, draft(summary), dist)
        .await
        .unwrap();
}

fn timing() -> LinkTiming {
    LinkTiming {
        heartbeat: Duration::from_millis(10),
        timeout: Duration::from_secs(1),
        max_backoff: Duration::from_millis(40),
    }
}

/// Polls `check` until it holds; fails after a patience far beyond what a
/// healthy run needs, so the test asserts what happens, never how fast.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// Calls `me` makes, answered in process by the nodes it names.
struct Local {
    me: Arc<TestNode>,
    nodes: BTreeMap<Jurisdiction, Arc<TestNode>>,
    /// Envelopes handed to each peer's `receive` by push sessions.
    pushed: Arc<AtomicUsize>,
    /// Task-force questions that reached a peer.
    asked: Arc<Mutex<Vec<Jurisdiction>>>,
}

impl Local {
    fn new(me: &Arc<TestNode>, others: &[&Arc<TestNode>]) -> Self {
        Local {
            me: me.clone(),
            nodes: others.iter().map(|n| (n.j.clone(), (*n).clone())).collect(),
            pushed: Arc::default(),
            asked: Arc::default(),
        }
    }

    fn target(&self, peer: &Jurisdiction) -> Result<Arc<TestNode>, CallError> {
        self.nodes
            .get(peer)
            .cloned()
            .ok_or_else(|| CallError::NoLink(peer.clone()))
    }
}

fn local_error(e: crate::error::Error) -> CallError {
    CallError::failed("Internal", e.to_string())
}

struct LocalPush {
    from: Jurisdiction,
    to: Arc<TestNode>,
    pushed: Arc<AtomicUsize>,
}

impl PushSession for LocalPush {
    fn send(
        &mut self,
        batch: Vec<SignedEnvelope>,
    ) -> CallFuture<'_, Result<Vec<SignedReceipt>, CallError>> {
        Box::pin(async move {
            self.pushed.fetch_add(batch.len(), Ordering::SeqCst);
            self.to
                .x
                .receive(&self.from, &batch)
                .await
                .map_err(local_error)
        })
    }
}

impl PeerClient for Local {
    fn hello(
        &self,
        peer: Jurisdiction,
        me: Jurisdiction,
        _sent_at_unix_ms: i64,
    ) -> CallFuture<'static, Result<HelloReply, CallError>> {
        let target = self.target(&peer);
        Box::pin(async move {
            let target = target?;
            Ok(HelloReply {
                jurisdiction: target.j.to_string(),
                held_from_you: target.x.cursor(&me).map_err(local_error)?,
                held_ids_from_you: target.x.held_ids_from(&me).map_err(local_error)?,
            })
        })
    }

    fn open_push(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Box<dyn PushSession>, CallError>> {
        let (target, from, pushed) = (self.target(&peer), self.me.j.clone(), self.pushed.clone());
        Box::pin(async move {
            Ok(Box::new(LocalPush {
                from,
                to: target?,
                pushed,
            }) as Box<dyn PushSession>)
        })
    }

    fn catch_up(
        &self,
        peer: Jurisdiction,
        after_seq: u64,
    ) -> CallFuture<'static, Result<EnvelopeBatches, CallError>> {
        let (target, me) = (self.target(&peer), self.me.j.clone());
        Box::pin(async move {
            let target = target?;
            let mut batches = Vec::new();
            let mut after = after_seq;
            loop {
                let batch = target.x.catch_up(&me, after, BATCH).map_err(local_error)?;
                let Some((last, _)) = batch.last() else { break };
                after = *last;
                batches.push(Ok(batch.into_iter().map(|(_, e)| e).collect()));
            }
            Ok(Box::pin(tokio_stream::iter(batches)) as EnvelopeBatches)
        })
    }

    fn announce_trust(
        &self,
        peer: Jurisdiction,
        _bundle: Arc<TrustBundle>,
    ) -> CallFuture<'static, Result<bool, CallError>> {
        let target = self.target(&peer);
        Box::pin(async move { target.map(|_| false) })
    }

    fn witness(
        &self,
        peer: Jurisdiction,
        checkpoint: Vec<u8>,
    ) -> CallFuture<'static, Result<(), CallError>> {
        let (target, me) = (self.target(&peer), self.me.j.clone());
        Box::pin(async move {
            let target = target?;
            let c = Checkpoint::from_bytes(&checkpoint)
                .map_err(|e| CallError::failed("InvalidArgument", e))?;
            let registered = target.peers.current().get(&me).cloned().unwrap();
            target
                .audit
                .witness(me.as_str(), &registered.bundle.keyring(), c)
                .await
                .map_err(local_error)
        })
    }

    fn get_witnessed(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Vec<Vec<u8>>, CallError>> {
        let (target, me) = (self.target(&peer), self.me.j.clone());
        Box::pin(async move {
            let held = target?
                .audit
                .witnessed_for(me.as_str())
                .map_err(local_error)?;
            Ok(held.iter().map(|c| c.to_bytes().unwrap()).collect())
        })
    }
}

impl PeerTransport for Local {
    fn query(
        &self,
        peer: Jurisdiction,
        _query: PeerQuery,
        _deadline: Duration,
    ) -> BoxFuture<Result<SignedAnswer, PeerFailure>> {
        self.asked.lock().unwrap().push(peer.clone());
        Box::pin(async move {
            Ok(SignedAnswer {
                body: peer.as_str().as_bytes().to_vec(),
                signature: Vec::new(),
                key_id: String::new(),
            })
        })
    }

    fn request_details(
        &self,
        _peer: Jurisdiction,
        _reference: String,
        _asker: Caller,
        _justification: String,
        _deadline: Duration,
    ) -> BoxFuture<Result<DetailRequest, PeerFailure>> {
        Box::pin(async { Err(PeerFailure::Unreachable("not in this test".into())) })
    }

    fn get_details(
        &self,
        _peer: Jurisdiction,
        _id: String,
        _asker: Caller,
        _deadline: Duration,
    ) -> BoxFuture<Result<PeerDetails, PeerFailure>> {
        Box::pin(async { Err(PeerFailure::Unreachable("not in this test".into())) })
    }
}

/// What the pusher reported, in order: `true` for `Flowing`.
type Reports = Arc<Mutex<Vec<bool>>>;

fn start_pusher(
    from: &TestNode,
    to: &TestNode,
    client: Arc<dyn PeerClient>,
) -> (tokio::task::JoinHandle<()>, Reports) {
    let reports: Reports = Arc::default();
    let seen = reports.clone();
    let report = Arc::new(move |d: Delivery| {
        seen.lock().unwrap().push(matches!(d, Delivery::Flowing));
    });
    let task = tokio::spawn(super::push::run_pusher(
        from.x.clone(),
        to.j.clone(),
        client,
        timing(),
        report,
    ));
    (task, reports)
}

#[tokio::test]
async fn a_partitioned_peer_keeps_its_record_queued_and_gets_it_once_after_healing() {
    let (de, fr) = pair().await;
    let local = Local::new(&de, &[&fr]);
    let pushed = local.pushed.clone();
    let faulty = Faulty::new(Arc::new(local));
    faulty.partition(&fr.j);
    let (pusher, reports) = start_pusher(&de, &fr, Arc::new(faulty.clone()));

    raise(&de, &fr, "first").await;
    // The pusher tried, went through the injected client, and was cut off.
    eventually("the pusher tried the partitioned peer twice", || {
        faulty.failed(&fr.j) >= 2
    })
    .await;
    assert_eq!(pushed.load(Ordering::SeqCst), 0);
    assert_eq!(
        fr.x.cursor(&de.j).unwrap(),
        0,
        "nothing crossed the partition"
    );
    assert_eq!(de.x.pending_for(&fr.j, BATCH).await.unwrap().len(), 1);
    assert!(reports.lock().unwrap().iter().all(|flowing| !flowing));

    faulty.heal(&fr.j);
    eventually("the record arrives after healing", || {
        fr.x.cursor(&de.j).unwrap() == 1
    })
    .await;
    eventually("the receipt is recorded", || de.x.queued_for(&fr.j) == 0).await;
    assert!(de.x.pending_for(&fr.j, BATCH).await.unwrap().is_empty());
    assert_eq!(pushed.load(Ordering::SeqCst), 1, "pushed exactly once");
    assert!(
        reports.lock().unwrap().contains(&true),
        "reported as flowing"
    );

    // The first record is not sent again with the next one.
    raise(&de, &fr, "second").await;
    eventually("the second record arrives", || {
        fr.x.cursor(&de.j).unwrap() == 2
    })
    .await;
    assert_eq!(pushed.load(Ordering::SeqCst), 2);
    pusher.abort();
}

#[tokio::test]
async fn a_dropped_push_is_retried_until_delivered() {
    let (de, fr) = pair().await;
    let local = Local::new(&de, &[&fr]);
    let pushed = local.pushed.clone();
    let faulty = Faulty::new(Arc::new(local));
    // Opening the stream and the first batches on later streams fail.
    faulty.drop_next(&fr.j, 3);
    let (pusher, _) = start_pusher(&de, &fr, Arc::new(faulty.clone()));
    raise(&de, &fr, "dropped, then retried").await;
    eventually("the record arrives despite the drops", || {
        fr.x.cursor(&de.j).unwrap() == 1
    })
    .await;
    assert_eq!(faulty.failed(&fr.j), 3, "each dropped call was one attempt");
    assert_eq!(pushed.load(Ordering::SeqCst), 1);
    pusher.abort();
}

#[tokio::test]
async fn catch_up_goes_through_the_injected_client() {
    let (de, fr) = pair().await;
    raise(&fr, &de, "held at FR for DE").await;
    raise(&fr, &de, "another").await;
    let faulty = Faulty::new(Arc::new(Local::new(&de, &[&fr])));

    faulty.partition(&fr.j);
    let err = super::push::catch_up(&de.x, &fr.j, &faulty)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("partitioned"), "{err}");
    assert_eq!(de.x.cursor(&fr.j).unwrap(), 0);

    faulty.heal(&fr.j);
    let got = super::push::catch_up(&de.x, &fr.j, &faulty).await.unwrap();
    assert_eq!(got, 2);
    assert_eq!(de.x.cursor(&fr.j).unwrap(), 2);
    // Caught up: nothing more after the cursor.
    let again = super::push::catch_up(&de.x, &fr.j, &faulty).await.unwrap();
    assert_eq!(again, 0);
}

#[tokio::test]
async fn checkpoints_reach_the_witness_through_drops_and_are_checked_there() {
    let (de, fr) = pair().await;
    let faulty = Faulty::new(Arc::new(Local::new(&de, &[&fr])));
    let client: Arc<dyn PeerClient> = Arc::new(faulty.clone());

    // Before anything is witnessed, a partitioned witness is unreachable.
    faulty.partition(&fr.j);
    let reports = super::check_witnesses(&*client, &de.audit, [fr.j.clone()]).await;
    assert!(!reports[0].ok && reports[0].detail.starts_with("unreachable"));
    faulty.heal(&fr.j);

    raise(&de, &fr, "something audited").await;
    de.audit.checkpoint().await.unwrap();
    let failed_before = faulty.failed(&fr.j);
    faulty.drop_next(&fr.j, 2);
    let sender = tokio::spawn(super::witness::send_checkpoints(
        de.audit.latest_checkpoint(),
        fr.j.clone(),
        client.clone(),
        timing(),
    ));
    eventually("FR holds DE's checkpoint", || {
        fr.audit.witnessed_for("DE").unwrap().len() == 1
    })
    .await;
    assert_eq!(
        faulty.failed(&fr.j) - failed_before,
        2,
        "both drops retried"
    );
    sender.abort();

    let reports = super::check_witnesses(&*client, &de.audit, [fr.j.clone()]).await;
    assert_eq!(reports.len(), 1);
    assert!(reports[0].ok, "{reports:?}");
    assert_eq!(reports[0].checkpoints, 1);

    // A peer with no link is reported as such.
    let reports = super::check_witnesses(&*client, &de.audit, [j("JP")]).await;
    assert_eq!(reports[0].detail, "no link to this peer");
}

#[tokio::test]
async fn task_force_fan_out_reports_a_partitioned_peer_and_a_slow_one() {
    let (de, fr) = pair().await;
    let jp = node("JP");
    let it = node("IT");
    let local = Local::new(&de, &[&fr, &jp, &it]);
    let asked = local.asked.clone();
    let faulty = Faulty::new(Arc::new(local));
    faulty.partition(&jp.j);
    // Far beyond the deadline: the peer is cut off, not waited for.
    faulty.delay(&it.j, Duration::from_secs(3600));
    let client: Arc<dyn PeerClient> = Arc::new(faulty);
    // What `server` hands task forces: the task-force half of the same client.
    let transport: Arc<dyn PeerTransport> = client;
    let query = PeerQuery {
        taskforce: "tf".into(),
        asker: Caller::new(de.j.clone(), Role::Taskforce, "m").unwrap(),
        query: Query::Party { name: "x".into() },
    };
    let peers = [fr.j.clone(), jp.j.clone(), it.j.clone()];
    let out =
        crate::taskforce::fanout::fan_out(&transport, &peers, &query, Duration::from_millis(200))
            .await;
    assert!(
        matches!(&out[0].1, Ok(a) if a.body == b"FR"),
        "{:?}",
        out[0].1
    );
    assert!(
        matches!(&out[1].1, Err(PeerFailure::Unreachable(why)) if why.contains("partitioned")),
        "{:?}",
        out[1].1
    );
    assert!(
        matches!(&out[2].1, Err(PeerFailure::TimedOut(_))),
        "{:?}",
        out[2].1
    );
    assert_eq!(
        *asked.lock().unwrap(),
        vec![fr.j.clone()],
        "only FR was asked"
    );
}

#[tokio::test]
async fn the_grpc_client_without_a_link_says_so() {
    let client = super::GrpcPeerClient::new(super::LinkChannels::default());
    let err = client.hello(j("FR"), j("DE"), 0).await.unwrap_err();
    assert_eq!(err, CallError::NoLink(j("FR")));
    assert_eq!(err.code(), "Unavailable");
    let query = PeerQuery {
        taskforce: "tf".into(),
        asker: Caller::new(j("DE"), Role::Taskforce, "m").unwrap(),
        query: Query::Party { name: "x".into() },
    };
    match client.query(j("FR"), query, Duration::from_secs(1)).await {
        Err(PeerFailure::Unreachable(why)) => assert!(why.contains("no link to FR"), "{why}"),
        other => panic!("{other:?}"),
    }
}
