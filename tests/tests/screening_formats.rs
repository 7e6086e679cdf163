//! The list parsers on excerpts of the real published files: every format
//! yields its entries, and every malformed row is reported with its file and
//! line, never dropped silently. An auxiliary field no table resolves (a
//! country, a type) never costs the entry: it is kept as written, with a
//! warning naming file and line.
//!
//! The UN, EU, UK and FollowTheMoney fixtures are written by hand from each
//! publisher's documented layout (fictitious parties); each also goes
//! through `concord screen import` into a real node, where its parties are
//! found by their original-script names and aliases.

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
            // The files are CRLF: these are their lines as an editor
            // numbers them (the csv crate alone counts one short).
            ("add.csv", 65, "expected 6 fields"),
            ("alt.csv", 2, "unknown entry"),
            ("sdn.csv", 11, "not a number"),
            ("sdn.csv", 12, "expected 12 fields"),
            ("sdn.csv", 13, "listed again (first at line 1)"),
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

/// (source id, name) of each entry, in order.
fn names(p: &Parsed) -> Vec<(&str, &str)> {
    p.entries
        .iter()
        .map(|e| (e.source_id.as_str(), e.name.as_str()))
        .collect()
}

#[test]
fn un_security_council_consolidated_list_xml() {
    let p = read(Format::UnXml, "un/consolidated.xml");
    assert_eq!(
        names(&p),
        [
            ("QDi.901", "TARIQ MAHMOUD AL-ZUBAIDI"),
            ("KPi.901", "ANATOLY GRIGORYEVICH VORONTSEV"),
            ("KPe.901", "RED CRANE MARITIME COMPANY"),
        ]
    );
    check_malformed(&p, &[("consolidated.xml", 96, "KPe.902: no name")]);
    check_warnings(
        &p,
        &[(
            "consolidated.xml",
            55,
            "unknown country \"former Soviet Union\" kept as written",
        )],
    );
    let tariq = entry(&p, "QDi.901");
    assert_eq!(tariq.entity_type, EntityType::Individual);
    assert_eq!(
        tariq.aliases,
        ["طارق محمود الزبيدي", "Abu Hafs al-Baghdadi", "Abu Hafs"]
    );
    assert_eq!(tariq.countries, ["IQ"]);
    assert_eq!(tariq.programs, ["Al-Qaida"]);
    assert_eq!(tariq.addresses, ["Al-Mansour district, Baghdad, Iraq"]);
    assert_eq!(
        tariq.details.dates_of_birth,
        ["1971-03-14", "between 1970 and 1972"]
    );
    assert_eq!(tariq.details.identifiers, ["Passport A9012345 (Iraq)"]);
    let vorontsev = entry(&p, "KPi.901");
    assert_eq!(vorontsev.countries, ["RU"]);
    assert_eq!(
        vorontsev.details.unresolved_countries,
        ["former Soviet Union"]
    );
    assert_eq!(vorontsev.details.dates_of_birth, ["approximately 1958"]);
    let crane = entry(&p, "KPe.901");
    assert_eq!(crane.entity_type, EntityType::Entity);
    assert_eq!(
        crane.aliases,
        ["붉은학해운회사", "Songhak Shipping & Trading"]
    );
    assert_eq!(crane.countries, ["KP"]);
}

#[test]
fn eu_financial_sanctions_files_xml() {
    let p = read(Format::EuFsf, "eu/fsf.xml");
    assert_eq!(
        names(&p),
        [
            ("900101", "Polar Star Machine-Building Plant"),
            ("900201", "Tariq Mahmoud Al-Zubaidi"),
        ]
    );
    check_malformed(&p, &[("fsf.xml", 28, "900301: no nameAlias with a name")]);
    check_warnings(
        &p,
        &[(
            "fsf.xml",
            16,
            "unknown country \"Kurdistan Region\" kept as written",
        )],
    );
    let plant = entry(&p, "900101");
    assert_eq!(plant.entity_type, EntityType::Entity);
    assert_eq!(
        plant.aliases,
        [
            "Машиностроительный завод «Полярная звезда»",
            "Polyarnaya Zvezda Works"
        ]
    );
    assert_eq!(plant.programs, ["RUS"]);
    assert_eq!(plant.countries, ["RU"]);
    assert_eq!(
        plant.addresses,
        ["ul. Portovaya 3, Murmansk, 183001, RUSSIA"]
    );
    assert_eq!(
        plant.details.identifiers,
        [
            "Tax identification number 7701234567 (RUSSIA)",
            "EU reference number EU.9001.01"
        ]
    );
    let tariq = entry(&p, "900201");
    assert_eq!(tariq.entity_type, EntityType::Individual);
    assert_eq!(
        tariq.aliases,
        ["طارق محمود الزبيدي", "Abu Hafs al-Baghdadi"]
    );
    assert_eq!(tariq.countries, ["IQ"], "code 00 is the files' unknown");
    assert_eq!(tariq.details.unresolved_countries, ["Kurdistan Region"]);
    assert_eq!(tariq.details.dates_of_birth, ["1971-03-14"]);
    assert_eq!(
        tariq.details.identifiers,
        [
            "National passport A9012345 (IRAQ)",
            "EU reference number EU.9002.02",
            "UN reference number QDi.901"
        ]
    );
}

#[test]
fn uk_ofsi_consolidated_list_csv() {
    let p = read(Format::UkOfsi, "uk/conlist.csv");
    // One party per Group ID, named by its Primary name row.
    assert_eq!(
        names(&p),
        [
            ("90001", "Anatoly Grigoryevich VORONTSEV"),
            ("90002", "BLACK SEA GRAIN HOLDINGS"),
            ("90003", "NORTHERN LIGHT"),
        ]
    );
    check_malformed(
        &p,
        &[
            ("conlist.csv", 7, "group 90002: empty name"),
            ("conlist.csv", 9, "group 90004: empty name"),
        ],
    );
    check_warnings(
        &p,
        &[
            (
                "conlist.csv",
                3,
                "unknown country \"Soviet\" kept as written",
            ),
            (
                "conlist.csv",
                8,
                "unknown country \"Atlantis\" kept as written",
            ),
        ],
    );
    let vorontsev = entry(&p, "90001");
    assert_eq!(vorontsev.entity_type, EntityType::Individual);
    assert_eq!(
        vorontsev.aliases,
        [
            "Анатолий Григорьевич Воронцев",
            "Anatolii Grigorevich VORONTSEV"
        ]
    );
    assert_eq!(vorontsev.countries, ["RU"]);
    assert_eq!(vorontsev.details.dates_of_birth, ["00/00/1958"]);
    assert_eq!(
        vorontsev.details.identifiers,
        ["Passport 720011223 (Russian foreign travel passport)"]
    );
    assert_eq!(vorontsev.programs, ["Russia"]);
    let grain = entry(&p, "90002");
    assert_eq!(grain.entity_type, EntityType::Entity);
    assert_eq!(
        grain.aliases,
        ["CHERNOMOR AGRO", "Чорноморський Зерновий Холдинг"]
    );
    assert_eq!(grain.countries, ["UA"]);
    assert_eq!(
        grain.addresses,
        ["Portova Street 12, Odesa, 65000, Ukraine"]
    );
    assert_eq!(entry(&p, "90003").entity_type, EntityType::Vessel);
}

#[test]
fn followthemoney_entities() {
    let p = read(Format::Ftm, "ftm/entities.ftm.json");
    assert_eq!(
        names(&p),
        [
            ("fx-golden-falcon", "Golden Falcon Aviation Services LLC"),
            ("fx-vorontsev", "Anatoly Grigoryevich Vorontsev"),
            ("fx-northern-light", "NORTHERN LIGHT"),
            ("fx-airplane", "EP-FAL"),
        ]
    );
    // The Sanction and Address entities are not parties: skipped, counted.
    assert_eq!(p.ignored, 2);
    check_malformed(
        &p,
        &[
            ("entities.ftm.json", 6, "fx-nameless: no name"),
            ("entities.ftm.json", 7, "Person without an id"),
        ],
    );
    check_warnings(
        &p,
        &[(
            "entities.ftm.json",
            3,
            "unknown country \"suhh\" kept as written",
        )],
    );
    let falcon = entry(&p, "fx-golden-falcon");
    assert_eq!(falcon.entity_type, EntityType::Entity);
    assert_eq!(
        falcon.aliases,
        ["شركة الصقر الذهبي لخدمات الطيران", "Saqr Aviation", "GFAS"]
    );
    assert_eq!(falcon.countries, ["AE"]);
    assert_eq!(falcon.programs, ["IRAN-EO13846"]);
    assert_eq!(
        falcon.details.identifiers,
        ["Registration number CN-1234567"]
    );
    let vorontsev = entry(&p, "fx-vorontsev");
    assert_eq!(vorontsev.entity_type, EntityType::Individual);
    assert_eq!(
        vorontsev.aliases,
        ["Анатолий Григорьевич Воронцев", "Anatoly Voronin"]
    );
    assert_eq!(vorontsev.details.dates_of_birth, ["1958"]);
    assert_eq!(
        vorontsev.details.identifiers,
        ["Passport 720011223", "INN 780012345678"]
    );
    let ship = entry(&p, "fx-northern-light");
    assert_eq!(ship.entity_type, EntityType::Vessel);
    assert_eq!(ship.countries, ["PA"]);
    assert_eq!(ship.details.identifiers, ["IMO 9000001"]);
    assert_eq!(entry(&p, "fx-airplane").entity_type, EntityType::Aircraft);
}

/// A hostile XML file: a name far over the field limit costs only its
/// record (reported with its line), never the memory of the whole text.
#[test]
fn xml_text_over_the_field_limits_costs_only_its_record() {
    let huge = "A".repeat(8 << 20);
    let xml = format!(
        "<CONSOLIDATED_LIST><ENTITIES>\n<ENTITY><DATAID>1</DATAID><FIRST_NAME>{huge}</FIRST_NAME></ENTITY>\n<ENTITY><DATAID>2</DATAID><FIRST_NAME>FINE</FIRST_NAME><COMMENTS1>{huge}</COMMENTS1></ENTITY>\n</ENTITIES></CONSOLIDATED_LIST>"
    );
    let p = formats::parse(Format::UnXml, "big.xml", xml.as_bytes());
    check_malformed(&p, &[("big.xml", 2, "name: longer than")]);
    assert_eq!(
        names(&p),
        [("2", "FINE")],
        "an unused long field costs nothing"
    );
}

// ---- through the CLI, into a real node ---------------------------------

mod through_the_cli {
    use std::path::Path;

    use concord_tests::*;
    use serde_json::Value;

    use super::fixture;

    fn screen_json(profile: &Path, args: &[&str]) -> Value {
        let mut all = vec!["--profile", path_str(profile), "--output", "json", "screen"];
        all.extend_from_slice(args);
        let out = concord(&all);
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "concord screen {args:?} ({}): not JSON ({e}): {stdout} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// Each format imports through `concord screen import --format X`, and
    /// a query by an original-script name and one by an alias find the
    /// party, through the name they were given as.
    #[tokio::test]
    async fn every_new_format_imports_and_is_screened_by_original_script_and_alias() {
        init();
        let root = tempfile::tempdir().unwrap();
        let de = NodeDir::init(root.path(), "DE");
        let _node = NodeProcess::start(&de).await.unwrap();
        let admin = de.admin_profile();
        let analyst = de.issue("analyst", "ana");

        // (format, list, fixture, entries, malformed lines, warning lines,
        //  [(query, source id, matched name)])
        type Query = (&'static str, &'static str, &'static str);
        type Case = (
            &'static str,
            &'static str,
            &'static str,
            u64,
            &'static [u64],
            &'static [u64],
            [Query; 2],
        );
        let cases: [Case; 4] = [
            (
                "un-xml",
                "un-sc",
                "un/consolidated.xml",
                3,
                &[96],
                &[55],
                [
                    ("붉은학해운회사", "KPe.901", "붉은학해운회사"),
                    (
                        "Songhak Shipping and Trading",
                        "KPe.901",
                        "Songhak Shipping & Trading",
                    ),
                ],
            ),
            (
                "eu-fsf",
                "eu-fsf",
                "eu/fsf.xml",
                2,
                &[28],
                &[16],
                [
                    (
                        "Машиностроительный завод Полярная звезда",
                        "900101",
                        "Машиностроительный завод «Полярная звезда»",
                    ),
                    (
                        "Polyarnaya Zvezda Works",
                        "900101",
                        "Polyarnaya Zvezda Works",
                    ),
                ],
            ),
            (
                "uk-ofsi",
                "uk-ofsi",
                "uk/conlist.csv",
                3,
                &[7, 9],
                &[3, 8],
                [
                    (
                        "Чорноморський Зерновий Холдинг",
                        "90002",
                        "Чорноморський Зерновий Холдинг",
                    ),
                    ("Chernomor Agro", "90002", "CHERNOMOR AGRO"),
                ],
            ),
            (
                "ftm",
                "opensanctions",
                "ftm/entities.ftm.json",
                4,
                &[6, 7],
                &[3],
                [
                    (
                        "شركة الصقر الذهبي لخدمات الطيران",
                        "fx-golden-falcon",
                        "شركة الصقر الذهبي لخدمات الطيران",
                    ),
                    ("Saqr Aviation", "fx-golden-falcon", "Saqr Aviation"),
                ],
            ),
        ];
        for (format, list, file, entries, malformed, warnings, queries) in cases {
            let path = fixture(file);
            let mut args = vec!["--profile", path_str(&admin), "--output", "json"];
            args.extend(["screen", "import", "--format", format, "--list", list]);
            args.push(path_str(&path));
            let out = concord(&args);
            // Malformed rows and warnings: imported, but not clean (exit 13).
            assert_eq!(out.status.code(), Some(13), "{format}: {out:?}");
            let r: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(r["format"], format);
            assert_eq!(r["entries"], entries, "{format}: {r:#}");
            let lines = |key: &str| -> Vec<u64> {
                r[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|m| m["line"].as_u64())
                    .collect()
            };
            assert_eq!(lines("malformed"), malformed, "{format}: {r:#}");
            assert_eq!(lines("warnings"), warnings, "{format}: {r:#}");
            // FollowTheMoney's Sanction and Address records: left out, counted.
            let ignored = if format == "ftm" { 2 } else { 0 };
            assert_eq!(r["ignored"], ignored, "{format}: {r:#}");

            for (query, id, matched) in queries {
                let found = screen_json(&analyst, &["query", query, "--limit", "3"]);
                let m = &found["matches"][0];
                assert_eq!(
                    (m["list"].as_str(), m["source_id"].as_str()),
                    (Some(list), Some(id)),
                    "{format}: {query:?} → {found:#}"
                );
                assert_eq!(m["matched_name"], matched, "{format}: {found:#}");
            }
        }
        let lists = screen_json(&analyst, &["lists"]);
        let formats: Vec<(&str, &str)> = lists["lists"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| Some((l["name"].as_str()?, l["format"].as_str()?)))
            .collect();
        for (list, format) in [
            ("un-sc", "un-xml"),
            ("eu-fsf", "eu-fsf"),
            ("uk-ofsi", "uk-ofsi"),
            ("opensanctions", "ftm"),
        ] {
            assert!(formats.contains(&(list, format)), "{formats:?}");
        }
    }
}
