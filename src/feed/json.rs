//! JSON Feed 1.1 writer (<https://jsonfeed.org/version/1.1>, serialized with `serde_json`).
//!
//! Promises, for a [`Channel`] and its [`Entry`]s rendered in a time zone:
//! - Pretty-printed UTF-8 JSON, byte-identical for identical input: fields come from structs in
//!   declaration order (no maps), absent values are left out rather than written as `null`.
//! - Feed: `version` `https://jsonfeed.org/version/1.1`, `title`, `home_page_url` =
//!   [`Channel::link`] (the portal section the feed describes; [`Channel::home_url`] stands in when
//!   the link is empty), `feed_url` = [`Channel::self_url`], `description` (when not empty),
//!   `language` `zh-CN`, `items` in the caller's order.
//! - Items: `id` and `url` = the article URL, `title`, `content_html` (the body), `summary`,
//!   `date_published` (when known), `date_modified` = [`Entry::updated`], `authors` `[{name}]`
//!   (author, else 来源, else left out), `tags` = categories, `attachments`
//!   `[{url, mime_type, title}]`.
//! - Dates are RFC 3339 in the given zone with its offset and whole seconds:
//!   `2024-03-05T08:42:00+08:00`.
//! - Every string has the characters XML 1.0 forbids removed, like the XML feeds, so that all
//!   formats carry the same text.
//!
//! Edge cases and why:
//! - JSON Feed requires `content_html` or `content_text` on each item: without a body the item
//!   gets `content_text` = the summary, else the title.
//! - `mime_type` is required on attachments: an empty one becomes `application/octet-stream`;
//!   attachments without a URL are left out; `title` is left out when the name is empty.
//! - Empty or whitespace-only optional values are left out, and so are empty `tags`,
//!   `attachments` and `authors` arrays.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::xml::{clean, clean_nonempty};
use super::{Channel, Entry};

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct JsonFeed {
    version: &'static str,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    home_page_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    language: &'static str,
    items: Vec<JsonItem>,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<JsonAttachment>,
}

#[derive(Serialize)]
struct JsonAuthor {
    name: String,
}

#[derive(Serialize)]
struct JsonAttachment {
    url: String,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

/// Renders `entries` (in the given order) as a JSON Feed 1.1 document.
pub fn json_feed(channel: &Channel, entries: &[Entry], tz: Tz) -> String {
    let feed = JsonFeed {
        version: VERSION,
        title: clean(&channel.title),
        home_page_url: clean_nonempty(Some(&channel.link))
            .or_else(|| clean_nonempty(Some(&channel.home_url))),
        feed_url: clean_nonempty(Some(&channel.self_url)),
        description: clean_nonempty(Some(&channel.description)),
        language: "zh-CN",
        items: entries.iter().map(|e| item(e, tz)).collect(),
    };
    // Serializing these structs (strings and vectors only) cannot fail; should it ever, an empty
    // body (which the web layer serves as an error) beats a panic in a request.
    serde_json::to_string_pretty(&feed).unwrap_or_default()
}

fn item(entry: &Entry, tz: Tz) -> JsonItem {
    let url = clean(&entry.url);
    let title = clean_nonempty(Some(&entry.title));
    let content_html = clean_nonempty(entry.content_html.as_deref());
    let summary = clean_nonempty(entry.summary.as_deref());
    let content_text = if content_html.is_none() {
        Some(
            summary
                .clone()
                .or_else(|| title.clone())
                .unwrap_or_default(),
        )
    } else {
        None
    };
    let author =
        clean_nonempty(entry.author.as_deref()).or_else(|| clean_nonempty(entry.origin.as_deref()));

    JsonItem {
        id: url.clone(),
        url: Some(url).filter(|u| !u.trim().is_empty()),
        title,
        content_html,
        content_text,
        summary,
        date_published: entry.published.map(|p| rfc3339(p, tz)),
        date_modified: rfc3339(entry.updated, tz),
        authors: author.map(|name| JsonAuthor { name }).into_iter().collect(),
        tags: entry
            .categories
            .iter()
            .filter_map(|c| clean_nonempty(Some(c)))
            .collect(),
        attachments: entry
            .attachments
            .iter()
            .filter_map(|a| {
                Some(JsonAttachment {
                    url: clean_nonempty(Some(&a.url))?,
                    mime_type: clean_nonempty(Some(&a.mime))
                        .unwrap_or_else(|| "application/octet-stream".to_owned()),
                    title: clean_nonempty(Some(&a.name)),
                })
            })
            .collect(),
    }
}

/// RFC 3339 in `tz` with its offset and whole seconds: `2024-03-05T08:42:00+08:00`.
fn rfc3339(instant: DateTime<Utc>, tz: Tz) -> String {
    instant
        .trunc_subsecs(0)
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_rfc3339_with_offset() {
        let t =
            Utc.with_ymd_and_hms(2024, 3, 5, 0, 42, 0).unwrap() + chrono::Duration::milliseconds(7);
        assert_eq!(
            rfc3339(t, chrono_tz::Asia::Shanghai),
            "2024-03-05T08:42:00+08:00"
        );
        assert_eq!(rfc3339(t, chrono_tz::UTC), "2024-03-05T00:42:00+00:00");
    }

    #[test]
    fn home_page_url_falls_back_to_home_url() {
        let channel = Channel {
            title: "t".into(),
            link: " ".into(),
            description: String::new(),
            self_url: "https://feeds.example/all.json".into(),
            home_url: "https://feeds.example/".into(),
            ttl_minutes: None,
            updated: None,
        };
        let v: serde_json::Value =
            serde_json::from_str(&json_feed(&channel, &[], chrono_tz::UTC)).unwrap();
        assert_eq!(v["home_page_url"], "https://feeds.example/");
        assert!(v.get("description").is_none());
        assert_eq!(v["items"], serde_json::json!([]));
    }
}
