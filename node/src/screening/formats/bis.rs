//! The BIS Denied Persons List: tab-separated, quoted, with a header
//! (`Name`, `Street_Address`, `City`, `State`, `Country`, `Postal_Code`,
//! `Effective_Date`, `Expiration_Date`, `Standard_Order`, `Last_Update`,
//! `Action`, `FR_Citation`).
//!
//! The list has no identifiers and names a party once per address or order,
//! so rows with the same name become one entry whose source id is the name
//! as a slug (`AARON ABRAHAM VILLA` → `aaron-abraham-villa`); its addresses
//! and countries accumulate. `Expiration_Date` is kept: an entry past it
//! is screened but marked expired and ranked below those in force.

use super::{field, headed_rows, push_unique, slug, Merged, Parsed};
use crate::screening::entry::{EntityType, WatchlistEntry};

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let Some((headers, rows)) = headed_rows(file, bytes, b'\t', &mut parsed) else {
        return parsed;
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
    let expiry_col = col("expiration_date");
    let mut merged = Merged::default();
    for (line, record) in rows {
        let get = |i: usize| record.get(i).map(field).unwrap_or_default();
        let name = get(name_col);
        let id = slug(&name);
        if id.is_empty() {
            parsed.malformed(file, line, "empty name");
            continue;
        }
        let mut e = WatchlistEntry::new(id, EntityType::Unknown, name);
        let address: Vec<String> = address_cols
            .iter()
            .map(|c| get(*c))
            .filter(|s| !s.is_empty())
            .collect();
        push_unique(&mut e.addresses, address.join(", "));
        if let Some(c) = country_col.map(get) {
            parsed.countries(file, line, &mut e, [c.as_str()]);
        }
        if let Some(x) = expiry_col.map(get).filter(|x| !x.is_empty()) {
            e.details.expires_at_unix_ms = super::date_unix_ms(&x);
            e.details.expires = Some(x);
        }
        merged.add(line, e);
    }
    merged.finish(file, parsed)
}
