//! `concord`: the administrator's command-line tool for a Concord node.
//!
//! # Layout
//! - `args`: the global flags and the `Command` enum (clap derive); each
//!   command's own arguments live beside it in `cmd/`.
//! - `exit`: `CliError`, failure kinds, exit codes, classification of gRPC errors.
//! - `output`: tables, key/value blocks and JSON on stdout.
//! - `profile`: admin profiles (`*.profile.toml`).
//! - `client`: `Clients::connect(profile)`, every service's client over one
//!   mutual-TLS channel, for every command.
//! - `duration`: `--expires-in 12h`-style durations and `--since` times.
//! - `nodes`: child `concord-node` processes for the demo.
//! - `local`: throw-away local federations (demo, bench); `progress`: indicatif
//!   bars and spinners shown only to a person at a terminal.
//! - `cmd`: one file or directory per command (`pki`, `peer`, `status`, `demo`,
//!   `alert`, `denial`, `group`, `evidence`, `consult`, `license/`, `audit/`,
//!   `bench/`, ...), plus `records`, the rendering of exchanged records they share.
//!
//! Architecture invariant: `anyhow` lives only in this file; commands return
//! `CliError`, whose kind decides the exit code.

mod args;
mod client;
mod cmd;
mod duration;
mod exit;
mod local;
mod nodes;
mod output;
mod output_file;
mod paging;
mod profile;
mod progress;
mod tls_probe;

use std::process::ExitCode;

use clap::Parser;

use crate::exit::{CliError, ErrorKind, EXIT_OK};

fn main() -> ExitCode {
    // Another component may already have installed it; either way ring is used.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = args::Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(err) => {
            let err = match err.downcast::<CliError>() {
                Ok(e) => e,
                Err(other) => CliError::new(ErrorKind::Internal, format!("{other:#}")),
            };
            eprintln!("{}", err.line());
            ExitCode::from(err.exit_code())
        }
    }
}

fn run(cli: args::Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    let profile = cli.profile.clone();
    runtime.block_on(async move {
        match cmd::run(cli).await {
            Err(err) => {
                // A refused client certificate often arrives as a bare "connection closed".
                match profile.as_deref().map(profile::Profile::load) {
                    Some(Ok(p)) => Err(tls_probe::explain(&p, err).await.into()),
                    _ => Err(err.into()),
                }
            }
            Ok(()) => Ok(()),
        }
    })
}
