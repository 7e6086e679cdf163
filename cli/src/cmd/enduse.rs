//! `concord enduse record|list`: post-shipment end-use checks, through the
//! node's LicensingService. Recording needs an officer profile; a failed
//! check can raise a `failed-end-use-verification` risk alert (`--alert`).

use std::path::Path;

use clap::{Args, Subcommand};
use concord_node::licensing::CheckResult;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::rpc_error;
use crate::client::Clients;
use crate::cmd::records;
use crate::cmd::records::DistributionArgs;
use crate::cmd::shipment::past_time;
use crate::exit::CliError;
use crate::output::{or_dash, print_json, print_text, time_or_never, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum EnduseCommand {
    /// Record an end-use check of a license (officer).
    Record(RecordArgs),
    /// List end-use checks (of one license, or all), newest first.
    List(ListArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// License id, e.g. DE-L-3.
    #[arg(value_name = "ID")]
    pub license: String,
    /// pass, fail or inconclusive.
    #[arg(long, value_name = "RESULT")]
    pub result: String,
    /// What the check found.
    #[arg(long, value_name = "TEXT")]
    pub findings: String,
    /// When the check took place: an RFC 3339 time or this long ago (default: now).
    #[arg(long, value_name = "TIME|DURATION")]
    pub checked_at: Option<String>,
    /// For a failed check: raise a high-severity risk alert (end user,
    /// destination, items) to --to/--group.
    #[arg(long)]
    pub alert: bool,
    #[command(flatten)]
    pub distribution: DistributionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only checks of this license.
    #[arg(long, value_name = "ID")]
    pub license: Option<String>,
    /// Only checks with this result.
    #[arg(long, value_name = "RESULT")]
    pub result: Option<String>,
    /// At most this many checks.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

fn result_arg(value: &str) -> Result<CheckResult, CliError> {
    value
        .trim()
        .parse::<CheckResult>()
        .map_err(|e| CliError::invalid_argument(format!("--result: {e}")))
}

fn record_request(a: &RecordArgs) -> Result<pb::RecordEndUseCheckRequest, CliError> {
    let result = result_arg(&a.result)?;
    if a.findings.trim().is_empty() {
        return Err(CliError::invalid_argument("--findings: required"));
    }
    let named = !a.distribution.to.is_empty() || !a.distribution.groups.is_empty();
    let alert = match (a.alert, named) {
        (true, _) if result != CheckResult::Fail => {
            return Err(CliError::invalid_argument(
                "--alert: an alert is raised only for a failed check (--result fail)",
            ))
        }
        (true, _) => Some(records::distribution(&a.distribution)?),
        (false, true) => {
            return Err(CliError::invalid_argument(
                "--to/--group name the recipients of an alert; add --alert",
            ))
        }
        (false, false) => None,
    };
    Ok(pb::RecordEndUseCheckRequest {
        license_id: a.license.trim().to_owned(),
        result: result.to_string(),
        findings: a.findings.clone(),
        checked_at_unix_ms: past_time("--checked-at", a.checked_at.as_deref())?,
        alert,
    })
}

pub async fn run(
    cmd: EnduseCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        EnduseCommand::Record(a) => {
            let request = record_request(&a)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let check = client
                .record_end_use_check(request)
                .await
                .map_err(|s| rpc_error("RecordEndUseCheck", &profile, &s))?
                .into_inner();
            let out = CheckOut::from(&check);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => {
                    let mut text = format!(
                        "Recorded end-use check {} of license {}: {}\n",
                        out.id, out.license_id, out.result
                    );
                    if let Some(alert) = &out.alert_id {
                        text.push_str(&format!("Raised risk alert {alert}\n"));
                    }
                    print_text(&text)
                }
            }
        }
        EnduseCommand::List(a) => {
            let result = a
                .result
                .as_deref()
                .map(result_arg)
                .transpose()?
                .map(|r| r.to_string())
                .unwrap_or_default();
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.licensing;
            let request = pb::ListEndUseChecksRequest {
                license_id: a.license.clone().unwrap_or_default(),
                result,
                limit: a.limit.unwrap_or(0),
                ..Default::default()
            };
            let checks = crate::paging::all_pages(|page_token| {
                let mut client = client.clone();
                let request = pb::ListEndUseChecksRequest {
                    page_token,
                    ..request.clone()
                };
                async move {
                    let r = client.list_end_use_checks(request).await?.into_inner();
                    Ok((r.checks, r.next_page_token))
                }
            })
            .await
            .map_err(|s| rpc_error("ListEndUseChecks", &profile, &s))?;
            let checks: Vec<CheckOut> = checks.iter().map(CheckOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&CheckList { checks }),
                OutputFormat::Table => print_text(&check_table(&checks)),
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CheckOut {
    pub id: String,
    pub license_id: String,
    pub result: String,
    pub findings: String,
    pub checked_at: String,
    pub officer: String,
    pub alert_id: Option<String>,
}

impl From<&pb::EndUseCheck> for CheckOut {
    fn from(c: &pb::EndUseCheck) -> Self {
        CheckOut {
            id: c.id.clone(),
            license_id: c.license_id.clone(),
            result: c.result.clone(),
            findings: c.findings.clone(),
            checked_at: time_or_never(c.checked_at_unix_ms),
            officer: c.officer.clone(),
            alert_id: (!c.alert_id.is_empty()).then(|| c.alert_id.clone()),
        }
    }
}

#[derive(Debug, Serialize)]
struct CheckList {
    checks: Vec<CheckOut>,
}

fn check_table(checks: &[CheckOut]) -> String {
    let mut t = Table::new([
        "ID", "LICENSE", "RESULT", "CHECKED", "OFFICER", "ALERT", "FINDINGS",
    ]);
    for c in checks {
        t.row([
            c.id.clone(),
            c.license_id.clone(),
            c.result.clone(),
            c.checked_at.clone(),
            c.officer.clone(),
            c.alert_id.clone().unwrap_or_else(|| "-".into()),
            or_dash(&c.findings),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(result: &str, alert: bool, to: &[&str]) -> RecordArgs {
        RecordArgs {
            license: "DE-L-1".into(),
            result: result.into(),
            findings: "goods missing".into(),
            checked_at: None,
            alert,
            distribution: DistributionArgs {
                to: to.iter().map(|s| s.to_string()).collect(),
                groups: vec![],
            },
        }
    }

    #[test]
    fn alerts_go_only_with_failed_checks_and_recipients() {
        let r = record_request(&args("fail", true, &["FR"])).unwrap();
        assert_eq!(r.alert.unwrap().to, ["FR"]);
        assert!(record_request(&args("pass", false, &[]))
            .unwrap()
            .alert
            .is_none());
        for bad in [
            args("pass", true, &["FR"]),
            args("fail", true, &[]),
            args("fail", false, &["FR"]),
            args("failed", false, &[]),
        ] {
            assert_eq!(record_request(&bad).unwrap_err().exit_code(), 6, "{bad:?}");
        }
    }
}
