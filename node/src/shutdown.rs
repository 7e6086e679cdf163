//! The node's shutdown signal as a future, at the bottom of the module
//! graph so that serving (`api`, `server`) and background tasks
//! (`retention`, `federation`) wait on it without importing each other.

/// Completes once the node starts shutting down (or the sender is gone).
pub async fn requested(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
