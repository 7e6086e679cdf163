//! Chaos: five real node processes, a TCP proxy on every directed link,
//! analysts raising alerts with random distributions at random nodes while
//! the harness SIGKILLs and restarts nodes and cuts and restores links. After
//! healing, every acknowledged alert is held by exactly its issuer and its
//! recipients, once, with a valid signature; no node holds an alert that does
//! not name it; every audit chain verifies.
//!
//! Seeded: the seed is printed; `CONCORD_CHAOS_SEED=<seed>` replays the same
//! schedule of faults and distributions (timing-dependent interleavings aside).
//! `CONCORD_CHAOS_SECS` sets the duration (default 40 s; run longer by hand).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use concord_proto::v1::{
    AddPeerRequest, AuditVerifyRequest, Distribution, ListRecordsRequest, RaiseAlertRequest,
};
use concord_tests::proxy::LinkProxy;
use concord_tests::*;

const CODES: [&str; 5] = ["DE", "FR", "IT", "JP", "NL"];

/// SplitMix64: a fixed, dependency-free generator so a seed means the same
/// schedule on every machine and every version of the test's dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_federation_converges_under_crashes_and_cut_links() {
    init();
    let seed = env_u64("CONCORD_CHAOS_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let secs = env_u64("CONCORD_CHAOS_SECS").unwrap_or(40);
    println!("chaos seed {seed}; rerun with CONCORD_CHAOS_SEED={seed}; duration {secs} s");
    let mut rng = Rng(seed);

    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<NodeDir> = CODES
        .iter()
        .map(|c| NodeDir::init(root.path(), c))
        .collect();
    let mut nodes: Vec<Option<NodeProcess>> = Vec::new();
    for d in &dirs {
        nodes.push(Some(NodeProcess::start(d).await.unwrap()));
    }
    // Node a reaches node b only through proxy (a, b).
    let mut proxies: HashMap<(usize, usize), LinkProxy> = HashMap::new();
    for a in 0..CODES.len() {
        for b in (0..CODES.len()).filter(|b| *b != a) {
            let target = dirs[b].endpoint.parse().unwrap();
            proxies.insert((a, b), LinkProxy::start(target).await.unwrap());
        }
    }
    for a in 0..CODES.len() {
        let mut admin = Credentials::from_profile(&dirs[a].admin_profile())
            .unwrap()
            .admin()
            .await
            .unwrap();
        for b in (0..CODES.len()).filter(|b| *b != a) {
            let mut bundle = trust_bundle(&dirs[b]).unwrap();
            bundle.endpoint = proxies[&(a, b)].addr.to_string();
            admin
                .add_peer(AddPeerRequest {
                    trust: Some(bundle),
                })
                .await
                .unwrap();
        }
    }
    let analysts: Vec<_> = dirs.iter().map(|d| d.issue("analyst", "chaos")).collect();
    for (a, d) in dirs.iter().enumerate() {
        let others: Vec<&str> = CODES
            .iter()
            .enumerate()
            .filter(|(b, _)| *b != a)
            .map(|(_, c)| *c)
            .collect();
        wait_links(d, &others).await.unwrap();
    }

    // Analysts raise continuously at every node while faults are injected, so
    // kills land in the middle of raises, pushes and receives.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for (issuer, profile) in analysts.iter().enumerate() {
        let (profile, stop) = (profile.clone(), stop.clone());
        let mut wrng = Rng(seed ^ (issuer as u64 + 1).wrapping_mul(0x9E37_79B9));
        workers.push(tokio::spawn(async move {
            // (id, issuer index, recipient indices) of every alert whose raise was acknowledged.
            let mut acked: Vec<(String, usize, Vec<usize>)> = Vec::new();
            let mut attempts = 0u64;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let mask = 1 + wrng.below((1 << (CODES.len() - 1)) - 1);
                let others: Vec<usize> = (0..CODES.len()).filter(|b| *b != issuer).collect();
                let recipients: Vec<usize> = others
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| mask & (1 << k) != 0)
                    .map(|(_, b)| *b)
                    .collect();
                let request = RaiseAlertRequest {
                    category: "suspicious-shipment".into(),
                    severity: "medium".into(),
                    summary: format!("chaos alert {issuer}/{attempts}"),
                    distribution: Some(Distribution {
                        to: recipients.iter().map(|r| CODES[*r].to_owned()).collect(),
                        groups: vec![],
                    }),
                    ..Default::default()
                };
                attempts += 1;
                let raised = async {
                    let mut client = exchange_client(&profile).await?;
                    anyhow::Ok(client.raise_alert(request).await?.into_inner())
                };
                match tokio::time::timeout(Duration::from_secs(5), raised).await {
                    Ok(Ok(v)) => acked.push((v.id, issuer, recipients)),
                    // The node is down: back off a little instead of spinning.
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            (acked, attempts)
        }));
    }
    let (mut kills, mut cuts) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        let up: Vec<usize> = (0..CODES.len()).filter(|i| nodes[*i].is_some()).collect();
        let down: Vec<usize> = (0..CODES.len()).filter(|i| nodes[*i].is_none()).collect();
        match rng.below(10) {
            0..=1 if down.len() < 2 => {
                let i = up[rng.below(up.len())];
                if let Some(n) = nodes[i].take() {
                    n.kill();
                    kills += 1;
                }
            }
            2..=4 if !down.is_empty() => {
                let i = down[rng.below(down.len())];
                nodes[i] = Some(NodeProcess::start(&dirs[i]).await.unwrap());
            }
            5..=6 => {
                let keys: Vec<_> = proxies.keys().copied().collect();
                let k = keys[rng.below(keys.len())];
                proxies[&k].cut();
                cuts += 1;
            }
            _ => {
                let cut: Vec<_> = proxies
                    .iter()
                    .filter(|(_, p)| p.is_cut())
                    .map(|(k, _)| *k)
                    .collect();
                if !cut.is_empty() {
                    proxies[&cut[rng.below(cut.len())]].restore();
                }
            }
        }
        // Pacing only: lets raises and deliveries happen between faults.
        tokio::time::sleep(Duration::from_millis(100 + rng.below(300) as u64)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut acked = Vec::new();
    let mut attempts = 0;
    for w in workers {
        let (a, n) = w.await.unwrap();
        acked.extend(a);
        attempts += n;
    }
    println!(
        "chaos: {attempts} raises attempted, {} acknowledged, {kills} kills, {cuts} link cuts",
        acked.len()
    );
    assert!(
        acked.len() > 20,
        "too few acknowledged raises to mean anything: {}",
        acked.len()
    );

    // Heal.
    for p in proxies.values() {
        p.restore();
    }
    for i in 0..CODES.len() {
        if nodes[i].is_none() {
            nodes[i] = Some(NodeProcess::start(&dirs[i]).await.unwrap());
        }
    }
    for d in &dirs {
        eventually(&format!("{}'s outboxes to drain", d.code), || async move {
            let s = status_of(&d.admin_profile()).await?;
            let pending: u64 = s.peers.iter().map(|p| p.outbox_pending).sum();
            anyhow::ensure!(pending == 0, "{pending} records still queued at {}", d.code);
            Ok(())
        })
        .await
        .unwrap();
    }

    // Check.
    let mut held: Vec<HashSet<String>> = Vec::new();
    for (n, d) in dirs.iter().enumerate() {
        let mut client = exchange_client(&analysts[n]).await.unwrap();
        // Paged: a long run holds more than one response may carry.
        let mut list = Vec::new();
        let mut request = ListRecordsRequest {
            page_size: 1000,
            ..ListRecordsRequest::default()
        };
        loop {
            let page = client
                .list_alerts(request.clone())
                .await
                .unwrap()
                .into_inner();
            list.extend(page.records);
            if page.next_page_token.is_empty() {
                break;
            }
            request.page_token = page.next_page_token;
        }
        let mut ids = HashSet::new();
        for r in &list {
            assert!(
                r.signature_valid,
                "{} holds {} with an invalid signature: {}",
                d.code, r.id, r.signature_error
            );
            assert!(
                r.issuer == d.code || r.recipients.iter().any(|x| x == &d.code),
                "{} holds {} which names only {:?} (seed {seed})",
                d.code,
                r.id,
                r.recipients
            );
            assert!(
                ids.insert(r.id.clone()),
                "{} holds {} twice (seed {seed})",
                d.code,
                r.id
            );
        }
        held.push(ids);
        let mut admin = Credentials::from_profile(&d.admin_profile())
            .unwrap()
            .admin()
            .await
            .unwrap();
        let verified = admin
            .audit_verify(AuditVerifyRequest {
                with_witnesses: false,
                with_records: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            verified.ok,
            "{} audit chain broken at {}: {} (seed {seed})",
            d.code, verified.first_broken_seq, verified.reason
        );
        // Every restart re-announced every node's bundle to peers that reach
        // it through relays: unchanged keys never rewrite anyone's trust.
        let updates = audit_entries(&d.admin_profile())
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "peer.update")
            .count();
        assert_eq!(
            updates, 0,
            "{} rewrote a peer's trust (seed {seed})",
            d.code
        );
    }
    for (id, issuer, recipients) in &acked {
        for n in 0..CODES.len() {
            let expected = n == *issuer || recipients.contains(&n);
            assert_eq!(
                held[n].contains(id),
                expected,
                "{id} issued by {} to {:?}: held at {}? (seed {seed})",
                CODES[*issuer],
                recipients,
                CODES[n]
            );
        }
    }
}
