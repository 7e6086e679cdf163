//! `concord catalog import|list|show`: the control-list catalog, through the
//! node's LicensingService. Importing (a new version) needs an admin
//! profile; reading an officer, analyst or admin profile.
//!
//! Import files are CSV with the header `code,title,category,tier,rationale`
//! (columns in any order, RFC 4180 quoting) or a JSON array of objects with
//! those keys. The whole file is checked before anything is sent: every
//! malformed row is reported with its line number and nothing is imported.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use concord_node::licensing::{import_problems, CatalogEntry, Category, SourcedEntry};
use concord_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::client::rpc_error;
use crate::client::Clients;
use crate::exit::CliError;
use crate::output::{print_json, print_text, time_or_never, OutputFormat, Table};
use crate::profile::Profile;
use crate::progress::Progress;

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Import a control-list file as a new catalog version (admin). Older
    /// versions stay readable.
    Import(ImportArgs),
    /// List the entries of the current catalog version (or of --version N).
    List(ListArgs),
    /// Show a code's entry in every catalog version it appears in.
    Show {
        /// Control-list code, e.g. ML4 or 3A001.
        #[arg(value_name = "CODE")]
        code: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV (header code,title,category,tier,rationale) or JSON array file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// File format (default: from the extension; .json is JSON, anything else CSV).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Name recorded as the version's source (default: the file name).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// A catalog version (default: the current one).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub version: Option<u32>,
    /// Only military or dual-use entries.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// At most this many entries.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
}

/// Entries per streamed chunk, and a byte budget well under the node's message limit.
const CHUNK_ENTRIES: usize = 1_000;
const CHUNK_BYTES: usize = 1024 * 1024;

pub async fn run(
    cmd: CatalogCommand,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    match cmd {
        CatalogCommand::Import(args) => import(args, profile, output).await,
        CatalogCommand::List(args) => {
            let category = match &args.category {
                Some(c) => c
                    .trim()
                    .parse::<Category>()
                    .map(|c| c.to_string())
                    .map_err(|e| CliError::invalid_argument(format!("--category: {e}")))?,
                None => String::new(),
            };
            let profile = Profile::required(profile)?;
            let client = Clients::connect(&profile).await?.licensing;
            let request = pb::ListCatalogRequest {
                version: args.version.unwrap_or(0),
                category,
                limit: args.limit.unwrap_or(0),
                ..Default::default()
            };
            // Every page names the version; the last one's is kept.
            let last = std::sync::Mutex::new(pb::ListCatalogResponse::default());
            let entries = crate::paging::all_pages(|page_token| {
                let mut client = client.clone();
                let request = pb::ListCatalogRequest {
                    page_token,
                    ..request.clone()
                };
                let last = &last;
                async move {
                    let mut r = client.list_catalog(request).await?.into_inner();
                    let page = (std::mem::take(&mut r.entries), r.next_page_token.clone());
                    *last.lock().unwrap_or_else(|e| e.into_inner()) = r;
                    Ok(page)
                }
            })
            .await
            .map_err(|s| rpc_error("ListCatalog", &profile, &s))?;
            let r = last.into_inner().unwrap_or_else(|e| e.into_inner());
            let out = CatalogOut {
                version: r.version.as_ref().map(VersionOut::from),
                entries: entries.iter().map(EntryOut::from).collect(),
                versions: r.versions.iter().map(VersionOut::from).collect(),
            };
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&render_catalog(&out)),
            }
        }
        CatalogCommand::Show { code } => {
            let profile = Profile::required(profile)?;
            let mut client = Clients::connect(&profile).await?.licensing;
            let r = client
                .get_catalog_entry(pb::GetCatalogEntryRequest {
                    code: code.trim().to_owned(),
                })
                .await
                .map_err(|s| rpc_error("GetCatalogEntry", &profile, &s))?
                .into_inner();
            let out = EntryHistoryOut {
                code: code.trim().to_owned(),
                current_version: r.current_version,
                versions: r
                    .versions
                    .iter()
                    .map(|v| VersionedEntryOut {
                        version: v.version,
                        entry: v.entry.as_ref().map(EntryOut::from),
                    })
                    .collect(),
            };
            match output {
                OutputFormat::Json => print_json(&out),
                OutputFormat::Table => print_text(&render_history(&out)),
            }
        }
    }
}

async fn import(
    args: ImportArgs,
    profile: Option<&Path>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let shown = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::invalid_argument(format!("cannot read {shown}: {e}")))?;
    let format = args.format.unwrap_or_else(|| {
        let json = args
            .file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json {
            Format::Json
        } else {
            Format::Csv
        }
    });
    let progress = Progress::new(output);
    let parsing = progress.spinner(&format!("checking {shown}"));
    let parsed = match format {
        Format::Csv => parse_csv(&text),
        Format::Json => parse_json(&text),
    };
    parsing.finish_and_clear();
    let entries = parsed.map_err(|problems| {
        CliError::invalid_argument(format!(
            "{shown}: {} (nothing imported)",
            summarize(&problems)
        ))
    })?;
    let source = args.source.clone().unwrap_or_else(|| {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.clone())
    });

    let profile = Profile::required(profile)?;
    let mut client = Clients::connect(&profile).await?.licensing;
    let total = entries.len();
    let bar = progress.bar(&format!("importing {total} entries"), total);
    let counted = bar.clone();
    let chunks = chunks(&source, entries).into_iter().inspect(move |c| {
        counted.inc(c.entries.len() as u64);
    });
    let result = client
        .import_catalog(tonic::codegen::tokio_stream::iter(chunks))
        .await;
    bar.finish_and_clear();
    let version = result
        .map_err(|s| rpc_error("ImportCatalog", &profile, &s))?
        .into_inner();
    let out = VersionOut::from(&version);
    match output {
        OutputFormat::Json => print_json(&out),
        OutputFormat::Table => print_text(&format!(
            "Imported catalog version {}: {} entries from {}\n",
            out.version, out.entries, out.source
        )),
    }
}

/// The streamed form: the first chunk names the source; chunks stay small.
fn chunks(source: &str, entries: Vec<pb::CatalogEntry>) -> Vec<pb::ImportCatalogChunk> {
    let mut out = vec![pb::ImportCatalogChunk {
        source: source.to_owned(),
        entries: Vec::new(),
    }];
    let mut bytes = 0;
    for e in entries {
        let size = 32 + e.code.len() + e.title.len() + e.category.len() + e.rationale.len();
        let full = out
            .last()
            .is_some_and(|c| c.entries.len() >= CHUNK_ENTRIES || bytes + size > CHUNK_BYTES);
        if full {
            out.push(pb::ImportCatalogChunk::default());
            bytes = 0;
        }
        bytes += size;
        if let Some(last) = out.last_mut() {
            last.entries.push(e);
        }
    }
    out
}

fn summarize(problems: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = problems
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > SHOWN {
        text.push_str(&format!("; and {} more", problems.len() - SHOWN));
    }
    text
}

// ---- parsing -----------------------------------------------------------------

const COLUMNS: [&str; 5] = ["code", "title", "category", "tier", "rationale"];

/// One row as read, before it is checked.
struct Row {
    line: u32,
    code: String,
    title: String,
    category: String,
    tier: String,
    rationale: String,
}

/// Checks rows the way the node will, and converts them for the wire; every
/// problem names its line.
fn check_rows(
    rows: Vec<Row>,
    mut problems: Vec<String>,
) -> Result<Vec<pb::CatalogEntry>, Vec<String>> {
    let mut sourced = Vec::with_capacity(rows.len());
    for r in rows {
        let at = format!("line {}", r.line);
        let category = r.category.trim().parse::<Category>();
        let tier = r.tier.trim().parse::<u8>();
        if let Err(e) = &category {
            problems.push(format!("{at}: category: {e}"));
        }
        if tier.is_err() {
            problems.push(format!("{at}: tier: {:?} is not 1, 2 or 3", r.tier.trim()));
        }
        sourced.push(SourcedEntry {
            line: r.line,
            entry: CatalogEntry {
                code: r.code.trim().to_owned(),
                title: r.title.trim().to_owned(),
                category: category.unwrap_or(Category::Military),
                // An unparsable tier was reported above; 2 keeps it from being reported twice.
                tier: tier.unwrap_or(2),
                rationale: r.rationale.trim().to_owned(),
            },
        });
    }
    problems.extend(import_problems(&sourced));
    if !problems.is_empty() {
        problems.sort_by_key(|p| line_of(p));
        return Err(problems);
    }
    Ok(sourced
        .into_iter()
        .map(|s| pb::CatalogEntry {
            code: s.entry.code,
            title: s.entry.title,
            category: s.entry.category.to_string(),
            tier: u32::from(s.entry.tier),
            rationale: s.entry.rationale,
            source_line: s.line,
        })
        .collect())
}

/// The line number a problem starts with, for ordering reports.
fn line_of(problem: &str) -> u64 {
    problem
        .strip_prefix("line ")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Parses catalog CSV: a header naming the five columns, then one entry per
/// record. Quoted fields may contain commas, doubled quotes and newlines.
pub fn parse_csv(text: &str) -> Result<Vec<pb::CatalogEntry>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = csv_records(text).map_err(|e| vec![e])?;
    let mut records = records
        .into_iter()
        .filter(|(_, fields)| !(fields.len() == 1 && fields[0].trim().is_empty()));
    let Some((header_line, header)) = records.next() else {
        return Err(vec![
            "empty file: expected a header line code,title,category,tier,rationale".into(),
        ]);
    };
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let mut index = [0usize; 5];
    let mut problems = Vec::new();
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        match names.iter().position(|n| n == column) {
            Some(i) => *slot = i,
            None => problems.push(format!(
                "line {header_line}: header lacks column {column:?}"
            )),
        }
    }
    for n in &names {
        if !COLUMNS.contains(&n.as_str()) {
            problems.push(format!("line {header_line}: unknown column {n:?}"));
        }
    }
    if !problems.is_empty() {
        problems.push(format!("expected the header {}", COLUMNS.join(",")));
        return Err(problems);
    }
    let mut rows = Vec::new();
    for (line, fields) in records {
        if fields.len() != names.len() {
            problems.push(format!(
                "line {line}: expected {} fields, found {}",
                names.len(),
                fields.len()
            ));
            continue;
        }
        let field = |i: usize| fields[index[i]].clone();
        rows.push(Row {
            line,
            code: field(0),
            title: field(1),
            category: field(2),
            tier: field(3),
            rationale: field(4),
        });
    }
    check_rows(rows, problems)
}

/// RFC 4180 records with the line each starts on.
fn csv_records(text: &str) -> Result<Vec<(u32, Vec<String>)>, String> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line: u32 = 1;
    let mut start: u32 = 1;
    let mut quoted = false;
    let mut quote_line = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
                quote_line = line;
            }
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                out.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {quote_line}: a quoted field is never closed"));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        out.push((start, fields));
    }
    Ok(out)
}

/// One JSON entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEntry {
    code: String,
    title: String,
    category: String,
    tier: u32,
    rationale: String,
}

/// Parses a JSON array of entries; each problem names the line its entry starts on.
pub fn parse_json(text: &str) -> Result<Vec<pb::CatalogEntry>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| vec![format!("line {}: not valid JSON: {e}", e.line())])?;
    if !value.is_array() {
        return Err(vec![
            "expected a JSON array of {code, title, category, tier, rationale} objects".into(),
        ]);
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (start, end) in array_elements(text) {
        let line = 1 + text[..start].matches('\n').count() as u32;
        match serde_json::from_str::<JsonEntry>(&text[start..end]) {
            Ok(e) => rows.push(Row {
                line,
                code: e.code,
                title: e.title,
                category: e.category,
                tier: e.tier.to_string(),
                rationale: e.rationale,
            }),
            Err(e) => {
                let message = e.to_string();
                // serde_json appends the position inside the element; the line is what matters.
                let message = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(m, _)| m);
                problems.push(format!("line {line}: {message}"));
            }
        }
    }
    check_rows(rows, problems)
}

/// Byte ranges of the top-level array's elements in valid JSON text.
fn array_elements(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                if depth == 1 && start.is_none() {
                    start = Some(i);
                }
            }
            '[' | '{' => {
                if depth == 1 && start.is_none() {
                    start = Some(i);
                }
                depth += 1;
            }
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(s) = start.take() {
                        out.push((s, i));
                    }
                }
            }
            ',' if depth == 1 => {
                if let Some(s) = start.take() {
                    out.push((s, i));
                }
            }
            c if depth == 1 && !c.is_whitespace() && start.is_none() => start = Some(i),
            _ => {}
        }
    }
    out
}

// ---- output ------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct VersionOut {
    pub version: u32,
    pub imported_at: String,
    pub actor: String,
    pub source: String,
    pub entries: u32,
}

impl From<&pb::CatalogVersion> for VersionOut {
    fn from(v: &pb::CatalogVersion) -> Self {
        VersionOut {
            version: v.version,
            imported_at: time_or_never(v.imported_at_unix_ms),
            actor: v.actor.clone(),
            source: v.source.clone(),
            entries: v.entries,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct EntryOut {
    pub code: String,
    pub title: String,
    pub category: String,
    pub tier: u32,
    pub rationale: String,
}

impl From<&pb::CatalogEntry> for EntryOut {
    fn from(e: &pb::CatalogEntry) -> Self {
        EntryOut {
            code: e.code.clone(),
            title: e.title.clone(),
            category: e.category.clone(),
            tier: e.tier,
            rationale: e.rationale.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct CatalogOut {
    version: Option<VersionOut>,
    entries: Vec<EntryOut>,
    versions: Vec<VersionOut>,
}

#[derive(Debug, Serialize)]
struct VersionedEntryOut {
    version: u32,
    entry: Option<EntryOut>,
}

#[derive(Debug, Serialize)]
struct EntryHistoryOut {
    code: String,
    current_version: u32,
    versions: Vec<VersionedEntryOut>,
}

fn render_catalog(c: &CatalogOut) -> String {
    let mut out = match &c.version {
        Some(v) => format!(
            "Catalog version {} ({} entries from {}, imported {} by {}; {} versions held)\n\n",
            v.version,
            v.entries,
            v.source,
            v.imported_at,
            v.actor,
            c.versions.len()
        ),
        None => String::new(),
    };
    let mut t = Table::new(["CODE", "CATEGORY", "TIER", "TITLE"]);
    for e in &c.entries {
        t.row([
            e.code.clone(),
            e.category.clone(),
            e.tier.to_string(),
            e.title.clone(),
        ]);
    }
    out.push_str(&t.render());
    out
}

fn render_history(h: &EntryHistoryOut) -> String {
    let mut out = format!(
        "{} (current catalog version {})\n",
        h.code, h.current_version
    );
    for v in &h.versions {
        if let Some(e) = &v.entry {
            let current = if v.version == h.current_version {
                " (current)"
            } else {
                ""
            };
            out.push_str(&format!(
                "\n  version {}{current}\n    title      {}\n    category   {}\n    tier       {}\n    rationale  {}\n",
                v.version,
                e.title,
                e.category,
                e.tier,
                e.rationale.replace('\n', " ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(entries: &[pb::CatalogEntry]) -> Vec<(&str, u32)> {
        entries
            .iter()
            .map(|e| (e.code.as_str(), e.source_line))
            .collect()
    }

    #[test]
    fn parses_csv_with_quotes_and_any_column_order() {
        let text = "\u{feff}tier,code,title,category,rationale\r\n\
                    3,ML4,\"Bombs, torpedoes, rockets\",military,\"Wassenaar ML4\"\r\n\
                    \r\n\
                    2,3A001,Electronic components,dual-use,\"multi\nline \"\"quoted\"\" rationale\"\n\
                    1,5A002,Information security,dual-use,Cryptography";
        let entries = parse_csv(text).unwrap();
        assert_eq!(codes(&entries), [("ML4", 2), ("3A001", 4), ("5A002", 6)]);
        assert_eq!(entries[0].title, "Bombs, torpedoes, rockets");
        assert_eq!(entries[1].rationale, "multi\nline \"quoted\" rationale");
        assert_eq!(
            (entries[2].category.as_str(), entries[2].tier),
            ("dual-use", 1)
        );
    }

    fn problems(result: Result<Vec<pb::CatalogEntry>, Vec<String>>) -> String {
        result.unwrap_err().join("; ")
    }

    #[test]
    fn reports_every_malformed_csv_row_by_line() {
        let text = "code,title,category,tier,rationale\n\
                    ML4,Bombs,military,3,ok\n\
                    3A001,Electronics,dual use,2,ok\n\
                    5A002,Crypto,dual-use,seven,ok\n\
                    ML4,Again,military,3,ok\n\
                    ML13,Armour,military\n\
                    ,No code,military,1,ok\n";
        let p = problems(parse_csv(text));
        assert!(p.contains("line 3: category"), "{p}");
        assert!(p.contains("line 4: tier: \"seven\""), "{p}");
        assert!(
            p.contains("line 5: code ML4 is already listed at line 2"),
            "{p}"
        );
        assert!(p.contains("line 6: expected 5 fields, found 3"), "{p}");
        assert!(p.contains("line 7: code: required"), "{p}");
        assert!(parse_csv("code,title\nML4,x\n").is_err());
        assert!(parse_csv("").is_err());
        assert!(
            problems(parse_csv("code,title,category,tier,rationale\n\"ML4,x")).contains("line 2")
        );
    }

    #[test]
    fn parses_json_and_names_the_line_of_each_bad_entry() {
        let text = r#"[
  {"code": "ML4", "title": "Bombs", "category": "military", "tier": 3, "rationale": "ok, [really]"},
  {"code": "3A001", "title": "Electronics", "category": "dual-use", "tier": 2,
   "rationale": "ok"}
]"#;
        let entries = parse_json(text).unwrap();
        assert_eq!(codes(&entries), [("ML4", 2), ("3A001", 3)]);

        let bad = r#"[
  {"code": "ML4", "title": "Bombs", "category": "military", "tier": 3, "rationale": "ok"},
  {"code": "ML5", "title": "Fire control", "category": "military", "tier": 4, "rationale": "ok"},
  {"code": "ML6", "title": "Vehicles", "category": "military", "rationale": "ok"},
  {"code": "ML7", "title": "Agents", "category": "chemical", "tier": 3, "rationale": "ok", "x": 1}
]"#;
        let p = problems(parse_json(bad));
        assert!(p.contains("line 3: tier: 4"), "{p}");
        assert!(p.contains("line 4: missing field `tier`"), "{p}");
        assert!(p.contains("line 5: unknown field `x`"), "{p}");
        assert!(problems(parse_json("[{]")).contains("line 1: not valid JSON"));
        assert!(parse_json(r#"{"code": "ML4"}"#).is_err());
    }

    #[test]
    fn the_sample_catalogs_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../catalog");
        let csv = std::fs::read_to_string(root.join("sample.csv")).unwrap();
        let json = std::fs::read_to_string(root.join("sample.json")).unwrap();
        let csv = parse_csv(&csv).unwrap();
        let json = parse_json(&json).unwrap();
        assert!(csv.len() >= 10);
        let strip = |v: Vec<pb::CatalogEntry>| -> Vec<(String, String, u32)> {
            v.into_iter()
                .map(|e| (e.code, e.category, e.tier))
                .collect()
        };
        assert_eq!(
            strip(csv),
            strip(json),
            "the two samples list the same entries"
        );
    }

    #[test]
    fn chunks_stay_small_and_name_the_source_first() {
        let entries: Vec<pb::CatalogEntry> = (0..2_500)
            .map(|i| pb::CatalogEntry {
                code: format!("X{i}"),
                ..Default::default()
            })
            .collect();
        let c = chunks("list.csv", entries);
        assert_eq!(c[0].source, "list.csv");
        let sizes: Vec<usize> = c.iter().map(|c| c.entries.len()).collect();
        assert_eq!(sizes, [1_000, 1_000, 500]);
        let big: Vec<pb::CatalogEntry> = (0..10)
            .map(|_| pb::CatalogEntry {
                rationale: "r".repeat(400 * 1024),
                ..Default::default()
            })
            .collect();
        assert!(chunks("s", big).len() >= 4);
    }

    // The catalog parsers live in this binary, out of reach of the AFL
    // targets in fuzz/ (which link the node library); these property tests
    // drive them with arbitrary text and with mutations of the shipped
    // sample instead. Either a list of entries or a list of problems, each
    // naming a line — never a panic.
    mod hostile {
        use proptest::prelude::*;

        use super::super::{parse_csv, parse_json};

        const SAMPLE_CSV: &str = include_str!("../../../catalog/sample.csv");
        const SAMPLE_JSON: &str = include_str!("../../../catalog/sample.json");

        fn mutate(text: &str, at: usize, with: &str, cut: usize) -> String {
            let mut chars: Vec<char> = text.chars().collect();
            let at = at % (chars.len() + 1);
            let end = (at + cut).min(chars.len());
            chars.splice(at..end, with.chars());
            chars.into_iter().collect()
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

            #[test]
            fn arbitrary_text_never_panics(text in "\\PC*") {
                let _ = parse_csv(&text);
                let _ = parse_json(&text);
            }

            #[test]
            fn mutated_samples_give_entries_or_located_problems(
                at in 0usize..4000,
                with in "[,\"\\n\\r{}\\[\\]:a-z0-9 \u{e9}\u{feff}]{0,12}",
                cut in 0usize..16,
            ) {
                match parse_csv(&mutate(SAMPLE_CSV, at, &with, cut)) {
                    Ok(entries) => prop_assert!(entries.iter().all(|e| e.source_line >= 1)),
                    Err(problems) => prop_assert!(!problems.is_empty()),
                }
                match parse_json(&mutate(SAMPLE_JSON, at, &with, cut)) {
                    Ok(entries) => prop_assert!(entries.iter().all(|e| e.source_line >= 1)),
                    Err(problems) => prop_assert!(!problems.is_empty()),
                }
            }
        }
    }
}
