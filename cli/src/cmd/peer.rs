//! `concord peer add|list|remove`: the node's peer jurisdictions.

use std::path::PathBuf;

use std::path::Path;

use clap::Subcommand;
use concord_node::identity::Jurisdiction;
use concord_node::trust_bundle::TrustBundle;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, AdminClient, Clients};
use crate::exit::CliError;
use crate::output::{
    or_dash, print_json, print_text, rfc3339, time_or_never, yes_no, OutputFormat, Table,
};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Register a peer jurisdiction from its trust bundle.
    Add {
        /// Trust bundle file written by the peer's `concord pki export-trust`.
        #[arg(long, value_name = "FILE")]
        trust: PathBuf,
    },
    /// Replace a registered peer's trust bundle (new endpoint, rotated signing key).
    Update {
        /// Trust bundle file written by the peer's `concord pki export-trust`.
        #[arg(long, value_name = "FILE")]
        trust: PathBuf,
        /// You compared the bundle's key id and CA with the partner through
        /// another channel: accept a key without handover, or a new CA.
        #[arg(long)]
        verified_out_of_band: bool,
    },
    /// List the registered peers and their links.
    List,
    /// Remove a peer jurisdiction.
    Remove {
        /// Jurisdiction code of the peer, e.g. FR.
        #[arg(value_name = "JURISDICTION")]
        jurisdiction: String,
    },
}

pub async fn run(
    cmd: PeerCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        PeerCommand::Add { trust } => {
            // Check the bundle before looking at the profile or the network.
            let bundle = read_bundle(&trust)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let peer = add(&mut client, &bundle)
                .await
                .map_err(|s| rpc_error("AddPeer", &profile, &s))?;
            let view = PeerView::from(&peer);
            match output {
                OutputFormat::Json => print_json(&view),
                OutputFormat::Table => print_text(&format!(
                    "Added peer {} at {} (signing key id {})\n",
                    view.jurisdiction, view.endpoint, view.signing_key_id
                )),
            }
        }
        PeerCommand::Update {
            trust,
            verified_out_of_band,
        } => {
            let bundle = read_bundle(&trust)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let peer = client
                .update_peer(pb::UpdatePeerRequest {
                    trust: Some(to_proto(&bundle)),
                    verified_out_of_band,
                })
                .await
                .map_err(|s| rpc_error("UpdatePeer", &profile, &s))?
                .into_inner();
            let view = PeerView::from(&peer);
            match output {
                OutputFormat::Json => print_json(&view),
                OutputFormat::Table => print_text(&format!(
                    "Updated peer {} at {} (signing key id {}, {} retired)\n",
                    view.jurisdiction,
                    view.endpoint,
                    view.signing_key_id,
                    bundle.retired_signing_keys.len()
                )),
            }
        }
        PeerCommand::List => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let peers = client
                .list_peers(pb::ListPeersRequest {})
                .await
                .map_err(|s| rpc_error("ListPeers", &profile, &s))?
                .into_inner()
                .peers;
            let views: Vec<PeerView> = peers.iter().map(PeerView::from).collect();
            match output {
                OutputFormat::Json => print_json(&PeerList { peers: views }),
                OutputFormat::Table => print_text(&render_peers(&views)),
            }
        }
        PeerCommand::Remove { jurisdiction } => {
            let jurisdiction: Jurisdiction =
                jurisdiction.parse().map_err(CliError::invalid_argument)?;
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            client
                .remove_peer(pb::RemovePeerRequest {
                    jurisdiction: jurisdiction.to_string(),
                })
                .await
                .map_err(|s| rpc_error("RemovePeer", &profile, &s))?;
            match output {
                OutputFormat::Json => {
                    print_json(&serde_json::json!({ "removed": jurisdiction.as_str() }))
                }
                OutputFormat::Table => print_text(&format!("Removed peer {jurisdiction}\n")),
            }
        }
    }
}

/// Reads and checks a trust bundle file; any problem is the caller's input.
pub fn read_bundle(path: &Path) -> Result<TrustBundle, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::invalid_argument(format!("cannot read trust bundle {}: {e}", path.display()))
    })?;
    TrustBundle::from_toml(&text)
        .map_err(|e| CliError::invalid_argument(format!("{}: {e}", path.display())))
}

pub fn to_proto(bundle: &TrustBundle) -> pb::TrustBundle {
    concord_node::api::convert::trust_bundle_to_proto(bundle)
}

/// AddPeer, the one way a peer gets registered.
pub async fn add(
    client: &mut AdminClient,
    bundle: &TrustBundle,
) -> Result<pb::Peer, tonic::Status> {
    client
        .add_peer(pb::AddPeerRequest {
            trust: Some(to_proto(bundle)),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[derive(Debug, Serialize)]
pub struct PeerList {
    pub peers: Vec<PeerView>,
}

/// A peer as shown to people and programs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerView {
    pub jurisdiction: String,
    pub endpoint: String,
    pub signing_key_id: String,
    /// Keys the peer rotated out, still verifying what they signed before retirement.
    pub retired_signing_keys: Vec<RetiredKeyView>,
    /// RFC 3339, or null if unknown.
    pub added_at: Option<String>,
    pub link: LinkView,
    /// Own records still queued for this peer.
    pub outbox_pending: u64,
    /// Highest sequence number held from this peer.
    pub received_cursor: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetiredKeyView {
    pub key_id: String,
    /// RFC 3339.
    pub retired_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkView {
    pub connected: bool,
    /// RFC 3339 of the last successful exchange, or null if never.
    pub last_contact: Option<String>,
    /// Null when the last attempt succeeded.
    pub last_error: Option<String>,
    /// Why records cannot be delivered (push or catch-up refused), null while they flow.
    pub delivery_error: Option<String>,
}

impl From<&pb::Peer> for PeerView {
    fn from(p: &pb::Peer) -> Self {
        let trust = p.trust.clone().unwrap_or_default();
        let link = p.link.clone().unwrap_or_default();
        PeerView {
            jurisdiction: trust.jurisdiction,
            endpoint: trust.endpoint,
            signing_key_id: p.signing_key_id.clone(),
            retired_signing_keys: trust
                .retired_signing_keys
                .iter()
                .map(|k| RetiredKeyView {
                    key_id: concord_node::crypto::key_id(&k.public_key),
                    retired_at: rfc3339(k.retired_at_unix_ms),
                })
                .collect(),
            added_at: rfc3339(p.added_at_unix_ms),
            link: LinkView {
                connected: link.connected,
                last_contact: rfc3339(link.last_contact_unix_ms),
                last_error: Some(link.last_error).filter(|e| !e.is_empty()),
                delivery_error: Some(link.delivery_error).filter(|e| !e.is_empty()),
            },
            outbox_pending: p.outbox_pending,
            received_cursor: p.received_cursor,
        }
    }
}

/// The peer table: jurisdiction, endpoint, key id, link, last contact,
/// outbox, received cursor, last error.
pub fn peer_table(peers: &[PeerView]) -> Table {
    let mut table = Table::new([
        "JURISDICTION",
        "ENDPOINT",
        "KEY ID",
        "CONNECTED",
        "LAST CONTACT",
        "OUTBOX",
        "RECEIVED",
        "LAST ERROR",
    ]);
    for p in peers {
        table.row([
            p.jurisdiction.clone(),
            p.endpoint.clone(),
            match p.retired_signing_keys.len() {
                0 => p.signing_key_id.clone(),
                n => format!("{} (+{n} retired)", p.signing_key_id),
            },
            yes_no(p.link.connected).to_owned(),
            p.link
                .last_contact
                .clone()
                .unwrap_or_else(|| time_or_never(0)),
            p.outbox_pending.to_string(),
            p.received_cursor.to_string(),
            or_dash(
                p.link
                    .last_error
                    .as_deref()
                    .or(p.link.delivery_error.as_deref())
                    .unwrap_or(""),
            ),
        ]);
    }
    table
}

pub fn render_peers(peers: &[PeerView]) -> String {
    if peers.is_empty() {
        "No peers registered. Add one with: concord peer add --trust FILE\n".to_owned()
    } else {
        peer_table(peers).render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(j: &str, connected: bool, contact: i64, error: &str) -> pb::Peer {
        pb::Peer {
            trust: Some(pb::TrustBundle {
                jurisdiction: j.into(),
                endpoint: format!("127.0.0.1:740{}", j.len()),
                ..Default::default()
            }),
            signing_key_id: "0123456789abcdef".into(),
            link: Some(pb::LinkState {
                connected,
                last_contact_unix_ms: contact,
                last_error: error.into(),
                delivery_error: String::new(),
            }),
            outbox_pending: if connected { 0 } else { 3 },
            received_cursor: if connected { 12 } else { 0 },
            ..Default::default()
        }
    }

    #[test]
    fn renders_the_peer_table() {
        let views: Vec<PeerView> = [
            peer("FR", true, 1_700_000_000_000, ""),
            peer("JP", false, 0, "tls: unknown issuer"),
        ]
        .iter()
        .map(PeerView::from)
        .collect();
        assert_eq!(
            views[1].link.last_error.as_deref(),
            Some("tls: unknown issuer")
        );
        assert_eq!(views[0].link.last_error, None);
        assert_eq!(
            render_peers(&views),
            "\
JURISDICTION  ENDPOINT        KEY ID            CONNECTED  LAST CONTACT              OUTBOX  RECEIVED  LAST ERROR
FR            127.0.0.1:7402  0123456789abcdef  yes        2023-11-14T22:13:20.000Z  0       12        -
JP            127.0.0.1:7402  0123456789abcdef  no         never                     3       0         tls: unknown issuer
"
        );
        assert!(render_peers(&[]).contains("No peers"));
    }

    #[test]
    fn peers_without_optional_parts_still_render() {
        let view = PeerView::from(&pb::Peer::default());
        assert!(!view.link.connected);
        assert_eq!(view.link.last_contact, None);
    }

    #[test]
    fn unreadable_or_bad_bundles_are_invalid_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read_bundle(&dir.path().join("none.toml")).unwrap_err();
        assert_eq!(missing.exit_code(), 6);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "jurisdiction = \"FR\"\n").unwrap();
        assert_eq!(read_bundle(&bad).unwrap_err().exit_code(), 6);
    }
}
