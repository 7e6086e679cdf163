//! `concord license amend|resubmit|countersign|dispose|pending`: correcting
//! applications, the second officer of a four-eyes decision, and disposing
//! of screening hits, through the node's LicensingService.

use std::path::Path;

use clap::{ArgGroup, Args};
use concord_proto::v1 as pb;

use super::fields::{parse_item, required};
use super::listing::all_licenses;
use super::view::{hits_table, print_license, HitOut, LicenseOut};
use crate::client::rpc_error;
use crate::client::Clients;
use crate::cmd::records;
use crate::exit::CliError;
use crate::output::{print_json, print_text, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Clone, Args)]
pub struct AmendArgs {
    /// License id, e.g. DE-L-3.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why the application changes (required).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
    #[arg(long, value_name = "ID")]
    pub applicant: Option<String>,
    #[arg(long, value_name = "ID")]
    pub end_user: Option<String>,
    #[arg(long, value_name = "ID")]
    pub consignee: Option<String>,
    /// Replaces every intermediary (repeat for several).
    #[arg(long = "intermediary", value_name = "ID")]
    pub intermediaries: Vec<String>,
    /// Removes every intermediary.
    #[arg(long, conflicts_with = "intermediaries")]
    pub no_intermediaries: bool,
    #[arg(long, value_name = "CC")]
    pub destination: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub end_use: Option<String>,
    /// Replaces every item: CODE:QTY:VALUE:CURRENCY[:DESCRIPTION] (repeat).
    #[arg(long = "item", value_name = "ITEM")]
    pub items: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct CountersignArgs {
    /// License id, e.g. DE-L-3.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why (required).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
    /// Approving a confirmed screening match: why, explicitly.
    #[arg(long = "override", value_name = "TEXT", conflicts_with = "reject")]
    pub override_rationale: Option<String>,
    /// Reject the pending decision instead of countersigning it.
    #[arg(long)]
    pub reject: bool,
}

#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("disposition").required(true).args(["false_positive", "confirmed"])))]
pub struct DisposeArgs {
    /// License id, e.g. DE-L-3.
    #[arg(value_name = "ID")]
    pub id: String,
    /// The hit, as `license show` lists it: PARTY/LIST/ENTRY.
    #[arg(value_name = "HIT")]
    pub hit: String,
    /// The listed entry is not this party (remembered for the party and entry).
    #[arg(long)]
    pub false_positive: bool,
    /// The listed entry is this party.
    #[arg(long)]
    pub confirmed: bool,
    /// Why (required).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
}

pub fn amend_request(a: &AmendArgs) -> Result<pb::AmendLicenseRequest, CliError> {
    required("--rationale", &a.rationale)?;
    let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
    let request = pb::AmendLicenseRequest {
        id: a.id.trim().to_owned(),
        rationale: a.rationale.clone(),
        applicant: text(&a.applicant),
        items: a
            .items
            .iter()
            .map(|i| parse_item(i))
            .collect::<Result<_, _>>()?,
        end_user: text(&a.end_user),
        consignee: text(&a.consignee),
        intermediaries: a
            .intermediaries
            .iter()
            .map(|i| i.trim().to_owned())
            .collect(),
        set_intermediaries: a.no_intermediaries || !a.intermediaries.is_empty(),
        destination: match &a.destination {
            Some(d) => records::country("--destination", d)?,
            None => String::new(),
        },
        end_use: a.end_use.clone().unwrap_or_default(),
    };
    let unchanged = pb::AmendLicenseRequest {
        id: request.id.clone(),
        rationale: request.rationale.clone(),
        ..Default::default()
    };
    if request == unchanged {
        return Err(CliError::invalid_argument(
            "an amendment changes at least one field (--item, --end-user, --destination, ...)",
        ));
    }
    Ok(request)
}

pub async fn amend(
    a: AmendArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let request = amend_request(&a)?;
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.licensing;
    let license = client
        .amend_license(request)
        .await
        .map_err(|s| rpc_error("AmendLicense", &profile, &s))?
        .into_inner();
    print_license(
        &format!("Amended (revision {})", license.revision),
        &license,
        output,
    )
}

pub async fn resubmit(
    id: String,
    rationale: String,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    required("--rationale", &rationale)?;
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.licensing;
    let license = client
        .resubmit_license(pb::LicenseActionRequest {
            id: id.trim().to_owned(),
            rationale,
        })
        .await
        .map_err(|s| rpc_error("ResubmitLicense", &profile, &s))?
        .into_inner();
    print_license("Resubmitted license", &license, output)
}

pub async fn countersign(
    a: CountersignArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    required("--rationale", &a.rationale)?;
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.licensing;
    let license = client
        .countersign_decision(pb::CountersignRequest {
            id: a.id.trim().to_owned(),
            rationale: a.rationale.clone(),
            override_rationale: a.override_rationale.clone().unwrap_or_default(),
            reject: a.reject,
        })
        .await
        .map_err(|s| rpc_error("CountersignDecision", &profile, &s))?
        .into_inner();
    let done = if a.reject {
        "Rejected the pending decision on"
    } else {
        "Countersigned"
    };
    print_license(done, &license, output)
}

pub async fn dispose(
    a: DisposeArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    required("--rationale", &a.rationale)?;
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.licensing;
    let license = client
        .dispose_hit(pb::DisposeHitRequest {
            license_id: a.id.trim().to_owned(),
            hit_id: a.hit.trim().to_owned(),
            disposition: if a.confirmed {
                "confirmed"
            } else {
                "false-positive"
            }
            .to_owned(),
            rationale: a.rationale.clone(),
        })
        .await
        .map_err(|s| rpc_error("DisposeHit", &profile, &s))?
        .into_inner();
    match output {
        OutputFormat::Json => print_json(&LicenseOut::from(&license)),
        OutputFormat::Table => {
            let open = license.hits.iter().filter(|h| h.status == "open").count();
            print_text(&format!(
                "Hit {} on {} is now {}; open hits left: {open}\n{}",
                a.hit.trim(),
                license.id,
                if a.confirmed {
                    "confirmed"
                } else {
                    "false-positive"
                },
                hits_table(&license.hits.iter().map(HitOut::from).collect::<Vec<_>>())
            ))
        }
    }
}

/// Decisions waiting for a second officer, oldest first.
pub async fn pending(profile: Option<&Path>, output: OutputFormat) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let client = Clients::connect(&profile).await?.licensing;
    let request = pb::ListLicensesRequest {
        pending_countersignature: true,
        ..Default::default()
    };
    let mut licenses = all_licenses(&client, &profile, request).await?;
    licenses.sort_by_key(|l| l.pending.as_ref().map(|p| p.at_unix_ms).unwrap_or_default());
    match output {
        OutputFormat::Json => {
            let out: Vec<LicenseOut> = licenses.iter().map(LicenseOut::from).collect();
            print_json(&serde_json::json!({ "licenses": out }))
        }
        OutputFormat::Table => {
            if licenses.is_empty() {
                return print_text("No decision is pending countersignature.");
            }
            let mut t = Table::new(["ID", "DECISION", "BY", "AT", "RISK", "WHY FOUR EYES"]);
            for l in &licenses {
                if let Some(p) = &l.pending {
                    let risk = p
                        .risk
                        .as_ref()
                        .map(|r| format!("{} ({})", r.score, r.band))
                        .unwrap_or_default();
                    t.row([
                        l.id.clone(),
                        p.action.clone(),
                        p.officer.clone(),
                        crate::output::time_or_never(p.at_unix_ms),
                        risk,
                        p.reason.clone(),
                    ]);
                }
            }
            print_text(&format!(
                "{}\nCountersign: concord license countersign ID --rationale T (another officer)",
                t.render()
            ))
        }
    }
}
