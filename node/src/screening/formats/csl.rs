//! The US Consolidated Screening List CSV (trade.gov): a header naming at
//! least `name`; `alt_names`, `addresses` and `programs` separated by `;`;
//! `citizenships` and `nationalities` as country codes or names.
//!
//! Source id: the `_id` column when present, else the list abbreviation
//! from `source` (`Denied Persons List (DPL) - …` → `DPL`) with
//! `entity_number`, else with the name as a slug. Rows with the same source
//! id are one party listed again and are merged.

use super::{field, headed_rows, push_unique, slug, split_list, Merged, Parsed};
use crate::screening::countries;
use crate::screening::entry::{EntityType, WatchlistEntry};

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let Some((headers, rows)) = headed_rows(file, bytes, b',', &mut parsed) else {
        return parsed;
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let Some(name_col) = col("name") else {
        parsed.malformed(file, 1, "header has no name column");
        return parsed;
    };
    let cols = Cols {
        id: col("_id"),
        source: col("source"),
        number: col("entity_number"),
        kind: col("type"),
        programs: col("programs"),
        addresses: col("addresses"),
        alt_names: col("alt_names"),
        citizenships: col("citizenships"),
        nationalities: col("nationalities"),
        dates_of_birth: col("dates_of_birth"),
        ids: col("ids"),
        end_date: col("end_date"),
    };
    let mut merged = Merged::default();
    for (line, record) in rows {
        let get = |c: Option<usize>| c.and_then(|i| record.get(i)).map(field).unwrap_or_default();
        let name = get(Some(name_col));
        if name.is_empty() {
            parsed.malformed(file, line, "empty name");
            continue;
        }
        let entity_type = match get(cols.kind).parse::<EntityType>() {
            Ok(t) => t,
            Err(reason) => {
                parsed.warning(file, line, format!("{reason}; kept as unknown"));
                EntityType::Unknown
            }
        };
        let source = abbreviation(&get(cols.source));
        let id = match (get(cols.id), get(cols.number)) {
            (id, _) if !id.is_empty() => id,
            (_, n) if !n.is_empty() => join_id(&source, &n),
            _ => join_id(&source, &slug(&name)),
        };
        let mut e = WatchlistEntry::new(id, entity_type, name);
        for alias in split_list(&get(cols.alt_names), ';') {
            if alias != e.name {
                push_unique(&mut e.aliases, alias);
            }
        }
        e.programs = split_list(&get(cols.programs), ';');
        for address in split_list(&get(cols.addresses), ';') {
            // The country is the address's last part, usually as a code; an
            // address without one names no country (no warning).
            if let Some(code) = address.rsplit(',').next().and_then(countries::code) {
                push_unique(&mut e.countries, code.to_owned());
            }
            push_unique(&mut e.addresses, address);
        }
        for c in [cols.citizenships, cols.nationalities] {
            let values = split_list(&get(c), ';');
            parsed.countries(file, line, &mut e, values.iter().map(String::as_str));
        }
        e.details.dates_of_birth = split_list(&get(cols.dates_of_birth), ';');
        e.details.identifiers = split_list(&get(cols.ids), ';');
        let end = get(cols.end_date);
        if !end.is_empty() {
            e.details.expires_at_unix_ms = super::date_unix_ms(&end);
            e.details.expires = Some(end);
        }
        merged.add(line, e);
    }
    merged.finish(file, parsed)
}

struct Cols {
    id: Option<usize>,
    source: Option<usize>,
    number: Option<usize>,
    kind: Option<usize>,
    programs: Option<usize>,
    addresses: Option<usize>,
    alt_names: Option<usize>,
    citizenships: Option<usize>,
    nationalities: Option<usize>,
    dates_of_birth: Option<usize>,
    ids: Option<usize>,
    end_date: Option<usize>,
}

/// `Denied Persons List (DPL) - Bureau of Industry and Security` → `DPL`;
/// without parentheses, the source as a slug.
fn abbreviation(source: &str) -> String {
    match (source.find('('), source.find(')')) {
        (Some(a), Some(b)) if b > a + 1 => source[a + 1..b].trim().to_owned(),
        _ => slug(source),
    }
}

fn join_id(source: &str, rest: &str) -> String {
    if source.is_empty() {
        rest.to_owned()
    } else {
        format!("{source}-{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::abbreviation;

    #[test]
    fn source_abbreviations() {
        assert_eq!(
            abbreviation("Denied Persons List (DPL) - Bureau of Industry and Security"),
            "DPL"
        );
        assert_eq!(
            abbreviation("Specially Designated Nationals (SDN) - Treasury Department"),
            "SDN"
        );
        assert_eq!(abbreviation("Some List"), "some-list");
        assert_eq!(abbreviation(""), "");
    }
}
