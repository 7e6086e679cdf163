//! Calls measured one by one with bounded concurrency, and their latency.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::ProgressBar;

use super::report::Latency;
use crate::exit::CliError;

/// One call of a measured run: when it was sent, how long its answer took,
/// and what it returned.
pub struct Measured<T> {
    pub sent: Instant,
    pub ms: f64,
    pub value: T,
}

/// Latency percentiles of measured calls.
pub fn latency_of<T>(calls: &[Measured<T>]) -> Latency {
    Latency::of(calls.iter().map(|c| c.ms).collect())
}

/// Makes calls `0..total` with `workers` in flight: each worker sends the
/// next call as soon as its last is answered, so the node always has
/// `workers` calls to serve. A worker stops at its first failed call; the
/// first failure in worker order fails the run (`task` names the workers
/// should one of them panic). `units` is how far an answer moves `bar`.
pub async fn measure_calls<T, F, Fut>(
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
