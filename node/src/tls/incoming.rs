//! The server's accept loop: TCP, then a bounded-time TLS handshake, then the
//! verified certificate becomes the connection's [`Caller`].

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use crate::identity::Caller;
use crate::metrics::Metrics;

/// What every request on a connection knows about its peer; tonic puts it in
/// the request extensions.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    pub caller: Caller,
    /// SHA-256 of the client certificate (DER), for per-certificate revocation.
    pub cert_sha256: [u8; 32],
}

/// A TLS connection whose client certificate has been verified.
///
/// It fails with `TimedOut` once nothing has arrived from the client for
/// `idle`: a connection that holds a slot and says nothing is closed. Live
/// clients are never idle that long, because the server pings every open
/// connection (HTTP/2 keepalive, more often than `idle`) and their HTTP/2
/// stack answers each ping — so quiet long-lived streams survive.
pub struct AuthenticatedStream {
    inner: TlsStream<TcpStream>,
    info: ConnInfo,
    idle: Duration,
    idle_deadline: Pin<Box<Sleep>>,
    _permit: OwnedSemaphorePermit,
    _identity: IdentitySlot,
}

/// Limits on who may hold how many connections.
#[derive(Clone, Copy, Debug)]
pub struct IncomingLimits {
    pub handshake_timeout: Duration,
    pub max_connections: usize,
    pub max_pending_handshakes: usize,
    pub max_connections_per_identity: usize,
    /// An authenticated connection on which the client sends nothing for
    /// this long is closed.
    pub idle_timeout: Duration,
}

type IdentityCounts = Arc<Mutex<HashMap<Caller, usize>>>;

/// One identity's hold on a connection; released when the connection closes.
struct IdentitySlot {
    counts: IdentityCounts,
    caller: Caller,
}

impl IdentitySlot {
    fn take(counts: &IdentityCounts, caller: &Caller, max: usize) -> Option<IdentitySlot> {
        let mut map = counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(caller.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IdentitySlot {
            counts: counts.clone(),
            caller: caller.clone(),
        })
    }
}

impl Drop for IdentitySlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.caller);
            }
        }
    }
}

impl Connected for AuthenticatedStream {
    type ConnectInfo = ConnInfo;
    fn connect_info(&self) -> ConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for AuthenticatedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    let next = Instant::now() + this.idle;
                    this.idle_deadline.as_mut().reset(next);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.idle_deadline.as_mut().poll(cx).is_ready() {
                    tracing::info!(
                        remote = %this.info.remote,
                        caller = %this.info.caller,
                        idle_s = this.idle.as_secs_f64(),
                        "closing an idle connection"
                    );
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for AuthenticatedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Accepts connections until the returned stream is dropped.
///
/// Handshakes run concurrently, bounded by `max_pending_handshakes` and a
/// deadline, so a flood of half-open connections delays new clients but never
/// takes the slots of established ones. Established connections are bounded
/// overall and per certificate identity; over a bound, the connection is
/// closed right after the handshake and the refusal is logged and counted.
pub fn serve_incoming(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: IncomingLimits,
    metrics: Arc<Metrics>,
) -> ReceiverStream<Result<AuthenticatedStream, io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    let acceptor = TlsAcceptor::from(config);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let pending = Arc::new(Semaphore::new(limits.max_pending_handshakes));
    let identities: IdentityCounts = Arc::default();
    tokio::spawn(async move {
        loop {
            let handshake_permit = tokio::select! {
                _ = tx.closed() => return,
                p = pending.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let accepted = tokio::select! {
                _ = tx.closed() => return,
                a = listener.accept() => a,
            };
            let (tcp, remote) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let (acceptor, tx, metrics) = (acceptor.clone(), tx.clone(), metrics.clone());
            let (slots, identities) = (slots.clone(), identities.clone());
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let outcome = handshake(acceptor, tcp, remote, limits.handshake_timeout).await;
                drop(handshake_permit);
                match outcome {
                    Ok((inner, caller, cert_sha256)) => {
                        metrics.handshake(true);
                        let Ok(permit) = slots.try_acquire_owned() else {
                            metrics.connection_refused("max_connections");
                            tracing::warn!(%remote, %caller, "connection limit reached; closing");
                            return;
                        };
                        let Some(identity) = IdentitySlot::take(
                            &identities,
                            &caller,
                            limits.max_connections_per_identity,
                        ) else {
                            metrics.connection_refused("max_connections_per_identity");
                            tracing::warn!(%remote, %caller, "per-identity connection limit reached; closing");
                            return;
                        };
                        tracing::debug!(%remote, %caller, "client authenticated");
                        let stream = AuthenticatedStream {
                            inner,
                            info: ConnInfo {
                                remote,
                                caller,
                                cert_sha256,
                            },
                            idle: limits.idle_timeout,
                            idle_deadline: Box::pin(tokio::time::sleep(limits.idle_timeout)),
                            _permit: permit,
                            _identity: identity,
                        };
                        let _ = tx.send(Ok(stream)).await;
                    }
                    Err((e, tcp)) => {
                        metrics.handshake(false);
                        tracing::info!(%remote, error = %e, "TLS handshake refused");
                        if let Some(tcp) = tcp {
                            close_after_alert(tcp).await;
                        }
                    }
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

/// rustls has written its alert; closing now with the client's request still
/// unread would make the kernel send a reset that can destroy the alert before
/// the client reads it. Half-close, drain briefly, then drop, so the client
/// learns *why* it was refused.
async fn close_after_alert(mut tcp: TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async { while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
}

async fn handshake(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    remote: SocketAddr,
    limit: Duration,
) -> Result<(TlsStream<TcpStream>, Caller, [u8; 32]), (io::Error, Option<TcpStream>)> {
    let accepted = tokio::time::timeout(limit, acceptor.accept(tcp).into_fallible())
        .await
        .map_err(|_| {
            (
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("handshake with {remote} timed out"),
                ),
                None,
            )
        })?;
    let tls = accepted.map_err(|(e, tcp)| (e, Some(tcp)))?;
    let der = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| {
            (
                io::Error::new(io::ErrorKind::PermissionDenied, "no client certificate"),
                None,
            )
        })?;
    let caller = Caller::from_cert_der(der)
        .map_err(|e| (io::Error::new(io::ErrorKind::PermissionDenied, e), None))?;
    let fingerprint = crate::crypto::sha256(der);
    Ok((tls, caller, fingerprint))
}
