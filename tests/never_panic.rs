//! Property tests: the extractors and the decoder return (something or nothing) on any input, and
//! never panic — portals serve truncated, mis-encoded and hand-edited HTML.

use chrono::{TimeZone, Utc};
use portalfeed::config::Selectors;
use portalfeed::extract::{extract_article, extract_list};
use portalfeed::fetch::charset;
use proptest::prelude::*;
use url::Url;

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Fragments that real list and article pages are made of, shuffled into odd documents.
fn html_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<ul class=\"list\">".to_string()),
        Just("</ul>".to_string()),
        Just("<li id=\"line_u7_0\"><span> 2024-04-19</span><a href=\"../info/1012/1.htm\" title=\"城中区召开会议\">城中区召开…</a></li>".to_string()),
        Just("<tr height=\"20\"><td><a href=\"javascript:;\">x</a></td><td>[03-05]</td></tr>".to_string()),
        Just("<div id=\"vsb_content\"><div class=\"v_news_content\"><p>近日，会议召开。</p>".to_string()),
        Just("<script>createPageHTML(3, 0, \"index\", \"html\");</script>".to_string()),
        Just("<datastore><record><![CDATA[<li><a href='/art/2024/3/5/art_1_2.html'>标题</a></li>]]></record>".to_string()),
        Just("<span class=\"p_next\"><a href=\"ldhd/2.htm\">下页</a></span>".to_string()),
        Just("<img src=\"\" orisrc=\"/__local/a.jpg\">".to_string()),
        Just("<a href=\"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&wbfileid=1\">附件.pdf</a>".to_string()),
        Just("<meta name=\"PubDate\" content=\"2024-13-45 99:99\">".to_string()),
        Just("发布时间：2024年3月5日 8时42分 来源：".to_string()),
        Just("<a href=\"http://[::1\">bad</a>".to_string()),
        "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn list_extraction_never_panics(pieces in proptest::collection::vec(html_piece(), 0..30)) {
        let html = pieces.concat();
        let url = Url::parse("https://xncz.gov.cn/zqzf/ldhd.htm").unwrap();
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        let page = extract_list(&html, &url, &Selectors::default(), TZ, now);
        for item in page.items {
            prop_assert!(matches!(item.url.scheme(), "http" | "https"));
            prop_assert!(!item.title.is_empty());
        }
    }

    #[test]
    fn article_extraction_never_panics(pieces in proptest::collection::vec(html_piece(), 0..30), hint in "\\PC{0,12}") {
        let html = pieces.concat();
        let url = Url::parse("https://xncz.gov.cn/info/1012/10234.htm").unwrap();
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        if let Ok(article) = extract_article(&html, &url, None, Some(&hint), TZ, now) {
            prop_assert!(!article.content_html.contains("<script"));
        }
    }

    #[test]
    fn decoding_then_extracting_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4000)) {
        let decoded = charset::decode(&bytes, Some("text/html; charset=gbk"));
        let url = Url::parse("https://xncz.gov.cn/").unwrap();
        let _ = extract_list(&decoded.text, &url, &Selectors::default(), TZ, Utc::now());
    }
}
