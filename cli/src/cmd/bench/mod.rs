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

pub mod args;
mod exchange;
mod measure;
mod names;
mod report;
mod screening;
mod setup;
mod taskforce;

use self::args::{select, BenchArgs, Parts};
use self::names::{cycle, synthetic_queries};
use self::report::{render, BenchReport};
use self::setup::{
    issue, local_import, local_taskforce, read_names, read_watchlist, restart_with_lifted_limit,
    SEEDED_DENIALS, STOP_GRACE,
};
use crate::exit::CliError;
use crate::local::{self, Progress};
use crate::nodes::{locate_node_binary, Nodes};
use crate::output::{print_json, print_text, OutputFormat};
use crate::profile::Profile;

const CODES: [&str; 8] = ["DE", "FR", "IT", "JP", "NL", "SE", "PL", "ES"];

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
            report.screening =
                Some(screening::screening(&profile, None, names, args, progress).await?);
        }
    }
    if parts.taskforce {
        if let (Some(path), Some(name)) = (&args.taskforce_profile, &args.taskforce) {
            let profile = Profile::load(path)?;
            targets.push(profile.endpoint.clone());
            report.taskforce =
                Some(taskforce::taskforce(&profile, name, args, None, progress).await?);
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
            report.exchange =
                Some(exchange::exchange(&raiser, &watchers, &args.to, args, progress).await?);
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
            report.screening = Some(
                screening::screening(&analysts[0], Some(import), queries, args, progress).await?,
            );
        }
        if parts.taskforce {
            let name = args.taskforce.clone().unwrap_or_else(|| "bench".to_owned());
            let member = local_taskforce(&launched, &analysts[0], &name, args, progress).await?;
            report.taskforce = Some(
                taskforce::taskforce(&member, &name, args, Some(SEEDED_DENIALS), progress).await?,
            );
        }
        if parts.exchange {
            let to: Vec<String> = codes[1..].iter().map(|c| (*c).to_owned()).collect();
            report.exchange =
                Some(exchange::exchange(&analysts[0], &analysts[1..], &to, args, progress).await?);
        }
        Ok(report)
    }
    .await;
    let _ = nodes.stop(STOP_GRACE).await;
    result
}
