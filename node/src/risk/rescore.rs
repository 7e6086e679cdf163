//! Re-scoring as new information lands: every alert or denial notice the
//! exchange stores (own or received) re-scores the applications awaiting a
//! decision that it touches (`touching`); every few minutes the clock
//! re-scores those whose sets hold a record that lapsed; every list import
//! re-scores each of them from its set. At start, and
//! whenever announcements were lost, every open application is scored
//! against every record held, which also scores any application a crash
//! left unscored between submission and scoring.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::watch;

use super::Risk;
use crate::exchange::{Record, RecordView};

/// How often the sets are re-read against the clock, so a record that
/// lapses stops counting without a new event.
const LAPSE_CHECK: Duration = Duration::from_secs(300);

/// What one turn of the loop re-scores on.
enum Pass {
    /// Records stored: only the applications they touch.
    Records(Vec<RecordView>, String),
    /// Lists changed: every open application, from its set.
    Known(String),
    /// Time passed: the applications whose sets hold a record that lapsed.
    Lapsed(String),
    /// Announcements were lost: rebuild everything from the store.
    Full(String),
}

impl Risk {
    /// Runs until `stopping`.
    pub async fn follow(self: Arc<Self>, mut stopping: watch::Receiver<bool>) {
        let mut stored = self.exchange.watch();
        let mut imports = self.screening.imports();
        let mut lapse = tokio::time::interval(LAPSE_CHECK);
        lapse.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        lapse.reset();
        self.pass(Pass::Full("startup".into())).await;
        loop {
            let pass = tokio::select! {
                event = stored.recv() => match event {
                    Ok(view) => {
                        let trigger = match &view.record {
                            Record::Denial(d) => format!("denial {} v{}", d.id, d.version),
                            Record::Alert(a) => format!("alert {}", a.id),
                            _ => continue,
                        };
                        Pass::Records(vec![view], trigger)
                    }
                    Err(RecvError::Lagged(n)) => Pass::Full(format!("{n} records stored")),
                    Err(RecvError::Closed) => return,
                },
                changed = imports.changed() => match changed {
                    Ok(()) => {
                        let list = imports.borrow_and_update().clone().unwrap_or_default();
                        Pass::Known(format!("list import {list}"))
                    }
                    Err(_) => return,
                },
                _ = lapse.tick() => Pass::Lapsed("time".into()),
                _ = stopping.wait_for(|s| *s) => return,
            };
            // One pass covers a burst: take whatever else is already queued.
            let pass = match pass {
                Pass::Records(mut views, trigger) => {
                    let mut lost = None;
                    loop {
                        match stored.try_recv() {
                            Ok(view) => views.push(view),
                            Err(TryRecvError::Lagged(n)) => lost = Some(n),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Closed) => return,
                        }
                    }
                    let more = views.len() - 1;
                    let trigger = if more > 0 {
                        format!("{trigger} (and {more} more records)")
                    } else {
                        trigger
                    };
                    match lost {
                        Some(n) => Pass::Full(format!("{trigger}; {n} records stored")),
                        None => Pass::Records(views, trigger),
                    }
                }
                other => other,
            };
            self.pass(pass).await;
        }
    }

    async fn pass(&self, pass: Pass) {
        let started = std::time::Instant::now();
        let (done, trigger) = match &pass {
            Pass::Records(views, trigger) => (self.apply_records(views, trigger).await, trigger),
            Pass::Known(trigger) => (
                self.rescore_known_counted(trigger).await.map(|r| r.stored),
                trigger,
            ),
            Pass::Lapsed(trigger) => (self.apply_lapsed(trigger).await, trigger),
            Pass::Full(trigger) => (self.rescore_open(trigger).await, trigger),
        };
        match done {
            Ok(n) => tracing::debug!(
                %trigger,
                rescored = n,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "risk re-scoring pass"
            ),
            Err(error) => tracing::error!(%error, %trigger, "risk re-scoring pass failed"),
        }
    }
}
