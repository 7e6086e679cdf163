//! `concord license submit|review|decide|appeal|appeal-decide|revoke|show|list|denial-distribution`
//! (and, in `license_review`, `amend|resubmit|countersign|dispose|pending`):
//! license applications and their decisions, through the node's
//! LicensingService. Officers submit and decide (the officer recorded is the
//! profile's certificate identity); analysts, officers and admins read;
//! admins set the default distribution of denial notices.
//!
//! Also the licensing client the other licensing commands share.

use std::path::Path;

use clap::{ArgGroup, Args, Subcommand};
use concord_node::licensing::LicenseState;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients, LicensingClient};
use crate::cmd::records::DistributionArgs;
use crate::cmd::records::{self, jurisdictions};
use crate::exit::CliError;
use crate::output::{
    key_values, or_dash, print_json, print_text, time_or_never, OutputFormat, Table,
};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Record a license application (officer). Parties are ids from `concord party create`.
    Submit(SubmitArgs),
    /// Take a submitted application under review (officer).
    Review(ActionArgs),
    /// Approve, deny or return an application under review (officer). Denying
    /// issues a denial notice to --to/--group (default: the node's denial
    /// distribution).
    Decide(DecideArgs),
    /// Record the applicant's appeal of a denial (officer).
    Appeal(ActionArgs),
    /// Uphold or overturn an appealed denial (officer); overturning revokes the denial notice.
    AppealDecide(AppealDecideArgs),
    /// Revoke an approved license (officer).
    Revoke(ActionArgs),
    /// Show a license with its decision history, waivers and denial notice.
    Show {
        /// License id, e.g. DE-L-3.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// List licenses, newest first.
    List(ListArgs),
    /// Amend a submitted, under-review or returned application (officer):
    /// a new revision, re-screened and re-scored; the earlier one is kept.
    Amend(super::license_review::AmendArgs),
    /// Submit a returned application again (officer).
    Resubmit(ActionArgs),
    /// Countersign (or --reject) a decision pending countersignature
    /// (another officer than its maker).
    Countersign(super::license_review::CountersignArgs),
    /// Dispose of a screening hit on an application (officer): a false
    /// positive or a confirmed match. An approval waits for every hit.
    Dispose(super::license_review::DisposeArgs),
    /// Decisions waiting for a second officer's countersignature.
    Pending,
    /// Show, set (admin) or clear (admin) where denial notices go when a
    /// deny decision names no recipients.
    DenialDistribution(DenialDistributionArgs),
}

#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// Party id of the exporter, e.g. DE-P-1.
    #[arg(long, value_name = "ID")]
    pub applicant: String,
    /// Party id of the end user.
    #[arg(long, value_name = "ID")]
    pub end_user: String,
    /// Party id of the consignee.
    #[arg(long, value_name = "ID")]
    pub consignee: String,
    /// Party id of an intermediary (repeatable).
    #[arg(long = "intermediary", value_name = "ID")]
    pub intermediaries: Vec<String>,
    /// Destination country, e.g. AE.
    #[arg(long, value_name = "CC")]
    pub destination: String,
    /// Stated end use.
    #[arg(long, value_name = "TEXT")]
    pub end_use: String,
    /// An item (repeatable): control-list code, quantity, value in minor
    /// units (e.g. cents), currency, optional description.
    #[arg(
        long = "item",
        value_name = "CODE:QTY:VALUE:CURRENCY[:DESCRIPTION]",
        required = true
    )]
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ActionArgs {
    /// License id, e.g. DE-L-3.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why (required; recorded in the license history and the audit trail).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("decision").required(true).args(["approve", "deny", "return_"])))]
pub struct DecideArgs {
    /// License id, e.g. DE-L-3.
    #[arg(value_name = "ID")]
    pub id: String,
    #[arg(long)]
    pub approve: bool,
    #[arg(long)]
    pub deny: bool,
    /// Return the application to the applicant.
    #[arg(long = "return")]
    pub return_: bool,
    /// Why (required).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
    #[command(flatten)]
    pub distribution: DistributionArgs,
    /// Approval: how long the licence is valid, e.g. 365d (default: the
    /// node's licensing.validity_days).
    #[arg(long, value_name = "DURATION")]
    pub valid_for: Option<String>,
    /// Approval: a condition of the licence (repeat for several).
    #[arg(long = "condition", value_name = "TEXT")]
    pub conditions: Vec<String>,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("outcome").required(true).args(["uphold", "overturn"])))]
pub struct AppealDecideArgs {
    /// License id, e.g. DE-L-3.
    #[arg(value_name = "ID")]
    pub id: String,
    /// The denial stands.
    #[arg(long)]
    pub uphold: bool,
    /// The denial is overturned and its notice revoked.
    #[arg(long)]
    pub overturn: bool,
    /// Why (required).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only licenses in this state (submitted, under-review, approved,
    /// denied, returned, appealed, appeal-upheld, appeal-overturned, revoked).
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Only licenses naming this party id in any role.
    #[arg(long, value_name = "ID")]
    pub party: Option<String>,
    /// At most this many licenses.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Args)]
pub struct DenialDistributionArgs {
    /// Set: recipient jurisdictions, comma-separated or repeated.
    #[arg(long, value_name = "J,...", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Set: a sharing group (repeatable).
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
    /// Clear the default: deny decisions must then name their recipients.
    #[arg(long, conflicts_with_all = ["to", "groups"])]
    pub clear: bool,
}

pub async fn run(
    cmd: LicenseCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        LicenseCommand::Submit(args) => {
            let request = submit_request(&args)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let license = client
                .submit_license(request)
                .await
                .map_err(|s| rpc_error("SubmitLicense", &profile, &s))?
                .into_inner();
            print_license("Submitted license", &license, output)?;
            // The node scored it before answering; JSON output stays the license.
            if output == OutputFormat::Table {
                if let Some(line) = crate::cmd::risk::summary_line(&profile, &license.id).await {
                    print_text(&line)?;
                }
            }
            Ok(())
        }
        LicenseCommand::Review(a) => {
            let request = action_request(&a)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let license = client
                .review_license(request)
                .await
                .map_err(|s| rpc_error("ReviewLicense", &profile, &s))?
                .into_inner();
            print_license("Under review:", &license, output)
        }
        LicenseCommand::Decide(a) => {
            let request = decide_request(&a)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let license = client
                .decide_license(request)
                .await
                .map_err(|s| rpc_error("DecideLicense", &profile, &s))?
                .into_inner();
            print_license("Decided license", &license, output)
        }
        LicenseCommand::Appeal(a) => {
            let request = action_request(&a)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let license = client
                .appeal_license(request)
                .await
                .map_err(|s| rpc_error("AppealLicense", &profile, &s))?
                .into_inner();
            print_license("Appealed license", &license, output)
        }
        LicenseCommand::AppealDecide(a) => {
            required("--rationale", &a.rationale)?;
            let request = pb::DecideAppealRequest {
                id: a.id.trim().to_owned(),
                outcome: if a.overturn { "overturn" } else { "uphold" }.to_owned(),
                rationale: a.rationale.clone(),
            };
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let license = client
                .decide_appeal(request)
                .await
                .map_err(|s| rpc_error("DecideAppeal", &profile, &s))?
                .into_inner();
            print_license("Decided the appeal of license", &license, output)
        }
        LicenseCommand::Revoke(a) => {
            let request = action_request(&a)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let license = client
                .revoke_license(request)
                .await
                .map_err(|s| rpc_error("RevokeLicense", &profile, &s))?
                .into_inner();
            print_license("Revoked license", &license, output)
        }
        LicenseCommand::Show { id } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let license = client
                .get_license(pb::GetLicenseRequest {
                    id: id.trim().to_owned(),
                })
                .await
                .map_err(|s| rpc_error("GetLicense", &profile, &s))?
                .into_inner();
            match output {
                OutputFormat::Json => print_json(&LicenseOut::from(&license)),
                OutputFormat::Table => {
                    let names = party_names(&mut client, &license).await;
                    let mut text = render_license(&LicenseOut::from(&license), &names);
                    // The latest risk score, when the node has one (decision support only).
                    if let Some(line) = crate::cmd::risk::summary_line(&profile, &license.id).await
                    {
                        text.push('\n');
                        text.push_str(&line);
                    }
                    print_text(&text)
                }
            }
        }
        LicenseCommand::List(args) => {
            let state = match &args.state {
                Some(s) => s
                    .trim()
                    .parse::<LicenseState>()
                    .map(|s| s.to_string())
                    .map_err(|e| CliError::invalid_argument(format!("--state: {e}")))?,
                None => String::new(),
            };
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.licensing;
            let request = pb::ListLicensesRequest {
                state,
                party: args.party.clone().unwrap_or_default(),
                limit: args.limit.unwrap_or(0),
                ..Default::default()
            };
            let licenses = crate::paging::all_pages(|page_token| {
                let mut client = client.clone();
                let request = pb::ListLicensesRequest {
                    page_token,
                    ..request.clone()
                };
                async move {
                    let r = client.list_licenses(request).await?.into_inner();
                    Ok((r.licenses, r.next_page_token))
                }
            })
            .await
            .map_err(|s| rpc_error("ListLicenses", &profile, &s))?;
            let licenses: Vec<LicenseOut> = licenses.iter().map(LicenseOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&LicenseList { licenses }),
                OutputFormat::Table => print_text(&license_table(&licenses)),
            }
        }
        LicenseCommand::Amend(a) => super::license_review::amend(a, profile, output).await,
        LicenseCommand::Resubmit(a) => {
            super::license_review::resubmit(a.id, a.rationale, profile, output).await
        }
        LicenseCommand::Countersign(a) => {
            super::license_review::countersign(a, profile, output).await
        }
        LicenseCommand::Dispose(a) => super::license_review::dispose(a, profile, output).await,
        LicenseCommand::Pending => super::license_review::pending(profile, output).await,
        LicenseCommand::DenialDistribution(args) => {
            let to = jurisdictions("--to", &args.to)?;
            let set = args.clear || !to.is_empty() || !args.groups.is_empty();
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let current = if set {
                let distribution = (!args.clear).then(|| pb::Distribution {
                    to,
                    groups: args.groups.clone(),
                });
                client
                    .set_denial_distribution(pb::SetDenialDistributionRequest { distribution })
                    .await
                    .map_err(|s| rpc_error("SetDenialDistribution", &profile, &s))?
            } else {
                client
                    .get_denial_distribution(pb::GetDenialDistributionRequest {})
                    .await
                    .map_err(|s| rpc_error("GetDenialDistribution", &profile, &s))?
            }
            .into_inner();
            let out = DistributionOut::from(&current);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&out.render()),
            }
        }
    }
}

pub(crate) fn required(flag: &str, value: &str) -> Result<(), CliError> {
    if value.trim().is_empty() {
        Err(CliError::invalid_argument(format!("{flag}: required")))
    } else {
        Ok(())
    }
}

fn action_request(a: &ActionArgs) -> Result<pb::LicenseActionRequest, CliError> {
    required("--rationale", &a.rationale)?;
    Ok(pb::LicenseActionRequest {
        id: a.id.trim().to_owned(),
        rationale: a.rationale.clone(),
    })
}

fn decide_request(a: &DecideArgs) -> Result<pb::DecideLicenseRequest, CliError> {
    required("--rationale", &a.rationale)?;
    let named = !a.distribution.to.is_empty() || !a.distribution.groups.is_empty();
    if named && !a.deny {
        return Err(CliError::invalid_argument(
            "--to/--group name the recipients of a denial notice; they only go with --deny",
        ));
    }
    if !a.approve && (a.valid_for.is_some() || !a.conditions.is_empty()) {
        return Err(CliError::invalid_argument(
            "--valid-for/--condition are terms of an approval; they only go with --approve",
        ));
    }
    let decision = if a.approve {
        "approve"
    } else if a.deny {
        "deny"
    } else {
        "return"
    };
    let valid_until_unix_ms = match &a.valid_for {
        Some(d) => {
            let d = crate::duration::duration_arg("--valid-for", d)?;
            crate::duration::now_unix_ms()
                .saturating_add(d.as_millis().min(i64::MAX as u128) as i64)
        }
        None => 0,
    };
    Ok(pb::DecideLicenseRequest {
        id: a.id.trim().to_owned(),
        decision: decision.to_owned(),
        rationale: a.rationale.clone(),
        // Empty: the node's default denial distribution.
        distribution: named
            .then(|| records::distribution(&a.distribution))
            .transpose()?,
        valid_until_unix_ms,
        conditions: a.conditions.clone(),
        ..Default::default()
    })
}

/// `CODE:QTY:VALUE:CURRENCY[:DESCRIPTION]`; the description may contain colons.
pub fn parse_item(text: &str) -> Result<pb::LicenseItem, CliError> {
    let bad = |why: &str| {
        CliError::invalid_argument(format!(
            "--item {text:?}: {why}; expected CODE:QTY:VALUE:CURRENCY[:DESCRIPTION], \
             e.g. 3A001:10:250000:EUR:FPGAs (VALUE in minor units, e.g. cents)"
        ))
    };
    let mut parts = text.splitn(5, ':');
    let (Some(code), Some(qty), Some(value), Some(currency)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("too few fields"));
    };
    let description = parts.next().unwrap_or("").trim().to_owned();
    let code = code.trim();
    if code.is_empty() {
        return Err(bad("no control-list code"));
    }
    let quantity: u64 = qty
        .trim()
        .parse()
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| bad("QTY must be a whole number of at least 1"))?;
    let minor_units: i64 = value
        .trim()
        .parse()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| bad("VALUE must be a whole, non-negative number of minor units"))?;
    let currency = currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("CURRENCY must be a three-letter code such as EUR"));
    }
    Ok(pb::LicenseItem {
        code: code.to_owned(),
        description,
        quantity,
        value: Some(pb::Money {
            minor_units,
            currency,
        }),
        category: String::new(),
        tier: 0,
    })
}

fn submit_request(a: &SubmitArgs) -> Result<pb::SubmitLicenseRequest, CliError> {
    required("--applicant", &a.applicant)?;
    required("--end-user", &a.end_user)?;
    required("--consignee", &a.consignee)?;
    required("--end-use", &a.end_use)?;
    Ok(pb::SubmitLicenseRequest {
        applicant: a.applicant.trim().to_owned(),
        items: a
            .items
            .iter()
            .map(|i| parse_item(i))
            .collect::<Result<_, _>>()?,
        end_user: a.end_user.trim().to_owned(),
        consignee: a.consignee.trim().to_owned(),
        intermediaries: a
            .intermediaries
            .iter()
            .map(|i| i.trim().to_owned())
            .collect(),
        destination: records::country("--destination", &a.destination)?,
        end_use: a.end_use.clone(),
    })
}

/// Names of the parties a license refers to, for people; ids stay when a
/// lookup fails.
async fn party_names(
    client: &mut LicensingClient,
    l: &pb::License,
) -> std::collections::BTreeMap<String, String> {
    let mut names = std::collections::BTreeMap::new();
    let ids = [&l.applicant, &l.end_user, &l.consignee]
        .into_iter()
        .chain(&l.intermediaries);
    for id in ids {
        if names.contains_key(id) {
            continue;
        }
        if let Ok(p) = client
            .get_party(pb::GetPartyRequest { id: id.clone() })
            .await
        {
            let p = p.into_inner();
            names.insert(id.clone(), format!("{} ({})", p.name, p.country));
        }
    }
    names
}

// ---- output ------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct MoneyOut {
    pub minor_units: i64,
    pub currency: String,
}

#[derive(Debug, Serialize)]
pub struct ItemOut {
    pub code: String,
    pub description: String,
    pub quantity: u64,
    pub value: MoneyOut,
    pub category: String,
    pub tier: u32,
}

#[derive(Debug, Serialize)]
pub struct DecisionOut {
    pub action: String,
    /// Null for the submission.
    pub from: Option<String>,
    pub to: String,
    pub officer: String,
    pub at: String,
    pub rationale: String,
    pub waivers: Vec<String>,
    pub denial_id: Option<String>,
    pub denial_version: Option<u32>,
    /// The risk picture at the moment of the decision.
    pub risk: Option<RiskAtOut>,
    /// A four-eyes decision: when its maker decided, and the second officer.
    pub proposed_at: Option<String>,
    pub countersigned: Option<CountersignOut>,
}

#[derive(Debug, Serialize)]
pub struct RiskAtOut {
    pub score: u32,
    pub band: String,
    pub methodology: String,
    pub assessed_at: String,
    pub factors: Vec<String>,
    pub floors: Vec<String>,
    pub open_hits: Vec<String>,
    pub confirmed_hits: Vec<String>,
    pub four_eyes: Option<String>,
}

impl From<&pb::RiskAtDecision> for RiskAtOut {
    fn from(r: &pb::RiskAtDecision) -> Self {
        RiskAtOut {
            score: r.score,
            band: r.band.clone(),
            methodology: r.methodology.clone(),
            assessed_at: time_or_never(r.assessed_at_unix_ms),
            factors: r.factors.clone(),
            floors: r.floors.clone(),
            open_hits: r.open_hits.iter().map(|h| h.id.clone()).collect(),
            confirmed_hits: r.confirmed_hits.iter().map(|h| h.id.clone()).collect(),
            four_eyes: some(&r.four_eyes),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CountersignOut {
    pub officer: String,
    pub at: String,
    pub rationale: String,
    pub override_rationale: Option<String>,
}

impl From<&pb::Countersignature> for CountersignOut {
    fn from(c: &pb::Countersignature) -> Self {
        CountersignOut {
            officer: c.officer.clone(),
            at: time_or_never(c.at_unix_ms),
            rationale: c.rationale.clone(),
            override_rationale: some(&c.override_rationale),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PendingOut {
    pub action: String,
    pub officer: String,
    pub at: String,
    pub rationale: String,
    pub reason: String,
    pub risk: Option<RiskAtOut>,
}

impl From<&pb::PendingDecision> for PendingOut {
    fn from(p: &pb::PendingDecision) -> Self {
        PendingOut {
            action: p.action.clone(),
            officer: p.officer.clone(),
            at: time_or_never(p.at_unix_ms),
            rationale: p.rationale.clone(),
            reason: p.reason.clone(),
            risk: p.risk.as_ref().map(RiskAtOut::from),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HitOut {
    pub id: String,
    pub status: String,
    pub score: f32,
    pub party_id: String,
    pub role: String,
    pub party_name: String,
    pub list: String,
    pub source_id: String,
    pub issuer: Option<String>,
    pub matched_name: String,
    pub listed_name: String,
    pub entry_changed: bool,
    pub disposed_by: Option<String>,
    pub disposed_at: Option<String>,
    pub disposed_on: Option<String>,
    pub disposition_rationale: Option<String>,
}

impl From<&pb::ApplicationHit> for HitOut {
    fn from(h: &pb::ApplicationHit) -> Self {
        HitOut {
            id: h.id.clone(),
            status: h.status.clone(),
            score: h.score,
            party_id: h.party_id.clone(),
            role: h.role.clone(),
            party_name: h.party_name.clone(),
            list: h.list.clone(),
            source_id: h.source_id.clone(),
            issuer: some(&h.issuer),
            matched_name: h.matched_name.clone(),
            listed_name: h.listed_name.clone(),
            entry_changed: h.entry_changed,
            disposed_by: some(&h.disposed_by),
            disposed_at: (h.disposed_at_unix_ms != 0).then(|| time_or_never(h.disposed_at_unix_ms)),
            disposed_on: some(&h.disposed_on),
            disposition_rationale: some(&h.disposition_rationale),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TermsOut {
    pub valid_from: String,
    pub valid_until: String,
    pub conditions: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BalanceOut {
    pub code: String,
    pub licensed_quantity: u64,
    pub shipped_quantity: u64,
    pub remaining_quantity: u64,
    pub licensed_value: MoneyOut,
    pub shipped_value: MoneyOut,
    pub remaining_value: MoneyOut,
}

#[derive(Debug, Serialize)]
pub struct RevisionOut {
    pub revision: u32,
    pub applicant: String,
    pub end_user: String,
    pub consignee: String,
    pub intermediaries: Vec<String>,
    pub destination: String,
    pub end_use: String,
    pub items: Vec<String>,
    pub replaced_at: String,
    pub replaced_by: String,
    pub rationale: String,
}

#[derive(Debug, Serialize)]
pub struct FlagOut {
    pub at: String,
    pub by: String,
    pub reason: String,
    pub shipment: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LicenseOut {
    pub id: String,
    pub state: String,
    pub applicant: String,
    pub end_user: String,
    pub consignee: String,
    pub intermediaries: Vec<String>,
    pub destination: String,
    pub end_use: String,
    pub items: Vec<ItemOut>,
    pub catalog_version: u32,
    pub submitted_at: String,
    pub submitted_by: String,
    pub updated_at: String,
    pub denial_id: Option<String>,
    /// Waivers covering the application now.
    pub matching_waivers: Vec<String>,
    pub history: Vec<DecisionOut>,
    pub revision: u32,
    pub revisions: Vec<RevisionOut>,
    /// A decision waiting for a second officer.
    pub pending: Option<PendingOut>,
    pub rejected: Vec<RejectedOut>,
    pub terms: Option<TermsOut>,
    /// Shipped and remaining per item.
    pub balances: Vec<BalanceOut>,
    pub review_flags: Vec<FlagOut>,
    /// Screening hits from the latest assessment.
    pub hits: Vec<HitOut>,
    pub open_hits: u32,
}

#[derive(Debug, Serialize)]
pub struct RejectedOut {
    pub decision: Option<PendingOut>,
    pub rejected: Option<CountersignOut>,
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl From<&pb::License> for LicenseOut {
    fn from(l: &pb::License) -> Self {
        LicenseOut {
            id: l.id.clone(),
            state: l.state.clone(),
            applicant: l.applicant.clone(),
            end_user: l.end_user.clone(),
            consignee: l.consignee.clone(),
            intermediaries: l.intermediaries.clone(),
            destination: l.destination.clone(),
            end_use: l.end_use.clone(),
            items: l
                .items
                .iter()
                .map(|i| {
                    let v = i.value.clone().unwrap_or_default();
                    ItemOut {
                        code: i.code.clone(),
                        description: i.description.clone(),
                        quantity: i.quantity,
                        value: MoneyOut {
                            minor_units: v.minor_units,
                            currency: v.currency,
                        },
                        category: i.category.clone(),
                        tier: i.tier,
                    }
                })
                .collect(),
            catalog_version: l.catalog_version,
            submitted_at: time_or_never(l.submitted_at_unix_ms),
            submitted_by: l.submitted_by.clone(),
            updated_at: time_or_never(l.updated_at_unix_ms),
            denial_id: some(&l.denial_id),
            matching_waivers: l.matching_waivers.clone(),
            history: l
                .history
                .iter()
                .map(|d| DecisionOut {
                    action: d.action.clone(),
                    from: some(&d.from_state),
                    to: d.to_state.clone(),
                    officer: d.officer.clone(),
                    at: time_or_never(d.at_unix_ms),
                    rationale: d.rationale.clone(),
                    waivers: d.waivers.clone(),
                    denial_id: some(&d.denial_id),
                    denial_version: (!d.denial_id.is_empty()).then_some(d.denial_version),
                    risk: d.risk.as_ref().map(RiskAtOut::from),
                    proposed_at: (d.proposed_at_unix_ms != 0)
                        .then(|| time_or_never(d.proposed_at_unix_ms)),
                    countersigned: d.countersigned.as_ref().map(CountersignOut::from),
                })
                .collect(),
            revision: l.revision,
            revisions: l
                .revisions
                .iter()
                .map(|r| RevisionOut {
                    revision: r.revision,
                    applicant: r.applicant.clone(),
                    end_user: r.end_user.clone(),
                    consignee: r.consignee.clone(),
                    intermediaries: r.intermediaries.clone(),
                    destination: r.destination.clone(),
                    end_use: r.end_use.clone(),
                    items: r
                        .items
                        .iter()
                        .map(|i| format!("{} x{}", i.code, i.quantity))
                        .collect(),
                    replaced_at: time_or_never(r.replaced_at_unix_ms),
                    replaced_by: r.replaced_by.clone(),
                    rationale: r.rationale.clone(),
                })
                .collect(),
            pending: l.pending.as_ref().map(PendingOut::from),
            rejected: l
                .rejected
                .iter()
                .map(|r| RejectedOut {
                    decision: r.decision.as_ref().map(PendingOut::from),
                    rejected: r.rejected.as_ref().map(CountersignOut::from),
                })
                .collect(),
            terms: l.terms.as_ref().map(|t| TermsOut {
                valid_from: time_or_never(t.valid_from_unix_ms),
                valid_until: time_or_never(t.valid_until_unix_ms),
                conditions: t.conditions.clone(),
            }),
            balances: l
                .balances
                .iter()
                .map(|b| {
                    let v = b.licensed_value.clone().unwrap_or_default();
                    let m = |minor_units| MoneyOut {
                        minor_units,
                        currency: v.currency.clone(),
                    };
                    BalanceOut {
                        code: b.code.clone(),
                        licensed_quantity: b.licensed_quantity,
                        shipped_quantity: b.shipped_quantity,
                        remaining_quantity: b.remaining_quantity,
                        licensed_value: m(v.minor_units),
                        shipped_value: m(b.shipped_value_minor_units),
                        remaining_value: m(b.remaining_value_minor_units),
                    }
                })
                .collect(),
            review_flags: l
                .review_flags
                .iter()
                .map(|f| FlagOut {
                    at: time_or_never(f.at_unix_ms),
                    by: f.by.clone(),
                    reason: f.reason.clone(),
                    shipment: some(&f.shipment),
                })
                .collect(),
            hits: l.hits.iter().map(HitOut::from).collect(),
            open_hits: l.open_hits,
        }
    }
}

#[derive(Debug, Serialize)]
struct LicenseList {
    licenses: Vec<LicenseOut>,
}

pub fn print_license(done: &str, l: &pb::License, output: OutputFormat) -> Result<(), CliError> {
    let out = LicenseOut::from(l);
    match output {
        OutputFormat::Json => print_json(&out),
        OutputFormat::Table => {
            let mut text = format!("{done} {} (now {})\n", out.id, out.state);
            if let Some(p) = &out.pending {
                text.push_str(&format!(
                    "Pending countersignature: {} by {} ({}). Another officer runs: \
                     concord license countersign {} --rationale T\n",
                    p.action, p.officer, p.reason, out.id
                ));
            }
            if out.open_hits > 0 {
                text.push_str(&format!(
                    "Open screening hits: {} (concord license show {} lists them)\n",
                    out.open_hits, out.id
                ));
            }
            if let Some(last) = out.history.last() {
                if let Some(d) = &last.denial_id {
                    let verb = if last.action == "deny" {
                        "issued"
                    } else {
                        "revoked"
                    };
                    text.push_str(&format!(
                        "Denial notice {d} {verb} (version {})\n",
                        last.denial_version.unwrap_or(0)
                    ));
                }
                if !last.waivers.is_empty() {
                    text.push_str(&format!("Matching waivers: {}\n", last.waivers.join(", ")));
                }
            }
            print_text(&text)
        }
    }
}

/// Decimal places of a currency's minor unit (ISO 4217); 2 unless listed.
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Money in minor units as people write it: `1250.05 EUR`, `1250 JPY`.
fn money(m: &MoneyOut) -> String {
    let digits = minor_digits(&m.currency);
    if digits == 0 {
        return format!("{} {}", m.minor_units, m.currency);
    }
    let scale = 10i64.pow(digits);
    format!(
        "{}.{:0width$} {}",
        m.minor_units / scale,
        m.minor_units % scale,
        m.currency,
        width = digits as usize
    )
}

fn render_license(l: &LicenseOut, names: &std::collections::BTreeMap<String, String>) -> String {
    let named = |id: &str| match names.get(id) {
        Some(n) => format!("{id}  {n}"),
        None => id.to_owned(),
    };
    let intermediaries: Vec<String> = l.intermediaries.iter().map(|i| named(i)).collect();
    let mut out = key_values(
        &format!("License {}", l.id),
        &[
            ("state", l.state.clone()),
            ("applicant", named(&l.applicant)),
            ("end user", named(&l.end_user)),
            ("consignee", named(&l.consignee)),
            ("intermediaries", or_dash(&intermediaries.join(", "))),
            ("destination", l.destination.clone()),
            ("end use", l.end_use.replace('\n', " ")),
            ("catalog version", l.catalog_version.to_string()),
            (
                "submitted",
                format!("{} by {}", l.submitted_at, l.submitted_by),
            ),
            (
                "denial notice",
                l.denial_id.clone().unwrap_or_else(|| "-".into()),
            ),
            ("waivers now", or_dash(&l.matching_waivers.join(", "))),
        ],
    );
    out.push_str("\nItems\n");
    let mut items = Table::new(["CODE", "CATEGORY", "TIER", "QTY", "VALUE", "DESCRIPTION"]);
    for i in &l.items {
        items.row([
            i.code.clone(),
            i.category.clone(),
            i.tier.to_string(),
            i.quantity.to_string(),
            money(&i.value),
            or_dash(&i.description),
        ]);
    }
    out.push_str(&items.render());
    out.push_str("\nHistory\n");
    let mut history = Table::new([
        "AT",
        "ACTION",
        "STATE",
        "OFFICER",
        "WAIVERS",
        "DENIAL",
        "RATIONALE",
    ]);
    for d in &l.history {
        let state = match &d.from {
            Some(from) => format!("{from} -> {}", d.to),
            None => d.to.clone(),
        };
        let denial = match (&d.denial_id, d.denial_version) {
            (Some(id), Some(v)) => format!("{id} v{v}"),
            _ => "-".into(),
        };
        history.row([
            d.at.clone(),
            d.action.clone(),
            state,
            d.officer.clone(),
            or_dash(&d.waivers.join(",")),
            denial,
            or_dash(&d.rationale),
        ]);
    }
    out.push_str(&history.render());
    for d in &l.history {
        if let Some(r) = &d.risk {
            out.push_str(&format!(
                "{} {} at {}: risk {} ({}){}{}{}\n",
                d.action,
                d.officer,
                d.at,
                r.score,
                r.band,
                if r.floors.is_empty() {
                    String::new()
                } else {
                    format!("; floors: {}", r.floors.join("; "))
                },
                if r.confirmed_hits.is_empty() {
                    String::new()
                } else {
                    format!("; confirmed matches {}", r.confirmed_hits.join(", "))
                },
                match &d.countersigned {
                    Some(c) => format!(
                        "; countersigned by {} at {}: {}{}",
                        c.officer,
                        c.at,
                        c.rationale,
                        c.override_rationale
                            .as_ref()
                            .map(|o| format!("; override: {o}"))
                            .unwrap_or_default()
                    ),
                    None => String::new(),
                }
            ));
        }
    }
    if let Some(p) = &l.pending {
        out.push_str(&format!(
            "\nPending countersignature: {} by {} at {} ({}): {}\n",
            p.action, p.officer, p.at, p.reason, p.rationale
        ));
    }
    for r in &l.rejected {
        if let (Some(d), Some(c)) = (&r.decision, &r.rejected) {
            out.push_str(&format!(
                "Rejected: {} by {} at {}, rejected by {} at {}: {}\n",
                d.action, d.officer, d.at, c.officer, c.at, c.rationale
            ));
        }
    }
    if let Some(t) = &l.terms {
        out.push_str(&format!(
            "\nTerms: valid {} to {}; conditions: {}\n",
            t.valid_from,
            t.valid_until,
            or_dash(&t.conditions.join("; "))
        ));
    }
    if !l.balances.is_empty() && l.terms.is_some() {
        out.push_str("\nShipped\n");
        let mut t = Table::new([
            "CODE",
            "LICENSED",
            "SHIPPED",
            "REMAINING",
            "VALUE REMAINING",
        ]);
        for b in &l.balances {
            t.row([
                b.code.clone(),
                b.licensed_quantity.to_string(),
                b.shipped_quantity.to_string(),
                b.remaining_quantity.to_string(),
                money(&b.remaining_value),
            ]);
        }
        out.push_str(&t.render());
    }
    for f in &l.review_flags {
        out.push_str(&format!(
            "Flagged for review at {} by {}: {}\n",
            f.at, f.by, f.reason
        ));
    }
    if l.revision > 1 {
        out.push_str(&format!(
            "\nRevision {} (earlier: {})\n",
            l.revision,
            l.revisions.len()
        ));
        for r in &l.revisions {
            out.push_str(&format!(
                "  r{} replaced {} by {}: {} (was to {}, items {})\n",
                r.revision,
                r.replaced_at,
                r.replaced_by,
                r.rationale,
                r.destination,
                r.items.join(", ")
            ));
        }
    }
    out.push_str("\nScreening hits\n");
    out.push_str(&hits_table(&l.hits));
    if l.open_hits > 0 {
        out.push_str(&format!(
            "Dispose: concord license dispose {} HIT --false-positive|--confirmed --rationale T\n",
            l.id
        ));
    }
    out
}

/// The hits of an application, as `license show` and `license dispose` print them.
pub fn hits_table(hits: &[HitOut]) -> String {
    if hits.is_empty() {
        return "No screening hit.\n".to_owned();
    }
    let mut t = Table::new(["HIT", "STATUS", "SCORE", "ROLE", "MATCHED", "DISPOSED"]);
    for h in hits {
        t.row([
            h.id.clone(),
            if h.entry_changed {
                format!("{} (entry changed)", h.status)
            } else {
                h.status.clone()
            },
            format!("{:.2}", h.score),
            h.role.clone(),
            format!("{:?} ~ {:?}", h.party_name, h.matched_name),
            match (&h.disposed_by, &h.disposed_on) {
                (Some(by), on) => format!(
                    "{by}{}: {}",
                    on.as_ref().map(|o| format!(" on {o}")).unwrap_or_default(),
                    h.disposition_rationale.clone().unwrap_or_default()
                ),
                (None, _) => "-".into(),
            },
        ]);
    }
    t.render()
}

fn license_table(licenses: &[LicenseOut]) -> String {
    let mut t = Table::new([
        "ID",
        "STATE",
        "APPLICANT",
        "END USER",
        "DEST",
        "ITEMS",
        "UPDATED",
        "DENIAL",
        "HITS",
        "PENDING",
    ]);
    for l in licenses {
        let codes: Vec<&str> = l.items.iter().map(|i| i.code.as_str()).collect();
        t.row([
            l.id.clone(),
            l.state.clone(),
            l.applicant.clone(),
            l.end_user.clone(),
            l.destination.clone(),
            codes.join(","),
            l.updated_at.clone(),
            l.denial_id.clone().unwrap_or_else(|| "-".into()),
            if l.open_hits > 0 {
                format!("{} open", l.open_hits)
            } else {
                "-".into()
            },
            l.pending
                .as_ref()
                .map(|p| format!("{} by {}", p.action, p.officer))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    t.render()
}

#[derive(Debug, Serialize)]
struct DistributionOut {
    to: Vec<String>,
    groups: Vec<String>,
    updated_at: Option<String>,
    updated_by: Option<String>,
}

impl From<&pb::DenialDistribution> for DistributionOut {
    fn from(d: &pb::DenialDistribution) -> Self {
        let dist = d.distribution.clone().unwrap_or_default();
        DistributionOut {
            to: dist.to,
            groups: dist.groups,
            updated_at: crate::output::rfc3339(d.updated_at_unix_ms),
            updated_by: some(&d.updated_by),
        }
    }
}

impl DistributionOut {
    fn render(&self) -> String {
        if self.to.is_empty() && self.groups.is_empty() {
            return "No default denial distribution: deny decisions must name --to/--group.\n"
                .to_owned();
        }
        key_values(
            "Default denial distribution",
            &[
                ("to", or_dash(&self.to.join(", "))),
                ("groups", or_dash(&self.groups.join(", "))),
                (
                    "set",
                    format!(
                        "{} by {}",
                        self.updated_at.as_deref().unwrap_or("-"),
                        self.updated_by.as_deref().unwrap_or("-")
                    ),
                ),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items() {
        let i = parse_item("3A001:10:250000:eur:FPGAs: rad-hard, 28 nm").unwrap();
        assert_eq!(i.code, "3A001");
        assert_eq!(i.quantity, 10);
        let v = i.value.unwrap();
        assert_eq!((v.minor_units, v.currency.as_str()), (250_000, "EUR"));
        assert_eq!(i.description, "FPGAs: rad-hard, 28 nm");
        assert_eq!(parse_item("ML4:1:0:USD").unwrap().description, "");
        for bad in [
            "ML4",
            "ML4:1:100",
            ":1:100:EUR",
            "ML4:0:100:EUR",
            "ML4:x:100:EUR",
            "ML4:1:-5:EUR",
            "ML4:1:12.50:EUR",
            "ML4:1:100:EURO",
        ] {
            assert_eq!(parse_item(bad).unwrap_err().exit_code(), 6, "{bad}");
        }
    }

    fn decide(approve: bool, deny: bool, to: &[&str]) -> DecideArgs {
        DecideArgs {
            id: "DE-L-1".into(),
            approve,
            deny,
            return_: !approve && !deny,
            rationale: "r".into(),
            distribution: DistributionArgs {
                to: to.iter().map(|s| s.to_string()).collect(),
                groups: vec![],
            },
            valid_for: None,
            conditions: vec![],
        }
    }

    #[test]
    fn terms_go_only_with_an_approval() {
        let mut a = decide(true, false, &[]);
        a.valid_for = Some("30d".into());
        a.conditions = vec!["no re-export".into()];
        let r = decide_request(&a).unwrap();
        assert!(r.valid_until_unix_ms > crate::duration::now_unix_ms());
        assert_eq!(r.conditions, vec!["no re-export".to_owned()]);
        let mut d = decide(false, true, &[]);
        d.conditions = vec!["x".into()];
        assert_eq!(decide_request(&d).unwrap_err().exit_code(), 6);
    }

    #[test]
    fn decisions_carry_recipients_only_when_denying() {
        let r = decide_request(&decide(false, true, &["FR"])).unwrap();
        assert_eq!(r.decision, "deny");
        assert_eq!(r.distribution.unwrap().to, ["FR"]);
        let r = decide_request(&decide(false, true, &[])).unwrap();
        assert!(r.distribution.is_none(), "the node's default applies");
        assert_eq!(
            decide_request(&decide(true, false, &["FR"]))
                .unwrap_err()
                .exit_code(),
            6
        );
        assert_eq!(
            decide_request(&decide(false, false, &[])).unwrap().decision,
            "return"
        );
        let blank = DecideArgs {
            rationale: " ".into(),
            ..decide(true, false, &[])
        };
        assert!(decide_request(&blank).is_err());
    }

    #[test]
    fn money_shows_minor_units_as_decimals() {
        let m = MoneyOut {
            minor_units: 125_005,
            currency: "EUR".into(),
        };
        assert_eq!(money(&m), "1250.05 EUR");
        let yen = MoneyOut {
            minor_units: 125_005,
            currency: "JPY".into(),
        };
        assert_eq!(money(&yen), "125005 JPY");
        let dinar = MoneyOut {
            minor_units: 1_005,
            currency: "KWD".into(),
        };
        assert_eq!(money(&dinar), "1.005 KWD");
    }
}
