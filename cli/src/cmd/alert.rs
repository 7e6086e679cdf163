//! `concord alert raise|list|show|watch`: risk alerts, through the node's
//! ExchangeService. Raising needs an analyst profile; reading an analyst,
//! officer or admin profile of the node's jurisdiction.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_node::exchange::records::{AlertCategory, Severity};
use concord_proto::v1 as pb;

use crate::client::{rpc_error, Clients, ExchangeClient};
use crate::cmd::record_calls;
use crate::cmd::records::{
    self, alert_table, render_version, watch_line, DistributionArgs, RecordOut,
};
use crate::duration::{now_unix_ms, seconds_arg};
use crate::exit::CliError;
use crate::output::{print_json, print_text, OutputFormat};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Raise a risk alert and send it to the named recipients (analyst).
    Raise(RaiseAlertArgs),
    /// List the alerts held on this node (issued here or received), newest first.
    List(AlertListArgs),
    /// Show an alert, its signature check and, for own alerts, its deliveries.
    Show {
        /// Alert id, e.g. DE-A-12.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Print alerts as they arrive or are raised, one line each, until Ctrl-C.
    Watch,
    /// Correct one of this node's alerts: a new signed version, chained to
    /// the previous one, to exactly its original recipients (analyst).
    Amend(AmendAlertArgs),
    /// Withdraw one of this node's alerts: a last signed version, after
    /// which it is shown as withdrawn and counts nowhere (analyst).
    Withdraw {
        /// Alert id, e.g. DE-A-12.
        #[arg(value_name = "ID")]
        id: String,
        /// Why it is withdrawn (required), e.g. "raised in error".
        #[arg(long, value_name = "TEXT")]
        rationale: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct AmendAlertArgs {
    /// Alert id, e.g. DE-A-12.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why it is amended (required).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
    /// A new category.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// A new severity.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// A new summary.
    #[arg(long, value_name = "TEXT")]
    pub summary: Option<String>,
    /// Replace the subject parties (repeatable); other subjects stay.
    #[arg(long = "subject-party", value_name = "NAME")]
    pub subject_parties: Vec<String>,
    /// Replace the subject destinations (repeatable).
    #[arg(long = "subject-destination", value_name = "CC")]
    pub subject_destinations: Vec<String>,
    /// Replace the subject items (repeatable).
    #[arg(long = "subject-item", value_name = "CODE")]
    pub subject_items: Vec<String>,
    /// Replace the subject shipments (repeatable).
    #[arg(long = "subject-shipment", value_name = "REF")]
    pub subject_shipments: Vec<String>,
    /// Replace the indicators (repeatable).
    #[arg(long = "indicator", value_name = "TEXT")]
    pub indicators: Vec<String>,
    /// A new handling marking.
    #[arg(long, value_name = "TEXT")]
    pub handling: Option<String>,
    /// Expire this long from now, e.g. 7d (default: the expiry stays).
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RaiseAlertArgs {
    /// high-risk-destination, diversion-suspected, failed-end-use-verification,
    /// suspicious-payment, suspicious-shipment or other.
    #[arg(long, value_name = "CATEGORY")]
    pub category: String,
    /// low, medium, high or critical.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: String,
    /// What the alert is about, in a sentence or two.
    #[arg(long, value_name = "TEXT")]
    pub summary: String,
    /// A party the alert concerns (repeatable).
    #[arg(long = "subject-party", value_name = "NAME")]
    pub subject_parties: Vec<String>,
    /// A destination country the alert concerns (repeatable), e.g. ZZ.
    #[arg(long = "subject-destination", value_name = "CC")]
    pub subject_destinations: Vec<String>,
    /// A control-list item code the alert concerns (repeatable), e.g. 3A001.
    #[arg(long = "subject-item", value_name = "CODE")]
    pub subject_items: Vec<String>,
    /// A shipment reference the alert concerns (repeatable).
    #[arg(long = "subject-shipment", value_name = "REF")]
    pub subject_shipments: Vec<String>,
    /// An indicator behind the alert (repeatable).
    #[arg(long = "indicator", value_name = "TEXT")]
    pub indicators: Vec<String>,
    /// Handling marking, e.g. "RESTRICTED - partners only".
    #[arg(long, value_name = "TEXT")]
    pub handling: Option<String>,
    /// Expire the alert after this long, e.g. 12h or 7d (default: never).
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    #[command(flatten)]
    pub distribution: DistributionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AlertListArgs {
    /// Only alerts issued by this jurisdiction.
    #[arg(long, value_name = "J")]
    pub issuer: Option<String>,
    /// Only alerts of this category.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Only alerts of this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// Only alerts issued since this RFC 3339 time, or this long ago (e.g. 24h).
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Only alerts that have not expired.
    #[arg(long)]
    pub active: bool,
    /// At most this many alerts.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

pub async fn run(
    cmd: AlertCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        AlertCommand::Raise(args) => {
            // Check the input before looking at the profile or the network.
            let request = raise_request(&args)?;
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.exchange;
            let view = record_calls::write(
                &client,
                &profile,
                "RaiseAlert",
                request,
                |mut c, req| async move { c.raise_alert(req).await },
            )
            .await?;
            let record = RecordOut::from(&view);
            match output {
                OutputFormat::Json => print_json(&record),
                OutputFormat::Table => print_text(&format!(
                    "Raised alert {} to {}\n\n{}",
                    record.id,
                    record.recipients.join(", "),
                    render_version(&record, "Alert")
                )),
            }
        }
        AlertCommand::List(args) => {
            let request = list_request(&args, now_unix_ms())?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.exchange;
            let records = list(&mut client, request)
                .await
                .map_err(|s| rpc_error("ListAlerts", &profile, &s))?;
            record_calls::print_list(&records, alert_table, output)
        }
        AlertCommand::Show { id } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.exchange;
            let versions = client
                .get_alert(pb::GetRecordRequest { id: id.clone() })
                .await
                .map_err(|s| rpc_error("GetAlert", &profile, &s))?
                .into_inner()
                .versions;
            record_calls::print_history(&id, &versions, output)
        }
        AlertCommand::Watch => {
            let profile = Profile::required(profile)?;
            watch(&profile, output).await
        }
        AlertCommand::Amend(args) => {
            let mut request = amend_request(&args)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.exchange;
            if subjects_change(&args) {
                // The wire replaces the whole subjects: start from the current ones.
                let current = current_subjects(&mut client, &args.id)
                    .await
                    .map_err(|s| rpc_error("GetAlert", &profile, &s))?;
                request.subjects = Some(merge_subjects(current, &args)?);
            }
            let view = record_calls::write(
                &client,
                &profile,
                "AmendAlert",
                request,
                |mut c, req| async move { c.amend_alert(req).await },
            )
            .await?;
            print_changed("Amended alert", &view, output)
        }
        AlertCommand::Withdraw { id, rationale } => {
            if rationale.trim().is_empty() {
                return Err(CliError::invalid_argument("--rationale: required"));
            }
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.exchange;
            let request = pb::WithdrawAlertRequest { id, rationale };
            let view = record_calls::write(
                &client,
                &profile,
                "WithdrawAlert",
                request,
                |mut c, req| async move { c.withdraw_alert(req).await },
            )
            .await?;
            print_changed("Withdrew alert", &view, output)
        }
    }
}

fn print_changed(what: &str, view: &pb::RecordView, output: OutputFormat) -> Result<(), CliError> {
    let record = RecordOut::from(view);
    match output {
        OutputFormat::Json => print_json(&record),
        OutputFormat::Table => print_text(&format!(
            "{what} {} (version {}) to {}\n\n{}",
            record.id,
            record.version,
            record.recipients.join(", "),
            render_version(&record, "Alert")
        )),
    }
}

fn subjects_change(args: &AmendAlertArgs) -> bool {
    !(args.subject_parties.is_empty()
        && args.subject_destinations.is_empty()
        && args.subject_items.is_empty()
        && args.subject_shipments.is_empty())
}

async fn current_subjects(
    client: &mut ExchangeClient,
    id: &str,
) -> Result<pb::Subjects, tonic::Status> {
    let versions = client
        .get_alert(pb::GetRecordRequest { id: id.to_owned() })
        .await?
        .into_inner()
        .versions;
    Ok(match versions.last().and_then(|v| v.record.as_ref()) {
        Some(pb::record_view::Record::Alert(a)) => a.subjects.clone().unwrap_or_default(),
        _ => pb::Subjects::default(),
    })
}

/// The current subjects with each kind given on the command line replaced.
fn merge_subjects(mut s: pb::Subjects, args: &AmendAlertArgs) -> Result<pb::Subjects, CliError> {
    if !args.subject_parties.is_empty() {
        s.parties = args
            .subject_parties
            .iter()
            .map(|name| pb::Party {
                name: name.clone(),
                ..Default::default()
            })
            .collect();
    }
    if !args.subject_destinations.is_empty() {
        s.destinations = args
            .subject_destinations
            .iter()
            .map(|d| records::country("--subject-destination", d))
            .collect::<Result<Vec<_>, _>>()?;
    }
    if !args.subject_items.is_empty() {
        s.items = args.subject_items.clone();
    }
    if !args.subject_shipments.is_empty() {
        s.shipments = args.subject_shipments.clone();
    }
    Ok(s)
}

/// The AmendAlert request without the subjects, which need the current
/// alert; checks words and durations first.
fn amend_request(args: &AmendAlertArgs) -> Result<pb::AmendAlertRequest, CliError> {
    if args.rationale.trim().is_empty() {
        return Err(CliError::invalid_argument("--rationale: required"));
    }
    for d in &args.subject_destinations {
        records::country("--subject-destination", d)?;
    }
    Ok(pb::AmendAlertRequest {
        id: args.id.clone(),
        category: args
            .category
            .as_deref()
            .map(|c| category("--category", c))
            .transpose()?,
        severity: args
            .severity
            .as_deref()
            .map(|s| severity("--severity", s))
            .transpose()?,
        subjects: None,
        indicators: args.indicators.clone(),
        replace_indicators: false,
        summary: args.summary.clone(),
        expires_in_seconds: seconds_arg("--expires-in", args.expires_in.as_deref())?,
        handling: args.handling.clone(),
        rationale: args.rationale.clone(),
    })
}

/// ListAlerts, as the demo uses it too.
pub async fn list(
    client: &mut ExchangeClient,
    request: pb::ListRecordsRequest,
) -> Result<Vec<pb::RecordView>, tonic::Status> {
    records::list_all(request, |r| {
        let mut client = client.clone();
        async move { client.list_alerts(r).await.map(|r| r.into_inner()) }
    })
    .await
}

fn unknown(flag: &str, what: &str, value: &str, all: &[&str]) -> CliError {
    CliError::invalid_argument(format!(
        "{flag}: unknown {what} {value:?}; expected one of {}",
        all.join(", ")
    ))
}

fn category(flag: &str, value: &str) -> Result<String, CliError> {
    value
        .parse::<AlertCategory>()
        .map(|c| c.as_str().to_owned())
        .map_err(|_| {
            let all: Vec<&str> = AlertCategory::ALL.iter().map(|c| c.as_str()).collect();
            unknown(flag, "category", value, &all)
        })
}

fn severity(flag: &str, value: &str) -> Result<String, CliError> {
    value
        .parse::<Severity>()
        .map(|s| s.as_str().to_owned())
        .map_err(|_| {
            let all: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
            unknown(flag, "severity", value, &all)
        })
}

/// The RaiseAlert request for the command line; checks words, countries,
/// durations and recipients first.
pub fn raise_request(args: &RaiseAlertArgs) -> Result<pb::RaiseAlertRequest, CliError> {
    let destinations = args
        .subject_destinations
        .iter()
        .map(|d| records::country("--subject-destination", d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pb::RaiseAlertRequest {
        category: category("--category", &args.category)?,
        severity: severity("--severity", &args.severity)?,
        subjects: Some(pb::Subjects {
            parties: args
                .subject_parties
                .iter()
                .map(|name| pb::Party {
                    name: name.clone(),
                    ..Default::default()
                })
                .collect(),
            destinations,
            items: args.subject_items.clone(),
            shipments: args.subject_shipments.clone(),
        }),
        indicators: args.indicators.clone(),
        summary: args.summary.clone(),
        expires_in_seconds: seconds_arg("--expires-in", args.expires_in.as_deref())?,
        handling: args.handling.clone().unwrap_or_default(),
        distribution: Some(records::distribution(&args.distribution)?),
    })
}

fn list_request(args: &AlertListArgs, now: i64) -> Result<pb::ListRecordsRequest, CliError> {
    Ok(pb::ListRecordsRequest {
        issuer: records::issuer_filter(args.issuer.as_deref())?,
        category: args
            .category
            .as_deref()
            .map(|c| category("--category", c))
            .transpose()?
            .unwrap_or_default(),
        severity: args
            .severity
            .as_deref()
            .map(|s| severity("--severity", s))
            .transpose()?
            .unwrap_or_default(),
        since_unix_ms: records::since_filter(args.since.as_deref(), now)?,
        active_only: args.active,
        limit: args.limit.unwrap_or(0),
        ..Default::default()
    })
}

/// Streams WatchAlerts: one line (or one compact JSON object) per alert,
/// until Ctrl-C or SIGTERM, which end it with success.
async fn watch(profile: &Profile, output: OutputFormat) -> Result<(), CliError> {
    use tokio::signal::unix::{signal, SignalKind};
    let install = |kind| {
        signal(kind)
            .map_err(|e| CliError::internal(format!("cannot install a signal handler: {e}")))
    };
    let mut interrupt = install(SignalKind::interrupt())?;
    let mut terminate = install(SignalKind::terminate())?;
    let mut client = Clients::connect(profile).await?.exchange;
    let mut stream = client
        .watch_alerts(pb::WatchRequest {})
        .await
        .map_err(|s| rpc_error("WatchAlerts", profile, &s))?
        .into_inner();
    if output == OutputFormat::Table {
        eprintln!(
            "Watching alerts on {}; press Ctrl-C to stop.",
            profile.endpoint
        );
    }
    loop {
        let next = tokio::select! {
            _ = interrupt.recv() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
            next = stream.message() => next,
        };
        let view = match next {
            Ok(Some(view)) => view,
            Ok(None) => {
                return Err(CliError::new(
                    crate::exit::ErrorKind::ConnectionRefused,
                    format!("{} ended the alert stream", profile.endpoint),
                ))
            }
            Err(s) => return Err(rpc_error("WatchAlerts", profile, &s)),
        };
        let record = RecordOut::from(&view);
        let line = match output {
            OutputFormat::Json => serde_json::to_string(&record)
                .map_err(|e| CliError::internal(format!("cannot encode JSON output: {e}")))?,
            OutputFormat::Table => watch_line(&record),
        };
        print_text(&line)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::records::DistributionArgs;

    fn raise(category: &str, expires: Option<&str>, dest: &str) -> RaiseAlertArgs {
        RaiseAlertArgs {
            category: category.into(),
            severity: "high".into(),
            summary: "s".into(),
            subject_parties: vec!["P".into()],
            subject_destinations: vec![dest.into()],
            subject_items: vec![],
            subject_shipments: vec![],
            indicators: vec![],
            handling: None,
            expires_in: expires.map(Into::into),
            distribution: DistributionArgs {
                to: vec!["FR".into()],
                groups: vec![],
            },
        }
    }

    #[test]
    fn builds_checked_requests() {
        let r = raise_request(&raise("diversion-suspected", Some("12h"), "zz")).unwrap();
        assert_eq!(r.expires_in_seconds, 43_200);
        assert_eq!(r.subjects.unwrap().destinations, ["ZZ"]);
        assert_eq!(r.distribution.unwrap().to, ["FR"]);
        for bad in [
            raise("Diversion", None, "ZZ"),
            raise("other", Some("12"), "ZZ"),
            raise("other", None, "Iran"),
        ] {
            assert_eq!(raise_request(&bad).unwrap_err().exit_code(), 6);
        }
        let args = AlertListArgs {
            issuer: Some("DE".into()),
            category: None,
            severity: Some("low".into()),
            since: Some("1h".into()),
            active: true,
            limit: Some(5),
        };
        let req = list_request(&args, 10_000_000).unwrap();
        assert_eq!(req.since_unix_ms, 10_000_000 - 3_600_000);
        assert_eq!((req.issuer.as_str(), req.limit), ("DE", 5));
        let bad = AlertListArgs {
            since: Some("last week".into()),
            ..args
        };
        assert_eq!(list_request(&bad, 0).unwrap_err().exit_code(), 6);
    }
}
