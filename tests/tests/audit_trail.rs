//! The audit trail across real processes: who did what (from certificates),
//! a tampered entry named by `concord audit verify`, rewritten history caught
//! by a peer's witness even after the node's own checkpoints were removed,
//! and an export an auditor verifies offline with nothing but the public key.

use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::{bail, ensure, Context, Result};
use concord_node::audit::{AuditEntry, Checkpoint};
use concord_node::store::Store;
use concord_proto::v1 as pb;
use concord_tests::*;
use serde_json::Value;

/// `concord --profile P ARGS...`.
fn cli(profile: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--profile", path_str(profile)];
    all.extend_from_slice(args);
    concord(&all)
}

fn cli_ok(profile: &Path, args: &[&str]) -> String {
    let mut all = vec!["--profile", path_str(profile)];
    all.extend_from_slice(args);
    concord_ok(&all)
}

fn json(profile: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let text = cli_ok(profile, &all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn entries_of(dir: &NodeDir) -> Result<Vec<pb::AuditEntry>> {
    audit_entries(&dir.admin_profile()).await
}

fn find<'a>(
    entries: &'a [pb::AuditEntry],
    action: &str,
    record: &str,
) -> Option<&'a pb::AuditEntry> {
    entries
        .iter()
        .find(|e| e.action == action && e.record == record)
}

fn raise_alert(analyst: &Path, summary: &str) -> String {
    let raised = json(
        analyst,
        &[
            "alert",
            "raise",
            "--category",
            "diversion-suspected",
            "--severity",
            "high",
            "--summary",
            summary,
            "--subject-party",
            "Acme Trading FZE",
            "--to",
            "FR",
        ],
    );
    raised["id"].as_str().unwrap_or_default().to_owned()
}

/// Opens a stopped node's store, as an attacker with disk access could.
fn open_store(dir: &NodeDir) -> Store {
    Store::open(&dir.dir.join("data")).unwrap_or_else(|e| panic!("open store: {e}"))
}

#[tokio::test]
async fn actions_are_audited_by_actor_and_an_edited_entry_is_named() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let admin = de.admin_profile();
    cli_ok(&admin, &["group", "create", "partners", "--members", "FR"]);
    let analyst = de.issue("analyst", "ana");
    let id = raise_alert(&analyst, "Consignee resells controlled FPGAs");
    let reference = format!("{id} v1");

    // The peer records receiving it, as the node that sent it.
    let fr_entries = eventually("FR to audit receiving the alert", || {
        let (fr, reference) = (fr.clone(), reference.clone());
        async move {
            let entries = entries_of(&fr).await?;
            ensure!(
                find(&entries, "alert.receive", &reference).is_some(),
                "not yet"
            );
            Ok(entries)
        }
    })
    .await
    .unwrap();
    let received = find(&fr_entries, "alert.receive", &reference).unwrap();
    assert_eq!(received.actor, "node DE");
    assert!(received.rationale.contains("signed by DE"), "{received:?}");
    let added = find(&fr_entries, "peer.add", "DE").unwrap();
    assert_eq!(added.actor, "FR/admin/admin");

    // At the issuer: actors come from the callers' certificates.
    let root = fed.root.path().to_owned();
    let export = root.join("de-audit.jsonl");
    cli_ok(&admin, &["audit", "export", "--out", path_str(&export)]);
    let lines: Vec<Value> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["format"], "concord-audit-export/1");
    assert_eq!(lines[0]["jurisdiction"], "DE");
    let entry = |action: &str, record: &str| -> Value {
        lines
            .iter()
            .find(|l| l["type"] == "entry" && l["action"] == action && l["record"] == record)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} {record} in {lines:#?}"))
    };
    assert_eq!(entry("peer.add", "FR")["actor"], "DE/admin/admin");
    assert_eq!(entry("group.create", "partners")["actor"], "DE/admin/admin");
    let raised = entry("alert.raise", &reference);
    assert_eq!(raised["actor"], "DE/analyst/ana");
    let seqs: Vec<u64> = lines[1..]
        .iter()
        .filter(|l| l["type"] == "entry")
        .map(|l| l["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());

    let verified = json(&admin, &["audit", "verify"]);
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(verified["entries"].as_u64(), Some(seqs.len() as u64));
    assert!(cli_ok(&admin, &["audit", "verify"]).starts_with("Audit trail intact"));

    // Edit one entry on disk while the node is stopped.
    let seq = raised["seq"].as_u64().unwrap();
    let node = fed.take("DE");
    assert!(node.terminate().await.unwrap().success());
    {
        let store = open_store(&de);
        let audit = store.tree::<AuditEntry>("audit").unwrap();
        let mut e = audit.get(seq.to_be_bytes()).unwrap().unwrap();
        assert_eq!(e.actor, "DE/analyst/ana");
        e.actor = "DE/analyst/somebody-else".into();
        store
            .put_durable(&audit, seq.to_be_bytes(), &e)
            .await
            .unwrap();
    }
    fed.restart(&de).await.unwrap();

    let out = cli(&admin, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "concord: failed-precondition: audit chain broken at entry {seq}: "
        )),
        "{err}"
    );
    assert!(err.contains("edited"), "{err}");
    let out = cli(&admin, &["--output", "json", "audit", "verify"]);
    assert_eq!(out.status.code(), Some(9));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_broken_seq"].as_u64(), Some(seq));
}

/// The witness report of `peer` in `audit verify --with-witnesses` JSON.
fn witness<'a>(report: &'a Value, peer: &str) -> Option<&'a Value> {
    report["witnesses"]
        .as_array()?
        .iter()
        .find(|w| w["peer"] == peer)
}

#[tokio::test]
async fn deleted_history_is_caught_by_a_witness_even_without_own_checkpoints() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let de = fed.dir("DE").clone();
    let admin = de.admin_profile();
    for name in ["g1", "g2", "g3"] {
        cli_ok(&admin, &["group", "create", name, "--members", "FR"]);
    }
    let checkpoint = json(&admin, &["audit", "checkpoint"]);
    let count = checkpoint["count"].as_u64().unwrap();
    assert!(count >= 4, "{checkpoint}");

    // The checkpoint reaches FR asynchronously.
    eventually("FR to witness DE's checkpoint", || {
        let admin = admin.clone();
        async move {
            let report = json(&admin, &["audit", "verify", "--with-witnesses"]);
            let fr = witness(&report, "FR").context("no FR report")?;
            ensure!(fr["checkpoints"].as_u64() >= Some(1), "{fr}");
            ensure!(fr["ok"] == true, "{fr}");
            Ok(())
        }
    })
    .await
    .unwrap();

    // An attacker with disk access removes the last two entries and every
    // checkpoint the node itself holds.
    let node = fed.take("DE");
    assert!(node.terminate().await.unwrap().success());
    {
        let store = open_store(&de);
        let audit = store.tree::<AuditEntry>("audit").unwrap();
        let checkpoints = store.tree::<Checkpoint>("audit_checkpoints").unwrap();
        let mut batch = store.batch();
        for seq in [count, count - 1] {
            batch.delete(&audit, seq.to_be_bytes());
        }
        for (key, _) in checkpoints.iter().unwrap() {
            batch.delete(&checkpoints, key);
        }
        store.commit(batch).await.unwrap();
        assert!(checkpoints.is_empty().unwrap());
    }
    fed.restart(&de).await.unwrap();
    wait_links(&de, &["FR"]).await.unwrap();

    // The latest checkpoint DE signed is also kept beside the store, so
    // plain verification names the deletion...
    let out = cli(&admin, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert!(stderr(&out).contains("deleted"), "{}", stderr(&out));
    // ...until the attacker removes that file too; then the shortened chain
    // looks fine on its own...
    std::fs::remove_file(
        de.dir
            .join("data")
            .join(concord_node::audit::LATEST_CHECKPOINT),
    )
    .unwrap();
    let plain = json(&admin, &["audit", "verify"]);
    assert_eq!(plain["ok"], true, "{plain}");
    assert_eq!(plain["entries"].as_u64(), Some(count - 2));
    assert_eq!(plain["checkpoints"].as_u64(), Some(0));

    // ...but FR still holds what DE signed.
    let err = eventually("the witness check to fail", || {
        let admin = admin.clone();
        async move {
            let out = cli(&admin, &["audit", "verify", "--with-witnesses"]);
            let err = stderr(&out);
            if out.status.code() != Some(9) {
                bail!("exit {:?}: {err}", out.status.code());
            }
            Ok(err)
        }
    })
    .await
    .unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("witness FR"), "{err}");
    assert!(err.contains("deleted"), "{err}");
    let report: Value = serde_json::from_slice(
        &cli(
            &admin,
            &["--output", "json", "audit", "verify", "--with-witnesses"],
        )
        .stdout,
    )
    .unwrap();
    let fr = witness(&report, "FR").unwrap();
    assert_eq!(fr["ok"], false, "{report}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_lines(path: &Path, lines: &[Value]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn an_export_verifies_offline_and_tampering_is_named() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    for name in ["g1", "g2", "g3", "g4"] {
        let who = format!("DE/analyst/{name}");
        cli_ok(
            &admin,
            &["revocation", "add", "--identity", &who, "--reason", "left"],
        );
    }
    cli_ok(&admin, &["audit", "checkpoint"]);
    cli_ok(
        &admin,
        &[
            "revocation",
            "lift",
            "identity DE/analyst/g4",
            "--reason",
            "back",
        ],
    );

    let file: PathBuf = root.path().join("de.jsonl");
    let file_s = path_str(&file).to_owned();
    let summary = cli_ok(&admin, &["audit", "export", "--out", &file_s]);
    assert!(
        summary.contains("Exported 5 entries (1..5) and 1 checkpoints"),
        "{summary}"
    );
    // An existing file is never overwritten.
    let again = cli(&admin, &["audit", "export", "--out", &file_s]);
    assert_eq!(again.status.code(), Some(8), "{}", stderr(&again));

    // The auditor needs the public key from the trust bundle and nothing else:
    // no node, no profile, no certificate.
    let key = hex(&trust_bundle(&de).unwrap().signing_public_key);
    let report: Value = serde_json::from_str(&concord_ok(&[
        "--output",
        "json",
        "audit",
        "verify-export",
        &file_s,
        "--public-key",
        &key,
    ]))
    .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["entries"], 5);
    assert_eq!(report["checkpoints_verified"], 1);
    assert_eq!(report["signed_through"], 4);
    assert_eq!(report["key_source"], "given");
    let text = concord_ok(&["audit", "verify-export", &file_s]);
    assert!(text.contains("taken from the file itself"), "{text}");

    let lines: Vec<Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let check_fails = |lines: &[Value], key: &str, expected: &[&str]| {
        let bad = root.path().join("bad.jsonl");
        write_lines(&bad, lines);
        let out = concord(&[
            "audit",
            "verify-export",
            path_str(&bad),
            "--public-key",
            key,
        ]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(9), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        for e in expected {
            assert!(err.contains(e), "{e:?} not in {err}");
        }
    };

    // One edited entry: named by line and sequence number.
    let mut edited = lines.clone();
    let at = edited
        .iter()
        .position(|l| l["type"] == "entry" && l["seq"] == 2)
        .unwrap();
    edited[at]["rationale"] = Value::from("members FR,XX");
    check_fails(
        &edited,
        &key,
        &[&format!("line {} (entry 2)", at + 1), "edited"],
    );

    // A forged checkpoint signature.
    let mut forged = lines.clone();
    let cp = forged
        .iter()
        .position(|l| l["type"] == "checkpoint")
        .unwrap();
    forged[cp]["at_unix_ms"] = Value::from(forged[cp]["at_unix_ms"].as_i64().unwrap() + 1);
    check_fails(&forged, &key, &["signature does not verify"]);

    // History cut after the checkpoint.
    let cut: Vec<Value> = lines[..lines.len() - 2].to_vec();
    check_fails(&cut, &key, &["entries are missing"]);

    // Another jurisdiction's key.
    let fr = NodeDir::init(root.path(), "FR");
    let fr_key = hex(&trust_bundle(&fr).unwrap().signing_public_key);
    check_fails(&lines, &fr_key, &["not the given key"]);

    // A partial export (--since) verifies from its first entry on.
    let partial = root.path().join("partial.jsonl");
    cli_ok(
        &admin,
        &[
            "audit",
            "export",
            "--out",
            path_str(&partial),
            "--since",
            "3",
        ],
    );
    let report: Value = serde_json::from_str(&concord_ok(&[
        "--output",
        "json",
        "audit",
        "verify-export",
        path_str(&partial),
        "--public-key",
        &key,
    ]))
    .unwrap();
    assert_eq!(report["first_seq"], 3, "{report}");
    assert_eq!(report["entries"], 3, "{report}");
}

/// Reads varint-prefixed byte strings from a postcard-encoded value.
fn take_bytes<'a>(raw: &'a [u8], at: &mut usize) -> &'a [u8] {
    let (mut len, mut shift) = (0usize, 0);
    loop {
        let b = raw[*at];
        *at += 1;
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let bytes = &raw[*at..*at + len];
    *at += len;
    bytes
}

fn replace_all(raw: &mut [u8], old: &[u8], new: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i + old.len() <= raw.len() {
        if &raw[i..i + old.len()] == old {
            raw[i..i + old.len()].copy_from_slice(new);
            n += 1;
            i += old.len();
        } else {
            i += 1;
        }
    }
    n
}

/// Reads trust the digest a record's index kept when it was verified on
/// its way in; someone with disk access who edits an envelope and every
/// index that names its digest makes reads show it valid. `audit verify
/// --records` verifies every envelope in full and names it.
#[tokio::test]
async fn a_record_forged_in_the_store_is_found_by_verifying_records_in_full() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let de = fed.dir("DE").clone();
    let admin = de.admin_profile();
    let analyst = de.issue("analyst", "ana");
    let id = raise_alert(&analyst, "first");
    raise_alert(&analyst, "second");
    let clean = json(&admin, &["audit", "verify", "--records"]);
    assert_eq!(clean["ok"], true, "{clean}");
    assert_eq!(clean["records_checked"], 2, "{clean}");
    assert_eq!(clean["invalid_records"], 0, "{clean}");

    assert!(fed.take("DE").terminate().await.unwrap().success());
    {
        let db = sled::open(de.dir.join("data")).unwrap();
        let envelopes = db.open_tree("envelopes").unwrap();
        let (key, value) = envelopes
            .iter()
            .flatten()
            .find(|(_, v)| v.windows(id.len()).any(|w| w == id.as_bytes()))
            .expect("the alert's envelope");
        let mut raw = value.to_vec();
        // Value: format byte, then header, body and signature as byte strings.
        let mut at = 1;
        let header_at = at;
        let header = take_bytes(&raw, &mut at).to_vec();
        take_bytes(&raw, &mut at);
        let sig_start = at + 1;
        let signature = take_bytes(&raw, &mut at).to_vec();
        assert_eq!(
            signature.len(),
            64,
            "layout as expected (header at {header_at})"
        );
        let digest = |sig: &[u8]| {
            let mut all = header.clone();
            all.extend_from_slice(sig);
            concord_node::crypto::sha256(&all)
        };
        let old = digest(&signature);
        raw[sig_start + 10] ^= 0x01;
        let new = digest(&raw[sig_start..sig_start + 64]);
        envelopes.insert(key, raw).unwrap();
        let mut replaced = 0;
        for tree in ["record_index", "current_records", "newest_records"] {
            let t = db.open_tree(tree).unwrap();
            for (k, v) in t.iter().flatten() {
                let mut v = v.to_vec();
                let n = replace_all(&mut v, &old, &new);
                if n > 0 {
                    replaced += n;
                    t.insert(k, v).unwrap();
                }
            }
        }
        assert_eq!(replaced, 3, "the digest is kept in three indexes");
        db.flush().unwrap();
    }
    fed.restart(&de).await.unwrap();

    let shown = json(&analyst, &["alert", "show", &id]);
    assert_eq!(
        shown["versions"][0]["signature_valid"], true,
        "reads trust the recorded digest: {shown}"
    );
    let chain = json(&admin, &["audit", "verify"]);
    assert_eq!(chain["ok"], true, "the audit chain itself is untouched");
    let out = cli(&admin, &["audit", "verify", "--records"]);
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    let line = stderr(&out);
    assert!(
        line.contains("1 held records do not verify") && line.contains(&format!("{id} v1")),
        "{line}"
    );
}
