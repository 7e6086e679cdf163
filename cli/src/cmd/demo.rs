//! `concord demo`: three jurisdictions (DE, FR, JP) federated on this machine,
//! built only through the product's own paths — `pki init`, `export-trust`,
//! the `concord-node` binary, and AddPeer over the admin API.
//!
//! Steps: PKI per jurisdiction on free loopback ports → trust bundles → start
//! the nodes → wait until each answers Status → register every other
//! jurisdiction as a peer on each node → wait until every link is connected →
//! exchange records: analyst certificates at every node and an officer
//! certificate at FR (as `pki issue` makes them), a sharing group at DE
//! (CreateGroup), an alert raised at DE to FR only, a denial issued at FR to
//! DE and JP, then poll each node's ListAlerts/ListDenials until every
//! recipient holds what it was sent (and JP is shown not to hold the DE
//! alert) → register a joint task force on every node (each at its own
//! level) and ask it, as a DE task-force member, about the denied party →
//! the no-undercut scene (`demo_consult`): DE's approval of an application
//! resembling FR's denial is refused until DE consults FR and FR answers →
//! wait for Ctrl-C (or stop at once with `--once`) → SIGTERM the nodes.
//!
//! Architecture invariant: no child outlives the demo; [`Nodes`] kills any
//! still running on drop, and a Ctrl-C or SIGTERM during any step stops them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use concord_proto::v1 as pb;
use serde::Serialize;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::time::Instant;

use crate::client::{self, AdminClient, Clients, ExchangeClient};
use crate::cmd::group::GroupView;
use crate::cmd::pki::IssueArgs;
use crate::cmd::records::{DeliveryOut, RecordOut};
use crate::cmd::{alert, denial, group, pki};
use crate::exit::CliError;
use crate::local::{self, Launched, Member, Progress};
use crate::nodes::{locate_node_binary, Nodes, Stopped};
use crate::output::{print_json, print_text, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the three node directories (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Stop the nodes as soon as every link is up, instead of waiting for Ctrl-C.
    #[arg(long)]
    pub once: bool,
}

/// The demo's jurisdictions.
pub const JURISDICTIONS: [&str; 3] = ["DE", "FR", "JP"];
/// How long exchanged records may take to reach their recipients.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long to wait, once everything is held, for the issuers' signed receipts.
const RECEIPTS_GRACE: Duration = Duration::from_secs(10);
/// Name of the people the demo issues analyst and officer certificates to.
const DEMO_PERSON: &str = "demo";
/// The sharing group the demo creates at DE.
const DEMO_GROUP: &str = "partners";
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
    pub exchange: ExchangeReport,
    pub taskforce: TaskForceReport,
    /// The no-undercut scene.
    pub consultation: crate::cmd::demo_consult::ConsultReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Vec<Stopped>>,
}

/// What the demo exchanged, and where each record ended up.
#[derive(Debug, Serialize)]
pub struct ExchangeReport {
    /// The sharing group created at DE.
    pub group: GroupView,
    pub group_at: String,
    pub records: Vec<HeldRecord>,
}

/// One exchanged record and the nodes holding it.
#[derive(Debug, Serialize)]
pub struct HeldRecord {
    pub id: String,
    pub kind: &'static str,
    pub issuer: String,
    pub recipients: Vec<String>,
    pub held_at: Vec<String>,
    pub not_held_at: Vec<String>,
    /// Every holder re-verified the issuer's signature.
    pub signatures_valid: bool,
    /// The issuer's delivery state per recipient.
    pub deliveries: Vec<DeliveryOut>,
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
    pub analyst_profile: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub officer_profile: Option<PathBuf>,
    pub trust_bundle: PathBuf,
    pub log: PathBuf,
    /// The web console, and the analyst's PKCS#12 bundle (with its password
    /// file beside it) to import into a browser to sign in.
    pub web_console: String,
    pub analyst_p12: PathBuf,
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
             (peers registered through AddPeer).\n\n",
            self.dir.display(),
            table.render(),
            self.links_connected,
            self.links_total
        );
        out.push_str("Web console (import the PKCS#12 bundle into the browser; its password is in the .p12-password file beside it, and trust the node's ca.crt):\n");
        for n in &self.nodes {
            out.push_str(&format!(
                "  {}  {}  {}\n",
                n.jurisdiction,
                n.web_console,
                n.analyst_p12.display()
            ));
        }
        out.push('\n');
        out.push_str(&self.exchange.render());
        out.push_str(&self.taskforce.render());
        out.push_str(&self.consultation.render());
        if waiting {
            out.push_str(&self.guidance());
            out.push_str("\nPress Ctrl-C to stop the nodes.\n");
        }
        out
    }

    /// How to point the CLI at each node, as admin, analyst and officer.
    fn guidance(&self) -> String {
        let mut out = String::from("\nPoint the CLI at a node (admin profiles):\n");
        for n in &self.nodes {
            out.push_str(&format!(
                "  concord --profile {} status\n",
                n.admin_profile.display()
            ));
        }
        out.push_str("\nAnalyst and officer profiles:\n");
        for n in &self.nodes {
            out.push_str(&format!(
                "  {} analyst  {}\n",
                n.jurisdiction,
                n.analyst_profile.display()
            ));
            if let Some(officer) = &n.officer_profile {
                out.push_str(&format!(
                    "  {} officer  {}\n",
                    n.jurisdiction,
                    officer.display()
                ));
            }
        }
        let node = |j: &str| self.nodes.iter().find(|n| n.jurisdiction == j);
        let alert = self.exchange.records.iter().find(|r| r.kind == "alert");
        let denial = self.exchange.records.iter().find(|r| r.kind == "denial");
        if let (Some(de), Some(fr), Some(jp), Some(alert), Some(denial)) =
            (node("DE"), node("FR"), node("JP"), alert, denial)
        {
            let analyst = |n: &DemoNode| n.analyst_profile.display().to_string();
            let officer = fr
                .officer_profile
                .as_ref()
                .map_or_else(|| analyst(fr), |p| p.display().to_string());
            out.push_str(&format!(
                "\nTry:\n  \
                 concord --profile {fr_a} alert show {a}\n  \
                 concord --profile {jp_a} alert list            # JP holds no DE alert\n  \
                 concord --profile {jp_a} alert watch\n  \
                 concord --profile {de_a} alert raise --category other --severity low \\\n      \
                 --summary \"test\" --group {group}\n  \
                 concord --profile {de_a} denial show {d}\n  \
                 concord --profile {fr_o} denial amend {d} --reason \"new evidence\" --valid-for 90d\n  \
                 concord --profile {de_admin} group list\n  \
                 concord --profile {member} query party \"{party}\" --taskforce {tf}\n",
                fr_a = analyst(fr),
                jp_a = analyst(jp),
                de_a = analyst(de),
                fr_o = officer,
                de_admin = de.admin_profile.display(),
                a = alert.id,
                d = denial.id,
                group = self.exchange.group.name,
                member = self.taskforce.member_profile.display(),
                party = TASKFORCE_PARTY,
                tf = self.taskforce.name,
            ));
            let c = &self.consultation;
            out.push_str(&format!(
                "  concord --profile {fr_a} consult show {id}\n  \
                 concord --profile {jp_a} consult list          # JP holds no consultation\n  \
                 concord --profile {de_a} consult check {license}\n",
                fr_a = analyst(fr),
                jp_a = analyst(jp),
                de_a = analyst(de),
                id = c.consultation_id,
                license = c.license_id,
            ));
        }
        out
    }
}

impl ExchangeReport {
    fn render(&self) -> String {
        let mut table = Table::new([
            "RECORD",
            "ISSUER",
            "RECIPIENTS",
            "HELD AT",
            "NOT HELD AT",
            "SIGNATURES",
            "DELIVERIES (ISSUER'S VIEW)",
        ]);
        for r in &self.records {
            let deliveries: Vec<String> = r
                .deliveries
                .iter()
                .map(|d| {
                    let receipt = match (d.state.as_str(), d.receipt_valid) {
                        ("delivered", true) => ", receipt valid",
                        ("delivered", false) => ", receipt INVALID",
                        _ => "",
                    };
                    format!("{} {}{receipt}", d.recipient, d.state)
                })
                .collect();
            table.row([
                format!("{} {}", r.kind, r.id),
                r.issuer.clone(),
                r.recipients.join(", "),
                r.held_at.join(", "),
                crate::output::or_dash(&r.not_held_at.join(", ")),
                if r.signatures_valid {
                    "valid"
                } else {
                    "INVALID"
                }
                .to_owned(),
                crate::output::or_dash(&deliveries.join("; ")),
            ]);
        }
        let mut out = format!(
            "Sharing group {} at {}: {}\n\nWho received what:\n{}",
            self.group.name,
            self.group_at,
            self.group.members.join(", "),
            table.render()
        );
        for r in &self.records {
            for j in &r.not_held_at {
                out.push_str(&format!(
                    "{j} does not hold {} {}: it was not a recipient (need-to-know).\n",
                    r.kind, r.id
                ));
            }
        }
        out
    }
}

/// The task force the demo registers, the level each node answers it at,
/// and the party its member asks about.
const TASKFORCE: &str = "demo-ops";
const TASKFORCE_LEVELS: [(&str, &str); 3] = [("DE", "hit"), ("FR", "full"), ("JP", "summary")];
const TASKFORCE_PARTY: &str = "Demo Components SARL";

/// The demo's task force and the answer to its member's question.
#[derive(Debug, Serialize)]
pub struct TaskForceReport {
    pub name: String,
    /// Per jurisdiction: the level its node answers at.
    pub levels: BTreeMap<String, String>,
    pub member_profile: PathBuf,
    pub answer: crate::cmd::query::QueryOut,
}

impl TaskForceReport {
    fn render(&self) -> String {
        let levels: Vec<String> = self
            .levels
            .iter()
            .map(|(j, l)| format!("{j} {l}"))
            .collect();
        format!(
            "\nTask force {} registered on every node (answering at: {}).\n\
             A DE task-force member asks it; FR reveals its denial in full (it names DE), \
             JP answers for its own records only (none), DE says hit:\n\n{}",
            self.name,
            levels.join(", "),
            crate::cmd::query::render_query(&self.answer)
        )
    }
}

/// Registers the task force on every node (admin), issues a DE task-force
/// member certificate and asks about the denied party until every member
/// node has answered.
async fn taskforce(
    members: &[Member],
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<TaskForceReport, CliError> {
    let bar = progress.bar("Asking a joint task force", members.len() + 1);
    let ends = crate::duration::now_unix_ms() + 7 * 86_400_000;
    let mut levels = BTreeMap::new();
    for m in members {
        let level = TASKFORCE_LEVELS
            .iter()
            .find(|(j, _)| *j == m.jurisdiction)
            .map_or("hit", |(_, l)| *l);
        bar.set_message(format!(
            "{}: registering {TASKFORCE} at level {level}",
            m.jurisdiction
        ));
        let mut client = Clients::connect(&m.profile).await?.taskforce;
        client
            .create_task_force(pb::CreateTaskForceRequest {
                name: TASKFORCE.to_owned(),
                mandate: "Demo: a component broker supplying a denied end user".to_owned(),
                members: JURISDICTIONS.iter().map(|j| j.to_string()).collect(),
                ends_at_unix_ms: ends,
                level: level.to_owned(),
                blind_key: Vec::new(),
            })
            .await
            .map_err(|s| {
                client::rpc_error("CreateTaskForce", &m.profile, &s).context(m.jurisdiction.clone())
            })?;
        levels.insert(m.jurisdiction.clone(), level.to_owned());
        bar.inc(1);
    }
    let de = members
        .iter()
        .find(|m| m.jurisdiction == "DE")
        .ok_or_else(|| CliError::internal("the demo has no DE"))?;
    let member = issue_profile(de, "taskforce")?;
    bar.set_message(format!("DE member: query party {TASKFORCE_PARTY:?}"));
    let request = pb::TaskForceQueryRequest {
        taskforce: TASKFORCE.to_owned(),
        query: Some(pb::TaskForceQuery {
            kind: Some(pb::task_force_query::Kind::Party(pb::TaskForcePartyQuery {
                name: TASKFORCE_PARTY.to_owned(),
            })),
        }),
        blind: false,
    };
    let deadline = Instant::now() + EXCHANGE_TIMEOUT;
    let answer = loop {
        nodes.check_running()?;
        let answer = crate::cmd::query::ask(&member, request.clone()).await?;
        if answer.sections.iter().all(|s| s.outcome == "answered") || Instant::now() >= deadline {
            break answer;
        }
        tokio::time::sleep(POLL).await;
    };
    bar.inc(1);
    bar.finish_with_message(format!(
        "Task force {TASKFORCE}: {} of {} members answered",
        answer
            .sections
            .iter()
            .filter(|s| s.outcome == "answered")
            .count(),
        answer.sections.len()
    ));
    Ok(TaskForceReport {
        name: TASKFORCE.to_owned(),
        levels,
        member_profile: member.path.clone(),
        answer,
    })
}

async fn bring_up(
    bin: &Path,
    dir: &Path,
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<DemoReport, CliError> {
    let Launched {
        members,
        mut clients,
        links: connected,
    } = local::launch(&JURISDICTIONS, bin, dir, nodes, progress).await?;
    let total = members.len() * (members.len() - 1);
    let (exchange, mut roles) = exchange(&members, &mut clients, nodes, progress).await?;
    let taskforce = taskforce(&members, nodes, progress).await?;
    let consultation = no_undercut(&members, &exchange, &mut roles, nodes, progress).await?;

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
                analyst_profile: roles
                    .get(m.jurisdiction.as_str())
                    .map(|r| r.analyst.path.clone())
                    .unwrap_or_default(),
                web_console: format!("https://{}/", m.web),
                analyst_p12: roles
                    .get(m.jurisdiction.as_str())
                    .map(|r| p12_beside(&r.analyst.path))
                    .unwrap_or_default(),
                officer_profile: roles
                    .get(m.jurisdiction.as_str())
                    .and_then(|r| r.officer.as_ref().map(|o| o.path.clone())),
                trust_bundle: m.trust.clone(),
                log: logs
                    .get(m.jurisdiction.as_str())
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect(),
        links_connected: connected,
        links_total: total,
        exchange,
        taskforce,
        consultation,
        stopped: None,
    })
}

/// The no-undercut scene at DE about FR's denial; DE's officer profile
/// joins the roles the report lists.
async fn no_undercut(
    members: &[Member],
    exchange: &ExchangeReport,
    roles: &mut BTreeMap<String, Roles>,
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<crate::cmd::demo_consult::ConsultReport, CliError> {
    let member = |j: &str| {
        members
            .iter()
            .find(|m| m.jurisdiction == j)
            .ok_or_else(|| CliError::internal(format!("the demo has no {j}")))
    };
    let denial = exchange
        .records
        .iter()
        .find(|r| r.kind == "denial")
        .ok_or_else(|| CliError::internal("the demo issued no denial"))?;
    let de = member("DE")?;
    let de_officer = issue_profile(de, "officer")?;
    // Four eyes: a second person countersigns DE's high-risk approval.
    let de_checker = issue_named(de, "officer", "demo-checker")?;
    let fr_officer = roles
        .get("FR")
        .and_then(|r| r.officer.clone())
        .ok_or_else(|| CliError::internal("no officer at FR"))?;
    let jp_analyst = roles
        .get("JP")
        .map(|r| r.analyst.clone())
        .ok_or_else(|| CliError::internal("no analyst at JP"))?;
    let report = crate::cmd::demo_consult::scene(
        de,
        &de_officer,
        &de_checker,
        &fr_officer,
        &jp_analyst,
        &denial.id,
        nodes,
        progress,
    )
    .await?;
    if let Some(r) = roles.get_mut("DE") {
        r.officer = Some(de_officer);
    }
    Ok(report)
}

/// The exchange-role profiles the demo issued at one node.
struct Roles {
    analyst: Profile,
    officer: Option<Profile>,
}

/// The PKCS#12 bundle `pki issue` wrote beside a profile
/// (`analyst-x.profile.toml` → `analyst-x.p12`).
fn p12_beside(profile: &std::path::Path) -> PathBuf {
    let name = profile
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .trim_end_matches(".profile.toml");
    profile.with_file_name(format!("{name}.p12"))
}

/// Issues a person's certificate and profile the way `concord pki issue` does.
fn issue_profile(m: &Member, role: &str) -> Result<Profile, CliError> {
    issue_named(m, role, DEMO_PERSON)
}

fn issue_named(m: &Member, role: &str, name: &str) -> Result<Profile, CliError> {
    let report = pki::issue(&IssueArgs {
        dir: m.init.dir.clone(),
        role: role.to_owned(),
        name: name.to_owned(),
        days: 30,
        replace: false,
        p12_password_file: None,
    })
    .map_err(|e| e.context(format!("pki issue {role} for {}", m.jurisdiction)))?;
    Profile::load(&report.profile)
}

async fn exchange_client(profile: &Profile, who: &str) -> Result<ExchangeClient, CliError> {
    Clients::connect(profile)
        .await
        .map(|c| c.exchange)
        .map_err(|e| e.context(who.to_owned()))
}

/// Issues analyst and officer certificates, creates a sharing group at DE,
/// raises an alert at DE to FR only, issues a denial at FR to DE and JP, and
/// waits until every recipient holds what it was sent.
async fn exchange(
    members: &[Member],
    admins: &mut [AdminClient],
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<(ExchangeReport, BTreeMap<String, Roles>), CliError> {
    let bar = progress.bar("Exchanging records", 5);
    bar.set_message("Issuing analyst and officer certificates");
    let mut roles = BTreeMap::new();
    for m in members {
        let officer = if m.jurisdiction == "FR" {
            Some(issue_profile(m, "officer")?)
        } else {
            None
        };
        let analyst = issue_profile(m, "analyst")?;
        roles.insert(m.jurisdiction.clone(), Roles { analyst, officer });
    }
    bar.inc(1);

    let index = |j: &str| {
        members
            .iter()
            .position(|m| m.jurisdiction == j)
            .ok_or_else(|| CliError::internal(format!("the demo has no {j}")))
    };
    let de = index("DE")?;
    bar.set_message(format!("DE: creating sharing group {DEMO_GROUP}"));
    let created = group::create(
        &mut admins[de],
        DEMO_GROUP,
        vec!["FR".to_owned(), "JP".to_owned()],
    )
    .await
    .map_err(|s| client::rpc_error("CreateGroup", &members[de].profile, &s).context("DE"))?;
    bar.inc(1);

    // One analyst client per node, for raising at DE and reading everywhere.
    let mut readers = Vec::new();
    for m in members {
        let r = roles
            .get(&m.jurisdiction)
            .ok_or_else(|| CliError::internal(format!("no analyst at {}", m.jurisdiction)))?;
        let who = format!("{} analyst", m.jurisdiction);
        readers.push((
            m.jurisdiction.clone(),
            r.analyst.clone(),
            exchange_client(&r.analyst, &who).await?,
        ));
    }

    bar.set_message("DE: raising an alert to FR only");
    let (_, de_analyst, de_client) = &mut readers[de];
    let raised = de_client
        .raise_alert(pb::RaiseAlertRequest {
            category: "diversion-suspected".to_owned(),
            severity: "high".to_owned(),
            subjects: Some(pb::Subjects {
                parties: vec![pb::Party {
                    name: "Demo Trading Ltd (fictitious)".to_owned(),
                    ..Default::default()
                }],
                destinations: vec!["ZZ".to_owned()],
                items: vec!["3A001".to_owned()],
                shipments: vec!["DEMO-SHIPMENT-1".to_owned()],
            }),
            indicators: vec!["orders split below reporting thresholds".to_owned()],
            summary: "Demo: suspected diversion of 3A001 electronics via a third country"
                .to_owned(),
            expires_in_seconds: 7 * 86_400,
            handling: "DEMO - FR only".to_owned(),
            distribution: Some(pb::Distribution {
                to: vec!["FR".to_owned()],
                groups: vec![],
            }),
        })
        .await
        .map_err(|s| client::rpc_error("RaiseAlert", de_analyst, &s).context("DE analyst"))?
        .into_inner();
    bar.inc(1);

    bar.set_message("FR: issuing a denial to DE and JP");
    let fr_officer = roles
        .get("FR")
        .and_then(|r| r.officer.clone())
        .ok_or_else(|| CliError::internal("no officer at FR"))?;
    let mut officer = exchange_client(&fr_officer, "FR officer").await?;
    let issued = officer
        .issue_denial(pb::IssueDenialRequest {
            party: Some(pb::Party {
                name: "Demo Components SARL (fictitious)".to_owned(),
                aliases: vec!["DemoComp".to_owned()],
                country: "ZZ".to_owned(),
                address: String::new(),
            }),
            items: vec![pb::DeniedItem {
                code: "3A001".to_owned(),
                description: "demo electronic components".to_owned(),
            }],
            destination: "ZZ".to_owned(),
            end_use: "stated: civilian telecommunications".to_owned(),
            reason: "Demo: end user could not be verified".to_owned(),
            valid_for_seconds: 365 * 86_400,
            distribution: Some(pb::Distribution {
                to: vec!["DE".to_owned(), "JP".to_owned()],
                groups: vec![],
            }),
        })
        .await
        .map_err(|s| client::rpc_error("IssueDenial", &fr_officer, &s).context("FR officer"))?
        .into_inner();
    bar.inc(1);

    bar.set_message("Waiting until every recipient holds its records");
    let records = wait_held(&[raised, issued], &mut readers, nodes).await?;
    bar.inc(1);
    bar.finish_with_message(format!(
        "Exchanged {}: every recipient holds what it was sent",
        records
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok((
        ExchangeReport {
            group: GroupView::from(&created),
            group_at: "DE".to_owned(),
            records,
        },
        roles,
    ))
}

/// Which nodes hold each record (through ListAlerts/ListDenials as each
/// node's analyst); polls until every recipient holds it with a valid
/// signature, then briefly for the issuer's receipts. Fails at once if a
/// node that is not a recipient holds a record.
async fn wait_held(
    sent: &[pb::RecordView],
    readers: &mut [(String, Profile, ExchangeClient)],
    nodes: &mut Nodes,
) -> Result<Vec<HeldRecord>, CliError> {
    let deadline = Instant::now() + EXCHANGE_TIMEOUT;
    let mut receipts_deadline: Option<Instant> = None;
    loop {
        nodes.check_running()?;
        let mut held: Vec<HeldRecord> = Vec::new();
        let mut missing: Vec<String> = Vec::new();
        for record in sent {
            let sent = RecordOut::from(record);
            let mut row = HeldRecord {
                id: sent.id.clone(),
                kind: sent.kind,
                issuer: sent.issuer.clone(),
                recipients: sent.recipients.clone(),
                held_at: Vec::new(),
                not_held_at: Vec::new(),
                signatures_valid: true,
                deliveries: Vec::new(),
            };
            for (j, profile, client) in readers.iter_mut() {
                let request = pb::ListRecordsRequest {
                    issuer: sent.issuer.clone(),
                    ..Default::default()
                };
                let (call, listed) = match sent.kind {
                    "alert" => ("ListAlerts", alert::list(client, request).await),
                    _ => ("ListDenials", denial::list(client, request).await),
                };
                let listed = listed.map_err(|s| {
                    client::rpc_error(call, profile, &s).context(format!("{j} analyst"))
                })?;
                match listed.iter().find(|v| v.id == sent.id) {
                    Some(v) => {
                        let v = RecordOut::from(v);
                        row.held_at.push(j.clone());
                        row.signatures_valid &= v.signature_valid;
                        if *j == sent.issuer {
                            row.deliveries = v.deliveries.clone();
                        }
                        if *j != sent.issuer && !sent.recipients.contains(j) {
                            return Err(CliError::internal(format!(
                                "{j} holds {} {} though it is not a recipient ({})",
                                sent.kind,
                                sent.id,
                                sent.recipients.join(", ")
                            )));
                        }
                        if !v.signature_valid {
                            missing.push(format!(
                                "{j}: signature of {} {}",
                                sent.id,
                                v.signature()
                            ));
                        }
                    }
                    None => {
                        row.not_held_at.push(j.clone());
                        if sent.recipients.contains(j) || *j == sent.issuer {
                            missing.push(format!("{j} does not hold {} yet", sent.id));
                        }
                    }
                }
            }
            held.push(row);
        }
        if missing.is_empty() {
            let receipted = held.iter().all(|r| {
                r.deliveries.len() == r.recipients.len()
                    && r.deliveries
                        .iter()
                        .all(|d| d.state == "delivered" && d.receipt_valid)
            });
            let grace = *receipts_deadline.get_or_insert_with(|| Instant::now() + RECEIPTS_GRACE);
            if receipted || Instant::now() >= grace {
                return Ok(held);
            }
        } else if Instant::now() >= deadline {
            return Err(CliError::timeout(format!(
                "records not held after {} s: {}",
                EXCHANGE_TIMEOUT.as_secs(),
                missing.join("; ")
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}
