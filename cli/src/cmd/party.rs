//! `concord party create|list|show`: the parties licensing records name
//! (exporters, end users, consignees, intermediaries), through the node's
//! LicensingService. Creating needs an officer profile; reading an officer,
//! analyst or admin profile.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::rpc_error;
use crate::client::Clients;
use crate::cmd::records;
use crate::exit::CliError;
use crate::output::{
    key_values, or_dash, print_json, print_text, time_or_never, OutputFormat, Table,
};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum PartyCommand {
    /// Record a party (officer); prints its id, e.g. DE-P-4. Refused (exit
    /// 5) when a party of the same country has a matching name, unless
    /// --allow-similar.
    Create(CreateArgs),
    /// Replace a party's details (officer); the earlier version is kept.
    /// Flags not given keep their current value.
    Update(UpdateArgs),
    /// List parties, newest first.
    List(ListArgs),
    /// Show a party.
    Show {
        /// Party id, e.g. DE-P-4.
        #[arg(value_name = "ID")]
        id: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The party's name.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Another name the party is known by (repeatable).
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,
    /// The party's country, e.g. AE.
    #[arg(long, value_name = "CC")]
    pub country: String,
    /// The party's address.
    #[arg(long, value_name = "TEXT")]
    pub address: Option<String>,
    /// An identifier such as lei:5493001KJTIIGC8Y1R12 or vat:DE123456789 (repeatable).
    #[arg(long = "identifier", value_name = "KIND:VALUE")]
    pub identifiers: Vec<String>,
    /// Create it even if a party of the same country has a matching name.
    #[arg(long)]
    pub allow_similar: bool,
}

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// Party id, e.g. DE-P-4.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why (required).
    #[arg(long, value_name = "TEXT")]
    pub rationale: String,
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Replaces every alias (repeatable).
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,
    /// Removes every alias.
    #[arg(long, conflicts_with = "aliases")]
    pub no_aliases: bool,
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub address: Option<String>,
    /// Replaces every identifier (repeatable).
    #[arg(long = "identifier", value_name = "KIND:VALUE")]
    pub identifiers: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Only parties whose name or an alias contains this text (any case).
    #[arg(long, value_name = "TEXT")]
    pub name: Option<String>,
    /// Only parties of this country.
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// At most this many parties.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

pub async fn run(
    cmd: PartyCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        PartyCommand::Create(args) => {
            let request = create_request(&args)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let party = client
                .create_party(request)
                .await
                .map_err(|s| rpc_error("CreateParty", &profile, &s))?
                .into_inner();
            let out = PartyOut::from(&party);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => {
                    print_text(&format!("Created party {} ({})\n", out.id, out.name))
                }
            }
        }
        PartyCommand::Update(a) => {
            if a.rationale.trim().is_empty() {
                return Err(CliError::invalid_argument("--rationale: required"));
            }
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let current = client
                .get_party(pb::GetPartyRequest {
                    id: a.id.trim().to_owned(),
                })
                .await
                .map_err(|s| rpc_error("GetParty", &profile, &s))?
                .into_inner();
            let request = update_request(&a, current)?;
            let party = client
                .update_party(request)
                .await
                .map_err(|s| rpc_error("UpdateParty", &profile, &s))?
                .into_inner();
            let out = PartyOut::from(&party);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&format!(
                    "Updated party {} ({}), now revision {}\n",
                    out.id, out.name, out.revision
                )),
            }
        }
        PartyCommand::List(args) => {
            let country = args
                .country
                .as_deref()
                .map(|c| records::country("--country", c))
                .transpose()?
                .unwrap_or_default();
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.licensing;
            let request = pb::ListPartiesRequest {
                name: args.name.clone().unwrap_or_default(),
                country,
                limit: args.limit.unwrap_or(0),
                ..Default::default()
            };
            let parties = crate::paging::all_pages(|page_token| {
                let mut client = client.clone();
                let request = pb::ListPartiesRequest {
                    page_token,
                    ..request.clone()
                };
                async move {
                    let r = client.list_parties(request).await?.into_inner();
                    Ok((r.parties, r.next_page_token))
                }
            })
            .await
            .map_err(|s| rpc_error("ListParties", &profile, &s))?;
            let parties: Vec<PartyOut> = parties.iter().map(PartyOut::from).collect();
            match output {
                OutputFormat::Json => print_json(&PartyList { parties }),
                OutputFormat::Table => print_text(&party_table(&parties)),
            }
        }
        PartyCommand::Show { id } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let party = client
                .get_party(pb::GetPartyRequest {
                    id: id.trim().to_owned(),
                })
                .await
                .map_err(|s| rpc_error("GetParty", &profile, &s))?
                .into_inner();
            let out = PartyOut::from(&party);
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&out.render()),
            }
        }
    }
}

/// `current` with the flags given applied.
fn update_request(
    a: &UpdateArgs,
    current: pb::PartyRecord,
) -> Result<pb::UpdatePartyRequest, CliError> {
    let aliases = if a.no_aliases {
        Vec::new()
    } else if a.aliases.is_empty() {
        current.aliases
    } else {
        a.aliases.clone()
    };
    let identifiers = if a.identifiers.is_empty() {
        current.identifiers
    } else {
        identifiers(&a.identifiers)?
    };
    Ok(pb::UpdatePartyRequest {
        id: current.id,
        name: a.name.clone().unwrap_or(current.name),
        aliases,
        country: match &a.country {
            Some(c) => records::country("--country", c)?,
            None => current.country,
        },
        address: a.address.clone().unwrap_or(current.address),
        identifiers,
        rationale: a.rationale.clone(),
    })
}

fn identifiers(given: &[String]) -> Result<Vec<pb::PartyIdentifier>, CliError> {
    given
        .iter()
        .map(|i| match i.split_once(':') {
            Some((kind, value)) if !kind.trim().is_empty() && !value.trim().is_empty() => {
                Ok(pb::PartyIdentifier {
                    kind: kind.trim().to_owned(),
                    value: value.trim().to_owned(),
                })
            }
            _ => Err(CliError::invalid_argument(format!(
                "--identifier {i:?}: expected KIND:VALUE, e.g. lei:5493001KJTIIGC8Y1R12"
            ))),
        })
        .collect()
}

fn create_request(a: &CreateArgs) -> Result<pb::CreatePartyRequest, CliError> {
    if a.name.trim().is_empty() {
        return Err(CliError::invalid_argument("--name: required"));
    }
    let identifiers = identifiers(&a.identifiers)?;
    Ok(pb::CreatePartyRequest {
        allow_similar: a.allow_similar,
        name: a.name.clone(),
        aliases: a.aliases.clone(),
        country: records::country("--country", &a.country)?,
        address: a.address.clone().unwrap_or_default(),
        identifiers,
    })
}

#[derive(Debug, Serialize)]
pub struct IdentifierOut {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct PartyOut {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub country: String,
    pub address: String,
    pub identifiers: Vec<IdentifierOut>,
    pub created_at: String,
    pub created_by: String,
    pub revision: u32,
    /// Earlier versions, oldest first.
    pub history: Vec<PartyVersionOut>,
}

#[derive(Debug, Serialize)]
pub struct PartyVersionOut {
    pub revision: u32,
    pub name: String,
    pub aliases: Vec<String>,
    pub country: String,
    pub address: String,
    pub replaced_at: String,
    pub replaced_by: String,
    pub rationale: String,
}

impl From<&pb::PartyRecord> for PartyOut {
    fn from(p: &pb::PartyRecord) -> Self {
        PartyOut {
            id: p.id.clone(),
            name: p.name.clone(),
            aliases: p.aliases.clone(),
            country: p.country.clone(),
            address: p.address.clone(),
            identifiers: p
                .identifiers
                .iter()
                .map(|i| IdentifierOut {
                    kind: i.kind.clone(),
                    value: i.value.clone(),
                })
                .collect(),
            created_at: time_or_never(p.created_at_unix_ms),
            created_by: p.created_by.clone(),
            revision: p.revision,
            history: p
                .history
                .iter()
                .map(|v| PartyVersionOut {
                    revision: v.revision,
                    name: v.name.clone(),
                    aliases: v.aliases.clone(),
                    country: v.country.clone(),
                    address: v.address.clone(),
                    replaced_at: time_or_never(v.replaced_at_unix_ms),
                    replaced_by: v.replaced_by.clone(),
                    rationale: v.rationale.clone(),
                })
                .collect(),
        }
    }
}

impl PartyOut {
    fn render(&self) -> String {
        let ids: Vec<String> = self
            .identifiers
            .iter()
            .map(|i| format!("{}:{}", i.kind, i.value))
            .collect();
        let mut out = key_values(
            &format!("Party {}", self.id),
            &[
                ("name", self.name.clone()),
                ("aliases", or_dash(&self.aliases.join(", "))),
                ("country", self.country.clone()),
                ("address", or_dash(&self.address.replace('\n', ", "))),
                ("identifiers", or_dash(&ids.join(", "))),
                (
                    "created",
                    format!("{} by {}", self.created_at, self.created_by),
                ),
                ("revision", self.revision.to_string()),
            ],
        );
        for v in &self.history {
            out.push_str(&format!(
                "r{} {:?} ({}) replaced {} by {}: {}\n",
                v.revision, v.name, v.country, v.replaced_at, v.replaced_by, v.rationale
            ));
        }
        out
    }
}

#[derive(Debug, Serialize)]
struct PartyList {
    parties: Vec<PartyOut>,
}

fn party_table(parties: &[PartyOut]) -> String {
    let mut t = Table::new(["ID", "NAME", "COUNTRY", "ALIASES"]);
    for p in parties {
        t.row([
            p.id.clone(),
            p.name.clone(),
            p.country.clone(),
            or_dash(&p.aliases.join(", ")),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_party_flags() {
        let args = CreateArgs {
            name: "Acme Trading FZE".into(),
            aliases: vec![],
            country: "ae".into(),
            address: None,
            identifiers: vec!["lei:5493001KJTIIGC8Y1R12".into()],
            allow_similar: false,
        };
        let r = create_request(&args).unwrap();
        assert_eq!(r.country, "AE");
        assert_eq!(r.identifiers[0].kind, "lei");
        for bad in [
            CreateArgs {
                identifiers: vec!["no-colon".into()],
                ..args.clone()
            },
            CreateArgs {
                country: "UAE".into(),
                ..args.clone()
            },
            CreateArgs {
                name: " ".into(),
                ..args.clone()
            },
        ] {
            assert_eq!(create_request(&bad).unwrap_err().exit_code(), 6);
        }
    }
}
