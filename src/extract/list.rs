//! List pages: the items a section lists, and the link to its next page.
//!
//! With `select.item` the items are what it matches. Without it the list is found: among every set
//! of sibling elements of one shape (tag and class, digits ignored: VSB's `winstyle106390`), the
//! one whose members each hold one article link, most of them dated, with titles of sentence length,
//! and not inside navigation, header, footer, ticker or crumbs. The ticker (头条新闻, on every page)
//! and side columns (热点, 专题) are dated link lists too; they lose on size, on their containers'
//! names, and on the pager that sits next to the real list. Edge cases handled here:
//! - a title cut short in the text and whole in `a@title`; `<em>` inside the link;
//! - 置顶 markers (dropped from the title; the item keeps its own date);
//! - the date outside the link (`<span>`), inside it (Hanweb), or only in the URL (TRS `t20240305_`);
//! - PC and mobile copies of one item (TRS `pchide`): one item per URL;
//! - a list split into several `<ul>`s of five (merged when the `<ul>`s are siblings);
//! - Hanweb pages whose list exists only in an XML data island ([`super::hanweb`]).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dom_query::{Document, Matcher, NodeRef, Selection};
use regex::Regex;
use url::Url;

use super::date::{FoundDate, date_from_url, parse_date};
use super::text::{chars, clean_title, looks_cut, squash};
use super::{chrome, hanweb, pager, resolve_link};
use crate::config::Selectors;

/// One item of a list page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    pub url: Url,
    pub title: String,
    /// The list showed only part of the title (the article page has the whole one).
    pub title_cut: bool,
    pub date: Option<FoundDate>,
    pub pinned: bool,
}

/// What a list page gives.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub items: Vec<ListItem>,
    pub next_page: Option<Url>,
}

static LINKS: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new("a[href]").expect("static selector"));
/// Below this, the best candidate is not a list (a layout change, or a page with no list).
const MIN_SCORE: f64 = 4.5;
/// Elements whose name says they hold the item's date (`span.time`, `.timestyle106390`, `td.date`).
static DATE_MARKED: LazyLock<Matcher> = LazyLock::new(|| {
    Matcher::new("time, [class*=date], [class*=time], [class*=Date], [class*=Time], [class~=rq], [class~=sj]")
        .expect("static selector")
});
static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("static regex"));

struct Ctx<'a> {
    base: &'a Url,
    select: &'a Selectors,
    tz: Tz,
    now: DateTime<Utc>,
}

/// The items and next page of the list page `html`, fetched from `page_url`.
pub fn extract_list(
    html: &str,
    page_url: &Url,
    select: &Selectors,
    tz: Tz,
    now: DateTime<Utc>,
) -> ListPage {
    let ctx = Ctx {
        base: page_url,
        select,
        tz,
        now,
    };
    let doc = Document::from(html);
    let items = match (&select.item, hanweb::records_html(html)) {
        (Some(item), _) => doc
            .select_matcher(item.matcher())
            .nodes()
            .iter()
            .filter_map(|n| item_of(n, &ctx, false))
            .collect(),
        (None, Some(records)) => detect(&Document::from(records), &ctx),
        (None, None) => detect(&doc, &ctx),
    };
    ListPage {
        items: dedupe(items),
        next_page: pager::next_page(&doc, html, page_url, select.next_page.as_ref()),
    }
}

/// One item per URL, in page order; a longer title seen later wins (a cut copy and a whole one).
fn dedupe(items: Vec<ListItem>) -> Vec<ListItem> {
    let mut index: HashMap<Url, usize> = HashMap::new();
    let mut out: Vec<ListItem> = Vec::with_capacity(items.len());
    for item in items {
        match index.get(&item.url) {
            Some(&i) => {
                if chars(&item.title) > chars(&out[i].title) && !item.title_cut {
                    out[i].title = item.title;
                    out[i].title_cut = false;
                }
                if out[i].date.is_none() {
                    out[i].date = item.date;
                }
            }
            None => {
                index.insert(item.url.clone(), out.len());
                out.push(item);
            }
        }
    }
    out
}

/// Shape of an element for grouping siblings: tag and class, digits dropped.
fn signature(node: &NodeRef) -> String {
    let tag = node.node_name().map(|t| t.to_string()).unwrap_or_default();
    let class = node
        .class()
        .map(|c| DIGITS.replace_all(&c, "").trim().to_string())
        .unwrap_or_default();
    format!("{tag}.{class}")
}

struct Candidate<'a> {
    score: f64,
    parent: NodeRef<'a>,
    signature: String,
}

fn detect(doc: &Document, ctx: &Ctx) -> Vec<ListItem> {
    let mut candidates: Vec<Candidate> = Vec::new();
    for node in doc.root().descendants_it().filter(|n| n.is_element()) {
        let children = node.element_children();
        if children.len() < 2 {
            continue;
        }
        let mut groups: HashMap<String, Vec<NodeRef>> = HashMap::new();
        for child in children {
            groups.entry(signature(&child)).or_default().push(child);
        }
        for (sig, members) in groups.into_iter().filter(|(_, m)| m.len() >= 2) {
            let items: Vec<ListItem> = members
                .iter()
                .filter_map(|m| item_of(m, ctx, true))
                .collect();
            // Separator rows (`<tr><td><hr></td></tr>`) hold nothing and do not count against a list.
            let substantial = members
                .iter()
                .filter(|m| !m.text().trim().is_empty())
                .count();
            if let Some(score) = score(&node, substantial, &items) {
                candidates.push(Candidate {
                    score,
                    parent: node,
                    signature: sig,
                });
            }
        }
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    // The pager sits next to the real list; only the leaders are worth the look.
    for c in candidates.iter_mut().take(4) {
        if pager_nearby(&c.parent) {
            c.score *= 1.6;
        }
    }
    let best = candidates
        .iter()
        .filter(|c| c.score >= MIN_SCORE)
        .max_by(|a, b| a.score.total_cmp(&b.score));
    let Some(best) = best else {
        return Vec::new();
    };
    members_of(best)
        .iter()
        .filter_map(|m| item_of(m, ctx, true))
        .collect()
}

/// The best group's members, with those of sibling containers of the same shape (a list split
/// into several `<ul>`s).
fn members_of<'a>(best: &Candidate<'a>) -> Vec<NodeRef<'a>> {
    let own = signature(&best.parent);
    let containers: Vec<NodeRef> = match best.parent.parent() {
        Some(grand) => grand
            .element_children()
            .into_iter()
            .filter(|c| signature(c) == own)
            .collect(),
        None => vec![best.parent],
    };
    containers
        .iter()
        .flat_map(|c| c.element_children())
        .filter(|m| signature(m) == best.signature)
        .collect()
}

fn score(parent: &NodeRef, members: usize, items: &[ListItem]) -> Option<f64> {
    let n = items.len();
    if n < 2 || (n as f64) < members as f64 * 0.5 {
        return None;
    }
    let dated = items.iter().filter(|i| i.date.is_some()).count() as f64 / n as f64;
    let avg_len = items.iter().map(|i| chars(&i.title)).sum::<usize>() as f64 / n as f64;
    let length = (avg_len / 12.0).clamp(0.15, 1.5);
    Some(n as f64 * (1.0 + 2.0 * dated) * length * chrome::penalty(parent))
}

fn pager_nearby(node: &NodeRef) -> bool {
    let mut current = Some(*node);
    for _ in 0..3 {
        let Some(n) = current else { return false };
        // Script text is part of `text()`, so TRS's createPageHTML is seen too.
        let text = n.text();
        if ["下页", "下一页", "尾页", "末页", "createPageHTML"]
            .iter()
            .any(|t| text.contains(t))
        {
            return true;
        }
        current = n.parent();
    }
    false
}

/// The item an element stands for, if it holds one article link. `auto` applies the sanity checks
/// of detection (a real title, few distinct links).
fn item_of(member: &NodeRef, ctx: &Ctx, auto: bool) -> Option<ListItem> {
    let scope = Selection::from(*member);
    let link = match &ctx.select.link {
        Some(sel) => scope
            .select_matcher(sel.matcher())
            .nodes()
            .first()
            .copied()
            .or_else(|| is_link(member).then_some(*member))?,
        None => best_link(member, auto)?,
    };
    let url = resolve_link(ctx.base, &link.attr("href")?)?;
    let (raw_title, title_cut) = match &ctx.select.title {
        Some(sel) => title_of(scope.select_matcher(sel.matcher()).nodes().first()?),
        None => title_of(&link),
    };
    let (title, marked_pinned) = clean_title(&raw_title);
    if title.is_empty() || (auto && chars(&title) < 4) {
        return None;
    }
    let member_text = squash(&member.text());
    let date = match &ctx.select.date {
        Some(sel) => scope
            .select_matcher(sel.matcher())
            .nodes()
            .first()
            .and_then(|d| parse_date(&d.text(), ctx.tz, ctx.now)),
        None => date_near(member, &member_text, &link, ctx),
    }
    .or_else(|| date_from_url(url.as_str(), ctx.tz));
    let pinned = marked_pinned || member_text.replace(&title, "").contains("置顶");
    Some(ListItem {
        url,
        title,
        title_cut,
        date,
        pinned,
    })
}

fn is_link(node: &NodeRef) -> bool {
    node.node_name().is_some_and(|n| &*n == "a") && node.has_attr("href")
}

/// The member's article link: the one with the longest text (a category tag or "详细" link is
/// shorter). More than three distinct targets make it a menu, not an item.
fn best_link<'a>(member: &NodeRef<'a>, auto: bool) -> Option<NodeRef<'a>> {
    let links: Vec<NodeRef> = if is_link(member) {
        vec![*member]
    } else {
        Selection::from(*member)
            .select_matcher(&LINKS)
            .nodes()
            .to_vec()
    };
    let usable: Vec<(NodeRef, usize)> = links
        .into_iter()
        .filter(|l| l.attr("href").is_some_and(|h| usable_href(&h)))
        .map(|l| {
            let len =
                chars(&squash(&l.text())).max(l.attr("title").map(|t| chars(&t)).unwrap_or(0));
            (l, len)
        })
        .collect();
    let distinct: HashSet<String> = usable
        .iter()
        .filter_map(|(l, _)| l.attr("href").map(|h| h.trim().to_string()))
        .collect();
    if usable.is_empty() || (auto && distinct.len() > 3) {
        return None;
    }
    usable
        .into_iter()
        .max_by_key(|(_, len)| *len)
        .map(|(l, _)| l)
}

fn usable_href(href: &str) -> bool {
    let h = href.trim().to_ascii_lowercase();
    !(h.is_empty()
        || h.starts_with('#')
        || h.starts_with("javascript:")
        || h.starts_with("mailto:"))
}

/// The title an element shows: its `title` attribute when the text is cut or shorter, minus any
/// date printed inside it (Hanweb puts the date inside the link). `true` when only a cut title
/// was found.
fn title_of(node: &NodeRef) -> (String, bool) {
    let mut text = squash(&node.text());
    for child in node.element_children() {
        let child_text = squash(&child.text());
        if chars(&child_text) <= 25
            && child_text.chars().filter(|c| c.is_ascii_digit()).count() >= 4
            && child_text != text
        {
            text = squash(&text.replace(&child_text, ""));
        }
    }
    let attr = node.attr("title").map(|t| squash(&t)).unwrap_or_default();
    let cut_text = looks_cut(&text);
    if !attr.is_empty() && (cut_text || chars(&attr) >= chars(&text)) {
        return (attr, false);
    }
    (text.clone(), cut_text)
}

/// The date printed in the item: in an element named for it; else outside the title; else inside
/// the link; else in the next sibling (lists of bare `<a>` followed by `<span>date</span>`).
fn date_near(member: &NodeRef, member_text: &str, link: &NodeRef, ctx: &Ctx) -> Option<FoundDate> {
    let link_text = squash(&link.text());
    let outside = if link_text.is_empty() {
        member_text.to_string()
    } else {
        member_text.replacen(&link_text, " ", 1)
    };
    // An element named for the date beats a date quoted in a summary line.
    let marked = Selection::from(*member).select_matcher(&DATE_MARKED);
    marked
        .nodes()
        .iter()
        .find_map(|d| parse_date(&d.text(), ctx.tz, ctx.now))
        .or_else(|| parse_date(&outside, ctx.tz, ctx.now))
        .or_else(|| parse_date(&link_text, ctx.tz, ctx.now))
        .or_else(|| {
            let sibling = member.next_element_sibling().filter(|_| is_link(member))?;
            parse_date(&sibling.text(), ctx.tz, ctx.now)
        })
}
