//! `concord party create|list|show`: the parties licensing records name
//! (exporters, end users, consignees, intermediaries), through the node's
//! LicensingService. Creating needs an officer profile; reading an officer,
//! analyst or admin profile.

use std::path::Path;

use clap::{Args, Subcommand};
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::rpc_error;
use crate::cmd::license::connect;
use crate::cmd::records;
use crate::exit::CliError;
use crate::output::{
    key_values, or_dash, print_json, print_text, time_or_never, OutputFormat, Table,
};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum PartyCommand {
    /// Record a party (officer); prints its id, e.g. DE-P-4.
    Create(CreateArgs),
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
            let mut client = connect(&profile).await?;
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
        PartyCommand::List(args) => {
            let country = args
                .country
                .as_deref()
                .map(|c| records::country("--country", c))
                .transpose()?
                .unwrap_or_default();
            let profile = Profile::required(profile)?;
            let client = connect(&profile).await?;
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
            let mut client = connect(&profile).await?;
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

fn create_request(a: &CreateArgs) -> Result<pb::CreatePartyRequest, CliError> {
    if a.name.trim().is_empty() {
        return Err(CliError::invalid_argument("--name: required"));
    }
    let identifiers = a
        .identifiers
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
        .collect::<Result<_, _>>()?;
    Ok(pb::CreatePartyRequest {
        name: a.name.clone(),
        aliases: a.aliases.clone(),
        country: records::country("--country", &a.country)?,
        address: a.address.clone().unwrap_or_default(),
        identifiers,
        ..Default::default()
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
        key_values(
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
            ],
        )
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
