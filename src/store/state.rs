//! What the poller keeps between runs besides items: HTTP validators, robots.txt, host pauses and
//! the poll log.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, to_time};

/// A list page's HTTP validators, sent back as If-None-Match / If-Modified-Since.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A cached robots.txt answer.
#[derive(Debug, Clone)]
pub struct RobotsEntry {
    pub status: u16,
    pub body: Vec<u8>,
    pub fetched: DateTime<Utc>,
}

/// One line of the poll log.
#[derive(Debug, Clone)]
pub struct PollLogEntry {
    pub source_id: String,
    pub started: DateTime<Utc>,
    pub outcome: String,
    pub pages: u32,
    pub items_seen: u32,
    pub items_new: u32,
    pub articles_fetched: u32,
    pub error: Option<String>,
}

impl Store {
    /// The validators saved for `url`, if any.
    pub fn validators(&self, url: &str) -> Result<Option<Validators>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT etag, last_modified FROM validators WHERE url = ?1",
                [url],
                |r| {
                    Ok(Validators {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// Logs a failed poll; nothing stored is touched.
    pub fn record_failure(
        &self,
        source_id: &str,
        started: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO polls (source_id, started, finished, outcome, error) VALUES (?1, ?2, ?3, 'failed', ?4)",
            params![source_id, started.timestamp(), Utc::now().timestamp(), error],
        )?;
        Ok(())
    }

    /// The poll log of `source_id`, newest first.
    pub fn poll_log(&self, source_id: &str, limit: u32) -> Result<Vec<PollLogEntry>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT source_id, started, outcome, pages, items_seen, items_new, articles_fetched, error
             FROM polls WHERE source_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![source_id, limit], |r| {
            Ok(PollLogEntry {
                source_id: r.get(0)?,
                started: to_time(r.get(1)?),
                outcome: r.get(2)?,
                pages: r.get(3)?,
                items_seen: r.get(4)?,
                items_new: r.get(5)?,
                articles_fetched: r.get(6)?,
                error: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The cached robots.txt of `origin` (scheme://host:port).
    pub fn robots(&self, origin: &str) -> Result<Option<RobotsEntry>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT status, body, fetched FROM robots WHERE host = ?1",
                [origin],
                |r| {
                    Ok(RobotsEntry {
                        status: r.get(0)?,
                        body: r.get(1)?,
                        fetched: to_time(r.get(2)?),
                    })
                },
            )
            .optional()?)
    }

    /// Caches the robots.txt answer of `origin`.
    pub fn save_robots(&self, origin: &str, entry: &RobotsEntry) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO robots (host, status, body, fetched) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(host) DO UPDATE SET status = excluded.status, body = excluded.body, fetched = excluded.fetched",
            params![origin, entry.status, entry.body, entry.fetched.timestamp()],
        )?;
        Ok(())
    }

    /// Until when `host` asked us to stay away (Retry-After), if that is still in the future.
    pub fn host_pause(
        &self,
        host: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, String)>> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                "SELECT until, reason FROM host_pauses WHERE host = ?1",
                [host],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?;
        Ok(row
            .filter(|(until, _)| *until > now.timestamp())
            .map(|(u, r)| (to_time(u), r)))
    }

    /// Records that `host` asked us to stay away until `until`.
    pub fn pause_host(&self, host: &str, until: DateTime<Utc>, reason: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO host_pauses (host, until, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT(host) DO UPDATE SET until = MAX(host_pauses.until, excluded.until), reason = excluded.reason",
            params![host, until.timestamp(), reason],
        )?;
        Ok(())
    }
}
