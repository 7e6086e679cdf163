//! Record exchange: alerts raised at one node, timed until stored at every recipient.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concord_proto::v1 as pb;

use super::args::BenchArgs;
use super::measure::measure_calls;
use super::report::{ExchangeReport, Latency};
use crate::client;
use crate::client::Clients;
use crate::exit::CliError;
use crate::local::Progress;
use crate::profile::Profile;

/// How long the last records may take to reach every recipient.
pub const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(120);

pub type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

pub async fn exchange(
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
