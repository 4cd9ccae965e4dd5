//! What the feed server reads: items for a feed, newest first, and whether anything changed.

use rusqlite::params;

use super::items::{ITEM_COLUMNS, stored_item};
use super::{Result, Store, StoredItem};

/// An item with the titles of the sources that list it (its categories).
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub item: StoredItem,
    pub sources: Vec<String>,
}

impl Store {
    /// SQLite's `data_version`: changes whenever another connection commits to the file, so a
    /// reader learns cheaply that a `poll` elsewhere stored something.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn()?
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Frees this connection's page cache and whatever other memory SQLite can give up (`PRAGMA
    /// shrink_memory`); it is read back from the file, or the OS's cache, on demand.
    pub fn shrink_memory(&self) -> Result<()> {
        self.conn()?.execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

    /// Items of one source (or of every source), newest first, at most `limit`, optionally only
    /// those whose title or body contains `query`.
    pub fn feed_items(
        &self,
        source: Option<&str>,
        limit: u32,
        query: Option<&str>,
    ) -> Result<Vec<FeedItem>> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {ITEM_COLUMNS}, (SELECT group_concat(s2.title, char(31) ORDER BY s2.id) FROM item_sources l2
                    JOIN sources s2 ON s2.id = l2.source_id WHERE l2.item_id = i.id)
             FROM items i
             WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM item_sources l WHERE l.item_id = i.id AND l.source_id = ?1))
               AND (?2 IS NULL OR instr(i.title, ?2) > 0 OR instr(COALESCE(i.content_html, ''), ?2) > 0)
             ORDER BY COALESCE(i.published, i.first_seen) DESC, i.id
             LIMIT ?3"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![source, query, limit], |r| {
            let sources: Option<String> = r.get(13)?;
            Ok(FeedItem {
                item: stored_item(r)?,
                sources: sources
                    .map(|s| s.split('\u{1f}').map(str::to_string).collect())
                    .unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
