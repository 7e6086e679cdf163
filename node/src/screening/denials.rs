//! The `denials` list: the active denial notices this node holds (its own
//! and those peers sent it), rebuilt whenever the exchange stores a denial.
//!
//! Only notices whose signature verifies now are screened (a notice from a
//! peer since removed cannot be verified and drops out). A denial's end date
//! is checked at query time, so an expired one stops matching without a
//! rebuild; a revocation is a new version and triggers one.

use std::sync::Arc;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;

use super::entry::{EntityType, WatchlistEntry};
use super::index::{IndexedEntry, ListIndex};
use super::{ListInfo, ListKind, Screening, DENIALS_LIST};
use crate::clock::now_unix_ms;
use crate::error::{Error, Result};
use crate::exchange::{Exchange, Record, RecordFilter, RecordKind, RecordView, SignatureCheck};

/// The screenable entry of a denial notice version, if it is one.
fn entry_of(view: &RecordView) -> Option<IndexedEntry> {
    let Record::Denial(d) = &view.record else {
        return None;
    };
    if view.signature != SignatureCheck::Valid {
        return None;
    }
    let mut e = WatchlistEntry::new(d.id.clone(), EntityType::Unknown, d.party.name.clone());
    e.aliases = d.party.aliases.clone();
    if !d.party.country.is_empty() {
        e.countries.push(d.party.country.clone());
    }
    if !d.party.address.is_empty() {
        e.addresses.push(d.party.address.clone());
    }
    e.programs.push(format!("denial by {}", d.issuer));
    Some(IndexedEntry {
        entry: e,
        expires_at_unix_ms: d.valid_until_unix_ms,
        issuer: Some(d.issuer.clone()),
    })
}

impl Screening {
    /// Rebuilds the denials list from what the exchange holds now.
    pub fn rebuild_denials(&self, exchange: &Exchange) -> Result<usize> {
        let filter = RecordFilter {
            active_only: true,
            ..RecordFilter::default()
        };
        let entries: Vec<IndexedEntry> = exchange
            .list(RecordKind::Denial, &filter)?
            .iter()
            .filter_map(entry_of)
            .collect();
        let count = entries.len();
        let index = ListIndex::build(DENIALS_LIST, entries);
        let info = ListInfo {
            name: DENIALS_LIST.to_owned(),
            kind: ListKind::Denials,
            format: String::new(),
            entries: index.entries().len(),
            names: index.name_count(),
            updated_at_unix_ms: now_unix_ms(),
            imported_by: String::new(),
        };
        self.swap(DENIALS_LIST, Some((index, info)));
        Ok(count)
    }

    /// Keeps the denials list in step with the exchange until `stopping`:
    /// builds it once, then again after every burst of stored denials (or
    /// when the watcher fell behind and may have missed some).
    pub async fn follow_denials(
        self: Arc<Self>,
        exchange: Arc<Exchange>,
        mut stopping: watch::Receiver<bool>,
    ) {
        let mut stored = exchange.watch();
        loop {
            let (screening, ex) = (self.clone(), exchange.clone());
            let rebuilt = tokio::task::spawn_blocking(move || screening.rebuild_denials(&ex))
                .await
                .map_err(|e| Error::Internal(format!("rebuilding the denials list: {e}")))
                .and_then(|r| r);
            match rebuilt {
                Ok(n) => tracing::debug!(denials = n, "denials list rebuilt"),
                Err(error) => tracing::error!(%error, "cannot rebuild the denials list"),
            }
            // Wait for a stored denial, then take everything else already queued.
            loop {
                let event = tokio::select! {
                    e = stored.recv() => e,
                    _ = stopping.wait_for(|s| *s) => return,
                };
                match event {
                    Ok(view) if matches!(view.record, Record::Denial(_)) => break,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                }
            }
            loop {
                match stored.try_recv() {
                    Ok(_) | Err(TryRecvError::Lagged(_)) => continue,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
        }
    }
}
