//! Risk scoring between real node processes over real mTLS, through the CLI
//! as officers and analysts use it: an application is scored at submission
//! and its explanation adds up; a partner's denial notice naming the same end
//! user re-scores it upward, flags it for review and writes an audit entry,
//! while the license stays where it was (the score never decides); a list
//! import re-scores too, under a jurisdiction's own overrides.

use std::path::Path;

use anyhow::{ensure, Context};
use concord_tests::*;
use serde_json::Value;

fn sample_catalog() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    path_str(&path).to_owned()
}

fn cli(profile: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--profile", path_str(profile)];
    all.extend_from_slice(args);
    concord(&all)
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

/// The license's assessment as `concord risk show --output json` prints it.
fn assessment(profile: &Path, id: &str) -> Value {
    json(profile, &["risk", "show", id])
}

fn factor<'a>(a: &'a Value, name: &str) -> &'a Value {
    a["factors"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no factor {name} in {a}"))
}

/// The factors' points add up to the score, which is within 0..=100.
fn adds_up(a: &Value) {
    let sum: i64 = a["factors"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["points"].as_i64()).sum())
        .unwrap_or(-1);
    assert_eq!(Some(sum), a["score"].as_i64(), "{a:#}");
    assert!((0..=100).contains(&sum), "{a:#}");
}

/// DE's officer submits `item` to `dest` for an end user there; returns the
/// license id.
fn submit(
    de: &NodeDir,
    officer: &Path,
    end_user: &str,
    consignee: &str,
    dest: &str,
    item: &str,
) -> String {
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "catalog",
        "import",
        &sample_catalog(),
    ]);
    let applicant = party(officer, "Nordwerk Defence GmbH", "DE");
    let end_user = party(officer, end_user, dest);
    let consignee = party(officer, consignee, dest);
    let submitted = cli(
        officer,
        &[
            "license",
            "submit",
            "--applicant",
            &applicant,
            "--end-user",
            &end_user,
            "--consignee",
            &consignee,
            "--destination",
            dest,
            "--end-use",
            "air defence",
            "--item",
            item,
        ],
    );
    let text = String::from_utf8_lossy(&submitted.stdout).into_owned();
    assert!(submitted.status.success(), "{text}");
    // The node scored the application before answering.
    assert!(text.contains("Risk score "), "{text}");
    text.split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_partner_denial_rescores_an_application_and_flags_it_for_review() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let officer = de.issue("officer", "olivia");
    let analyst = de.issue("analyst", "anna");
    let id = submit(
        &de,
        &officer,
        "Nordic Tech Supply OOO",
        "Baltic Forwarding OOO",
        "RU",
        // Dual-use: a military item to RU would sit at the embargoed-military
        // floor from the start.
        "9A012:2:1000000:EUR",
    );
    assert!(id.starts_with("DE-L-"), "{id}");

    // Scored at submission; the explanation adds up.
    let first = assessment(&analyst, &id);
    adds_up(&first);
    assert_eq!(first["trigger"], "submission");
    assert_eq!(first["methodology"], "concord-baseline 1.1");
    // 9A012 advanced dual-use 90% of 25 = 23; RU tier 3, 80% of 20 = 16.
    assert_eq!(first["score"], 39, "{first:#}");
    assert_eq!(factor(&first, "denials")["points"], 0);
    assert_eq!(first["flagged"], false);
    assert_eq!(first["band"], "medium");
    assert_eq!(first["floors"], serde_json::json!([]), "{first:#}");

    // FR denies the same end user, item and destination, and tells DE.
    let fr_officer = fr.issue("officer", "francois");
    let denial = json(
        &fr_officer,
        &[
            "denial",
            "issue",
            "--party",
            "NORDIC TECH SUPPLY",
            "--party-country",
            "RU",
            "--item",
            "ML4",
            "--destination",
            "RU",
            "--reason",
            "diversion to a sanctioned end user",
            "--to",
            "DE",
        ],
    );
    let denial_id = denial["id"].as_str().unwrap_or_default().to_owned();
    assert!(denial_id.starts_with("FR-D-"), "{denial}");

    // DE re-scores upward on arrival; the denial factor names FR's notice.
    let second = eventually("DE to re-score on FR's denial", || {
        let (analyst, id, denial_id) = (analyst.clone(), id.clone(), denial_id.clone());
        async move {
            let a = assessment(&analyst, &id);
            let evidence = &factor(&a, "denials")["evidence"];
            ensure!(
                evidence
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x == denial_id.as_str())),
                "not re-scored yet: {a}"
            );
            Ok(a)
        }
    })
    .await
    .unwrap();
    adds_up(&second);
    assert_eq!(second["previous_score"], 39, "{second:#}");
    assert_eq!(second["score"], 59, "{second:#}");
    assert!(
        second["trigger"]
            .as_str()
            .is_some_and(|t| t.contains(&denial_id)),
        "{second:#}"
    );
    let why = factor(&second, "denials")["explanation"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("names end user"), "{why}");

    // Below the review threshold, but a partner denied this end user: the
    // peer-denial floor puts it in `high` whatever the weights say, and it
    // is flagged, listed, audited.
    assert_eq!(second["flagged"], true);
    assert_eq!(second["band"], "high");
    assert_eq!(second["floors"][0]["kind"], "peer-denial", "{second:#}");
    let flagged = json(&officer, &["risk", "flagged"]);
    assert_eq!(flagged["assessments"][0]["license_id"], id.as_str());
    let export = de.dir.join("audit.jsonl");
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "audit",
        "export",
        "--out",
        path_str(&export),
    ]);
    let trail = std::fs::read_to_string(&export).unwrap();
    let flag: Vec<Value> = trail
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["action"] == "risk.flag")
        .collect();
    assert_eq!(flag.len(), 1, "{trail}");
    assert_eq!(flag[0]["record"], id.as_str());
    assert_eq!(flag[0]["actor"], "system");

    // The score never decides: the application still awaits its officer.
    let license = json(&officer, &["license", "show", &id]);
    assert_eq!(license["state"], "submitted");
    let shown = cli(&officer, &["license", "show", &id]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("Risk score 59/100 (high), flagged for review"),
        "{shown}"
    );

    // Reading needs a local officer, analyst or admin; unknown ids are not found.
    let missing = cli(&analyst, &["risk", "show", "DE-L-999"]);
    assert_eq!(missing.status.code(), Some(7), "{missing:?}");
    let member = de.issue("taskforce", "tom");
    let refused = cli(&member, &["risk", "show", &id]);
    assert_eq!(refused.status.code(), Some(5), "{refused:?}");
}

#[tokio::test]
async fn a_list_import_rescores_under_national_overrides() {
    let mut fed = Federation::start(&["DE"]).await.unwrap();
    let de = fed.dir("DE").clone();
    // DE sets its own threshold and rates AE higher than the baseline.
    fed.take("DE").terminate().await.unwrap();
    let mut config = de.read("node.toml");
    config.push_str("\n[risk]\nreview_threshold = 45\n\n[risk.destination_tiers]\nAE = 4\n");
    std::fs::write(de.config(), config).unwrap();
    fed.restart(&de).await.unwrap();

    let analyst = de.issue("analyst", "anna");
    let m = json(&analyst, &["risk", "methodology"]);
    assert_eq!(m["review_threshold"], 45);
    let source = m["source"].as_str().unwrap_or_default();
    assert!(source.contains("destination_tiers.AE"), "{m:#}");

    let officer = de.issue("officer", "olivia");
    let id = submit(
        &de,
        &officer,
        "Acme Trading FZE",
        "Gulf Logistics LLC",
        "AE",
        "ML4:2:1000000:EUR",
    );
    let first = assessment(&analyst, &id);
    adds_up(&first);
    // ML4 25; AE tier 4 here: 20. Flagged from the start under DE's threshold.
    assert_eq!(first["score"], 45, "{first:#}");
    assert_eq!(first["flagged"], true);

    let list = de.dir.join("parties.jsonl");
    std::fs::write(
        &list,
        "{\"id\": \"X-7\", \"name\": \"GULF LOGISTICS\", \"type\": \"entity\"}\n",
    )
    .unwrap();
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "screen",
        "import",
        "--format",
        "jsonl",
        "--list",
        "watch",
        path_str(&list),
    ]);
    let second = eventually("DE to re-score on the import", || {
        let (analyst, id) = (analyst.clone(), id.clone());
        async move {
            let a = assessment(&analyst, &id);
            let points = factor(&a, "screening")["points"]
                .as_i64()
                .context("points")?;
            ensure!(points > 0, "not re-scored yet: {a}");
            Ok(a)
        }
    })
    .await
    .unwrap();
    adds_up(&second);
    assert_eq!(second["trigger"], "list import watch", "{second:#}");
    assert_eq!(factor(&second, "screening")["evidence"][0], "watch:X-7");
}
