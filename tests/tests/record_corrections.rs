//! Corrections that travel, between real node processes over real mTLS:
//! an alert amended and then withdrawn reaches exactly its original
//! recipients (one of them down while it happened) and nobody else; every
//! listing shows its version and standing; a withdrawn alert stops counting
//! in a partner's risk score; a task-force summary shows a revoked denial
//! as revoked.

use std::path::Path;

use anyhow::ensure;
use concord_tests::*;
use serde_json::Value;

fn json(profile: &Path, args: &[&str]) -> Value {
    json_as(profile, args)
}

fn party(officer: &Path, name: &str, country: &str) -> String {
    json(
        officer,
        &["party", "create", "--name", name, "--country", country],
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The evidence of factor `name` in `id`'s assessment at `profile`'s node.
fn evidence(profile: &Path, id: &str, name: &str) -> Vec<String> {
    let a = json(profile, &["risk", "show", id]);
    a["factors"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["evidence"].as_array())
        .map(|e| {
            e.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_amended_then_withdrawn_alert_reaches_exactly_its_recipients_and_stops_counting() {
    let mut fed = Federation::start(&["DE", "FR", "JP", "NL"]).await.unwrap();
    let de = fed.dir("DE").clone();
    let fr = fed.dir("FR").clone();
    let jp = fed.dir("JP").clone();
    let nl = fed.dir("NL").clone();
    let anna = de.issue("analyst", "anna");
    let (fr_officer, jp_analyst, nl_analyst) = (
        fr.issue("officer", "felix"),
        jp.issue("analyst", "jun"),
        nl.issue("analyst", "noor"),
    );

    // FR has an application whose end user the alert will name.
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    concord_ok(&[
        "--profile",
        path_str(&fr.admin_profile()),
        "catalog",
        "import",
        path_str(&catalog),
    ]);
    let applicant = party(&fr_officer, "Lyon Optique SA", "FR");
    let end_user = party(&fr_officer, "Caspian Lens Trading LLC", "AZ");
    let license = json(
        &fr_officer,
        &[
            "license",
            "submit",
            "--applicant",
            &applicant,
            "--end-user",
            &end_user,
            "--consignee",
            &end_user,
            "--destination",
            "AZ",
            "--end-use",
            "survey optics",
            "--item",
            "6A003:1:50000:EUR",
        ],
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let raised = json(
        &anna,
        &[
            "alert",
            "raise",
            "--category",
            "diversion-suspected",
            "--severity",
            "high",
            "--summary",
            "Optics resold onward to a listed end user",
            "--subject-party",
            "Caspian Lens Trading LLC",
            "--to",
            "FR,JP",
        ],
    );
    let id = raised["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(raised["version"], 1, "{raised:#}");
    assert_eq!(raised["standing"], "in-force", "{raised:#}");
    let counted = eventually("FR to score the alert into the application", || async {
        let e = evidence(&fr_officer, &license, "alerts");
        ensure!(e.contains(&id), "not yet: {e:?}");
        Ok(e)
    })
    .await
    .unwrap();
    assert!(counted.contains(&id));
    eventually("JP to hold version 1", || async {
        let v = json(&jp_analyst, &["alert", "show", &id]);
        ensure!(v["versions"].as_array().map_or(0, Vec::len) == 1, "{v}");
        Ok(())
    })
    .await
    .unwrap();

    // JP goes down; DE corrects the alert, then withdraws it.
    let jp_node = fed.take("JP");
    jp_node.terminate().await.unwrap();
    let amended = json(
        &anna,
        &[
            "alert",
            "amend",
            &id,
            "--severity",
            "medium",
            "--rationale",
            "severity overstated in the first report",
        ],
    );
    assert_eq!(amended["version"], 2, "{amended:#}");
    assert_eq!(amended["alert"]["state"], "amended", "{amended:#}");
    assert_eq!(amended["alert"]["severity"], "medium", "{amended:#}");
    assert_eq!(amended["recipients"], serde_json::json!(["FR", "JP"]));
    let withdrawn = json(
        &anna,
        &[
            "alert",
            "withdraw",
            &id,
            "--rationale",
            "the resale was licensed after all",
        ],
    );
    assert_eq!(withdrawn["version"], 3, "{withdrawn:#}");
    assert_eq!(withdrawn["standing"], "withdrawn", "{withdrawn:#}");
    assert_eq!(withdrawn["active"], false);
    // Nothing changes after a withdrawal.
    let again = concord_json_as(
        &anna,
        &["alert", "amend", &id, "--summary", "x", "--rationale", "y"],
    );
    assert_eq!(again.status.code(), Some(9), "{again:?}");

    // FR shows it withdrawn, chained, everywhere it lists alerts ...
    let at_fr = eventually("FR to hold version 3", || async {
        let v = json(&fr_officer, &["alert", "show", &id]);
        ensure!(v["versions"].as_array().map_or(0, Vec::len) == 3, "{v}");
        Ok(v)
    })
    .await
    .unwrap();
    assert_eq!(at_fr["state"], "withdrawn", "{at_fr:#}");
    assert_eq!(at_fr["standing"], "withdrawn", "{at_fr:#}");
    assert!(at_fr["versions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["signature_valid"] == true));
    assert_eq!(
        at_fr["versions"][2]["alert"]["change_reason"],
        "the resale was licensed after all"
    );
    let listed = json(&fr_officer, &["alert", "list"]);
    let row = listed["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        (row["version"].clone(), row["standing"].clone()),
        (3.into(), "withdrawn".into())
    );
    let active = json(&fr_officer, &["alert", "list", "--active"]);
    assert!(
        !active.to_string().contains(&id),
        "a withdrawn alert is not in force: {active}"
    );
    // ... and it stops counting in the application's score.
    eventually("FR to re-score without the withdrawn alert", || async {
        let e = evidence(&fr_officer, &license, "alerts");
        ensure!(!e.contains(&id), "still counted: {e:?}");
        Ok(())
    })
    .await
    .unwrap();

    // JP, down while it happened, catches up on both versions.
    fed.restart(&jp).await.unwrap();
    let at_jp = eventually("JP to catch up to version 3", || async {
        let v = json(&jp_analyst, &["alert", "show", &id]);
        ensure!(v["versions"].as_array().map_or(0, Vec::len) == 3, "{v}");
        Ok(v)
    })
    .await
    .unwrap();
    assert_eq!(at_jp["standing"], "withdrawn", "{at_jp:#}");

    // NL was never a recipient and holds no version of it.
    let at_nl = concord_json_as(&nl_analyst, &["alert", "show", &id]);
    assert_eq!(at_nl.status.code(), Some(7), "{at_nl:?}");
    let delivered = json(&anna, &["alert", "show", &id]);
    for v in delivered["versions"].as_array().unwrap() {
        let to: Vec<&str> = v["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["recipient"].as_str())
            .collect();
        assert_eq!(to, ["FR", "JP"], "{v:#}");
    }

    let trail = audit_entries(&de.admin_profile()).await.unwrap();
    for action in ["alert.amend", "alert.withdraw"] {
        assert!(
            trail
                .iter()
                .any(|e| e.action == action && e.actor == "DE/analyst/anna"),
            "{action}"
        );
    }
}

#[tokio::test]
async fn a_task_force_summary_shows_a_revoked_denial_as_revoked() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    for dir in [&de, &fr] {
        json(
            &dir.admin_profile(),
            &[
                "taskforce",
                "create",
                "optics",
                "--mandate",
                "Diversion of thermal cameras",
                "--members",
                "DE,FR",
                "--ends",
                "30d",
                "--level",
                "summary",
            ],
        );
    }
    let felix = fr.issue("officer", "felix");
    let denial = json(
        &felix,
        &[
            "denial",
            "issue",
            "--party",
            "Caspian Lens Trading LLC",
            "--party-country",
            "AZ",
            "--item",
            "6A003",
            "--destination",
            "AZ",
            "--reason",
            "diversion risk",
            "--to",
            "DE",
        ],
    );
    let id = denial["id"].as_str().unwrap_or_default().to_owned();
    let member = de.issue("taskforce", "tara");
    let ask = || {
        json(
            &member,
            &[
                "query",
                "party",
                "Caspian Lens Trading LLC",
                "--taskforce",
                "optics",
            ],
        )
    };
    let entry = |answer: &Value| -> Value {
        answer["sections"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["jurisdiction"] == "FR"))
            .and_then(|s| s["entries"].as_array())
            .and_then(|e| e.first())
            .cloned()
            .unwrap_or(Value::Null)
    };
    let before = entry(&ask());
    assert_eq!(before["standing"], "in-force", "{before:#}");
    assert_eq!(before["version"], 1, "{before:#}");

    json(
        &felix,
        &["denial", "revoke", &id, "--reason", "appeal upheld"],
    );
    let answer = ask();
    let after = entry(&answer);
    assert_eq!(after["standing"], "revoked", "{answer:#}");
    assert_eq!(after["version"], 2, "{answer:#}");
    let fr_section = answer["sections"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["jurisdiction"] == "FR"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(fr_section["hit"], true, "{fr_section:#}");
    assert_eq!(fr_section["in_force"], false, "{fr_section:#}");
}

#[tokio::test]
async fn ids_count_per_kind_and_a_restored_node_reuses_none_a_partner_holds() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let de = fed.dir("DE").clone();
    let fr = fed.dir("FR").clone();
    let (anna, olivia, admin) = (
        de.issue("analyst", "anna"),
        de.issue("officer", "olivia"),
        de.admin_profile(),
    );
    let felix = fr.issue("officer", "felix");
    let deny = |profile: &Path| issue_denial_to(profile, "Zeta Dual-Use GmbH", "FR");
    assert_eq!(raise_alert_to(&anna, "first", "FR"), "DE-A-1");
    assert_eq!(deny(&olivia), "DE-D-1");
    assert_eq!(raise_alert_to(&anna, "second", "FR"), "DE-A-2");

    let backup = fed.root.path().join("de.backup");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "backup",
        "--out",
        path_str(&backup),
    ]);
    // After the backup: an alert FR receives, which the restore loses.
    assert_eq!(raise_alert_to(&anna, "lost in the restore", "FR"), "DE-A-3");
    eventually("FR to hold DE-A-3", || async {
        let v = concord_json_as(&felix, &["alert", "show", "DE-A-3"]);
        ensure!(v.status.success(), "not yet");
        Ok(())
    })
    .await
    .unwrap();

    fed.take("DE").terminate().await.unwrap();
    let data = de.dir.join("data");
    std::fs::rename(&data, de.dir.join("data.before-restore")).unwrap();
    concord_ok(&[
        "restore",
        "--from",
        path_str(&backup),
        "--data-dir",
        path_str(&data),
        "--config",
        path_str(&de.config()),
    ]);
    fed.restart(&de).await.unwrap();

    // DE numbers its next alert above what FR holds, once FR has said so:
    // short, and not DE-A-3 again.
    let next = eventually("DE to number an alert after FR reported", || async {
        let out = concord_json_as(
            &anna,
            &[
                "alert",
                "raise",
                "--category",
                "other",
                "--severity",
                "low",
                "--summary",
                "after the restore",
                "--to",
                "FR",
            ],
        );
        ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout)?;
        Ok(v["id"].as_str().unwrap_or_default().to_owned())
    })
    .await
    .unwrap();
    assert_eq!(next, "DE-A-4");
    assert_eq!(deny(&olivia), "DE-D-2");
    let at_fr = eventually("FR to hold DE-A-4", || async {
        let v = concord_json_as(&felix, &["alert", "show", "DE-A-4"]);
        ensure!(v.status.success(), "not yet");
        Ok(serde_json::from_slice::<Value>(&v.stdout)?)
    })
    .await
    .unwrap();
    assert_eq!(
        at_fr["versions"][0]["alert"]["summary"],
        "after the restore"
    );
    // The record FR held under DE-A-3 is still the one it was.
    let kept = json(&felix, &["alert", "show", "DE-A-3"]);
    assert_eq!(
        kept["versions"][0]["alert"]["summary"],
        "lost in the restore"
    );
}
