//! `concord shipment record|list`: shipments tracked against approved
//! licenses, through the node's LicensingService. Recording needs an officer
//! profile.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::rpc_error;
use crate::client::Clients;
use crate::cmd::records;
use crate::duration::{now_unix_ms, parse_since};
use crate::exit::CliError;
use crate::output::{or_dash, print_json, print_text, time_or_never, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum ShipmentCommand {
    /// Record a shipment against an approved license (officer).
    Record(Box<RecordArgs>),
    /// List shipments (of one license, or all), newest first.
    List(ListArgs),
}

#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// License id, e.g. DE-L-3; it must be approved and not revoked.
    #[arg(long, value_name = "ID")]
    pub license: String,
    /// Country the goods leave from.
    #[arg(long, value_name = "CC")]
    pub origin: String,
    /// Final destination country.
    #[arg(long, value_name = "CC")]
    pub destination: String,
    /// A waypoint of the route, in order (repeatable), e.g. "Jebel Ali".
    #[arg(long = "route", value_name = "WAYPOINT")]
    pub route: Vec<String>,
    /// When the goods shipped: an RFC 3339 time or this long ago, e.g. 2d (default: now).
    #[arg(long, value_name = "TIME|DURATION")]
    pub shipped_at: Option<String>,
    /// Bill of lading, airway bill or customs reference.
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// What it ships: CODE:QTY:VALUE:CURRENCY (repeat; VALUE in minor units).
    #[arg(long = "item", value_name = "ITEM", required = true)]
    pub items: Vec<String>,
    /// Record it even if it fails a check (it happened): a discrepancy,
    /// which flags the licence for review. Needs --rationale.
    #[arg(long, requires = "rationale")]
    pub discrepancy: bool,
    /// Why a discrepancy is recorded.
    #[arg(long, value_name = "TEXT")]
    pub rationale: Option<String>,
    /// With --discrepancy: raise a suspicious-shipment risk alert to --to/--group.
    #[arg(long, requires = "discrepancy")]
    pub alert: bool,
    #[command(flatten)]
    pub distribution: crate::cmd::records::DistributionArgs,
}

fn record_request(a: &RecordArgs) -> Result<pb::RecordShipmentRequest, CliError> {
    let named = !a.distribution.to.is_empty() || !a.distribution.groups.is_empty();
    if named && !a.alert {
        return Err(CliError::invalid_argument(
            "--to/--group name the recipients of an alert; add --alert",
        ));
    }
    if a.rationale.is_some() && !a.discrepancy {
        return Err(CliError::invalid_argument(
            "--rationale explains a discrepancy; add --discrepancy",
        ));
    }
    let items = a
        .items
        .iter()
        .map(|i| {
            let item = crate::cmd::license::fields::parse_item(i)?;
            Ok(pb::ShippedItem {
                code: item.code,
                quantity: item.quantity,
                value: item.value,
            })
        })
        .collect::<Result<_, CliError>>()?;
    Ok(pb::RecordShipmentRequest {
        license_id: a.license.trim().to_owned(),
        origin: records::country("--origin", &a.origin)?,
        destination: records::country("--destination", &a.destination)?,
        route: a.route.clone(),
        shipped_at_unix_ms: past_time("--shipped-at", a.shipped_at.as_deref())?,
        reference: a.reference.clone().unwrap_or_default(),
        items,
        discrepancy: a.discrepancy,
        rationale: a.rationale.clone().unwrap_or_default(),
        alert: a
            .alert
            .then(|| records::distribution(&a.distribution))
            .transpose()?,
    })
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only shipments of this license.
    #[arg(long, value_name = "ID")]
    pub license: Option<String>,
    /// At most this many shipments.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// An optional past time flag (RFC 3339 or a duration ago) in Unix ms; 0 when absent.
pub fn past_time(flag: &str, value: Option<&str>) -> Result<i64, CliError> {
    value.map_or(Ok(0), |v| {
        parse_since(v.trim(), now_unix_ms())
            .map_err(|e| CliError::invalid_argument(format!("{flag}: {e}")))
    })
}

pub async fn run(
    cmd: ShipmentCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        ShipmentCommand::Record(a) => {
            let request = record_request(&a)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let shipment = client
                .record_shipment(request)
                .await
                .map_err(|s| rpc_error("RecordShipment", &profile, &s))?
                .into_inner();
            let out = ShipmentOut::from(&shipment);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => {
                    let mut text = format!(
                        "Recorded shipment {} under license {} ({} -> {})\n",
                        out.id, out.license_id, out.origin, out.destination
                    );
                    if let Some(d) = &out.discrepancy {
                        text.push_str(&format!(
                            "Recorded as a discrepancy; the licence is flagged for review. \
                             Failed checks: {}\n",
                            or_dash(&d.failed.join("; "))
                        ));
                        if let Some(alert) = &d.alert_id {
                            text.push_str(&format!("Raised risk alert {alert}\n"));
                        }
                    }
                    print_text(&text)
                }
            }
        }
        ShipmentCommand::List(a) => {
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.licensing;
            let request = pb::ListShipmentsRequest {
                license_id: a.license.clone().unwrap_or_default(),
                limit: a.limit.unwrap_or(0),
                ..Default::default()
            };
            let shipments = crate::paging::all_pages(|page_token| {
                let mut client = client.clone();
                let request = pb::ListShipmentsRequest {
                    page_token,
                    ..request.clone()
                };
                async move {
                    let r = client.list_shipments(request).await?.into_inner();
                    Ok((r.shipments, r.next_page_token))
                }
            })
            .await
            .map_err(|s| rpc_error("ListShipments", &profile, &s))?;
            let shipments: Vec<ShipmentOut> = shipments.iter().map(ShipmentOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&ShipmentList { shipments }),
                OutputFormat::Table => print_text(&shipment_table(&shipments)),
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ShipmentOut {
    pub id: String,
    pub license_id: String,
    pub origin: String,
    pub destination: String,
    pub route: Vec<String>,
    pub shipped_at: String,
    pub reference: String,
    pub recorded_by: String,
    pub recorded_at: String,
    /// CODE xQTY VALUE CURRENCY
    pub items: Vec<String>,
    pub discrepancy: Option<DiscrepancyOut>,
}

#[derive(Debug, Serialize)]
pub struct DiscrepancyOut {
    pub failed: Vec<String>,
    pub rationale: String,
    pub alert_id: Option<String>,
}

impl From<&pb::Shipment> for ShipmentOut {
    fn from(s: &pb::Shipment) -> Self {
        ShipmentOut {
            id: s.id.clone(),
            license_id: s.license_id.clone(),
            origin: s.origin.clone(),
            destination: s.destination.clone(),
            route: s.route.clone(),
            shipped_at: time_or_never(s.shipped_at_unix_ms),
            reference: s.reference.clone(),
            recorded_by: s.recorded_by.clone(),
            recorded_at: time_or_never(s.recorded_at_unix_ms),
            items: s
                .items
                .iter()
                .map(|i| {
                    let v = i.value.clone().unwrap_or_default();
                    format!(
                        "{} x{} {} {}",
                        i.code, i.quantity, v.minor_units, v.currency
                    )
                })
                .collect(),
            discrepancy: s.discrepancy.as_ref().map(|d| DiscrepancyOut {
                failed: d.failed.clone(),
                rationale: d.rationale.clone(),
                alert_id: (!d.alert_id.is_empty()).then(|| d.alert_id.clone()),
            }),
        }
    }
}

#[derive(Debug, Serialize)]
struct ShipmentList {
    shipments: Vec<ShipmentOut>,
}

fn shipment_table(shipments: &[ShipmentOut]) -> String {
    let mut t = Table::new([
        "ID",
        "LICENSE",
        "FROM",
        "TO",
        "ROUTE",
        "SHIPPED",
        "REFERENCE",
        "ITEMS",
        "DISCREPANCY",
    ]);
    for s in shipments {
        t.row([
            s.id.clone(),
            s.license_id.clone(),
            s.origin.clone(),
            s.destination.clone(),
            or_dash(&s.route.join(" > ")),
            s.shipped_at.clone(),
            or_dash(&s.reference),
            or_dash(&s.items.join(", ")),
            s.discrepancy
                .as_ref()
                .map(|d| d.rationale.clone())
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    t.render()
}
