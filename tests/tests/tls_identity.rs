//! Who gets through the TLS door, and what a verified identity may call.

use concord_node::crypto::{CertificateAuthority, Validity};
use concord_node::identity::{Caller, Role};
use concord_proto::v1::admin_service_client::AdminServiceClient;
use concord_proto::v1::federation_service_client::FederationServiceClient;
use concord_proto::v1::{HelloRequest, StatusRequest};
use concord_tests::*;
use time::{Duration, OffsetDateTime};
use tonic::Code;

async fn one_node() -> (TempDir, NodeDir, NodeProcess) {
    init();
    let root = tempfile::tempdir().unwrap();
    let dir = NodeDir::init(root.path(), "DE");
    let node = NodeProcess::start(&dir).await.unwrap();
    (root, dir, node)
}

fn refused_handshakes(dir: &NodeDir) -> u64 {
    metric(dir, "concord_tls_handshakes_total{result=\"refused\"}")
}

/// The node counts the refusal just after sending its alert, so poll briefly.
async fn assert_refused_since(dir: &NodeDir, before: u64) {
    eventually("the node to count a refused handshake", || async move {
        anyhow::ensure!(refused_handshakes(dir) > before, "not counted yet");
        Ok(())
    })
    .await
    .unwrap();
}

/// The call fails at the transport (handshake refused), not with an answer from a service.
fn assert_transport_refusal(err: &tonic::Status) {
    assert!(
        !matches!(
            err.code(),
            Code::PermissionDenied | Code::Ok | Code::InvalidArgument | Code::NotFound
        ),
        "expected a refused handshake, got a service answer: {err:?}"
    );
}

async fn status_with(creds: &Credentials, present_cert: bool) -> Result<(), tonic::Status> {
    let channel = match creds.channel(present_cert).await {
        Ok(c) => c,
        // Refused at connect (TLS 1.2) is as good as refused at the first call.
        Err(e) => return Err(tonic::Status::unavailable(e.to_string())),
    };
    AdminServiceClient::new(channel)
        .status(StatusRequest {})
        .await
        .map(|_| ())
}

fn issue(dir: &NodeDir, identity: Caller, validity: Validity) -> Credentials {
    let ca = CertificateAuthority::from_pem(&dir.read("ca.crt"), &dir.read("ca.key")).unwrap();
    let issued = ca.issue(&identity, &[], validity).unwrap();
    let mut creds = Credentials::from_profile(&dir.admin_profile()).unwrap();
    creds.cert_pem = issued.cert_pem;
    creds.key_pem = issued.key_pem;
    creds
}

#[tokio::test]
async fn the_node_admin_gets_through() {
    let (_root, dir, _node) = one_node().await;
    let creds = Credentials::from_profile(&dir.admin_profile()).unwrap();
    status_with(&creds, true).await.unwrap();
    let s = status_of(&dir.admin_profile()).await.unwrap();
    assert_eq!(s.jurisdiction, "DE");
    assert_eq!(s.endpoint, dir.endpoint);
    assert_eq!(s.signing_key_id.len(), 16);
    assert_eq!(
        s.store.unwrap().schema_version,
        concord_node::store::SCHEMA_VERSION
    );
}

#[tokio::test]
async fn a_client_without_certificate_is_refused_at_the_handshake() {
    let (_root, dir, _node) = one_node().await;
    let before = refused_handshakes(&dir);
    let creds = Credentials::from_profile(&dir.admin_profile()).unwrap();
    let err = status_with(&creds, false).await.unwrap_err();
    assert_transport_refusal(&err);
    assert_refused_since(&dir, before).await;
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_refused_at_the_handshake() {
    let (root, dir, _node) = one_node().await;
    // Same jurisdiction code, different CA: an impostor.
    let impostor = NodeDir::init(&root.path().join("impostor"), "DE");
    let mut creds = Credentials::from_profile(&impostor.admin_profile()).unwrap();
    creds.endpoint = dir.endpoint.clone();
    creds.ca_pem = dir.read("ca.crt");
    let before = refused_handshakes(&dir);
    assert_transport_refusal(&status_with(&creds, true).await.unwrap_err());
    assert_refused_since(&dir, before).await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused_at_the_handshake() {
    let (_root, dir, _node) = one_node().await;
    let now = OffsetDateTime::now_utc();
    let expired = Validity {
        not_before: now - Duration::days(30),
        not_after: now - Duration::days(1),
    };
    let creds = issue(
        &dir,
        Caller::new("DE".parse().unwrap(), Role::Admin, "old").unwrap(),
        expired,
    );
    let before = refused_handshakes(&dir);
    assert_transport_refusal(&status_with(&creds, true).await.unwrap_err());
    assert_refused_since(&dir, before).await;
    // The same identity, currently valid, is accepted: the expiry was the reason.
    let fresh = issue(
        &dir,
        Caller::new("DE".parse().unwrap(), Role::Admin, "old").unwrap(),
        Validity::days(1),
    );
    status_with(&fresh, true).await.unwrap();
}

#[tokio::test]
async fn a_valid_certificate_with_the_wrong_role_is_permission_denied() {
    let (_root, dir, _node) = one_node().await;
    for role in ["officer", "analyst", "taskforce"] {
        let profile = dir.issue(role, &format!("{role}1"));
        let creds = Credentials::from_profile(&profile).unwrap();
        let err = status_with(&creds, true).await.unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{role}: {err:?}");
    }
    // The node's own certificate may not administer it either.
    let mut node_creds = Credentials::from_profile(&dir.admin_profile()).unwrap();
    node_creds.cert_pem = dir.read("node.crt");
    node_creds.key_pem = dir.read("node.key");
    assert_eq!(
        status_with(&node_creds, true).await.unwrap_err().code(),
        Code::PermissionDenied
    );
}

#[tokio::test]
async fn an_admin_may_not_call_the_federation_service() {
    let (_root, dir, _node) = one_node().await;
    let channel = Credentials::from_profile(&dir.admin_profile())
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let err = FederationServiceClient::new(channel)
        .hello(HelloRequest {
            jurisdiction: "DE".into(),
            sent_at_unix_ms: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
}

#[tokio::test]
async fn health_checking_and_reflection_are_served_over_mtls() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{health_check_response::ServingStatus, HealthCheckRequest};
    let (_root, dir, _node) = one_node().await;
    let channel = Credentials::from_profile(&dir.admin_profile())
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let mut health = HealthClient::new(channel.clone());
    for service in [
        "",
        "concord.v1.AdminService",
        "concord.v1.FederationService",
    ] {
        let resp = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resp.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope.Service".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn reflection_lists_the_concord_services() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let (_root, dir, _node) = one_node().await;
    let channel = Credentials::from_profile(&dir.admin_profile())
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let first = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("unexpected reflection answer {first:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for wanted in [
        "concord.v1.AdminService",
        "concord.v1.FederationService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} missing from {names:?}"
        );
    }
}
