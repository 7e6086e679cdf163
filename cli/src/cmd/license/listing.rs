//! ListLicenses followed to its last page, for `license list` and
//! `license pending`.

use concord_proto::v1 as pb;

use crate::client::{rpc_error, LicensingClient};
use crate::exit::CliError;
use crate::profile::Profile;

/// Every license `request` matches: the node bounds each response, so the
/// listing is asked for again from each `next_page_token`.
pub async fn all_licenses(
    client: &LicensingClient,
    profile: &Profile,
    request: pb::ListLicensesRequest,
) -> Result<Vec<pb::License>, CliError> {
    crate::paging::all_pages(|page_token| {
        let mut client = client.clone();
        let request = pb::ListLicensesRequest {
            page_token,
            ..request.clone()
        };
        async move {
            let r = client.list_licenses(request).await?.into_inner();
            Ok((r.licenses, r.next_page_token))
        }
    })
    .await
    .map_err(|s| rpc_error("ListLicenses", profile, &s))
}
