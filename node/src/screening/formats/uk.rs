//! The UK OFSI consolidated list CSV (`ConList.csv`): a first line
//! `Last Updated,DD/MM/YYYY`, then a header (`Name 6`, `Name 1` …
//! `Name 5`, `Title`, `Name Non-Latin Script`, `DOB`, `Nationality`,
//! `Passport Number`, `Passport Details`, `National Identification
//! Number`, `National Identification Details`, `Address 1` … `Address 6`,
//! `Post/Zip Code`, `Country`, `Group Type`, `Alias Type`, `Regime`,
//! `Listed On`, `Group ID` …), one row per name.
//!
//! The rows sharing a `Group ID` are one party, whose source id it is (a
//! row without one is malformed). Its name comes from the row whose `Alias
//! Type` is `Primary name` (else its first row): `Name 1` … `Name 5`, then
//! `Name 6` (the surname, or the whole name of an entity); a row with no
//! name is malformed. The other rows' names (`AKA`, `FKA`, `Primary name
//! variation`) and every `Name Non-Latin Script` are aliases. `Group Type`
//! `Individual`, `Entity` or `Ship` gives the type (another is kept as
//! unknown with a warning); `Nationality` and the address's `Country` the
//! countries, as names (OFSI writes some as adjectives, `Afghan`: those
//! are kept as written, with a warning); `Regime` the programs; `DOB`,
//! passport and national identification numbers the details, as written.
//! Fields listing several values as `(1) … (2) …` are split. `Listed On`,
//! `Title`, `Position` and `Other Information` are not kept.

use std::collections::HashMap;

use super::{field, headed_rows_after, push_unique, Parsed, Row};
use crate::screening::entry::{EntityType, WatchlistEntry};

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The `Last Updated` line before the header.
    let first_end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    let (body, lines_before) = if field(&bytes[..first_end])
        .to_ascii_lowercase()
        .starts_with("last updated")
    {
        (&bytes[first_end..], 1)
    } else {
        (bytes, 0)
    };
    let Some((headers, rows)) = headed_rows_after(file, body, b',', lines_before, &mut parsed)
    else {
        return parsed;
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(surname), Some(group)) = (col("name 6"), col("group id")) else {
        parsed.malformed(
            file,
            lines_before + 1,
            "header has no Name 6 or Group ID column",
        );
        return parsed;
    };
    let given: Vec<usize> = (1..=5).filter_map(|i| col(&format!("name {i}"))).collect();
    let cols = Cols {
        non_latin: col("name non-latin script"),
        dob: col("dob"),
        nationality: col("nationality"),
        passport: col("passport number"),
        passport_details: col("passport details"),
        national_id: col("national identification number"),
        national_id_details: col("national identification details"),
        address: (1..=6)
            .filter_map(|i| col(&format!("address {i}")))
            .chain(col("post/zip code"))
            .chain(col("country"))
            .collect(),
        country: col("country"),
        group_type: col("group type"),
        alias_type: col("alias type"),
        regime: col("regime"),
    };

    // Rows by Group ID, in first-seen order.
    let mut groups: Vec<(String, Vec<Row>)> = Vec::new();
    let mut by_group: HashMap<String, usize> = HashMap::new();
    for (line, record) in rows {
        let id = record.get(group).map(field).unwrap_or_default();
        if id.is_empty() {
            parsed.malformed(file, line, "no Group ID");
            continue;
        }
        match by_group.get(&id) {
            Some(&i) => groups[i].1.push((line, record)),
            None => {
                by_group.insert(id.clone(), groups.len());
                groups.push((id, vec![(line, record)]));
            }
        }
    }

    let mut entries = Vec::new();
    let mut lines = Vec::new();
    for (id, rows) in groups {
        let get = |r: &csv::ByteRecord, c: Option<usize>| {
            c.and_then(|i| r.get(i)).map(field).unwrap_or_default()
        };
        let name_of = |r: &csv::ByteRecord| {
            given
                .iter()
                .chain([&surname])
                .map(|c| get(r, Some(*c)))
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut named: Vec<(u64, &csv::ByteRecord, String)> = Vec::new();
        for (line, r) in &rows {
            let name = name_of(r);
            if name.is_empty() {
                parsed.malformed(file, *line, format!("group {id}: empty name"));
            } else {
                named.push((*line, r, name));
            }
        }
        let Some(primary) = named
            .iter()
            .position(|(_, r, _)| get(r, cols.alias_type).eq_ignore_ascii_case("primary name"))
            .or(if named.is_empty() { None } else { Some(0) })
        else {
            continue;
        };
        let (line, first, name) = &named[primary];
        let kind = match get(first, cols.group_type).to_ascii_lowercase().as_str() {
            "individual" => EntityType::Individual,
            "entity" => EntityType::Entity,
            "ship" => EntityType::Vessel,
            other => {
                parsed.warning(
                    file,
                    *line,
                    format!("{id}: unknown Group Type {other:?}; kept as unknown"),
                );
                EntityType::Unknown
            }
        };
        let mut e = WatchlistEntry::new(id.clone(), kind, name.clone());
        for (line, r, name) in &named {
            for alias in std::iter::once(name.clone()).chain(split(&get(r, cols.non_latin))) {
                if alias != e.name {
                    push_unique(&mut e.aliases, alias);
                }
            }
            push_unique(&mut e.programs, get(r, cols.regime));
            let nationalities = split(&get(r, cols.nationality));
            parsed.countries(
                file,
                *line,
                &mut e,
                nationalities.iter().map(String::as_str),
            );
            let address: Vec<String> = cols
                .address
                .iter()
                .map(|c| get(r, Some(*c)))
                .filter(|p| !p.is_empty())
                .collect();
            push_unique(&mut e.addresses, address.join(", "));
            let country = get(r, cols.country);
            parsed.countries(file, *line, &mut e, [country.as_str()]);
            for dob in split(&get(r, cols.dob)) {
                push_unique(&mut e.details.dates_of_birth, dob);
            }
            for (kind, number, details) in [
                ("Passport", cols.passport, cols.passport_details),
                (
                    "National identification number",
                    cols.national_id,
                    cols.national_id_details,
                ),
            ] {
                let numbers = split(&get(r, number));
                let details = get(r, details);
                for n in &numbers {
                    let text = if numbers.len() == 1 && !details.is_empty() {
                        format!("{kind} {n} ({details})")
                    } else {
                        format!("{kind} {n}")
                    };
                    push_unique(&mut e.details.identifiers, text);
                }
            }
        }
        entries.push(e);
        lines.push(rows[0].0);
    }
    parsed.entries = entries;
    parsed.validate(file, &lines);
    parsed
}

struct Cols {
    non_latin: Option<usize>,
    dob: Option<usize>,
    nationality: Option<usize>,
    passport: Option<usize>,
    passport_details: Option<usize>,
    national_id: Option<usize>,
    national_id_details: Option<usize>,
    /// Address 1 … 6, Post/Zip Code, Country.
    address: Vec<usize>,
    country: Option<usize>,
    group_type: Option<usize>,
    alias_type: Option<usize>,
    regime: Option<usize>,
}

/// `(1) Russia (2) Ukraine` → `Russia`, `Ukraine`; text without such
/// numbering is one value; empty gives none.
fn split(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    if !rest.starts_with("(1)") {
        if !rest.is_empty() {
            out.push(rest.to_owned());
        }
        return out;
    }
    let mut n = 1;
    while let Some(after) = rest.strip_prefix(&format!("({n})")) {
        let next = format!("({})", n + 1);
        let end = after.find(&next).unwrap_or(after.len());
        let value = after[..end].trim();
        if !value.is_empty() {
            out.push(value.to_owned());
        }
        rest = &after[end..];
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn numbered_values_are_split() {
        assert_eq!(split("(1) Russia (2) Ukraine"), ["Russia", "Ukraine"]);
        assert_eq!(split(" Syria "), ["Syria"]);
        assert_eq!(
            split("(1) 01/02/1960 (2) 00/00/1961"),
            ["01/02/1960", "00/00/1961"]
        );
        assert!(split("").is_empty());
    }
}

#[cfg(test)]
mod parse_tests {
    use super::parse;
    use crate::screening::entry::EntityType;

    #[test]
    fn rows_of_one_group_are_one_party_named_by_its_primary_row() {
        let text = "Last Updated,01/12/2025\n\
            Name 6,Name 1,Name Non-Latin Script,Nationality,Group Type,Alias Type,Regime,Group ID\n\
            PETROV,Vanya,,Russia,Individual,AKA,Russia,1\n\
            PETROV,Ivan,Иван Петров,Russia,Individual,Primary name,Russia,1\n\
            ,,,,Entity,AKA,Russia,2\n\
            ACME,,,,Entity,Primary name,Russia,\n\
            SEA,,,,Ship,Primary name,Russia,3\n";
        let p = parse("c.csv", text.as_bytes());
        let got: Vec<(&str, EntityType, &str)> = p
            .entries
            .iter()
            .map(|e| (e.source_id.as_str(), e.entity_type, e.name.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("1", EntityType::Individual, "Ivan PETROV"),
                ("3", EntityType::Vessel, "SEA")
            ]
        );
        assert_eq!(p.entries[0].aliases, ["Vanya PETROV", "Иван Петров"]);
        assert_eq!(p.entries[0].countries, ["RU"]);
        let bad: Vec<(u64, &str)> = p
            .malformed
            .iter()
            .map(|m| (m.line, m.reason.as_str()))
            .collect();
        assert_eq!(bad, [(5, "group 2: empty name"), (6, "no Group ID")]);
    }
}
