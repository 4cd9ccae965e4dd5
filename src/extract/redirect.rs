//! Article pages that only send the reader elsewhere.
//!
//! Boda VSB publishes an external-link article (a WeChat post, a province's page) as an `/info/…`
//! page whose script asks the server for the target (`NewsvoteDWR.getNewsLinkUrl(…)`) and then
//! sets `location`; other CMSes write the target straight into `location.href = "…"`,
//! `location.replace("…")` or a `<meta http-equiv="refresh">`. Such a page has no article to
//! extract, and trying again later would only find the same script: the item is external.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

/// VSB's external-link call.
const VSB_LINK_CALL: &str = "getNewsLinkUrl(";

static SCRIPT_TARGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:\blocation(?:\.href)?\s*=\s*|\blocation\.(?:replace|assign)\(\s*)["']([^"'\s]+)["']"#,
    )
    .expect("static regex")
});

static META_REFRESH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)<meta\s[^>]*http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']\s*\d+\s*;\s*url\s*=\s*['"]?([^"'>\s]+)"#,
    )
    .expect("static regex")
});

/// Where a page that yielded no article sends the reader: `Some(None)` when it redirects to a
/// target computed at run time (VSB's call), `Some(Some(url))` when the target is written in the
/// page, `None` when the page does not redirect.
pub fn find(html: &str, base: &Url) -> Option<Option<Url>> {
    if html.contains(VSB_LINK_CALL) {
        return Some(None);
    }
    let target = SCRIPT_TARGET
        .captures(html)
        .or_else(|| META_REFRESH.captures(html))?
        .get(1)?
        .as_str();
    Some(super::resolve_link(base, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://xncz.gov.cn/info/1012/10240.htm").unwrap()
    }

    #[test]
    fn vsb_external_link_pages_redirect_to_a_target_known_only_at_run_time() {
        let page = r#"<html><head><title>城中区</title></head><body><script>
            NewsvoteDWR.getNewsLinkUrl(10240,'1609314488','vsb',newsSkip);
            function newsSkip(data){ window.location.href = data; }</script></body></html>"#;
        assert_eq!(find(page, &base()), Some(None));
    }

    #[test]
    fn targets_written_in_the_page_are_resolved() {
        for (page, want) in [
            (
                r#"<script>window.location.href="https://mp.weixin.qq.com/s/abc";</script>"#,
                "https://mp.weixin.qq.com/s/abc",
            ),
            (
                r#"<script>location.replace('../../xwzx/ttxw/1.htm')</script>"#,
                "https://xncz.gov.cn/xwzx/ttxw/1.htm",
            ),
            (
                r#"<META HTTP-EQUIV="Refresh" CONTENT="0; URL=http://www.qinghai.gov.cn/a.html">"#,
                "http://www.qinghai.gov.cn/a.html",
            ),
        ] {
            assert_eq!(
                find(page, &base()),
                Some(Some(Url::parse(want).unwrap())),
                "{page}"
            );
        }
    }

    #[test]
    fn pages_without_a_redirect_are_not_taken_for_one() {
        for page in [
            "<html><body><p>系统提示：该信息不存在</p></body></html>",
            r#"<script>var l = location.pathname; if (l == "x") {}</script>"#,
            r#"<a href="javascript:window.print()">打印</a>"#,
        ] {
            assert_eq!(find(page, &base()), None, "{page}");
        }
    }
}
