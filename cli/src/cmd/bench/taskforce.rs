//! Task forces: party queries to every member node.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use concord_proto::v1 as pb;

use super::args::BenchArgs;
use super::measure::{latency_of, measure_calls, Measured};
use super::report::TaskForceReport;
use crate::client;
use crate::client::Clients;
use crate::exit::{CliError, ErrorKind};
use crate::local::Progress;
use crate::profile::Profile;

pub async fn taskforce(
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
pub fn taskforce_error(member: &Profile, s: &tonic::Status) -> CliError {
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
