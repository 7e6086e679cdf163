//! `concord audit verify|export|checkpoint|verify-export`: the node's
//! tamper-evident audit trail (admin), and offline verification of an
//! export with nothing but the node's public key (docs/AUDIT.md). The export
//! format and its verification are the node library's
//! (`concord_node::audit::export`); these commands only call them.

pub mod checkpoint;
pub mod export;
pub mod verify;
pub mod verify_export;

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::exit::CliError;
use crate::output::OutputFormat;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the audit chain and every signed checkpoint (admin). Exits 9
    /// (failed-precondition) naming the first broken entry.
    Verify {
        /// Also ask every peer for the checkpoints of this node it holds as a
        /// witness, and check them against the chain.
        #[arg(long)]
        with_witnesses: bool,
        /// Also verify every held record envelope in full against its
        /// issuer's keys (reads trust the digest recorded when a record was
        /// verified on arrival; this finds a store edited behind the node's back).
        #[arg(long)]
        records: bool,
    },
    /// Write the audit trail to a JSON Lines file for an auditor (admin).
    Export {
        /// File to write; must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only entries from this sequence number on.
        #[arg(long, value_name = "SEQ", conflicts_with = "since_time",
              value_parser = clap::value_parser!(u64).range(1..))]
        since: Option<u64>,
        /// Only entries made since this RFC 3339 time (or this long ago, e.g. 30d).
        #[arg(long, value_name = "TIME")]
        since_time: Option<String>,
    },
    /// Sign a checkpoint of the audit chain's head now (admin); peers receive
    /// it as witnesses.
    Checkpoint,
    /// Verify an export file offline: every entry hash, every link, every
    /// checkpoint signature. Needs no node and no certificate.
    VerifyExport {
        /// File written by `concord audit export`.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The node's record-signing public key (hex, from its trust bundle).
        /// Without it the key written in the file itself is used, which only
        /// proves consistency: compare the printed key id out of band.
        #[arg(long, value_name = "HEX")]
        public_key: Option<String>,
    },
}

pub async fn run(
    cmd: AuditCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        AuditCommand::Verify {
            with_witnesses,
            records,
        } => verify::verify(profile, with_witnesses, records, output).await,
        AuditCommand::Export {
            out,
            since,
            since_time,
        } => export::export(profile, &out, since, since_time.as_deref(), output).await,
        AuditCommand::Checkpoint => checkpoint::checkpoint(profile, output).await,
        AuditCommand::VerifyExport { file, public_key } => {
            verify_export::verify_export(&file, public_key.as_deref(), output)
        }
    }
}
