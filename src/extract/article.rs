//! Article pages: title, publication time, 来源, author, body and attachments, without selectors.
//!
//! The "info line" — the text between the title and the body (`2024-03-05 08:42 点击:[] 来源:城中在线`)
//! — is where a page states time, 来源 and author; reading only there keeps dates of the headline
//! ticker (before the title) and of the body (after) out. Head meta tags (`PubDate`,
//! `ContentSource`, `ArticleTitle`, used by VSB, TRS and Hanweb) win when present. With a cut list
//! title as a hint, the page element that starts with it gives the whole title. A 「系统提示」 page
//! (VSB's answer for unpublished `content.jsp` links) or a page with no body is not an article.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dom_query::{Document, Matcher, NodeRef};
use regex::Regex;
use url::Url;

use super::date::{FoundDate, date_from_url, parse_date};
use super::text::{excerpt, squash};
use super::{Attachment, ExtractError, attachments, body, cut};
use crate::config::Selector;

/// What an article page gives.
#[derive(Debug, Clone, Default)]
pub struct Article {
    pub title: Option<String>,
    pub published: Option<FoundDate>,
    pub content_html: String,
    /// Plain text of the body, white space collapsed.
    pub text: String,
    pub summary: String,
    pub origin: Option<String>,
    pub author: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// Length of the plain-text summary, in characters.
pub const SUMMARY_CHARS: usize = 200;

static METAS: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new("meta[name][content]").expect("static selector"));
static TIMESTYLE: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new("[class*=timestyle]").expect("static selector"));
static AUTHORSTYLE: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new("[class*=authorstyle]").expect("static selector"));
static ORIGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:来源|信息来源|文章来源|稿件来源)\s*[:：]\s*([^\s|｜/【\[:：]{2,30})")
        .expect("static regex")
});
static AUTHOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:作者|撰稿|撰稿人|发布人|文)\s*[:：]\s*([^\s|｜/【\[:：]{2,20})")
        .expect("static regex")
});
static LABELLED_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:发布时间|发布日期|发文日期|成文日期|时间|日期)\s*[:：]").expect("static regex")
});

const META_DATES: [&str; 6] = [
    "pubdate",
    "publishdate",
    "firstpublishedtime",
    "publishtime",
    "createdate",
    "article:published_time",
];
const META_ORIGINS: [&str; 3] = ["contentsource", "source", "articlesource"];

/// Extracts the article at `url`. `title_hint` is the list's title (whole or cut).
pub fn extract_article(
    html: &str,
    url: &Url,
    content: Option<&Selector>,
    title_hint: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Article, ExtractError> {
    // Only a page that yielded no article is looked at for a redirect: a real article may well
    // carry navigation scripts that set `location`.
    match extract_page(html, url, content, title_hint, tz, now) {
        Err(ExtractError::NotAnArticle(why)) => Err(super::redirect::find(html, url)
            .map_or(ExtractError::NotAnArticle(why), ExtractError::Redirect)),
        extracted => extracted,
    }
}

/// [`extract_article`] without the look for a redirect.
fn extract_page(
    html: &str,
    url: &Url,
    content: Option<&Selector>,
    title_hint: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Article, ExtractError> {
    // Parsing is most of the cost: parse only the part that holds the article, when that is sure
    // to give the same result (see `cut`).
    if content.is_none()
        && let Some(cut) = cut::article(html, title_hint)
    {
        let doc = Document::from(cut.html.as_str());
        if let Some(body_node) = body::find_known(&doc) {
            let page = Page {
                doc: &doc,
                full_text: &cut.full_text,
                url,
            };
            return from_page(&page, body_node, title_hint, tz, now);
        }
    }
    extract_full(html, url, content, title_hint, tz, now)
}

/// [`extract_article`] on the whole page, whatever it holds.
fn extract_full(
    html: &str,
    url: &Url,
    content: Option<&Selector>,
    title_hint: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Article, ExtractError> {
    let doc = Document::from(html);
    let Some(body_node) = body::find(&doc, content) else {
        let page_title = doc.select("title").text().trim().to_string();
        return Err(not_an_article(&page_title, "no article body found"));
    };
    let full_text = doc.body().map(|b| squash(&b.text())).unwrap_or_default();
    let page = Page {
        doc: &doc,
        full_text: &full_text,
        url,
    };
    from_page(&page, body_node, title_hint, tz, now)
}

/// A parsed article page: its tree and the whole page's body text, squashed.
struct Page<'a> {
    doc: &'a Document,
    full_text: &'a str,
    url: &'a Url,
}

fn from_page(
    page: &Page,
    body_node: NodeRef,
    title_hint: Option<&str>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Article, ExtractError> {
    let doc = page.doc;
    let metas = metas(doc);
    let page_title = doc.select("title").text().trim().to_string();
    let title = title::find(doc, |names| meta(&metas, names), title_hint);
    let attachments = attachments::find(doc, page.url);
    let info = info_line(page.full_text, &body_node, title.as_deref());
    let published = published(doc, &metas, &info, page.url, tz, now);
    let origin = meta(&metas, &META_ORIGINS)
        .map(|s| squash(&s))
        .filter(|s| !s.is_empty())
        .or_else(|| origin(doc, &info));
    // "佚名" (anonymous) and CMS placeholders name nobody.
    let author = labelled_value(&AUTHOR, &info)
        .filter(|a| !["佚名", "未知", "不详", "admin", "管理员"].contains(&a.as_str()));
    let (content_html, text) = body::clean(&body_node, page.url);
    if page_title.contains("系统提示")
        || (text.is_empty() && attachments.is_empty() && !content_html.contains("<img"))
    {
        return Err(not_an_article(&page_title, "the body is empty"));
    }
    let summary = excerpt(&text, SUMMARY_CHARS);
    Ok(Article {
        title,
        published,
        content_html,
        text,
        summary,
        origin,
        author,
        attachments,
    })
}

fn not_an_article(page_title: &str, why: &str) -> ExtractError {
    let shown = if page_title.is_empty() {
        String::new()
    } else {
        format!(" (page title {page_title:?})")
    };
    ExtractError::NotAnArticle(format!("{why}{shown}"))
}

fn metas(doc: &Document) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for m in doc.select_matcher(&METAS).nodes() {
        if let (Some(name), Some(content)) = (m.attr("name"), m.attr("content")) {
            out.entry(name.to_ascii_lowercase())
                .or_insert_with(|| content.to_string());
        }
    }
    out
}

fn meta(metas: &HashMap<String, String>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| metas.get(*n)).cloned()
}

/// The text between the title and the body (at most 400 characters), in `full`, the page's
/// whole body text.
fn info_line(full: &str, body_node: &NodeRef, title: Option<&str>) -> String {
    let body_text = squash(&body_node.text());
    let body_start = body_text
        .get(
            ..body_text
                .char_indices()
                .nth(20)
                .map(|(i, _)| i)
                .unwrap_or(body_text.len()),
        )
        .filter(|s| !s.is_empty())
        .and_then(|s| full.find(s))
        .unwrap_or(full.len());
    let before_body = &full[..body_start];
    let start = title
        .and_then(|t| before_body.rfind(t).map(|i| i + t.len()))
        .unwrap_or(0);
    let window = &before_body[start..];
    let window = if title.is_some() || window.len() < 1200 {
        window
    } else {
        ""
    };
    window
        .char_indices()
        .nth(400)
        .map(|(i, _)| &window[..i])
        .unwrap_or(window)
        .to_string()
}

fn published(
    doc: &Document,
    metas: &HashMap<String, String>,
    info: &str,
    url: &Url,
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<FoundDate> {
    let from_meta = meta(metas, &META_DATES).and_then(|m| parse_date(&m, tz, now));
    let from_style = doc
        .select_matcher(&TIMESTYLE)
        .nodes()
        .iter()
        .find_map(|n| parse_date(&n.text(), tz, now));
    let labelled = LABELLED_DATE
        .find(info)
        .and_then(|m| parse_date(&info[m.start()..], tz, now));
    let from_info = parse_date(info, tz, now);
    let candidates = [from_meta, from_style, labelled, from_info];
    // The first source that gives a time of day; else the first that gives a date.
    candidates
        .iter()
        .flatten()
        .find(|d| d.has_time)
        .or_else(|| candidates.iter().flatten().next())
        .copied()
        .or_else(|| date_from_url(url.as_str(), tz))
}

fn origin(doc: &Document, info: &str) -> Option<String> {
    labelled_value(&ORIGIN, info).or_else(|| {
        let styled = doc.select_matcher(&AUTHORSTYLE);
        styled
            .nodes()
            .iter()
            .find_map(|n| labelled_value(&ORIGIN, &squash(&n.text())))
    })
}

/// The labels of an info line. A value may run into the next one with no space between
/// (`<span>来源：区农业农村局</span><span>作者：</span>` reads as `来源：区农业农村局作者：`), and a
/// heading's child that holds a date and one of them is the info line, not the title.
const INFO_LABELS: [&str; 17] = [
    "责任编辑",
    "作者",
    "撰稿",
    "编辑",
    "审核",
    "摄影",
    "点击",
    "浏览",
    "阅读",
    "访问",
    "发布时间",
    "发布日期",
    "时间",
    "日期",
    "来源",
    "字号",
    "评论",
];

/// The value after a label (`来源：城中在线`), unless the label is empty and what follows is the
/// next label (`作者：  点击数：`). A next label glued to the value is cut off.
fn labelled_value(label: &Regex, text: &str) -> Option<String> {
    let caps = label.captures(text)?;
    let value = caps.get(1)?;
    if text[value.end()..].trim_start().starts_with([':', '：']) {
        // The capture ran into the next label: keep what comes before it, if anything.
        let v = value.as_str();
        let cut = INFO_LABELS
            .iter()
            .filter_map(|l| v.rfind(l).filter(|&at| at > 0 && at + l.len() == v.len()))
            .min()?;
        let kept = v[..cut].trim();
        return (kept.chars().count() >= 2).then(|| kept.to_string());
    }
    Some(value.as_str().to_string())
}

/// The first `max` characters of `s` on one line (for terminal output).
pub fn short(s: &str, max: usize) -> String {
    excerpt(&squash(s), max)
}

mod title;

#[cfg(test)]
mod tests;
