//! One file or directory per command, owning its clap arguments. Each
//! command gets its clients from `client::Clients::connect`, returns a
//! [`CliError`] on failure and prints its result in the requested
//! [`OutputFormat`].

pub mod alert;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod catalog;
pub mod consult;
pub mod demo;
pub mod demo_consult;
pub mod denial;
pub mod disclosure;
pub mod enduse;
pub mod evidence;
pub mod group;
pub mod license;
pub mod partner_licence;
pub mod party;
pub mod peer;
pub mod pki;
pub mod query;
pub mod record_calls;
pub mod records;
pub mod retention;
pub mod revocation;
pub mod risk;
pub mod screen;
pub mod screen_lists;
pub mod shipment;
pub mod stats;
pub mod status;
pub mod taskforce;
pub mod waiver;

use crate::args::{Cli, Command};
use crate::exit::CliError;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let output = cli.output;
    let profile = cli.profile.as_deref();
    match cli.command {
        Command::Pki(cmd) => pki::run(cmd, output).await,
        Command::Peer(cmd) => peer::run(cmd, profile, output).await,
        Command::Status => status::run(profile, output).await,
        Command::Demo(args) => demo::run(args, output).await,
        Command::Bench(args) => bench::run(args, output).await,
        Command::Alert(cmd) => alert::run(cmd, profile, output).await,
        Command::Denial(cmd) => denial::run(cmd, profile, output).await,
        Command::Group(cmd) => group::run(cmd, profile, output).await,
        Command::Revocation(cmd) => revocation::run(cmd, profile, output).await,
        Command::Evidence(cmd) => evidence::run(cmd, profile, output).await,
        Command::Screen(cmd) => screen::run(cmd, profile, output).await,
        Command::Catalog(cmd) => catalog::run(cmd, profile, output).await,
        Command::Party(cmd) => party::run(cmd, profile, output).await,
        Command::License(cmd) => license::run(cmd, profile, output).await,
        Command::Waiver(cmd) => waiver::run(cmd, profile, output).await,
        Command::Risk(cmd) => risk::run(cmd, profile, output).await,
        Command::Shipment(cmd) => shipment::run(cmd, profile, output).await,
        Command::Enduse(cmd) => enduse::run(cmd, profile, output).await,
        Command::Disclosure(cmd) => disclosure::run(cmd, profile, output).await,
        Command::Audit(cmd) => audit::run(cmd, profile, output).await,
        Command::Backup(args) => backup::backup(args, profile, output).await,
        Command::Restore(args) => backup::restore(args, output),
        Command::Retention(cmd) => retention::run(cmd, profile, output).await,
        Command::ResumeIssuing { reason } => status::resume_issuing(&reason, profile, output).await,
        Command::Stats(args) => stats::run(args, profile, output).await,
        Command::Taskforce(cmd) => taskforce::run(cmd, profile, output).await,
        Command::Query(cmd) => query::run(cmd, profile, output).await,
        Command::Consult(cmd) => consult::run(cmd, profile, output).await,
        Command::PartnerLicence(cmd) => partner_licence::run(cmd, profile, output).await,
    }
}
