//! `concord bench`: measures record exchange on a deployment, in the spirit
//! of `etcdctl check perf`: raise-to-stored latency and throughput, against a
//! throw-away local federation (`--local N`) or against existing nodes given
//! by analyst profiles.
//!
//! "Stored" is when a recipient's `WatchAlerts` stream reports the alert,
//! which the node does only once the alert is durably stored there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concord_proto::v1 as pb;
use serde::Serialize;

use crate::args::{BenchArgs, IssueArgs};
use crate::client;
use crate::cmd::pki;
use crate::exit::CliError;
use crate::local::{self, Progress};
use crate::nodes::{locate_node_binary, Nodes};
use crate::output::{print_json, print_text, OutputFormat, Table};
use crate::profile::Profile;

const CODES: [&str; 8] = ["DE", "FR", "IT", "JP", "NL", "SE", "PL", "ES"];
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long the last records may take to reach every recipient.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub target: String,
    pub recipients: Vec<String>,
    pub records: usize,
    pub concurrency: usize,
    pub seconds: f64,
    pub records_per_second: f64,
    pub deliveries_per_second: f64,
    pub raise_acks_per_second: f64,
    pub latency_ms: Latency,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

pub async fn run(args: BenchArgs, output: OutputFormat) -> Result<(), CliError> {
    if args.records == 0 || args.concurrency == 0 {
        return Err(CliError::invalid_argument(
            "--records and --concurrency must be positive",
        ));
    }
    let progress = Progress::new(output);
    let report = match args.local {
        Some(n) => local_bench(n, &args, &progress).await?,
        None => {
            let raise = args.raise_profile.as_deref().ok_or_else(|| {
                CliError::invalid_argument(
                    "give --local N, or --raise-profile with --to and --watch-profile",
                )
            })?;
            if args.to.is_empty() || args.watch_profile.len() != args.to.len() {
                return Err(CliError::invalid_argument(
                    "--to must name one jurisdiction per --watch-profile (an analyst profile at that jurisdiction's node)",
                ));
            }
            let raiser = Profile::load(raise)?;
            let watchers = args
                .watch_profile
                .iter()
                .map(|p| Profile::load(p))
                .collect::<Result<Vec<_>, _>>()?;
            measure(
                &raiser,
                &watchers,
                &args.to,
                &args,
                &progress,
                raiser.endpoint.clone(),
            )
            .await?
        }
    };
    progress.clear();
    match output {
        OutputFormat::Json => print_json(&report),
        OutputFormat::Table => {
            let mut t = Table::new(["measure", "value"]);
            t.row(["target", report.target.as_str()]);
            t.row(["recipients".to_owned(), report.recipients.join(", ")]);
            t.row(["records raised".to_owned(), report.records.to_string()]);
            t.row([
                "requests in flight".to_owned(),
                report.concurrency.to_string(),
            ]);
            t.row([
                "records/s (stored at every recipient)".to_owned(),
                format!("{:.0}", report.records_per_second),
            ]);
            t.row([
                "deliveries/s".to_owned(),
                format!("{:.0}", report.deliveries_per_second),
            ]);
            t.row([
                "raise acknowledgements/s".to_owned(),
                format!("{:.0}", report.raise_acks_per_second),
            ]);
            t.row([
                "raise-to-stored p50".to_owned(),
                format!("{:.1} ms", report.latency_ms.p50),
            ]);
            t.row([
                "raise-to-stored p99".to_owned(),
                format!("{:.1} ms", report.latency_ms.p99),
            ]);
            t.row([
                "raise-to-stored max".to_owned(),
                format!("{:.1} ms", report.latency_ms.max),
            ]);
            print_text(&t.render())
        }
    }
}

async fn local_bench(
    n: usize,
    args: &BenchArgs,
    progress: &Progress,
) -> Result<BenchReport, CliError> {
    if !(2..=CODES.len()).contains(&n) {
        return Err(CliError::invalid_argument(format!(
            "--local takes 2 to {} nodes",
            CODES.len()
        )));
    }
    let codes = &CODES[..n];
    let bin = locate_node_binary()?;
    let temp = tempfile::tempdir()
        .map_err(|e| CliError::internal(format!("cannot create a work directory: {e}")))?;
    let mut nodes = Nodes::default();
    let result = async {
        let launched = local::launch(codes, &bin, temp.path(), &mut nodes, progress).await?;
        let mut analysts = Vec::new();
        for m in &launched.members {
            let issued = pki::issue(&IssueArgs {
                dir: m.init.dir.clone(),
                role: "analyst".into(),
                name: "bench".into(),
                days: 1,
            })?;
            analysts.push(Profile::load(&issued.profile)?);
        }
        let to: Vec<String> = codes[1..].iter().map(|c| (*c).to_owned()).collect();
        let target = format!("local federation of {n} nodes ({})", codes.join(", "));
        measure(&analysts[0], &analysts[1..], &to, args, progress, target).await
    }
    .await;
    let _ = nodes.stop(STOP_GRACE).await;
    result
}

type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

async fn measure(
    raiser: &Profile,
    watchers: &[Profile],
    to: &[String],
    args: &BenchArgs,
    progress: &Progress,
    target: String,
) -> Result<BenchReport, CliError> {
    let arrivals: Arrivals = Arc::default();
    let mut streams = Vec::new();
    for w in watchers {
        let mut client = client::connect_exchange(w).await?;
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
    let client = client::connect_exchange(raiser).await?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (mut client, next, bar, records) =
            (client.clone(), next.clone(), bar.clone(), args.records);
        let to = to.to_vec();
        let profile = raiser.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < records {
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
                let t = Instant::now();
                let v = client
                    .raise_alert(request)
                    .await
                    .map_err(|s| client::rpc_error("RaiseAlert", &profile, &s))?;
                sent.push((v.into_inner().id, t));
                bar.inc(1);
            }
            Ok::<_, CliError>(sent)
        }));
    }
    let mut sent = Vec::new();
    for t in tasks {
        sent.extend(
            t.await
                .map_err(|e| CliError::internal(format!("raising task failed: {e}")))??,
        );
    }
    let acked = start.elapsed();
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
                .flat_map(|(id, _)| a[id].iter().copied())
                .max()
                .unwrap_or_else(Instant::now);
        }
        if Instant::now() >= deadline {
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
    let mut latencies: Vec<f64> = {
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
    latencies.sort_by(|x, y| x.total_cmp(y));
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let seconds = end.duration_since(start).as_secs_f64();
    let records = sent.len();
    Ok(BenchReport {
        target,
        recipients: to.to_vec(),
        records,
        concurrency: args.concurrency,
        seconds,
        records_per_second: records as f64 / seconds,
        deliveries_per_second: (records * watchers.len()) as f64 / seconds,
        raise_acks_per_second: records as f64 / acked.as_secs_f64(),
        latency_ms: Latency {
            p50: pick(0.5),
            p99: pick(0.99),
            max: latencies.last().copied().unwrap_or(0.0),
        },
    })
}
