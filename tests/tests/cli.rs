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
        "20",
        "--concurrency",
        "4",
        "--screen-queries",
        "50",
        "--watchlist-entries",
        "500",
        "--taskforce-queries",
        "10",
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = |v: &serde_json::Value| {
        v.as_f64()
            .unwrap_or_else(|| panic!("not a number: {v} in {report:#}"))
    };
    let ordered = |l: &serde_json::Value| {
        assert!(
            0.0 < f(&l["p50"]) && f(&l["p50"]) <= f(&l["p99"]) && f(&l["p99"]) <= f(&l["max"]),
            "{l}"
        );
    };

    let x = &report["exchange"];
    assert_eq!(x["records"], 20, "{report:#}");
    assert_eq!(x["recipients"], serde_json::json!(["FR"]));
    assert!(f(&x["records_per_second"]) > 0.0);
    ordered(&x["latency_ms"]);

    let s = &report["screening"];
    assert_eq!(s["queries"], 50, "{report:#}");
    assert_eq!(s["import"]["entries"], 500);
    assert_eq!(s["import"]["source"], "synthetic");
    assert!(f(&s["queries_per_second"]) > 0.0);
    ordered(&s["latency_ms"]);
    // Three quarters of the generated names are listed ones, some misspelt.
    assert!(s["queries_with_match"].as_u64().unwrap() >= 25, "{s:#}");
    assert_eq!(s["batch"]["names"], 50);
    assert!(f(&s["batch"]["names_per_second"]) > 0.0);

    let t = &report["taskforce"];
    assert_eq!(t["queries"], 10, "{report:#}");
    assert_eq!(t["home"], "DE");
    assert_eq!(t["peers"], serde_json::json!(["FR"]));
    assert!(f(&t["queries_per_second"]) > 0.0);
    ordered(&t["latency_ms"]);
    // FR answered every query, with a hit (it issued denials of the party to DE).
    assert_eq!(t["queries_answered_by_every_peer"], 10, "{t:#}");
    assert_eq!(t["peer_outcomes"], serde_json::json!({"answered": 10}));
    assert_eq!(t["peer_hits"], 10);
}

#[test]
fn bench_parts_are_selectable_and_arguments_checked() {
    // Invalid combinations fail before anything starts, as invalid arguments.
    for args in [
        vec!["bench", "--local", "2", "--only", "risk"],
        vec!["bench", "--local", "1"],
        vec!["bench", "--local", "2", "--screen-profile", "x.toml"],
        vec!["bench", "--only", "screening"],
        vec!["bench"],
        vec!["bench", "--taskforce-profile", "x.toml"],
        vec!["bench", "--local", "2", "--watchlist", "x"],
        vec!["bench", "--local", "2", "--screen-batch", "1001"],
    ] {
        let out = concord(&args);
        assert_eq!(
            out.status.code(),
            Some(6),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = concord(&[
        "bench",
        "--local",
        "2",
        "--only",
        "screening",
        "--screen-queries",
        "20",
        "--screen-batch",
        "0",
        "--watchlist-entries",
        "100",
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["exchange"].is_null() && report["taskforce"].is_null(),
        "{report:#}"
    );
    assert_eq!(report["screening"]["queries"], 20);
    assert!(report["screening"]["batch"].is_null());
}
