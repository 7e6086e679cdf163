//! Denied-party screening: match quality and speed on the full 2021 OFAC SDN
//! list (../shared/data/sanctions), in process and through a real node.
//!
//!   cargo build --release --workspace --bins --examples
//!   target/release/examples/screening_bench [--data DIR] [--sample N] [--scale N] [--skip-grpc] [--speed-only] [--show-failures]
//!
//! 1. Perturbation recall: primary names perturbed by kind (typo, two typos,
//!    reordering, joined words, split word, dropped middle name, spelling
//!    variant, Cyrillic script), queried against every name and alias;
//!    recall@1, recall@5 and recall at the default threshold.
//! 2. Alias recall (the data README's protocol): primary names only indexed,
//!    each alias queried; by alias type and entity type. Then leave-one-out:
//!    every name indexed except the aliases of the queried one's fold (20
//!    folds, so 5 % of aliases are out at a time).
//! 3. False positives: the 50,000 synthetic negatives screened against every
//!    name and alias: share with any hit at the default threshold.
//! 4. Engine speed in process: the alias queries on 1 and 2 threads, on the
//!    list and on the list scaled ×N with perturbed copies.
//! 5. Through gRPC (a real concord-node, release build): import time via
//!    `concord screen import`, p50/p99 of single Query calls, batch
//!    throughput with QueryBatch (256 names a call, 4 calls in flight), and
//!    `concord screen query --file` end to end.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use concord_node::screening::formats::{self, Format};
use concord_node::screening::legal_forms;
use concord_node::screening::{
    EntityType, Filter, IndexedEntry, ListIndex, PreparedQuery, WatchlistEntry,
};
use concord_proto::v1 as pb;
use concord_proto::v1::screening_service_client::ScreeningServiceClient;
use concord_tests::perturb::{arabic, joined, transliterate, words, CYRILLIC};
use concord_tests::*;

const THRESHOLD: f32 = 0.85;

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// xorshift64*: deterministic perturbations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

// ---- perturbations ---------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Typo,
    TwoTypos,
    Reorder,
    Joined,
    Split,
    DropMiddle,
    Variant,
    Cyrillic,
    Arabic,
    LegalForm,
}

const KINDS: [Kind; 10] = [
    Kind::Typo,
    Kind::TwoTypos,
    Kind::Reorder,
    Kind::Joined,
    Kind::Split,
    Kind::DropMiddle,
    Kind::Variant,
    Kind::Cyrillic,
    Kind::Arabic,
    Kind::LegalForm,
];

/// Which half of the list an entry is in: tuned on (`false`) or only
/// measured on (`true`), by a hash of its id (FNV-1a), so the split is the
/// same on every run and independent of the list's order.
fn measured_half(id: &str) -> bool {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    h & 1 == 1
}

/// Programs of lists whose parties are mostly written in Arabic script at
/// home (counter-terrorism, Iraq, Syria, Libya, Yemen, Lebanon, Sudan, Iran).
fn arabic_script_program(p: &str) -> bool {
    [
        "SDGT", "IRAQ", "SYRIA", "LIBYA", "YEMEN", "LEBANON", "SUDAN", "IRAN", "IRGC", "FTO", "SDT",
    ]
    .iter()
    .any(|x| p.starts_with(x))
}

/// One random edit (substitute, insert, delete, transpose) inside a word of 4+ letters.
fn typo(word: &str, rng: &mut Rng) -> String {
    let mut c: Vec<char> = word.chars().collect();
    let letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let random = |rng: &mut Rng| letters.as_bytes()[rng.below(26)] as char;
    // Keep the first letter: people rarely get it wrong, and it makes the test honest either way.
    let i = 1 + rng.below(c.len() - 1);
    match rng.below(4) {
        0 => {
            let mut r = random(rng);
            while r.eq_ignore_ascii_case(&c[i]) {
                r = random(rng);
            }
            c[i] = r;
        }
        1 => c.insert(i, random(rng)),
        2 => {
            c.remove(i);
        }
        _ if i + 1 < c.len() => c.swap(i, i + 1),
        _ => c.swap(i - 1, i),
    }
    c.into_iter().collect()
}

fn long_word_indexes(w: &[String], min: usize) -> Vec<usize> {
    w.iter()
        .enumerate()
        .filter(|(_, x)| x.chars().filter(|c| c.is_alphabetic()).count() >= min)
        .map(|(i, _)| i)
        .collect()
}

/// Spelling variants a person might use instead of the listed one.
const SWAPS: &[(&str, &str)] = &[
    ("MUHAMMAD", "MOHAMMED"),
    ("MOHAMMED", "MUHAMMAD"),
    ("MOHAMMAD", "MOHAMED"),
    ("MOHAMED", "MUHAMMAD"),
    ("AHMAD", "AHMED"),
    ("AHMED", "AHMAD"),
    ("HUSSEIN", "HUSAYN"),
    ("HUSAYN", "HUSSEIN"),
    ("HASSAN", "HASAN"),
    ("HASAN", "HASSAN"),
    ("YUSUF", "YOUSEF"),
    ("YOUSEF", "YUSUF"),
    ("QAIDA", "QAEDA"),
    ("OSAMA", "USAMA"),
    ("USAMA", "OSAMA"),
    ("OMAR", "UMAR"),
    ("UMAR", "OMAR"),
    ("ABDUL", "ABDEL"),
    ("ABDEL", "ABDUL"),
    ("ABDULLAH", "ABDALLAH"),
    ("IBRAHIM", "EBRAHIM"),
    ("MUSTAFA", "MOSTAFA"),
    ("MAHMOUD", "MAHMUD"),
    ("KHALID", "KHALED"),
    ("KHALED", "KHALID"),
    ("SAID", "SAEED"),
    ("ALEKSANDR", "ALEXANDER"),
    ("ALEXANDER", "ALEKSANDR"),
    ("SERGEY", "SERGEI"),
    ("SERGEI", "SERGEY"),
    ("YEVGENIY", "EVGENY"),
    ("DMITRIY", "DMITRY"),
    ("DMITRY", "DMITRI"),
    ("YURIY", "YURI"),
    ("ANDREY", "ANDREI"),
    ("NIKOLAY", "NIKOLAI"),
    ("SULEIMAN", "SULAYMAN"),
    ("NASSER", "NASIR"),
];

/// The entry's name perturbed by `kind`, or None when the kind does not apply.
fn perturb_entry(e: &WatchlistEntry, kind: Kind, rng: &mut Rng) -> Option<String> {
    match kind {
        Kind::Arabic => (e.entity_type == EntityType::Individual
            && e.programs.iter().any(|p| arabic_script_program(p)))
        .then(|| arabic(&e.name)),
        Kind::LegalForm => {
            (e.entity_type == EntityType::Entity).then(|| swap_legal_form(&e.name, rng))
        }
        _ => perturb(&e.name, kind, rng),
    }
}

/// The name with its legal form written another way (`LLC` → `OBSHCHESTVO S
/// OGRANICHENNOY OTVETSTVENNOSTYU`, `JSC` → `AO` …), or, when it has none,
/// with a written-out form added in front.
fn swap_legal_form(name: &str, rng: &mut Rng) -> String {
    let forms = legal_forms::forms();
    let mut w = words(name);
    let clean = |x: &str| -> String {
        x.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    for i in 0..w.len() {
        let word = clean(&w[i]);
        if word.is_empty() {
            continue;
        }
        let group = forms
            .iter()
            .filter(|f| f.label != "company" && f.label != "corporation")
            .find(|f| f.spellings.contains(&word.as_str()));
        if let Some(f) = group {
            let others: Vec<&&str> = f.spellings.iter().filter(|s| **s != word).collect();
            if let Some(other) = others.get(rng.below(others.len())) {
                w[i] = other.to_uppercase();
                return w.join(" ");
            }
        }
    }
    const ADDED: &[&str] = &[
        "LIMITED LIABILITY COMPANY",
        "JOINT STOCK COMPANY",
        "AKTSIONERNOE OBSHCHESTVO",
        "OBSHCHESTVO S OGRANICHENNOY OTVETSTVENNOSTYU",
        "CLOSED JOINT STOCK COMPANY",
        "SHERKAT SAHAMI KHASS",
        "COMPANY LIMITED",
        "GMBH",
        "SOCIEDAD ANONIMA",
    ];
    format!("{} {name}", ADDED[rng.below(ADDED.len())])
}

/// The name perturbed by `kind`, or None when the kind does not apply to it.
fn perturb(name: &str, kind: Kind, rng: &mut Rng) -> Option<String> {
    let mut w = words(name);
    match kind {
        Kind::Typo | Kind::TwoTypos => {
            let long = long_word_indexes(&w, 4);
            let n = if kind == Kind::Typo { 1 } else { 2 };
            if long.len() < n {
                return None;
            }
            let first = long[rng.below(long.len())];
            w[first] = typo(&w[first], rng);
            if n == 2 {
                let others: Vec<usize> = long.iter().copied().filter(|i| *i != first).collect();
                let second = others[rng.below(others.len())];
                w[second] = typo(&w[second], rng);
            }
        }
        Kind::Reorder => {
            if w.len() < 2 {
                return None;
            }
            let original = w.clone();
            while w == original {
                for i in (1..w.len()).rev() {
                    w.swap(i, rng.below(i + 1));
                }
            }
        }
        Kind::Joined => return joined(name, |n| rng.below(n)),
        Kind::Split => {
            let long = long_word_indexes(&w, 8);
            if long.is_empty() {
                return None;
            }
            let i = long[rng.below(long.len())];
            let chars: Vec<char> = w[i].chars().collect();
            let at = 3 + rng.below(chars.len() - 5);
            let (a, b) = chars.split_at(at);
            w[i] = a.iter().collect();
            w.insert(i + 1, b.iter().collect());
        }
        Kind::DropMiddle => {
            if w.len() < 3 {
                return None;
            }
            w.remove(1 + rng.below(w.len() - 2));
        }
        Kind::Variant => {
            let hits: Vec<usize> = (0..w.len())
                .filter(|i| {
                    SWAPS
                        .iter()
                        .any(|(from, _)| w[*i].eq_ignore_ascii_case(from))
                })
                .collect();
            if hits.is_empty() {
                return None;
            }
            let i = hits[rng.below(hits.len())];
            let to = SWAPS
                .iter()
                .find(|(from, _)| w[i].eq_ignore_ascii_case(from))
                .map(|(_, to)| *to)?;
            w[i] = to.to_owned();
        }
        Kind::Cyrillic => return Some(transliterate(&w.join(" "), CYRILLIC)),
        Kind::Arabic => return Some(arabic(name)),
        Kind::LegalForm => return Some(swap_legal_form(name, rng)),
    }
    Some(w.join(" "))
}

// ---- measuring ---------------------------------------------------------------

fn no_filter() -> Filter<'static> {
    Filter {
        countries: &[],
        now_unix_ms: 0,
    }
}

/// Rank (0-based) of entry `id` among the top 5 for `query`, and its score.
fn rank(index: &ListIndex, query: &str, id: &str) -> (Option<usize>, f32) {
    let q = PreparedQuery::new(query);
    let mut hits = index.search(&q, 5, 0.3, &no_filter());
    hits.sort_by(|a, b| {
        b.score()
            .total_cmp(&a.score())
            .then_with(|| a.entry.entry.source_id.cmp(&b.entry.entry.source_id))
    });
    hits.truncate(5);
    let pos = hits.iter().position(|h| h.entry.entry.source_id == id);
    (pos, pos.map_or(0.0, |p| hits[p].score()))
}

#[derive(Default, Clone, Copy)]
struct Recall {
    n: usize,
    at1: usize,
    at5: usize,
    at_threshold: usize,
}

impl Recall {
    fn add(&mut self, rank: Option<usize>, score: f32) {
        self.n += 1;
        if rank == Some(0) {
            self.at1 += 1;
        }
        if rank.is_some() {
            self.at5 += 1;
        }
        if rank.is_some() && score >= THRESHOLD {
            self.at_threshold += 1;
        }
    }
    fn row(&self, label: &str) -> String {
        let r = |x: usize| x as f64 / self.n.max(1) as f64;
        format!(
            "| {label} | {} | {:.3} | {:.3} | {:.3} |",
            self.n,
            r(self.at1),
            r(self.at5),
            r(self.at_threshold)
        )
    }
}

fn sdn_entries(dir: &Path) -> Result<Vec<WatchlistEntry>> {
    let parsed = formats::read(Format::OfacCsv, dir)?;
    if !parsed.malformed.is_empty() {
        println!("note: {} malformed rows skipped", parsed.malformed.len());
    }
    Ok(parsed.entries)
}

/// (ent_num, alias type, alias) from alt.csv, plus the weak aliases of the remarks.
fn aliases(dir: &Path, entries: &[WatchlistEntry]) -> Result<Vec<(String, String, String)>> {
    let bytes = std::fs::read(dir.join("alt.csv"))?;
    let end = bytes
        .iter()
        .rposition(|b| *b != 0x1a && !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..end]);
    let mut out = Vec::new();
    for r in reader.records() {
        let r = r?;
        let (id, kind, name) = (r[0].trim(), r[2].trim(), r[3].trim());
        out.push((id.to_owned(), kind.to_owned(), name.to_owned()));
    }
    let strong: std::collections::HashSet<(String, String)> =
        out.iter().map(|(i, _, n)| (i.clone(), n.clone())).collect();
    for e in entries {
        for a in &e.aliases {
            if !strong.contains(&(e.source_id.clone(), a.clone())) {
                out.push((e.source_id.clone(), "weak".into(), a.clone()));
            }
        }
    }
    Ok(out)
}

fn build(entries: &[WatchlistEntry]) -> (ListIndex, Duration) {
    let t = Instant::now();
    let ix = ListIndex::build(
        "ofac-sdn",
        entries.iter().cloned().map(IndexedEntry::from).collect(),
    );
    (ix, t.elapsed())
}

/// Queries per second over `queries` on `threads` threads (each thread a share).
fn throughput(index: &ListIndex, queries: &[String], threads: usize) -> f64 {
    let t = Instant::now();
    std::thread::scope(|s| {
        for part in queries.chunks(queries.len().div_ceil(threads)) {
            s.spawn(move || {
                for q in part {
                    let q = PreparedQuery::new(q);
                    std::hint::black_box(index.search(&q, 10, THRESHOLD, &no_filter()));
                }
            });
        }
    });
    queries.len() as f64 / t.elapsed().as_secs_f64()
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `--explain QUERY LISTED`: the tokens of both names and their alignment.
fn explain(query: &str, listed: &str) {
    use concord_node::screening::normalize::tokens;
    use concord_node::screening::score::{self, Tok};
    let (q, l) = (tokens(query), tokens(listed));
    println!("query tokens: {q:?}\nlisted tokens: {l:?}");
    let qt: Vec<Tok> = q.iter().map(Tok::new).collect();
    let lt: Vec<Tok> = l.iter().map(Tok::new).collect();
    let a = score::score(
        &qt.iter().collect::<Vec<_>>(),
        &lt.iter().collect::<Vec<_>>(),
    );
    println!(
        "{:.3} {}",
        a.score,
        score::explain("name", listed, &q, &l, &a)
    );
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--explain") {
        for pair in args[i + 1..].chunks(2) {
            if let [q, l] = pair {
                explain(q, l);
            }
        }
        return Ok(());
    }
    let data: PathBuf = bench_arg("--data", PathBuf::from("../shared/data/sanctions"));
    let sample: usize = bench_arg("--sample", 3000);
    let scale: usize = bench_arg("--scale", 100);
    let sdn_dir = data.join("ofac_sdn_2021-07-07");
    let entries =
        sdn_entries(&sdn_dir).with_context(|| format!("reading {}", sdn_dir.display()))?;
    let names: usize = entries.iter().map(|e| 1 + e.aliases.len()).sum();
    println!(
        "OFAC SDN 2021-07-07: {} entries, {names} names (primary + aliases incl. weak a.k.a.)",
        entries.len()
    );
    let (full, took) = build(&entries);
    println!(
        "index build: {:.0} ms, {} names indexed",
        took.as_secs_f64() * 1e3,
        full.name_count()
    );

    let speed_only = flag("--speed-only");
    if !speed_only {
        // 1. Perturbations.
        let mut rng = Rng(0x5eed_cafe_f00d_d00d);
        let mut picks: Vec<&WatchlistEntry> = entries.iter().collect();
        for i in (1..picks.len()).rev() {
            picks.swap(i, rng.below(i + 1));
        }
        picks.truncate(sample);
        println!(
            "\n### Perturbed primary names ({} entries sampled), all names indexed\n",
            picks.len()
        );
        println!(
            "| perturbation | half | queries | recall@1 | recall@5 | recall at threshold {THRESHOLD} |"
        );
        println!("| --- | --- | --- | --- | --- | --- |");
        let mut failures: HashMap<Kind, Vec<String>> = HashMap::new();
        for kind in KINDS {
            let mut r = [Recall::default(), Recall::default()];
            for e in &picks {
                let Some(q) = perturb_entry(e, kind, &mut rng) else {
                    continue;
                };
                let (pos, score) = rank(&full, &q, &e.source_id);
                let half = measured_half(&e.source_id);
                r[usize::from(half)].add(pos, score);
                // Failures are shown from the tuning half only: the measured
                // half is for reporting, never for looking at.
                if !half && (pos.is_none() || score < THRESHOLD) {
                    failures
                        .entry(kind)
                        .or_default()
                        .push(format!("{q:?} for {:?} {score:.3}", e.name));
                }
            }
            println!("{}", r[0].row(&format!("{kind:?} | tuning")));
            println!("{}", r[1].row(&format!("{kind:?} | measured")));
        }
        if flag("--show-failures") {
            let shown: usize = bench_arg("--failures", 25);
            for (kind, f) in &failures {
                println!(
                    "{kind:?} misses below the threshold, tuning half (first {}): {:#?}",
                    shown,
                    &f[..f.len().min(shown)]
                );
            }
        }
    }
    // 2. Aliases.
    let alias_list = aliases(&sdn_dir, &entries)?;
    if !speed_only {
        let type_of: HashMap<&str, EntityType> = entries
            .iter()
            .map(|e| (e.source_id.as_str(), e.entity_type))
            .collect();
        let primaries: Vec<WatchlistEntry> = entries
            .iter()
            .map(|e| WatchlistEntry {
                aliases: Vec::new(),
                ..e.clone()
            })
            .collect();
        let (primary_only, _) = build(&primaries);
        let mut by: std::collections::BTreeMap<String, Recall> = Default::default();
        let mut all = Recall::default();
        let mut alias_misses = Vec::new();
        for (id, kind, alias) in &alias_list {
            let (pos, score) = rank(&primary_only, alias, id);
            all.add(pos, score);
            let et = type_of.get(id.as_str()).map_or("?", |t| t.as_str());
            by.entry(format!("alias type {kind}"))
                .or_default()
                .add(pos, score);
            let half = if measured_half(id) {
                "measured"
            } else {
                "tuning"
            };
            by.entry(format!("half {half}"))
                .or_default()
                .add(pos, score);
            by.entry(format!("entity type {et}"))
                .or_default()
                .add(pos, score);
            if pos.is_none() && alias_misses.len() < 15 {
                alias_misses.push(format!("{alias:?} (of {id})"));
            }
        }
        println!("\n### Aliases queried against primary names only\n");
        println!("| aliases | queries | recall@1 | recall@5 | recall at threshold {THRESHOLD} |");
        println!("| --- | --- | --- | --- | --- |");
        println!("{}", all.row("all"));
        for (label, r) in &by {
            println!("{}", r.row(label));
        }
        if flag("--show-failures") {
            println!("alias misses (first 15): {alias_misses:?}");
        }

        const FOLDS: usize = 20;
        let mut loo = Recall::default();
        let mut loo_by: std::collections::BTreeMap<String, Recall> = Default::default();
        for fold in 0..FOLDS {
            let out: std::collections::HashSet<(&str, &str)> = alias_list
                .iter()
                .enumerate()
                .filter(|(i, _)| i % FOLDS == fold)
                .map(|(_, (id, _, a))| (id.as_str(), a.as_str()))
                .collect();
            let held: Vec<WatchlistEntry> = entries
                .iter()
                .map(|e| WatchlistEntry {
                    aliases: e
                        .aliases
                        .iter()
                        .filter(|a| !out.contains(&(e.source_id.as_str(), a.as_str())))
                        .cloned()
                        .collect(),
                    ..e.clone()
                })
                .collect();
            let (ix, _) = build(&held);
            for (i, (id, kind, alias)) in alias_list.iter().enumerate() {
                if i % FOLDS != fold {
                    continue;
                }
                let (pos, score) = rank(&ix, alias, id);
                loo.add(pos, score);
                loo_by
                    .entry(format!("alias type {kind}"))
                    .or_default()
                    .add(pos, score);
                let half = if measured_half(id) {
                    "measured"
                } else {
                    "tuning"
                };
                loo_by
                    .entry(format!("alias type {kind}, {half} half"))
                    .or_default()
                    .add(pos, score);
            }
        }
        println!("\n### Leave-one-out: each alias against every other name ({FOLDS} folds)\n");
        println!("| aliases | queries | recall@1 | recall@5 | recall at threshold {THRESHOLD} |");
        println!("| --- | --- | --- | --- | --- |");
        println!("{}", loo.row("all"));
        for (label, r) in &loo_by {
            println!("{}", r.row(label));
        }
    }
    // 3. False positives.
    let negatives_file = data.join("synthetic_negatives_2025-08-27/negatives_global.csv");
    let mut reader = csv::Reader::from_path(&negatives_file)
        .with_context(|| format!("reading {}", negatives_file.display()))?;
    let negatives: Vec<String> = reader
        .records()
        .filter_map(|r| r.ok().and_then(|r| r.get(0).map(str::to_owned)))
        .collect();
    if !speed_only {
        let mut fp: std::collections::BTreeMap<u32, usize> = Default::default();
        let mut examples = Vec::new();
        for n in &negatives {
            let q = PreparedQuery::new(n);
            let best = full
                .search(&q, 1, 0.5, &no_filter())
                .into_iter()
                .map(|h| (h.score(), h.matched_name.to_owned()))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((s, name)) = best {
                for t in [80u32, 85, 90, 95] {
                    if s >= t as f32 / 100.0 {
                        *fp.entry(t).or_default() += 1;
                    }
                }
                if s >= THRESHOLD && examples.len() < bench_arg("--failures", 20) {
                    examples.push(format!("{n:?} ~ {name:?} {s:.2}"));
                }
            }
        }
        println!(
            "\n### False positives: {} synthetic negatives against every SDN name\n",
            negatives.len()
        );
        println!("| threshold | negatives with a hit | rate |");
        println!("| --- | --- | --- |");
        for (t, c) in &fp {
            println!(
                "| {:.2} | {c} | {:.2} % |",
                *t as f64 / 100.0,
                100.0 * *c as f64 / negatives.len() as f64
            );
        }
        if flag("--show-failures") {
            println!("false positives (first {}): {examples:#?}", examples.len());
        }
    }
    // 4. Engine speed.
    let queries: Vec<String> = alias_list.iter().map(|(_, _, a)| a.clone()).collect();
    let t1 = throughput(&full, &queries, 1);
    let t2 = throughput(&full, &queries, 2);
    let neg1 = throughput(&full, &negatives, 2);
    println!(
        "\n### Engine in process ({} alias queries, limit 10, threshold {THRESHOLD})\n",
        queries.len()
    );
    println!("| index | names | build | 1 thread | 2 threads | negatives, 2 threads | RSS |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| SDN | {} | {:.2} s | {t1:.0} q/s | {t2:.0} q/s | {neg1:.0} q/s | {:.0} MiB |",
        full.name_count(),
        took.as_secs_f64(),
        rss_mib()
    );
    if scale > 1 {
        let mut rng = Rng(0xdead_beef_1234_5678);
        let mut scaled: Vec<WatchlistEntry> = Vec::with_capacity(entries.len() * scale);
        for copy in 0..scale {
            for e in &entries {
                if copy == 0 {
                    scaled.push(e.clone());
                    continue;
                }
                let p = |n: &str, rng: &mut Rng| {
                    perturb(n, Kind::Typo, rng).unwrap_or_else(|| n.to_owned())
                };
                let mut c = e.clone();
                c.source_id = format!("{}-{copy}", e.source_id);
                c.name = p(&e.name, &mut rng);
                c.aliases = e.aliases.iter().map(|a| p(a, &mut rng)).collect();
                scaled.push(c);
            }
        }
        drop(full);
        let (big, took) = build(&scaled);
        drop(scaled);
        let b1 = throughput(&big, &queries, 1);
        let b2 = throughput(&big, &queries, 2);
        let bn = throughput(&big, &negatives, 2);
        println!(
            "| SDN ×{scale} (perturbed copies) | {} | {:.1} s | {b1:.0} q/s | {b2:.0} q/s | {bn:.0} q/s | {:.0} MiB |",
            big.name_count(),
            took.as_secs_f64(),
            rss_mib()
        );
    }

    if flag("--skip-grpc") {
        return Ok(());
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(grpc(&sdn_dir, &queries))
}

// ---- through a real node -----------------------------------------------------

async fn grpc(sdn_dir: &Path, queries: &[String]) -> Result<()> {
    init();
    let root = tempfile::tempdir()?;
    let dir = NodeDir::init(root.path(), "DE");
    let _node = NodeProcess::start(&dir).await?;
    let admin = dir.admin_profile();
    let analyst = dir.issue("analyst", "bench");

    let t = Instant::now();
    let out = concord(&[
        "--profile",
        path_str(&admin),
        "--output",
        "json",
        "screen",
        "import",
        "--format",
        "ofac-csv",
        "--list",
        "ofac-sdn",
        path_str(sdn_dir),
    ]);
    let import = t.elapsed();
    if !out.status.success() {
        bail!("import failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    println!(
        "\n### Through gRPC (one concord-node, release, loopback mTLS)\n\nimport of the SDN folder with `concord screen import` (parse, stream, validate, index, one durable batch): {:.2} s",
        import.as_secs_f64()
    );

    let channel = Credentials::from_profile(&analyst)?.channel(true).await?;
    let mut client = ScreeningServiceClient::new(channel.clone());
    // Single queries, one at a time.
    let mut lat = Vec::new();
    for q in queries.iter().take(3000) {
        let t = Instant::now();
        client
            .query(pb::ScreenQuery {
                name: q.clone(),
                options: None,
            })
            .await?;
        lat.push(t.elapsed());
    }
    lat.sort();
    let p = |f: f64| lat[((lat.len() as f64 * f) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "single Query calls, one at a time ({} queries): p50 {:.2} ms, p99 {:.2} ms",
        lat.len(),
        p(0.50),
        p(0.99)
    );

    // Batches, several in flight.
    for round in 0..2 {
        let t = Instant::now();
        let mut pending = VecDeque::new();
        let mut done = 0usize;
        for chunk in queries.chunks(256) {
            let mut c = client.clone();
            let names = chunk.to_vec();
            pending.push_back(tokio::spawn(async move {
                c.query_batch(pb::ScreenBatchQuery {
                    names,
                    options: None,
                })
                .await
                .map(|r| r.into_inner().results.len())
            }));
            if pending.len() >= 4 {
                if let Some(h) = pending.pop_front() {
                    done += h.await??;
                }
            }
        }
        while let Some(h) = pending.pop_front() {
            done += h.await??;
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "QueryBatch round {}: {done} names in {secs:.2} s = {:.0} queries/s (256 a call, 4 in flight)",
            round + 1,
            done as f64 / secs
        );
    }

    // The CLI end to end.
    let file = root.path().join("names.txt");
    std::fs::write(&file, queries.join("\n"))?;
    let t = Instant::now();
    let out = concord(&[
        "--profile",
        path_str(&analyst),
        "--output",
        "json",
        "screen",
        "query",
        "--file",
        path_str(&file),
    ]);
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "query --file failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let lines = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    println!(
        "`concord screen query --file` ({lines} names, JSON lines to a pipe): {secs:.2} s = {:.0} names/s",
        lines as f64 / secs
    );
    Ok(())
}
