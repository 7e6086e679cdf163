//! A throw-away federation on this machine, built only through the
//! product's own paths: `pki init`, `export-trust`, the `concord-node`
//! binary, AddPeer over the admin API. Used by `concord demo` and
//! `concord bench --local`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use concord_proto::v1 as pb;
use indicatif::ProgressBar;
use tokio::time::Instant;

use crate::client::{self, AdminClient, Clients};
use crate::cmd::pki::{ExportTrustArgs, InitArgs};
use crate::cmd::{peer, pki};
use crate::exit::{CliError, ErrorKind};
use crate::nodes::Nodes;
use crate::profile::Profile;
pub use crate::progress::Progress;

/// How long a node may take to answer its first Status.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the peer links may take to come up.
const LINKS_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(250);

/// The started federation: one member per jurisdiction, an admin client to
/// each, and the number of connected links (every ordered pair).
pub struct Launched {
    pub members: Vec<Member>,
    pub clients: Vec<AdminClient>,
    pub links: usize,
}

/// One jurisdiction on its way up.
pub struct Member {
    pub jurisdiction: String,
    pub init: pki::InitReport,
    pub trust: PathBuf,
    pub metrics: String,
    /// The web console's address.
    pub web: String,
    pub profile: Profile,
}

pub async fn launch(
    jurisdictions: &[&str],
    bin: &Path,
    dir: &Path,
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<Launched, CliError> {
    let bar = progress.bar("Creating PKI and trust bundles", jurisdictions.len());
    let ports = free_ports(jurisdictions.len() * 3)?;
    let mut members = Vec::new();
    for (i, j) in jurisdictions.iter().enumerate() {
        bar.set_message(format!("Creating PKI for {j}"));
        let metrics = format!("127.0.0.1:{}", ports[3 * i + 1]);
        let web = format!("127.0.0.1:{}", ports[3 * i + 2]);
        let init = pki::init(&InitArgs {
            jurisdiction: (*j).to_owned(),
            dir: dir.join(j),
            listen: format!("127.0.0.1:{}", ports[3 * i]),
            advertise: None,
            metrics_listen: metrics.clone(),
            web_listen: Some(web.clone()),
            node_name: "node".to_owned(),
            admin_name: "admin".to_owned(),
            days: 30,
        })
        .map_err(|e| e.context(format!("pki init for {j}")))?;
        let trust = dir.join(format!("{j}.trust.toml"));
        pki::export_trust(&ExportTrustArgs {
            dir: init.dir.clone(),
            out: trust.clone(),
        })
        .map_err(|e| e.context(format!("export-trust for {j}")))?;
        let profile = Profile::load(&init.admin_profile)?;
        members.push(Member {
            jurisdiction: (*j).to_owned(),
            init,
            trust,
            metrics,
            web,
            profile,
        });
        bar.inc(1);
    }
    bar.finish_with_message(format!(
        "Created PKI and trust bundles for {}",
        jurisdictions.join(", ")
    ));

    let bar = progress.bar("Starting nodes", members.len());
    for m in &members {
        bar.set_message(format!("Starting {}", m.jurisdiction));
        nodes.spawn(
            &m.jurisdiction,
            bin,
            &m.init.node_config,
            &m.init.dir.join("node.log"),
        )?;
    }
    let mut clients = Vec::new();
    for m in &members {
        bar.set_message(format!("Waiting for {} to answer Status", m.jurisdiction));
        clients.push(wait_ready(m, nodes).await?);
        bar.inc(1);
    }
    bar.finish_with_message(format!(
        "Started {}; each answers Status",
        jurisdictions.join(", ")
    ));

    let total = members.len() * (members.len() - 1);
    let bar = progress.bar("Registering peers", total);
    for (client, m) in clients.iter_mut().zip(&members) {
        for other in members.iter().filter(|o| o.jurisdiction != m.jurisdiction) {
            bar.set_message(format!(
                "{}: adding peer {}",
                m.jurisdiction, other.jurisdiction
            ));
            let bundle = peer::read_bundle(&other.trust)?;
            peer::add(client, &bundle).await.map_err(|s| {
                client::rpc_error("AddPeer", &m.profile, &s).context(format!(
                    "{}: adding peer {}",
                    m.jurisdiction, other.jurisdiction
                ))
            })?;
            bar.inc(1);
        }
    }
    bar.finish_with_message(format!("Registered {total} peerings through AddPeer"));

    let bar = progress.bar("Waiting for peer links", total);
    let connected = wait_links(&members, &mut clients, nodes, &bar).await?;
    bar.finish_with_message(format!("All {connected} peer links connected"));
    Ok(Launched {
        members,
        clients,
        links: connected,
    })
}

/// Polls Status through the admin profile until the node answers.
pub async fn wait_ready(m: &Member, nodes: &mut Nodes) -> Result<AdminClient, CliError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        nodes.check_running()?;
        let attempt = async {
            let mut client = Clients::connect(&m.profile).await?.admin;
            client
                .status(pb::StatusRequest {})
                .await
                .map_err(|s| client::rpc_error("Status", &m.profile, &s))?;
            Ok::<_, CliError>(client)
        };
        let last = match attempt.await {
            Ok(client) => return Ok(client),
            Err(e) => e,
        };
        // A refused connection means "not listening yet"; anything else is final.
        if last.kind != ErrorKind::ConnectionRefused {
            return Err(last.context(format!("node {} is up but Status fails", m.jurisdiction)));
        }
        if Instant::now() >= deadline {
            return Err(CliError::timeout(format!(
                "node {} did not answer Status within {} s; last error: {}",
                m.jurisdiction,
                READY_TIMEOUT.as_secs(),
                last.message
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Polls every node's Status until every link is connected; returns the count.
async fn wait_links(
    members: &[Member],
    clients: &mut [AdminClient],
    nodes: &mut Nodes,
    bar: &ProgressBar,
) -> Result<usize, CliError> {
    let total = members.len() * (members.len() - 1);
    let deadline = Instant::now() + LINKS_TIMEOUT;
    loop {
        nodes.check_running()?;
        let mut down = Vec::new();
        for (client, m) in clients.iter_mut().zip(members) {
            match client.status(pb::StatusRequest {}).await {
                Ok(status) => {
                    down.extend(links_down(m, members, &status.into_inner()));
                }
                Err(s) => {
                    let e = CliError::from_status(&s);
                    down.push(format!("{}: Status failed: {}", m.jurisdiction, e.message));
                }
            }
        }
        let connected = total.saturating_sub(down.len());
        bar.set_position(connected as u64);
        if down.is_empty() {
            return Ok(connected);
        }
        if Instant::now() >= deadline {
            return Err(CliError::timeout(format!(
                "only {connected} of {total} peer links connected after {} s: {}",
                LINKS_TIMEOUT.as_secs(),
                down.join("; ")
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The links of `m` that are not connected, each with its last error.
fn links_down(m: &Member, members: &[Member], status: &pb::StatusResponse) -> Vec<String> {
    let peers = |j: &str| {
        status
            .peers
            .iter()
            .find(|p| p.trust.as_ref().is_some_and(|t| t.jurisdiction == j))
    };
    members
        .iter()
        .filter(|o| o.jurisdiction != m.jurisdiction)
        .filter_map(|o| {
            let arrow = format!("{}→{}", m.jurisdiction, o.jurisdiction);
            match peers(&o.jurisdiction).map(|p| p.link.clone().unwrap_or_default()) {
                None => Some(format!("{arrow}: peer not registered")),
                Some(link) if link.connected => None,
                Some(link) if link.last_error.is_empty() => {
                    Some(format!("{arrow}: not connected yet"))
                }
                Some(link) => Some(format!("{arrow}: {}", link.last_error)),
            }
        })
        .collect()
}

/// Distinct free loopback ports, found by binding them all at once.
///
/// They come from below Linux's ephemeral range (32768 and up): a port the
/// OS picks for `bind(:0)` is released before the node binds it, and in that
/// gap any outgoing connection on the machine may take it as its source port.
/// Ports below the range are never handed out that way.
pub fn free_ports(n: usize) -> Result<Vec<u16>, CliError> {
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let offset = std::process::id().wrapping_mul(7_919) % SPAN;
    let mut held = Vec::with_capacity(n);
    for i in 0..SPAN {
        if held.len() == n {
            break;
        }
        let port = (LOW + (offset + i) % SPAN) as u16;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            held.push((port, listener));
        }
    }
    if held.len() < n {
        return Err(CliError::internal(format!(
            "cannot find {n} free ports on 127.0.0.1 in {LOW}..{}",
            LOW + SPAN
        )));
    }
    Ok(held.into_iter().map(|(port, _)| port).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct() {
        let mut ports = free_ports(6).unwrap();
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 6);
    }
}
