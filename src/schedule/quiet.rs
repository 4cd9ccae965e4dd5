//! Hands memory back to the system once the daemon has been quiet for [`QUIET`] after a burst of
//! work (polls, a digest run), so that between polls — most of its life — it holds only what it
//! needs: SQLite's page cache is emptied (`PRAGMA shrink_memory`), and glibc's allocator is asked
//! to return the free pages of every arena (`malloc_trim`), which it otherwise keeps for reuse by
//! the threads that are gone. The next burst re-grows both in milliseconds.
//!
//! [`QUIET`] is longer than the blocking threads' keep-alive (`main.rs`), so the threads of the
//! burst have ended and given back their caches before the trim.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::store::Store;

/// How long no work must have been reported before memory is handed back.
pub const QUIET: Duration = Duration::from_secs(3);

/// Runs until `stop` turns true; `busy` is told after each piece of work.
pub async fn run(store: Arc<Store>, busy: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    while settled(&busy, &mut stop).await {
        let store = Arc::clone(&store);
        match tokio::task::spawn_blocking(move || (store.shrink_memory(), trim_heap())).await {
            Ok((Ok(()), trimmed)) => tracing::debug!(trimmed, "idle: memory handed back"),
            Ok((Err(e), _)) => tracing::warn!(error = %e, "idle: SQLite kept its cache"),
            Err(e) => tracing::warn!(error = %e, "idle: memory task failed"),
        }
    }
}

/// Waits for work to be reported, then for [`QUIET`] to pass with no more: true then, false when
/// `stop` turned true first.
async fn settled(busy: &Notify, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = super::daemon::stopped(stop) => return false,
        _ = busy.notified() => {}
    }
    loop {
        tokio::select! {
            _ = super::daemon::stopped(stop) => return false,
            _ = busy.notified() => continue,
            _ = tokio::time::sleep(QUIET) => return true,
        }
    }
}

/// Returns the allocator's free memory to the system; true when some was.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim_heap() -> bool {
    // SAFETY: malloc_trim takes no pointers; it walks glibc's own arenas under their locks and
    // may be called from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators return memory on their own (or cannot be asked).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim_heap() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn memory_is_handed_back_only_after_quiet_follows_the_last_work() {
        let busy = Arc::new(Notify::new());
        let (stop_tx, mut stop) = watch::channel(false);
        let started = Instant::now();
        let worker = Arc::clone(&busy);
        tokio::spawn(async move {
            worker.notify_one();
            tokio::time::sleep(Duration::from_secs(2)).await;
            worker.notify_one(); // more work before QUIET passed: the wait starts again
        });
        assert!(settled(&busy, &mut stop).await);
        assert_eq!(started.elapsed(), Duration::from_secs(2) + QUIET);

        // Idle with nothing reported: no trim at all, until the stop.
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(600)).await;
            let _ = stop_tx.send(true);
        });
        assert!(!settled(&busy, &mut stop).await);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2) + QUIET + Duration::from_secs(600)
        );
        stopper.await.expect("stopper");
    }

    #[test]
    fn trimming_the_heap_is_safe_at_any_time() {
        let kept: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 64 * 1024]).collect();
        drop(kept);
        // Whether pages were returned depends on the allocator's state; it must not fail.
        let _ = trim_heap();
        let again = vec![7u8; 1 << 20];
        assert_eq!(again[12345], 7);
    }
}
