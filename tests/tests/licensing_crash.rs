//! A node SIGKILLed right after acknowledging a deny decision restarts with
//! the decision, its audit entry and the denial notice all present: the
//! three were committed in one durable batch.

use concord_proto::v1::{
    CreatePartyRequest, DecideLicenseRequest, Distribution, GetLicenseRequest,
    LicenseActionRequest, LicenseItem, ListRecordsRequest, Money, SubmitLicenseRequest,
};
use concord_tests::*;

async fn licensing(
    profile: &std::path::Path,
) -> concord_proto::v1::licensing_service_client::LicensingServiceClient<tonic::transport::Channel>
{
    licensing_client(profile).await.unwrap()
}

#[tokio::test]
async fn a_deny_decision_survives_sigkill_with_its_audit_entry_and_notice() {
    let mut fed = Federation::start(&["DE", "FR"]).await.unwrap();
    let de = fed.dir("DE").clone();
    let catalog = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog/sample.json");
    concord_ok(&[
        "--profile",
        path_str(&de.admin_profile()),
        "catalog",
        "import",
        path_str(&catalog),
    ]);
    let officer = de.issue("officer", "olivia");
    let mut l = licensing(&officer).await;
    let mut ids = Vec::new();
    for (name, country) in [("Nordwerk GmbH", "DE"), ("Acme Trading FZE", "AE")] {
        ids.push(
            l.create_party(CreatePartyRequest {
                name: name.into(),
                country: country.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .id,
        );
    }
    let lic = l
        .submit_license(SubmitLicenseRequest {
            applicant: ids[0].clone(),
            items: vec![LicenseItem {
                code: "9A012".into(),
                quantity: 2,
                value: Some(Money {
                    minor_units: 90_000_000,
                    currency: "EUR".into(),
                }),
                ..Default::default()
            }],
            end_user: ids[1].clone(),
            consignee: ids[1].clone(),
            intermediaries: vec![],
            destination: "AE".into(),
            end_use: "agricultural survey".into(),
        })
        .await
        .unwrap()
        .into_inner();
    l.review_license(LicenseActionRequest {
        id: lic.id.clone(),
        rationale: "complete".into(),
    })
    .await
    .unwrap();
    let denied = l
        .decide_license(DecideLicenseRequest {
            id: lic.id.clone(),
            decision: "deny".into(),
            rationale: "payload capacity exceeds the stated use".into(),
            distribution: Some(Distribution {
                to: vec!["FR".into()],
                groups: vec![],
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // Acknowledged: kill at once, no chance to flush.
    fed.take("DE").kill();
    let denial_id = denied.denial_id;
    assert!(!denial_id.is_empty());

    fed.restart(&de).await.unwrap();
    let mut l = licensing(&officer).await;
    let after = l
        .get_license(GetLicenseRequest { id: lic.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(after.state, "denied");
    assert_eq!(after.denial_id, denial_id);

    let entries = audit_entries(&de.admin_profile()).await.unwrap();
    let decide = entries
        .iter()
        .find(|e| e.action == "license.decide" && e.record.starts_with(&format!("{} ", lic.id)))
        .unwrap_or_else(|| panic!("no license.decide entry for {}: {entries:?}", lic.id));
    assert_eq!(decide.actor, "DE/officer/olivia");
    // The decision's rationale, then the risk picture it was made on.
    assert!(
        decide
            .rationale
            .starts_with("payload capacity exceeds the stated use\nrisk "),
        "{}",
        decide.rationale
    );
    assert!(entries
        .iter()
        .any(|e| e.action == "denial.issue" && e.record.starts_with(&denial_id)));

    let mut exchange = exchange_client(&officer).await.unwrap();
    let denials = exchange
        .list_denials(ListRecordsRequest {
            issuer: "DE".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .records;
    assert!(
        denials.iter().any(|d| d.id == denial_id),
        "DE lists {:?}",
        denials.iter().map(|d| &d.id).collect::<Vec<_>>()
    );

    // And the notice still reaches FR after the restart.
    let fr_analyst = fed.dir("FR").issue("analyst", "fred");
    let fr = exchange_client(&fr_analyst).await.unwrap();
    eventually("FR to hold the denial", || {
        let (mut fr, id) = (fr.clone(), denial_id.clone());
        async move {
            let held = fr
                .list_denials(ListRecordsRequest::default())
                .await?
                .into_inner()
                .records;
            anyhow::ensure!(held.iter().any(|d| d.id == id), "not yet");
            Ok(())
        }
    })
    .await
    .unwrap();
}
