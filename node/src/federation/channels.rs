//! The open channel of every running link, shared by the links (which
//! build and drop them) and the gRPC peer client (which calls over them),
//! so a one-off call reuses the connection the heartbeats keep warm.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tonic::transport::Channel;

use crate::identity::Jurisdiction;

#[derive(Clone, Default)]
pub struct LinkChannels(Arc<Mutex<BTreeMap<Jurisdiction, Channel>>>);

impl LinkChannels {
    pub fn get(&self, peer: &Jurisdiction) -> Option<Channel> {
        self.lock().get(peer).cloned()
    }

    pub(super) fn insert(&self, peer: Jurisdiction, channel: Channel) {
        self.lock().insert(peer, channel);
    }

    pub(super) fn remove(&self, peer: &Jurisdiction) {
        self.lock().remove(peer);
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Jurisdiction, Channel>> {
        // A panic while holding the map leaves it consistent: every
        // operation is a single insert, remove or clone.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
