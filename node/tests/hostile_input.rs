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
use concord_node::exchange::records::{AlertCategory, RiskAlert, Severity, Subjects};
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
    SignedEnvelope::seal(s, header, &Record::Alert(alert))
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

/// Replays the saved fuzzing corpus — seeds, inputs AFL found that reach new
/// code, and any crashing input a fuzzing run found (copy it into
/// `tests/fuzz_regressions/<target>/`) — through the same entry points as
/// the targets in fuzz/, on every CI run.
#[test]
fn the_saved_fuzzing_corpus_replays_without_panicking() {
    use concord_node::screening::formats::{self, Format, OfacFiles};
    use concord_node::screening::{
        normalize, score, Filter, IndexedEntry, ListIndex, PreparedQuery,
    };

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut replayed = 0;
    for target in [
        "envelope",
        "trust_bundle",
        "node_config",
        "watchlist_import",
        "name_normalize",
    ] {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no saved inputs for {target}");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            match target {
                "envelope" => {
                    let key = [7u8; 32];
                    let a = data.len() / 3;
                    let e = SignedEnvelope {
                        header: data[..a].to_vec(),
                        body: data[a..2 * a].to_vec(),
                        signature: data[2 * a..].to_vec(),
                    };
                    let _ = e.peek_header();
                    assert!(e.open(&key).is_err(), "{}", file.display());
                    let receipt = SignedReceipt {
                        body: data.clone(),
                        signature: vec![0; 64],
                    };
                    assert!(receipt.verify(&key).is_err());
                    let _ = Checkpoint::from_bytes(&data);
                }
                "trust_bundle" => {
                    if let Ok(text) = std::str::from_utf8(&data) {
                        let _ = TrustBundle::from_toml(text);
                    }
                }
                "node_config" => {
                    let _ = Caller::from_cert_der(&data);
                    if let Ok(text) = std::str::from_utf8(&data) {
                        let _ = Caller::from_uri(text);
                        if let Ok(file) = toml::from_str::<ConfigFile>(text) {
                            let _ =
                                NodeConfig::check(file, Path::new("/x/node.toml"), Path::new("/x"));
                        }
                    }
                }
                "watchlist_import" => {
                    let Some((&selector, rest)) = data.split_first() else {
                        continue;
                    };
                    let parsed = match selector % 4 {
                        0 => {
                            let mut parts = rest.splitn(3, |b| *b == 0xFF);
                            let files = OfacFiles {
                                primary: (
                                    "sdn.csv".into(),
                                    parts.next().unwrap_or_default().to_vec(),
                                ),
                                aliases: parts.next().map(|p| ("alt.csv".into(), p.to_vec())),
                                addresses: parts.next().map(|p| ("add.csv".into(), p.to_vec())),
                            };
                            formats::parse_ofac(&files)
                        }
                        1 => formats::parse(Format::BisDpl, "dpl.txt", rest),
                        2 => formats::parse(Format::CslCsv, "csl.csv", rest),
                        _ => formats::parse(Format::Jsonl, "list.jsonl", rest),
                    };
                    assert!(parsed.malformed.iter().all(|m| m.line >= 1));
                    let probe = parsed
                        .entries
                        .first()
                        .map(|e| e.name.clone())
                        .unwrap_or_default();
                    let entries = parsed
                        .entries
                        .into_iter()
                        .map(|entry| IndexedEntry {
                            entry,
                            expires_at_unix_ms: None,
                        })
                        .collect();
                    let index = ListIndex::build("replay", entries);
                    let filter = Filter {
                        countries: &[],
                        now_unix_ms: 0,
                    };
                    for hit in index.search(&PreparedQuery::new(&probe), 5, 0.0, &filter) {
                        assert!((0.0..=1.0).contains(&hit.alignment.score));
                    }
                }
                _ => {
                    let Ok(text) = std::str::from_utf8(&data) else {
                        continue;
                    };
                    let (a, b) = text.split_once('\n').unwrap_or((text, text));
                    for name in [a, b] {
                        let _ = normalize::tokens(name);
                        let _ = normalize::canonical(name);
                        let _ = normalize::spelling(name);
                        for word in normalize::fold(name).split_whitespace() {
                            let _ = normalize::skeleton(word);
                        }
                    }
                    let s = score::score_names(a, b);
                    assert!((0.0..=1.0).contains(&s), "{}: {s}", file.display());
                }
            }
            replayed += 1;
        }
    }
    assert!(replayed >= 50, "only {replayed} inputs replayed");
}
