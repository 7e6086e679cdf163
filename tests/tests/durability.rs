//! A node killed with SIGKILL right after acknowledging a write restarts with it.

use concord_proto::v1::ListPeersRequest;
use concord_tests::*;

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let others: Vec<NodeDir> = ["FR", "JP", "KR", "US"]
        .iter()
        .map(|c| NodeDir::init(root.path(), c))
        .collect();
    let mut expected = Vec::new();
    for peer in &others {
        let node = NodeProcess::start(&de).await.unwrap();
        add_peer(&de, peer).await.unwrap();
        expected.push(peer.code.clone());
        // No grace period: the acknowledgement is all the client got.
        node.kill();
        let node = NodeProcess::start(&de).await.unwrap();
        let mut admin = Credentials::from_profile(&de.admin_profile())
            .unwrap()
            .admin()
            .await
            .unwrap();
        let listed = admin
            .list_peers(ListPeersRequest {})
            .await
            .unwrap()
            .into_inner();
        let mut got: Vec<String> = listed
            .peers
            .iter()
            .filter_map(|p| p.trust.as_ref())
            .map(|t| t.jurisdiction.clone())
            .collect();
        got.sort();
        let mut want = expected.clone();
        want.sort();
        assert_eq!(
            got, want,
            "after SIGKILL following the ack of {}",
            peer.code
        );
        node.kill();
    }
}
