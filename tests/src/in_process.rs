//! Nodes run inside the test process through `Node::start_with_peer_client`,
//! with `federation::faults::Faulty` around the real gRPC peer client, so a
//! test can partition, drop or delay one node's calls to a peer by name.
//!
//! Everything else is what a `concord-node` process has: certificates from
//! `concord pki init` (`NodeDir`), mutual TLS on loopback, a sled store in
//! the node's directory; only the outbound peer calls pass the switches.
//! Tests talk to these nodes with the same profile-based gRPC clients as
//! to processes.

use std::sync::Arc;

use anyhow::{Context, Result};
use concord_node::config::NodeConfig;
use concord_node::federation::faults::Faulty;
use concord_node::identity::Jurisdiction;
use concord_node::server::{Node, NodeHandle};
use tokio::sync::oneshot;

use crate::{eventually, init, set_config, status_of, NodeDir, TempDir};

/// A node running on the test's runtime; shuts down when dropped.
pub struct InProcessNode {
    pub dir: NodeDir,
    /// The switches every call this node makes to a peer passes.
    pub faults: Faulty,
    /// Dropping it (or sending) completes the node's shutdown future.
    stop: Option<oneshot::Sender<()>>,
    handle: Option<NodeHandle>,
}

impl InProcessNode {
    /// Starts the node `dir` describes and waits until its admin API answers.
    pub async fn start(dir: &NodeDir) -> Result<InProcessNode> {
        let config = NodeConfig::load(&dir.config())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let mut faults = None;
        let handle = Node::start_with_peer_client(config, shutdown, |grpc| {
            let faulty = Faulty::new(grpc);
            faults = Some(faulty.clone());
            Arc::new(faulty)
        })
        .await
        .with_context(|| format!("start {} in process", dir.code))?;
        let faults = faults.context("the node started without building its peer client")?;
        let profile = dir.admin_profile();
        eventually(&format!("{} to answer status", dir.code), || {
            status_of(&profile)
        })
        .await?;
        Ok(InProcessNode {
            dir: dir.clone(),
            faults,
            stop: Some(stop),
            handle: Some(handle),
        })
    }

    /// Stops the node gracefully and waits until its store is flushed.
    pub async fn stop(mut self) -> Result<()> {
        self.stop.take();
        match self.handle.take() {
            Some(h) => Ok(h.wait().await?),
            None => Ok(()),
        }
    }
}

/// A jurisdiction code as the node's types take it.
pub fn jurisdiction(code: &str) -> Jurisdiction {
    code.parse()
        .unwrap_or_else(|e| panic!("jurisdiction {code:?}: {e}"))
}

/// In-process nodes, each registered as every other's peer, all links up.
pub struct InProcessFederation {
    pub nodes: Vec<InProcessNode>,
    // Declared last: dropped after the nodes that keep their stores in it.
    pub root: TempDir,
}

impl InProcessFederation {
    /// `config` (`key`, value) pairs are set in every node's node.toml
    /// before it starts (see `set_config`).
    pub async fn start(codes: &[&str], config: &[(&str, u64)]) -> Result<InProcessFederation> {
        init();
        let root = tempfile::tempdir()?;
        let dirs: Vec<NodeDir> = codes
            .iter()
            .map(|c| NodeDir::init(root.path(), c))
            .collect();
        let mut nodes = Vec::new();
        for d in &dirs {
            set_config(d, config);
            nodes.push(InProcessNode::start(d).await?);
        }
        crate::peer_all(&dirs, codes).await?;
        Ok(InProcessFederation { nodes, root })
    }

    pub fn node(&self, code: &str) -> &InProcessNode {
        self.nodes
            .iter()
            .find(|n| n.dir.code == code)
            .unwrap_or_else(|| panic!("no node {code}"))
    }

    pub fn dir(&self, code: &str) -> &NodeDir {
        &self.node(code).dir
    }

    /// Stops every node gracefully, failing on the first that did not stop cleanly.
    pub async fn stop(self) -> Result<()> {
        for n in self.nodes {
            let code = n.dir.code.clone();
            n.stop().await.with_context(|| format!("stop {code}"))?;
        }
        Ok(())
    }
}
