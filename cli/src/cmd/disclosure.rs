//! `concord disclosure record|list`: voluntary disclosures (a firm reporting
//! its own anomalies), through the node's LicensingService. Recording needs
//! an officer profile.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::rpc_error;
use crate::client::Clients;
use crate::cmd::shipment::past_time;
use crate::exit::CliError;
use crate::output::{print_json, print_text, time_or_never, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum DisclosureCommand {
    /// Record a voluntary disclosure by a party (officer).
    Record(RecordArgs),
    /// List disclosures (of one party, or all), newest first.
    List(ListArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// Party id of the disclosing firm, e.g. DE-P-1.
    #[arg(long, value_name = "ID")]
    pub party: String,
    /// What the firm disclosed.
    #[arg(long, value_name = "TEXT")]
    pub description: String,
    /// When the disclosure was received: an RFC 3339 time or this long ago (default: now).
    #[arg(long, value_name = "TIME|DURATION")]
    pub received_at: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only disclosures by this party.
    #[arg(long, value_name = "ID")]
    pub party: Option<String>,
    /// At most this many disclosures.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

pub async fn run(
    cmd: DisclosureCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        DisclosureCommand::Record(a) => {
            if a.description.trim().is_empty() {
                return Err(CliError::invalid_argument("--description: required"));
            }
            let request = pb::RecordDisclosureRequest {
                party_id: a.party.trim().to_owned(),
                description: a.description.clone(),
                received_at_unix_ms: past_time("--received-at", a.received_at.as_deref())?,
            };
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let d = client
                .record_disclosure(request)
                .await
                .map_err(|s| rpc_error("RecordDisclosure", &profile, &s))?
                .into_inner();
            let out = DisclosureOut::from(&d);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&format!(
                    "Recorded disclosure {} by party {}\n",
                    out.id, out.party_id
                )),
            }
        }
        DisclosureCommand::List(a) => {
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.licensing;
            let request = pb::ListDisclosuresRequest {
                party_id: a.party.clone().unwrap_or_default(),
                limit: a.limit.unwrap_or(0),
                ..Default::default()
            };
            let disclosures = crate::paging::all_pages(|page_token| {
                let mut client = client.clone();
                let request = pb::ListDisclosuresRequest {
                    page_token,
                    ..request.clone()
                };
                async move {
                    let r = client.list_disclosures(request).await?.into_inner();
                    Ok((r.disclosures, r.next_page_token))
                }
            })
            .await
            .map_err(|s| rpc_error("ListDisclosures", &profile, &s))?;
            let disclosures: Vec<DisclosureOut> =
                disclosures.iter().map(DisclosureOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&DisclosureList { disclosures }),
                OutputFormat::Table => print_text(&disclosure_table(&disclosures)),
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DisclosureOut {
    pub id: String,
    pub party_id: String,
    pub description: String,
    pub received_at: String,
    pub recorded_by: String,
    pub recorded_at: String,
}

impl From<&pb::Disclosure> for DisclosureOut {
    fn from(d: &pb::Disclosure) -> Self {
        DisclosureOut {
            id: d.id.clone(),
            party_id: d.party_id.clone(),
            description: d.description.clone(),
            received_at: time_or_never(d.received_at_unix_ms),
            recorded_by: d.recorded_by.clone(),
            recorded_at: time_or_never(d.recorded_at_unix_ms),
        }
    }
}

#[derive(Debug, Serialize)]
struct DisclosureList {
    disclosures: Vec<DisclosureOut>,
}

fn disclosure_table(disclosures: &[DisclosureOut]) -> String {
    let mut t = Table::new(["ID", "PARTY", "RECEIVED", "RECORDED BY", "DESCRIPTION"]);
    for d in disclosures {
        t.row([
            d.id.clone(),
            d.party_id.clone(),
            d.received_at.clone(),
            d.recorded_by.clone(),
            d.description.clone(),
        ]);
    }
    t.render()
}
