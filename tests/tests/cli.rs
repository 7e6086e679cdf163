//! The `concord` CLI as a script sees it: JSON output and distinguishable exit codes.

use concord_tests::*;

fn run(profile: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--profile", path_str(profile)];
    all.extend_from_slice(args);
    let out = concord(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_fails(result: (i32, String, String), code: i32, kind: &str) {
    let (got, _, stderr) = result;
    assert_eq!(got, code, "stderr: {stderr}");
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(
        lines[0].starts_with(&format!("concord: {kind}: ")),
        "{stderr}"
    );
}

#[tokio::test]
async fn scripts_can_tell_failures_apart() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");

    // Node not running yet.
    assert_fails(
        run(&de.admin_profile(), &["status"]),
        3,
        "connection-refused",
    );

    let _node = NodeProcess::start(&de).await.unwrap();
    let (code, stdout, _) = run(&de.admin_profile(), &["--output", "json", "status"]);
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(status["jurisdiction"], "DE");

    // A client certificate from another jurisdiction's CA (FR is not a peer): TLS refusal.
    let mut foreign = std::fs::read_to_string(fr.admin_profile()).unwrap();
    foreign = foreign.replace(&fr.endpoint, &de.endpoint).replace(
        "ca_cert = \"ca.crt\"",
        &format!("ca_cert = {:?}", path_str(&de.dir.join("ca.crt"))),
    );
    let foreign_profile = fr.dir.join("foreign.profile.toml");
    std::fs::write(&foreign_profile, foreign).unwrap();
    assert_fails(run(&foreign_profile, &["status"]), 4, "tls");

    // Wrong role.
    let officer = de.issue("officer", "olivia");
    assert_fails(run(&officer, &["status"]), 5, "permission-denied");

    // Invalid argument: the node's own trust bundle as a peer.
    assert_fails(
        run(
            &de.admin_profile(),
            &["peer", "add", "--trust", path_str(&de.trust_file())],
        ),
        6,
        "invalid-argument",
    );
    // Not found.
    assert_fails(
        run(&de.admin_profile(), &["peer", "remove", "KR"]),
        7,
        "not-found",
    );
    // Already exists.
    let (code, _, stderr) = run(
        &de.admin_profile(),
        &["peer", "add", "--trust", path_str(&fr.trust_file())],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_fails(
        run(
            &de.admin_profile(),
            &["peer", "add", "--trust", path_str(&fr.trust_file())],
        ),
        8,
        "already-exists",
    );
    let (code, stdout, _) = run(&de.admin_profile(), &["--output", "json", "peer", "list"]);
    assert_eq!(code, 0);
    let peers: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(stdout.contains("\"FR\""), "{peers}");
    // Local config problem: missing profile.
    assert_fails(
        run(&root.path().join("none.toml"), &["status"]),
        12,
        "config",
    );
}

#[test]
fn pki_init_refuses_to_overwrite_a_jurisdiction() {
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let out = concord(&[
        "pki",
        "init",
        "--jurisdiction",
        "DE",
        "--dir",
        path_str(&de.dir),
        "--listen",
        "127.0.0.1:7999",
    ]);
    assert_eq!(
        out.status.code(),
        Some(8),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = concord(&[
        "pki",
        "issue",
        "--dir",
        path_str(&de.dir),
        "--role",
        "node",
        "--name",
        "x",
    ]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_demo_runs_a_three_jurisdiction_federation() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("demo");
    let out = concord(&["demo", "--once", "--dir", path_str(&dir)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for j in ["DE", "FR", "JP"] {
        assert!(dir.join(j).join("node.toml").exists(), "{j} missing");
    }
}

#[test]
fn bench_measures_a_local_federation() {
    let out = concord(&[
        "bench",
        "--local",
        "2",
        "--records",
        "40",
        "--concurrency",
        "4",
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["records"], 40);
    assert_eq!(report["recipients"], serde_json::json!(["FR"]));
    assert!(report["records_per_second"].as_f64().unwrap() > 0.0);
    assert!(
        report["latency_ms"]["max"].as_f64().unwrap()
            >= report["latency_ms"]["p50"].as_f64().unwrap()
    );
}
