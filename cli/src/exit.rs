//! Failure kinds, exit codes, and the classification of gRPC and transport
//! errors into them.
//!
//! # Exit codes
//!
//! | code | kind                  | meaning                                                        |
//! |------|-----------------------|----------------------------------------------------------------|
//! | 0    |                       | success                                                        |
//! | 1    | `internal`            | internal or otherwise unclassified error                       |
//! | 2    |                       | usage error (bad flags or arguments, reported by clap)         |
//! | 3    | `connection-refused`  | connection refused or node unreachable (no TLS cause)          |
//! | 4    | `tls`                 | TLS failure: handshake failed, certificate refused or untrusted, unauthenticated |
//! | 5    | `permission-denied`   | the node refused the caller's identity for this call           |
//! | 6    | `invalid-argument`    | invalid argument, including bad local input such as an unreadable trust bundle |
//! | 7    | `not-found`           | the named object does not exist                                |
//! | 8    | `already-exists`      | the object (or file) already exists                            |
//! | 9    | `failed-precondition` | the node is not in a state allowing the call                   |
//! | 10   | `resource-exhausted`  | a limit was hit                                                |
//! | 11   | `timeout`             | deadline exceeded or timed out                                 |
//! | 12   | `config`              | local configuration, profile or key-file error                 |
//! | 13   | `warnings`            | done, but with warnings (an import skipped rows or kept fields as written) |
//!
//! On failure `concord` prints exactly one line to stderr:
//! `concord: <kind>: <message>`.
//!
//! Architecture invariant: this module decides every exit code; commands only
//! produce [`CliError`]s.

use std::error::Error as StdError;
use std::fmt;

use tonic::Code;

/// Exit code of a successful run.
pub const EXIT_OK: u8 = 0;
/// Exit code clap uses for usage errors (clap exits by itself).
pub const EXIT_USAGE: u8 = 2;

/// What went wrong, as far as the caller of `concord` needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Internal,
    ConnectionRefused,
    Tls,
    PermissionDenied,
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    ResourceExhausted,
    Timeout,
    Config,
    /// The command did its work and printed its result, but with warnings.
    Warnings,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::Internal,
        ErrorKind::ConnectionRefused,
        ErrorKind::Tls,
        ErrorKind::PermissionDenied,
        ErrorKind::InvalidArgument,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::FailedPrecondition,
        ErrorKind::ResourceExhausted,
        ErrorKind::Timeout,
        ErrorKind::Config,
        ErrorKind::Warnings,
    ];

    /// The name printed in `concord: <kind>: <message>`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Internal => "internal",
            ErrorKind::ConnectionRefused => "connection-refused",
            ErrorKind::Tls => "tls",
            ErrorKind::PermissionDenied => "permission-denied",
            ErrorKind::InvalidArgument => "invalid-argument",
            ErrorKind::NotFound => "not-found",
            ErrorKind::AlreadyExists => "already-exists",
            ErrorKind::FailedPrecondition => "failed-precondition",
            ErrorKind::ResourceExhausted => "resource-exhausted",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Config => "config",
            ErrorKind::Warnings => "warnings",
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Internal => 1,
            ErrorKind::ConnectionRefused => 3,
            ErrorKind::Tls => 4,
            ErrorKind::PermissionDenied => 5,
            ErrorKind::InvalidArgument => 6,
            ErrorKind::NotFound => 7,
            ErrorKind::AlreadyExists => 8,
            ErrorKind::FailedPrecondition => 9,
            ErrorKind::ResourceExhausted => 10,
            ErrorKind::Timeout => 11,
            ErrorKind::Config => 12,
            ErrorKind::Warnings => 13,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A classified failure of a `concord` command.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CliError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CliError {
    pub fn new(kind: ErrorKind, message: impl fmt::Display) -> Self {
        CliError {
            kind,
            message: message.to_string(),
        }
    }

    pub fn internal(message: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn config(message: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub fn invalid_argument(message: impl fmt::Display) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn already_exists(message: impl fmt::Display) -> Self {
        Self::new(ErrorKind::AlreadyExists, message)
    }

    pub fn timeout(message: impl fmt::Display) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }

    /// Prefixes the message with what was being done: `"<context>: <message>"`.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// A failed RPC, classified by code and cause.
    pub fn from_status(status: &tonic::Status) -> Self {
        let kind = classify_status(status);
        let mut message = match status.message() {
            "" => format!("{:?}", status.code()),
            m => m.to_owned(),
        };
        if let Some(source) = StdError::source(status) {
            append_chain(&mut message, source);
        }
        CliError::new(kind, message)
    }

    /// A failed connection attempt, classified by its cause.
    pub fn from_transport(err: &tonic::transport::Error) -> Self {
        let kind = classify_transport(err);
        let mut message = err.to_string();
        if let Some(source) = err.source() {
            append_chain(&mut message, source);
        }
        CliError::new(kind, message)
    }

    /// The single line printed on stderr.
    pub fn line(&self) -> String {
        format!("concord: {}: {}", self.kind, one_line(&self.message))
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

/// The exit-code table for `concord --help`, generated from [`ErrorKind`].
pub fn codes_help() -> String {
    let mut rows = vec![
        (EXIT_OK, "ok".to_owned()),
        (EXIT_USAGE, "usage error".to_owned()),
    ];
    rows.extend(
        ErrorKind::ALL
            .iter()
            .map(|k| (k.exit_code(), k.name().to_owned())),
    );
    rows.sort();
    let mut out =
        String::from("Exit codes (on failure stderr gets one line: concord: <kind>: <message>):\n");
    for (code, name) in rows {
        out.push_str(&format!("  {code:>2}  {name}\n"));
    }
    out
}

/// Collapses whitespace and newlines so the error stays on one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Appends each distinct message of an error chain, `": "`-separated.
fn append_chain(message: &mut String, err: &(dyn StdError + 'static)) {
    for text in chain_texts(err) {
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
}

/// A cause found in an error chain that decides the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    Refused,
    /// A rustls error value in the chain.
    Tls,
    TimedOut,
    /// The connection went away mid-call (the node stopped or died): reset,
    /// broken pipe, end of stream without TLS close_notify.
    Dropped,
    /// Only words in a message suggesting TLS.
    TlsMentioned,
}

/// Classifies a gRPC status by its code, and for `Unavailable`/`Unknown` by
/// what caused it.
pub fn classify_status(status: &tonic::Status) -> ErrorKind {
    match status.code() {
        Code::Ok => ErrorKind::Internal,
        Code::InvalidArgument | Code::OutOfRange => ErrorKind::InvalidArgument,
        Code::DeadlineExceeded => ErrorKind::Timeout,
        Code::NotFound => ErrorKind::NotFound,
        Code::AlreadyExists => ErrorKind::AlreadyExists,
        Code::PermissionDenied => ErrorKind::PermissionDenied,
        Code::ResourceExhausted => ErrorKind::ResourceExhausted,
        Code::FailedPrecondition => ErrorKind::FailedPrecondition,
        Code::Unauthenticated => ErrorKind::Tls,
        // tonic reports its own request timeout as Cancelled("Timeout expired").
        Code::Cancelled if status.message().eq_ignore_ascii_case("timeout expired") => {
            ErrorKind::Timeout
        }
        Code::Unavailable | Code::Unknown => {
            let mut causes = causes_in_text(status.message());
            if let Some(source) = StdError::source(status) {
                causes.extend(causes_in_chain(source));
            }
            let cause = strongest(&causes);
            match (cause, status.code()) {
                (Some(cause), _) => cause_kind(cause),
                (None, Code::Unavailable) => ErrorKind::ConnectionRefused,
                (None, _) => ErrorKind::Internal,
            }
        }
        Code::Cancelled | Code::Aborted | Code::Unimplemented | Code::Internal | Code::DataLoss => {
            ErrorKind::Internal
        }
    }
}

/// Classifies a failed connection attempt by what caused it. Any transport
/// failure without a recognised cause means the node could not be reached.
pub fn classify_transport(err: &tonic::transport::Error) -> ErrorKind {
    classify_connect_error(err)
}

/// [`classify_transport`] over any error, so it can be tested.
pub fn classify_connect_error(err: &(dyn StdError + 'static)) -> ErrorKind {
    strongest(&causes_in_chain(err)).map_or(ErrorKind::ConnectionRefused, cause_kind)
}

fn cause_kind(cause: Cause) -> ErrorKind {
    match cause {
        Cause::Refused => ErrorKind::ConnectionRefused,
        Cause::Tls | Cause::TlsMentioned => ErrorKind::Tls,
        Cause::TimedOut => ErrorKind::Timeout,
        // The node could not be reached to finish the call.
        Cause::Dropped => ErrorKind::ConnectionRefused,
    }
}

/// The cause deciding the kind: a refused connection wins over anything
/// else, then a rustls error, then a timeout (a peer that accepts TCP but
/// never completes the handshake has timed out, though the message says
/// "TLS handshake timeout"), then mere mentions of TLS.
fn strongest(causes: &[Cause]) -> Option<Cause> {
    [
        Cause::Refused,
        Cause::Tls,
        Cause::Dropped,
        Cause::TimedOut,
        Cause::TlsMentioned,
    ]
    .into_iter()
    .find(|c| causes.contains(c))
}

/// Every cause in an error chain, including errors wrapped inside
/// `std::io::Error` (whose `source()` skips the wrapped error itself).
fn causes_in_chain(err: &(dyn StdError + 'static)) -> Vec<Cause> {
    let mut found = Vec::new();
    visit_chain(err, &mut |e| {
        if e.downcast_ref::<rustls::Error>().is_some() {
            found.push(Cause::Tls);
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => found.push(Cause::Refused),
                std::io::ErrorKind::TimedOut => found.push(Cause::TimedOut),
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof => found.push(Cause::Dropped),
                _ => {}
            }
        }
        found.extend(causes_in_text(&e.to_string()));
    });
    found
}

fn visit_chain(err: &(dyn StdError + 'static), visit: &mut dyn FnMut(&(dyn StdError + 'static))) {
    let mut next = Some(err);
    // Chains are short; the bound only guards against a cyclic `source()`.
    for _ in 0..32 {
        let Some(e) = next else { return };
        visit(e);
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            let inner: &(dyn StdError + 'static) = inner;
            visit_chain(inner, visit);
        }
        next = e.source();
    }
}

fn chain_texts(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut texts: Vec<String> = Vec::new();
    visit_chain(err, &mut |e| {
        let text = e.to_string();
        if !text.is_empty() && !texts.contains(&text) {
            texts.push(text);
        }
    });
    texts
}

/// Words by which rustls, hyper and tonic mention TLS trouble.
const TLS_WORDS: [&str; 8] = [
    "tls",
    "rustls",
    "certificate",
    "certificates",
    "alert",
    "handshake",
    "unknownissuer",
    "badcertificate",
];

fn causes_in_text(text: &str) -> Vec<Cause> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    if lower.contains("connection refused") {
        found.push(Cause::Refused);
    }
    if lower.contains("timed out") || lower.contains("timeout") {
        found.push(Cause::TimedOut);
    }
    if [
        "connection reset",
        "broken pipe",
        "close_notify",
        "connection closed",
        "unexpected eof",
        "stream closed because of a broken pipe",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        found.push(Cause::Dropped);
    }
    if lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| TLS_WORDS.contains(&word))
    {
        found.push(Cause::TlsMentioned);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn exit_codes_match_the_documented_table() {
        let table = [
            ("internal", 1),
            ("connection-refused", 3),
            ("tls", 4),
            ("permission-denied", 5),
            ("invalid-argument", 6),
            ("not-found", 7),
            ("already-exists", 8),
            ("failed-precondition", 9),
            ("resource-exhausted", 10),
            ("timeout", 11),
            ("config", 12),
            ("warnings", 13),
        ];
        assert_eq!(table.len(), ErrorKind::ALL.len());
        for (kind, (name, code)) in ErrorKind::ALL.into_iter().zip(table) {
            assert_eq!((kind.name(), kind.exit_code()), (name, code));
        }
        let mut codes: Vec<u8> = ErrorKind::ALL.iter().map(|k| k.exit_code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len(), "codes are distinct");
        assert!(!codes.contains(&EXIT_OK) && !codes.contains(&EXIT_USAGE));
    }

    fn check(status: tonic::Status, expected: ErrorKind) {
        let shown = format!("{status:?}");
        assert_eq!(classify_status(&status), expected, "{shown}");
    }

    fn wrapped(err: impl Into<Box<dyn StdError + Send + Sync>>) -> tonic::Status {
        tonic::Status::from_error(err.into())
    }

    #[test]
    fn classifies_status_codes() {
        use tonic::Status;
        check(Status::invalid_argument("x"), ErrorKind::InvalidArgument);
        check(Status::out_of_range("x"), ErrorKind::InvalidArgument);
        check(Status::not_found("x"), ErrorKind::NotFound);
        check(Status::already_exists("x"), ErrorKind::AlreadyExists);
        check(Status::permission_denied("x"), ErrorKind::PermissionDenied);
        check(Status::unauthenticated("x"), ErrorKind::Tls);
        check(
            Status::failed_precondition("x"),
            ErrorKind::FailedPrecondition,
        );
        check(
            Status::resource_exhausted("x"),
            ErrorKind::ResourceExhausted,
        );
        check(Status::deadline_exceeded("x"), ErrorKind::Timeout);
        check(Status::cancelled("Timeout expired"), ErrorKind::Timeout);
        check(Status::cancelled("x"), ErrorKind::Internal);
        check(Status::internal("x"), ErrorKind::Internal);
        check(Status::unimplemented("x"), ErrorKind::Internal);
        check(Status::unknown("boom"), ErrorKind::Internal);
        check(
            Status::unavailable("no route"),
            ErrorKind::ConnectionRefused,
        );
    }

    #[test]
    fn classifies_unavailable_and_unknown_by_cause() {
        use tonic::Status;
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "os error 111");
        check(wrapped(refused), ErrorKind::ConnectionRefused);
        let untrusted = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        check(wrapped(untrusted), ErrorKind::Tls);
        let alert = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
        );
        check(wrapped(alert), ErrorKind::Tls);
        check(
            Status::unavailable("error trying to connect: received fatal alert: BadCertificate"),
            ErrorKind::Tls,
        );
        check(
            Status::unknown("h2 protocol error: tls handshake eof"),
            ErrorKind::Tls,
        );
        let timed_out = io::Error::new(io::ErrorKind::TimedOut, "connect timeout");
        check(wrapped(timed_out), ErrorKind::Timeout);
        // A node that dies mid-call is unreachable, not a TLS problem.
        check(
            Status::unknown(
                "error reading a body from connection: peer closed connection without sending TLS close_notify",
            ),
            ErrorKind::ConnectionRefused,
        );
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer");
        check(wrapped(reset), ErrorKind::ConnectionRefused);
        // Host names that merely contain the letters "tls" are no TLS cause.
        check(
            Status::unavailable("atlas.example unreachable"),
            ErrorKind::ConnectionRefused,
        );
    }

    #[test]
    fn classifies_connect_errors_through_nested_chains() {
        #[derive(Debug)]
        struct Outer(io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("transport error")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let refused = Outer(io::Error::from(io::ErrorKind::ConnectionRefused));
        assert_eq!(
            classify_connect_error(&refused),
            ErrorKind::ConnectionRefused
        );
        let tls = Outer(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName),
        ));
        assert_eq!(classify_connect_error(&tls), ErrorKind::Tls);
        let hung = Outer(io::Error::other("TLS handshake timeout."));
        assert_eq!(classify_connect_error(&hung), ErrorKind::Timeout);
        let other = Outer(io::Error::other("dns failure"));
        assert_eq!(classify_connect_error(&other), ErrorKind::ConnectionRefused);
    }

    #[test]
    fn help_lists_every_code_in_order() {
        let help = codes_help();
        assert!(help
            .contains("   0  ok\n   1  internal\n   2  usage error\n   3  connection-refused\n"));
        assert!(help.ends_with("  12  config\n  13  warnings\n"), "{help}");
    }

    #[test]
    fn error_lines_are_single_lines_with_kind() {
        let err = CliError::config("profile x:\n  missing field `cert`").context("loading");
        assert_eq!(
            err.line(),
            "concord: config: loading: profile x: missing field `cert`"
        );
        assert_eq!(err.exit_code(), 12);
        let status = wrapped(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"));
        let err = CliError::from_status(&status);
        assert_eq!(err.kind, ErrorKind::ConnectionRefused);
        assert!(err.message.contains("refused"), "{}", err.message);
    }
}
