//! What `alert` and `denial` do alike around their ExchangeService calls:
//! send a write once, and print a listing or a record's history. How the
//! records look is `records`' job.

use std::future::Future;

use concord_proto::v1 as pb;

use crate::client::{self, rpc_error, ExchangeClient};
use crate::cmd::records::{HistoryOut, RecordList, RecordOut};
use crate::exit::CliError;
use crate::output::{print_json, print_text, OutputFormat};
use crate::profile::Profile;

/// Sends a write the user asked for once: one fresh idempotency key, the
/// request retried with it while the answer is lost (`client::write_once`),
/// so the node stores the record once. `call` names the RPC in errors.
pub async fn write<Req, F, Fut>(
    client: &ExchangeClient,
    profile: &Profile,
    call: &str,
    request: Req,
    send: F,
) -> Result<pb::RecordView, CliError>
where
    Req: Clone,
    F: Fn(ExchangeClient, tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<pb::RecordView>, tonic::Status>>,
{
    let key = client::new_idempotency_key()?;
    client::write_once(&key, request, |req| send(client.clone(), req))
        .await
        .map(tonic::Response::into_inner)
        .map_err(|s| rpc_error(call, profile, &s))
}

/// A listing as `{"records": [...]}` or as the command's `table`.
pub fn print_list(
    views: &[pb::RecordView],
    table: fn(&[RecordOut]) -> String,
    output: OutputFormat,
) -> Result<(), CliError> {
    let records: Vec<RecordOut> = views.iter().map(RecordOut::from).collect();
    match output {
        OutputFormat::Json => print_json(&RecordList { records }),
        OutputFormat::Table => print_text(&table(&records)),
    }
}

/// Every version of record `id`, oldest first.
pub fn print_history(
    id: &str,
    versions: &[pb::RecordView],
    output: OutputFormat,
) -> Result<(), CliError> {
    print_history_with(id, versions, &[], output)
}

/// [`print_history`] with the notices of grants despite a denial.
pub fn print_history_with(
    id: &str,
    versions: &[pb::RecordView],
    grants: &[pb::GrantSeen],
    output: OutputFormat,
) -> Result<(), CliError> {
    let mut history = HistoryOut::new(id, versions.iter().map(RecordOut::from).collect());
    history.grants = grants
        .iter()
        .map(crate::cmd::records::GrantOut::from)
        .collect();
    match output {
        OutputFormat::Json => print_json(&history),
        OutputFormat::Table => print_text(&history.render()),
    }
}
