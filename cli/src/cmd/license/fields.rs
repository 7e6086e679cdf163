//! The checks and parsing of license command-line values the licensing
//! commands share (`license`, `shipment`, `screen`).

use concord_proto::v1 as pb;

use crate::exit::CliError;

pub(crate) fn required(flag: &str, value: &str) -> Result<(), CliError> {
    if value.trim().is_empty() {
        Err(CliError::invalid_argument(format!("{flag}: required")))
    } else {
        Ok(())
    }
}

/// `CODE:QTY:VALUE:CURRENCY[:DESCRIPTION]`; the description may contain colons.
pub fn parse_item(text: &str) -> Result<pb::LicenseItem, CliError> {
    let bad = |why: &str| {
        CliError::invalid_argument(format!(
            "--item {text:?}: {why}; expected CODE:QTY:VALUE:CURRENCY[:DESCRIPTION], \
             e.g. 3A001:10:250000:EUR:FPGAs (VALUE in minor units, e.g. cents)"
        ))
    };
    let mut parts = text.splitn(5, ':');
    let (Some(code), Some(qty), Some(value), Some(currency)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("too few fields"));
    };
    let description = parts.next().unwrap_or("").trim().to_owned();
    let code = code.trim();
    if code.is_empty() {
        return Err(bad("no control-list code"));
    }
    let quantity: u64 = qty
        .trim()
        .parse()
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| bad("QTY must be a whole number of at least 1"))?;
    let minor_units: i64 = value
        .trim()
        .parse()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| bad("VALUE must be a whole, non-negative number of minor units"))?;
    let currency = currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(bad("CURRENCY must be a three-letter code such as EUR"));
    }
    Ok(pb::LicenseItem {
        code: code.to_owned(),
        description,
        quantity,
        value: Some(pb::Money {
            minor_units,
            currency,
        }),
        category: String::new(),
        tier: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items() {
        let i = parse_item("3A001:10:250000:eur:FPGAs: rad-hard, 28 nm").unwrap();
        assert_eq!(i.code, "3A001");
        assert_eq!(i.quantity, 10);
        let v = i.value.unwrap();
        assert_eq!((v.minor_units, v.currency.as_str()), (250_000, "EUR"));
        assert_eq!(i.description, "FPGAs: rad-hard, 28 nm");
        assert_eq!(parse_item("ML4:1:0:USD").unwrap().description, "");
        for bad in [
            "ML4",
            "ML4:1:100",
            ":1:100:EUR",
            "ML4:0:100:EUR",
            "ML4:x:100:EUR",
            "ML4:1:-5:EUR",
            "ML4:1:12.50:EUR",
            "ML4:1:100:EURO",
        ] {
            assert_eq!(parse_item(bad).unwrap_err().exit_code(), 6, "{bad}");
        }
    }
}
