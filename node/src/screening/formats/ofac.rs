//! OFAC's legacy CSV files (SDN list and the consolidated non-SDN list).
//!
//! - primary (`sdn.csv`, `cons_prim.csv`): ent_num, name, type, program,
//!   title, call_sign, vessel_type, tonnage, grt, vessel_flag, vessel_owner,
//!   remarks — 12 fields;
//! - aliases (`alt.csv`, `cons_alt.csv`): ent_num, alt_num, alt_type,
//!   alt_name, alt_remarks — 5 fields;
//! - addresses (`add.csv`, `cons_add.csv`): ent_num, add_num, address,
//!   city/state/postal code, country, add_remarks — 6 fields.

use std::collections::HashMap;

use super::{error_line, field, line_of, push_unique, Lines, Parsed};
use crate::screening::entry::{EntityType, WatchlistEntry};

/// The files of one OFAC list: (file name, bytes).
pub struct OfacFiles {
    pub primary: (String, Vec<u8>),
    pub aliases: Option<(String, Vec<u8>)>,
    pub addresses: Option<(String, Vec<u8>)>,
}

/// Rows of a legacy OFAC file: `-0-` as empty, the trailing 0x1A dropped.
/// Yields (line, fields) or (line, error).
fn rows(bytes: &[u8]) -> Vec<(u64, Result<Vec<String>, String>)> {
    let end = bytes
        .iter()
        .rposition(|b| *b != 0x1a && !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..end]);
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = Lines::new(&bytes[..end]);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let fields = record
                    .iter()
                    .map(|f| {
                        let v = field(f);
                        if v == "-0-" {
                            String::new()
                        } else {
                            v
                        }
                    })
                    .collect();
                out.push((line_of(&mut lines, &record), Ok(fields)));
            }
            Err(e) => {
                out.push((
                    error_line(&mut lines, &e),
                    Err(format!("unreadable CSV: {e}")),
                ));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    out
}

/// The rows of `file` that have `fields` fields, with their lines; an
/// unreadable row or one of another length is reported and left out.
fn checked_rows(
    parsed: &mut Parsed,
    file: &str,
    bytes: &[u8],
    fields: usize,
) -> Vec<(u64, Vec<String>)> {
    let mut out = Vec::new();
    for (line, row) in rows(bytes) {
        match row {
            Ok(f) if f.len() == fields => out.push((line, f)),
            Ok(f) => parsed.malformed(
                file,
                line,
                format!("expected {fields} fields, found {}", f.len()),
            ),
            Err(reason) => parsed.malformed(file, line, reason),
        }
    }
    out
}

/// The index of the entry a side file's row names by `ent_num`; a row
/// naming none is reported (`what` the row is: an alias, an address).
fn entry_of(
    parsed: &mut Parsed,
    by_id: &HashMap<String, usize>,
    file: &str,
    line: u64,
    ent_num: &str,
    what: &str,
) -> Option<usize> {
    let found = by_id.get(ent_num).copied();
    if found.is_none() {
        parsed.malformed(file, line, format!("{what} of unknown entry {ent_num:?}"));
    }
    found
}

pub fn parse(files: &OfacFiles) -> Parsed {
    let mut parsed = Parsed::default();
    let (prim_name, prim) = (&files.primary.0, &files.primary.1);
    let mut entries: Vec<WatchlistEntry> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (line, f) in checked_rows(&mut parsed, prim_name, prim, 12) {
        let id = &f[0];
        if id.parse::<u64>().is_err() {
            parsed.malformed(prim_name, line, format!("ent_num {id:?} is not a number"));
            continue;
        }
        if f[1].is_empty() {
            parsed.malformed(prim_name, line, format!("entry {id}: empty name"));
            continue;
        }
        let first = by_id.get(id).map(|&i| lines[i]);
        if parsed.listed_again(prim_name, line, first, &format!("entry {id}")) {
            continue;
        }
        let entity_type = match f[2].to_ascii_lowercase().as_str() {
            "individual" => EntityType::Individual,
            "vessel" => EntityType::Vessel,
            "aircraft" => EntityType::Aircraft,
            "" | "entity" => EntityType::Entity,
            other => {
                parsed.warning(
                    prim_name,
                    line,
                    format!("entry {id}: unknown type {other:?}; kept as unknown"),
                );
                EntityType::Unknown
            }
        };
        let mut e = WatchlistEntry::new(id.clone(), entity_type, f[1].clone());
        remarks_details(&f[11], &mut e);
        e.programs = f[3]
            .split("] [")
            .map(|p| p.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace()))
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        for alias in weak_aliases(&f[11]) {
            if alias != e.name {
                push_unique(&mut e.aliases, alias);
            }
        }
        by_id.insert(id.clone(), entries.len());
        entries.push(e);
        lines.push(line);
    }

    if let Some((name, bytes)) = &files.aliases {
        for (line, f) in checked_rows(&mut parsed, name, bytes, 5) {
            let Some(i) = entry_of(&mut parsed, &by_id, name, line, &f[0], "alias") else {
                continue;
            };
            if f[3].is_empty() {
                parsed.malformed(name, line, format!("alias of entry {}: empty name", f[0]));
                continue;
            }
            let e = &mut entries[i];
            if f[3] != e.name {
                push_unique(&mut e.aliases, f[3].clone());
            }
        }
    }

    if let Some((name, bytes)) = &files.addresses {
        for (line, f) in checked_rows(&mut parsed, name, bytes, 6) {
            let Some(i) = entry_of(&mut parsed, &by_id, name, line, &f[0], "address") else {
                continue;
            };
            let e = &mut entries[i];
            let text: Vec<&str> = f[2..5]
                .iter()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .collect();
            push_unique(&mut e.addresses, text.join(", "));
            let country = f[4].clone();
            parsed.countries(name, line, &mut entries[i], [country.as_str()]);
        }
    }
    parsed.entries = entries;
    parsed.validate(prim_name, &lines);
    parsed
}

/// Dates of birth (`DOB 10 Dec 1948`) and identifiers (`Passport
/// A1234567 (Iran)`, `National ID No. …`, `IMO 1234567` …) from OFAC
/// remarks, which list them separated by `;`.
fn remarks_details(remarks: &str, e: &mut WatchlistEntry) {
    const ID_WORDS: &[&str] = &[
        "passport",
        " no.",
        "identification number",
        "imo ",
        "swift/bic",
        "registration id",
        "tax id",
        "nit #",
        "d-u-n-s",
        "national id",
        "cedula",
        "curp",
        "rfc ",
    ];
    for part in remarks.split(';').map(str::trim) {
        let part = part.trim_end_matches('.');
        let lower = part.to_ascii_lowercase();
        if let Some(dob) = part.strip_prefix("DOB ") {
            push_unique(&mut e.details.dates_of_birth, dob.trim().to_owned());
        } else if !lower.starts_with("a.k.a.")
            && !lower.starts_with("f.k.a.")
            && !lower.starts_with("n.k.a.")
            && ID_WORDS.iter().any(|w| lower.contains(w))
            && part.len() <= super::super::entry::MAX_NAME
        {
            push_unique(&mut e.details.identifiers, part.to_owned());
        }
    }
}

/// Names quoted after `a.k.a.` (or `f.k.a.`, `n.k.a.`) in OFAC remarks:
/// `a.k.a. 'PACHO'; a.k.a. 'H7'.` → PACHO, H7. An apostrophe followed by a
/// letter belongs to the name (`'O'NEIL'`).
pub fn weak_aliases(remarks: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = remarks.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = ["a.k.a. '", "f.k.a. '", "n.k.a. '"]
        .iter()
        .filter_map(|m| lower[from..].find(m).map(|p| from + p + m.len()))
        .min()
    {
        let rest = &remarks[pos..];
        let bytes = rest.as_bytes();
        let mut end = None;
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\'' && !bytes.get(i + 1).is_some_and(|n| n.is_ascii_alphanumeric()) {
                end = Some(i);
                break;
            }
        }
        let Some(end) = end else { break };
        let alias = rest[..end].trim();
        if !alias.is_empty() {
            push_unique(&mut out, alias.to_owned());
        }
        from = pos + end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_aliases_in_remarks() {
        assert_eq!(
            weak_aliases("DOB 24 Aug 1951; a.k.a. 'PACHO'; a.k.a. 'H7'."),
            ["PACHO", "H7"]
        );
        assert_eq!(
            weak_aliases("a.k.a. 'O'NEIL'; f.k.a. 'X Y'"),
            ["O'NEIL", "X Y"]
        );
        assert!(weak_aliases("DOB 1962; POB Shati.").is_empty());
        assert!(weak_aliases("a.k.a. 'unterminated").is_empty());
    }
}
