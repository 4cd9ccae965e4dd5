//! Items and the poll transaction that stores them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use url::Url;

use super::{MAX_ARTICLE_ATTEMPTS, Result, Store, item_id, to_time};
use crate::extract::Attachment;
use crate::store::Validators;

/// What a poll learnt of one item's article page.
#[derive(Debug, Clone)]
pub enum ArticleOutcome {
    /// Fetched and extracted now.
    Fetched(ArticleContent),
    /// Tried now and failed (the message says why); tried again on later polls, a bounded number of times.
    Failed(String),
    /// Not tried now (the host asked us to wait): stored as failed without counting an attempt.
    Deferred(String),
    /// On another site: never fetched.
    External,
    /// The source does not fetch articles.
    Skipped,
    /// Already stored and not due for a retry: leave it as it is.
    Unchanged,
}

/// The parts of an article page that the list does not give.
#[derive(Debug, Clone, Default)]
pub struct ArticleContent {
    pub content_html: String,
    pub summary: String,
    pub origin: Option<String>,
    pub author: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// One item as a poll saw it.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    pub url: Url,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub article: ArticleOutcome,
}

/// Everything one successful poll of one source stores, in one transaction.
#[derive(Debug, Clone)]
pub struct PollRecord {
    pub source_id: String,
    pub started: DateTime<Utc>,
    pub pages: u32,
    pub not_modified: bool,
    pub items: Vec<ItemRecord>,
    /// Validators of list pages answered 200 in this poll.
    pub validators: Vec<(String, Validators)>,
}

/// What a poll changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollCounts {
    pub items_seen: u32,
    /// Items this source had not listed before.
    pub items_new: u32,
    pub articles_fetched: u32,
}

/// An item whose article page is due for another try.
#[derive(Debug, Clone)]
pub struct RetryItem {
    pub url: Url,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
}

/// What the store already knows of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownItem {
    pub article_status: String,
    pub attempts: u32,
}

/// An item as stored.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub id: String,
    pub url: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub content_html: Option<String>,
    pub summary: Option<String>,
    pub origin: Option<String>,
    pub author: Option<String>,
    pub attachments: Vec<Attachment>,
    pub article_status: String,
    pub article_attempts: u32,
}

impl Store {
    /// The stored state of those of `ids` that exist.
    pub fn known_items(&self, ids: &[String]) -> Result<HashMap<String, KnownItem>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT article_status, article_attempts FROM items WHERE id = ?1")?;
        let mut known = HashMap::new();
        for id in ids {
            let row = stmt
                .query_row([id], |r| {
                    Ok(KnownItem {
                        article_status: r.get(0)?,
                        attempts: r.get(1)?,
                    })
                })
                .optional()?;
            if let Some(k) = row {
                known.insert(id.clone(), k);
            }
        }
        Ok(known)
    }

    /// Items of `source_id` whose article page failed and may be tried again.
    pub fn article_retries(&self, source_id: &str) -> Result<Vec<RetryItem>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT i.url, i.title, i.published FROM items i JOIN item_sources s ON s.item_id = i.id
             WHERE s.source_id = ?1 AND i.article_status = 'failed' AND i.article_attempts < ?2
             ORDER BY i.first_seen",
        )?;
        let rows = stmt.query_map(params![source_id, MAX_ARTICLE_ATTEMPTS], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (url, title, published) = row?;
            if let Ok(url) = Url::parse(&url) {
                out.push(RetryItem {
                    url,
                    title,
                    published: published.map(to_time),
                });
            }
        }
        Ok(out)
    }

    /// Stores one successful poll: new items, links to the source, article results, validators and
    /// the poll log, all or nothing.
    pub fn record_poll(&self, poll: &PollRecord) -> Result<PollCounts> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = Utc::now().timestamp();
        let baseline: bool = tx
            .query_row(
                "SELECT first_success IS NULL FROM sources WHERE id = ?1",
                [&poll.source_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(true);
        let mut counts = PollCounts {
            items_seen: poll.items.len() as u32,
            ..PollCounts::default()
        };
        for item in &poll.items {
            let id = item_id(&item.url);
            upsert_item(&tx, &id, item, now)?;
            if matches!(item.article, ArticleOutcome::Fetched(_)) {
                counts.articles_fetched += 1;
            }
            let linked = tx.prepare_cached("INSERT OR IGNORE INTO item_sources (source_id, item_id, first_seen, baseline) VALUES (?1, ?2, ?3, ?4)")?.execute(
                params![poll.source_id, id, now, baseline],
            )?;
            counts.items_new += linked as u32;
        }
        for (url, v) in &poll.validators {
            tx.prepare_cached("INSERT INTO validators (url, etag, last_modified, saved) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, saved = excluded.saved")?.execute(
                params![url, v.etag, v.last_modified, now],
            )?;
        }
        tx.prepare_cached(
            "UPDATE sources SET first_success = ?2 WHERE id = ?1 AND first_success IS NULL",
        )?
        .execute(params![poll.source_id, now])?;
        let outcome = if poll.not_modified {
            "not_modified"
        } else {
            "ok"
        };
        tx.prepare_cached("INSERT INTO polls (source_id, started, finished, outcome, pages, items_seen, items_new, articles_fetched)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(
            params![poll.source_id, poll.started.timestamp(), now, outcome, poll.pages, counts.items_seen, counts.items_new, counts.articles_fetched],
        )?;
        tx.commit()?;
        Ok(counts)
    }

    /// The items `source_id` lists, newest first.
    pub fn source_items(&self, source_id: &str, limit: u32) -> Result<Vec<StoredItem>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items i JOIN item_sources s ON s.item_id = i.id
             WHERE s.source_id = ?1 ORDER BY COALESCE(i.published, i.first_seen) DESC, i.id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![source_id, limit], stored_item)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many items are stored in all.
    pub fn item_count(&self) -> Result<i64> {
        Ok(self
            .conn()?
            .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))?)
    }
}

pub(super) const ITEM_COLUMNS: &str = "i.id, i.url, i.title, i.published, i.first_seen, i.updated, i.content_html, \
     i.summary, i.origin, i.author, i.attachments, i.article_status, i.article_attempts";

pub(super) fn stored_item(r: &rusqlite::Row) -> rusqlite::Result<StoredItem> {
    let attachments: String = r.get(10)?;
    Ok(StoredItem {
        id: r.get(0)?,
        url: r.get(1)?,
        title: r.get(2)?,
        published: r.get::<_, Option<i64>>(3)?.map(to_time),
        first_seen: to_time(r.get(4)?),
        updated: to_time(r.get(5)?),
        content_html: r.get(6)?,
        summary: r.get(7)?,
        origin: r.get(8)?,
        author: r.get(9)?,
        attachments: serde_json::from_str(&attachments).unwrap_or_default(),
        article_status: r.get(11)?,
        article_attempts: r.get(12)?,
    })
}

fn content_hash(title: &str, content: &ArticleContent) -> String {
    let mut h = Sha256::new();
    for part in [
        title,
        &content.content_html,
        content.origin.as_deref().unwrap_or(""),
        content.author.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for a in &content.attachments {
        h.update(a.url.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn upsert_item(tx: &rusqlite::Transaction, id: &str, item: &ItemRecord, now: i64) -> Result<()> {
    let exists: bool = tx
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM items WHERE id = ?1)")?
        .query_row([id], |r| r.get(0))?;
    let published = item.published.map(|p| p.timestamp());
    match (&item.article, exists) {
        (ArticleOutcome::Fetched(c), _) => {
            let hash = content_hash(&item.title, c);
            let attachments = serde_json::to_string(&c.attachments).unwrap_or_else(|_| "[]".into());
            tx.prepare_cached("INSERT INTO items (id, url, title, published, first_seen, updated, content_html, summary, origin,
                                    author, attachments, content_hash, article_status, article_attempts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'ok', 1)
                 ON CONFLICT(id) DO UPDATE SET
                    title = excluded.title, published = COALESCE(excluded.published, items.published),
                    updated = CASE WHEN items.content_hash IS excluded.content_hash THEN items.updated ELSE excluded.updated END,
                    content_html = excluded.content_html, summary = excluded.summary, origin = excluded.origin,
                    author = excluded.author, attachments = excluded.attachments, content_hash = excluded.content_hash,
                    article_status = 'ok', article_attempts = items.article_attempts + 1, article_error = NULL")?.execute(
                params![id, item.url.as_str(), item.title, published, now, c.content_html, c.summary, c.origin, c.author, attachments, hash],
            )?;
        }
        (ArticleOutcome::Failed(error), true) => {
            tx.prepare_cached("UPDATE items SET article_attempts = article_attempts + 1, article_error = ?2 WHERE id = ?1")?.execute(
                params![id, error],
            )?;
        }
        (_, true) => {}
        (outcome, false) => {
            let (status, attempts, error) = match outcome {
                ArticleOutcome::Failed(e) => ("failed", 1, Some(e.as_str())),
                ArticleOutcome::Deferred(e) => ("failed", 0, Some(e.as_str())),
                ArticleOutcome::External => ("external", 0, None),
                _ => ("skipped", 0, None),
            };
            tx.prepare_cached("INSERT INTO items (id, url, title, published, first_seen, updated, article_status, article_attempts, article_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)")?.execute(
                params![id, item.url.as_str(), item.title, published, now, status, attempts, error],
            )?;
        }
    }
    Ok(())
}
