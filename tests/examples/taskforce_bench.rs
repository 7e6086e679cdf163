//! Task-force query latency: a member of DE asks a party question that DE
//! answers and fans out to four answering peers (FR, IT, JP, NL), each
//! holding `--records` denials naming DE; p50/p99 with every peer up, with
//! one peer dead (killed: connection refused), and with one peer frozen
//! (SIGSTOP: connection open, no answer; the per-peer deadline bounds it).
//!
//!   cargo build --release --workspace --bins --examples
//!   target/release/examples/taskforce_bench [--records 200] [--queries 300] [--frozen-queries 10]

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use concord_proto::v1 as pb;
use concord_proto::v1::task_force_service_client::TaskForceServiceClient;
use concord_tests::*;
use tonic::transport::Channel;

const PEERS: [&str; 4] = ["FR", "IT", "JP", "NL"];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn seed(officer: &Path, code: &str, records: usize) -> Result<()> {
    let mut x = exchange_client(officer).await?;
    for i in 0..records {
        // One party in 50 is the one asked about; the others are distinct.
        let name = if i % 50 == 0 {
            "Acme Trading FZE".to_owned()
        } else {
            format!("{code} Holding {i} Industrial Supply")
        };
        x.issue_denial(pb::IssueDenialRequest {
            party: Some(pb::Party {
                name,
                country: "AE".into(),
                ..Default::default()
            }),
            items: vec![pb::DeniedItem {
                code: "3A001".into(),
                description: String::new(),
            }],
            destination: "IR".into(),
            reason: "diversion risk".into(),
            distribution: Some(pb::Distribution {
                to: vec!["DE".into()],
                groups: vec![],
            }),
            ..Default::default()
        })
        .await?;
    }
    Ok(())
}

async fn run(
    client: &mut TaskForceServiceClient<Channel>,
    queries: usize,
    expect_answered: usize,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(queries);
    for _ in 0..queries {
        let started = Instant::now();
        let r = client
            .query(pb::TaskForceQueryRequest {
                taskforce: "bench".into(),
                query: Some(pb::TaskForceQuery {
                    kind: Some(pb::task_force_query::Kind::Party(pb::TaskForcePartyQuery {
                        name: "Acme Trading FZE".into(),
                    })),
                }),
                blind: false,
            })
            .await?
            .into_inner();
        times.push(started.elapsed());
        let answered: Vec<_> = r
            .sections
            .iter()
            .filter(|s| s.outcome == "answered" && s.signature_valid)
            .collect();
        ensure!(
            answered.len() == expect_answered
                && answered.iter().all(|s| s.hit || s.jurisdiction == "DE"),
            "{} sections answered, expected {expect_answered}, every peer with a hit: {:?}",
            answered.len(),
            r.sections
                .iter()
                .map(|s| (&s.jurisdiction, &s.outcome, s.hit, &s.reason))
                .collect::<Vec<_>>()
        );
    }
    times.sort();
    Ok(times)
}

fn report(what: &str, times: &[Duration]) {
    println!(
        "| {what} | {} | {:.1} ms | {:.1} ms | {:.1} ms |",
        times.len(),
        percentile(times, 0.5).as_secs_f64() * 1e3,
        percentile(times, 0.99).as_secs_f64() * 1e3,
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1e3),
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let records: usize = bench_arg("--records", 200);
    let queries: usize = bench_arg("--queries", 300);
    let frozen_queries: usize = bench_arg("--frozen-queries", 10);
    let mut codes = vec!["DE"];
    codes.extend(PEERS);
    let mut fed = Federation::start(&codes).await?;

    // The bench asks far faster than a person: lift the per-identity query
    // limit, which the home node and every answering node apply.
    for code in &codes {
        let dir = fed.dir(code).clone();
        fed.take(code).terminate().await?;
        let config = dir.config();
        let text: String = std::fs::read_to_string(&config)?
            .lines()
            .map(|line| match line.split(" = ").next() {
                Some("queries_per_minute_per_identity") => {
                    "queries_per_minute_per_identity = 1000000".into()
                }
                Some("query_burst_per_identity") => "query_burst_per_identity = 1000000".into(),
                _ => line.to_owned(),
            })
            .map(|l| l + "\n")
            .collect();
        std::fs::write(&config, text)?;
        fed.restart(&dir).await?;
    }
    let de = fed.dir("DE").clone();
    wait_links(&de, &PEERS).await?;
    for code in &codes {
        let admin = fed.dir(code).admin_profile();
        concord_ok(&[
            "--profile",
            path_str(&admin),
            "taskforce",
            "create",
            "bench",
            "--mandate",
            "benchmark",
            "--members",
            "DE,FR,IT,JP,NL",
            "--ends",
            "1d",
            "--level",
            "summary",
        ]);
    }
    let started = Instant::now();
    for code in PEERS {
        let officer = fed.dir(code).issue("officer", "oli");
        seed(&officer, code, records)
            .await
            .with_context(|| format!("seeding {code}"))?;
    }
    println!(
        "seeded {} denials on each of {} peers in {:.1} s",
        records,
        PEERS.len(),
        started.elapsed().as_secs_f64()
    );
    // Measure a settled federation: every denial delivered to DE.
    let de_analyst = de.issue("analyst", "ana");
    let expected = records * PEERS.len();
    eventually("DE to hold every seeded denial", || {
        let profile = de_analyst.clone();
        async move {
            // In pages: one unpaged response holds at most 1 MiB of records.
            let mut client = exchange_client(&profile).await?;
            let (mut held, mut token) = (0, String::new());
            loop {
                let page = client
                    .list_denials(pb::ListRecordsRequest {
                        page_size: 1000,
                        page_token: token,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                held += page.records.len();
                token = page.next_page_token;
                if token.is_empty() {
                    break;
                }
            }
            ensure!(held == expected, "DE holds {held} of {expected}");
            Ok(())
        }
    })
    .await?;
    println!(
        "all {expected} denials held at DE after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let tina = de.issue("taskforce", "tina");
    let mut client =
        TaskForceServiceClient::new(Credentials::from_profile(&tina)?.channel(true).await?);
    // Warm-up: connections and caches.
    run(&mut client, 10, 5).await?;

    println!("| scenario | queries | p50 | p99 | max |");
    println!("| --- | --- | --- | --- | --- |");
    let all_up = run(&mut client, queries, 5).await?;
    report("all four peers up", &all_up);

    let nl = fed.take("NL");
    nl.kill();
    let dead = run(&mut client, queries, 4).await?;
    report("NL dead (killed)", &dead);

    let jp_pid = fed.node("JP").pid();
    // SAFETY: plain syscall on a pid this process started.
    unsafe { libc::kill(jp_pid, libc::SIGSTOP) };
    let frozen = run(&mut client, frozen_queries, 3).await;
    // SAFETY: as above.
    unsafe { libc::kill(jp_pid, libc::SIGCONT) };
    report("NL dead and JP frozen (SIGSTOP)", &frozen?);
    Ok(())
}
