//! Counts every gRPC request and records how long it took, by method and
//! status code, for the Prometheus listener.
//!
//! A tower layer rather than per-handler code so that refusals by the
//! guard, decoding failures and unknown methods are measured too. For a
//! streaming response the time is to the start of the stream.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tower::{Layer, Service};

use crate::metrics::Metrics;

#[derive(Clone)]
pub struct TimingLayer {
    metrics: Arc<Metrics>,
}

impl TimingLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        TimingLayer { metrics }
    }
}

impl<S> Layer<S> for TimingLayer {
    type Service = Timed<S>;

    fn layer(&self, inner: S) -> Timed<S> {
        Timed {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Timed<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<http::Request<B>> for Timed<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_owned();
        let started = Instant::now();
        let metrics = self.metrics.clone();
        let answering = self.inner.call(req);
        Box::pin(async move {
            let response = answering.await;
            // An error status travels in the headers (trailers-only response);
            // a success's status comes later in the trailers.
            let code = match &response {
                Ok(r) => r
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("0")
                    .to_owned(),
                Err(_) => "transport".to_owned(),
            };
            metrics.rpc_done(&method, &code, started.elapsed());
            response
        })
    }
}
