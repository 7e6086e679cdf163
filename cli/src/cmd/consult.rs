//! `concord consult request|respond|list|show|check`: the no-undercut
//! consultation, through the node's ConsultService. Officers consult the
//! denying jurisdiction before approving what it denied (`request --license
//! --denial`); analysts open multilateral consultations on a suspected breach
//! (`request --subject --group`); officers and analysts answer those addressed
//! to their node; officers, analysts and admins read. `show` prints the
//! signatures as the node re-verified them.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::cmd::records::DistributionArgs;
use crate::cmd::records::{self, DeliveryOut};
use crate::exit::CliError;
use crate::output::{key_values, or_dash, print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

/// The positions a response takes.
const POSITIONS: [&str; 3] = ["no-objection", "objection", "more-info"];
const STATUSES: [&str; 4] = ["open", "more-info", "answered", "withdrawn"];

#[derive(Debug, Subcommand)]
pub enum ConsultCommand {
    /// Open a consultation: with the denying jurisdiction before approving a
    /// license resembling its denial (officer: --license --denial), or on a
    /// suspected breach with a group (analyst: --subject --group/--to).
    Request(RequestArgs),
    /// Answer a consultation addressed to this node (officer or analyst).
    Respond(RespondArgs),
    /// Withdraw one of this node's consultation requests: the recipients see
    /// it withdrawn, and it waits for no answer any more.
    Withdraw {
        /// The request's id, e.g. DE-C-4.
        #[arg(value_name = "ID")]
        id: String,
        /// Why it is withdrawn (required).
        #[arg(long, value_name = "TEXT")]
        rationale: String,
    },
    /// Extend the answer deadline of a consultation addressed to this node,
    /// once, up to the maximum the request allows (officer or analyst).
    Extend {
        /// The request's id, e.g. DE-C-4.
        #[arg(value_name = "ID")]
        id: String,
        /// The new deadline, in working days after the request.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=365))]
        working_days: u32,
        /// Why more time is needed.
        #[arg(long, value_name = "TEXT")]
        text: String,
    },
    /// List the consultations this node holds, newest first.
    List(ListArgs),
    /// Show a consultation (by its request's or a response's id) with its
    /// responses and their re-verified signatures.
    Show {
        /// Consultation id, e.g. DE-C-4.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Show which peer denials approving a license would undercut, and
    /// whether a consultation released each.
    Check {
        /// License id, e.g. DE-L-3.
        #[arg(value_name = "LICENSE")]
        license: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct RequestArgs {
    /// The license about to be decided (no-undercut consultation).
    #[arg(long, value_name = "ID", requires = "denial")]
    pub license: Option<String>,
    /// The peer's denial it resembles, e.g. FR-D-3.
    #[arg(long, value_name = "ID", requires = "license")]
    pub denial: Option<String>,
    /// What a breach consultation is about (multilateral consultation).
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["license", "denial"])]
    pub subject: Option<String>,
    #[command(flatten)]
    pub distribution: DistributionArgs,
    /// The question or justification.
    #[arg(long, value_name = "TEXT")]
    pub text: String,
}

#[derive(Debug, Clone, Args)]
pub struct RespondArgs {
    /// The request's id, e.g. DE-C-4.
    #[arg(value_name = "ID")]
    pub id: String,
    /// no-objection, objection or more-info (more-info does not release a block).
    #[arg(long, value_name = "POSITION")]
    pub position: String,
    /// The answer (required unless no-objection).
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub text: String,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only consultations about this license.
    #[arg(long, value_name = "ID")]
    pub license: Option<String>,
    /// Only consultations about this denial.
    #[arg(long, value_name = "ID")]
    pub denial: Option<String>,
    /// open, more-info or answered.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

/// What was asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AskedOut {
    /// undercut or breach
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub denial_id: Option<String>,
    pub denial_issuer: Option<String>,
    pub license_id: Option<String>,
    pub parties: Vec<String>,
    pub items: Vec<String>,
    pub destination: Option<String>,
    pub end_use: Option<String>,
    /// The deadline the requester signed, in its working days; 0 for a
    /// request from before deadlines.
    pub answer_within_working_days: u32,
    /// The latest an extension may set, in the requester's working days.
    pub max_working_days: u32,
}

/// What was answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerOut {
    pub in_reply_to: String,
    pub request_issuer: String,
    /// no-objection, objection or more-info
    pub position: String,
    pub text: String,
}

/// One signed consultation record. Times are RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationOut {
    pub id: String,
    pub issuer: String,
    pub seq: u64,
    pub recipients: Vec<String>,
    pub signature_valid: bool,
    pub signature_error: Option<String>,
    pub key_id: String,
    pub digest: String,
    pub issued_at: Option<String>,
    pub stored_at: Option<String>,
    pub request: Option<AskedOut>,
    pub response: Option<AnswerOut>,
    /// A deadline extension by a jurisdiction asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<ExtensionOut>,
    pub deliveries: Vec<DeliveryOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExtensionOut {
    pub in_reply_to: String,
    pub working_days: u32,
    pub answer_by: Option<String>,
    pub text: String,
}

impl From<&pb::ConsultationView> for ConsultationOut {
    fn from(v: &pb::ConsultationView) -> Self {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let extension = match &v.body {
            Some(pb::consultation_view::Body::Extension(e)) => Some(ExtensionOut {
                in_reply_to: e.in_reply_to.clone(),
                working_days: e.working_days,
                answer_by: rfc3339(e.answer_by_unix_ms),
                text: e.text.clone(),
            }),
            _ => None,
        };
        let (request, response) = match &v.body {
            Some(pb::consultation_view::Body::Request(r)) => {
                let i = r.intended.clone().unwrap_or_default();
                let asked = AskedOut {
                    kind: r.kind.clone(),
                    subject: r.subject.clone(),
                    text: r.text.clone(),
                    denial_id: opt(&r.denial_id),
                    denial_issuer: opt(&r.denial_issuer),
                    license_id: opt(&i.license_id),
                    parties: i.parties,
                    items: i.items,
                    destination: opt(&i.destination),
                    end_use: opt(&i.end_use),
                    answer_within_working_days: r.answer_within_working_days,
                    max_working_days: r.max_working_days,
                };
                (Some(asked), None)
            }
            Some(pb::consultation_view::Body::Response(r)) => (
                None,
                Some(AnswerOut {
                    in_reply_to: r.in_reply_to.clone(),
                    request_issuer: r.request_issuer.clone(),
                    position: r.position.clone(),
                    text: r.text.clone(),
                }),
            ),
            Some(pb::consultation_view::Body::Extension(_))
            | Some(pb::consultation_view::Body::Withdrawal(_))
            | Some(pb::consultation_view::Body::Grant(_))
            | Some(pb::consultation_view::Body::LicenceNotice(_))
            | Some(pb::consultation_view::Body::LicenceWithdrawal(_))
            | None => (None, None),
        };
        ConsultationOut {
            id: v.id.clone(),
            issuer: v.issuer.clone(),
            seq: v.seq,
            recipients: v.recipients.clone(),
            signature_valid: v.signature_valid,
            signature_error: records::signature_error(v.signature_valid, &v.signature_error),
            key_id: v.key_id.clone(),
            digest: v.digest_hex.clone(),
            issued_at: rfc3339(v.issued_at_unix_ms),
            stored_at: rfc3339(v.stored_at_unix_ms),
            request,
            response,
            extension,
            deliveries: v.deliveries.iter().map(DeliveryOut::from).collect(),
        }
    }
}

impl ConsultationOut {
    fn render(&self, title: &str) -> String {
        let opt = |t: &Option<String>| or_dash(t.as_deref().unwrap_or(""));
        let mut pairs: Vec<(&str, String)> = vec![
            ("issuer", self.issuer.clone()),
            ("recipients", or_dash(&self.recipients.join(", "))),
            (
                "signature",
                records::signature_text(self.signature_valid, self.signature_error.as_deref()),
            ),
            ("key id", self.key_id.clone()),
            ("issued", opt(&self.issued_at)),
        ];
        if let Some(r) = &self.request {
            pairs.push(("kind", r.kind.clone()));
            pairs.push(("subject", r.subject.clone()));
            if let (Some(d), Some(by)) = (&r.denial_id, &r.denial_issuer) {
                pairs.push(("denial", format!("{d} by {by}")));
            }
            if let Some(l) = &r.license_id {
                pairs.push(("license", l.clone()));
                pairs.push(("parties", or_dash(&r.parties.join(", "))));
                pairs.push(("items", or_dash(&r.items.join(", "))));
                pairs.push(("destination", opt(&r.destination)));
                pairs.push(("end use", opt(&r.end_use)));
            }
            pairs.push(("text", r.text.clone()));
        }
        if let Some(e) = &self.extension {
            pairs.push(("extends", e.in_reply_to.clone()));
            pairs.push((
                "answer by",
                format!("{} ({} working days)", opt(&e.answer_by), e.working_days),
            ));
            pairs.push(("text", e.text.clone()));
        }
        if let Some(a) = &self.response {
            pairs.push(("in reply to", a.in_reply_to.clone()));
            pairs.push(("position", a.position.clone()));
            pairs.push(("text", or_dash(&a.text)));
        }
        let deliveries: Vec<String> = self
            .deliveries
            .iter()
            .map(|d| format!("{} {}", d.recipient, d.state))
            .collect();
        if !deliveries.is_empty() {
            pairs.push(("deliveries", deliveries.join(", ")));
        }
        key_values(title, &pairs)
    }
}

/// A request with its responses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadOut {
    pub id: String,
    /// open, more-info or answered
    pub status: String,
    /// When the requester wants the answer (RFC 3339); null for a request
    /// from before deadlines.
    pub answer_by: Option<String>,
    /// Working days left on the answering node's calendar.
    pub working_days_left: u32,
    /// Past its deadline without an answer.
    pub overdue: bool,
    pub request: Option<ConsultationOut>,
    pub responses: Vec<ConsultationOut>,
}

impl From<&pb::ConsultationThread> for ThreadOut {
    fn from(t: &pb::ConsultationThread) -> Self {
        let request = t.request.as_ref().map(ConsultationOut::from);
        ThreadOut {
            id: request.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
            status: t.status.clone(),
            answer_by: crate::output::rfc3339(t.answer_by_unix_ms),
            working_days_left: t.working_days_left,
            overdue: t.overdue,
            request,
            responses: t.responses.iter().map(ConsultationOut::from).collect(),
        }
    }
}

impl ThreadOut {
    /// `answer by T (N working days left)`, `OVERDUE since T`, or `no deadline`.
    fn deadline_text(&self) -> String {
        match (&self.answer_by, self.overdue) {
            (None, _) => "no deadline".to_owned(),
            (Some(t), true) => format!("OVERDUE since {t}"),
            (Some(t), false) if self.status == "answered" => format!("answer was due by {t}"),
            (Some(t), false) => format!(
                "answer by {t} ({} working days left)",
                self.working_days_left
            ),
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(r) = &self.request {
            let kind = r.request.as_ref().map_or("", |a| a.kind.as_str());
            out.push_str(&format!(
                "Consultation {} ({kind}) from {} to {}: {}, {}\n\n",
                self.id,
                r.issuer,
                or_dash(&r.recipients.join(", ")),
                self.status,
                self.deadline_text()
            ));
            out.push_str(&r.render("Request"));
        }
        for resp in &self.responses {
            out.push('\n');
            out.push_str(&resp.render(&format!("Response {}", resp.id)));
        }
        out
    }
}

#[derive(Debug, Serialize)]
struct ThreadList {
    consultations: Vec<ThreadOut>,
}

fn table(threads: &[ThreadOut]) -> String {
    if threads.is_empty() {
        return "No consultations.".to_owned();
    }
    let mut t = Table::new([
        "ID",
        "KIND",
        "FROM",
        "TO",
        "ABOUT",
        "STATUS",
        "ANSWER BY",
        "RESPONSES",
        "SIGNATURE",
    ]);
    for th in threads {
        let Some(r) = &th.request else { continue };
        let asked = r.request.as_ref();
        let about = match asked {
            Some(AskedOut {
                denial_id: Some(d),
                license_id: Some(l),
                ..
            }) => format!("{d} / {l}"),
            Some(a) => a.subject.clone(),
            None => String::new(),
        };
        let responses: Vec<String> = th
            .responses
            .iter()
            .map(|x| {
                let position = x.response.as_ref().map_or("", |a| a.position.as_str());
                format!("{} {} {position}", x.id, x.issuer)
            })
            .collect();
        t.row([
            th.id.clone(),
            asked.map(|a| a.kind.clone()).unwrap_or_default(),
            r.issuer.clone(),
            r.recipients.join(", "),
            or_dash(&about),
            th.status.clone(),
            match (&th.answer_by, th.overdue) {
                (Some(t), true) => format!("{t} OVERDUE"),
                (Some(t), false) => t.clone(),
                (None, _) => "-".to_owned(),
            },
            or_dash(&responses.join("; ")),
            if r.signature_valid && th.responses.iter().all(|x| x.signature_valid) {
                "valid".to_owned()
            } else {
                "INVALID".to_owned()
            },
        ]);
    }
    t.render()
}

/// `concord consult check` as shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOut {
    pub license_id: String,
    pub blocked: bool,
    pub findings: Vec<FindingOut>,
    /// Recognised partner licences resembling it (context only).
    pub recognised_licences: Vec<crate::cmd::partner_licence::PartnerLicenceOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingOut {
    pub denial_id: String,
    pub denial_issuer: String,
    pub resemblance: String,
    pub released_by: Option<String>,
    pub answer_id: Option<String>,
    pub consultations: Vec<String>,
}

impl From<&pb::CheckLicenseResponse> for CheckOut {
    fn from(r: &pb::CheckLicenseResponse) -> Self {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        CheckOut {
            license_id: r.license_id.clone(),
            blocked: r.blocked,
            findings: r
                .findings
                .iter()
                .map(|f| FindingOut {
                    denial_id: f.denial_id.clone(),
                    denial_issuer: f.denial_issuer.clone(),
                    resemblance: f.resemblance.clone(),
                    released_by: opt(&f.released_by),
                    answer_id: opt(&f.answer_id),
                    consultations: f.consultations.clone(),
                })
                .collect(),
            recognised_licences: r.recognised_licences.iter().map(Into::into).collect(),
        }
    }
}

impl CheckOut {
    fn render(&self) -> String {
        let licences =
            crate::cmd::partner_licence::render_partner_licences(&self.recognised_licences);
        if self.findings.is_empty() {
            return format!(
                "{}: no active peer denial resembles it; approval is not blocked.\n{licences}",
                self.license_id
            );
        }
        let mut out = format!(
            "{}: {}\n\n",
            self.license_id,
            if self.blocked {
                "approval is BLOCKED until the consultations below are answered"
            } else {
                "every resembling denial was consulted on and answered"
            }
        );
        let mut t = Table::new(["DENIAL", "BY", "WHY", "RELEASED BY"]);
        for f in &self.findings {
            t.row([
                f.denial_id.clone(),
                f.denial_issuer.clone(),
                f.resemblance.clone(),
                match (&f.released_by, &f.answer_id) {
                    (Some(c), Some(a)) => format!("{c} (answer {a})"),
                    _ if f.consultations.is_empty() => format!(
                        "- (concord consult request --license {} --denial {} --text ...)",
                        self.license_id, f.denial_id
                    ),
                    _ => format!("- ({} unanswered)", f.consultations.join(", ")),
                },
            ]);
        }
        out.push_str(&t.render());
        out.push_str(&licences);
        out
    }
}

pub async fn run(
    cmd: ConsultCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        ConsultCommand::Request(args) => {
            let request = request_of(&args)?;
            let profile = Profile::required(profile)?;
            let view = request_consultation(&profile, request).await?;
            let record = ConsultationOut::from(&view);
            match output {
                OutputFormat::Json => print_json(&record),
                OutputFormat::Table => print_text(&format!(
                    "Opened consultation {} with {}\n\n{}",
                    record.id,
                    record.recipients.join(", "),
                    record.render("Request")
                )),
            }
        }
        ConsultCommand::Respond(args) => {
            let request = respond_of(&args)?;
            let profile = Profile::required(profile)?;
            let view = respond(&profile, request).await?;
            let record = ConsultationOut::from(&view);
            match output {
                OutputFormat::Json => print_json(&record),
                OutputFormat::Table => print_text(&format!(
                    "Answered {} to {}\n\n{}",
                    args.id.trim(),
                    record.recipients.join(", "),
                    record.render(&format!("Response {}", record.id))
                )),
            }
        }
        ConsultCommand::Withdraw { id, rationale } => {
            if rationale.trim().is_empty() {
                return Err(CliError::invalid_argument("--rationale: required"));
            }
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.consult;
            let view = client
                .withdraw(pb::WithdrawConsultationRequest {
                    id: id.trim().to_owned(),
                    rationale,
                })
                .await
                .map(|r| r.into_inner())
                .map_err(|s| rpc_error("Withdraw", &profile, &s))?;
            let record = ConsultationOut::from(&view);
            match output {
                OutputFormat::Json => print_json(&record),
                OutputFormat::Table => print_text(&format!(
                    "Withdrew {}\n\n{}",
                    id.trim(),
                    record.render(&format!("Withdrawal {}", record.id))
                )),
            }
        }
        ConsultCommand::Extend {
            id,
            working_days,
            text,
        } => {
            if text.trim().is_empty() {
                return Err(CliError::invalid_argument("--text: required"));
            }
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.consult;
            let view = client
                .extend(pb::ExtendRequest {
                    id: id.trim().to_owned(),
                    working_days,
                    text,
                })
                .await
                .map(|r| r.into_inner())
                .map_err(|s| rpc_error("Extend", &profile, &s))?;
            let record = ConsultationOut::from(&view);
            match output {
                OutputFormat::Json => print_json(&record),
                OutputFormat::Table => print_text(&format!(
                    "Extended {}\n\n{}",
                    id.trim(),
                    record.render(&format!("Extension {}", record.id))
                )),
            }
        }
        ConsultCommand::List(args) => {
            let request = list_of(&args)?;
            let profile = Profile::required(profile)?;
            let threads = list(&profile, request).await?;
            let consultations: Vec<ThreadOut> = threads.iter().map(ThreadOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&ThreadList { consultations }),
                OutputFormat::Table => print_text(&table(&consultations)),
            }
        }
        ConsultCommand::Show { id } => {
            let profile = Profile::required(profile)?;
            let thread = show(&profile, id.trim()).await?;
            let thread = ThreadOut::from(&thread);
            match output {
                OutputFormat::Json => print_json(&thread),
                OutputFormat::Table => print_text(&thread.render()),
            }
        }
        ConsultCommand::Check { license } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.consult;
            let checked = client
                .check_license(pb::CheckLicenseRequest {
                    license_id: license.trim().to_owned(),
                })
                .await
                .map_err(|s| rpc_error("CheckLicense", &profile, &s))?
                .into_inner();
            let checked = CheckOut::from(&checked);
            match output {
                OutputFormat::Json => print_json(&checked),
                OutputFormat::Table => print_text(&checked.render()),
            }
        }
    }
}

/// RequestConsultation, as the demo uses it too.
pub async fn request_consultation(
    profile: &Profile,
    request: pb::RequestConsultationRequest,
) -> Result<pb::ConsultationView, CliError> {
    let mut client = Clients::connect(profile).await?.consult;
    client
        .request_consultation(request)
        .await
        .map(|r| r.into_inner())
        .map_err(|s| rpc_error("RequestConsultation", profile, &s))
}

/// Respond, as the demo uses it too.
pub async fn respond(
    profile: &Profile,
    request: pb::RespondRequest,
) -> Result<pb::ConsultationView, CliError> {
    let mut client = Clients::connect(profile).await?.consult;
    client
        .respond(request)
        .await
        .map(|r| r.into_inner())
        .map_err(|s| rpc_error("Respond", profile, &s))
}

/// ListConsultations, as the demo uses it too.
pub async fn list(
    profile: &Profile,
    request: pb::ListConsultationsRequest,
) -> Result<Vec<pb::ConsultationThread>, CliError> {
    let client = Clients::connect(profile).await?.consult;
    crate::paging::all_pages(|page_token| {
        let mut client = client.clone();
        let request = pb::ListConsultationsRequest {
            page_token,
            ..request.clone()
        };
        async move {
            let r = client.list_consultations(request).await?.into_inner();
            Ok((r.consultations, r.next_page_token))
        }
    })
    .await
    .map_err(|s| rpc_error("ListConsultations", profile, &s))
}

async fn show(profile: &Profile, id: &str) -> Result<pb::ConsultationThread, CliError> {
    let mut client = Clients::connect(profile).await?.consult;
    client
        .get_consultation(pb::GetConsultationRequest { id: id.to_owned() })
        .await
        .map(|r| r.into_inner())
        .map_err(|s| rpc_error("GetConsultation", profile, &s))
}

/// The request for the command line: a no-undercut consultation names a
/// license and a denial and nobody else; a breach consultation a subject and
/// its participants.
pub fn request_of(args: &RequestArgs) -> Result<pb::RequestConsultationRequest, CliError> {
    if args.text.trim().is_empty() {
        return Err(CliError::invalid_argument("--text: required"));
    }
    match (&args.license, &args.denial, &args.subject) {
        (Some(license), Some(denial), None) => {
            if !args.distribution.to.is_empty() || !args.distribution.groups.is_empty() {
                return Err(CliError::invalid_argument(
                    "a no-undercut consultation goes to the denying jurisdiction only; \
                     drop --to/--group",
                ));
            }
            Ok(pb::RequestConsultationRequest {
                license_id: license.trim().to_owned(),
                denial_id: denial.trim().to_owned(),
                subject: String::new(),
                distribution: None,
                text: args.text.clone(),
            })
        }
        (None, None, Some(subject)) => Ok(pb::RequestConsultationRequest {
            license_id: String::new(),
            denial_id: String::new(),
            subject: subject.clone(),
            distribution: Some(records::distribution(&args.distribution)?),
            text: args.text.clone(),
        }),
        _ => Err(CliError::invalid_argument(
            "give --license and --denial (no-undercut consultation) or --subject with \
             --group/--to (breach consultation)",
        )),
    }
}

fn respond_of(args: &RespondArgs) -> Result<pb::RespondRequest, CliError> {
    let position = args.position.trim();
    if !POSITIONS.contains(&position) {
        return Err(CliError::invalid_argument(format!(
            "--position: unknown position {position:?}; expected one of {}",
            POSITIONS.join(", ")
        )));
    }
    Ok(pb::RespondRequest {
        id: args.id.trim().to_owned(),
        position: position.to_owned(),
        text: args.text.clone(),
    })
}

fn list_of(args: &ListArgs) -> Result<pb::ListConsultationsRequest, CliError> {
    let status = args.status.as_deref().map(str::trim).unwrap_or("");
    if !status.is_empty() && !STATUSES.contains(&status) {
        return Err(CliError::invalid_argument(format!(
            "--status: unknown status {status:?}; expected one of {}",
            STATUSES.join(", ")
        )));
    }
    Ok(pb::ListConsultationsRequest {
        license_id: args.license.clone().unwrap_or_default(),
        denial_id: args.denial.clone().unwrap_or_default(),
        status: status.to_owned(),
        limit: args.limit.unwrap_or(0),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        license: Option<&str>,
        denial: Option<&str>,
        subject: Option<&str>,
        groups: &[&str],
    ) -> RequestArgs {
        RequestArgs {
            license: license.map(Into::into),
            denial: denial.map(Into::into),
            subject: subject.map(Into::into),
            distribution: DistributionArgs {
                to: vec![],
                groups: groups.iter().map(|g| g.to_string()).collect(),
            },
            text: "why".into(),
        }
    }

    #[test]
    fn requests_are_either_bilateral_or_multilateral() {
        let r = request_of(&request(Some("DE-L-1"), Some("FR-D-2"), None, &[])).unwrap();
        assert_eq!((r.license_id.as_str(), r.distribution), ("DE-L-1", None));
        let r = request_of(&request(None, None, Some("breach"), &["g"])).unwrap();
        assert_eq!(r.distribution.unwrap().groups, ["g"]);
        for bad in [
            request(Some("DE-L-1"), Some("FR-D-2"), None, &["g"]),
            request(None, None, Some("breach"), &[]),
            request(None, None, None, &[]),
        ] {
            assert_eq!(request_of(&bad).unwrap_err().exit_code(), 6);
        }
        let bad = RespondArgs {
            id: "DE-C-1".into(),
            position: "fine".into(),
            text: String::new(),
        };
        assert_eq!(respond_of(&bad).unwrap_err().exit_code(), 6);
    }
}
