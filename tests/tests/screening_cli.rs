//! Screening through the `concord` CLI against real node processes over
//! mutual TLS: import a list, screen names, roles, and denial notices from a
//! peer becoming screenable.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context};
use concord_tests::*;
use serde_json::Value;

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/screening")
        .join(path)
}

fn json(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn screen(profile: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--profile", path_str(profile), "--output", "json", "screen"];
    all.extend_from_slice(args);
    concord(&all)
}

fn screen_ok(profile: &Path, args: &[&str]) -> String {
    let out = screen(profile, args);
    assert!(
        out.status.success(),
        "concord screen {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn first_id(result: &Value) -> Option<&str> {
    result["matches"][0]["source_id"].as_str()
}

#[tokio::test]
async fn an_imported_list_is_screened_through_the_cli() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    let analyst = de.issue("analyst", "ana");
    let officer = de.issue("officer", "olaf");
    let ofac = fixture("ofac");

    let imported = json(&screen_ok(
        &admin,
        &[
            "import",
            "--format",
            "ofac-csv",
            "--list",
            "ofac-sdn",
            path_str(&ofac),
        ],
    ));
    assert_eq!(imported["list"], "ofac-sdn");
    assert_eq!(imported["entries"], 306);
    assert_eq!(imported["replaced"], 0);
    assert_eq!(imported["malformed"].as_array().map(Vec::len), Some(0));

    // A misspelled, reordered name finds its entry first, with the JSON shape scripts rely on.
    let r = json(&screen_ok(
        &analyst,
        &["query", "Mousa", "Abu", "Marzouk", "--limit", "3"],
    ));
    assert_eq!(r["query"], "Mousa Abu Marzouk");
    assert_eq!(first_id(&r), Some("3754"), "{r:#}");
    let m = &r["matches"][0];
    for key in [
        "list",
        "source_id",
        "entity_type",
        "name",
        "matched_name",
        "score",
        "explanation",
    ] {
        assert!(!m[key].is_null(), "match lacks {key}: {m:#}");
    }
    assert_eq!(m["list"], "ofac-sdn");
    assert_eq!(m["entity_type"], "individual");
    assert!(
        m["score"]
            .as_f64()
            .is_some_and(|s| (0.85..=1.0).contains(&s)),
        "{m:#}"
    );
    let scores: Vec<f64> = r["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["score"].as_f64())
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );

    // Threshold and country filters.
    let none = json(&screen_ok(
        &analyst,
        &["query", "Banco Nacional de Cuba", "--country", "DE"],
    ));
    assert_eq!(
        none["matches"].as_array().map(Vec::len),
        Some(0),
        "{none:#}"
    );
    let swiss = json(&screen_ok(
        &analyst,
        &["query", "Banco Nacional de Cuba", "--country", "ch"],
    ));
    assert_eq!(first_id(&swiss), Some("306"));
    let loose = json(&screen_ok(
        &officer,
        &["query", "Banco Cuba", "--threshold", "0.3"],
    ));
    assert_eq!(first_id(&loose), Some("306"), "officers screen too");

    // A file of names: one JSON object per line, in order.
    let names = root.path().join("names.txt");
    std::fs::write(
        &names,
        "Osama bin Laden\n\nNobody Anywhere\nнациональный банк Кубы\nBANCO NACIONAL DE CUBA\n",
    )
    .unwrap();
    let out = screen_ok(&analyst, &["query", "--file", path_str(&names)]);
    let lines: Vec<Value> = out.lines().map(json).collect();
    let queries: Vec<&str> = lines.iter().filter_map(|l| l["query"].as_str()).collect();
    assert_eq!(
        queries,
        [
            "Osama bin Laden",
            "Nobody Anywhere",
            "национальный банк Кубы",
            "BANCO NACIONAL DE CUBA"
        ]
    );
    assert_eq!(first_id(&lines[0]), Some("6365"));
    assert_eq!(first_id(&lines[1]), None);
    assert_eq!(first_id(&lines[3]), Some("306"));

    // Only admins import; officers are refused by the node (exit 5).
    let refused = screen(
        &officer,
        &[
            "import",
            "--format",
            "ofac-csv",
            "--list",
            "x",
            path_str(&ofac),
        ],
    );
    assert_eq!(
        refused.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("permission-denied"));
    // Bad local input is refused before anything is sent (exit 6).
    let bad = screen(
        &admin,
        &[
            "import",
            "--format",
            "bis-dpl",
            "--list",
            "x",
            "/nonexistent.txt",
        ],
    );
    assert_eq!(bad.status.code(), Some(6));
    let bad = screen(&analyst, &["query", "x", "--country", "Cuba"]);
    assert_eq!(bad.status.code(), Some(6));

    // Malformed rows are reported with their lines and skipped; fields kept
    // as written are warnings; the rest is imported, and the exit status
    // (13, `warnings`) and the JSON say it was not clean.
    let out = screen(
        &admin,
        &[
            "import",
            "--format",
            "jsonl",
            "--list",
            "partners",
            path_str(&fixture("jsonl/malformed.jsonl")),
        ],
    );
    assert_eq!(out.status.code(), Some(13), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("concord: warnings: "));
    let partial = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(partial["entries"], 4);
    assert_eq!(partial["clean"], false);
    let lines = |key: &str| -> Vec<u64> {
        partial[key]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["line"].as_u64())
            .collect()
    };
    assert_eq!(lines("malformed"), [2, 3, 4, 7]);
    assert_eq!(lines("warnings"), [5, 6]);

    // A re-import replaces the list whole.
    let again = json(&screen_ok(
        &admin,
        &[
            "import",
            "--format",
            "jsonl",
            "--list",
            "ofac-sdn",
            path_str(&fixture("jsonl/parties.jsonl")),
        ],
    ));
    assert_eq!(
        (again["entries"].as_u64(), again["replaced"].as_u64()),
        (Some(4), Some(306))
    );
    let gone = json(&screen_ok(&analyst, &["query", "Mousa Abu Marzouk"]));
    assert_eq!(first_id(&gone), None, "{gone:#}");
    let acme = json(&screen_ok(&analyst, &["query", "Akme Trading FZE"]));
    assert_eq!(first_id(&acme), Some("X-1"));

    let lists = json(&screen_ok(&analyst, &["lists"]));
    let summary: Vec<(String, u64)> = lists["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap_or("").to_owned(),
                l["entries"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("denials".into(), 0),
            ("ofac-sdn".into(), 4),
            ("partners".into(), 4)
        ]
    );
}

#[tokio::test]
async fn imported_lists_survive_a_restart() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    screen_ok(
        &admin,
        &[
            "import",
            "--format",
            "bis-dpl",
            "--list",
            "bis-dpl",
            path_str(&fixture("bis/dpl.txt")),
        ],
    );
    assert!(node.terminate().await.unwrap().success());
    let _node = NodeProcess::start(&de).await.unwrap();
    let r = json(&screen_ok(&admin, &["query", "Aaron Abraham Villa"]));
    assert_eq!(first_id(&r), Some("aaron-abraham-villa"), "{r:#}");
    assert_eq!(r["matches"][0]["list"], "bis-dpl");
}

#[tokio::test]
async fn a_denial_notice_from_a_peer_becomes_screenable() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let fr_officer = fr.issue("officer", "odile");
    let de_analyst = de.issue("analyst", "ana");

    let issued = concord_ok(&[
        "--profile",
        path_str(&fr_officer),
        "--output",
        "json",
        "denial",
        "issue",
        "--party",
        "Zenith Photonics Trading LLC",
        "--alias",
        "Zenit Fotonika",
        "--party-country",
        "AE",
        "--item",
        "6A003",
        "--destination",
        "IR",
        "--reason",
        "diversion of thermal cameras",
        "--to",
        "DE",
    ]);
    let id = json(&issued)["id"]
        .as_str()
        .context("denial id")
        .unwrap()
        .to_owned();

    let found = eventually("DE to screen FR's denial", || {
        let profile = de_analyst.clone();
        async move {
            let out = screen(&profile, &["query", "Зенит Фотоника"]);
            ensure!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let r = json(&String::from_utf8_lossy(&out.stdout));
            ensure!(first_id(&r).is_some(), "no match yet");
            Ok(r)
        }
    })
    .await
    .unwrap();
    let m = &found["matches"][0];
    assert_eq!(
        (m["list"].as_str(), m["source_id"].as_str()),
        (Some("denials"), Some(id.as_str()))
    );
    assert_eq!(m["matched_name"], "Zenit Fotonika");

    // Revoked: no longer screened.
    concord_ok(&[
        "--profile",
        path_str(&fr_officer),
        "denial",
        "revoke",
        &id,
        "--reason",
        "overturned",
    ]);
    eventually("DE to drop the revoked denial", || {
        let profile = de_analyst.clone();
        async move {
            let r = json(&String::from_utf8_lossy(
                &screen(&profile, &["query", "Zenith Photonics Trading"]).stdout,
            ));
            ensure!(first_id(&r).is_none(), "still screened: {r}");
            Ok(())
        }
    })
    .await
    .unwrap();
    // FR screens its own denials too (revoked now, so nothing).
    let own = json(&screen_ok(
        &fr_officer,
        &["query", "Zenith Photonics Trading LLC"],
    ));
    assert_eq!(first_id(&own), None);
}
