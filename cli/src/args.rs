//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::OutputFormat;

/// concord: run and administer a Concord node.
#[derive(Debug, Parser)]
#[command(name = "concord", version, about, long_about = None,
          after_long_help = crate::exit::codes_help())]
pub struct Cli {
    /// Admin profile naming the node and the client certificate (RPC commands).
    #[arg(long, global = true, env = "CONCORD_PROFILE", value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and manage a jurisdiction's certificates and keys.
    #[command(subcommand)]
    Pki(PkiCommand),
    /// Manage the node's peer jurisdictions.
    #[command(subcommand)]
    Peer(PeerCommand),
    /// Show the node's identity, store and peer links.
    Status,
    /// Start a three-jurisdiction federation (DE, FR, JP) on this machine.
    Demo(DemoArgs),
}

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create a jurisdiction CA, node and admin certificates, keys and node.toml.
    Init(InitArgs),
    /// Issue a certificate and profile for a person (admin, officer, analyst, taskforce).
    Issue(IssueArgs),
    /// Write the trust bundle a partner jurisdiction needs to add this node as a peer.
    ExportTrust(ExportTrustArgs),
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Jurisdiction code, e.g. DE.
    #[arg(long, value_name = "CODE")]
    pub jurisdiction: String,
    /// Directory to create the files in.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Address the node's gRPC server binds, e.g. 127.0.0.1:7401.
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: String,
    /// host:port peers and clients use to reach the node (default: --listen).
    #[arg(long, value_name = "HOST:PORT")]
    pub advertise: Option<String>,
    /// Loopback address of the Prometheus metrics listener.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub metrics_listen: String,
    /// Name of the node inside its jurisdiction.
    #[arg(long, value_name = "NAME", default_value = "node")]
    pub node_name: String,
    /// Name of the first administrator.
    #[arg(long, value_name = "NAME", default_value = "admin")]
    pub admin_name: String,
    /// Validity of the node and admin certificates in days (the CA gets 10 years).
    #[arg(long, value_name = "N", default_value_t = 365,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub days: i64,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// admin, officer, analyst or taskforce.
    #[arg(long, value_name = "ROLE")]
    pub role: String,
    /// Name of the certificate holder.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Validity in days.
    #[arg(long, value_name = "N", default_value_t = 365,
          value_parser = clap::value_parser!(i64).range(1..=36_500))]
    pub days: i64,
}

#[derive(Debug, Args)]
pub struct ExportTrustArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Trust bundle file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Register a peer jurisdiction from its trust bundle.
    Add {
        /// Trust bundle file written by the peer's `concord pki export-trust`.
        #[arg(long, value_name = "FILE")]
        trust: PathBuf,
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

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the three node directories (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Stop the nodes as soon as every link is up, instead of waiting for Ctrl-C.
    #[arg(long)]
    pub once: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_global_flags_anywhere() {
        let cli = Cli::try_parse_from([
            "concord",
            "peer",
            "list",
            "--output",
            "json",
            "--profile",
            "p.toml",
        ])
        .unwrap();
        assert_eq!(cli.output, OutputFormat::Json);
        assert_eq!(cli.profile, Some(PathBuf::from("p.toml")));
        assert!(matches!(cli.command, Command::Peer(PeerCommand::List)));
        let err =
            Cli::try_parse_from(["concord", "pki", "init", "--jurisdiction", "DE"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(Cli::try_parse_from([
            "concord", "pki", "issue", "--dir", "d", "--role", "admin", "--name", "a", "--days",
            "0"
        ])
        .is_err());
    }
}
