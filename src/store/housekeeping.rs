//! Keeping the database small over months: the poll log and delivered mail bodies are only
//! needed for a while. What is kept: every item (feeds and digests are built from them), every
//! source's latest poll (its health), every outbox row (the record of what went to whom) — only
//! the message bytes of mail that was sent or failed long ago are dropped.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{Result, Store};

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub polls: usize,
    pub messages: usize,
}

impl Store {
    /// Deletes poll log rows started before `polls_before` (but never a source's latest), and
    /// empties the stored bytes of mail sent or failed before `mail_before`.
    pub fn prune(&self, polls_before: DateTime<Utc>, mail_before: DateTime<Utc>) -> Result<Pruned> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let polls = tx.execute(
            "DELETE FROM polls WHERE started < ?1
             AND id NOT IN (SELECT MAX(id) FROM polls GROUP BY source_id)",
            params![polls_before.timestamp()],
        )?;
        let messages = tx.execute(
            "UPDATE outbox SET message = x'' WHERE status IN ('sent', 'failed')
             AND COALESCE(sent, created) < ?1 AND length(message) > 0",
            params![mail_before.timestamp()],
        )?;
        tx.commit()?;
        Ok(Pruned { polls, messages })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_each_sources_latest_poll_and_recent_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        let now = Utc::now();
        let old = now - chrono::Duration::days(200);
        store.record_failure("a", old, "x").expect("log");
        store.record_failure("a", old, "y").expect("log");
        store.record_failure("b", old, "z").expect("log");
        store.record_failure("a", now, "recent").expect("log");
        let pruned = store
            .prune(now - chrono::Duration::days(90), now)
            .expect("prune");
        assert_eq!(pruned.polls, 2, "a's two old rows; b's only row stays");
        assert_eq!(store.poll_log("a", 10).expect("log").len(), 1);
        assert_eq!(store.poll_log("b", 10).expect("log").len(), 1);
        assert_eq!(
            store
                .source_health("a")
                .expect("health")
                .last_error
                .as_deref(),
            Some("recent")
        );
    }
}
