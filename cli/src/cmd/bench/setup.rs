//! `--local`: throw-away federations set up for measuring (limits lifted,
//! task forces registered, denials seeded, lists imported), and the names
//! read from files.

use std::path::Path;
use std::time::{Duration, Instant};

use concord_node::screening::formats::{self, Format};
use concord_node::screening::WatchlistEntry;
use concord_proto::v1 as pb;

use super::args::BenchArgs;
use super::names::synthetic_list;
use super::report::ImportReport;
use crate::client;
use crate::client::Clients;
use crate::cmd::pki::IssueArgs;
use crate::cmd::{pki, screen};
use crate::duration::now_unix_ms;
use crate::exit::CliError;
use crate::local::{self, Launched, Progress};
use crate::nodes::Nodes;
use crate::profile::Profile;

pub const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long restarted nodes may take to reconnect every peer link.
pub const LINKS_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the seeded denials may take to reach the asking node.
pub const SEED_TIMEOUT: Duration = Duration::from_secs(60);
/// Denials each answering node issues to the asking jurisdiction in
/// `--local`; every other one names the party asked about.
pub const SEEDED_DENIALS: usize = 6;
/// The name of the list `--local` imports.
pub const LIST: &str = "bench";
/// The lifted per-identity task-force query limit (`--local` only).
pub const LIFTED_LIMIT: i64 = 1_000_000;

/// A certificate of `role` at a local member's node, as a loaded profile.
pub fn issue(m: &local::Member, role: &str, name: &str) -> Result<Profile, CliError> {
    let issued = pki::issue(&IssueArgs {
        dir: m.init.dir.clone(),
        role: role.into(),
        name: name.into(),
        days: 1,
        replace: false,
        p12_password_file: None,
    })?;
    Profile::load(&issued.profile)
}

/// Stops every node, lifts the per-identity task-force query limit in each
/// `node.toml`, starts them again and waits for every peer link.
pub async fn restart_with_lifted_limit(
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
pub fn lift_limit(config: &Path) -> Result<(), CliError> {
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
pub async fn local_taskforce(
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
pub async fn local_import(
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

pub fn read_watchlist(
    format: &str,
    path: &Path,
) -> Result<(Format, Vec<WatchlistEntry>), CliError> {
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

pub fn read_names(path: &Path) -> Result<Vec<String>, CliError> {
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
