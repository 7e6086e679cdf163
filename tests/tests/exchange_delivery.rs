//! Delivery of signed alerts and denial notices between real node processes:
//! need-to-know, denial histories, outages, a SIGKILLed issuer, sharing groups.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use anyhow::{ensure, Context};
use concord_node::exchange::{Exchange, RecordFilter, RecordKind};
use concord_node::peers::PeerDirectory;
use concord_node::store::Store;
use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::record_view::Record;
use concord_proto::v1::{
    AmendDenialRequest, CreateGroupRequest, DeniedItem, Distribution, GetRecordRequest,
    IssueDenialRequest, ListRecordsRequest, Party, RaiseAlertRequest, RecordView,
    RevokeDenialRequest, Subjects,
};
use concord_tests::*;
use tonic::transport::Channel;
use tonic::Code;

type Client = ExchangeServiceClient<Channel>;

fn alert(to: &[&str], groups: &[&str], summary: &str) -> RaiseAlertRequest {
    RaiseAlertRequest {
        category: "diversion-suspected".into(),
        severity: "high".into(),
        subjects: Some(Subjects {
            parties: vec![Party {
                name: "Acme Trading FZE".into(),
                country: "AE".into(),
                ..Default::default()
            }],
            destinations: vec!["IR".into()],
            items: vec!["3A001".into()],
            shipments: vec![],
        }),
        indicators: vec!["transshipment via third country".into()],
        summary: summary.into(),
        expires_in_seconds: 0,
        handling: "RESTRICTED".into(),
        distribution: Some(Distribution {
            to: to.iter().map(|s| s.to_string()).collect(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }),
    }
}

fn summary_of(v: &RecordView) -> &str {
    match &v.record {
        Some(Record::Alert(a)) => &a.summary,
        _ => "",
    }
}

/// Every alert `client`'s node holds from `issuer` (all of them: limit 0).
async fn alerts_from(client: &Client, issuer: &str) -> anyhow::Result<Vec<RecordView>> {
    let request = ListRecordsRequest {
        issuer: issuer.into(),
        limit: 0,
        ..Default::default()
    };
    Ok(client
        .clone()
        .list_alerts(request)
        .await?
        .into_inner()
        .records)
}

/// Waits until `client`'s node holds alert `id`; returns it as listed there.
async fn wait_for_alert(client: &Client, id: &str, node: &str) -> RecordView {
    eventually(&format!("{node} to hold {id}"), || {
        let (client, id) = (client.clone(), id.to_owned());
        async move {
            let all = client
                .clone()
                .list_alerts(ListRecordsRequest::default())
                .await?
                .into_inner()
                .records;
            all.into_iter().find(|r| r.id == id).context("not held yet")
        }
    })
    .await
    .unwrap()
}

/// Waits until every delivery of every version of an own record reads
/// `delivered` with a receipt that verifies; returns the versions.
async fn wait_delivered(
    client: &Client,
    id: &str,
    kind: RecordKind,
    recipients: &[&str],
) -> Vec<RecordView> {
    eventually(&format!("receipts for {id} from {recipients:?}"), || {
        let (mut client, id) = (client.clone(), id.to_owned());
        async move {
            let request = GetRecordRequest { id };
            let versions = match kind {
                RecordKind::Alert => client.get_alert(request).await?,
                RecordKind::Denial => client.get_denial(request).await?,
                other => anyhow::bail!("no versions to wait for on a {}", other.as_str()),
            }
            .into_inner()
            .versions;
            for v in &versions {
                let got: Vec<&str> = v.deliveries.iter().map(|d| d.recipient.as_str()).collect();
                ensure!(
                    got == recipients,
                    "version {} deliveries name {got:?}",
                    v.version
                );
                for d in &v.deliveries {
                    ensure!(
                        d.state == "delivered",
                        "version {} to {}: {}",
                        v.version,
                        d.recipient,
                        d.state
                    );
                    ensure!(
                        d.receipt_valid,
                        "version {} to {}: receipt does not verify",
                        v.version,
                        d.recipient
                    );
                    ensure!(d.at_unix_ms > 0);
                }
            }
            Ok(versions)
        }
    })
    .await
    .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn an_alert_reaches_only_the_jurisdictions_it_names() {
    let mut fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (
        fed.dir("DE").clone(),
        fed.dir("FR").clone(),
        fed.dir("JP").clone(),
    );
    let mut de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();
    let mut jp_ana = exchange_client(&jp.issue("analyst", "ana")).await.unwrap();

    let raised = de_ana
        .raise_alert(alert(
            &["FR"],
            &[],
            "Consignee resells to a listed end user",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(raised.issuer, "DE");
    assert_eq!(raised.recipients, vec!["FR"]);
    assert!(raised.signature_valid, "{}", raised.signature_error);
    let id = raised.id.clone();

    let held = wait_for_alert(&fr_ana, &id, "FR").await;
    assert!(
        held.signature_valid,
        "FR re-verifies DE's signature: {}",
        held.signature_error
    );
    assert_eq!(held.issuer, "DE");
    assert_eq!(held.recipients, vec!["FR"]);
    assert_eq!(held.seq, raised.seq);
    assert_eq!(
        held.digest_hex, raised.digest_hex,
        "FR holds exactly the bytes DE signed"
    );
    assert_eq!(summary_of(&held), "Consignee resells to a listed end user");
    assert!(
        held.deliveries.is_empty(),
        "delivery state is the issuer's business: {:?}",
        held.deliveries
    );

    let versions = wait_delivered(&de_ana, &id, RecordKind::Alert, &["FR"]).await;
    assert_eq!(versions.len(), 1);
    assert!(!versions[0].deliveries[0].duplicate);

    // A later alert to JP only: once JP holds it, DE's link to JP has been
    // up and pushing, so the absence of the first alert there is meaningful.
    let sentinel = de_ana
        .raise_alert(alert(&["JP"], &[], "Sentinel for JP"))
        .await
        .unwrap()
        .into_inner();
    assert!(!contains(sentinel.id.as_bytes(), id.as_bytes()));
    wait_for_alert(&jp_ana, &sentinel.id, "JP").await;
    let fr_missing = fr_ana
        .clone()
        .get_alert(GetRecordRequest {
            id: sentinel.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        fr_missing.code(),
        Code::NotFound,
        "FR must not hold JP's alert"
    );

    // JP's API knows nothing of the alert to FR.
    let jp_list = jp_ana
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .records;
    let jp_ids: Vec<&str> = jp_list.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(jp_ids, vec![sentinel.id.as_str()]);
    let err = jp_ana
        .get_alert(GetRecordRequest { id: id.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // Nor does JP's store, read directly after a graceful stop.
    let jp_node = fed.take("JP");
    assert!(jp_node.terminate().await.unwrap().success());
    let store = Store::open(&jp.dir.join("data")).unwrap();
    // Every tree, every key and value: no trace of the record anywhere.
    let needle = id.as_bytes();
    let mut trees = std::collections::BTreeSet::new();
    store
        .snapshot(|tree, key, value| {
            trees.insert(tree.to_owned());
            assert!(
                !contains(key, needle) && !contains(value, needle),
                "JP's tree {tree} holds a trace of {id}"
            );
            Ok(())
        })
        .unwrap();
    assert!(
        trees.contains("envelopes"),
        "the scan saw the held envelopes: {trees:?}"
    );
    let own = "JP".parse().unwrap();
    let peers = Arc::new(PeerDirectory::open(store.clone(), "JP".parse().unwrap()).unwrap());
    let exchange = {
        let signer = Arc::new(record_signer(&jp).unwrap());
        let audit = Arc::new(
            concord_node::audit::AuditLog::open(store.clone(), signer.clone(), "JP").unwrap(),
        );
        Exchange::open(store, own, signer, peers, audit).unwrap()
    };
    let de_code = "DE".parse().unwrap();
    assert_eq!(
        exchange.held_from(&de_code),
        1,
        "JP holds only the sentinel from DE"
    );
    assert_eq!(exchange.held_seqs(&de_code).unwrap(), vec![sentinel.seq]);
    let listed: Vec<String> = exchange
        .list(RecordKind::Alert, &RecordFilter::default())
        .unwrap()
        .into_iter()
        .map(|v| v.header.record_id)
        .collect();
    assert_eq!(listed, vec![sentinel.id.clone()]);
    assert!(exchange.history(RecordKind::Alert, &id).is_err());
}

#[tokio::test]
async fn a_denial_its_amendment_and_its_revocation_reach_every_recipient_in_full() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (fed.dir("DE"), fed.dir("FR"), fed.dir("JP"));
    let mut officer = exchange_client(&de.issue("officer", "olaf")).await.unwrap();
    let readers = [
        (
            "FR",
            exchange_client(&fr.issue("officer", "odile"))
                .await
                .unwrap(),
        ),
        (
            "JP",
            exchange_client(&jp.issue("analyst", "aki")).await.unwrap(),
        ),
    ];

    let issued = officer
        .issue_denial(IssueDenialRequest {
            party: Some(Party {
                name: "Acme Trading FZE".into(),
                aliases: vec!["Acme FZE".into()],
                country: "AE".into(),
                address: "Jebel Ali".into(),
            }),
            items: vec![DeniedItem {
                code: "3A001".into(),
                description: "high-speed ADCs".into(),
            }],
            destination: "IR".into(),
            end_use: "missile guidance".into(),
            reason: "risk of diversion to a WMD programme".into(),
            valid_for_seconds: 0,
            distribution: Some(Distribution {
                to: vec!["FR".into(), "JP".into()],
                groups: vec![],
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(issued.recipients, vec!["FR", "JP"]);
    let id = issued.id.clone();
    let amended = officer
        .amend_denial(AmendDenialRequest {
            id: id.clone(),
            items: vec![
                DeniedItem {
                    code: "3A001".into(),
                    description: "high-speed ADCs".into(),
                },
                DeniedItem {
                    code: "5A002".into(),
                    description: "cryptographic equipment".into(),
                },
            ],
            change_reason: "second item identified".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let revoked = officer
        .revoke_denial(RevokeDenialRequest {
            id: id.clone(),
            reason: "overturned on appeal".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let digests = [
        issued.digest_hex.clone(),
        amended.digest_hex.clone(),
        revoked.digest_hex.clone(),
    ];
    assert_eq!(
        (issued.version, amended.version, revoked.version),
        (1, 2, 3)
    );
    assert!(issued.seq < amended.seq && amended.seq < revoked.seq);

    // A revoked denial is final.
    let again = officer
        .revoke_denial(RevokeDenialRequest {
            id: id.clone(),
            reason: "twice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);

    for (code, client) in &readers {
        let versions = eventually(&format!("{code} to hold 3 versions of {id}"), || {
            let (mut client, id) = (client.clone(), id.clone());
            async move {
                let versions = client
                    .get_denial(GetRecordRequest { id })
                    .await?
                    .into_inner()
                    .versions;
                ensure!(versions.len() == 3, "{} versions so far", versions.len());
                Ok(versions)
            }
        })
        .await
        .unwrap();
        let states: Vec<(u32, String)> = versions
            .iter()
            .map(|v| match &v.record {
                Some(Record::Denial(d)) => (d.version, d.state.clone()),
                other => panic!("{code}: not a denial: {other:?}"),
            })
            .collect();
        assert_eq!(
            states,
            vec![
                (1, "active".into()),
                (2, "amended".into()),
                (3, "revoked".into())
            ],
            "{code}"
        );
        for (v, digest) in versions.iter().zip(&digests) {
            assert!(
                v.signature_valid,
                "{code} version {}: {}",
                v.version, v.signature_error
            );
            assert_eq!(v.issuer, "DE");
            assert_eq!(v.recipients, vec!["FR", "JP"]);
            assert_eq!(
                &v.digest_hex, digest,
                "{code} version {} is not the envelope DE signed",
                v.version
            );
        }
        let Some(Record::Denial(current)) = &versions[2].record else {
            unreachable!()
        };
        assert!(
            !versions[2].active,
            "{code}: a revoked denial is not active"
        );
        assert_eq!(current.change_reason, "overturned on appeal");
        let codes: Vec<&str> = current.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(
            codes,
            vec!["3A001", "5A002"],
            "{code}: the revocation keeps the amended items"
        );

        let listed = client
            .clone()
            .list_denials(ListRecordsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .records;
        assert_eq!(
            listed.len(),
            1,
            "{code} lists the denial once, at its current version"
        );
        assert_eq!((listed[0].id.as_str(), listed[0].version), (id.as_str(), 3));
    }
    let versions = wait_delivered(&officer, &id, RecordKind::Denial, &["FR", "JP"]).await;
    assert_eq!(versions.len(), 3);
}

#[tokio::test]
async fn alerts_raised_while_a_recipient_is_down_arrive_in_full_and_in_order() {
    const N: usize = 1000;
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let mut de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let fr_profile = fr.issue("analyst", "ana");

    let fr_node = fed.take("FR");
    assert!(fr_node.terminate().await.unwrap().success());
    let mut issued = Vec::with_capacity(N);
    for i in 0..N {
        let v = de_ana
            .raise_alert(alert(&["FR"], &[], &format!("outage alert {i}")))
            .await
            .unwrap()
            .into_inner();
        issued.push((v.seq, v.id, v.digest_hex));
    }
    let s = status_of(&de.admin_profile()).await.unwrap();
    assert_eq!(
        peer_in(&s, "FR").unwrap().outbox_pending,
        N as u64,
        "all queued while FR is down"
    );

    fed.restart(&fr).await.unwrap();
    eventually("DE's outbox to FR to drain", || {
        let profile = de.admin_profile();
        async move {
            let s = status_of(&profile).await?;
            let pending = peer_in(&s, "FR").context("FR not a peer")?.outbox_pending;
            ensure!(pending == 0, "{pending} still queued");
            Ok(())
        }
    })
    .await
    .unwrap();

    // Every record was acknowledged with a receipt, so FR holds it durably now.
    let fr_ana = exchange_client(&fr_profile).await.unwrap();
    let mut held = alerts_from(&fr_ana, "DE").await.unwrap();
    assert_eq!(held.len(), N);
    let ids: HashSet<&str> = held.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), N, "ids are unique");
    held.sort_by_key(|r| r.seq);
    assert!(
        held.windows(2).all(|w| w[0].seq < w[1].seq),
        "one envelope per sequence number"
    );
    let held_seqs: Vec<(u64, &str, &str)> = held
        .iter()
        .map(|r| (r.seq, r.id.as_str(), r.digest_hex.as_str()))
        .collect();
    let issued_seqs: Vec<(u64, &str, &str)> = issued
        .iter()
        .map(|(s, i, d)| (*s, i.as_str(), d.as_str()))
        .collect();
    assert_eq!(held_seqs, issued_seqs, "FR holds exactly what DE issued");
    assert!(held.iter().all(|r| r.signature_valid));
    // Stored in issue order: no record landed on FR before an earlier one
    // (push and catch-up both deliver in sequence order; a batch shares one
    // timestamp, so equal values are fine; this compares FR's own clock only).
    for w in held.windows(2) {
        assert!(
            w[0].stored_at_unix_ms <= w[1].stored_at_unix_ms,
            "seq {} stored after seq {}",
            w[0].seq,
            w[1].seq
        );
    }
    // The same listing read in small pages: every record exactly once.
    let mut paged = Vec::new();
    let mut request = ListRecordsRequest {
        issuer: "DE".into(),
        page_size: 64,
        ..Default::default()
    };
    let mut pages = 0;
    loop {
        let page = fr_ana
            .clone()
            .list_alerts(request.clone())
            .await
            .unwrap()
            .into_inner();
        assert!(page.records.len() <= 64);
        pages += 1;
        paged.extend(page.records.into_iter().map(|r| r.id));
        if page.next_page_token.is_empty() {
            break;
        }
        request.page_token = page.next_page_token;
    }
    assert_eq!(pages, N.div_ceil(64));
    let paged_ids: HashSet<&str> = paged.iter().map(String::as_str).collect();
    let held_ids: HashSet<&str> = held.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(paged.len(), N, "no record twice");
    assert_eq!(paged_ids, held_ids);
    let bad = ListRecordsRequest {
        page_token: "not-hex".into(),
        ..Default::default()
    };
    let err = fr_ana.clone().list_alerts(bad).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    let s = status_of(&fr.admin_profile()).await.unwrap();
    assert_eq!(
        peer_in(&s, "DE").unwrap().received_cursor,
        issued.last().unwrap().0
    );
}

#[tokio::test]
async fn every_alert_acknowledged_before_the_issuer_is_killed_is_delivered_after_restart() {
    const BEFORE_KILL: usize = 200;
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let de_profile = de.issue("analyst", "ana");
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let (count_tx, mut count_rx) = tokio::sync::watch::channel(0usize);
    let mut client = exchange_client(&de_profile).await.unwrap();
    let raising = tokio::spawn({
        let acked = acked.clone();
        async move {
            for i in 0.. {
                match client
                    .raise_alert(alert(&["FR"], &[], &format!("burst alert {i}")))
                    .await
                {
                    Ok(v) => {
                        let n = {
                            let mut acked = acked.lock().unwrap();
                            acked.push(v.into_inner().id);
                            acked.len()
                        };
                        count_tx.send_replace(n);
                    }
                    // After the kill: not acknowledged, not counted.
                    Err(status) => return status,
                }
            }
            unreachable!()
        }
    });
    tokio::time::timeout(patience(), count_rx.wait_for(|n| *n >= BEFORE_KILL))
        .await
        .expect("DE did not acknowledge enough alerts in time")
        .expect("the raising loop stopped before the kill");
    fed.take("DE").kill();
    let after_kill = raising.await.unwrap();
    assert_ne!(after_kill.code(), Code::Ok);
    let acked: Vec<String> = acked.lock().unwrap().clone();
    assert!(acked.len() >= BEFORE_KILL);

    fed.restart(&de).await.unwrap();
    // DE itself kept every acknowledged alert...
    let de_ana = exchange_client(&de_profile).await.unwrap();
    let de_held: BTreeSet<String> = alerts_from(&de_ana, "DE")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|id| !de_held.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "DE lost acknowledged alerts: {missing:?}"
    );
    // ...and delivers them all to FR.
    eventually(
        &format!("FR to hold all {} acknowledged alerts", acked.len()),
        || {
            let (fr_ana, acked) = (fr_ana.clone(), acked.clone());
            async move {
                let held: HashSet<String> = alerts_from(&fr_ana, "DE")
                    .await?
                    .into_iter()
                    .map(|r| r.id)
                    .collect();
                let missing = acked.iter().filter(|id| !held.contains(*id)).count();
                ensure!(missing == 0, "{missing} of {} still missing", acked.len());
                Ok(())
            }
        },
    )
    .await
    .unwrap();
    let held = alerts_from(&fr_ana, "DE").await.unwrap();
    assert!(held.iter().all(|r| r.signature_valid));
    let ids: HashSet<&str> = held.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), held.len(), "each alert held once");
}

#[tokio::test]
async fn an_alert_to_a_sharing_group_reaches_every_member() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (fed.dir("DE"), fed.dir("FR"), fed.dir("JP"));
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    let group = admin
        .create_group(CreateGroupRequest {
            name: "g".into(),
            members: vec!["JP".into(), "FR".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(group.members, vec!["FR", "JP"]);
    let mut de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();
    let jp_ana = exchange_client(&jp.issue("analyst", "ana")).await.unwrap();

    let unknown = de_ana
        .raise_alert(alert(&[], &["nope"], "to an unknown group"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");

    let raised = de_ana
        .raise_alert(alert(&[], &["g"], "Shared with the group"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        raised.recipients,
        vec!["FR", "JP"],
        "the group is resolved into the signed recipient list"
    );
    for (code, client) in [("FR", &fr_ana), ("JP", &jp_ana)] {
        let held = wait_for_alert(client, &raised.id, code).await;
        assert!(held.signature_valid, "{code}: {}", held.signature_error);
        assert_eq!(held.recipients, vec!["FR", "JP"]);
        assert_eq!(held.digest_hex, raised.digest_hex);
    }
    wait_delivered(&de_ana, &raised.id, RecordKind::Alert, &["FR", "JP"]).await;
    for d in [de, fr, jp] {
        let s = status_of(&d.admin_profile()).await.unwrap();
        assert_eq!(s.equivocations, 0, "{}", d.code);
    }
}

/// A record can be followed through both nodes' logs: the issuer's line is
/// in the span of the RPC that raised it (with the caller), the receiver's
/// in the span of the push that brought it (with the sending node), and
/// both name the record id.
#[tokio::test]
async fn log_lines_carry_the_rpc_caller_and_record_on_both_sides() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let mut de_ana = exchange_client(&de.issue("analyst", "ana")).await.unwrap();
    let fr_ana = exchange_client(&fr.issue("analyst", "ana")).await.unwrap();
    let raised = de_ana
        .raise_alert(alert(
            &["FR"],
            &[],
            "Consignee resells to a listed end user",
        ))
        .await
        .unwrap()
        .into_inner();
    wait_for_alert(&fr_ana, &raised.id, "FR").await;
    let line_with = |log: &std::path::Path, parts: &[&str]| -> Option<String> {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .find(|l| parts.iter().all(|p| l.contains(p)))
            .map(str::to_owned)
    };
    let id = raised.id.as_str();
    let issued = eventually("DE's log line for the raise", || {
        let found = line_with(
            &fed.node("DE").log,
            &[
                "rpc{",
                "rpc=\"RaiseAlert\"",
                "caller=DE/analyst/ana",
                "alert raised",
                id,
            ],
        )
        .context("no such line yet");
        async move { found }
    })
    .await
    .unwrap();
    assert!(issued.contains("concord_node::exchange"), "{issued}");
    let received = eventually("FR's log line for the push", || {
        let found = line_with(
            &fed.node("FR").log,
            &["rpc=\"Push\"", "caller=DE/node", "records received", id],
        )
        .context("no such line yet");
        async move { found }
    })
    .await
    .unwrap();
    assert!(received.contains("issuer=DE"), "{received}");
}
