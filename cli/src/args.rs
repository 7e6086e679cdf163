//! The top-level command line (clap derive): global flags and the command
//! enum. Each command's own arguments live beside it in `cmd/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::output::OutputFormat;

/// concord: run and administer a Concord node.
#[derive(Debug, Parser)]
#[command(name = "concord", version, about, long_about = None,
          after_long_help = crate::exit::codes_help())]
pub struct Cli {
    /// Profile naming the node and your client certificate (admin, analyst or
    /// officer; RPC commands).
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
    Pki(crate::cmd::pki::PkiCommand),
    /// Manage the node's peer jurisdictions.
    #[command(subcommand)]
    Peer(crate::cmd::peer::PeerCommand),
    /// Show the node's identity, store and peer links.
    Status,
    /// Start a three-jurisdiction federation (DE, FR, JP) on this machine.
    Demo(crate::cmd::demo::DemoArgs),
    /// Measure a deployment: record exchange throughput and raise-to-stored
    /// latency, screening queries per second, task-force query latency.
    Bench(crate::cmd::bench::args::BenchArgs),
    /// Raise, list, show and watch risk alerts (analysts raise; analysts,
    /// officers and admins read).
    #[command(subcommand)]
    Alert(crate::cmd::alert::AlertCommand),
    /// Issue, amend, revoke, list and show denial notices (officers issue;
    /// analysts, officers and admins read).
    #[command(subcommand)]
    Denial(crate::cmd::denial::DenialCommand),
    /// Manage sharing groups: named sets of jurisdictions a record can be sent to.
    #[command(subcommand)]
    Group(crate::cmd::group::GroupCommand),
    /// Revoke a client certificate or identity at once, list and lift revocations (admin).
    #[command(subcommand)]
    Revocation(crate::cmd::revocation::RevocationCommand),
    /// Show evidence of peers signing conflicting records (equivocation).
    #[command(subcommand)]
    Evidence(crate::cmd::evidence::EvidenceCommand),
    /// Denied-party screening: import watchlists (admin), screen names
    /// (analysts, officers, admins), list the watchlists.
    #[command(subcommand)]
    Screen(crate::cmd::screen::ScreenCommand),
    /// The control-list catalog: import a new version (admin), list, show a code's history.
    #[command(subcommand)]
    Catalog(crate::cmd::catalog::CatalogCommand),
    /// Parties licensing records name: create (officer), list, show.
    #[command(subcommand)]
    Party(crate::cmd::party::PartyCommand),
    /// License applications and decisions: submit, review, decide, appeal,
    /// revoke (officers); show and list.
    #[command(subcommand)]
    License(crate::cmd::license::LicenseCommand),
    /// Time-bounded waivers and carve-outs: create (officer), list.
    #[command(subcommand)]
    Waiver(crate::cmd::waiver::WaiverCommand),
    /// Risk scores of license applications with each factor's contribution,
    /// the applications flagged for review, the methodology (read-only).
    #[command(subcommand)]
    Risk(crate::cmd::risk::RiskCommand),
    /// Shipments against approved licenses: record (officer), list.
    #[command(subcommand)]
    Shipment(crate::cmd::shipment::ShipmentCommand),
    /// End-use checks: record (officer; a failed check can raise an alert), list.
    #[command(subcommand)]
    Enduse(crate::cmd::enduse::EnduseCommand),
    /// Voluntary disclosures: record (officer), list.
    #[command(subcommand)]
    Disclosure(crate::cmd::disclosure::DisclosureCommand),
    /// Verify, export and checkpoint the tamper-evident audit trail.
    #[command(subcommand)]
    Audit(crate::cmd::audit::AuditCommand),
    /// Write a consistent backup of the running node's store to a file (admin).
    Backup(crate::cmd::backup::BackupArgs),
    /// Restore a backup into a new, empty data directory (offline; the node is not running).
    Restore(crate::cmd::backup::RestoreArgs),
    /// Apply the node's retention policy now.
    #[command(subcommand)]
    Retention(crate::cmd::retention::RetentionCommand),
    /// Go on issuing after a peer reported holding records this node's
    /// store lost (admin): the sequence counter moves past them, audited.
    ResumeIssuing {
        /// Why (recorded in the audit trail), e.g. what was restored.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Counts of exchanged records; --public for publishable figures (admin).
    Stats(crate::cmd::stats::StatsArgs),
    /// Joint task forces this node takes part in: create and close (admin),
    /// list and show; keygen for blind-match keys.
    #[command(subcommand)]
    Taskforce(crate::cmd::taskforce::TaskForceCommand),
    /// Task-force questions to every member node (member), and detail
    /// requests (members ask, analysts of the answering node decide).
    #[command(subcommand)]
    Query(crate::cmd::query::QueryCommand),
    /// No-undercut consultations with a denying jurisdiction (officers) and
    /// breach consultations with a group (analysts): request, respond, list,
    /// show, check a license.
    #[command(subcommand)]
    Consult(crate::cmd::consult::ConsultCommand),
    /// Mutual recognition of licences: share an approved licence with
    /// partners as a signed notice, list the notices held, recognise or
    /// decline a partner's (officers).
    #[command(subcommand)]
    PartnerLicence(crate::cmd::partner_licence::PartnerLicenceCommand),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::denial::DenialCommand;
    use crate::cmd::peer::PeerCommand;
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

    fn items_of(args: &[&str]) -> Result<Vec<(String, String)>, clap::Error> {
        let mut argv = vec!["concord", "denial", "amend", "FR-D-1", "--reason", "r"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv)?;
        match cli.command {
            Command::Denial(DenialCommand::Amend(a)) => Ok(a
                .items
                .items
                .into_iter()
                .map(|i| (i.code, i.description))
                .collect()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pairs_item_descriptions_with_the_item_before_them() {
        let pair = |c: &str, d: &str| (c.to_owned(), d.to_owned());
        assert_eq!(items_of(&[]).unwrap(), vec![]);
        assert_eq!(
            items_of(&[
                "--item",
                "3A001",
                "--item",
                "ML4",
                "--item-description",
                "bombs",
                "--destination",
                "ZZ",
                "--item",
                "5A002",
                "--item-description",
                "crypto"
            ])
            .unwrap(),
            vec![
                pair("3A001", ""),
                pair("ML4", "bombs"),
                pair("5A002", "crypto")
            ]
        );
        assert_eq!(
            items_of(&["--item-description", "x", "--item", "A"])
                .unwrap_err()
                .exit_code(),
            2
        );
        assert!(items_of(&[
            "--item",
            "A",
            "--item-description",
            "x",
            "--item-description",
            "y"
        ])
        .is_err());
        // Issuing needs at least one item.
        let issue = [
            "concord",
            "denial",
            "issue",
            "--party",
            "P",
            "--party-country",
            "ZZ",
            "--destination",
            "ZZ",
            "--reason",
            "r",
        ];
        assert!(Cli::try_parse_from(issue).is_err());
        let mut with_item = issue.to_vec();
        with_item.extend(["--item", "3A001", "--to", "DE,JP", "--group", "g"]);
        let cli = Cli::try_parse_from(with_item).unwrap();
        let Command::Denial(DenialCommand::Issue(a)) = cli.command else {
            panic!("not an issue")
        };
        assert_eq!(a.items.items.len(), 1);
        assert_eq!(a.distribution.to, ["DE", "JP"]);
        assert_eq!(a.distribution.groups, ["g"]);
    }
}
