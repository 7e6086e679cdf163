//! The retention policy (`[retention]` in node.toml) and its periodic sweep.
//!
//! Records are kept for a number of days after they stop being in force
//! (see `exchange::retention` for when that is), per kind; 0 keeps a kind
//! forever. The audit trail is never purged: a purge itself is an audit
//! entry naming the record and its envelope digests.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::clock::now_unix_ms;
use crate::error::Result;
use crate::exchange::{Exchange, Purged, RetentionPeriods};

const DAY: Duration = Duration::from_secs(86_400);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Days alerts are kept after expiry (or issue, without expiry); 0: forever.
    pub alerts_days: u32,
    /// Days denials are kept after revocation or end date; 0: forever.
    pub denials_days: u32,
    pub sweep_every: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            alerts_days: 730,
            denials_days: 3650,
            sweep_every: DAY,
        }
    }
}

impl RetentionPolicy {
    pub fn periods(&self) -> RetentionPeriods {
        let days = |n: u32| (n > 0).then(|| DAY * n);
        RetentionPeriods {
            alerts: days(self.alerts_days),
            denials: days(self.denials_days),
        }
    }

    /// Purges what is past its period now; `actor` goes into the audit entries.
    pub async fn run(&self, exchange: &Exchange, actor: &str) -> Result<Vec<Purged>> {
        exchange
            .purge_expired(actor, self.periods(), now_unix_ms())
            .await
    }
}

/// Sweeps at start and then every `policy.sweep_every` until shutdown.
pub async fn sweep_periodically(
    exchange: Arc<Exchange>,
    policy: RetentionPolicy,
    stopping: watch::Receiver<bool>,
) {
    let stop = crate::shutdown::requested(stopping);
    tokio::pin!(stop);
    loop {
        match policy.run(&exchange, "system").await {
            Ok(purged) if purged.is_empty() => tracing::debug!("retention sweep: nothing to purge"),
            Ok(purged) => tracing::info!(records = purged.len(), "retention sweep purged records"),
            Err(e) => tracing::error!(error = %e, "retention sweep failed"),
        }
        match exchange.prune_idempotency().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(keys = n, "forgot expired idempotency keys"),
            Err(e) => tracing::error!(error = %e, "cannot prune idempotency keys"),
        }
        tokio::select! {
            _ = tokio::time::sleep(policy.sweep_every) => {}
            _ = &mut stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_keeps_forever() {
        let policy = RetentionPolicy {
            alerts_days: 0,
            denials_days: 2,
            sweep_every: DAY,
        };
        assert_eq!(
            policy.periods(),
            RetentionPeriods {
                alerts: None,
                denials: Some(Duration::from_secs(2 * 86_400)),
            }
        );
        assert_eq!(RetentionPolicy::default().periods().alerts, Some(DAY * 730));
    }
}
