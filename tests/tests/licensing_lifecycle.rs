//! Licensing between real node processes over real mTLS: a license's whole
//! lifecycle, the denial notice a denial sends to a partner and its
//! revocation when the appeal is overturned, a failed end-use check's alert,
//! and every refusal an officer or analyst can meet.

use anyhow::{ensure, Context};
use concord_proto::v1::exchange_service_client::ExchangeServiceClient;
use concord_proto::v1::licensing_service_client::LicensingServiceClient;
use concord_proto::v1::record_view::Record;
use concord_proto::v1::{
    CreatePartyRequest, CreateWaiverRequest, DecideAppealRequest, DecideLicenseRequest,
    Distribution, GetLicenseRequest, GetRecordRequest, LicenseActionRequest, LicenseItem,
    ListLicensesRequest, ListRecordsRequest, ListShipmentsRequest, Money, PartyIdentifier,
    RecordEndUseCheckRequest, RecordShipmentRequest, ShippedItem, SubmitLicenseRequest,
};
use concord_tests::*;
use tonic::transport::Channel;
use tonic::Code;

type Licensing = LicensingServiceClient<Channel>;

async fn licensing(profile: &std::path::Path) -> Licensing {
    licensing_client(profile).await.unwrap()
}

fn sample_catalog() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.csv");
    path_str(&path).to_owned()
}

fn to(codes: &[&str]) -> Option<Distribution> {
    Some(Distribution {
        to: codes.iter().map(|c| c.to_string()).collect(),
        groups: vec![],
    })
}

async fn party(client: &mut Licensing, name: &str, country: &str) -> String {
    client
        .create_party(CreatePartyRequest {
            name: name.into(),
            aliases: vec![format!("{name} Ltd")],
            country: country.into(),
            address: "1 Harbour Road".into(),
            identifiers: vec![PartyIdentifier {
                kind: "lei".into(),
                value: "5493001KJTIIGC8Y1R12".into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

fn item(code: &str) -> LicenseItem {
    LicenseItem {
        code: code.into(),
        description: format!("{code} goods"),
        quantity: 4,
        value: Some(Money {
            minor_units: 1_250_000,
            currency: "EUR".into(),
        }),
        ..Default::default()
    }
}

struct Parties {
    applicant: String,
    end_user: String,
    consignee: String,
}

impl Parties {
    async fn create(client: &mut Licensing) -> Parties {
        Parties {
            applicant: party(client, "Nordwerk Defence GmbH", "DE").await,
            end_user: party(client, "Acme Trading FZE", "AE").await,
            consignee: party(client, "Gulf Logistics LLC", "AE").await,
        }
    }

    fn application(&self, codes: &[&str]) -> SubmitLicenseRequest {
        SubmitLicenseRequest {
            applicant: self.applicant.clone(),
            items: codes.iter().map(|c| item(c)).collect(),
            end_user: self.end_user.clone(),
            consignee: self.consignee.clone(),
            intermediaries: vec![],
            destination: "AE".into(),
            end_use: "border surveillance".into(),
        }
    }
}

fn act(id: &str, rationale: &str) -> LicenseActionRequest {
    LicenseActionRequest {
        id: id.into(),
        rationale: rationale.into(),
    }
}

fn decide(id: &str, decision: &str, dist: Option<Distribution>) -> DecideLicenseRequest {
    DecideLicenseRequest {
        id: id.into(),
        decision: decision.into(),
        rationale: format!("{decision}: checked against the end-user certificate"),
        distribution: dist,
        ..Default::default()
    }
}

/// The current version of `id` as FR's analyst sees it, once FR holds it.
async fn fr_denial(
    fr: &ExchangeServiceClient<Channel>,
    id: &str,
    state: &str,
) -> concord_proto::v1::DenialNotice {
    eventually(&format!("FR to hold {id} in state {state}"), || {
        let (mut fr, id) = (fr.clone(), id.to_owned());
        let state = state.to_owned();
        async move {
            let listed = fr
                .list_denials(ListRecordsRequest {
                    issuer: "DE".into(),
                    ..Default::default()
                })
                .await?
                .into_inner()
                .records;
            let view = listed
                .into_iter()
                .find(|r| r.id == id)
                .context("not held yet")?;
            let Some(Record::Denial(d)) = view.record else {
                anyhow::bail!("not a denial");
            };
            ensure!(d.state == state, "state {}", d.state);
            ensure!(view.signature_valid, "signature does not verify");
            Ok(d)
        }
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_license_lives_its_whole_lifecycle_and_partners_learn_of_its_denial() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "catalog",
        "import",
        &sample_catalog(),
    ]);
    let officer = de.issue("officer", "olivia");
    let mut l = licensing(&officer).await;
    let p = Parties::create(&mut l).await;

    // Submit, review, deny with a notice to FR.
    let submitted = l
        .submit_license(p.application(&["ML4", "3A001"]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(submitted.state, "submitted");
    assert_eq!(submitted.catalog_version, 1);
    assert_eq!(submitted.items[0].category, "military");
    let id = submitted.id.clone();
    let reviewed = l
        .review_license(act(&id, "complete file"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reviewed.state, "under-review");
    let denied = l
        .decide_license(decide(&id, "deny", to(&["FR"])))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(denied.state, "denied");
    let denial_id = denied.denial_id.clone();
    assert!(denial_id.starts_with("DE-D-"), "{denial_id}");

    // FR's analyst holds the notice: the end user, the items, the destination.
    let fr_analyst = fr.issue("analyst", "fred");
    let fr_exchange = exchange_client(&fr_analyst).await.unwrap();
    let notice = fr_denial(&fr_exchange, &denial_id, "active").await;
    let party = notice.party.unwrap();
    assert_eq!(
        (party.name.as_str(), party.country.as_str()),
        ("Acme Trading FZE", "AE")
    );
    let codes: Vec<&str> = notice.items.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(codes, ["ML4", "3A001"]);
    assert_eq!(notice.destination, "AE");
    assert_eq!(
        notice.reason,
        "deny: checked against the end-user certificate"
    );

    // Appeal, overturned: FR's current version of the notice is revoked.
    let appealed = l
        .appeal_license(act(&id, "applicant filed new end-user certificate"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(appealed.state, "appealed");
    let overturned = l
        .decide_appeal(DecideAppealRequest {
            id: id.clone(),
            outcome: "overturn".into(),
            rationale: "certificate verified by the embassy".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(overturned.state, "appeal-overturned");
    let revoked = fr_denial(&fr_exchange, &denial_id, "revoked").await;
    assert_eq!(revoked.change_reason, "certificate verified by the embassy");
    let history = fr_exchange
        .clone()
        .get_denial(GetRecordRequest {
            id: denial_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(history.len(), 2);

    // The history names the officer of every step by certificate identity.
    let shown = l
        .get_license(GetLicenseRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner();
    let steps: Vec<(&str, &str, &str)> = shown
        .history
        .iter()
        .map(|d| (d.action.as_str(), d.to_state.as_str(), d.officer.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("submit", "submitted", "DE/officer/olivia"),
            ("review", "under-review", "DE/officer/olivia"),
            ("deny", "denied", "DE/officer/olivia"),
            ("appeal", "appealed", "DE/officer/olivia"),
            ("overturn", "appeal-overturned", "DE/officer/olivia"),
        ]
    );
    assert_eq!(shown.history[2].denial_id, denial_id);
    assert_eq!(shown.history[4].denial_version, 2);
    assert!(shown.history.iter().all(|d| d.at_unix_ms > 0));

    // An approved license: waivers in the decision, a shipment, a failed
    // end-use check whose alert reaches FR.
    let waiver = l
        .create_waiver(CreateWaiverRequest {
            kind: "country-exception".into(),
            destination: "AE".into(),
            item_codes: vec!["3A001".into()],
            justification: "partner programme".into(),
            valid_until_unix_ms: concord_node::clock::now_unix_ms() + 86_400_000,
        })
        .await
        .unwrap()
        .into_inner();
    let second = l
        .submit_license(p.application(&["3A001"]))
        .await
        .unwrap()
        .into_inner();
    l.review_license(act(&second.id, "ok")).await.unwrap();
    let approved = l
        .decide_license(decide(&second.id, "approve", None))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(approved.state, "approved");
    assert_eq!(
        approved.history.last().unwrap().waivers,
        std::slice::from_ref(&waiver.id)
    );
    assert_eq!(approved.matching_waivers, [waiver.id]);
    let shipment = l
        .record_shipment(RecordShipmentRequest {
            license_id: second.id.clone(),
            origin: "DE".into(),
            destination: "AE".into(),
            route: vec!["Hamburg".into(), "Jebel Ali".into()],
            shipped_at_unix_ms: 0,
            reference: "BL-4711".into(),
            items: vec![ShippedItem {
                code: "3A001".into(),
                quantity: 2,
                value: Some(Money {
                    minor_units: 600_000,
                    currency: "EUR".into(),
                }),
            }],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shipment.recorded_by, "DE/officer/olivia");
    let listed = l
        .list_shipments(ListShipmentsRequest {
            license_id: second.id.clone(),
            limit: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .shipments;
    assert_eq!(listed.len(), 1);
    let check = l
        .record_end_use_check(RecordEndUseCheckRequest {
            license_id: second.id.clone(),
            result: "fail".into(),
            findings: "goods not at the declared site".into(),
            checked_at_unix_ms: 0,
            alert: to(&["FR"]),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(check.alert_id.starts_with("DE-A-"), "{}", check.alert_id);
    let alert = eventually("FR to hold the end-use alert", || {
        let (mut fr, id) = (fr_exchange.clone(), check.alert_id.clone());
        async move {
            let all = fr
                .list_alerts(ListRecordsRequest::default())
                .await?
                .into_inner()
                .records;
            let view = all.into_iter().find(|r| r.id == id).context("not yet")?;
            match view.record {
                Some(Record::Alert(a)) => Ok(a),
                _ => anyhow::bail!("not an alert"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(alert.category, "failed-end-use-verification");
    assert_eq!(alert.severity, "high");
    let subjects = alert.subjects.unwrap();
    assert_eq!(subjects.parties[0].name, "Acme Trading FZE");
    assert_eq!(subjects.destinations, ["AE"]);
    assert_eq!(subjects.items, ["3A001"]);

    // Revoked: no more shipments.
    l.revoke_license(act(&second.id, "diversion found"))
        .await
        .unwrap();
    let err = l
        .record_shipment(RecordShipmentRequest {
            license_id: second.id.clone(),
            origin: "DE".into(),
            destination: "AE".into(),
            items: vec![ShippedItem {
                code: "3A001".into(),
                quantity: 1,
                value: Some(Money {
                    minor_units: 1,
                    currency: "EUR".into(),
                }),
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let by_state = l
        .list_licenses(ListLicensesRequest {
            state: "revoked".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .licenses;
    assert_eq!(by_state.len(), 1);
}

#[tokio::test]
async fn refusals_name_what_is_wrong() {
    let fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let (de, fr) = (fed.dir("DE").clone(), fed.dir("FR").clone());
    let officer = de.issue("officer", "olivia");
    let mut l = licensing(&officer).await;
    let p = Parties::create(&mut l).await;

    // No catalog yet, then an unknown code.
    let err = l.submit_license(p.application(&["ML4"])).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "catalog",
        "import",
        &sample_catalog(),
    ]);
    let err = l
        .submit_license(p.application(&["ML4", "9Z999"]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("9Z999"), "{}", err.message());

    // Oversized fields and control characters.
    for (name, address) in [
        ("x".repeat(10_000), String::new()),
        ("Evil\u{0}Corp".to_owned(), String::new()),
        ("Bell\u{7}".to_owned(), String::new()),
        ("Fine Name".to_owned(), "y".repeat(100_000)),
    ] {
        let err = l
            .create_party(CreatePartyRequest {
                name,
                country: "AE".into(),
                address,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    }
    let mut long_end_use = p.application(&["ML4"]);
    long_end_use.end_use = "z".repeat(5_000);
    let err = l.submit_license(long_end_use).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // Illegal transitions name the state and the action.
    let lic = l
        .submit_license(p.application(&["ML4"]))
        .await
        .unwrap()
        .into_inner();
    let err = l
        .decide_license(decide(&lic.id, "approve", None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(
        err.message().contains("submitted") && err.message().contains("approve"),
        "{}",
        err.message()
    );
    let err = l.review_license(act(&lic.id, "  ")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a rationale is required");
    l.review_license(act(&lic.id, "ok")).await.unwrap();
    // Denying needs recipients; the node has no default.
    let err = l
        .decide_license(decide(&lic.id, "deny", None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");

    // An analyst reads but may not decide; the license is untouched.
    let analyst = de.issue("analyst", "ana");
    let mut a = licensing(&analyst).await;
    let err = a
        .decide_license(decide(&lic.id, "approve", None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = a.submit_license(p.application(&["ML4"])).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let seen = a
        .get_license(GetLicenseRequest { id: lic.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.state, "under-review");
    // The officer decides; an admin may not.
    let approved = l
        .decide_license(decide(&lic.id, "approve", None))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(approved.state, "approved");
    let mut admin = licensing(&de.admin_profile()).await;
    let err = admin
        .revoke_license(act(&lic.id, "admin tries"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // A partner's officer is not admitted to DE's licensing service at all.
    let fr_officer = fr.issue("officer", "francois");
    let mut foreign = fr_officer_on(&fr_officer, &de).await;
    let err = foreign
        .get_license(GetLicenseRequest { id: lic.id.clone() })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
}

/// A client presenting `profile`'s (foreign) certificate to `node`.
async fn fr_officer_on(profile: &std::path::Path, node: &NodeDir) -> Licensing {
    let mut creds = Credentials::from_profile(profile).unwrap();
    creds.endpoint = node.endpoint.clone();
    creds.ca_pem = node.read("ca.crt");
    LicensingServiceClient::new(creds.channel(true).await.unwrap())
}
