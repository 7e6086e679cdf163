//! Revoking client certificates across real processes: a revoked
//! certificate or identity is refused on its next call (also on a
//! connection and a watch stream opened before), a replacement certificate
//! for the same person works, revocations survive a restart and are
//! audited, and a revoked peer node's pushes stop until lifted.

use std::path::{Path, PathBuf};
use std::process::Output;

use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::{ListRecordsRequest, WatchRequest};
use concord_tests::*;

fn cli(profile: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--profile", path_str(profile), "--output", "json"];
    all.extend_from_slice(args);
    concord(&all)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn cert_of(dir: &NodeDir, stem: &str) -> PathBuf {
    dir.dir.join(format!("{stem}.crt"))
}

#[tokio::test]
async fn revoked_certificates_and_identities_are_refused_at_once() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let admin = de.admin_profile();
    let olivia = de.issue("officer", "olivia");
    let ana = de.issue("analyst", "ana");
    let ben = de.issue("analyst", "ben");

    // A connection and a watch stream opened before the revocation.
    let olivia_channel = Credentials::from_profile(&olivia)
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let mut olivia_client = ExchangeServiceClient::new(olivia_channel);
    olivia_client
        .list_alerts(ListRecordsRequest::default())
        .await
        .expect("olivia reads before the revocation");
    let mut ana_watch = ExchangeServiceClient::new(
        Credentials::from_profile(&ana)
            .unwrap()
            .channel(true)
            .await
            .unwrap(),
    )
    .watch_alerts(WatchRequest {})
    .await
    .unwrap()
    .into_inner();
    let before = raise_alert_to(&ben, "seen by the watcher", "FR");
    assert_eq!(ana_watch.message().await.unwrap().unwrap().id, before);

    // One certificate (a lost laptop) and one identity (someone who left).
    let revoked = json_as(
        &admin,
        &[
            "revocation",
            "add",
            "--cert",
            path_str(&cert_of(&de, "officer-olivia")),
            "--reason",
            "laptop lost",
        ],
    );
    assert_eq!(revoked["identity"], "DE/officer/olivia");
    assert!(revoked["certificate_sha256"].is_string(), "{revoked}");
    json_as(
        &admin,
        &[
            "revocation",
            "add",
            "--identity",
            "DE/analyst/ana",
            "--reason",
            "left the service",
        ],
    );

    let refused = olivia_client
        .list_alerts(ListRecordsRequest::default())
        .await
        .expect_err("the open connection is refused on its next call");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    assert!(refused.message().contains("revoked"), "{refused:?}");
    let out = cli(&olivia, &["alert", "list"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("laptop lost"), "{}", stderr(&out));
    let out = cli(&ana, &["alert", "list"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    // The watch stream ends instead of delivering what came after.
    let after = raise_alert_to(&ben, "not for a revoked watcher", "FR");
    match ana_watch.message().await {
        Err(status) => assert_eq!(status.code(), tonic::Code::Unauthenticated),
        Ok(Some(view)) => panic!("revoked watcher received {}", view.id),
        Ok(None) => panic!("stream ended without saying why"),
    }
    assert_ne!(before, after);

    // A replacement certificate for olivia works; her identity is not revoked.
    for ext in ["crt", "key", "profile.toml", "p12", "p12-password"] {
        let old = de.dir.join(format!("officer-olivia.{ext}"));
        std::fs::rename(&old, de.dir.join(format!("officer-olivia.lost.{ext}"))).unwrap();
    }
    let lost_profile = de.dir.join("officer-olivia.lost.profile.toml");
    let text = std::fs::read_to_string(&lost_profile).unwrap();
    let text = text
        .replace("officer-olivia.crt", "officer-olivia.lost.crt")
        .replace("officer-olivia.key", "officer-olivia.lost.key");
    std::fs::write(&lost_profile, text).unwrap();
    let olivia = de.issue("officer", "olivia");
    let out = cli(&olivia, &["alert", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Refusals: the admin's own identity, a duplicate, garbage, no reason.
    for (identity, reason, code) in [
        ("DE/admin/admin", "x", 9),
        ("DE/analyst/ana", "x", 8),
        ("DE/king/x", "x", 6),
        ("DE/analyst/ben", "", 6),
    ] {
        let out = cli(
            &admin,
            &[
                "revocation",
                "add",
                "--identity",
                identity,
                "--reason",
                reason,
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(code),
            "{identity}: {}",
            stderr(&out)
        );
    }
    // Only admins manage revocations.
    let by_analyst = cli(&ben, &["revocation", "list"]);
    assert_eq!(by_analyst.status.code(), Some(5), "{}", stderr(&by_analyst));

    // Durable: after a restart both still hold, and were audited.
    fed.take("DE").terminate().await.unwrap();
    fed.restart(&de).await.unwrap();
    assert_eq!(status_of(&admin).await.unwrap().revocations, 2);
    let listed = json_as(&admin, &["revocation", "list"]);
    assert_eq!(
        listed["revocations"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let lost = cli(&lost_profile, &["alert", "list"]);
    assert_eq!(lost.status.code(), Some(4), "{}", stderr(&lost));
    assert!(stderr(&lost).contains("laptop lost"), "{}", stderr(&lost));
    let entries = audit_entries(&admin).await.unwrap();
    let revokes: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "access.revoke")
        .collect();
    assert_eq!(revokes.len(), 2, "{revokes:?}");
    assert!(revokes.iter().all(|e| e.actor == "DE/admin/admin"));

    // Lifted: ana is back; lifting what is not revoked is NotFound.
    json_as(
        &admin,
        &[
            "revocation",
            "lift",
            "identity DE/analyst/ana",
            "--reason",
            "rejoined",
        ],
    );
    let out = cli(&ana, &["alert", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let missing = cli(
        &admin,
        &[
            "revocation",
            "lift",
            "identity DE/analyst/ana",
            "--reason",
            "x",
        ],
    );
    assert_eq!(missing.status.code(), Some(7), "{}", stderr(&missing));
    let entries = audit_entries(&admin).await.unwrap();
    assert!(entries
        .iter()
        .any(|e| e.action == "access.lift" && e.record == "identity DE/analyst/ana"));
    drop(fr);
}

#[tokio::test]
async fn a_revoked_peer_node_cannot_push_until_lifted() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let fr_analyst = fr.issue("analyst", "fab");
    let de_analyst = de.issue("analyst", "ana");
    let first = raise_alert_to(&fr_analyst, "delivered before the revocation", "DE");
    let held = |id: String| {
        let de_analyst = de_analyst.clone();
        async move {
            let out = cli(&de_analyst, &["alert", "show", &id]);
            anyhow::ensure!(out.status.success(), "not held: {}", stderr(&out));
            Ok(())
        }
    };
    eventually("DE to hold FR's first alert", || held(first.clone()))
        .await
        .unwrap();

    json_as(
        &de.admin_profile(),
        &[
            "revocation",
            "add",
            "--identity",
            "FR/node/node",
            "--reason",
            "node key suspected stolen",
        ],
    );
    let second = raise_alert_to(&fr_analyst, "held back while revoked", "DE");
    // FR keeps it queued; DE does not take it while the node identity is revoked.
    eventually("FR to see its push refused", || {
        let fr = fr.clone();
        async move {
            let status = status_of(&fr.admin_profile()).await?;
            let peer = peer_in(&status, "DE").ok_or_else(|| anyhow::anyhow!("no DE"))?;
            anyhow::ensure!(
                peer.outbox_pending >= 1
                    && peer
                        .link
                        .as_ref()
                        .is_some_and(|l| l.last_error.contains("revoked")),
                "not yet: {peer:?}"
            );
            Ok(())
        }
    })
    .await
    .unwrap();
    let out = cli(&de_analyst, &["alert", "show", &second]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));

    json_as(
        &de.admin_profile(),
        &[
            "revocation",
            "lift",
            "identity FR/node/node",
            "--reason",
            "false alarm",
        ],
    );
    eventually("DE to hold FR's second alert", || held(second.clone()))
        .await
        .unwrap();
}
