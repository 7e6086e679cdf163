//! The EU Financial Sanctions Files XML (FSF, schema 1.1): an `export`
//! root (in the publisher's namespace, with or without a prefix) holding
//! `sanctionEntity` records whose fields are attributes of child elements.
//!
//! - source id: the entity's `logicalId`, else its `euReferenceNumber`;
//!   neither is malformed, and so is an id listed twice;
//! - type: `subjectType code` `person` (individual) or `enterprise`
//!   (entity); another code is kept as unknown with a warning;
//! - name: the first `nameAlias` in Latin script (no `nameLanguage`, or
//!   `EN`) with a `wholeName` (else `firstName middleName lastName`), else
//!   the first with any name; none is malformed. Every other `nameAlias`
//!   is an alias, those written in their own script (`nameLanguage` `RU`,
//!   `AR` …) included;
//! - countries: `citizenship` and `address` `countryIso2Code` (`00`, the
//!   files' unknown, is skipped; an empty code falls back to
//!   `countryDescription`, kept as written with a warning when unknown);
//! - programs: each `regulation programme`;
//! - dates of birth: `birthdate birthdate=`, else `year` (`circa` when the
//!   file says so);
//! - identifiers: `identification` as `identificationTypeDescription number
//!   (countryDescription)`, and the entity's `euReferenceNumber` and
//!   `unitedNationId`;
//! - addresses: `street`, `poBox`, `city`, `zipCode`, `region`, `place`,
//!   `countryDescription`.

use super::xml::{self, Element, ListFormat, SeenIds};
use super::{push_unique, Parsed};
use crate::screening::entry::{EntityType, WatchlistEntry};

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let format = ListFormat {
        is_record: |n| n == "sanctionEntity",
        root: "export",
        called: "an EU Financial Sanctions File",
    };
    xml::parse_list(file, bytes, &format, entry)
}

fn entry(
    file: &str,
    line: u64,
    r: &Element,
    parsed: &mut Parsed,
    by_id: &mut SeenIds,
) -> Option<WatchlistEntry> {
    let reference = r.attr("euReferenceNumber");
    let Some(id) = [r.attr("logicalId"), reference]
        .into_iter()
        .find(|id| !id.is_empty())
    else {
        parsed.malformed(
            file,
            line,
            "sanctionEntity: no logicalId or euReferenceNumber",
        );
        return None;
    };
    if parsed.listed_again(file, line, by_id.get(id).copied(), id) {
        return None;
    }
    let names: Vec<(&str, String)> = r
        .all("nameAlias")
        .map(|a| (a.attr("nameLanguage"), whole_name(a)))
        .filter(|(_, n)| !n.is_empty())
        .collect();
    let primary = names
        .iter()
        .position(|(lang, _)| lang.is_empty() || lang.eq_ignore_ascii_case("EN"))
        .or(if names.is_empty() { None } else { Some(0) });
    let Some(primary) = primary else {
        parsed.malformed(file, line, format!("{id}: no nameAlias with a name"));
        return None;
    };
    by_id.insert(id.to_owned(), line);
    let code = r.all("subjectType").next().map_or("", |s| s.attr("code"));
    let kind = match code.to_ascii_lowercase().as_str() {
        "person" => EntityType::Individual,
        "enterprise" => EntityType::Entity,
        other => {
            parsed.warning(
                file,
                line,
                format!("{id}: unknown subjectType {other:?}; kept as unknown"),
            );
            EntityType::Unknown
        }
    };
    let mut e = WatchlistEntry::new(id, kind, names[primary].1.clone());
    for (_, alias) in names {
        if alias != e.name {
            push_unique(&mut e.aliases, alias);
        }
    }
    for reg in r.all("regulation") {
        push_unique(&mut e.programs, reg.attr("programme").to_owned());
    }
    for c in r.all("citizenship") {
        country(file, line, &mut e, c, parsed);
    }
    for a in r.all("address") {
        let parts: Vec<&str> = [
            "street",
            "poBox",
            "city",
            "zipCode",
            "region",
            "place",
            "countryDescription",
        ]
        .iter()
        .map(|p| a.attr(p))
        .filter(|p| !p.is_empty() && *p != "UNKNOWN")
        .collect();
        push_unique(&mut e.addresses, parts.join(", "));
        country(file, line, &mut e, a, parsed);
    }
    for b in r.all("birthdate") {
        let date = [b.attr("birthdate"), b.attr("year")]
            .into_iter()
            .find(|d| !d.is_empty())
            .unwrap_or("");
        let date = if !date.is_empty() && b.attr("circa") == "true" {
            format!("circa {date}")
        } else {
            date.to_owned()
        };
        push_unique(&mut e.details.dates_of_birth, date);
    }
    for i in r.all("identification") {
        let number = [i.attr("number"), i.attr("latinNumber")]
            .into_iter()
            .find(|n| !n.is_empty());
        let Some(number) = number else { continue };
        let kind = [
            i.attr("identificationTypeDescription"),
            i.attr("identificationTypeCode"),
        ]
        .into_iter()
        .find(|k| !k.is_empty())
        .unwrap_or("Identification");
        let mut text = format!("{kind} {number}");
        let issuer = [i.attr("countryDescription"), i.attr("countryIso2Code")]
            .into_iter()
            .find(|c| !c.is_empty() && *c != "00" && *c != "UNKNOWN");
        if let Some(c) = issuer {
            text.push_str(&format!(" ({c})"));
        }
        push_unique(&mut e.details.identifiers, text);
    }
    if !reference.is_empty() {
        push_unique(
            &mut e.details.identifiers,
            format!("EU reference number {reference}"),
        );
    }
    let un = r.attr("unitedNationId");
    if !un.is_empty() {
        push_unique(
            &mut e.details.identifiers,
            format!("UN reference number {un}"),
        );
    }
    Some(e)
}

/// `wholeName`, else `firstName middleName lastName`.
fn whole_name(a: &Element) -> String {
    let whole = a.attr("wholeName");
    if !whole.is_empty() {
        return whole.to_owned();
    }
    ["firstName", "middleName", "lastName"]
        .iter()
        .map(|n| a.attr(n))
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An element's `countryIso2Code` (`00` is the files' unknown), else its
/// `countryDescription`.
fn country(file: &str, line: u64, e: &mut WatchlistEntry, el: &Element, parsed: &mut Parsed) {
    let code = el.attr("countryIso2Code");
    let name = if code.is_empty() {
        el.attr("countryDescription")
    } else if code == "00" {
        return;
    } else {
        code
    };
    parsed.countries(file, line, e, [name]);
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::screening::entry::EntityType;

    #[test]
    fn namespaced_entities_with_names_in_their_own_script() {
        let xml = r#"<fsd:export xmlns:fsd="http://eu.europa.ec/fpi/fsd/export">
<fsd:sanctionEntity logicalId="7" euReferenceNumber="EU.1.2">
<fsd:subjectType code="person"/>
<fsd:nameAlias wholeName="Иван Петров" nameLanguage="RU"/>
<fsd:nameAlias firstName="Ivan" lastName="Petrov" wholeName="" nameLanguage=""/>
<fsd:regulation programme="RUS"/><fsd:regulation programme="RUS"/>
<fsd:citizenship countryIso2Code="RU"/><fsd:citizenship countryIso2Code="00"/>
<fsd:birthdate birthdate="" year="1960" circa="true"/>
<fsd:identification number="123" identificationTypeCode="passport" countryIso2Code="RU" countryDescription="RUSSIA"/>
</fsd:sanctionEntity>
<fsd:sanctionEntity logicalId="8"><fsd:subjectType code="vessel"/><fsd:nameAlias wholeName="SEA"/></fsd:sanctionEntity>
</fsd:export>"#;
        let p = parse("eu.xml", xml.as_bytes());
        assert!(p.malformed.is_empty(), "{:?}", p.malformed);
        let e = &p.entries[0];
        assert_eq!(
            (e.source_id.as_str(), e.entity_type),
            ("7", EntityType::Individual)
        );
        assert_eq!(
            (e.name.as_str(), e.aliases.as_slice()),
            ("Ivan Petrov", &["Иван Петров".to_owned()][..])
        );
        assert_eq!(e.programs, ["RUS"]);
        assert_eq!(e.countries, ["RU"]);
        assert_eq!(e.details.dates_of_birth, ["circa 1960"]);
        assert_eq!(
            e.details.identifiers,
            ["passport 123 (RUSSIA)", "EU reference number EU.1.2"]
        );
        assert_eq!(p.entries[1].entity_type, EntityType::Unknown);
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert_eq!(p.warnings[0].line, 11);
    }
}
