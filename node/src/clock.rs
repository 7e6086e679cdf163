//! The node's wall clock, at the bottom of the module graph: every module
//! that stamps or compares times asks here, so none of them needs another
//! module only for the time.
//!
//! The clock can run ahead of the system's by an offset, so that tests (and
//! drills of deadlines and review dates) move the node's time without
//! sleeping: with `CONCORD_CLOCK_OFFSET_FILE` set, the node reads the offset
//! in milliseconds from that file at start and every [`OFFSET_POLL`] (see
//! [`follow_offset_file`]). A production node leaves it unset; when set, the
//! node says so in its log at start and at every change.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable naming the offset file.
pub const OFFSET_FILE_ENV: &str = "CONCORD_CLOCK_OFFSET_FILE";
/// How often the offset file is read again.
pub const OFFSET_POLL: Duration = Duration::from_millis(100);

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Milliseconds since the Unix epoch, plus the offset; 0 if the system
/// clock is before the epoch.
pub fn now_unix_ms() -> i64 {
    let system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    system.saturating_add(OFFSET_MS.load(Ordering::Relaxed))
}

/// How far the node's clock runs ahead of the system's, in milliseconds.
pub fn offset_ms() -> i64 {
    OFFSET_MS.load(Ordering::Relaxed)
}

/// The offset file the environment names, if any.
pub fn offset_file() -> Option<PathBuf> {
    std::env::var_os(OFFSET_FILE_ENV).map(PathBuf::from)
}

/// The offset in `path`, in milliseconds; a missing or empty file is 0.
pub fn read_offset_file(path: &Path) -> Result<i64, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(0);
    }
    text.parse::<i64>().map_err(|e| {
        format!(
            "{}: {text:?} is no offset in milliseconds: {e}",
            path.display()
        )
    })
}

/// Reads the offset in `path` and applies it; returns it when it changed.
pub fn apply_offset_file(path: &Path) -> Result<Option<i64>, String> {
    let offset = read_offset_file(path)?;
    let before = OFFSET_MS.swap(offset, Ordering::Relaxed);
    Ok((before != offset).then_some(offset))
}

/// Follows the offset file until the task is dropped.
pub async fn follow_offset_file(path: PathBuf) {
    let mut tick = tokio::time::interval(OFFSET_POLL);
    let mut complained = false;
    loop {
        tick.tick().await;
        match apply_offset_file(&path) {
            Ok(Some(offset)) => {
                complained = false;
                tracing::warn!(offset_ms = offset, file = %path.display(), "the node's clock offset changed");
            }
            Ok(None) => complained = false,
            Err(error) if !complained => {
                complained = true;
                tracing::error!(%error, "cannot read the clock offset file; keeping the offset");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The offset itself is process-wide, so unit tests (which run side by
    // side) only read files; the integration tests move real nodes' clocks.
    #[test]
    fn offset_files_are_read_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("offset");
        assert_eq!(read_offset_file(&file).unwrap(), 0);
        std::fs::write(&file, "86400000\n").unwrap();
        assert_eq!(read_offset_file(&file).unwrap(), 86_400_000);
        std::fs::write(&file, "-5").unwrap();
        assert_eq!(read_offset_file(&file).unwrap(), -5);
        std::fs::write(&file, "soon").unwrap();
        assert!(read_offset_file(&file).unwrap_err().contains("no offset"));
        std::fs::write(&file, "").unwrap();
        assert_eq!(read_offset_file(&file).unwrap(), 0);
    }
}
