//! Durations and points in time given on the command line: `90s`, `30m`,
//! `12h`, `7d` (and sums such as `1h30m`), and `--since` as either such a
//! duration ago or an RFC 3339 time.
//!
//! Bad input is the caller's: every failure is an `invalid-argument` error.

use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::exit::CliError;

/// The longest duration accepted: 100 years, far beyond any sensible expiry.
const MAX_SECONDS: u64 = 100 * 366 * 86_400;

const HELP: &str = "expected a number followed by s, m, h or d, e.g. 90s, 30m, 12h, 7d or 1h30m";

/// Parses `90s`, `30m`, `12h`, `7d` or a sum of them such as `1d12h`.
/// Zero, missing units, unknown units, signs, spaces and overflow are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    if text.is_empty() {
        return Err(format!("empty duration; {HELP}"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(format!("{text:?}: unexpected {c:?}; {HELP}")),
        };
        if digits.is_empty() {
            return Err(format!("{text:?}: unit {c:?} without a number; {HELP}"));
        }
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{text:?}: number too large"))?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .filter(|s| *s <= MAX_SECONDS)
            .ok_or_else(|| format!("{text:?}: longer than 100 years"))?;
    }
    if !digits.is_empty() {
        return Err(format!("{text:?}: {digits} has no unit; {HELP}"));
    }
    if total == 0 {
        return Err(format!("{text:?}: a duration must be longer than zero"));
    }
    Ok(Duration::from_secs(total))
}

/// A duration flag, as an `invalid-argument` error naming the flag.
pub fn duration_arg(flag: &str, text: &str) -> Result<Duration, CliError> {
    parse_duration(text).map_err(|e| CliError::invalid_argument(format!("{flag}: {e}")))
}

/// An optional duration flag in whole seconds, 0 when absent (the wire's "none").
pub fn seconds_arg(flag: &str, text: Option<&str>) -> Result<u64, CliError> {
    text.map_or(Ok(0), |t| duration_arg(flag, t).map(|d| d.as_secs()))
}

/// `--since`: a duration ago (`24h`) or an RFC 3339 time
/// (`2025-01-31T12:00:00Z`), as Unix milliseconds.
pub fn parse_since(text: &str, now_unix_ms: i64) -> Result<i64, String> {
    if let Ok(d) = parse_duration(text) {
        let ms = i64::try_from(d.as_millis()).map_err(|_| format!("{text:?}: too long ago"))?;
        return Ok(now_unix_ms.saturating_sub(ms).max(1));
    }
    match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(t) => {
            let ms = t.unix_timestamp_nanos() / 1_000_000;
            i64::try_from(ms)
                .ok()
                .filter(|ms| *ms > 0)
                .ok_or_else(|| format!("{text:?}: before 1970 or out of range"))
        }
        Err(_) => Err(format!(
            "{text:?}: expected a duration ago such as 24h or 7d, or an RFC 3339 time \
             such as 2025-01-31T12:00:00Z"
        )),
    }
}

/// The current time in Unix milliseconds.
pub fn now_unix_ms() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(nanos).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> Result<u64, String> {
        parse_duration(text).map(|d| d.as_secs())
    }

    #[test]
    fn parses_single_and_summed_units() {
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("30m"), Ok(1_800));
        assert_eq!(secs("12h"), Ok(43_200));
        assert_eq!(secs("7d"), Ok(604_800));
        assert_eq!(secs("1h30m"), Ok(5_400));
        assert_eq!(secs("1d12h"), Ok(129_600));
        assert_eq!(secs("007s"), Ok(7));
    }

    #[test]
    fn refuses_junk() {
        for junk in [
            "",
            "10",
            "h",
            "5x",
            "1.5h",
            "-5m",
            "+5m",
            " 5m",
            "5m ",
            "5 m",
            "0s",
            "0d0h",
            "5M",
            "1w",
            "m5",
            "99999999999999999999999s",
            "36600000d",
            "5mm",
            "1h30",
            "24 hours",
        ] {
            assert!(parse_duration(junk).is_err(), "{junk:?} was accepted");
        }
        assert!(secs("10").unwrap_err().contains("has no unit"));
        let err = duration_arg("--expires-in", "soon").unwrap_err();
        assert_eq!(err.exit_code(), 6);
        assert!(err.message.starts_with("--expires-in: "), "{}", err.message);
        assert_eq!(seconds_arg("--valid-for", None).unwrap(), 0);
        assert_eq!(seconds_arg("--valid-for", Some("2m")).unwrap(), 120);
        assert_eq!(
            seconds_arg("--valid-for", Some("2"))
                .unwrap_err()
                .exit_code(),
            6
        );
    }

    #[test]
    fn since_takes_a_duration_ago_or_a_time() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_since("24h", now), Ok(now - 86_400_000));
        assert_eq!(parse_since("90s", now), Ok(now - 90_000));
        assert_eq!(
            parse_since("2023-11-14T22:13:20Z", now),
            Ok(1_700_000_000_000)
        );
        assert_eq!(
            parse_since("2023-11-14T23:13:20.5+01:00", now),
            Ok(1_700_000_000_500)
        );
        assert!(parse_since("yesterday", now).is_err());
        assert!(parse_since("2023-11-14", now).is_err());
        assert!(parse_since("1960-01-01T00:00:00Z", now).is_err());
        // A duration reaching before 1970 still means "everything".
        assert_eq!(parse_since("36500d", 1_000), Ok(1));
    }
}
