//! The tokenizer half of the lite parser: tags, attributes, text and character references, read
//! the way html5ever reads them, or `None` ("not sure") for anything this reader does not model.
//!
//! Not modelled, so reported as unsure: character references outside a small table, numeric
//! references to control characters, NUL bytes, bogus comments (`<?…>`, `<!x…>`, `</ …>`), comments
//! that html5ever closes early (`<!-->`, `--!>`), and script text holding `<!--` (html5ever's
//! escaped script states). Every `None` sends the caller back to the full html5ever parse.

use std::borrow::Cow;

/// Named references written with `;` that this reader decodes. Any other `&name;` is unsure.
const NAMED: [(&str, &str); 26] = [
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", "\u{a0}"),
    ("copy", "©"),
    ("reg", "®"),
    ("middot", "·"),
    ("mdash", "—"),
    ("ndash", "–"),
    ("ldquo", "“"),
    ("rdquo", "”"),
    ("lsquo", "‘"),
    ("rsquo", "’"),
    ("hellip", "…"),
    ("times", "×"),
    ("bull", "•"),
    ("emsp", "\u{2003}"),
    ("ensp", "\u{2002}"),
    ("laquo", "«"),
    ("raquo", "»"),
    ("deg", "°"),
    ("yen", "¥"),
    ("sect", "§"),
    ("para", "¶"),
];

/// The references html5ever also decodes without a `;` (the legacy ones). A run of letters that
/// starts with one of these is decoded in text, so this reader cannot tell what it becomes.
#[rustfmt::skip]
const LEGACY: [&str; 106] = [
    "AElig", "AMP", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "COPY", "Ccedil",
    "ETH", "Eacute", "Ecirc", "Egrave", "Euml", "GT", "Iacute", "Icirc", "Igrave", "Iuml", "LT",
    "Ntilde", "Oacute", "Ocirc", "Ograve", "Oslash", "Otilde", "Ouml", "QUOT", "REG", "THORN",
    "Uacute", "Ucirc", "Ugrave", "Uuml", "Yacute", "aacute", "acirc", "acute", "aelig", "agrave",
    "amp", "aring", "atilde", "auml", "brvbar", "ccedil", "cedil", "cent", "copy", "curren", "deg",
    "divide", "eacute", "ecirc", "egrave", "eth", "euml", "frac12", "frac14", "frac34", "gt",
    "iacute", "icirc", "iexcl", "igrave", "iquest", "iuml", "laquo", "lt", "macr", "micro",
    "middot", "nbsp", "not", "ntilde", "oacute", "ocirc", "ograve", "ordf", "ordm", "oslash",
    "otilde", "ouml", "para", "plusmn", "pound", "quot", "raquo", "reg", "sect", "shy", "sup1",
    "sup2", "sup3", "szlig", "thorn", "times", "uacute", "ucirc", "ugrave", "uml", "uuml",
    "yacute", "yen", "yuml",
];

/// HTML's white space (not Unicode's: U+00A0 and U+3000 are text to the parser).
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Text or an attribute value as html5ever hands it on: references decoded, CR LF and lone CR as LF.
pub fn decode(raw: &str, in_attribute: bool) -> Option<Cow<'_, str>> {
    if memchr::memchr2(b'&', b'\r', raw.as_bytes()).is_none() {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\r']) {
        out.push_str(&rest[..i]);
        if rest.as_bytes()[i] == b'\r' {
            out.push('\n');
            rest = rest[i + 1..].strip_prefix('\n').unwrap_or(&rest[i + 1..]);
            continue;
        }
        let used = reference(&rest[i + 1..], in_attribute, &mut out)?;
        rest = &rest[i + 1 + used..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

/// Raw text (script, style) as html5ever hands it on: no references, but CR LF and CR as LF.
pub fn decode_newlines(raw: &str) -> Cow<'_, str> {
    if raw.contains('\r') {
        Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(raw)
    }
}

/// Decodes the reference after an `&` into `out`; the bytes used after the `&`.
fn reference(after: &str, in_attribute: bool, out: &mut String) -> Option<usize> {
    let bytes = after.as_bytes();
    if bytes.first() == Some(&b'#') {
        return numeric(after, out);
    }
    let run = bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if run == 0 {
        out.push('&');
        return Some(0);
    }
    let name = &after[..run];
    if bytes.get(run) == Some(&b';') {
        let (_, value) = NAMED.iter().find(|(n, _)| *n == name)?;
        out.push_str(value);
        return Some(run + 1);
    }
    let legacy = LEGACY
        .iter()
        .filter(|l| name.starts_with(**l))
        .max_by_key(|l| l.len());
    match legacy {
        None => {}
        // In an attribute a legacy name followed by a letter, digit or `=` stays as written.
        Some(l) if in_attribute && (l.len() < run || bytes.get(run) == Some(&b'=')) => {}
        Some(_) => return None,
    }
    out.push('&');
    Some(0)
}

fn numeric(after: &str, out: &mut String) -> Option<usize> {
    let bytes = after.as_bytes();
    let hex = matches!(bytes.get(1), Some(b'x' | b'X'));
    let start = if hex { 2 } else { 1 };
    let digits = bytes[start..]
        .iter()
        .take_while(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if digits == 0 || digits > 7 || bytes.get(start + digits) != Some(&b';') {
        return None;
    }
    let value =
        u32::from_str_radix(&after[start..start + digits], if hex { 16 } else { 10 }).ok()?;
    // Control characters, C1 (mapped through windows-1252), surrogates and non-characters are
    // replaced or remapped by html5ever: not modelled.
    let plain = matches!(value, 0x09 | 0x0a | 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfdcf | 0xfdf0..=0xfffd)
        || ((0x1_0000..=0x10_fffd).contains(&value) && value & 0xfffe != 0xfffe);
    if !plain {
        return None;
    }
    out.push(char::from_u32(value)?);
    Some(start + digits + 1)
}

/// One start tag, from its `<` up to and including its `>`.
pub struct StartTag<'a> {
    pub name: Cow<'a, str>,
    /// Where its attributes are, in the tree's shared list.
    pub attrs: std::ops::Range<u32>,
    /// Offset just past the `>`.
    pub end: usize,
}

fn lower(s: &str) -> Option<Cow<'_, str>> {
    // One pass: any non-ASCII byte gives up, any capital asks for a lowercased copy.
    let mut upper = false;
    for &b in s.as_bytes() {
        if !b.is_ascii() {
            return None;
        }
        upper |= b.is_ascii_uppercase();
    }
    Some(if upper {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    })
}

fn name_end(bytes: &[u8], from: usize, stop_at_eq: bool) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| is_space(b) || b == b'/' || b == b'>' || (stop_at_eq && b == b'='))
        .map_or(bytes.len(), |p| from + p)
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_space(bytes[at]) {
        at += 1;
    }
    at
}

/// The start tag at `at` (which holds `<` followed by an ASCII letter).
/// Its attributes are pushed onto `attrs` (shared by the whole tree, to save an allocation per
/// element).
pub fn start_tag<'a>(
    src: &'a str,
    at: usize,
    attrs: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
) -> Option<StartTag<'a>> {
    let bytes = src.as_bytes();
    let name_stop = name_end(bytes, at + 1, false);
    let name = lower(&src[at + 1..name_stop])?;
    let first = attrs.len();
    let mut i = name_stop;
    loop {
        while i < bytes.len()
            && (is_space(bytes[i]) || (bytes[i] == b'/' && bytes.get(i + 1) != Some(&b'>')))
        {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => {
                return Some(StartTag {
                    name,
                    attrs: first as u32..attrs.len() as u32,
                    end: i + 1,
                });
            }
            b'/' => {
                return Some(StartTag {
                    name,
                    attrs: first as u32..attrs.len() as u32,
                    end: i + 2,
                });
            }
            b'=' | b'"' | b'\'' | b'<' => return None,
            _ => {}
        }
        let stop = name_end(bytes, i, true);
        let attr = lower(&src[i..stop])?;
        if attr.bytes().any(|b| matches!(b, b'"' | b'\'' | b'<')) {
            return None;
        }
        i = skip_space(bytes, stop);
        let mut value = Cow::Borrowed("");
        if bytes.get(i) == Some(&b'=') {
            i = skip_space(bytes, i + 1);
            let (decoded, next) = attr_value(src, i)?;
            value = decoded;
            i = next;
        }
        // html5ever keeps the first of two attributes with one name.
        if !attrs[first..].iter().any(|(n, _)| *n == attr) {
            attrs.push((attr, value));
        }
    }
}

/// The value at `at`, decoded, and the offset after it. A quoted value's end and whether it has
/// anything to decode (a reference, a carriage return) come from one search.
fn attr_value(src: &str, at: usize) -> Option<(Cow<'_, str>, usize)> {
    let bytes = src.as_bytes();
    match bytes.get(at)? {
        q @ (b'"' | b'\'') => {
            let from = at + 1;
            let first = memchr::memchr3(*q, b'&', b'\r', &bytes[from..])? + from;
            if bytes[first] == *q {
                return Some((Cow::Borrowed(&src[from..first]), first + 1));
            }
            let close = memchr::memchr(*q, &bytes[first..])? + first;
            Some((decode(&src[from..close], true)?, close + 1))
        }
        b'>' => Some((Cow::Borrowed(""), at)),
        _ => {
            let stop = bytes[at..]
                .iter()
                .position(|&b| is_space(b) || b == b'>')
                .map_or(bytes.len(), |p| at + p);
            Some((decode(&src[at..stop], true)?, stop))
        }
    }
}

/// The end tag at `at` (`</` followed by an ASCII letter): its name and the offset past its `>`.
pub fn end_tag(src: &str, at: usize) -> Option<(Cow<'_, str>, usize)> {
    let bytes = src.as_bytes();
    let stop = name_end(bytes, at + 2, false);
    let name = lower(&src[at + 2..stop])?;
    if bytes.get(stop) == Some(&b'>') {
        return Some((name, stop + 1)); // `</div>`: the usual case
    }
    // Attributes on an end tag are dropped by html5ever, but a quoted `>` would move the end.
    let close = memchr::memchr(b'>', &bytes[stop..])? + stop;
    if bytes[stop..close].iter().any(|&b| b == b'"' || b == b'\'') {
        return None;
    }
    Some((name, close + 1))
}

/// The comment at `at` (`<!--`): the offset past its `-->`.
pub fn comment(src: &str, at: usize) -> Option<usize> {
    let body = &src[at + 4..];
    if body.starts_with('>') || body.starts_with("->") {
        return None;
    }
    let close = memchr::memmem::find(body.as_bytes(), b"-->")?;
    if memchr::memmem::find(&body.as_bytes()[..close], b"--!").is_some() {
        return None;
    }
    Some(at + 4 + close + 3)
}

/// Where the raw text of `<name>` (script, style, title, iframe) ends: the start of its end tag,
/// and the offset past that end tag.
pub fn raw_text_end(src: &str, from: usize, name: &str) -> Option<(usize, usize)> {
    let bytes = src.as_bytes();
    let mut at = from;
    loop {
        let lt = memchr::memmem::find(&bytes[at..], b"</")? + at;
        let after = lt + 2 + name.len();
        let matches = bytes
            .get(lt + 2..after)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if matches
            && bytes
                .get(after)
                .is_some_and(|&b| is_space(b) || b == b'/' || b == b'>')
        {
            if name == "script" && double_escaped(&bytes[from..lt]) {
                return None;
            }
            let (_, end) = end_tag(src, lt)?;
            return Some((lt, end));
        }
        at = lt + 2;
    }
}

/// Whether script text may enter html5ever's double-escaped state (`<!--` then `<script`), where
/// `</script>` does not end the script. A bare `<!-- … //-->` around old scripts does not.
fn double_escaped(script: &[u8]) -> bool {
    let Some(open) = memchr::memmem::find(script, b"<!--") else {
        return false;
    };
    script[open..]
        .windows(7)
        .any(|w| w[0] == b'<' && w[1..].eq_ignore_ascii_case(b"script"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_decode_like_html5ever_or_are_unsure() {
        assert_eq!(
            decode("a&nbsp;b&amp;c&#22478;", false).as_deref(),
            Some("a\u{a0}b&c城")
        );
        assert_eq!(
            decode("x.jsp?a=1&b=2&wbtreeid=9", true).as_deref(),
            Some("x.jsp?a=1&b=2&wbtreeid=9")
        );
        assert_eq!(decode("?x=1&copy=2", true).as_deref(), Some("?x=1&copy=2"));
        assert_eq!(decode("a\r\nb\rc", false).as_deref(), Some("a\nb\nc"));
        assert_eq!(
            decode("&copy 2024", false),
            None,
            "legacy reference without ;"
        );
        assert_eq!(decode("&alpha;", false), None, "outside the table");
        assert_eq!(decode("&#128;", false), None, "C1 is remapped by html5ever");
        assert_eq!(decode("a & b", false).as_deref(), Some("a & b"));
    }

    #[test]
    fn tags_read_attributes_first_wins_and_names_lowercase() {
        let src = r#"<DIV Class="a b" id=x class="c" data-v='1>2' hidden/>"#;
        let mut all = Vec::new();
        let tag = start_tag(src, 0, &mut all).unwrap();
        assert_eq!(tag.name, "div");
        assert_eq!(tag.attrs, 0..4);
        let attrs: Vec<(&str, &str)> = all.iter().map(|(n, v)| (&**n, &**v)).collect();
        assert_eq!(
            attrs,
            [
                ("class", "a b"),
                ("id", "x"),
                ("data-v", "1>2"),
                ("hidden", "")
            ]
        );
        assert_eq!(tag.end, src.len());
        assert_eq!(raw_text_end("x</SCRIPT >y", 0, "script"), Some((1, 11)));
        assert_eq!(raw_text_end("<!--<script>x</script>", 0, "script"), None);
        assert_eq!(
            raw_text_end("<!--\nf();\n//-->\n</script>", 0, "script"),
            Some((16, 25))
        );
        assert_eq!(comment("<!-- a -->b", 0), Some(10));
        assert_eq!(comment("<!-->b", 0), None);
    }
}
