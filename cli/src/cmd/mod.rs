//! One file per command. Each command returns a [`CliError`] on failure and
//! prints its result in the requested [`OutputFormat`].

pub mod alert;
pub mod demo;
pub mod denial;
pub mod evidence;
pub mod group;
pub mod peer;
pub mod pki;
pub mod records;
pub mod status;

use crate::args::{Cli, Command};
use crate::exit::CliError;

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let output = cli.output;
    let profile = cli.profile.as_deref();
    match cli.command {
        Command::Pki(cmd) => pki::run(cmd, output),
        Command::Peer(cmd) => peer::run(cmd, profile, output).await,
        Command::Status => status::run(profile, output).await,
        Command::Demo(args) => demo::run(args, output).await,
        Command::Alert(cmd) => alert::run(cmd, profile, output).await,
        Command::Denial(cmd) => denial::run(cmd, profile, output).await,
        Command::Group(cmd) => group::run(cmd, profile, output).await,
        Command::Evidence(cmd) => evidence::run(cmd, profile, output).await,
    }
}
