//! `concord backup` (admin, online: a consistent snapshot of the running
//! node's store) and `concord restore` (offline: into an empty data
//! directory, after verifying the whole file). Format: docs/AUDIT.md.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use concord_node::backup::{self, BackupError};
use concord_proto::v1 as pb;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::client::{rpc_error, Clients};
use crate::exit::{CliError, ErrorKind};
use crate::output::{bytes, print_json, print_text, rfc3339, OutputFormat};
use crate::output_file::OutputFile;
use crate::profile::Profile;

/// A backup copies the whole store before the node answers; allow for that.
const BACKUP_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// File to write (mode 0600); must not exist.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Backup file written by `concord backup`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Data directory to create; must not exist or be empty. Point the
    /// node's `data_dir` at it (with the same node.toml, keys and certificates).
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,
    /// The node's node.toml: the backup's seal must verify against this
    /// node's record-signing keys (current or retired).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "trust_bundle",
        conflicts_with = "trust_bundle"
    )]
    pub config: Option<PathBuf>,
    /// Trust the keys in this trust bundle instead (the jurisdiction's own
    /// bundle from `pki export-trust`, when the node's key files are lost).
    #[arg(long, value_name = "FILE")]
    pub trust_bundle: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct BackupView {
    file: String,
    jurisdiction: String,
    taken_at: Option<String>,
    entries: u64,
    trees: usize,
    size_bytes: u64,
}

impl BackupView {
    fn new(file: &Path, s: &backup::Summary) -> Self {
        BackupView {
            file: file.display().to_string(),
            jurisdiction: s.header.jurisdiction.clone(),
            taken_at: rfc3339(s.header.created_at_unix_ms),
            entries: s.entries,
            trees: s.trees,
            size_bytes: s.size,
        }
    }
}

pub async fn backup(
    args: BackupArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let out = &args.out;
    crate::output::check_new_file(out, "--out")?;
    let profile = Profile::required(profile)?;
    let mut admin = Clients::connect_within(&profile, BACKUP_TIMEOUT)
        .await?
        .admin
        .max_decoding_message_size(16 * 1024 * 1024);
    let bar = progress(output);
    bar.set_message("node is taking a snapshot");
    let mut stream = admin
        .backup(pb::BackupRequest {})
        .await
        .map_err(|s| rpc_error("Backup", &profile, &s))?
        .into_inner();

    let mut file = OutputFile::create(out)?;
    let mut received = 0u64;
    while let Some(chunk) = stream
        .message()
        .await
        .map_err(|s| rpc_error("Backup", &profile, &s))?
    {
        if chunk.total_bytes > 0 {
            bar.set_length(chunk.total_bytes);
            bar.set_message("downloading");
        }
        file.writer()
            .write_all(&chunk.data)
            .map_err(|e| file.error(e))?;
        received += chunk.data.len() as u64;
        bar.set_position(received);
    }
    bar.finish_and_clear();
    let written = file.finish()?;
    // Check what arrived before calling it a backup.
    let (summary, _sealed_by) = backup::check(written.path()).map_err(|e| {
        CliError::internal(format!(
            "the backup received from the node does not verify: {e}"
        ))
    })?;
    written.persist()?;
    let view = BackupView::new(out, &summary);
    match output {
        OutputFormat::Json => print_json(&view),
        OutputFormat::Table => print_text(&format!(
            "Backup of {} written to {} ({} entries in {} trees, {}), checksum verified.\n\
             Keep it as safe as the node's data: it holds everything the node stores.\n",
            view.jurisdiction,
            view.file,
            view.entries,
            view.trees,
            bytes(view.size_bytes)
        )),
    }
}

pub fn restore(args: RestoreArgs, output: OutputFormat) -> Result<(), CliError> {
    let summary = match (&args.config, &args.trust_bundle) {
        (Some(config), _) => {
            let config = concord_node::config::NodeConfig::load(config)
                .map_err(|e| CliError::config(e.to_string()))?;
            let jurisdiction = config.jurisdiction.to_string();
            let signer = concord_node::signing_keys::load(
                &config.signing_key,
                &config.retired_signing_keys,
                &jurisdiction,
            )
            .map_err(|e| CliError::config(e.to_string()))?;
            let trust = backup::Trust {
                jurisdiction: &jurisdiction,
                keys: signer.keyring(),
            };
            backup::restore(&args.from, &args.data_dir, &trust)
        }
        (None, Some(bundle)) => {
            let bundle = super::peer::read_bundle(bundle)?;
            let jurisdiction = bundle.jurisdiction.to_string();
            let trust = backup::Trust {
                jurisdiction: &jurisdiction,
                keys: bundle.keyring(),
            };
            backup::restore(&args.from, &args.data_dir, &trust)
        }
        (None, None) => {
            return Err(CliError::invalid_argument(
                "restore needs --config (the node's node.toml) or --trust-bundle to check the backup's seal",
            ))
        }
    }
    .map_err(restore_error)?;
    let view = BackupView::new(&args.from, &summary);
    match output {
        OutputFormat::Json => print_json(&serde_json::json!({
            "restored": view,
            "data_dir": args.data_dir.display().to_string(),
        })),
        OutputFormat::Table => print_text(&format!(
            "Restored the backup of {} taken {} ({} entries) into {}.\n\
             Start the node with data_dir pointing there, using the same keys and certificates.\n",
            view.jurisdiction,
            view.taken_at.as_deref().unwrap_or("at an unknown time"),
            view.entries,
            args.data_dir.display()
        )),
    }
}

fn restore_error(e: BackupError) -> CliError {
    let kind = match &e {
        BackupError::NotEmpty(_) => ErrorKind::AlreadyExists,
        BackupError::Format { .. }
        | BackupError::Schema { .. }
        | BackupError::UntrustedSeal { .. }
        | BackupError::BadSeal { .. }
        | BackupError::WrongJurisdiction { .. } => ErrorKind::InvalidArgument,
        BackupError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ErrorKind::InvalidArgument
        }
        BackupError::Io { .. } | BackupError::Store(_) => ErrorKind::Internal,
    };
    let message = match &e {
        BackupError::Format { .. } => format!("{e}; nothing was written"),
        _ => e.to_string(),
    };
    CliError::new(kind, message)
}

fn progress(output: OutputFormat) -> ProgressBar {
    use std::io::IsTerminal;
    let visible = output == OutputFormat::Table && std::io::stderr().is_terminal();
    let target = if visible {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let style = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30.cyan}] {bytes}/{total_bytes} {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(None, target).with_style(style);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}
