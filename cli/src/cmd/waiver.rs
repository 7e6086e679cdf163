//! `concord waiver create|list`: time-bounded waivers and carve-outs
//! (humanitarian, urgent defense, country exceptions), through the node's
//! LicensingService. Creating needs an officer profile. Decisions list every
//! waiver matching the application.

use std::path::Path;

use clap::{ArgGroup, Args, Subcommand};
use concord_proto::v1 as pb;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::client::rpc_error;
use crate::client::Clients;
use crate::cmd::records;
use crate::duration::{duration_arg, now_unix_ms};
use crate::exit::CliError;
use crate::output::{or_dash, print_json, print_text, time_or_never, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum WaiverCommand {
    /// Record a waiver (officer).
    Create(CreateArgs),
    /// List waivers, newest first.
    List(ListArgs),
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("until").required(true).args(["valid_for", "valid_until"])))]
pub struct CreateArgs {
    /// humanitarian, urgent-defense or country-exception.
    #[arg(long, value_name = "KIND")]
    pub kind: String,
    /// Destination country the waiver applies to.
    #[arg(long, value_name = "CC")]
    pub destination: String,
    /// A control-list code the waiver covers (repeatable; none: every item).
    #[arg(long = "item", value_name = "CODE")]
    pub items: Vec<String>,
    /// Why the waiver is granted.
    #[arg(long, value_name = "TEXT")]
    pub justification: String,
    /// The waiver ends this long from now, e.g. 90d.
    #[arg(long, value_name = "DURATION")]
    pub valid_for: Option<String>,
    /// The waiver ends at this RFC 3339 time, e.g. 2026-06-30T00:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub valid_until: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only waivers for this destination.
    #[arg(long, value_name = "CC")]
    pub destination: Option<String>,
    /// Only waivers not yet expired.
    #[arg(long)]
    pub active: bool,
    /// At most this many waivers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

pub async fn run(
    cmd: WaiverCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        WaiverCommand::Create(args) => {
            let request = create_request(&args, now_unix_ms())?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let waiver = client
                .create_waiver(request)
                .await
                .map_err(|s| rpc_error("CreateWaiver", &profile, &s))?
                .into_inner();
            let out = WaiverOut::from(&waiver);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&format!(
                    "Created waiver {} ({} for {}, items {}, until {})\n",
                    out.id,
                    out.kind,
                    out.destination,
                    if out.item_codes.is_empty() {
                        "all".to_owned()
                    } else {
                        out.item_codes.join(",")
                    },
                    out.valid_until
                )),
            }
        }
        WaiverCommand::List(args) => {
            let destination = args
                .destination
                .as_deref()
                .map(|d| records::country("--destination", d))
                .transpose()?
                .unwrap_or_default();
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.licensing;
            let request = pb::ListWaiversRequest {
                destination,
                active_only: args.active,
                limit: args.limit.unwrap_or(0),
                ..Default::default()
            };
            let waivers = crate::paging::all_pages(|page_token| {
                let mut client = client.clone();
                let request = pb::ListWaiversRequest {
                    page_token,
                    ..request.clone()
                };
                async move {
                    let r = client.list_waivers(request).await?.into_inner();
                    Ok((r.waivers, r.next_page_token))
                }
            })
            .await
            .map_err(|s| rpc_error("ListWaivers", &profile, &s))?;
            let waivers: Vec<WaiverOut> = waivers.iter().map(WaiverOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&WaiverList { waivers }),
                OutputFormat::Table => print_text(&waiver_table(&waivers)),
            }
        }
    }
}

fn create_request(a: &CreateArgs, now_unix_ms: i64) -> Result<pb::CreateWaiverRequest, CliError> {
    if a.justification.trim().is_empty() {
        return Err(CliError::invalid_argument("--justification: required"));
    }
    let valid_until_unix_ms = match (&a.valid_for, &a.valid_until) {
        (Some(d), _) => {
            let d = duration_arg("--valid-for", d)?;
            now_unix_ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        }
        (None, Some(t)) => {
            let t = OffsetDateTime::parse(t.trim(), &Rfc3339).map_err(|_| {
                CliError::invalid_argument(format!(
                    "--valid-until: {t:?} is not an RFC 3339 time such as 2026-06-30T00:00:00Z"
                ))
            })?;
            let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
            if ms <= now_unix_ms {
                return Err(CliError::invalid_argument(format!(
                    "--valid-until: {t} is not in the future"
                )));
            }
            ms
        }
        (None, None) => {
            return Err(CliError::invalid_argument(
                "give --valid-for or --valid-until: waivers are time-bounded",
            ))
        }
    };
    Ok(pb::CreateWaiverRequest {
        kind: a.kind.trim().to_owned(),
        destination: records::country("--destination", &a.destination)?,
        item_codes: a.items.iter().map(|i| i.trim().to_owned()).collect(),
        justification: a.justification.clone(),
        valid_until_unix_ms,
    })
}

#[derive(Debug, Serialize)]
pub struct WaiverOut {
    pub id: String,
    pub kind: String,
    pub destination: String,
    /// Empty: every item.
    pub item_codes: Vec<String>,
    pub justification: String,
    pub valid_until: String,
    pub created_at: String,
    pub created_by: String,
}

impl From<&pb::Waiver> for WaiverOut {
    fn from(w: &pb::Waiver) -> Self {
        WaiverOut {
            id: w.id.clone(),
            kind: w.kind.clone(),
            destination: w.destination.clone(),
            item_codes: w.item_codes.clone(),
            justification: w.justification.clone(),
            valid_until: time_or_never(w.valid_until_unix_ms),
            created_at: time_or_never(w.created_at_unix_ms),
            created_by: w.created_by.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct WaiverList {
    waivers: Vec<WaiverOut>,
}

fn waiver_table(waivers: &[WaiverOut]) -> String {
    let mut t = Table::new([
        "ID",
        "KIND",
        "DEST",
        "ITEMS",
        "VALID UNTIL",
        "JUSTIFICATION",
    ]);
    for w in waivers {
        t.row([
            w.id.clone(),
            w.kind.clone(),
            w.destination.clone(),
            if w.item_codes.is_empty() {
                "all".to_owned()
            } else {
                w.item_codes.join(",")
            },
            w.valid_until.clone(),
            or_dash(&w.justification),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> CreateArgs {
        CreateArgs {
            kind: "humanitarian".into(),
            destination: "ua".into(),
            items: vec!["ML13".into()],
            justification: "demining equipment".into(),
            valid_for: Some("30d".into()),
            valid_until: None,
        }
    }

    #[test]
    fn waivers_end_in_the_future() {
        let now = 1_700_000_000_000;
        let r = create_request(&args(), now).unwrap();
        assert_eq!(r.destination, "UA");
        assert_eq!(r.valid_until_unix_ms, now + 30 * 86_400_000);
        let until = CreateArgs {
            valid_for: None,
            valid_until: Some("2030-01-01T00:00:00Z".into()),
            ..args()
        };
        assert_eq!(
            create_request(&until, now).unwrap().valid_until_unix_ms,
            1_893_456_000_000
        );
        for bad in [
            CreateArgs {
                valid_for: None,
                valid_until: Some("2020-01-01T00:00:00Z".into()),
                ..args()
            },
            CreateArgs {
                valid_for: None,
                valid_until: Some("next week".into()),
                ..args()
            },
            CreateArgs {
                justification: "".into(),
                ..args()
            },
        ] {
            assert_eq!(create_request(&bad, now).unwrap_err().exit_code(), 6);
        }
    }
}
