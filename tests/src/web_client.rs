//! A minimal HTTPS client for the web console, presenting a person's
//! certificate: for benchmarks that time pages server-side without a
//! browser. One HTTP/1.1 connection, requests in turn.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::Credentials;

pub struct WebClient {
    send: hyper::client::conn::http1::SendRequest<String>,
    host: String,
}

impl WebClient {
    /// Connects to the console at `addr` (`127.0.0.1:PORT`) as the person of `profile`.
    pub async fn connect(profile: &Path, addr: &str) -> Result<WebClient> {
        let c = Credentials::from_profile(profile)?;
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(c.ca_pem.as_bytes()) {
            roots.add(ca?)?;
        }
        let chain =
            CertificateDer::pem_slice_iter(c.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(c.key_pem.as_bytes())?;
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).to_owned();
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from(host)?, tcp)
            .await?;
        let (send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls)).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                eprintln!("web client connection: {e}");
            }
        });
        Ok(WebClient {
            send,
            host: addr.to_owned(),
        })
    }

    /// GETs `path`; the status and the body.
    pub async fn get(&mut self, path: &str) -> Result<(u16, String)> {
        let req = http::Request::get(path)
            .header(http::header::HOST, &self.host)
            .body(String::new())?;
        // A kept-alive connection takes the next request only once the
        // previous response is read and the connection is idle again.
        self.send
            .ready()
            .await
            .with_context(|| format!("{path}: connection"))?;
        let res = self.send.send_request(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}
