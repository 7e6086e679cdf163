//! The screening service over a real store: imports replace lists
//! atomically and survive a restart, queries merge lists, denial notices
//! become screenable.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::audit::AuditLog;
use crate::crypto::{CertificateAuthority, RecordSigner, Validity};
use crate::exchange::records::{DeniedItem, Party};
use crate::exchange::{DenialDraft, Distribution, Exchange};
use crate::identity::{Caller, Jurisdiction, Role};
use crate::peers::PeerDirectory;
use crate::trust_bundle::TrustBundle;

struct Node {
    store: Store,
    audit: Arc<AuditLog>,
    signer: Arc<RecordSigner>,
    dir: tempfile::TempDir,
}

fn node() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), "DE").unwrap());
    Node {
        store,
        audit,
        signer,
        dir,
    }
}

fn entry(id: &str, name: &str, aliases: &[&str], countries: &[&str]) -> WatchlistEntry {
    let mut e = WatchlistEntry::new(id, EntityType::Entity, name);
    e.aliases = aliases.iter().map(|s| s.to_string()).collect();
    e.countries = countries.iter().map(|s| s.to_string()).collect();
    e
}

fn sdn() -> Vec<WatchlistEntry> {
    vec![
        entry(
            "306",
            "BANCO NACIONAL DE CUBA",
            &["NATIONAL BANK OF CUBA", "BNC"],
            &["CU"],
        ),
        entry(
            "3754",
            "ABU MARZOOK, Mousa Mohammed",
            &["ABU-'UMAR"],
            &["JO"],
        ),
        entry("9640", "ABU TEIR, Mohammed", &[], &[]),
    ]
}

fn ids(r: &ScreenResult) -> Vec<(&str, &str)> {
    r.matches
        .iter()
        .map(|m| (m.list.as_str(), m.source_id.as_str()))
        .collect()
}

fn ask(s: &Screening, name: &str) -> ScreenResult {
    s.query(&ScreenRequest {
        name: name.into(),
        ..Default::default()
    })
    .unwrap()
}

#[tokio::test]
async fn imported_lists_are_screened_and_survive_a_restart() {
    let n = node();
    let s = Screening::open(n.store.clone(), n.audit.clone(), 0.85).unwrap();
    assert!(s.lists().is_empty());
    let out = s
        .import("DE/admin/ada", "ofac-sdn", "ofac-csv", sdn())
        .await
        .unwrap();
    assert_eq!((out.entries, out.names, out.replaced), (3, 6, 0));
    let r = ask(&s, "Mousa Abu Marzouk");
    assert_eq!(ids(&r), [("ofac-sdn", "3754")]);
    let m = &r.matches[0];
    assert_eq!(m.matched_name, "ABU MARZOOK, Mousa Mohammed");
    assert!(m.score >= 0.85 && m.score < 1.0, "{}", m.score);
    assert!(
        m.explanation.contains("marzouk=marzook (variant)"),
        "{}",
        m.explanation
    );
    assert_eq!(r.threshold, 0.85);

    let lists = s.lists();
    assert_eq!(lists.len(), 1);
    assert_eq!(
        (
            lists[0].name.as_str(),
            lists[0].format.as_str(),
            lists[0].entries,
            lists[0].names
        ),
        ("ofac-sdn", "ofac-csv", 3, 6)
    );
    assert_eq!(lists[0].imported_by, "DE/admin/ada");
    let audit = n.audit.entries(1, u64::MAX).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.record.as_str()),
        ("watchlist.import", "ofac-sdn")
    );
    drop(s);

    let s = Screening::open(n.store.clone(), n.audit.clone(), 0.85).unwrap();
    assert_eq!(
        ids(&ask(&s, "National Bank of Cuba")),
        [("ofac-sdn", "306")]
    );
    assert_eq!(s.lists()[0].entries, 3);
}

#[tokio::test]
async fn a_reimport_replaces_the_list_whole() {
    let n = node();
    let s = Screening::open(n.store.clone(), n.audit.clone(), 0.85).unwrap();
    s.import("DE/admin/ada", "ofac-sdn", "ofac-csv", sdn())
        .await
        .unwrap();
    s.import(
        "DE/admin/ada",
        "bis-dpl",
        "bis-dpl",
        vec![entry("x", "ACME TRADING FZE", &[], &["AE"])],
    )
    .await
    .unwrap();
    let replacement = vec![
        entry("9640", "ABU TEIR, Mohammed", &[], &[]),
        entry("1", "NEW PARTY", &[], &[]),
    ];
    let out = s
        .import("DE/admin/bob", "ofac-sdn", "ofac-csv", replacement)
        .await
        .unwrap();
    assert_eq!((out.entries, out.replaced), (2, 3));
    assert!(
        ask(&s, "Banco Nacional de Cuba").matches.is_empty(),
        "the old entry is gone"
    );
    assert_eq!(ids(&ask(&s, "New Party")), [("ofac-sdn", "1")]);
    assert_eq!(
        ids(&ask(&s, "Acme Trading")),
        [("bis-dpl", "x")],
        "other lists are untouched"
    );
    drop(s);
    // The store holds exactly the new list.
    let s = Screening::open(n.store.clone(), n.audit.clone(), 0.85).unwrap();
    assert!(ask(&s, "Banco Nacional de Cuba").matches.is_empty());
    let names: Vec<(String, usize)> = s.lists().into_iter().map(|l| (l.name, l.entries)).collect();
    assert_eq!(
        names,
        [("bis-dpl".to_owned(), 1), ("ofac-sdn".to_owned(), 2)]
    );
}

#[tokio::test]
async fn a_bad_import_writes_nothing() {
    let n = node();
    let s = Screening::open(n.store.clone(), n.audit.clone(), 0.85).unwrap();
    s.import("DE/admin/ada", "ofac-sdn", "ofac-csv", sdn())
        .await
        .unwrap();
    let audit_before = n.audit.count().await;
    let mut dup = sdn();
    dup.push(entry("306", "AGAIN", &[], &[]));
    let mut bad_country = sdn();
    bad_country[0].countries = vec!["Cuba".into()];
    for (list, entries, needle) in [
        ("ofac-sdn", dup, "appears twice"),
        ("ofac-sdn", bad_country, "countries"),
        ("ofac-sdn", vec![], "no entries"),
        ("denials", sdn(), "reserved"),
        ("Bad Name", sdn(), "list name"),
    ] {
        let err = s
            .import("DE/admin/ada", list, "ofac-csv", entries)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert_eq!(n.audit.count().await, audit_before);
    assert_eq!(s.lists()[0].entries, 3);
    assert_eq!(
        ids(&ask(&s, "Banco Nacional de Cuba")),
        [("ofac-sdn", "306")]
    );
}

/// A list beyond any configured cap is refused before it is indexed, with
/// ResourceExhausted naming the cap and its config key; the list held
/// stays as it was.
#[tokio::test]
async fn an_import_beyond_a_cap_is_refused_and_changes_nothing() {
    let n = node();
    let caps = ListCaps {
        entries: 4,
        names: 8,
        bytes: 200,
    };
    let s = Screening::open(n.store.clone(), n.audit.clone(), 0.85)
        .unwrap()
        .with_caps(caps);
    s.import("DE/admin/ada", "ofac-sdn", "ofac-csv", sdn())
        .await
        .unwrap();
    let audit_before = n.audit.count().await;
    let many = |count: usize, aliases: &[&str], name: &str| -> Vec<WatchlistEntry> {
        (0..count)
            .map(|i| entry(&format!("x{i}"), name, aliases, &[]))
            .collect()
    };
    for (entries, key) in [
        (many(5, &[], "A"), "[screening] max_list_entries"),
        (
            many(2, &["B", "C", "D", "E"], "A"),
            "[screening] max_list_names",
        ),
        (
            many(2, &[], &"LONG NAME ".repeat(15)),
            "[screening] max_list_bytes",
        ),
    ] {
        let err = s
            .import("DE/admin/ada", "ofac-sdn", "jsonl", entries)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ResourceExhausted(_)), "{err}");
        assert!(err.to_string().contains(key), "{err}");
        assert!(err.to_string().contains("nothing imported"), "{err}");
    }
    assert_eq!(n.audit.count().await, audit_before);
    assert_eq!(s.lists()[0].entries, 3);
    assert_eq!(s.lists()[0].format, "ofac-csv");
    // At the caps exactly is fine.
    s.import("DE/admin/ada", "ofac-sdn", "jsonl", many(4, &[], "A"))
        .await
        .unwrap();
    assert_eq!(s.lists()[0].entries, 4);
}

#[tokio::test]
async fn queries_take_a_limit_a_threshold_and_countries() {
    let n = node();
    let s = Screening::open(n.store.clone(), n.audit.clone(), 0.85).unwrap();
    s.import("DE/admin/ada", "ofac-sdn", "ofac-csv", sdn())
        .await
        .unwrap();
    let req = |name: &str, limit, threshold, countries: &[&str]| ScreenRequest {
        name: name.into(),
        limit,
        threshold,
        countries: countries.iter().map(|c| c.to_string()).collect(),
        lists: vec![],
    };
    // A lower threshold admits weaker matches, best first.
    let loose = s.query(&req("Mohammed Abu", 0, Some(0.5), &[])).unwrap();
    assert!(loose.matches.len() >= 2, "{loose:?}");
    assert!(loose.matches.windows(2).all(|w| w[0].score >= w[1].score));
    let one = s.query(&req("Mohammed Abu", 1, Some(0.5), &[])).unwrap();
    assert_eq!(one.matches.len(), 1);
    assert_eq!(one.matches[0], loose.matches[0]);
    // Countries: entries of other countries drop out; entries with none stay.
    let cu = s
        .query(&req("Banco Nacional de Cuba", 0, None, &["CU"]))
        .unwrap();
    assert_eq!(ids(&cu), [("ofac-sdn", "306")]);
    assert!(s
        .query(&req("Banco Nacional de Cuba", 0, None, &["DE"]))
        .unwrap()
        .matches
        .is_empty());
    assert_eq!(
        ids(&s
            .query(&req("Mohammed Abu Teir", 0, None, &["DE"]))
            .unwrap()),
        [("ofac-sdn", "9640")]
    );
    for bad in [
        req("", 0, None, &[]),
        req("x", 101, None, &[]),
        req("x", 0, Some(0.0), &[]),
        req("x", 0, Some(1.5), &[]),
        req("x", 0, None, &["Cuba"]),
        req("a\u{0}b", 0, None, &[]),
    ] {
        assert!(
            matches!(s.query(&bad), Err(Error::InvalidArgument(_))),
            "{bad:?}"
        );
    }
    let batch = s
        .query_batch(
            &[
                "Banco Nacional de Cuba".into(),
                "Nobody At All".into(),
                "Mousa Abu Marzook".into(),
            ],
            &ScreenRequest::default(),
        )
        .unwrap();
    let firsts: Vec<Option<&str>> = batch
        .iter()
        .map(|r| r.matches.first().map(|m| m.source_id.as_str()))
        .collect();
    assert_eq!(firsts, [Some("306"), None, Some("3754")]);
    assert_eq!(batch[1].query, "Nobody At All");
}

#[tokio::test]
async fn denial_notices_are_screened_until_revoked() {
    let de = node();
    let s = Arc::new(Screening::open(de.store.clone(), de.audit.clone(), 0.85).unwrap());
    let de_code: Jurisdiction = "DE".parse().unwrap();
    let peers = Arc::new(PeerDirectory::open(de.store.clone(), de_code.clone()).unwrap());
    let exchange = Arc::new(
        Exchange::open(
            de.store.clone(),
            de_code.clone(),
            de.signer.clone(),
            peers.clone(),
            de.audit.clone(),
        )
        .unwrap(),
    );
    // A peer to send the denial to.
    let fr: Jurisdiction = "FR".parse().unwrap();
    let (ca, _) = CertificateAuthority::generate(&fr, Validity::days(1)).unwrap();
    let fr_signer = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
    peers
        .add(
            "DE/admin/test",
            TrustBundle {
                jurisdiction: fr.clone(),
                endpoint: "127.0.0.1:1".into(),
                ca_cert_pem: ca.cert_pem().into(),
                signing_public_key: fr_signer.public_key().to_vec(),
                retired_signing_keys: Vec::new(),
            },
        )
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let following = tokio::spawn(s.clone().follow_denials(exchange.clone(), stop_rx));

    let officer = Caller::new(de_code, Role::Officer, "olaf").unwrap();
    let draft = DenialDraft {
        party: Party {
            name: "Acme Trading FZE".into(),
            aliases: vec!["Akme Tradding".into()],
            country: "AE".into(),
            address: "Jebel Ali".into(),
        },
        items: vec![DeniedItem {
            code: "3A001".into(),
            description: String::new(),
        }],
        destination: "IR".into(),
        end_use: String::new(),
        reason: "diversion risk".into(),
        valid_for: None,
    };
    let dist = Distribution {
        to: vec![fr],
        groups: vec![],
    };
    let issued = exchange.issue_denial(&officer, draft, dist).await.unwrap();
    let id = issued.header.record_id.clone();
    let found = wait_for(&s, "ACME TRADING FZE", |r| r.matches.len() == 1).await;
    assert_eq!(ids(&found), [("denials", id.as_str())]);
    assert_eq!(found.matches[0].countries, ["AE"]);
    let lists = s.lists();
    assert_eq!(
        (lists[0].name.as_str(), lists[0].kind, lists[0].entries),
        ("denials", ListKind::Denials, 1)
    );

    exchange
        .revoke_denial(&officer, &id, "appeal".into())
        .await
        .unwrap();
    wait_for(&s, "ACME TRADING FZE", |r| r.matches.is_empty()).await;
    stop_tx.send_replace(true);
    following.await.unwrap();
    drop(de.dir);
}

/// Polls until the screening result satisfies `ok` (the denials list is
/// rebuilt in the background).
async fn wait_for(s: &Screening, name: &str, ok: impl Fn(&ScreenResult) -> bool) -> ScreenResult {
    for _ in 0..500 {
        let r = ask(s, name);
        if ok(&r) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "screening {name:?} never satisfied the condition: {:?}",
        ask(s, name)
    );
}
