//! `concord demo`: three jurisdictions (DE, FR, JP) federated on this machine,
//! built only through the product's own paths — `pki init`, `export-trust`,
//! the `concord-node` binary, and AddPeer over the admin API.
//!
//! Steps: PKI per jurisdiction on free loopback ports → trust bundles → start
//! the nodes → wait until each answers Status → register every other
//! jurisdiction as a peer on each node → wait until every link is connected →
//! wait for Ctrl-C (or stop at once with `--once`) → SIGTERM the nodes.
//!
//! Architecture invariant: no child outlives the demo; [`Nodes`] kills any
//! still running on drop, and a Ctrl-C or SIGTERM during any step stops them.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use concord_proto::v1 as pb;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::time::Instant;

use crate::args::{DemoArgs, ExportTrustArgs, InitArgs};
use crate::client::{self, AdminClient};
use crate::cmd::{peer, pki};
use crate::exit::{CliError, ErrorKind};
use crate::nodes::{locate_node_binary, Nodes, Stopped};
use crate::output::{print_json, print_text, OutputFormat, Table};
use crate::profile::Profile;

/// The demo's jurisdictions.
pub const JURISDICTIONS: [&str; 3] = ["DE", "FR", "JP"];
/// How long a node may take to answer its first Status.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the peer links may take to come up.
const LINKS_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a node may take to exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(250);

pub async fn run(args: DemoArgs, output: OutputFormat) -> Result<(), CliError> {
    let mut signals = Signals::install()?;
    let progress = Progress::new(output);
    let bin = locate_node_binary()?;
    // Declared before `nodes`, so it is dropped after the nodes are gone.
    let (dir, mut temp) = prepare_dir(args.dir.as_deref())?;
    let mut nodes = Nodes::default();

    let started = tokio::select! {
        result = bring_up(&bin, &dir, &mut nodes, &progress) => result,
        name = signals.recv() => Err(CliError::internal(format!(
            "interrupted by {name} while starting the federation"
        ))),
    };
    let mut report = match started {
        Ok(report) => report,
        Err(e) => {
            progress.clear();
            let stopped = stop(&mut nodes, &progress).await;
            return Err(failed(e, &stopped, &dir, &mut temp));
        }
    };

    if !args.once {
        match output {
            OutputFormat::Json => print_json(&report)?,
            OutputFormat::Table => print_text(&report.render(true))?,
        }
        let name = tokio::select! {
            name = signals.recv() => name,
            died = watch(&mut nodes) => {
                let stopped = stop(&mut nodes, &progress).await;
                return Err(failed(died, &stopped, &dir, &mut temp));
            }
        };
        eprintln!("Received {name}; stopping the nodes.");
    }
    let stopped = stop(&mut nodes, &progress).await;
    let summary = describe_all(&stopped);
    let clean = stopped.iter().all(Stopped::clean);
    if args.once {
        report.stopped = Some(stopped);
        match output {
            OutputFormat::Json => print_json(&report)?,
            OutputFormat::Table => print_text(&format!(
                "{}\nStopped the nodes: {summary}\n",
                report.render(false)
            ))?,
        }
    } else if output == OutputFormat::Table {
        print_text(&format!("Stopped the nodes: {summary}"))?;
    }
    if !clean {
        keep(&mut temp);
        return Err(CliError::internal(format!(
            "not every node stopped cleanly: {summary}; logs in {}/<J>/node.log",
            dir.display()
        )));
    }
    if let Some(t) = temp.take() {
        let path = t.path().to_owned();
        match t.close() {
            Ok(()) => eprintln!("Removed {}", path.display()),
            Err(e) => eprintln!("Could not remove {}: {e}", path.display()),
        }
    }
    Ok(())
}

/// The error of a failed demo, after its nodes were stopped: names the kept
/// directory and any node that did not stop cleanly.
fn failed(
    err: CliError,
    stopped: &[Stopped],
    dir: &Path,
    temp: &mut Option<tempfile::TempDir>,
) -> CliError {
    let mut err = if stopped.is_empty() {
        // Nothing ran: a temporary directory holds nothing worth keeping.
        if let Some(t) = temp.take() {
            let _ = t.close();
        }
        err.context(format!("demo in {}", dir.display()))
    } else {
        keep(temp);
        err.context(format!(
            "demo in {} (node logs in <J>/node.log)",
            dir.display()
        ))
    };
    let unclean: Vec<&Stopped> = stopped.iter().filter(|s| !s.clean()).collect();
    if !unclean.is_empty() && !err.message.contains("exited unexpectedly") {
        let list: Vec<String> = unclean
            .iter()
            .map(|s| format!("{} {}", s.jurisdiction, s.describe()))
            .collect();
        err.message
            .push_str(&format!(" (on stop: {})", list.join(", ")));
    }
    err
}

fn describe_all(stopped: &[Stopped]) -> String {
    stopped
        .iter()
        .map(|s| format!("{} {}", s.jurisdiction, s.describe()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The demo directory: `--dir`, or a fresh temporary one removed after a
/// clean run and kept (for its logs) after a failure.
fn prepare_dir(dir: Option<&Path>) -> Result<(PathBuf, Option<tempfile::TempDir>), CliError> {
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::config(format!("cannot create {}: {e}", dir.display())))?;
            let dir = std::fs::canonicalize(dir)
                .map_err(|e| CliError::config(format!("cannot resolve {}: {e}", dir.display())))?;
            Ok((dir, None))
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix("concord-demo-")
                .tempdir()
                .map_err(|e| {
                    CliError::config(format!("cannot create a temporary directory: {e}"))
                })?;
            let dir = temp.path().to_owned();
            Ok((dir, Some(temp)))
        }
    }
}

/// Keeps a temporary demo directory after a failure, for its logs; the error
/// message names it (stderr gets that one line only).
fn keep(temp: &mut Option<tempfile::TempDir>) {
    if let Some(t) = temp.take() {
        let _ = t.keep();
    }
}

async fn stop(nodes: &mut Nodes, progress: &Progress) -> Vec<Stopped> {
    let bar = progress.spinner("Stopping the nodes (SIGTERM)");
    let stopped = nodes.stop(STOP_GRACE).await;
    bar.finish_and_clear();
    stopped
}

/// Resolves when a node exits on its own.
async fn watch(nodes: &mut Nodes) -> CliError {
    loop {
        if let Err(e) = nodes.check_running() {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// SIGINT and SIGTERM, installed once so none is lost between steps.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn install() -> Result<Self, CliError> {
        let install = |kind| {
            signal(kind)
                .map_err(|e| CliError::internal(format!("cannot install a signal handler: {e}")))
        };
        Ok(Signals {
            interrupt: install(SignalKind::interrupt())?,
            terminate: install(SignalKind::terminate())?,
        })
    }

    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "Ctrl-C",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

/// What the demo built.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub dir: PathBuf,
    pub nodes: Vec<DemoNode>,
    pub links_connected: usize,
    pub links_total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Vec<Stopped>>,
}

#[derive(Debug, Serialize)]
pub struct DemoNode {
    pub jurisdiction: String,
    pub endpoint: String,
    pub metrics_address: String,
    pub pid: u32,
    pub signing_key_id: String,
    pub node_config: PathBuf,
    pub admin_profile: PathBuf,
    pub trust_bundle: PathBuf,
    pub log: PathBuf,
}

impl DemoReport {
    fn render(&self, waiting: bool) -> String {
        let mut table = Table::new([
            "JURISDICTION",
            "ENDPOINT",
            "METRICS",
            "PID",
            "KEY ID",
            "LOG",
        ]);
        for n in &self.nodes {
            table.row([
                n.jurisdiction.clone(),
                n.endpoint.clone(),
                n.metrics_address.clone(),
                n.pid.to_string(),
                n.signing_key_id.clone(),
                n.log.display().to_string(),
            ]);
        }
        let mut out = format!(
            "Concord demo federation in {}\n\n{}\nAll {} of {} peer links are connected \
             (peers registered through AddPeer).\n",
            self.dir.display(),
            table.render(),
            self.links_connected,
            self.links_total
        );
        if waiting {
            out.push_str("\nPoint the CLI at a node:\n");
            for n in &self.nodes {
                out.push_str(&format!(
                    "  concord --profile {} status\n",
                    n.admin_profile.display()
                ));
            }
            out.push_str("\nPress Ctrl-C to stop the nodes.\n");
        }
        out
    }
}

/// One jurisdiction on its way up.
struct Member {
    jurisdiction: String,
    init: pki::InitReport,
    trust: PathBuf,
    metrics: String,
    profile: Profile,
}

async fn bring_up(
    bin: &Path,
    dir: &Path,
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<DemoReport, CliError> {
    let bar = progress.bar("Creating PKI and trust bundles", JURISDICTIONS.len());
    let ports = free_ports(JURISDICTIONS.len() * 2)?;
    let mut members = Vec::new();
    for (i, j) in JURISDICTIONS.iter().enumerate() {
        bar.set_message(format!("Creating PKI for {j}"));
        let metrics = format!("127.0.0.1:{}", ports[2 * i + 1]);
        let init = pki::init(&InitArgs {
            jurisdiction: (*j).to_owned(),
            dir: dir.join(j),
            listen: format!("127.0.0.1:{}", ports[2 * i]),
            advertise: None,
            metrics_listen: metrics.clone(),
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
            profile,
        });
        bar.inc(1);
    }
    bar.finish_with_message("Created PKI and trust bundles for DE, FR, JP");

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
    bar.finish_with_message("Started DE, FR, JP; each answers Status");

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

    let pids: BTreeMap<&str, u32> = nodes.iter().map(|p| (p.name.as_str(), p.pid)).collect();
    let logs: BTreeMap<&str, PathBuf> = nodes
        .iter()
        .map(|p| (p.name.as_str(), p.log.clone()))
        .collect();
    Ok(DemoReport {
        dir: dir.to_owned(),
        nodes: members
            .iter()
            .map(|m| DemoNode {
                jurisdiction: m.jurisdiction.clone(),
                endpoint: m.init.endpoint.clone(),
                metrics_address: m.metrics.clone(),
                pid: pids
                    .get(m.jurisdiction.as_str())
                    .copied()
                    .unwrap_or_default(),
                signing_key_id: m.init.signing_key_id.clone(),
                node_config: m.init.node_config.clone(),
                admin_profile: m.init.admin_profile.clone(),
                trust_bundle: m.trust.clone(),
                log: logs
                    .get(m.jurisdiction.as_str())
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect(),
        links_connected: connected,
        links_total: total,
        stopped: None,
    })
}

/// Polls Status through the admin profile until the node answers.
async fn wait_ready(m: &Member, nodes: &mut Nodes) -> Result<AdminClient, CliError> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        nodes.check_running()?;
        let attempt = async {
            let mut client = client::connect(&m.profile).await?;
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
fn free_ports(n: usize) -> Result<Vec<u16>, CliError> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::internal(format!("cannot find a free port on 127.0.0.1: {e}")))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::internal(format!("cannot find a free port on 127.0.0.1: {e}")))
}

/// Spinner frames; the last one marks a finished step.
const TICKS: &str = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏✔";

/// indicatif progress on stderr, hidden when stderr is not a terminal or the
/// output is JSON.
struct Progress {
    multi: MultiProgress,
}

impl Progress {
    fn new(output: OutputFormat) -> Self {
        let visible = output == OutputFormat::Table && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
        }
    }

    fn bar(&self, message: &str, len: usize) -> ProgressBar {
        let style = ProgressStyle::with_template(
            "{spinner:.green} {msg:<48} [{bar:12.cyan}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .tick_chars(TICKS)
        .progress_chars("=> ");
        self.start(ProgressBar::new(len as u64).with_style(style), message)
    }

    fn spinner(&self, message: &str) -> ProgressBar {
        let style = ProgressStyle::with_template("{spinner:.green} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_chars(TICKS);
        self.start(ProgressBar::new_spinner().with_style(style), message)
    }

    fn start(&self, bar: ProgressBar, message: &str) -> ProgressBar {
        let bar = self.multi.add(bar);
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    fn clear(&self) {
        let _ = self.multi.clear();
    }
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
