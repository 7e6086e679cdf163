//! Task-force queries between real node processes over real mTLS: each node
//! answers at its own level and never reveals a record outside the asker's
//! distribution; refusals (wrong role, unregistered, non-member, closed,
//! expired); a stopped peer gives a partial answer; limits; audit at both ends.

use std::path::Path;
use std::process::Output;

use anyhow::{ensure, Result};
use concord_proto::v1 as pb;
use concord_tests::*;
use concord_tests::{concord_json_as as cli, json_as as json};
use serde_json::Value;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `concord taskforce create` on `dir`'s node, as its admin.
fn register(dir: &NodeDir, name: &str, members: &str, level: &str, ends: &str) {
    json(
        &dir.admin_profile(),
        &[
            "taskforce",
            "create",
            name,
            "--mandate",
            "Procurement network for controlled FPGAs",
            "--members",
            members,
            "--ends",
            ends,
            "--level",
            level,
        ],
    );
}

fn party(name: &str) -> pb::Party {
    pb::Party {
        name: name.into(),
        country: "AE".into(),
        ..Default::default()
    }
}

fn distribution(to: &[&str]) -> Option<pb::Distribution> {
    Some(pb::Distribution {
        to: to.iter().map(|s| s.to_string()).collect(),
        groups: vec![],
    })
}

async fn deny(officer: &Path, name: &str, reason: &str, to: &[&str]) -> String {
    let mut x = exchange_client(officer).await.unwrap();
    x.issue_denial(pb::IssueDenialRequest {
        party: Some(party(name)),
        items: vec![pb::DeniedItem {
            code: "3A001".into(),
            description: "FPGAs".into(),
        }],
        destination: "IR".into(),
        reason: reason.into(),
        distribution: distribution(to),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .id
}

async fn alert(analyst: &Path, name: &str, summary: &str, to: &[&str]) -> String {
    let mut x = exchange_client(analyst).await.unwrap();
    x.raise_alert(pb::RaiseAlertRequest {
        category: "suspicious-shipment".into(),
        severity: "high".into(),
        subjects: Some(pb::Subjects {
            parties: vec![party(name)],
            ..Default::default()
        }),
        summary: summary.into(),
        distribution: distribution(to),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .id
}

/// Waits until `reader`'s node holds record `id` (denial or alert).
async fn wait_held(reader: &Path, id: &str) {
    eventually(&format!("{id} to be delivered"), || async move {
        let mut x = exchange_client(reader).await?;
        let request = pb::GetRecordRequest { id: id.into() };
        if id.contains("-D-") {
            x.get_denial(request).await?;
        } else {
            x.get_alert(request).await?;
        }
        Ok(())
    })
    .await
    .unwrap();
}

fn section<'a>(answer: &'a Value, code: &str) -> &'a Value {
    answer["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["jurisdiction"] == code))
        .unwrap_or_else(|| panic!("no section for {code}: {answer:#}"))
}

async fn audit_of(dir: &NodeDir) -> Result<Vec<pb::AuditEntry>> {
    audit_entries(&dir.admin_profile()).await
}

fn entries<'a>(all: &'a [pb::AuditEntry], action: &str) -> Vec<&'a pb::AuditEntry> {
    all.iter().filter(|e| e.action == action).collect()
}

#[tokio::test]
async fn each_node_answers_at_its_level_and_never_outside_the_distribution() {
    let fed = Federation::start(&["DE", "FR", "JP", "IT"]).await.unwrap();
    let (de, fr, jp, it) = (fed.dir("DE"), fed.dir("FR"), fed.dir("JP"), fed.dir("IT"));
    let all = "DE,FR,JP,IT";
    register(de, "ops", all, "hit", "30d");
    register(fr, "ops", all, "full", "30d");
    register(jp, "ops", all, "summary", "30d");
    register(it, "ops", all, "hit", "2030-01-01T00:00:00Z");

    let fr_officer = fr.issue("officer", "oli");
    let fr_de = deny(
        &fr_officer,
        "Acme Trading FZE",
        "diverted via a free zone",
        &["DE"],
    )
    .await;
    let fr_jp = deny(
        &fr_officer,
        "Acme Trading FZE",
        "SECRET-FR-JP finding",
        &["JP"],
    )
    .await;
    let jp_analyst = jp.issue("analyst", "ana");
    let jp_de = alert(&jp_analyst, "ACME Trading", "same consignee", &["DE", "FR"]).await;
    let jp_it = alert(
        &jp_analyst,
        "Acme Trading FZE",
        "SECRET-JP-IT pattern",
        &["IT"],
    )
    .await;
    let it_fr = deny(
        &it.issue("officer", "oli"),
        "Acme Trading FZE",
        "SECRET-IT-FR",
        &["FR"],
    )
    .await;
    let de_analyst = de.issue("analyst", "ana");
    wait_held(&de_analyst, &fr_de).await;
    wait_held(&de_analyst, &jp_de).await;

    let tina = de.issue("taskforce", "tina");
    let answer = json(
        &tina,
        &["query", "party", "Acme Trading FZE", "--taskforce", "ops"],
    );
    let text = answer.to_string();
    for secret in [&fr_jp, &jp_it, &it_fr] {
        assert!(
            !text.contains(secret.as_str()),
            "{secret} revealed to DE: {answer:#}"
        );
    }
    assert!(
        !text.contains("SECRET"),
        "contents outside DE's distribution: {answer:#}"
    );
    assert_eq!(
        answer["sections"][0]["jurisdiction"], "DE",
        "own section first"
    );
    for code in ["DE", "FR", "JP", "IT"] {
        let s = section(&answer, code);
        assert_eq!(s["outcome"], "answered", "{s:#}");
        assert_eq!(s["signature"], "valid", "{s:#}");
    }

    // DE at hit: it holds FR's and JP's records naming DE; one reference, no entries.
    let s = section(&answer, "DE");
    assert_eq!(
        (s["level"].as_str(), s["hit"].as_bool()),
        (Some("hit"), Some(true))
    );
    assert!(s["reference"].as_str().unwrap().starts_with("DE-R-"));
    assert_eq!(s["entries"].as_array().unwrap().len(), 0);

    // FR at full: exactly its denial naming DE, as FR signed it.
    let s = section(&answer, "FR");
    assert_eq!(s["level"], "full");
    let e = s["entries"].as_array().unwrap();
    assert_eq!(e.len(), 1, "{s:#}");
    assert_eq!(e[0]["record"]["id"], fr_de.as_str());
    assert_eq!(e[0]["record"]["signature_valid"], true);
    assert_eq!(
        e[0]["record"]["denial"]["reason"],
        "diverted via a free zone"
    );

    // JP at summary: kind, issuer, date, category, score; no record.
    let s = section(&answer, "JP");
    assert_eq!(s["level"], "summary");
    let e = s["entries"].as_array().unwrap();
    assert_eq!(e.len(), 1, "{s:#}");
    assert_eq!(
        (e[0]["kind"].as_str(), e[0]["issuer"].as_str()),
        (Some("alert"), Some("JP"))
    );
    assert_eq!(e[0]["category"], "suspicious-shipment");
    assert!(e[0]["score"].as_f64().unwrap() >= 0.85);
    assert!(
        e[0]["date"].is_string() && e[0].get("record").is_none(),
        "{s:#}"
    );

    // IT at hit holds only a record for FR: for DE, not even a hit.
    let s = section(&answer, "IT");
    assert_eq!(
        (s["hit"].as_bool(), s["reference"].is_null()),
        (Some(false), true),
        "{s:#}"
    );

    // The same question from JP's member: FR reveals its record for JP, not DE's.
    let taro = jp.issue("taskforce", "taro");
    let answer = json(
        &taro,
        &["query", "party", "Acme Trading", "--taskforce", "ops"],
    );
    let e = section(&answer, "FR")["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["record"]["id"], fr_jp.as_str());

    // Audited at both ends: who, task force, question, level, record ids — not contents.
    let de_audit = audit_of(de).await.unwrap();
    let q = entries(&de_audit, "taskforce.query");
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(
        (q[0].actor.as_str(), q[0].record.as_str()),
        ("DE/taskforce/tina", "ops")
    );
    assert!(
        q[0].rationale.contains("party \"Acme Trading FZE\""),
        "{}",
        q[0].rationale
    );
    assert!(
        q[0].rationale.contains(&fr_de) && q[0].rationale.contains("JP answered at summary"),
        "{}",
        q[0].rationale
    );
    let fr_audit = audit_of(fr).await.unwrap();
    let a = entries(&fr_audit, "taskforce.answer");
    assert_eq!(a.len(), 2, "one answer per question: {a:?}");
    let to_de = a.iter().find(|e| e.actor == "DE/taskforce/tina").unwrap();
    assert!(to_de.rationale.contains("via node DE") && to_de.rationale.contains("level full"));
    assert!(to_de.rationale.contains(&fr_de) && !to_de.rationale.contains(&fr_jp));
    for e in de_audit
        .iter()
        .chain(&fr_audit)
        .filter(|e| e.action.starts_with("taskforce."))
    {
        assert!(
            !e.rationale.contains("diverted") && !e.rationale.contains("SECRET"),
            "{e:?}"
        );
    }
    let it_audit = audit_of(it).await.unwrap();
    assert!(entries(&it_audit, "taskforce.answer")
        .iter()
        .any(|e| e.actor == "DE/taskforce/tina" && e.rationale.contains("no hit")));
}

#[tokio::test]
async fn refusals_wrong_role_unregistered_non_member_closed_and_expired() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (fed.dir("DE"), fed.dir("FR"), fed.dir("JP"));
    register(de, "duo", "FR", "full", "30d");
    // FR registered "duo" with JP, not DE.
    register(fr, "duo", "JP", "full", "30d");
    let tina = de.issue("taskforce", "tina");
    let ask =
        |profile: &Path, tf: &str| cli(profile, &["query", "party", "Acme", "--taskforce", tf]);

    // Another role's certificate is refused, whatever the task force.
    for profile in [
        de.issue("analyst", "ana"),
        de.admin_profile(),
        de.issue("officer", "oli"),
    ] {
        let out = ask(&profile, "duo");
        assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    }
    // A task force the home node never registered.
    let out = ask(&jp.issue("taskforce", "taro"), "duo");
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));

    // DE's member is not a member at FR: FR refuses, and says why.
    let answer = json(&tina, &["query", "party", "Acme", "--taskforce", "duo"]);
    let s = section(&answer, "FR");
    assert_eq!(s["outcome"], "refused", "{s:#}");
    assert!(
        s["reason"]
            .as_str()
            .unwrap()
            .contains("DE is not a member of task force duo"),
        "{s:#}"
    );
    let fr_audit = audit_of(fr).await.unwrap();
    assert!(entries(&fr_audit, "taskforce.answer.refused")
        .iter()
        .any(|e| e.actor == "DE/taskforce/tina" && e.record == "duo"));

    // Closed.
    json(
        &de.admin_profile(),
        &["taskforce", "close", "duo", "--reason", "case closed"],
    );
    let out = ask(&tina, "duo");
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert!(stderr(&out).contains("closed"), "{}", stderr(&out));
    let shown = json(&tina, &["taskforce", "show", "duo"]);
    assert_eq!(shown["state"], "closed");

    // Expired: refused once its end date passes.
    register(de, "brief", "FR", "hit", "2s");
    eventually("task force brief to expire", || {
        let out = ask(&tina, "brief");
        async move {
            ensure!(
                out.status.code() == Some(9),
                "still answered: {}",
                stderr(&out)
            );
            ensure!(stderr(&out).contains("ended"), "{}", stderr(&out));
            Ok(())
        }
    })
    .await
    .unwrap();
    let de_audit = audit_of(de).await.unwrap();
    let refused = entries(&de_audit, "taskforce.query.refused");
    assert!(refused
        .iter()
        .any(|e| e.record == "duo" && e.rationale.contains("closed")));
    assert!(refused
        .iter()
        .any(|e| e.record == "brief" && e.rationale.contains("ended")));
}

#[tokio::test]
async fn a_stopped_peer_leaves_a_partial_answer_within_the_deadline() {
    let mut fed = Federation::start(&["DE", "FR", "JP", "IT"]).await.unwrap();
    for code in ["DE", "FR", "JP", "IT"] {
        register(fed.dir(code), "ops", "DE,FR,JP,IT", "summary", "30d");
    }
    let fr_officer = fed.dir("FR").issue("officer", "oli");
    let id = deny(&fr_officer, "Acme Trading", "diverted", &["DE"]).await;
    let tina = fed.dir("DE").issue("taskforce", "tina");
    let answer = json(
        &tina,
        &["query", "party", "Acme Trading", "--taskforce", "ops"],
    );
    assert_eq!(section(&answer, "JP")["outcome"], "answered");

    // JP freezes mid-conversation (its connections stay open); IT dies.
    let jp_pid = fed.node("JP").pid();
    // SAFETY: plain syscall on a pid this test owns.
    unsafe { libc::kill(jp_pid, libc::SIGSTOP) };
    fed.take("IT").kill();

    let answer = json(
        &tina,
        &["query", "party", "Acme Trading", "--taskforce", "ops"],
    );
    // SAFETY: as above.
    unsafe { libc::kill(jp_pid, libc::SIGCONT) };
    let fr = section(&answer, "FR");
    assert_eq!(
        (fr["outcome"].as_str(), fr["hit"].as_bool()),
        (Some("answered"), Some(true)),
        "{fr:#}"
    );
    assert_eq!(fr["entries"][0]["issuer"], "FR");
    for code in ["JP", "IT"] {
        let s = section(&answer, code);
        let outcome = s["outcome"].as_str().unwrap();
        assert!(
            matches!(outcome, "timed-out" | "unreachable"),
            "{code}: {s:#}"
        );
        assert!(!s["reason"].as_str().unwrap_or("").is_empty(), "{s:#}");
    }
    assert_eq!(
        section(&answer, "JP")["outcome"],
        "timed-out",
        "a frozen peer times out: {answer:#}"
    );
    let de_audit = audit_of(fed.dir("DE")).await.unwrap();
    let last = entries(&de_audit, "taskforce.query").pop().unwrap().clone();
    assert!(last.rationale.contains(&id), "{}", last.rationale);
    assert!(
        last.rationale.contains("JP timed out"),
        "{}",
        last.rationale
    );
}

#[tokio::test]
async fn query_rate_and_fan_out_are_limited() {
    let mut fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let de = fed.dir("DE").clone();
    fed.take("DE").terminate().await.unwrap();
    let config = de.config();
    let text: String = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .map(|line| match line.split(" = ").next() {
            Some("queries_per_minute_per_identity") => "queries_per_minute_per_identity = 1".into(),
            Some("query_burst_per_identity") => "query_burst_per_identity = 3".into(),
            Some("max_fanout") => "max_fanout = 1".into(),
            _ => line.to_owned(),
        })
        .map(|line| line + "\n")
        .collect();
    assert!(text.contains("max_fanout = 1"), "{text}");
    std::fs::write(&config, text).unwrap();
    fed.restart(&de).await.unwrap();
    wait_links(&de, &["FR", "JP"]).await.unwrap();
    register(&de, "pair", "FR", "hit", "30d");
    register(&de, "trio", "FR,JP", "hit", "30d");

    let tom = de.issue("taskforce", "tom");
    let out = cli(&tom, &["query", "party", "Acme", "--taskforce", "trio"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(stderr(&out).contains("at most 1 peers"), "{}", stderr(&out));

    let tina = de.issue("taskforce", "tina");
    for _ in 0..3 {
        json(&tina, &["query", "party", "Acme", "--taskforce", "pair"]);
    }
    let out = cli(&tina, &["query", "party", "Acme", "--taskforce", "pair"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(stderr(&out).contains("query limit"), "{}", stderr(&out));
    // The limit is per identity: another member still asks.
    let ute = de.issue("taskforce", "ute");
    json(&ute, &["query", "party", "Acme", "--taskforce", "pair"]);
}
