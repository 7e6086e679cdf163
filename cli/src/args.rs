//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Parser, Subcommand};

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
    Pki(PkiCommand),
    /// Manage the node's peer jurisdictions.
    #[command(subcommand)]
    Peer(PeerCommand),
    /// Show the node's identity, store and peer links.
    Status,
    /// Start a three-jurisdiction federation (DE, FR, JP) on this machine.
    Demo(DemoArgs),
    /// Measure a deployment: record exchange throughput and raise-to-stored
    /// latency, screening queries per second, task-force query latency.
    Bench(BenchArgs),
    /// Raise, list, show and watch risk alerts (analysts raise; analysts,
    /// officers and admins read).
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Issue, amend, revoke, list and show denial notices (officers issue;
    /// analysts, officers and admins read).
    #[command(subcommand)]
    Denial(DenialCommand),
    /// Manage sharing groups: named sets of jurisdictions a record can be sent to.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Revoke a client certificate or identity at once, list and lift revocations (admin).
    #[command(subcommand)]
    Revocation(crate::cmd::revocation::RevocationCommand),
    /// Show evidence of peers signing conflicting records (equivocation).
    #[command(subcommand)]
    Evidence(EvidenceCommand),
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
}

#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create a jurisdiction CA, node and admin certificates, keys and node.toml.
    Init(InitArgs),
    /// Issue a certificate and profile for a person (admin, officer, analyst, taskforce).
    Issue(IssueArgs),
    /// Write the trust bundle a partner jurisdiction needs to add this node as a peer.
    ExportTrust(ExportTrustArgs),
    /// Replace the record-signing key (node stopped); the old key stays to verify what it signed before.
    RotateSigningKey(RotateSigningKeyArgs),
    /// Renew the node's TLS certificate from the jurisdiction CA (same identity and
    /// endpoint, new key); takes effect when the node restarts. Partners need nothing.
    RenewNode(ReissueArgs),
    /// Replace the jurisdiction CA (node stopped; after a CA key compromise): new CA,
    /// node and admin certificates; people's certificates must be reissued, and
    /// partners must `peer update --verified-out-of-band` with the new bundle.
    RotateCa(ReissueArgs),
}

#[derive(Debug, Args)]
pub struct RotateSigningKeyArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// The old key may have leaked from this time on (a duration ago such as
    /// 3d, or RFC 3339): what it signed since then stops verifying.
    /// Default: retire it now (a planned rotation).
    #[arg(long, value_name = "WHEN")]
    pub compromised_since: Option<String>,
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
    /// Renew: replace this holder's existing certificate, key and profile
    /// (revoke the old certificate too if it may be misused).
    #[arg(long)]
    pub replace: bool,
}

/// `pki renew-node` and `pki rotate-ca`: which node, and for how long its
/// reissued certificates are valid.
#[derive(Debug, Args)]
pub struct ReissueArgs {
    /// Directory made by `concord pki init`.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Validity of the reissued node (and admin) certificates in days; a new CA gets 10 years.
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

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the three node directories (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Stop the nodes as soon as every link is up, instead of waiting for Ctrl-C.
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Start a throw-away federation of N nodes on this machine (2-8) and
    /// measure it: every part unless --only says otherwise.
    #[arg(long, value_name = "N")]
    pub local: Option<usize>,
    /// Parts to measure, comma-separated: exchange, screening, taskforce.
    /// Default: all with --local; otherwise each part whose profile is given.
    #[arg(long, value_delimiter = ',', value_name = "PART,...")]
    pub only: Vec<String>,
    /// Requests in flight at once (raising alerts, single screening queries).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,

    // Record exchange.
    /// Exchange: analyst profile at the node that raises (instead of --local).
    #[arg(long, value_name = "FILE")]
    pub raise_profile: Option<PathBuf>,
    /// Exchange: recipient jurisdictions, one per --watch-profile, in the same order.
    #[arg(long, value_delimiter = ',', value_name = "J,J")]
    pub to: Vec<String>,
    /// Exchange: analyst profile at each recipient's node (repeatable).
    #[arg(long, value_name = "FILE")]
    pub watch_profile: Vec<PathBuf>,
    /// Exchange: alerts to raise.
    #[arg(long, default_value_t = 1000)]
    pub records: usize,

    // Screening.
    /// Screening: analyst, officer or admin profile at the node to screen
    /// against its lists (instead of --local).
    #[arg(long, value_name = "FILE")]
    pub screen_profile: Option<PathBuf>,
    /// Screening: single Query calls to make.
    #[arg(long, value_name = "Q", default_value_t = 2000)]
    pub screen_queries: usize,
    /// Screening: names per QueryBatch call when screening the same names in
    /// batches afterwards (at most 1000; 0 skips the batch phase).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub screen_batch: usize,
    /// Screening: names to screen, one a line, repeated or cut to
    /// --screen-queries (default: generated names, a quarter of them unlisted).
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    /// Screening with --local: format of --watchlist (ofac-csv, bis-dpl,
    /// csl-csv, jsonl, un-xml, eu-fsf, uk-ofsi, ftm).
    #[arg(long, value_name = "FORMAT")]
    pub watchlist_format: Option<String>,
    /// Screening with --local: the list to import into the first node (a
    /// folder for ofac-csv, else a file); default: a synthetic list.
    #[arg(long, value_name = "PATH")]
    pub watchlist: Option<PathBuf>,
    /// Screening with --local: entries of the synthetic list.
    #[arg(long, value_name = "N", default_value_t = 3000)]
    pub watchlist_entries: usize,

    // Task forces.
    /// Task force: member profile (role taskforce) at its home node (instead of --local).
    #[arg(long, value_name = "FILE")]
    pub taskforce_profile: Option<PathBuf>,
    /// Task force: its name (with --local, the one registered; default bench).
    #[arg(long, value_name = "NAME")]
    pub taskforce: Option<String>,
    /// Task force: the party asked about.
    #[arg(long, value_name = "NAME", default_value = "Acme Trading FZE")]
    pub taskforce_party: String,
    /// Task force: party queries to make.
    #[arg(long, value_name = "Q", default_value_t = 200)]
    pub taskforce_queries: usize,
    /// Task force: queries in flight at once.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub taskforce_concurrency: usize,
}

/// Who a new record goes to. Recipients are the named jurisdictions plus the
/// members of the named sharing groups.
#[derive(Debug, Clone, Default, Args)]
pub struct DistributionArgs {
    /// Recipient jurisdictions, comma-separated or repeated, e.g. DE,FR.
    #[arg(long, value_name = "J,...", value_delimiter = ',')]
    pub to: Vec<String>,
    /// A sharing group of this node whose members receive the record (repeatable).
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Raise a risk alert and send it to the named recipients (analyst).
    Raise(RaiseAlertArgs),
    /// List the alerts held on this node (issued here or received), newest first.
    List(AlertListArgs),
    /// Show an alert, its signature check and, for own alerts, its deliveries.
    Show {
        /// Alert id, e.g. DE-A-12.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Print alerts as they arrive or are raised, one line each, until Ctrl-C.
    Watch,
}

#[derive(Debug, Clone, Args)]
pub struct RaiseAlertArgs {
    /// high-risk-destination, diversion-suspected, failed-end-use-verification,
    /// suspicious-payment, suspicious-shipment or other.
    #[arg(long, value_name = "CATEGORY")]
    pub category: String,
    /// low, medium, high or critical.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: String,
    /// What the alert is about, in a sentence or two.
    #[arg(long, value_name = "TEXT")]
    pub summary: String,
    /// A party the alert concerns (repeatable).
    #[arg(long = "subject-party", value_name = "NAME")]
    pub subject_parties: Vec<String>,
    /// A destination country the alert concerns (repeatable), e.g. ZZ.
    #[arg(long = "subject-destination", value_name = "CC")]
    pub subject_destinations: Vec<String>,
    /// A control-list item code the alert concerns (repeatable), e.g. 3A001.
    #[arg(long = "subject-item", value_name = "CODE")]
    pub subject_items: Vec<String>,
    /// A shipment reference the alert concerns (repeatable).
    #[arg(long = "subject-shipment", value_name = "REF")]
    pub subject_shipments: Vec<String>,
    /// An indicator behind the alert (repeatable).
    #[arg(long = "indicator", value_name = "TEXT")]
    pub indicators: Vec<String>,
    /// Handling marking, e.g. "RESTRICTED - partners only".
    #[arg(long, value_name = "TEXT")]
    pub handling: Option<String>,
    /// Expire the alert after this long, e.g. 12h or 7d (default: never).
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    #[command(flatten)]
    pub distribution: DistributionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AlertListArgs {
    /// Only alerts issued by this jurisdiction.
    #[arg(long, value_name = "J")]
    pub issuer: Option<String>,
    /// Only alerts of this category.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Only alerts of this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<String>,
    /// Only alerts issued since this RFC 3339 time, or this long ago (e.g. 24h).
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Only alerts that have not expired.
    #[arg(long)]
    pub active: bool,
    /// At most this many alerts.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum DenialCommand {
    /// Issue a denial notice and send it to the named recipients (officer).
    Issue(IssueDenialArgs),
    /// Issue the next version of one of this node's denials with changes (officer).
    Amend(AmendDenialArgs),
    /// Revoke one of this node's denials (officer).
    Revoke {
        /// Denial id, e.g. FR-D-7.
        #[arg(value_name = "ID")]
        id: String,
        /// Why the denial is revoked.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// List the denials held on this node (their current versions), newest first.
    List(DenialListArgs),
    /// Show every version of a denial and its current state.
    Show {
        /// Denial id, e.g. FR-D-7.
        #[arg(value_name = "ID")]
        id: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct IssueDenialArgs {
    /// Name of the denied party.
    #[arg(long, value_name = "NAME")]
    pub party: String,
    /// Another name the party is known by (repeatable).
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,
    /// The party's country, e.g. ZZ.
    #[arg(long, value_name = "CC")]
    pub party_country: String,
    /// The party's address.
    #[arg(long, value_name = "TEXT")]
    pub party_address: Option<String>,
    #[command(flatten)]
    pub items: ItemArgs<true>,
    /// Destination country of the denied export.
    #[arg(long, value_name = "CC")]
    pub destination: String,
    /// Why the export was denied.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Stated end use of the denied export.
    #[arg(long, value_name = "TEXT")]
    pub end_use: Option<String>,
    /// The denial ends after this long, e.g. 365d (default: no end date).
    #[arg(long, value_name = "DURATION")]
    pub valid_for: Option<String>,
    #[command(flatten)]
    pub distribution: DistributionArgs,
}

#[derive(Debug, Clone, Args)]
pub struct AmendDenialArgs {
    /// Denial id, e.g. FR-D-7.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Why the denial changes (recorded as the new version's change reason).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// New name of the denied party (other party details are kept unless given).
    #[arg(long, value_name = "NAME")]
    pub party: Option<String>,
    /// Replace the party's aliases (repeatable).
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,
    /// New country of the party.
    #[arg(long, value_name = "CC")]
    pub party_country: Option<String>,
    /// New address of the party.
    #[arg(long, value_name = "TEXT")]
    pub party_address: Option<String>,
    /// Replace the denied items.
    #[command(flatten)]
    pub items: ItemArgs<false>,
    /// New destination country.
    #[arg(long, value_name = "CC")]
    pub destination: Option<String>,
    /// New stated end use.
    #[arg(long, value_name = "TEXT")]
    pub end_use: Option<String>,
    /// Replace the stated reason for the denial itself.
    #[arg(long, value_name = "TEXT")]
    pub denial_reason: Option<String>,
    /// The denial now ends this long from now, e.g. 90d.
    #[arg(long, value_name = "DURATION")]
    pub valid_for: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DenialListArgs {
    /// Only denials issued by this jurisdiction.
    #[arg(long, value_name = "J")]
    pub issuer: Option<String>,
    /// Only denials issued since this RFC 3339 time, or this long ago (e.g. 30d).
    #[arg(long, value_name = "TIME|DURATION")]
    pub since: Option<String>,
    /// Only denials in force (not revoked, not past their end date).
    #[arg(long)]
    pub active: bool,
    /// At most this many denials.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// One denied item: a control-list code and an optional description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemArg {
    pub code: String,
    pub description: String,
}

/// `--item CODE [--item-description TEXT]`, repeatable: each description
/// belongs to the `--item` just before it. `REQUIRED`: at least one item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemArgs<const REQUIRED: bool> {
    pub items: Vec<ItemArg>,
}

const ITEM: &str = "item";
const ITEM_DESCRIPTION: &str = "item_description";

impl<const REQUIRED: bool> Args for ItemArgs<REQUIRED> {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.arg(
            Arg::new(ITEM)
                .long("item")
                .value_name("CODE")
                .action(ArgAction::Append)
                .required(REQUIRED)
                .help("A denied control-list item code, e.g. 3A001 (repeatable)"),
        )
        .arg(
            Arg::new(ITEM_DESCRIPTION)
                .long("item-description")
                .value_name("TEXT")
                .action(ArgAction::Append)
                .requires(ITEM)
                .help("Description of the --item just before it"),
        )
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl<const REQUIRED: bool> FromArgMatches for ItemArgs<REQUIRED> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        pair_items(matches).map(|items| ItemArgs { items })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// Pairs each `--item-description` with the `--item` before it on the
/// command line.
fn pair_items(matches: &ArgMatches) -> Result<Vec<ItemArg>, clap::Error> {
    let indexed = |id: &str| -> Vec<(usize, String)> {
        match (matches.indices_of(id), matches.get_many::<String>(id)) {
            (Some(indices), Some(values)) => indices.zip(values.cloned()).collect(),
            _ => Vec::new(),
        }
    };
    let codes = indexed(ITEM);
    let mut items: Vec<ItemArg> = codes
        .iter()
        .map(|(_, code)| ItemArg {
            code: code.clone(),
            description: String::new(),
        })
        .collect();
    for (at, description) in indexed(ITEM_DESCRIPTION) {
        let owner = codes.iter().rposition(|(i, _)| *i < at).ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--item-description {description:?} must follow the --item it describes\n"),
            )
        })?;
        let item = &mut items[owner];
        if !item.description.is_empty() {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--item {} has more than one --item-description\n",
                    item.code
                ),
            ));
        }
        item.description = description;
    }
    Ok(items)
}

#[derive(Debug, Subcommand)]
pub enum GroupCommand {
    /// Create a sharing group (admin).
    Create {
        /// Group name, e.g. partners.
        #[arg(value_name = "NAME")]
        name: String,
        /// Member jurisdictions, comma-separated or repeated, e.g. FR,JP.
        #[arg(long, value_name = "J,...", value_delimiter = ',', required = true)]
        members: Vec<String>,
    },
    /// List the sharing groups (admin).
    List,
    /// Remove a sharing group (admin).
    Remove {
        /// Group name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// List equivocation evidence: two different records signed by one peer
    /// under one (issuer, id, version) (admin).
    List,
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
