//! Group commit: one fsync acknowledges every write applied before it started.
//!
//! Writers apply their batch in memory, then call [`GroupCommit::wait_durable`],
//! which bumps the `requested` generation and waits until a flush that began
//! after the bump has completed. The flusher thread picks up the latest
//! generation just before it flushes, so however many writers arrive while a
//! flush runs, the next flush covers all of them.
//!
//! The flusher is a dedicated OS thread rather than a tokio task: sled's flush
//! blocks, and a thread needs no runtime at `Store::open` and cannot starve
//! the runtime's blocking pool.
//!
//! A failed flush is sticky. After a failed fsync the kernel may already have
//! dropped the dirty pages, so a later "successful" fsync proves nothing about
//! earlier writes (the PostgreSQL fsyncgate lesson); every waiter of that flush
//! and every later writer gets the error until the node restarts and sled
//! recovers from what actually reached the disk.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::watch;

/// What the flusher has achieved so far, published to waiters.
#[derive(Clone, Debug, Default)]
struct Progress {
    /// Highest generation known to be on disk.
    durable: u64,
    /// Set once a flush fails; never cleared.
    failure: Option<Arc<io::Error>>,
}

#[derive(Debug, Default)]
struct Requests {
    requested: u64,
    shutdown: bool,
    /// Lets tests pile up requests deterministically.
    paused: bool,
}

#[derive(Debug, Default)]
struct Shared {
    requests: Mutex<Requests>,
    wake: Condvar,
    flushes: AtomicU64,
    /// Set by the flusher as it returns, so a drop can wait for it bounded.
    exited: Mutex<bool>,
    exited_cv: Condvar,
}

/// How long dropping the store waits for a flush in progress. A flush can
/// hang on a full or failing disk; the process must still be able to stop.
const EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Shared {
    // The lock only guards counters, which stay consistent even if a holder
    // panicked, so poisoning is ignored rather than propagated.
    fn lock(&self) -> MutexGuard<'_, Requests> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The flusher thread and the handle writers wait on. Dropping it flushes
/// whatever was requested and joins the thread.
pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
    progress: watch::Receiver<Progress>,
    thread: Option<JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the flusher thread; `flush` must make every write applied before
    /// the call durable.
    pub(crate) fn start<F>(flush: F) -> io::Result<Self>
    where
        F: FnMut() -> io::Result<()> + Send + 'static,
    {
        let shared = Arc::new(Shared::default());
        let (tx, progress) = watch::channel(Progress::default());
        let thread = std::thread::Builder::new()
            .name("concord-store-flush".to_owned())
            .spawn({
                let shared = Arc::clone(&shared);
                move || {
                    run(&shared, &tx, flush);
                    *shared.exited.lock().unwrap_or_else(PoisonError::into_inner) = true;
                    shared.exited_cv.notify_all();
                }
            })?;
        Ok(GroupCommit {
            shared,
            progress,
            thread: Some(thread),
        })
    }

    /// The error of the flush that failed, if any did.
    pub(crate) fn failure(&self) -> Option<Arc<io::Error>> {
        self.progress.borrow().failure.clone()
    }

    /// Returns once a flush that started after this call has completed, i.e.
    /// once everything the caller applied before calling is on disk.
    pub(crate) async fn wait_durable(&self) -> Result<(), Arc<io::Error>> {
        let mut progress = self.progress.clone();
        let generation = {
            let mut requests = self.shared.lock();
            requests.requested += 1;
            self.shared.wake.notify_one();
            requests.requested
        };
        let outcome = progress
            .wait_for(|p| p.durable >= generation || p.failure.is_some())
            .await
            .map(|p| p.clone());
        // A closed channel means the flusher is gone; its last word still
        // says whether it failed.
        let last = outcome.unwrap_or_else(|_| progress.borrow().clone());
        if last.durable >= generation {
            return Ok(());
        }
        Err(last
            .failure
            .unwrap_or_else(|| Arc::new(io::Error::other("the store's flusher has stopped"))))
    }

    /// Flushes started so far.
    pub(crate) fn flushes(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn pause(&self) {
        self.shared.lock().paused = true;
    }

    #[cfg(test)]
    pub(crate) fn resume(&self) {
        self.shared.lock().paused = false;
        self.shared.wake.notify_one();
    }

    #[cfg(test)]
    pub(crate) fn requested(&self) -> u64 {
        self.shared.lock().requested
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let exited = self
                .shared
                .exited
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let (exited, _) = self
                .shared
                .exited_cv
                .wait_timeout_while(exited, EXIT_WAIT, |done| !*done)
                .unwrap_or_else(PoisonError::into_inner);
            if !*exited {
                // Left behind: the process ends without it.
                tracing::error!(wait = ?EXIT_WAIT, "store flush still running; not waiting for it any longer");
                return;
            }
            drop(exited);
            // Joining releases the flusher's handle on the database, so the
            // directory can be reopened as soon as the store is dropped.
            if thread.join().is_err() {
                tracing::error!("store flusher thread panicked");
            }
        }
    }
}

fn run<F>(shared: &Shared, tx: &watch::Sender<Progress>, mut flush: F)
where
    F: FnMut() -> io::Result<()>,
{
    let mut durable = 0;
    loop {
        let target = {
            let mut requests = shared.lock();
            loop {
                let pending = requests.requested > durable;
                if pending && (!requests.paused || requests.shutdown) {
                    break requests.requested;
                }
                if !pending && requests.shutdown {
                    return;
                }
                requests = shared
                    .wake
                    .wait(requests)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        shared.flushes.fetch_add(1, Ordering::Relaxed);
        match flush() {
            Ok(()) => {
                durable = target;
                tx.send_modify(|p| p.durable = target);
            }
            Err(error) => {
                tracing::error!(%error, "store flush failed; refusing further writes");
                tx.send_modify(|p| p.failure = Some(Arc::new(error)));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn until(mut done: impl FnMut() -> bool) {
        while !done() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test]
    async fn waiters_arriving_during_a_pause_share_one_flush() {
        let commit = Arc::new(GroupCommit::start(|| Ok(())).unwrap());
        commit.pause();
        let waiters: Vec<_> = (0..16)
            .map(|_| {
                let commit = Arc::clone(&commit);
                tokio::spawn(async move { commit.wait_durable().await })
            })
            .collect();
        until(|| commit.requested() == 16).await;
        assert_eq!(commit.flushes(), 0);
        commit.resume();
        for waiter in waiters {
            waiter.await.unwrap().unwrap();
        }
        assert_eq!(commit.flushes(), 1);
    }

    #[tokio::test]
    async fn a_failed_flush_fails_its_waiters_and_every_later_one() {
        let calls = Arc::new(AtomicU64::new(0));
        let commit = GroupCommit::start({
            let calls = Arc::clone(&calls);
            move || match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Ok(()),
                _ => Err(io::Error::other("disk on fire")),
            }
        })
        .unwrap();
        commit.wait_durable().await.unwrap();
        assert!(commit.failure().is_none());

        let err = commit.wait_durable().await.unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert!(commit.failure().is_some());

        // Sticky: no further flush is attempted, and nothing is acknowledged.
        let err = commit.wait_durable().await.unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn drop_joins_the_flusher() {
        let calls = Arc::new(AtomicU64::new(0));
        let commit = GroupCommit::start({
            let calls = Arc::clone(&calls);
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })
        .unwrap();
        commit.wait_durable().await.unwrap();
        drop(commit);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
