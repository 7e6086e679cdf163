use tonic::Status;

use crate::error::Error;
use crate::policy::Denied;

impl From<Error> for Status {
    fn from(e: Error) -> Status {
        let status = status_of(e);
        if status.message().len() <= super::malformed::MAX_MESSAGE {
            return status;
        }
        Status::new(
            status.code(),
            super::malformed::capped(status.message()).into_owned(),
        )
    }
}

/// A refusal by `policy`, through the one mapping above.
impl From<Denied> for Status {
    fn from(d: Denied) -> Status {
        Error::PermissionDenied(d.to_string()).into()
    }
}

fn status_of(e: Error) -> Status {
    {
        match e {
            Error::InvalidArgument(m) => Status::invalid_argument(m),
            Error::AlreadyExists(m) => Status::already_exists(m),
            Error::NotFound(m) => Status::not_found(m),
            Error::FailedPrecondition(m) => Status::failed_precondition(m),
            Error::PermissionDenied(m) => Status::permission_denied(m),
            Error::Unauthenticated(m) => Status::unauthenticated(m),
            Error::ResourceExhausted(m) => Status::resource_exhausted(m),
            Error::Store(e) if e.is_disk_full() => {
                tracing::error!(error = %e, "store refused a write: disk full");
                Status::resource_exhausted(e.to_string())
            }
            Error::Store(e) => {
                tracing::error!(error = %e, "store failure");
                Status::internal(format!("store failure: {e}"))
            }
            Error::Internal(m) => Status::internal(m),
        }
    }
}
