//! RSS 2.0 writer (built with the `rss` crate).
//!
//! Promises, for a [`Channel`] and its [`Entry`]s rendered in a time zone:
//! - A UTF-8 document starting `<?xml version="1.0" encoding="UTF-8"?>`, byte-identical for
//!   identical input (no clock, no hash-map order), so the web layer can hash it into an ETag.
//! - Channel: `title`, `link` (the portal section), `description`, `language` `zh-CN`,
//!   `atom:link rel="self" type="application/rss+xml"` to [`Channel::self_url`], `generator`
//!   `portalfeed <version>`, `ttl` when known, `lastBuildDate` = [`Channel::updated`] (omitted for
//!   `None`, never "now"), `pubDate` = the newest item's date (omitted for an empty feed).
//! - Items, in the caller's order: `title`, `link` and `guid isPermaLink="true"` = the article URL,
//!   `description`, `content:encoded`, `pubDate` (`published`, else `updated`), categories, the first
//!   attachment as `enclosure`, `author`/`dc:creator`, `dc:publisher`.
//! - Dates are RFC 822 with a two-digit day, a four-digit year and a numeric offset in the given
//!   zone: `Tue, 05 Mar 2024 08:42:00 +0800`. Sub-second parts are dropped.
//! - Every string has the characters XML 1.0 forbids removed ([`super::xml::clean`]).
//!
//! Edge cases and why:
//! - `guid`: the `rss` crate omits `isPermaLink` when it is true (the default), which readers
//!   honour but validators and our contract want spelled out, so the guid is emitted through the
//!   crate's generic extension element with the attribute set explicitly.
//! - `author`: RSS 2.0 defines it as the author's *email address* (`a@b.cn` or `a@b.cn (Name)`).
//!   Portal bylines are names (张三), so anything that is not an email goes to `dc:creator`
//!   (Dublin Core, `http://purl.org/dc/elements/1.1/`) instead.
//! - 来源 ([`Entry::origin`]) goes to `dc:publisher`, not `<source>`: RSS `<source>` names the RSS
//!   channel an item was republished from and requires that channel's URL.
//! - Attachments: RSS 2.0 allows one `enclosure` per item, so only the first attachment (with a
//!   URL) is one; its `length` is `0` because the size is unknown without downloading the file,
//!   and the RSS Advisory Board says to use 0 then (the attribute is required). Its `type` is the
//!   attachment's MIME type, `application/octet-stream` when that is empty. All attachments are
//!   also listed at the end of `description` and `content:encoded` as
//!   `<p>附件：<a href="…">name</a></p>` so that none is lost.
//! - `description` is the body HTML; without a body it is the plain-text summary, HTML-escaped
//!   (readers treat `description` as HTML); with neither it holds only the attachment list, or is
//!   omitted. `content:encoded` is written only when there is a body.
//! - Empty or whitespace-only optional values (author, 来源, summary, categories) are omitted
//!   rather than written as empty elements.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::{Extension, ExtensionMap};
use rss::{Category, Enclosure, Item};

use super::xml::{clean, clean_nonempty, escape};
use super::{Channel, Entry};
use crate::extract::Attachment;

/// The declaration the `rss` crate writes (encoding names are case-insensitive in XML)…
const CRATE_DECL: &str = r#"<?xml version="1.0" encoding="utf-8"?>"#;
/// …and the one we promise, the same in every XML format we write.
const DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Renders `entries` (in the given order) as an RSS 2.0 document.
pub fn rss(channel: &Channel, entries: &[Entry], tz: Tz) -> String {
    let newest = entries.iter().map(item_date).max();
    let doc = rss::Channel {
        title: clean(&channel.title),
        link: clean(&channel.link),
        description: clean(&channel.description),
        language: Some("zh-CN".to_owned()),
        pub_date: newest.map(|d| rfc822(d, tz)),
        last_build_date: channel.updated.map(|d| rfc822(d, tz)),
        generator: Some(format!("portalfeed {}", env!("CARGO_PKG_VERSION"))),
        ttl: channel.ttl_minutes.map(|m| m.to_string()),
        items: entries.iter().map(|e| item(e, tz)).collect(),
        atom_ext: Some(AtomExtension {
            links: vec![Link {
                href: clean(&channel.self_url),
                rel: "self".to_owned(),
                mime_type: Some("application/rss+xml".to_owned()),
                ..Link::default()
            }],
        }),
        ..rss::Channel::default()
    };
    // Writing into a Vec cannot fail and the crate writes only UTF-8; should either ever happen,
    // an empty body (which the web layer serves as an error) beats a panic in a request.
    let xml = doc
        .write_to(Vec::new())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default();
    match xml.strip_prefix(CRATE_DECL) {
        Some(rest) => format!("{DECL}\n{rest}"),
        None => xml,
    }
}

/// The date an item is listed under: when it was published, else when it last changed.
fn item_date(entry: &Entry) -> DateTime<Utc> {
    entry.published.unwrap_or(entry.updated)
}

fn item(entry: &Entry, tz: Tz) -> Item {
    let url = clean_nonempty(Some(&entry.url));
    let body = clean_nonempty(entry.content_html.as_deref());
    let summary = clean_nonempty(entry.summary.as_deref());
    let listing = attachment_list(&entry.attachments);

    let description = match (&body, &summary) {
        (Some(body), _) => Some(format!("{body}{listing}")),
        (None, Some(summary)) => Some(format!("{}{listing}", escape(summary))),
        (None, None) => Some(listing.clone()).filter(|l| !l.is_empty()),
    };
    let content = body.map(|body| format!("{body}{listing}"));

    let (author, creator) = match clean_nonempty(entry.author.as_deref()) {
        Some(a) if is_email(a.trim()) => (Some(a.trim().to_owned()), None),
        Some(a) => (None, Some(a)),
        None => (None, None),
    };
    let publisher = clean_nonempty(entry.origin.as_deref());
    let dublin_core_ext = (creator.is_some() || publisher.is_some()).then(|| DublinCoreExtension {
        creators: creator.into_iter().collect(),
        publishers: publisher.into_iter().collect(),
        ..DublinCoreExtension::default()
    });

    let mut extensions = ExtensionMap::new();
    if let Some(url) = &url {
        let guid = Extension {
            name: "guid".to_owned(),
            value: Some(url.clone()),
            attrs: BTreeMap::from([("isPermaLink".to_owned(), "true".to_owned())]),
            children: BTreeMap::new(),
        };
        extensions.insert(
            String::new(),
            BTreeMap::from([("guid".to_owned(), vec![guid])]),
        );
    }

    Item {
        title: Some(clean(&entry.title)),
        link: url,
        description,
        author,
        categories: entry
            .categories
            .iter()
            .filter_map(|c| clean_nonempty(Some(c)))
            .map(|name| Category { name, domain: None })
            .collect(),
        enclosure: entry.attachments.iter().find_map(enclosure),
        pub_date: Some(rfc822(item_date(entry), tz)),
        content,
        extensions,
        dublin_core_ext,
        ..Item::default()
    }
}

/// `attachment` as an RSS enclosure, unless it has no URL.
fn enclosure(attachment: &Attachment) -> Option<Enclosure> {
    Some(Enclosure {
        url: clean_nonempty(Some(&attachment.url))?,
        length: "0".to_owned(),
        mime_type: clean_nonempty(Some(&attachment.mime))
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
    })
}

/// One `<p>附件：<a href="…">name</a></p>` per attachment with a URL (the URL stands in for a
/// missing name).
fn attachment_list(attachments: &[Attachment]) -> String {
    let mut html = String::new();
    for attachment in attachments {
        let Some(url) = clean_nonempty(Some(&attachment.url)) else {
            continue;
        };
        let name = clean_nonempty(Some(&attachment.name)).unwrap_or_else(|| url.clone());
        let _ = write!(
            html,
            "<p>附件：<a href=\"{}\">{}</a></p>",
            escape(&url),
            escape(&name)
        );
    }
    html
}

/// Whether `s` is what RSS 2.0 wants in `author`: `user@host.tld`, optionally followed by
/// ` (Name)`.
fn is_email(s: &str) -> bool {
    let (address, rest) = match s.split_once(char::is_whitespace) {
        Some((address, rest)) => (address, Some(rest.trim())),
        None => (s, None),
    };
    if let Some(rest) = rest
        && !(rest.len() > 2 && rest.starts_with('(') && rest.ends_with(')'))
    {
        return false;
    }
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| !c.is_control() && !"@<>()[]\\,;:\"".contains(c))
    };
    plain(local)
        && plain(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// RFC 822 (as profiled by RSS 2.0): `Tue, 05 Mar 2024 08:42:00 +0800`.
///
/// Formatted by hand rather than with `to_rfc2822()`, which writes a one-digit day (`Tue, 5 Mar`)
/// and panics on years outside 0–9999; such years (which no portal article has) come out with
/// chrono's signed year instead of a panic.
fn rfc822(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.trunc_subsecs(0).with_timezone(&tz);
    let mut out = String::with_capacity(31);
    let _ = write!(out, "{}", local.format("%a, %d %b %Y %H:%M:%S %z"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rfc822_has_two_digit_day_and_numeric_offset() {
        let t = Utc.with_ymd_and_hms(2024, 3, 5, 0, 42, 0).unwrap();
        assert_eq!(
            rfc822(t, chrono_tz::Asia::Shanghai),
            "Tue, 05 Mar 2024 08:42:00 +0800"
        );
        assert_eq!(rfc822(t, chrono_tz::UTC), "Tue, 05 Mar 2024 00:42:00 +0000");
        assert_eq!(
            rfc822(t + chrono::Duration::milliseconds(999), chrono_tz::UTC),
            "Tue, 05 Mar 2024 00:42:00 +0000"
        );
        let summer = Utc.with_ymd_and_hms(2024, 7, 1, 12, 0, 0).unwrap();
        assert_eq!(
            rfc822(summer, chrono_tz::America::New_York),
            "Mon, 01 Jul 2024 08:00:00 -0400"
        );
    }

    #[test]
    fn rfc822_does_not_panic_on_far_years() {
        let far = Utc.with_ymd_and_hms(12345, 1, 1, 0, 0, 0).unwrap();
        assert!(!rfc822(far, chrono_tz::UTC).is_empty());
    }

    #[test]
    fn only_email_addresses_count_as_rss_authors() {
        for yes in [
            "a@b.cn",
            "press@xining.gov.cn (新闻办)",
            "x.y+z@mail.example.org",
        ] {
            assert!(is_email(yes), "{yes}");
        }
        for no in [
            "张三",
            "",
            "@b.cn",
            "a@",
            "a@localhost",
            "a@b.cn 张三",
            "a@@b.cn",
            "a@.cn",
            "a@b..cn",
            "记者 张三",
            "<a@b.cn>",
        ] {
            assert!(!is_email(no), "{no}");
        }
    }

    #[test]
    fn attachment_list_escapes_and_skips_url_less_files() {
        let list = attachment_list(&[
            Attachment {
                name: "表1 \"汇总\".xlsx".into(),
                url: "https://x.gov.cn/f?a=1&b=2".into(),
                mime: String::new(),
            },
            Attachment {
                name: "无链接".into(),
                url: " ".into(),
                mime: String::new(),
            },
            Attachment {
                name: String::new(),
                url: "https://x.gov.cn/b.pdf".into(),
                mime: String::new(),
            },
        ]);
        assert_eq!(
            list,
            "<p>附件：<a href=\"https://x.gov.cn/f?a=1&amp;b=2\">表1 &quot;汇总&quot;.xlsx</a></p>\
             <p>附件：<a href=\"https://x.gov.cn/b.pdf\">https://x.gov.cn/b.pdf</a></p>"
        );
        let enc = enclosure(&Attachment {
            name: String::new(),
            url: "u".into(),
            mime: " ".into(),
        });
        assert_eq!(
            enc.map(|e| e.mime_type),
            Some("application/octet-stream".to_owned())
        );
    }
}
