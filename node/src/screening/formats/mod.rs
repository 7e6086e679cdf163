//! Import formats: public lists as published, turned into
//! [`WatchlistEntry`]s. Parsing is pure (bytes in, entries out) apart from
//! [`read`], which finds and reads the files of a format.
//!
//! A row that cannot be used is never dropped silently: it is returned in
//! [`Parsed::malformed`] with its file, line number and reason, and the
//! other rows are kept. Only a missing or unusable name or id makes a row
//! unusable: an auxiliary field no table resolves (a country name, an
//! entity type) is kept as written in the entry's details and reported in
//! [`Parsed::warnings`], so a list publisher's spelling never costs an
//! entity.
//!
//! - `ofac-csv` — a folder with OFAC's legacy CSV files, `sdn.csv` (+
//!   `alt.csv`, `add.csv`) or `cons_prim.csv` (+ `cons_alt.csv`,
//!   `cons_add.csv`). No header, `-0-` for empty, CRLF, maybe a final 0x1A.
//!   Weak aliases quoted in the remarks (`a.k.a. 'X'`) become aliases too.
//! - `bis-dpl` — the BIS Denied Persons List, tab-separated with a header.
//! - `csl-csv` — the US Consolidated Screening List CSV (header;
//!   `alt_names` separated by `;`).
//! - `jsonl` — one JSON object per line: `{"id", "name", "aliases": [],
//!   "type", "countries": [], "addresses": [], "programs": []}`.
//! - `un-xml` — the UN Security Council consolidated list XML
//!   (`CONSOLIDATED_LIST`, `INDIVIDUAL` and `ENTITY` records).
//! - `eu-fsf` — the EU Financial Sanctions Files XML (`export`,
//!   `sanctionEntity` records; namespaced or not).
//! - `uk-ofsi` — the UK OFSI consolidated list CSV (a `Last Updated` line,
//!   a header, one row per name; rows sharing a `Group ID` are one party).
//! - `ftm` — OpenSanctions FollowTheMoney entities, one JSON object per
//!   line; schemas that are not parties are counted in
//!   [`Parsed::ignored`] and skipped.
//!
//! Original-script names (`NAME_ORIGINAL_SCRIPT`, `nameLanguage`, `Name
//! Non-Latin Script`, FollowTheMoney's several `name`s) are kept as aliases.
//! The XML formats read through quick-xml one record at a time ([`xml`]).

mod bis;
mod csl;
mod eu;
mod ftm;
mod jsonl;
mod ofac;
mod uk;
mod un;
mod xml;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::entry::WatchlistEntry;

pub use ofac::OfacFiles;

/// A list format `concord screen import --format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    OfacCsv,
    BisDpl,
    CslCsv,
    Jsonl,
    UnXml,
    EuFsf,
    UkOfsi,
    Ftm,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::OfacCsv,
        Format::BisDpl,
        Format::CslCsv,
        Format::Jsonl,
        Format::UnXml,
        Format::EuFsf,
        Format::UkOfsi,
        Format::Ftm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::OfacCsv => "ofac-csv",
            Format::BisDpl => "bis-dpl",
            Format::CslCsv => "csl-csv",
            Format::Jsonl => "jsonl",
            Format::UnXml => "un-xml",
            Format::EuFsf => "eu-fsf",
            Format::UkOfsi => "uk-ofsi",
            Format::Ftm => "ftm",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown format {s:?}; expected one of {}", all.join(", "))
            })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// File name (not the whole path).
    pub file: String,
    /// 1-based line number where the row starts.
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// A field of a kept entry that was kept as written (same shape as [`Malformed`]).
pub type Warning = Malformed;

/// What a file (or folder) held.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub entries: Vec<WatchlistEntry>,
    /// Rows skipped: no usable name or id.
    pub malformed: Vec<Malformed>,
    /// Entries kept with a field not understood.
    pub warnings: Vec<Warning>,
    /// Records of a kind the format holds but does not screen, skipped on
    /// purpose (FollowTheMoney sanctions, addresses, ownerships …).
    pub ignored: u64,
}

impl Parsed {
    fn warning(&mut self, file: &str, line: u64, reason: impl Into<String>) {
        self.warnings.push(Malformed {
            file: file.to_owned(),
            line,
            reason: reason.into(),
        });
    }

    /// Resolves country names (or codes) into `e.countries`; what no table
    /// knows is kept in the entry's details and warned about.
    fn countries<'a>(
        &mut self,
        file: &str,
        line: u64,
        e: &mut WatchlistEntry,
        names: impl IntoIterator<Item = &'a str>,
    ) {
        for name in names {
            let name = name.trim();
            if super::countries::is_unstated(name) {
                continue;
            }
            match super::countries::code(name) {
                Some(code) => push_unique(&mut e.countries, code.to_owned()),
                None => {
                    if !e.details.unresolved_countries.iter().any(|c| c == name) {
                        self.warning(
                            file,
                            line,
                            format!("{}: unknown country {name:?} kept as written", e.source_id),
                        );
                        e.details.unresolved_countries.push(name.to_owned());
                    }
                }
            }
        }
    }

    fn malformed(&mut self, file: &str, line: u64, reason: impl Into<String>) {
        self.malformed.push(Malformed {
            file: file.to_owned(),
            line,
            reason: reason.into(),
        });
    }

    /// Whether an id was read before, at line `first`: the second listing
    /// is malformed (`shown` is the id as the format's messages write it)
    /// and the caller skips it.
    fn listed_again(&mut self, file: &str, line: u64, first: Option<u64>, shown: &str) -> bool {
        let Some(first) = first else {
            return false;
        };
        self.malformed(
            file,
            line,
            format!("{shown} listed again (first at line {first})"),
        );
        true
    }

    /// Moves entries that fail validation to `malformed`; `lines` gives
    /// each entry's line (same order as `entries`).
    fn validate(&mut self, file: &str, lines: &[u64]) {
        let entries = std::mem::take(&mut self.entries);
        for (e, line) in entries.into_iter().zip(lines.iter().copied()) {
            match e.validate() {
                Ok(()) => self.entries.push(e),
                Err(reason) => self.malformed(file, line, format!("{}: {reason}", e.source_id)),
            }
        }
        self.malformed
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        self.warnings
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    }
}

/// The lines of a JSON-lines file that hold something, with their numbers
/// (from 1): a leading byte order mark (editors on Windows write one; JSON
/// has no place for it) and each line's carriage return are dropped.
fn json_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(n, raw)| (n as u64 + 1, raw.strip_suffix(b"\r").unwrap_or(raw)))
        .filter(|(_, raw)| !raw.iter().all(u8::is_ascii_whitespace))
}

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Layout { path: PathBuf, reason: String },
}

/// Reads and parses `path` (a folder for `ofac-csv`, a file otherwise).
pub fn read(format: Format, path: &Path) -> Result<Parsed, FormatError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| FormatError::Io {
            path: p.to_owned(),
            source,
        })
    };
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    match format {
        Format::OfacCsv => {
            if !path.is_dir() {
                return Err(FormatError::Layout {
                    path: path.to_owned(),
                    reason: "ofac-csv expects a folder holding sdn.csv (alt.csv, add.csv) or cons_prim.csv (cons_alt.csv, cons_add.csv)".into(),
                });
            }
            let (prim, alt, add) = if path.join("sdn.csv").is_file() {
                ("sdn.csv", "alt.csv", "add.csv")
            } else if path.join("cons_prim.csv").is_file() {
                ("cons_prim.csv", "cons_alt.csv", "cons_add.csv")
            } else {
                return Err(FormatError::Layout {
                    path: path.to_owned(),
                    reason: "holds neither sdn.csv nor cons_prim.csv".into(),
                });
            };
            let optional = |f: &str| -> Result<Option<(String, Vec<u8>)>, FormatError> {
                let p = path.join(f);
                if p.is_file() {
                    Ok(Some((f.to_owned(), read(&p)?)))
                } else {
                    Ok(None)
                }
            };
            let files = OfacFiles {
                primary: (prim.to_owned(), read(&path.join(prim))?),
                aliases: optional(alt)?,
                addresses: optional(add)?,
            };
            Ok(ofac::parse(&files))
        }
        Format::BisDpl => Ok(bis::parse(&name(path), &read(path)?)),
        Format::CslCsv => Ok(csl::parse(&name(path), &read(path)?)),
        Format::Jsonl => Ok(jsonl::parse(&name(path), &read(path)?)),
        Format::UnXml => Ok(un::parse(&name(path), &read(path)?)),
        Format::EuFsf => Ok(eu::parse(&name(path), &read(path)?)),
        Format::UkOfsi => Ok(uk::parse(&name(path), &read(path)?)),
        Format::Ftm => Ok(ftm::parse(&name(path), &read(path)?)),
    }
}

/// Parses the bytes of one file of a single-file format.
pub fn parse(format: Format, file: &str, bytes: &[u8]) -> Parsed {
    match format {
        Format::OfacCsv => ofac::parse(&OfacFiles {
            primary: (file.to_owned(), bytes.to_vec()),
            aliases: None,
            addresses: None,
        }),
        Format::BisDpl => bis::parse(file, bytes),
        Format::CslCsv => csl::parse(file, bytes),
        Format::Jsonl => jsonl::parse(file, bytes),
        Format::UnXml => un::parse(file, bytes),
        Format::EuFsf => eu::parse(file, bytes),
        Format::UkOfsi => uk::parse(file, bytes),
        Format::Ftm => ftm::parse(file, bytes),
    }
}

/// Parses an OFAC folder's files, given as bytes.
pub fn parse_ofac(files: &OfacFiles) -> Parsed {
    ofac::parse(files)
}

// ---- helpers shared by the CSV formats ----------------------------------

/// A field as text: UTF-8, or Latin-1 when it is not valid UTF-8; line
/// breaks and other control characters (multi-line cells) become spaces;
/// trimmed.
/// One data row and the line it starts on.
type Row = (u64, csv::ByteRecord);

/// A delimited file led by a header: the header's column names (lower
/// case, byte-order mark dropped) and every row of the header's width, with
/// the line it starts on. Unreadable rows and rows of another width are
/// reported in `parsed` and skipped; an unreadable header is reported and
/// gives `None`.
fn headed_rows(
    file: &str,
    bytes: &[u8],
    delimiter: u8,
    parsed: &mut Parsed,
) -> Option<(Vec<String>, Vec<Row>)> {
    headed_rows_after(file, bytes, delimiter, 0, parsed)
}

/// [`headed_rows`] of `bytes` that follow `lines_before` lines of the file
/// (a preamble the caller has cut off), numbering lines in the whole file.
fn headed_rows_after(
    file: &str,
    bytes: &[u8],
    delimiter: u8,
    lines_before: u64,
    parsed: &mut Parsed,
) -> Option<(Vec<String>, Vec<Row>)> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|f| field(f).trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect(),
        Err(e) => {
            parsed.malformed(
                file,
                lines_before + error_line(&mut Lines::new(bytes), &e).max(1),
                format!("unreadable header: {e}"),
            );
            return None;
        }
    };
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = Lines::new(bytes);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                parsed.malformed(
                    file,
                    lines_before + error_line(&mut lines, &e),
                    format!("unreadable row: {e}"),
                );
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = lines_before + line_of(&mut lines, &record);
        if record.len() != headers.len() {
            parsed.malformed(
                file,
                line,
                format!("expected {} fields, found {}", headers.len(), record.len()),
            );
            continue;
        }
        rows.push((line, record.clone()));
    }
    Some((headers, rows))
}

/// Entries by source id, in first-seen order: a list that names one party
/// on several rows (one per address or order) yields one entry.
#[derive(Default)]
struct Merged {
    entries: Vec<WatchlistEntry>,
    /// The line each entry was first seen on, for validation messages.
    lines: Vec<u64>,
    by_id: std::collections::HashMap<String, usize>,
}

impl Merged {
    fn add(&mut self, line: u64, entry: WatchlistEntry) {
        match self.by_id.get(&entry.source_id) {
            Some(i) => self.entries[*i].merge(entry),
            None => {
                self.by_id
                    .insert(entry.source_id.clone(), self.entries.len());
                self.entries.push(entry);
                self.lines.push(line);
            }
        }
    }

    /// Moves the entries into `parsed`, dropping (and reporting) invalid ones.
    fn finish(self, file: &str, mut parsed: Parsed) -> Parsed {
        parsed.entries = self.entries;
        parsed.validate(file, &self.lines);
        parsed
    }
}

fn field(raw: &[u8]) -> String {
    let text = match std::str::from_utf8(raw) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(raw.iter().map(|b| char::from(*b)).collect()),
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// 1-based line numbers of byte offsets into one file, asked mostly in
/// increasing order (so counting is linear). An offset in the white space
/// before a record or element counts as the line the record starts on: the
/// csv crate reports a record after a CRLF line break at the offset of its
/// `\n`, and counts that line only once it reads on, so its own line
/// numbers run one short in CRLF files.
struct Lines<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Lines {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    fn at(&mut self, offset: u64) -> u64 {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        if offset < self.offset {
            self.offset = 0;
            self.line = 1;
        }
        let skipped = &self.bytes[self.offset..offset];
        self.line += skipped.iter().filter(|b| **b == b'\n').count() as u64;
        self.offset = offset;
        let rest = &self.bytes[offset..];
        let ws = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
        self.line + rest[..ws].iter().filter(|b| **b == b'\n').count() as u64
    }
}

/// Line number of a CSV record (1-based), 0 if unknown.
fn line_of(lines: &mut Lines<'_>, record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, |p| lines.at(p.byte()))
}

/// The line a CSV error refers to.
fn error_line(lines: &mut Lines<'_>, e: &csv::Error) -> u64 {
    e.position().map_or(0, |p| lines.at(p.byte()))
}

/// A stable id from a name: lower-case ASCII words joined by `-`, at most
/// 96 bytes (whole words).
fn slug(text: &str) -> String {
    let mut out = String::new();
    for w in any_ascii::any_ascii(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() && out.len() + 1 + w.len() > 96 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&w.to_ascii_lowercase());
    }
    out.truncate(96);
    out
}

/// A list's date (`MM/DD/YYYY` as BIS and trade.gov write it, or ISO
/// `YYYY-MM-DD`) as the end of that day (UTC) in Unix milliseconds.
fn date_unix_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    let nums: Vec<i32> = t
        .get(..10)
        .unwrap_or(t)
        .split(['/', '-'])
        .map(|n| n.parse::<i32>().ok())
        .collect::<Option<_>>()?;
    let (year, month, day) = match (t.contains('/'), nums.as_slice()) {
        (true, [m, d, y]) => (*y, *m, *d),
        (false, [y, m, d]) => (*y, *m, *d),
        _ => return None,
    };
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()?;
    let end = date.with_hms(23, 59, 59).ok()?.assume_utc();
    Some(end.unix_timestamp() * 1000 + 999)
}

/// Splits on `sep`, trims, drops empties.
fn split_list(text: &str, sep: char) -> Vec<String> {
    text.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn push_unique(into: &mut Vec<String>, value: String) {
    if !value.is_empty() && !into.contains(&value) {
        into.push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert!("ofac".parse::<Format>().is_err());
    }

    #[test]
    fn helpers() {
        assert_eq!(field(b" caf\xe9 "), "café");
        assert_eq!(field(" café ".as_bytes()), "café");
        assert_eq!(field(b"two\nlines"), "two lines");
        assert!(slug(&"word ".repeat(40)).len() <= 96);
        assert_eq!(slug(" AARON  Abraham-Villa, Jr."), "aaron-abraham-villa-jr");
        assert_eq!(split_list("a; b;;c ", ';'), ["a", "b", "c"]);
        assert_eq!(date_unix_ms("01/14/2026"), date_unix_ms("2026-01-14"));
        assert_eq!(date_unix_ms("1970-01-01"), Some(86_399_999));
        assert_eq!(date_unix_ms("13/45/2026"), None);
        assert_eq!(date_unix_ms("soon"), None);
    }
}
