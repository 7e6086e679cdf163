//! The console's accept loop: the node's TLS accept path (same limits,
//! same certificate-to-`Caller` step), then HTTP/1.1 or HTTP/2 per
//! connection with the connection's identity in every request.

use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;

use crate::metrics::Metrics;
use crate::tls::{self, ConnInfo, IncomingLimits};

/// Serves `app` on `listener` until `stopped` completes; connections open
/// then are closed gracefully (live-update streams end with the node).
pub async fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: IncomingLimits,
    metrics: Arc<Metrics>,
    app: axum::Router,
    stopped: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let mut incoming = tls::serve_incoming(listener, config, limits, metrics);
    tokio::pin!(stopped);
    loop {
        let next = tokio::select! {
            next = incoming.next() => next,
            _ = &mut stopped => return,
        };
        let stream = match next {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "web connection failed");
                continue;
            }
            None => return,
        };
        let info: ConnInfo = tonic::transport::server::Connected::connect_info(&stream);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(info.clone());
                let app = app.clone();
                async move { tower::ServiceExt::oneshot(app, req).await }
            });
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "web connection ended with an error");
            }
        });
    }
}

/// The console's TLS configuration: the node's certificate, and client
/// certificates of the node's own CA only. A partner's people never sign in
/// here, so their CAs are not offered to the browser nor accepted.
pub fn server_config(
    identity: &tls::NodeIdentity,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(identity.ca.clone())?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        tls::provider(),
    )
    .build()
    .map_err(|e| rustls::Error::General(format!("web client verifier: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.chain.clone(), identity.key.clone_key())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
