//! Record-signing key rotation across real processes: a planned rotation
//! keeps every record verifiable at the issuer and at partners, a partner
//! accepts the rotated bundle on the strength of the old key's handover,
//! a bundle without one (or with another CA) needs an out-of-band check, and
//! a compromise rotation makes what the leaked key signed since then stop
//! verifying everywhere.

use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::ensure;
use concord_tests::*;
use serde_json::Value;

fn cli(profile: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--profile", path_str(profile), "--output", "json"];
    all.extend_from_slice(args);
    concord(&all)
}

fn json(profile: &Path, args: &[&str]) -> Value {
    json_as(profile, args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The alert as `analyst`'s node shows it, once that node holds it.
async fn held(analyst: &Path, id: &str) -> Value {
    eventually(&format!("{} to hold {id}", analyst.display()), || {
        let (analyst, id) = (analyst.to_owned(), id.to_owned());
        async move {
            let out = cli(&analyst, &["alert", "show", &id]);
            ensure!(out.status.success(), "not yet: {}", stderr(&out));
            Ok(serde_json::from_slice::<Value>(&out.stdout)?)
        }
    })
    .await
    .unwrap()
}

/// The newest version of a record as `alert show` prints it.
fn latest(view: &Value) -> &Value {
    view["versions"]
        .as_array()
        .and_then(|v| v.last())
        .unwrap_or(&Value::Null)
}

fn signature_valid(view: &Value) -> bool {
    latest(view)["signature_valid"] == Value::Bool(true)
}

/// A fresh export of `dir`'s trust bundle (the cached one predates rotation).
fn export_trust(dir: &NodeDir, name: &str) -> PathBuf {
    let out = dir.dir.join(name);
    concord_ok(&[
        "pki",
        "export-trust",
        "--dir",
        path_str(&dir.dir),
        "--out",
        path_str(&out),
    ]);
    out
}

fn rotate(dir: &NodeDir, extra: &[&str]) -> Output {
    let mut args = vec!["--output", "json", "pki", "rotate-signing-key", "--dir"];
    args.push(path_str(&dir.dir));
    args.extend_from_slice(extra);
    concord(&args)
}

#[tokio::test]
async fn a_planned_rotation_keeps_every_record_verifiable() {
    let mut fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    let (de, fr, jp) = (
        fed.dir("DE").clone(),
        fed.dir("FR").clone(),
        fed.dir("JP").clone(),
    );
    let de_analyst = de.issue("analyst", "ana");
    let fr_analyst = fr.issue("analyst", "fab");
    let jp_analyst = jp.issue("analyst", "jun");
    // JP takes partners' new keys only from its admin; FR (the default)
    // also from the partner's node announcing them over its link.
    let config = jp.read("node.toml");
    assert!(config.contains("accept_announced_keys = true"), "{config}");
    std::fs::write(
        jp.config(),
        config.replace(
            "accept_announced_keys = true",
            "accept_announced_keys = false",
        ),
    )
    .unwrap();
    fed.take("JP").terminate().await.unwrap();
    fed.restart(&jp).await.unwrap();
    wait_links(&jp, &["DE", "FR"]).await.unwrap();
    // FR reaches DE through a relay of its own choosing (registered by
    // FR's admin): announcements must never change how FR reaches DE.
    let relay = concord_tests::proxy::LinkProxy::start(de.endpoint.parse().unwrap())
        .await
        .unwrap();
    let mut via_relay = trust_bundle(&de).unwrap();
    via_relay.endpoint = relay.addr.to_string();
    Credentials::from_profile(&fr.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap()
        .update_peer(concord_proto::v1::UpdatePeerRequest {
            trust: Some(via_relay),
            verified_out_of_band: false,
        })
        .await
        .unwrap();
    wait_links(&fr, &["DE"]).await.unwrap();
    let before = raise_alert_to(&de_analyst, "Before the rotation", "FR,JP");
    assert!(signature_valid(&held(&fr_analyst, &before).await));
    assert!(signature_valid(&held(&jp_analyst, &before).await));

    // Refused while the node runs: it would keep signing with the old key.
    let running = rotate(&de, &[]);
    assert_eq!(running.status.code(), Some(9), "{}", stderr(&running));
    assert!(
        stderr(&running).contains("stop the node"),
        "{}",
        stderr(&running)
    );

    fed.take("DE").terminate().await.unwrap();
    let out = rotate(&de, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (old_id, new_id) = (
        report["old_key_id"].as_str().unwrap().to_owned(),
        report["new_key_id"].as_str().unwrap().to_owned(),
    );
    assert_ne!(old_id, new_id);
    assert_eq!(report["retired_keys"], 1);
    fed.restart(&de).await.unwrap();

    // The issuer signs with the new key, still verifies its old records and
    // its old audit checkpoints, and recorded the rotation once.
    let status = status_of(&de.admin_profile()).await.unwrap();
    assert_eq!(status.signing_key_id, new_id);
    assert_eq!(status.retired_signing_key_ids, vec![old_id.clone()]);
    assert!(signature_valid(&held(&de_analyst, &before).await));
    let verified = json(&de.admin_profile(), &["audit", "verify"]);
    assert_eq!(verified["ok"], true, "{verified}");
    let entries = audit_entries(&de.admin_profile()).await.unwrap();
    let rotations: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "signing.rotate")
        .collect();
    assert_eq!(rotations.len(), 1, "{rotations:?}");
    assert!(rotations[0].rationale.contains(&old_id), "{rotations:?}");
    // Recorded once, however often the node restarts afterwards.
    fed.take("DE").terminate().await.unwrap();
    fed.restart(&de).await.unwrap();
    let again = audit_entries(&de.admin_profile()).await.unwrap();
    assert_eq!(
        again
            .iter()
            .filter(|e| e.action == "signing.rotate")
            .count(),
        1
    );

    // An auditor holding only the new public key verifies checkpoints of
    // both keys: the export carries the retired key and its handover.
    let export = de.dir.join("audit.jsonl");
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "audit",
        "export",
        "--out",
        path_str(&export),
    ]);
    let bundle = trust_bundle(&de).unwrap();
    let new_key = concord_node::trust_bundle::TrustBundle::from_toml(
        &std::fs::read_to_string(export_trust(&de, "DE.audit.trust.toml")).unwrap(),
    )
    .unwrap();
    assert_ne!(bundle.signing_public_key, new_key.signing_public_key);
    let key_hex: String = new_key
        .signing_public_key
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let report: Value = serde_json::from_str(&concord_ok(&[
        "--output",
        "json",
        "audit",
        "verify-export",
        path_str(&export),
        "--public-key",
        &key_hex,
    ]))
    .unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let signed: Vec<&str> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["type"] == "checkpoint")
        .map(|l| l["key_id"].as_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .iter()
        .map(|s| if *s == old_id { "old" } else { "new" })
        .collect();
    assert!(
        signed.contains(&"old") && signed.contains(&"new"),
        "{signed:?}"
    );
    assert_eq!(
        report["checkpoints_verified"].as_u64(),
        Some(signed.len() as u64)
    );

    // DE's node announced its new bundle on its links: FR took it on the
    // strength of the handover (and DE's node certificate), audited as DE's
    // node; records signed with either key verify there.
    let after = raise_alert_to(&de_analyst, "After the rotation", "FR,JP");
    assert!(signature_valid(&held(&fr_analyst, &after).await));
    assert!(signature_valid(&held(&fr_analyst, &before).await));
    let listed = json(&fr.admin_profile(), &["peer", "list"]);
    let de_at_fr = listed["peers"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["jurisdiction"] == "DE"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(de_at_fr["signing_key_id"], new_id.as_str(), "{listed}");
    assert_eq!(de_at_fr["endpoint"], relay.addr.to_string(), "{listed}");
    assert_eq!(
        de_at_fr["retired_signing_keys"][0]["key_id"],
        old_id.as_str()
    );
    let fr_entries = audit_entries(&fr.admin_profile()).await.unwrap();
    let update = fr_entries
        .iter()
        .find(|e| e.action == "peer.update" && e.record == "DE" && e.actor == "node DE")
        .expect("the announced update audited at FR as DE's node");
    assert!(update.rationale.contains("handover verified"), "{update:?}");

    // JP refused the announcement: the new record waits in DE's outbox.
    let pending = cli(&jp_analyst, &["alert", "show", &after]);
    assert_eq!(pending.status.code(), Some(7), "{}", stderr(&pending));
    let rotated = export_trust(&de, "DE.rotated.trust.toml");

    // A bundle whose new key has no handover (here: the retired keys cut
    // out) could come from anyone holding DE's CA material; JP refuses it...
    let text = std::fs::read_to_string(&rotated).unwrap();
    let cut = text
        .split("[[retired_signing_keys]]")
        .next()
        .unwrap()
        .to_owned();
    let unproven = de.dir.join("DE.unproven.trust.toml");
    std::fs::write(&unproven, cut).unwrap();
    let refused = cli(
        &jp.admin_profile(),
        &["peer", "update", "--trust", path_str(&unproven)],
    );
    assert_eq!(refused.status.code(), Some(9), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("handover"),
        "{}",
        stderr(&refused)
    );
    // ...and so is another CA, even with the handover.
    let ca_swapped = text.replace(de.read("ca.crt").trim(), fr.read("ca.crt").trim());
    let swapped = de.dir.join("DE.swapped.trust.toml");
    std::fs::write(&swapped, ca_swapped).unwrap();
    let refused = cli(
        &jp.admin_profile(),
        &["peer", "update", "--trust", path_str(&swapped)],
    );
    assert_eq!(refused.status.code(), Some(9), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("different CA"),
        "{}",
        stderr(&refused)
    );

    // The rotated bundle with its handover is taken by JP's admin as is.
    let updated = json(
        &jp.admin_profile(),
        &["peer", "update", "--trust", path_str(&rotated)],
    );
    assert_eq!(updated["signing_key_id"], new_id.as_str());
    assert!(signature_valid(&held(&jp_analyst, &after).await));
    assert!(signature_valid(&held(&jp_analyst, &before).await));

    // Verified out of band, JP takes the key without its history: the
    // record the old key signed no longer verifies there, the new one does.
    json(
        &jp.admin_profile(),
        &[
            "peer",
            "update",
            "--trust",
            path_str(&unproven),
            "--verified-out-of-band",
        ],
    );
    assert!(signature_valid(&held(&jp_analyst, &after).await));
    let old_at_jp = held(&jp_analyst, &before).await;
    assert!(!signature_valid(&old_at_jp), "{old_at_jp}");

    // A node announces only its own jurisdiction's bundle, and an
    // announcement cannot bring a new CA.
    let mut fr_to_de = federation_client(node_credentials(&fr, &de).channel(true).await.unwrap());
    let not_its_own = fr_to_de
        .announce_trust(trust_bundle(&jp).unwrap())
        .await
        .unwrap_err();
    assert_eq!(
        not_its_own.code(),
        tonic::Code::PermissionDenied,
        "{not_its_own:?}"
    );
    let mut other_ca = trust_bundle(&fr).unwrap();
    other_ca.ca_cert_pem = jp.read("ca.crt");
    let new_ca = fr_to_de.announce_trust(other_ca).await.unwrap_err();
    assert_eq!(new_ca.code(), tonic::Code::FailedPrecondition, "{new_ca:?}");
    let same = fr_to_de
        .announce_trust(trust_bundle(&fr).unwrap())
        .await
        .unwrap()
        .into_inner();
    assert!(!same.updated, "an unchanged bundle is not an update");

    // A node's own bundle is not a peer's.
    let own = cli(
        &jp.admin_profile(),
        &["peer", "update", "--trust", path_str(&jp.trust_file())],
    );
    assert_eq!(own.status.code(), Some(6), "{}", stderr(&own));
    // Unknown peers cannot be updated into existence.
    let stranger = NodeDir::init(fed.root.path(), "IT");
    let unknown = cli(
        &jp.admin_profile(),
        &[
            "peer",
            "update",
            "--trust",
            path_str(&stranger.trust_file()),
        ],
    );
    assert_eq!(unknown.status.code(), Some(7), "{}", stderr(&unknown));
}

#[tokio::test]
async fn a_compromise_rotation_distrusts_what_the_key_signed_since() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let de_analyst = de.issue("analyst", "ana");
    let fr_analyst = fr.issue("analyst", "fab");
    let suspect = raise_alert_to(&de_analyst, "Signed while the key may have leaked", "FR");
    let v = held(&fr_analyst, &suspect).await;
    assert!(signature_valid(&v), "{v}");

    fed.take("DE").terminate().await.unwrap();
    let future = rotate(&de, &["--compromised-since", "2999-01-01T00:00:00Z"]);
    assert_eq!(future.status.code(), Some(6), "{}", stderr(&future));
    let out = rotate(&de, &["--compromised-since", "1h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    fed.restart(&de).await.unwrap();

    // A handover signed by a leaked key proves nothing; the partner is told
    // to verify out of band, and does.
    let bundle = export_trust(&de, "DE.after-compromise.trust.toml");
    json(
        &fr.admin_profile(),
        &[
            "peer",
            "update",
            "--trust",
            path_str(&bundle),
            "--verified-out-of-band",
        ],
    );
    let fresh = raise_alert_to(&de_analyst, "Signed with the new key", "FR");
    assert!(signature_valid(&held(&fr_analyst, &fresh).await));
    for node in [&fr_analyst, &de_analyst] {
        let view = held(node, &suspect).await;
        assert!(!signature_valid(&view), "{view}");
        assert!(
            latest(&view)["signature_error"]
                .as_str()
                .unwrap_or_default()
                .contains("retired"),
            "{view}"
        );
    }
}
