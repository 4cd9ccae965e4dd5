//! The link to a list's next page.
//!
//! In order: the configured `next_page` selector; a link reading 下页 / 下一页 (VSB's `span.p_next a`
//! and the older `a.Next` both read so); TRS's script-only pager `createPageHTML(…)`, whose two
//! conventions differ by one:
//! - 4 arguments, 0-based: `createPageHTML(pageCount, currentIndex, "index", "html")` — page k+1 is
//!   `index_k.html`;
//! - 6 arguments, 1-based: `createPageHTML('page_div', pageCount, currentPage, 'index', 'html', rows)`
//!   — page 2 is `index_2.html`.
//!
//! VSB numbers its pages backwards (`ldhd.htm`, `ldhd/61.htm`, … `ldhd/1.htm`): following the link,
//! never computing numbers, is what makes that work.

use std::sync::LazyLock;

use dom_query::Document;
use regex::Regex;
use url::Url;

use super::dom::Node;
use super::resolve_link;
use super::text::squash;
use crate::config::Selector;

const NEXT_TEXTS: [&str; 10] = [
    "下页",
    "下一页",
    "下一页>",
    "下一页>>",
    "下页>",
    "下页>>",
    "下一页 >",
    "下一页»",
    "后页",
    "下一页 >>",
];

static TRS_PAGER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"createPageHTML\(\s*(['"][^'"]*['"]\s*,\s*)?(\d+)\s*,\s*(\d+)\s*,\s*['"]([\w-]+)['"]\s*,\s*['"](\w+)['"]"#)
        .expect("static regex")
});

/// The next page of the list at `base`, if there is one.
pub fn next_page(
    doc: &Document,
    html: &str,
    base: &Url,
    configured: Option<&Selector>,
) -> Option<Url> {
    next_page_in(&doc.root(), html, base, configured)
}

/// [`next_page`] on either tree, from its root.
pub(crate) fn next_page_in<N: Node>(
    root: &N,
    html: &str,
    base: &Url,
    configured: Option<&Selector>,
) -> Option<Url> {
    let found = match configured {
        Some(sel) => {
            let first = *root.select(sel).first()?;
            let href = match first.attr("href") {
                Some(h) => h.into_owned(),
                None => first.links().first()?.attr("href")?.into_owned(),
            };
            resolve_link(base, &href)
        }
        None => by_text(root, base).or_else(|| trs(html, base)),
    };
    found.filter(|u| u != base)
}

fn by_text<N: Node>(root: &N, base: &Url) -> Option<Url> {
    root.links().iter().find_map(|a| {
        let class = a.attr("class").unwrap_or_default();
        let raw = a.text();
        // Every text in NEXT_TEXTS has a 页: most links are ruled out before squashing.
        if !raw.contains('页') && !class.contains("Next") {
            return None;
        }
        let text = squash(&raw);
        let says_next = NEXT_TEXTS.contains(&text.as_str())
            || (class.split_whitespace().any(|c| c == "Next") && text.len() <= 12);
        if !says_next {
            return None;
        }
        resolve_link(base, &a.attr("href")?).filter(|u| u != base)
    })
}

fn trs(html: &str, base: &Url) -> Option<Url> {
    let caps = TRS_PAGER.captures(html)?;
    // The 6-argument form starts with the pager's element id, a string.
    let six_arguments = caps.get(1).is_some();
    let count: u32 = caps.get(2)?.as_str().parse().ok()?;
    let current: u32 = caps.get(3)?.as_str().parse().ok()?;
    let (prefix, ext) = (caps.get(4)?.as_str(), caps.get(5)?.as_str());
    let next_index = if six_arguments {
        // 1-based: current page `current`, the next is index_{current+1}.
        (current < count).then_some(current + 1)?
    } else {
        // 0-based: page k+1 is index_k.
        (current + 1 < count).then_some(current + 1)?
    };
    base.join(&format!("{prefix}_{next_index}.{ext}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(html: &str, base: &str) -> Option<String> {
        let base = Url::parse(base).unwrap();
        next_page(&Document::from(html), html, &base, None).map(|u| u.to_string())
    }

    #[test]
    fn vsb_pager_is_followed_backwards() {
        let html = r#"<div class="pb_sys_common"><span class="p_next p_fun"><a href="ldhd/61.htm">下页</a></span><span class="p_last p_fun"><a href="ldhd/1.htm">尾页</a></span></div>"#;
        assert_eq!(
            next(html, "https://x.gov.cn/zqzf/ldhd.htm").as_deref(),
            Some("https://x.gov.cn/zqzf/ldhd/61.htm")
        );
        let html = r#"<a class="Next" href="60.htm">下页</a>"#;
        assert_eq!(
            next(html, "https://x.gov.cn/zqzf/ldhd/61.htm").as_deref(),
            Some("https://x.gov.cn/zqzf/ldhd/60.htm")
        );
        assert_eq!(
            next(
                r#"<span class="p_next_d">下页</span>"#,
                "https://x.gov.cn/a.htm"
            ),
            None
        );
    }

    #[test]
    fn trs_pager_conventions_differ_by_one() {
        let base = "https://x.gov.cn/zwgk/gzdt/index.html";
        assert_eq!(
            next(
                r#"<script>createPageHTML(3, 0, "index", "html");</script>"#,
                base
            )
            .as_deref(),
            Some("https://x.gov.cn/zwgk/gzdt/index_1.html")
        );
        assert_eq!(
            next(
                r#"<script>createPageHTML(3, 2, "index", "html");</script>"#,
                base
            ),
            None
        );
        assert_eq!(
            next(
                r#"<script>createPageHTML('page_div', 2, 1, 'index', 'html', 30);</script>"#,
                base
            )
            .as_deref(),
            Some("https://x.gov.cn/zwgk/gzdt/index_2.html")
        );
        assert_eq!(
            next(
                r#"<script>createPageHTML('page_div', 2, 2, 'index', 'html', 30);</script>"#,
                base
            ),
            None
        );
    }
}
