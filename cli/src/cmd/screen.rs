//! `concord screen import|query|lists|show|remove`: denied-party screening through the
//! node's ScreeningService. Importing a list needs an admin profile;
//! screening and listing an analyst, officer or admin profile.
//!
//! `import` parses the files here, with the node library's parsers (so the
//! node never parses files), reports every malformed row (no usable name or
//! id) with its file and line and skips it, reports every field kept as
//! written (an unknown country or type) as a warning, then streams the
//! entries to the node, which replaces the list atomically. Skipped rows or
//! warnings make the import exit 13 (`warnings`) after printing its summary.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use concord_node::screening::formats::{self, Format, Malformed};
use concord_node::screening::WatchlistEntry;
use concord_proto::v1 as pb;
use concord_proto::v1::import_list_request::Part;
use serde::Serialize;

use crate::client::{rpc_error, Clients, ScreeningClient};
use crate::exit::CliError;
use crate::output::{print_json, print_text, time_or_never, OutputFormat, Table};
use crate::profile::Profile;
use crate::progress::Progress;

#[derive(Debug, Subcommand)]
pub enum ScreenCommand {
    /// Import a public list, replacing the list of that name atomically (admin).
    /// Malformed rows are reported with their line numbers and skipped.
    Import(ImportArgs),
    /// Screen a name (or every line of --file) against the node's watchlists:
    /// imported lists and the denial notices the node holds.
    Query(QueryArgs),
    /// List the watchlists screened, with their sizes and import times.
    Lists,
    /// Print one listed entry: names, countries, programs, addresses, dates
    /// of birth, identifiers and expiry.
    Show(super::screen_lists::ShowArgs),
    /// Delete an imported list (admin; audited; needs --rationale).
    Remove(super::screen_lists::RemoveArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// ofac-csv (a folder with sdn.csv or cons_prim.csv, and their alt/add
    /// files), bis-dpl, csl-csv, jsonl, un-xml (UN Security Council
    /// consolidated list), eu-fsf (EU Financial Sanctions Files XML),
    /// uk-ofsi (UK OFSI consolidated list CSV) or ftm (OpenSanctions
    /// FollowTheMoney entities, one JSON object a line).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: Format,
    /// Name of the list to create or replace, e.g. ofac-sdn.
    #[arg(long, value_name = "NAME")]
    pub list: String,
    /// The list's folder (ofac-csv) or file.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The name to screen (several words are joined with spaces).
    #[arg(
        value_name = "NAME",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub name: Vec<String>,
    /// Screen every non-empty line of this file ("-": standard input); with
    /// --output json, one JSON object per line, in order.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Most matches per name (default 10, at most 100).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: Option<u32>,
    /// Lowest score reported, in (0, 1] (default: the node's, 0.85 unless configured).
    #[arg(long, value_name = "T", value_parser = parse_threshold)]
    pub threshold: Option<f64>,
    /// Only parties of this country, or with none on file (ISO code; repeatable or comma-separated).
    #[arg(long = "country", value_name = "CC", value_delimiter = ',')]
    pub countries: Vec<String>,
    /// Only this list (repeatable); default: every list.
    #[arg(long = "list", value_name = "NAME")]
    pub lists: Vec<String>,
}

fn parse_threshold(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(t) if t > 0.0 && t <= 1.0 => Ok(t),
        _ => Err(format!("{s:?} is not a number above 0 and at most 1")),
    }
}

/// Entries per streamed chunk, and a byte budget well under the node's message limit.
const CHUNK_ENTRIES: usize = 500;
const CHUNK_BYTES: usize = 1024 * 1024;
/// Names per QueryBatch call, and calls in flight while screening a file.
const BATCH: usize = 256;
const IN_FLIGHT: usize = 4;
/// An import of a large list may take longer than an ordinary call.
const IMPORT_TIMEOUT: Duration = Duration::from_secs(600);
/// Malformed rows listed in table output before summarizing.
const SHOWN_MALFORMED: usize = 50;

pub async fn run(
    cmd: ScreenCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        ScreenCommand::Import(args) => import(args, profile, output).await,
        ScreenCommand::Show(args) => super::screen_lists::show(args, profile, output).await,
        ScreenCommand::Remove(args) => super::screen_lists::remove(args, profile, output).await,
        ScreenCommand::Query(args) => {
            let options = options(&args)?;
            match &args.file {
                Some(file) => {
                    let names = read_names(file)?;
                    let profile = Profile::required(profile)?;
                    let client = Clients::connect(&profile).await?.screening;
                    query_file(client, &profile, names, options, output).await
                }
                None => {
                    let name = args.name.join(" ");
                    let profile = Profile::required(profile)?;
                    let mut client = Clients::connect(&profile).await?.screening;
                    let result = client
                        .query(pb::ScreenQuery {
                            name,
                            options: Some(options),
                        })
                        .await
                        .map_err(|s| rpc_error("Query", &profile, &s))?
                        .into_inner();
                    let out = ResultOut::from(&result);
                    match output {
                        OutputFormat::Json => print_json(&out),
                        OutputFormat::Table => print_text(&render_result(&out)),
                    }
                }
            }
        }
        ScreenCommand::Lists => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.screening;
            let lists = client
                .list_lists(pb::ListListsRequest {})
                .await
                .map_err(|s| rpc_error("ListLists", &profile, &s))?
                .into_inner()
                .lists;
            let out = ListsOut {
                lists: lists.iter().map(ListOut::from).collect(),
            };
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&render_lists(&out)),
            }
        }
    }
}

fn options(args: &QueryArgs) -> Result<pb::ScreenOptions, CliError> {
    let countries = args
        .countries
        .iter()
        .map(|c| {
            let c = c.trim().to_ascii_uppercase();
            if concord_node::screening::entry::is_country_code(&c) {
                Ok(c)
            } else {
                Err(CliError::invalid_argument(format!(
                    "--country {c:?}: expected a two-letter country code"
                )))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(pb::ScreenOptions {
        limit: args.limit.unwrap_or(0),
        threshold: args.threshold.unwrap_or(0.0),
        countries,
        lists: args.lists.clone(),
    })
}

fn read_names(file: &Path) -> Result<Vec<String>, CliError> {
    let text = if file == Path::new("-") {
        let mut lines = Vec::new();
        for line in std::io::stdin().lock().lines() {
            lines.push(line.map_err(|e| {
                CliError::invalid_argument(format!("cannot read standard input: {e}"))
            })?);
        }
        lines.join("\n")
    } else {
        std::fs::read_to_string(file).map_err(|e| {
            CliError::invalid_argument(format!("cannot read {}: {e}", file.display()))
        })?
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Screens `names` in batches, several in flight, printing each result in
/// input order as soon as it and all before it are back.
async fn query_file(
    client: ScreeningClient,
    profile: &Profile,
    names: Vec<String>,
    options: pb::ScreenOptions,
    output: OutputFormat,
) -> Result<(), CliError> {
    let mut batches = names.chunks(BATCH).map(<[String]>::to_vec);
    let mut in_flight = VecDeque::new();
    let spawn = |names: Vec<String>| {
        let mut client = client.clone();
        let options = options.clone();
        tokio::spawn(async move {
            client
                .query_batch(pb::ScreenBatchQuery {
                    names,
                    options: Some(options),
                })
                .await
                .map(|r| r.into_inner().results)
        })
    };
    for batch in batches.by_ref().take(IN_FLIGHT) {
        in_flight.push_back(spawn(batch));
    }
    while let Some(next) = in_flight.pop_front() {
        let results = next
            .await
            .map_err(|e| CliError::internal(format!("screening task failed: {e}")))?
            .map_err(|s| rpc_error("QueryBatch", profile, &s))?;
        if let Some(batch) = batches.next() {
            in_flight.push_back(spawn(batch));
        }
        for r in &results {
            let out = ResultOut::from(r);
            let text = match output {
                OutputFormat::Json => serde_json::to_string(&out)
                    .map_err(|e| CliError::internal(format!("cannot encode JSON output: {e}")))?,
                OutputFormat::Table => render_result(&out),
            };
            print_text(&text)?;
        }
    }
    Ok(())
}

async fn import(
    args: ImportArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let shown = args.path.display().to_string();
    let progress = Progress::new(output);
    let parsing = progress.spinner(&format!("reading {shown}"));
    let parsed = formats::read(args.format, &args.path);
    parsing.finish_and_clear();
    let parsed = parsed.map_err(|e| CliError::invalid_argument(e.to_string()))?;
    let malformed: Vec<MalformedOut> = parsed.malformed.iter().map(MalformedOut::from).collect();
    let warnings: Vec<MalformedOut> = parsed.warnings.iter().map(MalformedOut::from).collect();
    if output == OutputFormat::Table {
        report_malformed(&parsed.malformed, "skipped");
        report_malformed(&parsed.warnings, "warning:");
    }
    if parsed.entries.is_empty() {
        return Err(CliError::invalid_argument(format!(
            "{shown}: no usable entries ({} malformed rows); nothing imported",
            malformed.len()
        )));
    }

    let profile = Profile::required(profile)?;
    let mut client = import_client(&profile).await?;
    refuse_beyond_caps(&mut client, &args.list, &parsed.entries).await?;
    let total = parsed.entries.len();
    let bar = progress.bar(&format!("importing {total} entries"), total);
    let counted = bar.clone();
    let requests = requests(&args.list, args.format, parsed.entries)
        .into_iter()
        .inspect(move |r| {
            if let Some(Part::Entries(c)) = &r.part {
                counted.inc(c.entries.len() as u64);
            }
        });
    let result = client
        .import_list(tonic::codegen::tokio_stream::iter(requests))
        .await;
    bar.finish_and_clear();
    let r = result
        .map_err(|s| rpc_error("ImportList", &profile, &s))?
        .into_inner();
    let out = ImportOut {
        list: r.list,
        format: args.format.to_string(),
        entries: r.entries,
        names: r.names,
        replaced: r.replaced,
        imported_at: time_or_never(r.imported_at_unix_ms),
        clean: malformed.is_empty() && warnings.is_empty(),
        skipped: malformed.len(),
        warned: warnings.len(),
        ignored: parsed.ignored,
        malformed,
        warnings,
        added: r.added,
        removed: r.removed,
        changed: r.changed,
        added_ids: r.added_ids,
        removed_ids: r.removed_ids,
        changed_ids: r.changed_ids,
        newly_matching: r
            .newly_matching
            .into_iter()
            .map(NewMatchOut::from)
            .collect(),
        rescored: r.rescored,
    };
    match output {
        OutputFormat::Json => print_json(&out)?,
        OutputFormat::Table => print_text(&render_import(&out, &shown))?,
    }
    if out.clean {
        Ok(())
    } else {
        Err(CliError::new(
            crate::exit::ErrorKind::Warnings,
            format!(
                "list {} imported with {} malformed rows skipped and {} warnings (listed in the output)",
                out.list, out.skipped, out.warned
            ),
        ))
    }
}

/// Refuses, before streaming, a list beyond the caps the node announces
/// (`ListLists`), with the node's own message and exit code; a node that
/// announces none (or cannot be asked) checks on its own.
async fn refuse_beyond_caps(
    client: &mut ScreeningClient,
    list: &str,
    entries: &[concord_node::screening::WatchlistEntry],
) -> Result<(), CliError> {
    let Ok(r) = client.list_lists(pb::ListListsRequest {}).await else {
        return Ok(());
    };
    let r = r.into_inner();
    let cap = |n: u64| match n {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let caps = concord_node::screening::ListCaps {
        entries: cap(r.max_list_entries),
        names: cap(r.max_list_names),
        bytes: cap(r.max_list_bytes),
    };
    caps.check(list, &concord_node::screening::ListSize::of(entries))
        .map_err(|e| CliError::new(crate::exit::ErrorKind::ResourceExhausted, e.to_string()))
}

/// A client for `ImportList` (also used by `concord bench`): a large list
/// takes longer than an ordinary call, and a full chunk must fit a message.
pub(crate) async fn import_client(profile: &Profile) -> Result<ScreeningClient, CliError> {
    let clients = Clients::connect_within(profile, IMPORT_TIMEOUT).await?;
    Ok(clients.screening.max_encoding_message_size(4 * CHUNK_BYTES))
}

/// On stderr: each malformed row or warning (the first few, then a count).
fn report_malformed(malformed: &[Malformed], what: &str) {
    for m in malformed.iter().take(SHOWN_MALFORMED) {
        eprintln!("{what} {m}");
    }
    if malformed.len() > SHOWN_MALFORMED {
        eprintln!(
            "{what} {} more (--output json lists them all)",
            malformed.len() - SHOWN_MALFORMED
        );
    }
}

/// The import stream: header, chunks of entries, commit (also used by
/// `concord bench`).
pub(crate) fn requests(
    list: &str,
    format: Format,
    entries: Vec<WatchlistEntry>,
) -> Vec<pb::ImportListRequest> {
    let total = entries.len() as u64;
    let mut out = vec![pb::ImportListRequest {
        part: Some(Part::Header(pb::ImportHeader {
            list: list.to_owned(),
            format: format.to_string(),
        })),
    }];
    let mut chunk: Vec<pb::WatchlistEntry> = Vec::new();
    let mut bytes = 0;
    let flush = |chunk: &mut Vec<pb::WatchlistEntry>, out: &mut Vec<pb::ImportListRequest>| {
        if !chunk.is_empty() {
            out.push(pb::ImportListRequest {
                part: Some(Part::Entries(pb::ImportEntries {
                    entries: std::mem::take(chunk),
                })),
            });
        }
    };
    for e in entries {
        let size = 64
            + e.source_id.len()
            + e.names().map(|n| n.len() + 4).sum::<usize>()
            + [
                &e.countries,
                &e.addresses,
                &e.programs,
                &e.details.unresolved_countries,
                &e.details.dates_of_birth,
                &e.details.identifiers,
            ]
            .iter()
            .flat_map(|v| v.iter())
            .map(|s| s.len() + 4)
            .sum::<usize>()
            + e.details.expires.as_ref().map_or(0, String::len);
        if chunk.len() >= CHUNK_ENTRIES || (bytes + size > CHUNK_BYTES && !chunk.is_empty()) {
            flush(&mut chunk, &mut out);
            bytes = 0;
        }
        bytes += size;
        chunk.push(concord_node::api::screening_convert::entry_out(e));
    }
    flush(&mut chunk, &mut out);
    out.push(pb::ImportListRequest {
        part: Some(Part::Commit(pb::ImportCommit {
            total_entries: total,
        })),
    });
    out
}

// ---- output -------------------------------------------------------------

#[derive(Debug, Serialize)]
struct MalformedOut {
    file: String,
    line: u64,
    reason: String,
}

impl From<&Malformed> for MalformedOut {
    fn from(m: &Malformed) -> Self {
        MalformedOut {
            file: m.file.clone(),
            line: m.line,
            reason: m.reason.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ImportOut {
    list: String,
    format: String,
    entries: u64,
    names: u64,
    replaced: u64,
    imported_at: String,
    /// No row skipped, no warning: the exit status is 0.
    clean: bool,
    skipped: usize,
    warned: usize,
    /// Records the format holds but does not screen (FollowTheMoney
    /// sanctions, addresses …), left out on purpose: not malformed.
    ignored: u64,
    malformed: Vec<MalformedOut>,
    /// Entries kept with a field kept as written (unknown country, type).
    warnings: Vec<MalformedOut>,
    /// Against the list held before (the id lists hold at most 1000 each).
    added: u64,
    removed: u64,
    changed: u64,
    added_ids: Vec<String>,
    removed_ids: Vec<String>,
    changed_ids: Vec<String>,
    /// The node's parties that match an added or changed entry and did not before.
    newly_matching: Vec<NewMatchOut>,
    /// Applications awaiting a decision, all re-scored against the new list.
    rescored: u64,
}

#[derive(Debug, Serialize)]
struct NewMatchOut {
    party_id: String,
    party_name: String,
    matched_by: String,
    source_id: String,
    listed_name: String,
    score: f64,
    applications: Vec<String>,
}

impl From<pb::NewPartyMatch> for NewMatchOut {
    fn from(m: pb::NewPartyMatch) -> Self {
        NewMatchOut {
            party_id: m.party_id,
            party_name: m.party_name,
            matched_by: m.matched_by,
            source_id: m.source_id,
            listed_name: m.listed_name,
            score: m.score,
            applications: m.applications,
        }
    }
}

/// Ids listed in table output before summarizing.
const SHOWN_IDS: usize = 20;

fn render_import(out: &ImportOut, shown: &str) -> String {
    let mut text = format!(
        "Imported list {}: {} entries ({} names) from {}, replacing {} entries; {} malformed rows skipped, {} warnings\n",
        out.list, out.entries, out.names, shown, out.replaced, out.skipped, out.warned
    );
    text.push_str(&format!(
        "Against the list held before: {} added, {} removed, {} changed\n",
        out.added, out.removed, out.changed
    ));
    for (what, n, ids) in [
        ("added", out.added, &out.added_ids),
        ("removed", out.removed, &out.removed_ids),
        ("changed", out.changed, &out.changed_ids),
    ] {
        if ids.is_empty() {
            continue;
        }
        let mut line: Vec<&str> = ids.iter().take(SHOWN_IDS).map(String::as_str).collect();
        let more = n.saturating_sub(line.len() as u64);
        let tail = format!("and {more} more");
        if more > 0 {
            line.push(&tail);
        }
        text.push_str(&format!("  {what}: {}\n", line.join(", ")));
    }
    if out.newly_matching.is_empty() {
        text.push_str("None of this node's parties newly match the list.\n");
    } else {
        text.push_str(&format!(
            "{} of this node's parties newly match the list; their applications awaiting a decision have open hits:\n",
            out.newly_matching.len()
        ));
        let mut table = Table::new([
            "PARTY",
            "NAME",
            "SCORE",
            "SOURCE ID",
            "LISTED AS",
            "APPLICATIONS",
        ]);
        for m in &out.newly_matching {
            table.row([
                m.party_id.clone(),
                m.matched_by.clone(),
                format!("{:.2}", m.score),
                m.source_id.clone(),
                m.listed_name.clone(),
                if m.applications.is_empty() {
                    "-".to_owned()
                } else {
                    m.applications.join(", ")
                },
            ]);
        }
        text.push_str(&table.render());
    }
    if out.rescored > 0 {
        text.push_str(&format!(
            "{} applications awaiting a decision re-scored\n",
            out.rescored
        ));
    }
    text
}

#[derive(Debug, Serialize, PartialEq)]
struct MatchOut {
    list: String,
    source_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    issuer: String,
    entity_type: String,
    name: String,
    matched_name: String,
    score: f64,
    explanation: String,
    /// The listed entry's context, for whoever decides on the match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    countries: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    programs: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    addresses: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dates_of_birth: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    identifiers: Vec<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    expires: String,
    expired: bool,
}

impl MatchOut {
    /// One line of the entry's context, empty if the list says nothing more.
    fn context(&self) -> String {
        let mut parts = Vec::new();
        for (what, v) in [
            ("countries", &self.countries),
            ("programs", &self.programs),
            ("born", &self.dates_of_birth),
            ("ids", &self.identifiers),
        ] {
            if !v.is_empty() {
                parts.push(format!("{what} {}", v.join(", ")));
            }
        }
        if let Some(a) = self.addresses.first() {
            let more = match self.addresses.len() {
                1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            };
            parts.push(format!("address {a}{more}"));
        }
        if self.expired {
            parts.push(format!("EXPIRED {}", self.expires));
        } else if !self.expires.is_empty() {
            parts.push(format!("expires {}", self.expires));
        }
        parts.join("; ")
    }
}

#[derive(Debug, Serialize, PartialEq)]
struct ResultOut {
    query: String,
    matches: Vec<MatchOut>,
    /// Recognised partner licences naming the party (context, not a clearance).
    partner_licences: Vec<crate::cmd::partner_licence::PartnerLicenceOut>,
}

impl From<&pb::ScreenResult> for ResultOut {
    fn from(r: &pb::ScreenResult) -> Self {
        ResultOut {
            query: r.query.clone(),
            matches: r
                .matches
                .iter()
                .map(|m| MatchOut {
                    list: m.list.clone(),
                    source_id: m.source_id.clone(),
                    issuer: m.issuer.clone(),
                    entity_type: m.entity_type.clone(),
                    name: m.name.clone(),
                    matched_name: m.matched_name.clone(),
                    score: m.score,
                    explanation: m.explanation.clone(),
                    countries: m.countries.clone(),
                    programs: m.programs.clone(),
                    addresses: m.addresses.clone(),
                    dates_of_birth: m.dates_of_birth.clone(),
                    identifiers: m.identifiers.clone(),
                    expires: m.expires.clone(),
                    expired: m.expired,
                })
                .collect(),
            partner_licences: r.partner_licences.iter().map(Into::into).collect(),
        }
    }
}

fn render_result(r: &ResultOut) -> String {
    let licences = crate::cmd::partner_licence::render_partner_licences(&r.partner_licences);
    if r.matches.is_empty() {
        return format!("{:?}: no match\n{licences}", r.query);
    }
    let mut table = Table::new(["#", "SCORE", "LIST", "SOURCE ID", "TYPE", "NAME"]);
    for (i, m) in r.matches.iter().enumerate() {
        table.row([
            (i + 1).to_string(),
            format!("{:.2}", m.score),
            m.list.clone(),
            m.source_id.clone(),
            m.entity_type.clone(),
            m.name.clone(),
        ]);
    }
    let mut out = format!(
        "{:?}: {} match{}\n{}",
        r.query,
        r.matches.len(),
        if r.matches.len() == 1 { "" } else { "es" },
        table.render()
    );
    for (i, m) in r.matches.iter().enumerate() {
        out.push_str(&format!("  {}. {}\n", i + 1, m.explanation));
        let context = m.context();
        if !context.is_empty() {
            out.push_str(&format!("     {context}\n"));
        }
    }
    out.push_str(&licences);
    out
}

#[derive(Debug, Serialize)]
struct ListOut {
    name: String,
    kind: String,
    format: String,
    entries: u64,
    names: u64,
    updated_at: String,
    imported_by: String,
}

impl From<&pb::WatchlistInfo> for ListOut {
    fn from(l: &pb::WatchlistInfo) -> Self {
        ListOut {
            name: l.name.clone(),
            kind: l.kind.clone(),
            format: l.format.clone(),
            entries: l.entries,
            names: l.names,
            updated_at: time_or_never(l.updated_at_unix_ms),
            imported_by: l.imported_by.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ListsOut {
    lists: Vec<ListOut>,
}

fn render_lists(out: &ListsOut) -> String {
    if out.lists.is_empty() {
        return "No watchlists: import one with `concord screen import`.\n".to_owned();
    }
    let mut table = Table::new([
        "LIST", "KIND", "FORMAT", "ENTRIES", "NAMES", "UPDATED", "BY",
    ]);
    for l in &out.lists {
        table.row([
            l.name.clone(),
            l.kind.clone(),
            l.format.clone(),
            l.entries.to_string(),
            l.names.to_string(),
            l.updated_at.clone(),
            l.imported_by.clone(),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_node::screening::EntityType;

    #[test]
    fn the_import_stream_is_header_chunks_commit() {
        let entries: Vec<WatchlistEntry> = (0..1_234)
            .map(|i| WatchlistEntry::new(i.to_string(), EntityType::Entity, format!("PARTY {i}")))
            .collect();
        let reqs = requests("l", Format::Jsonl, entries);
        assert!(
            matches!(&reqs[0].part, Some(Part::Header(h)) if h.list == "l" && h.format == "jsonl")
        );
        let sizes: Vec<usize> = reqs[1..reqs.len() - 1]
            .iter()
            .map(|r| match &r.part {
                Some(Part::Entries(c)) => c.entries.len(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(sizes, [500, 500, 234]);
        assert!(
            matches!(&reqs[reqs.len() - 1].part, Some(Part::Commit(c)) if c.total_entries == 1_234)
        );
    }

    #[test]
    fn checks_options_locally() {
        assert!(parse_threshold("0.9").is_ok());
        for bad in ["0", "1.1", "x", "-0.5"] {
            assert!(parse_threshold(bad).is_err(), "{bad}");
        }
        let args = QueryArgs {
            name: vec!["x".into()],
            file: None,
            limit: None,
            threshold: None,
            countries: vec!["cu".into()],
            lists: vec![],
        };
        assert_eq!(options(&args).unwrap().countries, ["CU"]);
        let bad = QueryArgs {
            countries: vec!["Cuba".into()],
            ..args
        };
        assert_eq!(options(&bad).unwrap_err().exit_code(), 6);
    }
}
