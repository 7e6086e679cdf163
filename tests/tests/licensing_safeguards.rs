//! Licensing safeguards between real node processes over real mTLS, through
//! the CLI as officers use it, with real SDN entries (Bank Melli Iran): an
//! application naming a listed party is refused approval until its hit is
//! disposed of; a false positive survives a re-import of the unchanged list
//! and reopens when the entry changes; a confirmed match is approved only
//! with a second officer's countersigned override, and the maker cannot
//! countersign; the risk floors put the Bank Melli case in `high` and flag
//! it; the score a decision records is the score shown at that moment;
//! shipments are checked against the licence; amendments keep history and
//! re-score; look-alike parties are refused unless overridden.

use std::path::{Path, PathBuf};

use concord_tests::*;
use serde_json::Value;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/screening")
        .join(path)
}

fn sample_catalog() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    path_str(&path).to_owned()
}

/// Runs the CLI as `profile`; (exit code, stdout, stderr).
fn run(profile: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--profile", path_str(profile)];
    all.extend_from_slice(args);
    let out = concord(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(profile: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--output", "json", "--profile", path_str(profile)];
    all.extend_from_slice(args);
    serde_json::from_str(&concord_ok(&all)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
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

fn import_list(admin: &Path, dir: &str) {
    concord_ok(&[
        "--profile",
        path_str(admin),
        "screen",
        "import",
        "--format",
        "ofac-csv",
        "--list",
        "ofac-sdn",
        path_str(&fixture(dir)),
    ]);
}

fn submit(officer: &Path, applicant: &str, end_user: &str, dest: &str, item: &str) -> String {
    let l = json(
        officer,
        &[
            "license",
            "submit",
            "--applicant",
            applicant,
            "--end-user",
            end_user,
            "--consignee",
            end_user,
            "--destination",
            dest,
            "--end-use",
            "payment systems",
            "--item",
            item,
        ],
    );
    l["id"].as_str().unwrap_or_default().to_owned()
}

fn review(officer: &Path, id: &str) {
    json(
        officer,
        &["license", "review", id, "--rationale", "taken up"],
    );
}

fn hits(v: &Value) -> Vec<Value> {
    v["hits"].as_array().cloned().unwrap_or_default()
}

fn open_hits(v: &Value) -> Vec<String> {
    hits(v)
        .iter()
        .filter(|h| h["status"] == "open")
        .filter_map(|h| h["id"].as_str().map(str::to_owned))
        .collect()
}

fn status_of_hit(v: &Value, id: &str) -> String {
    hits(v)
        .iter()
        .find(|h| h["id"] == id)
        .and_then(|h| h["status"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

#[tokio::test]
async fn listed_parties_wait_for_a_person_and_high_risk_for_two() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    let olivia = de.issue("officer", "olivia");
    let oscar = de.issue("officer", "oscar");
    let analyst = de.issue("analyst", "anna");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "catalog",
        "import",
        &sample_catalog(),
    ]);
    import_list(&admin, "ofac-iran-banks");

    // The case from the issue: Bank Melli Iran, 5A002 to IR.
    let applicant = party(&olivia, "Nordwerk Krypto GmbH", "DE");
    let melli = party(&olivia, "Bank Melli Iran", "IR");
    let id = submit(&olivia, &applicant, &melli, "IR", "5A002:10:990000:EUR");
    let risk = json(&analyst, &["risk", "show", &id]);
    assert_eq!(risk["band"], "high", "{risk:#}");
    assert_eq!(risk["flagged"], true, "{risk:#}");
    let kinds: Vec<&str> = risk["floors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"strong-match") && kinds.contains(&"top-tier-destination"),
        "{risk:#}"
    );
    let melli_hit = format!("{melli}/ofac-sdn/25578");
    assert_eq!(status_of_hit(&risk, &melli_hit), "open", "{risk:#}");
    let flagged = json(&analyst, &["risk", "flagged"]);
    assert!(flagged.to_string().contains(&id), "{flagged:#}");
    let shown = json(&analyst, &["license", "show", &id]);
    assert!(shown["open_hits"].as_u64().unwrap_or(0) >= 1, "{shown:#}");

    // Approval waits for every open hit, naming each and the command.
    review(&olivia, &id);
    let (code, _, stderr) = run(
        &olivia,
        &["license", "decide", &id, "--approve", "--rationale", "ok"],
    );
    assert_eq!(code, 9, "{stderr}");
    assert!(
        stderr.contains(&melli_hit) && stderr.contains("concord license dispose"),
        "{stderr}"
    );

    // Confirmed: the approval needs four eyes and an explicit override.
    for hit in open_hits(&risk) {
        json(
            &olivia,
            &[
                "license",
                "dispose",
                &id,
                &hit,
                "--confirmed",
                "--rationale",
                "it is the listed bank",
            ],
        );
    }
    let pending = json(
        &olivia,
        &[
            "license",
            "decide",
            &id,
            "--approve",
            "--rationale",
            "licence for a humanitarian payment channel",
            "--condition",
            "payments via the humanitarian channel only",
        ],
    );
    assert_eq!(pending["state"], "under-review", "{pending:#}");
    assert_eq!(pending["pending"]["officer"], "DE/officer/olivia");
    let score_at_decision = json(&analyst, &["risk", "show", &id])["score"].clone();
    let list = json(&oscar, &["license", "pending"]);
    assert!(list.to_string().contains(&id), "{list:#}");
    let (code, _, stderr) = run(
        &olivia,
        &[
            "license",
            "countersign",
            &id,
            "--rationale",
            "mine",
            "--override",
            "x",
        ],
    );
    assert_eq!(code, 5, "the maker cannot countersign: {stderr}");
    let (code, _, stderr) = run(
        &oscar,
        &["license", "countersign", &id, "--rationale", "seen"],
    );
    assert_eq!(code, 9, "{stderr}");
    assert!(stderr.contains("--override"), "{stderr}");
    let approved = json(
        &oscar,
        &[
            "license",
            "countersign",
            &id,
            "--rationale",
            "checked the channel agreement",
            "--override",
            "UN humanitarian exemption 2664",
        ],
    );
    assert_eq!(approved["state"], "approved", "{approved:#}");
    let last = approved["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["officer"], "DE/officer/olivia");
    assert_eq!(last["countersigned"]["officer"], "DE/officer/oscar");
    assert_eq!(
        last["countersigned"]["override_rationale"],
        "UN humanitarian exemption 2664"
    );
    assert_eq!(last["risk"]["score"], score_at_decision, "{last:#}");
    assert_eq!(last["risk"]["band"], "high");
    assert!(
        last["risk"]["confirmed_hits"]
            .to_string()
            .contains(&melli_hit),
        "{last:#}"
    );
    assert_eq!(
        approved["terms"]["conditions"][0],
        "payments via the humanitarian channel only"
    );
    let audit = audit_entries(&admin).await.unwrap();
    assert!(audit
        .iter()
        .any(|e| e.action == "screening.dispose" && e.actor == "DE/officer/olivia"));
    assert!(audit.iter().any(|e| e.action == "license.decide"
        && e.actor == "DE/officer/oscar"
        && e.rationale.contains("decided by DE/officer/olivia")));

    // Shipments: a refused check names itself; a discrepancy flags the licence.
    let (code, _, stderr) = run(
        &olivia,
        &[
            "shipment",
            "record",
            "--license",
            &id,
            "--origin",
            "DE",
            "--destination",
            "AE",
            "--item",
            "5A002:1:1000:EUR",
        ],
    );
    assert_eq!(code, 9, "{stderr}");
    assert!(stderr.contains("destination AE differs"), "{stderr}");
    let (code, _, stderr) = run(
        &olivia,
        &[
            "shipment",
            "record",
            "--license",
            &id,
            "--origin",
            "DE",
            "--destination",
            "IR",
            "--item",
            "5A002:11:1000:EUR",
        ],
    );
    assert_eq!(code, 9, "{stderr}");
    assert!(
        stderr.contains("exceed the licensed quantity 10"),
        "{stderr}"
    );
    json(
        &olivia,
        &[
            "shipment",
            "record",
            "--license",
            &id,
            "--origin",
            "DE",
            "--destination",
            "IR",
            "--item",
            "5A002:4:396000:EUR",
        ],
    );
    let s = json(
        &olivia,
        &[
            "shipment",
            "record",
            "--license",
            &id,
            "--origin",
            "DE",
            "--destination",
            "AE",
            "--item",
            "5A002:1:1000:EUR",
            "--discrepancy",
            "--rationale",
            "found rerouted via Dubai",
        ],
    );
    assert!(
        s["discrepancy"]["failed"]
            .to_string()
            .contains("destination"),
        "{s:#}"
    );
    let shown = json(&analyst, &["license", "show", &id]);
    assert_eq!(
        shown["review_flags"].as_array().map(Vec::len),
        Some(1),
        "{shown:#}"
    );
    let b = &shown["balances"][0];
    assert_eq!(
        (
            b["shipped_quantity"].as_u64(),
            b["remaining_quantity"].as_u64()
        ),
        (Some(5), Some(5)),
        "{shown:#}"
    );
}

#[tokio::test]
async fn false_positives_hold_until_the_entry_changes_and_amendments_rescore() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    let olivia = de.issue("officer", "olivia");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "catalog",
        "import",
        &sample_catalog(),
    ]);
    import_list(&admin, "ofac-iran-banks");

    let applicant = party(&olivia, "Nordwerk Krypto GmbH", "DE");
    // A German namesake, not the listed bank.
    let namesake = party(&olivia, "Melli Iran Bank", "DE");
    let (code, _, stderr) = run(
        &olivia,
        &[
            "party",
            "create",
            "--name",
            "MELLI IRAN BANK",
            "--country",
            "DE",
        ],
    );
    assert_eq!(
        code, 8,
        "a look-alike in the same country is refused: {stderr}"
    );
    assert!(
        stderr.contains(&namesake) && stderr.contains("--allow-similar"),
        "{stderr}"
    );
    json(
        &olivia,
        &[
            "party",
            "create",
            "--name",
            "MELLI IRAN BANK",
            "--country",
            "DE",
            "--allow-similar",
        ],
    );

    let id = submit(&olivia, &applicant, &namesake, "AE", "5A002:1:10000:EUR");
    let first = json(&olivia, &["risk", "show", &id]);
    let open = open_hits(&first);
    assert!(!open.is_empty(), "{first:#}");
    review(&olivia, &id);
    for hit in &open {
        json(
            &olivia,
            &[
                "license",
                "dispose",
                &id,
                hit,
                "--false-positive",
                "--rationale",
                "German foundation, registered 1998, no link to the bank",
            ],
        );
    }
    let after = json(&olivia, &["risk", "show", &id]);
    assert!(open_hits(&after).is_empty(), "{after:#}");

    // The unchanged list again: the disposition holds, also for a new application.
    import_list(&admin, "ofac-iran-banks");
    let id2 = submit(&olivia, &applicant, &namesake, "AE", "5A002:1:10000:EUR");
    let second = json(&olivia, &["risk", "show", &id2]);
    assert!(open_hits(&second).is_empty(), "{second:#}");
    for hit in &open {
        assert_eq!(status_of_hit(&second, hit), "false-positive", "{second:#}");
    }
    let approved = json(
        &olivia,
        &[
            "license",
            "decide",
            &id,
            "--approve",
            "--rationale",
            "namesake",
        ],
    );
    assert_eq!(
        approved["state"], "approved",
        "one officer decides below the four-eyes band: {approved:#}"
    );
    assert_eq!(
        approved["history"].as_array().unwrap().last().unwrap()["risk"]["open_hits"],
        serde_json::json!([])
    );

    // The listed entry changes: its false positive is open again.
    import_list(&admin, "ofac-iran-banks-changed");
    let melli_hit = open
        .iter()
        .find(|h| h.ends_with("/25578"))
        .cloned()
        .expect("the bank's own entry matched");
    let reopened = eventually("the re-import to re-screen the open application", || {
        let (olivia, id2, hit) = (olivia.clone(), id2.clone(), melli_hit.clone());
        async move {
            let v = json(&olivia, &["risk", "show", &id2]);
            anyhow::ensure!(status_of_hit(&v, &hit) == "open", "not yet: {v}");
            Ok(v)
        }
    })
    .await
    .unwrap();
    let h = hits(&reopened)
        .into_iter()
        .find(|h| h["id"] == melli_hit.as_str())
        .unwrap();
    assert_eq!(h["entry_changed"], true, "{h:#}");

    // Return, amend, resubmit: history kept, re-scored.
    review(&olivia, &id2);
    json(
        &olivia,
        &[
            "license",
            "decide",
            &id2,
            "--return",
            "--rationale",
            "end user unclear",
        ],
    );
    let clean = party(&olivia, "Hamburg Payment Systems AG", "DE");
    let amended = json(
        &olivia,
        &[
            "license",
            "amend",
            &id2,
            "--end-user",
            &clean,
            "--consignee",
            &clean,
            "--rationale",
            "applicant named the real end user",
        ],
    );
    assert_eq!(amended["revision"], 2);
    assert_eq!(amended["revisions"][0]["end_user"], namesake.as_str());
    assert_eq!(amended["state"], "returned");
    let rescored = json(&olivia, &["risk", "show", &id2]);
    assert_eq!(
        rescored["trigger"], "amendment to revision 2",
        "{rescored:#}"
    );
    assert!(hits(&rescored).is_empty(), "{rescored:#}");
    let again = json(
        &olivia,
        &["license", "resubmit", &id2, "--rationale", "corrected"],
    );
    assert_eq!(again["state"], "submitted");
    let actions: Vec<&str> = again["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["action"].as_str())
        .collect();
    assert_eq!(actions, ["submit", "review", "return", "amend", "resubmit"]);
}
