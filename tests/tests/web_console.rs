//! The web console in a real browser (headless Chromium over WebDriver,
//! the person's certificate imported from the PKCS#12 `pki issue` wrote),
//! against real node processes over HTTPS with client certificates.
//!
//! An officer submits an application, sees its open hit and cannot approve
//! it, disposes of it, and a second officer countersigns; an alert raised in
//! DE's console appears in FR's without a reload; no certificate, a revoked
//! one or another jurisdiction's gets nothing; a forged cross-site POST is
//! refused; an analyst gets no approval control and the endpoint refuses one.
//! An officer issues and amends a denial and amends an application (which
//! is re-scored); a task-force member sees one section per member; an
//! analyst screens an uploaded CSV file and downloads the results.
//! Screenshots of the main pages land in `target/screenshots/`.

use std::path::{Path, PathBuf};

use concord_tests::browser::Browser;
use concord_tests::*;
use fantoccini::Locator;
use serde_json::Value;

/// Turns the console on in `dir`'s node.toml; returns its origin.
fn enable_web(dir: &NodeDir) -> String {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut text = std::fs::read_to_string(dir.config()).unwrap();
    text.push_str(&format!("\n[web]\nlisten = \"{addr}\"\n"));
    std::fs::write(dir.config(), text).unwrap();
    format!("https://{addr}")
}

/// The PKCS#12 bundle and its password beside a profile `pki issue` wrote.
fn bundle(dir: &NodeDir, role: &str, name: &str) -> (PathBuf, String) {
    dir.issue(role, name);
    let p12 = dir.dir.join(format!("{role}-{name}.p12"));
    let password = std::fs::read_to_string(dir.dir.join(format!("{role}-{name}.p12-password")))
        .unwrap()
        .trim()
        .to_owned();
    (p12, password)
}

async fn person(dir: &NodeDir, role: &str, name: &str, origin: &str) -> Browser {
    let (p12, password) = bundle(dir, role, name);
    Browser::with_certificate(&p12, &password, &dir.dir.join("ca.crt"), origin)
        .await
        .unwrap()
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
        .unwrap()
        .to_owned()
}

/// The text of the first element matching `css`, once the page has one (a
/// click that navigates can return before the next page replaces this one).
async fn text_of(b: &Browser, css: &str) -> String {
    text_until(b, css, "").await
}

/// The text of `css` once it contains `want`.
async fn text_until(b: &Browser, css: &str, want: &str) -> String {
    let found = eventually(&format!("{css} to contain {want:?}"), || async {
        let t = b.client().find(Locator::Css(css)).await?.text().await?;
        if t.contains(want) {
            Ok(t)
        } else {
            anyhow::bail!("{css} reads {t:?}")
        }
    })
    .await;
    match found {
        Ok(t) => t,
        Err(e) => panic!("{e}\n{}", b.page_source().await.unwrap_or_default()),
    }
}

async fn fill(b: &Browser, css: &str, value: &str) {
    b.client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(value)
        .await
        .unwrap();
}

async fn choose(b: &Browser, css: &str, value: &str) {
    b.client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
}

async fn click(b: &Browser, css: &str) {
    b.client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn has(b: &Browser, css: &str) -> bool {
    b.client().find(Locator::Css(css)).await.is_ok()
}

/// The id of the application a page shows (`Application DE-L-1`).
async fn shown_application(b: &Browser) -> String {
    text_until(b, "h1", "Application ")
        .await
        .trim_start_matches("Application ")
        .to_owned()
}

#[tokio::test]
async fn officers_decide_in_the_browser_with_four_eyes_and_analysts_cannot() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let origin = enable_web(&de);
    let node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "catalog",
        "import",
        path_str(&catalog),
    ]);
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/screening/ofac-iran-banks");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "screen",
        "import",
        "--format",
        "ofac-csv",
        "--list",
        "ofac-sdn",
        path_str(&list),
    ]);
    let clerk = de.issue("officer", "clerk");
    let applicant = party(&clerk, "Nordwerk Krypto GmbH", "DE");
    let melli = party(&clerk, "Bank Melli Iran", "IR");

    // Olivia signs in and submits through the form.
    let olivia = person(&de, "officer", "olivia", &origin).await;
    olivia.goto(&format!("{origin}/")).await.unwrap();
    assert!(text_of(&olivia, "header")
        .await
        .contains("DE/officer/olivia"));
    olivia.screenshot("dashboard").await.unwrap();
    olivia
        .goto(&format!("{origin}/licenses/new"))
        .await
        .unwrap();
    choose(&olivia, "#applicant", &applicant).await;
    choose(&olivia, "#end_user", &melli).await;
    choose(&olivia, "#consignee", &melli).await;
    fill(&olivia, "#destination", "IR").await;
    fill(&olivia, "#end_use", "payment systems").await;
    fill(&olivia, "#code0", "5A002").await;
    fill(&olivia, "#quantity0", "10").await;
    fill(&olivia, "#value0", "9900.00").await;
    olivia.screenshot("submit-form").await.unwrap();
    click(&olivia, "#submit").await;
    let id = shown_application(&olivia).await;
    assert!(
        id.starts_with("DE-"),
        "{}\n{}",
        olivia.page_source().await.unwrap(),
        node.log_text()
    );
    let hits = text_of(&olivia, "#hits").await;
    assert!(
        hits.contains("BANK MELLI") || hits.contains("Bank Melli"),
        "{hits}"
    );
    assert!(hits.contains("open"), "{hits}");
    assert!(text_of(&olivia, "#hits-block")
        .await
        .contains("open screening hit"));
    olivia.screenshot("application-open-hit").await.unwrap();
    // The dashboard counts it, and its hit, from the briefs and hit counts.
    olivia.goto(&format!("{origin}/")).await.unwrap();
    assert_eq!(text_of(&olivia, "#awaiting-review .figure").await, "1");
    let open_hits: u32 = text_of(&olivia, "#open-hits .figure")
        .await
        .parse()
        .unwrap();
    assert!(open_hits >= 1, "{}", olivia.page_source().await.unwrap());
    assert!(text_of(&olivia, "main").await.contains(&id));
    olivia
        .goto(&format!("{origin}/licenses/{id}"))
        .await
        .unwrap();
    click(&olivia, "#review").await;
    text_until(&olivia, "#state", "under-review").await;
    // No approve option while the hit is open ...
    let options = text_of(&olivia, "#decision").await;
    assert!(!options.contains("approve"), "{options}");
    // ... and the domain refuses one anyway (the form's own token, forged value).
    let status = olivia
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const body = new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value,
                                               decision: 'approve', rationale: 'try'});
             fetch(location.pathname + '/decide', {method: 'POST', body})
               .then(r => r.text().then(t => done([r.status, t])));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        status[0],
        serde_json::json!(409),
        "an approval over an open hit is refused"
    );
    assert!(status[1].as_str().unwrap().contains("dispose"), "{status}");

    // Dispose of the hit as a confirmed match, then approve: four eyes.
    choose(&olivia, "#hits select[name=disposition]", "confirmed").await;
    fill(
        &olivia,
        "#hits input[name=rationale]",
        "it is the listed bank",
    )
    .await;
    click(&olivia, "#hits button.dispose").await;
    assert!(!text_until(&olivia, "#hits", "confirmed")
        .await
        .contains("open"));
    choose(&olivia, "#decision", "approve").await;
    fill(&olivia, "#rationale", "humanitarian payment channel").await;
    click(&olivia, "#decide").await;
    let pending = text_until(&olivia, "#pending", "approve").await;
    assert!(
        pending.contains("approve by DE/officer/olivia"),
        "{pending}"
    );
    assert!(
        !has(&olivia, "#countersign").await,
        "the maker cannot countersign"
    );

    // Oscar countersigns from his own browser.
    let oscar = person(&de, "officer", "oscar", &origin).await;
    oscar.goto(&format!("{origin}/")).await.unwrap();
    assert_eq!(
        text_of(&oscar, "#awaiting-countersignature .figure").await,
        "1"
    );
    oscar
        .goto(&format!("{origin}/licenses/{id}"))
        .await
        .unwrap();
    fill(&oscar, "#cs-rationale", "checked the channel agreement").await;
    fill(&oscar, "#override", "UN humanitarian exemption 2664").await;
    click(&oscar, "#countersign").await;
    text_until(&oscar, "#state", "approved").await;
    oscar.screenshot("application-approved").await.unwrap();

    // The trail tells the door, and nothing else differs.
    let entries = audit_entries(&admin).await.unwrap();
    assert!(entries
        .iter()
        .any(|e| e.action == "license.submit" && e.actor == "DE/officer/olivia via web"));
    assert!(entries
        .iter()
        .any(|e| e.action == "screening.dispose" && e.actor == "DE/officer/olivia via web"));

    // An analyst sees the application but no control, and is refused anyway.
    let anna = person(&de, "analyst", "anna", &origin).await;
    anna.goto(&format!("{origin}/screen")).await.unwrap();
    fill(&anna, "#name", "Bank Melli").await;
    click(&anna, "#screen").await;
    assert!(text_of(&anna, "table.matches").await.contains("25578"));
    anna.screenshot("screening").await.unwrap();
    let token: String = anna
        .client()
        .execute(
            "return document.querySelector('input[name=csrf]').value;",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    anna.goto(&format!("{origin}/licenses/{id}")).await.unwrap();
    assert!(!has(&anna, "#decide").await && !has(&anna, "#countersign").await);
    assert!(!has(&anna, "#hits button.dispose").await);
    let status = anna
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const body = new URLSearchParams({csrf: arguments[0], decision: 'deny', rationale: 'x'});
             fetch(location.pathname + '/decide', {method: 'POST', body}).then(r => done(r.status));",
            vec![serde_json::json!(token)],
        )
        .await
        .unwrap();
    assert_eq!(status, serde_json::json!(403));

    // A forged cross-site form, sent with Oscar's certificate, changes nothing.
    let forged = format!(
        "data:text/html,<form method=post action='{origin}/licenses/{id}/decide'>\
         <input name=decision value=deny><input name=rationale value=forged></form>\
         <script>document.forms[0].submit()</script>"
    );
    oscar.goto(&forged).await.unwrap();
    let refused = eventually("the forged POST to be answered", || async {
        let src = oscar.page_source().await?;
        if src.contains("Refused") {
            Ok(src)
        } else {
            anyhow::bail!("not yet: {src}")
        }
    })
    .await
    .unwrap();
    assert!(!refused.contains("DE-"), "{refused}");
    let after = json(&clerk, &["license", "show", &id]);
    assert_eq!(after["state"], "approved", "{after:#}");

    for b in [olivia, oscar, anna] {
        b.close().await;
    }
}

#[tokio::test]
async fn an_alert_raised_in_one_console_appears_in_the_partners_without_a_reload() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    let de_origin = enable_web(&de);
    let fr_origin = enable_web(&fr);
    let _de_node = NodeProcess::start(&de).await.unwrap();
    let _fr_node = NodeProcess::start(&fr).await.unwrap();
    peer_all(&[de.clone(), fr.clone()], &["DE", "FR"])
        .await
        .unwrap();

    let francois = person(&fr, "analyst", "francois", &fr_origin).await;
    francois.goto(&format!("{fr_origin}/alerts")).await.unwrap();
    eventually("FR's live stream to open", || async {
        let s = text_of(&francois, "#live-status").await;
        if s == "live" {
            Ok(())
        } else {
            anyhow::bail!("{s}")
        }
    })
    .await
    .unwrap();

    let anna = person(&de, "analyst", "anna", &de_origin).await;
    anna.goto(&format!("{de_origin}/alerts/new")).await.unwrap();
    choose(&anna, "#category", "diversion-suspected").await;
    choose(&anna, "#severity", "high").await;
    fill(
        &anna,
        "#summary",
        "Transshipment of 3A001 items via a free zone",
    )
    .await;
    fill(&anna, "#party", "Falcon Trading FZE | AE").await;
    anna.screenshot("raise-alert").await.unwrap();
    click(&anna, "input[name=to][value=FR]").await;
    click(&anna, "#raise").await;
    let title = text_until(&anna, "h1", "Alert ").await;
    let id = title.trim_start_matches("Alert ").to_owned();
    assert!(id.starts_with("DE-"), "{title}");
    assert_eq!(
        text_of(&anna, "#signature").await.split(' ').next(),
        Some("valid")
    );
    anna.screenshot("alert-record").await.unwrap();

    // FR's page, never reloaded, gains the row.
    let row = eventually("the alert to appear at FR without a reload", || async {
        let t = text_of(&francois, "#live-alert").await;
        if t.contains(&id) {
            Ok(t)
        } else {
            anyhow::bail!("not yet: {t}")
        }
    })
    .await
    .unwrap();
    assert!(row.contains("Transshipment of 3A001"), "{row}");
    francois.screenshot("alerts-live").await.unwrap();
    // Delivery shows on the issuer's record page.
    let delivered = eventually("DE's record page to show the delivery", || async {
        anna.goto(&format!("{de_origin}/alerts/{id}")).await?;
        let t = text_of(&anna, "#deliveries").await;
        if t.contains("delivered") {
            Ok(t)
        } else {
            anyhow::bail!("{t}")
        }
    })
    .await
    .unwrap();
    assert!(
        delivered.contains("FR") && delivered.contains("receipt verified"),
        "{delivered}"
    );
    anna.close().await;
    francois.close().await;
}

#[tokio::test]
async fn no_certificate_a_revoked_one_or_another_jurisdictions_gets_nothing() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    let origin = enable_web(&de);
    let _node = NodeProcess::start(&de).await.unwrap();
    let ca = de.dir.join("ca.crt");
    let _fr_node = NodeProcess::start(&fr).await.unwrap();
    peer_all(&[de.clone(), fr.clone()], &["DE", "FR"])
        .await
        .unwrap();
    let (anna_p12, anna_password) = bundle(&de, "analyst", "anna");
    raise_alert_to(
        &de.dir.join("analyst-anna.profile.toml"),
        "SECRET-SUMMARY",
        "FR",
    );

    let anonymous = Browser::without_certificate(&ca, &origin).await.unwrap();
    let _ = anonymous.goto(&format!("{origin}/alerts")).await;
    let src = anonymous.page_source().await.unwrap();
    assert!(
        !src.contains("SECRET-SUMMARY") && !src.contains("Concord DE"),
        "{src}"
    );
    anonymous.close().await;

    // FR's officer: a certificate of a CA the console does not accept.
    let (p12, password) = bundle(&fr, "officer", "francoise");
    let foreign = Browser::with_certificate(&p12, &password, &ca, &origin)
        .await
        .unwrap();
    let _ = foreign.goto(&format!("{origin}/alerts")).await;
    let src = foreign.page_source().await.unwrap();
    assert!(
        !src.contains("SECRET-SUMMARY") && !src.contains("Concord DE"),
        "{src}"
    );
    foreign.close().await;

    // A DE analyst sees the alert, until the certificate is revoked.
    let anna = Browser::with_certificate(&anna_p12, &anna_password, &ca, &origin)
        .await
        .unwrap();
    anna.goto(&format!("{origin}/alerts")).await.unwrap();
    assert!(anna.page_source().await.unwrap().contains("SECRET-SUMMARY"));
    anna.screenshot("alerts").await.unwrap();
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "revocation",
        "add",
        "--identity",
        "DE/analyst/anna",
        "--reason",
        "left",
    ]);
    anna.goto(&format!("{origin}/alerts")).await.unwrap();
    let src = anna.page_source().await.unwrap();
    assert!(
        src.contains("Refused") && !src.contains("SECRET-SUMMARY"),
        "{src}"
    );
    anna.close().await;
}

/// Replaces the value of the field `css` (a prefilled amend form).
async fn replace(b: &Browser, css: &str, value: &str) {
    let field = b
        .client()
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

#[tokio::test]
async fn denials_amendments_task_force_questions_and_file_screening_from_the_browser() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    let origin = enable_web(&de);
    let _de_node = NodeProcess::start(&de).await.unwrap();
    let _fr_node = NodeProcess::start(&fr).await.unwrap();
    peer_all(&[de.clone(), fr.clone()], &["DE", "FR"])
        .await
        .unwrap();
    let admin = de.admin_profile();
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/screening/ofac-iran-banks");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "screen",
        "import",
        "--format",
        "ofac-csv",
        "--list",
        "ofac-sdn",
        path_str(&list),
    ]);
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "catalog",
        "import",
        path_str(&catalog),
    ]);
    for dir in [&de, &fr] {
        json(
            &dir.admin_profile(),
            &[
                "taskforce",
                "create",
                "fpga",
                "--mandate",
                "Procurement network for controlled FPGAs",
                "--members",
                "DE,FR",
                "--ends",
                "30d",
                "--level",
                "summary",
            ],
        );
    }

    // An officer issues a denial to FR through the form ...
    let olivia = person(&de, "officer", "olivia", &origin).await;
    olivia.goto(&format!("{origin}/denials")).await.unwrap();
    click(&olivia, "#issue-denial").await;
    text_until(&olivia, "h1", "Issue a denial").await;
    fill(&olivia, "#party_name", "Falcon Trading FZE").await;
    fill(&olivia, "#country", "AE").await;
    fill(&olivia, "#items", "3A001 | frequency changers").await;
    fill(&olivia, "#destination", "AE").await;
    fill(&olivia, "#reason", "risk of diversion to a listed end user").await;
    click(&olivia, "input[name=to][value=FR]").await;
    olivia.screenshot("denial-issue-form").await.unwrap();
    click(&olivia, "#issue").await;
    let title = text_until(&olivia, "h1", "Denial ").await;
    let denial = title.trim_start_matches("Denial ").to_owned();
    assert!(denial.starts_with("DE-"), "{title}");
    assert_eq!(
        text_of(&olivia, "#signature").await.split(' ').next(),
        Some("valid")
    );
    // ... and amends it from its page: a second signed version, at FR too.
    replace(
        &olivia,
        "#amend_reason",
        "diversion to a listed end user confirmed",
    )
    .await;
    fill(&olivia, "#change_reason", "end-use check came back").await;
    click(&olivia, "#amend").await;
    text_until(&olivia, "#state", "version 2").await;
    let versions = text_of(&olivia, "#versions").await;
    assert_eq!(versions.matches("valid").count(), 2, "{versions}");
    olivia.screenshot("denial-amended").await.unwrap();
    let fr_officer = fr.issue("officer", "felix");
    let at_fr = eventually("FR to hold version 2", || async {
        let v = json(&fr_officer, &["denial", "show", &denial]);
        if v.to_string().contains("confirmed") {
            Ok(v)
        } else {
            anyhow::bail!("{v}")
        }
    })
    .await
    .unwrap();
    assert!(
        at_fr.to_string().contains("end-use check came back"),
        "{at_fr:#}"
    );
    let entries = audit_entries(&admin).await.unwrap();
    assert!(entries
        .iter()
        .any(|e| e.action == "denial.amend" && e.actor == "DE/officer/olivia via web"));

    // An application submitted clean and amended to a listed end user is
    // re-scored: the amendment brings the hit.
    let clerk = de.issue("officer", "clerk");
    let applicant = party(&clerk, "Nordwerk Krypto GmbH", "DE");
    let kestrel = party(&clerk, "Kestrel Optics Ltd", "GB");
    let melli = party(&clerk, "Bank Melli Iran", "IR");
    olivia
        .goto(&format!("{origin}/licenses/new"))
        .await
        .unwrap();
    choose(&olivia, "#applicant", &applicant).await;
    choose(&olivia, "#end_user", &kestrel).await;
    choose(&olivia, "#consignee", &kestrel).await;
    fill(&olivia, "#destination", "GB").await;
    fill(&olivia, "#end_use", "optical test benches").await;
    fill(&olivia, "#code0", "6A003").await;
    fill(&olivia, "#quantity0", "2").await;
    fill(&olivia, "#value0", "4100.00").await;
    click(&olivia, "#submit").await;
    let id = shown_application(&olivia).await;
    assert!(
        !has(&olivia, "#hits").await,
        "{}",
        olivia.page_source().await.unwrap()
    );
    click(&olivia, "#amend").await;
    text_until(&olivia, "h1", "Amend").await;
    choose(&olivia, "#end_user", &melli).await;
    replace(&olivia, "#end_use", "payment terminals").await;
    fill(
        &olivia,
        "#rationale",
        "the applicant named the real end user",
    )
    .await;
    olivia.screenshot("application-amend-form").await.unwrap();
    click(&olivia, "#submit").await;
    assert_eq!(shown_application(&olivia).await, id);
    let hits = text_of(&olivia, "#hits").await;
    assert!(
        hits.to_uppercase().contains("BANK MELLI") && hits.contains("open"),
        "{hits}"
    );
    assert!(text_of(&olivia, "#history")
        .await
        .contains("the applicant named the real end user"));
    let shown = json(&clerk, &["license", "show", &id]);
    assert_eq!(shown["end_user"], melli.as_str(), "{shown:#}");
    assert_eq!(shown["end_use"], "payment terminals", "{shown:#}");
    assert_eq!(shown["revision"], 2, "{shown:#}");

    // A task-force member asks; each jurisdiction's section arrives on its
    // own, each answering from the records it issued.
    let fr_denial = json(
        &fr_officer,
        &[
            "denial",
            "issue",
            "--party",
            "Falcon Trading FZE",
            "--party-country",
            "AE",
            "--item",
            "3A001",
            "--destination",
            "AE",
            "--reason",
            "same network",
            "--to",
            "DE",
        ],
    );
    let tess = person(&de, "taskforce", "tess", &origin).await;
    tess.goto(&format!("{origin}/taskforces")).await.unwrap();
    click(&tess, "a[href='/taskforces/fpga']").await;
    text_until(&tess, "#tf-state", "open").await;
    fill(&tess, "#name", "Falcon Trading FZE").await;
    click(&tess, "#ask").await;
    text_until(&tess, "#answers-complete", "All 2").await;
    let de_section = text_of(&tess, "#answer-DE").await;
    let fr_section = text_of(&tess, "#answer-FR").await;
    for s in [&de_section, &fr_section] {
        assert!(s.contains("Signed answer, verified"), "{s}");
        assert!(
            !s.contains("No hit"),
            "each issued a denial on the party: {s}"
        );
    }
    tess.screenshot("taskforce-answers").await.unwrap();

    // An application resembling FR's denial shows it on its page (read
    // through the application's risk set), blocked until FR answers.
    let fr_denial = fr_denial["id"].as_str().unwrap().to_owned();
    eventually("DE to hold FR's denial", || async {
        let v = json(&clerk, &["denial", "show", &fr_denial]);
        anyhow::ensure!(v["standing"] == "in-force", "{v}");
        Ok(())
    })
    .await
    .unwrap();
    let falcon = party(&clerk, "Falcon Trading FZE", "AE");
    let resembling = json(
        &clerk,
        &[
            "license",
            "submit",
            "--applicant",
            &applicant,
            "--end-user",
            &falcon,
            "--consignee",
            &falcon,
            "--destination",
            "AE",
            "--end-use",
            "motor drives",
            "--item",
            "3A001:4:20000:EUR",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    olivia
        .goto(&format!("{origin}/licenses/{resembling}"))
        .await
        .unwrap();
    let findings = text_until(&olivia, "#findings", &fr_denial).await;
    assert!(findings.contains("blocked until FR answers"), "{findings}");
    olivia.screenshot("application-peer-denial").await.unwrap();
    // She consults FR from the page; the dashboard shows the request with
    // its answer deadline in working days.
    fill(
        &olivia,
        "#findings input[name=text]",
        "we intend to approve; objection?",
    )
    .await;
    click(&olivia, "#findings button[type=submit]").await;
    olivia.goto(&format!("{origin}/")).await.unwrap();
    let waiting = text_until(&olivia, "#waiting", "working days left").await;
    assert!(waiting.contains("FR"), "{waiting}");
    assert_eq!(
        text_of(&olivia, "#consultations-overdue .figure").await,
        "0"
    );
    olivia
        .screenshot("dashboard-consultation-deadline")
        .await
        .unwrap();

    // An analyst screens an uploaded CSV file and downloads the results.
    let names = root.path().join("names.csv");
    std::fs::write(&names, "name\nBank Melli Iran\nQuiet Harbour Bakery\n").unwrap();
    let anna = person(&de, "analyst", "anna", &origin).await;
    anna.goto(&format!("{origin}/screen")).await.unwrap();
    fill(&anna, "#file", path_str(&names)).await;
    click(&anna, "#screen-batch").await;
    assert_eq!(
        text_of(&anna, "#batch-summary").await,
        "2 names screened, 1 with matches."
    );
    anna.screenshot("screening-file").await.unwrap();
    anna.goto(&format!("{origin}/screen")).await.unwrap();
    fill(&anna, "#file", path_str(&names)).await;
    let csv = anna
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const form = document.querySelector('#file').form;
             fetch('/screen/results.csv', {method: 'POST', body: new FormData(form)})
               .then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(csv[0], serde_json::json!(200), "{csv}");
    assert!(csv[1].as_str().unwrap().starts_with("text/csv"), "{csv}");
    let text = csv[2].as_str().unwrap();
    assert!(text.starts_with("query,"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Bank Melli Iran,") && l.to_uppercase().contains("MELLI")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("Quiet Harbour Bakery")),
        "{text}"
    );
    for b in [olivia, tess, anna] {
        b.close().await;
    }
}
