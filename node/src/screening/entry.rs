//! A watchlist entry: one listed party with its names, as every import
//! format is turned into and as the store keeps it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Longest source id, in bytes.
pub const MAX_SOURCE_ID: usize = 128;
/// Longest name, alias or address, in bytes.
pub const MAX_NAME: usize = 1024;
/// Most aliases of one entry (some OFAC entries list well over a hundred).
pub const MAX_ALIASES: usize = 1000;
/// Most addresses, countries or programs of one entry.
pub const MAX_DETAILS: usize = 256;

/// What kind of party an entry is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub enum EntityType {
    Individual,
    Entity,
    Vessel,
    Aircraft,
    /// The list does not say (the BIS Denied Persons List, denial notices).
    #[default]
    Unknown,
}

impl EntityType {
    pub const ALL: [EntityType; 5] = [
        EntityType::Individual,
        EntityType::Entity,
        EntityType::Vessel,
        EntityType::Aircraft,
        EntityType::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Individual => "individual",
            EntityType::Entity => "entity",
            EntityType::Vessel => "vessel",
            EntityType::Aircraft => "aircraft",
            EntityType::Unknown => "unknown",
        }
    }
}

impl FromStr for EntityType {
    type Err = String;

    /// Case-insensitive; the empty string is `unknown`, `organization` an entity.
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "" => Ok(EntityType::Unknown),
            "organization" | "organisation" | "company" => Ok(EntityType::Entity),
            "person" => Ok(EntityType::Individual),
            _ => EntityType::ALL
                .iter()
                .copied()
                .find(|t| t.as_str() == lower)
                .ok_or_else(|| {
                    format!(
                        "unknown entity type {s:?}; expected individual, entity, vessel, aircraft or unknown"
                    )
                }),
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One listed party.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchlistEntry {
    /// The list's own identifier (OFAC ent_num, CSL `_id` …); unique in its list.
    pub source_id: String,
    pub entity_type: EntityType,
    pub name: String,
    pub aliases: Vec<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub countries: Vec<String>,
    pub addresses: Vec<String>,
    /// Sanctions programs or legal bases, as the list names them.
    pub programs: Vec<String>,
    /// What the list says beside names, countries, addresses and programs.
    /// Kept in its own store tree (see `watchlists`), so entries stored
    /// before it existed still decode.
    #[serde(skip)]
    pub details: EntryDetails,
}

/// An entry's auxiliary fields, kept as the list writes them: a value no
/// table resolves is kept here rather than costing the entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDetails {
    /// Country names the country table does not know (`former Soviet Union`).
    pub unresolved_countries: Vec<String>,
    pub dates_of_birth: Vec<String>,
    /// Passport, registration, tax, IMO … numbers, with their kind.
    pub identifiers: Vec<String>,
    /// When the listing ends (BIS DPL `Expiration_Date`), as written.
    pub expires: Option<String>,
    /// `expires` as a time; entries past it are not matched.
    pub expires_at_unix_ms: Option<i64>,
}

impl EntryDetails {
    pub fn is_empty(&self) -> bool {
        *self == EntryDetails::default()
    }

    fn lists(&self) -> [&Vec<String>; 3] {
        [
            &self.unresolved_countries,
            &self.dates_of_birth,
            &self.identifiers,
        ]
    }
}

impl WatchlistEntry {
    /// Bytes of the entry's text: what [`super::ListCaps::bytes`] counts.
    pub fn text_bytes(&self) -> usize {
        let d = &self.details;
        text_bytes(
            [&self.source_id, &self.name]
                .into_iter()
                .chain(d.expires.as_ref()),
            [
                &self.aliases,
                &self.countries,
                &self.addresses,
                &self.programs,
            ]
            .into_iter()
            .chain(d.lists()),
        )
    }

    pub fn new(
        source_id: impl Into<String>,
        entity_type: EntityType,
        name: impl Into<String>,
    ) -> Self {
        WatchlistEntry {
            source_id: source_id.into(),
            entity_type,
            name: name.into(),
            aliases: Vec::new(),
            countries: Vec::new(),
            addresses: Vec::new(),
            programs: Vec::new(),
            details: EntryDetails::default(),
        }
    }

    /// The primary name, then the aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Checks sizes and characters; says which field is wrong.
    pub fn validate(&self) -> Result<(), String> {
        text("source_id", &self.source_id, MAX_SOURCE_ID)?;
        text("name", &self.name, MAX_NAME)?;
        if self.aliases.len() > MAX_ALIASES {
            return Err(format!("aliases: at most {MAX_ALIASES}"));
        }
        for a in &self.aliases {
            text("aliases", a, MAX_NAME)?;
        }
        let d = &self.details;
        for (field, values) in [
            ("countries", &self.countries),
            ("addresses", &self.addresses),
            ("programs", &self.programs),
            ("unresolved_countries", &d.unresolved_countries),
            ("dates_of_birth", &d.dates_of_birth),
            ("identifiers", &d.identifiers),
        ] {
            if values.len() > MAX_DETAILS {
                return Err(format!("{field}: at most {MAX_DETAILS}"));
            }
            for v in values {
                text(field, v, MAX_NAME)?;
            }
        }
        if let Some(x) = &d.expires {
            text("expires", x, MAX_NAME)?;
        }
        for c in &self.countries {
            if !is_country_code(c) {
                return Err(format!(
                    "countries: {c:?} is not a two-letter upper-case country code"
                ));
            }
        }
        Ok(())
    }

    /// Adds what `other` (the same party listed again) says that this entry does not.
    pub fn merge(&mut self, other: WatchlistEntry) {
        let add = |into: &mut Vec<String>, from: Vec<String>| {
            for v in from {
                if !into.contains(&v) {
                    into.push(v);
                }
            }
        };
        let mut names = vec![other.name];
        names.extend(other.aliases);
        names.retain(|n| n != &self.name);
        add(&mut self.aliases, names);
        add(&mut self.countries, other.countries);
        add(&mut self.addresses, other.addresses);
        add(&mut self.programs, other.programs);
        let (d, o) = (&mut self.details, other.details);
        add(&mut d.unresolved_countries, o.unresolved_countries);
        add(&mut d.dates_of_birth, o.dates_of_birth);
        add(&mut d.identifiers, o.identifiers);
        if d.expires.is_none() {
            d.expires = o.expires;
            d.expires_at_unix_ms = o.expires_at_unix_ms;
        }
        if self.entity_type == EntityType::Unknown {
            self.entity_type = other.entity_type;
        }
    }
}

pub fn is_country_code(c: &str) -> bool {
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())
}

fn text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field}: empty"));
    }
    if value.len() > max {
        return Err(format!("{field}: longer than {max} bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("{field}: contains control characters"));
    }
    Ok(())
}

/// Bytes of an entry's text fields, from its single fields and its lists
/// (shared with the import RPC, which counts wire entries the same way).
pub fn text_bytes<'a>(
    single: impl IntoIterator<Item = &'a String>,
    lists: impl IntoIterator<Item = &'a Vec<String>>,
) -> usize {
    let one: usize = single.into_iter().map(String::len).sum();
    let many: usize = lists.into_iter().flatten().map(String::len).sum();
    one.saturating_add(many)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_types_parse_leniently() {
        assert_eq!(
            "Individual".parse::<EntityType>(),
            Ok(EntityType::Individual)
        );
        assert_eq!("".parse::<EntityType>(), Ok(EntityType::Unknown));
        assert_eq!("organization".parse::<EntityType>(), Ok(EntityType::Entity));
        assert!("spaceship".parse::<EntityType>().is_err());
    }

    #[test]
    fn validation_names_the_field() {
        let mut e = WatchlistEntry::new("1", EntityType::Entity, "ACME");
        assert!(e.validate().is_ok());
        e.countries.push("Cuba".into());
        assert!(e.validate().unwrap_err().starts_with("countries"));
        e.countries.clear();
        e.aliases.push(" ".into());
        assert!(e.validate().unwrap_err().starts_with("aliases"));
        e.aliases.clear();
        e.source_id = "x".repeat(MAX_SOURCE_ID + 1);
        assert!(e.validate().unwrap_err().starts_with("source_id"));
    }

    #[test]
    fn merging_keeps_every_name_once() {
        let mut a = WatchlistEntry::new("x", EntityType::Unknown, "JOHN DOE");
        a.addresses.push("1 Main St".into());
        let mut b = WatchlistEntry::new("x", EntityType::Individual, "JOHN DOE");
        b.aliases.push("J. DOE".into());
        b.addresses.push("1 Main St".into());
        b.addresses.push("2 Side St".into());
        a.merge(b);
        assert_eq!(a.aliases, ["J. DOE"]);
        assert_eq!(a.addresses, ["1 Main St", "2 Side St"]);
        assert_eq!(a.entity_type, EntityType::Individual);
    }
}
