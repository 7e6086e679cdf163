//! `concord group create|list|remove`: sharing groups, named sets of
//! jurisdictions a record's distribution can name (admin).

use std::path::Path;

use clap::Subcommand;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, AdminClient, Clients};
use crate::cmd::records::jurisdictions;
use crate::exit::CliError;
use crate::output::{print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a sharing group (admin).
    Create {
        /// Group name, e.g. partners.
        #[arg(value_name = "NAME")]
        name: String,
        /// Member jurisdictions, comma-separated or repeated, e.g. FR,JP.
        #[arg(long, value_name = "J,...", value_delimiter = ',', required = true)]
        members: Vec<String>,
    },
    /// List the sharing groups (admin).
    List,
    /// Remove a sharing group (admin).
    Remove {
        /// Group name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

pub async fn run(
    cmd: GroupCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        GroupCommand::Create { name, members } => {
            let members = jurisdictions("--members", &members)?;
            if members.is_empty() {
                return Err(CliError::invalid_argument(
                    "--members: a group needs at least one member",
                ));
            }
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let group = create(&mut client, &name, members)
                .await
                .map_err(|s| rpc_error("CreateGroup", &profile, &s))?;
            let view = GroupView::from(&group);
            match output {
                OutputFormat::Json => print_json(&view),
                OutputFormat::Table => print_text(&format!(
                    "Created group {} ({})\n",
                    view.name,
                    view.members.join(", ")
                )),
            }
        }
        GroupCommand::List => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let groups = client
                .list_groups(pb::ListGroupsRequest {})
                .await
                .map_err(|s| rpc_error("ListGroups", &profile, &s))?
                .into_inner()
                .groups;
            let groups: Vec<GroupView> = groups.iter().map(GroupView::from).collect();
            match output {
                OutputFormat::Json => print_json(&GroupList { groups }),
                OutputFormat::Table => print_text(&render_groups(&groups)),
            }
        }
        GroupCommand::Remove { name } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            client
                .remove_group(pb::RemoveGroupRequest { name: name.clone() })
                .await
                .map_err(|s| rpc_error("RemoveGroup", &profile, &s))?;
            match output {
                OutputFormat::Json => print_json(&serde_json::json!({ "removed": name })),
                OutputFormat::Table => print_text(&format!("Removed group {name}\n")),
            }
        }
    }
}

/// CreateGroup, as the demo uses it too.
pub async fn create(
    client: &mut AdminClient,
    name: &str,
    members: Vec<String>,
) -> Result<pb::SharingGroup, tonic::Status> {
    client
        .create_group(pb::CreateGroupRequest {
            name: name.to_owned(),
            members,
        })
        .await
        .map(tonic::Response::into_inner)
}

#[derive(Debug, Serialize)]
pub struct GroupList {
    pub groups: Vec<GroupView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupView {
    pub name: String,
    pub members: Vec<String>,
    pub created_at: Option<String>,
}

impl From<&pb::SharingGroup> for GroupView {
    fn from(g: &pb::SharingGroup) -> Self {
        GroupView {
            name: g.name.clone(),
            members: g.members.clone(),
            created_at: rfc3339(g.created_at_unix_ms),
        }
    }
}

pub fn render_groups(groups: &[GroupView]) -> String {
    if groups.is_empty() {
        return "No sharing groups. Create one with: concord group create NAME --members J,...\n"
            .to_owned();
    }
    let mut table = Table::new(["GROUP", "MEMBERS", "CREATED"]);
    for g in groups {
        table.row([
            g.name.clone(),
            g.members.join(", "),
            g.created_at.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_groups() {
        let g = GroupView::from(&pb::SharingGroup {
            name: "partners".into(),
            members: vec!["FR".into(), "JP".into()],
            created_at_unix_ms: 1_700_000_000_000,
        });
        assert_eq!(
            render_groups(std::slice::from_ref(&g)),
            "GROUP     MEMBERS  CREATED\npartners  FR, JP   2023-11-14T22:13:20.000Z\n"
        );
        assert!(render_groups(&[]).starts_with("No sharing groups"));
        let json = serde_json::to_value(GroupList { groups: vec![g] }).unwrap();
        assert_eq!(json["groups"][0]["members"][1], "JP");
    }
}
