//! `concord partner-licence share|list|show|recognise|decline`: mutual
//! recognition of licences, through the node's ConsultService. An officer
//! shares an approved licence with chosen partners as a signed licence
//! notice; a partner's officer records whether the jurisdiction recognises
//! it. Recognised licences in force show when screening a party they name
//! (`concord screen`) and when checking an application (`concord consult
//! check`); they never clear a hit or release a block.

use std::path::Path;

use clap::Subcommand;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::CliError;
use crate::output::{key_values, or_dash, print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

const DECISIONS: [&str; 3] = ["recognised", "declined", "undecided"];
const STANDINGS: [&str; 3] = ["in-force", "expired", "withdrawn"];

#[derive(Debug, Subcommand)]
pub enum PartnerLicenceCommand {
    /// Share an approved licence in force with partners as a signed licence
    /// notice: parties, items, destination, validity and conditions, never
    /// the internal file (officer).
    Share {
        /// The licence, e.g. DE-L-3.
        #[arg(value_name = "LICENSE")]
        license: String,
        /// Partners to share it with, comma-separated (registered peers).
        #[arg(long, value_name = "J,...", value_delimiter = ',', required = true)]
        to: Vec<String>,
        /// Why it is shared (a joint programme, a re-export).
        #[arg(long, value_name = "TEXT", default_value = "")]
        text: String,
    },
    /// List the licence notices held: shared by this node and by partners, newest first.
    List {
        /// Only notices of this issuer (the own jurisdiction: those this node shared).
        #[arg(long, value_name = "J")]
        issuer: Option<String>,
        /// Only notices of this licence id.
        #[arg(long, value_name = "ID")]
        license: Option<String>,
        /// recognised, declined or undecided.
        #[arg(long, value_name = "DECISION", value_parser = DECISIONS)]
        decision: Option<String>,
        /// in-force, expired or withdrawn.
        #[arg(long, value_name = "STANDING", value_parser = STANDINGS)]
        standing: Option<String>,
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// Show one licence notice with its terms, signature and decision.
    Show {
        /// The notice's id, e.g. FR-C-3.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Recognise a partner's licence notice (officer; audited).
    Recognise {
        #[arg(value_name = "ID")]
        id: String,
        /// Why (required).
        #[arg(long, value_name = "TEXT")]
        rationale: String,
    },
    /// Decline to recognise a partner's licence notice (officer; audited).
    Decline {
        #[arg(value_name = "ID")]
        id: String,
        /// Why (required).
        #[arg(long, value_name = "TEXT")]
        rationale: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartyOut {
    pub role: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeOut {
    pub id: String,
    pub issuer: String,
    pub license_id: String,
    pub recipients: Vec<String>,
    pub signature_valid: bool,
    pub standing: String,
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_rationale: Option<String>,
    pub parties: Vec<PartyOut>,
    pub items: Vec<String>,
    pub destination: String,
    pub end_use: String,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub conditions: Vec<String>,
    pub text: String,
    pub withdrawn_by: Option<String>,
    pub withdrawal_reason: Option<String>,
}

impl From<&pb::LicenceNoticeView> for NoticeOut {
    fn from(v: &pb::LicenceNoticeView) -> Self {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let view = v.notice.clone().unwrap_or_default();
        let n = match &view.body {
            Some(pb::consultation_view::Body::LicenceNotice(n)) => n.clone(),
            _ => pb::LicenceNotice::default(),
        };
        let withdrawn = v.withdrawal.as_ref().and_then(|w| match &w.body {
            Some(pb::consultation_view::Body::LicenceWithdrawal(x)) => {
                Some((w.id.clone(), x.clone()))
            }
            _ => None,
        });
        NoticeOut {
            id: view.id.clone(),
            issuer: view.issuer.clone(),
            license_id: n.license_id.clone(),
            recipients: view.recipients.clone(),
            signature_valid: view.signature_valid,
            standing: v.standing.clone(),
            decision: opt(&v.decision),
            decided_by: opt(&v.decided_by),
            decided_at: rfc3339(v.decided_at_unix_ms),
            decision_rationale: opt(&v.decision_rationale),
            parties: n
                .parties
                .iter()
                .map(|p| PartyOut {
                    role: p.role.clone(),
                    name: p.name.clone(),
                    aliases: p.aliases.clone(),
                    country: p.country.clone(),
                })
                .collect(),
            items: n
                .items
                .iter()
                .map(|i| format!("{} x{}", i.code, i.quantity))
                .collect(),
            destination: n.destination.clone(),
            end_use: n.end_use.clone(),
            valid_from: rfc3339(n.valid_from_unix_ms),
            valid_until: rfc3339(n.valid_until_unix_ms),
            conditions: n.conditions.clone(),
            text: n.text.clone(),
            withdrawal_reason: withdrawn
                .as_ref()
                .map(|(_, w)| format!("{}: {}", w.reason, w.rationale)),
            withdrawn_by: withdrawn.map(|(id, _)| id),
        }
    }
}

impl NoticeOut {
    fn render(&self) -> String {
        let parties: Vec<String> = self
            .parties
            .iter()
            .map(|p| format!("{}: {} ({})", p.role, p.name, or_dash(&p.country)))
            .collect();
        let decision = match (&self.decision, &self.decided_by) {
            (Some(d), Some(by)) => format!(
                "{d} by {by} at {}: {}",
                self.decided_at.clone().unwrap_or_default(),
                self.decision_rationale.clone().unwrap_or_default()
            ),
            (Some(d), None) => d.clone(),
            (None, _) => "- (this node's own notice)".to_owned(),
        };
        key_values(
            &format!("licence notice {}", self.id),
            &[
                ("notice", self.id.clone()),
                ("issuer", self.issuer.clone()),
                ("licence", self.license_id.clone()),
                ("standing", self.standing.clone()),
                ("decision", decision),
                (
                    "signature",
                    if self.signature_valid {
                        "valid"
                    } else {
                        "INVALID"
                    }
                    .to_owned(),
                ),
                ("recipients", self.recipients.join(", ")),
                ("parties", parties.join("; ")),
                ("items", self.items.join(", ")),
                ("destination", self.destination.clone()),
                ("end use", or_dash(&self.end_use)),
                (
                    "valid",
                    format!(
                        "{} to {}",
                        self.valid_from.clone().unwrap_or_default(),
                        self.valid_until.clone().unwrap_or_default()
                    ),
                ),
                ("conditions", or_dash(&self.conditions.join("; "))),
                ("why shared", or_dash(&self.text)),
                (
                    "withdrawn",
                    match (&self.withdrawn_by, &self.withdrawal_reason) {
                        (Some(id), Some(r)) => format!("{id} ({r})"),
                        _ => "-".to_owned(),
                    },
                ),
            ],
        )
    }
}

#[derive(Debug, Serialize)]
struct NoticeList {
    notices: Vec<NoticeOut>,
}

fn table(notices: &[NoticeOut]) -> String {
    if notices.is_empty() {
        return "no licence notices\n".to_owned();
    }
    let mut t = Table::new([
        "NOTICE",
        "ISSUER",
        "LICENCE",
        "DESTINATION",
        "VALID UNTIL",
        "STANDING",
        "DECISION",
    ]);
    for n in notices {
        t.row([
            n.id.clone(),
            n.issuer.clone(),
            n.license_id.clone(),
            n.destination.clone(),
            n.valid_until.clone().unwrap_or_default(),
            n.standing.clone(),
            n.decision.clone().unwrap_or_else(|| "(own)".to_owned()),
        ]);
    }
    t.render()
}

/// A recognised partner licence as `screen` and `consult check` print it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnerLicenceOut {
    pub notice_id: String,
    pub issuer: String,
    pub license_id: String,
    pub role: String,
    pub party: String,
    pub matched_name: String,
    pub score: f64,
    pub destination: String,
    pub items: Vec<String>,
    pub valid_until: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resemblance: String,
}

impl From<&pb::PartnerLicenceMatch> for PartnerLicenceOut {
    fn from(m: &pb::PartnerLicenceMatch) -> Self {
        PartnerLicenceOut {
            notice_id: m.notice_id.clone(),
            issuer: m.issuer.clone(),
            license_id: m.license_id.clone(),
            role: m.role.clone(),
            party: m.party.clone(),
            matched_name: m.matched_name.clone(),
            score: m.score,
            destination: m.destination.clone(),
            items: m.items.clone(),
            valid_until: rfc3339(m.valid_until_unix_ms).unwrap_or_default(),
            resemblance: m.resemblance.clone(),
        }
    }
}

/// The section `screen` and `consult check` append; empty when there are none.
pub fn render_partner_licences(licences: &[PartnerLicenceOut]) -> String {
    if licences.is_empty() {
        return String::new();
    }
    let mut t = Table::new([
        "NOTICE",
        "ISSUER",
        "LICENCE",
        "PARTY",
        "SCORE",
        "DESTINATION",
        "VALID UNTIL",
    ]);
    for l in licences {
        t.row([
            l.notice_id.clone(),
            l.issuer.clone(),
            l.license_id.clone(),
            format!("{} {}", l.role, l.party),
            format!("{:.2}", l.score),
            l.destination.clone(),
            l.valid_until.clone(),
        ]);
    }
    let mut out = format!(
        "\nRecognised partner licences (context, not a clearance): {}\n{}",
        licences.len(),
        t.render()
    );
    for l in licences.iter().filter(|l| !l.resemblance.is_empty()) {
        out.push_str(&format!("  {}: {}\n", l.notice_id, l.resemblance));
    }
    out
}

pub async fn run(
    cmd: PartnerLicenceCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.consult;
    let show = |v: pb::LicenceNoticeView, what: &str| {
        let n = NoticeOut::from(&v);
        match output {
            OutputFormat::Json => print_json(&n),
            OutputFormat::Table => print_text(&format!("{what}\n{}", n.render())),
        }
    };
    match cmd {
        PartnerLicenceCommand::Share { license, to, text } => {
            let v = client
                .share_licence(pb::ShareLicenceRequest {
                    license_id: license.trim().to_owned(),
                    to: to.iter().map(|j| j.trim().to_owned()).collect(),
                    text,
                })
                .await
                .map_err(|s| rpc_error("ShareLicence", &profile, &s))?
                .into_inner();
            show(v, "licence shared")
        }
        PartnerLicenceCommand::List {
            issuer,
            license,
            decision,
            standing,
            limit,
        } => {
            let request = pb::ListLicenceNoticesRequest {
                issuer: issuer.unwrap_or_default(),
                license_id: license.unwrap_or_default(),
                decision: decision.unwrap_or_default(),
                standing: standing.unwrap_or_default(),
                limit: limit.unwrap_or(0),
                page_token: String::new(),
            };
            let mut notices = Vec::new();
            let mut request = request;
            loop {
                let page = client
                    .list_licence_notices(request.clone())
                    .await
                    .map_err(|s| rpc_error("ListLicenceNotices", &profile, &s))?
                    .into_inner();
                notices.extend(page.notices.iter().map(NoticeOut::from));
                if page.next_page_token.is_empty() {
                    break;
                }
                request.page_token = page.next_page_token;
            }
            match output {
                OutputFormat::Json => print_json(&NoticeList { notices }),
                OutputFormat::Table => print_text(&table(&notices)),
            }
        }
        PartnerLicenceCommand::Show { id } => {
            let v = client
                .get_licence_notice(pb::GetLicenceNoticeRequest {
                    id: id.trim().to_owned(),
                })
                .await
                .map_err(|s| rpc_error("GetLicenceNotice", &profile, &s))?
                .into_inner();
            let n = NoticeOut::from(&v);
            match output {
                OutputFormat::Json => print_json(&n),
                OutputFormat::Table => print_text(&n.render()),
            }
        }
        PartnerLicenceCommand::Recognise { id, rationale } => {
            let v = decide(&mut client, &profile, id, "recognise", rationale).await?;
            show(v, "recognised")
        }
        PartnerLicenceCommand::Decline { id, rationale } => {
            let v = decide(&mut client, &profile, id, "decline", rationale).await?;
            show(v, "declined")
        }
    }
}

async fn decide(
    client: &mut crate::client::ConsultClient,
    profile: &Profile,
    id: String,
    decision: &str,
    rationale: String,
) -> Result<pb::LicenceNoticeView, CliError> {
    client
        .decide_licence_notice(pb::DecideLicenceNoticeRequest {
            id: id.trim().to_owned(),
            decision: decision.to_owned(),
            rationale,
        })
        .await
        .map(|r| r.into_inner())
        .map_err(|s| rpc_error("DecideLicenceNotice", profile, &s))
}
