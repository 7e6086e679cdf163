use std::sync::Arc;

use super::*;

fn log() -> (tempfile::TempDir, Store, AuditLog) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let log = AuditLog::open(store.clone(), signer, "DE").unwrap();
    (dir, store, log)
}

fn act(n: u64) -> String {
    format!("LIC-{n}")
}

async fn fill(log: &AuditLog, n: u64) {
    for i in 1..=n {
        let record = act(i);
        log.record(Action {
            actor: "DE/officer/olivia",
            action: "license.decide",
            record: &record,
            rationale: "meets criteria",
        })
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_clean_chain_verifies() {
    let (_d, _s, log) = log();
    fill(&log, 10).await;
    log.checkpoint().await.unwrap();
    let v = log.verify().unwrap();
    assert_eq!(v.entries, 10);
    assert_eq!(v.checkpoints, 1);
    assert_eq!(
        log.entries(3, 4)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>(),
        vec![3, 4]
    );
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    let (_d, store, log) = log();
    fill(&log, 10).await;
    let tree = store.tree::<AuditEntry>("audit").unwrap();
    let mut e = tree.get(6u64.to_be_bytes()).unwrap().unwrap();
    e.rationale = "bribed".into();
    store
        .put_durable(&tree, 6u64.to_be_bytes(), &e)
        .await
        .unwrap();
    let broken = log.verify().unwrap_err();
    assert_eq!(broken.seq, 6, "{broken}");
    assert!(broken.reason.contains("edited"), "{broken}");
    // Rehashing the edited entry breaks the link to the next one instead.
    e.hash = entry_hash(&e);
    store
        .put_durable(&tree, 6u64.to_be_bytes(), &e)
        .await
        .unwrap();
    assert_eq!(log.verify().unwrap_err().seq, 7);
}

#[tokio::test]
async fn deleting_entries_after_a_checkpoint_is_detected() {
    let (_d, store, log) = log();
    fill(&log, 8).await;
    log.checkpoint().await.unwrap();
    let tree = store.tree::<AuditEntry>("audit").unwrap();
    let mut batch = store.batch();
    batch.delete(&tree, 8u64.to_be_bytes());
    batch.delete(&tree, 7u64.to_be_bytes());
    store.commit(batch).await.unwrap();
    let broken = log.verify().unwrap_err();
    assert!(broken.reason.contains("deleted"), "{broken}");
}

#[tokio::test]
async fn a_forged_checkpoint_is_refused() {
    let (_d, store, log) = log();
    fill(&log, 3).await;
    let mut c = log.checkpoint().await.unwrap();
    c.count = 2;
    let tree = store.tree::<Checkpoint>("audit_checkpoints").unwrap();
    store
        .put_durable(&tree, 2u64.to_be_bytes(), &c)
        .await
        .unwrap();
    assert!(log.verify().unwrap_err().reason.contains("signature"));
}

#[tokio::test]
async fn the_chain_survives_reopening() {
    let (dir, store, log) = log();
    fill(&log, 4).await;
    drop(log);
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let log = AuditLog::open(store, signer, "DE").unwrap();
    fill(&log, 2).await;
    assert_eq!(log.count().await, 6);
    assert_eq!(log.verify().unwrap().entries, 6);
    drop(dir);
}

#[tokio::test]
async fn losing_the_tail_with_its_checkpoints_is_detected_against_the_latest_signed() {
    let (_d, store, log) = log();
    fill(&log, 8).await;
    log.checkpoint().await.unwrap();
    // The store loses entries 7 and 8 and the checkpoint over them, as a
    // truncated log would: the chain it holds is consistent on its own.
    let tree = store.tree::<AuditEntry>("audit").unwrap();
    let checkpoints = store.tree::<Checkpoint>("audit_checkpoints").unwrap();
    let mut batch = store.batch();
    batch.delete(&tree, 8u64.to_be_bytes());
    batch.delete(&tree, 7u64.to_be_bytes());
    batch.delete(&checkpoints, 8u64.to_be_bytes());
    store.commit(batch).await.unwrap();
    let broken = log.verify().unwrap_err();
    assert!(broken.reason.contains("deleted"), "{broken}");
}

/// The records of the direct-commit tasks below: key `task seq`, value the
/// sequence number of the audit entry committed with it.
fn marks(store: &Store) -> Tree<u64> {
    store.tree::<u64>("audit_test_marks").unwrap()
}

#[tokio::test]
async fn a_failed_commit_writes_nothing_and_leaves_the_head() {
    let (_d, store, log) = log();
    let marks = marks(&store);
    fill(&log, 2).await;
    // The closure fails after appending: neither the entry nor its write lands.
    let mut batch = store.batch();
    batch.put(&marks, "lost", &0).unwrap();
    let err = log
        .commit_with(batch, |w| {
            w.append(Action {
                actor: "system",
                action: "test.fail",
                record: "lost",
                rationale: "",
            })?;
            Err::<(), _>(Error::Internal("refused after appending".into()))
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("refused after appending"), "{err}");
    // Applying fails (a tree of another store): nothing lands either.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Store::open(other_dir.path()).unwrap();
    let foreign = other.tree::<u64>("foreign").unwrap();
    let mut batch = store.batch();
    batch.put(&marks, "lost", &0).unwrap();
    batch.put(&foreign, "lost", &0).unwrap();
    let action = Action {
        actor: "system",
        action: "test.fail",
        record: "lost",
        rationale: "",
    };
    assert!(log.commit(batch, [action]).await.is_err());
    assert!(marks.is_empty().unwrap());
    assert_eq!(log.count().await, 2);
    // The next commit chains onto the head as it was.
    let seqs = log
        .commit(
            store.batch(),
            [
                Action {
                    actor: "system",
                    action: "test.ok",
                    record: "a",
                    rationale: "",
                },
                Action {
                    actor: "system",
                    action: "test.ok",
                    record: "b",
                    rationale: "",
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(seqs, vec![3, 4]);
    assert_eq!(log.verify().unwrap().entries, 4);
}

/// Audited writes from many modules at once (peers, exchange, revocations,
/// licensing, screening, and direct commits with seq-derived keys or a
/// failing closure): the chain stays one chain, contiguous, with every
/// action's write beside its entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_audited_writes_from_every_module_never_fork_the_chain() {
    use crate::crypto::{CertificateAuthority, Validity};
    use crate::exchange::records::{AlertCategory, Severity, Subjects};
    use crate::exchange::{AlertDraft, Distribution, Exchange, RecordFilter, RecordKind};
    use crate::identity::{Caller, Jurisdiction, Role};
    use crate::licensing::{Licensing, PartyDraft};
    use crate::peers::PeerDirectory;
    use crate::revocations::{Revocations, Target};
    use crate::screening::{EntityType, Screening, WatchlistEntry};
    use crate::trust_bundle::TrustBundle;

    const TASKS: u64 = 16;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), "DE").unwrap());
    let de: Jurisdiction = "DE".parse().unwrap();
    let peers = Arc::new(
        PeerDirectory::open(store.clone(), de.clone())
            .unwrap()
            .audited(audit.clone()),
    );
    let exchange = Arc::new(
        Exchange::open(
            store.clone(),
            de.clone(),
            signer.clone(),
            peers.clone(),
            audit.clone(),
        )
        .unwrap(),
    );
    let revocations = Arc::new(Revocations::open(store.clone(), audit.clone()).unwrap());
    let screening = Arc::new(Screening::open(store.clone(), audit.clone(), 0.85).unwrap());
    let licensing = Arc::new(
        Licensing::open(store.clone(), de.clone(), exchange.clone(), audit.clone()).unwrap(),
    );
    let marks = marks(&store);
    let bundle = |code: &str| {
        let j: Jurisdiction = code.parse().unwrap();
        let (ca, _) = CertificateAuthority::generate(&j, Validity::days(1)).unwrap();
        let key = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
        TrustBundle {
            jurisdiction: j,
            endpoint: "127.0.0.1:1".into(),
            ca_cert_pem: ca.cert_pem().into(),
            signing_public_key: key.public_key().to_vec(),
            retired_signing_keys: Vec::new(),
        }
    };
    // Alerts need a recipient.
    peers.add("DE/admin/ada", bundle("FR")).await.unwrap();
    let before = audit.count().await;
    let admin = Caller::new(de.clone(), Role::Admin, "ada").unwrap();
    let analyst = Caller::new(de.clone(), Role::Analyst, "ana").unwrap();
    let officer = Caller::new(de.clone(), Role::Officer, "oli").unwrap();
    let new_peers = ["IT", "JP", "NL", "PL"];

    let mut writers = tokio::task::JoinSet::new();
    for code in new_peers {
        let (peers, bundle) = (peers.clone(), bundle(code));
        writers.spawn(async move { peers.add("DE/admin/ada", bundle).await.map(drop) });
    }
    for t in 0..TASKS {
        let (exchange, analyst) = (exchange.clone(), analyst.clone());
        writers.spawn(async move {
            let draft = AlertDraft {
                category: AlertCategory::DiversionSuspected,
                severity: Severity::High,
                subjects: Subjects {
                    destinations: vec!["IR".into()],
                    ..Subjects::default()
                },
                indicators: vec![format!("indicator {t}")],
                summary: format!("alert {t}"),
                expires_in: None,
                handling: String::new(),
            };
            let to = Distribution {
                to: vec!["FR".parse().unwrap()],
                groups: Vec::new(),
            };
            exchange.raise_alert(&analyst, draft, to).await.map(drop)
        });
        let (revocations, admin) = (revocations.clone(), admin.clone());
        writers.spawn(async move {
            let officer =
                Caller::new(admin.jurisdiction.clone(), Role::Officer, format!("o{t}")).unwrap();
            revocations
                .revoke(
                    &admin,
                    &[0; 32],
                    Target::Identity(officer),
                    "left the agency",
                )
                .await
                .map(drop)
        });
        let (licensing, officer) = (licensing.clone(), officer.clone());
        writers.spawn(async move {
            // Licensing releases its own lock once the batch is applied.
            let draft = PartyDraft {
                name: format!("Harbour Freight {t}"),
                aliases: Vec::new(),
                country: "NL".into(),
                address: "1 Harbour Road".into(),
                identifiers: Vec::new(),
            };
            licensing
                .create_party(&officer, draft, true)
                .await
                .map(drop)
        });
        let screening = screening.clone();
        writers.spawn(async move {
            let entries = vec![WatchlistEntry::new(
                "1",
                EntityType::Entity,
                format!("ACME TRADING {t}"),
            )];
            screening
                .import("DE/admin/ada", &format!("list-{t}"), "csv", entries)
                .await
                .map(drop)
        });
        let (log, batch, marks) = (audit.clone(), store.batch(), marks.clone());
        writers.spawn(async move {
            // A write whose key depends on the sequence number it is given.
            let record = format!("mark-{t}");
            log.commit_with(batch, |w| {
                let seq = w.append(Action {
                    actor: "system",
                    action: "test.mark",
                    record: &record,
                    rationale: "",
                })?;
                w.batch().put(&marks, format!("{record} {seq}"), &seq)?;
                Ok(())
            })
            .await
        });
        let (log, batch) = (audit.clone(), store.batch());
        writers.spawn(async move {
            // A write that fails must leave no gap behind it.
            let failed = log
                .commit_with(batch, |w| {
                    w.append(Action {
                        actor: "system",
                        action: "test.fail",
                        record: "",
                        rationale: "",
                    })?;
                    Err::<(), _>(Error::Internal("refused".into()))
                })
                .await;
            assert!(failed.is_err());
            Ok(())
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap().unwrap();
    }

    let verified = audit.verify().unwrap();
    let expected = before + new_peers.len() as u64 + 5 * TASKS;
    assert_eq!(verified.entries, expected);
    assert_eq!(audit.count().await, expected);
    let entries = audit.entries(1, u64::MAX).unwrap();
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=expected).collect::<Vec<_>>(), "contiguous");
    let count = |action: &str| entries.iter().filter(|e| e.action == action).count();
    assert_eq!(count("peer.add"), 1 + new_peers.len());
    assert_eq!(count("alert.raise"), TASKS as usize);
    assert_eq!(count("access.revoke"), TASKS as usize);
    assert_eq!(count("watchlist.import"), TASKS as usize);
    assert_eq!(count("party.create"), TASKS as usize);
    assert_eq!(count("test.mark"), TASKS as usize);
    assert_eq!(count("test.fail"), 0);

    // Each entry's write is there, under the entry's own sequence number.
    for e in entries.iter().filter(|e| e.action == "test.mark") {
        let key = format!("{} {}", e.record, e.seq);
        assert_eq!(marks.get(&key).unwrap(), Some(e.seq), "{key}");
    }
    assert_eq!(marks.len().unwrap(), TASKS as usize);
    let set = peers.current();
    for code in new_peers {
        assert!(
            set.contains_key(&code.parse::<Jurisdiction>().unwrap()),
            "{code}"
        );
    }
    assert_eq!(revocations.list().len(), TASKS as usize);
    for e in entries.iter().filter(|e| e.action == "party.create") {
        let party = licensing.party(&e.record).unwrap();
        assert!(party.name.starts_with("Harbour Freight"), "{}", e.record);
    }
    let lists = screening.lists();
    for t in 0..TASKS {
        let name = format!("list-{t}");
        assert!(lists.iter().any(|l| l.name == name), "{name}");
    }
    let alerts = exchange
        .list(RecordKind::Alert, &RecordFilter::default())
        .unwrap();
    assert_eq!(alerts.len(), TASKS as usize);
    for e in entries.iter().filter(|e| e.action == "alert.raise") {
        assert!(
            alerts
                .iter()
                .any(|a| format!("{} v{}", a.header.record_id, a.header.version) == e.record),
            "{}",
            e.record
        );
    }
}

#[tokio::test]
async fn entries_made_through_another_door_name_it_and_still_verify() {
    let (_d, _s, log) = log();
    let action = |actor| Action {
        actor,
        action: "license.decide",
        record: "DE-L-1",
        rationale: "meets criteria",
    };
    log.record(action("DE/officer/olivia")).await.unwrap();
    via("web", async {
        log.record(action("DE/officer/olivia")).await.unwrap();
        log.record(action("system")).await.unwrap();
    })
    .await;
    let actors: Vec<String> = log
        .entries(1, 3)
        .unwrap()
        .into_iter()
        .map(|e| e.actor)
        .collect();
    assert_eq!(
        actors,
        ["DE/officer/olivia", "DE/officer/olivia via web", "system"]
    );
    assert_eq!(log.verify().unwrap().entries, 3);
}
