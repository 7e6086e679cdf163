//! A page that failed: the domain error or policy refusal, as an HTTP
//! status and a sentence inside the console's frame.

use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};

use crate::error::Error;
use crate::policy::Denied;

#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

pub type PageResult = Result<Response, PageError>;

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            Error::AlreadyExists(_) | Error::FailedPrecondition(_) => StatusCode::CONFLICT,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::PermissionDenied(_) => StatusCode::FORBIDDEN,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::ResourceExhausted(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Store(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "web: a page failed");
        }
        PageError {
            status,
            message: e.to_string(),
        }
    }
}

impl From<Denied> for PageError {
    fn from(d: Denied) -> Self {
        PageError {
            status: StatusCode::FORBIDDEN,
            message: d.to_string(),
        }
    }
}

impl PageError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        PageError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let body = maud::html! {
            (maud::DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { "Concord — " (self.status.as_u16()) }
                    link rel="stylesheet" href="/static/console.css";
                }
                body {
                    header { a href="/" { "Concord" } }
                    main {
                        h1 { (self.status.canonical_reason().unwrap_or("Error")) }
                        p.error { (self.message) }
                        p { a href="/" { "Back to the dashboard" } }
                    }
                }
            }
        };
        (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body.into_string(),
        )
            .into_response()
    }
}
