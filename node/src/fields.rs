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
    Ok(())
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
    }
}
