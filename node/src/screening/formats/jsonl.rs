//! One JSON object per line:
//!
//! ```json
//! {"id": "X-1", "name": "ACME TRADING FZE", "aliases": ["ACME FZE"], "type": "entity",
//!  "countries": ["AE"], "addresses": ["Jebel Ali"], "programs": ["NATIONAL"]}
//! ```
//!
//! `id` (string or number) and `name` are required; `type` is `individual`,
//! `entity`, `vessel`, `aircraft` or absent (`unknown`); `countries` are
//! ISO 3166-1 alpha-2 codes or country names; `dates_of_birth` and
//! `identifiers` are kept as written. An unknown type or country is kept
//! (as `unknown`, or as written) with a warning. Other fields are ignored.
//! Blank lines are skipped; a leading UTF-8 byte-order mark is dropped.

use std::collections::HashMap;

use serde::Deserialize;

use super::{json_lines, Parsed};
use crate::screening::entry::{EntityType, WatchlistEntry};

#[derive(Deserialize)]
struct Row {
    id: serde_json::Value,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    countries: Vec<String>,
    #[serde(default)]
    addresses: Vec<String>,
    #[serde(default)]
    programs: Vec<String>,
    #[serde(default)]
    dates_of_birth: Vec<String>,
    #[serde(default)]
    identifiers: Vec<String>,
}

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let mut entries: Vec<WatchlistEntry> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut by_id: HashMap<String, u64> = HashMap::new();
    for (line, raw) in json_lines(bytes) {
        let row: Row = match serde_json::from_slice(raw) {
            Ok(r) => r,
            Err(e) => {
                parsed.malformed(file, line, format!("not a watchlist entry: {e}"));
                continue;
            }
        };
        let id = match &row.id {
            serde_json::Value::String(s) => s.trim().to_owned(),
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                parsed.malformed(
                    file,
                    line,
                    format!("id must be a string or number, not {other}"),
                );
                continue;
            }
        };
        if parsed.listed_again(file, line, by_id.get(&id).copied(), &format!("id {id:?}")) {
            continue;
        }
        let entity_type = match row.kind.as_deref().unwrap_or("").parse::<EntityType>() {
            Ok(t) => t,
            Err(reason) => {
                parsed.warning(file, line, format!("{id}: {reason}; kept as unknown"));
                EntityType::Unknown
            }
        };
        let mut e = WatchlistEntry::new(id.clone(), entity_type, row.name.trim());
        parsed.countries(file, line, &mut e, row.countries.iter().map(String::as_str));
        e.aliases = row
            .aliases
            .into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| a != &e.name)
            .collect();
        e.addresses = row.addresses;
        e.programs = row.programs;
        e.details.dates_of_birth = row.dates_of_birth;
        e.details.identifiers = row.identifiers;
        by_id.insert(id, line);
        entries.push(e);
        lines.push(line);
    }
    parsed.entries = entries;
    parsed.validate(file, &lines);
    parsed
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_leading_byte_order_mark_is_dropped() {
        let text = "\u{feff}{\"id\": 1, \"name\": \"ACME TRADING FZE\"}\n{\"id\": \"X-2\", \"name\": \"Beta LLC\"}\n";
        let parsed = parse("list.jsonl", text.as_bytes());
        assert!(parsed.malformed.is_empty(), "{:?}", parsed.malformed);
        let ids: Vec<&str> = parsed
            .entries
            .iter()
            .map(|e| e.source_id.as_str())
            .collect();
        assert_eq!(ids, ["1", "X-2"]);
    }
}
