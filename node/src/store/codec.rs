//! Value encoding: one format-version byte, then the postcard body.
//!
//! The leading byte lets a later schema read values written by an earlier one
//! (and refuse ones it does not know) without guessing from the body.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::SCHEMA_VERSION;

// Values written under schema N carry byte N, so the byte must fit.
const _: () = assert!(SCHEMA_VERSION <= u8::MAX as u32);

/// The version byte this build writes.
pub(crate) const VALUE_VERSION: u8 = SCHEMA_VERSION as u8;

/// Why stored bytes did not decode; becomes the `reason` of `StoreError::Corrupt`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum DecodeError {
    #[error("empty value (no version byte)")]
    Empty,
    #[error("unknown value version {found} (this build reads version {supported})")]
    UnknownVersion { found: u8, supported: u8 },
    #[error("undecodable body: {0}")]
    Body(String),
    #[error("{0} trailing bytes after the value")]
    Trailing(usize),
}

pub(crate) fn encode<V: Serialize + ?Sized>(value: &V) -> Result<Vec<u8>, String> {
    let mut out = vec![VALUE_VERSION];
    postcard::to_io(value, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

pub(crate) fn decode<V: DeserializeOwned>(bytes: &[u8]) -> Result<V, DecodeError> {
    let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
    if version != VALUE_VERSION {
        return Err(DecodeError::UnknownVersion {
            found: version,
            supported: VALUE_VERSION,
        });
    }
    // postcard stops at the end of the value; leftover bytes mean the record
    // is not what we wrote, so they count as corruption rather than slack.
    let (value, rest) =
        postcard::take_from_bytes::<V>(body).map_err(|e| DecodeError::Body(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::Trailing(rest.len()));
    }
    Ok(value)
}

/// Renders a key for error messages: quoted text when printable, hex otherwise.
pub(crate) fn show_key(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(text) if !text.chars().any(char::is_control) => format!("{text:?}"),
        _ => format!("0x{}", hex::encode(key)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rule {
        id: u64,
        text: String,
        tags: Vec<String>,
    }

    fn rule() -> Rule {
        Rule {
            id: 7,
            text: "dual-use".to_owned(),
            tags: vec!["a".to_owned(), "b".to_owned()],
        }
    }

    #[test]
    fn round_trips_with_version_byte() {
        let bytes = encode(&rule()).unwrap();
        assert_eq!(bytes[0], VALUE_VERSION);
        assert_eq!(decode::<Rule>(&bytes).unwrap(), rule());
    }

    #[test]
    fn empty_value_is_rejected() {
        assert_eq!(decode::<Rule>(&[]), Err(DecodeError::Empty));
    }

    #[test]
    fn unknown_version_is_rejected() {
        let mut bytes = encode(&rule()).unwrap();
        bytes[0] = 200;
        assert_eq!(
            decode::<Rule>(&bytes),
            Err(DecodeError::UnknownVersion {
                found: 200,
                supported: VALUE_VERSION
            })
        );
    }

    #[test]
    fn truncated_body_is_rejected() {
        let bytes = encode(&rule()).unwrap();
        let err = decode::<Rule>(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(matches!(err, DecodeError::Body(_)), "{err:?}");
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = encode(&rule()).unwrap();
        bytes.extend_from_slice(&[1, 2]);
        assert_eq!(decode::<Rule>(&bytes), Err(DecodeError::Trailing(2)));
    }

    #[test]
    fn keys_render_as_text_or_hex() {
        assert_eq!(show_key(b"rule/42"), "\"rule/42\"");
        assert_eq!(show_key(&[0, 255, 16]), "0x00ff10");
        assert_eq!(show_key(b"a\nb"), "0x610a62");
    }
}
