//! A node that cannot start says why in one line and exits non-zero; it never panics.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use concord_tests::*;

/// Runs concord-node to completion (it must exit by itself) and returns (code, stderr).
fn run_node(config: &std::path::Path) -> (i32, String) {
    let out = Command::new(bin("concord-node"))
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

fn check(config: &std::path::Path, expected_code: i32, expected_text: &str) {
    let (code, stderr) = run_node(config);
    assert_eq!(code, expected_code, "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("concord-node: error: "), "{stderr}");
    assert!(
        lines[0].contains(expected_text),
        "{:?} not in {stderr}",
        expected_text
    );
}

fn fresh() -> (TempDir, NodeDir) {
    let root = tempfile::tempdir().unwrap();
    let dir = NodeDir::init(root.path(), "DE");
    (root, dir)
}

#[test]
fn missing_config() {
    let root = tempfile::tempdir().unwrap();
    check(&root.path().join("nope.toml"), 78, "cannot read");
}

#[test]
fn corrupt_config() {
    let (_root, dir) = fresh();
    std::fs::write(dir.config(), "jurisdiction = \"DE\"\nlisten = [oops\n").unwrap();
    check(&dir.config(), 78, "node.toml");
}

#[test]
fn config_with_bad_values_names_every_field() {
    let (_root, dir) = fresh();
    let text = std::fs::read_to_string(dir.config()).unwrap();
    let text = text
        .replace("jurisdiction = \"DE\"", "jurisdiction = \"germany\"")
        .replace(&dir.endpoint, "nowhere");
    std::fs::write(dir.config(), text).unwrap();
    let (code, stderr) = run_node(&dir.config());
    assert_eq!(code, 78);
    assert!(
        stderr.contains("jurisdiction") && stderr.contains("listen"),
        "{stderr}"
    );
}

#[test]
fn missing_key_file() {
    let (_root, dir) = fresh();
    std::fs::remove_file(dir.dir.join("node.key")).unwrap();
    check(&dir.config(), 78, "node.key is missing");
}

#[test]
fn key_files_readable_by_others_are_refused() {
    let (_root, dir) = fresh();
    for key in ["node.key", "signing.pk8"] {
        let path = dir.dir.join(key);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        check(&dir.config(), 78, "readable by group or others");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn port_in_use() {
    let (_root, dir) = fresh();
    let _squatter = std::net::TcpListener::bind(&dir.endpoint).unwrap();
    check(&dir.config(), 71, "cannot listen on");
}

#[test]
fn a_certificate_for_another_jurisdiction() {
    let (root, dir) = fresh();
    let other = NodeDir::init(root.path(), "FR");
    std::fs::copy(other.dir.join("node.crt"), dir.dir.join("node.crt")).unwrap();
    check(&dir.config(), 78, "names FR/node/node");
}

#[tokio::test]
async fn a_store_written_by_a_newer_schema_is_refused() {
    init();
    let (_root, dir) = fresh();
    // Create the store, stop, then make it look written by a future Concord.
    let node = NodeProcess::start(&dir).await.unwrap();
    assert!(node.terminate().await.unwrap().success());
    {
        let db = sled::open(dir.dir.join("data")).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert(b"schema_version", &99u32.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }
    check(&dir.config(), 74, "newer Concord (schema 99)");
}

#[test]
fn an_unreadable_clock_offset_is_refused_at_start() {
    let (_root, dir) = fresh();
    std::fs::write(dir.clock_file(), "next tuesday").unwrap();
    let out = Command::new(bin("concord-node"))
        .arg("--config")
        .arg(dir.config())
        .env("RUST_LOG", "off")
        .env("CONCORD_CLOCK_OFFSET_FILE", dir.clock_file())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("CONCORD_CLOCK_OFFSET_FILE") && stderr.contains("no offset"),
        "{stderr}"
    );
}
