//! `concord audit checkpoint`: sign a checkpoint of the chain's head now.

use std::path::Path;

use concord_proto::v1 as pb;

use super::export::checkpoint_line;
use crate::client::{rpc_error, Clients};
use crate::exit::CliError;
use crate::output::{key_values, print_json, print_text, time_or_never, OutputFormat};
use crate::profile::Profile;

pub async fn checkpoint(profile: Option<&Path>, output: OutputFormat) -> Result<(), CliError> {
    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.admin;
    let c = client
        .audit_checkpoint(pb::AuditCheckpointRequest {})
        .await
        .map_err(|s| rpc_error("AuditCheckpoint", &profile, &s))?
        .into_inner();
    let line = checkpoint_line(&c);
    match output {
        OutputFormat::Json => print_json(&line),
        OutputFormat::Table => print_text(&key_values(
            "Checkpoint signed",
            &[
                ("jurisdiction", line.jurisdiction.clone()),
                ("entries", line.count.to_string()),
                ("head", line.head_hash_hex.clone()),
                ("at", time_or_never(line.at_unix_ms)),
                ("key id", line.key_id.clone()),
            ],
        )),
    }
}
