//! Reading records back: `Exchange::list` over 2,000 held alerts, each
//! checked against its issuer's signature on every read.
//!
//! cargo bench -p concord-node --bench exchange_read

use std::sync::Arc;

use concord_node::audit::AuditLog;
use concord_node::crypto::{CertificateAuthority, RecordSigner, Validity};
use concord_node::exchange::records::{AlertCategory, Severity, Subjects};
use concord_node::exchange::{AlertDraft, Distribution, Exchange, RecordFilter, RecordKind};
use concord_node::identity::{Caller, Jurisdiction, Role};
use concord_node::peers::PeerDirectory;
use concord_node::store::Store;
use concord_node::trust_bundle::TrustBundle;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const RECORDS: usize = 2_000;

fn open(store: &Store, signer: &Arc<RecordSigner>) -> Exchange {
    let de: Jurisdiction = "DE".parse().unwrap();
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), "DE").unwrap());
    let peers = Arc::new(
        PeerDirectory::open(store.clone(), de.clone())
            .unwrap()
            .audited(audit.clone()),
    );
    Exchange::open(store.clone(), de, signer.clone(), peers, audit).unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let fr: Jurisdiction = "FR".parse().unwrap();
    rt.block_on(async {
        let (ca, _) = CertificateAuthority::generate(&fr, Validity::days(1)).unwrap();
        let fr_key = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
        let bundle = TrustBundle {
            jurisdiction: fr.clone(),
            endpoint: "127.0.0.1:1".into(),
            ca_cert_pem: ca.cert_pem().into(),
            signing_public_key: fr_key.public_key().to_vec(),
            retired_signing_keys: Vec::new(),
        };
        let peers = PeerDirectory::open(store.clone(), "DE".parse().unwrap()).unwrap();
        peers.add("DE/admin/bench", bundle).await.unwrap();
    });
    // Opened after FR is registered, so it knows FR as a peer.
    let x = open(&store, &signer);
    rt.block_on(async {
        let analyst = Caller::new("DE".parse().unwrap(), Role::Analyst, "bench").unwrap();
        for i in 0..RECORDS {
            let draft = AlertDraft {
                category: AlertCategory::DiversionSuspected,
                severity: Severity::High,
                subjects: Subjects {
                    destinations: vec!["IR".into()],
                    ..Subjects::default()
                },
                indicators: vec!["end user changed after approval".into()],
                summary: format!("bench alert {i}"),
                expires_in: None,
                handling: String::new(),
            };
            let to = Distribution {
                to: vec![fr.clone()],
                groups: vec![],
            };
            x.raise_alert(&analyst, draft, to).await.unwrap();
        }
    });
    drop(x);
    let all = RecordFilter::default();
    let mut g = c.benchmark_group("exchange_read");
    g.sample_size(10);
    g.throughput(Throughput::Elements(RECORDS as u64));
    let x = open(&store, &signer);
    g.bench_function("list 2,000 alerts (verify each)", |b| {
        b.iter(|| assert_eq!(x.list(RecordKind::Alert, &all).unwrap().len(), RECORDS))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
