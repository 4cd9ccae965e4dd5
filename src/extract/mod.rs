//! Extraction: from a decoded page to items (list pages) or to an article's parts (article pages).
//!
//! Pure functions of (HTML text, page URL, selectors, time zone, now): no I/O, so everything here is
//! tested on fixture text and benchmarked alone. Configured selectors are used where given; every
//! part left unconfigured is found by the heuristics in [`list`] (the repeated block of dated
//! article links, not the navigation, ticker or side columns) and [`article`] (title, time, 来源,
//! author and the body without a portal's boilerplate). Links come out absolute, resolved against
//! the page's final URL. Bodies come out sanitized ([`body`]).

pub mod article;
pub mod attachments;
pub mod body;
mod chrome;
mod cut;
pub mod date;
mod dom;
mod hanweb;
pub mod list;
mod lite;
pub mod pager;
mod redirect;
mod text;

use serde::{Deserialize, Serialize};
use url::Url;

pub use article::{Article, extract_article};
pub use date::FoundDate;
pub use list::{ListItem, ListPage, extract_list};

/// A file linked from an article (pdf, doc, xls, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    pub url: String,
    pub mime: String,
}

/// Why a page yielded nothing usable.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error(
        "list page yielded no items (has the page layout changed? check the source's select keys)"
    )]
    NoItems,
    #[error("not an article page: {0}")]
    NotAnArticle(String),
    /// The page only sends the reader elsewhere (to this URL, when the page says which).
    #[error("the page only redirects the reader{}", .0.as_ref().map(|u| format!(" to {u}")).unwrap_or_default())]
    Redirect(Option<Url>),
}

/// `href` resolved against `base`, if it is a link to a web page: `javascript:`, `mailto:`, `#…`
/// and empty links are not.
pub fn resolve_link(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    let lower = href.get(..11).unwrap_or(href).to_ascii_lowercase();
    if href.is_empty()
        || href.starts_with('#')
        || lower.starts_with("javascript:")
        || lower.starts_with("mailto:")
        || lower.starts_with("tel:")
    {
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// Whether `url` is on the same site as `base` (same host, ignoring a leading `www.`).
pub fn same_site(base: &Url, url: &Url) -> bool {
    let strip = |h: &str| {
        h.strip_prefix("www.")
            .map(str::to_string)
            .unwrap_or_else(|| h.to_string())
    };
    match (base.host_str(), url.host_str()) {
        // Explicit ports must match (fixture sites differ only by port); default ports are None.
        (Some(a), Some(b)) => strip(a) == strip(b) && base.port() == url.port(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_the_page_and_scripts_are_not_links() {
        let base = Url::parse("https://xncz.gov.cn/zqzf/ldhd/7.htm").unwrap();
        assert_eq!(
            resolve_link(&base, "../../info/1012/10234.htm")
                .unwrap()
                .as_str(),
            "https://xncz.gov.cn/info/1012/10234.htm"
        );
        assert_eq!(
            resolve_link(&base, " 6.htm#top").unwrap().as_str(),
            "https://xncz.gov.cn/zqzf/ldhd/6.htm"
        );
        for bad in [
            "javascript:;",
            "JavaScript:window.close()",
            "#",
            "",
            "mailto:a@b.cn",
        ] {
            assert_eq!(resolve_link(&base, bad), None, "{bad}");
        }
    }

    #[test]
    fn www_prefix_is_the_same_site_but_other_hosts_are_not() {
        let base = Url::parse("https://xncz.gov.cn/zqzf/ldhd.htm").unwrap();
        assert!(same_site(
            &base,
            &Url::parse("https://www.xncz.gov.cn/info/1.htm").unwrap()
        ));
        assert!(same_site(
            &base,
            &Url::parse("http://xncz.gov.cn/info/1.htm").unwrap()
        ));
        assert!(!same_site(
            &base,
            &Url::parse("https://mp.weixin.qq.com/s/x").unwrap()
        ));
    }
}
