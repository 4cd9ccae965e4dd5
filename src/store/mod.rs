//! SQLite storage: every item ever seen, which sources list it, and what the pollers need to be
//! polite and incremental (HTTP validators, robots.txt, host pauses, the poll log).
//!
//! One `Store` wraps one connection behind a mutex; its methods are synchronous and named for what
//! the caller intends, with their SQL inline. Async callers use `spawn_blocking`. The file is opened
//! in WAL mode with a busy timeout, so a `portalfeed poll` can write while the feed server reads.
//! One poll of one source is one IMMEDIATE transaction ([`Store::record_poll`]): a crash mid-poll
//! leaves the last good state, and validators are only saved together with the items they vouch for
//! (saving them alone would let a later 304 hide items that were never stored).

mod feeds;
mod health;
mod housekeeping;
mod items;
mod schema;
mod signup;
mod state;
mod subscribers;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use url::Url;

pub use feeds::FeedItem;
pub use health::{OutboxCounts, SourceHealth};
pub use housekeeping::Pruned;
pub use items::{
    ArticleContent, ArticleOutcome, ItemRecord, KnownItem, PollCounts, PollRecord, RetryItem,
    StoredItem,
};
pub use signup::Request;
pub use state::{PollLogEntry, RobotsEntry, Validators};
pub use subscribers::{Delivery, Outgoing, SUSPEND_AFTER, Subscriber};

/// How often a failed article page is tried before the item keeps only what its list gave.
pub const MAX_ARTICLE_ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database {path}: migrate: {source}")]
    Migrate {
        path: String,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database: the connection lock was poisoned by a panic")]
    Poisoned,
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The database.
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let shown = path.display().to_string();
        let open_err = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // A missing folder is the commonest first-run mistake; SQLite's own message is opaque.
            if !dir.exists() {
                return Err(open_err(rusqlite::Error::InvalidPath(path.to_path_buf())));
            }
        }
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(15))
            .map_err(open_err)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|source| StoreError::Migrate {
                path: shown.clone(),
                source,
            })?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }

    /// Records the configured sources (id, title, list URL); sources removed from the config keep
    /// their rows and items.
    pub fn sync_sources<'a>(
        &self,
        sources: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO sources (id, title, list_url, created) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET title = excluded.title, list_url = excluded.list_url",
            )?;
            let now = Utc::now().timestamp();
            for (id, title, list_url) in sources {
                stmt.execute((id, title, list_url, now))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Answers when the database does (for health checks).
    pub fn ping(&self) -> Result<()> {
        self.conn()?.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

/// The stable id of the item at `url`: from its canonical form (no fragment, scheme left out so that
/// an http→https move of the portal keeps every id), hashed to 32 hex digits.
pub fn item_id(url: &Url) -> String {
    let mut canonical = url.clone();
    canonical.set_fragment(None);
    let text = canonical.as_str();
    let without_scheme = text.split_once(':').map(|(_, rest)| rest).unwrap_or(text);
    let digest = Sha256::digest(without_scheme.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn to_time(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

#[cfg(test)]
mod tests;
