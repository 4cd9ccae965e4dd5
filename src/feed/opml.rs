//! OPML 2.0 subscription list (<http://opml.org/spec2.opml>), written by hand.
//!
//! Promises:
//! - A UTF-8 document starting `<?xml version="1.0" encoding="UTF-8"?>`, then
//!   `<opml version="2.0"><head><title>…</title></head><body>` and one
//!   `<outline type="rss" text="…" title="…" xmlUrl="…" htmlUrl="…"/>` per feed, in the given
//!   order, indented two spaces per level, one element per line.
//! - Byte-identical for identical input: no `dateCreated`/`dateModified` (they would change the
//!   bytes and the ETag without any change in the list).
//! - All text and attribute values are cleaned of characters XML 1.0 forbids and escaped
//!   ([`super::xml::escape`]), so `&`, `<`, `"` and `'` in titles or URLs are safe.
//!
//! Edge cases: `text` is required by OPML, so a feed with an empty title uses its `xmlUrl` as
//! `text` and `title`; `htmlUrl` (optional) is left out when empty.

use std::fmt::Write as _;

use super::xml::{clean, clean_nonempty, escape};

/// One subscription in an OPML list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// Shown as the outline's `text` and `title`.
    pub title: String,
    /// The feed's URL (`xmlUrl`).
    pub xml_url: String,
    /// The page the feed mirrors (`htmlUrl`).
    pub html_url: String,
}

/// Renders `feeds` (in the given order) as an OPML 2.0 document titled `title`.
pub fn opml(title: &str, feeds: &[OpmlFeed]) -> String {
    let mut out = String::with_capacity(200 + feeds.len() * 200);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<opml version=\"2.0\">\n");
    out.push_str("  <head>\n");
    let _ = writeln!(out, "    <title>{}</title>", escape(title));
    out.push_str("  </head>\n");
    out.push_str("  <body>\n");
    for feed in feeds {
        let xml_url = clean(&feed.xml_url);
        let text = escape(&clean_nonempty(Some(&feed.title)).unwrap_or_else(|| xml_url.clone()));
        let _ = write!(
            out,
            "    <outline type=\"rss\" text=\"{text}\" title=\"{text}\" xmlUrl=\"{}\"",
            escape(&xml_url)
        );
        if let Some(html_url) = clean_nonempty(Some(&feed.html_url)) {
            let _ = write!(out, " htmlUrl=\"{}\"", escape(&html_url));
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n");
    out.push_str("</opml>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_escaped_outlines() {
        let doc = opml(
            "政务 & \"公开\"",
            &[
                OpmlFeed {
                    title: "通知\u{8}公告".into(),
                    xml_url: "https://f.example/s/tzgg.xml?a=1&b=\"2\"".into(),
                    html_url: "https://www.xining.gov.cn/zwgk/tzgg/".into(),
                },
                OpmlFeed {
                    title: " ".into(),
                    xml_url: "https://f.example/all.xml".into(),
                    html_url: String::new(),
                },
            ],
        );
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <opml version=\"2.0\">\n  <head>\n    <title>政务 &amp; &quot;公开&quot;</title>\n  </head>\n  <body>\n    \
             <outline type=\"rss\" text=\"通知公告\" title=\"通知公告\" xmlUrl=\"https://f.example/s/tzgg.xml?a=1&amp;b=&quot;2&quot;\" htmlUrl=\"https://www.xining.gov.cn/zwgk/tzgg/\"/>\n    \
             <outline type=\"rss\" text=\"https://f.example/all.xml\" title=\"https://f.example/all.xml\" xmlUrl=\"https://f.example/all.xml\"/>\n  \
             </body>\n</opml>\n"
        );
    }

    #[test]
    fn empty_list_is_a_valid_document() {
        let doc = opml("", &[]);
        assert!(doc.contains("<title></title>"));
        assert!(doc.contains("<body>\n  </body>"));
    }
}
