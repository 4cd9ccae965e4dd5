//! The daemon's daily chores on the database: the poll log beyond [`KEEP_POLLS`] and the bytes
//! of mail delivered (or failed) beyond [`KEEP_MAIL`] are dropped (see `Store::prune`), so that
//! months without attention do not fill the disk. The first pass runs a minute after start.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::store::Store;

/// How long the poll log is kept.
pub const KEEP_POLLS: chrono::Duration = chrono::Duration::days(90);
/// How long a delivered message's bytes are kept (for "what exactly did we send?").
pub const KEEP_MAIL: chrono::Duration = chrono::Duration::days(30);
const EVERY: Duration = Duration::from_secs(24 * 3600);
const FIRST: Duration = Duration::from_secs(60);

/// Runs until `stop` turns true.
pub async fn run(store: Arc<Store>, mut stop: watch::Receiver<bool>) {
    let mut wait = FIRST;
    loop {
        tokio::select! {
            _ = super::daemon::stopped(&mut stop) => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = EVERY;
        let store = Arc::clone(&store);
        let now = Utc::now();
        match tokio::task::spawn_blocking(move || store.prune(now - KEEP_POLLS, now - KEEP_MAIL))
            .await
        {
            Ok(Ok(p)) => tracing::info!(polls = p.polls, messages = p.messages, "database pruned"),
            Ok(Err(e)) => tracing::warn!(error = %e, "database not pruned"),
            Err(e) => tracing::warn!(error = %e, "prune task failed"),
        }
    }
}
