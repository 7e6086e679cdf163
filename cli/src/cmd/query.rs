//! `concord query party|denials|alerts|request-details|details|pending|approve|decline`:
//! task-force questions through the member's home node, which asks every
//! other member node in parallel and returns one section per jurisdiction —
//! its answer at its own level with the signature check, or why there is
//! none. Asking needs a `taskforce` profile; deciding detail requests an
//! analyst profile of the jurisdiction that gave the reference.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_proto::v1 as pb;
use concord_proto::v1::task_force_query::Kind;
use serde::Serialize;

use crate::client::rpc_error;
use crate::client::Clients;
use crate::cmd::records::{self, render_version, RecordOut};
use crate::exit::CliError;
use crate::output::{key_values, print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// Does anyone in the task force know this party? Denial notices and
    /// alert subjects, fuzzy name match (member).
    Party(PartyArgs),
    /// Denial notices matching every given criterion (member).
    Denials(DenialsArgs),
    /// Risk alerts naming a subject: a party, destination, item or shipment (member).
    Alerts(AlertsArgs),
    /// Ask the jurisdiction that gave a reference for the records behind it (member).
    RequestDetails {
        /// A reference from an answer, e.g. FR-R-3fa29c0d1b2e4a5f.
        #[arg(value_name = "REF")]
        reference: String,
        /// Why the task force needs the details; the deciding analyst reads it.
        #[arg(long, value_name = "TEXT")]
        justification: String,
    },
    /// The state of one of your detail requests; the records once approved (member).
    Details {
        /// The request id, e.g. FR-DR-3.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Detail requests made to this node awaiting a decision (analyst).
    Pending {
        /// Decided requests too.
        #[arg(long)]
        all: bool,
    },
    /// Approve a detail request: release the records at this level (analyst).
    Approve {
        #[arg(value_name = "ID")]
        id: String,
        /// summary or full.
        #[arg(long, value_name = "LEVEL", default_value = "full")]
        level: String,
        /// A note for the requester.
        #[arg(long, value_name = "TEXT", default_value = "")]
        note: String,
    },
    /// Decline a detail request (analyst).
    Decline {
        #[arg(value_name = "ID")]
        id: String,
        /// Why; the requester sees it.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct TaskForceArg {
    /// The task force to ask in.
    #[arg(long, value_name = "NAME")]
    pub taskforce: String,
}

#[derive(Debug, Clone, Args)]
pub struct PartyArgs {
    /// The party's name (several words are joined with spaces).
    #[arg(value_name = "NAME", required = true)]
    pub name: Vec<String>,
    #[command(flatten)]
    pub taskforce: TaskForceArg,
    /// Exact-identity match: peers get keyed hashes of the normalized name,
    /// never the name, and answer hit or no hit (docs/TASKFORCE.md).
    #[arg(long)]
    pub blind: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DenialsArgs {
    #[command(flatten)]
    pub taskforce: TaskForceArg,
    /// The denied party (fuzzy name match).
    #[arg(long, value_name = "NAME")]
    pub party: Option<String>,
    /// Destination country of the denied export, e.g. IR.
    #[arg(long, value_name = "CC")]
    pub destination: Option<String>,
    /// A denied control-list item code, e.g. 3A001.
    #[arg(long, value_name = "CODE")]
    pub item: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    pub taskforce: TaskForceArg,
    /// A party name, destination code, item code or shipment reference.
    #[arg(long, value_name = "TEXT")]
    pub subject: String,
}

/// A query's answer, one section per jurisdiction.
#[derive(Debug, Clone, Serialize)]
pub struct QueryOut {
    pub taskforce: String,
    /// The question as the answering nodes received it.
    pub query: String,
    pub blind: bool,
    pub sections: Vec<SectionOut>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionOut {
    pub jurisdiction: String,
    /// answered, unreachable, timed-out or refused
    pub outcome: String,
    /// Why there is no answer; null when answered.
    pub reason: Option<String>,
    /// `valid`, or `INVALID (<why>)`: the home node's check with the
    /// answering node's registered key. Null when not answered.
    pub signature: Option<String>,
    pub key_id: Option<String>,
    /// hit, summary or full
    pub level: Option<String>,
    pub hit: bool,
    /// Whether anything that matched is in force (a revoked denial or a
    /// withdrawn alert is a hit, not a live one).
    pub in_force: bool,
    /// Hit level: one reference for everything that matched.
    pub reference: Option<String>,
    pub entries: Vec<EntryOut>,
    pub truncated: bool,
    pub answered_at: Option<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryOut {
    pub reference: String,
    pub kind: String,
    pub issuer: String,
    pub date: Option<String>,
    pub category: String,
    pub score: f64,
    pub version: u32,
    /// in-force, expired, revoked or withdrawn, when answered.
    pub standing: String,
    /// Full level only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_error: Option<String>,
}

impl From<&pb::TaskForceAnswer> for SectionOut {
    fn from(s: &pb::TaskForceAnswer) -> Self {
        let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        let answered = s.outcome == "answered";
        let signature = answered.then(|| {
            if s.signature_valid {
                "valid".to_owned()
            } else {
                format!("INVALID ({})", s.signature_error)
            }
        });
        SectionOut {
            jurisdiction: s.jurisdiction.clone(),
            outcome: s.outcome.clone(),
            reason: opt(&s.reason),
            signature,
            key_id: opt(&s.key_id),
            level: opt(&s.level),
            hit: s.hit,
            in_force: s.in_force,
            reference: opt(&s.reference),
            entries: s
                .entries
                .iter()
                .map(|e| EntryOut {
                    reference: e.reference.clone(),
                    kind: e.kind.clone(),
                    issuer: e.issuer.clone(),
                    date: rfc3339(e.date_unix_ms),
                    category: e.category.clone(),
                    score: e.score,
                    version: e.version,
                    standing: e.standing.clone(),
                    record: e.record.as_ref().map(RecordOut::from),
                    record_error: opt(&e.record_error),
                })
                .collect(),
            truncated: s.truncated,
            answered_at: rfc3339(s.answered_at_unix_ms),
            elapsed_ms: s.elapsed_ms,
        }
    }
}

impl From<&pb::TaskForceQueryResponse> for QueryOut {
    fn from(r: &pb::TaskForceQueryResponse) -> Self {
        QueryOut {
            taskforce: r.taskforce.clone(),
            query: r.query.clone(),
            blind: r.blind,
            sections: r.sections.iter().map(SectionOut::from).collect(),
        }
    }
}

/// A detail request as shown.
#[derive(Debug, Clone, Serialize)]
pub struct DetailRequestOut {
    pub id: String,
    pub owner: String,
    pub reference: String,
    pub taskforce: String,
    pub asker: String,
    pub justification: String,
    /// pending, approved or declined
    pub state: String,
    pub requested_at: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// Approved: the level released.
    pub level: Option<String>,
    /// The analyst's note, or the reason for declining.
    pub note: Option<String>,
}

impl From<&pb::DetailRequest> for DetailRequestOut {
    fn from(r: &pb::DetailRequest) -> Self {
        let opt = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        DetailRequestOut {
            id: r.id.clone(),
            owner: r.owner.clone(),
            reference: r.reference.clone(),
            taskforce: r.taskforce.clone(),
            asker: r.asker.clone(),
            justification: r.justification.clone(),
            state: r.state.clone(),
            requested_at: rfc3339(r.requested_at_unix_ms),
            decided_by: opt(&r.decided_by),
            decided_at: rfc3339(r.decided_at_unix_ms),
            level: opt(&r.level),
            note: opt(&r.note),
        }
    }
}

#[derive(Debug, Serialize)]
struct DetailOutcomeOut {
    request: DetailRequestOut,
    /// Approved: the records at the approved level.
    answer: Option<SectionOut>,
}

#[derive(Debug, Serialize)]
struct DetailRequestList {
    requests: Vec<DetailRequestOut>,
}

pub async fn run(
    cmd: QueryCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        QueryCommand::Party(_) | QueryCommand::Denials(_) | QueryCommand::Alerts(_) => {
            let request = query_request(&cmd)?;
            let profile = Profile::required(profile)?;
            let out = ask(&profile, request).await?;
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&render_query(&out)),
            }
        }
        QueryCommand::RequestDetails {
            reference,
            justification,
        } => {
            if justification.trim().is_empty() {
                return Err(CliError::invalid_argument("--justification: required"));
            }
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let r = client
                .request_details(pb::RequestDetailsRequest {
                    reference,
                    justification,
                })
                .await
                .map_err(|s| rpc_error("RequestDetails", &profile, &s))?
                .into_inner();
            let out = DetailRequestOut::from(&r);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&format!(
                    "Detail request {} sent to {}; an analyst there decides.\nCheck it with: concord query details {}\n",
                    out.id, out.owner, out.id
                )),
            }
        }
        QueryCommand::Details { id } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let r = client
                .get_details(pb::GetDetailsRequest { id })
                .await
                .map_err(|s| rpc_error("GetDetails", &profile, &s))?
                .into_inner();
            let out = DetailOutcomeOut {
                request: r
                    .request
                    .as_ref()
                    .map(DetailRequestOut::from)
                    .ok_or_else(|| CliError::internal("the node answered without the request"))?,
                answer: r.answer.as_ref().map(SectionOut::from),
            };
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => {
                    let mut text = render_request(&out.request);
                    if let Some(section) = &out.answer {
                        text.push('\n');
                        text.push_str(&render_section(section));
                    }
                    print_text(&text)
                }
            }
        }
        QueryCommand::Pending { all } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let r = client
                .list_detail_requests(pb::ListDetailRequestsRequest { all })
                .await
                .map_err(|s| rpc_error("ListDetailRequests", &profile, &s))?
                .into_inner();
            let requests: Vec<DetailRequestOut> =
                r.requests.iter().map(DetailRequestOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&DetailRequestList { requests }),
                OutputFormat::Table => print_text(&render_requests(&requests)),
            }
        }
        QueryCommand::Approve { id, level, note } => {
            let level = level.trim().to_ascii_lowercase();
            if !matches!(level.as_str(), "summary" | "full") {
                return Err(CliError::invalid_argument(format!(
                    "--level: {level:?} is not summary or full"
                )));
            }
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let r = client
                .approve_details(pb::ApproveDetailsRequest { id, level, note })
                .await
                .map_err(|s| rpc_error("ApproveDetails", &profile, &s))?
                .into_inner();
            decided(&DetailRequestOut::from(&r), output)
        }
        QueryCommand::Decline { id, reason } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.taskforce;
            let r = client
                .decline_details(pb::DeclineDetailsRequest { id, reason })
                .await
                .map_err(|s| rpc_error("DeclineDetails", &profile, &s))?
                .into_inner();
            decided(&DetailRequestOut::from(&r), output)
        }
    }
}

/// Sends a query to the member's home node; the demo uses it too.
pub async fn ask(
    profile: &Profile,
    request: pb::TaskForceQueryRequest,
) -> Result<QueryOut, CliError> {
    let mut client = Clients::connect(profile).await?.taskforce;
    let response = client
        .query(request)
        .await
        .map_err(|s| rpc_error("Query", profile, &s))?
        .into_inner();
    Ok(QueryOut::from(&response))
}

fn decided(r: &DetailRequestOut, output: OutputFormat) -> Result<(), CliError> {
    match output {
        OutputFormat::Json => print_json(r),
        OutputFormat::Table => print_text(&format!("Detail request {} {}\n", r.id, r.state)),
    }
}

/// The Query request for a party, denials or alerts command line.
pub fn query_request(cmd: &QueryCommand) -> Result<pb::TaskForceQueryRequest, CliError> {
    let (taskforce, kind, blind) = match cmd {
        QueryCommand::Party(a) => {
            let name = a.name.join(" ");
            if name.trim().is_empty() {
                return Err(CliError::invalid_argument("NAME: required"));
            }
            (
                &a.taskforce,
                Kind::Party(pb::TaskForcePartyQuery { name }),
                a.blind,
            )
        }
        QueryCommand::Denials(a) => {
            if a.party.is_none() && a.destination.is_none() && a.item.is_none() {
                return Err(CliError::invalid_argument(
                    "give at least one of --party, --destination, --item",
                ));
            }
            let destination = a
                .destination
                .as_deref()
                .map(|d| records::country("--destination", d))
                .transpose()?
                .unwrap_or_default();
            (
                &a.taskforce,
                Kind::Denials(pb::TaskForceDenialQuery {
                    party: a.party.clone().unwrap_or_default(),
                    destination,
                    item: a.item.clone().unwrap_or_default(),
                }),
                false,
            )
        }
        QueryCommand::Alerts(a) => (
            &a.taskforce,
            Kind::Alerts(pb::TaskForceAlertQuery {
                subject: a.subject.clone(),
            }),
            false,
        ),
        _ => return Err(CliError::internal("not a query command")),
    };
    Ok(pb::TaskForceQueryRequest {
        taskforce: taskforce.taskforce.clone(),
        query: Some(pb::TaskForceQuery { kind: Some(kind) }),
        blind,
    })
}

pub fn render_query(q: &QueryOut) -> String {
    let answered = q
        .sections
        .iter()
        .filter(|s| s.outcome == "answered")
        .count();
    let mut out = format!(
        "Task force {}: {}{}\n{} jurisdiction{}, {answered} answered\n",
        q.taskforce,
        q.query,
        if q.blind { " (blind)" } else { "" },
        q.sections.len(),
        if q.sections.len() == 1 { "" } else { "s" },
    );
    for s in &q.sections {
        out.push('\n');
        out.push_str(&render_section(s));
    }
    out
}

/// One jurisdiction's section: a header line, then what it revealed.
pub fn render_section(s: &SectionOut) -> String {
    let mut out = match s.outcome.as_str() {
        "answered" => format!(
            "{}  answered at level {}  signature {}{}  {} ms\n",
            s.jurisdiction,
            s.level.as_deref().unwrap_or("-"),
            s.signature.as_deref().unwrap_or("-"),
            s.key_id
                .as_deref()
                .map(|k| format!(" (key {k})"))
                .unwrap_or_default(),
            s.elapsed_ms
        ),
        other => format!(
            "{}  {}  {}\n",
            s.jurisdiction,
            other.replace('-', " "),
            s.reason.as_deref().unwrap_or("")
        ),
    };
    if s.outcome != "answered" || s.signature.as_deref() != Some("valid") {
        return out;
    }
    if !s.hit {
        out.push_str("    no hit\n");
        return out;
    }
    if let Some(r) = &s.reference {
        let standing = if s.in_force {
            ""
        } else {
            " (nothing of it in force)"
        };
        out.push_str(&format!("    hit — reference {r}{standing}\n"));
    }
    if !s.entries.is_empty() {
        let mut t = Table::new([
            "REFERENCE",
            "KIND",
            "ISSUER",
            "VERSION",
            "STANDING",
            "DATE",
            "CATEGORY",
            "SCORE",
        ]);
        for e in &s.entries {
            t.row([
                e.reference.clone(),
                e.kind.clone(),
                e.issuer.clone(),
                e.version.to_string(),
                e.standing.clone(),
                e.date.clone().unwrap_or_default(),
                e.category.clone(),
                format!("{:.2}", e.score),
            ]);
        }
        for line in t.render().lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
    }
    for e in &s.entries {
        if let Some(record) = &e.record {
            let title = if record.kind == "alert" {
                "Alert"
            } else {
                "Denial"
            };
            out.push('\n');
            for line in render_version(record, title).lines() {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
        }
        if let Some(err) = &e.record_error {
            out.push_str(&format!("    {}: record not shown: {err}\n", e.reference));
        }
    }
    if s.truncated {
        out.push_str("    (more matched than one answer carries)\n");
    }
    out
}

fn render_request(r: &DetailRequestOut) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let mut pairs = vec![
        ("id", r.id.clone()),
        ("state", r.state.clone()),
        ("decided by", r.owner.clone()),
        ("reference", r.reference.clone()),
        ("task force", r.taskforce.clone()),
        ("asked by", r.asker.clone()),
        ("requested", opt(&r.requested_at)),
        ("justification", r.justification.clone()),
    ];
    if r.state != "pending" {
        pairs.push((
            "decision",
            format!(
                "{} by {} at {}",
                r.state,
                opt(&r.decided_by),
                opt(&r.decided_at)
            ),
        ));
    }
    if let Some(level) = &r.level {
        pairs.push(("level", level.clone()));
    }
    if let Some(note) = &r.note {
        pairs.push(("note", note.clone()));
    }
    key_values("Detail request", &pairs)
}

fn render_requests(list: &[DetailRequestOut]) -> String {
    if list.is_empty() {
        return "No detail requests awaiting a decision.\n".to_owned();
    }
    let mut t = Table::new([
        "ID",
        "STATE",
        "TASK FORCE",
        "ASKED BY",
        "REQUESTED",
        "REFERENCE",
        "JUSTIFICATION",
    ]);
    for r in list {
        t.row([
            r.id.clone(),
            r.state.clone(),
            r.taskforce.clone(),
            r.asker.clone(),
            r.requested_at.clone().unwrap_or_default(),
            r.reference.clone(),
            r.justification.clone(),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<pb::TaskForceQueryRequest, CliError> {
        let mut argv = vec!["concord", "query"];
        argv.extend_from_slice(args);
        let cli =
            Cli::try_parse_from(argv).map_err(|e| CliError::invalid_argument(e.to_string()))?;
        match cli.command {
            Command::Query(cmd) => query_request(&cmd),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn builds_checked_queries() {
        let r = parse(&["party", "Acme", "Trading", "--taskforce", "ops", "--blind"]).unwrap();
        assert!(r.blind);
        assert_eq!(r.taskforce, "ops");
        assert!(matches!(
            r.query.and_then(|q| q.kind),
            Some(Kind::Party(p)) if p.name == "Acme Trading"
        ));
        let r = parse(&["denials", "--taskforce", "ops", "--destination", "ir"]).unwrap();
        assert!(matches!(
            r.query.and_then(|q| q.kind),
            Some(Kind::Denials(d)) if d.destination == "IR" && d.party.is_empty()
        ));
        assert_eq!(
            parse(&["denials", "--taskforce", "ops"])
                .unwrap_err()
                .exit_code(),
            6
        );
        assert_eq!(
            parse(&["denials", "--taskforce", "ops", "--destination", "Iran"])
                .unwrap_err()
                .exit_code(),
            6
        );
        assert!(
            parse(&["party", "Acme"]).is_err(),
            "--taskforce is required"
        );
        assert!(parse(&["alerts", "--taskforce", "ops", "--subject", "3A001"]).is_ok());
    }

    #[test]
    fn sections_render_what_they_reveal() {
        let section = |outcome: &str, level: &str, hit: bool| SectionOut {
            jurisdiction: "FR".into(),
            outcome: outcome.into(),
            reason: (outcome != "answered").then(|| "no answer within 2000 ms".into()),
            signature: (outcome == "answered").then(|| "valid".into()),
            key_id: None,
            level: Some(level.into()),
            hit,
            in_force: true,
            reference: (level == "hit" && hit).then(|| "FR-R-01".into()),
            entries: vec![],
            truncated: false,
            answered_at: None,
            elapsed_ms: 3,
        };
        let hit = render_section(&section("answered", "hit", true));
        assert!(hit.contains("hit — reference FR-R-01"), "{hit}");
        assert!(render_section(&section("answered", "hit", false)).contains("no hit"));
        let timed_out = render_section(&section("timed-out", "", false));
        assert!(
            timed_out.starts_with("FR  timed out  no answer within 2000 ms"),
            "{timed_out}"
        );
    }
}
