//! `concord risk show|flagged|methodology`: license applications' risk
//! scores with each factor's contribution, the applications flagged for
//! review, and the methodology the node scores with, through the node's
//! RiskService. Analysts, officers and admins read; nobody writes: the node
//! scores on submission and whenever an alert, denial or list import lands.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::CliError;
use crate::output::{key_values, print_json, print_text, time_or_never, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum RiskCommand {
    /// A license application's latest score, band and each factor's contribution.
    Show(ShowArgs),
    /// Applications flagged for human review, highest score first.
    Flagged(FlaggedArgs),
    /// The methodology this node scores with: weights, threshold, bands,
    /// item classes, and where national overrides apply.
    Methodology,
}

#[derive(Debug, Clone, Args)]
pub struct ShowArgs {
    /// License id, e.g. DE-L-7.
    #[arg(value_name = "LICENSE_ID")]
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct FlaggedArgs {
    /// Also applications already decided.
    #[arg(long)]
    pub all: bool,
}

pub async fn run(
    cmd: RiskCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let license_id = match &cmd {
        RiskCommand::Show(a) => {
            let id = a.id.trim().to_owned();
            if id.is_empty() {
                return Err(CliError::invalid_argument("LICENSE_ID: required"));
            }
            Some(id)
        }
        _ => None,
    };
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.risk;
    match cmd {
        RiskCommand::Show(_) => {
            let a = client
                .get_assessment(pb::GetRiskAssessmentRequest {
                    license_id: license_id.unwrap_or_default(),
                })
                .await
                .map_err(|s| rpc_error("GetAssessment", &profile, &s))?
                .into_inner();
            let out = AssessmentOut::from(&a);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&assessment_text(&out)),
            }
        }
        RiskCommand::Flagged(a) => {
            let list = client
                .list_flagged(pb::ListFlaggedRequest {
                    include_decided: a.all,
                })
                .await
                .map_err(|s| rpc_error("ListFlagged", &profile, &s))?
                .into_inner()
                .assessments;
            let assessments: Vec<AssessmentOut> = list.iter().map(AssessmentOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&FlaggedOut { assessments }),
                OutputFormat::Table => print_text(&flagged_table(&assessments)),
            }
        }
        RiskCommand::Methodology => {
            let m = client
                .get_methodology(pb::GetRiskMethodologyRequest {})
                .await
                .map_err(|s| rpc_error("GetMethodology", &profile, &s))?
                .into_inner();
            let out = MethodologyOut::from(&m);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&methodology_text(&out)),
            }
        }
    }
}

/// One line for `license submit`: the score the node gave at submission.
pub async fn summary_line(profile: &Profile, license_id: &str) -> Option<String> {
    let mut client = Clients::connect(profile).await.ok()?.risk;
    let a = client
        .get_assessment(pb::GetRiskAssessmentRequest {
            license_id: license_id.to_owned(),
        })
        .await
        .ok()?
        .into_inner();
    let flag = if a.flagged {
        ", flagged for review"
    } else {
        ""
    };
    Some(format!(
        "Risk score {}/100 ({}){flag}; `concord risk show {license_id}` explains it\n",
        a.score, a.band
    ))
}

#[derive(Debug, Serialize)]
pub struct FactorOut {
    pub name: String,
    pub points: i32,
    pub max: u32,
    pub explanation: String,
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AssessmentOut {
    pub license_id: String,
    pub license_state: String,
    pub score: u32,
    pub band: String,
    pub flagged: bool,
    pub flagged_at: Option<String>,
    pub review_threshold: u32,
    /// Their points add up to `score`.
    pub factors: Vec<FactorOut>,
    pub methodology: String,
    pub trigger: String,
    pub assessed_at: String,
    pub previous_score: Option<u32>,
    /// Risk floors that applied: each forces at least its band and a review.
    pub floors: Vec<FloorOut>,
    /// Every screening hit of the application's parties, best first.
    pub hits: Vec<crate::cmd::license::view::HitOut>,
}

#[derive(Debug, Serialize)]
pub struct FloorOut {
    pub kind: String,
    pub band: String,
    pub reason: String,
    pub evidence: Vec<String>,
}

impl From<&pb::RiskAssessment> for AssessmentOut {
    fn from(a: &pb::RiskAssessment) -> Self {
        AssessmentOut {
            license_id: a.license_id.clone(),
            license_state: a.license_state.clone(),
            score: a.score,
            band: a.band.clone(),
            flagged: a.flagged,
            flagged_at: (a.flagged_at_unix_ms > 0).then(|| time_or_never(a.flagged_at_unix_ms)),
            review_threshold: a.review_threshold,
            factors: a
                .factors
                .iter()
                .map(|f| FactorOut {
                    name: f.name.clone(),
                    points: f.points,
                    max: f.max,
                    explanation: f.explanation.clone(),
                    evidence: f.evidence.clone(),
                })
                .collect(),
            methodology: a.methodology.clone(),
            trigger: a.trigger.clone(),
            assessed_at: time_or_never(a.assessed_at_unix_ms),
            previous_score: a.has_previous.then_some(a.previous_score),
            floors: a
                .floors
                .iter()
                .map(|f| FloorOut {
                    kind: f.kind.clone(),
                    band: f.band.clone(),
                    reason: f.reason.clone(),
                    evidence: f.evidence.clone(),
                })
                .collect(),
            hits: a
                .hits
                .iter()
                .map(crate::cmd::license::view::HitOut::from)
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
struct FlaggedOut {
    assessments: Vec<AssessmentOut>,
}

fn assessment_text(a: &AssessmentOut) -> String {
    let flagged = if a.flagged {
        format!(
            "yes, since {} (threshold {}): a person must review it",
            a.flagged_at.as_deref().unwrap_or("?"),
            a.review_threshold
        )
    } else {
        format!("no (threshold {})", a.review_threshold)
    };
    let previous = a
        .previous_score
        .map_or_else(|| "-".to_owned(), |p| p.to_string());
    let mut text = key_values(
        &format!("License {} ({})", a.license_id, a.license_state),
        &[
            ("score", format!("{}/100", a.score)),
            ("band", a.band.clone()),
            ("flagged", flagged),
            ("previous score", previous),
            ("scored", format!("{} on {}", a.assessed_at, a.trigger)),
            ("methodology", a.methodology.clone()),
        ],
    );
    text.push('\n');
    let mut t = Table::new(["FACTOR", "POINTS", "MAX", "WHY"]);
    for f in &a.factors {
        t.row([
            f.name.clone(),
            signed(f.points),
            f.max.to_string(),
            f.explanation.clone(),
        ]);
    }
    t.row(["total".to_owned(), a.score.to_string()]);
    text.push_str(&t.render());
    for f in &a.floors {
        text.push_str(&format!(
            "Floor {} (at least {}): {}\n",
            f.kind, f.band, f.reason
        ));
    }
    let open = a.hits.iter().filter(|h| h.status == "open").count();
    text.push_str(&format!(
        "Screening hits: {} ({open} open{})\n",
        a.hits.len(),
        if open > 0 {
            "; an approval waits for every one"
        } else {
            ""
        }
    ));
    for h in &a.hits {
        text.push_str(&format!(
            "  {} {} {:.2} {:?} ~ {:?}\n",
            h.id, h.status, h.score, h.party_name, h.matched_name
        ));
    }
    if open > 0 {
        text.push_str(&format!(
            "Dispose: concord license dispose {} HIT --false-positive|--confirmed --rationale T\n",
            a.license_id
        ));
    }
    text
}

/// Points with their sign, so credits stand out; zero unsigned.
fn signed(points: i32) -> String {
    if points == 0 {
        "0".to_owned()
    } else {
        format!("{points:+}")
    }
}

fn flagged_table(list: &[AssessmentOut]) -> String {
    if list.is_empty() {
        return "No application is flagged for review.\n".to_owned();
    }
    let mut t = Table::new(["LICENSE", "STATE", "SCORE", "BAND", "FLAGGED AT", "TRIGGER"]);
    for a in list {
        t.row([
            a.license_id.clone(),
            a.license_state.clone(),
            a.score.to_string(),
            a.band.clone(),
            a.flagged_at.clone().unwrap_or_default(),
            a.trigger.clone(),
        ]);
    }
    t.render()
}

#[derive(Debug, Serialize)]
pub struct MethodologyOut {
    pub name: String,
    pub version: String,
    pub source: String,
    pub review_threshold: u32,
    pub weights: Vec<(String, u32)>,
    pub waiver_credit: u32,
    pub bands: Vec<(String, u32)>,
    pub items: Vec<ItemClassOut>,
    /// The whole effective methodology, as TOML.
    pub toml: String,
}

#[derive(Debug, Serialize)]
pub struct ItemClassOut {
    pub category: String,
    pub tier: u32,
    pub class: String,
    pub percent: u32,
}

impl From<&pb::RiskMethodology> for MethodologyOut {
    fn from(m: &pb::RiskMethodology) -> Self {
        MethodologyOut {
            name: m.name.clone(),
            version: m.version.clone(),
            source: m.source.clone(),
            review_threshold: m.review_threshold,
            weights: m
                .weights
                .iter()
                .map(|w| (w.factor.clone(), w.max_points))
                .collect(),
            waiver_credit: m.waiver_credit,
            bands: m
                .bands
                .iter()
                .map(|b| (b.name.clone(), b.from_score))
                .collect(),
            items: m
                .items
                .iter()
                .map(|c| ItemClassOut {
                    category: c.category.clone(),
                    tier: c.tier,
                    class: c.class.clone(),
                    percent: c.percent,
                })
                .collect(),
            toml: m.toml.clone(),
        }
    }
}

fn methodology_text(m: &MethodologyOut) -> String {
    let bands: Vec<String> = m
        .bands
        .iter()
        .map(|(name, from)| format!("{name} from {from}"))
        .collect();
    let mut text = key_values(
        &format!("Methodology {} {}", m.name, m.version),
        &[
            ("source", m.source.clone()),
            ("review threshold", m.review_threshold.to_string()),
            ("waiver credit", format!("up to {}", m.waiver_credit)),
            ("bands", bands.join(", ")),
        ],
    );
    text.push('\n');
    let mut weights = Table::new(["FACTOR", "MAX POINTS"]);
    for (factor, max) in &m.weights {
        weights.row([factor.clone(), max.to_string()]);
    }
    text.push_str(&weights.render());
    text.push('\n');
    let mut items = Table::new(["CATEGORY", "TIER", "STANDARD CLASS", "PERCENT"]);
    for c in &m.items {
        items.row([
            c.category.clone(),
            c.tier.to_string(),
            c.class.clone(),
            c.percent.to_string(),
        ]);
    }
    text.push_str(&items.render());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assessment() -> pb::RiskAssessment {
        pb::RiskAssessment {
            license_id: "DE-L-1".into(),
            score: 30,
            band: "medium".into(),
            factors: vec![
                pb::RiskFactor {
                    name: "item-sensitivity".into(),
                    points: 25,
                    max: 25,
                    explanation: "ML4 military tier 3 is advanced-military: 100% of 25".into(),
                    evidence: vec!["ML4".into()],
                },
                pb::RiskFactor {
                    name: "destination".into(),
                    points: 10,
                    max: 20,
                    explanation: "AE is tier 2: 50% of 20".into(),
                    evidence: vec![],
                },
                pb::RiskFactor {
                    name: "waivers".into(),
                    points: -5,
                    max: 10,
                    explanation: "covered by DE-W-1".into(),
                    evidence: vec!["DE-W-1".into()],
                },
            ],
            review_threshold: 60,
            methodology: "concord-baseline 1.0".into(),
            trigger: "submission".into(),
            assessed_at_unix_ms: 1_700_000_000_000,
            license_state: "submitted".into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_assessment_shows_every_contribution_and_the_total() {
        let out = AssessmentOut::from(&assessment());
        assert_eq!(out.previous_score, None);
        assert_eq!(out.flagged_at, None);
        let text = assessment_text(&out);
        assert!(text.contains("+25"), "{text}");
        assert!(text.contains("-5"), "{text}");
        let total = text
            .lines()
            .find(|l| l.starts_with("total"))
            .unwrap_or_default();
        assert!(total.ends_with(" 30"), "{text}");
        assert!(text.contains("Screening hits: 0 (0 open)"), "{text}");
        assert!(text.contains("no (threshold 60)"), "{text}");
        let json = serde_json::to_value(&out).unwrap();
        assert_eq!(json["factors"][2]["points"], -5);
    }

    #[test]
    fn no_flagged_application_says_so() {
        assert!(flagged_table(&[]).contains("No application"));
        let mut a = assessment();
        a.flagged = true;
        a.flagged_at_unix_ms = 1_700_000_000_000;
        let t = flagged_table(&[AssessmentOut::from(&a)]);
        assert!(t.contains("DE-L-1") && t.contains("2023-11-14"), "{t}");
    }
}
