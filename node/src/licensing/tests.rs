//! Licensing over a real store, audit log and exchange: the lifecycle for
//! every state and action, denials issued and revoked with their decisions,
//! the catalog's versions, waivers in decisions, and the follow-up records.

use std::sync::Arc;

use super::*;
use crate::audit::AuditEntry;
use crate::clock::now_unix_ms;
use crate::crypto::{CertificateAuthority, RecordSigner, Validity};
use crate::exchange::records::{AlertCategory, DenialState, Severity};
use crate::exchange::{Distribution, Record, RecordKind};
use crate::identity::{Caller, Role};
use crate::peers::PeerDirectory;
use crate::trust_bundle::TrustBundle;
use catalog::SourcedEntry;

use LicenseAction as A;
use LicenseState as S;

struct Env {
    l: Licensing,
    x: Arc<Exchange>,
    audit: Arc<AuditLog>,
    _dir: tempfile::TempDir,
}

fn j(s: &str) -> Jurisdiction {
    s.parse().unwrap()
}

fn officer() -> Caller {
    Caller::new(j("DE"), Role::Officer, "olivia").unwrap()
}

fn admin() -> Caller {
    Caller::new(j("DE"), Role::Admin, "adam").unwrap()
}

fn to_fr() -> Distribution {
    Distribution {
        to: vec![j("FR")],
        groups: vec![],
    }
}

/// A DE node with FR registered as its peer, and the sample catalog.
async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let signer =
        Arc::new(RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap());
    let audit = Arc::new(AuditLog::open(store.clone(), signer.clone(), "DE").unwrap());
    let peers = Arc::new(
        PeerDirectory::open(store.clone(), j("DE"))
            .unwrap()
            .audited(audit.clone()),
    );
    let (ca, _) = CertificateAuthority::generate(&j("FR"), Validity::days(1)).unwrap();
    let fr_signer = RecordSigner::from_pkcs8(&RecordSigner::generate_pkcs8().unwrap()).unwrap();
    let bundle = TrustBundle {
        jurisdiction: j("FR"),
        endpoint: "127.0.0.1:1".into(),
        ca_cert_pem: ca.cert_pem().into(),
        signing_public_key: fr_signer.public_key().to_vec(),
        retired_signing_keys: Vec::new(),
    };
    peers.add("DE/admin/test", bundle).await.unwrap();
    let x = Arc::new(Exchange::open(store.clone(), j("DE"), signer, peers, audit.clone()).unwrap());
    let l = Licensing::open(store, j("DE"), x.clone(), audit.clone()).unwrap();
    let env = Env {
        l,
        x,
        audit,
        _dir: dir,
    };
    env.l
        .import_catalog(&admin(), "sample.csv", sample_catalog())
        .await
        .unwrap();
    env
}

fn entry(code: &str, category: Category, tier: u8) -> CatalogEntry {
    CatalogEntry {
        code: code.into(),
        title: format!("item {code}"),
        category,
        tier,
        rationale: "Wassenaar Arrangement list".into(),
    }
}

fn sample_catalog() -> Vec<SourcedEntry> {
    [
        entry("ML4", Category::Military, 3),
        entry("3A001", Category::DualUse, 2),
        entry("5A002", Category::DualUse, 1),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, entry)| SourcedEntry {
        line: i as u32 + 2,
        entry,
    })
    .collect()
}

fn party(name: &str, country: &str) -> PartyDraft {
    PartyDraft {
        name: name.into(),
        aliases: vec![format!("{name} Ltd")],
        country: country.into(),
        address: "1 Harbour Road".into(),
        identifiers: vec![Identifier {
            kind: "lei".into(),
            value: "5493001KJTIIGC8Y1R12".into(),
        }],
    }
}

struct Parties {
    applicant: String,
    end_user: String,
    consignee: String,
}

async fn parties(e: &Env) -> Parties {
    let mut ids = Vec::new();
    for (name, cc) in [
        ("Rheinmetall Export", "DE"),
        ("Acme Trading FZE", "AE"),
        ("Gulf Logistics", "AE"),
    ] {
        ids.push(
            e.l.create_party(&officer(), party(name, cc), false)
                .await
                .unwrap()
                .id,
        );
    }
    Parties {
        applicant: ids[0].clone(),
        end_user: ids[1].clone(),
        consignee: ids[2].clone(),
    }
}

fn item(code: &str) -> ItemDraft {
    ItemDraft {
        code: code.into(),
        description: format!("{code} goods"),
        quantity: 10,
        value: Money {
            minor_units: 12_500_000,
            currency: "EUR".into(),
        },
    }
}

fn application(p: &Parties, codes: &[&str]) -> Application {
    Application {
        applicant: p.applicant.clone(),
        items: codes.iter().map(|c| item(c)).collect(),
        end_user: p.end_user.clone(),
        consignee: p.consignee.clone(),
        intermediaries: vec![],
        destination: "AE".into(),
        end_use: "border surveillance".into(),
    }
}

/// The legal path from submission to `state`.
fn path_to(state: S) -> &'static [A] {
    match state {
        S::Submitted => &[],
        S::UnderReview => &[A::Review],
        S::Approved => &[A::Review, A::Approve],
        S::Denied => &[A::Review, A::Deny],
        S::Returned => &[A::Review, A::Return],
        S::Appealed => &[A::Review, A::Deny, A::Appeal],
        S::AppealUpheld => &[A::Review, A::Deny, A::Appeal, A::Uphold],
        S::AppealOverturned => &[A::Review, A::Deny, A::Appeal, A::Overturn],
        S::Revoked => &[A::Review, A::Approve, A::Revoke],
        S::Expired => panic!("expired is reached by time, not by actions"),
    }
}

async fn license_in(e: &Env, p: &Parties, state: S) -> License {
    let mut l =
        e.l.submit(&officer(), application(p, &["ML4", "3A001"]))
            .await
            .unwrap();
    for &a in path_to(state) {
        l =
            e.l.transition(&officer(), &l.id, a, &format!("because {a}"), to_fr())
                .await
                .unwrap_or_else(|err| panic!("{a} on the way to {state}: {err}"));
    }
    assert_eq!(l.state, state);
    l
}

fn audit_entries(e: &Env) -> Vec<AuditEntry> {
    e.audit.entries(1, u64::MAX - 1).unwrap()
}

#[tokio::test]
async fn every_state_times_every_action_over_the_store() {
    let e = env().await;
    let p = parties(&e).await;
    // Expired is reached by time; amend and resubmit are their own calls
    // (amends_keep_history covers them).
    for &state in S::ALL.iter().filter(|s| **s != S::Expired) {
        for &action in A::ALL
            .iter()
            .filter(|a| !matches!(a, A::Amend | A::Resubmit))
        {
            let l = license_in(&e, &p, state).await;
            let got =
                e.l.transition(&officer(), &l.id, action, "table check", to_fr())
                    .await;
            match lifecycle::next(state, action) {
                Some(to) => {
                    let after = got.unwrap_or_else(|err| panic!("{state} --{action}-->: {err}"));
                    assert_eq!(after.state, to);
                    assert_eq!(after.history.len(), l.history.len() + 1);
                    let last = after.history.last().unwrap();
                    assert_eq!((last.action, last.from, last.to), (action, Some(state), to));
                    assert_eq!(last.officer, "DE/officer/olivia");
                    assert_eq!(last.rationale, "table check");
                    assert_eq!(e.l.license(&l.id).unwrap(), after);
                }
                None => {
                    match got {
                        Err(Error::FailedPrecondition(m)) => assert!(
                            m.contains(state.as_str()) && m.contains(action.as_str()),
                            "{m}"
                        ),
                        other => panic!("{state} --{action}--> should be refused: {other:?}"),
                    }
                    assert_eq!(e.l.license(&l.id).unwrap(), l, "a refusal changes nothing");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_rationale_is_required_for_every_transition() {
    let e = env().await;
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::Submitted).await;
    for bad in ["", "   ", "tab\u{1b}escape"] {
        let err =
            e.l.transition(&officer(), &l.id, A::Review, bad, Distribution::default())
                .await
                .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{bad:?}: {err:?}");
    }
    assert_eq!(e.l.license(&l.id).unwrap().state, S::Submitted);
}

#[tokio::test]
async fn denying_issues_a_denial_notice_in_the_same_batch_as_the_decision() {
    let e = env().await;
    let p = parties(&e).await;
    let before = e.audit.count().await;
    let l = license_in(&e, &p, S::UnderReview).await;
    let denied =
        e.l.transition(&officer(), &l.id, A::Deny, "end user unverified", to_fr())
            .await
            .unwrap();
    let denial_id = denied.denial_id.clone().expect("denial id recorded");
    let last = denied.history.last().unwrap();
    assert_eq!(last.denial, Some((denial_id.clone(), 1)));

    let versions = e.x.history(RecordKind::Denial, &denial_id).unwrap();
    assert_eq!(versions.len(), 1);
    let Record::Denial(notice) = &versions[0].record else {
        panic!("not a denial")
    };
    assert_eq!(notice.party.name, "Acme Trading FZE");
    assert_eq!(notice.party.country, "AE");
    let codes: Vec<&str> = notice.items.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(codes, ["ML4", "3A001"]);
    assert_eq!(notice.destination, "AE");
    assert_eq!(notice.reason, "end user unverified");
    assert_eq!(versions[0].header.recipients, vec![j("FR")]);

    // The denial's and the decision's audit entries are adjacent: one batch.
    let entries = audit_entries(&e);
    assert!(entries.len() as u64 > before);
    let issue = entries
        .iter()
        .position(|x| x.action == "denial.issue")
        .unwrap();
    let decide = &entries[issue + 1];
    assert_eq!(decide.action, "license.decide");
    assert_eq!(decide.actor, "DE/officer/olivia");
    assert!(decide
        .record
        .starts_with(&format!("{} deny {denial_id}", l.id)));
    assert_eq!(decide.rationale, "end user unverified");
}

#[tokio::test]
async fn overturning_on_appeal_revokes_the_denial_notice() {
    let e = env().await;
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::Appealed).await;
    let denial_id = l.denial_id.clone().unwrap();
    let after =
        e.l.transition(
            &officer(),
            &l.id,
            A::Overturn,
            "new end-user certificate",
            to_fr(),
        )
        .await
        .unwrap();
    assert_eq!(after.state, S::AppealOverturned);
    assert_eq!(after.denial_id.as_deref(), Some(denial_id.as_str()));
    assert_eq!(
        after.history.last().unwrap().denial,
        Some((denial_id.clone(), 2))
    );
    let versions = e.x.history(RecordKind::Denial, &denial_id).unwrap();
    let Record::Denial(current) = &versions.last().unwrap().record else {
        panic!("not a denial")
    };
    assert_eq!(current.state, DenialState::Revoked);
    assert_eq!(current.change_reason, "new end-user certificate");
    let entries = audit_entries(&e);
    let revoke = entries
        .iter()
        .position(|x| x.action == "denial.revoke")
        .unwrap();
    assert_eq!(entries[revoke + 1].action, "license.appeal-decide");

    // An upheld appeal leaves the notice in force.
    let upheld = license_in(&e, &p, S::AppealUpheld).await;
    let versions =
        e.x.history(RecordKind::Denial, upheld.denial_id.as_deref().unwrap())
            .unwrap();
    assert_eq!(versions.len(), 1);
}

#[tokio::test]
async fn overturning_a_notice_already_revoked_by_hand_still_records_the_decision() {
    let e = env().await;
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::Appealed).await;
    let denial_id = l.denial_id.clone().unwrap();
    e.x.revoke_denial(&officer(), &denial_id, "revoked by hand".into())
        .await
        .unwrap();
    let after =
        e.l.transition(&officer(), &l.id, A::Overturn, "appeal won", to_fr())
            .await
            .unwrap();
    assert_eq!(after.state, S::AppealOverturned);
    assert_eq!(after.history.last().unwrap().denial, None);
}

#[tokio::test]
async fn a_denial_needs_recipients_from_the_request_or_the_default() {
    let e = env().await;
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::UnderReview).await;
    let err =
        e.l.transition(&officer(), &l.id, A::Deny, "no", Distribution::default())
            .await
            .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    assert_eq!(e.l.license(&l.id).unwrap(), l, "nothing written");
    assert!(e
        .x
        .list(RecordKind::Denial, &Default::default())
        .unwrap()
        .is_empty());

    // A stranger is refused by the exchange, and nothing is written either.
    let stranger = Distribution {
        to: vec![j("JP")],
        groups: vec![],
    };
    let err =
        e.l.transition(&officer(), &l.id, A::Deny, "no", stranger)
            .await
            .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition(_)), "{err:?}");
    assert_eq!(e.l.license(&l.id).unwrap(), l);

    let defaults = e.l.set_denial_defaults(&admin(), to_fr()).await.unwrap();
    assert_eq!(defaults.updated_by, "DE/admin/adam");
    let denied =
        e.l.transition(&officer(), &l.id, A::Deny, "no", Distribution::default())
            .await
            .unwrap();
    let versions =
        e.x.history(RecordKind::Denial, denied.denial_id.as_deref().unwrap())
            .unwrap();
    assert_eq!(versions[0].header.recipients, vec![j("FR")]);

    let unknown_group = Distribution {
        to: vec![],
        groups: vec!["nobody".into()],
    };
    assert!(matches!(
        e.l.set_denial_defaults(&admin(), unknown_group).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn concurrent_decisions_on_one_license_admit_exactly_one() {
    let e = Arc::new(env().await);
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::UnderReview).await;
    let tasks: Vec<_> = [A::Approve, A::Deny, A::Return, A::Approve, A::Deny]
        .into_iter()
        .map(|a| {
            let (e, id) = (e.clone(), l.id.clone());
            tokio::spawn(async move { e.l.transition(&officer(), &id, a, "race", to_fr()).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::FailedPrecondition(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(e.l.license(&l.id).unwrap().history.len(), 3);
}

#[tokio::test]
async fn submissions_are_checked_against_the_current_catalog_and_parties() {
    let e = env().await;
    let p = parties(&e).await;
    let err =
        e.l.submit(&officer(), application(&p, &["ML4", "9Z999"]))
            .await
            .unwrap_err();
    match err {
        Error::InvalidArgument(m) => assert!(m.contains("9Z999"), "{m}"),
        other => panic!("{other:?}"),
    }
    let mut app = application(&p, &["ML4"]);
    app.end_user = "DE-P-99".into();
    assert!(matches!(
        e.l.submit(&officer(), app).await,
        Err(Error::NotFound(m)) if m.contains("end_user")
    ));
    for (bad, what) in [
        (
            Application {
                destination: "Narnia".into(),
                ..application(&p, &["ML4"])
            },
            "destination",
        ),
        (
            Application {
                end_use: "x".repeat(model::MAX_TEXT + 1),
                ..application(&p, &["ML4"])
            },
            "end_use",
        ),
        (
            Application {
                items: vec![],
                ..application(&p, &["ML4"])
            },
            "items",
        ),
        (
            Application {
                items: vec![ItemDraft {
                    quantity: 0,
                    ..item("ML4")
                }],
                ..application(&p, &["ML4"])
            },
            "quantity",
        ),
        (
            Application {
                items: vec![ItemDraft {
                    value: Money {
                        minor_units: 1,
                        currency: "euro".into(),
                    },
                    ..item("ML4")
                }],
                ..application(&p, &["ML4"])
            },
            "currency",
        ),
    ] {
        match e.l.submit(&officer(), bad).await {
            Err(Error::InvalidArgument(m)) => assert!(m.contains(what), "{what}: {m}"),
            other => panic!("{what}: {other:?}"),
        }
    }

    let l =
        e.l.submit(&officer(), application(&p, &["ML4", "5A002"]))
            .await
            .unwrap();
    assert_eq!(l.catalog_version, 1);
    assert_eq!(
        (l.items[0].category, l.items[0].tier),
        (Category::Military, 3)
    );
    assert_eq!(l.history[0].action, A::Submit);
    assert_eq!(l.submitted_by, "DE/officer/olivia");
    assert!(audit_entries(&e)
        .iter()
        .any(|x| x.action == "license.submit" && x.record == l.id));

    // A code dropped from the current catalog can no longer be applied for.
    let newer = vec![SourcedEntry {
        line: 0,
        entry: entry("ML4", Category::Military, 3),
    }];
    e.l.import_catalog(&admin(), "v2", newer).await.unwrap();
    match e.l.submit(&officer(), application(&p, &["5A002"])).await {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains("5A002") && m.contains("version 2"), "{m}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn catalog_imports_are_versions_and_old_ones_stay_readable() {
    let e = env().await;
    let mut v2 = sample_catalog();
    v2[0].entry.tier = 2;
    v2[0].entry.rationale = "downgraded in 2025".into();
    v2.remove(2);
    let meta =
        e.l.import_catalog(&admin(), "list-2025.json", v2)
            .await
            .unwrap();
    assert_eq!(meta.version, 2);
    assert_eq!(meta.actor, "DE/admin/adam");
    assert_eq!(meta.entries, 2);

    let (current, entries) = e.l.catalog(None, None, None).unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(entries.len(), 2);
    let (old, old_entries) = e.l.catalog(Some(1), None, None).unwrap();
    assert_eq!((old.version, old_entries.len()), (1, 3));
    let (_, military) =
        e.l.catalog(Some(1), Some(Category::Military), None)
            .unwrap();
    assert_eq!(military.len(), 1);
    assert!(matches!(
        e.l.catalog(Some(9), None, None),
        Err(Error::NotFound(_))
    ));

    let history = e.l.catalog_entry_history("ML4").unwrap();
    let tiers: Vec<(u32, u8)> = history.iter().map(|(v, e)| (*v, e.tier)).collect();
    assert_eq!(tiers, [(1, 3), (2, 2)]);
    let history = e.l.catalog_entry_history("5A002").unwrap();
    assert_eq!(history.len(), 1, "only in version 1");
    assert!(matches!(
        e.l.catalog_entry_history("XX1"),
        Err(Error::NotFound(_))
    ));
    assert!(audit_entries(&e)
        .iter()
        .any(|x| x.action == "catalog.import" && x.record == "catalog v2"));
}

#[tokio::test]
async fn a_malformed_catalog_is_refused_whole_naming_every_line() {
    let e = env().await;
    let mut bad = sample_catalog();
    bad[1].entry.tier = 7;
    bad[2].entry.code = "ML4".into();
    bad.push(SourcedEntry {
        line: 9,
        entry: CatalogEntry {
            title: "bell\u{7}".into(),
            ..entry("ML13", Category::Military, 1)
        },
    });
    match e.l.import_catalog(&admin(), "bad.csv", bad).await {
        Err(Error::InvalidArgument(m)) => {
            assert!(m.contains("nothing imported"), "{m}");
            assert!(m.contains("line 3: tier"), "{m}");
            assert!(
                m.contains("line 4: code ML4 is already listed at line 2"),
                "{m}"
            );
            assert!(
                m.contains("line 9: title: contains control characters"),
                "{m}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.l.current_catalog().unwrap().unwrap().version, 1);
    assert!(matches!(
        e.l.import_catalog(&admin(), "empty", vec![]).await,
        Err(Error::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn decisions_list_the_waivers_matching_the_application() {
    let e = env().await;
    let p = parties(&e).await;
    let in_a_week = now_unix_ms() + 7 * 86_400_000;
    let draft = |destination: &str, codes: &[&str]| WaiverDraft {
        kind: WaiverKind::UrgentDefense,
        destination: destination.into(),
        item_codes: codes.iter().map(|c| c.to_string()).collect(),
        justification: "allied operation".into(),
        valid_until_unix_ms: in_a_week,
    };
    let all_items =
        e.l.create_waiver(&officer(), draft("AE", &[]))
            .await
            .unwrap();
    let both =
        e.l.create_waiver(&officer(), draft("AE", &["ML4", "3A001"]))
            .await
            .unwrap();
    let _one =
        e.l.create_waiver(&officer(), draft("AE", &["ML4"]))
            .await
            .unwrap();
    let _elsewhere =
        e.l.create_waiver(&officer(), draft("UA", &[]))
            .await
            .unwrap();
    assert!(matches!(
        e.l.create_waiver(&officer(), draft("AE", &["9Z999"])).await,
        Err(Error::InvalidArgument(m)) if m.contains("9Z999")
    ));
    let expired = WaiverDraft {
        valid_until_unix_ms: now_unix_ms() - 1,
        ..draft("AE", &[])
    };
    assert!(matches!(
        e.l.create_waiver(&officer(), expired).await,
        Err(Error::InvalidArgument(_))
    ));

    let l = license_in(&e, &p, S::Approved).await;
    let approve = l.history.last().unwrap();
    assert_eq!(approve.waivers, vec![all_items.id.clone(), both.id.clone()]);
    let review = &l.history[1];
    assert!(review.waivers.is_empty(), "a review is no decision");
    let listed =
        e.l.waivers(&WaiverFilter {
            destination: Some("UA".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 1);
}

fn shipped(code: &str, quantity: u64, minor_units: i64, currency: &str) -> ShippedItem {
    ShippedItem {
        code: code.into(),
        quantity,
        value: Money {
            minor_units,
            currency: currency.into(),
        },
    }
}

fn shipment_of(license_id: &str, destination: &str, items: Vec<ShippedItem>) -> ShipmentDraft {
    ShipmentDraft {
        license_id: license_id.into(),
        origin: "DE".into(),
        destination: destination.into(),
        route: vec!["Hamburg".into(), "Jebel Ali".into()],
        shipped_at_unix_ms: None,
        reference: "BL-4711".into(),
        items,
        discrepancy: None,
    }
}

#[tokio::test]
async fn shipments_are_checked_against_the_licence() {
    let e = env().await;
    let p = parties(&e).await;
    // Licensed: ML4 x10 and 3A001 x10, each 125,000.00 EUR, to AE.
    let ok = || vec![shipped("ML4", 4, 5_000_000, "EUR")];
    for state in [S::Submitted, S::UnderReview, S::Denied, S::Revoked] {
        let l = license_in(&e, &p, state).await;
        match e
            .l
            .record_shipment(
                &officer(),
                shipment_of(&l.id, "AE", ok()),
                Distribution::default(),
            )
            .await
        {
            Err(Error::FailedPrecondition(m)) => assert!(m.contains(state.as_str()), "{m}"),
            other => panic!("{state}: {other:?}"),
        }
    }
    let l = license_in(&e, &p, S::Approved).await;
    let terms = l.terms.clone().expect("an approval sets terms");
    assert!(terms.valid_until_unix_ms > terms.valid_from_unix_ms);
    let first =
        e.l.record_shipment(
            &officer(),
            shipment_of(&l.id, "AE", ok()),
            Distribution::default(),
        )
        .await
        .unwrap();
    assert_eq!(first.recorded_by, "DE/officer/olivia");
    assert_eq!(first.items, ok());
    // Each check refuses what it should, naming itself, and records nothing.
    let table: Vec<(&str, ShipmentDraft, &str)> = vec![
        (
            "destination",
            shipment_of(&l.id, "CN", ok()),
            "destination CN differs",
        ),
        (
            "item not licensed",
            shipment_of(&l.id, "AE", vec![shipped("5A002", 1, 1, "EUR")]),
            "item 5A002 is not on licence",
        ),
        (
            "cumulative quantity",
            shipment_of(&l.id, "AE", vec![shipped("ML4", 7, 1, "EUR")]),
            "exceed the licensed quantity 10 (4 shipped, 6 remaining)",
        ),
        (
            "quantity within one shipment",
            shipment_of(
                &l.id,
                "AE",
                vec![shipped("ML4", 3, 1, "EUR"), shipped("ML4", 4, 1, "EUR")],
            ),
            "shipping 7 would exceed",
        ),
        (
            "cumulative value",
            shipment_of(&l.id, "AE", vec![shipped("3A001", 1, 12_500_001, "EUR")]),
            "exceed the licensed value 12500000",
        ),
        (
            "currency",
            shipment_of(&l.id, "AE", vec![shipped("3A001", 1, 1, "USD")]),
            "value in USD, licensed in EUR",
        ),
    ];
    for (name, draft, expected) in table {
        match e
            .l
            .record_shipment(&officer(), draft, Distribution::default())
            .await
        {
            Err(Error::FailedPrecondition(m)) => assert!(m.contains(expected), "{name}: {m}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(e.l.shipments(Some(&l.id), None).unwrap().len(), 1);
    // The rest of the licence can still be shipped, and the balance shows it.
    e.l.record_shipment(
        &officer(),
        shipment_of(&l.id, "AE", vec![shipped("ML4", 6, 7_500_000, "EUR")]),
        Distribution::default(),
    )
    .await
    .unwrap();
    let ml4 =
        e.l.balances(&l.id)
            .unwrap()
            .into_iter()
            .find(|b| b.code == "ML4")
            .unwrap();
    assert_eq!(
        (
            ml4.shipped_quantity,
            ml4.remaining_quantity(),
            ml4.remaining_value()
        ),
        (10, 0, 0)
    );
    // A shipment that happened anyway is recorded as a discrepancy, naming
    // the checks it failed, and flags the licence.
    let mut over = shipment_of(&l.id, "CN", vec![shipped("ML4", 1, 1, "EUR")]);
    over.discrepancy = Some("customs found it in a container to Shanghai".into());
    let s =
        e.l.record_shipment(&officer(), over, Distribution::default())
            .await
            .unwrap();
    let d = s.discrepancy.clone().expect("recorded as a discrepancy");
    // Destination, quantity and value.
    assert_eq!(d.failed.len(), 3, "{:?}", d.failed);
    let flagged = e.l.license(&l.id).unwrap();
    assert_eq!(flagged.review_flags.len(), 1);
    assert_eq!(
        flagged.review_flags[0].shipment.as_deref(),
        Some(s.id.as_str())
    );
    assert!(e
        .audit
        .entries(0, u64::MAX)
        .unwrap()
        .iter()
        .any(|a| a.action == "shipment.discrepancy"));
    for missing in ["DE-L-999", "FR-L-1"] {
        assert!(matches!(
            e.l.record_shipment(
                &officer(),
                shipment_of(missing, "AE", ok()),
                Distribution::default()
            )
            .await,
            Err(Error::NotFound(_))
        ));
    }
    // A shipment names what it ships.
    assert!(matches!(
        e.l.record_shipment(
            &officer(),
            shipment_of(&l.id, "AE", vec![]),
            Distribution::default()
        )
        .await,
        Err(Error::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn an_expired_licence_takes_no_shipments() {
    let e = env().await;
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::UnderReview).await;
    let now = now_unix_ms();
    let terms = TermsDraft {
        valid_from_unix_ms: Some(now - 10_000),
        valid_until_unix_ms: Some(now + 60_000),
        conditions: vec!["no re-export".into()],
    };
    let l =
        e.l.decide(
            &officer(),
            &l.id,
            A::Approve,
            "fine",
            Distribution::default(),
            terms,
        )
        .await
        .unwrap();
    assert_eq!(
        l.terms.as_ref().unwrap().conditions,
        vec!["no re-export".to_owned()]
    );
    // Past its validity (checked at a later time; no test waits for the clock).
    let later = now + 120_000;
    assert_eq!(l.state_at(later), S::Expired);
    assert_eq!(l.state_at(now), S::Approved);
    let balances = e.l.balances(&l.id).unwrap();
    let problems =
        terms::shipment_problems(&l, "AE", &[shipped("ML4", 1, 1, "EUR")], &balances, later);
    assert!(
        problems.len() == 1 && problems[0].contains("expired"),
        "{problems:?}"
    );
    assert!(
        terms::shipment_problems(&l, "AE", &[shipped("ML4", 1, 1, "EUR")], &balances, now)
            .is_empty()
    );
    // Nothing moves an expired licence, and a licence before its validity takes no shipment.
    assert!(matches!(
        lifecycle::transition(&l.id, l.state_at(later), A::Revoke),
        Err(Error::FailedPrecondition(m)) if m.contains("expired")
    ));
    let early = terms::shipment_problems(
        &l,
        "AE",
        &[shipped("ML4", 1, 1, "EUR")],
        &balances,
        now - 20_000,
    );
    assert!(
        early.iter().any(|m| m.contains("valid only from")),
        "{early:?}"
    );
}

#[tokio::test]
async fn a_failed_end_use_check_can_raise_a_risk_alert() {
    let e = env().await;
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::Approved).await;
    let check = |result| CheckDraft {
        license_id: l.id.clone(),
        result,
        findings: "goods not found at the declared site".into(),
        checked_at_unix_ms: None,
    };
    let passed =
        e.l.record_check(
            &officer(),
            check(CheckResult::Pass),
            Distribution::default(),
        )
        .await
        .unwrap();
    assert_eq!(passed.alert_id, None);
    assert!(matches!(
        e.l.record_check(&officer(), check(CheckResult::Pass), to_fr())
            .await,
        Err(Error::InvalidArgument(_))
    ));

    let failed =
        e.l.record_check(&officer(), check(CheckResult::Fail), to_fr())
            .await
            .unwrap();
    let alert_id = failed.alert_id.clone().expect("alert raised");
    let versions = e.x.history(RecordKind::Alert, &alert_id).unwrap();
    let Record::Alert(alert) = &versions[0].record else {
        panic!("not an alert")
    };
    assert_eq!(alert.category, AlertCategory::FailedEndUseVerification);
    assert_eq!(alert.severity, Severity::High);
    assert_eq!(alert.subjects.parties[0].name, "Acme Trading FZE");
    assert_eq!(alert.subjects.destinations, ["AE"]);
    assert_eq!(alert.subjects.items, ["ML4", "3A001"]);
    assert_eq!(alert.summary, "goods not found at the declared site");
    assert_eq!(versions[0].header.recipients, vec![j("FR")]);

    let listed = e.l.checks(Some(&l.id), None, None).unwrap();
    assert_eq!(listed.len(), 2);
    let fails = e.l.checks(None, Some(CheckResult::Fail), None).unwrap();
    assert_eq!(fails, vec![failed]);
}

#[tokio::test]
async fn parties_and_disclosures_are_validated_and_listed() {
    let e = env().await;
    let p = parties(&e).await;
    for bad in [
        PartyDraft {
            name: "x".repeat(model::MAX_NAME + 1),
            ..party("A", "DE")
        },
        PartyDraft {
            name: "Evil\u{0}Corp".into(),
            ..party("A", "DE")
        },
        PartyDraft {
            aliases: vec!["line\nbreak".into()],
            ..party("A", "DE")
        },
        party("A", "de"),
        PartyDraft {
            identifiers: vec![Identifier {
                kind: "".into(),
                value: "1".into(),
            }],
            ..party("A", "DE")
        },
    ] {
        assert!(
            matches!(
                e.l.create_party(&officer(), bad.clone(), false).await,
                Err(Error::InvalidArgument(_))
            ),
            "{bad:?}"
        );
    }
    let found =
        e.l.parties(&PartyFilter {
            name: Some("acme".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, p.end_user);
    assert_eq!(
        e.l.parties(&PartyFilter {
            country: Some("AE".into()),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap()[0]
            .id,
        p.consignee,
        "newest first"
    );

    let d =
        e.l.record_disclosure(&officer(), &p.applicant, "shipped without license", None)
            .await
            .unwrap();
    assert_eq!(e.l.disclosures(Some(&p.applicant), None).unwrap(), vec![d]);
    assert!(e.l.disclosures(Some(&p.end_user), None).unwrap().is_empty());
    assert!(matches!(
        e.l.record_disclosure(&officer(), "DE-P-77", "x", None)
            .await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        e.l.record_disclosure(&officer(), &p.applicant, " ", None)
            .await,
        Err(Error::InvalidArgument(_))
    ));
    for x in audit_entries(&e)
        .iter()
        .filter(|x| ["party.create", "disclosure.record"].contains(&x.action.as_str()))
    {
        assert_eq!(x.actor, "DE/officer/olivia");
    }
}

#[tokio::test]
async fn licenses_list_by_state_and_party_newest_first() {
    let e = env().await;
    let p = parties(&e).await;
    let a = license_in(&e, &p, S::Approved).await;
    let b = license_in(&e, &p, S::Submitted).await;
    let all = e.l.licenses(&LicenseFilter::default()).unwrap();
    let ids: Vec<&str> = all.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, [b.id.as_str(), a.id.as_str()]);
    let approved =
        e.l.licenses(&LicenseFilter {
            state: Some(S::Approved),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(approved, vec![a.clone()]);
    let by_party =
        e.l.licenses(&LicenseFilter {
            party: Some(p.consignee.clone()),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_party, vec![b]);
    for bad in ["DE-L-0", "DE-L-01", "DE-L-x", "FR-L-1", "", "DE-P-1"] {
        assert!(matches!(e.l.license(bad), Err(Error::NotFound(_))), "{bad}");
    }
}

#[tokio::test]
async fn amends_keep_history() {
    let e = env().await;
    let p = parties(&e).await;
    let l = license_in(&e, &p, S::Returned).await;
    assert_eq!(lifecycle::allowed(S::Returned), vec![A::Amend, A::Resubmit]);
    let change = Amendment {
        items: Some(vec![item("5A002")]),
        end_use: Some("civil telecoms".into()),
        ..Amendment::default()
    };
    let amended =
        e.l.amend(&officer(), &l.id, change, "applicant corrected the items")
            .await
            .unwrap();
    assert_eq!((amended.revision, amended.state), (2, S::Returned));
    assert_eq!(amended.codes(), vec!["5A002".to_owned()]);
    assert_eq!(amended.revisions.len(), 1);
    assert_eq!(amended.revisions[0].revision, 1);
    assert_eq!(amended.revisions[0].end_use, "border surveillance");
    let codes: Vec<&str> = amended.revisions[0]
        .items
        .iter()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(codes, vec!["ML4", "3A001"]);
    let last = amended.history.last().unwrap();
    assert_eq!(
        (last.action, last.from, last.to),
        (A::Amend, Some(S::Returned), S::Returned)
    );
    // What is stored is what was returned, sidecar and all.
    assert_eq!(e.l.license(&l.id).unwrap(), amended);
    let again = e.l.resubmit(&officer(), &l.id, "corrected").await.unwrap();
    assert_eq!(again.state, S::Submitted);
    // A submitted application can be reviewed again and amended under review.
    let reviewed =
        e.l.transition(&officer(), &l.id, A::Review, "again", to_fr())
            .await
            .unwrap();
    assert_eq!(reviewed.state, S::UnderReview);
    let amended =
        e.l.amend(
            &officer(),
            &l.id,
            Amendment {
                destination: Some("OM".into()),
                ..Amendment::default()
            },
            "new port",
        )
        .await
        .unwrap();
    assert_eq!((amended.revision, amended.destination.as_str()), (3, "OM"));
    // Bad amendments change nothing.
    assert!(matches!(
        e.l.amend(&officer(), &l.id, Amendment::default(), "x")
            .await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        e.l.amend(
            &officer(),
            &l.id,
            Amendment {
                end_user: Some("DE-P-99".into()),
                ..Amendment::default()
            },
            "x"
        )
        .await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(e.l.license(&l.id).unwrap().revision, 3);
    // Decided applications are not amended.
    let approved = license_in(&e, &p, S::Approved).await;
    assert!(matches!(
        e.l.amend(&officer(), &approved.id, Amendment { end_use: Some("x".into()), ..Amendment::default() }, "x").await,
        Err(Error::FailedPrecondition(m)) if m.contains("approved")
    ));
    let entries = e.audit.entries(0, u64::MAX).unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|a| a.action == "license.amend")
            .count(),
        2
    );
    assert_eq!(
        entries
            .iter()
            .filter(|a| a.action == "license.resubmit")
            .count(),
        1
    );
}

#[tokio::test]
async fn parties_are_updated_with_history_and_look_alikes_are_refused() {
    let e = env().await;
    let p = parties(&e).await;
    // "Acme Trading FZE" (AE) exists: a near spelling in the same country is refused …
    let dup = party("ACME Trading F.Z.E.", "AE");
    match e.l.create_party(&officer(), dup.clone(), false).await {
        Err(Error::AlreadyExists(m)) => assert!(
            m.contains(&p.end_user) && m.contains("--allow-similar"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    // … in another country it is another firm, and the override creates it anyway.
    e.l.create_party(&officer(), party("ACME Trading F.Z.E.", "OM"), false)
        .await
        .unwrap();
    let forced = e.l.create_party(&officer(), dup, true).await.unwrap();
    assert_eq!(forced.revision, 1);
    let mut draft = party("Acme Trading FZE", "AE");
    draft.address = "Plot 7, Jebel Ali Free Zone".into();
    let updated =
        e.l.update_party(&officer(), &p.end_user, draft.clone(), "moved")
            .await
            .unwrap();
    assert_eq!(updated.revision, 2);
    assert_eq!(updated.history.len(), 1);
    assert_eq!(updated.history[0].address, "1 Harbour Road");
    assert_eq!(updated.history[0].rationale, "moved");
    assert_eq!(e.l.party(&p.end_user).unwrap(), updated);
    assert!(matches!(
        e.l.update_party(&officer(), &p.end_user, draft, "again")
            .await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(e
        .audit
        .entries(0, u64::MAX)
        .unwrap()
        .iter()
        .any(|a| a.action == "party.update"));
}

/// A reviewer with a fixed picture: the real one (risk) is tested there and
/// across processes; here only what licensing does with the picture.
struct Fixed(std::sync::Mutex<RiskSnapshot>);

impl DecisionReview for Fixed {
    fn review<'a>(
        &'a self,
        _license: &'a License,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<RiskSnapshot>> + Send + 'a>>
    {
        let r = self.0.lock().unwrap().clone();
        Box::pin(async move { Ok(r) })
    }
}

fn hit(id: &str) -> HitNote {
    HitNote {
        id: id.into(),
        description: format!("{id} matches"),
    }
}

#[tokio::test]
async fn open_hits_block_approval_and_high_risk_needs_a_second_officer() {
    let e = env().await;
    let p = parties(&e).await;
    let fixed = Arc::new(Fixed(std::sync::Mutex::new(RiskSnapshot {
        score: 72,
        band: "high".into(),
        open_hits: vec![hit("DE-P-2/ofac-sdn/123")],
        four_eyes: Some("band high is at or above four_eyes_from".into()),
        ..RiskSnapshot::default()
    })));
    let review: Arc<dyn DecisionReview> = fixed.clone();
    e.l.set_decision_review(&review);
    let l = license_in(&e, &p, S::UnderReview).await;
    match e
        .l
        .transition(&officer(), &l.id, A::Approve, "fine", to_fr())
        .await
    {
        Err(Error::FailedPrecondition(m)) => {
            assert!(
                m.contains("DE-P-2/ofac-sdn/123") && m.contains("concord license dispose"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Disposed of (as a confirmed match): the approval waits for a second officer.
    {
        let mut r = fixed.0.lock().unwrap();
        r.open_hits.clear();
        r.confirmed_hits = vec![hit("DE-P-2/ofac-sdn/123")];
    }
    let pending =
        e.l.transition(&officer(), &l.id, A::Approve, "goods are harmless", to_fr())
            .await
            .unwrap();
    assert_eq!(pending.state, S::UnderReview);
    let p1 = pending.pending.clone().expect("pending countersignature");
    assert_eq!(
        (p1.action, p1.officer.as_str(), p1.risk.score),
        (A::Approve, "DE/officer/olivia", 72)
    );
    assert!(e
        .l
        .licenses(&LicenseFilter {
            pending_only: true,
            ..Default::default()
        })
        .unwrap()
        .iter()
        .any(|x| x.id == l.id));
    // No other decision while it waits.
    assert!(
        matches!(e.l.transition(&officer(), &l.id, A::Deny, "x", to_fr()).await, Err(Error::FailedPrecondition(m)) if m.contains("pending"))
    );
    // The maker cannot countersign, not even under a second certificate of the same name.
    let olivia_again = Caller::new(j("DE"), Role::Officer, "olivia").unwrap();
    assert!(matches!(
        e.l.countersign(&olivia_again, &l.id, "ok", "override")
            .await,
        Err(Error::PermissionDenied(_))
    ));
    let olivia_admin = Caller::new(j("DE"), Role::Admin, "olivia").unwrap();
    assert!(matches!(
        e.l.countersign(&olivia_admin, &l.id, "ok", "override")
            .await,
        Err(Error::PermissionDenied(_))
    ));
    let oscar = Caller::new(j("DE"), Role::Officer, "oscar").unwrap();
    // A confirmed match needs an explicit override.
    assert!(
        matches!(e.l.countersign(&oscar, &l.id, "ok", "").await, Err(Error::FailedPrecondition(m)) if m.contains("--override"))
    );
    let done =
        e.l.countersign(
            &oscar,
            &l.id,
            "looked at the end-user certificate",
            "entry is a namesake bank branch closed in 2019",
        )
        .await
        .unwrap();
    assert_eq!(done.state, S::Approved);
    assert!(done.pending.is_none());
    let d = done.history.last().unwrap();
    assert_eq!(
        (d.action, d.officer.as_str(), d.rationale.as_str()),
        (A::Approve, "DE/officer/olivia", "goods are harmless")
    );
    let r = d.reviewed.clone().unwrap();
    let c = r.countersigned.unwrap();
    assert_eq!(c.officer, "DE/officer/oscar");
    assert!(c.override_rationale.contains("namesake"));
    assert_eq!(r.risk.unwrap().score, 72);
    assert_eq!(r.proposed_at_unix_ms, Some(p1.at_unix_ms));
    assert_eq!(e.l.license(&l.id).unwrap(), done);
    let audit = e.audit.entries(0, u64::MAX).unwrap();
    let signed = audit
        .iter()
        .find(|a| a.action == "license.decide" && a.record.starts_with(&l.id))
        .unwrap();
    assert_eq!(signed.actor, "DE/officer/oscar");
    assert!(
        signed.rationale.contains("decided by DE/officer/olivia")
            && signed.rationale.contains("override"),
        "{}",
        signed.rationale
    );
    assert!(audit
        .iter()
        .any(|a| a.action == "license.decide-pending" && a.actor == "DE/officer/olivia"));

    // A rejected pending decision is kept and the application waits again.
    let l2 = license_in(&e, &p, S::UnderReview).await;
    e.l.transition(&officer(), &l2.id, A::Approve, "fine", to_fr())
        .await
        .unwrap();
    let back =
        e.l.reject_pending(&oscar, &l2.id, "end user unverified")
            .await
            .unwrap();
    assert!(back.pending.is_none());
    assert_eq!(back.rejected.len(), 1);
    assert_eq!(back.rejected[0].rejected.officer, "DE/officer/oscar");
    assert_eq!(back.state, S::UnderReview);
    // Below the band, one officer decides, and the decision records its picture.
    {
        let mut r = fixed.0.lock().unwrap();
        *r = RiskSnapshot {
            score: 20,
            band: "low".into(),
            ..RiskSnapshot::default()
        };
    }
    let one =
        e.l.transition(&officer(), &l2.id, A::Approve, "fine now", to_fr())
            .await
            .unwrap();
    assert_eq!(one.state, S::Approved);
    let d = one.history.last().unwrap().reviewed.clone().unwrap();
    assert_eq!(d.risk.unwrap().score, 20);
    assert!(d.countersigned.is_none());
}
