//! Files attached to an article: pdf, doc, docx, xls, xlsx, wps, ofd, zip, rar (and a few kin).
//!
//! A link is an attachment when its URL path or its text ends in one of those extensions, when it
//! goes through VSB's `download.jsp?…DownloadAttachUrl` interstitial (the name is then only in the
//! link text) or Hanweb's `/attach/`, or when it carries TRS's `oldsrc`. The MIME type comes from the
//! name's extension, else the URL's.

use std::collections::HashSet;
use std::sync::LazyLock;

use dom_query::{Document, Matcher};
use regex::Regex;
use url::Url;

use super::text::squash;
use super::{Attachment, resolve_link};

static ATTACHMENT_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:相关)?附件\s*\d*\s*[：:【\[、.]?\s*").expect("static regex"));
static LINKS: LazyLock<Matcher> =
    LazyLock::new(|| Matcher::new("a[href]").expect("static selector"));

const TYPES: [(&str, &str); 16] = [
    ("pdf", "application/pdf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("wps", "application/vnd.ms-works"),
    ("et", "application/vnd.ms-excel"),
    ("ofd", "application/ofd"),
    ("zip", "application/zip"),
    ("rar", "application/vnd.rar"),
    ("7z", "application/x-7z-compressed"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("rtf", "application/rtf"),
];

/// The MIME type of a file name or URL path by its extension.
pub fn mime_of(name: &str) -> Option<&'static str> {
    let name = name.split(['?', '#']).next().unwrap_or(name);
    let ext = name.rsplit_once('.')?.1.trim().to_ascii_lowercase();
    TYPES.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m)
}

/// Every attachment linked from the page, once each, in page order.
pub fn find(doc: &Document, base: &Url) -> Vec<Attachment> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in doc.select_matcher(&LINKS).nodes() {
        let Some(href) = a.attr("href") else { continue };
        let raw_text = a.text();
        // Most links are not attachments: rule them out before resolving and cleaning anything.
        if !maybe_attachment(&href, &raw_text, a.has_attr("oldsrc")) {
            continue;
        }
        let Some(url) = resolve_link(base, &href) else {
            continue;
        };
        let text = clean_name(&squash(&raw_text));
        let oldsrc = a.attr("oldsrc").map(|s| s.to_string());
        let path = url.path().to_ascii_lowercase();
        let interstitial = url.as_str().contains("DownloadAttachUrl")
            || path.contains("/attach/")
            || path.ends_with("download.jsp");
        let mime = mime_of(&text)
            .or_else(|| mime_of(url.path()))
            .or_else(|| oldsrc.as_deref().and_then(mime_of))
            .or(interstitial.then_some("application/octet-stream"));
        let Some(mime) = mime else { continue };
        if !seen.insert(url.to_string()) {
            continue;
        }
        let name = if text.is_empty() {
            file_name(&url)
        } else {
            text
        };
        out.push(Attachment {
            name,
            url: url.to_string(),
            mime: mime.to_string(),
        });
    }
    out
}

/// Whether a link (`href`, text, whether it has `oldsrc`) may be an attachment: the cheap test
/// that every attachment passes.
pub(crate) fn maybe_attachment(href: &str, text: &str, oldsrc: bool) -> bool {
    let lower = href.to_ascii_lowercase();
    mime_of(href).is_some()
        || mime_of(text.trim()).is_some()
        || oldsrc
        || lower.contains("download")
        || lower.contains("/attach/")
}

/// `附件：实施方案.pdf` → `实施方案.pdf`; `附件【x.xls】` → `x.xls`.
fn clean_name(text: &str) -> String {
    let t = ATTACHMENT_LABEL.replace(text, "");
    t.trim_end_matches(['】', ']', ' ']).to_string()
}

fn file_name(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .unwrap_or("附件")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_are_found_in_every_cms_form() {
        let html = r#"<ul><li>附件【<a href="/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1&wbfileid=2">2024年工作要点.docx</a>】已下载</li></ul>
            <a href="/attach/0/abc.pdf">通知原文</a> <a oldsrc="W0201.pdf" href="./P0201.pdf">附件：实施方案.pdf</a>
            <a href="/info/1012/1.htm">下一条：会议</a>"#;
        let base = Url::parse("https://x.gov.cn/zwgk/202404/t1.html").unwrap();
        let found = find(&Document::from(html), &base);
        let names: Vec<_> = found
            .iter()
            .map(|a| (a.name.as_str(), a.mime.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "2024年工作要点.docx",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                ),
                ("通知原文", "application/pdf"),
                ("实施方案.pdf", "application/pdf"),
            ]
        );
        assert_eq!(found[2].url, "https://x.gov.cn/zwgk/202404/P0201.pdf");
    }
}
