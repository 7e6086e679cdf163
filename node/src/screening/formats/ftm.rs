//! OpenSanctions / FollowTheMoney entities, one JSON object per line:
//!
//! ```json
//! {"id": "NK-x", "schema": "Person", "caption": "Ivan Petrov",
//!  "properties": {"name": ["Ivan Petrov", "Иван Петров"], "alias": [],
//!                 "nationality": ["ru"], "birthDate": ["1960-01-02"]}}
//! ```
//!
//! Parties are the schemas `Person` (individual), `Organization`,
//! `Company`, `LegalEntity`, `PublicBody` (entity), `Vessel` and
//! `Airplane`. Every other schema (`Sanction`, `Address`,
//! `Identification`, `Ownership`, `Family` … the parts of the graph an
//! export such as `entities.ftm.json` holds beside its parties) is skipped
//! on purpose and counted in [`Parsed::ignored`], neither malformed nor
//! warned about: a complete export would otherwise never import clean. A
//! line that is not JSON, or has no `id` or `schema`, is malformed.
//!
//! - name: `caption` when it is one of the `name`s (else the first
//!   `name`; else `firstName` … `lastName` joined); none is malformed.
//!   The other `name`s (original scripts among them), `alias`,
//!   `weakAlias` and `previousName` are aliases;
//! - countries: `country`, `nationality`, `citizenship`, `jurisdiction`,
//!   `mainCountry`, `flag` — ISO codes in lower case, or the
//!   OpenSanctions codes such as `suhh` (Soviet Union), kept as written
//!   with a warning;
//! - `address` (text values; `addressEntity` references are not followed),
//!   `program` / `programId`, `birthDate`; identifiers from `idNumber`,
//!   `passportNumber`, `innCode`, `ogrnCode`, `taxNumber`,
//!   `registrationNumber`, `vatCode`, `leiCode`, `swiftBic`, `imoNumber`,
//!   `mmsi`, `callSign`, written as `INN 7707083893`;
//! - values that are not strings (the nested entities of
//!   `targets.nested.json`) are passed over. `topics` are not kept.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{json_lines, push_unique, Parsed};
use crate::screening::entry::{EntityType, WatchlistEntry};

/// Identifier properties and how an identifier of each kind is written.
const IDENTIFIERS: &[(&str, &str)] = &[
    ("idNumber", "ID"),
    ("passportNumber", "Passport"),
    ("innCode", "INN"),
    ("ogrnCode", "OGRN"),
    ("taxNumber", "Tax number"),
    ("registrationNumber", "Registration number"),
    ("vatCode", "VAT"),
    ("leiCode", "LEI"),
    ("swiftBic", "SWIFT/BIC"),
    ("imoNumber", "IMO"),
    ("mmsi", "MMSI"),
    ("callSign", "Call sign"),
];

const COUNTRIES: &[&str] = &[
    "country",
    "nationality",
    "citizenship",
    "jurisdiction",
    "mainCountry",
    "flag",
];

fn party(schema: &str) -> Option<EntityType> {
    match schema {
        "Person" => Some(EntityType::Individual),
        "Organization" | "Company" | "LegalEntity" | "PublicBody" => Some(EntityType::Entity),
        "Vessel" => Some(EntityType::Vessel),
        "Airplane" => Some(EntityType::Aircraft),
        _ => None,
    }
}

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let mut entries: Vec<WatchlistEntry> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    let mut by_id: HashMap<String, u64> = HashMap::new();
    for (line, raw) in json_lines(bytes) {
        let object = match serde_json::from_slice::<Value>(raw) {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                parsed.malformed(file, line, "not a FollowTheMoney entity: not an object");
                continue;
            }
            Err(e) => {
                parsed.malformed(file, line, format!("not a FollowTheMoney entity: {e}"));
                continue;
            }
        };
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::trim);
        let Some(schema) = text("schema").filter(|s| !s.is_empty()) else {
            parsed.malformed(file, line, "no schema");
            continue;
        };
        let Some(kind) = party(schema) else {
            parsed.ignored += 1;
            continue;
        };
        let Some(id) = text("id").filter(|s| !s.is_empty()) else {
            parsed.malformed(file, line, format!("{schema} without an id"));
            continue;
        };
        if parsed.listed_again(file, line, by_id.get(id).copied(), &format!("id {id:?}")) {
            continue;
        }
        let empty = Map::new();
        let props = object
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let values = |key: &str| -> Vec<String> {
            props
                .get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let names = values("name");
        let caption = text("caption").unwrap_or("");
        let name = if names.iter().any(|n| n == caption) {
            caption.to_owned()
        } else if let Some(first) = names.first() {
            first.clone()
        } else {
            [
                "firstName",
                "secondName",
                "middleName",
                "fatherName",
                "lastName",
            ]
            .iter()
            .flat_map(|k| values(k))
            .collect::<Vec<_>>()
            .join(" ")
        };
        if name.is_empty() {
            parsed.malformed(file, line, format!("{id}: no name"));
            continue;
        }
        let mut e = WatchlistEntry::new(id, kind, name);
        for key in ["name", "alias", "weakAlias", "previousName"] {
            for alias in values(key) {
                if alias != e.name {
                    push_unique(&mut e.aliases, alias);
                }
            }
        }
        for key in COUNTRIES {
            let codes = values(key);
            parsed.countries(file, line, &mut e, codes.iter().map(String::as_str));
        }
        for a in values("address") {
            push_unique(&mut e.addresses, a);
        }
        for key in ["program", "programId"] {
            for p in values(key) {
                push_unique(&mut e.programs, p);
            }
        }
        for d in values("birthDate") {
            push_unique(&mut e.details.dates_of_birth, d);
        }
        for (key, label) in IDENTIFIERS {
            for v in values(key) {
                push_unique(&mut e.details.identifiers, format!("{label} {v}"));
            }
        }
        by_id.insert(e.source_id.clone(), line);
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
    use crate::screening::entry::EntityType;

    #[test]
    fn parties_are_kept_and_the_rest_of_the_graph_is_ignored() {
        let text = concat!(
            r#"{"id": "a", "schema": "Person", "caption": "Ivan Petrov", "properties": {"name": ["Иван Петров", "Ivan Petrov"], "alias": ["Vanya"], "nationality": ["ru"], "innCode": ["77"], "sanctions": [{"id": "s"}]}}"#,
            "\n",
            r#"{"id": "s", "schema": "Sanction", "properties": {"entity": ["a"]}}"#,
            "\n\n",
            r#"{"id": "v", "schema": "Vessel", "properties": {"name": ["SEA"], "imoNumber": ["9000001"]}}"#,
            "\n",
            r#"{"id": "p", "schema": "Person", "properties": {"firstName": ["Anna"], "lastName": ["Lee"]}}"#,
            "\n",
            r#"{"id": "x", "properties": {"name": ["X"]}}"#,
            "\n",
            r#"[1, 2]"#,
            "\n",
        );
        let p = parse("e.json", text.as_bytes());
        let got: Vec<(&str, EntityType, &str)> = p
            .entries
            .iter()
            .map(|e| (e.source_id.as_str(), e.entity_type, e.name.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", EntityType::Individual, "Ivan Petrov"),
                ("v", EntityType::Vessel, "SEA"),
                ("p", EntityType::Individual, "Anna Lee"),
            ]
        );
        assert_eq!(p.entries[0].aliases, ["Иван Петров", "Vanya"]);
        assert_eq!(p.entries[0].countries, ["RU"]);
        assert_eq!(p.entries[0].details.identifiers, ["INN 77"]);
        assert_eq!(p.entries[1].details.identifiers, ["IMO 9000001"]);
        assert_eq!(p.ignored, 1);
        let bad: Vec<(u64, &str)> = p
            .malformed
            .iter()
            .map(|m| (m.line, m.reason.as_str()))
            .collect();
        assert_eq!(
            bad,
            [
                (6, "no schema"),
                (7, "not a FollowTheMoney entity: not an object")
            ]
        );
    }
}
