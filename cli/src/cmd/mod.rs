//! One file per command. Each command returns a [`CliError`] on failure and
//! prints its result in the requested [`OutputFormat`].

pub mod demo;
pub mod peer;
pub mod pki;
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
    }
}
