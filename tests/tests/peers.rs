//! Peer registration and the mTLS links between real node processes.

use concord_node::crypto::{CertificateAuthority, Validity};
use concord_node::identity::{Caller, Role};
use concord_proto::v1::admin_service_client::AdminServiceClient;
use concord_proto::v1::federation_service_client::FederationServiceClient;
use concord_proto::v1::{
    AddPeerRequest, HelloRequest, ListPeersRequest, RemovePeerRequest, StatusRequest,
};
use concord_tests::*;
use tonic::Code;

fn peer_codes(s: &concord_proto::v1::StatusResponse) -> Vec<String> {
    s.peers
        .iter()
        .filter_map(|p| p.trust.as_ref())
        .map(|t| t.jurisdiction.clone())
        .collect()
}

#[tokio::test]
async fn three_jurisdictions_link_up_over_mutual_tls() {
    let fed = Federation::start(&["DE", "FR", "JP"]).await.unwrap();
    for code in ["DE", "FR", "JP"] {
        let s = status_of(&fed.dir(code).admin_profile()).await.unwrap();
        assert_eq!(s.jurisdiction, code);
        assert_eq!(s.peers.len(), 2, "{code}: {s:?}");
        for p in &s.peers {
            let link = p.link.as_ref().unwrap();
            assert!(link.connected, "{code} -> {:?}", p.trust);
            assert!(link.last_contact_unix_ms > 0);
            assert!(link.last_error.is_empty());
        }
        assert_eq!(metric(fed.dir(code), "concord_peers_connected"), 2);
        // Every peer's CA expiry is shown, for renewal planning.
        let mut names: Vec<&str> = s.certificates.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        let mut want: Vec<String> = ["DE", "FR", "JP"]
            .iter()
            .filter(|j| **j != code)
            .map(|j| format!("peer {j} ca"))
            .chain(["ca".to_owned(), "node".to_owned()])
            .collect();
        want.sort_unstable();
        assert_eq!(names, want, "{code}");
    }
}

#[tokio::test]
async fn a_peer_node_may_call_federation_but_not_admin() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    // FR's node certificate, talking to DE.
    let creds = Credentials {
        endpoint: de.endpoint.clone(),
        ca_pem: de.read("ca.crt"),
        cert_pem: fr.read("node.crt"),
        key_pem: fr.read("node.key"),
    };
    let channel = creds.channel(true).await.unwrap();
    let hello = FederationServiceClient::new(channel.clone())
        .hello(HelloRequest {
            jurisdiction: "FR".into(),
            sent_at_unix_ms: 1,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hello.jurisdiction, "DE");
    let lie = FederationServiceClient::new(channel.clone())
        .hello(HelloRequest {
            jurisdiction: "JP".into(),
            sent_at_unix_ms: 1,
        })
        .await
        .unwrap_err();
    assert_eq!(lie.code(), Code::InvalidArgument);
    let err = AdminServiceClient::new(channel)
        .status(StatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // FR's administrator is trusted at the TLS layer (FR is a peer) but administers only FR.
    let fr_admin = Credentials {
        endpoint: de.endpoint.clone(),
        ca_pem: de.read("ca.crt"),
        ..Credentials::from_profile(&fr.admin_profile()).unwrap()
    };
    let err = fr_admin
        .admin()
        .await
        .unwrap()
        .status(StatusRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_peer_ca_cannot_mint_identities_of_another_jurisdiction() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE"), fed.dir("FR"));
    let fr_ca = CertificateAuthority::from_pem(&fr.read("ca.crt"), &fr.read("ca.key")).unwrap();
    for forged in ["concord://DE/admin/mallory", "concord://JP/node/node"] {
        let issued = fr_ca
            .issue(&Caller::from_uri(forged).unwrap(), &[], Validity::days(1))
            .unwrap();
        let creds = Credentials {
            endpoint: de.endpoint.clone(),
            ca_pem: de.read("ca.crt"),
            cert_pem: issued.cert_pem,
            key_pem: issued.key_pem,
        };
        let result = match creds.channel(true).await {
            Ok(ch) => AdminServiceClient::new(ch)
                .status(StatusRequest {})
                .await
                .map(|_| ()),
            Err(e) => Err(tonic::Status::unavailable(e.to_string())),
        };
        let err = result.unwrap_err();
        assert!(
            !matches!(err.code(), Code::PermissionDenied | Code::Ok),
            "{forged}: {err:?}"
        );
    }
    eventually("DE to count both refusals", || async move {
        anyhow::ensure!(
            metric(de, "concord_tls_handshakes_total{result=\"refused\"}") >= 2,
            "not yet"
        );
        Ok(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn an_outgoing_link_refuses_a_peer_presenting_another_jurisdictions_identity() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    // A rogue node whose certificate chains to FR's CA but names JP.
    let rogue = NodeDir::init(&root.path().join("rogue"), "JP");
    let fr_ca = CertificateAuthority::from_pem(&fr.read("ca.crt"), &fr.read("ca.key")).unwrap();
    let issued = fr_ca
        .issue(
            &Caller::new("JP".parse().unwrap(), Role::Node, "node").unwrap(),
            &["127.0.0.1".into()],
            Validity::days(1),
        )
        .unwrap();
    std::fs::write(rogue.dir.join("node.crt"), issued.cert_pem).unwrap();
    std::fs::remove_file(rogue.dir.join("node.key")).unwrap();
    concord_node::crypto::keyfile::write_private(
        &rogue.dir.join("node.key"),
        issued.key_pem.as_bytes(),
    )
    .unwrap();
    let _de_node = NodeProcess::start(&de).await.unwrap();
    let _rogue_node = NodeProcess::spawn(&rogue).unwrap();

    // DE registers FR's real trust bundle, but FR's endpoint now leads to the rogue.
    let mut bundle = trust_bundle(&fr).unwrap();
    bundle.endpoint = rogue.endpoint.clone();
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    admin
        .add_peer(AddPeerRequest {
            trust: Some(bundle),
        })
        .await
        .unwrap();
    let error = eventually("DE's link to FR to report the impostor", || {
        let profile = de.admin_profile();
        async move {
            let s = status_of(&profile).await?;
            let link = s.peers[0].link.clone().unwrap_or_default();
            // Until the rogue listens, the error is a refused connection.
            anyhow::ensure!(
                link.last_error.contains("expected a node of"),
                "not yet: {}",
                link.last_error
            );
            Ok(link)
        }
    })
    .await
    .unwrap();
    assert!(!error.connected);
    assert!(
        error.last_error.contains("JP/node/node"),
        "{}",
        error.last_error
    );
    assert!(
        error.last_error.contains("expected a node of FR"),
        "{}",
        error.last_error
    );
}

#[tokio::test]
async fn peers_are_added_and_removed_without_restart_and_survive_one() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    let de_node = NodeProcess::start(&de).await.unwrap();
    let _fr_node = NodeProcess::start(&fr).await.unwrap();
    let fr_creds = || Credentials {
        endpoint: de.endpoint.clone(),
        ca_pem: de.read("ca.crt"),
        cert_pem: fr.read("node.crt"),
        key_pem: fr.read("node.key"),
    };

    // Before registration DE does not even complete a handshake with FR's node.
    let before = fr_creds().channel(true).await;
    let refused = match before {
        Ok(ch) => FederationServiceClient::new(ch)
            .hello(HelloRequest {
                jurisdiction: "FR".into(),
                sent_at_unix_ms: 0,
            })
            .await
            .is_err(),
        Err(_) => true,
    };
    assert!(refused);

    add_peer(&de, &fr).await.unwrap();
    add_peer(&fr, &de).await.unwrap();
    wait_links(&de, &["FR"]).await.unwrap();
    wait_links(&fr, &["DE"]).await.unwrap();
    let hello = FederationServiceClient::new(fr_creds().channel(true).await.unwrap())
        .hello(HelloRequest {
            jurisdiction: "FR".into(),
            sent_at_unix_ms: 0,
        })
        .await;
    assert!(hello.is_ok(), "{hello:?}");

    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    let dup = admin
        .add_peer(AddPeerRequest {
            trust: Some(trust_bundle(&fr).unwrap()),
        })
        .await
        .unwrap_err();
    assert_eq!(dup.code(), Code::AlreadyExists);
    let own = admin
        .add_peer(AddPeerRequest {
            trust: Some(trust_bundle(&de).unwrap()),
        })
        .await
        .unwrap_err();
    assert_eq!(own.code(), Code::InvalidArgument);
    let mut junk = trust_bundle(&fr).unwrap();
    junk.jurisdiction = "KR".into();
    junk.ca_cert_pem = "not a certificate".into();
    assert_eq!(
        admin
            .add_peer(AddPeerRequest { trust: Some(junk) })
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
    let missing = admin
        .remove_peer(RemovePeerRequest {
            jurisdiction: "KR".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let bad = admin
        .remove_peer(RemovePeerRequest {
            jurisdiction: "k r".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    // Restart: the registration was persisted and the link comes back.
    assert!(de_node.terminate().await.unwrap().success());
    let de_node = NodeProcess::start(&de).await.unwrap();
    let s = wait_links(&de, &["FR"]).await.unwrap();
    assert_eq!(peer_codes(&s), vec!["FR"]);

    // Removal: FR's node is refused from now on, and the link is gone.
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    admin
        .remove_peer(RemovePeerRequest {
            jurisdiction: "FR".into(),
        })
        .await
        .unwrap();
    let listed = admin
        .list_peers(ListPeersRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(listed.peers.is_empty());
    let after = match fr_creds().channel(true).await {
        Ok(ch) => FederationServiceClient::new(ch)
            .hello(HelloRequest {
                jurisdiction: "FR".into(),
                sent_at_unix_ms: 0,
            })
            .await
            .map(|_| ()),
        Err(e) => Err(tonic::Status::unavailable(e.to_string())),
    };
    assert!(after.is_err(), "removed peer still served");
    eventually("FR to see its link to DE fail", || {
        let profile = fr.admin_profile();
        async move {
            let s = status_of(&profile).await?;
            anyhow::ensure!(
                !s.peers[0].link.clone().unwrap_or_default().connected,
                "still connected"
            );
            Ok(())
        }
    })
    .await
    .unwrap();
    drop(de_node);
}
