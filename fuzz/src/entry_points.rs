//! What each fuzz target drives, one function per target. Shared by the AFL
//! targets in `fuzz/src/bin` and by `node/tests/hostile_input.rs`, which
//! replays the saved corpus (`node/tests/fuzz_regressions/<target>/`)
//! through the very same code on every CI run.
#![allow(dead_code)] // each fuzz binary uses one of these

use std::path::Path;

use concord_node::exchange::envelope::{SignedEnvelope, SignedReceipt};
use concord_node::screening::formats::{self, Format, OfacFiles};
use concord_node::screening::{normalize, score, Filter, IndexedEntry, ListIndex, PreparedQuery};

/// Envelope decoding and verification, as a receiver runs it on pushed
/// bytes; receipts and audit checkpoints too. Nothing made up verifies.
pub fn envelope(data: &[u8]) {
    const KEY: [u8; 32] = [7; 32];
    // Split the input into the three parts a Push message carries.
    let a = data.len() / 3;
    let e = SignedEnvelope {
        header: data[..a].to_vec(),
        body: data[a..2 * a].to_vec(),
        signature: data[2 * a..].to_vec(),
    };
    let _ = e.peek_header();
    assert!(e.open(&KEY).is_err(), "a made-up envelope verified");
    let _ = e.digest();
    let receipt = SignedReceipt {
        body: data.to_vec(),
        signature: vec![0; 64],
    };
    assert!(receipt.verify(&KEY).is_err(), "a made-up receipt verified");
    let _ = concord_node::audit::Checkpoint::from_bytes(data);
}

/// Trust bundle files as `concord peer add --trust` reads them.
pub fn trust_bundle(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = concord_node::trust_bundle::TrustBundle::from_toml(text);
    }
}

/// node.toml parsing and checking, and identity URIs and certificates.
pub fn node_config(data: &[u8]) {
    let _ = concord_node::identity::Caller::from_cert_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = concord_node::identity::Caller::from_uri(text);
        if let Ok(file) = toml::from_str::<concord_node::config::ConfigFile>(text) {
            let _ = concord_node::config::NodeConfig::check(
                file,
                Path::new("/x/node.toml"),
                Path::new("/x"),
            );
        }
    }
}

/// Every watchlist import parser (`concord screen import --format ...`): the
/// first byte picks the format, the rest is the file. OFAC folders get up to
/// three files, split on a 0xFF byte. Parsed entries are then indexed and
/// searched, so what a hostile list file produces is exercised end to end.
pub fn watchlist_import(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let parsed = match selector % 8 {
        0 => {
            let mut parts = rest.splitn(3, |b| *b == 0xFF);
            let primary = parts.next().unwrap_or_default().to_vec();
            let files = OfacFiles {
                primary: ("sdn.csv".into(), primary),
                aliases: parts.next().map(|p| ("alt.csv".into(), p.to_vec())),
                addresses: parts.next().map(|p| ("add.csv".into(), p.to_vec())),
            };
            formats::parse_ofac(&files)
        }
        1 => formats::parse(Format::BisDpl, "dpl.txt", rest),
        2 => formats::parse(Format::CslCsv, "csl.csv", rest),
        3 => formats::parse(Format::Jsonl, "list.jsonl", rest),
        4 => formats::parse(Format::UnXml, "consolidated.xml", rest),
        5 => formats::parse(Format::EuFsf, "fsf.xml", rest),
        6 => formats::parse(Format::UkOfsi, "conlist.csv", rest),
        _ => formats::parse(Format::Ftm, "entities.ftm.json", rest),
    };
    for m in &parsed.malformed {
        assert!(
            m.line >= 1,
            "malformed rows are reported with a line number"
        );
    }
    let probe = parsed
        .entries
        .first()
        .map(|e| e.name.clone())
        .unwrap_or_default();
    let entries = parsed.entries.into_iter().map(IndexedEntry::from).collect();
    let index = ListIndex::build("fuzz", entries);
    let filter = Filter {
        countries: &[],
        now_unix_ms: 0,
    };
    for hit in index.search(&PreparedQuery::new(&probe), 5, 0.0, &filter) {
        let s = hit.alignment.score;
        assert!((0.0..=1.0).contains(&s), "score {s}");
    }
}

/// Name normalization and scoring on arbitrary text: tokenizing, folding
/// scripts and accents, spelling variants, skeletons, and the pairwise score
/// (two names split on the first newline). Scores must stay in [0, 1].
pub fn name_normalize(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (a, b) = text.split_once('\n').unwrap_or((text, text));
    for name in [a, b] {
        let _ = normalize::tokens(name);
        let _ = normalize::canonical(name);
        let _ = normalize::spelling(name);
        for word in normalize::fold(name).split_whitespace() {
            let _ = normalize::skeleton(word);
        }
        let self_score = score::score_names(name, name);
        assert!((0.0..=1.0).contains(&self_score), "self score {self_score}");
    }
    let s = score::score_names(a, b);
    assert!((0.0..=1.0).contains(&s), "score {s} for {a:?} / {b:?}");
}
