//! Lists over their life, between a real node process and the real CLI over
//! mTLS, with real SDN entries: a re-import reports what it added, removed
//! and changed, and which of the node's own parties newly match (their
//! applications awaiting a decision get open hits before the import is
//! answered); `screen show` prints one entry with its context; `screen
//! remove` deletes a list, audited, and only an admin may.

use std::path::{Path, PathBuf};

use concord_tests::*;
use serde_json::Value;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/screening")
        .join(path)
}

fn run(profile: &Path, json: bool, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--profile", path_str(profile)];
    if json {
        all.extend(["--output", "json"]);
    }
    all.extend_from_slice(args);
    let out = concord(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(profile: &Path, args: &[&str]) -> Value {
    let (code, stdout, stderr) = run(profile, true, args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

fn import(admin: &Path, dir: &str) -> Value {
    json(
        admin,
        &[
            "screen",
            "import",
            "--format",
            "ofac-csv",
            "--list",
            "ofac-sdn",
            path_str(&fixture(dir)),
        ],
    )
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn newly(v: &Value) -> Vec<(String, String)> {
    v["newly_matching"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["party_id"].as_str().unwrap_or_default().to_owned(),
                        m["source_id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn hit_status(shown: &Value, id: &str) -> String {
    shown["hits"]
        .as_array()
        .and_then(|a| a.iter().find(|h| h["id"] == id))
        .and_then(|h| h["status"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

#[tokio::test]
async fn reimports_report_changes_and_newly_matching_parties_and_lists_can_be_removed() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    let olivia = de.issue("officer", "olivia");
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "catalog",
        "import",
        path_str(&catalog),
    ]);

    // A new list: everything is added, nothing of ours matches Bank Melli yet.
    let first = import(&admin, "ofac-iran-banks-before");
    assert_eq!(first["added"], 12, "{first:#}");
    assert_eq!(
        (first["removed"].as_u64(), first["changed"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(!strings(&first["added_ids"]).contains(&"25578".to_owned()));

    let party = |name: &str, country: &str| {
        json(
            &olivia,
            &["party", "create", "--name", name, "--country", country],
        )["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let applicant = party("Nordwerk Krypto GmbH", "DE");
    let melli = party("National Bank of Iran", "IR");
    let license = json(
        &olivia,
        &[
            "license",
            "submit",
            "--applicant",
            &applicant,
            "--end-user",
            &melli,
            "--consignee",
            &melli,
            "--destination",
            "IR",
            "--end-use",
            "payment systems",
            "--item",
            "5A002:10:990000:EUR",
        ],
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let melli_hit = format!("{melli}/ofac-sdn/25578");
    let shown = json(&olivia, &["license", "show", &license]);
    assert_eq!(hit_status(&shown, &melli_hit), "absent", "{shown:#}");

    // The full list adds Bank Melli Iran, listed also as NATIONAL BANK OF
    // IRAN: the party newly matches, and its application has the open hit
    // by the time the import is answered.
    let second = import(&admin, "ofac-iran-banks");
    assert_eq!(second["added"], 1, "{second:#}");
    assert_eq!(strings(&second["added_ids"]), ["25578"]);
    assert_eq!(
        (second["removed"].as_u64(), second["changed"].as_u64()),
        (Some(0), Some(0))
    );
    let new = newly(&second);
    assert!(
        new.contains(&(melli.clone(), "25578".to_owned())),
        "{second:#}"
    );
    assert!(!new.iter().any(|(p, _)| *p == applicant), "{second:#}");
    let m = second["newly_matching"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["party_id"] == melli.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        strings(&m["applications"]),
        std::slice::from_ref(&license),
        "{m:#}"
    );
    assert!(second["rescored"].as_u64().unwrap_or(0) >= 1, "{second:#}");
    let shown = json(&olivia, &["license", "show", &license]);
    assert_eq!(hit_status(&shown, &melli_hit), "open", "{shown:#}");

    // The table says the same to a person.
    let (code, text, stderr) = run(
        &admin,
        false,
        &[
            "screen",
            "import",
            "--format",
            "ofac-csv",
            "--list",
            "ofac-sdn",
            path_str(&fixture("ofac-iran-banks")),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(text.contains("0 added, 0 removed, 0 changed"), "{text}");
    assert!(
        text.contains("None of this node's parties newly match"),
        "{text}"
    );

    // A changed entry the party already matched is changed, not newly matching.
    let third = import(&admin, "ofac-iran-banks-changed");
    assert_eq!(strings(&third["changed_ids"]), ["25578"], "{third:#}");
    assert_eq!(third["added"], 0, "{third:#}");
    assert!(
        !newly(&third).contains(&(melli.clone(), "25578".to_owned())),
        "{third:#}"
    );

    // One entry with everything the list says about it.
    let entry = json(&olivia, &["screen", "show", "ofac-sdn", "25578"]);
    assert_eq!(entry["name"], "BANK MELLI IRAN", "{entry:#}");
    assert!(strings(&entry["aliases"]).contains(&"NATIONAL BANK OF IRAN".to_owned()));
    assert!(
        strings(&entry["programs"]).contains(&"IFSR".to_owned()),
        "{entry:#}"
    );
    assert!(
        strings(&entry["addresses"])
            .iter()
            .any(|a| a.contains("Leninsky Prospekt 1")),
        "{entry:#}"
    );
    assert!(
        strings(&entry["countries"]).contains(&"RU".to_owned()),
        "{entry:#}"
    );
    assert_eq!(entry["expired"], false);
    let (code, text, _) = run(&olivia, false, &["screen", "show", "ofac-sdn", "25578"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("NATIONAL BANK OF IRAN") && text.contains("IFSR"),
        "{text}"
    );
    let (code, _, stderr) = run(&olivia, false, &["screen", "show", "ofac-sdn", "999999"]);
    assert_eq!(code, 7, "{stderr}");
    let (code, _, stderr) = run(&olivia, false, &["screen", "show", "no-such-list", "1"]);
    assert_eq!(code, 7, "{stderr}");

    // A match in a table carries the entry's context.
    let (code, text, _) = run(&olivia, false, &["screen", "query", "Bank Melli Iran"]);
    assert_eq!(code, 0);
    assert!(text.contains("programs") && text.contains("IFSR"), "{text}");
    let q = json(&olivia, &["screen", "query", "Bank Melli Iran"]);
    assert!(
        q["matches"][0]["programs"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{q:#}"
    );

    // Removal: an admin only, with a rationale, audited, and gone from screening.
    let (code, _, stderr) = run(
        &olivia,
        false,
        &["screen", "remove", "ofac-sdn", "--rationale", "x"],
    );
    assert_eq!(code, 5, "{stderr}");
    let (code, _, stderr) = run(&admin, false, &["screen", "remove", "ofac-sdn"]);
    assert_eq!(code, 6, "{stderr}");
    let (code, _, stderr) = run(
        &admin,
        false,
        &["screen", "remove", "denials", "--rationale", "x"],
    );
    assert_eq!(code, 6, "{stderr}");
    let removed = json(
        &admin,
        &[
            "screen",
            "remove",
            "ofac-sdn",
            "--rationale",
            "superseded by the consolidated list",
        ],
    );
    assert_eq!(removed["entries"], 13, "{removed:#}");
    let lists = json(&olivia, &["screen", "lists"]);
    assert!(!lists.to_string().contains("ofac-sdn"), "{lists:#}");
    let q = json(
        &olivia,
        &["screen", "query", "Bank Melli Iran", "--list", "ofac-sdn"],
    );
    assert_eq!(q["matches"].as_array().map(Vec::len), Some(0), "{q:#}");
    let (code, _, stderr) = run(
        &admin,
        false,
        &["screen", "remove", "ofac-sdn", "--rationale", "again"],
    );
    assert_eq!(code, 7, "{stderr}");
    let audit = audit_entries(&admin).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "watchlist.remove")
        .unwrap_or_else(|| panic!("no watchlist.remove entry"));
    assert_eq!(entry.record, "ofac-sdn");
    assert!(
        entry
            .rationale
            .contains("superseded by the consolidated list"),
        "{entry:?}"
    );
    assert!(
        audit.iter().any(|e| e.action == "watchlist.import"
            && e.rationale.contains("1 added, 0 removed, 0 changed")),
        "the import's audit entry names its changes"
    );
    // The removal re-scored the application: the hit on the removed list is gone.
    let shown = json(&olivia, &["license", "show", &license]);
    assert_eq!(hit_status(&shown, &melli_hit), "absent", "{shown:#}");
}
