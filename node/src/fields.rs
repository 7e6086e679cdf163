//! The check every free-text field of a record passes before it is stored
//! or sent: present when required, bounded in bytes, and free of control
//! characters other than newline and tab (which would corrupt terminals,
//! logs and audit exports).

/// Checks one text field; the error names the field.
pub fn text(field: &str, value: &str, required: bool, max: usize) -> Result<(), String> {
    if required && value.trim().is_empty() {
        return Err(format!("{field}: required"));
    }
    if value.len() > max {
        return Err(format!(
            "{field}: longer than {max} bytes ({} bytes)",
            value.len()
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(format!("{field}: contains control characters"));
    }
    if value.chars().any(is_bidi_control) {
        return Err(format!(
            "{field}: contains bidirectional embedding, override or isolate characters \
             (U+202A-U+202E, U+2066-U+2069), which make text display as something else"
        ));
    }
    Ok(())
}

/// Characters that reorder how the text around them is displayed (the
/// "Trojan Source" class). Direction marks (U+200E, U+200F, U+061C) only
/// nudge neutral characters and stay allowed: Arabic and Hebrew names carry them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The latest time a record may carry (9999-12-31T23:59:59.999Z).
pub const MAX_TIME_UNIX_MS: i64 = 253_402_300_799_999;

/// `now + d` as a Unix time in milliseconds, refused when `d` is zero or
/// would land after `MAX_TIME_UNIX_MS` (never wrapped into the past).
pub fn time_after(field: &str, now_unix_ms: i64, d: std::time::Duration) -> Result<i64, String> {
    if d.is_zero() {
        return Err(format!("{field}: must be positive"));
    }
    i64::try_from(d.as_millis())
        .ok()
        .and_then(|ms| now_unix_ms.checked_add(ms))
        .filter(|t| *t <= MAX_TIME_UNIX_MS)
        .ok_or_else(|| {
            format!(
                "{field}: {} seconds is too long (ends after the year 9999)",
                d.as_secs()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_and_the_problem() {
        assert!(text("summary", "two\nlines\tok", true, 64).is_ok());
        assert!(text("note", "", false, 64).is_ok());
        assert_eq!(
            text("summary", "  ", true, 64).unwrap_err(),
            "summary: required"
        );
        assert!(text("summary", "abcdef", true, 5)
            .unwrap_err()
            .starts_with("summary: longer than 5 bytes"));
        assert_eq!(
            text("summary", "bell\u{7}", true, 64).unwrap_err(),
            "summary: contains control characters"
        );
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let err = text("summary", &format!("invoice{c}fdp.exe"), true, 64).unwrap_err();
            assert!(err.starts_with("summary: contains bidirectional"), "{err}");
        }
        assert!(text("name", "\u{200F}محمد", true, 64).is_ok());
    }

    #[test]
    fn durations_never_wrap_into_the_past() {
        use std::time::Duration;
        let now = 1_700_000_000_000;
        assert_eq!(time_after("v", now, Duration::from_secs(1)), Ok(now + 1000));
        assert!(time_after("v", now, Duration::ZERO).is_err());
        for secs in [
            u64::MAX,
            u64::MAX / 1000,
            i64::MAX as u64 / 1000,
            300_000_000_000,
        ] {
            let err = time_after("valid_for", now, Duration::from_secs(secs)).unwrap_err();
            assert!(err.contains("too long"), "{secs}: {err}");
        }
    }
}
