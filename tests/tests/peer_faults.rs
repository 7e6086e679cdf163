//! Whole nodes under injected peer faults: DE and FR run in this process
//! (`in_process`), each with `Faulty` around its real gRPC peer client,
//! over mutual TLS with `concord pki init` certificates and sled stores on
//! disk. A partition or dropped call stops only what the node sends to a
//! peer; what the test sees of the nodes comes through their own gRPC
//! services, as a user would see it.
//!
//! Waits are bounded polls on what the nodes report (`eventually`); nothing
//! asserts how long anything took.

use std::collections::BTreeSet;

use anyhow::{bail, ensure, Context, Result};
use concord_proto::v1 as pb;
use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::task_force_service_client::TaskForceServiceClient;
use concord_tests::in_process::{jurisdiction, InProcessFederation};
use concord_tests::*;
use tonic::transport::Channel;
use tonic::Code;

type Exchange = ExchangeServiceClient<Channel>;

/// Faster than the harness's defaults: a failed push stream is reopened
/// after 100, 200, then 400 ms. The node's `clock` seam stamps times but
/// does not drive waits, and paused tokio time would fire the real
/// sockets' timeouts, so the waits are shortened in node.toml instead.
const FAST: &[(&str, u64)] = &[("heartbeat_ms", 100), ("max_backoff_ms", 400)];

fn alert(to: &str, party: &str, summary: &str) -> pb::RaiseAlertRequest {
    pb::RaiseAlertRequest {
        category: "diversion-suspected".into(),
        severity: "high".into(),
        subjects: Some(pb::Subjects {
            parties: vec![pb::Party {
                name: party.into(),
                country: "AE".into(),
                ..Default::default()
            }],
            destinations: vec!["IR".into()],
            items: vec!["3A001".into()],
            shipments: vec![],
        }),
        summary: summary.into(),
        handling: "RESTRICTED".into(),
        distribution: Some(pb::Distribution {
            to: vec![to.into()],
            groups: vec![],
        }),
        ..Default::default()
    }
}

async fn raise(client: &Exchange, to: &str, summary: &str) -> pb::RecordView {
    client
        .clone()
        .raise_alert(alert(to, "Acme Trading FZE", summary))
        .await
        .unwrap()
        .into_inner()
}

/// The alert `id` as `client`'s node holds it; `None` while it holds none.
async fn held(client: &Exchange, id: &str) -> Result<Option<pb::RecordView>> {
    let request = pb::GetRecordRequest { id: id.into() };
    match client.clone().get_alert(request).await {
        Ok(history) => Ok(history.into_inner().versions.into_iter().next()),
        Err(s) if s.code() == Code::NotFound => Ok(None),
        Err(s) => Err(s.into()),
    }
}

async fn wait_held(client: &Exchange, id: &str, node: &str) -> pb::RecordView {
    eventually(&format!("{node} to hold {id}"), || async move {
        held(client, id).await?.context("not held yet")
    })
    .await
    .unwrap()
}

/// Every alert `client`'s node holds from `issuer`.
async fn alerts_from(client: &Exchange, issuer: &str) -> Vec<pb::RecordView> {
    let request = pb::ListRecordsRequest {
        issuer: issuer.into(),
        limit: 0,
        ..Default::default()
    };
    client
        .clone()
        .list_alerts(request)
        .await
        .unwrap()
        .into_inner()
        .records
}

/// What `node`'s status says about its peer `peer`.
async fn peer_status(node: &NodeDir, peer: &str) -> Result<pb::Peer> {
    let status = status_of(&node.admin_profile()).await?;
    peer_in(&status, peer)
        .cloned()
        .with_context(|| format!("{peer} not in {}'s status", node.code))
}

fn link(p: &pb::Peer) -> pb::LinkState {
    p.link.clone().unwrap_or_default()
}

/// Waits until the issuer's own view of `id` shows it delivered to `to`
/// with a receipt that verifies; returns that delivery.
async fn wait_delivered(issuer: &Exchange, id: &str, to: &str) -> pb::Delivery {
    eventually(&format!("a receipt for {id} from {to}"), || async move {
        let view = held(issuer, id).await?.context("the issuer lost it")?;
        let d = view
            .deliveries
            .iter()
            .find(|d| d.recipient == to)
            .with_context(|| format!("no delivery to {to}"))?;
        ensure!(d.state == "delivered", "{to}: {}", d.state);
        ensure!(d.receipt_valid, "{to}: the receipt does not verify");
        Ok(d.clone())
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_to_a_partitioned_peer_is_acknowledged_kept_pending_and_delivered_after_healing() {
    let fed = InProcessFederation::start(&["DE", "FR"], FAST)
        .await
        .unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();
    let faults = &fed.node("DE").faults;
    let to_fr = jurisdiction("FR");

    faults.partition(&to_fr);
    let raised = raise(&de_ana, "FR", "Consignee resells to a listed end user").await;
    // Acknowledged: signed, stored at DE, queued for FR.
    assert!(raised.signature_valid, "{}", raised.signature_error);
    assert_eq!(raised.recipients, vec!["FR"]);
    let at_de = held(&de_ana, &raised.id)
        .await
        .unwrap()
        .expect("DE holds it");
    assert_eq!(at_de.digest_hex, raised.digest_hex);
    assert_eq!(
        at_de
            .deliveries
            .iter()
            .map(|d| (d.recipient.as_str(), d.state.as_str()))
            .collect::<Vec<_>>(),
        vec![("FR", "pending")]
    );

    // DE's pusher tried FR, went through the wrapper, and was cut off.
    let pending = eventually("DE to report the push to FR failing", || async move {
        let p = peer_status(de, "FR").await?;
        let why = link(&p).delivery_error;
        ensure!(
            why.starts_with("push:") && why.contains("partitioned"),
            "delivery error {why:?}"
        );
        Ok(p)
    })
    .await
    .unwrap();
    assert!(faults.failed(&to_fr) >= 1);
    assert_eq!(pending.outbox_pending, 1, "queued for FR: {pending:?}");
    assert_eq!(metric(de, "concord_outbox_pending"), 1);
    assert!(
        held(&fr_ana, &raised.id).await.unwrap().is_none(),
        "nothing crossed the partition"
    );
    assert_eq!(peer_status(fr, "DE").await.unwrap().received_cursor, 0);

    faults.heal(&to_fr);
    let at_fr = wait_held(&fr_ana, &raised.id, "FR").await;
    assert!(
        at_fr.signature_valid,
        "FR re-verifies DE's signature: {}",
        at_fr.signature_error
    );
    assert_eq!(at_fr.issuer, "DE");
    assert_eq!(
        at_fr.digest_hex, raised.digest_hex,
        "FR holds the bytes DE signed"
    );
    let delivery = wait_delivered(&de_ana, &raised.id, "FR").await;
    assert!(!delivery.duplicate);
    eventually("DE's outbox for FR to empty", || async move {
        let p = peer_status(de, "FR").await?;
        ensure!(p.outbox_pending == 0, "{} pending", p.outbox_pending);
        ensure!(link(&p).delivery_error.is_empty(), "{:?}", link(&p));
        Ok(())
    })
    .await
    .unwrap();
    fed.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_calls_are_retried_with_backoff_and_each_record_arrives_once() {
    let fed = InProcessFederation::start(&["DE", "FR"], FAST)
        .await
        .unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();
    let faults = &fed.node("DE").faults;
    let to_fr = jurisdiction("FR");

    const DROPS: u32 = 3;
    faults.drop_next(&to_fr, DROPS);
    // The first record wakes the pusher at once, ahead of the next
    // heartbeat, so the drops do not all fall on heartbeats.
    let mut ids = BTreeSet::new();
    for n in 0..5 {
        ids.insert(raise(&de_ana, "FR", &format!("record {n}")).await.id);
    }
    for id in &ids {
        let at_fr = wait_held(&fr_ana, id, "FR").await;
        assert!(at_fr.signature_valid, "{id}: {}", at_fr.signature_error);
    }
    // A delivered record means a call went through after the drops: all
    // were spent, each on one call, none lost in addition.
    // Which calls the drops fell on (push batches or heartbeats) is up to
    // timing, so the push-failure metric is not asserted here; the
    // partition test shows the pusher's own retry.
    assert_eq!(faults.failed(&to_fr), u64::from(DROPS));

    let from_de = alerts_from(&fr_ana, "DE").await;
    let listed: Vec<&str> = from_de.iter().map(|r| r.id.as_str()).collect();
    let distinct: BTreeSet<&str> = listed.iter().copied().collect();
    assert_eq!(listed.len(), ids.len(), "FR holds each once: {listed:?}");
    assert_eq!(distinct, ids.iter().map(String::as_str).collect());
    for id in &ids {
        let d = wait_delivered(&de_ana, id, "FR").await;
        assert!(!d.duplicate, "{id} reached FR more than once");
    }
    fed.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_node_shows_the_peer_down_then_catches_up_through_its_client() {
    let fed = InProcessFederation::start(&["DE", "FR"], FAST)
        .await
        .unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();
    let (de_faults, fr_faults) = (&fed.node("DE").faults, &fed.node("FR").faults);
    let (to_de, to_fr) = (jurisdiction("DE"), jurisdiction("FR"));

    // Both directions cut: FR cannot push to DE, DE cannot ask FR.
    fr_faults.partition(&to_de);
    de_faults.partition(&to_fr);
    let down = eventually("DE to report its link to FR down", || async move {
        let l = link(&peer_status(de, "FR").await?);
        if l.connected {
            bail!("still connected");
        }
        Ok(l)
    })
    .await
    .unwrap();
    assert!(down.last_error.contains("partitioned"), "{down:?}");

    let raised = raise(&fr_ana, "DE", "Raised at FR while cut off").await;
    eventually("FR to report the push to DE failing", || async move {
        let why = link(&peer_status(fr, "DE").await?).delivery_error;
        ensure!(why.contains("partitioned"), "delivery error {why:?}");
        Ok(())
    })
    .await
    .unwrap();
    assert!(held(&de_ana, &raised.id).await.unwrap().is_none());

    // Only DE's calls heal: the record can come only by DE's catch-up.
    de_faults.heal(&to_fr);
    let at_de = wait_held(&de_ana, &raised.id, "DE").await;
    assert!(at_de.signature_valid, "{}", at_de.signature_error);
    assert_eq!(at_de.digest_hex, raised.digest_hex);
    let at_fr = peer_status(fr, "DE").await.unwrap();
    assert_eq!(
        at_fr.outbox_pending, 1,
        "FR's push is still cut off, so DE pulled it: {at_fr:?}"
    );

    // FR's push then finds DE holding it: still one copy there.
    fr_faults.heal(&to_de);
    eventually("FR's outbox for DE to empty", || async move {
        let p = peer_status(fr, "DE").await?;
        ensure!(p.outbox_pending == 0, "{} pending", p.outbox_pending);
        Ok(())
    })
    .await
    .unwrap();
    let from_fr = alerts_from(&de_ana, "FR").await;
    assert_eq!(
        from_fr.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec![raised.id.as_str()]
    );
    fed.stop().await.unwrap();
}

/// Registers task force `ops` (DE and FR) on `dir`'s node, as its admin.
async fn create_task_force(dir: &NodeDir, level: &str) {
    let channel = Credentials::from_profile(&dir.admin_profile())
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let month = 30 * 24 * 3600 * 1000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    TaskForceServiceClient::new(channel)
        .create_task_force(pb::CreateTaskForceRequest {
            name: "ops".into(),
            mandate: "Procurement network for controlled FPGAs".into(),
            members: vec!["DE".into(), "FR".into()],
            ends_at_unix_ms: now + month,
            level: level.into(),
            blind_key: vec![],
        })
        .await
        .unwrap();
}

async fn ask(
    member: &mut TaskForceServiceClient<Channel>,
    party: &str,
) -> Vec<pb::TaskForceAnswer> {
    let query = pb::TaskForceQuery {
        kind: Some(pb::task_force_query::Kind::Party(pb::TaskForcePartyQuery {
            name: party.into(),
        })),
    };
    member
        .query(pb::TaskForceQueryRequest {
            taskforce: "ops".into(),
            query: Some(query),
            blind: false,
        })
        .await
        .unwrap()
        .into_inner()
        .sections
}

fn section<'a>(sections: &'a [pb::TaskForceAnswer], code: &str) -> &'a pb::TaskForceAnswer {
    sections
        .iter()
        .find(|s| s.jurisdiction == code)
        .unwrap_or_else(|| panic!("no section for {code}: {sections:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_force_question_reports_a_partitioned_peer_unreachable_then_gets_its_section() {
    let fed = InProcessFederation::start(&["DE", "FR"], FAST)
        .await
        .unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    create_task_force(de, "hit").await;
    create_task_force(fr, "hit").await;
    // Something FR holds that DE may learn of, so FR's section is a hit.
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();
    raise(&fr_ana, "DE", "Same consignee seen at FR").await;
    let channel = Credentials::from_profile(&de.issue("taskforce", "tina"))
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let mut tina = TaskForceServiceClient::new(channel);
    let faults = &fed.node("DE").faults;
    let to_fr = jurisdiction("FR");

    faults.partition(&to_fr);
    let cut = ask(&mut tina, "Acme Trading FZE").await;
    assert_eq!(section(&cut, "DE").outcome, "answered", "{cut:#?}");
    let s = section(&cut, "FR");
    assert_eq!(s.outcome, "unreachable", "{s:#?}");
    assert!(s.reason.contains("partitioned"), "{s:#?}");
    assert!(!s.hit && s.signed.is_none(), "{s:#?}");

    faults.heal(&to_fr);
    let healed = ask(&mut tina, "Acme Trading FZE").await;
    let s = section(&healed, "FR");
    assert_eq!(s.outcome, "answered", "{s:#?}");
    assert!(s.signature_valid, "{}", s.signature_error);
    assert!(s.hit, "FR's section finds what FR holds: {s:#?}");
    fed.stop().await.unwrap();
}
