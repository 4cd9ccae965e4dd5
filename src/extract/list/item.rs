//! One list item from one element: its article link, title, date and 置顶 mark, on either tree.

use super::Ctx;
use super::ListItem;
use crate::extract::date::{FoundDate, date_from_url, parse_date};
use crate::extract::dom::Node;
use crate::extract::resolve_link;
use crate::extract::text::{chars, clean_title, looks_cut, squash};

/// The item an element stands for, if it holds one article link. `auto` applies the sanity checks
/// of detection (a real title, few distinct links).
pub(super) fn item_of<N: Node>(member: &N, ctx: &Ctx, auto: bool) -> Option<ListItem> {
    let link = match &ctx.select.link {
        Some(sel) => member
            .select(sel)
            .first()
            .copied()
            .or_else(|| is_link(member).then_some(*member))?,
        None => best_link(member, auto)?,
    };
    let url = resolve_link(ctx.base, &link.attr("href")?)?;
    // The link's text serves the title and the date: squash it once.
    let link_text = squash(&link.text());
    let (raw_title, title_cut) = match &ctx.select.title {
        Some(sel) => {
            let node = member.select(sel).first().copied()?;
            title_of(&node, squash(&node.text()))
        }
        None => title_of(&link, link_text.clone()),
    };
    let (title, marked_pinned) = clean_title(&raw_title);
    if title.is_empty() || (auto && chars(&title) < 4) {
        return None;
    }
    let member_text = squash(&member.text());
    let date = match &ctx.select.date {
        Some(sel) => member
            .select(sel)
            .first()
            .and_then(|d| parse_date(&d.text(), ctx.tz, ctx.now)),
        None => date_near(member, &member_text, &link_text, ctx),
    }
    .or_else(|| date_from_url(url.as_str(), ctx.tz));
    // Without a 置 the marker cannot appear, even where removing the title joins two parts.
    let pinned = marked_pinned
        || (member_text.contains('置') && member_text.replace(&title, "").contains("置顶"));
    Some(ListItem {
        url,
        title,
        title_cut,
        date,
        pinned,
    })
}

fn is_link(node: &impl Node) -> bool {
    node.is_tag("a") && node.attr("href").is_some()
}

/// The member's article link: the one with the longest text (a category tag or "详细" link is
/// shorter). More than three distinct targets make it a menu, not an item.
fn best_link<N: Node>(member: &N, auto: bool) -> Option<N> {
    let links: Vec<N> = if is_link(member) {
        vec![*member]
    } else {
        member.links()
    };
    let usable: Vec<(N, usize)> = links
        .into_iter()
        .filter(|l| l.attr("href").is_some_and(|h| usable_href(&h)))
        .map(|l| {
            let len =
                chars(&squash(&l.text())).max(l.attr("title").map(|t| chars(&t)).unwrap_or(0));
            (l, len)
        })
        .collect();
    // Items hold one to three links: a short list compares faster than a hash set.
    let hrefs: Vec<_> = usable.iter().filter_map(|(l, _)| l.attr("href")).collect();
    let mut distinct: Vec<&str> = Vec::new();
    for href in hrefs.iter().map(|h| h.trim()) {
        if !distinct.contains(&href) {
            distinct.push(href);
        }
    }
    if usable.is_empty() || (auto && distinct.len() > 3) {
        return None;
    }
    usable
        .into_iter()
        .max_by_key(|(_, len)| *len)
        .map(|(l, _)| l)
}

fn usable_href(href: &str) -> bool {
    let h = href.trim();
    let starts = |prefix: &str| {
        h.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    !(h.is_empty() || h.starts_with('#') || starts("javascript:") || starts("mailto:"))
}

/// The title an element shows: its `title` attribute when the text is cut or shorter, minus any
/// date printed inside it (Hanweb puts the date inside the link). `true` when only a cut title
/// was found.
fn title_of(node: &impl Node, squashed: String) -> (String, bool) {
    let mut text = squashed;
    for child in node.element_children() {
        let raw = child.text();
        // Squashing keeps the digits, and a child with fewer than four is never cut out.
        if raw.chars().filter(|c| c.is_ascii_digit()).count() < 4 {
            continue;
        }
        let child_text = squash(&raw);
        if chars(&child_text) <= 25
            && child_text.chars().filter(|c| c.is_ascii_digit()).count() >= 4
            && child_text != text
        {
            text = squash(&text.replace(&child_text, ""));
        }
    }
    let attr = node
        .attr("title")
        .map(|t| tooltip_title(&t, &text))
        .unwrap_or_default();
    let cut_text = looks_cut(&text);
    if !attr.is_empty() && (cut_text || chars(&attr) >= chars(&text)) {
        return (attr, false);
    }
    (text.clone(), cut_text)
}

/// Labels some CMSes (PowerEasy, old ASP sites) put before the title in a multi-line tooltip:
/// `文章标题：…&#10;作者：…&#10;更新时间：…&#10;点击数：…`.
const TITLE_LABELS: [&str; 6] = [
    "文章标题：",
    "文章标题:",
    "新闻标题：",
    "新闻标题:",
    "标题：",
    "标题:",
];

/// The title in a `title` attribute: the whole attribute, or — when it is a multi-line tooltip —
/// the line that carries the title (labelled, or the one the link's own text starts), label off.
fn tooltip_title(raw: &str, text: &str) -> String {
    let lines: Vec<&str> = raw
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let unlabel = |l: &str| -> Option<String> {
        TITLE_LABELS
            .iter()
            .find_map(|p| l.strip_prefix(p))
            .map(squash)
    };
    if let Some(labelled) = lines.iter().find_map(|l| unlabel(l)) {
        return labelled;
    }
    if lines.len() > 1 {
        let start: String = text.chars().take(4).collect();
        if let Some(line) = lines
            .iter()
            .find(|l| !start.is_empty() && l.starts_with(&start))
        {
            return squash(line);
        }
    }
    squash(raw)
}

/// The date printed in the item: in an element named for it; else outside the title; else inside
/// the link; else in the next sibling (lists of bare `<a>` followed by `<span>date</span>`).
fn date_near<N: Node>(
    member: &N,
    member_text: &str,
    link_text: &str,
    ctx: &Ctx,
) -> Option<FoundDate> {
    let outside = if link_text.is_empty() {
        member_text.to_string()
    } else {
        member_text.replacen(link_text, " ", 1)
    };
    // An element named for the date beats a date quoted in a summary line.
    member
        .date_marked()
        .iter()
        .find_map(|d| parse_date(&d.text(), ctx.tz, ctx.now))
        .or_else(|| parse_date(&outside, ctx.tz, ctx.now))
        .or_else(|| parse_date(link_text, ctx.tz, ctx.now))
        .or_else(|| {
            let sibling = member.next_element_sibling().filter(|_| is_link(member))?;
            parse_date(&sibling.text(), ctx.tz, ctx.now)
        })
}
