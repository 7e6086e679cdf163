//! `concord denial issue|amend|revoke|list|show`: denial notices, through the
//! node's ExchangeService. Issuing, amending and revoking need an officer
//! profile; reading an analyst, officer or admin profile.

use std::path::Path;

use concord_proto::v1 as pb;

use crate::args::{AmendDenialArgs, DenialCommand, DenialListArgs, IssueDenialArgs, ItemArg};
use crate::client::{self, rpc_error, ExchangeClient};
use crate::cmd::records::{self, denial_table, render_version, HistoryOut, RecordList, RecordOut};
use crate::duration::{now_unix_ms, seconds_arg};
use crate::exit::CliError;
use crate::output::{print_json, print_text, OutputFormat};
use crate::profile::Profile;

pub async fn run(
    cmd: DenialCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        DenialCommand::Issue(args) => {
            let request = issue_request(&args)?;
            let profile = Profile::required(profile)?;
            let client = client::connect_exchange(&profile).await?;
            let key = client::new_idempotency_key()?;
            let view = client::write_once(&key, request, |req| {
                let mut c = client.clone();
                async move { c.issue_denial(req).await }
            })
            .await
            .map_err(|s| rpc_error("IssueDenial", &profile, &s))?
            .into_inner();
            print_record("Issued denial", &view, output)
        }
        DenialCommand::Amend(args) => {
            let mut request = amend_request(&args)?;
            let profile = Profile::required(profile)?;
            let mut client = client::connect_exchange(&profile).await?;
            if party_changes(&args) {
                // The wire replaces the whole party: start from the current one.
                let current = current_party(&mut client, &args.id)
                    .await
                    .map_err(|s| rpc_error("GetDenial", &profile, &s))?;
                request.party = Some(merge_party(current, &args)?);
            }
            let key = client::new_idempotency_key()?;
            let view = client::write_once(&key, request, |req| {
                let mut c = client.clone();
                async move { c.amend_denial(req).await }
            })
            .await
            .map_err(|s| rpc_error("AmendDenial", &profile, &s))?
            .into_inner();
            print_record("Amended denial", &view, output)
        }
        DenialCommand::Revoke { id, reason } => {
            if reason.trim().is_empty() {
                return Err(CliError::invalid_argument("--reason: required"));
            }
            let profile = Profile::required(profile)?;
            let client = client::connect_exchange(&profile).await?;
            let key = client::new_idempotency_key()?;
            let request = pb::RevokeDenialRequest { id, reason };
            let view = client::write_once(&key, request, |req| {
                let mut c = client.clone();
                async move { c.revoke_denial(req).await }
            })
            .await
            .map_err(|s| rpc_error("RevokeDenial", &profile, &s))?
            .into_inner();
            print_record("Revoked denial", &view, output)
        }
        DenialCommand::List(args) => {
            let request = list_request(&args, now_unix_ms())?;
            let profile = Profile::required(profile)?;
            let mut client = client::connect_exchange(&profile).await?;
            let records = list(&mut client, request)
                .await
                .map_err(|s| rpc_error("ListDenials", &profile, &s))?;
            let records: Vec<RecordOut> = records.iter().map(RecordOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&RecordList { records }),
                OutputFormat::Table => print_text(&denial_table(&records)),
            }
        }
        DenialCommand::Show { id } => {
            let profile = Profile::required(profile)?;
            let mut client = client::connect_exchange(&profile).await?;
            let versions = history(&mut client, &id)
                .await
                .map_err(|s| rpc_error("GetDenial", &profile, &s))?;
            let history = HistoryOut::new(&id, versions.iter().map(RecordOut::from).collect());
            match output {
                OutputFormat::Json => print_json(&history),
                OutputFormat::Table => print_text(&history.render()),
            }
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
    use crate::args::{DistributionArgs, ItemArgs};

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
