//! Perturbations of sanctions-list names shared by the screening quality test
//! (`tests/screening_quality.rs`) and the screening benchmark
//! (`examples/screening_bench.rs`): splitting, joining and transliterating
//! are defined once, so the Cyrillic and joined-word floors and the
//! benchmark's figures measure the same thing. (Typos and reorderings still
//! differ: the test's are fixed edits its floors were set on, the
//! benchmark's random ones.)
//!
//! Randomness comes in as `below(n)`, a number in `0..n`, rather than as a
//! generator: each caller keeps its own seeded generator, because its floors
//! or published figures were measured on that exact stream.

/// Words of a name as written (punctuation kept inside words, commas dropped).
pub fn words(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Two neighbouring words run together, as when a space is lost; None for a
/// single word.
pub fn joined(name: &str, mut below: impl FnMut(usize) -> usize) -> Option<String> {
    let mut w = words(name);
    if w.len() < 2 {
        return None;
    }
    let i = below(w.len() - 1);
    let next = w.remove(i + 1);
    w[i].push_str(&next);
    Some(w.join(" "))
}

/// The name in capitals, rewritten into another script by `table`; what the
/// table lacks is kept. At each position the first entry that matches wins,
/// so a table lists digraphs before their single letters.
pub fn transliterate(name: &str, table: &[(&str, &str)]) -> String {
    let upper = name.to_uppercase();
    let mut out = String::new();
    let mut rest = upper.as_str();
    'next: while !rest.is_empty() {
        for (from, to) in table {
            if let Some(r) = rest.strip_prefix(from) {
                out.push_str(to);
                rest = r;
                continue 'next;
            }
        }
        let mut chars = rest.chars();
        out.extend(chars.next());
        rest = chars.as_str();
    }
    out
}

/// Latin capitals to Cyrillic, digraphs first: how a Russian-language
/// document would spell a listed name.
pub const CYRILLIC: &[(&str, &str)] = &[
    ("SHCH", "Щ"),
    ("ZH", "Ж"),
    ("KH", "Х"),
    ("TS", "Ц"),
    ("CH", "Ч"),
    ("SH", "Ш"),
    ("YU", "Ю"),
    ("YA", "Я"),
    ("YE", "Е"),
    ("A", "А"),
    ("B", "Б"),
    ("V", "В"),
    ("G", "Г"),
    ("D", "Д"),
    ("E", "Е"),
    ("Z", "З"),
    ("I", "И"),
    ("Y", "Й"),
    ("K", "К"),
    ("L", "Л"),
    ("M", "М"),
    ("N", "Н"),
    ("O", "О"),
    ("P", "П"),
    ("R", "Р"),
    ("S", "С"),
    ("T", "Т"),
    ("U", "У"),
    ("F", "Ф"),
    ("C", "К"),
    ("Q", "К"),
    ("W", "В"),
    ("X", "КС"),
    ("J", "Дж"),
    ("H", "Х"),
];
