//! The task-force half of `GrpcPeerClient`: `PeerTransport` over gRPC, on
//! the links' channels, so a question reuses the connection the heartbeats
//! keep warm.

use std::time::Duration;

use concord_proto::v1 as pb;
use concord_proto::v1::task_force_peer_service_client::TaskForcePeerServiceClient;
use tonic::transport::Channel;
use tonic::Code;

use super::{describe_status, GrpcPeerClient};
use crate::error::Error;
use crate::federation::taskforce_wire as conv;
use crate::identity::{Caller, Jurisdiction};
use crate::taskforce::{
    BoxFuture, DetailRequest, PeerDetails, PeerFailure, PeerQuery, PeerTransport, SignedAnswer,
};

/// Largest answer accepted from a peer (full-level answers carry records).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

impl GrpcPeerClient {
    fn taskforce_client(
        &self,
        peer: &Jurisdiction,
    ) -> Result<TaskForcePeerServiceClient<Channel>, PeerFailure> {
        let channel = self.channels.get(peer).ok_or_else(|| {
            PeerFailure::Unreachable(format!("no link to {peer}: not a registered peer"))
        })?;
        Ok(TaskForcePeerServiceClient::new(channel).max_decoding_message_size(MAX_ANSWER_BYTES))
    }
}

fn request<T>(message: T, deadline: Duration) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.set_timeout(deadline);
    r
}

/// A failed call: the peer could not be reached, or it answered with a refusal.
fn failure(status: &tonic::Status, deadline: Duration) -> PeerFailure {
    let m = status.message().to_owned();
    match status.code() {
        Code::DeadlineExceeded => PeerFailure::TimedOut(deadline),
        // tonic enforces the request's own grpc-timeout as Cancelled("Timeout expired").
        Code::Cancelled if m.eq_ignore_ascii_case("timeout expired") => {
            PeerFailure::TimedOut(deadline)
        }
        Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Aborted => {
            PeerFailure::Unreachable(describe_status(status))
        }
        Code::Unimplemented => PeerFailure::Refused(Error::FailedPrecondition(
            "the peer does not answer task-force queries (older version)".into(),
        )),
        Code::InvalidArgument | Code::OutOfRange => PeerFailure::Refused(Error::InvalidArgument(m)),
        Code::NotFound => PeerFailure::Refused(Error::NotFound(m)),
        Code::AlreadyExists => PeerFailure::Refused(Error::AlreadyExists(m)),
        Code::PermissionDenied => PeerFailure::Refused(Error::PermissionDenied(m)),
        Code::Unauthenticated => PeerFailure::Refused(Error::Unauthenticated(m)),
        Code::FailedPrecondition => PeerFailure::Refused(Error::FailedPrecondition(m)),
        Code::ResourceExhausted => PeerFailure::Refused(Error::ResourceExhausted(m)),
        Code::Ok | Code::Internal | Code::DataLoss => PeerFailure::Refused(Error::Internal(m)),
    }
}

fn malformed(peer: &Jurisdiction, e: Error) -> PeerFailure {
    PeerFailure::Refused(Error::Internal(format!(
        "{peer} answered with a malformed message: {e}"
    )))
}

impl PeerTransport for GrpcPeerClient {
    fn query(
        &self,
        peer: Jurisdiction,
        query: PeerQuery,
        deadline: Duration,
    ) -> BoxFuture<Result<SignedAnswer, PeerFailure>> {
        let client = self.taskforce_client(&peer);
        Box::pin(async move {
            let message = pb::PeerQueryRequest {
                taskforce: query.taskforce,
                asker: query.asker.uri(),
                query: Some(conv::query_out(&query.query)),
            };
            let answer = client?
                .query(request(message, deadline))
                .await
                .map_err(|s| failure(&s, deadline))?;
            Ok(conv::signed_in(answer.into_inner()))
        })
    }

    fn request_details(
        &self,
        peer: Jurisdiction,
        reference: String,
        asker: Caller,
        justification: String,
        deadline: Duration,
    ) -> BoxFuture<Result<DetailRequest, PeerFailure>> {
        let client = self.taskforce_client(&peer);
        Box::pin(async move {
            let message = pb::PeerDetailsRequest {
                reference,
                asker: asker.uri(),
                justification,
            };
            let r = client?
                .request_details(request(message, deadline))
                .await
                .map_err(|s| failure(&s, deadline))?;
            conv::detail_request_in(r.into_inner()).map_err(|e| malformed(&peer, e))
        })
    }

    fn get_details(
        &self,
        peer: Jurisdiction,
        id: String,
        asker: Caller,
        deadline: Duration,
    ) -> BoxFuture<Result<PeerDetails, PeerFailure>> {
        let client = self.taskforce_client(&peer);
        Box::pin(async move {
            let message = pb::PeerGetDetailsRequest {
                id,
                asker: asker.uri(),
            };
            let r = client?
                .get_details(request(message, deadline))
                .await
                .map_err(|s| failure(&s, deadline))?
                .into_inner();
            let request = r
                .request
                .ok_or_else(|| malformed(&peer, Error::Internal("no request".into())))?;
            Ok(PeerDetails {
                request: conv::detail_request_in(request).map_err(|e| malformed(&peer, e))?,
                answer: r.answer.map(conv::signed_in),
            })
        })
    }
}
