//! The cost floor of exchange: Ed25519 sign and verify of one envelope, as
//! the issuer seals it and a receiver opens it. Compare records/s in
//! BENCHMARKS.md against these.
//!
//! cargo bench -p concord-node --bench crypto_floor

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use concord_node::crypto::RecordSigner;
use concord_node::exchange::envelope::{
    EnvelopeHeader, Record, RecordKind, SignedEnvelope, ENVELOPE_FORMAT,
};
use concord_node::exchange::records::{
    AlertCategory, AlertState, Party, RiskAlert, Severity, Subjects,
};

fn alert() -> RiskAlert {
    RiskAlert {
        id: "DE-A-1".into(),
        issuer: "DE".parse().unwrap(),
        category: AlertCategory::DiversionSuspected,
        severity: Severity::High,
        subjects: Subjects {
            parties: vec![Party {
                name: "Rosoboron Trading LLC".into(),
                aliases: vec!["ROSOBORON".into()],
                country: "RU".into(),
                address: String::new(),
            }],
            destinations: vec!["RU".into()],
            items: vec!["3A001".into()],
            shipments: vec!["HAM-2026-0042".into()],
        },
        indicators: vec!["end user changed after approval".into()],
        summary: "Consignee resells controlled FPGAs to a sanctioned end user".into(),
        issued_at_unix_ms: 1_700_000_000_000,
        expires_at_unix_ms: None,
        handling: "RESTRICTED".into(),
        version: 1,
        state: AlertState::Active,
        change_reason: String::new(),
    }
}

fn header() -> EnvelopeHeader {
    EnvelopeHeader {
        format: ENVELOPE_FORMAT,
        kind: RecordKind::Alert,
        issuer: "DE".parse().unwrap(),
        key_id: String::new(),
        seq: 1,
        record_id: "DE-A-1".into(),
        version: 1,
        issued_at_unix_ms: 1_700_000_000_000,
        recipients: ["FR", "IT", "JP", "NL"]
            .iter()
            .map(|j| j.parse().unwrap())
            .collect(),
        body_sha256: [0; 32],
        previous: None,
        expires_at_unix_ms: None,
    }
}

fn bench(c: &mut Criterion) {
    let signer = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
    let record = Record::Alert(alert());
    let sealed = SignedEnvelope::seal(&signer, header(), &record).unwrap();
    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Elements(1));
    g.bench_function("seal (encode + sha256 + ed25519 sign)", |b| {
        b.iter(|| SignedEnvelope::seal(&signer, header(), &record).unwrap())
    });
    g.bench_function("open (ed25519 verify + sha256 + decode)", |b| {
        b.iter(|| sealed.open(signer.public_key()).unwrap())
    });
    g.bench_function("ed25519 sign only", |b| {
        b.iter(|| signer.sign(&sealed.header))
    });
    g.bench_function("ed25519 verify only", |b| {
        let sig = signer.sign(&sealed.header);
        b.iter(|| concord_node::crypto::verify_signature(signer.public_key(), &sealed.header, &sig))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
