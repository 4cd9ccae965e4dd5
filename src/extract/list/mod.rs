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

mod detect;
mod item;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use dom_query::Document;
use url::Url;

use super::date::FoundDate;
use super::dom::{LitePage, Node};
use super::text::chars;
use super::{hanweb, lite, pager};
use crate::config::{Selector, Selectors};
use detect::detect;
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
