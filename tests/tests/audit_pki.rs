//! Certificate issuance lands in the node's audit trail, verified against
//! the jurisdiction's CA; issuing still works while the node is down.

use concord_proto::v1::RecordIssuanceRequest;
use concord_tests::*;

async fn entries(dir: &NodeDir) -> Vec<concord_proto::v1::AuditEntry> {
    audit_entries(&dir.admin_profile()).await.unwrap()
}

#[tokio::test]
async fn issued_certificates_are_audited() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    // Offline issuance still works (the node is not running yet).
    de.issue("analyst", "offline");
    let _node = NodeProcess::start(&de).await.unwrap();
    de.issue("officer", "olivia");
    let audited = entries(&de).await;
    let issue = audited
        .iter()
        .find(|e| e.action == "pki.issue")
        .expect("pki.issue entry");
    assert_eq!(issue.record, "concord://DE/officer/olivia");
    assert_eq!(issue.actor, "DE/admin/admin");
    assert!(
        issue.rationale.starts_with("certificate sha256 "),
        "{}",
        issue.rationale
    );
    assert!(!audited.iter().any(|e| e.record.contains("offline")));

    // A certificate from another CA, or naming something else, is not recorded.
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    let foreign = fr.read("admin.crt");
    let err = admin
        .record_issuance(RecordIssuanceRequest {
            identity: "concord://FR/admin/admin".into(),
            certificate_sha256_hex: String::new(),
            certificate_pem: foreign,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    // FR's CA minting a DE identity: names DE, but DE's CA did not issue it.
    let fr_ca = concord_node::crypto::CertificateAuthority::from_pem(
        &fr.read("ca.crt"),
        &fr.read("ca.key"),
    )
    .unwrap();
    let forged = fr_ca
        .issue(
            &concord_node::identity::Caller::from_uri("concord://DE/officer/mallory").unwrap(),
            &[],
            concord_node::crypto::Validity::days(1),
        )
        .unwrap();
    let der = concord_node::tls::certs_from_pem(forged.cert_pem.as_bytes())
        .unwrap()
        .remove(0);
    let err = admin
        .record_issuance(RecordIssuanceRequest {
            identity: "concord://DE/officer/mallory".into(),
            certificate_sha256_hex: hex::encode(concord_node::crypto::sha256(&der)),
            certificate_pem: forged.cert_pem,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message()
            .contains("not issued by this jurisdiction's CA"),
        "{}",
        err.message()
    );
}
