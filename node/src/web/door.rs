//! The console's door: every request passes here. The connection's verified
//! certificate becomes the `Person` the pages see, after the same revocation
//! check and `policy` decision as a gRPC call; a state-changing request must
//! also come from this site with the certificate's CSRF token.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{header, Method, StatusCode};

use super::Console;
use crate::identity::Caller;
use crate::policy::{self, Service};
use crate::tls::ConnInfo;

/// Largest form body read: a batch of names to screen fits.
pub const MAX_FORM_BYTES: usize = 2 << 20;

/// The signed-in person, as pages see them.
#[derive(Clone, Debug)]
pub struct Person {
    pub caller: Caller,
    /// SHA-256 of the certificate they signed in with, for revocation
    /// checks on long-lived streams.
    pub cert_sha256: [u8; 32],
    /// The CSRF token every form of theirs carries.
    pub csrf: String,
}

/// The fields of a posted form, in order (a name may repeat).
#[derive(Clone, Debug, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }
}

pub async fn admit(State(console): State<Arc<Console>>, req: Request, next: Next) -> Response {
    let Some(conn) = req.extensions().get::<ConnInfo>().cloned() else {
        return refuse(StatusCode::UNAUTHORIZED, "no verified client certificate");
    };
    let caller = conn.caller;
    if let Some(r) = console.revocations.blocking(&caller, &conn.cert_sha256) {
        console.metrics.web_request("revoked");
        tracing::warn!(%caller, revocation = %r.target.key(), "web: revoked certificate refused");
        return refuse(StatusCode::UNAUTHORIZED, "this certificate is revoked");
    }
    if let Err(denied) = policy::authorize(Service::Web, &caller, &console.own, false) {
        console.metrics.web_request("policy");
        tracing::warn!(%caller, reason = %denied, "web: request denied");
        return refuse(StatusCode::FORBIDDEN, &denied.to_string());
    }
    let person = Person {
        csrf: console.csrf.token(&conn.cert_sha256),
        cert_sha256: conn.cert_sha256,
        caller: caller.clone(),
    };
    let (mut parts, body) = req.into_parts();
    if !matches!(parts.method, Method::GET | Method::HEAD) {
        // HTTP/2 carries the host as the request's authority, HTTP/1.1 as a header.
        let host = parts
            .uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| {
                parts
                    .headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            });
        if let Err(why) = same_site(&parts.headers, host.as_deref()) {
            console.metrics.web_request("csrf");
            tracing::warn!(%caller, why, origin = ?parts.headers.get("origin"), host = ?host, "web: cross-site request refused");
            return refuse(StatusCode::FORBIDDEN, why);
        }
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the form is larger than this console accepts",
                )
            }
        };
        let form = match read_form(&parts.headers, bytes).await {
            Ok(f) => f,
            Err(why) => return refuse(StatusCode::BAD_REQUEST, &why),
        };
        if !console.csrf.check(&conn.cert_sha256, form.get("csrf")) {
            console.metrics.web_request("csrf");
            tracing::warn!(%caller, "web: form without a valid CSRF token refused");
            return refuse(
                StatusCode::FORBIDDEN,
                "this form did not come from this console (or the node restarted since \
                 it was opened): go back, reload and try again",
            );
        }
        parts.extensions.insert(form);
        parts.extensions.insert(person);
        console.metrics.web_request("admitted");
        let req = Request::from_parts(parts, axum::body::Body::empty());
        return crate::audit::via("web", next.run(req)).await;
    }
    parts.extensions.insert(person);
    console.metrics.web_request("admitted");
    let req = Request::from_parts(parts, body);
    crate::audit::via("web", next.run(req)).await
}

/// A posted form: URL-encoded, or `multipart/form-data` when it carries a
/// file (a file field's value is its text; invalid UTF-8 is replaced, so
/// a Latin-1 CSV still screens).
async fn read_form(
    headers: &http::HeaderMap,
    bytes: axum::body::Bytes,
) -> Result<FormData, String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map(FormData)
            .map_err(|_| "the form cannot be read".to_owned());
    }
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| format!("the form cannot be read: {e}"))?;
    let body = tokio_stream::once(Ok::<_, std::io::Error>(bytes));
    let mut parts = multer::Multipart::new(body, boundary);
    let mut fields = Vec::new();
    loop {
        let field = match parts.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(format!("the form cannot be read: {e}")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let raw = field
            .bytes()
            .await
            .map_err(|e| format!("the form cannot be read: field {name}: {e}"))?;
        fields.push((name, String::from_utf8_lossy(&raw).into_owned()));
    }
    Ok(FormData(fields))
}

/// A state-changing request must come from a page of this console: the
/// browser says where it came from (`Sec-Fetch-Site`, `Origin`), and a
/// value naming another site is refused before the token is even read.
fn same_site(headers: &http::HeaderMap, host: Option<&str>) -> Result<(), &'static str> {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = value("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return Err("a request from another site cannot change anything here");
        }
    }
    if let (Some(origin), Some(host)) = (value("origin"), host) {
        if origin != format!("https://{host}") {
            return Err("a request from another origin cannot change anything here");
        }
    }
    Ok(())
}

/// The whole answer to a refused request: a status and one sentence,
/// nothing of the console.
fn refuse(status: StatusCode, why: &str) -> Response {
    let body = maud::html! {
        (maud::DOCTYPE)
        html lang="en" { head { meta charset="utf-8"; title { "Refused" } }
        body { h1 { "Refused" } p { (why) } } }
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pairs: &[(&str, &str)], ok: bool) {
        let mut h = http::HeaderMap::new();
        let mut host = None;
        for (k, v) in pairs {
            if *k == "host" {
                host = Some(*v);
            } else {
                h.insert(
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
        }
        assert_eq!(same_site(&h, host).is_ok(), ok, "{pairs:?}");
    }

    #[test]
    fn only_this_site_may_post() {
        check(&[], true);
        check(&[("sec-fetch-site", "same-origin")], true);
        check(&[("sec-fetch-site", "cross-site")], false);
        check(&[("sec-fetch-site", "same-site")], false);
        check(
            &[
                ("origin", "https://127.0.0.1:8443"),
                ("host", "127.0.0.1:8443"),
            ],
            true,
        );
        check(
            &[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:8443"),
            ],
            false,
        );
        check(&[("origin", "null"), ("host", "127.0.0.1:8443")], false);
    }
}
