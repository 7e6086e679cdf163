//! Exchange throughput and latency across real node processes on loopback.
//!
//!   cargo build --release --workspace --bins --examples
//!   target/release/examples/exchange_bench [--records N] [--catchup N] [--concurrency C]
//!
//! 1. One node raises N alerts to four recipients: records/s until all are
//!    stored at all four, and p50/p99 raise-to-stored latency (a recipient's
//!    WatchAlerts stream reports each alert once it is durably stored).
//! 2. All five nodes raise N alerts each to the other four at once.
//! 3. Catch-up: one recipient is stopped, the issuer raises M alerts to it,
//!    the recipient restarts; rate at which it receives them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::{Distribution, RaiseAlertRequest, WatchRequest};
use concord_tests::*;
use tonic::transport::Channel;

const CODES: [&str; 5] = ["DE", "FR", "IT", "JP", "NL"];

async fn analyst(dir: &NodeDir) -> Result<ExchangeServiceClient<Channel>> {
    let profile = dir.dir.join("analyst-bench.profile.toml");
    if !profile.exists() {
        dir.issue("analyst", "bench");
    }
    let channel = Credentials::from_profile(&profile)?.channel(true).await?;
    Ok(ExchangeServiceClient::new(channel))
}

fn request(to: &[&str], n: usize) -> RaiseAlertRequest {
    RaiseAlertRequest {
        category: "diversion-suspected".into(),
        severity: "high".into(),
        summary: format!("benchmark alert {n}: consignee resells controlled FPGAs"),
        indicators: vec!["end user changed after approval".into()],
        handling: "RESTRICTED".into(),
        distribution: Some(Distribution {
            to: to.iter().map(|s| s.to_string()).collect(),
            groups: vec![],
        }),
        ..RaiseAlertRequest::default()
    }
}

type Arrivals = Arc<Mutex<HashMap<String, Vec<Instant>>>>;

/// Records when each alert id lands at each watched node.
async fn watch(dirs: &[NodeDir], arrivals: Arrivals) -> Result<()> {
    for d in dirs {
        let mut client = analyst(d).await?;
        let mut stream = client.watch_alerts(WatchRequest {}).await?.into_inner();
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            while let Ok(Some(v)) = stream.message().await {
                arrivals
                    .lock()
                    .unwrap()
                    .entry(v.id)
                    .or_default()
                    .push(Instant::now());
            }
        });
    }
    Ok(())
}

/// Raises `n` alerts at `dir` to `to` with `concurrency` requests in flight; returns id → send time.
async fn raise(
    dir: &NodeDir,
    to: Vec<&'static str>,
    n: usize,
    concurrency: usize,
) -> Result<HashMap<String, Instant>> {
    let client = analyst(dir).await?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (mut client, next, to) = (client.clone(), next.clone(), to.clone());
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                let v = client.raise_alert(request(&to, i)).await?.into_inner();
                sent.push((v.id, t));
            }
            anyhow::Ok(sent)
        }));
    }
    let mut all = HashMap::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

async fn wait_arrivals(
    arrivals: &Arrivals,
    ids: &HashMap<String, Instant>,
    per_id: usize,
) -> Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done = {
            let a = arrivals.lock().unwrap();
            ids.keys()
                .all(|id| a.get(id).is_some_and(|v| v.len() >= per_id))
        };
        if done {
            let a = arrivals.lock().unwrap();
            return Ok(ids
                .keys()
                .flat_map(|id| a[id].iter().copied())
                .max()
                .unwrap_or_else(Instant::now));
        }
        anyhow::ensure!(Instant::now() < deadline, "records did not arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn percentiles(arrivals: &Arrivals, sent: &HashMap<String, Instant>) -> (f64, f64) {
    let a = arrivals.lock().unwrap();
    let mut lat: Vec<f64> = sent
        .iter()
        .flat_map(|(id, t)| {
            a.get(id)
                .into_iter()
                .flatten()
                .map(move |at| at.duration_since(*t).as_secs_f64() * 1000.0)
        })
        .collect();
    lat.sort_by(|x, y| x.total_cmp(y));
    let p = |q: f64| {
        lat.get(((lat.len() as f64 * q) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    (p(0.50), p(0.99))
}

#[tokio::main]
async fn main() -> Result<()> {
    let records = bench_arg("--records", 2000);
    let catchup = bench_arg("--catchup", 100_000);
    let concurrency = bench_arg("--concurrency", 32);
    let fed = Federation::start(&CODES)
        .await
        .context("start federation")?;
    let dirs: Vec<NodeDir> = CODES.iter().map(|c| fed.dir(c).clone()).collect();
    println!("five nodes up on loopback; {records} records per phase, {concurrency} requests in flight per raiser");

    // 1. One raiser, four recipients.
    let arrivals: Arrivals = Arc::default();
    watch(&dirs[1..], arrivals.clone()).await?;
    let start = Instant::now();
    let sent = raise(&dirs[0], vec!["FR", "IT", "JP", "NL"], records, concurrency).await?;
    let acked = start.elapsed();
    let end = wait_arrivals(&arrivals, &sent, 4).await?;
    let secs = end.duration_since(start).as_secs_f64();
    let (p50, p99) = percentiles(&arrivals, &sent);
    println!(
        "one raiser:  {records} alerts x 4 recipients stored in {secs:.2} s = {:.0} records/s raised ({:.0} deliveries/s); raise acks {:.0}/s; raise-to-stored p50 {p50:.1} ms, p99 {p99:.1} ms",
        records as f64 / secs,
        4.0 * records as f64 / secs,
        records as f64 / acked.as_secs_f64()
    );

    // 2. All five raise at once, each to the other four.
    let arrivals: Arrivals = Arc::default();
    watch(&dirs, arrivals.clone()).await?;
    let start = Instant::now();
    let mut raisers = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        let to: Vec<&'static str> = CODES.iter().copied().filter(|c| *c != CODES[i]).collect();
        let d = d.clone();
        raisers.push(tokio::spawn(async move {
            raise(&d, to, records, concurrency).await
        }));
    }
    let mut sent = HashMap::new();
    for r in raisers {
        sent.extend(r.await??);
    }
    // Each alert lands at its issuer (own watch) and four recipients.
    let end = wait_arrivals(&arrivals, &sent, 5).await?;
    let secs = end.duration_since(start).as_secs_f64();
    let total = 5 * records;
    let (p50, p99) = percentiles(&arrivals, &sent);
    println!(
        "five raisers: {total} alerts x 4 recipients stored in {secs:.2} s = {:.0} records/s raised ({:.0} deliveries/s); raise-to-stored p50 {p50:.1} ms, p99 {p99:.1} ms (includes the issuer's own watch)",
        total as f64 / secs,
        4.0 * total as f64 / secs
    );

    // 3. Catch-up after an outage.
    let mut fed = fed;
    let fr_index = fed
        .nodes
        .iter()
        .position(|n| n.dir.code == "FR")
        .context("FR")?;
    let fr = fed.nodes.remove(fr_index);
    let fr_dir = fr.dir.clone();
    fr.terminate().await?;
    let t = Instant::now();
    let sent = raise(&dirs[0], vec!["FR"], catchup, concurrency).await?;
    println!(
        "outage: {catchup} alerts queued for FR in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let before = status_of(&dirs[0].admin_profile()).await?;
    let target = before
        .peers
        .iter()
        .find(|p| p.trust.as_ref().is_some_and(|t| t.jurisdiction == "FR"))
        .map_or(0, |p| p.outbox_pending);
    let start = Instant::now();
    let node = NodeProcess::start(&fr_dir).await?;
    let de_cursor_goal = sent.len() as u64;
    loop {
        let s = status_of(&dirs[0].admin_profile()).await?;
        let pending = s
            .peers
            .iter()
            .find(|p| p.trust.as_ref().is_some_and(|t| t.jurisdiction == "FR"))
            .map_or(u64::MAX, |p| p.outbox_pending);
        if pending == 0 {
            break;
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(1800),
            "catch-up did not finish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "catch-up:   {target} queued alerts delivered to FR (restart included) in {secs:.2} s = {:.0} records/s ({de_cursor_goal} raised)",
        target as f64 / secs
    );
    drop(node);
    Ok(())
}
