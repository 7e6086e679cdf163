//! The server's accept loop: TCP, then a bounded-time TLS handshake, then the
//! verified certificate becomes the connection's [`Caller`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use tokio_rustls::server::TlsStream;
use tokio_rustls::LazyConfigAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use super::limits::{
    ConnectionBounds, ConnectionSlot, Connections, Limit, PendingHandshakes, RefusalLog,
};
use crate::identity::{Caller, Jurisdiction};
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
    _slot: ConnectionSlot,
}

/// Limits on who may hold how many connections.
#[derive(Clone, Debug)]
pub struct IncomingLimits {
    /// The whole handshake, from accept to a verified certificate.
    pub handshake_timeout: Duration,
    /// From accept to a complete TLS ClientHello (at most `handshake_timeout`):
    /// a connection that never starts TLS gives its place back early.
    pub tls_start_timeout: Duration,
    pub max_connections: usize,
    pub max_pending_handshakes: usize,
    /// Handshakes in progress from one source address (IPv6: one /64).
    pub max_pending_handshakes_per_address: usize,
    pub max_connections_per_identity: usize,
    /// Connections all identities of one foreign jurisdiction may hold together.
    pub max_connections_per_jurisdiction: usize,
    /// Of `max_connections`, this many are kept for `own_jurisdiction`.
    pub reserved_connections_own_jurisdiction: usize,
    /// The node's own jurisdiction.
    pub own_jurisdiction: Jurisdiction,
    /// An authenticated connection on which the client sends nothing for
    /// this long is closed.
    pub idle_timeout: Duration,
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
/// Every connection is accepted at once, so the listen queue never fills
/// behind slow clients. Handshakes in progress are bounded in total and per
/// source address (so one source cannot keep others from handshaking), the
/// ClientHello has a short deadline of its own, and the whole handshake a
/// longer one. Established connections are bounded overall, per certificate
/// identity and per foreign jurisdiction, and foreign jurisdictions together
/// leave a reserve to the node's own. A connection over a bound is closed —
/// before the handshake or right after it — and the refusal is counted in
/// `concord_limits_hit{result=<limit>}` and logged (a flood: a line now and
/// then, with a count).
pub fn serve_incoming(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: IncomingLimits,
    metrics: Arc<Metrics>,
) -> ReceiverStream<Result<AuthenticatedStream, io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    let pending = PendingHandshakes::new(
        limits.max_pending_handshakes,
        limits.max_pending_handshakes_per_address,
    );
    let connections = Connections::new(
        limits.own_jurisdiction.clone(),
        ConnectionBounds {
            max_total: limits.max_connections,
            max_per_identity: limits.max_connections_per_identity,
            max_per_jurisdiction: limits.max_connections_per_jurisdiction,
            reserved_own: limits.reserved_connections_own_jurisdiction,
        },
    );
    let log = Arc::new(RefusalLog::new(RefusalLog::EVERY));
    let deadlines = Deadlines {
        tls_start: limits.tls_start_timeout,
        handshake: limits.handshake_timeout,
    };
    let idle = limits.idle_timeout;
    tokio::spawn(async move {
        loop {
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
            let handshake_slot = match pending.begin(remote.ip()) {
                Ok(slot) => slot,
                Err(limit) => {
                    metrics.connection_refused(limit.label());
                    log.refused(limit, remote, None);
                    continue;
                }
            };
            let (config, tx, metrics, log) =
                (config.clone(), tx.clone(), metrics.clone(), log.clone());
            let connections = connections.clone();
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                match handshake(config, tcp, deadlines).await {
                    Ok((inner, caller, cert_sha256)) => {
                        drop(handshake_slot);
                        let admitted = connections.admit(&caller);
                        // Counted once admitted or refused, so a handshake
                        // seen in the metrics has been decided.
                        metrics.handshake(true);
                        let slot = match admitted {
                            Ok(slot) => slot,
                            Err(limit) => {
                                metrics.connection_refused(limit.label());
                                log.refused(limit, remote, Some(&caller));
                                return;
                            }
                        };
                        tracing::debug!(%remote, %caller, "client authenticated");
                        let stream = AuthenticatedStream {
                            inner,
                            info: ConnInfo {
                                remote,
                                caller,
                                cert_sha256,
                            },
                            idle,
                            idle_deadline: Box::pin(tokio::time::sleep(idle)),
                            _slot: slot,
                        };
                        let _ = tx.send(Ok(stream)).await;
                    }
                    Err(Refused::Timeout(limit)) => {
                        drop(handshake_slot);
                        metrics.handshake(false);
                        metrics.connection_refused(limit.label());
                        log.refused(limit, remote, None);
                    }
                    Err(Refused::Failed(e, tcp)) => {
                        metrics.handshake(false);
                        tracing::info!(%remote, error = %e, "TLS handshake refused");
                        // The source keeps its handshake place until the
                        // connection is gone, so refused clients cannot
                        // pile up open sockets faster than they are closed.
                        if let Some(tcp) = tcp {
                            close_after_alert(tcp).await;
                        }
                        drop(handshake_slot);
                    }
                }
            });
        }
    });
    ReceiverStream::new(rx)
}

#[derive(Clone, Copy)]
struct Deadlines {
    tls_start: Duration,
    handshake: Duration,
}

/// Why a handshake produced no authenticated connection.
enum Refused {
    /// A deadline passed; the connection is dropped without a word.
    Timeout(Limit),
    /// The client was refused (an alert may have been written: the socket
    /// comes back to be closed gently).
    Failed(io::Error, Option<TcpStream>),
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
    config: Arc<rustls::ServerConfig>,
    tcp: TcpStream,
    deadlines: Deadlines,
) -> Result<(TlsStream<TcpStream>, Caller, [u8; 32]), Refused> {
    let accepted_at = Instant::now();
    let whole = accepted_at + deadlines.handshake;
    let hello_by = (accepted_at + deadlines.tls_start).min(whole);
    let mut lazy = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp);
    let start = match tokio::time::timeout_at(hello_by, &mut lazy).await {
        Err(_) => {
            let limit = if hello_by < whole {
                Limit::TlsStartTimeout
            } else {
                Limit::HandshakeTimeout
            };
            return Err(Refused::Timeout(limit));
        }
        Ok(Err(e)) => return Err(Refused::Failed(e, lazy.take_io())),
        Ok(Ok(start)) => start,
    };
    let accepted = tokio::time::timeout_at(whole, start.into_stream(config).into_fallible())
        .await
        .map_err(|_| Refused::Timeout(Limit::HandshakeTimeout))?;
    let tls = accepted.map_err(|(e, tcp)| Refused::Failed(e, Some(tcp)))?;
    let refuse = |e: io::Error| Refused::Failed(e, None);
    let der = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| {
            refuse(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "no client certificate",
            ))
        })?;
    let caller = Caller::from_cert_der(der)
        .map_err(|e| refuse(io::Error::new(io::ErrorKind::PermissionDenied, e)))?;
    let fingerprint = crate::crypto::sha256(der);
    Ok((tls, caller, fingerprint))
}
