//! The BIS Denied Persons List: tab-separated, quoted, with a header
//! (`Name`, `Street_Address`, `City`, `State`, `Country`, `Postal_Code`,
//! `Effective_Date`, `Expiration_Date`, `Standard_Order`, `Last_Update`,
//! `Action`, `FR_Citation`).
//!
//! The list has no identifiers and names a party once per address or order,
//! so rows with the same name become one entry whose source id is the name
//! as a slug (`AARON ABRAHAM VILLA` → `aaron-abraham-villa`); its addresses
//! and countries accumulate.

use std::collections::HashMap;

use super::{error_line, field, line_of, push_unique, slug, Parsed};
use crate::screening::entry::{is_country_code, EntityType, WatchlistEntry};

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.byte_headers() {
        Ok(h) => h.iter().map(|f| field(f).to_ascii_lowercase()).collect(),
        Err(e) => {
            parsed.malformed(
                file,
                error_line(&e).max(1),
                format!("unreadable header: {e}"),
            );
            return parsed;
        }
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let Some(name_col) = col("name") else {
        parsed.malformed(file, 1, "header has no Name column");
        return parsed;
    };
    let address_cols: Vec<usize> = ["street_address", "city", "state", "postal_code", "country"]
        .iter()
        .filter_map(|c| col(c))
        .collect();
    let country_col = col("country");
    let mut entries: Vec<WatchlistEntry> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                parsed.malformed(file, error_line(&e), format!("unreadable row: {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = line_of(&record);
        if record.len() != headers.len() {
            parsed.malformed(
                file,
                line,
                format!("expected {} fields, found {}", headers.len(), record.len()),
            );
            continue;
        }
        let get = |i: usize| record.get(i).map(field).unwrap_or_default();
        let name = get(name_col);
        let id = slug(&name);
        if id.is_empty() {
            parsed.malformed(file, line, "empty name");
            continue;
        }
        let mut e = WatchlistEntry::new(id.clone(), EntityType::Unknown, name);
        let address: Vec<String> = address_cols
            .iter()
            .map(|c| get(*c))
            .filter(|s| !s.is_empty())
            .collect();
        push_unique(&mut e.addresses, address.join(", "));
        if let Some(c) = country_col.map(get) {
            let c = c.to_ascii_uppercase();
            if is_country_code(&c) {
                e.countries.push(c);
            }
        }
        match by_id.get(&id) {
            Some(i) => entries[*i].merge(e),
            None => {
                by_id.insert(id, entries.len());
                entries.push(e);
                lines.push(line);
            }
        }
    }
    parsed.entries = entries;
    parsed.validate(file, &lines);
    parsed
}
