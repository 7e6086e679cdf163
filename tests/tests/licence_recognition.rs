//! Mutual recognition of licences across real nodes: DE shares an approved
//! licence with FR (not JP) as a signed licence notice; FR's officer
//! recognises it (audited), and FR's officers then see it when screening a
//! party it names and when checking a resembling application; DE's
//! revocation withdraws the notice at FR; a licence that runs out has its
//! notice shown expired at once and withdrawn by DE's sweep. Time moves
//! through the nodes' clocks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, ensure, Result};
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

fn try_json(profile: &Path, args: &[&str]) -> Result<Value> {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(profile, &all);
    ensure!(code == 0, "concord {args:?} exited {code}: {stderr}");
    Ok(serde_json::from_str(&stdout)?)
}

fn json(profile: &Path, args: &[&str]) -> Value {
    try_json(profile, args).unwrap_or_else(|e| panic!("{e}"))
}

fn fails(profile: &Path, args: &[&str], code: i32, kind: &str) -> String {
    let (got, _, stderr) = run(profile, args);
    assert_eq!(got, code, "concord {args:?}: {stderr}");
    assert!(
        stderr.starts_with(&format!("concord: {kind}: ")),
        "{stderr}"
    );
    stderr
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

fn catalog() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    path_str(&path).to_owned()
}

struct Desk {
    officer: PathBuf,
    checker: PathBuf,
    analyst: PathBuf,
}

impl Desk {
    fn open(dir: &NodeDir) -> Desk {
        json(&dir.admin_profile(), &["catalog", "import", &catalog()]);
        Desk {
            officer: dir.issue("officer", "olivia"),
            checker: dir.issue("officer", "oscar"),
            analyst: dir.issue("analyst", "ana"),
        }
    }

    fn party(&self, name: &str, country: &str) -> String {
        str_of(
            &json(
                &self.officer,
                &[
                    "party",
                    "create",
                    "--name",
                    name,
                    "--country",
                    country,
                    "--allow-similar",
                ],
            )["id"],
        )
    }

    /// An application under review for `end_user`, thermal cameras to AE.
    fn application(&self, end_user: &str) -> String {
        let applicant = self.party("Berlin Optik GmbH", "DE");
        let end_user = self.party(end_user, "AE");
        let consignee = self.party("Gulf Logistics LLC", "AE");
        let id = str_of(
            &json(
                &self.officer,
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
                    "AE",
                    "--end-use",
                    "space programme ground station",
                    "--item",
                    "6A003:4:900000:EUR:thermal cameras",
                ],
            )["id"],
        );
        json(
            &self.officer,
            &["license", "review", &id, "--rationale", "file complete"],
        );
        id
    }

    /// Approves `id` (valid for `days`), with the countersignature a
    /// four-eyes decision waits for.
    fn approve(&self, id: &str, days: &str) {
        let decided = json(
            &self.officer,
            &[
                "license",
                "decide",
                id,
                "--approve",
                "--valid-for",
                days,
                "--rationale",
                "joint programme, end user verified",
            ],
        );
        if decided["pending"].is_object() {
            json(
                &self.checker,
                &["license", "countersign", id, "--rationale", "file read"],
            );
        }
        let shown = json(&self.officer, &["license", "show", id]);
        assert_eq!(shown["state"], "approved", "{shown}");
    }
}

/// The notice `id` as `profile`'s node holds it, once `ready` holds.
async fn notice_at(profile: &Path, id: &str, ready: impl Fn(&Value) -> bool) -> Result<Value> {
    eventually(&format!("{id} at {}", profile.display()), || {
        let got = try_json(profile, &["partner-licence", "show", id]);
        let ok = got.as_ref().is_ok_and(&ready);
        async move {
            let v = got?;
            if !ok {
                bail!("not yet: {v}");
            }
            Ok(v)
        }
    })
    .await
}

fn partner_licences(screened: &Value) -> Vec<String> {
    screened["partner_licences"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| str_of(&m["notice_id"]))
        .collect()
}

#[tokio::test]
async fn a_licence_notice_is_recognised_shown_to_officers_and_withdrawn_by_revocation_and_expiry() {
    let mut fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let de = Desk::open(fed.dir("DE"));
    let fr = Desk::open(fed.dir("FR"));
    let jp_officer = fed.dir("JP").issue("officer", "olivia");

    // Only an approved licence in force is shared.
    let license = de.application("Emirates Space Agency");
    let refused = fails(
        &de.officer,
        &["partner-licence", "share", &license, "--to", "FR"],
        9,
        "failed-precondition",
    );
    assert!(refused.contains("under-review"), "{refused}");
    de.approve(&license, "365d");

    let shared = json(
        &de.officer,
        &[
            "partner-licence",
            "share",
            &license,
            "--to",
            "FR",
            "--text",
            "joint space programme with FR",
        ],
    );
    let notice = str_of(&shared["id"]);
    assert!(notice.starts_with("DE-C-"), "{shared}");
    assert_eq!(shared["recipients"], serde_json::json!(["FR"]));
    assert_eq!(shared["standing"], "in-force");
    assert_eq!(shared["decision"], Value::Null, "own notice: no decision");
    // The notice carries the licence's terms, never its internal file.
    let raw = shared.to_string();
    assert!(
        raw.contains("Emirates Space Agency") && raw.contains("6A003"),
        "{raw}"
    );
    assert!(
        !raw.contains("end user verified"),
        "the decision's rationale stays home: {raw}"
    );
    fails(
        &de.officer,
        &["partner-licence", "share", &license, "--to", "FR"],
        8,
        "already-exists",
    );
    fails(
        &de.analyst,
        &["partner-licence", "share", &license, "--to", "JP"],
        5,
        "permission-denied",
    );

    // FR holds it, signed by DE and undecided; JP holds nothing.
    let at_fr = notice_at(&fr.analyst, &notice, |_| true).await.unwrap();
    assert_eq!(at_fr["signature_valid"], true);
    assert_eq!(at_fr["decision"], "undecided");
    assert_eq!(at_fr["license_id"], license.as_str());
    fails(
        &jp_officer,
        &["partner-licence", "show", &notice],
        7,
        "not-found",
    );
    assert_eq!(
        json(&jp_officer, &["partner-licence", "list"])["notices"],
        serde_json::json!([])
    );

    // Undecided, it is nobody's context yet.
    let screened = json(&fr.officer, &["screen", "query", "Emirates Space Agency"]);
    assert!(partner_licences(&screened).is_empty(), "{screened}");

    fails(
        &fr.analyst,
        &["partner-licence", "recognise", &notice, "--rationale", "x"],
        5,
        "permission-denied",
    );
    fails(
        &de.officer,
        &["partner-licence", "recognise", &notice, "--rationale", "x"],
        9,
        "failed-precondition",
    );
    let recognised = json(
        &fr.officer,
        &[
            "partner-licence",
            "recognise",
            &notice,
            "--rationale",
            "joint programme under the 2026 agreement",
        ],
    );
    assert_eq!(recognised["decision"], "recognised");
    assert!(str_of(&recognised["decided_by"]).contains("FR/officer/olivia"));
    let trail = audit_entries(&fed.dir("FR").admin_profile()).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "license.recognise" && e.record == notice),
        "the recognition is audited"
    );
    assert_eq!(
        json(
            &fr.officer,
            &["partner-licence", "list", "--decision", "recognised"]
        )["notices"]
            .as_array()
            .map_or(0, Vec::len),
        1
    );

    // Recognised: shown when screening the party and deciding a resembling application.
    let screened = json(&fr.officer, &["screen", "query", "Emirates Space Agency"]);
    assert_eq!(
        partner_licences(&screened),
        vec![notice.clone()],
        "{screened}"
    );
    assert_eq!(screened["partner_licences"][0]["role"], "end user");
    let other = json(&fr.officer, &["screen", "query", "Lyon Optique SA"]);
    assert!(partner_licences(&other).is_empty(), "{other}");
    let fr_application = fr.application("Emirates Space Agency");
    let checked = json(&fr.officer, &["consult", "check", &fr_application]);
    assert_eq!(checked["blocked"], false);
    assert_eq!(
        checked["recognised_licences"][0]["notice_id"],
        notice.as_str(),
        "{checked}"
    );
    assert!(
        str_of(&checked["recognised_licences"][0]["resemblance"]).contains("same item 6A003"),
        "{checked}"
    );
    let (_, table, _) = run(&fr.officer, &["consult", "check", &fr_application]);
    assert!(table.contains("Recognised partner licences"), "{table}");

    // DE revokes the licence: the notice is withdrawn at FR and stops showing.
    json(
        &de.officer,
        &[
            "license",
            "revoke",
            &license,
            "--rationale",
            "end user breached the terms",
        ],
    );
    let withdrawn = notice_at(&fr.officer, &notice, |v| v["standing"] == "withdrawn")
        .await
        .unwrap();
    assert!(
        str_of(&withdrawn["withdrawal_reason"]).starts_with("revoked"),
        "{withdrawn}"
    );
    let screened = json(&fr.officer, &["screen", "query", "Emirates Space Agency"]);
    assert!(partner_licences(&screened).is_empty(), "{screened}");
    assert_eq!(
        json(&fr.officer, &["consult", "check", &fr_application])["recognised_licences"],
        serde_json::json!([])
    );
    fails(
        &fr.officer,
        &[
            "partner-licence",
            "recognise",
            &notice,
            "--rationale",
            "again",
        ],
        9,
        "failed-precondition",
    );
    let de_trail = audit_entries(&fed.dir("DE").admin_profile()).await.unwrap();
    assert!(de_trail
        .iter()
        .any(|e| e.action == "license.notice-withdraw" && e.rationale.contains(&notice)));

    // A licence that runs out: its notice is expired at FR as soon as FR's
    // clock passes its end, and DE's sweep withdraws it when DE's does.
    let short = de.application("Emirates Space Agency");
    de.approve(&short, "10d");
    let second = str_of(
        &json(
            &de.officer,
            &["partner-licence", "share", &short, "--to", "FR"],
        )["id"],
    );
    notice_at(&fr.officer, &second, |_| true).await.unwrap();
    json(
        &fr.officer,
        &[
            "partner-licence",
            "recognise",
            &second,
            "--rationale",
            "same programme",
        ],
    );
    let screened = json(&fr.officer, &["screen", "query", "Emirates Space Agency"]);
    assert_eq!(partner_licences(&screened), vec![second.clone()]);
    fed.dir("FR")
        .advance_clock(Duration::from_secs(11 * 86_400));
    // The node reads its clock offset file within 100 ms.
    notice_at(&fr.officer, &second, |v| v["standing"] == "expired")
        .await
        .unwrap();
    let screened = json(&fr.officer, &["screen", "query", "Emirates Space Agency"]);
    assert!(partner_licences(&screened).is_empty(), "{screened}");

    let de_dir = fed.dir("DE").clone();
    de_dir.advance_clock(Duration::from_secs(11 * 86_400));
    assert!(fed.take("DE").terminate().await.unwrap().success());
    fed.restart(&de_dir).await.unwrap();
    let swept = notice_at(&fr.officer, &second, |v| v["standing"] == "withdrawn")
        .await
        .unwrap();
    assert!(
        str_of(&swept["withdrawal_reason"]).starts_with("expired"),
        "{swept}"
    );
    assert_eq!(
        json(
            &de.officer,
            &["partner-licence", "list", "--standing", "withdrawn"]
        )["notices"]
            .as_array()
            .map_or(0, Vec::len),
        2
    );
}
