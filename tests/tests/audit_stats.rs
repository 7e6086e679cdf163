//! `concord stats`: exchange counts on both sides of a federation, and public
//! statistics that name no peer, no party and no record.

use std::path::Path;

use anyhow::ensure;
use concord_tests::*;
use serde_json::Value;

fn json(profile: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--profile", path_str(profile), "--output", "json"];
    all.extend_from_slice(args);
    let text = concord_ok(&all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

#[tokio::test]
async fn statistics_count_exchanges_and_public_ones_name_nobody() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let analyst = de.issue("analyst", "ana");
    let officer = de.issue("officer", "oli");
    let alert = json(
        &analyst,
        &[
            "alert",
            "raise",
            "--category",
            "diversion-suspected",
            "--severity",
            "high",
            "--summary",
            "Consignee resells controlled FPGAs",
            "--subject-party",
            "Acme Trading FZE",
            "--to",
            "FR",
        ],
    );
    let denial = json(
        &officer,
        &[
            "denial",
            "issue",
            "--party",
            "Zeta Dual-Use GmbH",
            "--party-country",
            "ZZ",
            "--item",
            "3A001",
            "--destination",
            "ZZ",
            "--reason",
            "diversion risk",
            "--to",
            "FR",
        ],
    );
    let ids = [
        alert["id"].as_str().unwrap().to_owned(),
        denial["id"].as_str().unwrap().to_owned(),
    ];
    json(
        &officer,
        &["denial", "revoke", &ids[1], "--reason", "appeal upheld"],
    );

    // Licensing: one application decided, one pending.
    let catalog = fed.root.path().join("catalog.csv");
    std::fs::write(
        &catalog,
        "code,title,category,tier,rationale\nML4,Bombs,military,3,Wassenaar ML4\n",
    )
    .unwrap();
    json(
        &de.admin_profile(),
        &["catalog", "import", path_str(&catalog)],
    );
    let parties: Vec<String> = [
        "Applicant Alpha Ltd",
        "End User Beta LLC",
        "Consignee Gamma SA",
    ]
    .iter()
    .map(|name| {
        json(
            &officer,
            &["party", "create", "--name", name, "--country", "AE"],
        )["id"]
            .as_str()
            .unwrap()
            .to_owned()
    })
    .collect();
    let submit = || {
        json(
            &officer,
            &[
                "license",
                "submit",
                "--applicant",
                &parties[0],
                "--end-user",
                &parties[1],
                "--consignee",
                &parties[2],
                "--destination",
                "AE",
                "--end-use",
                "border surveillance",
                "--item",
                "ML4:1:100:EUR",
            ],
        )["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let licenses = [submit(), submit()];
    json(
        &officer,
        &[
            "license",
            "review",
            &licenses[0],
            "--rationale",
            "complete file",
        ],
    );
    json(
        &officer,
        &[
            "license",
            "decide",
            &licenses[0],
            "--approve",
            "--rationale",
            "end user verified",
        ],
    );

    json(
        &officer,
        &[
            "enduse",
            "record",
            &licenses[0],
            "--result",
            "pass",
            "--findings",
            "all units on site",
        ],
    );

    let fr_admin = fr.admin_profile();
    let fr_stats = eventually("FR to hold both records", || {
        let fr_admin = fr_admin.clone();
        async move {
            let s = json(&fr_admin, &["stats"]);
            ensure!(s["alerts"]["received"] == 1, "{s}");
            ensure!(s["denials"]["received"] == 1, "{s}");
            ensure!(s["denials"]["received_revoked"] == 1, "{s}");
            Ok(s)
        }
    })
    .await
    .unwrap();
    assert_eq!(
        fr_stats["alerts"]["received_by_category"]["diversion-suspected"],
        1
    );
    assert_eq!(fr_stats["denials"]["received_changes"], 1);
    assert_eq!(fr_stats["peers"][0]["jurisdiction"], "DE");
    assert_eq!(fr_stats["peers"][0]["alerts_received"], 1);

    let de_stats = json(&de.admin_profile(), &["stats"]);
    assert_eq!(de_stats["alerts"]["issued"], 1, "{de_stats}");
    assert_eq!(de_stats["alerts"]["issued_active"], 1);
    assert_eq!(
        de_stats["alerts"]["issued_by_category"]["diversion-suspected"],
        1
    );
    assert_eq!(de_stats["denials"]["issued"], 1);
    assert_eq!(de_stats["denials"]["issued_active"], 0);
    assert_eq!(de_stats["denials"]["issued_revoked"], 1);
    assert_eq!(de_stats["equivocations"], 0);
    assert_eq!(de_stats["peers"][0]["jurisdiction"], "FR");
    assert_eq!(de_stats["peers"][0]["alerts_sent"], 1);
    assert_eq!(de_stats["peers"][0]["denials_sent"], 1);
    let licensing = &de_stats["licensing"];
    assert_eq!(licensing["applications"], 2, "{licensing}");
    assert_eq!(licensing["decided"], 1);
    assert_eq!(licensing["pending"], 1);
    assert_eq!(licensing["by_outcome"]["approved"], 1);
    assert_eq!(licensing["end_use_checks"]["pass"], 1, "{licensing}");
    assert_eq!(licensing["shipments"], 0, "{licensing}");
    assert_eq!(licensing["appeals"], 0, "{licensing}");
    // Everything happened this year: one row, with the same counts.
    let year = &licensing["by_year"][0];
    assert_eq!(licensing["by_year"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        (
            &year["submitted"],
            &year["decided"],
            &year["end_use_checks"]
        ),
        (&licensing["applications"], &licensing["decided"], &1.into()),
        "{licensing}"
    );
    assert_eq!(licensing["by_state"]["submitted"], 1);
    let p50 = licensing["p50_days"].as_f64().unwrap();
    assert!((0.0..0.01).contains(&p50), "decided within seconds: {p50}");
    let table = concord_ok(&["--profile", path_str(&de.admin_profile()), "stats"]);
    assert!(table.contains("diversion-suspected"), "{table}");

    let public = json(&de.admin_profile(), &["stats", "--public"]);
    assert_eq!(public["licensing"]["decided"], 1, "{public}");
    for (node, other) in [(&de, "FR"), (&fr, "DE")] {
        let public = json(&node.admin_profile(), &["stats", "--public"]);
        assert_eq!(public["public"], true);
        assert!(public.get("peers").is_none(), "{public}");
        let text = public.to_string();
        for secret in [
            "Acme",
            "Zeta",
            "FPGA",
            "diversion risk",
            other,
            ids[0].as_str(),
            ids[1].as_str(),
            "-A-",
            "-D-",
            "Alpha",
            "Beta",
            "Gamma",
            parties[0].as_str(),
            licenses[0].as_str(),
            licenses[1].as_str(),
        ] {
            assert!(!text.contains(secret), "{secret:?} in public stats {text}");
        }
        // The counts are still there.
        assert_eq!(
            public["alerts"]["issued"].as_u64().unwrap()
                + public["alerts"]["received"].as_u64().unwrap(),
            1
        );
    }
}
