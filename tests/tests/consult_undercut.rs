//! The no-undercut consultation across real nodes: FR denies an
//! application and tells DE; DE's approval of an essentially identical one
//! is refused naming FR's denial until DE has consulted FR and FR answered;
//! the consultation travels between DE and FR only. A multilateral breach
//! consultation reaches exactly its group, and its answers stay inside it.

use std::path::{Path, PathBuf};

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

/// `--output json`, requiring success.
fn json(profile: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(profile, &all);
    assert_eq!(code, 0, "concord {args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `--output json` that may fail, for polling.
fn try_json(profile: &Path, args: &[&str]) -> Result<Value> {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = run(profile, &all);
    ensure!(code == 0, "concord {args:?} exited {code}: {stderr}");
    Ok(serde_json::from_str(&stdout)?)
}

fn fails(result: (i32, String, String), code: i32, kind: &str) -> String {
    let (got, _, stderr) = result;
    assert_eq!(got, code, "stderr: {stderr}");
    assert!(
        stderr.starts_with(&format!("concord: {kind}: ")),
        "{stderr}"
    );
    stderr
}

fn catalog() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    path_str(&path).to_owned()
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// One jurisdiction's people: an officer, a second officer for four-eyes
/// decisions and an analyst, with a catalog imported.
struct Desk {
    officer: PathBuf,
    checker: PathBuf,
    analyst: PathBuf,
    admin: PathBuf,
}

impl Desk {
    fn open(dir: &NodeDir) -> Desk {
        let admin = dir.admin_profile();
        json(&admin, &["catalog", "import", &catalog()]);
        Desk {
            officer: dir.issue("officer", "olivia"),
            checker: dir.issue("officer", "oscar"),
            analyst: dir.issue("analyst", "ana"),
            admin,
        }
    }

    fn party(&self, name: &str, country: &str) -> String {
        str_of(
            &json(
                &self.officer,
                // Each application records its parties afresh.
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

    /// A license under review: applicant, end user, consignee, one item, destination.
    fn application(
        &self,
        applicant: &str,
        end_user: &str,
        item: &str,
        destination: &str,
    ) -> String {
        let applicant = self.party(applicant, "DE");
        let end_user = self.party(end_user, destination);
        let consignee = self.party("Gulf Logistics LLC", destination);
        let submitted = json(
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
                destination,
                "--end-use",
                "border surveillance",
                "--item",
                item,
            ],
        );
        let id = str_of(&submitted["id"]);
        json(
            &self.officer,
            &["license", "review", &id, "--rationale", "file complete"],
        );
        // A party named on a denial notice is a screening hit a person
        // confirms; what the approval then needs is what this test is about.
        let shown = json(&self.officer, &["license", "show", &id]);
        for hit in shown["hits"].as_array().into_iter().flatten() {
            if hit["status"] == "open" {
                json(
                    &self.officer,
                    &[
                        "license",
                        "dispose",
                        &id,
                        &str_of(&hit["id"]),
                        "--confirmed",
                        "--rationale",
                        "the denied party",
                    ],
                );
            }
        }
        id
    }

    /// `approve`, and the second officer's countersignature (with the
    /// override a confirmed match needs) when the decision waits for one.
    fn approve_and_countersign(&self, id: &str) -> (i32, String, String) {
        let (code, stdout, stderr) = self.approve(id);
        let pending = code == 0
            && serde_json::from_str::<Value>(&stdout).is_ok_and(|v| v["pending"].is_object());
        if !pending {
            return (code, stdout, stderr);
        }
        run(
            &self.checker,
            &[
                "--output",
                "json",
                "license",
                "countersign",
                id,
                "--rationale",
                "consultation read",
                "--override",
                "the partner raised no objection",
            ],
        )
    }

    fn approve(&self, id: &str) -> (i32, String, String) {
        run(
            &self.officer,
            &[
                "--output",
                "json",
                "license",
                "decide",
                id,
                "--approve",
                "--rationale",
                "end user verified",
            ],
        )
    }
}

/// FR denies thermal cameras for Acme Trading FZE in the Emirates and tells
/// DE; returns the denial's id once DE holds it.
async fn fr_denies_acme_to_de(fr: &Desk, de: &Desk) -> String {
    let fr_license = fr.application(
        "Lyon Optique SA",
        "Acme Trading FZE",
        "6A003:12:4500000:EUR:thermal cameras",
        "AE",
    );
    let denied = json(
        &fr.officer,
        &[
            "license",
            "decide",
            &fr_license,
            "--deny",
            "--rationale",
            "diversion to a sanctioned end user",
            "--to",
            "DE",
        ],
    );
    let denial = str_of(&denied["denial_id"]);
    eventually("DE to hold FR's denial", || {
        let analyst = de.analyst.clone();
        let denial = denial.clone();
        async move { try_json(&analyst, &["denial", "show", &denial]).map(|_| ()) }
    })
    .await
    .unwrap();
    denial
}

/// The consultation thread `id` as `profile`'s node holds it, once it has
/// `responses` responses.
async fn thread_with(profile: &Path, id: &str, responses: usize) -> Result<Value> {
    eventually(&format!("{id} with {responses} responses"), || {
        let profile = profile.to_owned();
        let id = id.to_owned();
        async move {
            let t = try_json(&profile, &["consult", "show", &id])?;
            let n = t["responses"].as_array().map_or(0, Vec::len);
            if n < responses {
                bail!("{id} has {n} responses");
            }
            Ok(t)
        }
    })
    .await
}

/// Waits until the issuer's outbox reports every recipient of `id` delivered.
async fn delivered(issuer: &Path, id: &str, thread: &str) -> Result<()> {
    eventually(&format!("{id} delivered"), || {
        let issuer = issuer.to_owned();
        let (id, thread) = (id.to_owned(), thread.to_owned());
        async move {
            let t = try_json(&issuer, &["consult", "show", &thread])?;
            let record = std::iter::once(&t["request"])
                .chain(t["responses"].as_array().into_iter().flatten())
                .find(|r| r["id"] == id.as_str())
                .cloned()
                .unwrap_or_default();
            let deliveries = record["deliveries"].as_array().cloned().unwrap_or_default();
            ensure!(!deliveries.is_empty(), "no deliveries of {id}");
            ensure!(
                deliveries.iter().all(|d| d["state"] == "delivered"),
                "{id}: {deliveries:?}"
            );
            Ok(())
        }
    })
    .await
}

#[tokio::test]
async fn approval_undercutting_a_peer_denial_waits_for_an_answered_consultation() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (
        Desk::open(fed.dir("DE")),
        Desk::open(fed.dir("FR")),
        Desk::open(fed.dir("JP")),
    );

    // FR denies thermal cameras for Acme Trading FZE in the Emirates and tells DE.
    let denial = fr_denies_acme_to_de(&fr, &de).await;

    // DE: the same end user (written differently), another dual-use camera
    // code is not needed — the same code, the same destination.
    let same = de.application(
        "Nordwerk Optics GmbH",
        "ACME Trading F.Z.E.",
        "6A003:10:4000000:EUR:thermal cameras",
        "AE",
    );
    // A different destination is no undercut and is approved at once.
    let elsewhere = de.application(
        "Nordwerk Optics GmbH",
        "Acme Trading FZE",
        "6A003:10:4000000:EUR:thermal cameras",
        "OM",
    );
    let (code, stdout, stderr) = de.approve_and_countersign(&elsewhere);
    assert_eq!(code, 0, "{stderr}");
    let approved: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(approved["state"], "approved");

    let stderr = fails(de.approve(&same), 9, "failed-precondition");
    assert!(stderr.contains(&denial), "{stderr}");
    assert!(stderr.contains("by FR"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "concord consult request --license {same} --denial {denial}"
        )),
        "{stderr}"
    );
    let check = json(&de.analyst, &["consult", "check", &same]);
    assert_eq!(check["blocked"], true);
    assert_eq!(check["findings"][0]["denial_id"], denial.as_str());

    // Only officers consult before approving; the request goes to FR alone.
    fails(
        run(
            &de.analyst,
            &[
                "consult",
                "request",
                "--license",
                &same,
                "--denial",
                &denial,
                "--text",
                "x",
            ],
        ),
        5,
        "permission-denied",
    );
    let request = json(
        &de.officer,
        &[
            "consult",
            "request",
            "--license",
            &same,
            "--denial",
            &denial,
            "--text",
            "Same end user; our exporter supplies spare parts for an installed system. Objection?",
        ],
    );
    let consultation = str_of(&request["id"]);
    assert!(consultation.starts_with("DE-C-"), "{consultation}");
    assert_eq!(request["recipients"], serde_json::json!(["FR"]));
    assert_eq!(request["request"]["denial_id"], denial.as_str());
    assert_eq!(request["request"]["license_id"], same.as_str());
    assert_eq!(request["signature_valid"], true);

    // Asked but not answered: still refused, now naming the pending consultation.
    let stderr = fails(de.approve(&same), 9, "failed-precondition");
    assert!(
        stderr.contains(&denial) && stderr.contains(&consultation),
        "{stderr}"
    );

    // FR holds it, signature verified; JP, not a party to it, never does.
    let at_fr = thread_with(&fr.analyst, &consultation, 0).await.unwrap();
    assert_eq!(at_fr["status"], "open");
    assert_eq!(at_fr["request"]["issuer"], "DE");
    assert_eq!(at_fr["request"]["signature_valid"], true);
    delivered(&de.officer, &consultation, &consultation)
        .await
        .unwrap();
    fails(
        run(&jp.analyst, &["consult", "show", &consultation]),
        7,
        "not-found",
    );
    let at_jp = json(&jp.analyst, &["consult", "list"]);
    assert_eq!(at_jp["consultations"].as_array().unwrap().len(), 0);

    // DE cannot answer its own request; FR asks for more (not an answer yet).
    fails(
        run(
            &de.officer,
            &[
                "consult",
                "respond",
                &consultation,
                "--position",
                "no-objection",
            ],
        ),
        9,
        "failed-precondition",
    );
    let more = json(
        &fr.officer,
        &[
            "consult",
            "respond",
            &consultation,
            "--position",
            "more-info",
            "--text",
            "Which installed system?",
        ],
    );
    assert_eq!(more["recipients"], serde_json::json!(["DE"]));
    let at_de = thread_with(&de.officer, &consultation, 1).await.unwrap();
    assert_eq!(at_de["status"], "more-info");
    fails(de.approve(&same), 9, "failed-precondition");

    // FR answers; a second answer is refused.
    let answer = json(
        &fr.analyst,
        &[
            "consult",
            "respond",
            &consultation,
            "--position",
            "no-objection",
            "--text",
            "Spare parts for the 2019 installation: no objection.",
        ],
    );
    let answer_id = str_of(&answer["id"]);
    fails(
        run(
            &fr.officer,
            &[
                "consult",
                "respond",
                &consultation,
                "--position",
                "objection",
                "--text",
                "x",
            ],
        ),
        8,
        "already-exists",
    );
    let at_de = thread_with(&de.officer, &consultation, 2).await.unwrap();
    assert_eq!(at_de["status"], "answered");
    assert_eq!(
        at_de["responses"][1]["response"]["position"],
        "no-objection"
    );
    assert_eq!(at_de["responses"][1]["signature_valid"], true);

    // Released: the approval goes through and its decision names the consultation.
    let (code, stdout, stderr) = de.approve_and_countersign(&same);
    assert_eq!(code, 0, "{stderr}");
    let approved: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(approved["state"], "approved");
    let rationale = str_of(&approved["history"].as_array().unwrap().last().unwrap()["rationale"]);
    assert!(
        rationale.contains(&consultation) && rationale.contains(&answer_id),
        "{rationale}"
    );
    let check = json(&de.officer, &["consult", "check", &same]);
    assert_eq!(check["blocked"], false);
    assert_eq!(check["findings"][0]["released_by"], consultation.as_str());
    // FR, whose denial was undercut, holds DE's signed notice of the grant
    // and shows it on the denial.
    let shown = eventually("FR to hold DE's notice of the grant", || {
        let officer = fr.officer.clone();
        let denial = denial.clone();
        async move {
            let d = try_json(&officer, &["denial", "show", &denial])?;
            ensure!(
                d["grants"].as_array().is_some_and(|g| !g.is_empty()),
                "not yet: {d}"
            );
            Ok(d)
        }
    })
    .await
    .unwrap();
    let grant = &shown["grants"][0];
    assert_eq!(grant["granted_by"], "DE", "{shown:#}");
    assert_eq!(grant["license_id"], same.as_str(), "{shown:#}");
    assert_eq!(grant["signature_valid"], true, "{shown:#}");
    assert!(
        grant["rationale"].as_str().unwrap().contains(&consultation),
        "{shown:#}"
    );
    let text = concord_ok(&[
        "--profile",
        path_str(&fr.officer),
        "denial",
        "show",
        &denial,
    ]);
    assert!(text.contains("Granted despite this denial"), "{text}");

    // Neither the request nor the answers ever reached JP.
    delivered(&fr.officer, &answer_id, &consultation)
        .await
        .unwrap();
    let at_jp = json(&jp.admin, &["consult", "list"]);
    assert_eq!(at_jp["consultations"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_breach_consultation_reaches_exactly_its_group() {
    let fed = Federation::start(&["DE", "FR", "IT", "JP"]).await.unwrap();
    let analyst = |code: &str| fed.dir(code).issue("analyst", "ana");
    let (de, fr, it, jp) = (analyst("DE"), analyst("FR"), analyst("IT"), analyst("JP"));
    json(
        &fed.dir("DE").admin_profile(),
        &["group", "create", "eu-partners", "--members", "FR,IT"],
    );

    let request = json(
        &de,
        &[
            "consult",
            "request",
            "--subject",
            "Suspected re-export of 9A012 through a Gulf broker",
            "--group",
            "eu-partners",
            "--text",
            "Did your exporters ship UAV parts to Falcon Aero Parts this year?",
        ],
    );
    let id = str_of(&request["id"]);
    assert_eq!(request["recipients"], serde_json::json!(["FR", "IT"]));
    assert_eq!(request["request"]["kind"], "breach");

    for member in [&fr, &it] {
        let t = thread_with(member, &id, 0).await.unwrap();
        assert_eq!(t["request"]["signature_valid"], true);
    }
    // IT answers the group: DE and FR hold the answer, JP nothing at all.
    let answer = json(
        &it,
        &[
            "consult",
            "respond",
            &id,
            "--position",
            "objection",
            "--text",
            "Two shipments in March; we are investigating.",
        ],
    );
    let answer_id = str_of(&answer["id"]);
    assert_eq!(answer["recipients"], serde_json::json!(["DE", "FR"]));
    for member in [&de, &fr] {
        let t = thread_with(member, &id, 1).await.unwrap();
        assert_eq!(t["status"], "answered");
        assert_eq!(t["responses"][0]["id"], answer_id.as_str());
    }
    delivered(&de, &id, &id).await.unwrap();
    delivered(&it, &answer_id, &id).await.unwrap();
    assert_eq!(
        json(&jp, &["consult", "list"])["consultations"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    fails(run(&jp, &["consult", "show", &id]), 7, "not-found");
    // A breach consultation is an analyst's; officers consult only about licenses.
    let officer = fed.dir("DE").issue("officer", "olivia");
    fails(
        run(
            &officer,
            &[
                "consult",
                "request",
                "--subject",
                "s",
                "--group",
                "eu-partners",
                "--text",
                "t",
            ],
        ),
        5,
        "permission-denied",
    );
}

/// A consultation carries its answer deadline in working days; past it
/// without an answer it is flagged at the requester (list, status,
/// metrics), and with `silence_means = "no-objection"` the gate lets the
/// approval through, saying why. Time moves through DE's clock.
#[tokio::test]
async fn a_consultation_unanswered_past_its_deadline_is_flagged_and_silence_can_release_the_gate() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de_dir = NodeDir::init(root.path(), "DE");
    let fr_dir = NodeDir::init(root.path(), "FR");
    // `pki init` wrote the defaults: ten working days, silence means nothing.
    let text = std::fs::read_to_string(de_dir.config()).unwrap();
    assert!(text.contains("answer_within_working_days = 10"), "{text}");
    let text = text.replace(
        "silence_means = \"nothing\"",
        "silence_means = \"no-objection\"",
    );
    assert!(text.contains("silence_means = \"no-objection\""), "{text}");
    std::fs::write(de_dir.config(), text).unwrap();
    let _de_node = NodeProcess::start(&de_dir).await.unwrap();
    let _fr_node = NodeProcess::start(&fr_dir).await.unwrap();
    peer_all(&[de_dir.clone(), fr_dir.clone()], &["DE", "FR"])
        .await
        .unwrap();
    let (de, fr) = (Desk::open(&de_dir), Desk::open(&fr_dir));

    let denial = fr_denies_acme_to_de(&fr, &de).await;
    let same = de.application(
        "Nordwerk Optics GmbH",
        "ACME Trading F.Z.E.",
        "6A003:10:4000000:EUR:thermal cameras",
        "AE",
    );
    let asked = json(
        &de.officer,
        &[
            "consult",
            "request",
            "--license",
            &same,
            "--denial",
            &denial,
            "--text",
            "we intend to approve; objection?",
        ],
    );
    let id = str_of(&asked["id"]);
    let listed = json(&de.officer, &["consult", "list"]);
    let mine = &listed["consultations"][0];
    assert_eq!(mine["id"], id.as_str(), "{listed:#}");
    assert_eq!(mine["overdue"], false, "{mine:#}");
    assert!(mine["answer_by"].is_string(), "{mine:#}");
    assert!(
        (10..=11).contains(&mine["working_days_left"].as_u64().unwrap()),
        "{mine:#}"
    );
    assert_eq!(
        mine["request"]["request"]["answer_within_working_days"], 10,
        "{mine:#}"
    );
    // FR sees the deadline DE signed.
    let at_fr = eventually("FR to hold the request", || {
        let officer = fr.officer.clone();
        let id = id.clone();
        async move { try_json(&officer, &["consult", "show", &id]) }
    })
    .await
    .unwrap();
    assert_eq!(at_fr["answer_by"], mine["answer_by"], "{at_fr:#}");
    fails(de.approve(&same), 9, "failed-precondition");

    // FR extends it once, within the 30 working days DE allowed.
    let extend = |days: &str| {
        run(
            &fr.officer,
            &[
                "consult",
                "extend",
                &id,
                "--working-days",
                days,
                "--text",
                "the licensing file is with another ministry",
            ],
        )
    };
    let beyond = fails(extend("31"), 9, "failed-precondition");
    assert!(beyond.contains("at most 30 working days"), "{beyond}");
    let (code, _, stderr) = extend("20");
    assert_eq!(code, 0, "{stderr}");
    fails(extend("25"), 8, "already-exists");
    let extended = eventually("DE to hold the extension", || {
        let officer = de.officer.clone();
        let id = id.clone();
        let before = mine["answer_by"].clone();
        async move {
            let t = try_json(&officer, &["consult", "show", &id])?;
            ensure!(t["answer_by"] != before, "not yet: {t}");
            Ok(t)
        }
    })
    .await
    .unwrap();
    assert!(
        extended["answer_by"].as_str() > mine["answer_by"].as_str(),
        "{extended:#}"
    );
    assert!(
        extended["working_days_left"].as_u64().unwrap() >= 19,
        "{extended:#}"
    );

    // Five weeks on DE's clock: twenty working days have passed unanswered.
    de_dir.advance_clock(std::time::Duration::from_secs(35 * 86_400));
    let late = eventually("the consultation to be overdue at DE", || {
        let officer = de.officer.clone();
        async move {
            let l = try_json(&officer, &["consult", "list"])?;
            ensure!(l["consultations"][0]["overdue"] == true, "{l}");
            Ok(l)
        }
    })
    .await
    .unwrap();
    assert_eq!(late["consultations"][0]["working_days_left"], 0);
    let status = json(&de.admin, &["status"]);
    assert_eq!(status["consultations_overdue"], 1, "{status:#}");
    assert_eq!(metric(&de_dir, "concord_consultations_overdue"), 1);
    let shown = concord_ok(&["--profile", path_str(&de.officer), "consult", "show", &id]);
    assert!(shown.contains("OVERDUE since"), "{shown}");

    // Silence counts as no objection here: the approval goes through and says so.
    let (code, stdout, stderr) = de.approve_and_countersign(&same);
    assert_eq!(code, 0, "{stderr}");
    let approved: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(approved["state"], "approved", "{approved:#}");
    let history = approved["history"].to_string();
    assert!(history.contains("silence"), "{approved:#}");
    assert!(history.contains(&id), "{approved:#}");
}

/// A requester withdraws its consultation: the recipients see it withdrawn,
/// it waits for no answer and is never overdue.
#[tokio::test]
async fn a_withdrawn_consultation_reaches_its_recipients_and_waits_for_nothing() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de_dir, fr_dir) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let (de, fr) = (Desk::open(&de_dir), Desk::open(&fr_dir));
    let asked = json(
        &de.analyst,
        &[
            "consult",
            "request",
            "--subject",
            "Suspected transshipment via a free zone",
            "--to",
            "FR",
            "--text",
            "have you seen these consignments?",
        ],
    );
    let id = str_of(&asked["id"]);
    eventually("FR to hold the request", || {
        let officer = fr.officer.clone();
        let id = id.clone();
        async move { try_json(&officer, &["consult", "show", &id]).map(|_| ()) }
    })
    .await
    .unwrap();
    // Only the requester withdraws.
    fails(
        run(
            &fr.officer,
            &[
                "consult",
                "withdraw",
                &id,
                "--rationale",
                "not ours to withdraw",
            ],
        ),
        9,
        "failed-precondition",
    );
    json(
        &de.analyst,
        &[
            "consult",
            "withdraw",
            &id,
            "--rationale",
            "the consignments were cleared",
        ],
    );
    fails(
        run(
            &de.analyst,
            &["consult", "withdraw", &id, "--rationale", "again"],
        ),
        9,
        "failed-precondition",
    );
    let at_fr = eventually("FR to see it withdrawn", || {
        let officer = fr.officer.clone();
        let id = id.clone();
        async move {
            let t = try_json(&officer, &["consult", "show", &id])?;
            ensure!(t["status"] == "withdrawn", "{t}");
            Ok(t)
        }
    })
    .await
    .unwrap();
    assert_eq!(at_fr["overdue"], false);
    let listed = json(&fr.officer, &["consult", "list", "--status", "withdrawn"]);
    assert_eq!(listed["consultations"][0]["id"], id.as_str(), "{listed:#}");
    // Past its deadline it is still not overdue anywhere.
    de_dir.advance_clock(std::time::Duration::from_secs(60 * 86_400));
    eventually("DE to read its new clock", || async {
        let log = fed.node("DE").log_text();
        ensure!(log.contains("clock offset changed"), "not yet");
        Ok(())
    })
    .await
    .unwrap();
    let status = json(&de.admin, &["status"]);
    assert_eq!(status["consultations_overdue"], 0, "{status:#}");
    // JP, never asked, holds nothing of it.
    let jp = fed.dir("JP").issue("analyst", "jo");
    let (code, _, _) = run(&jp, &["consult", "show", &id]);
    assert_eq!(code, 7);
}
