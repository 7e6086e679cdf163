//! How values read on a page: times in UTC, minutes precision.

/// `2026-12-04 11:38 UTC`; `—` for none.
pub fn time(unix_ms: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000)) else {
        return "—".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

pub fn opt_time(unix_ms: Option<i64>) -> String {
    unix_ms.map_or_else(|| "—".to_owned(), time)
}

/// Money in minor units as `1234.56 EUR`.
pub fn money(minor_units: i64, currency: &str) -> String {
    format!(
        "{}.{:02} {currency}",
        minor_units / 100,
        (minor_units % 100).abs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_utc() {
        assert_eq!(time(0), "1970-01-01 00:00 UTC");
        assert_eq!(time(1_796_223_760_722), "2026-12-02 15:02 UTC");
        assert_eq!(opt_time(None), "—");
        assert_eq!(money(123_456, "EUR"), "1234.56 EUR");
    }
}
