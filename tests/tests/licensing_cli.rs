//! The licensing commands of the `concord` CLI against a real node: catalog
//! import (a malformed file is refused whole, naming its lines), parties,
//! a license from submission to approval, waivers, shipments, end-use checks,
//! disclosures — JSON output and exit codes as a script sees them.

use std::path::Path;

use concord_tests::*;
use serde_json::Value;

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

/// Runs with `--output json`, requiring success; returns the document.
fn json(profile: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(profile, &all);
    assert_eq!(code, 0, "concord {args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn fails(result: (i32, String, String), code: i32, kind: &str) -> String {
    let (got, _, stderr) = result;
    assert_eq!(got, code, "stderr: {stderr}");
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(
        lines[0].starts_with(&format!("concord: {kind}: ")),
        "{stderr}"
    );
    stderr
}

fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../catalog")
        .join(name);
    path_str(&path).to_owned()
}

#[tokio::test]
async fn catalog_import_refuses_a_malformed_file_naming_its_lines() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();

    let bad = root.path().join("bad.csv");
    std::fs::write(
        &bad,
        "code,title,category,tier,rationale\n\
         ML4,Bombs,military,3,Wassenaar ML4\n\
         3A001,Electronics,dual-use,2,Wassenaar 3A001\n\
         5A002,Cryptography,dual-use,9,Wassenaar 5A002\n\
         ML13,Armour,military,1,Wassenaar ML13\n\
         ML10,Aircraft,naval,3,Wassenaar ML10\n",
    )
    .unwrap();
    let stderr = fails(
        run(&admin, &["catalog", "import", path_str(&bad)]),
        6,
        "invalid-argument",
    );
    assert!(stderr.contains("line 4: tier"), "{stderr}");
    assert!(stderr.contains("line 6: category"), "{stderr}");
    assert!(stderr.contains("nothing imported"), "{stderr}");
    // Nothing reached the node.
    fails(run(&admin, &["catalog", "list"]), 7, "not-found");

    let bad_json = root.path().join("bad.json");
    std::fs::write(
        &bad_json,
        "[\n  {\"code\": \"ML4\", \"title\": \"Bombs\", \"category\": \"military\", \"tier\": 3, \"rationale\": \"r\"},\n  {\"code\": \"ML4\", \"title\": \"Again\", \"category\": \"military\", \"tier\": 3, \"rationale\": \"r\"}\n]\n",
    )
    .unwrap();
    let stderr = fails(
        run(&admin, &["catalog", "import", path_str(&bad_json)]),
        6,
        "invalid-argument",
    );
    assert!(
        stderr.contains("line 3: code ML4 is already listed at line 2"),
        "{stderr}"
    );
    // --format wins over the extension.
    let stderr = fails(
        run(
            &admin,
            &["catalog", "import", path_str(&bad_json), "--format", "csv"],
        ),
        6,
        "invalid-argument",
    );
    assert!(stderr.contains("header"), "{stderr}");

    // An officer may not import.
    let officer = de.issue("officer", "olivia");
    fails(
        run(&officer, &["catalog", "import", &sample("sample.csv")]),
        5,
        "permission-denied",
    );

    // Two good imports are two versions; the first stays readable.
    let v1 = json(&admin, &["catalog", "import", &sample("sample.csv")]);
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["source"], "sample.csv");
    assert_eq!(v1["actor"], "DE/admin/admin");
    let v2 = json(
        &admin,
        &[
            "catalog",
            "import",
            &sample("sample.json"),
            "--source",
            "Wassenaar 2025",
        ],
    );
    assert_eq!(v2["version"], 2);
    let listed = json(&officer, &["catalog", "list", "--version", "1"]);
    assert_eq!(listed["version"]["version"], 1);
    assert_eq!(listed["versions"].as_array().unwrap().len(), 2);
    assert_eq!(listed["entries"].as_array().unwrap().len(), 12);
    let military = json(&officer, &["catalog", "list", "--category", "military"]);
    assert!(military["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["category"] == "military"));
    let shown = json(&officer, &["catalog", "show", "ML4"]);
    assert_eq!(shown["versions"].as_array().unwrap().len(), 2);
    assert_eq!(shown["versions"][0]["entry"]["tier"], 3);
    fails(run(&officer, &["catalog", "show", "ZZ999"]), 7, "not-found");
}

#[tokio::test]
async fn an_officer_works_a_license_through_the_cli() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    json(&admin, &["catalog", "import", &sample("sample.csv")]);
    let officer = de.issue("officer", "olivia");
    let analyst = de.issue("analyst", "ana");

    let mut ids = Vec::new();
    for (name, country) in [
        ("Nordwerk Defence GmbH", "DE"),
        ("Acme Trading FZE", "AE"),
        ("Gulf Logistics LLC", "AE"),
    ] {
        let p = json(
            &officer,
            &[
                "party",
                "create",
                "--name",
                name,
                "--country",
                country,
                "--identifier",
                "lei:5493001KJTIIGC8Y1R12",
            ],
        );
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    let shown = json(&analyst, &["party", "show", &ids[1]]);
    assert_eq!(shown["name"], "Acme Trading FZE");
    let found = json(&analyst, &["party", "list", "--name", "acme"]);
    assert_eq!(found["parties"].as_array().unwrap().len(), 1);
    fails(
        run(
            &officer,
            &["party", "create", "--name", "X", "--country", "Narnia"],
        ),
        6,
        "invalid-argument",
    );

    let waiver = json(
        &officer,
        &[
            "waiver",
            "create",
            "--kind",
            "urgent-defense",
            "--destination",
            "AE",
            "--justification",
            "allied operation",
            "--valid-for",
            "30d",
        ],
    );
    let waiver_id = waiver["id"].as_str().unwrap().to_owned();

    let submitted = json(
        &officer,
        &[
            "license",
            "submit",
            "--applicant",
            &ids[0],
            "--end-user",
            &ids[1],
            "--consignee",
            &ids[2],
            "--destination",
            "AE",
            "--end-use",
            "border surveillance",
            "--item",
            "6A003:12:4500000:EUR:thermal cameras: cooled",
            "--item",
            "5A002:1:990000:eur",
        ],
    );
    let id = submitted["id"].as_str().unwrap().to_owned();
    assert_eq!(submitted["state"], "submitted");
    assert_eq!(
        submitted["items"][0]["description"],
        "thermal cameras: cooled"
    );
    assert_eq!(submitted["items"][1]["value"]["currency"], "EUR");
    let stderr = fails(
        run(
            &officer,
            &[
                "license",
                "submit",
                "--applicant",
                &ids[0],
                "--end-user",
                &ids[1],
                "--consignee",
                &ids[2],
                "--destination",
                "AE",
                "--end-use",
                "x",
                "--item",
                "XX123:1:1:EUR",
            ],
        ),
        6,
        "invalid-argument",
    );
    assert!(stderr.contains("XX123"), "{stderr}");

    // Illegal transition, then the legal path; an analyst may not decide.
    fails(
        run(
            &officer,
            &["license", "decide", &id, "--approve", "--rationale", "ok"],
        ),
        9,
        "failed-precondition",
    );
    json(
        &officer,
        &["license", "review", &id, "--rationale", "complete file"],
    );
    fails(
        run(
            &analyst,
            &["license", "decide", &id, "--approve", "--rationale", "ok"],
        ),
        5,
        "permission-denied",
    );
    fails(
        run(
            &officer,
            &["license", "decide", &id, "--deny", "--rationale", "no"],
        ),
        9,
        "failed-precondition",
    );
    let approved = json(
        &officer,
        &[
            "license",
            "decide",
            &id,
            "--approve",
            "--rationale",
            "end user verified",
        ],
    );
    assert_eq!(approved["state"], "approved");
    let last = approved["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["officer"], "DE/officer/olivia");
    assert_eq!(last["waivers"][0], waiver_id.as_str());

    let shown = json(&analyst, &["license", "show", &id]);
    assert_eq!(shown["history"].as_array().unwrap().len(), 3);
    assert_eq!(shown["matching_waivers"][0], waiver_id.as_str());
    let (code, table, _) = run(&analyst, &["license", "show", &id]);
    assert_eq!(code, 0);
    assert!(
        table.contains("History") && table.contains("DE/officer/olivia"),
        "{table}"
    );
    assert!(table.contains("Acme Trading FZE"), "{table}");
    let listed = json(&analyst, &["license", "list", "--state", "approved"]);
    assert_eq!(listed["licenses"].as_array().unwrap().len(), 1);
    fails(
        run(&analyst, &["license", "list", "--state", "pending"]),
        6,
        "invalid-argument",
    );

    let shipment = json(
        &officer,
        &[
            "shipment",
            "record",
            "--license",
            &id,
            "--origin",
            "DE",
            "--destination",
            "AE",
            "--route",
            "Hamburg",
            "--route",
            "Jebel Ali",
            "--shipped-at",
            "2d",
            "--reference",
            "BL-4711",
            "--item",
            "6A003:2:750000:EUR",
        ],
    );
    assert_eq!(shipment["route"][1], "Jebel Ali");
    assert_eq!(shipment["items"][0], "6A003 x2 750000 EUR");
    let shipments = json(&analyst, &["shipment", "list", "--license", &id]);
    assert_eq!(shipments["shipments"].as_array().unwrap().len(), 1);

    let check = json(
        &officer,
        &[
            "enduse",
            "record",
            &id,
            "--result",
            "pass",
            "--findings",
            "all units on site",
        ],
    );
    assert_eq!(check["result"], "pass");
    assert_eq!(check["alert_id"], Value::Null);
    fails(
        run(
            &officer,
            &[
                "enduse",
                "record",
                &id,
                "--result",
                "pass",
                "--findings",
                "x",
                "--alert",
                "--to",
                "FR",
            ],
        ),
        6,
        "invalid-argument",
    );

    let disclosure = json(
        &officer,
        &[
            "disclosure",
            "record",
            "--party",
            &ids[0],
            "--description",
            "shipped spare parts without a license",
        ],
    );
    assert_eq!(disclosure["recorded_by"], "DE/officer/olivia");
    let disclosures = json(&analyst, &["disclosure", "list", "--party", &ids[0]]);
    assert_eq!(disclosures["disclosures"].as_array().unwrap().len(), 1);

    // The default denial distribution: admins set it, everyone reads it.
    fails(
        run(&officer, &["license", "denial-distribution", "--to", "FR"]),
        5,
        "permission-denied",
    );
    let set = json(&admin, &["license", "denial-distribution", "--to", "FR"]);
    assert_eq!(set["to"][0], "FR");
    let shown = json(&analyst, &["license", "denial-distribution"]);
    assert_eq!(shown["updated_by"], "DE/admin/admin");
    let cleared = json(&admin, &["license", "denial-distribution", "--clear"]);
    assert_eq!(cleared["to"].as_array().unwrap().len(), 0);

    let revoked = json(
        &officer,
        &["license", "revoke", &id, "--rationale", "diversion"],
    );
    assert_eq!(revoked["state"], "revoked");
}
