//! Atom 1.0 (RFC 4287) writer (built with `atom_syndication`).
//!
//! Promises, for a [`Channel`] and its [`Entry`]s rendered in a time zone:
//! - A UTF-8 document starting `<?xml version="1.0" encoding="UTF-8"?>`, byte-identical for
//!   identical input (no clock, no hash-map order).
//! - Feed: `xml:lang="zh-CN"`, `id` = [`Channel::self_url`], `title`, `updated` =
//!   [`Channel::updated`], `link rel="self" type="application/atom+xml"`, `link rel="alternate"` =
//!   [`Channel::link`], `generator` `portalfeed` with `version`, `subtitle` = description (omitted
//!   when empty).
//! - Entries, in the caller's order: `id` = the article URL (canonical and stable, so readers never
//!   see an item twice), `title`, `link rel="alternate"`, `updated` = [`Entry::updated`] (the last
//!   real change), `published` when known, one `author`, `category term` per category,
//!   `summary` (plain text), `content type="html"`, and one `link rel="enclosure"` per attachment
//!   with `type` = its MIME type and `title` = its name.
//! - Dates are RFC 3339 in the given zone with its offset and whole seconds:
//!   `2024-03-05T08:42:00+08:00`.
//! - Every string has the characters XML 1.0 forbids removed ([`super::xml::clean`]).
//!
//! Edge cases and why:
//! - An empty feed has no newest change, yet Atom requires `updated`: it is the Unix epoch
//!   (1970-01-01T00:00:00Z, shown in the zone, e.g. `1970-01-01T08:00:00+08:00`). The current time
//!   would change the bytes (and the ETag) on every request and tell readers something changed.
//! - Atom requires an author on every entry (or on the feed): the entry's author, else its 来源,
//!   else the channel title, else `portalfeed`.
//! - Enclosure links carry no `length` (optional in Atom; the size is unknown without downloading
//!   the file). An empty MIME type becomes `application/octet-stream`.
//! - Empty or whitespace-only optional values (summary, body, categories, description) are
//!   omitted rather than written as empty elements.

use atom_syndication::{
    Category, Content, Entry as AtomEntry, Feed, FixedDateTime, Generator, Link, Person, Text,
    WriteConfig,
};
use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;

use super::xml::{clean, clean_nonempty};
use super::{Channel, Entry};

const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Renders `entries` (in the given order) as an Atom 1.0 document.
pub fn atom(channel: &Channel, entries: &[Entry], tz: Tz) -> String {
    let channel_title = clean(&channel.title);
    let mut links = vec![Link {
        href: clean(&channel.self_url),
        rel: "self".to_owned(),
        mime_type: Some("application/atom+xml".to_owned()),
        ..Link::default()
    }];
    if let Some(link) = clean_nonempty(Some(&channel.link)) {
        links.push(Link {
            href: link,
            rel: "alternate".to_owned(),
            ..Link::default()
        });
    }
    let feed = Feed {
        title: Text::plain(channel_title.clone()),
        id: clean(&channel.self_url),
        updated: in_zone(channel.updated.unwrap_or(DateTime::UNIX_EPOCH), tz),
        generator: Some(Generator {
            value: "portalfeed".to_owned(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
        links,
        subtitle: clean_nonempty(Some(&channel.description)).map(Text::plain),
        entries: entries
            .iter()
            .map(|e| entry(e, &channel_title, tz))
            .collect(),
        lang: Some("zh-CN".to_owned()),
        ..Feed::default()
    };
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: None,
    };
    // Writing into a Vec cannot fail and the crate writes only UTF-8; should either ever happen,
    // an empty body (which the web layer serves as an error) beats a panic in a request.
    let body = feed
        .write_with_config(Vec::new(), config)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    if body.is_empty() {
        body
    } else {
        format!("{DECL}\n{body}")
    }
}

fn entry(entry: &Entry, channel_title: &str, tz: Tz) -> AtomEntry {
    let url = clean(&entry.url);
    let author = clean_nonempty(entry.author.as_deref())
        .or_else(|| clean_nonempty(entry.origin.as_deref()))
        .or_else(|| clean_nonempty(Some(channel_title)))
        .unwrap_or_else(|| "portalfeed".to_owned());

    let mut links = vec![Link {
        href: url.clone(),
        rel: "alternate".to_owned(),
        ..Link::default()
    }];
    links.extend(entry.attachments.iter().filter_map(|a| {
        Some(Link {
            href: clean_nonempty(Some(&a.url))?,
            rel: "enclosure".to_owned(),
            mime_type: Some(
                clean_nonempty(Some(&a.mime))
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
            ),
            title: clean_nonempty(Some(&a.name)),
            ..Link::default()
        })
    }));

    AtomEntry {
        title: Text::plain(clean(&entry.title)),
        id: url,
        updated: in_zone(entry.updated, tz),
        authors: vec![Person {
            name: author,
            ..Person::default()
        }],
        categories: entry
            .categories
            .iter()
            .filter_map(|c| clean_nonempty(Some(c)))
            .map(|term| Category {
                term,
                ..Category::default()
            })
            .collect(),
        links,
        published: entry.published.map(|p| in_zone(p, tz)),
        summary: clean_nonempty(entry.summary.as_deref()).map(Text::plain),
        content: clean_nonempty(entry.content_html.as_deref()).map(|html| Content {
            value: Some(html),
            content_type: Some("html".to_owned()),
            ..Content::default()
        }),
        ..AtomEntry::default()
    }
}

/// `instant` in `tz` with whole seconds, which `atom_syndication` writes as RFC 3339 with the
/// zone's offset.
fn in_zone(instant: DateTime<Utc>, tz: Tz) -> FixedDateTime {
    instant.trunc_subsecs(0).with_timezone(&tz).fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_rfc3339_in_the_zone() {
        let t =
            Utc.with_ymd_and_hms(2024, 3, 5, 0, 42, 0).unwrap() + chrono::Duration::milliseconds(5);
        assert_eq!(
            in_zone(t, chrono_tz::Asia::Shanghai).to_rfc3339(),
            "2024-03-05T08:42:00+08:00"
        );
        assert_eq!(
            in_zone(t, chrono_tz::UTC).to_rfc3339(),
            "2024-03-05T00:42:00+00:00"
        );
    }

    #[test]
    fn empty_feed_is_dated_at_the_epoch() {
        let channel = Channel {
            title: "空".into(),
            link: String::new(),
            description: String::new(),
            self_url: "https://feeds.example/empty.atom".into(),
            home_url: String::new(),
            ttl_minutes: None,
            updated: None,
        };
        let xml = atom(&channel, &[], chrono_tz::Asia::Shanghai);
        assert!(
            xml.contains("<updated>1970-01-01T08:00:00+08:00</updated>"),
            "{xml}"
        );
        assert!(!xml.contains("rel=\"alternate\""), "{xml}");
        assert!(!xml.contains("<subtitle"), "{xml}");
    }
}
