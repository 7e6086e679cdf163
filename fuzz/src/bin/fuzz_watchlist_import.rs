//! Every watchlist import parser (`concord screen import --format ...`): the
//! first byte picks the format, the rest is the file. OFAC folders get up to
//! three files, split on a 0xFF byte (never valid in the UTF-8 or Latin-1
//! text the parsers accept as-is). Parsed entries are then indexed and
//! searched, so what a hostile list file produces is exercised end to end.
use concord_node::screening::formats::{self, Format, OfacFiles};
use concord_node::screening::{Filter, IndexedEntry, ListIndex, PreparedQuery};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&selector, rest)) = data.split_first() else {
            return;
        };
        let parsed = match selector % 4 {
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
            _ => formats::parse(Format::Jsonl, "list.jsonl", rest),
        };
        for m in &parsed.malformed {
            assert!(m.line >= 1, "malformed rows are reported with a line number");
        }
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
        let index = ListIndex::build("fuzz", entries);
        let filter = Filter {
            countries: &[],
            now_unix_ms: 0,
        };
        for hit in index.search(&PreparedQuery::new(&probe), 5, 0.0, &filter) {
            let s = hit.alignment.score;
            assert!((0.0..=1.0).contains(&s), "score {s}");
        }
    });
}
