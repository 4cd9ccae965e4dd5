//! What the daemon's status page, metrics and alerts read: each source's poll history summed up,
//! the outbox by state, and which failing sources staff were told about.
//!
//! Everything here is derived from the poll log and the outbox, so `/status.json` tells the truth
//! after a restart, and also when polls are run by `portalfeed poll` from cron instead of the daemon.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, to_time};

/// One source's health, from its poll log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceHealth {
    /// When the last poll (of any outcome) started.
    pub last_poll: Option<DateTime<Utc>>,
    /// When the last successful poll (ok or not modified) started.
    pub last_success: Option<DateTime<Utc>>,
    /// Failed polls since the last success.
    pub consecutive_failures: u32,
    /// When the current run of failures started (its first failed poll).
    pub failing_since: Option<DateTime<Utc>>,
    /// The error of the last poll, when it failed.
    pub last_error: Option<String>,
    /// Items the source lists.
    pub items: u64,
    /// New items found by the last poll.
    pub new_last_poll: u32,
}

/// The outbox by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub queued: u64,
    pub sent: u64,
    pub failed: u64,
    /// When the oldest queued message was composed.
    pub oldest_queued: Option<DateTime<Utc>>,
}

impl Store {
    /// The health of `source_id`.
    pub fn source_health(&self, source_id: &str) -> Result<SourceHealth> {
        let conn = self.conn()?;
        let mut h = SourceHealth::default();
        let last = conn
            .query_row(
                "SELECT started, outcome, items_new, error FROM polls WHERE source_id = ?1 ORDER BY id DESC LIMIT 1",
                [source_id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?, r.get::<_, Option<String>>(3)?)),
            )
            .optional()?;
        if let Some((started, outcome, new, error)) = last {
            h.last_poll = Some(to_time(started));
            h.new_last_poll = new;
            if outcome == "failed" {
                h.last_error = error;
            }
        }
        let success = conn
            .query_row(
                "SELECT id, started FROM polls WHERE source_id = ?1 AND outcome != 'failed' ORDER BY id DESC LIMIT 1",
                [source_id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?;
        h.last_success = success.map(|(_, at)| to_time(at));
        let after = success.map_or(0, |(id, _)| id);
        let (failures, since): (u32, Option<i64>) = conn.query_row(
            "SELECT COUNT(*), MIN(started) FROM polls WHERE source_id = ?1 AND id > ?2",
            params![source_id, after],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        h.consecutive_failures = failures;
        h.failing_since = since.map(to_time);
        let items: i64 = conn.query_row(
            "SELECT COUNT(*) FROM item_sources WHERE source_id = ?1",
            [source_id],
            |r| r.get(0),
        )?;
        h.items = items.max(0) as u64;
        Ok(h)
    }

    /// The outbox by state.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let conn = self.conn()?;
        let mut counts = OutboxCounts::default();
        let mut stmt = conn
            .prepare_cached("SELECT status, COUNT(*), MIN(created) FROM outbox GROUP BY status")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?.max(0) as u64,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        for row in rows {
            match row? {
                (s, n, oldest) if s == "queued" => {
                    counts.queued = n;
                    counts.oldest_queued = oldest.map(to_time);
                }
                (s, n, _) if s == "sent" => counts.sent = n,
                (_, n, _) => counts.failed += n,
            }
        }
        Ok(counts)
    }

    /// When the failure alert of `source_id` was sent, and the failure run it was about.
    pub fn alert(&self, source_id: &str) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT failing_since, alerted FROM alerts WHERE source_id = ?1",
                [source_id],
                |r| Ok((to_time(r.get(0)?), to_time(r.get(1)?))),
            )
            .optional()?)
    }

    /// Records that staff were told `source_id` fails since `since`.
    pub fn record_alert(
        &self,
        source_id: &str,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO alerts (source_id, failing_since, alerted) VALUES (?1, ?2, ?3)
             ON CONFLICT(source_id) DO UPDATE SET failing_since = excluded.failing_since, alerted = excluded.alerted",
            params![source_id, since.timestamp(), at.timestamp()],
        )?;
        Ok(())
    }

    /// Forgets the alert of `source_id` (its recovery was announced).
    pub fn clear_alert(&self, source_id: &str) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM alerts WHERE source_id = ?1", [source_id])?;
        Ok(())
    }
}
