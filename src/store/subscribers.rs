//! Subscribers, the outbox, and which items each subscriber has been sent.
//!
//! The outbox is what makes mail exactly-once: a digest is composed once and written, with its
//! items recorded as taken, in one transaction before any SMTP traffic ([`Store::queue_digest`]);
//! sending then only moves rows from queued to sent or failed. A crash between the two leaves a
//! queued row that the next run sends, with the same Message-ID.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::items::{ITEM_COLUMNS, stored_item};
use super::{Result, Store, StoredItem, to_time};

/// Permanent delivery failures in a row that suspend a subscriber.
pub const SUSPEND_AFTER: u32 = 3;

/// A subscriber as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    /// pending | active | unsubscribed | suspended
    pub status: String,
    /// daily | weekly | immediate
    pub schedule: String,
    pub sources: Vec<String>,
    pub created: DateTime<Utc>,
    pub since: DateTime<Utc>,
    pub last_run: Option<DateTime<Utc>>,
    pub failures: u32,
    /// When their last digest was sent.
    pub last_sent: Option<DateTime<Utc>>,
}

/// What became of one delivery attempt, for [`Store::outbox_record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Handed over: the row becomes `sent`.
    Sent,
    /// A transient failure: stays queued until `next`.
    Retry { error: String, next: DateTime<Utc> },
    /// Refused for good: the row becomes `failed`, and [`SUSPEND_AFTER`] in a row suspend the
    /// subscriber.
    Failed { error: String },
}

/// A queued message.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub subscriber_id: i64,
    pub recipient: String,
    pub message_id: String,
    pub message: Vec<u8>,
    pub attempts: u32,
}

/// One subscriber and when they were last sent a digest (served by the `outbox_subscriber` index).
pub(super) const SUBSCRIBER_BY_ID: &str =
    "SELECT id, email, status, schedule, created, since, last_run, failures,
            (SELECT MAX(sent) FROM outbox o WHERE o.subscriber_id = s.id AND o.status = 'sent')
     FROM subscribers s WHERE id = ?1";

impl Store {
    /// Adds `email` with these choices, or updates an existing subscriber's choices (never a second
    /// row). Returns the subscriber and whether it is new. Someone who had left and comes back
    /// starts afresh: only items first seen from now on are theirs.
    pub fn upsert_subscriber(
        &self,
        email: &str,
        sources: &[String],
        schedule: &str,
        status: &str,
    ) -> Result<(Subscriber, bool)> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (id, created) = upsert(&tx, email, sources, schedule, status)?;
        tx.commit()?;
        drop(conn);
        let subscriber = self
            .subscriber_by_id(id)?
            .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        Ok((subscriber, created))
    }

    /// Every subscriber, by address.
    pub fn subscribers(&self) -> Result<Vec<Subscriber>> {
        let ids: Vec<i64> = {
            let conn = self.conn()?;
            let mut stmt = conn.prepare("SELECT id FROM subscribers ORDER BY email")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        ids.into_iter()
            .filter_map(|id| self.subscriber_by_id(id).transpose())
            .collect()
    }

    /// The subscriber with this address.
    pub fn subscriber(&self, email: &str) -> Result<Option<Subscriber>> {
        let id: Option<i64> = self
            .conn()?
            .query_row(
                "SELECT id FROM subscribers WHERE email = ?1",
                [email],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.subscriber_by_id(id),
            None => Ok(None),
        }
    }

    /// The subscriber with this id.
    pub fn subscriber_by_id(&self, id: i64) -> Result<Option<Subscriber>> {
        let conn = self.conn()?;
        let row = conn
            .query_row(SUBSCRIBER_BY_ID, [id], |r| {
                Ok(Subscriber {
                    id: r.get(0)?,
                    email: r.get(1)?,
                    status: r.get(2)?,
                    schedule: r.get(3)?,
                    sources: Vec::new(),
                    created: to_time(r.get(4)?),
                    since: to_time(r.get(5)?),
                    last_run: r.get::<_, Option<i64>>(6)?.map(to_time),
                    failures: r.get(7)?,
                    last_sent: r.get::<_, Option<i64>>(8)?.map(to_time),
                })
            })
            .optional()?;
        let Some(mut s) = row else { return Ok(None) };
        let mut stmt = conn.prepare_cached(
            "SELECT source_id FROM subscriber_sources WHERE subscriber_id = ?1 ORDER BY source_id",
        )?;
        s.sources = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Some(s))
    }

    /// Deletes the subscriber and their outbox; `false` when there was none.
    pub fn remove_subscriber(&self, email: &str) -> Result<bool> {
        Ok(self
            .conn()?
            .execute("DELETE FROM subscribers WHERE email = ?1", [email])?
            > 0)
    }

    /// Marks the subscriber unsubscribed; `false` when there is none.
    pub fn unsubscribe(&self, id: i64) -> Result<bool> {
        Ok(self.conn()?.execute(
            "UPDATE subscribers SET status = 'unsubscribed' WHERE id = ?1",
            [id],
        )? > 0)
    }

    /// Items not yet sent to the subscriber: first seen since they subscribed, in one of their
    /// sources, not part of a source's baseline; oldest first, at most `limit`. Each comes with the
    /// id of one of their sources that lists it (an item in two of their sources comes once).
    pub fn unsent_items(
        &self,
        subscriber_id: i64,
        limit: u32,
    ) -> Result<Vec<(StoredItem, String)>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, MIN(l.source_id) FROM items i
             JOIN item_sources l ON l.item_id = i.id AND l.baseline = 0
             JOIN subscriber_sources ss ON ss.source_id = l.source_id AND ss.subscriber_id = ?1
             WHERE i.first_seen >= (SELECT since FROM subscribers WHERE id = ?1)
               AND NOT EXISTS (SELECT 1 FROM digest_items d WHERE d.subscriber_id = ?1 AND d.item_id = i.id)
             GROUP BY i.id
             ORDER BY COALESCE(i.published, i.first_seen), i.id
             LIMIT ?2"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![subscriber_id, limit], |r| {
            Ok((stored_item(r)?, r.get::<_, String>(13)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records that the subscriber's digest was due and handled at `at` (also when it was empty).
    pub fn mark_run(&self, subscriber_id: i64, at: DateTime<Utc>) -> Result<()> {
        self.conn()?.execute(
            "UPDATE subscribers SET last_run = ?2 WHERE id = ?1",
            params![subscriber_id, at.timestamp()],
        )?;
        Ok(())
    }

    /// Writes a digest to the outbox and takes its items, in one transaction. `compose` gets the
    /// outbox row's id (for the Message-ID) and returns (Message-ID, message bytes). `None` when
    /// one of the items was taken meanwhile by another run (nothing is written then).
    pub fn queue_digest(
        &self,
        subscriber_id: i64,
        recipient: &str,
        item_ids: &[String],
        compose: impl FnOnce(i64) -> (String, Vec<u8>),
    ) -> Result<Option<i64>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = Utc::now().timestamp();
        // The id the row will have, known before the message is built (it names the Message-ID),
        // so that the message is written once, with its row. The IMMEDIATE transaction holds the
        // write lock, so no other writer can take it meanwhile.
        let id: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox")?
            .query_row([], |r| r.get(0))?;
        {
            let mut take = tx.prepare_cached(
                "INSERT OR IGNORE INTO digest_items (subscriber_id, item_id, outbox_id) VALUES (?1, ?2, ?3)",
            )?;
            for item in item_ids {
                if take.execute(params![subscriber_id, item, id])? == 0 {
                    return Ok(None);
                }
            }
        }
        let (message_id, message) = compose(id);
        tx.prepare_cached(
            "INSERT INTO outbox (id, subscriber_id, created, recipient, message_id, message, items, status, next_attempt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?3)",
        )?
        .execute(params![
            id,
            subscriber_id,
            now,
            recipient,
            message_id,
            message,
            item_ids.len() as i64
        ])?;
        tx.prepare_cached("UPDATE subscribers SET last_run = ?2 WHERE id = ?1")?
            .execute(params![subscriber_id, now])?;
        tx.commit()?;
        Ok(Some(id))
    }

    /// Queued messages due now (all of them with `all`), oldest first.
    pub fn due_outbox(&self, now: DateTime<Utc>, all: bool) -> Result<Vec<Outgoing>> {
        self.due_outbox_after(now, all, 0, u32::MAX)
    }

    /// Like [`Store::due_outbox`], but only rows with an id above `after`, at most `limit`: a
    /// sender walks the queue page by page (keyed by id, so a row put back for a retry is not met
    /// again in the same run) without holding every message in memory.
    pub fn due_outbox_after(
        &self,
        now: DateTime<Utc>,
        all: bool,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Outgoing>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, subscriber_id, recipient, message_id, message, attempts FROM outbox
             WHERE status = 'queued' AND (?2 OR next_attempt <= ?1) AND id > ?3 ORDER BY id LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![now.timestamp(), all, after, limit], |r| {
            Ok(Outgoing {
                id: r.get(0)?,
                subscriber_id: r.get(1)?,
                recipient: r.get(2)?,
                message_id: r.get(3)?,
                message: r.get(4)?,
                attempts: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The message went out.
    pub fn outbox_sent(&self, id: i64) -> Result<()> {
        self.outbox_record(&[(id, Delivery::Sent)])
    }

    /// A transient failure: try again at `next`.
    pub fn outbox_retry(&self, id: i64, error: &str, next: DateTime<Utc>) -> Result<()> {
        self.outbox_record(&[(
            id,
            Delivery::Retry {
                error: error.to_string(),
                next,
            },
        )])
    }

    /// A permanent failure: the message is given up, and after [`SUSPEND_AFTER`] in a row the
    /// subscriber is suspended.
    pub fn outbox_failed(&self, id: i64, error: &str) -> Result<()> {
        self.outbox_record(&[(
            id,
            Delivery::Failed {
                error: error.to_string(),
            },
        )])
    }

    /// Records what became of several messages, in order, in one transaction (one commit for a
    /// whole batch of deliveries instead of one or two per message).
    pub fn outbox_record(&self, outcomes: &[(i64, Delivery)]) -> Result<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = Utc::now().timestamp();
        for (id, outcome) in outcomes {
            match outcome {
                Delivery::Sent => {
                    tx.prepare_cached("UPDATE outbox SET status = 'sent', sent = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1")?
                        .execute(params![id, now])?;
                    tx.prepare_cached("UPDATE subscribers SET failures = 0 WHERE id = (SELECT subscriber_id FROM outbox WHERE id = ?1) AND failures <> 0")?
                        .execute([id])?;
                }
                Delivery::Retry { error, next } => {
                    tx.prepare_cached("UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt = ?3 WHERE id = ?1")?
                        .execute(params![id, error, next.timestamp()])?;
                }
                Delivery::Failed { error } => {
                    tx.prepare_cached("UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1")?
                        .execute(params![id, error])?;
                    tx.prepare_cached(
                        "UPDATE subscribers SET failures = failures + 1,
                                status = CASE WHEN failures + 1 >= ?2 THEN 'suspended' ELSE status END
                         WHERE id = (SELECT subscriber_id FROM outbox WHERE id = ?1)",
                    )?
                    .execute(params![id, SUSPEND_AFTER])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The outbox row's status and last error (for reports and tests).
    pub fn outbox_status(&self, id: i64) -> Result<Option<(String, u32, Option<String>)>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT status, attempts, last_error FROM outbox WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// The value of a setting, creating it with `make` when absent.
    pub fn setting_or(&self, key: &str, make: impl FnOnce() -> String) -> Result<String> {
        let conn = self.conn()?;
        if let Some(v) = conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?
        {
            return Ok(v);
        }
        conn.execute(
            "INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)",
            params![key, make()],
        )?;
        Ok(
            conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })?,
        )
    }
}

/// The subscriber row of `email`: its status, or `None` when there is none.
pub(super) fn status_of(tx: &Transaction<'_>, email: &str) -> Result<Option<(i64, String)>> {
    Ok(tx
        .query_row(
            "SELECT id, status FROM subscribers WHERE email = ?1",
            [email],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Writes `email` with this status and these choices, updating its row or adding one; returns the
/// id and whether the row is new. Someone who had left (unsubscribed, suspended) and is now
/// pending or active starts afresh: only items first seen from now on are theirs. A pending or
/// active subscriber keeps its `since`.
pub(super) fn upsert(
    tx: &Transaction<'_>,
    email: &str,
    sources: &[String],
    schedule: &str,
    status: &str,
) -> Result<(i64, bool)> {
    let now = Utc::now().timestamp();
    let (id, created) = match status_of(tx, email)? {
        Some((id, old)) => {
            let afresh = !matches!(old.as_str(), "active" | "pending")
                && matches!(status, "active" | "pending");
            tx.execute(
                "UPDATE subscribers SET status = ?2, schedule = ?3, failures = 0,
                        since = CASE WHEN ?4 THEN ?5 ELSE since END WHERE id = ?1",
                params![id, status, schedule, afresh, now],
            )?;
            (id, false)
        }
        None => {
            tx.execute(
                "INSERT INTO subscribers (email, status, schedule, created, since) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![email, status, schedule, now],
            )?;
            (tx.last_insert_rowid(), true)
        }
    };
    set_sources(tx, id, sources)?;
    Ok((id, created))
}

/// Replaces the subscriber's sources.
pub(super) fn set_sources(tx: &Transaction<'_>, id: i64, sources: &[String]) -> Result<()> {
    tx.execute(
        "DELETE FROM subscriber_sources WHERE subscriber_id = ?1",
        [id],
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO subscriber_sources (subscriber_id, source_id) VALUES (?1, ?2)",
    )?;
    for source in sources {
        insert.execute(params![id, source])?;
    }
    Ok(())
}
