use chrono::TimeZone;

use super::*;
use crate::extract::lite::tests::fixture_pages;

#[test]
fn the_cut_page_gives_what_the_whole_page_gives_on_every_fixture() {
    let now = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    let tz = chrono_tz::Asia::Shanghai;
    let url = Url::parse("http://vsb.example/info/1012/10234.htm").unwrap();
    let mut cut_pages = 0;
    for (name, html) in fixture_pages() {
        let title = Document::from(html.as_str())
            .select("title")
            .text()
            .to_string();
        let hints = [
            None,
            Some(title.as_str()),
            Some("城中区召开2024年教育督导…"),
        ];
        for hint in hints {
            cut_pages += usize::from(cut::article(&html, hint).is_some());
            let fast = extract_article(&html, &url, None, hint, tz, now);
            let slow = extract_full(&html, &url, None, hint, tz, now);
            assert_eq!(
                format!("{fast:?}"),
                format!("{slow:?}"),
                "{name} with {hint:?}"
            );
        }
    }
    assert!(cut_pages > 0);
}
