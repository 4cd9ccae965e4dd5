//! The feed writers against an independent parser (feed-rs): a channel with three Chinese items
//! is rendered as RSS 2.0, Atom 1.0 and JSON Feed 1.1 and read back; OPML is checked as text and
//! for well-formedness. No fixtures: the data is built here.

use chrono::{DateTime, TimeZone, Utc};
use feed_rs::model::{Entry as ParsedEntry, Feed as ParsedFeed, FeedType};
use portalfeed::extract::Attachment;
use portalfeed::feed::{Channel, Entry, OpmlFeed, atom, json_feed, opml, rss};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
const SELF_URL: &str = "https://feeds.example.org/s/ttxw/feed?format=x&v=1";
const LINK: &str = "https://www.xining.gov.cn/xwdt/ttxw/";
const URL1: &str = "https://www.xining.gov.cn/xwdt/ttxw/202403/t20240305_180001.html";
const URL2: &str = "https://www.xining.gov.cn/zwgk/tzgg/202403/t20240304_180002.html";
const URL3: &str = "https://www.xining.gov.cn/xwdt/ttxw/202403/t20240304_180003.html";
const PDF: &str = "https://www.xining.gov.cn/zwgk/fj/P020240305375812345678.pdf";
const XLSX: &str = "https://www.xining.gov.cn/zwgk/fj/download.jsp?id=2&type=xlsx";
const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const BODY1: &str = "<p>3月5日上午，西宁市召开春季植树动员大会。</p><p><img src=\"https://www.xining.gov.cn/images/zs.jpg\" alt=\"会场\"></p>";

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn published1() -> DateTime<Utc> {
    at(2024, 3, 5, 0, 42) // 08:42 in Shanghai
}
fn updated1() -> DateTime<Utc> {
    at(2024, 3, 6, 2, 0) // 10:00 in Shanghai
}
fn updated2() -> DateTime<Utc> {
    at(2024, 3, 4, 1, 30) // 09:30
}
fn published3() -> DateTime<Utc> {
    at(2024, 3, 4, 7, 5) // 15:05
}

fn channel() -> Channel {
    Channel {
        title: "头条新闻".into(),
        link: LINK.into(),
        description: "西宁市人民政府门户网站「头条新闻」栏目".into(),
        self_url: SELF_URL.into(),
        home_url: "https://feeds.example.org/".into(),
        ttl_minutes: Some(20),
        updated: Some(updated1()),
    }
}

fn entries() -> Vec<Entry> {
    vec![
        Entry {
            id: "0123456789abcdef0123456789abcdef".into(),
            url: URL1.into(),
            title: "西宁市召开\u{8}春季植树动员大会".into(),
            published: Some(published1()),
            updated: updated1(),
            content_html: Some(BODY1.into()),
            summary: Some("3月5日上午，西宁市召开春季植树动员大会。".into()),
            author: Some("张三".into()),
            origin: Some("西宁日报".into()),
            categories: vec!["头条新闻".into(), "图片新闻".into()],
            attachments: vec![
                Attachment {
                    name: "植树计划.pdf".into(),
                    url: PDF.into(),
                    mime: "application/pdf".into(),
                },
                Attachment {
                    name: "任务分解表.xlsx".into(),
                    url: XLSX.into(),
                    mime: XLSX_MIME.into(),
                },
            ],
        },
        Entry {
            id: "11111111111111111111111111111111".into(),
            url: URL2.into(),
            title: "关于2024年清明节放假安排的通知".into(),
            published: None,
            updated: updated2(),
            content_html: None,
            summary: Some("4月4日至6日放假调休，共3天。".into()),
            author: None,
            origin: None,
            categories: vec!["通知公告".into()],
            attachments: vec![],
        },
        Entry {
            id: "22222222222222222222222222222222".into(),
            url: URL3.into(),
            title: "全市安全生产工作会议召开".into(),
            published: Some(published3()),
            updated: published3(),
            content_html: Some("<p>会议要求，压实安全生产责任。</p>".into()),
            summary: None,
            author: Some("xwb@xining.gov.cn (市政府新闻办)".into()),
            origin: None,
            categories: vec!["头条新闻".into()],
            attachments: vec![],
        },
    ]
}

fn empty_channel() -> Channel {
    Channel {
        ttl_minutes: None,
        updated: None,
        ..channel()
    }
}

fn parse(text: &str) -> ParsedFeed {
    feed_rs::parser::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn titles(feed: &ParsedFeed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect()
}

fn category_terms(entry: &ParsedEntry) -> Vec<&str> {
    entry.categories.iter().map(|c| c.term.as_str()).collect()
}

fn author_names(entry: &ParsedEntry) -> Vec<&str> {
    entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect()
}

fn expected_titles() -> Vec<String> {
    vec![
        "西宁市召开春季植树动员大会".to_owned(),
        "关于2024年清明节放假安排的通知".to_owned(),
        "全市安全生产工作会议召开".to_owned(),
    ]
}

/// The attachment listing the RSS writer appends to item 1's description and content.
fn listing1() -> String {
    format!(
        "<p>附件：<a href=\"{PDF}\">植树计划.pdf</a></p><p>附件：<a href=\"{}\">任务分解表.xlsx</a></p>",
        XLSX.replace('&', "&amp;")
    )
}

// ---------------------------------------------------------------------------------------------
// A small XML 1.0 well-formedness checker (quick-xml is not a direct dependency): balanced tags,
// one root, quoted attributes without `<`, only defined entities, only allowed characters,
// CDATA and comments skipped.

fn check_entities(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        let tail = &rest[i + 1..];
        let end = tail
            .find(';')
            .ok_or_else(|| format!("unterminated entity in {s:?}"))?;
        let name = &tail[..end];
        let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
            || name
                .strip_prefix("#x")
                .is_some_and(|h| u32::from_str_radix(h, 16).is_ok())
            || name
                .strip_prefix('#')
                .is_some_and(|d| d.parse::<u32>().is_ok());
        if !ok {
            return Err(format!("bad entity &{name}; in {s:?}"));
        }
        rest = &tail[end + 1..];
    }
    Ok(())
}

fn assert_well_formed(doc: &str) {
    if let Err(e) = well_formed(doc) {
        panic!("not well-formed XML: {e}\n{doc}");
    }
}

fn well_formed(doc: &str) -> Result<(), String> {
    let bad = doc.chars().find(|&c| {
        !matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    });
    if let Some(c) = bad {
        return Err(format!("forbidden character {c:?}"));
    }
    let mut rest = doc
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .ok_or("no UTF-8 declaration")?;
    let mut stack: Vec<&str> = Vec::new();
    let mut roots = 0;
    loop {
        let Some(lt) = rest.find('<') else {
            if !rest.trim().is_empty() && stack.is_empty() {
                return Err(format!("text after the root: {rest:?}"));
            }
            check_entities(rest)?;
            break;
        };
        let text = &rest[..lt];
        if stack.is_empty() && !text.trim().is_empty() {
            return Err(format!("text outside the root: {text:?}"));
        }
        if text.contains('>') && text.contains("]]>") {
            return Err("]]> in text".into());
        }
        check_entities(text)?;
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").ok_or("unterminated CDATA")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unterminated end tag")?;
            let name = after[..end].trim();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            rest = &after[end + 1..];
        } else {
            let after = &rest[1..];
            // Find the tag's end outside quoted attribute values.
            let (mut quote, mut end) = (None, None);
            for (i, c) in after.char_indices() {
                match (quote, c) {
                    (None, '"' | '\'') => quote = Some(c),
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), '<') => return Err("< in attribute value".into()),
                    (None, '>') => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("unterminated start tag")?;
            let inner = &after[..end];
            let (inner, empty) = match inner.strip_suffix('/') {
                Some(inner) => (inner, true),
                None => (inner, false),
            };
            let name_end = inner.find(char::is_whitespace).unwrap_or(inner.len());
            let name = &inner[..name_end];
            if name.is_empty() {
                return Err("empty tag name".into());
            }
            check_attributes(&inner[name_end..])?;
            if stack.is_empty() {
                roots += 1;
            }
            if !empty {
                stack.push(name);
            }
            rest = &after[end + 1..];
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    if roots != 1 {
        return Err(format!("{roots} root elements"));
    }
    Ok(())
}

fn check_attributes(mut s: &str) -> Result<(), String> {
    let mut seen = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(());
        }
        let eq = s
            .find('=')
            .ok_or_else(|| format!("attribute without value: {s:?}"))?;
        let name = s[..eq].trim();
        if name.is_empty() || name.contains(char::is_whitespace) || seen.contains(&name) {
            return Err(format!("bad or repeated attribute name {name:?}"));
        }
        seen.push(name);
        let value = s[eq + 1..].trim_start();
        let q = value
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\''))
            .ok_or("unquoted attribute")?;
        let close = value[1..].find(q).ok_or("unterminated attribute")?;
        check_entities(&value[1..1 + close])?;
        s = &value[close + 2..];
    }
}

#[test]
fn the_checker_rejects_broken_xml() {
    let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    assert!(well_formed(&format!("{decl}<a x=\"1\"><b/>t&amp;<![CDATA[<&]]></a>")).is_ok());
    for bad in [
        "<a><b></a></b>",
        "<a>&</a>",
        "<a x=1/>",
        "<a x=\"<\"/>",
        "<a/><b/>",
        "<a>\u{8}</a>",
        "<a>",
        "<a>&nbsp;</a>",
    ] {
        assert!(well_formed(&format!("{decl}{bad}")).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// RSS 2.0

#[test]
fn rss_round_trips_through_feed_rs() {
    let xml = rss(&channel(), &entries(), TZ);
    assert_well_formed(&xml);
    assert!(!xml.contains('\u{8}'));
    let feed = parse(&xml);
    assert_eq!(feed.feed_type, FeedType::RSS2);
    assert_eq!(feed.title.as_ref().unwrap().content, "头条新闻");
    assert_eq!(
        feed.description.as_ref().unwrap().content,
        "西宁市人民政府门户网站「头条新闻」栏目"
    );
    assert_eq!(feed.language.as_deref(), Some("zh-cn")); // feed-rs lower-cases it
    assert_eq!(feed.ttl, Some(20));
    assert_eq!(feed.updated, Some(updated1()));
    assert_eq!(
        feed.published,
        Some(published1()),
        "pubDate is the newest item's date"
    );
    let generator = feed.generator.as_ref().unwrap();
    assert_eq!(
        generator.content,
        format!("portalfeed {}", env!("CARGO_PKG_VERSION"))
    );
    let hrefs: Vec<&str> = feed.links.iter().map(|l| l.href.as_str()).collect();
    assert!(
        hrefs.contains(&LINK) && hrefs.contains(&SELF_URL),
        "{hrefs:?}"
    );
    let self_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self"))
        .unwrap();
    assert_eq!(self_link.media_type.as_deref(), Some("application/rss+xml"));

    assert_eq!(titles(&feed), expected_titles());
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [URL1, URL2, URL3]);

    let [e1, e2, e3] = &feed.entries[..] else {
        panic!("three items")
    };
    assert_eq!(e1.links[0].href, URL1);
    assert_eq!(e1.published, Some(published1()));
    assert_eq!(
        e2.published,
        Some(updated2()),
        "no publication date: the last change stands in"
    );
    assert_eq!(e3.published, Some(published3()));

    let content1 = e1.content.as_ref().unwrap().body.as_deref().unwrap();
    assert_eq!(content1, format!("{BODY1}{}", listing1()));
    assert_eq!(
        e1.summary.as_ref().unwrap().content,
        format!("{BODY1}{}", listing1())
    );
    assert!(e2.content.is_none(), "no body, no content:encoded");
    assert_eq!(
        e2.summary.as_ref().unwrap().content,
        "4月4日至6日放假调休，共3天。"
    );

    assert_eq!(category_terms(e1), ["头条新闻", "图片新闻"]);
    assert_eq!(category_terms(e2), ["通知公告"]);

    // One enclosure: the first attachment.
    assert_eq!(e1.media.len(), 1);
    let media = &e1.media[0].content;
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].url.as_ref().unwrap().as_str(), PDF);
    assert_eq!(
        media[0].content_type.as_ref().unwrap().to_string(),
        "application/pdf"
    );
    assert!(e2.media.is_empty() && e3.media.is_empty());

    // A byline goes to dc:creator, an email address to author.
    assert_eq!(author_names(e1), ["张三"]);
    assert!(e2.authors.is_empty());
    assert_eq!(e3.authors.len(), 1);
    assert_eq!(e3.authors[0].email.as_deref(), Some("xwb@xining.gov.cn"));
}

#[test]
fn rss_raw_text_is_to_the_letter() {
    let xml = rss(&channel(), &entries(), TZ);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\""),
        "{xml}"
    );
    for ns in [
        "xmlns:atom=\"http://www.w3.org/2005/Atom\"",
        "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"",
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"",
    ] {
        assert!(xml.contains(ns), "{ns}");
    }
    for needle in [
        "<language>zh-CN</language>".to_owned(),
        "<ttl>20</ttl>".to_owned(),
        format!("<generator>portalfeed {}</generator>", env!("CARGO_PKG_VERSION")),
        "<atom:link href=\"https://feeds.example.org/s/ttxw/feed?format=x&amp;v=1\" rel=\"self\" type=\"application/rss+xml\"/>".to_owned(),
        "<lastBuildDate>Wed, 06 Mar 2024 10:00:00 +0800</lastBuildDate>".to_owned(),
        "<pubDate>Tue, 05 Mar 2024 08:42:00 +0800</pubDate>".to_owned(),
        "<pubDate>Mon, 04 Mar 2024 09:30:00 +0800</pubDate>".to_owned(),
        "<pubDate>Mon, 04 Mar 2024 15:05:00 +0800</pubDate>".to_owned(),
        format!("<guid isPermaLink=\"true\">{URL1}</guid>"),
        format!("<enclosure url=\"{PDF}\" length=\"0\" type=\"application/pdf\"/>"),
        "<dc:creator>张三</dc:creator>".to_owned(),
        "<dc:publisher>西宁日报</dc:publisher>".to_owned(),
        "<author>xwb@xining.gov.cn (市政府新闻办)</author>".to_owned(),
        "<category>图片新闻</category>".to_owned(),
    ] {
        assert!(xml.contains(&needle), "missing {needle}\n{xml}");
    }
    assert_eq!(xml.matches("isPermaLink=\"true\"").count(), 3);
    assert!(
        !xml.contains("<source"),
        "来源 is dc:publisher, not <source>"
    );
    assert!(!xml.contains("GMT"));
    let items: Vec<&str> = xml.split("<item>").skip(1).collect();
    assert_eq!(items.len(), 3);
    for item in &items {
        assert!(item.matches("<enclosure").count() <= 1, "{item}");
    }
    assert!(
        !items[0].contains("<author>"),
        "a name is not an RSS author"
    );
    // The channel's own dates come before the first item.
    let head = xml.split("<item>").next().unwrap();
    assert!(head.contains("<pubDate>Tue, 05 Mar 2024 08:42:00 +0800</pubDate>"));
}

#[test]
fn cdata_terminator_in_a_body_survives() {
    let mut e = entries().remove(2);
    e.content_html = Some("<p>a]]>b</p>".into());
    let xml = rss(&channel(), &[e.clone()], TZ);
    assert_well_formed(&xml);
    let parsed = parse(&xml);
    assert_eq!(
        parsed.entries[0].content.as_ref().unwrap().body.as_deref(),
        Some("<p>a]]>b</p>")
    );
    let xml = atom(&channel(), &[e], TZ);
    let parsed = parse(&xml);
    assert_eq!(
        parsed.entries[0].content.as_ref().unwrap().body.as_deref(),
        Some("<p>a]]>b</p>")
    );
}

#[test]
fn rss_is_readable_by_the_rss_crate_too() {
    let xml = rss(&channel(), &entries(), TZ);
    let read = ::rss::Channel::read_from(xml.as_bytes()).unwrap();
    assert_eq!(read.items().len(), 3);
    let guid = read.items()[0].guid().unwrap();
    assert!(guid.is_permalink());
    assert_eq!(guid.value(), URL1);
    let dc = read.items()[0].dublin_core_ext().unwrap();
    assert_eq!(dc.creators(), ["张三"]);
    assert_eq!(dc.publishers(), ["西宁日报"]);
}

#[test]
fn rss_empty_feed_is_valid_and_undated() {
    let xml = rss(&empty_channel(), &[], TZ);
    assert_well_formed(&xml);
    let feed = parse(&xml);
    assert!(feed.entries.is_empty());
    assert_eq!(feed.title.as_ref().unwrap().content, "头条新闻");
    assert!(!xml.contains("<lastBuildDate") && !xml.contains("<pubDate") && !xml.contains("<ttl"));
    assert!(!xml.contains("xmlns:content") && !xml.contains("xmlns:dc"));
}

// ---------------------------------------------------------------------------------------------
// Atom 1.0

#[test]
fn atom_round_trips_through_feed_rs() {
    let xml = atom(&channel(), &entries(), TZ);
    assert_well_formed(&xml);
    assert!(!xml.contains('\u{8}'));
    let feed = parse(&xml);
    assert_eq!(feed.feed_type, FeedType::Atom);
    assert_eq!(feed.id, SELF_URL);
    assert_eq!(feed.title.as_ref().unwrap().content, "头条新闻");
    assert_eq!(
        feed.description.as_ref().unwrap().content,
        "西宁市人民政府门户网站「头条新闻」栏目"
    );
    assert_eq!(feed.updated, Some(updated1()));
    let generator = feed.generator.as_ref().unwrap();
    assert_eq!(generator.content, "portalfeed");
    assert_eq!(
        generator.version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    let self_link = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("self"))
        .unwrap();
    assert_eq!(self_link.href, SELF_URL);
    assert_eq!(
        self_link.media_type.as_deref(),
        Some("application/atom+xml")
    );
    let alternate = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .unwrap();
    assert_eq!(alternate.href, LINK);

    assert_eq!(titles(&feed), expected_titles());
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [URL1, URL2, URL3]);
    let [e1, e2, e3] = &feed.entries[..] else {
        panic!("three entries")
    };

    let alt = |e: &ParsedEntry| {
        e.links
            .iter()
            .find(|l| l.rel.as_deref() == Some("alternate"))
            .unwrap()
            .href
            .clone()
    };
    assert_eq!(alt(e1), URL1);
    assert_eq!(e1.published, Some(published1()));
    assert_eq!(e1.updated, Some(updated1()));
    assert_eq!(e2.published, None);
    assert_eq!(e2.updated, Some(updated2()));
    assert_eq!(e3.published, Some(published3()));

    let content = e1.content.as_ref().unwrap();
    assert_eq!(content.body.as_deref(), Some(BODY1));
    assert_eq!(content.content_type.to_string(), "text/html");
    assert_eq!(
        e1.summary.as_ref().unwrap().content,
        "3月5日上午，西宁市召开春季植树动员大会。"
    );
    assert!(e2.content.is_none());
    assert_eq!(
        e2.summary.as_ref().unwrap().content,
        "4月4日至6日放假调休，共3天。"
    );
    assert!(e3.summary.is_none());

    assert_eq!(category_terms(e1), ["头条新闻", "图片新闻"]);
    assert_eq!(category_terms(e3), ["头条新闻"]);

    let enclosures: Vec<(&str, Option<&str>, Option<&str>)> = e1
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure"))
        .map(|l| (l.href.as_str(), l.media_type.as_deref(), l.title.as_deref()))
        .collect();
    assert_eq!(
        enclosures,
        [
            (PDF, Some("application/pdf"), Some("植树计划.pdf")),
            (XLSX, Some(XLSX_MIME), Some("任务分解表.xlsx"))
        ]
    );

    // Every entry has an author: the byline, else 来源, else the channel title.
    assert_eq!(author_names(e1), ["张三"]);
    assert_eq!(author_names(e2), ["头条新闻"]);
    assert_eq!(author_names(e3), ["xwb@xining.gov.cn (市政府新闻办)"]);
}

#[test]
fn atom_raw_text_is_to_the_letter() {
    let xml = atom(&channel(), &entries(), TZ);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">"), "{xml}");
    for needle in [
        "<updated>2024-03-06T10:00:00+08:00</updated>",
        "<published>2024-03-05T08:42:00+08:00</published>",
        "<updated>2024-03-04T09:30:00+08:00</updated>",
        "<published>2024-03-04T15:05:00+08:00</published>",
        "<content type=\"html\">&lt;p&gt;3月5日上午",
        "<category term=\"图片新闻\"/>",
        "<link href=\"https://feeds.example.org/s/ttxw/feed?format=x&amp;v=1\" rel=\"self\" type=\"application/atom+xml\"/>",
    ] {
        assert!(xml.contains(needle), "missing {needle}\n{xml}");
    }
    assert_eq!(xml.matches("rel=\"enclosure\"").count(), 2);
    assert!(
        !xml.contains("length="),
        "enclosure length is unknown and omitted"
    );
    assert!(!xml.contains(":00Z<"), "offsets, not Z");
}

#[test]
fn atom_author_falls_back_to_origin() {
    let mut e = entries().remove(0);
    e.author = Some(" ".into());
    let xml = atom(&channel(), &[e], TZ);
    assert_eq!(author_names(&parse(&xml).entries[0]), ["西宁日报"]);
}

#[test]
fn atom_empty_feed_is_valid_and_dated_at_the_epoch() {
    let xml = atom(&empty_channel(), &[], TZ);
    assert_well_formed(&xml);
    let feed = parse(&xml);
    assert!(feed.entries.is_empty());
    assert_eq!(feed.updated, Some(DateTime::UNIX_EPOCH));
    assert!(
        xml.contains("<updated>1970-01-01T08:00:00+08:00</updated>"),
        "{xml}"
    );
}

// ---------------------------------------------------------------------------------------------
// JSON Feed 1.1

#[test]
fn json_round_trips_through_feed_rs() {
    let text = json_feed(&channel(), &entries(), TZ);
    assert!(!text.contains('\u{8}') && !text.contains("\\b") && !text.contains("\\u0008"));
    let feed = parse(&text);
    assert_eq!(feed.feed_type, FeedType::JSON);
    assert_eq!(feed.title.as_ref().unwrap().content, "头条新闻");
    assert_eq!(feed.language.as_deref(), Some("zh-CN"));
    let hrefs: Vec<&str> = feed.links.iter().map(|l| l.href.as_str()).collect();
    assert_eq!(hrefs, [LINK, SELF_URL]);

    assert_eq!(titles(&feed), expected_titles());
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [URL1, URL2, URL3]);
    let [e1, e2, e3] = &feed.entries[..] else {
        panic!("three items")
    };
    assert_eq!(e1.links[0].href, URL1);
    assert_eq!(e1.published, Some(published1()));
    assert_eq!(e1.updated, Some(updated1()));
    assert_eq!(e2.published, None);
    assert_eq!(e2.updated, Some(updated2()));
    assert_eq!(e3.published, Some(published3()));

    let c1 = e1.content.as_ref().unwrap();
    assert_eq!(c1.body.as_deref(), Some(BODY1));
    assert_eq!(c1.content_type.to_string(), "text/html");
    // No body: the summary is the text content.
    let c2 = e2.content.as_ref().unwrap();
    assert_eq!(c2.body.as_deref(), Some("4月4日至6日放假调休，共3天。"));
    assert_eq!(c2.content_type.to_string(), "text/plain");

    assert_eq!(category_terms(e1), ["头条新闻", "图片新闻"]);
    assert_eq!(author_names(e1), ["张三"]);
    assert!(e2.authors.is_empty());

    let attachments: Vec<(&str, Option<&str>, Option<&str>)> = e1
        .links
        .iter()
        .skip(1)
        .map(|l| (l.href.as_str(), l.media_type.as_deref(), l.title.as_deref()))
        .collect();
    assert_eq!(
        attachments,
        [
            (PDF, Some("application/pdf"), Some("植树计划.pdf")),
            (XLSX, Some(XLSX_MIME), Some("任务分解表.xlsx"))
        ]
    );
}

#[test]
fn json_raw_fields_are_to_the_letter() {
    let text = json_feed(&channel(), &entries(), TZ);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["home_page_url"], LINK);
    assert_eq!(v["feed_url"], SELF_URL);
    assert_eq!(v["language"], "zh-CN");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], URL1);
    assert_eq!(items[0]["url"], URL1);
    assert_eq!(items[0]["date_published"], "2024-03-05T08:42:00+08:00");
    assert_eq!(items[0]["date_modified"], "2024-03-06T10:00:00+08:00");
    assert_eq!(items[0]["authors"], serde_json::json!([{"name": "张三"}]));
    assert_eq!(
        items[0]["tags"],
        serde_json::json!(["头条新闻", "图片新闻"])
    );
    assert_eq!(
        items[0]["attachments"],
        serde_json::json!([
            {"url": PDF, "mime_type": "application/pdf", "title": "植树计划.pdf"},
            {"url": XLSX, "mime_type": XLSX_MIME, "title": "任务分解表.xlsx"},
        ])
    );
    assert!(items[0].get("content_text").is_none());
    assert!(items[1].get("content_html").is_none() && items[1].get("date_published").is_none());
    assert_eq!(items[1]["content_text"], "4月4日至6日放假调休，共3天。");
    assert!(items[1].get("authors").is_none() && items[1].get("attachments").is_none());
    assert!(
        !text.contains("null"),
        "absent fields are skipped, not null"
    );
}

#[test]
fn json_empty_feed_is_valid() {
    let text = json_feed(&empty_channel(), &[], TZ);
    let feed = parse(&text);
    assert!(feed.entries.is_empty());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["items"], serde_json::json!([]));
}

#[test]
fn json_item_without_body_or_summary_falls_back_to_the_title() {
    let mut e = entries().remove(1);
    e.summary = None;
    let v: serde_json::Value = serde_json::from_str(&json_feed(&channel(), &[e], TZ)).unwrap();
    assert_eq!(
        v["items"][0]["content_text"],
        "关于2024年清明节放假安排的通知"
    );
}

// ---------------------------------------------------------------------------------------------
// All formats

#[test]
fn output_is_byte_identical_for_identical_input() {
    type Writer = fn(&Channel, &[Entry], chrono_tz::Tz) -> String;
    for (name, write) in [("rss", rss as Writer), ("atom", atom), ("json", json_feed)] {
        let first = write(&channel(), &entries(), TZ);
        let second = write(&channel().clone(), &entries().clone(), TZ);
        assert_eq!(first, second, "{name}");
        assert_eq!(
            write(&empty_channel(), &[], TZ),
            write(&empty_channel(), &[], TZ),
            "{name}"
        );
    }
    let feeds = opml_feeds();
    assert_eq!(opml("订阅", &feeds), opml("订阅", &feeds.clone()));
}

#[test]
fn offsets_follow_the_configured_zone() {
    let rss_utc = rss(&channel(), &entries(), chrono_tz::UTC);
    assert!(rss_utc.contains("<pubDate>Tue, 05 Mar 2024 00:42:00 +0000</pubDate>"));
    let atom_utc = atom(&channel(), &entries(), chrono_tz::UTC);
    assert!(atom_utc.contains("<published>2024-03-05T00:42:00+00:00</published>"));
    assert_eq!(parse(&atom_utc).entries[0].published, Some(published1()));
}

#[test]
fn forbidden_characters_never_reach_any_output() {
    let mut ch = channel();
    ch.title = "头条\u{1F}新闻".into();
    ch.description = "描述\u{B}".into();
    let mut e = entries().remove(0);
    e.content_html = Some("<p>正文\u{0}\u{FFFE}</p>".into());
    e.summary = Some("摘要\u{8}".into());
    e.author = Some("张\u{1}三".into());
    e.origin = Some("西宁\u{C}日报".into());
    e.categories = vec!["头条\u{7}新闻".into()];
    e.attachments[0].name = "计划\u{1B}.pdf".into();
    let entries = [e];
    for doc in [rss(&ch, &entries, TZ), atom(&ch, &entries, TZ)] {
        assert_well_formed(&doc);
        let feed = parse(&doc);
        assert_eq!(feed.title.as_ref().unwrap().content, "头条新闻");
    }
    let text = json_feed(&ch, &entries, TZ);
    assert!(
        !text.contains("\\u00") && !text.contains("\\b") && !text.contains("\\f"),
        "{text}"
    );
    assert!(text.contains("张三") && text.contains("正文"));
}

// ---------------------------------------------------------------------------------------------
// OPML 2.0

fn opml_feeds() -> Vec<OpmlFeed> {
    vec![
        OpmlFeed {
            title: "头条新闻".into(),
            xml_url: "https://feeds.example.org/s/ttxw.xml".into(),
            html_url: LINK.into(),
        },
        OpmlFeed {
            title: "通知 & \"公告\" <最新>".into(),
            xml_url: "https://feeds.example.org/s/tzgg.xml?a=1&b=\"2\"".into(),
            html_url: "https://www.xining.gov.cn/zwgk/tzgg/?x=1&y=2".into(),
        },
    ]
}

#[test]
fn opml_lists_every_feed_escaped() {
    let doc = opml("西宁市政府 & 部门", &opml_feeds());
    assert_well_formed(&doc);
    assert!(doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">"));
    assert!(doc.contains("<head>\n    <title>西宁市政府 &amp; 部门</title>\n  </head>"));
    assert!(doc.contains(&format!(
        "<outline type=\"rss\" text=\"头条新闻\" title=\"头条新闻\" xmlUrl=\"https://feeds.example.org/s/ttxw.xml\" htmlUrl=\"{LINK}\"/>"
    )));
    assert!(doc.contains(
        "<outline type=\"rss\" text=\"通知 &amp; &quot;公告&quot; &lt;最新&gt;\" title=\"通知 &amp; &quot;公告&quot; &lt;最新&gt;\" \
         xmlUrl=\"https://feeds.example.org/s/tzgg.xml?a=1&amp;b=&quot;2&quot;\" htmlUrl=\"https://www.xining.gov.cn/zwgk/tzgg/?x=1&amp;y=2\"/>"
    ));
    assert_eq!(doc.matches("<outline ").count(), 2);
    assert!(!doc.contains("dateCreated"));
    assert!(doc.ends_with("</body>\n</opml>\n"));
}

#[test]
fn opml_empty_list_is_well_formed() {
    let doc = opml("订阅", &[]);
    assert_well_formed(&doc);
    assert!(!doc.contains("<outline"));
}

// ---------------------------------------------------------------------------------------------
// Any text, any instant: every output stays well-formed and parseable.

mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => any::<char>(),
            1 => prop::sample::select(vec![
                '\u{0}', '\u{8}', '\u{B}', '\u{1F}', '\u{FFFE}', '\u{FFFF}', '&', '<', '>', '"', '\'', ']', '\r', '\n', '\t', '中',
            ]),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|cs| cs.into_iter().collect())
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 1900 to 2200, with sub-second parts.
        (-2_208_988_800i64..7_258_118_400, 0u32..1_000_000_000)
            .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
    }

    fn attachment() -> impl Strategy<Value = Attachment> {
        (text(), text(), text()).prop_map(|(name, url, mime)| Attachment { name, url, mime })
    }

    fn entry() -> impl Strategy<Value = Entry> {
        (
            (text(), text(), proptest::option::of(instant()), instant()),
            (proptest::option::of(text()), proptest::option::of(text())),
            (proptest::option::of(text()), proptest::option::of(text())),
            prop::collection::vec(text(), 0..3),
            prop::collection::vec(attachment(), 0..3),
        )
            .prop_map(
                |(
                    (url, title, published, updated),
                    (content_html, summary),
                    (author, origin),
                    categories,
                    attachments,
                )| Entry {
                    id: "0".repeat(32),
                    url,
                    title,
                    published,
                    updated,
                    content_html,
                    summary,
                    author,
                    origin,
                    categories,
                    attachments,
                },
            )
    }

    fn channel() -> impl Strategy<Value = Channel> {
        (
            text(),
            text(),
            text(),
            text(),
            proptest::option::of(0u32..10_000),
            proptest::option::of(instant()),
        )
            .prop_map(
                |(title, link, description, self_url, ttl_minutes, updated)| Channel {
                    title,
                    link,
                    description,
                    self_url,
                    home_url: "https://feeds.example.org/".into(),
                    ttl_minutes,
                    updated,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn every_writer_stays_valid(ch in channel(), items in prop::collection::vec(entry(), 0..4), title in text()) {
            for doc in [rss(&ch, &items, TZ), atom(&ch, &items, TZ)] {
                assert_well_formed(&doc);
                let feed = parse(&doc);
                prop_assert_eq!(feed.entries.len(), items.len());
                prop_assert_eq!(&doc, &rss_or_atom_again(&doc, &ch, &items));
            }
            let json = json_feed(&ch, &items, TZ);
            prop_assert_eq!(parse(&json).entries.len(), items.len());
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(value["items"].as_array().unwrap().len(), items.len());
            for item in value["items"].as_array().unwrap() {
                prop_assert!(item.get("content_html").is_some() || item.get("content_text").is_some());
            }
            let outline = OpmlFeed { title: title.clone(), xml_url: title.clone(), html_url: title };
            assert_well_formed(&opml(&ch.title, &[outline]));
        }
    }

    fn rss_or_atom_again(doc: &str, ch: &Channel, items: &[Entry]) -> String {
        if doc.contains("<rss") {
            rss(ch, items, TZ)
        } else {
            atom(ch, items, TZ)
        }
    }
}
