//! A bad day for the store: flipped bytes in its files, a restore killed at
//! any moment, a full disk. The node never starts on a state it cannot vouch
//! for, says why in one line (exit 74), and on a full disk keeps serving
//! reads and stops cleanly on SIGTERM.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use concord_proto::v1::{CreatePartyRequest, ListPartiesRequest};
use concord_tests::*;

async fn licensing(
    profile: &std::path::Path,
) -> concord_proto::v1::licensing_service_client::LicensingServiceClient<tonic::transport::Channel>
{
    licensing_client(profile).await.unwrap()
}

fn party(i: usize) -> CreatePartyRequest {
    CreatePartyRequest {
        name: format!("Nordwerk Handel {i} GmbH"),
        country: "DE".into(),
        // Numbered look-alikes on purpose.
        allow_similar: true,
        ..Default::default()
    }
}

async fn parties(profile: &Path) -> usize {
    licensing(profile)
        .await
        .list_parties(ListPartiesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .parties
        .len()
}

/// A started DE node holding `n` parties, and its officer's profile.
async fn node_holding_parties(root: &Path, n: usize) -> (NodeDir, std::path::PathBuf, NodeProcess) {
    let de = NodeDir::init(root, "DE");
    let officer = de.issue("officer", "olivia");
    let node = NodeProcess::start(&de).await.unwrap();
    let mut l = licensing(&officer).await;
    for i in 0..n {
        l.create_party(party(i)).await.unwrap();
    }
    (de, officer, node)
}

/// Waits for a spawned node either to exit or to answer; returns its exit
/// code, or `None` if it is serving.
async fn exit_or_serve(node: &mut NodeProcess) -> Option<i32> {
    let profile = node.dir.admin_profile();
    loop {
        if let Some(status) = node.try_exit() {
            return Some(status.code().unwrap_or(-1));
        }
        if status_of(&profile).await.is_ok() {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The node's refusal: exit 74 and a single error line, never a panic.
fn assert_one_line_refusal(node: &NodeProcess, code: Option<i32>, expected: &[&str]) {
    let log = node.log_text();
    assert_eq!(code, Some(74), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("concord-node: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{log}");
    assert!(
        expected.iter().any(|e| errors[0].contains(e)),
        "{expected:?} not in {}",
        errors[0]
    );
}

#[tokio::test]
async fn a_flipped_byte_in_the_store_never_brings_the_node_up_on_less() {
    init();
    let root = tempfile::tempdir().unwrap();
    const HELD: usize = 150;
    let (de, officer, node) = node_holding_parties(root.path(), HELD).await;
    assert!(node.terminate().await.unwrap().success());
    let data = de.dir.join("data");
    let pristine = root.path().join("pristine");
    copy_dir(&data, &pristine);
    let db_len = std::fs::metadata(pristine.join("db")).unwrap().len();

    let mut refused = 0;
    for step in 1..10u64 {
        let offset = db_len * step / 10;
        std::fs::remove_dir_all(&data).unwrap();
        copy_dir(&pristine, &data);
        flip(&data.join("db"), offset);
        let mut node = NodeProcess::spawn(&de).unwrap();
        match exit_or_serve(&mut node).await {
            None => {
                // Serving: only on everything it acknowledged.
                assert_eq!(parties(&officer).await, HELD, "flip at {offset}");
                assert!(node.terminate().await.unwrap().success());
            }
            code => {
                assert_one_line_refusal(&node, code, &["is behind", "damaged"]);
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "no flipped byte was noticed");
    // The durability record itself damaged: refused, not ignored.
    std::fs::remove_dir_all(&data).unwrap();
    copy_dir(&pristine, &data);
    let anchor = data.join(concord_node::store::ANCHOR_FILE);
    let mut bytes = std::fs::read(&anchor).unwrap();
    for b in bytes.iter_mut() {
        *b ^= 0x5A;
    }
    std::fs::write(&anchor, bytes).unwrap();
    let mut node = NodeProcess::spawn(&de).unwrap();
    let code = exit_or_serve(&mut node).await;
    assert_one_line_refusal(&node, code, &["durability record"]);
    // Intact files start as before.
    std::fs::remove_dir_all(&data).unwrap();
    copy_dir(&pristine, &data);
    let node = NodeProcess::start(&de).await.unwrap();
    assert_eq!(parties(&officer).await, HELD);
    assert!(node.terminate().await.unwrap().success());
}

#[tokio::test]
async fn a_restore_killed_at_any_moment_never_leaves_a_store_a_node_starts_on() {
    init();
    let root = tempfile::tempdir().unwrap();
    const HELD: usize = 400;
    let (de, officer, node) = node_holding_parties(root.path(), HELD).await;
    let backup = root.path().join("de.backup");
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "backup",
        "--out",
        path_str(&backup),
    ]);
    assert!(node.terminate().await.unwrap().success());
    let data = de.dir.join("data");
    std::fs::rename(&data, de.dir.join("data.old")).unwrap();
    let restore = || {
        Command::new(bin("concord"))
            .args(["restore", "--from", path_str(&backup), "--data-dir"])
            .arg(&data)
            .arg("--config")
            .arg(de.config())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long a whole restore takes here, to kill others across that span.
    let began = Instant::now();
    assert!(restore().wait().unwrap().success());
    let whole = began.elapsed();
    std::fs::remove_dir_all(&data).unwrap();

    // Kills spread over the measured span, until one landed mid-write (at
    // least 12 tries, at most 48: a loaded machine stretches the span).
    let mut interrupted = 0;
    for attempt in 0..48u32 {
        if attempt >= 12 && interrupted > 0 {
            break;
        }
        let step = attempt % 12;
        let mut child = restore();
        std::thread::sleep(whole * step / 12);
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        let staging = concord_node::backup::staging_dir(&data).exists();
        let placed = data.join("db").exists();
        let mut node = NodeProcess::spawn(&de).unwrap();
        let code = exit_or_serve(&mut node).await;
        if finished {
            assert!(!staging);
            assert_eq!(code, None, "{}", node.log_text());
            assert_eq!(parties(&officer).await, HELD);
            assert!(node.terminate().await.unwrap().success());
        } else if staging {
            // Partly written: the node refuses to start beside it.
            assert!(!placed, "a partial store was put in place");
            assert_one_line_refusal(&node, code, &["interrupted"]);
            interrupted += 1;
        } else if placed {
            // Killed after the rename: complete.
            assert_eq!(code, None, "{}", node.log_text());
            assert_eq!(parties(&officer).await, HELD);
            assert!(node.terminate().await.unwrap().success());
        } else {
            // Killed before writing anything: a new, empty store.
            if code.is_none() {
                assert!(node.terminate().await.unwrap().success());
            }
        }
        // Whatever the kill left, running the restore again completes it.
        let _ = std::fs::remove_dir_all(&data);
        assert!(restore().wait().unwrap().success());
        std::fs::remove_dir_all(&data).unwrap();
    }
    assert!(
        interrupted > 0,
        "no kill landed while the restore was writing"
    );
}

#[tokio::test]
async fn a_full_disk_refuses_writes_serves_reads_and_stops_on_sigterm() {
    init();
    let root = tempfile::tempdir().unwrap();
    let mount = root.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48m", "tmpfs"])
        .arg(&mount)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!(
            "SKIPPED a_full_disk_refuses_writes_serves_reads_and_stops_on_sigterm: \
             cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)"
        );
        return;
    }
    let _unmount = Unmount(mount.clone());
    let de = NodeDir::init(root.path(), "DE");
    let data = mount.join("data");
    let text = std::fs::read_to_string(de.config()).unwrap();
    let text = text
        .lines()
        .map(|l| match l.split(" = ").next() {
            Some("data_dir") => format!("data_dir = {:?}", data.display().to_string()),
            Some("min_free_disk_bytes") => "min_free_disk_bytes = 16777216".to_owned(),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("min_free_disk_bytes = 16777216"), "{text}");
    std::fs::write(de.config(), text).unwrap();
    let officer = de.issue("officer", "olivia");
    let node = NodeProcess::start(&de).await.unwrap();
    let mut l = licensing(&officer).await;
    for i in 0..5 {
        l.create_party(party(i)).await.unwrap();
    }
    // Fill the filesystem to below the reserve.
    let free = {
        let s = free_bytes(&mount);
        s.saturating_sub(8 * 1024 * 1024)
    };
    let filler = mount.join("filler");
    std::fs::write(&filler, vec![0u8; free as usize]).unwrap();
    let refused = l.create_party(party(99)).await.unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert!(refused.message().contains("disk is full"), "{refused:?}");
    assert!(
        refused.message().contains(&data.display().to_string()),
        "{refused:?}"
    );
    // The CLI says so with its resource-exhausted exit code.
    let out = concord(&[
        "--profile",
        path_str(&officer),
        "party",
        "create",
        "--name",
        "Another GmbH",
        "--country",
        "DE",
    ]);
    assert_eq!(out.status.code(), Some(10), "{out:?}");
    // Reads go on.
    assert_eq!(parties(&officer).await, 5);
    status_of(&de.admin_profile()).await.unwrap();
    // Space freed: writes resume without a restart.
    std::fs::remove_file(&filler).unwrap();
    l.create_party(party(6)).await.unwrap();
    assert_eq!(parties(&officer).await, 6);
    // Full again, then SIGTERM: a clean stop.
    std::fs::write(&filler, vec![0u8; free as usize]).unwrap();
    assert!(l.create_party(party(7)).await.is_err());
    let status = node.terminate().await.unwrap();
    assert!(status.success(), "{status:?}");
}

struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}

fn flip(file: &Path, offset: u64) {
    let mut bytes = std::fs::read(file).unwrap();
    let at = (offset as usize).min(bytes.len() - 1);
    bytes[at] ^= 0xFF;
    std::fs::write(file, bytes).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn an_old_copy_of_the_store_put_back_pauses_issuing_until_the_admin_resumes() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let analyst = de.issue("analyst", "ana");
    let fr_analyst = fr.issue("analyst", "fra");
    // A copy of DE's data directory, taken while stopped (a VM snapshot).
    let node = fed.take("DE");
    assert!(node.terminate().await.unwrap().success());
    let data = de.dir.join("data");
    let snapshot = de.dir.join("data.snapshot");
    copy_dir(&data, &snapshot);
    fed.restart(&de).await.unwrap();
    for i in 0..3 {
        raise_alert_to(&analyst, &format!("after the snapshot {i}"), "FR");
    }
    eventually("FR to hold DE's three alerts", || {
        let p = fr_analyst.clone();
        async move {
            let n = exchange_client(&p)
                .await?
                .list_alerts(concord_proto::v1::ListRecordsRequest::default())
                .await?
                .into_inner()
                .records
                .len();
            anyhow::ensure!(n == 3, "{n}");
            Ok(())
        }
    })
    .await
    .unwrap();
    // The snapshot is put back: a consistent store, but behind FR.
    let node = fed.take("DE");
    assert!(node.terminate().await.unwrap().success());
    std::fs::remove_dir_all(&data).unwrap();
    std::fs::rename(&snapshot, &data).unwrap();
    fed.restart(&de).await.unwrap();
    let admin = de.admin_profile();
    let status = eventually("DE to learn that FR holds more", || {
        let admin = admin.clone();
        async move {
            let s = status_of(&admin).await?;
            anyhow::ensure!(!s.issuing_paused.is_empty(), "not paused yet");
            Ok(s)
        }
    })
    .await
    .unwrap();
    assert!(
        status.issuing_paused.contains("FR holds sequence 3"),
        "{}",
        status.issuing_paused
    );
    let out = concord(&[
        "--profile",
        path_str(&analyst),
        "alert",
        "raise",
        "--category",
        "other",
        "--severity",
        "low",
        "--summary",
        "would reuse a number",
        "--to",
        "FR",
    ]);
    assert_eq!(out.status.code(), Some(9), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("issuing is paused"));
    let text = concord_ok(&["--profile", path_str(&admin), "status"]);
    assert!(text.contains("PAUSED"), "{text}");
    // The admin decides to go on: the next record is beyond what FR holds,
    // and FR takes it without seeing an equivocation.
    concord_ok(&[
        "--profile",
        path_str(&admin),
        "resume-issuing",
        "--reason",
        "snapshot restored",
    ]);
    let id = raise_alert_to(&analyst, "after resuming", "FR");
    eventually("FR to hold the alert raised after resuming", || {
        let (p, id) = (fr_analyst.clone(), id.clone());
        async move {
            let ids: Vec<String> = exchange_client(&p)
                .await?
                .list_alerts(concord_proto::v1::ListRecordsRequest::default())
                .await?
                .into_inner()
                .records
                .into_iter()
                .map(|r| r.id)
                .collect();
            anyhow::ensure!(ids.contains(&id), "{ids:?}");
            Ok(())
        }
    })
    .await
    .unwrap();
    let evidence = concord_ok(&[
        "--profile",
        path_str(&fr.admin_profile()),
        "--output",
        "json",
        "evidence",
        "list",
    ]);
    assert!(!evidence.contains("\"issuer\": \"DE\""), "{evidence}");
    let entries = audit_entries(&admin).await.unwrap();
    assert!(entries
        .iter()
        .any(|e| e.action == "exchange.resume-issuing"));
}
