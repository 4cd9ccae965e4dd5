//! The article body: found, stripped of a portal's boilerplate, sanitized.
//!
//! Found by the configured `content` selector, else the body containers of the common CMSes (VSB
//! `.v_news_content` / `#vsb_content*` / `#vsb_newscontent`, Hanweb `#zoom`, TRS `.TRS_Editor`), else
//! the element holding the most paragraph text. Inside it we drop what portals put around the text:
//! scripts, 上一条/下一条, 【打印】【关闭】 bars, 责任编辑 lines and 点击 counters. Sanitizing (ammonia)
//! keeps paragraphs, headings, lists, tables, images and links, drops scripts, styles, event
//! attributes and iframes, and makes every `src`/`href` absolute. VSB images whose `src` is a
//! placeholder carry the real path in `orisrc` or `vurl`.

use std::collections::HashMap;
use std::sync::LazyLock;

use dom_query::{Document, Matcher, NodeId, NodeRef, Selection};
use regex::Regex;
use url::Url;

use super::chrome;
use super::text::{chars, squash};
use crate::config::Selector;

const KNOWN: [&str; 12] = [
    "#vsb_content .v_news_content",
    ".v_news_content",
    "[id^=vsb_content]",
    "#vsb_newscontent",
    "#zoom",
    ".TRS_Editor",
    ".TRS_UEDITOR",
    ".trs_paper_default",
    "#UCAP-CONTENT",
    ".pages_content",
    ".article-content",
    ".article_content",
];

static KNOWN_MATCHERS: LazyLock<Vec<Matcher>> =
    LazyLock::new(|| KNOWN.iter().filter_map(|s| Matcher::new(s).ok()).collect());
static NOISE: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new("script, style, noscript, iframe, object, embed, input, button, select, textarea, link, meta").expect("static selector")
});
static BLOCKS: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new("p, div, span, td, li, font, table, ul").expect("static selector")
});
static LINKS: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new("a[href]").expect("static selector"));
static CONTENT_NAMES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)article|content|detail|zoom|text|body|entry|post|story|\bzw\b|zhengwen|news_?con|con_?text|main")
        .expect("static regex")
});
static IMAGES: LazyLock<Matcher> = LazyLock::new(|| Matcher::new("img").expect("static selector"));
static BOILERPLATE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[【\[]?\s*(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏本页|加入收藏|分享到|字号|大|中|小)\s*[】\]]?\s*)+$|^[（(【\[]?\s*(?:上一条|下一条|上一篇|下一篇|责任编辑|编辑|审核|校对|点击|浏览次数|访问次数)\s*[:：]|^点击[:：]?\s*\[\s*\]")
        .expect("static regex")
});

/// The body element of the article page.
pub fn find<'a>(doc: &'a Document, configured: Option<&Selector>) -> Option<NodeRef<'a>> {
    if let Some(sel) = configured {
        return doc.select_matcher(sel.matcher()).nodes().first().copied();
    }
    find_known(doc).or_else(|| densest(doc))
}

/// The body container of a known CMS, if the page has one with text or media.
pub(crate) fn find_known(doc: &Document) -> Option<NodeRef<'_>> {
    KNOWN_MATCHERS.iter().find_map(|m| {
        doc.select_matcher(m)
            .nodes()
            .iter()
            .find(|n| !squash(&n.text()).is_empty() || has_media(n))
            .copied()
    })
}

/// Lowercase words that every element a [`KNOWN`] selector matches has in its id or class.
pub(crate) const KNOWN_WORDS: [&str; 11] = [
    "vsb_content",
    "v_news_content",
    "vsb_newscontent",
    "zoom",
    "trs_editor",
    "trs_ueditor",
    "trs_paper_default",
    "ucap-content",
    "pages_content",
    "article-content",
    "article_content",
];

fn has_media(node: &NodeRef) -> bool {
    Selection::from(*node).select("img, a[href]").exists()
}

/// The element that holds the most prose, in the manner of readability: each paragraph (a `<p>`,
/// or text written straight into a `<div>`/`<td>` with `<br>`s) earns points for its length and
/// its Chinese commas and full stops, credited to its container and half to the one above. A
/// container then loses what is link text (menus, lists, footers) and what the chrome penalty says,
/// and gains when its name says content (`article`, `content`, `detail`, `zw` for 正文…).
fn densest<'a>(doc: &'a Document) -> Option<NodeRef<'a>> {
    let mut credit: HashMap<NodeId, (f64, NodeRef<'a>)> = HashMap::new();
    let body = doc.body()?;
    for node in body.descendants_it().filter(|n| n.is_element()) {
        let tag = node.node_name().map(|t| t.to_string()).unwrap_or_default();
        let (text, holder) = match tag.as_str() {
            "p" => (squash(&node.text()), node.parent()),
            "div" | "td" | "section" | "article" | "font" => {
                (squash(&node.immediate_text()), Some(node))
            }
            _ => continue,
        };
        if chars(&text) < 10 {
            continue;
        }
        let Some(holder) = holder else { continue };
        let points = 1.0
            + text.matches(['，', '。', ',']).count() as f64
            + (chars(&text) as f64 / 100.0).min(3.0);
        credit.entry(holder.id).or_insert((0.0, holder)).0 += points;
        if let Some(grand) = holder.parent().filter(|g| g.is_element()) {
            credit.entry(grand.id).or_insert((0.0, grand)).0 += points / 2.0;
        }
    }
    // In page order, and the first of equals wins: a hash map's order would make ties random.
    let mut scored: Vec<(NodeId, f64, NodeRef<'a>)> = credit
        .into_iter()
        .map(|(id, (points, node))| {
            let weight = (1.0 - link_density(&node)) * chrome::penalty(&node) * name_weight(&node);
            (id, points * weight, node)
        })
        .collect();
    scored.sort_by_key(|(id, _, _)| *id);
    scored
        .into_iter()
        .fold(
            None,
            |best: Option<(f64, NodeRef<'a>)>, (_, score, node)| match best {
                Some((top, _)) if top >= score => best,
                _ => Some((score, node)),
            },
        )
        .map(|(_, n)| n)
}

/// The share of a node's text that sits inside links.
fn link_density(node: &NodeRef) -> f64 {
    let all = chars(&squash(&node.text())).max(1);
    let linked: usize = Selection::from(*node)
        .select_matcher(&LINKS)
        .nodes()
        .iter()
        .map(|a| chars(&squash(&a.text())))
        .sum();
    (linked as f64 / all as f64).min(1.0)
}

fn name_weight(node: &NodeRef) -> f64 {
    let names = format!(
        "{} {}",
        node.id_attr().unwrap_or_default(),
        node.class().unwrap_or_default()
    );
    if CONTENT_NAMES.is_match(&names) {
        1.5
    } else {
        1.0
    }
}

fn is_boilerplate_line(text: &str) -> bool {
    let text = squash(text);
    !text.is_empty() && chars(&text) <= 100 && BOILERPLATE_LINE.is_match(&text)
}

/// The body's sanitized HTML and its plain text.
pub fn clean(node: &NodeRef, base: &Url) -> (String, String) {
    let scope = Selection::from(*node);
    scope.select_matcher(&NOISE).remove();
    for block in scope.select_matcher(&BLOCKS).nodes().iter().rev() {
        if is_boilerplate_line(&block.text()) {
            block.remove_from_parent();
        }
    }
    // Lines written straight into the container between `<br>`s: `（编辑：李华  审核：张强）`.
    let texts: Vec<NodeRef> = node.descendants_it().filter(|n| n.is_text()).collect();
    for text in texts {
        if is_boilerplate_line(&text.text()) {
            text.remove_from_parent();
        }
    }
    for img in scope.select_matcher(&IMAGES).nodes() {
        let src = img
            .attr("src")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        if (src.is_empty() || src.starts_with("data:"))
            && let Some(real) = img.attr("orisrc").or_else(|| img.attr("vurl"))
        {
            img.set_attr("src", &real);
        }
    }
    let text = squash(&node.formatted_text());
    let html = ammonia::Builder::default()
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .clean(&node.inner_html())
        .to_string();
    (html.trim().to_string(), text)
}
