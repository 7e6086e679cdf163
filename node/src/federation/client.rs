//! `PeerClient`: every call this node makes to a peer, as one interface.
//!
//! The links, the pusher, catch-up, the witness sender, the trust
//! announcement, `audit verify --with-witnesses` and task-force questions
//! all hold an `Arc<dyn PeerClient>` handed to them at start-up, so a test
//! can put a wrapper (`faults::Faulty`) between the node and its peers. The
//! gRPC implementation is `grpc::GrpcPeerClient`.

use std::future::Future;
use std::pin::Pin;

use tokio_stream::Stream;

use crate::exchange::{SignedEnvelope, SignedReceipt};
use crate::identity::Jurisdiction;
use crate::taskforce::PeerTransport;
use crate::trust_bundle::TrustBundle;

/// A call in flight. Borrows what it was called on for `'a`; most calls
/// own their inputs and are `'static`.
pub type CallFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Catch-up batches as the peer sends them; the stream ends when the peer
/// has sent everything after the cursor.
pub type EnvelopeBatches =
    Pin<Box<dyn Stream<Item = Result<Vec<SignedEnvelope>, CallError>> + Send>>;

/// Why a call to a peer failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No link is open to this peer (not registered, or its channel could
    /// not be built).
    #[error("no link to {0}")]
    NoLink(Jurisdiction),
    /// The call was made and failed: `code` is the gRPC code name, and
    /// `message` the status with its cause chain.
    #[error("{message}")]
    Failed { code: String, message: String },
}

impl CallError {
    pub fn failed(code: &str, message: impl Into<String>) -> Self {
        CallError::Failed {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The gRPC code name, as metrics and `status` show it.
    pub fn code(&self) -> &str {
        match self {
            CallError::NoLink(_) => "Unavailable",
            CallError::Failed { code, .. } => code,
        }
    }
}

/// A heartbeat's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloReply {
    /// The jurisdiction the peer says it is (checked by the link).
    pub jurisdiction: String,
    /// The highest sequence number of this node's records the peer holds.
    pub held_from_you: u64,
    /// Per kind, the highest id number of this node's records it holds.
    pub held_ids_from_you: Vec<(crate::exchange::RecordKind, u64)>,
}

/// One open push stream to a peer: batches go out in order, each answered
/// by the receiver's signed receipts.
pub trait PushSession: Send {
    /// Sends `batch` and waits for its receipts. After an error the session
    /// is finished; the pusher opens a new one.
    fn send(
        &mut self,
        batch: Vec<SignedEnvelope>,
    ) -> CallFuture<'_, Result<Vec<SignedReceipt>, CallError>>;
}

/// Every outbound call to a peer. Task-force questions are the
/// `PeerTransport` half, which is all `taskforce` sees.
pub trait PeerClient: PeerTransport {
    /// A heartbeat from `me`, sent at `sent_at_unix_ms`.
    fn hello(
        &self,
        peer: Jurisdiction,
        me: Jurisdiction,
        sent_at_unix_ms: i64,
    ) -> CallFuture<'static, Result<HelloReply, CallError>>;

    /// Opens a push stream for this node's own records.
    fn open_push(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Box<dyn PushSession>, CallError>>;

    /// Asks `peer` for its records naming this node after `after_seq`.
    fn catch_up(
        &self,
        peer: Jurisdiction,
        after_seq: u64,
    ) -> CallFuture<'static, Result<EnvelopeBatches, CallError>>;

    /// Announces this node's trust bundle; `true` when the peer took it.
    fn announce_trust(
        &self,
        peer: Jurisdiction,
        bundle: std::sync::Arc<TrustBundle>,
    ) -> CallFuture<'static, Result<bool, CallError>>;

    /// Hands `peer` an encoded signed checkpoint of this node's audit chain.
    fn witness(
        &self,
        peer: Jurisdiction,
        checkpoint: Vec<u8>,
    ) -> CallFuture<'static, Result<(), CallError>>;

    /// The encoded checkpoints of this node that `peer` holds as a witness.
    fn get_witnessed(
        &self,
        peer: Jurisdiction,
    ) -> CallFuture<'static, Result<Vec<Vec<u8>>, CallError>>;
}
