//! `concord bench`: measures a deployment, in the spirit of `etcdctl check
//! perf` or `redis-benchmark`, against a throw-away local federation
//! (`--local N`) or against existing nodes given by profiles. Three parts,
//! each selectable with `--only`:
//!
//! - **exchange**: raise-to-stored latency and throughput of risk alerts.
//!   "Stored" is when a recipient's `WatchAlerts` stream reports the alert,
//!   which the node does only once the alert is durably stored there.
//! - **screening**: single `Query` calls with `--concurrency` in flight
//!   (per-query latency, queries/s), then `QueryBatch` calls (names/s). With
//!   `--local` a watchlist is imported into the first node first: a
//!   deterministic synthetic list, or a real file (`--watchlist`).
//! - **taskforce**: a member's party query at its home node, answered there
//!   and by every other member node (latency, queries/s, which peers
//!   answered). With `--local` a task force is registered on every node and
//!   every other node issues a few denials naming the asking jurisdiction,
//!   so answers carry hits; the nodes are restarted once with the
//!   per-identity task-force query limit lifted (the bench asks far faster
//!   than a person).
//!
//! With `--local` the parts run in the order screening, task force,
//! exchange, so the first two see an almost empty store.

use std::path::PathBuf;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use concord_node::screening::formats::{self, Format};
use concord_node::screening::{EntityType, WatchlistEntry};
use concord_proto::v1 as pb;
use concord_proto::v1::screening_service_client::ScreeningServiceClient;
use indicatif::ProgressBar;
use serde::Serialize;
use tonic::transport::Channel;

use crate::client;
use crate::client::Clients;
use crate::cmd::pki::IssueArgs;
use crate::cmd::{pki, screen};
use crate::duration::now_unix_ms;
use crate::exit::{CliError, ErrorKind};
use crate::local::{self, Launched, Progress};
use crate::nodes::{locate_node_binary, Nodes};
use crate::output::{print_json, print_text, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Start a throw-away federation of N nodes on this machine (2-8) and
    /// measure it: every part unless --only says otherwise.
    #[arg(long, value_name = "N")]
    pub local: Option<usize>,
    /// Parts to measure, comma-separated: exchange, screening, taskforce.
    /// Default: all with --local; otherwise each part whose profile is given.
    #[arg(long, value_delimiter = ',', value_name = "PART,...")]
    pub only: Vec<String>,
    /// Requests in flight at once (raising alerts, single screening queries).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,

    // Record exchange.
    /// Exchange: analyst profile at the node that raises (instead of --local).
    #[arg(long, value_name = "FILE")]
    pub raise_profile: Option<PathBuf>,
    /// Exchange: recipient jurisdictions, one per --watch-profile, in the same order.
    #[arg(long, value_delimiter = ',', value_name = "J,J")]
    pub to: Vec<String>,
    /// Exchange: analyst profile at each recipient's node (repeatable).
    #[arg(long, value_name = "FILE")]
    pub watch_profile: Vec<PathBuf>,
    /// Exchange: alerts to raise.
    #[arg(long, default_value_t = 1000)]
    pub records: usize,

    // Screening.
    /// Screening: analyst, officer or admin profile at the node to screen
    /// against its lists (instead of --local).
    #[arg(long, value_name = "FILE")]
    pub screen_profile: Option<PathBuf>,
    /// Screening: single Query calls to make.
    #[arg(long, value_name = "Q", default_value_t = 2000)]
    pub screen_queries: usize,
    /// Screening: names per QueryBatch call when screening the same names in
    /// batches afterwards (at most 1000; 0 skips the batch phase).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub screen_batch: usize,
    /// Screening: names to screen, one a line, repeated or cut to
    /// --screen-queries (default: generated names, a quarter of them unlisted).
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    /// Screening with --local: format of --watchlist (ofac-csv, bis-dpl,
    /// csl-csv, jsonl, un-xml, eu-fsf, uk-ofsi, ftm).
    #[arg(long, value_name = "FORMAT")]
    pub watchlist_format: Option<String>,
    /// Screening with --local: the list to import into the first node (a
    /// folder for ofac-csv, else a file); default: a synthetic list.
    #[arg(long, value_name = "PATH")]
    pub watchlist: Option<PathBuf>,
    /// Screening with --local: entries of the synthetic list.
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub watchlist_entries: usize,

    // Task forces.
    /// Task force: member profile (role taskforce) at its home node (instead of --local).
    #[arg(long, value_name = "FILE")]
    pub taskforce_profile: Option<PathBuf>,
    /// Task force: its name (with --local, the one registered; default bench).
    #[arg(long, value_name = "NAME")]
    pub taskforce: Option<String>,
    /// Task force: the party asked about.
    #[arg(long, value_name = "NAME", default_value = "Acme Trading FZE")]
    pub taskforce_party: String,
    /// Task force: party queries to make.
    #[arg(long, value_name = "Q", default_value_t = 200)]
    pub taskforce_queries: usize,
    /// Task force: queries in flight at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub taskforce_concurrency: usize,
}

const CODES: [&str; 8] = ["DE", "FR", "IT", "JP", "NL", "SE", "PL", "ES"];
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long the last records may take to reach every recipient.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long restarted nodes may take to reconnect every peer link.
const LINKS_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the seeded denials may take to reach the asking node.
const SEED_TIMEOUT: Duration = Duration::from_secs(60);
/// The node's largest QueryBatch.
const MAX_BATCH: usize = 1000;
/// QueryBatch calls in flight at most (as `concord screen query --file`).
const BATCH_IN_FLIGHT: usize = 4;
/// Denials each answering node issues to the asking jurisdiction in
/// `--local`; every other one names the party asked about.
const SEEDED_DENIALS: usize = 6;
/// The name of the list `--local` imports.
const LIST: &str = "bench";
/// The lifted per-identity task-force query limit (`--local` only).
const LIFTED_LIMIT: i64 = 1_000_000;

/// What `concord bench` measured; a part not run is null.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub target: String,
    pub exchange: Option<ExchangeReport>,
    pub screening: Option<ScreeningReport>,
    pub taskforce: Option<TaskForceReport>,
}

#[derive(Debug, Serialize)]
pub struct ExchangeReport {
    pub recipients: Vec<String>,
    pub records: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub records_per_second: f64,
    pub deliveries_per_second: f64,
    pub raise_acks_per_second: f64,
    /// Raise-to-stored, per (record, recipient).
    pub latency_ms: Latency,
}

#[derive(Debug, Serialize)]
pub struct ScreeningReport {
    /// The node screened against.
    pub endpoint: String,
    /// `--local`: the list imported before measuring.
    pub import: Option<ImportReport>,
    /// The lists the node screens against (ListLists).
    pub lists: Vec<ListHeld>,
    /// Single `Query` calls.
    pub queries: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub queries_per_second: f64,
    pub latency_ms: Latency,
    /// Queries with at least one match at the node's threshold.
    pub queries_with_match: usize,
    /// `QueryBatch` over the same names; null with `--screen-batch 0`.
    pub batch: Option<BatchReport>,
}

#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub list: String,
    /// synthetic, or the format of the imported file.
    pub source: String,
    pub entries: u64,
    pub names: u64,
    pub seconds: f64,
}

#[derive(Debug, Serialize)]
pub struct ListHeld {
    pub name: String,
    pub kind: String,
    pub entries: u64,
    pub names: u64,
}

#[derive(Debug, Serialize)]
pub struct BatchReport {
    pub batch_size: usize,
    pub calls: usize,
    pub in_flight: usize,
    pub names: usize,
    pub seconds: f64,
    pub names_per_second: f64,
    /// Per call.
    pub latency_ms: Latency,
}

#[derive(Debug, Serialize)]
pub struct TaskForceReport {
    pub taskforce: String,
    pub party: String,
    /// The asking member's node.
    pub home: String,
    /// The other member nodes its answers name.
    pub peers: Vec<String>,
    /// `--local`: denials each peer issued to the home jurisdiction (half
    /// name the party); null against existing nodes.
    pub seeded_denials_per_peer: Option<usize>,
    pub queries: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub queries_per_second: f64,
    pub latency_ms: Latency,
    /// Queries in which every peer answered with a valid signature.
    pub queries_answered_by_every_peer: usize,
    /// Peer sections by outcome over all queries (answered, unreachable,
    /// timed-out, refused; "bad-signature" for an answer that did not verify).
    pub peer_outcomes: BTreeMap<String, usize>,
    /// Answered peer sections reporting a hit.
    pub peer_hits: usize,
    /// Queries in which the home node's own section reported a hit.
    pub home_hits: usize,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// Percentiles of milliseconds (nearest rank below); zeros when empty.
    fn of(mut ms: Vec<f64>) -> Latency {
        ms.sort_by(|x, y| x.total_cmp(y));
        let pick = |q: f64| {
            ms.get(((ms.len() as f64 * q) as usize).min(ms.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        Latency {
            p50: pick(0.5),
            p99: pick(0.99),
            max: ms.last().copied().unwrap_or(0.0),
        }
    }
}

/// Which parts run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    exchange: bool,
    screening: bool,
    taskforce: bool,
}

impl Parts {
    const ALL: Parts = Parts {
        exchange: true,
        screening: true,
        taskforce: true,
    };
    const NONE: Parts = Parts {
        exchange: false,
        screening: false,
        taskforce: false,
    };

    /// `--only`, if given; `None` when it was not.
    fn parse(only: &[String]) -> Result<Option<Parts>, CliError> {
        let mut parts = Parts::NONE;
        let mut any = false;
        for p in only.iter().map(|p| p.trim().to_ascii_lowercase()) {
            match p.as_str() {
                "" => continue,
                "exchange" => parts.exchange = true,
                "screening" => parts.screening = true,
                "taskforce" => parts.taskforce = true,
                _ => {
                    return Err(CliError::invalid_argument(format!(
                        "--only: {p:?} is not exchange, screening or taskforce"
                    )))
                }
            }
            any = true;
        }
        Ok(any.then_some(parts))
    }
}

/// The parts to run, after checking which flags go together.
fn select(args: &BenchArgs) -> Result<Parts, CliError> {
    let only = Parts::parse(&args.only)?;
    if args.concurrency == 0 {
        return Err(CliError::invalid_argument("--concurrency must be positive"));
    }
    if args.watchlist.is_some() != args.watchlist_format.is_some() {
        return Err(CliError::invalid_argument(
            "--watchlist and --watchlist-format go together",
        ));
    }
    let parts = if args.local.is_some() {
        let profiles = [
            ("--raise-profile", args.raise_profile.is_some()),
            ("--watch-profile", !args.watch_profile.is_empty()),
            ("--to", !args.to.is_empty()),
            ("--screen-profile", args.screen_profile.is_some()),
            ("--taskforce-profile", args.taskforce_profile.is_some()),
        ];
        if let Some((flag, _)) = profiles.iter().find(|(_, given)| *given) {
            return Err(CliError::invalid_argument(format!(
                "--local starts its own federation; {flag} is for measuring existing nodes"
            )));
        }
        only.unwrap_or(Parts::ALL)
    } else {
        if args.watchlist.is_some() {
            return Err(CliError::invalid_argument(
                "--watchlist is for --local; against existing nodes the bench screens against the lists the node holds",
            ));
        }
        let given = Parts {
            exchange: args.raise_profile.is_some(),
            screening: args.screen_profile.is_some(),
            taskforce: args.taskforce_profile.is_some(),
        };
        let parts = only.unwrap_or(given);
        for (wanted, has, flag, name) in [
            (
                parts.exchange,
                given.exchange,
                "--raise-profile",
                "exchange",
            ),
            (
                parts.screening,
                given.screening,
                "--screen-profile",
                "screening",
            ),
            (
                parts.taskforce,
                given.taskforce,
                "--taskforce-profile",
                "taskforce",
            ),
        ] {
            if wanted && !has {
                return Err(CliError::invalid_argument(format!(
                    "the {name} part needs {flag} (or --local N)"
                )));
            }
        }
        if parts.exchange && (args.to.is_empty() || args.watch_profile.len() != args.to.len()) {
            return Err(CliError::invalid_argument(
                "--to must name one jurisdiction per --watch-profile (an analyst profile at that jurisdiction's node)",
            ));
        }
        if parts.taskforce && args.taskforce.is_none() {
            return Err(CliError::invalid_argument(
                "--taskforce-profile needs --taskforce NAME (the task force to query)",
            ));
        }
        parts
    };
    if parts == Parts::NONE {
        return Err(CliError::invalid_argument(
            "nothing to measure: give --local N, or --raise-profile (with --to and --watch-profile), --screen-profile, --taskforce-profile (with --taskforce)",
        ));
    }
    if parts.exchange && args.records == 0 {
        return Err(CliError::invalid_argument("--records must be positive"));
    }
    if parts.screening {
        if args.screen_queries == 0 {
            return Err(CliError::invalid_argument(
                "--screen-queries must be positive",
            ));
        }
        if args.screen_batch > MAX_BATCH {
            return Err(CliError::invalid_argument(format!(
                "--screen-batch takes at most {MAX_BATCH} names (0 skips the batch phase)"
            )));
        }
        if args.local.is_some() && args.watchlist.is_none() && args.watchlist_entries == 0 {
            return Err(CliError::invalid_argument(
                "--watchlist-entries must be positive",
            ));
        }
    }
    if parts.taskforce {
        if args.taskforce_queries == 0 || args.taskforce_concurrency == 0 {
            return Err(CliError::invalid_argument(
                "--taskforce-queries and --taskforce-concurrency must be positive",
            ));
        }
        if args.taskforce_party.trim().is_empty() {
            return Err(CliError::invalid_argument(
                "--taskforce-party must name a party",
            ));
        }
    }
    Ok(parts)
}

pub async fn run(args: BenchArgs, output: OutputFormat) -> Result<(), CliError> {
    let parts = select(&args)?;
    // Read local input before starting anything.
    let names = match &args.names {
        Some(path) => Some(read_names(path)?),
        None => None,
    };
    let progress = Progress::new(output);
    let report = match args.local {
        Some(n) => local_bench(n, &args, parts, names, &progress).await,
        None => remote_bench(&args, parts, names, &progress).await,
    };
    progress.clear();
    let report = report?;
    match output {
        OutputFormat::Json => print_json(&report),
        OutputFormat::Table => print_text(&render(&report)),
    }
}

async fn remote_bench(
    args: &BenchArgs,
    parts: Parts,
    names: Option<Vec<String>>,
    progress: &Progress,
) -> Result<BenchReport, CliError> {
    let mut report = BenchReport {
        target: String::new(),
        exchange: None,
        screening: None,
        taskforce: None,
    };
    let mut targets = Vec::new();
    if parts.screening {
        if let Some(path) = &args.screen_profile {
            let profile = Profile::load(path)?;
            targets.push(profile.endpoint.clone());
            let names = names.unwrap_or_else(|| synthetic_queries(&[], args.screen_queries));
            let names = cycle(names, args.screen_queries);
            report.screening = Some(screening(&profile, None, names, args, progress).await?);
        }
    }
    if parts.taskforce {
        if let (Some(path), Some(name)) = (&args.taskforce_profile, &args.taskforce) {
            let profile = Profile::load(path)?;
            targets.push(profile.endpoint.clone());
            report.taskforce = Some(taskforce(&profile, name, args, None, progress).await?);
        }
    }
    if parts.exchange {
        if let Some(raise) = &args.raise_profile {
            let raiser = Profile::load(raise)?;
            let watchers = args
                .watch_profile
                .iter()
                .map(|p| Profile::load(p))
                .collect::<Result<Vec<_>, _>>()?;
            targets.push(raiser.endpoint.clone());
            report.exchange = Some(exchange(&raiser, &watchers, &args.to, args, progress).await?);
        }
    }
    targets.dedup();
    report.target = targets.join(", ");
    Ok(report)
}

async fn local_bench(
    n: usize,
    args: &BenchArgs,
    parts: Parts,
    names: Option<Vec<String>>,
    progress: &Progress,
) -> Result<BenchReport, CliError> {
    if !(2..=CODES.len()).contains(&n) {
        return Err(CliError::invalid_argument(format!(
            "--local takes 2 to {} nodes",
            CODES.len()
        )));
    }
    // Parse a given watchlist before starting anything.
    let watchlist = match (&args.watchlist_format, &args.watchlist) {
        (Some(format), Some(path)) if parts.screening => Some(read_watchlist(format, path)?),
        _ => None,
    };
    let codes = &CODES[..n];
    let bin = locate_node_binary()?;
    let temp = tempfile::tempdir()
        .map_err(|e| CliError::internal(format!("cannot create a work directory: {e}")))?;
    let mut nodes = Nodes::default();
    let result = async {
        let mut launched = local::launch(codes, &bin, temp.path(), &mut nodes, progress).await?;
        if parts.taskforce {
            restart_with_lifted_limit(&mut launched, &bin, &mut nodes, progress).await?;
        }
        let mut analysts = Vec::new();
        for m in &launched.members {
            analysts.push(issue(m, "analyst", "bench")?);
        }
        let mut report = BenchReport {
            target: format!("local federation of {n} nodes ({})", codes.join(", ")),
            exchange: None,
            screening: None,
            taskforce: None,
        };
        if parts.screening {
            let (import, listed) =
                local_import(&launched.members[0], watchlist, args, progress).await?;
            let queries = match names {
                Some(names) => cycle(names, args.screen_queries),
                None => synthetic_queries(&listed, args.screen_queries),
            };
            report.screening =
                Some(screening(&analysts[0], Some(import), queries, args, progress).await?);
        }
        if parts.taskforce {
            let name = args.taskforce.clone().unwrap_or_else(|| "bench".to_owned());
            let member = local_taskforce(&launched, &analysts[0], &name, args, progress).await?;
            report.taskforce =
                Some(taskforce(&member, &name, args, Some(SEEDED_DENIALS), progress).await?);
        }
        if parts.exchange {
            let to: Vec<String> = codes[1..].iter().map(|c| (*c).to_owned()).collect();
            report.exchange =
                Some(exchange(&analysts[0], &analysts[1..], &to, args, progress).await?);
        }
        Ok(report)
    }
    .await;
    let _ = nodes.stop(STOP_GRACE).await;
    result
}

/// A certificate of `role` at a local member's node, as a loaded profile.
fn issue(m: &local::Member, role: &str, name: &str) -> Result<Profile, CliError> {
    let issued = pki::issue(&IssueArgs {
        dir: m.init.dir.clone(),
        role: role.into(),
        name: name.into(),
        days: 1,
        replace: false,
    })?;
    Profile::load(&issued.profile)
}

// ---- local set-up -----------------------------------------------------------

/// Stops every node, lifts the per-identity task-force query limit in each
/// `node.toml`, starts them again and waits for every peer link.
async fn restart_with_lifted_limit(
    launched: &mut Launched,
    bin: &Path,
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<(), CliError> {
    let spinner = progress.spinner("Restarting nodes with the task-force query limit lifted");
    for s in nodes.stop(STOP_GRACE).await {
        if !s.clean() {
            return Err(CliError::internal(format!(
                "node {} did not stop cleanly for the restart: {}",
                s.jurisdiction,
                s.describe()
            )));
        }
    }
    *nodes = Nodes::default();
    for m in &launched.members {
        lift_limit(&m.init.node_config)?;
        nodes.spawn(
            &m.jurisdiction,
            bin,
            &m.init.node_config,
            &m.init.dir.join("node.restarted.log"),
        )?;
    }
    let mut clients = Vec::new();
    for m in &launched.members {
        clients.push(local::wait_ready(m, nodes).await?);
    }
    launched.clients = clients;
    let deadline = Instant::now() + LINKS_TIMEOUT;
    let wanted = launched.members.len() - 1;
    loop {
        nodes.check_running()?;
        let mut down = Vec::new();
        for (client, m) in launched.clients.iter_mut().zip(&launched.members) {
            let status = client
                .status(pb::StatusRequest {})
                .await
                .map_err(|s| client::rpc_error("Status", &m.profile, &s))?
                .into_inner();
            let up = status
                .peers
                .iter()
                .filter(|p| p.link.as_ref().is_some_and(|l| l.connected))
                .count();
            if up < wanted {
                down.push(format!("{}: {up} of {wanted} links", m.jurisdiction));
            }
        }
        if down.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            return Err(CliError::timeout(format!(
                "peer links not back {} s after the restart: {}",
                LINKS_TIMEOUT.as_secs(),
                down.join("; ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    spinner.finish_with_message("Restarted nodes with the task-force query limit lifted");
    Ok(())
}

/// Sets `[taskforce]` queries_per_minute_per_identity and
/// query_burst_per_identity in a node.toml.
fn lift_limit(config: &Path) -> Result<(), CliError> {
    let shown = config.display();
    let text = std::fs::read_to_string(config)
        .map_err(|e| CliError::config(format!("cannot read {shown}: {e}")))?;
    let mut doc: toml::Table = text
        .parse()
        .map_err(|e| CliError::config(format!("{shown}: {e}")))?;
    let section = doc
        .entry("taskforce")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(section) = section.as_table_mut() else {
        return Err(CliError::config(format!(
            "{shown}: [taskforce] is not a table"
        )));
    };
    for key in [
        "queries_per_minute_per_identity",
        "query_burst_per_identity",
    ] {
        section.insert(key.to_owned(), toml::Value::Integer(LIFTED_LIMIT));
    }
    let text = toml::to_string(&doc)
        .map_err(|e| CliError::internal(format!("cannot encode {shown}: {e}")))?;
    std::fs::write(config, text).map_err(|e| CliError::config(format!("cannot write {shown}: {e}")))
}

/// Registers the task force on every node, has every other node issue
/// denials naming the first node's jurisdiction, waits until the first node
/// holds them, and returns a member profile at the first node.
async fn local_taskforce(
    launched: &Launched,
    home_analyst: &Profile,
    name: &str,
    args: &BenchArgs,
    progress: &Progress,
) -> Result<Profile, CliError> {
    let members: Vec<String> = launched
        .members
        .iter()
        .map(|m| m.jurisdiction.clone())
        .collect();
    let home = &launched.members[0];
    let bar = progress.bar("Registering the task force", members.len());
    for m in &launched.members {
        let mut client = Clients::connect(&m.profile).await?.taskforce;
        client
            .create_task_force(pb::CreateTaskForceRequest {
                name: name.to_owned(),
                mandate: "concord bench".into(),
                members: members.clone(),
                ends_at_unix_ms: now_unix_ms() + 86_400_000,
                level: "summary".into(),
                blind_key: vec![],
            })
            .await
            .map_err(|s| client::rpc_error("CreateTaskForce", &m.profile, &s))?;
        bar.inc(1);
    }
    bar.finish_with_message(format!("Registered task force {name} on every node"));

    let peers = &launched.members[1..];
    let bar = progress.bar("Seeding denials", peers.len() * SEEDED_DENIALS);
    let mut ids = Vec::new();
    for m in peers {
        let officer = issue(m, "officer", "bench")?;
        let mut x = Clients::connect(&officer).await?.exchange;
        for i in 0..SEEDED_DENIALS {
            let party = if i % 2 == 0 {
                args.taskforce_party.clone()
            } else {
                format!("{} Bench Supply {i}", m.jurisdiction)
            };
            let denial = x
                .issue_denial(pb::IssueDenialRequest {
                    party: Some(pb::Party {
                        name: party,
                        country: "AE".into(),
                        ..Default::default()
                    }),
                    items: vec![pb::DeniedItem {
                        code: "3A001".into(),
                        description: String::new(),
                    }],
                    destination: "IR".into(),
                    reason: "concord bench".into(),
                    distribution: Some(pb::Distribution {
                        to: vec![home.jurisdiction.clone()],
                        groups: vec![],
                    }),
                    ..Default::default()
                })
                .await
                .map_err(|s| client::rpc_error("IssueDenial", &officer, &s))?;
            ids.push(denial.into_inner().id);
            bar.inc(1);
        }
    }
    bar.finish_with_message(format!(
        "Seeded {} denials naming {}",
        ids.len(),
        home.jurisdiction
    ));

    let spinner = progress.spinner(&format!("Waiting until {} holds them", home.jurisdiction));
    let mut x = Clients::connect(home_analyst).await?.exchange;
    let deadline = Instant::now() + SEED_TIMEOUT;
    for id in &ids {
        loop {
            match x.get_denial(pb::GetRecordRequest { id: id.clone() }).await {
                Ok(_) => break,
                Err(s) if s.code() == tonic::Code::NotFound && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(s) if s.code() == tonic::Code::NotFound => {
                    return Err(CliError::timeout(format!(
                        "{} did not receive denial {id} within {} s",
                        home.jurisdiction,
                        SEED_TIMEOUT.as_secs()
                    )))
                }
                Err(s) => return Err(client::rpc_error("GetDenial", home_analyst, &s)),
            }
        }
    }
    spinner.finish_with_message(format!("{} holds every seeded denial", home.jurisdiction));
    issue(home, "taskforce", "bench")
}

/// Imports the bench list into the first node; returns what was imported
/// and the listed primary names (for the queries).
async fn local_import(
    first: &local::Member,
    watchlist: Option<(Format, Vec<WatchlistEntry>)>,
    args: &BenchArgs,
    progress: &Progress,
) -> Result<(ImportReport, Vec<String>), CliError> {
    let (format, source, entries) = match watchlist {
        Some((format, entries)) => (format, format.to_string(), entries),
        None => (
            Format::Jsonl,
            "synthetic".to_owned(),
            synthetic_list(args.watchlist_entries),
        ),
    };
    let listed: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    let total = entries.len();
    let profile = &first.profile;
    let mut client = screen::import_client(profile).await?;
    let requests = screen::requests(LIST, format, entries);
    let spinner = progress.spinner(&format!(
        "Importing {total} {source} entries into {}",
        first.jurisdiction
    ));
    let start = Instant::now();
    let r = client
        .import_list(tonic::codegen::tokio_stream::iter(requests))
        .await
        .map_err(|s| client::rpc_error("ImportList", profile, &s))?
        .into_inner();
    let seconds = start.elapsed().as_secs_f64();
    spinner.finish_with_message(format!(
        "Imported {} entries ({} names) into {}",
        r.entries, r.names, first.jurisdiction
    ));
    Ok((
        ImportReport {
            list: r.list,
            source,
            entries: r.entries,
            names: r.names,
            seconds,
        },
        listed,
    ))
}

fn read_watchlist(format: &str, path: &Path) -> Result<(Format, Vec<WatchlistEntry>), CliError> {
    let format: Format = format
        .parse()
        .map_err(|e| CliError::invalid_argument(format!("--watchlist-format: {e}")))?;
    let parsed = formats::read(format, path)
        .map_err(|e| CliError::invalid_argument(format!("--watchlist: {e}")))?;
    if parsed.entries.is_empty() {
        return Err(CliError::invalid_argument(format!(
            "--watchlist {}: no usable entries ({} malformed rows)",
            path.display(),
            parsed.malformed.len()
        )));
    }
    Ok((format, parsed.entries))
}

fn read_names(path: &Path) -> Result<Vec<String>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::invalid_argument(format!("--names {}: {e}", path.display())))?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        return Err(CliError::invalid_argument(format!(
            "--names {}: no names (one a line)",
            path.display()
        )));
    }
    Ok(names)
}

/// `names` repeated or cut to exactly `n`.
fn cycle(names: Vec<String>, n: usize) -> Vec<String> {
    names.iter().cycle().take(n).cloned().collect()
}

// ---- synthetic names ----------------------------------------------------------

/// splitmix64: a small deterministic generator, so every run screens the
/// same list with the same names.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const SYLLABLES: [&str; 32] = [
    "ka", "ro", "mi", "ta", "an", "el", "bar", "zu", "no", "ri", "sha", "dov", "lin", "mar", "tek",
    "vo", "ha", "sel", "ku", "ir", "des", "ol", "pra", "gan", "ve", "tro", "ya", "lem", "os", "fi",
    "rud", "za",
];
const GIVEN: [&str; 32] = [
    "Ahmad", "Ali", "Hassan", "Mohammad", "Reza", "Sergei", "Dmitri", "Ivan", "Olga", "Elena",
    "Kim", "Li", "Wei", "Chen", "Jose", "Maria", "Carlos", "Fatima", "Omar", "Yusuf", "Anna",
    "Pavel", "Nikolai", "Hamid", "Karim", "Leila", "Viktor", "Igor", "Hyun", "Jin", "Sara", "Ana",
];
const GENERIC: [&str; 12] = [
    "Trading",
    "Industrial",
    "Shipping",
    "Electronics",
    "Technology",
    "Supply",
    "Engineering",
    "Logistics",
    "Holding",
    "Import Export",
    "Machinery",
    "Aviation",
];
const FORMS: [&str; 8] = ["LLC", "Ltd", "FZE", "GmbH", "Co.", "SA", "JSC", "Group"];
const COUNTRIES: [&str; 12] = [
    "IR", "KP", "SY", "RU", "BY", "CU", "VE", "AE", "CN", "TR", "LB", "IQ",
];

fn word(rng: &mut Rng) -> String {
    let n = 2 + rng.below(3);
    let w: String = (0..n).map(|_| rng.pick(&SYLLABLES)).collect();
    let mut chars = w.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// One party: (type, primary name, aliases).
fn party(rng: &mut Rng) -> (EntityType, String, Vec<String>) {
    match rng.below(10) {
        0..=4 => {
            let given = rng.pick(&GIVEN);
            let mut surname = word(rng);
            if rng.below(3) == 0 {
                surname = format!("{surname} {}", word(rng));
            }
            let aliases = if rng.below(3) == 0 {
                vec![format!("{}, {given}", surname.to_uppercase())]
            } else {
                vec![]
            };
            (
                EntityType::Individual,
                format!("{given} {surname}"),
                aliases,
            )
        }
        5..=8 => {
            let core = word(rng);
            let name = format!("{core} {} {}", rng.pick(&GENERIC), rng.pick(&FORMS));
            let aliases = if rng.below(3) == 0 {
                vec![format!("{core} {}", rng.pick(&FORMS))]
            } else {
                vec![]
            };
            (EntityType::Entity, name, aliases)
        }
        _ => (
            EntityType::Vessel,
            format!("{} {}", word(rng), word(rng)),
            vec![],
        ),
    }
}

/// The deterministic synthetic watchlist `--local` imports by default.
fn synthetic_list(n: usize) -> Vec<WatchlistEntry> {
    let mut rng = Rng(0x00C0_4C04_D000_0001);
    (0..n)
        .map(|i| {
            let (kind, name, aliases) = party(&mut rng);
            let mut e = WatchlistEntry::new(format!("B{i}"), kind, name);
            e.aliases = aliases;
            e.countries = vec![rng.pick(&COUNTRIES).to_owned()];
            e.programs = vec!["BENCH".to_owned()];
            e
        })
        .collect()
}

/// `n` names to screen: a quarter each listed names as listed, with one
/// typo, with their words rotated, and unlisted names (all unlisted when
/// `listed` is empty).
fn synthetic_queries(listed: &[String], n: usize) -> Vec<String> {
    let mut rng = Rng(0x00C0_4C04_D000_0002);
    (0..n)
        .map(|i| {
            if listed.is_empty() || i % 4 == 3 {
                return party(&mut rng).1;
            }
            let name = &listed[rng.below(listed.len())];
            match i % 4 {
                0 => name.clone(),
                1 => typo(name, &mut rng),
                _ => rotate(name),
            }
        })
        .collect()
}

/// One letter of the longest word replaced (first letter kept).
fn typo(name: &str, rng: &mut Rng) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let Some((at, longest)) = words
        .iter()
        .enumerate()
        .max_by_key(|(_, w)| w.chars().count())
    else {
        return name.to_owned();
    };
    let mut chars: Vec<char> = longest.chars().collect();
    if chars.len() < 4 {
        return name.to_owned();
    }
    let pos = 1 + rng.below(chars.len() - 1);
    if !chars[pos].is_ascii_alphabetic() {
        return name.to_owned();
    }
    let lower = chars[pos].is_ascii_lowercase();
    let mut c = (b'a' + rng.below(26) as u8) as char;
    if c == chars[pos].to_ascii_lowercase() {
        c = if c == 'z' { 'a' } else { (c as u8 + 1) as char };
    }
    chars[pos] = if lower { c } else { c.to_ascii_uppercase() };
    let changed: String = chars.into_iter().collect();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| if i == at { changed.as_str() } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first word moved to the end.
fn rotate(name: &str) -> String {
    let mut words: Vec<&str> = name.split_whitespace().collect();
    if !words.is_empty() {
        words.rotate_left(1);
    }
    words.join(" ")
}

// ---- measured calls ---------------------------------------------------------------

/// One call of a measured run: when it was sent, how long its answer took,
/// and what it returned.
struct Measured<T> {
    sent: Instant,
    ms: f64,
    value: T,
}

/// Latency percentiles of measured calls.
fn latency_of<T>(calls: &[Measured<T>]) -> Latency {
    Latency::of(calls.iter().map(|c| c.ms).collect())
}

/// Makes calls `0..total` with `workers` in flight: each worker sends the
/// next call as soon as its last is answered, so the node always has
/// `workers` calls to serve. A worker stops at its first failed call; the
/// first failure in worker order fails the run (`task` names the workers
/// should one of them panic). `units` is how far an answer moves `bar`.
async fn measure_calls<T, F, Fut>(
    workers: usize,
    total: usize,
    task: &str,
    bar: &ProgressBar,
    units: fn(&T) -> u64,
    call: F,
) -> Result<Vec<Measured<T>>, CliError>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, CliError>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (next, bar, call) = (next.clone(), bar.clone(), call.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                // Building the request is not part of the call's latency.
                let answer = call(i);
                let sent = Instant::now();
                let value = answer.await?;
                let ms = sent.elapsed().as_secs_f64() * 1000.0;
                bar.inc(units(&value));
                done.push(Measured { sent, ms, value });
            }
            Ok::<_, CliError>(done)
        }));
    }
    let mut done = Vec::new();
    for t in tasks {
        done.extend(
            t.await
                .map_err(|e| CliError::internal(format!("{task} task failed: {e}")))??,
        );
    }
    Ok(done)
}

// ---- screening ------------------------------------------------------------------

async fn screening(
    profile: &Profile,
    import: Option<ImportReport>,
    names: Vec<String>,
    args: &BenchArgs,
    progress: &Progress,
) -> Result<ScreeningReport, CliError> {
    let mut client: ScreeningServiceClient<Channel> = Clients::connect(profile).await?.screening;
    let lists = client
        .list_lists(pb::ListListsRequest {})
        .await
        .map_err(|s| client::rpc_error("ListLists", profile, &s))?
        .into_inner()
        .lists
        .into_iter()
        .map(|l| ListHeld {
            name: l.name,
            kind: l.kind,
            entries: l.entries,
            names: l.names,
        })
        .collect();

    let total = names.len();
    let names = Arc::new(names);
    let bar = progress.bar("Screening names (Query)", total);
    let concurrency = args.concurrency.min(total);
    let start = Instant::now();
    let done = measure_calls(concurrency, total, "screening", &bar, |_| 1, {
        let (client, names, profile) = (client.clone(), names.clone(), Arc::new(profile.clone()));
        move |i| {
            let (mut client, profile) = (client.clone(), profile.clone());
            let request = pb::ScreenQuery {
                name: names[i].clone(),
                options: Some(pb::ScreenOptions::default()),
            };
            async move {
                let r = client
                    .query(request)
                    .await
                    .map_err(|s| client::rpc_error("Query", &profile, &s))?
                    .into_inner();
                Ok(!r.matches.is_empty())
            }
        }
    })
    .await?;
    let seconds = start.elapsed().as_secs_f64();
    bar.finish_with_message(format!("Screened {} names one by one", done.len()));
    let queries_with_match = done.iter().filter(|c| c.value).count();
    let queries = done.len();
    let latency_ms = latency_of(&done);

    let batch = if args.screen_batch > 0 {
        Some(screen_batches(&client, profile, &names, args.screen_batch, args, progress).await?)
    } else {
        None
    };
    Ok(ScreeningReport {
        endpoint: profile.endpoint.clone(),
        import,
        lists,
        queries,
        concurrency,
        seconds,
        queries_per_second: queries as f64 / seconds.max(f64::EPSILON),
        latency_ms,
        queries_with_match,
        batch,
    })
}

async fn screen_batches(
    client: &ScreeningServiceClient<Channel>,
    profile: &Profile,
    names: &Arc<Vec<String>>,
    size: usize,
    args: &BenchArgs,
    progress: &Progress,
) -> Result<BatchReport, CliError> {
    let batches: Arc<Vec<Vec<String>>> =
        Arc::new(names.chunks(size).map(<[String]>::to_vec).collect());
    let bar = progress.bar("Screening names (QueryBatch)", names.len());
    let total = batches.len();
    let in_flight = args.concurrency.min(BATCH_IN_FLIGHT).min(total);
    let start = Instant::now();
    let done = measure_calls(in_flight, total, "screening", &bar, |n| *n as u64, {
        let (client, profile) = (client.clone(), Arc::new(profile.clone()));
        move |i| {
            let (mut client, profile) = (client.clone(), profile.clone());
            let batch = batches[i].clone();
            async move {
                let n = batch.len();
                let r = client
                    .query_batch(pb::ScreenBatchQuery {
                        names: batch,
                        options: Some(pb::ScreenOptions::default()),
                    })
                    .await
                    .map_err(|s| client::rpc_error("QueryBatch", &profile, &s))?
                    .into_inner();
                if r.results.len() != n {
                    return Err(CliError::internal(format!(
                        "QueryBatch on {} answered {} of {n} names",
                        profile.endpoint,
                        r.results.len(),
                    )));
                }
                Ok(n)
            }
        }
    })
    .await?;
    let seconds = start.elapsed().as_secs_f64();
    let screened: usize = done.iter().map(|c| c.value).sum();
    bar.finish_with_message(format!("Screened {screened} names in batches of {size}"));
    Ok(BatchReport {
        batch_size: size,
        calls: done.len(),
        in_flight,
        names: screened,
        seconds,
        names_per_second: screened as f64 / seconds.max(f64::EPSILON),
        latency_ms: latency_of(&done),
    })
}

// ---- task forces ------------------------------------------------------------------

async fn taskforce(
    member: &Profile,
    name: &str,
    args: &BenchArgs,
    seeded: Option<usize>,
    progress: &Progress,
) -> Result<TaskForceReport, CliError> {
    let client = Clients::connect(member).await?.taskforce;
    let request = pb::TaskForceQueryRequest {
        taskforce: name.to_owned(),
        query: Some(pb::TaskForceQuery {
            kind: Some(pb::task_force_query::Kind::Party(pb::TaskForcePartyQuery {
                name: args.taskforce_party.clone(),
            })),
        }),
        blind: false,
    };
    // One unmeasured query: connections to the peers, and a first check.
    let first = client
        .clone()
        .query(request.clone())
        .await
        .map_err(|s| taskforce_error(member, &s))?
        .into_inner();
    let home = first
        .sections
        .first()
        .map(|s| s.jurisdiction.clone())
        .unwrap_or_default();
    let peers: Vec<String> = first
        .sections
        .iter()
        .skip(1)
        .map(|s| s.jurisdiction.clone())
        .collect();

    let total = args.taskforce_queries;
    let bar = progress.bar(&format!("Task-force queries ({name})"), total);
    let concurrency = args.taskforce_concurrency.min(total);
    let start = Instant::now();
    let done = measure_calls(concurrency, total, "task-force query", &bar, |_| 1, {
        let member = Arc::new(member.clone());
        move |_| {
            let (mut client, request, member) = (client.clone(), request.clone(), member.clone());
            async move {
                client
                    .query(request)
                    .await
                    .map(|r| r.into_inner())
                    .map_err(|s| taskforce_error(&member, &s))
            }
        }
    })
    .await?;
    let seconds = start.elapsed().as_secs_f64();
    let mut peer_outcomes = BTreeMap::new();
    let (mut by_every_peer, mut peer_hits, mut home_hits) = (0, 0, 0);
    for Measured { value: r, .. } in &done {
        let mut all = true;
        for (i, s) in r.sections.iter().enumerate() {
            let answered = s.outcome == "answered" && s.signature_valid;
            if i == 0 {
                home_hits += usize::from(answered && s.hit);
                continue;
            }
            let outcome = if s.outcome == "answered" && !s.signature_valid {
                "bad-signature".to_owned()
            } else {
                s.outcome.clone()
            };
            *peer_outcomes.entry(outcome).or_insert(0) += 1;
            peer_hits += usize::from(answered && s.hit);
            all &= answered;
        }
        by_every_peer += usize::from(all);
    }
    bar.finish_with_message(format!("Asked {} task-force queries", done.len()));
    let queries = done.len();
    Ok(TaskForceReport {
        taskforce: name.to_owned(),
        party: args.taskforce_party.clone(),
        home,
        peers,
        seeded_denials_per_peer: seeded,
        queries,
        concurrency,
        seconds,
        queries_per_second: queries as f64 / seconds.max(f64::EPSILON),
        latency_ms: latency_of(&done),
        queries_answered_by_every_peer: by_every_peer,
        peer_outcomes,
        peer_hits,
        home_hits,
    })
}

/// A failed task-force query; the node's rate limit is named, as the bench
/// asks far faster than a person.
fn taskforce_error(member: &Profile, s: &tonic::Status) -> CliError {
    let e = client::rpc_error("task-force Query", member, s);
    if e.kind == ErrorKind::ResourceExhausted {
        e.context(
            "the node's per-identity task-force query limit ([taskforce] queries_per_minute_per_identity, \
             query_burst_per_identity) stopped the bench; lower --taskforce-queries or raise the limit",
        )
    } else {
        e
    }
}

// ---- record exchange ----------------------------------------------------------------

type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

async fn exchange(
    raiser: &Profile,
    watchers: &[Profile],
    to: &[String],
    args: &BenchArgs,
    progress: &Progress,
) -> Result<ExchangeReport, CliError> {
    let arrivals: Arrivals = Arc::default();
    let mut streams = Vec::new();
    for w in watchers {
        let mut client = Clients::connect(w).await?.exchange;
        let mut stream = client
            .watch_alerts(pb::WatchRequest {})
            .await
            .map_err(|s| client::rpc_error("WatchAlerts", w, &s))?
            .into_inner();
        let arrivals = arrivals.clone();
        streams.push(tokio::spawn(async move {
            while let Ok(Some(v)) = stream.message().await {
                arrivals
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(v.id)
                    .or_default()
                    .push(Instant::now());
            }
        }));
    }
    let bar = progress.bar("Raising alerts", args.records);
    let client = Clients::connect(raiser).await?.exchange;
    let start = Instant::now();
    let raised = measure_calls(args.concurrency, args.records, "raising", &bar, |_| 1, {
        let (to, profile) = (to.to_vec(), Arc::new(raiser.clone()));
        move |_| {
            let (mut client, profile) = (client.clone(), profile.clone());
            let request = pb::RaiseAlertRequest {
                category: "other".into(),
                severity: "low".into(),
                summary: "concord bench".into(),
                handling: "BENCHMARK - discard".into(),
                expires_in_seconds: 3600,
                distribution: Some(pb::Distribution {
                    to: to.clone(),
                    groups: vec![],
                }),
                ..Default::default()
            };
            async move {
                let v = client
                    .raise_alert(request)
                    .await
                    .map_err(|s| client::rpc_error("RaiseAlert", &profile, &s))?;
                Ok(v.into_inner().id)
            }
        }
    })
    .await?;
    let acked = start.elapsed();
    let sent: Vec<(String, Instant)> = raised.into_iter().map(|c| (c.value, c.sent)).collect();
    bar.finish_with_message(format!("Raised {} alerts", sent.len()));

    let spinner = progress.spinner("Waiting until every recipient stores every alert");
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    let end = loop {
        let done = {
            let a = arrivals.lock().unwrap_or_else(|e| e.into_inner());
            sent.iter()
                .all(|(id, _)| a.get(id).is_some_and(|v| v.len() >= watchers.len()))
        };
        if done {
            let a = arrivals.lock().unwrap_or_else(|e| e.into_inner());
            break sent
                .iter()
                .flat_map(|(id, _)| a.get(id).into_iter().flatten().copied())
                .max()
                .unwrap_or_else(Instant::now);
        }
        if Instant::now() >= deadline {
            for s in &streams {
                s.abort();
            }
            return Err(CliError::timeout(format!(
                "not every alert reached every recipient within {} s",
                ARRIVAL_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    spinner.finish_with_message("Every recipient stores every alert");
    for s in streams {
        s.abort();
    }
    let latencies: Vec<f64> = {
        let a = arrivals.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter()
            .flat_map(|(id, t)| {
                a.get(id)
                    .into_iter()
                    .flatten()
                    .map(move |at| at.duration_since(*t).as_secs_f64() * 1000.0)
            })
            .collect()
    };
    let seconds = end.duration_since(start).as_secs_f64().max(f64::EPSILON);
    let records = sent.len();
    Ok(ExchangeReport {
        recipients: to.to_vec(),
        records,
        concurrency: args.concurrency,
        seconds,
        records_per_second: records as f64 / seconds,
        deliveries_per_second: (records * watchers.len()) as f64 / seconds,
        raise_acks_per_second: records as f64 / acked.as_secs_f64().max(f64::EPSILON),
        latency_ms: Latency::of(latencies),
    })
}

// ---- output -------------------------------------------------------------------------

fn ms(v: f64) -> String {
    format!("{v:.1} ms")
}

fn latency_rows(t: &mut Table, what: &str, l: &Latency) {
    t.row([format!("{what} p50"), ms(l.p50)]);
    t.row([format!("{what} p99"), ms(l.p99)]);
    t.row([format!("{what} max"), ms(l.max)]);
}

fn render(report: &BenchReport) -> String {
    let mut out = format!("Target: {}\n", report.target);
    if let Some(s) = &report.screening {
        let mut t = Table::new(["measure", "value"]);
        t.row(["node", s.endpoint.as_str()]);
        if let Some(i) = &s.import {
            t.row([
                "list imported".to_owned(),
                format!(
                    "{} ({}): {} entries, {} names in {:.2} s",
                    i.list, i.source, i.entries, i.names, i.seconds
                ),
            ]);
        }
        let lists: Vec<String> = s
            .lists
            .iter()
            .map(|l| format!("{} ({} names)", l.name, l.names))
            .collect();
        t.row(["lists screened".to_owned(), lists.join(", ")]);
        t.row([
            "queries (single Query calls)".to_owned(),
            s.queries.to_string(),
        ]);
        t.row(["requests in flight".to_owned(), s.concurrency.to_string()]);
        t.row([
            "queries/s".to_owned(),
            format!("{:.0}", s.queries_per_second),
        ]);
        latency_rows(&mut t, "per-query latency", &s.latency_ms);
        t.row([
            "queries with a match".to_owned(),
            s.queries_with_match.to_string(),
        ]);
        if let Some(b) = &s.batch {
            t.row([
                "QueryBatch".to_owned(),
                format!(
                    "{} calls of {} names, {} in flight",
                    b.calls, b.batch_size, b.in_flight
                ),
            ]);
            t.row([
                "names/s (batch)".to_owned(),
                format!("{:.0}", b.names_per_second),
            ]);
            latency_rows(&mut t, "per-call latency", &b.latency_ms);
        }
        out.push_str(&format!("\nScreening\n{}", t.render()));
    }
    if let Some(f) = &report.taskforce {
        let mut t = Table::new(["measure", "value"]);
        t.row([
            "task force".to_owned(),
            format!("{} (party {:?})", f.taskforce, f.party),
        ]);
        t.row([
            "asking node → peers".to_owned(),
            format!("{} → {}", f.home, f.peers.join(", ")),
        ]);
        if let Some(n) = f.seeded_denials_per_peer {
            t.row(["denials seeded per peer".to_owned(), n.to_string()]);
        }
        t.row(["queries".to_owned(), f.queries.to_string()]);
        t.row(["queries in flight".to_owned(), f.concurrency.to_string()]);
        t.row([
            "queries/s".to_owned(),
            format!("{:.1}", f.queries_per_second),
        ]);
        latency_rows(&mut t, "query latency", &f.latency_ms);
        t.row([
            "answered by every peer".to_owned(),
            format!(
                "{} of {} queries",
                f.queries_answered_by_every_peer, f.queries
            ),
        ]);
        let outcomes: Vec<String> = f
            .peer_outcomes
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        t.row(["peer sections".to_owned(), outcomes.join(", ")]);
        t.row([
            "hits".to_owned(),
            format!(
                "{} from peers, {} from {}",
                f.peer_hits, f.home_hits, f.home
            ),
        ]);
        out.push_str(&format!("\nTask-force queries\n{}", t.render()));
    }
    if let Some(x) = &report.exchange {
        let mut t = Table::new(["measure", "value"]);
        t.row(["recipients".to_owned(), x.recipients.join(", ")]);
        t.row(["records raised".to_owned(), x.records.to_string()]);
        t.row(["requests in flight".to_owned(), x.concurrency.to_string()]);
        t.row([
            "records/s (stored at every recipient)".to_owned(),
            format!("{:.0}", x.records_per_second),
        ]);
        t.row([
            "deliveries/s".to_owned(),
            format!("{:.0}", x.deliveries_per_second),
        ]);
        t.row([
            "raise acknowledgements/s".to_owned(),
            format!("{:.0}", x.raise_acks_per_second),
        ]);
        latency_rows(&mut t, "raise-to-stored", &x.latency_ms);
        out.push_str(&format!("\nRecord exchange\n{}", t.render()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_ordered() {
        let l = Latency::of((1..=100).rev().map(f64::from).collect());
        assert_eq!((l.p50, l.p99, l.max), (51.0, 100.0, 100.0));
        let empty = Latency::of(vec![]);
        assert_eq!((empty.p50, empty.max), (0.0, 0.0));
    }

    #[test]
    fn parts_parse() {
        assert_eq!(Parts::parse(&[]).unwrap(), None);
        let p = Parts::parse(&["screening".into(), " TaskForce".into()])
            .unwrap()
            .unwrap();
        assert!(!p.exchange && p.screening && p.taskforce);
        assert_eq!(Parts::parse(&["risk".into()]).unwrap_err().exit_code(), 6);
    }

    #[test]
    fn the_synthetic_list_is_deterministic_and_valid() {
        let a = synthetic_list(3000);
        assert_eq!(a, synthetic_list(3000));
        for e in &a {
            e.validate().unwrap();
        }
        let names: Vec<String> = a.iter().map(|e| e.name.clone()).collect();
        let q = synthetic_queries(&names, 400);
        assert_eq!(q.len(), 400);
        assert_eq!(q[0..4], synthetic_queries(&names, 4)[..]);
        assert!(names.contains(&q[0]));
        assert!(q.iter().all(|n| !n.trim().is_empty()));
    }

    #[test]
    fn typos_change_one_letter() {
        let mut rng = Rng(7);
        for _ in 0..100 {
            let t = typo("Ahmad Karoshamar", &mut rng);
            assert_ne!(t, "Ahmad Karoshamar");
            let diff = t
                .chars()
                .zip("Ahmad Karoshamar".chars())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(diff, 1, "{t}");
        }
        assert_eq!(rotate("a b c"), "b c a");
        assert_eq!(cycle(vec!["x".into(), "y".into()], 3), ["x", "y", "x"]);
    }
}
