//! `concord license submit|review|decide|appeal|appeal-decide|revoke|show|list|denial-distribution`
//! (and, in `review`, `amend|resubmit|countersign|dispose|pending`):
//! license applications and their decisions, through the node's
//! LicensingService. Officers submit and decide (the officer recorded is the
//! profile's certificate identity); analysts, officers and admins read;
//! admins set the default distribution of denial notices.

pub mod fields;
pub mod listing;
pub mod review;
pub mod view;

use std::path::Path;

use clap::{ArgGroup, Args, Subcommand};
use concord_node::licensing::LicenseState;
use concord_proto::v1 as pb;

use self::fields::{parse_item, required};
use self::view::{
    license_table, print_license, render_license, DistributionOut, LicenseList, LicenseOut,
};
use crate::client::{rpc_error, Clients, LicensingClient};
use crate::cmd::records::DistributionArgs;
use crate::cmd::records::{self, jurisdictions};
use crate::exit::CliError;
use crate::output::{print_json, print_text, OutputFormat};
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
    Amend(review::AmendArgs),
    /// Submit a returned application again (officer).
    Resubmit(ActionArgs),
    /// Countersign (or --reject) a decision pending countersignature
    /// (another officer than its maker).
    Countersign(review::CountersignArgs),
    /// Dispose of a screening hit on an application (officer): a false
    /// positive or a confirmed match. An approval waits for every hit.
    Dispose(review::DisposeArgs),
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
            let licenses = listing::all_licenses(&client, &profile, request).await?;
            let licenses: Vec<LicenseOut> = licenses.iter().map(LicenseOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&LicenseList { licenses }),
                OutputFormat::Table => print_text(&license_table(&licenses)),
            }
        }
        LicenseCommand::Amend(a) => review::amend(a, profile, output).await,
        LicenseCommand::Resubmit(a) => review::resubmit(a.id, a.rationale, profile, output).await,
        LicenseCommand::Countersign(a) => review::countersign(a, profile, output).await,
        LicenseCommand::Dispose(a) => review::dispose(a, profile, output).await,
        LicenseCommand::Pending => review::pending(profile, output).await,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
