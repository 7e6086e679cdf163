//! The browser harness against a TLS server that demands a client
//! certificate (`openssl s_server -Verify 1 -www`, serving the node's real
//! certificate): a browser given a person's PKCS#12 bundle presents it and
//! gets the page; one without a certificate gets nothing from the server.
//! Two browsers alive at once each present theirs, which the one shared
//! certificate policy has to make possible.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result};
use concord_tests::browser::Browser;
use concord_tests::*;

/// `openssl s_server` on loopback with a jurisdiction's node certificate,
/// requiring a client certificate from its CA; killed on drop.
struct StatusServer {
    child: Child,
    origin: String,
    log: PathBuf,
}

impl StatusServer {
    async fn start(dir: &NodeDir) -> Result<StatusServer> {
        let port = free_port();
        let log = dir.dir.join(format!("s_server-{port}.log"));
        let out = std::fs::File::create(&log).context("s_server log")?;
        let child = Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .arg("-cert")
            .arg(dir.dir.join("node.crt"))
            .arg("-key")
            .arg(dir.dir.join("node.key"))
            .arg("-CAfile")
            .arg(dir.dir.join("ca.crt"))
            .args(["-Verify", "1", "-www"])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("start openssl s_server (apt-get install openssl)")?;
        let server = StatusServer {
            child,
            origin: format!("https://127.0.0.1:{port}"),
            log,
        };
        eventually("s_server to listen", || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map(drop)
                .context("connect to s_server")
        })
        .await?;
        Ok(server)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn url(&self) -> String {
        format!("{}/", self.origin)
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A person's bundle as `concord pki issue` wrote it, with its password.
fn bundle(dir: &NodeDir, role: &str, name: &str) -> (PathBuf, String) {
    dir.issue(role, name);
    let p12 = dir.dir.join(format!("{role}-{name}.p12"));
    let password = dir.read(&format!("{role}-{name}.p12-password"));
    (p12, password.trim().to_owned())
}

fn ca(dir: &NodeDir) -> PathBuf {
    dir.dir.join("ca.crt")
}

/// The status page as `browser` gets it. `s_server` serves one connection
/// at a time and Chromium may open a speculative second one, which it then
/// drops: a blank page is asked for again.
async fn status_page(browser: &Browser, server: &StatusServer) -> String {
    eventually("s_server's status page", || async {
        browser.goto(&server.url()).await?;
        let page = browser.page_source().await?;
        anyhow::ensure!(
            page.contains("Client certificate"),
            "blank or partial: {page}"
        );
        Ok(page)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", server.log_text()))
}

/// What `s_server -www` prints about the client certificate it verified.
fn assert_presented(page: &str, identity: &str) {
    assert!(page.contains("Client certificate"), "{page}");
    // The certificate is printed in full, its URI SAN naming the identity.
    assert!(
        page.contains(&format!("URI:concord://{identity}")),
        "{page}"
    );
}

#[tokio::test]
async fn a_browser_presents_the_persons_certificate() {
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let (p12, password) = bundle(&de, "officer", "olivia");
    let server = StatusServer::start(&de).await.unwrap();

    let browser = Browser::with_certificate(&p12, &password, &ca(&de), &server.origin)
        .await
        .unwrap();
    let page = status_page(&browser, &server).await;
    assert_presented(&page, "DE/officer/olivia");
    let shot = browser
        .screenshot("browser_harness_certificate")
        .await
        .unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 0);
    browser.close().await;
}

#[tokio::test]
async fn a_browser_without_a_certificate_gets_nothing() {
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let server = StatusServer::start(&de).await.unwrap();

    let browser = Browser::without_certificate(&ca(&de), &server.origin)
        .await
        .unwrap();
    // The handshake is refused; Chromium shows its own error page (with
    // TLS 1.3 the refusal comes after the client's Finished, so the error
    // is ERR_SOCKET_NOT_CONNECTED rather than a client-certificate one).
    let _ = browser.goto(&server.url()).await;
    let page = browser.page_source().await.unwrap();
    assert!(!page.contains("s_server"), "{page}");
    assert!(!page.contains("Client certificate"), "{page}");
    assert!(page.contains("ERR_"), "an error page expected: {page}");
    // Reached and refused, not unreachable: the server says why.
    let log = server.log_text();
    assert!(
        log.contains("peer did not return a certificate"),
        "s_server log: {log}"
    );
    browser
        .screenshot("browser_harness_no_certificate")
        .await
        .unwrap();
    browser.close().await;
}

#[tokio::test]
async fn two_live_browsers_each_present_their_own() {
    let root = tempfile::tempdir().unwrap();
    let (de, fr) = (
        NodeDir::init(root.path(), "DE"),
        NodeDir::init(root.path(), "FR"),
    );
    let (olivia, olivia_pw) = bundle(&de, "officer", "olivia");
    let (anna, anna_pw) = bundle(&fr, "analyst", "anna");
    let (at_de, at_fr) = (
        StatusServer::start(&de).await.unwrap(),
        StatusServer::start(&fr).await.unwrap(),
    );
    let start = |p12: &Path, pw: &str, dir: &NodeDir, origin: &str| {
        let (p12, pw, ca, origin) = (p12.to_owned(), pw.to_owned(), ca(dir), origin.to_owned());
        async move { Browser::with_certificate(&p12, &pw, &ca, &origin).await }
    };
    let first = start(&olivia, &olivia_pw, &de, &at_de.origin)
        .await
        .unwrap();
    let second = start(&anna, &anna_pw, &fr, &at_fr.origin).await.unwrap();
    // The first browser was started before the second's origin was listed.
    for (browser, server, identity) in [
        (&first, &at_de, "DE/officer/olivia"),
        (&second, &at_fr, "FR/analyst/anna"),
    ] {
        assert_presented(&status_page(browser, server).await, identity);
    }
    first.close().await;
    second.close().await;
}
