//! Feeds: RSS 2.0, Atom 1.0 (RFC 4287), JSON Feed 1.1 and OPML 2.0, rendered from stored items.
//!
//! Pure functions of ([`Channel`], [`Entry`]s, time zone) to text: no I/O, no clock. Everything a
//! reader relies on is stable between renders of the same data — ids, times and bytes — so that the
//! web layer can derive a strong ETag from the output. Times are shown in the configured zone
//! (RSS: RFC 822 with a four-digit year and a numeric offset; Atom and JSON: RFC 3339 with the
//! offset). Characters XML 1.0 forbids are removed before they reach any XML writer.

mod atom;
mod json;
mod opml;
mod rss;
pub(crate) mod xml;

use chrono::{DateTime, Utc};

use crate::extract::Attachment;

pub use self::atom::atom;
pub use self::json::json_feed;
pub use self::opml::{OpmlFeed, opml};
pub use self::rss::rss;

/// The feed as a whole.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The source's title (头条新闻), or the service title for the combined feed.
    pub title: String,
    /// The portal section the feed mirrors (the source's list URL).
    pub link: String,
    pub description: String,
    /// This feed's own public URL (`atom:link rel="self"`, Atom `id`, JSON `feed_url`).
    pub self_url: String,
    /// The public URL of the service's home page (JSON `home_page_url` when `link` is empty).
    pub home_url: String,
    /// Minutes a reader may cache the feed (RSS `ttl`), from the source's schedule.
    pub ttl_minutes: Option<u32>,
    /// The newest item's last change; `None` for an empty feed.
    pub updated: Option<DateTime<Utc>>,
}

/// One item of a feed.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The store's stable id (32 hex digits).
    pub id: String,
    /// The article's URL: the RSS guid (isPermaLink), the Atom id and the JSON id.
    pub url: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    /// The last real change of title or content (Atom `updated`).
    pub updated: DateTime<Utc>,
    /// Sanitized body HTML.
    pub content_html: Option<String>,
    /// Plain-text summary.
    pub summary: Option<String>,
    pub author: Option<String>,
    /// 来源.
    pub origin: Option<String>,
    /// The titles of the sources that list the item.
    pub categories: Vec<String>,
    pub attachments: Vec<Attachment>,
}
