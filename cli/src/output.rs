//! Rendering: aligned tables and key/value blocks for people, one JSON
//! document for programs.
//!
//! Architecture invariant: rendering is pure (strings in, strings out); only
//! [`print_json`] and [`print_text`] write to stdout.

use std::io::Write;

use serde::Serialize;
use time::OffsetDateTime;

use crate::exit::CliError;

/// How a command prints what it produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables and blocks for people.
    Table,
    /// One JSON document on stdout.
    Json,
}

/// Prints one pretty JSON document followed by a newline.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::internal(format!("cannot encode JSON output: {e}")))?;
    print_text(&text)
}

/// Prints text, adding a final newline if it lacks one.
pub fn print_text(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    write!(out, "{text}{newline}")
        .and_then(|()| out.flush())
        .map_err(|e| CliError::internal(format!("cannot write to stdout: {e}")))
}

/// A table whose columns are padded to their widest cell.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are left empty, extra cells dropped.
    pub fn row<I, S>(&mut self, cells: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut row: Vec<String> = cells.into_iter().map(Into::into).collect();
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
        self
    }

    /// Header line plus one line per row, columns two spaces apart, no
    /// trailing whitespace. Cells are kept on one line.
    pub fn render(&self) -> String {
        let lines: Vec<Vec<String>> = std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|r| r.iter().map(|c| c.replace(['\n', '\r'], " ")).collect())
            .collect();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                lines
                    .iter()
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for line in &lines {
            let mut text = String::new();
            for (i, cell) in line.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                let pad = widths[i].saturating_sub(cell.chars().count());
                text.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A titled block of `key  value` lines, keys padded to the widest.
pub fn key_values(title: &str, pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = format!("{title}\n");
    for (key, value) in pairs {
        let line = format!("  {key:<width$}  {value}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Unix milliseconds as RFC 3339 UTC, or "never" for 0 (and for nonsense).
pub fn time_or_never(unix_ms: i64) -> String {
    rfc3339(unix_ms).unwrap_or_else(|| "never".to_owned())
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds; `None` for 0 or out
/// of range.
pub fn rfc3339(unix_ms: i64) -> Option<String> {
    if unix_ms <= 0 {
        return None;
    }
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

/// `yes`/`no`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// `1h 2m 3s`, `4m 0s`, `12s`.
pub fn duration(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3_600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m {s}s"),
        _ => format!("{d}d {h}h {m}m {s}s"),
    }
}

/// `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A placeholder for empty strings in tables.
pub fn or_dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_owned()
    } else {
        s.to_owned()
    }
}

/// Checks a file a command is about to create: it must not exist (never
/// overwritten) and its directory must (a missing one is the caller's
/// mistake, not the node's).
pub fn check_new_file(out: &std::path::Path, flag: &str) -> Result<(), crate::exit::CliError> {
    if out.exists() {
        return Err(crate::exit::CliError::already_exists(format!(
            "{} already exists; choose another {flag}",
            out.display()
        )));
    }
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    if !dir.is_dir() {
        return Err(crate::exit::CliError::invalid_argument(format!(
            "{flag} {}: directory {} does not exist; create it first",
            out.display(),
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_columns_without_trailing_space() {
        let mut t = Table::new(["JURISDICTION", "ENDPOINT", "ERROR"]);
        t.row(["FR", "127.0.0.1:7402", ""]);
        t.row(["JP", "node.jp.example:7403", "tls: bad\ncert"]);
        t.row(["X"]);
        assert_eq!(
            t.render(),
            "\
JURISDICTION  ENDPOINT              ERROR
FR            127.0.0.1:7402
JP            node.jp.example:7403  tls: bad cert
X
"
        );
    }

    #[test]
    fn key_value_blocks_pad_keys() {
        let block = key_values(
            "Node",
            &[("jurisdiction", "DE".into()), ("uptime", "".into())],
        );
        assert_eq!(block, "Node\n  jurisdiction  DE\n  uptime\n");
    }

    fn check<T: std::fmt::Debug + PartialEq>(got: T, expected: T) {
        assert_eq!(got, expected);
    }

    #[test]
    fn formats_values() {
        check(time_or_never(0), "never".to_owned());
        check(time_or_never(-5), "never".to_owned());
        check(
            time_or_never(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z".to_owned(),
        );
        check(
            time_or_never(1_700_000_000_000),
            "2023-11-14T22:13:20.000Z".to_owned(),
        );
        check(
            time_or_never(1_700_000_000_390),
            "2023-11-14T22:13:20.390Z".to_owned(),
        );
        check(time_or_never(i64::MAX), "never".to_owned());
        check(duration(12), "12s".to_owned());
        check(duration(240), "4m 0s".to_owned());
        check(duration(3_723), "1h 2m 3s".to_owned());
        check(duration(90_061), "1d 1h 1m 1s".to_owned());
        check(bytes(512), "512 B".to_owned());
        check(bytes(1536), "1.5 KiB".to_owned());
        check(bytes(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB".to_owned());
        check(or_dash(""), "-".to_owned());
        check(yes_no(true), "yes");
    }
}
