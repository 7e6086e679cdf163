//! Hostile input never panics: every decoder a peer or a file can reach is
//! driven with arbitrary bytes and with small mutations of valid input, and
//! must return an error or a value — never crash. (Coverage-guided fuzzing of
//! the same entry points is in fuzz/; these run in every CI build.)

use std::path::Path;

use concord_node::audit::Checkpoint;
use concord_node::config::{ConfigFile, NodeConfig};
use concord_node::crypto::RecordSigner;
use concord_node::exchange::envelope::{
    EnvelopeHeader, Record, RecordKind, SignedEnvelope, SignedReceipt, ENVELOPE_FORMAT,
};
use concord_node::exchange::records::{AlertCategory, AlertState, RiskAlert, Severity, Subjects};
use concord_node::identity::Caller;
use concord_node::trust_bundle::TrustBundle;
use proptest::prelude::*;

fn signer() -> RecordSigner {
    RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap()
}

fn sealed(s: &RecordSigner) -> SignedEnvelope {
    let alert = RiskAlert {
        id: "DE-A-1".into(),
        issuer: "DE".parse().unwrap(),
        category: AlertCategory::Other,
        severity: Severity::Low,
        subjects: Subjects::default(),
        indicators: vec!["x".into()],
        summary: "s".into(),
        issued_at_unix_ms: 1,
        expires_at_unix_ms: None,
        handling: String::new(),
        version: 1,
        state: AlertState::Active,
        change_reason: String::new(),
    };
    let header = EnvelopeHeader {
        format: ENVELOPE_FORMAT,
        kind: RecordKind::Alert,
        issuer: "DE".parse().unwrap(),
        key_id: String::new(),
        seq: 1,
        record_id: "DE-A-1".into(),
        version: 1,
        issued_at_unix_ms: 1,
        recipients: vec!["FR".parse().unwrap()],
        body_sha256: [0; 32],
        previous: None,
        expires_at_unix_ms: None,
    };
    SignedEnvelope::seal(s, header, &Record::Alert(alert)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_envelopes_are_refused_without_panicking(header: Vec<u8>, body: Vec<u8>, signature: Vec<u8>) {
        let s = signer();
        let e = SignedEnvelope { header, body, signature };
        let _ = e.peek_header();
        prop_assert!(e.open(s.public_key()).is_err());
    }

    #[test]
    fn mutated_envelopes_never_verify(pos in any::<prop::sample::Index>(), bit in 0u8..8, part in 0usize..3) {
        let s = signer();
        let mut e = sealed(&s);
        let target = match part { 0 => &mut e.header, 1 => &mut e.body, _ => &mut e.signature };
        let i = pos.index(target.len());
        target[i] ^= 1 << bit;
        prop_assert!(e.open(s.public_key()).is_err());
    }

    #[test]
    fn arbitrary_receipts_and_checkpoints_are_refused(body: Vec<u8>, signature: Vec<u8>, bytes: Vec<u8>) {
        let s = signer();
        let receipt = SignedReceipt { body, signature };
        prop_assert!(receipt.verify(s.public_key()).is_err());
        if let Ok(c) = Checkpoint::from_bytes(&bytes) {
            prop_assert!(c.verify(s.public_key(), "DE").is_err());
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_parsers(text in ".{0,400}") {
        let _ = TrustBundle::from_toml(&text);
        let _ = Caller::from_uri(&text);
        if let Ok(file) = toml::from_str::<ConfigFile>(&text) {
            let _ = NodeConfig::check(file, Path::new("/x/node.toml"), Path::new("/x"));
        }
    }

    #[test]
    fn arbitrary_certificates_have_no_identity(der: Vec<u8>) {
        prop_assert!(Caller::from_cert_der(&der).is_err());
    }
}

#[path = "../../fuzz/src/entry_points.rs"]
mod entry_points;

/// Replays the saved fuzzing corpus — seeds, inputs AFL found that reach new
/// code, and any crashing input a fuzzing run found (copy it into
/// `tests/fuzz_regressions/<target>/`) — through the same entry points as
/// the targets in fuzz/, on every CI run.
#[test]
fn the_saved_fuzzing_corpus_replays_without_panicking() {
    type Drive = fn(&[u8]);
    let targets: [(&str, Drive); 5] = [
        ("envelope", entry_points::envelope),
        ("trust_bundle", entry_points::trust_bundle),
        ("node_config", entry_points::node_config),
        ("watchlist_import", entry_points::watchlist_import),
        ("name_normalize", entry_points::name_normalize),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut replayed = 0;
    for (target, drive) in targets {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no saved inputs for {target}");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| drive(&data));
            assert!(outcome.is_ok(), "{target}: {} panicked", file.display());
            replayed += 1;
        }
    }
    assert!(replayed >= 50, "only {replayed} inputs replayed");
}
