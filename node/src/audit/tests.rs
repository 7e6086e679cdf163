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
