//! Small text helpers shared by the extractors.

/// Collapses runs of white space (including U+00A0 and U+3000) to one space and trims.
pub fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if blank(c) {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// Whitespace, no-break and ideographic spaces, and the zero-width space. Nothing above U+3000
/// is blank, which spares most Chinese characters Unicode's whitespace table.
fn blank(c: char) -> bool {
    c <= '\u{3000}' && (c.is_whitespace() || c == '\u{200b}')
}

/// Whether a list shows a title cut short ("…", "...", "..").
pub fn looks_cut(title: &str) -> bool {
    let t = title.trim_end();
    t.ends_with('…') || t.ends_with("..") || t.ends_with("。。。")
}

/// The title without a cut marker, for prefix comparisons.
pub fn without_cut(title: &str) -> &str {
    title
        .trim_end()
        .trim_end_matches(['…', '.', '。'])
        .trim_end()
}

/// A list title cleaned of bullets and 置顶 markers; `true` when it carried a 置顶 marker.
pub fn clean_title(raw: &str) -> (String, bool) {
    let mut t = squash(raw);
    let mut pinned = false;
    for marker in [
        "【置顶】",
        "[置顶]",
        "［置顶］",
        "(置顶)",
        "（置顶）",
        "置顶",
    ] {
        if let Some(rest) = t.strip_prefix(marker) {
            t = rest.trim_start().to_string();
            pinned = true;
        }
    }
    let t = t
        .trim_start_matches([
            '·', '•', '●', '■', '□', '►', '»', '>', '◆', '◇', '★', '☆', '-', ' ',
        ])
        .trim();
    (t.to_string(), pinned)
}

/// The first `max` characters of `s`, with "…" when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

/// Number of characters.
pub fn chars(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_lose_bullets_and_pin_markers() {
        assert_eq!(
            clean_title(" · 城中区召开会议 "),
            ("城中区召开会议".into(), false)
        );
        assert_eq!(
            clean_title("【置顶】 关于开展工作的通知"),
            ("关于开展工作的通知".into(), true)
        );
        assert_eq!(squash("a\u{a0}\u{3000} b\n\tc"), "a b c");
        assert!(looks_cut("城中区召开2024年教育督导…"));
        assert_eq!(without_cut("城中区召开..."), "城中区召开");
        assert_eq!(excerpt("一二三四五", 3), "一二三…");
    }
}
