//! Scoring over a real store, audit log, exchange, licensing and screening:
//! the stored assessment adds up, a new denial notice and a list import
//! re-score open applications, and reaching the threshold flags once with an
//! audit entry — without touching the license.

use std::sync::Arc;

use super::*;
use crate::crypto::{CertificateAuthority, RecordSigner, Validity};
use crate::exchange::records::{DeniedItem, Party as NoticeParty};
use crate::exchange::{DenialDraft, Distribution};
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
