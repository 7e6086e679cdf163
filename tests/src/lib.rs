//! Harness for multi-node integration tests: real `concord` and
//! `concord-node` processes, real certificates from `concord pki init`, real
//! mutual TLS on loopback, real sled stores in temporary directories.
//!
//! The binaries are found beside the test executable (`target/<profile>/`);
//! `cargo test --workspace` builds them first because the node and CLI
//! packages own them. `CONCORD_BIN` / `CONCORD_NODE_BIN` override.
//! Waits are bounded by `CONCORD_TEST_PATIENCE` seconds (default 60): tests
//! poll for a condition instead of sleeping a fixed time.
//! `in_process` runs nodes inside the test process instead, for tests that
//! inject faults into the calls a node makes to its peers. `browser` drives a
//! headless Chromium that presents a person's client certificate.

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use concord_proto::v1::admin_service_client::AdminServiceClient;
use concord_proto::v1::{AddPeerRequest, StatusRequest, StatusResponse, TrustBundle};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub use tempfile::TempDir;

pub mod browser;
pub mod in_process;
pub mod perturb;
pub mod proxy;
pub mod web_client;

/// Installs the ring provider once; every test client needs it.
/// The value after `name` on a benchmark's command line, or `default`.
pub fn bench_arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn patience() -> Duration {
    let secs = std::env::var("CONCORD_TEST_PATIENCE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Polls `check` until it returns Ok or patience runs out; returns the last error then.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let deadline = Instant::now() + patience();
    loop {
        match check().await {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= deadline => {
                return Err(e.context(format!("gave up waiting for {what}")))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub fn bin(name: &str) -> PathBuf {
    let var = if name == "concord" {
        "CONCORD_BIN"
    } else {
        "CONCORD_NODE_BIN"
    };
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/<test-exe> -> target/<profile>/<name>
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .unwrap_or_default();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} not built; run `cargo build --workspace --bins` (or cargo test --workspace)",
        path.display()
    );
    path
}

/// Runs `concord --profile PROFILE --output json ARGS...` to completion.
pub fn concord_json_as(profile: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--profile", path_str(profile), "--output", "json"];
    all.extend_from_slice(args);
    concord(&all)
}

/// [`concord_json_as`], which must succeed; its stdout parsed as JSON.
pub fn json_as(profile: &Path, args: &[&str]) -> serde_json::Value {
    let out = concord_json_as(profile, args);
    assert!(
        out.status.success(),
        "concord {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Raises a low-severity alert to `to` (e.g. "FR" or "FR,JP") as the
/// analyst of `profile`, through the CLI; returns its id.
pub fn raise_alert_to(profile: &Path, summary: &str, to: &str) -> String {
    json_as(
        profile,
        &[
            "alert",
            "raise",
            "--category",
            "other",
            "--severity",
            "low",
            "--summary",
            summary,
            "--to",
            to,
        ],
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Issues a denial of 3A001 to ZZ for `party` (of ZZ) to `to`, as the
/// officer of `profile`, through the CLI; returns its id.
pub fn issue_denial_to(profile: &Path, party: &str, to: &str) -> String {
    json_as(
        profile,
        &[
            "denial",
            "issue",
            "--party",
            party,
            "--party-country",
            "ZZ",
            "--item",
            "3A001",
            "--destination",
            "ZZ",
            "--reason",
            "diversion risk",
            "--to",
            to,
        ],
    )["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Runs the `concord` CLI to completion.
pub fn concord(args: &[&str]) -> Output {
    Command::new(bin("concord"))
        .args(args)
        .env_remove("CONCORD_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run concord: {e}"))
}

/// Runs `concord`, requiring success; returns stdout.
pub fn concord_ok(args: &[&str]) -> String {
    let out = concord(args);
    assert!(
        out.status.success(),
        "concord {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A port for a node to listen on, free when asked.
///
/// Taken from below Linux's ephemeral range (32768 and up), where the
/// kernel never hands out the source ports of outgoing connections: a port
/// the OS picked with `bind(:0)` and released could be taken by any client
/// socket of a parallel test before the node binds it ("Address already in
/// use"). Each test process walks the range from its own offset, so
/// parallel test binaries rarely try the same port.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let offset = std::process::id().wrapping_mul(7_919) % SPAN;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (LOW + (offset + n) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {LOW}..{}", LOW + SPAN)
}

/// One jurisdiction's directory as `concord pki init` lays it out.
#[derive(Clone, Debug)]
pub struct NodeDir {
    pub code: String,
    pub dir: PathBuf,
    pub endpoint: String,
    /// Loopback address of the Prometheus listener.
    pub metrics: String,
}

impl NodeDir {
    pub fn init(root: &Path, code: &str) -> NodeDir {
        let dir = root.join(code);
        let endpoint = format!("127.0.0.1:{}", free_port());
        let metrics = format!("127.0.0.1:{}", free_port());
        concord_ok(&[
            "pki",
            "init",
            "--jurisdiction",
            code,
            "--dir",
            path_str(&dir),
            "--listen",
            &endpoint,
            "--metrics-listen",
            &metrics,
        ]);
        // Fast heartbeats keep tests short; production keeps the default.
        let config = dir.join("node.toml");
        let text: String = std::fs::read_to_string(&config)
            .unwrap_or_default()
            .lines()
            .map(|line| match line.split(" = ").next() {
                Some("heartbeat_ms") => "heartbeat_ms = 200".to_owned(),
                Some("timeout_ms") => "timeout_ms = 2000".to_owned(),
                Some("max_backoff_ms") => "max_backoff_ms = 1000".to_owned(),
                _ => line.to_owned(),
            })
            .map(|line| line + "\n")
            .collect();
        std::fs::write(&config, text).unwrap_or_else(|e| panic!("write config: {e}"));
        NodeDir {
            code: code.to_owned(),
            dir,
            endpoint,
            metrics,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.join("node.toml")
    }

    /// The file the node reads its clock offset from.
    pub fn clock_file(&self) -> PathBuf {
        self.dir.join("clock-offset-ms")
    }

    /// Moves the node's clock `by` further ahead (the node reads it within
    /// `clock::OFFSET_POLL`; wait for the effect, not for the time).
    pub fn advance_clock(&self, by: Duration) {
        let now: i64 = std::fs::read_to_string(self.clock_file())
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        let next = now + by.as_millis() as i64;
        std::fs::write(self.clock_file(), next.to_string())
            .unwrap_or_else(|e| panic!("write clock offset: {e}"));
    }

    pub fn admin_profile(&self) -> PathBuf {
        self.dir.join("admin.profile.toml")
    }

    pub fn trust_file(&self) -> PathBuf {
        let out = self.dir.join(format!("{}.trust.toml", self.code));
        if !out.exists() {
            concord_ok(&[
                "pki",
                "export-trust",
                "--dir",
                path_str(&self.dir),
                "--out",
                path_str(&out),
            ]);
        }
        out
    }

    /// Issues another client identity with `concord pki issue`; returns its profile path.
    pub fn issue(&self, role: &str, name: &str) -> PathBuf {
        concord_ok(&[
            "pki",
            "issue",
            "--dir",
            path_str(&self.dir),
            "--role",
            role,
            "--name",
            name,
        ]);
        self.dir.join(format!("{role}-{name}.profile.toml"))
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).unwrap_or_else(|e| panic!("read {file}: {e}"))
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 path {}", p.display()))
}

/// A running `concord-node` process; killed on drop.
pub struct NodeProcess {
    pub dir: NodeDir,
    child: Option<Child>,
    pub log: PathBuf,
}

impl NodeProcess {
    /// Starts the node and waits until its admin API answers.
    pub async fn start(dir: &NodeDir) -> Result<NodeProcess> {
        let mut node = Self::spawn(dir)?;
        let profile = dir.admin_profile();
        let status = eventually("node to answer status", || {
            let profile = profile.clone();
            let exited = node.try_exit();
            async move {
                if let Some(status) = exited {
                    bail!("node exited early with {status}");
                }
                status_of(&profile).await
            }
        })
        .await;
        if let Err(e) = status {
            bail!("{e:#}; node log:\n{}", node.log_text());
        }
        Ok(node)
    }

    /// Spawns the process without waiting.
    pub fn spawn(dir: &NodeDir) -> Result<NodeProcess> {
        let log = unique(dir.dir.join("node.log"));
        let file = std::fs::File::create(&log)?;
        let child = Command::new(bin("concord-node"))
            .arg("--config")
            .arg(dir.config())
            // Tests move the node's time here (`NodeDir::advance_clock`).
            .env("CONCORD_CLOCK_OFFSET_FILE", dir.clock_file())
            // A benchmark may ask for more (`CONCORD_NODE_LOG=concord_node::risk=debug`).
            .env(
                "RUST_LOG",
                std::env::var("CONCORD_NODE_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("spawn concord-node")?;
        Ok(NodeProcess {
            dir: dir.clone(),
            child: Some(child),
            log,
        })
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap_or_else(|| panic!("no child"));
        let _ = child.kill();
        child.wait().unwrap_or_else(|e| panic!("wait: {e}"))
    }

    /// SIGTERM and wait for a graceful exit.
    pub async fn terminate(mut self) -> Result<ExitStatus> {
        let mut child = self.child.take().context("no child")?;
        // SAFETY: plain syscall on a pid we own.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + patience();
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("node did not stop after SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// `node.log`, else `node.1.log`, `node.2.log`, ... — one log per start.
fn unique(p: PathBuf) -> PathBuf {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut candidate = p.clone();
    let mut n = 0;
    while candidate.exists() {
        n += 1;
        candidate = p.with_file_name(format!("{stem}.{n}.log"));
    }
    candidate
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A CLI profile as `concord pki init|issue` writes it.
#[derive(serde::Deserialize)]
struct ProfileFile {
    endpoint: String,
    ca_cert: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Client credentials in PEM.
#[derive(Clone)]
pub struct Credentials {
    pub endpoint: String,
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Credentials {
    pub fn from_profile(profile: &Path) -> Result<Credentials> {
        let text = std::fs::read_to_string(profile)
            .with_context(|| format!("read {}", profile.display()))?;
        let p: ProfileFile = toml::from_str(&text)?;
        let base = profile.parent().unwrap_or(Path::new("."));
        Ok(Credentials {
            endpoint: p.endpoint,
            ca_pem: std::fs::read_to_string(base.join(p.ca_cert))?,
            cert_pem: std::fs::read_to_string(base.join(p.cert))?,
            key_pem: std::fs::read_to_string(base.join(p.key))?,
        })
    }

    /// A channel that presents these credentials (or none) over real mTLS.
    pub async fn channel(&self, present_cert: bool) -> Result<Channel> {
        let host = self
            .endpoint
            .rsplit_once(':')
            .map_or(self.endpoint.as_str(), |(h, _)| h)
            .to_owned();
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .domain_name(host);
        if present_cert {
            tls = tls.identity(Identity::from_pem(&self.cert_pem, &self.key_pem));
        }
        let channel = Endpoint::from_shared(format!("https://{}", self.endpoint))?
            .tls_config(tls)?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .connect()
            .await?;
        Ok(channel)
    }

    pub async fn admin(&self) -> Result<AdminServiceClient<Channel>> {
        Ok(AdminServiceClient::new(self.channel(true).await?))
    }
}

/// Every audit entry of the node `profile` administers, through the AuditExport RPC.
pub async fn audit_entries(profile: &Path) -> Result<Vec<concord_proto::v1::AuditEntry>> {
    let mut admin = Credentials::from_profile(profile)?.admin().await?;
    let mut stream = admin
        .audit_export(concord_proto::v1::AuditExportRequest::default())
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(chunk) = stream.message().await? {
        out.extend(chunk.entries);
    }
    Ok(out)
}

pub async fn status_of(profile: &Path) -> Result<StatusResponse> {
    let mut admin = Credentials::from_profile(profile)?.admin().await?;
    Ok(admin.status(StatusRequest {}).await?.into_inner())
}

pub fn trust_bundle(dir: &NodeDir) -> Result<TrustBundle> {
    let b = concord_node::trust_bundle::TrustBundle::from_toml(&std::fs::read_to_string(
        dir.trust_file(),
    )?)?;
    Ok(concord_node::api::convert::trust_bundle_to_proto(&b))
}

pub async fn add_peer(on: &NodeDir, peer: &NodeDir) -> Result<()> {
    let mut admin = Credentials::from_profile(&on.admin_profile())?
        .admin()
        .await?;
    admin
        .add_peer(AddPeerRequest {
            trust: Some(trust_bundle(peer)?),
        })
        .await?;
    Ok(())
}

/// Peers every node of `dirs` with every other and waits until each has
/// its links to the others up.
pub async fn peer_all(dirs: &[NodeDir], codes: &[&str]) -> anyhow::Result<()> {
    for a in dirs {
        for b in dirs.iter().filter(|b| b.code != a.code) {
            add_peer(a, b).await?;
        }
    }
    for a in dirs {
        let others: Vec<&str> = codes.iter().copied().filter(|c| *c != a.code).collect();
        wait_links(a, &others).await?;
    }
    Ok(())
}

/// Waits until `node` reports every one of `peers` connected.
pub async fn wait_links(node: &NodeDir, peers: &[&str]) -> Result<StatusResponse> {
    let profile = node.admin_profile();
    eventually(&format!("links of {} to {peers:?}", node.code), || {
        let profile = profile.clone();
        async move {
            let s = status_of(&profile).await?;
            for p in peers {
                let link = s
                    .peers
                    .iter()
                    .find(|x| x.trust.as_ref().is_some_and(|t| t.jurisdiction == *p));
                match link.and_then(|l| l.link.as_ref()) {
                    Some(l) if l.connected => {}
                    Some(l) => bail!("link to {p} down: {}", l.last_error),
                    None => bail!("{p} not registered"),
                }
            }
            Ok(s)
        }
    })
    .await
}

/// Several jurisdictions' nodes, each registered as every other's peer, all links up.
pub struct Federation {
    pub root: TempDir,
    pub nodes: Vec<NodeProcess>,
}

impl Federation {
    pub async fn start(codes: &[&str]) -> Result<Federation> {
        init();
        let root = tempfile::tempdir()?;
        let dirs: Vec<NodeDir> = codes
            .iter()
            .map(|c| NodeDir::init(root.path(), c))
            .collect();
        let mut nodes = Vec::new();
        for d in &dirs {
            nodes.push(NodeProcess::start(d).await?);
        }
        peer_all(&dirs, codes).await?;
        Ok(Federation { root, nodes })
    }

    pub fn dir(&self, code: &str) -> &NodeDir {
        &self.node(code).dir
    }

    pub fn node(&self, code: &str) -> &NodeProcess {
        self.nodes
            .iter()
            .find(|n| n.dir.code == code)
            .unwrap_or_else(|| panic!("no node {code}"))
    }
}

/// Current value of a counter or gauge line such as `concord_peers` in the node's metrics.
pub fn metric(dir: &NodeDir, series: &str) -> u64 {
    let text = scrape_metrics(&dir.metrics).unwrap_or_default();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Fetches the node's Prometheus exposition over plain HTTP on loopback.
pub fn scrape_metrics(addr: &str) -> Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut body = String::new();
    s.read_to_string(&mut body)?;
    Ok(body)
}

// ---- exchange helpers (appended for the exchange integration tests) ----

use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::federation_service_client::FederationServiceClient;
use concord_proto::v1::{Peer, PushRequest, PushResponse};

impl Federation {
    /// Takes a node's process out of the federation, e.g. to stop or kill it.
    pub fn take(&mut self, code: &str) -> NodeProcess {
        let i = self
            .nodes
            .iter()
            .position(|n| n.dir.code == code)
            .unwrap_or_else(|| panic!("no node {code}"));
        self.nodes.remove(i)
    }

    /// Starts the node of `dir` again (after `take`) and waits until it answers.
    pub async fn restart(&mut self, dir: &NodeDir) -> Result<()> {
        let node = NodeProcess::start(dir).await?;
        self.nodes.push(node);
        Ok(())
    }
}

/// An exchange-service client presenting the identity of a CLI profile
/// (as `NodeDir::issue` writes them).
pub async fn exchange_client(profile: &Path) -> Result<ExchangeServiceClient<Channel>> {
    Ok(ExchangeServiceClient::new(
        Credentials::from_profile(profile)?.channel(true).await?,
    ))
}

/// `sender`'s node certificate, talking to `target`'s node: what a peer node presents.
pub fn node_credentials(sender: &NodeDir, target: &NodeDir) -> Credentials {
    Credentials {
        endpoint: target.endpoint.clone(),
        ca_pem: target.read("ca.crt"),
        cert_pem: sender.read("node.crt"),
        key_pem: sender.read("node.key"),
    }
}

/// A federation-service client for raw pushes, with room for oversized messages.
pub fn federation_client(channel: Channel) -> FederationServiceClient<Channel> {
    FederationServiceClient::new(channel)
        .max_encoding_message_size(64 * 1024 * 1024)
        .max_decoding_message_size(64 * 1024 * 1024)
}

/// A jurisdiction's record-signing key, as `concord pki init` wrote it.
pub fn record_signer(dir: &NodeDir) -> Result<concord_node::crypto::RecordSigner> {
    let bytes = std::fs::read(dir.dir.join("signing.pk8"))?;
    Ok(concord_node::crypto::RecordSigner::from_pkcs8(&bytes)?)
}

/// One push call with `requests` as the whole inbound stream; collects every
/// response until the node ends the stream. A refusal, whether from the call
/// itself or from the stream, is the `Err`.
pub async fn push_raw(
    client: &mut FederationServiceClient<Channel>,
    requests: Vec<PushRequest>,
) -> Result<Vec<PushResponse>, tonic::Status> {
    let mut stream = client
        .push(tokio_stream::iter(requests))
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(response) = stream.message().await? {
        out.push(response);
    }
    Ok(out)
}

/// The peer entry for `code` in a status response.
pub fn peer_in<'a>(status: &'a StatusResponse, code: &str) -> Option<&'a Peer> {
    status
        .peers
        .iter()
        .find(|p| p.trust.as_ref().is_some_and(|t| t.jurisdiction == code))
}

/// A signed envelope as the federation wire carries it.
pub fn wire(e: &concord_node::exchange::SignedEnvelope) -> concord_proto::v1::Envelope {
    concord_proto::v1::Envelope {
        header: e.header.clone(),
        body: e.body.clone(),
        signature: e.signature.clone(),
    }
}

/// A licensing-service client presenting the identity of a CLI profile.
pub async fn licensing_client(
    profile: &Path,
) -> Result<concord_proto::v1::licensing_service_client::LicensingServiceClient<Channel>> {
    Ok(
        concord_proto::v1::licensing_service_client::LicensingServiceClient::new(
            Credentials::from_profile(profile)?.channel(true).await?,
        ),
    )
}

/// Sets `key = value` lines (numbers) of a node's config before it starts;
/// every key must already be in the node.toml `concord pki init` wrote.
pub fn set_config(dir: &NodeDir, pairs: &[(&str, u64)]) {
    let text = std::fs::read_to_string(dir.config()).unwrap_or_default();
    for (k, _) in pairs {
        assert!(text.contains(&format!("\n{k} = ")), "{k} not in node.toml");
    }
    let text: String = text
        .lines()
        .map(|line| {
            let key = line.split(" = ").next().unwrap_or("");
            match pairs.iter().find(|(k, _)| *k == key) {
                Some((k, v)) => format!("{k} = {v}\n"),
                None => format!("{line}\n"),
            }
        })
        .collect();
    std::fs::write(dir.config(), text).unwrap_or_else(|e| panic!("write config: {e}"));
}
