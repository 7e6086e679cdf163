//! Screening: single queries, then the same names in batches.

use std::sync::Arc;
use std::time::Instant;

use concord_proto::v1 as pb;
use concord_proto::v1::screening_service_client::ScreeningServiceClient;
use tonic::transport::Channel;

use super::args::BenchArgs;
use super::measure::{latency_of, measure_calls};
use super::report::{BatchReport, ImportReport, ListHeld, ScreeningReport};
use crate::client;
use crate::client::Clients;
use crate::exit::CliError;
use crate::local::Progress;
use crate::profile::Profile;

/// QueryBatch calls in flight at most (as `concord screen query --file`).
pub const BATCH_IN_FLIGHT: usize = 4;

pub async fn screening(
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

pub async fn screen_batches(
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
