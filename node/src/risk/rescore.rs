//! Re-scoring as new information lands: every alert or denial notice the
//! exchange stores (own or received) and every list import re-scores the
//! applications awaiting a decision. At start, the same pass scores any
//! application a crash left unscored between submission and scoring.

use std::sync::Arc;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;

use super::Risk;
use crate::exchange::Record;

impl Risk {
    /// Runs until `stopping`.
    pub async fn follow(self: Arc<Self>, mut stopping: watch::Receiver<bool>) {
        let mut stored = self.exchange.watch();
        let mut imports = self.screening.imports();
        self.pass("startup").await;
        loop {
            let trigger = tokio::select! {
                event = stored.recv() => match event {
                    Ok(view) => match &view.record {
                        Record::Denial(d) => format!("denial {} v{}", d.id, d.version),
                        Record::Alert(a) => format!("alert {}", a.id),
                        _ => continue,
                    },
                    Err(RecvError::Lagged(n)) => format!("{n} records stored"),
                    Err(RecvError::Closed) => return,
                },
                changed = imports.changed() => match changed {
                    Ok(()) => {
                        let list = imports.borrow_and_update().clone().unwrap_or_default();
                        format!("list import {list}")
                    }
                    Err(_) => return,
                },
                _ = stopping.wait_for(|s| *s) => return,
            };
            // One pass covers a burst: take whatever else is already queued.
            let mut more = 0usize;
            loop {
                match stored.try_recv() {
                    Ok(_) => more += 1,
                    Err(TryRecvError::Lagged(n)) => more += n as usize,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Closed) => return,
                }
            }
            let trigger = if more > 0 {
                format!("{trigger} (and {more} more records)")
            } else {
                trigger
            };
            self.pass(&trigger).await;
        }
    }

    async fn pass(&self, trigger: &str) {
        match self.rescore_open(trigger).await {
            Ok(n) => tracing::debug!(%trigger, rescored = n, "risk re-scoring pass"),
            Err(error) => tracing::error!(%error, %trigger, "risk re-scoring pass failed"),
        }
    }
}
