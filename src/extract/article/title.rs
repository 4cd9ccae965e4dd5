//! The article's title: the element that starts with the list's (cut) title, else the
//! `ArticleTitle` meta tag, else the first plausible heading outside the site's header.
//!
//! A heading may carry the info line inside it — PHPCMS v9's default template writes
//! `<h1>标题<br /><span>2024-04-19 16:40:21 来源：… 点击：</span></h1>` — so a heading's text is read
//! without the child elements that hold a date with a label, or only a date.

use std::sync::LazyLock;

use dom_query::{Document, Matcher, NodeRef};
use regex::Regex;

use super::INFO_LABELS;
use crate::extract::text::{chars, squash, without_cut};

static TITLES: LazyLock<Vec<Matcher>> = LazyLock::new(|| {
    [
        "[class*=titlestyle]",
        "h1",
        ".article-title, .article_title, .arti_title, .detail-title, .news_title, #title, .title",
        "h2",
        "title",
    ]
    .iter()
    .filter_map(|s| Matcher::new(s).ok())
    .collect()
});

/// A whole date as pages print it (`2024-04-19`, `2024/4/19`, `2024年4月19日`, `2024.04.19`).
static DATE_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:19|20)[0-9]{2}\s*(?:[-/.]|年)\s*[0-9]{1,2}\s*(?:[-/.]|月)\s*[0-9]{1,2}")
        .expect("static regex")
});

/// The title `node` shows, without the info line some templates put inside the heading: a child
/// element holding a date and an info label, a bracketed date, or a bare date that ends the
/// heading. A date elsewhere in the heading (`关于调整<font>2024年4月19日</font>作息时间的通知`)
/// is part of the title.
pub(super) fn heading_text(node: &NodeRef) -> String {
    let mut out = String::new();
    collect_heading(node, true, &mut out);
    squash(&out)
}

/// Appends the text of `node`'s children to `out`, leaving out info-line elements; a bare date is
/// left out only as the last thing shown in the heading itself (`top`).
fn collect_heading(node: &NodeRef, top: bool, out: &mut String) {
    let children: Vec<NodeRef> = node.children_it(false).collect();
    let last_shown = children
        .iter()
        .rposition(|c| c.is_element() || (c.is_text() && !c.text().trim().is_empty()))
        .filter(|_| top);
    for (i, child) in children.iter().enumerate() {
        if child.is_text() {
            out.push_str(&child.text());
        } else if child.is_element() {
            let text = child.text();
            let ends = Some(i) == last_shown;
            if !(is_info(&text) || ends && is_date_only(&text)) {
                collect_heading(child, false, out);
            }
        }
    }
}

/// A date with an info label (`2024-04-19 16:40 来源：…`), or a bracketed date (`[2024-04-19]`).
fn is_info(text: &str) -> bool {
    DATE_LIKE.is_match(text)
        && (INFO_LABELS.iter().any(|l| text.contains(l))
            || text.trim_start().starts_with(['[', '(', '（', '【']) && is_date_only(text))
}

/// A short text that is little more than a date.
fn is_date_only(text: &str) -> bool {
    DATE_LIKE
        .find(text)
        .is_some_and(|d| chars(text) <= 25 && chars(text) - chars(d.as_str()) <= 12)
}

pub(super) fn find(
    doc: &Document,
    meta: impl Fn(&[&str]) -> Option<String>,
    hint: Option<&str>,
) -> Option<String> {
    if let Some(t) = hint.and_then(|h| title_by_hint(doc, h)) {
        return Some(t);
    }
    if let Some(t) = meta(&["articletitle"])
        .map(|t| squash(&t))
        .filter(|t| chars(t) >= 2)
    {
        return Some(t);
    }
    for m in TITLES.iter() {
        for node in doc.select_matcher(m).nodes() {
            let mut t = heading_text(node);
            if node.node_name().is_some_and(|n| &*n == "title") {
                // "Article title - Site name" / "Site name_Article title": the longest part.
                t = t
                    .split([' ', '-', '_', '|', '—'])
                    .max_by_key(|p| chars(p))
                    .unwrap_or("")
                    .to_string();
            }
            if (4..=200).contains(&chars(&t)) && !in_chrome(node) {
                return Some(t);
            }
        }
    }
    None
}

/// The shortest element text that starts with the list's title and is not itself cut.
fn title_by_hint(doc: &Document, hint: &str) -> Option<String> {
    let prefix = without_cut(hint);
    if chars(prefix) < 4 {
        return None;
    }
    // Start from the text nodes that open like the title (cheap: they are short), then take the
    // element around them, which also holds the rest of a title split by `<em>` or `<br>`.
    let opening: String = prefix.chars().take(4).collect();
    let mut best: Option<String> = None;
    let first = opening.chars().next().unwrap_or(' ');
    for text in doc.root().descendants_it().filter(|n| n.is_text()) {
        // Squashing every text node of the page is costly; one that lacks the first character
        // cannot start with the opening.
        let raw = text.text();
        if !raw.contains(first) || !squash(&raw).starts_with(&opening) {
            continue;
        }
        let mut current = text.parent();
        for _ in 0..3 {
            let Some(element) = current else { break };
            let t = heading_text(&element);
            if chars(&t) > 200 {
                break;
            }
            if t.starts_with(prefix) && !crate::extract::text::looks_cut(&t) {
                if best.as_ref().is_none_or(|b| chars(&t) < chars(b)) {
                    best = Some(t);
                }
                break;
            }
            current = element.parent();
        }
    }
    best
}

/// Inside the site's header or navigation (the logo is often an `<h1>`).
fn in_chrome(node: &NodeRef) -> bool {
    let mut current = node.parent();
    while let Some(n) = current {
        let tag = n.node_name().map(|t| t.to_string()).unwrap_or_default();
        let class = format!(
            "{} {}",
            n.class().unwrap_or_default(),
            n.id_attr().unwrap_or_default()
        )
        .to_ascii_lowercase();
        if matches!(tag.as_str(), "header" | "nav")
            || class.contains("logo")
            || class.contains("header")
            || class.contains("nav")
        {
            return true;
        }
        current = n.parent();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h1(html: &str) -> String {
        let doc = Document::from(html);
        let node = *doc.select("h1").nodes().first().expect("an h1");
        heading_text(&node)
    }

    #[test]
    fn a_heading_is_read_without_the_info_line_inside_it() {
        // PHPCMS v9's default show template.
        assert_eq!(
            h1(
                "<h1>青川县召开2024年一季度经济运行分析会<br />\n<span>2024-04-19 16:40:21 &nbsp;来源：青川县发展和改革局 评论：<a href=\"#c\">0</a> 点击：<span id=\"hits\"></span></span></h1>"
            ),
            "青川县召开2024年一季度经济运行分析会"
        );
        assert_eq!(
            h1("<h1>城中区召开会议<span>[2024-04-19]</span></h1>"),
            "城中区召开会议"
        );
        assert_eq!(
            h1("<h1>城中区召开会议 <em>2024-04-19</em> </h1>"),
            "城中区召开会议"
        );
        // Dates and highlighted words that belong to the title stay.
        assert_eq!(
            h1("<h1>关于<em>2024年3月</em>工作安排的通知</h1>"),
            "关于2024年3月工作安排的通知"
        );
        assert_eq!(
            h1("<h1>关于调整<font color=red>2024年4月19日</font>至5月1日作息时间的通知</h1>"),
            "关于调整2024年4月19日至5月1日作息时间的通知"
        );
    }
}
