//! Decoding fetched HTML or XML bytes into text.
//!
//! [`decode`] always returns text (malformed sequences become U+FFFD and set `had_errors`) and
//! says which rule chose the encoding. The rules, first that applies wins: a byte-order mark;
//! the `charset` parameter of the HTTP Content-Type; a `<meta charset>`, `<meta http-equiv
//! content="…charset=…">` or `<?xml encoding="…"?>` declaration in the head; valid UTF-8;
//! chardetng's guess with the `cn` top-level-domain hint. Edge cases a reader would not guess:
//!
//! - Every label that resolves to GBK (`gb2312`, `gbk`, `x-gbk`, `GB_2312-80`, `cp936`…)
//!   decodes as GB18030, its superset, and is reported as GB18030, so rare name characters
//!   such as 镕 喆 堃 survive. chardetng's GBK guesses are widened the same way. `cp936`,
//!   `ms936`, `windows-936`, `euc-cn`, `x-euc-cn` and `gb-2312`, which `encoding_rs` (following
//!   WHATWG) does not know but Chinese servers send, are read as GB18030 too.
//! - Declarations are searched up to `</head>` or the first 64 KiB, whichever comes first, not
//!   only the 1024 bytes a browser pre-scans: portal CMSes put long scripts before their meta.
//!   The first declaration with a usable label wins; unusable ones are skipped.
//! - A label `encoding_rs` does not know, or one that maps to its `replacement` encoding
//!   (`iso-2022-kr`…, which would turn the page into a single U+FFFD), is skipped, in the
//!   header as in the document.
//! - A document cannot switch itself to UTF-16 (its declaration was readable as ASCII, so it
//!   is not UTF-16) nor to `x-user-defined`. Such declarations are skipped; the next rule is
//!   then "valid UTF-8", which is what WHATWG's "treat UTF-16 as UTF-8" amounts to for a UTF-8
//!   body, while a non-UTF-8 body gets detection instead of certain mojibake (and is then
//!   reported as `Detected`, not `Meta`). The HTTP header may name UTF-16 and is obeyed.
//! - The header outranks the document even when it is wrong: a header saying `utf-8` on GBK
//!   bytes whose meta says `gbk` decodes as UTF-8 with `had_errors` set. Callers that want a
//!   second opinion can look at `had_errors`.
//! - A body that is valid UTF-8 except for a sequence cut off at its very end (a truncated
//!   download) still counts as UTF-8, with `had_errors` set.

use std::sync::LazyLock;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, GB18030, GBK, REPLACEMENT, UTF_8, UTF_16BE, UTF_16LE, X_USER_DEFINED};
use regex::bytes::Regex;

/// Where the charset decision came from (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    Bom,
    Header,
    Meta,
    Utf8,
    Detected,
}

/// A decoded body and how it was decoded.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub source: CharsetSource,
    /// true when decoding met malformed sequences (replaced by U+FFFD)
    pub had_errors: bool,
}

/// How far into the body declarations are looked for when there is no `</head>` before it.
const HEAD_LIMIT: usize = 64 * 1024;

/// Both declaration forms in one pass, so the first one in document order wins. `(?-u)` lets
/// `[^>]` step over non-UTF-8 bytes (a GBK `<title>` attribute, say) inside a tag. The meta
/// form also covers http-equiv, whose `content` value contains `charset=`.
static DECLARATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?i-u)<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-z0-9_.:\-]+)|<\?xml\b[^>]*?\bencoding\s*=\s*["']?\s*([a-z0-9_.:\-]+)"#,
    )
    .ok()
});

static HEAD_END: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?i-u)</head\s*>").ok());

/// Decode an HTML (or XML) body: BOM, then the charset parameter of the HTTP Content-Type, then a
/// `<meta charset>` / `<meta http-equiv="Content-Type" content="…charset=…">` / `<?xml encoding="…"?>`
/// declaration anywhere in the head (not only the first 1024 bytes: search up to `</head>` or the
/// first 64 KiB), then valid UTF-8, then chardetng with the `cn` TLD hint.
pub fn decode(body: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        let rest = body.get(bom_len..).unwrap_or_default();
        return decode_with(rest, encoding, CharsetSource::Bom);
    }
    if let Some(encoding) = content_type.and_then(header_charset) {
        return decode_with(body, encoding, CharsetSource::Header);
    }
    if let Some(encoding) = declared_charset(body) {
        return decode_with(body, encoding, CharsetSource::Meta);
    }
    match std::str::from_utf8(body) {
        Ok(text) => Decoded {
            text: text.to_owned(),
            encoding: UTF_8,
            source: CharsetSource::Utf8,
            had_errors: false,
        },
        // `error_len() == None` means only the final sequence is incomplete.
        Err(err) if err.error_len().is_none() => decode_with(body, UTF_8, CharsetSource::Utf8),
        Err(_) => decode_with(body, detect(body), CharsetSource::Detected),
    }
}

fn decode_with(bytes: &[u8], encoding: &'static Encoding, source: CharsetSource) -> Decoded {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        source,
        had_errors,
    }
}

/// Names for GBK that Chinese servers and CMSes send but the WHATWG label list (and so
/// `Encoding::for_label`) does not know.
const GBK_ALIASES: [&[u8]; 6] = [
    b"cp936",
    b"ms936",
    b"windows-936",
    b"euc-cn",
    b"x-euc-cn",
    b"gb-2312",
];

/// A label as `encoding_rs` reads it, widened from GBK to GB18030; `None` when it is unknown
/// or would decode everything to U+FFFD.
fn resolve(label: &[u8]) -> Option<&'static Encoding> {
    let trimmed = label.trim_ascii();
    if GBK_ALIASES
        .iter()
        .any(|alias| trimmed.eq_ignore_ascii_case(alias))
    {
        return Some(GB18030);
    }
    match Encoding::for_label(label)? {
        enc if enc == REPLACEMENT => None,
        enc if enc == GBK => Some(GB18030),
        enc => Some(enc),
    }
}

/// The `charset` parameter of a Content-Type value, if it names a usable encoding.
fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'').trim();
        resolve(value.as_bytes())
    })
}

/// The first usable encoding declared in the head.
fn declared_charset(body: &[u8]) -> Option<&'static Encoding> {
    let window = body.get(..HEAD_LIMIT).unwrap_or(body);
    let head_end = HEAD_END
        .as_ref()
        .and_then(|re| re.find(window))
        .map_or(window.len(), |m| m.start());
    let head = window.get(..head_end).unwrap_or(window);
    DECLARATION
        .as_ref()?
        .captures_iter(head)
        .filter_map(|caps| caps.get(1).or_else(|| caps.get(2)))
        .filter_map(|label| resolve(label.as_bytes()))
        .find(|enc| ![UTF_16BE, UTF_16LE, X_USER_DEFINED].contains(enc))
}

/// chardetng's guess for a page from a `.cn` site; only reached for bytes that are not UTF-8.
fn detect(body: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(body, true);
    let guess = detector.guess(Some(b"cn"), Utf8Detection::Allow);
    if guess == GBK { GB18030 } else { guess }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NAMES: &str = "朱镕基、王喆、李堃出席会议。";

    fn gbk(text: &str) -> Vec<u8> {
        GB18030.encode(text).0.into_owned()
    }

    /// A Chinese page long enough for detection, with `head_extra` inside `<head>`.
    fn page(head_extra: &str) -> String {
        let body = "国务院办公厅关于进一步优化政务服务提升行政效能推动“高效办成一件事”的指导意见。\
                    各省、自治区、直辖市人民政府，国务院各部委、各直属机构："
            .repeat(4);
        format!(
            "<!DOCTYPE html><html><head><title>通知公告</title>{head_extra}</head>\
             <body><p>{NAMES}</p><p>{body}</p></body></html>"
        )
    }

    fn long_script() -> String {
        format!("<script>/* {} */</script>", "x".repeat(1500))
    }

    fn assert_decoded(got: &Decoded, want: (&str, &Encoding, CharsetSource, bool), case: &str) {
        let (text, encoding, source, had_errors) = want;
        assert_eq!(got.encoding, encoding, "{case}: encoding");
        assert_eq!(got.source, source, "{case}: source");
        assert_eq!(got.had_errors, had_errors, "{case}: had_errors");
        if !had_errors {
            assert_eq!(got.text, text, "{case}: text");
        }
    }

    #[test]
    fn gbk_pages_decode_as_gb18030_whichever_rule_finds_them() {
        let meta = r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#;
        let late_meta = page(&format!("{}{meta}", long_script()));
        let plain = page("");
        let cases: [(&str, &str, Option<&str>, CharsetSource); 5] = [
            (
                "header only",
                &plain,
                Some("text/html; charset=GBK"),
                CharsetSource::Header,
            ),
            (
                "meta after 1500 bytes",
                &late_meta,
                Some("text/html"),
                CharsetSource::Meta,
            ),
            (
                "header and meta",
                &late_meta,
                Some("text/html;charset=gbk"),
                CharsetSource::Header,
            ),
            ("neither", &plain, None, CharsetSource::Detected),
            (
                "meta charset",
                &page("<META CHARSET = 'GbK' >"),
                None,
                CharsetSource::Meta,
            ),
        ];
        for (case, html, content_type, source) in cases {
            let got = decode(&gbk(html), content_type);
            assert_decoded(&got, (html, GB18030, source, false), case);
            assert!(got.text.contains(NAMES), "{case}: rare characters lost");
        }
    }

    #[test]
    fn every_gbk_label_widens_to_gb18030() {
        for label in [
            "gb2312",
            "gbk",
            "x-gbk",
            "GB_2312-80",
            "cp936",
            "GB2312",
            "chinese",
            " CP936 ",
            "euc-cn",
            "gb18030",
        ] {
            let html = page("");
            let got = decode(&gbk(&html), Some(&format!("text/html; charset={label}")));
            assert_decoded(&got, (&html, GB18030, CharsetSource::Header, false), label);
        }
    }

    #[test]
    fn header_charset_tolerates_quotes_spacing_and_case() {
        let html = page("");
        for content_type in [
            r#"text/html; charset="gbk""#,
            "text/html ;  CharSet = \"GBK\" ",
            "text/html;charset='gb2312';",
            "text/html; format=flowed; charset=GBK",
            "charset=gbk",
        ] {
            let got = decode(&gbk(&html), Some(content_type));
            assert_decoded(
                &got,
                (&html, GB18030, CharsetSource::Header, false),
                content_type,
            );
        }
    }

    #[test]
    fn utf8_is_read_with_or_without_a_bom() {
        // Ends in a multi-byte character so that cutting one byte leaves it incomplete.
        let html = format!("{}结束", page(""));
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(html.as_bytes());
        let truncated = html.as_bytes().get(..html.len() - 1).unwrap_or_default();
        type Case<'a> = (&'a str, &'a [u8], Option<&'a str>, CharsetSource, bool);
        let cases: [Case<'_>; 4] = [
            ("no bom", html.as_bytes(), None, CharsetSource::Utf8, false),
            ("bom", &with_bom, None, CharsetSource::Bom, false),
            (
                "bom beats header",
                &with_bom,
                Some("text/html; charset=gbk"),
                CharsetSource::Bom,
                false,
            ),
            (
                "cut in the last character",
                truncated,
                None,
                CharsetSource::Utf8,
                true,
            ),
        ];
        for (case, bytes, content_type, source, had_errors) in cases {
            let got = decode(bytes, content_type);
            assert_decoded(&got, (&html, UTF_8, source, had_errors), case);
        }
    }

    #[test]
    fn unusable_labels_fall_through_to_the_next_rule() {
        let gbk_meta = page(r#"<meta charset="bogus"><meta charset="gbk">"#);
        let utf16_meta = page(r#"<meta charset="utf-16">"#);
        let user_defined = page(r#"<meta charset="x-user-defined">"#);
        let after_head = format!("{}<meta charset=gbk>", page(""));
        type Case<'a> = (
            &'a str,
            Vec<u8>,
            Option<&'a str>,
            &'static Encoding,
            CharsetSource,
        );
        let cases: [Case<'_>; 7] = [
            (
                "unknown header label",
                gbk(&gbk_meta),
                Some("text/html; charset=foo-bar"),
                GB18030,
                CharsetSource::Meta,
            ),
            (
                "replacement header label",
                gbk(&gbk_meta),
                Some("text/html; charset=iso-2022-kr"),
                GB18030,
                CharsetSource::Meta,
            ),
            (
                "empty header label",
                gbk(&gbk_meta),
                Some("text/html; charset="),
                GB18030,
                CharsetSource::Meta,
            ),
            (
                "unknown label to utf-8",
                page("<meta charset=foo>").into_bytes(),
                Some("text/html; charset=bar"),
                UTF_8,
                CharsetSource::Utf8,
            ),
            (
                "utf-16 meta",
                utf16_meta.into_bytes(),
                None,
                UTF_8,
                CharsetSource::Utf8,
            ),
            (
                "x-user-defined meta",
                user_defined.into_bytes(),
                None,
                UTF_8,
                CharsetSource::Utf8,
            ),
            (
                "meta after </head>",
                after_head.into_bytes(),
                None,
                UTF_8,
                CharsetSource::Utf8,
            ),
        ];
        for (case, bytes, content_type, encoding, source) in cases {
            let got = decode(&bytes, content_type);
            assert_eq!(
                (got.encoding, got.source, got.had_errors),
                (encoding, source, false),
                "{case}"
            );
        }
    }

    #[test]
    fn a_wrong_header_outranks_a_right_meta() {
        let html = page(r#"<meta charset="gbk">"#);
        let got = decode(&gbk(&html), Some("text/html; charset=utf-8"));
        assert_eq!(
            (got.encoding, got.source, got.had_errors),
            (UTF_8, CharsetSource::Header, true)
        );
        assert!(got.text.contains('\u{FFFD}'));
    }

    #[test]
    fn header_may_name_utf16() {
        // encoding_rs only decodes UTF-16, so the bytes are built by hand.
        let utf16: Vec<u8> = "通知".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let got = decode(&utf16, Some("text/html; charset=utf-16le"));
        assert_eq!(
            (got.text.as_str(), got.source),
            ("通知", CharsetSource::Header)
        );
    }

    #[test]
    fn xml_declarations_count_as_meta() {
        let xml =
            format!("<?xml version=\"1.0\" encoding=\"GB2312\"?><rss><title>{NAMES}</title></rss>");
        let got = decode(&gbk(&xml), None);
        assert_decoded(&got, (&xml, GB18030, CharsetSource::Meta, false), "xml");
    }

    #[test]
    fn declarations_past_64_kib_are_not_seen() {
        let html = page(&format!(
            "<script>{}</script><meta charset=gbk>",
            "x".repeat(HEAD_LIMIT)
        ));
        let got = decode(html.as_bytes(), None);
        assert_eq!(got.source, CharsetSource::Utf8);
    }

    proptest! {
        #[test]
        fn decode_never_panics_on_random_bytes(
            body in proptest::collection::vec(any::<u8>(), 0..2048),
            content_type in proptest::option::of("\\PC{0,40}"),
        ) {
            let got = decode(&body, content_type.as_deref());
            prop_assert!(got.text.len() <= body.len() * 3 + 3);
        }

        #[test]
        fn decode_never_panics_on_broken_markup(
            head in "(<meta[ a-z=\"';-]{0,30}>|<\\?xml[ a-z=\"'0-9-]{0,30}|</head>|[\\x00-\\xff]{0,8}){0,8}",
            tail in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut body = head.into_bytes();
            body.extend(tail);
            let _ = decode(&body, None);
        }
    }
}
