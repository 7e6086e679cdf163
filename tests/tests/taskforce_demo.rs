//! `concord demo` asks a task-force question: every node answers at its own
//! level, and only FR — the issuer of a denial naming DE — reveals it. Then
//! it shows the no-undercut rule: DE cannot approve what FR denied until DE
//! has consulted FR and FR has answered; JP never sees the consultation.

use concord_tests::*;

#[test]
fn the_demo_asks_a_joint_task_force() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("demo");
    let out = concord(&[
        "demo",
        "--once",
        "--dir",
        path_str(&dir),
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tf = &report["taskforce"];
    assert_eq!(tf["name"], "demo-ops");
    let denial = report["exchange"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "denial")
        .unwrap()["id"]
        .clone();
    let section = |j: &str| {
        tf["answer"]["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["jurisdiction"] == j)
            .unwrap_or_else(|| panic!("no {j} section: {tf:#}"))
            .clone()
    };
    for j in ["DE", "FR", "JP"] {
        let s = section(j);
        assert_eq!(s["outcome"], "answered", "{s:#}");
        assert_eq!(s["signature"], "valid", "{s:#}");
        assert_eq!(s["level"], tf["levels"][j], "{s:#}");
    }
    assert_eq!(section("DE")["hit"], true);
    assert_eq!(section("FR")["entries"][0]["record"]["id"], denial);
    assert_eq!(
        section("JP")["hit"],
        false,
        "JP answers for its own records only"
    );

    let c = &report["consultation"];
    let blocked = c["blocked"].as_str().unwrap_or_default();
    let denial_id = c["denial_id"].as_str().unwrap_or_default();
    assert!(
        denial_id.starts_with("FR-D-") && blocked.contains(denial_id),
        "the refusal names FR's denial: {c:#}"
    );
    // One blocked approval and its disposition: the open hit on FR's denial
    // notice stops the first approval; the officer confirms it, and the
    // approval of a confirmed match needs a second officer's countersignature.
    let hit = c["hit"].as_str().unwrap_or_default();
    assert!(
        hit.contains(denial_id)
            && c["blocked_by_hit"]
                .as_str()
                .is_some_and(|b| b.contains(hit)),
        "the first refusal names the open hit: {c:#}"
    );
    assert_eq!(c["countersigned_by"], "DE/officer/demo-checker", "{c:#}");
    assert!(
        c["four_eyes"]
            .as_str()
            .is_some_and(|r| r.contains("confirmed")),
        "{c:#}"
    );
    assert_eq!(c["recipients"], serde_json::json!(["FR"]), "{c:#}");
    assert_eq!(c["position"], "no-objection", "{c:#}");
    assert_eq!(c["state"], "approved", "{c:#}");
    assert!(
        c["rationale"]
            .as_str()
            .is_some_and(|r| r.contains(c["consultation_id"].as_str().unwrap_or("?"))),
        "the approval records the consultation: {c:#}"
    );
    assert_eq!(c["not_held_at"], serde_json::json!(["JP"]), "{c:#}");

    // The application was scored at submission, with FR's denial counted;
    // the factors shown add up to the score.
    let risk = &c["risk"];
    let factors = risk["factors"].as_array().cloned().unwrap_or_default();
    let total: i64 = factors.iter().map(|f| f[1].as_i64().unwrap_or(0)).sum();
    assert_eq!(Some(total), risk["score"].as_i64(), "{risk:#}");
    assert!(
        factors
            .iter()
            .any(|f| f[0] == "denials" && f[1].as_i64().unwrap_or(0) > 0),
        "FR's denial raised the score: {risk:#}"
    );
}
