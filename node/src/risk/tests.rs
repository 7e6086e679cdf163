//! Scoring over a real store, audit log, exchange, licensing and screening:
//! the stored assessment adds up, a new denial notice and a list import
//! re-score open applications, and reaching the threshold flags once with an
//! audit entry — without touching the license.

use std::sync::Arc;

use super::*;
use crate::crypto::{CertificateAuthority, RecordSigner, Validity};
use crate::exchange::records::{AlertCategory, Severity, Subjects};
use crate::exchange::records::{DeniedItem, Party as NoticeParty};
use crate::exchange::{AlertDraft, DenialDraft, Distribution, RecordView};
use crate::identity::{Caller, Jurisdiction, Role};
use crate::licensing::{
    Application, CatalogEntry, Category, ItemDraft, Money, PartyDraft, SourcedEntry,
};
use crate::peers::PeerDirectory;
use crate::screening::{EntityType, WatchlistEntry};
use crate::trust_bundle::TrustBundle;

struct Env {
    risk: Arc<Risk>,
    licensing: Arc<Licensing>,
    exchange: Arc<Exchange>,
    screening: Arc<Screening>,
    audit: Arc<AuditLog>,
    _dir: tempfile::TempDir,
}

fn j(s: &str) -> Jurisdiction {
    s.parse().unwrap()
}

fn caller(role: Role, name: &str) -> Caller {
    Caller::new(j("DE"), role, name).unwrap()
}

/// A DE node with FR as peer, a small catalog, and `overrides` on the baseline.
async fn env(overrides: RiskFile) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), "DE").unwrap());
    let peers = Arc::new(PeerDirectory::open(store.clone(), j("DE")).unwrap());
    let (ca, _) = CertificateAuthority::generate(&j("FR"), Validity::days(1)).unwrap();
    let fr = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
    peers
        .add(
            "DE/admin/test",
            TrustBundle {
                jurisdiction: j("FR"),
                endpoint: "127.0.0.1:1".into(),
                ca_cert_pem: ca.cert_pem().into(),
                signing_public_key: fr.public_key().to_vec(),
                retired_signing_keys: Vec::new(),
            },
        )
        .await
        .unwrap();
    let exchange =
        Arc::new(Exchange::open(store.clone(), j("DE"), signer, peers, audit.clone()).unwrap());
    let licensing =
        Arc::new(Licensing::open(store.clone(), j("DE"), exchange.clone(), audit.clone()).unwrap());
    let catalog = [
        ("ML4", Category::Military, 3),
        ("ML13", Category::Military, 1),
        ("3A001", Category::DualUse, 2),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (code, category, tier))| SourcedEntry {
        line: i as u32 + 2,
        entry: CatalogEntry {
            code: code.into(),
            title: format!("{code} goods"),
            category,
            tier,
            rationale: "listed".into(),
        },
    })
    .collect();
    licensing
        .import_catalog(&caller(Role::Admin, "adam"), "test", catalog)
        .await
        .unwrap();
    let screening = Arc::new(Screening::open(store.clone(), audit.clone(), 0.85).unwrap());
    let effective = Effective::load(&overrides, std::path::Path::new(".")).unwrap();
    let risk = Arc::new(
        Risk::open(
            store,
            effective,
            licensing.clone(),
            screening.clone(),
            exchange.clone(),
            audit.clone(),
        )
        .unwrap(),
    );
    Env {
        risk,
        licensing,
        exchange,
        screening,
        audit,
        _dir: dir,
    }
}

async fn party(l: &Licensing, name: &str, country: &str) -> String {
    l.create_party(
        &caller(Role::Officer, "olivia"),
        PartyDraft {
            name: name.into(),
            country: country.into(),
            ..PartyDraft::default()
        },
        true,
    )
    .await
    .unwrap()
    .id
}

async fn submit(e: &Env, codes: &[&str]) -> License {
    let applicant = party(&e.licensing, "Nordwerk Defence GmbH", "DE").await;
    let end_user = party(&e.licensing, "Acme Trading FZE", "AE").await;
    let consignee = party(&e.licensing, "Gulf Logistics LLC", "AE").await;
    e.licensing
        .submit(
            &caller(Role::Officer, "olivia"),
            Application {
                applicant,
                items: codes
                    .iter()
                    .map(|c| ItemDraft {
                        code: c.to_string(),
                        description: String::new(),
                        quantity: 1,
                        value: Money {
                            minor_units: 100,
                            currency: "EUR".into(),
                        },
                    })
                    .collect(),
                end_user,
                consignee,
                intermediaries: vec![],
                destination: "AE".into(),
                end_use: "border surveillance".into(),
            },
        )
        .await
        .unwrap()
}

fn adds_up(a: &Assessment) {
    let sum: i32 = a.factors.iter().map(|f| f.points).sum();
    assert_eq!(sum, a.score as i32, "{a:#?}");
}

fn factor(a: &Assessment, kind: FactorKind) -> &Factor {
    a.factors.iter().find(|f| f.kind == kind).unwrap()
}

async fn flags(e: &Env) -> Vec<String> {
    let n = e.audit.count().await;
    e.audit
        .entries(1, n)
        .unwrap()
        .into_iter()
        .filter(|x| x.action == "risk.flag")
        .map(|x| x.record)
        .collect()
}

#[tokio::test]
async fn a_denial_rescores_open_applications_and_flags_once() {
    let e = env(RiskFile {
        review_threshold: Some(50),
        ..RiskFile::default()
    })
    .await;
    let license = submit(&e, &["ML4"]).await;
    let first = e.risk.assess(&license.id, "submission").await.unwrap();
    adds_up(&first);
    // ML4 advanced military 25, AE tier 2 10.
    assert_eq!(first.score, 35, "{first:#?}");
    assert!(!first.flagged);
    assert_eq!(first.methodology, "concord-baseline 1.1");
    // Nothing new: a pass stores nothing.
    assert_eq!(e.risk.rescore_open("nothing").await.unwrap(), 0);

    let view = e
        .exchange
        .issue_denial(
            &caller(Role::Officer, "olivia"),
            DenialDraft {
                party: NoticeParty {
                    name: "ACME TRADING".into(),
                    country: "AE".into(),
                    ..NoticeParty::default()
                },
                items: vec![DeniedItem {
                    code: "ML4".into(),
                    description: String::new(),
                }],
                destination: "AE".into(),
                end_use: String::new(),
                reason: "diversion risk".into(),
                valid_for: None,
            },
            Distribution {
                to: vec![j("FR")],
                groups: vec![],
            },
        )
        .await
        .unwrap();
    let denial_id = view.header.record_id.clone();
    assert_eq!(e.risk.rescore_open("denial").await.unwrap(), 1);
    let second = e.risk.assessment(&license.id).unwrap();
    adds_up(&second);
    assert_eq!(second.score, 55, "{second:#?}");
    assert_eq!(second.previous_score, Some(35));
    assert_eq!(second.trigger, "denial");
    let denials = factor(&second, FactorKind::Denials);
    assert_eq!(denials.evidence, std::slice::from_ref(&denial_id));
    assert!(
        denials.explanation.contains("names end user"),
        "{}",
        denials.explanation
    );
    assert!(second.flagged && second.flagged_at_unix_ms.is_some());
    assert_eq!(flags(&e).await, std::slice::from_ref(&license.id));
    assert_eq!(e.risk.flagged(false).unwrap().len(), 1);

    // Still above: no second flag entry; the license itself never moved.
    e.risk.assess(&license.id, "again").await.unwrap();
    assert_eq!(flags(&e).await.len(), 1);
    assert_eq!(
        e.licensing.license(&license.id).unwrap().state,
        license.state
    );
}

#[tokio::test]
async fn a_pass_storing_more_than_one_batch_stores_and_audits_each_once() {
    let e = env(RiskFile {
        review_threshold: Some(50),
        ..RiskFile::default()
    })
    .await;
    let n = super::store::PER_COMMIT + 3;
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(submit(&e, &["ML4"]).await.id);
    }
    // Scored on the first pass, below the threshold.
    assert_eq!(e.risk.rescore_open("startup").await.unwrap(), n);
    assert!(flags(&e).await.is_empty());
    e.exchange
        .issue_denial(
            &caller(Role::Officer, "olivia"),
            DenialDraft {
                party: NoticeParty {
                    name: "ACME TRADING".into(),
                    country: "AE".into(),
                    ..NoticeParty::default()
                },
                items: vec![DeniedItem {
                    code: "ML4".into(),
                    description: String::new(),
                }],
                destination: "AE".into(),
                end_use: String::new(),
                reason: "diversion risk".into(),
                valid_for: None,
            },
            Distribution {
                to: vec![j("FR")],
                groups: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!(e.risk.rescore_open("denial").await.unwrap(), n);
    for id in &ids {
        let a = e.risk.assessment(id).unwrap();
        assert_eq!(a.trigger, "denial", "{id}");
        assert!(a.flagged, "{id}: {a:#?}");
    }
    let mut flagged = flags(&e).await;
    flagged.sort();
    ids.sort();
    assert_eq!(flagged, ids, "one risk.flag entry per application crossing");
    e.audit.verify().unwrap();
}

#[tokio::test]
async fn a_list_import_rescores_and_missing_licenses_are_not_found() {
    let e = env(RiskFile::default()).await;
    let license = submit(&e, &["3A001"]).await;
    e.risk.rescore_open("startup").await.unwrap();
    let before = e.risk.assessment(&license.id).unwrap();
    assert_eq!(factor(&before, FactorKind::Screening).points, 0);
    let mut imports = e.screening.imports();
    e.screening
        .import(
            "DE/admin/adam",
            "ofac",
            "jsonl",
            vec![WatchlistEntry::new(
                "4242",
                EntityType::Entity,
                "GULF LOGISTICS",
            )],
        )
        .await
        .unwrap();
    assert!(imports.has_changed().unwrap());
    assert_eq!(imports.borrow_and_update().as_deref(), Some("ofac"));
    e.risk.rescore_open("list import ofac").await.unwrap();
    let after = e.risk.assessment(&license.id).unwrap();
    adds_up(&after);
    let screening = factor(&after, FactorKind::Screening);
    assert_eq!(screening.points, 15, "{screening:#?}");
    assert_eq!(screening.evidence, ["ofac:4242"]);
    assert!(
        screening.explanation.contains("consignee"),
        "{}",
        screening.explanation
    );

    let missing = e.risk.assessment("DE-L-99").unwrap_err();
    assert!(matches!(missing, Error::NotFound(_)), "{missing}");
}

#[tokio::test]
async fn an_appealed_application_is_not_held_against_its_own_denial() {
    use crate::licensing::LicenseAction;
    let e = env(RiskFile::default()).await;
    let license = submit(&e, &["ML4"]).await;
    let officer = caller(Role::Officer, "olivia");
    let none = || Distribution {
        to: vec![],
        groups: vec![],
    };
    let fr = Distribution {
        to: vec![j("FR")],
        groups: vec![],
    };
    for (action, dist) in [
        (LicenseAction::Review, none()),
        (LicenseAction::Deny, fr),
        (LicenseAction::Appeal, none()),
    ] {
        e.licensing
            .transition(&officer, &license.id, action, "file complete", dist)
            .await
            .unwrap();
    }
    let appealed = e.licensing.license(&license.id).unwrap();
    assert!(is_open(appealed.state), "{}", appealed.state);
    assert!(appealed.denial_id.is_some());
    e.risk.rescore_open("appeal").await.unwrap();
    let a = e.risk.assessment(&license.id).unwrap();
    adds_up(&a);
    assert_eq!(factor(&a, FactorKind::Denials).points, 0, "{a:#?}");
}

/// Scores `license` against every record held, as a decision does, without
/// storing: what the sets must reproduce.
async fn scored_against_all(e: &Env, license: &License) -> (u32, Vec<Factor>, Vec<Hit>) {
    let r = &e.risk;
    let world = assess::World::gather(&e.exchange, &e.screening, now_unix_ms()).unwrap();
    let m = &r.effective.methodology;
    let parties = assess::parties(&r.licensing, license).unwrap();
    let all_hits = hits::find(
        &world,
        &r.screening,
        &parties,
        r.name_threshold(),
        license.denial_id.as_deref(),
        &r.dispositions,
    )
    .unwrap();
    let hits: Vec<Hit> = all_hits
        .iter()
        .filter(|h| h.score() >= r.hit_threshold)
        .cloned()
        .collect();
    let inputs = assess::inputs(m, &world, &r.licensing, &parties, &all_hits, license).unwrap();
    let s = score::score(m, &inputs);
    (s.score, s.factors, hits)
}

async fn application(e: &Env, end_user: &str, destination: &str, codes: &[&str]) -> License {
    let applicant = party(&e.licensing, "Nordwerk Defence GmbH", "DE").await;
    let end_user = party(&e.licensing, end_user, destination).await;
    let consignee = party(&e.licensing, "Harbour Forwarding Ltd", destination).await;
    let license = e
        .licensing
        .submit(
            &caller(Role::Officer, "olivia"),
            Application {
                applicant,
                items: codes
                    .iter()
                    .map(|c| ItemDraft {
                        code: c.to_string(),
                        description: String::new(),
                        quantity: 1,
                        value: Money {
                            minor_units: 100,
                            currency: "EUR".into(),
                        },
                    })
                    .collect(),
                end_user,
                consignee,
                intermediaries: vec![],
                destination: destination.into(),
                end_use: "border surveillance".into(),
            },
        )
        .await
        .unwrap();
    e.risk.assess(&license.id, "submission").await.unwrap();
    license
}

fn to_fr() -> Distribution {
    Distribution {
        to: vec![j("FR")],
        groups: vec![],
    }
}

async fn alert(e: &Env, party: Option<&str>, destination: &str, items: &[&str]) -> RecordView {
    e.exchange
        .raise_alert(
            &caller(Role::Analyst, "ana"),
            AlertDraft {
                category: AlertCategory::DiversionSuspected,
                severity: Severity::High,
                subjects: Subjects {
                    parties: party
                        .map(|name| NoticeParty {
                            name: name.into(),
                            country: destination.into(),
                            ..NoticeParty::default()
                        })
                        .into_iter()
                        .collect(),
                    destinations: vec![destination.into()],
                    items: items.iter().map(|s| s.to_string()).collect(),
                    shipments: vec![],
                },
                indicators: vec![],
                summary: "seen".into(),
                expires_in: None,
                handling: String::new(),
            },
            to_fr(),
        )
        .await
        .unwrap()
}

async fn denial(e: &Env, party: &str, destination: &str, item: &str) -> RecordView {
    e.exchange
        .issue_denial(
            &caller(Role::Officer, "olivia"),
            DenialDraft {
                party: NoticeParty {
                    name: party.into(),
                    country: destination.into(),
                    ..NoticeParty::default()
                },
                items: vec![DeniedItem {
                    code: item.into(),
                    description: String::new(),
                }],
                destination: destination.into(),
                end_use: String::new(),
                reason: "diversion risk".into(),
                valid_for: None,
            },
            to_fr(),
        )
        .await
        .unwrap()
}

/// Every open application's stored assessment is what scoring it against
/// every record held gives.
async fn all_agree(e: &Env, apps: &[License], step: &str) {
    for license in apps {
        let stored = e.risk.assessment(&license.id).unwrap();
        let (score, factors, hits) = scored_against_all(e, license).await;
        assert_eq!(
            (stored.score, &stored.factors, &stored.hits),
            (score, &factors, &hits),
            "{} after {step}",
            license.id
        );
    }
}

#[tokio::test]
async fn one_record_rescores_what_it_touches_as_a_full_pass_would() {
    let e = env(RiskFile::default()).await;
    let a = application(&e, "Acme Trading FZE", "AE", &["ML4"]).await;
    let b = application(&e, "Borealis Instruments", "RU", &["3A001"]).await;
    let c = application(&e, "Caspian Optics", "RU", &["ML13"]).await;
    // B's destination and items: the two share what touches them unnamed.
    let b2 = application(&e, "Ural Machines", "RU", &["3A001"]).await;
    let apps = [a.clone(), b.clone(), c.clone(), b2.clone()];
    e.risk.rescore_open("startup").await.unwrap();
    all_agree(&e, &apps, "startup").await;

    // A notice naming A's end user re-scores A only.
    let d = denial(&e, "ACME TRADING", "IR", "ML13").await;
    let before_b = e.risk.assessment(&b.id).unwrap();
    e.risk
        .apply_records(std::slice::from_ref(&d), "denial")
        .await
        .unwrap();
    let after_a = e.risk.assessment(&a.id).unwrap();
    assert_eq!(after_a.trigger, "denial");
    assert!(factor(&after_a, FactorKind::Denials)
        .evidence
        .contains(&d.header.record_id));
    assert_eq!(
        e.risk.assessment(&b.id).unwrap(),
        before_b,
        "B is not touched"
    );
    // ... and C by its item, not B.
    assert_eq!(e.risk.assessment(&c.id).unwrap().trigger, "denial");
    all_agree(&e, &apps, "a denial").await;

    // More destination-only alerts on RU than a factor lists: the sets keep
    // the strongest and still agree.
    for n in 0..(score::MAX_LISTED + 5) {
        let v = alert(&e, None, "RU", if n % 3 == 0 { &["3A001"] } else { &[] }).await;
        e.risk.apply_records(&[v], "alert").await.unwrap();
    }
    all_agree(&e, &apps, "many alerts").await;
    let listed = factor(&e.risk.assessment(&b.id).unwrap(), FactorKind::Alerts).clone();
    assert!(
        listed.explanation.contains("more touch it"),
        "{}",
        listed.explanation
    );

    // An alert naming B's end user on the destination and item B shares
    // with B2: it names one and is among the strongest for the other.
    let both = alert(&e, Some("Borealis Instruments"), "RU", &["3A001"]).await;
    e.risk
        .apply_records(std::slice::from_ref(&both), "shared")
        .await
        .unwrap();
    let stored = e.risk.assessment(&b.id).unwrap();
    assert_eq!(stored.trigger, "shared");
    assert!(factor(&stored, FactorKind::Alerts)
        .evidence
        .contains(&both.header.record_id));
    all_agree(&e, &apps, "a named alert on a shared profile").await;

    // A new alert naming B's end user, in a burst with one on AE.
    let named = alert(&e, Some("Borealis Instruments"), "KZ", &[]).await;
    let other = alert(&e, None, "AE", &[]).await;
    e.risk
        .apply_records(&[named, other], "alerts")
        .await
        .unwrap();
    all_agree(&e, &apps, "a burst").await;

    // Revoking and amending notices: the earlier version stops counting.
    let revoked = e
        .exchange
        .revoke_denial(
            &caller(Role::Officer, "olivia"),
            &d.header.record_id,
            "error".into(),
        )
        .await
        .unwrap();
    e.risk
        .apply_records(&[revoked], "revocation")
        .await
        .unwrap();
    assert!(
        !factor(&e.risk.assessment(&a.id).unwrap(), FactorKind::Denials)
            .evidence
            .contains(&d.header.record_id)
    );
    all_agree(&e, &apps, "a revocation").await;

    // A new application after the sets were built is found by later records.
    let late = application(&e, "Delta Kinetics", "BY", &["ML4"]).await;
    // Scored at submission from the set just filled for it (a new profile),
    // and one sharing B's profile (its strongest kept already).
    let shared = application(&e, "Borealis Instruments Ural", "RU", &["3A001"]).await;
    for app in [&late, &shared] {
        e.risk.assess(&app.id, "submission").await.unwrap();
    }
    all_agree(&e, &[late.clone(), shared.clone()], "a submission").await;
    let v = alert(&e, Some("DELTA KINETICS"), "BY", &[]).await;
    e.risk.apply_records(&[v], "alert").await.unwrap();
    assert_eq!(e.risk.assessment(&late.id).unwrap().trigger, "alert");
    let apps = [a, b.clone(), c, b2, late, shared];
    all_agree(&e, &apps, "a late application").await;

    // More destination-only notices than a factor lists, then the first
    // (listed) one revoked: the set refills from every record held.
    let mut notices = Vec::new();
    for _ in 0..(score::MAX_LISTED + 3) {
        let v = denial(&e, "Unrelated Holdings", "RU", "9A012").await;
        e.risk
            .apply_records(std::slice::from_ref(&v), "denial")
            .await
            .unwrap();
        notices.push(v.header.record_id);
    }
    all_agree(&e, &apps, "many notices").await;
    let listed = factor(&e.risk.assessment(&b.id).unwrap(), FactorKind::Denials).clone();
    assert!(listed.evidence.contains(&notices[0]), "{listed:?}");
    let revoked = e
        .exchange
        .revoke_denial(
            &caller(Role::Officer, "olivia"),
            &notices[0],
            "error".into(),
        )
        .await
        .unwrap();
    e.risk
        .apply_records(&[revoked], "revocation")
        .await
        .unwrap();
    let listed = factor(&e.risk.assessment(&b.id).unwrap(), FactorKind::Denials).clone();
    assert!(!listed.evidence.contains(&notices[0]), "{listed:?}");
    all_agree(&e, &apps, "a listed notice revoked").await;

    // A full pass after all this changes nothing.
    assert_eq!(e.risk.rescore_open("full").await.unwrap(), 0);
}

/// A node with nothing open skips building the sets; its first application
/// is still scored against every record held, and so is one submitted after
/// the next record built them.
#[tokio::test]
async fn the_first_applications_are_scored_against_every_record_held() {
    let e = env(RiskFile::default()).await;
    let d = denial(&e, "ACME TRADING", "IR", "ML13").await;
    assert_eq!(e.risk.rescore_open("startup").await.unwrap(), 0);
    let a = application(&e, "Acme Trading FZE", "AE", &["ML4"]).await;
    e.risk.assess(&a.id, "submission").await.unwrap();
    let named = |id: &str| {
        factor(&e.risk.assessment(id).unwrap(), FactorKind::Denials)
            .evidence
            .contains(&d.header.record_id)
    };
    assert!(named(&a.id), "the held notice names A's end user");
    let v = alert(&e, None, "AE", &[]).await;
    e.risk.apply_records(&[v], "alert").await.unwrap();
    let b = application(&e, "Acme Trading", "KZ", &["ML13"]).await;
    e.risk.assess(&b.id, "submission").await.unwrap();
    assert!(named(&b.id), "found from the sets built since");
    all_agree(&e, &[a, b], "first applications").await;
}
