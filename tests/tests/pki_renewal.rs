//! Renewing certificates before they expire, and replacing a CA, across real
//! processes: the node certificate is renewed while the node runs and served
//! after a restart, partners keep exchanging records without touching their
//! trust; a new CA needs the partner's out-of-band check and the people's
//! certificates reissued;
//! and a person's certificate is replaced in place.

use std::path::Path;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use concord_tests::*;

const DAY_MS: i64 = 86_400_000;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

async fn node_cert_expiry(dir: &NodeDir) -> i64 {
    let status = status_of(&dir.admin_profile()).await.unwrap();
    status
        .certificates
        .iter()
        .find(|c| c.name == "node")
        .map(|c| c.not_after_unix_ms)
        .unwrap_or_else(|| panic!("no node certificate in {:?}", status.certificates))
}

async fn holds(analyst: &Path, id: &str) {
    eventually(&format!("{} to hold {id}", analyst.display()), || {
        let (analyst, id) = (analyst.to_owned(), id.to_owned());
        async move {
            let out = concord_json_as(&analyst, &["alert", "show", &id]);
            anyhow::ensure!(out.status.success(), "not yet: {}", stderr(&out));
            Ok(())
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_renewed_node_certificate_is_served_after_restart_and_partners_need_nothing() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let before = node_cert_expiry(&de).await;
    assert!(before > now_ms() + 300 * DAY_MS, "init issues a year");
    let old_cert = de.read("node.crt");

    // Renewing while the node runs is allowed: it keeps its loaded certificate.
    let renewed = json_as(
        &de.admin_profile(),
        &[
            "pki",
            "renew-node",
            "--dir",
            path_str(&de.dir),
            "--days",
            "30",
        ],
    );
    assert_eq!(renewed["identity"], "concord://DE/node/node");
    assert_ne!(de.read("node.crt"), old_cert);
    assert_eq!(
        node_cert_expiry(&de).await,
        before,
        "served after restart only"
    );

    fed.take("DE").terminate().await.unwrap();
    fed.restart(&de).await.unwrap();
    let after = node_cert_expiry(&de).await;
    assert!(
        after < now_ms() + 31 * DAY_MS && after > now_ms() + 29 * DAY_MS,
        "{after}"
    );

    // Both directions still authenticate: DE's new certificate as a server
    // and as a client, against the CA FR already trusts.
    wait_links(&de, &["FR"]).await.unwrap();
    let (de_analyst, fr_analyst) = (de.issue("analyst", "ana"), fr.issue("analyst", "fab"));
    let to_fr = raise_alert_to(&de_analyst, "sent with the renewed certificate", "FR");
    holds(&fr_analyst, &to_fr).await;
    let to_de = raise_alert_to(&fr_analyst, "received by the renewed node", "DE");
    holds(&de_analyst, &to_de).await;
}

#[tokio::test]
async fn a_persons_certificate_is_replaced_in_place() {
    let fed = Federation::start(&["DE"]).await.unwrap();
    let de = fed.dir("DE").clone();
    let ana = de.issue("analyst", "ana");
    let old = de.read("analyst-ana.crt");
    let dir = path_str(&de.dir).to_owned();
    let issue = |extra: &[&str]| {
        let mut args = vec![
            "pki", "issue", "--dir", &dir, "--role", "analyst", "--name", "ana",
        ];
        args.extend_from_slice(extra);
        concord(&args)
    };
    let refused = issue(&[]);
    assert_eq!(refused.status.code(), Some(8), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--replace"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(de.read("analyst-ana.crt"), old, "nothing overwritten");

    let replaced = issue(&["--replace", "--days", "10"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_ne!(de.read("analyst-ana.crt"), old);
    let out = concord_json_as(&ana, &["alert", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !de.dir.join("analyst-ana.key.new").exists()
            && !de.dir.join("analyst-ana.crt.new").exists()
    );
}

#[tokio::test]
async fn a_replaced_ca_is_taken_by_partners_only_out_of_band_and_old_certificates_stop() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let ana = de.issue("analyst", "ana");
    let fr_analyst = fr.issue("analyst", "fab");
    let old_ca = de.read("ca.crt");
    let dir = path_str(&de.dir).to_owned();

    let running = concord(&["pki", "rotate-ca", "--dir", &dir]);
    assert_eq!(running.status.code(), Some(9), "{}", stderr(&running));
    assert_eq!(de.read("ca.crt"), old_ca, "nothing replaced while running");

    fed.take("DE").terminate().await.unwrap();
    let out = concord(&["--output", "json", "pki", "rotate-ca", "--dir", &dir]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(de.read("ca.crt"), old_ca);
    let to_reissue: Vec<String> = report["to_reissue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        to_reissue
            .iter()
            .any(|p| p.ends_with("analyst-ana.profile.toml")),
        "{report}"
    );
    fed.restart(&de).await.unwrap();

    // The reissued admin works; ana's certificate came from the old CA.
    status_of(&de.admin_profile()).await.unwrap();
    let refused = concord_json_as(&ana, &["alert", "list"]);
    assert_eq!(refused.status.code(), Some(4), "{}", stderr(&refused));
    let reissued = concord(&[
        "pki",
        "issue",
        "--dir",
        &dir,
        "--role",
        "analyst",
        "--name",
        "ana",
        "--replace",
    ]);
    assert!(reissued.status.success(), "{}", stderr(&reissued));

    // FR cannot be talked into the new CA without an out-of-band check.
    let bundle = de.dir.join("DE.new-ca.trust.toml");
    concord_ok(&[
        "pki",
        "export-trust",
        "--dir",
        &dir,
        "--out",
        path_str(&bundle),
    ]);
    let update = |extra: &[&str]| {
        let mut args = vec!["peer", "update", "--trust", path_str(&bundle)];
        args.extend_from_slice(extra);
        concord_json_as(&fr.admin_profile(), &args)
    };
    let refused = update(&[]);
    assert_eq!(refused.status.code(), Some(9), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("different CA"),
        "{}",
        stderr(&refused)
    );
    let accepted = update(&["--verified-out-of-band"]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));

    // Both directions authenticate again under the new CA.
    wait_links(&de, &["FR"]).await.unwrap();
    wait_links(&fr, &["DE"]).await.unwrap();
    let to_fr = raise_alert_to(&ana, "signed after the CA change", "FR");
    holds(&fr_analyst, &to_fr).await;
    let to_de = raise_alert_to(&fr_analyst, "to the node with the new CA", "DE");
    holds(&ana, &to_de).await;
}
