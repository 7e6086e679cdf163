//! `concord revocation add|list|lift`: cut off a client certificate or a
//! whole identity at once, without waiting for the certificate to expire
//! (admin).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use concord_proto::v1 as pb;
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::CliError;
use crate::output::{or_dash, print_json, print_text, rfc3339, OutputFormat, Table};
use crate::profile::Profile;

#[derive(Debug, Subcommand)]
pub enum RevocationCommand {
    /// Revoke one certificate (--cert) or every certificate of an identity
    /// (--identity); refused by every service from the next call on.
    Add {
        /// An identity such as DE/officer/olivia: all its certificates, until lifted.
        #[arg(
            long,
            value_name = "J/ROLE/NAME",
            conflicts_with = "cert",
            required_unless_present = "cert"
        )]
        identity: Option<String>,
        /// A certificate file (PEM): just this certificate; a new one for the same person works.
        #[arg(long, value_name = "FILE")]
        cert: Option<PathBuf>,
        /// Why, for the audit trail.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// List the revocations in force.
    List,
    /// Lift a revocation by its key (as `list` shows it).
    Lift {
        /// e.g. "identity DE/analyst/ana" or "certificate <sha256 hex>".
        #[arg(value_name = "KEY")]
        key: String,
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
}

pub async fn run(
    cmd: RevocationCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        RevocationCommand::Add {
            identity,
            cert,
            reason,
        } => {
            let target = match (identity, cert) {
                (Some(identity), None) => pb::revoke_request::Target::Identity(identity),
                (None, Some(path)) => {
                    let pem = std::fs::read_to_string(&path).map_err(|e| {
                        CliError::invalid_argument(format!(
                            "cannot read certificate {}: {e}",
                            path.display()
                        ))
                    })?;
                    pb::revoke_request::Target::CertificatePem(pem)
                }
                _ => {
                    return Err(CliError::invalid_argument(
                        "name exactly one of --identity and --cert",
                    ))
                }
            };
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let r = client
                .revoke(pb::RevokeRequest {
                    target: Some(target),
                    reason,
                })
                .await
                .map_err(|s| rpc_error("Revoke", &profile, &s))?
                .into_inner();
            let view = RevocationView::from(&r);
            match output {
                OutputFormat::Json => print_json(&view),
                OutputFormat::Table => print_text(&format!(
                    "Revoked {} ({}); lift with: concord revocation lift {:?} --reason TEXT\n",
                    view.key, view.identity, view.key
                )),
            }
        }
        RevocationCommand::List => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let list = client
                .list_revocations(pb::ListRevocationsRequest {})
                .await
                .map_err(|s| rpc_error("ListRevocations", &profile, &s))?
                .into_inner()
                .revocations;
            let revocations: Vec<RevocationView> = list.iter().map(RevocationView::from).collect();
            match output {
                OutputFormat::Json => print_json(&RevocationList { revocations }),
                OutputFormat::Table => print_text(&render(&revocations)),
            }
        }
        RevocationCommand::Lift { key, reason } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.admin;
            let r = client
                .lift_revocation(pb::LiftRevocationRequest { key, reason })
                .await
                .map_err(|s| rpc_error("LiftRevocation", &profile, &s))?
                .into_inner();
            let view = RevocationView::from(&r);
            match output {
                OutputFormat::Json => print_json(&serde_json::json!({ "lifted": view })),
                OutputFormat::Table => print_text(&format!("Lifted {}\n", view.key)),
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RevocationList {
    pub revocations: Vec<RevocationView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevocationView {
    pub key: String,
    pub identity: String,
    /// Null for an identity revocation.
    pub certificate_sha256: Option<String>,
    pub reason: String,
    pub actor: String,
    pub revoked_at: Option<String>,
}

impl From<&pb::RevocationInfo> for RevocationView {
    fn from(r: &pb::RevocationInfo) -> Self {
        RevocationView {
            key: r.key.clone(),
            identity: r.identity.clone(),
            certificate_sha256: (!r.certificate_sha256_hex.is_empty())
                .then(|| r.certificate_sha256_hex.clone()),
            reason: r.reason.clone(),
            actor: r.actor.clone(),
            revoked_at: rfc3339(r.revoked_at_unix_ms),
        }
    }
}

fn render(revocations: &[RevocationView]) -> String {
    if revocations.is_empty() {
        return "No revocations in force.\n".to_owned();
    }
    let mut table = Table::new(["KEY", "IDENTITY", "REVOKED", "BY", "REASON"]);
    for r in revocations {
        table.row([
            r.key.clone(),
            r.identity.clone(),
            or_dash(r.revoked_at.as_deref().unwrap_or("")),
            r.actor.clone(),
            r.reason.clone(),
        ]);
    }
    table.render()
}
