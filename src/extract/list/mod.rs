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
//!
//! Speed: the page is read by the lite parser ([`super::lite`]) when it can be sure to build
//! html5ever's tree, and configured selectors are matched by its small matcher when they are
//! within its subset; otherwise html5ever and dom_query read it. The algorithm is the same code
//! over either tree ([`super::dom::Node`]), so the result is too. Groups that cannot outscore the
//! best one found so far are not read at all.

mod item;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dom_query::Document;
use regex::Regex;
use url::Url;

use super::date::FoundDate;
use super::dom::{LitePage, Node};
use super::text::chars;
use super::{chrome, hanweb, lite, pager};
use crate::config::{Selector, Selectors};
use item::item_of;

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

static DIGITS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+").expect("static regex"));
/// Below this, the best candidate is not a list (a layout change, or a page with no list).
const MIN_SCORE: f64 = 4.5;
/// The most a group's score can gain after scoring: the pager bonus.
const PAGER_BONUS: f64 = 1.6;

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
    match lite_page(html, select) {
        Some(page) => list_page(&page.root(), html, &ctx),
        None => full(html, &ctx),
    }
}

/// [`extract_list`] on html5ever's tree, whatever the page.
fn full(html: &str, ctx: &Ctx) -> ListPage {
    let doc = Document::from(html);
    match hanweb::records_html(html) {
        Some(records) if ctx.select.item.is_none() => {
            let items = dedupe(detect(&Document::from(records).root(), ctx));
            let next_page = pager::next_page(&doc, html, ctx.base, ctx.select.next_page.as_ref());
            ListPage { items, next_page }
        }
        _ => list_page(&doc.root(), html, ctx),
    }
}

/// The page read by the lite parser, with every configured selector compiled for it; `None` when
/// either is beyond the lite reader, or the list is in a Hanweb data island (another document),
/// and html5ever's tree must be used.
fn lite_page<'a>(html: &'a str, select: &Selectors) -> Option<LitePage<'a>> {
    if html.contains("<datastore") && hanweb::records_html(html).is_some() {
        return None;
    }
    let tree = lite::parse(html)?;
    let configured: Vec<&Selector> = [
        &select.item,
        &select.link,
        &select.title,
        &select.date,
        &select.next_page,
    ]
    .into_iter()
    .flatten()
    .collect();
    LitePage::new(tree, &configured)
}

fn list_page<N: Node>(root: &N, html: &str, ctx: &Ctx) -> ListPage {
    let items = match &ctx.select.item {
        Some(item) => root
            .select(item)
            .iter()
            .filter_map(|n| item_of(n, ctx, false))
            .collect(),
        None => detect(root, ctx),
    };
    ListPage {
        items: dedupe(items),
        next_page: pager::next_page_in(root, html, ctx.base, ctx.select.next_page.as_ref()),
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
fn signature(node: &impl Node) -> String {
    let tag = node.tag().unwrap_or_default();
    let class = node.attr("class").unwrap_or_default();
    let class = if class.is_ascii() {
        let kept: String = class.chars().filter(|c| !c.is_ascii_digit()).collect();
        kept.trim().to_string()
    } else {
        DIGITS.replace_all(&class, "").trim().to_string()
    };
    format!("{tag}.{class}")
}

struct Group<N> {
    parent: N,
    signature: String,
    members: Vec<N>,
    /// The most this group can score, pager bonus included, before any item is read.
    bound: f64,
}

struct Candidate<N> {
    score: f64,
    parent: N,
    signature: String,
}

/// Every set of two or more same-shaped siblings, in page order.
fn groups<N: Node>(root: &N) -> Vec<Group<N>> {
    let mut out = Vec::new();
    for node in root.descendant_elements() {
        let children = node.element_children();
        if children.len() < 2 {
            continue;
        }
        let mut groups: Vec<(String, Vec<N>)> = Vec::new();
        for child in children {
            let sig = signature(&child);
            match groups.iter_mut().find(|(s, _)| *s == sig) {
                Some((_, members)) => members.push(child),
                None => groups.push((sig, vec![child])),
            }
        }
        for (signature, members) in groups.into_iter().filter(|(_, m)| m.len() >= 2) {
            // A member without an href yields no item; each item scores at most 3 (all dated)
            // × 1.5 (long titles) × the chrome penalty, and the pager bonus may follow.
            let linked = members.iter().filter(|m| m.has_href_inside()).count();
            let bound = if linked < 2 {
                0.0
            } else {
                linked as f64 * 3.0 * 1.5 * chrome::penalty(&node) * PAGER_BONUS
            };
            out.push(Group {
                parent: node,
                signature,
                members,
                bound,
            });
        }
    }
    out
}

/// The best list on the page. Groups are scored from the most promising down; one whose bound
/// cannot reach the best score found so far is skipped, which cannot change the choice: the
/// skipped group could neither win nor, scoring below the winner's score / 1.6, take a pager
/// bonus that decides it.
fn detect<N: Node>(root: &N, ctx: &Ctx) -> Vec<ListItem> {
    detect_with(root, ctx, true)
}

/// [`detect`], optionally reading every group (to check that skipping changes nothing).
fn detect_with<N: Node>(root: &N, ctx: &Ctx, skip: bool) -> Vec<ListItem> {
    let mut groups = groups(root);
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| groups[b].bound.total_cmp(&groups[a].bound));
    let mut floor = if skip { MIN_SCORE } else { f64::NEG_INFINITY };
    let mut scored: Vec<(usize, Candidate<N>)> = Vec::new();
    for i in order {
        let g = &mut groups[i];
        if g.bound < floor {
            continue;
        }
        let items: Vec<ListItem> = g
            .members
            .iter()
            .filter_map(|m| item_of(m, ctx, true))
            .collect();
        // Separator rows (`<tr><td><hr></td></tr>`) hold nothing and do not count against a list.
        let substantial = g
            .members
            .iter()
            .filter(|m| !m.text().trim().is_empty())
            .count();
        if let Some(score) = score(&g.parent, substantial, &items) {
            if skip {
                floor = floor.max(score);
            }
            let signature = std::mem::take(&mut g.signature);
            scored.push((
                i,
                Candidate {
                    score,
                    parent: g.parent,
                    signature,
                },
            ));
        }
    }
    // Page order, as a full scan would have met them, so that ties fall the same way.
    scored.sort_by_key(|(i, _)| *i);
    let mut candidates: Vec<Candidate<N>> = scored.into_iter().map(|(_, c)| c).collect();
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    // The pager sits next to the real list; only the leaders are worth the look.
    for c in candidates.iter_mut().take(4) {
        if pager_nearby(&c.parent) {
            c.score *= PAGER_BONUS;
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
fn members_of<N: Node>(best: &Candidate<N>) -> Vec<N> {
    let own = signature(&best.parent);
    let containers: Vec<N> = match best.parent.parent() {
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

fn score(parent: &impl Node, members: usize, items: &[ListItem]) -> Option<f64> {
    let n = items.len();
    if n < 2 || (n as f64) < members as f64 * 0.5 {
        return None;
    }
    let dated = items.iter().filter(|i| i.date.is_some()).count() as f64 / n as f64;
    let avg_len = items.iter().map(|i| chars(&i.title)).sum::<usize>() as f64 / n as f64;
    let length = (avg_len / 12.0).clamp(0.15, 1.5);
    Some(n as f64 * (1.0 + 2.0 * dated) * length * chrome::penalty(parent))
}

fn pager_nearby(node: &impl Node) -> bool {
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
