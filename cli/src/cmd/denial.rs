//! `concord denial issue|amend|revoke|list|show`: denial notices, through the
//! node's ExchangeService. Issuing, amending and revoking need an officer
//! profile; reading an analyst, officer or admin profile.

use std::path::Path;

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Subcommand};
use concord_proto::v1 as pb;

use crate::client::{rpc_error, Clients, ExchangeClient};
use crate::cmd::record_calls;
use crate::cmd::records::{self, denial_table, render_version, DistributionArgs, RecordOut};
use crate::duration::{now_unix_ms, seconds_arg};
use crate::exit::CliError;
use crate::output::{print_json, print_text, OutputFormat};
use crate::profile::Profile;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub enum DenialCommand {
    /// Issue a denial notice and send it to the named recipients (officer).
    Issue(IssueDenialArgs),
    /// Issue the next version of one of this node's denials with changes (officer).
    Amend(AmendDenialArgs),
    /// Revoke one of this node's denials (officer).
    Revoke {
        /// Denial id, e.g. FR-D-7.
        #[arg(value_name = "ID")]
        id: String,
        /// Why the denial is revoked.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// List the denials held on this node (their current versions), newest first.
    List(DenialListArgs),
    /// Show every version of a denial and its current state.
    Show {
        /// Denial id, e.g. FR-D-7.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// This node's denials due for review (`[exchange]
    /// denial_review_after_days` after their latest version), overdue ones
    /// first. Review one with `denial amend ID --reason WHY` (which restarts
    /// its clock) or `denial revoke`.
    DueForReview {
        /// How far ahead to look, e.g. 30d (default 90d).
        #[arg(long, value_name = "DURATION")]
        within: Option<String>,
    },
}

#[derive(Debug, Serialize)]
struct DueOut {
    id: String,
    version: u32,
    party: String,
    destination: String,
    /// When the latest version was signed: the last review, or the issue.
    last_reviewed: Option<String>,
    review_due: Option<String>,
    overdue: bool,
}

#[derive(Debug, Serialize)]
struct DueList {
    review_after_days: u32,
    denials: Vec<DueOut>,
    /// More are due than one answer carries (1000).
    more: bool,
}

#[derive(Debug, Clone, Args)]
pub struct IssueDenialArgs {
    /// Name of the denied party.
    #[arg(long, value_name = "NAME")]
    pub party: String,
    /// Another name the party is known by (repeatable).
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,
    /// The party's country, e.g. ZZ.
    #[arg(long, value_name = "CC")]
    pub party_country: String,
    /// The party's address.
    #[arg(long, value_name = "TEXT")]
    pub party_address: Option<String>,
    #[command(flatten)]
    pub items: ItemArgs<true>,
    /// Destination country of the denied export.
    #[arg(long, value_name = "CC")]
    pub destination: String,
    /// Why the export was denied.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Stated end use of the denied export.
    #[arg(long, value_name = "TEXT")]
    pub end_use: Option<String>,
    /// The denial ends after this long, e.g. 365d (default: no end date).
    #[arg(long, value_name = "DURATION")]
    pub valid_for: Option<String>,
    #[command(flatten)]
    pub distribution: DistributionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AmendDenialArgs {
    /// Denial id, e.g. FR-D-7.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why the denial changes (recorded as the new version's change reason).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// New name of the denied party (other party details are kept unless given).
    #[arg(long, value_name = "NAME")]
    pub party: Option<String>,
    /// Replace the party's aliases (repeatable).
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,
    /// New country of the party.
    #[arg(long, value_name = "CC")]
    pub party_country: Option<String>,
    /// New address of the party.
    #[arg(long, value_name = "TEXT")]
    pub party_address: Option<String>,
    /// Replace the denied items.
    #[command(flatten)]
    pub items: ItemArgs<false>,
    /// New destination country.
    #[arg(long, value_name = "CC")]
    pub destination: Option<String>,
    /// New stated end use.
    #[arg(long, value_name = "TEXT")]
    pub end_use: Option<String>,
    /// Replace the stated reason for the denial itself.
    #[arg(long, value_name = "TEXT")]
    pub denial_reason: Option<String>,
    /// The denial now ends this long from now, e.g. 90d.
    #[arg(long, value_name = "DURATION")]
    pub valid_for: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DenialListArgs {
    /// Only denials issued by this jurisdiction.
    #[arg(long, value_name = "J")]
    pub issuer: Option<String>,
    /// Only denials issued since this RFC 3339 time, or this long ago (e.g. 30d).
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Only denials in force (not revoked, not past their end date).
    #[arg(long)]
    pub active: bool,
    /// At most this many denials.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// One denied item: a control-list code and an optional description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemArg {
    pub code: String,
    pub description: String,
}

/// `--item CODE [--item-description TEXT]`, repeatable: each description
/// belongs to the `--item` just before it. `REQUIRED`: at least one item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemArgs<const REQUIRED: bool> {
    pub items: Vec<ItemArg>,
}

const ITEM: &str = "item";
const ITEM_DESCRIPTION: &str = "item_description";

impl<const REQUIRED: bool> Args for ItemArgs<REQUIRED> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.arg(
            Arg::new(ITEM)
                .long("item")
                .value_name("CODE")
                .action(ArgAction::Append)
                .required(REQUIRED)
                .help("A denied control-list item code, e.g. 3A001 (repeatable)"),
        )
        .arg(
            Arg::new(ITEM_DESCRIPTION)
                .long("item-description")
                .value_name("TEXT")
                .action(ArgAction::Append)
                .requires(ITEM)
                .help("Description of the --item just before it"),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<const REQUIRED: bool> FromArgMatches for ItemArgs<REQUIRED> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        pair_items(matches).map(|items| ItemArgs { items })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Pairs each `--item-description` with the `--item` before it on the
/// command line.
fn pair_items(matches: &ArgMatches) -> Result<Vec<ItemArg>, clap::Error> {
    let indexed = |id: &str| -> Vec<(usize, String)> {
        match (matches.indices_of(id), matches.get_many::<String>(id)) {
            (Some(indices), Some(values)) => indices.zip(values.cloned()).collect(),
            _ => Vec::new(),
        }
    };
    let codes = indexed(ITEM);
    let mut items: Vec<ItemArg> = codes
        .iter()
        .map(|(_, code)| ItemArg {
            code: code.clone(),
            description: String::new(),
        })
        .collect();
    for (at, description) in indexed(ITEM_DESCRIPTION) {
        let owner = codes.iter().rposition(|(i, _)| *i < at).ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--item-description {description:?} must follow the --item it describes\n"),
            )
        })?;
        let item = &mut items[owner];
        if !item.description.is_empty() {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--item {} has more than one --item-description\n",
                    item.code
                ),
            ));
        }
        item.description = description;
    }
    Ok(items)
}

pub async fn run(
    cmd: DenialCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        DenialCommand::Issue(args) => {
            let request = issue_request(&args)?;
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.exchange;
            let view = record_calls::write(
                &client,
                &profile,
                "IssueDenial",
                request,
                |mut c, req| async move { c.issue_denial(req).await },
            )
            .await?;
            print_record("Issued denial", &view, output)
        }
        DenialCommand::Amend(args) => {
            let mut request = amend_request(&args)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.exchange;
            if party_changes(&args) {
                // The wire replaces the whole party: start from the current one.
                let current = current_party(&mut client, &args.id)
                    .await
                    .map_err(|s| rpc_error("GetDenial", &profile, &s))?;
                request.party = Some(merge_party(current, &args)?);
            }
            let view = record_calls::write(
                &client,
                &profile,
                "AmendDenial",
                request,
                |mut c, req| async move { c.amend_denial(req).await },
            )
            .await?;
            print_record("Amended denial", &view, output)
        }
        DenialCommand::Revoke { id, reason } => {
            if reason.trim().is_empty() {
                return Err(CliError::invalid_argument("--reason: required"));
            }
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.exchange;
            let request = pb::RevokeDenialRequest { id, reason };
            let view = record_calls::write(
                &client,
                &profile,
                "RevokeDenial",
                request,
                |mut c, req| async move { c.revoke_denial(req).await },
            )
            .await?;
            print_record("Revoked denial", &view, output)
        }
        DenialCommand::List(args) => {
            let request = list_request(&args, now_unix_ms())?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.exchange;
            let records = list(&mut client, request)
                .await
                .map_err(|s| rpc_error("ListDenials", &profile, &s))?;
            record_calls::print_list(&records, denial_table, output)
        }
        DenialCommand::DueForReview { within } => {
            let within_seconds = seconds_arg("--within", within.as_deref())?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.exchange;
            let r = client
                .list_denials_due_for_review(pb::DueForReviewRequest { within_seconds })
                .await
                .map_err(|s| rpc_error("ListDenialsDueForReview", &profile, &s))?
                .into_inner();
            let list = DueList {
                review_after_days: r.review_after_days,
                more: r.more,
                denials: r
                    .denials
                    .iter()
                    .map(|d| {
                        let v = d.record.clone().unwrap_or_default();
                        let (party, destination) = match &v.record {
                            Some(pb::record_view::Record::Denial(n)) => (
                                n.party.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
                                n.destination.clone(),
                            ),
                            _ => Default::default(),
                        };
                        DueOut {
                            id: v.id.clone(),
                            version: v.version,
                            party,
                            destination,
                            last_reviewed: crate::output::rfc3339(v.issued_at_unix_ms),
                            review_due: crate::output::rfc3339(d.review_due_unix_ms),
                            overdue: d.overdue,
                        }
                    })
                    .collect(),
            };
            match output {
                OutputFormat::Json => print_json(&list),
                OutputFormat::Table if list.denials.is_empty() => print_text(&format!(
                    "No denial of this node is due for review in that window (reviews fall due {} days after a denial's latest version).",
                    list.review_after_days
                )),
                OutputFormat::Table => {
                    let mut t = crate::output::Table::new([
                        "ID",
                        "VERSION",
                        "PARTY",
                        "DESTINATION",
                        "LAST REVIEWED",
                        "REVIEW DUE",
                        "OVERDUE",
                    ]);
                    for d in &list.denials {
                        t.row([
                            d.id.clone(),
                            d.version.to_string(),
                            d.party.clone(),
                            d.destination.clone(),
                            d.last_reviewed.clone().unwrap_or_default(),
                            d.review_due.clone().unwrap_or_default(),
                            if d.overdue { "OVERDUE" } else { "no" }.to_owned(),
                        ]);
                    }
                    let more = if list.more {
                        "\n(more are due than one answer carries)"
                    } else {
                        ""
                    };
                    print_text(&format!("{}{more}", t.render().trim_end()))
                }
            }
        }
        DenialCommand::Show { id } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.exchange;
            let held = client
                .get_denial(pb::GetRecordRequest { id: id.clone() })
                .await
                .map_err(|s| rpc_error("GetDenial", &profile, &s))?
                .into_inner();
            record_calls::print_history_with(&id, &held.versions, &held.grants, output)
        }
    }
}

fn print_record(done: &str, view: &pb::RecordView, output: OutputFormat) -> Result<(), CliError> {
    let record = RecordOut::from(view);
    match output {
        OutputFormat::Json => print_json(&record),
        OutputFormat::Table => print_text(&format!(
            "{done} {} (version {}) to {}\n\n{}",
            record.id,
            record.version,
            record.recipients.join(", "),
            render_version(&record, "Denial")
        )),
    }
}

/// ListDenials, as the demo uses it too.
pub async fn list(
    client: &mut ExchangeClient,
    request: pb::ListRecordsRequest,
) -> Result<Vec<pb::RecordView>, tonic::Status> {
    records::list_all(request, |r| {
        let mut client = client.clone();
        async move { client.list_denials(r).await.map(|r| r.into_inner()) }
    })
    .await
}

async fn history(
    client: &mut ExchangeClient,
    id: &str,
) -> Result<Vec<pb::RecordView>, tonic::Status> {
    client
        .get_denial(pb::GetRecordRequest { id: id.to_owned() })
        .await
        .map(|r| r.into_inner().versions)
}

async fn current_party(client: &mut ExchangeClient, id: &str) -> Result<pb::Party, tonic::Status> {
    let versions = history(client, id).await?;
    Ok(versions
        .last()
        .and_then(|v| match &v.record {
            Some(pb::record_view::Record::Denial(d)) => d.party.clone(),
            _ => None,
        })
        .unwrap_or_default())
}

fn items(items: &[ItemArg]) -> Vec<pb::DeniedItem> {
    items
        .iter()
        .map(|i| pb::DeniedItem {
            code: i.code.clone(),
            description: i.description.clone(),
        })
        .collect()
}

fn required(flag: &str, value: &str) -> Result<(), CliError> {
    if value.trim().is_empty() {
        Err(CliError::invalid_argument(format!("{flag}: required")))
    } else {
        Ok(())
    }
}

pub fn issue_request(args: &IssueDenialArgs) -> Result<pb::IssueDenialRequest, CliError> {
    required("--party", &args.party)?;
    required("--reason", &args.reason)?;
    Ok(pb::IssueDenialRequest {
        party: Some(pb::Party {
            name: args.party.clone(),
            aliases: args.aliases.clone(),
            country: records::country("--party-country", &args.party_country)?,
            address: args.party_address.clone().unwrap_or_default(),
        }),
        items: items(&args.items.items),
        destination: records::country("--destination", &args.destination)?,
        end_use: args.end_use.clone().unwrap_or_default(),
        reason: args.reason.clone(),
        valid_for_seconds: seconds_arg("--valid-for", args.valid_for.as_deref())?,
        distribution: Some(records::distribution(&args.distribution)?),
    })
}

fn party_changes(args: &AmendDenialArgs) -> bool {
    args.party.is_some()
        || !args.aliases.is_empty()
        || args.party_country.is_some()
        || args.party_address.is_some()
}

/// The current party with the fields given on the command line replaced.
fn merge_party(mut party: pb::Party, args: &AmendDenialArgs) -> Result<pb::Party, CliError> {
    if let Some(name) = &args.party {
        required("--party", name)?;
        party.name = name.clone();
    }
    if !args.aliases.is_empty() {
        party.aliases = args.aliases.clone();
    }
    if let Some(c) = &args.party_country {
        party.country = records::country("--party-country", c)?;
    }
    if let Some(a) = &args.party_address {
        party.address = a.clone();
    }
    Ok(party)
}

/// The AmendDenial request without the party, which needs the current
/// version (see [`merge_party`]).
fn amend_request(args: &AmendDenialArgs) -> Result<pb::AmendDenialRequest, CliError> {
    required("--reason", &args.reason)?;
    // Check the party fields now, before anything is sent.
    merge_party(pb::Party::default(), args)?;
    Ok(pb::AmendDenialRequest {
        id: args.id.clone(),
        party: None,
        items: items(&args.items.items),
        destination: args
            .destination
            .as_deref()
            .map(|d| records::country("--destination", d))
            .transpose()?,
        end_use: args.end_use.clone(),
        reason: args.denial_reason.clone(),
        valid_for_seconds: seconds_arg("--valid-for", args.valid_for.as_deref())?,
        change_reason: args.reason.clone(),
    })
}

fn list_request(args: &DenialListArgs, now: i64) -> Result<pb::ListRecordsRequest, CliError> {
    Ok(pb::ListRecordsRequest {
        issuer: records::issuer_filter(args.issuer.as_deref())?,
        since_unix_ms: records::since_filter(args.since.as_deref(), now)?,
        active_only: args.active,
        limit: args.limit.unwrap_or(0),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::records::DistributionArgs;

    fn amend() -> AmendDenialArgs {
        AmendDenialArgs {
            id: "FR-D-1".into(),
            reason: "new evidence".into(),
            party: None,
            aliases: vec![],
            party_country: None,
            party_address: None,
            items: ItemArgs::default(),
            destination: None,
            end_use: None,
            denial_reason: None,
            valid_for: None,
        }
    }

    #[test]
    fn amendments_keep_what_is_not_given() {
        let r = amend_request(&amend()).unwrap();
        assert_eq!(r.change_reason, "new evidence");
        assert!(r.party.is_none() && r.destination.is_none() && r.items.is_empty());
        assert_eq!(r.valid_for_seconds, 0);
        assert!(!party_changes(&amend()));

        let args = AmendDenialArgs {
            party_country: Some("yy".into()),
            valid_for: Some("90d".into()),
            destination: Some("xx".into()),
            ..amend()
        };
        let r = amend_request(&args).unwrap();
        assert_eq!(r.destination.as_deref(), Some("XX"));
        assert_eq!(r.valid_for_seconds, 90 * 86_400);
        let current = pb::Party {
            name: "Old Name".into(),
            aliases: vec!["ON".into()],
            country: "ZZ".into(),
            address: "1 Road".into(),
        };
        let merged = merge_party(current, &args).unwrap();
        assert_eq!(merged.name, "Old Name");
        assert_eq!(merged.country, "YY");
        assert_eq!(merged.aliases, ["ON"]);

        for bad in [
            AmendDenialArgs {
                reason: " ".into(),
                ..amend()
            },
            AmendDenialArgs {
                party_country: Some("Narnia".into()),
                ..amend()
            },
            AmendDenialArgs {
                valid_for: Some("forever".into()),
                ..amend()
            },
        ] {
            assert_eq!(amend_request(&bad).unwrap_err().exit_code(), 6);
        }
    }

    #[test]
    fn issues_checked_requests() {
        let args = IssueDenialArgs {
            party: "Demo Components".into(),
            aliases: vec![],
            party_country: "zz".into(),
            party_address: None,
            items: ItemArgs {
                items: vec![ItemArg {
                    code: "3A001".into(),
                    description: "electronics".into(),
                }],
            },
            destination: "ZZ".into(),
            reason: "unverified end user".into(),
            end_use: None,
            valid_for: Some("365d".into()),
            distribution: DistributionArgs {
                to: vec!["DE".into(), "JP".into()],
                groups: vec![],
            },
        };
        let r = issue_request(&args).unwrap();
        assert_eq!(r.party.unwrap().country, "ZZ");
        assert_eq!(r.items[0].description, "electronics");
        assert_eq!(r.valid_for_seconds, 365 * 86_400);
        let bad = IssueDenialArgs {
            valid_for: Some("1y".into()),
            ..args
        };
        assert_eq!(issue_request(&bad).unwrap_err().exit_code(), 6);
    }
}
