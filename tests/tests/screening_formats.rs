//! The list parsers on excerpts of the real published files: every format
//! yields its entries, and every malformed row is reported with its file and
//! line, never dropped silently. An auxiliary field no table resolves (a
//! country, a type) never costs the entry: it is kept as written, with a
//! warning naming file and line.

use std::path::PathBuf;

use concord_node::screening::formats::{self, Format, Parsed};
use concord_node::screening::{EntityType, WatchlistEntry};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/screening")
        .join(path)
}

fn read(format: Format, path: &str) -> Parsed {
    formats::read(format, &fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn entry<'a>(p: &'a Parsed, id: &str) -> &'a WatchlistEntry {
    p.entries
        .iter()
        .find(|e| e.source_id == id)
        .unwrap_or_else(|| panic!("no entry {id}"))
}

/// (file, line, a word of the reason) of each malformed row.
fn malformed(p: &Parsed) -> Vec<(String, u64, String)> {
    p.malformed
        .iter()
        .map(|m| (m.file.clone(), m.line, m.reason.clone()))
        .collect()
}

fn check_malformed(p: &Parsed, expected: &[(&str, u64, &str)]) {
    check_issues(malformed(p), expected);
}

fn check_warnings(p: &Parsed, expected: &[(&str, u64, &str)]) {
    let got = p
        .warnings
        .iter()
        .map(|m| (m.file.clone(), m.line, m.reason.clone()))
        .collect();
    check_issues(got, expected);
}

fn check_issues(got: Vec<(String, u64, String)>, expected: &[(&str, u64, &str)]) {
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((file, line, reason), (ef, el, er)) in got.iter().zip(expected) {
        assert_eq!((file.as_str(), *line), (*ef, *el), "{reason}");
        assert!(
            reason.contains(er),
            "{file}:{line}: {reason:?} should mention {er:?}"
        );
    }
}

#[test]
fn ofac_legacy_csv_with_aliases_addresses_and_weak_aliases() {
    let p = read(Format::OfacCsv, "ofac");
    assert_eq!(p.entries.len(), 306);
    assert!(p.malformed.is_empty(), "{:?}", p.malformed);
    let cuba = entry(&p, "306");
    assert_eq!(cuba.name, "BANCO NACIONAL DE CUBA");
    assert_eq!(cuba.entity_type, EntityType::Entity);
    // `a.k.a. 'BNC'` from the remarks, `NATIONAL BANK OF CUBA` from alt.csv.
    assert_eq!(cuba.aliases, ["BNC", "NATIONAL BANK OF CUBA"]);
    assert!(
        cuba.countries.contains(&"CH".to_owned()),
        "{:?}",
        cuba.countries
    );
    assert!(cuba.addresses.iter().any(|a| a.contains("Zurich")));
    assert_eq!(cuba.programs, ["CUBA"]);
    let pacho = entry(&p, "4106");
    assert_eq!(pacho.entity_type, EntityType::Individual);
    assert!(
        pacho.aliases.contains(&"PACHO".to_owned()),
        "{:?}",
        pacho.aliases
    );
    assert!(pacho.aliases.contains(&"H7".to_owned()));
    // `-0-` is empty, never a name or a country.
    assert!(p.entries.iter().all(|e| e.names().all(|n| n != "-0-")));
    assert!(p.entries.iter().all(|e| e.validate().is_ok()));
    // Vessels and aircraft keep their type.
    let types: std::collections::BTreeSet<EntityType> =
        p.entries.iter().map(|e| e.entity_type).collect();
    assert!(types.contains(&EntityType::Vessel), "{types:?}");
}

#[test]
fn ofac_malformed_rows_are_reported_by_file_and_line() {
    let p = read(Format::OfacCsv, "ofac_malformed");
    assert_eq!(p.entries.len(), 20);
    check_malformed(
        &p,
        &[
            ("add.csv", 64, "expected 6 fields"),
            ("alt.csv", 1, "unknown entry"),
            ("sdn.csv", 10, "not a number"),
            ("sdn.csv", 11, "expected 12 fields"),
            ("sdn.csv", 12, "listed again (first at line 1)"),
        ],
    );
    // The duplicate did not replace the first.
    assert_eq!(entry(&p, "36").name, "AEROCARIBBEAN AIRLINES");
}

#[test]
fn the_consolidated_non_sdn_layout_is_found_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [("sdn.csv", "cons_prim.csv"), ("alt.csv", "cons_alt.csv")] {
        std::fs::copy(fixture("ofac").join(from), dir.path().join(to)).unwrap();
    }
    let p = formats::read(Format::OfacCsv, dir.path()).unwrap();
    assert_eq!(p.entries.len(), 306);
    assert!(entry(&p, "306").addresses.is_empty(), "no cons_add.csv");
    let err = formats::read(Format::OfacCsv, &fixture("bis")).unwrap_err();
    assert!(
        err.to_string()
            .contains("neither sdn.csv nor cons_prim.csv"),
        "{err}"
    );
    let err = formats::read(Format::OfacCsv, &fixture("bis/dpl.txt")).unwrap_err();
    assert!(err.to_string().contains("folder"), "{err}");
}

#[test]
fn bis_denied_persons_list() {
    let p = read(Format::BisDpl, "bis/dpl.txt");
    assert!(p.malformed.is_empty(), "{:?}", p.malformed);
    // 150 rows; a party listed at several addresses is one entry.
    assert_eq!(p.entries.len(), 115);
    let ash = entry(&p, "i-ash");
    assert_eq!(ash.name, "I. ASH");
    assert_eq!(ash.countries, ["US"]);
    // "AL-NASER  AIRLINES" and "AL NASER AIRLINES" rows are one party, with every address.
    let al_naser = entry(&p, "al-naser-airlines");
    assert!(al_naser.addresses.len() >= 2, "{:?}", al_naser.addresses);
    assert!(p
        .entries
        .iter()
        .all(|e| e.entity_type == EntityType::Unknown));

    let p = read(Format::BisDpl, "bis/dpl_malformed.txt");
    check_malformed(
        &p,
        &[
            ("dpl_malformed.txt", 7, "expected 12 fields, found 1"),
            ("dpl_malformed.txt", 8, "empty name"),
        ],
    );
    assert_eq!(p.entries.len(), 9);
}

#[test]
fn consolidated_screening_list_csv() {
    let p = read(Format::CslCsv, "csl/csl_sample_2019.csv");
    assert!(p.malformed.is_empty(), "{:?}", p.malformed);
    assert_eq!(p.entries.len(), 110);
    let canada = entry(&p, "SDN-8124");
    assert_eq!(canada.name, "2904977 CANADA, INC.");
    assert_eq!(canada.entity_type, EntityType::Entity);
    assert_eq!(canada.aliases, ["CARIBE SOL", "HAVANTUR CANADA INC."]);
    assert_eq!(canada.countries, ["CA"]);
    // Lists without entity numbers get the name as id, under the list's abbreviation.
    assert_eq!(
        entry(&p, "DPL-adrian-manuel-hernandez").name,
        "ADRIAN MANUEL HERNANDEZ"
    );
    // Cells spanning lines are one line of text.
    assert!(p.entries.iter().all(|e| e.validate().is_ok()));

    let p = read(Format::CslCsv, "csl/consolidated_sample_2025.csv");
    assert!(p.malformed.is_empty(), "{:?}", p.malformed);
    assert_eq!(p.entries.len(), 13);
    let atlas = entry(
        &p,
        "1b5979e8fd3920a1a0985bf5088dad930a6a5562d1513f9e4b015e42",
    );
    assert_eq!(
        (atlas.name.as_str(), atlas.countries.as_slice()),
        ("Atlas Sanatgaran", &["AM".to_owned()][..])
    );

    let p = read(Format::CslCsv, "csl/csl_malformed.csv");
    check_malformed(
        &p,
        &[
            ("csl_malformed.csv", 5, "expected 28 fields, found 3"),
            ("csl_malformed.csv", 6, "empty name"),
        ],
    );
    // An unknown type is an auxiliary field: the entry stays, typed unknown.
    check_warnings(&p, &[("csl_malformed.csv", 7, "unknown entity type")]);
    assert_eq!(p.entries.len(), 7);
}

#[test]
fn json_lines() {
    let p = read(Format::Jsonl, "jsonl/parties.jsonl");
    assert!(p.malformed.is_empty(), "{:?}", p.malformed);
    let ids: Vec<&str> = p.entries.iter().map(|e| e.source_id.as_str()).collect();
    assert_eq!(ids, ["X-1", "2", "X-3", "X-4"]);
    let petrov = entry(&p, "2");
    assert_eq!(petrov.entity_type, EntityType::Individual);
    assert_eq!(petrov.countries, ["RU"], "country names become codes");
    assert_eq!(entry(&p, "X-3").countries, ["RU"], "codes are upper-cased");
    assert_eq!(entry(&p, "X-4").entity_type, EntityType::Vessel);

    let p = read(Format::Jsonl, "jsonl/malformed.jsonl");
    check_malformed(
        &p,
        &[
            ("malformed.jsonl", 2, "EOF while parsing"),
            ("malformed.jsonl", 3, "missing field `id`"),
            ("malformed.jsonl", 4, "listed again (first at line 1)"),
            ("malformed.jsonl", 7, "name: empty"),
        ],
    );
    check_warnings(
        &p,
        &[
            ("malformed.jsonl", 5, "unknown entity type"),
            (
                "malformed.jsonl",
                6,
                "unknown country \"Atlantis\" kept as written",
            ),
        ],
    );
    let ids: Vec<&str> = p.entries.iter().map(|e| e.source_id.as_str()).collect();
    assert_eq!(ids, ["M-1", "M-5", "M-6", "M-8"]);
    assert_eq!(entry(&p, "M-5").entity_type, EntityType::Unknown);
    assert_eq!(entry(&p, "M-6").details.unresolved_countries, ["Atlantis"]);
}

/// Countries as the UN, EU and UK lists write them resolve to codes; what no
/// table knows is kept as written; none of them costs the entity (issue 12).
#[test]
fn publisher_country_spellings_never_drop_an_entity() {
    let names = [
        ("Democratic People's Republic of Korea", Some("KP")),
        (
            "United Kingdom of Great Britain and Northern Ireland",
            Some("GB"),
        ),
        ("United Republic of Tanzania", Some("TZ")),
        ("State of Palestine", Some("PS")),
        ("Türkiye", Some("TR")),
        ("China, Hong Kong Special Administrative Region", Some("HK")),
        ("former Soviet Union", None),
    ];
    let text: String = names
        .iter()
        .enumerate()
        .map(|(i, (c, _))| {
            format!("{{\"id\": {i}, \"name\": \"PARTY {i}\", \"countries\": [\"{c}\"]}}\n")
        })
        .collect();
    let p = formats::parse(Format::Jsonl, "publishers.jsonl", text.as_bytes());
    assert!(p.malformed.is_empty(), "{:?}", p.malformed);
    assert_eq!(p.entries.len(), names.len(), "no entity dropped");
    for (e, (name, code)) in p.entries.iter().zip(names) {
        match code {
            Some(code) => assert_eq!(e.countries, [code], "{name}"),
            None => assert_eq!(e.details.unresolved_countries, [name]),
        }
    }
    check_warnings(
        &p,
        &[(
            "publishers.jsonl",
            7,
            "unknown country \"former Soviet Union\" kept as written",
        )],
    );
}

/// OFAC remarks give dates of birth and identifiers; BIS DPL an expiry.
#[test]
fn details_are_kept_for_hit_context() {
    let p = read(Format::OfacCsv, "ofac");
    let with_dob = p
        .entries
        .iter()
        .filter(|e| !e.details.dates_of_birth.is_empty())
        .count();
    let with_ids = p
        .entries
        .iter()
        .filter(|e| !e.details.identifiers.is_empty())
        .count();
    assert!(with_dob > 50 && with_ids > 20, "{with_dob} {with_ids}");
    let p = read(Format::BisDpl, "bis/dpl.txt");
    let villa = entry(&p, "aaron-abraham-villa");
    assert_eq!(villa.details.expires.as_deref(), Some("01/14/2026"));
    assert!(villa.details.expires_at_unix_ms.is_some());
}

#[test]
fn garbage_is_reported_not_panicked_on() {
    for format in Format::ALL {
        for bytes in [
            &b""[..],
            b"\xff\xfe\x00garbage",
            b"\"unterminated",
            b"\x1a\x1a",
        ] {
            let p = formats::parse(format, "x", bytes);
            assert!(p.entries.iter().all(|e| e.validate().is_ok()), "{format}");
        }
    }
    // A file without the columns the format needs says so at line 1.
    let p = formats::parse(Format::CslCsv, "x.csv", b"a,b\n1,2\n");
    assert_eq!(
        malformed(&p),
        [(
            "x.csv".to_owned(),
            1,
            "header has no name column".to_owned()
        )]
    );
}
