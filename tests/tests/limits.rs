//! Resource limits, each configurable: per-identity request rate and
//! connections, idle connections, streams per connection, request deadlines,
//! and a flood of idle or garbage connections that must not stop peers
//! exchanging records.

use std::io::Write;
use std::time::Duration;

use concord_proto::v1::{Distribution, ListRecordsRequest, RaiseAlertRequest, StatusRequest};
use concord_tests::*;

#[tokio::test]
async fn one_identity_cannot_exceed_its_request_rate() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    set_config(
        &de,
        &[
            ("requests_per_second_per_identity", 2),
            ("request_burst_per_identity", 5),
        ],
    );
    let _node = NodeProcess::start(&de).await.unwrap();
    let mut admin = Credentials::from_profile(&de.admin_profile())
        .unwrap()
        .admin()
        .await
        .unwrap();
    let mut exhausted = 0;
    for _ in 0..40 {
        if let Err(e) = admin.status(StatusRequest {}).await {
            assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
            exhausted += 1;
        }
    }
    assert!(
        exhausted >= 30,
        "only {exhausted} of 40 rapid calls were limited"
    );
    // Another identity has its own bucket.
    let other = de.issue("admin", "second");
    let mut second = Credentials::from_profile(&other)
        .unwrap()
        .admin()
        .await
        .unwrap();
    second.status(StatusRequest {}).await.unwrap();
    assert!(
        metric(
            &de,
            "concord_limits_hit_total{result=\"requests_per_second_per_identity\"}"
        ) >= 30
    );
}

#[tokio::test]
async fn one_identity_cannot_hold_more_than_its_connections() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    set_config(&de, &[("max_connections_per_identity", 3)]);
    let _node = NodeProcess::start(&de).await.unwrap();
    let creds = Credentials::from_profile(&de.admin_profile()).unwrap();
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut c = creds.admin().await.unwrap();
        c.status(StatusRequest {}).await.unwrap();
        held.push(c);
    }
    let fourth = async {
        let mut c = creds.admin().await?;
        anyhow::Ok(c.status(StatusRequest {}).await?)
    }
    .await;
    assert!(
        fourth.is_err(),
        "a fourth connection of the same identity was served"
    );
    // Another identity is unaffected; and once one is closed, the identity may connect again.
    let other = Credentials::from_profile(&de.issue("admin", "other")).unwrap();
    other
        .admin()
        .await
        .unwrap()
        .status(StatusRequest {})
        .await
        .unwrap();
    drop(held.pop());
    eventually("a freed connection slot", || async {
        let mut c = creds.admin().await?;
        c.status(StatusRequest {}).await?;
        Ok(())
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn idle_and_garbage_connections_do_not_stop_the_exchange() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    set_config(
        &de,
        &[
            ("max_pending_handshakes", 32),
            ("handshake_timeout_ms", 3000),
        ],
    );
    let _de_node = NodeProcess::start(&de).await.unwrap();
    let _fr_node = NodeProcess::start(&fr).await.unwrap();
    add_peer(&de, &fr).await.unwrap();
    add_peer(&fr, &de).await.unwrap();
    wait_links(&de, &["FR"]).await.unwrap();
    wait_links(&fr, &["DE"]).await.unwrap();
    // Users' connections opened before the flood.
    let mut de_analyst = exchange_client(&de.issue("analyst", "a")).await.unwrap();
    let mut fr_analyst = exchange_client(&fr.issue("analyst", "b")).await.unwrap();
    de_analyst
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap();
    fr_analyst
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap();

    // 300 idle TCP connections that never start TLS, and 30 streaming garbage.
    let mut flood = Vec::new();
    for i in 0..330 {
        if let Ok(mut s) = std::net::TcpStream::connect(&de.endpoint) {
            if i >= 300 {
                let _ = s.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff]);
                let _ = s.write_all(&vec![0xAB; 4096]);
            }
            flood.push(s);
        }
    }
    assert!(
        flood.len() >= 300,
        "could not open the flood: {}",
        flood.len()
    );

    let alert = |to: &str, summary: &str| RaiseAlertRequest {
        category: "other".into(),
        severity: "low".into(),
        summary: summary.into(),
        distribution: Some(Distribution {
            to: vec![to.into()],
            groups: vec![],
        }),
        ..Default::default()
    };
    let a = de_analyst
        .raise_alert(alert("FR", "during the flood, DE to FR"))
        .await
        .unwrap()
        .into_inner();
    let b = fr_analyst
        .raise_alert(alert("DE", "during the flood, FR to DE"))
        .await
        .unwrap()
        .into_inner();
    eventually("both alerts delivered during the flood", || {
        let (mut de_analyst, mut fr_analyst, a, b) = (
            de_analyst.clone(),
            fr_analyst.clone(),
            a.id.clone(),
            b.id.clone(),
        );
        async move {
            let at_fr = fr_analyst
                .list_alerts(ListRecordsRequest::default())
                .await?
                .into_inner()
                .records;
            let at_de = de_analyst
                .list_alerts(ListRecordsRequest::default())
                .await?
                .into_inner()
                .records;
            anyhow::ensure!(at_fr.iter().any(|r| r.id == a), "DE's alert not at FR yet");
            anyhow::ensure!(at_de.iter().any(|r| r.id == b), "FR's alert not at DE yet");
            Ok(())
        }
    })
    .await
    .unwrap();
    drop(flood);
    // After the flood's handshakes time out, new clients are served again.
    tokio::time::timeout(Duration::from_secs(60), async {
        eventually("new connections served after the flood", || async {
            status_of(&de.admin_profile()).await.map(|_| ())
        })
        .await
    })
    .await
    .unwrap()
    .unwrap();
}

/// A TLS connection that completes its handshake with `creds` and then
/// says nothing at all (not even the HTTP/2 preface).
async fn silent_tls(creds: &Credentials) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(creds.ca_pem.as_bytes()) {
        roots.add(ca.unwrap()).unwrap();
    }
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(creds.cert_pem.as_bytes())
            .map(|c| c.unwrap())
            .collect();
    let key = PrivateKeyDer::from_pem_slice(creds.key_pem.as_bytes()).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(&creds.endpoint)
        .await
        .unwrap();
    let host = creds.endpoint.rsplit_once(':').unwrap().0.to_owned();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(ServerName::try_from(host).unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_silent_connection_is_closed_but_a_quiet_stream_is_kept_alive() {
    use concord_proto::v1::WatchRequest;
    use tokio::io::AsyncReadExt;

    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    set_config(
        &de,
        &[
            ("max_connections_per_identity", 1),
            ("idle_timeout_ms", 3000),
            ("keepalive_interval_ms", 400),
            ("keepalive_timeout_ms", 3000),
        ],
    );
    let _node = NodeProcess::start(&de).await.unwrap();
    let admin = Credentials::from_profile(&de.admin_profile()).unwrap();

    // A client that authenticates and then says nothing holds the admin's
    // only connection slot until the node closes it as idle. On a loaded
    // machine the idle timer can fire before the second connection is even
    // tried; only a second connection served while the silent one is still
    // open is a failure, so a silent connection found closed is retried.
    let mut buf = [0u8; 1024];
    let mut held = None;
    for _ in 0..5 {
        let mut silent = silent_tls(&admin).await;
        if status_of(&de.admin_profile()).await.is_err() {
            held = Some(silent);
            break;
        }
        let still_open = tokio::time::timeout(Duration::from_millis(200), async {
            loop {
                match silent.read(&mut buf).await {
                    Ok(0) | Err(_) => return false,
                    Ok(_) => continue,
                }
            }
        })
        .await
        .unwrap_or(true);
        assert!(
            !still_open,
            "a second admin connection was served while the silent one held the only slot"
        );
    }
    let mut silent = held.expect("the silent connection never held the admin's slot");
    let closed = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            // The server's HTTP/2 settings and pings arrive, then the close.
            match silent.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the node kept a silent connection open");
    eventually("the admin's slot freed", || async {
        status_of(&de.admin_profile()).await.map(|_| ())
    })
    .await
    .unwrap();

    // A watch stream with nothing to say for several idle timeouts stays
    // open: its client answers the node's keepalive pings.
    let analyst = de.issue("analyst", "ana");
    let mut watcher = exchange_client(&analyst).await.unwrap();
    let mut stream = watcher
        .watch_alerts(WatchRequest {})
        .await
        .unwrap()
        .into_inner();
    tokio::time::sleep(Duration::from_millis(7000)).await;
    let mut raiser = exchange_client(&de.issue("analyst", "raiser"))
        .await
        .unwrap();
    let raised = raiser
        .raise_alert(RaiseAlertRequest {
            category: "other".into(),
            severity: "low".into(),
            summary: "after a quiet spell".into(),
            distribution: Some(Distribution {
                to: vec!["DE".into()],
                groups: vec![],
            }),
            ..Default::default()
        })
        .await;
    // DE names only itself: refused (nobody to send to) or accepted, the
    // watch stream must still be open either way.
    if let Ok(raised) = raised {
        let seen = tokio::time::timeout(Duration::from_secs(30), stream.message())
            .await
            .expect("the quiet watch stream saw nothing")
            .expect("the quiet watch stream was closed")
            .expect("the quiet watch stream ended");
        assert_eq!(seen.id, raised.into_inner().id);
    } else {
        let still_open = tokio::time::timeout(Duration::from_millis(500), stream.message()).await;
        assert!(
            still_open.is_err(),
            "the quiet watch stream ended: {still_open:?}"
        );
    }
}

#[tokio::test]
async fn streams_per_connection_and_request_deadlines_are_bounded() {
    use concord_proto::v1::import_list_request::Part;
    use concord_proto::v1::screening_service_client::ScreeningServiceClient;
    use concord_proto::v1::{ImportHeader, ImportListRequest, WatchRequest};

    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    set_config(
        &de,
        &[("max_concurrent_streams", 2), ("request_timeout_ms", 3000)],
    );
    let _node = NodeProcess::start(&de).await.unwrap();
    let analyst = de.issue("analyst", "ana");

    // Two open watch streams fill one connection; a third call on it waits
    // for a stream to end instead of adding to the node's load.
    let channel = Credentials::from_profile(&analyst)
        .unwrap()
        .channel(true)
        .await
        .unwrap();
    let mut client =
        concord_proto::v1::exchange_service_client::ExchangeServiceClient::new(channel.clone());
    let first = client
        .watch_alerts(WatchRequest {})
        .await
        .unwrap()
        .into_inner();
    let _second = client
        .watch_alerts(WatchRequest {})
        .await
        .unwrap()
        .into_inner();
    let mut third = client.clone();
    let mut listing =
        Box::pin(async move { third.list_alerts(ListRecordsRequest::default()).await });
    let waited = tokio::time::timeout(Duration::from_secs(2), &mut listing).await;
    assert!(waited.is_err(), "a third stream was served: {waited:?}");
    drop(first);
    let listed = tokio::time::timeout(Duration::from_secs(30), listing)
        .await
        .expect("the third call never ran after a stream closed");
    assert!(listed.is_ok(), "{listed:?}");

    // An import whose client never finishes sending is cut at the deadline.
    let mut screening = ScreeningServiceClient::new(
        Credentials::from_profile(&de.admin_profile())
            .unwrap()
            .channel(true)
            .await
            .unwrap(),
    );
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(ImportListRequest {
        part: Some(Part::Header(ImportHeader {
            list: "stalled".into(),
            format: "jsonl".into(),
        })),
    })
    .await
    .unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        screening.import_list(tokio_stream::wrappers::ReceiverStream::new(rx)),
    )
    .await
    .expect("the stalled import was never cut off");
    let err = outcome.unwrap_err();
    assert!(
        matches!(
            err.code(),
            tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
        ),
        "{err:?}"
    );
    drop(tx);
    // The node itself is fine.
    status_of(&de.admin_profile()).await.unwrap();
}

/// A TCP connection to `to` from the loopback address `source` (Linux
/// routes all of 127/8 to `lo`), so one test can be several clients.
async fn connect_from(source: &str, to: &str) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(
        format!("{source}:0")
            .parse()
            .map_err(std::io::Error::other)?,
    )?;
    socket
        .connect(to.parse().map_err(std::io::Error::other)?)
        .await
}

fn limits_hit(dir: &NodeDir, limit: &str) -> u64 {
    metric(
        dir,
        &format!("concord_limits_hit_total{{result=\"{limit}\"}}"),
    )
}

#[tokio::test]
async fn idle_connections_from_one_address_cannot_starve_the_others() {
    use tokio::io::AsyncReadExt;

    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    // The whole-handshake deadline outlasts the test: a flood the node
    // waited out would starve the admin here. Only the per-address bound
    // and the ClientHello deadline (default) can keep the node serving.
    set_config(
        &de,
        &[
            ("max_pending_handshakes", 64),
            ("max_pending_handshakes_per_address", 8),
            ("handshake_timeout_ms", 600_000),
        ],
    );
    let node = NodeProcess::start(&de).await.unwrap();

    // 300 TCP connections from 127.0.0.2 that never start TLS. A node that
    // stops accepting while handshakes are pending lets its listen queue
    // fill: the connection it cannot take ends the flood.
    const FLOOD: u64 = 300;
    let mut flood = Vec::new();
    for _ in 0..FLOOD {
        match tokio::time::timeout(patience(), connect_from("127.0.0.2", &de.endpoint)).await {
            Ok(Ok(s)) => flood.push(s),
            _ => break,
        }
    }
    // The admin, from 127.0.0.1, is served while they are open.
    let status = status_of(&de.admin_profile()).await;
    assert!(
        status.is_ok(),
        "the admin was not served during a flood of {} connections: {status:?}",
        flood.len()
    );
    assert_eq!(flood.len() as u64, FLOOD, "the node's listen queue filled");

    // Every flood connection is closed by the node: at once over the
    // per-address bound, or at the ClientHello deadline.
    let mut buf = [0u8; 64];
    for (i, s) in flood.iter_mut().enumerate() {
        let read = tokio::time::timeout(patience(), s.read(&mut buf)).await;
        assert!(
            matches!(read, Ok(Ok(0)) | Ok(Err(_))),
            "flood connection {i} still open: {read:?}"
        );
    }
    eventually("every flood connection counted", || async {
        let per_address = limits_hit(&de, "max_pending_handshakes_per_address");
        let no_hello = limits_hit(&de, "tls_start_timeout");
        anyhow::ensure!(
            per_address + no_hello == FLOOD,
            "{per_address} refused per address, {no_hello} without ClientHello"
        );
        anyhow::ensure!(per_address > 0 && no_hello > 0);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(limits_hit(&de, "max_pending_handshakes"), 0);
    // Logged, but not once per refused connection.
    let lines = node
        .log_text()
        .lines()
        .filter(|l| l.contains("from one address"))
        .count();
    assert!(
        (1..=5).contains(&lines),
        "{lines} log lines for {FLOOD} refusals"
    );
    status_of(&de.admin_profile()).await.unwrap();
}

/// Credentials for `target` with a certificate for `concord://<issuer>/node/<name>`
/// minted by the issuer's own CA, as a partner's CA could mint any number.
fn minted(issuer: &NodeDir, target: &NodeDir, name: &str) -> Credentials {
    use concord_node::crypto::{CertificateAuthority, Validity};
    use concord_node::identity::{Caller, Role};
    let ca =
        CertificateAuthority::from_pem(&issuer.read("ca.crt"), &issuer.read("ca.key")).unwrap();
    let identity = Caller::new(issuer.code.parse().unwrap(), Role::Node, name).unwrap();
    let cert = ca.issue(&identity, &[], Validity::days(1)).unwrap();
    Credentials {
        endpoint: target.endpoint.clone(),
        ca_pem: target.read("ca.crt"),
        cert_pem: cert.cert_pem,
        key_pem: cert.key_pem,
    }
}

#[tokio::test]
async fn partners_minting_names_cannot_take_the_own_jurisdictions_connections() {
    init();
    let root = tempfile::tempdir().unwrap();
    let de = NodeDir::init(root.path(), "DE");
    let fr = NodeDir::init(root.path(), "FR");
    let jp = NodeDir::init(root.path(), "JP");
    set_config(
        &de,
        &[
            ("max_connections", 30),
            ("max_connections_per_jurisdiction", 10),
            ("reserved_connections_own_jurisdiction", 12),
        ],
    );
    let node = NodeProcess::start(&de).await.unwrap();
    add_peer(&de, &fr).await.unwrap();
    add_peer(&de, &jp).await.unwrap();

    // Each partner's CA mints five node identities and holds four
    // connections with each: 20 per partner, well within the per-identity
    // cap. FR goes first, then JP, each once the node has decided on every
    // connection of the one before.
    let mut held = Vec::new();
    let handshakes = || metric(&de, "concord_tls_handshakes_total{result=\"ok\"}");
    for partner in [&fr, &jp] {
        let before = handshakes();
        for name in ["m0", "m1", "m2", "m3", "m4"] {
            let creds = minted(partner, &de, name);
            for _ in 0..4 {
                held.push(silent_tls(&creds).await);
            }
        }
        eventually("the node to decide on every connection", || async {
            let n = handshakes() - before;
            anyhow::ensure!(n >= 20, "{n} of 20 decided");
            Ok(())
        })
        .await
        .unwrap();
    }

    // With 40 foreign connections attempted, DE's own people are served.
    let status = status_of(&de.admin_profile()).await;
    assert!(status.is_ok(), "DE's admin refused: {status:?}");
    exchange_client(&de.issue("analyst", "ana"))
        .await
        .unwrap()
        .list_alerts(ListRecordsRequest::default())
        .await
        .unwrap();
    // FR was held to its jurisdiction's share (10 of 20); JP to what the
    // own jurisdiction's reserve leaves: 30 - 12 - FR's 10 = 8 of 20.
    assert_eq!(limits_hit(&de, "max_connections_per_jurisdiction"), 10);
    assert_eq!(limits_hit(&de, "reserved_connections_own_jurisdiction"), 12);
    assert_eq!(limits_hit(&de, "max_connections"), 0);
    let log = node.log_text();
    assert!(
        log.contains("per-jurisdiction connection limit reached")
            && log.contains("reserved for the own jurisdiction"),
        "refusals not logged:\n{log}"
    );
    drop(held);
}
