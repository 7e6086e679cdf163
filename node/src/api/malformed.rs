//! Malformed requests are the caller's fault, and oversized ones a limit
//! the caller hit. tonic reports a request body it cannot decode (invalid
//! UTF-8 in a string field, a truncated message) as `INTERNAL`, which tells
//! clients and alerting that the node is broken, and a message over the size
//! limit as `OUT_OF_RANGE`. This module re-labels exactly those statuses as
//! `INVALID_ARGUMENT` and `RESOURCE_EXHAUSTED`: [`relabel`] as a response
//! layer for unary calls, [`relabel_status`] where a handler reads a stream.
//!
//! It also caps what an error message may echo (`MAX_MESSAGE`): messages
//! quote the offending input, and a caller must not be able to make the node
//! send megabytes back in a trailer.
//!
//! Written by hand because tonic has no hook for its codec's decode errors;
//! for unary calls the status arrives as a trailers-only response, so the
//! `grpc-status` header is all there is to rewrite.

use http::{HeaderValue, Response};
use tonic::{Code, Status};

/// What tonic's codec puts at the start of the message when decoding fails,
/// as text and percent-encoded (as `grpc-message` carries it).
const DECODE_FAILED: &[&str] = &[
    "failed to decode Protobuf message",
    "failed%20to%20decode%20Protobuf%20message",
];
/// ... and when a message is over the size limit.
const TOO_LARGE: &[&str] = &[
    "Error, decoded message length too large",
    "Error,%20decoded%20message%20length%20too%20large",
];

/// The code a caller should see instead of `code` for `message`, if any.
fn corrected(code: Code, message: &str) -> Option<Code> {
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| message.starts_with(p));
    match code {
        Code::Internal if starts(DECODE_FAILED) => Some(Code::InvalidArgument),
        Code::OutOfRange if starts(TOO_LARGE) => Some(Code::ResourceExhausted),
        _ => None,
    }
}

/// Longest error message sent (bytes, before percent-encoding).
pub const MAX_MESSAGE: usize = 1024;

/// `message` cut to `MAX_MESSAGE` bytes at a character boundary, saying so.
pub fn capped(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= MAX_MESSAGE {
        return message.into();
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… ({} more bytes not shown)",
        &message[..end],
        message.len() - end
    )
    .into()
}

/// A percent-encoded `grpc-message` cut to about `MAX_MESSAGE` bytes,
/// never inside an escape.
fn capped_encoded(message: &str) -> Option<String> {
    if message.len() <= 3 * MAX_MESSAGE {
        return None;
    }
    let mut end = 3 * MAX_MESSAGE;
    // Step back out of a `%XX` escape.
    if let Some(i) = message[end - 2..end].find('%') {
        end = end - 2 + i;
    }
    Some(format!("{}%E2%80%A6%20(truncated)", &message[..end]))
}

/// Rewrites a decode or size failure's status and caps the message; leaves
/// every other response alone.
pub fn relabel<B>(mut response: Response<B>) -> Response<B> {
    let long = response
        .headers()
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .and_then(capped_encoded);
    if let Some(short) = long.and_then(|s| HeaderValue::from_str(&s).ok()) {
        response.headers_mut().insert("grpc-message", short);
    }
    let headers = response.headers();
    let code = headers
        .get("grpc-status")
        .and_then(|s| s.to_str().ok())
        .and_then(|s| s.parse::<i32>().ok())
        .map(Code::from);
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .unwrap_or_default();
    if let Some(better) = code.and_then(|c| corrected(c, message)) {
        let value = HeaderValue::from(better as i32);
        response.headers_mut().insert("grpc-status", value);
    }
    response
}

/// The same correction for a status read from a request stream.
pub fn relabel_status(status: Status) -> Status {
    let code = corrected(status.code(), status.message()).unwrap_or(status.code());
    if code == status.code() && status.message().len() <= MAX_MESSAGE {
        return status;
    }
    Status::new(code, capped(status.message()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: &'static str, message: &'static str) -> Response<()> {
        let mut r = Response::new(());
        r.headers_mut()
            .insert("grpc-status", HeaderValue::from_static(status));
        r.headers_mut()
            .insert("grpc-message", HeaderValue::from_static(message));
        r
    }

    fn status(r: &Response<()>) -> &str {
        r.headers()["grpc-status"].to_str().unwrap()
    }

    #[test]
    fn decode_failures_become_invalid_argument() {
        let r = relabel(response(
            "13",
            "failed%20to%20decode%20Protobuf%20message:%20invalid%20string",
        ));
        assert_eq!(status(&r), "3");
        let s = relabel_status(Status::internal(
            "failed to decode Protobuf message: invalid utf-8",
        ));
        assert_eq!(s.code(), Code::InvalidArgument);
    }

    #[test]
    fn oversized_messages_become_resource_exhausted() {
        let r = relabel(response(
            "11",
            "Error,%20decoded%20message%20length%20too%20large:%20found%205000000%20bytes",
        ));
        assert_eq!(status(&r), "8");
        let s = relabel_status(Status::out_of_range(
            "Error, decoded message length too large: found 5000000 bytes, the limit is: 4194304 bytes",
        ));
        assert_eq!(s.code(), Code::ResourceExhausted);
    }

    #[test]
    fn long_messages_are_capped() {
        let huge = "x".repeat(3_000_000);
        let s = Status::invalid_argument(format!("no such id {huge}"));
        let s = relabel_status(s);
        assert!(
            s.message().len() < MAX_MESSAGE + 64,
            "{}",
            s.message().len()
        );
        assert_eq!(s.code(), Code::InvalidArgument);
        let encoded = format!("bad%20id%20{}", "%C3%A9".repeat(100_000));
        let mut r = Response::new(());
        r.headers_mut()
            .insert("grpc-status", HeaderValue::from_static("3"));
        r.headers_mut()
            .insert("grpc-message", HeaderValue::from_str(&encoded).unwrap());
        let r = relabel(r);
        let m = r.headers()["grpc-message"].to_str().unwrap();
        assert!(m.len() < 3 * MAX_MESSAGE + 64);
        assert!(m.ends_with("(truncated)"));
        // Never cut inside an escape: every '%' is followed by two hex digits.
        let body = m.trim_end_matches("%E2%80%A6%20(truncated)");
        for (i, _) in body.match_indices('%') {
            assert!(body[i + 1..].len() >= 2, "cut escape at {i}");
        }
        assert!(capped("é".repeat(600).as_str()).len() < MAX_MESSAGE + 64);
    }

    #[test]
    fn other_statuses_are_left_alone() {
        assert_eq!(status(&relabel(response("13", "store%20failed"))), "13");
        assert_eq!(
            status(&relabel(response(
                "5",
                "failed%20to%20decode%20Protobuf%20message"
            ))),
            "5"
        );
        assert_eq!(
            relabel_status(Status::internal("store failed")).code(),
            Code::Internal
        );
        let plain = relabel(Response::new(()));
        assert!(plain.headers().get("grpc-status").is_none());
    }
}
