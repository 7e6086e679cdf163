//! `[retention]` in node.toml reaches `concord retention run`; records still
//! in force are never purged. (The purge itself, with tiny periods and its
//! content-free audit entries, is unit-tested in `exchange::retention`.)

use concord_tests::*;
use serde_json::Value;

#[tokio::test]
async fn retention_run_applies_the_configured_policy() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let config = std::fs::read_to_string(de.config()).unwrap();
    assert!(
        config.contains("[retention]"),
        "pki init writes the defaults: {config}"
    );
    let config = config
        .replace("alerts_days = 730", "alerts_days = 0")
        .replace("denials_days = 3650", "denials_days = 30");
    std::fs::write(de.config(), config).unwrap();
    let node = NodeProcess::start(&de).await.unwrap();
    let admin = de.admin_profile();
    let admin = path_str(&admin);

    let text = concord_ok(&["--profile", admin, "retention", "run"]);
    assert_eq!(
        text,
        "Retention: alerts kept forever, denials 30 days after they stop being in force.\n\
         Nothing to purge.\n"
    );
    let report: Value = serde_json::from_str(&concord_ok(&[
        "--profile",
        admin,
        "--output",
        "json",
        "retention",
        "run",
    ]))
    .unwrap();
    assert_eq!(report["alerts_days"], 0);
    assert_eq!(report["denials_days"], 30);
    assert_eq!(report["purged"], Value::Array(vec![]));

    // Analysts may not run it.
    let analyst = de.issue("analyst", "ana");
    let out = concord(&["--profile", path_str(&analyst), "retention", "run"]);
    assert_eq!(out.status.code(), Some(5));

    // A bad policy keeps the node from starting, naming the field.
    assert!(node.terminate().await.unwrap().success());
    let config = std::fs::read_to_string(de.config())
        .unwrap()
        .replace("sweep_every_s = 86400", "sweep_every_s = 0");
    std::fs::write(de.config(), config).unwrap();
    let out = std::process::Command::new(bin("concord-node"))
        .arg("--config")
        .arg(de.config())
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("retention.sweep_every_s"), "{err}");
}
