//! The UN Security Council consolidated list XML: `CONSOLIDATED_LIST`
//! with `INDIVIDUALS/INDIVIDUAL` and `ENTITIES/ENTITY` records.
//!
//! - source id: `REFERENCE_NUMBER` (`QDi.001`, what resolutions cite),
//!   else `DATAID`; neither is malformed, and so is an id listed twice;
//! - name: `FIRST_NAME` … `FOURTH_NAME` joined; none is malformed;
//! - aliases: `NAME_ORIGINAL_SCRIPT` and every `INDIVIDUAL_ALIAS` /
//!   `ENTITY_ALIAS` `ALIAS_NAME`, whatever its `QUALITY` (`Good`, `Low`:
//!   weak aliases are screened, as OFAC's are);
//! - countries: `NATIONALITY/VALUE` and the addresses' `COUNTRY`, as names
//!   (unknown ones kept as written, with a warning);
//! - addresses: `STREET`, `CITY`, `STATE_PROVINCE`, `ZIP_CODE`, `COUNTRY`;
//! - programs: `UN_LIST_TYPE` (`Al-Qaida`, `DPRK` …);
//! - dates of birth: `DATE`, `YEAR` or `FROM_YEAR`–`TO_YEAR`, with
//!   `TYPE_OF_DATE` when it is not `EXACT`;
//! - identifiers: `INDIVIDUAL_DOCUMENT` as `TYPE_OF_DOCUMENT NUMBER
//!   (ISSUING_COUNTRY)`.
//!
//! `LISTED_ON`, comments, designations and places of birth are not kept:
//! entries have no field for them.

use super::xml::{self, Element, ListFormat, SeenIds};
use super::{push_unique, Parsed};
use crate::screening::entry::{EntityType, WatchlistEntry};

pub fn parse(file: &str, bytes: &[u8]) -> Parsed {
    let format = ListFormat {
        is_record: |n| n == "INDIVIDUAL" || n == "ENTITY",
        root: "CONSOLIDATED_LIST",
        called: "a UN consolidated list",
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
    let id = [r.text_of("REFERENCE_NUMBER"), r.text_of("DATAID")]
        .into_iter()
        .find(|id| !id.is_empty());
    let Some(id) = id else {
        parsed.malformed(
            file,
            line,
            format!("{}: no REFERENCE_NUMBER or DATAID", r.name),
        );
        return None;
    };
    if parsed.listed_again(file, line, by_id.get(id).copied(), id) {
        return None;
    }
    let name = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
        .iter()
        .map(|n| r.text_of(n))
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        parsed.malformed(
            file,
            line,
            format!("{id}: no name (FIRST_NAME … FOURTH_NAME)"),
        );
        return None;
    }
    by_id.insert(id.to_owned(), line);
    let (kind, alias_tag, address_tag) = if r.name == "INDIVIDUAL" {
        (
            EntityType::Individual,
            "INDIVIDUAL_ALIAS",
            "INDIVIDUAL_ADDRESS",
        )
    } else {
        (EntityType::Entity, "ENTITY_ALIAS", "ENTITY_ADDRESS")
    };
    let mut e = WatchlistEntry::new(id, kind, name);
    let aliases = std::iter::once(r.text_of("NAME_ORIGINAL_SCRIPT"))
        .chain(r.all(alias_tag).map(|a| a.text_of("ALIAS_NAME")));
    for alias in aliases {
        if alias != e.name {
            push_unique(&mut e.aliases, alias.to_owned());
        }
    }
    push_unique(&mut e.programs, r.text_of("UN_LIST_TYPE").to_owned());

    let nationalities: Vec<&str> = r
        .all("NATIONALITY")
        .flat_map(|n| n.all("VALUE"))
        .map(|v| v.text.as_str())
        .collect();
    parsed.countries(file, line, &mut e, nationalities);
    for a in r.all(address_tag) {
        let parts: Vec<&str> = ["STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY"]
            .iter()
            .map(|p| a.text_of(p))
            .filter(|p| !p.is_empty())
            .collect();
        push_unique(&mut e.addresses, parts.join(", "));
        parsed.countries(file, line, &mut e, [a.text_of("COUNTRY")]);
    }
    for d in r.all("INDIVIDUAL_DATE_OF_BIRTH") {
        push_unique(&mut e.details.dates_of_birth, date_of_birth(d));
    }
    for d in r.all("INDIVIDUAL_DOCUMENT") {
        push_unique(&mut e.details.identifiers, document(d));
    }
    Some(e)
}

/// `1964-07-17`, `1964`, `1960 to 1962`, with the date's type before it
/// unless it is exact (`APPROXIMATELY 1964`).
fn date_of_birth(d: &Element) -> String {
    let (from, to) = (d.text_of("FROM_YEAR"), d.text_of("TO_YEAR"));
    let date = [d.text_of("DATE"), d.text_of("YEAR")]
        .into_iter()
        .find(|x| !x.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| match (from.is_empty(), to.is_empty()) {
            (false, false) => format!("{from} to {to}"),
            _ => format!("{from}{to}"),
        });
    let kind = d.text_of("TYPE_OF_DATE");
    if date.is_empty() || kind.is_empty() || kind.eq_ignore_ascii_case("EXACT") {
        date
    } else if kind.eq_ignore_ascii_case("BETWEEN") && date.contains(" to ") {
        format!("between {}", date.replace(" to ", " and "))
    } else {
        format!("{} {date}", kind.to_ascii_lowercase())
    }
}

/// `Passport 654310175 (Democratic People's Republic of Korea)`.
fn document(d: &Element) -> String {
    let kind = [
        d.text_of("TYPE_OF_DOCUMENT"),
        d.text_of("TYPE_OF_DOCUMENT2"),
    ]
    .into_iter()
    .find(|x| !x.is_empty())
    .unwrap_or("Document");
    let number = d.text_of("NUMBER");
    let country = [d.text_of("ISSUING_COUNTRY"), d.text_of("COUNTRY_OF_ISSUE")]
        .into_iter()
        .find(|x| !x.is_empty());
    let mut out = format!("{kind} {number}").trim().to_owned();
    if let Some(c) = country {
        out.push_str(&format!(" ({c})"));
    }
    if number.is_empty() {
        let note = d.text_of("NOTE");
        if !note.is_empty() {
            out.push_str(&format!(": {note}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::screening::entry::EntityType;

    fn check(xml: &str, expected: &[(&str, EntityType, &str, &[&str])]) {
        let p = parse("un.xml", xml.as_bytes());
        let got: Vec<(&str, EntityType, &str, Vec<&str>)> = p
            .entries
            .iter()
            .map(|e| {
                let aliases = e.aliases.iter().map(String::as_str).collect();
                (
                    e.source_id.as_str(),
                    e.entity_type,
                    e.name.as_str(),
                    aliases,
                )
            })
            .collect();
        let expected: Vec<(&str, EntityType, &str, Vec<&str>)> = expected
            .iter()
            .map(|(id, t, n, a)| (*id, *t, *n, a.to_vec()))
            .collect();
        assert_eq!(got, expected, "{:?}", p.malformed);
    }

    #[test]
    fn names_original_script_and_aliases() {
        check(
            "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>\
             <FIRST_NAME>IVAN</FIRST_NAME><SECOND_NAME>PETROV</SECOND_NAME>\
             <REFERENCE_NUMBER>XXi.1</REFERENCE_NUMBER>\
             <NAME_ORIGINAL_SCRIPT>Иван Петров</NAME_ORIGINAL_SCRIPT>\
             <INDIVIDUAL_ALIAS><QUALITY>Low</QUALITY><ALIAS_NAME>Vanya</ALIAS_NAME></INDIVIDUAL_ALIAS>\
             <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME/></INDIVIDUAL_ALIAS>\
             </INDIVIDUAL></INDIVIDUALS><ENTITIES><ENTITY><DATAID>2</DATAID>\
             <FIRST_NAME>ACME &amp; SONS</FIRST_NAME></ENTITY></ENTITIES></CONSOLIDATED_LIST>",
            &[
                ("XXi.1", EntityType::Individual, "IVAN PETROV", &["Иван Петров", "Vanya"]),
                ("2", EntityType::Entity, "ACME & SONS", &[]),
            ],
        );
    }

    #[test]
    fn dates_documents_and_bad_records() {
        let xml = "<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>A</FIRST_NAME>\
            <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1960</FROM_YEAR><TO_YEAR>1962</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>\
            <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1961</YEAR></INDIVIDUAL_DATE_OF_BIRTH>\
            <INDIVIDUAL_DOCUMENT><TYPE_OF_DOCUMENT>Passport</TYPE_OF_DOCUMENT><NUMBER>P1</NUMBER><ISSUING_COUNTRY>Iraq</ISSUING_COUNTRY></INDIVIDUAL_DOCUMENT>\
            </INDIVIDUAL>\n<INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>B</FIRST_NAME></INDIVIDUAL>\n\
            <INDIVIDUAL><FIRST_NAME>C</FIRST_NAME></INDIVIDUAL>\n</INDIVIDUALS>\n</CONSOLIDATED_LIST>";
        let p = parse("un.xml", xml.as_bytes());
        assert_eq!(p.entries.len(), 1);
        let d = &p.entries[0].details;
        assert_eq!(
            d.dates_of_birth,
            ["between 1960 and 1962", "approximately 1961"]
        );
        assert_eq!(d.identifiers, ["Passport P1 (Iraq)"]);
        let bad: Vec<(u64, &str)> = p
            .malformed
            .iter()
            .map(|m| (m.line, m.reason.as_str()))
            .collect();
        assert_eq!(
            bad,
            [
                (4, "1 listed again (first at line 3)"),
                (5, "INDIVIDUAL: no REFERENCE_NUMBER or DATAID")
            ]
        );
        let p = parse("x.xml", b"<export/>");
        assert!(
            p.malformed[0].reason.contains("not a UN consolidated list"),
            "{:?}",
            p.malformed
        );
    }
}
