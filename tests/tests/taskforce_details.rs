//! From a hit to the records, between real node processes: a member
//! requests details for a reference; the owning jurisdiction's analyst
//! approves or declines; the member fetches the records at the approved
//! level. Audited at both ends.

use std::path::Path;

use anyhow::Result;
use concord_proto::v1 as pb;
use concord_tests::*;
use concord_tests::{concord_json_as as cli, json_as as json};
use serde_json::Value;

async fn deny(officer: &Path, name: &str, to: &[&str]) -> String {
    let mut x = exchange_client(officer).await.unwrap();
    x.issue_denial(pb::IssueDenialRequest {
        party: Some(pb::Party {
            name: name.into(),
            country: "AE".into(),
            ..Default::default()
        }),
        items: vec![pb::DeniedItem {
            code: "ML4".into(),
            description: String::new(),
        }],
        destination: "SY".into(),
        reason: "end user is a listed entity".into(),
        distribution: Some(pb::Distribution {
            to: to.iter().map(|s| s.to_string()).collect(),
            groups: vec![],
        }),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .id
}

fn fr_section(answer: &Value) -> &Value {
    answer["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["jurisdiction"] == "FR"))
        .unwrap_or_else(|| panic!("no FR section: {answer:#}"))
}

async fn audit_of(dir: &NodeDir) -> Result<Vec<pb::AuditEntry>> {
    audit_entries(&dir.admin_profile()).await
}

fn has(all: &[pb::AuditEntry], action: &str, record: &str) -> bool {
    all.iter().any(|e| e.action == action && e.record == record)
}

#[tokio::test]
async fn a_hit_becomes_records_once_the_owner_approves() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (fed.dir("DE"), fed.dir("FR"), fed.dir("JP"));
    for dir in [de, fr, jp] {
        json(
            &dir.admin_profile(),
            &[
                "taskforce",
                "create",
                "ops",
                "--mandate",
                "Arms brokering network",
                "--members",
                "DE,FR,JP",
                "--ends",
                "30d",
                "--level",
                "hit",
            ],
        );
    }
    let id = deny(
        &fr.issue("officer", "oli"),
        "Orion Logistics",
        &["DE", "JP"],
    )
    .await;
    let tina = de.issue("taskforce", "tina");
    let answer = json(
        &tina,
        &["query", "party", "Orion Logistics", "--taskforce", "ops"],
    );
    let fr_answer = fr_section(&answer);
    assert_eq!(fr_answer["hit"], true, "{fr_answer:#}");
    assert!(fr_answer["entries"].as_array().unwrap().is_empty());
    let reference = fr_answer["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("FR-R-"), "{reference}");
    assert!(
        !answer.to_string().contains(&id),
        "a hit reveals no record id"
    );

    // A reference is only for the jurisdiction it was given to.
    let taro = jp.issue("taskforce", "taro");
    let out = cli(
        &taro,
        &[
            "query",
            "request-details",
            &reference,
            "--justification",
            "x",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let request = json(
        &tina,
        &[
            "query",
            "request-details",
            &reference,
            "--justification",
            "Same broker in our case 2026-041",
        ],
    );
    let request_id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (request["state"].as_str(), request["owner"].as_str()),
        (Some("pending"), Some("FR"))
    );
    let status = json(&tina, &["query", "details", &request_id]);
    assert_eq!(status["request"]["state"], "pending");
    assert!(status["answer"].is_null());

    // FR's analyst sees it; a member cannot decide it.
    let fr_analyst = fr.issue("analyst", "ana");
    let pending = json(&fr_analyst, &["query", "pending"]);
    let listed = &pending["requests"][0];
    assert_eq!(listed["id"], request_id.as_str());
    assert_eq!(listed["asker"], "concord://DE/taskforce/tina");
    assert_eq!(listed["justification"], "Same broker in our case 2026-041");
    let out = cli(
        &fr.issue("taskforce", "fred"),
        &["query", "approve", &request_id],
    );
    assert_eq!(out.status.code(), Some(5));

    let approved = json(
        &fr_analyst,
        &[
            "query",
            "approve",
            &request_id,
            "--level",
            "full",
            "--note",
            "case 2026-041 only",
        ],
    );
    assert_eq!(approved["state"], "approved");
    assert!(json(&fr_analyst, &["query", "pending"])["requests"]
        .as_array()
        .unwrap()
        .is_empty());

    let released = json(&tina, &["query", "details", &request_id]);
    assert_eq!(released["request"]["note"], "case 2026-041 only");
    let section = &released["answer"];
    assert_eq!(
        (section["signature"].as_str(), section["level"].as_str()),
        (Some("valid"), Some("full")),
        "{section:#}"
    );
    let entry = &section["entries"][0];
    assert_eq!(entry["reference"], reference.as_str());
    assert_eq!(entry["record"]["id"], id.as_str());
    assert_eq!(entry["record"]["signature_valid"], true);
    assert_eq!(entry["category"], "military");

    // A second request, declined.
    let answer = json(
        &tina,
        &["query", "party", "Orion Logistics", "--taskforce", "ops"],
    );
    let second = fr_section(&answer)["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = json(
        &tina,
        &[
            "query",
            "request-details",
            &second,
            "--justification",
            "again",
        ],
    );
    let second_id = request["id"].as_str().unwrap().to_owned();
    json(
        &fr_analyst,
        &[
            "query",
            "decline",
            &second_id,
            "--reason",
            "outside the mandate",
        ],
    );
    let declined = json(&tina, &["query", "details", &second_id]);
    assert_eq!(declined["request"]["state"], "declined");
    assert_eq!(declined["request"]["note"], "outside the mandate");
    assert!(declined["answer"].is_null());
    let out = cli(&fr_analyst, &["query", "approve", &second_id]);
    assert_eq!(out.status.code(), Some(9), "decided once");

    // Both ends keep the trail.
    let fr_audit = audit_of(fr).await.unwrap();
    for action in [
        "taskforce.details.request",
        "taskforce.details.approve",
        "taskforce.details.release",
    ] {
        assert!(
            has(&fr_audit, action, &request_id),
            "{action} missing at FR"
        );
    }
    assert!(has(&fr_audit, "taskforce.details.decline", &second_id));
    let de_audit = audit_of(de).await.unwrap();
    assert!(has(&de_audit, "taskforce.details.request", &request_id));
    let received = de_audit
        .iter()
        .find(|e| e.action == "taskforce.details.receive" && e.record == request_id)
        .unwrap();
    assert!(
        received.rationale.contains(&id) && received.rationale.contains("level full"),
        "{}",
        received.rationale
    );
    assert!(!received.rationale.contains("listed entity"));
}
