//! `concord screen show|remove`: one listed entry with everything the list
//! says about it, and the removal of an imported list (admin; audited).

use std::path::Path;

use clap::Args;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::cmd::license::fields::required;
use crate::exit::CliError;
use crate::output::{key_values, print_json, print_text, time_or_never, yes_no, OutputFormat};
use crate::profile::Profile;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The list (as `concord screen lists` names it; `denials` for denial notices).
    #[arg(value_name = "LIST")]
    pub list: String,
    /// The entry's id in its list (OFAC ent_num, CSL _id, a denial id …).
    #[arg(value_name = "SOURCE_ID")]
    pub source_id: String,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The imported list to delete.
    #[arg(value_name = "LIST")]
    pub list: String,
    /// Why it is removed; kept in the audit trail.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub rationale: String,
}

pub async fn show(
    args: ShowArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.screening;
    let r = client
        .get_entry(pb::GetEntryRequest {
            list: args.list,
            source_id: args.source_id,
        })
        .await
        .map_err(|s| rpc_error("GetEntry", &profile, &s))?
        .into_inner();
    let out = EntryOut::from(r);
    match output {
        OutputFormat::Json => print_json(&out),
        OutputFormat::Table => print_text(&render_entry(&out)),
    }
}

pub async fn remove(
    args: RemoveArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    required("--rationale", &args.rationale)?;
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.screening;
    let r = client
        .remove_list(pb::RemoveListRequest {
            list: args.list,
            rationale: args.rationale,
        })
        .await
        .map_err(|s| rpc_error("RemoveList", &profile, &s))?
        .into_inner();
    let out = RemovedOut {
        list: r.list,
        entries: r.entries,
        removed_at: time_or_never(r.removed_at_unix_ms),
    };
    match output {
        OutputFormat::Json => print_json(&out),
        OutputFormat::Table => print_text(&format!(
            "Removed list {} ({} entries) at {}\n",
            out.list, out.entries, out.removed_at
        )),
    }
}

#[derive(Debug, Serialize)]
struct RemovedOut {
    list: String,
    entries: u64,
    removed_at: String,
}

#[derive(Debug, Serialize)]
struct EntryOut {
    list: String,
    source_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    issuer: String,
    entity_type: String,
    name: String,
    aliases: Vec<String>,
    countries: Vec<String>,
    unresolved_countries: Vec<String>,
    programs: Vec<String>,
    addresses: Vec<String>,
    dates_of_birth: Vec<String>,
    identifiers: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    expires: String,
    expired: bool,
}

impl From<pb::GetEntryResponse> for EntryOut {
    fn from(r: pb::GetEntryResponse) -> Self {
        let e = r.entry.unwrap_or_default();
        EntryOut {
            list: r.list,
            source_id: e.source_id,
            issuer: r.issuer,
            entity_type: e.entity_type,
            name: e.name,
            aliases: e.aliases,
            countries: e.countries,
            unresolved_countries: e.unresolved_countries,
            programs: e.programs,
            addresses: e.addresses,
            dates_of_birth: e.dates_of_birth,
            identifiers: e.identifiers,
            expires: e.expires,
            expired: r.expired,
        }
    }
}

fn joined(v: &[String]) -> String {
    if v.is_empty() {
        "-".to_owned()
    } else {
        v.join("; ")
    }
}

fn render_entry(e: &EntryOut) -> String {
    let mut pairs = vec![("list", e.list.clone()), ("source id", e.source_id.clone())];
    if !e.issuer.is_empty() {
        pairs.push(("issuer", e.issuer.clone()));
    }
    pairs.extend([
        ("type", e.entity_type.clone()),
        ("name", e.name.clone()),
        ("aliases", joined(&e.aliases)),
        ("countries", joined(&e.countries)),
    ]);
    if !e.unresolved_countries.is_empty() {
        pairs.push(("countries as written", joined(&e.unresolved_countries)));
    }
    pairs.extend([
        ("programs", joined(&e.programs)),
        ("addresses", joined(&e.addresses)),
        ("dates of birth", joined(&e.dates_of_birth)),
        ("identifiers", joined(&e.identifiers)),
        (
            "expires",
            if e.expires.is_empty() {
                "-".to_owned()
            } else {
                e.expires.clone()
            },
        ),
        ("expired", yes_no(e.expired).to_owned()),
    ]);
    key_values(&format!("Entry {} of list {}", e.source_id, e.list), &pairs)
}
