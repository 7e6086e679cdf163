//! `concord bench` arguments: what to measure and against what; `select`
//! checks them together before anything starts.

use std::path::PathBuf;

use clap::Args;

use crate::exit::CliError;

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

/// The node's largest QueryBatch.
pub const MAX_BATCH: usize = 1000;

/// Which parts run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub exchange: bool,
    pub screening: bool,
    pub taskforce: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        exchange: true,
        screening: true,
        taskforce: true,
    };
    pub const NONE: Parts = Parts {
        exchange: false,
        screening: false,
        taskforce: false,
    };

    /// `--only`, if given; `None` when it was not.
    pub fn parse(only: &[String]) -> Result<Option<Parts>, CliError> {
        let mut parts = Parts::NONE;
        let mut any = false;
        for p in only.iter().map(|p| p.trim().to_ascii_lowercase()) {
            match p.as_str() {
                "" => continue,
                "exchange" => parts.exchange = true,
                "screening" => parts.screening = true,
                "taskforce" => parts.taskforce = true,
                _ => {
                    return Err(CliError::invalid_argument(format!(
                        "--only: {p:?} is not exchange, screening or taskforce"
                    )))
                }
            }
            any = true;
        }
        Ok(any.then_some(parts))
    }
}

/// The parts to run, after checking which flags go together.
pub fn select(args: &BenchArgs) -> Result<Parts, CliError> {
    let only = Parts::parse(&args.only)?;
    if args.concurrency == 0 {
        return Err(CliError::invalid_argument("--concurrency must be positive"));
    }
    if args.watchlist.is_some() != args.watchlist_format.is_some() {
        return Err(CliError::invalid_argument(
            "--watchlist and --watchlist-format go together",
        ));
    }
    let parts = if args.local.is_some() {
        let profiles = [
            ("--raise-profile", args.raise_profile.is_some()),
            ("--watch-profile", !args.watch_profile.is_empty()),
            ("--to", !args.to.is_empty()),
            ("--screen-profile", args.screen_profile.is_some()),
            ("--taskforce-profile", args.taskforce_profile.is_some()),
        ];
        if let Some((flag, _)) = profiles.iter().find(|(_, given)| *given) {
            return Err(CliError::invalid_argument(format!(
                "--local starts its own federation; {flag} is for measuring existing nodes"
            )));
        }
        only.unwrap_or(Parts::ALL)
    } else {
        if args.watchlist.is_some() {
            return Err(CliError::invalid_argument(
                "--watchlist is for --local; against existing nodes the bench screens against the lists the node holds",
            ));
        }
        let given = Parts {
            exchange: args.raise_profile.is_some(),
            screening: args.screen_profile.is_some(),
            taskforce: args.taskforce_profile.is_some(),
        };
        let parts = only.unwrap_or(given);
        for (wanted, has, flag, name) in [
            (
                parts.exchange,
                given.exchange,
                "--raise-profile",
                "exchange",
            ),
            (
                parts.screening,
                given.screening,
                "--screen-profile",
                "screening",
            ),
            (
                parts.taskforce,
                given.taskforce,
                "--taskforce-profile",
                "taskforce",
            ),
        ] {
            if wanted && !has {
                return Err(CliError::invalid_argument(format!(
                    "the {name} part needs {flag} (or --local N)"
                )));
            }
        }
        if parts.exchange && (args.to.is_empty() || args.watch_profile.len() != args.to.len()) {
            return Err(CliError::invalid_argument(
                "--to must name one jurisdiction per --watch-profile (an analyst profile at that jurisdiction's node)",
            ));
        }
        if parts.taskforce && args.taskforce.is_none() {
            return Err(CliError::invalid_argument(
                "--taskforce-profile needs --taskforce NAME (the task force to query)",
            ));
        }
        parts
    };
    if parts == Parts::NONE {
        return Err(CliError::invalid_argument(
            "nothing to measure: give --local N, or --raise-profile (with --to and --watch-profile), --screen-profile, --taskforce-profile (with --taskforce)",
        ));
    }
    if parts.exchange && args.records == 0 {
        return Err(CliError::invalid_argument("--records must be positive"));
    }
    if parts.screening {
        if args.screen_queries == 0 {
            return Err(CliError::invalid_argument(
                "--screen-queries must be positive",
            ));
        }
        if args.screen_batch > MAX_BATCH {
            return Err(CliError::invalid_argument(format!(
                "--screen-batch takes at most {MAX_BATCH} names (0 skips the batch phase)"
            )));
        }
        if args.local.is_some() && args.watchlist.is_none() && args.watchlist_entries == 0 {
            return Err(CliError::invalid_argument(
                "--watchlist-entries must be positive",
            ));
        }
    }
    if parts.taskforce {
        if args.taskforce_queries == 0 || args.taskforce_concurrency == 0 {
            return Err(CliError::invalid_argument(
                "--taskforce-queries and --taskforce-concurrency must be positive",
            ));
        }
        if args.taskforce_party.trim().is_empty() {
            return Err(CliError::invalid_argument(
                "--taskforce-party must name a party",
            ));
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_parse() {
        assert_eq!(Parts::parse(&[]).unwrap(), None);
        let p = Parts::parse(&["screening".into(), " TaskForce".into()])
            .unwrap()
            .unwrap();
        assert!(!p.exchange && p.screening && p.taskforce);
        assert_eq!(Parts::parse(&["risk".into()]).unwrap_err().exit_code(), 6);
    }
}
