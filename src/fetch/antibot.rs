//! Recognising a web application firewall's challenge instead of the page.
//!
//! Government portals sit behind WAFs (wzws, 安全狗, 知道创宇…) that answer 412/405, or 200 with a
//! ~1 KB page whose only content is a script that sets a cookie and reloads. Stored as a page, that
//! would look like a layout change (no items) or, worse, like an article; it is reported instead as
//! "blocked by the portal's firewall".

/// Why `text` (a 200 body) looks like a challenge page, or `None`.
pub fn challenge(text: &str) -> Option<&'static str> {
    if text.len() > 6_000 {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    if !lower.contains("<script") {
        return None;
    }
    if lower.contains("wzws") {
        return Some("wzws challenge page");
    }
    // A CMS's external-link article also runs a script and shows nothing, but it sends the reader
    // away without setting a cookie or reloading: VSB's `getNewsLinkUrl(…)` call, or a literal
    // absolute address. That is a page (the extractor calls it a redirect), not a challenge.
    let sets_cookie_or_reloads =
        lower.contains("document.cookie") || lower.contains("location.reload");
    let sends_away = lower.contains("getnewslinkurl(")
        || (lower.contains("location") && (lower.contains("\"http") || lower.contains("'http")));
    if sends_away && !sets_cookie_or_reloads {
        return None;
    }
    let has_links = lower.contains("<a ") && lower.contains("href=");
    let visible = visible_text_len(&lower);
    let script_acts = [
        "document.cookie",
        "location.reload",
        "location.href",
        "window.location",
        "location.replace",
    ]
    .iter()
    .any(|s| lower.contains(s));
    (!has_links && visible < 40 && script_acts)
        .then_some("a script-only page that sets a cookie or reloads")
}

/// Characters outside tags and scripts, roughly.
fn visible_text_len(lower: &str) -> usize {
    let mut rest = lower;
    let mut count = 0;
    while let Some(start) = rest.find("<script") {
        count += text_outside_tags(&rest[..start]);
        rest = match rest[start..].find("</script>") {
            Some(end) => &rest[start + end + 9..],
            None => "",
        };
    }
    count + text_outside_tags(rest)
}

fn text_outside_tags(s: &str) -> usize {
    let mut in_tag = false;
    s.chars()
        .filter(|c| {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                _ => return !in_tag && !c.is_whitespace(),
            }
            false
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::challenge;

    #[test]
    fn script_only_cookie_page_is_a_challenge() {
        let page = r#"<html><head><script>var _0x1=1;document.cookie="wzws_cid=abc";location.reload();</script></head><body></body></html>"#;
        assert!(challenge(page).is_some());
        let page =
            r#"<html><script>document.cookie="x=1";window.location.href="/";</script></html>"#;
        assert!(challenge(page).is_some());
    }

    #[test]
    fn small_real_pages_are_not_challenges() {
        let page = r#"<html><head><script>var a=1;</script></head><body><a href="/info/1/2.htm">城中区召开会议</a> 2024-03-05</body></html>"#;
        assert_eq!(challenge(page), None);
        assert_eq!(challenge("<html><body>404 页面不存在</body></html>"), None);
    }

    #[test]
    fn external_link_articles_are_pages_not_challenges() {
        let vsb = r#"<html><body><script>NewsvoteDWR.getNewsLinkUrl(10240,'1609314488','vsb',newsSkip);function newsSkip(d){window.location.href=d;}</script></body></html>"#;
        assert_eq!(challenge(vsb), None);
        let literal = r#"<html><script>window.location.href="https://mp.weixin.qq.com/s/abc";</script></html>"#;
        assert_eq!(challenge(literal), None);
        let with_cookie = r#"<html><script>document.cookie="t=1";location.href="https://x.gov.cn/";</script></html>"#;
        assert!(challenge(with_cookie).is_some());
    }
}
