//! The demo's no-undercut scene: DE's officer reviews an application
//! essentially identical to the denial FR issued in the exchange step (same
//! end user, item and destination). Approving it is refused first for the
//! open screening hit on FR's denial notice, which the officer confirms;
//! then for the no-undercut rule, naming FR's denial; DE consults FR, FR's
//! officer answers, and the approval (high risk, a confirmed match) waits
//! for a second DE officer, whose countersignature with an override
//! rationale lets it through, its decision naming the consultation. JP, not
//! concerned, never holds the consultation.

use std::time::Duration;

use concord_proto::v1 as pb;
use serde::Serialize;
use tokio::time::Instant;

use crate::client;
use crate::client::Clients;
use crate::cmd::consult;
use crate::exit::CliError;
use crate::local::{Member, Progress};
use crate::nodes::Nodes;
use crate::output::or_dash;
use crate::profile::Profile;

const TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(250);

/// What FR's demo denial names (see `demo::exchange`): the application DE
/// reviews resembles it on all three counts.
const DENIED_PARTY: &str = "DEMO COMPONENTS SARL (fictitious)";
const DENIED_ITEM: &str = "3A001";
const DESTINATION: &str = "ZZ";

/// The application's risk score as DE computed it at submission.
#[derive(Debug, Serialize)]
pub struct RiskSummary {
    pub score: u32,
    pub band: String,
    pub flagged: bool,
    /// (factor, points) for factors that added or took points.
    pub factors: Vec<(String, i32)>,
}

#[derive(Debug, Serialize)]
pub struct ConsultReport {
    pub license_id: String,
    pub denial_id: String,
    pub risk: RiskSummary,
    /// The first refusal: the open screening hit.
    pub blocked_by_hit: String,
    /// The hit DE's officer disposed of (as a confirmed match).
    pub hit: String,
    /// The refusal DE's officer got before consulting.
    pub blocked: String,
    /// Why the approval needed a second officer, and who countersigned.
    pub four_eyes: String,
    pub countersigned_by: String,
    pub consultation_id: String,
    pub recipients: Vec<String>,
    pub answer_id: String,
    pub position: String,
    /// The license state after the second approval.
    pub state: String,
    /// The decision's rationale, with the consultation it rests on.
    pub rationale: String,
    /// Jurisdictions holding the consultation.
    pub held_at: Vec<String>,
    pub not_held_at: Vec<String>,
}

impl ConsultReport {
    pub fn render(&self) -> String {
        format!(
            "\nNo undercut: DE reviews {license}, essentially identical to FR's denial {denial}.\n\
             Risk score at submission: {score}/100 ({band}){flag}; {factors}.\n\
             Approving it is refused until a person disposes of the screening hit:\n  {by_hit}\n\
             DE's officer confirms the match {hit}. Approving is refused again:\n  {blocked}\n\
             DE's officer consults FR ({c} to {to}); FR's officer answers {answer} ({position}).\n\
             The approval then waits for a second officer ({four_eyes}); {checker} countersigns \
             with an override rationale ({state}). The decision records:\n  {rationale}\n\
             Held at {held}; not at {not} (need-to-know).\n",
            by_hit = self.blocked_by_hit,
            hit = self.hit,
            four_eyes = self.four_eyes,
            checker = self.countersigned_by,
            license = self.license_id,
            denial = self.denial_id,
            score = self.risk.score,
            band = self.risk.band,
            flag = if self.risk.flagged {
                ", flagged for review (the score informs; the officer decides)"
            } else {
                ""
            },
            factors = self
                .risk
                .factors
                .iter()
                .map(|(name, points)| format!("{name} {points:+}"))
                .collect::<Vec<_>>()
                .join(", "),
            blocked = self.blocked,
            c = self.consultation_id,
            to = self.recipients.join(", "),
            answer = self.answer_id,
            position = self.position,
            state = self.state,
            rationale = self.rationale.replace('\n', "\n  "),
            held = self.held_at.join(", "),
            not = or_dash(&self.not_held_at.join(", ")),
        )
    }
}

fn rpc<'a>(call: &str, profile: &'a Profile, who: &str) -> impl Fn(tonic::Status) -> CliError + 'a {
    let (call, who) = (call.to_owned(), who.to_owned());
    move |s| client::rpc_error(&call, profile, &s).context(who.clone())
}

/// Runs the scene; `de_officer` and `fr_officer` are officer profiles,
/// `jp_reader` any reading profile at JP.
// The scene's cast: five people at three nodes, each a profile of its own;
// a struct of them would be built once, here, and read once.
#[allow(clippy::too_many_arguments)]
pub async fn scene(
    de: &Member,
    de_officer: &Profile,
    de_checker: &Profile,
    fr_officer: &Profile,
    jp_reader: &Profile,
    denial_id: &str,
    nodes: &mut Nodes,
    progress: &Progress,
) -> Result<ConsultReport, CliError> {
    let bar = progress.bar("No-undercut consultation", 7);
    bar.set_message("DE: importing a catalog and recording an application");
    let mut admin = Clients::connect(&de.profile).await?.licensing;
    let entry = pb::CatalogEntry {
        code: DENIED_ITEM.to_owned(),
        title: "Electronic components".to_owned(),
        category: "dual-use".to_owned(),
        tier: 2,
        rationale: "Wassenaar Dual-Use List Category 3".to_owned(),
        source_line: 0,
    };
    admin
        .import_catalog(tonic::codegen::tokio_stream::iter(vec![
            pb::ImportCatalogChunk {
                source: "demo catalog".to_owned(),
                entries: vec![entry],
            },
        ]))
        .await
        .map_err(rpc("ImportCatalog", &de.profile, "DE admin"))?;
    let mut officer = Clients::connect(de_officer).await?.licensing;
    let party = |name: &str, country: &str| pb::CreatePartyRequest {
        name: name.to_owned(),
        country: country.to_owned(),
        ..Default::default()
    };
    let mut ids = Vec::new();
    for request in [
        party("Demo Werk GmbH (fictitious)", "DE"),
        party(DENIED_PARTY, DESTINATION),
        party("Demo Freight LLC (fictitious)", DESTINATION),
    ] {
        let p = officer
            .create_party(request)
            .await
            .map_err(rpc("CreateParty", de_officer, "DE officer"))?
            .into_inner();
        ids.push(p.id);
    }
    let submitted = officer
        .submit_license(pb::SubmitLicenseRequest {
            applicant: ids[0].clone(),
            items: vec![pb::LicenseItem {
                code: DENIED_ITEM.to_owned(),
                description: "demo electronic components".to_owned(),
                quantity: 100,
                value: Some(pb::Money {
                    minor_units: 2_500_000,
                    currency: "EUR".to_owned(),
                }),
                ..Default::default()
            }],
            end_user: ids[1].clone(),
            consignee: ids[2].clone(),
            intermediaries: Vec::new(),
            destination: DESTINATION.to_owned(),
            end_use: "stated: civilian telecommunications".to_owned(),
        })
        .await
        .map_err(rpc("SubmitLicense", de_officer, "DE officer"))?
        .into_inner();
    let license_id = submitted.id;
    let assessment = Clients::connect(de_officer)
        .await?
        .risk
        .get_assessment(pb::GetRiskAssessmentRequest {
            license_id: license_id.clone(),
        })
        .await
        .map_err(rpc("GetAssessment", de_officer, "DE officer"))?
        .into_inner();
    let risk = RiskSummary {
        score: assessment.score,
        band: assessment.band,
        flagged: assessment.flagged,
        factors: assessment
            .factors
            .into_iter()
            .filter(|f| f.points != 0)
            .map(|f| (f.name, f.points))
            .collect(),
    };
    officer
        .review_license(pb::LicenseActionRequest {
            id: license_id.clone(),
            rationale: "file complete".to_owned(),
        })
        .await
        .map_err(rpc("ReviewLicense", de_officer, "DE officer"))?;
    bar.inc(1);

    bar.set_message(format!("DE: approving {license_id}"));
    let approve = pb::DecideLicenseRequest {
        id: license_id.clone(),
        decision: "approve".to_owned(),
        rationale: "Demo: end user documents verified".to_owned(),
        distribution: None,
        ..Default::default()
    };
    let refused = |what: &str| {
        CliError::internal(format!(
            "DE approved {license_id} although {what} ({denial_id})"
        ))
    };
    let blocked_by_hit = match officer.decide_license(approve.clone()).await {
        Err(s) if s.code() == tonic::Code::FailedPrecondition => s.message().to_owned(),
        Err(s) => return Err(rpc("DecideLicense", de_officer, "DE officer")(s)),
        Ok(_) => return Err(refused("its end user has an open hit on FR's denial")),
    };
    bar.inc(1);

    bar.set_message(format!(
        "DE: disposing of the screening hit on {license_id}"
    ));
    let shown = officer
        .get_license(pb::GetLicenseRequest {
            id: license_id.clone(),
        })
        .await
        .map_err(rpc("GetLicense", de_officer, "DE officer"))?
        .into_inner();
    let mut hit = String::new();
    for h in shown.hits.iter().filter(|h| h.status == "open") {
        officer
            .dispose_hit(pb::DisposeHitRequest {
                license_id: license_id.clone(),
                hit_id: h.id.clone(),
                disposition: "confirmed".to_owned(),
                rationale: "Demo: the end user is the party FR denied".to_owned(),
            })
            .await
            .map_err(rpc("DisposeHit", de_officer, "DE officer"))?;
        hit = h.id.clone();
    }
    let blocked = match officer.decide_license(approve.clone()).await {
        Err(s) if s.code() == tonic::Code::FailedPrecondition => s.message().to_owned(),
        Err(s) => return Err(rpc("DecideLicense", de_officer, "DE officer")(s)),
        Ok(_) => return Err(refused("it resembles FR's denial")),
    };
    bar.inc(1);

    bar.set_message(format!("DE: consulting FR about {denial_id}"));
    let request = consult::request_consultation(
        de_officer,
        pb::RequestConsultationRequest {
            license_id: license_id.clone(),
            denial_id: denial_id.to_owned(),
            text: "Demo: a second exporter asks to ship the same components. Do you object?"
                .to_owned(),
            ..Default::default()
        },
    )
    .await?;
    bar.inc(1);

    bar.set_message(format!("FR: answering {}", request.id));
    let fr_holds = |threads: &[pb::ConsultationThread]| {
        threads
            .iter()
            .any(|t| t.request.as_ref().is_some_and(|r| r.id == request.id))
    };
    let deadline = Instant::now() + TIMEOUT;
    loop {
        nodes.check_running()?;
        if fr_holds(&consult::list(fr_officer, Default::default()).await?) {
            break;
        }
        if Instant::now() >= deadline {
            return Err(CliError::timeout(format!(
                "FR does not hold {} after {} s",
                request.id,
                TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
    let answer = consult::respond(
        fr_officer,
        pb::RespondRequest {
            id: request.id.clone(),
            position: "no-objection".to_owned(),
            text: "Demo: the earlier denial concerned a different end use; no objection."
                .to_owned(),
        },
    )
    .await?;
    bar.inc(1);

    bar.set_message(format!("DE: approving {license_id} again"));
    let deadline = Instant::now() + TIMEOUT;
    let decided = loop {
        nodes.check_running()?;
        match officer.decide_license(approve.clone()).await {
            Ok(l) => break l.into_inner(),
            // FR's answer may still be on its way.
            Err(s) if s.code() == tonic::Code::FailedPrecondition && Instant::now() < deadline => {
                tokio::time::sleep(POLL).await;
            }
            Err(s) => return Err(rpc("DecideLicense", de_officer, "DE officer")(s)),
        }
    };
    bar.inc(1);
    bar.set_message(format!("DE: a second officer countersigns {license_id}"));
    let four_eyes = decided
        .pending
        .as_ref()
        .map(|p| p.reason.clone())
        .unwrap_or_default();
    let approved = if decided.pending.is_some() {
        Clients::connect(de_checker)
            .await?
            .licensing
            .countersign_decision(pb::CountersignRequest {
                id: license_id.clone(),
                rationale: "Demo: read the consultation answer and the end-use statement"
                    .to_owned(),
                override_rationale: "Demo: FR raises no objection; the earlier denial \
                                     concerned a different end use"
                    .to_owned(),
                reject: false,
            })
            .await
            .map_err(rpc("CountersignDecision", de_checker, "DE second officer"))?
            .into_inner()
    } else {
        decided
    };
    let countersigned_by = approved
        .history
        .last()
        .and_then(|d| d.countersigned.as_ref())
        .map(|c| c.officer.clone())
        .unwrap_or_default();
    bar.inc(1);
    let jp_holds = fr_holds(&consult::list(jp_reader, Default::default()).await?);
    bar.finish_with_message(format!(
        "No undercut: {license_id} approved after consultation {} was answered",
        request.id
    ));
    let position = match &answer.body {
        Some(pb::consultation_view::Body::Response(r)) => r.position.clone(),
        _ => String::new(),
    };
    let mut held_at = vec!["DE".to_owned(), "FR".to_owned()];
    let mut not_held_at = Vec::new();
    if jp_holds {
        held_at.push("JP".to_owned());
    } else {
        not_held_at.push("JP".to_owned());
    }
    Ok(ConsultReport {
        license_id,
        denial_id: denial_id.to_owned(),
        risk,
        blocked_by_hit,
        hit,
        blocked,
        four_eyes,
        countersigned_by,
        consultation_id: request.id,
        recipients: request.recipients,
        answer_id: answer.id,
        position,
        state: approved.state,
        rationale: approved
            .history
            .last()
            .map(|d| d.rationale.clone())
            .unwrap_or_default(),
        held_at,
        not_held_at,
    })
}
