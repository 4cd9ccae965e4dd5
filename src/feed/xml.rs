//! Text helpers shared by the feed writers: every string that reaches an output goes through here.
//!
//! Promises:
//! - [`clean`] removes exactly the characters XML 1.0 forbids (§2.2: everything outside
//!   `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`). Portal pages do
//!   contain such characters (`\u{8}`, `\u{B}`, `\u{1F}`, stray `\u{FFFE}`), and a single one makes a
//!   whole feed unparseable. They are dropped, not replaced, so the text reads as the page meant.
//!   Surrogates cannot occur in a Rust `str`, so they need no handling. Allowed characters, including
//!   the discouraged-but-legal C1 controls (`\u{80}`–`\u{9F}`), are kept as they are.
//! - [`escape`] cleans and then escapes text for use in XML (or HTML) character data *and* in
//!   attribute values quoted with either `"` or `'`: `&`, `<`, `>`, `"`, `'` become entities, and
//!   tab, line feed and carriage return become character references so that attribute-value
//!   normalization cannot turn them into spaces.
//! - [`clean_nonempty`] is the writers' rule for optional text: cleaned, and absent when nothing but
//!   whitespace is left, so that an empty author or summary never becomes an empty element.
//!
//! All functions are pure and deterministic.

/// Whether XML 1.0 allows `c` in a document (production `Char`).
fn allowed(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{A}' | '\u{D}'
            | '\u{20}'..='\u{D7FF}'
            | '\u{E000}'..='\u{FFFD}'
            | '\u{10000}'..='\u{10FFFF}'
    )
}

/// `s` without the characters XML 1.0 forbids.
pub fn clean(s: &str) -> String {
    if s.chars().all(allowed) {
        s.to_owned()
    } else {
        s.chars().filter(|&c| allowed(c)).collect()
    }
}

/// `s` cleaned, or `None` when only whitespace (or nothing) is left.
pub fn clean_nonempty<S: AsRef<str>>(s: Option<S>) -> Option<String> {
    let cleaned = clean(s?.as_ref());
    if cleaned.trim().is_empty() {
        None
    } else {
        Some(cleaned)
    }
}

/// `s` cleaned and escaped for XML/HTML text or a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars().filter(|&c| allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_exactly_the_forbidden_characters() {
        assert_eq!(clean("通知\u{8}公告\u{B}\u{1F}\u{0}"), "通知公告");
        assert_eq!(clean("a\tb\nc\rd"), "a\tb\nc\rd");
        assert_eq!(clean("\u{FFFE}x\u{FFFF}y\u{FFFD}"), "xy\u{FFFD}");
        assert_eq!(
            clean("\u{D7FF}\u{E000}\u{10000}\u{10FFFF}"),
            "\u{D7FF}\u{E000}\u{10000}\u{10FFFF}"
        );
        assert_eq!(clean("\u{7F}\u{85}\u{9F}"), "\u{7F}\u{85}\u{9F}");
        assert_eq!(clean(""), "");
        for c in (0u32..0x20).filter_map(char::from_u32) {
            let kept = matches!(c, '\t' | '\n' | '\r');
            assert_eq!(clean(&c.to_string()).is_empty(), !kept, "{c:?}");
        }
    }

    #[test]
    fn escape_covers_text_and_both_attribute_quotes() {
        assert_eq!(
            escape("A&B <c> \"d\" 'e'\u{8}"),
            "A&amp;B &lt;c&gt; &quot;d&quot; &apos;e&apos;"
        );
        assert_eq!(escape("a\tb\nc\rd"), "a&#9;b&#10;c&#13;d");
        assert_eq!(
            escape("https://x.gov.cn/a?b=1&c=2"),
            "https://x.gov.cn/a?b=1&amp;c=2"
        );
        assert_eq!(escape("中文"), "中文");
    }

    #[test]
    fn clean_nonempty_drops_blank_values() {
        assert_eq!(clean_nonempty(None::<&str>), None);
        assert_eq!(clean_nonempty(Some("")), None);
        assert_eq!(clean_nonempty(Some(" \u{8}\n ")), None);
        assert_eq!(clean_nonempty(Some("张三\u{8}")), Some("张三".to_owned()));
    }
}
