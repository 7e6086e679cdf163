//! `--blind`: a party is found by keyed hashes of its normalized name; the
//! answering node never receives the name. Checked on what the answering
//! node kept: its audit trail, its log and its store files.

use std::path::Path;

use concord_proto::v1 as pb;
use concord_tests::json_as as json;
use concord_tests::*;
use serde_json::Value;

fn section<'a>(answer: &'a Value, code: &str) -> &'a Value {
    answer["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["jurisdiction"] == code))
        .unwrap_or_else(|| panic!("no section for {code}: {answer:#}"))
}

/// Whether `needle` occurs in any file under `dir` (store files, logs).
fn occurs_under(dir: &Path, needle: &[u8]) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let path = e.path();
        if path.is_dir() {
            occurs_under(&path, needle)
        } else {
            std::fs::read(&path)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        }
    })
}

async fn audit_of(dir: &NodeDir) -> Vec<pb::AuditEntry> {
    audit_entries(&dir.admin_profile()).await.unwrap()
}

#[tokio::test]
async fn a_blind_query_finds_the_party_without_the_name_crossing_the_wire() {
    let mut fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (
        fed.dir("DE").clone(),
        fed.dir("FR").clone(),
        fed.dir("JP").clone(),
    );
    // DE generates the task force's key and hands it to FR out of band; JP got another.
    let key = fed.root.path().join("ops.key");
    let made = json(
        &de.admin_profile(),
        &["taskforce", "keygen", "--out", path_str(&key)],
    );
    let key_id = made["key_id"].as_str().unwrap().to_owned();
    let other = fed.root.path().join("other.key");
    json(
        &jp.admin_profile(),
        &["taskforce", "keygen", "--out", path_str(&other)],
    );
    for (dir, file) in [(&de, &key), (&fr, &key), (&jp, &other)] {
        let tf = json(
            &dir.admin_profile(),
            &[
                "taskforce",
                "create",
                "ops",
                "--mandate",
                "Sanctions evasion by a shipping network",
                "--members",
                "DE,FR,JP",
                "--ends",
                "30d",
                "--level",
                "full",
                "--blind-key-file",
                path_str(file),
            ],
        );
        assert!(tf["blind_key_id"].is_string());
    }
    assert_eq!(
        json(&fr.admin_profile(), &["taskforce", "show", "ops"])["blind_key_id"],
        key_id.as_str(),
        "admins compare key ids, never keys"
    );

    // FR holds the party under its own spelling.
    let mut x = exchange_client(&fr.issue("officer", "oli")).await.unwrap();
    let id = x
        .issue_denial(pb::IssueDenialRequest {
            party: Some(pb::Party {
                name: "Petr Ivanov".into(),
                country: "RU".into(),
                ..Default::default()
            }),
            items: vec![pb::DeniedItem {
                code: "9A610".into(),
                description: String::new(),
            }],
            destination: "RU".into(),
            reason: "procurement agent".into(),
            distribution: Some(pb::Distribution {
                to: vec!["DE".into()],
                groups: vec![],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id;

    // DE's member asks with another spelling, blind.
    let tina = de.issue("taskforce", "tina");
    let asked = "IVANOV, PETR";
    let answer = json(
        &tina,
        &["query", "party", asked, "--taskforce", "ops", "--blind"],
    );
    assert_eq!(answer["blind"], true);
    assert!(
        !answer["query"].as_str().unwrap().contains("IVANOV"),
        "{answer:#}"
    );
    let s = section(&answer, "FR");
    assert_eq!(
        (s["outcome"].as_str(), s["signature"].as_str()),
        (Some("answered"), Some("valid")),
        "{s:#}"
    );
    assert_eq!(
        (s["level"].as_str(), s["hit"].as_bool()),
        (Some("hit"), Some(true)),
        "blind answers are hit/no-hit whatever the level: {s:#}"
    );
    assert!(s["entries"].as_array().unwrap().is_empty());
    assert!(!answer.to_string().contains(&id));
    let s = section(&answer, "JP");
    assert_eq!(s["outcome"], "refused", "{s:#}");
    assert!(
        s["reason"].as_str().unwrap().contains("blind keys differ"),
        "{s:#}"
    );
    // A name FR does not hold: no hit.
    let miss = json(
        &tina,
        &[
            "query",
            "party",
            "Olga Smirnova",
            "--taskforce",
            "ops",
            "--blind",
        ],
    );
    assert_eq!(section(&miss, "FR")["hit"], false);

    // What FR received: the keyed hash, nowhere the name as asked.
    let fr_audit = audit_of(&fr).await;
    let answers: Vec<_> = fr_audit
        .iter()
        .filter(|e| e.action == "taskforce.answer")
        .collect();
    assert_eq!(answers.len(), 2);
    assert!(
        answers[0].rationale.contains("blind party") && answers[0].rationale.contains(&key_id),
        "{}",
        answers[0].rationale
    );
    assert!(
        answers[0].rationale.contains(&id),
        "FR's own trail names its record"
    );
    let fr_node = fed.take("FR");
    let log = fr_node.log_text();
    fr_node.terminate().await.unwrap();
    for needle in ["IVANOV", "Smirnova", "SMIRNOVA"] {
        assert!(!log.contains(needle), "{needle} in FR's log");
        assert!(
            !occurs_under(&fr.dir, needle.as_bytes()),
            "{needle} in FR's files"
        );
    }

    // The check has teeth: the same question in clear does reach FR.
    fed.restart(&fr).await.unwrap();
    wait_links(&de, &["FR"]).await.unwrap();
    let clear = json(&tina, &["query", "party", asked, "--taskforce", "ops"]);
    assert_eq!(section(&clear, "FR")["level"], "full");
    let fr_audit = audit_of(&fr).await;
    assert!(fr_audit
        .iter()
        .any(|e| e.action == "taskforce.answer" && e.rationale.contains(asked)));
}
