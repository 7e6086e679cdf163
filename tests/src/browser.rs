//! A real headless Chromium, driven over WebDriver (chromedriver), that
//! presents a person's client certificate the way their own browser would —
//! or presents none.
//!
//! Each [`Browser`] owns a temporary `HOME` whose NSS database
//! (`$HOME/.pki/nssdb`, where Chromium on Linux keeps certificates) trusts
//! the jurisdiction CA and, optionally, holds the person's PKCS#12 bundle; a
//! chromedriver child started with that `HOME`; and a WebDriver session.
//!
//! Headless Chromium cannot ask which certificate to present: it presents
//! one only when the managed policy `AutoSelectCertificateForUrls` selects
//! it for the origin. That policy is machine-wide (`/etc/chromium/policies/
//! managed/`), and Chromium does *not* merge one policy across files there:
//! of two files setting it, only the last in name order counts (checked with
//! Chromium 148). So every live browser of every test process registers its
//! origin in [`REGISTRY`], and one policy file lists them all, rewritten
//! under a lock whenever a browser comes or goes.
//!
//! Chromium and chromedriver missing is a failure, not a skip: `.ci/run`
//! installs them.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::{eventually, free_port, TempDir};

/// The Chromium binary chromedriver launches (Debian's package).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The managed policy file listing every live browser's origin.
pub const POLICY_FILE: &str = "/etc/chromium/policies/managed/concord-test.json";

/// One file per live browser, `PID-PORT` holding its origin pattern; outside
/// `managed/`, which Chromium reads whole.
pub const REGISTRY: &str = "/etc/chromium/policies/concord-test-browsers";

/// A headless Chromium with its own NSS store, under WebDriver control.
/// Dropping it kills chromedriver and its browser and withdraws its origin
/// from the certificate policy; [`Browser::close`] ends the session first.
pub struct Browser {
    client: Option<Client>,
    driver: Child,
    driver_log: PathBuf,
    _policy: PolicyEntry,
    profile: TempDir,
    _home: TempDir,
}

impl Browser {
    /// A browser that presents the certificate in `p12` to `origin` (such as
    /// `https://127.0.0.1:7443`) and trusts servers whose certificate
    /// `ca_cert` issued.
    pub async fn with_certificate(
        p12: &Path,
        password: &str,
        ca_cert: &Path,
        origin: &str,
    ) -> Result<Browser> {
        Self::start(Some((p12, password)), ca_cert, origin).await
    }

    /// A browser with no certificate of its own that trusts `ca_cert`: a
    /// server requiring a client certificate refuses it.
    pub async fn without_certificate(ca_cert: &Path, origin: &str) -> Result<Browser> {
        Self::start(None, ca_cert, origin).await
    }

    async fn start(
        identity: Option<(&Path, &str)>,
        ca_cert: &Path,
        origin: &str,
    ) -> Result<Browser> {
        let home = TempDir::new().context("temporary HOME")?;
        let nssdb = home.path().join(".pki/nssdb");
        std::fs::create_dir_all(&nssdb).context("create the NSS db directory")?;
        let db = format!("sql:{}", nssdb.display());
        run("certutil", &["-N", "-d", &db, "--empty-password"])?;
        if let Some((p12, password)) = identity {
            let p12 = p12.to_str().context("non-UTF-8 PKCS#12 path")?;
            run("pk12util", &["-i", p12, "-d", &db, "-W", password])?;
        }
        let ca = ca_cert.to_str().context("non-UTF-8 CA path")?;
        run(
            "certutil",
            &["-A", "-n", "concord-ca", "-t", "CT,,", "-i", ca, "-d", &db],
        )?;

        let port = free_port();
        // Before Chromium starts: it reads managed policy at start-up.
        let policy = PolicyEntry::register(port, origin)?;

        let driver_log = home.path().join("chromedriver.log");
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", driver_log.display()))
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that Drop can take the browser
            // processes chromedriver starts down with it.
            .process_group(0)
            .spawn()
            .context("start chromedriver (apt-get install chromium-driver)")?;
        let profile = TempDir::new().context("temporary user-data-dir")?;
        let mut browser = Browser {
            client: None,
            driver,
            driver_log,
            _policy: policy,
            profile,
            _home: home,
        };
        let client = browser.connect(port).await?;
        browser.client = Some(client);
        Ok(browser)
    }

    async fn connect(&mut self, port: u16) -> Result<Client> {
        let driver_addr = ("127.0.0.1", port);
        eventually("chromedriver to listen", || async move {
            tokio::net::TcpStream::connect(driver_addr)
                .await
                .map(drop)
                .context("connect to chromedriver")
        })
        .await?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", self.profile.path().display()),
                ],
            }),
        );
        // The one plaintext HTTP hop: to chromedriver's own loopback port.
        let webdriver = format!("http://127.0.0.1:{port}");
        let connected = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await;
        connected.map_err(|e| {
            anyhow::anyhow!(
                "no WebDriver session from chromedriver on port {port}: {e}\nchromedriver log:\n{}",
                self.driver_log_tail()
            )
        })
    }

    fn driver_log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.driver_log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    pub fn client(&self) -> &Client {
        self.client
            .as_ref()
            .unwrap_or_else(|| panic!("the WebDriver session is closed"))
    }

    /// Navigates to `url` and waits for the page to load (or fail: an error
    /// page such as a refused handshake loads too).
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client()
            .goto(url)
            .await
            .with_context(|| format!("navigate to {url}"))
    }

    /// The current page's DOM as HTML.
    pub async fn page_source(&self) -> Result<String> {
        self.client().source().await.context("page source")
    }

    /// Saves the current page as `<target>/screenshots/<name>.png`; returns
    /// its path.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client().screenshot().await.context("screenshot")?;
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    }

    /// Ends the WebDriver session (Chromium exits), then stops chromedriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            // A session that already died has nothing left to close.
            let _ = client.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = self.driver.id() as i32;
        // SAFETY: plain syscall on the process group of a child we spawned
        // as its leader; it reaches chromedriver and the browser it started.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

/// The workspace's target directory: `CARGO_TARGET_DIR`, else the one the
/// test executable was built in (`target/<profile>/deps/<exe>`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_owned()))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Runs an NSS tool to completion, failing with its output.
fn run(tool: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {tool} (apt-get install libnss3-tools)"))?;
    if !out.status.success() {
        bail!(
            "{tool} {} failed ({}): {}{}",
            args.first().unwrap_or(&""),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// A browser's origin listed in the machine's certificate policy while it lives.
struct PolicyEntry {
    file: PathBuf,
}

impl PolicyEntry {
    fn register(port: u16, origin: &str) -> Result<PolicyEntry> {
        let registry = Path::new(REGISTRY);
        std::fs::create_dir_all(registry)
            .with_context(|| format!("create {REGISTRY} (tests must run as root)"))?;
        let file = registry.join(format!("{}-{port}", std::process::id()));
        let _lock = lock_registry()?;
        std::fs::write(&file, origin).with_context(|| format!("write {}", file.display()))?;
        write_policy()?;
        Ok(PolicyEntry { file })
    }
}

impl Drop for PolicyEntry {
    fn drop(&mut self) {
        if let Ok(_lock) = lock_registry() {
            let _ = std::fs::remove_file(&self.file);
            let _ = write_policy();
        }
    }
}

/// Serializes rewrites of the policy file across threads and test processes.
fn lock_registry() -> Result<File> {
    let path = Path::new(REGISTRY).join(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .with_context(|| format!("lock {}", path.display()))?;
    Ok(file)
}

/// Writes the policy naming every registered origin (or removes it when none
/// is left). Entries of processes that died without dropping their browsers
/// are removed on the way. Called with the registry locked.
fn write_policy() -> Result<()> {
    let mut origins = BTreeSet::new();
    for entry in std::fs::read_dir(REGISTRY).with_context(|| format!("list {REGISTRY}"))? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(pid) = name.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        if let Ok(origin) = std::fs::read_to_string(&path) {
            origins.insert(origin);
        }
    }
    let policy = Path::new(POLICY_FILE);
    if origins.is_empty() {
        return match std::fs::remove_file(policy) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("remove {POLICY_FILE}"))
            }
            _ => Ok(()),
        };
    }
    // Each entry is itself a JSON string: Chromium's format for this policy.
    let patterns: Vec<String> = origins
        .iter()
        .map(|origin| serde_json::json!({ "pattern": origin, "filter": {} }).to_string())
        .collect();
    let text = serde_json::json!({ "AutoSelectCertificateForUrls": patterns }).to_string();
    let dir = policy.parent().context("policy path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    // Through a rename: a Chromium starting meanwhile never reads half a file.
    let tmp = Path::new(REGISTRY).join(".policy.json");
    std::fs::write(&tmp, text).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, policy).with_context(|| format!("install {POLICY_FILE}"))?;
    Ok(())
}
