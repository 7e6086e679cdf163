//! Malformed requests are the caller's fault: tonic reports a request body
//! it cannot decode (invalid UTF-8 in a string field, a truncated message)
//! as `INTERNAL`, which tells clients and alerting the node is broken. This
//! response layer re-labels exactly those statuses as `INVALID_ARGUMENT`.
//!
//! Written by hand because tonic has no hook for its codec's decode errors;
//! the status arrives as a trailers-only response, so the `grpc-status`
//! header is all there is to rewrite.

use http::{HeaderValue, Response};

/// What tonic's codec puts at the start of `grpc-message` when decoding fails
/// (percent-encoded on the wire, as gRPC requires).
const DECODE_FAILED: &[&[u8]] = &[
    b"failed to decode Protobuf message",
    b"failed%20to%20decode%20Protobuf%20message",
];
const INTERNAL: &[u8] = b"13";
const INVALID_ARGUMENT: &str = "3";

/// Rewrites a decode failure's status; leaves every other response alone.
pub fn relabel<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers();
    let is_decode_failure = headers
        .get("grpc-status")
        .is_some_and(|s| s.as_bytes() == INTERNAL)
        && headers
            .get("grpc-message")
            .is_some_and(|m| DECODE_FAILED.iter().any(|p| m.as_bytes().starts_with(p)));
    if is_decode_failure {
        response
            .headers_mut()
            .insert("grpc-status", HeaderValue::from_static(INVALID_ARGUMENT));
    }
    response
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
        let plain = relabel(Response::new(()));
        assert!(plain.headers().get("grpc-status").is_none());
    }
}
